// SPDX-License-Identifier: GPL-2.0
/* The driver: writes the generated C and the .fbpf blob into a private
 * temporary directory and runs clang -target bpf on them. */
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "backend.h"
#include "diag.h"

extern char **environ;

#ifndef FBPF_CLANG
#define FBPF_CLANG "clang"
#endif
#ifndef FBPF_STDLIB_DIR
#define FBPF_STDLIB_DIR "/usr/share/fbpf/stdlib"
#endif
#ifndef FBPF_MULTIARCH_INCLUDE
#define FBPF_MULTIARCH_INCLUDE "/usr/include/x86_64-linux-gnu"
#endif

static int executable(const char *path)
{
	return access(path, X_OK) == 0;
}

/* Search PATH for name; writes the full path into out. */
static int in_path(const char *name, char *out, size_t outlen)
{
	const char *path = getenv("PATH");
	char *dup, *dir, *save = NULL;
	int found = 0;

	if (strchr(name, '/')) {
		snprintf(out, outlen, "%s", name);
		return executable(out);
	}
	dup = strdup(path ? path : "/usr/bin:/bin");
	for (dir = strtok_r(dup, ":", &save); dir && !found; dir = strtok_r(NULL, ":", &save)) {
		snprintf(out, outlen, "%s/%s", dir, name);
		found = executable(out);
	}
	free(dup);
	return found;
}

const char *driver_find_clang(const char *override, char *why, size_t whylen)
{
	static char found[4096];
	static const char *const names[] = { "clang-19", "clang-18", "clang-17", "clang-16",
					     "clang-15", "clang-14", "clang", NULL };
	const char *env = getenv("FBPF_CLANG");
	int i;

	if (override || (env && *env)) {
		const char *c = override ? override : env;

		if (in_path(c, found, sizeof(found)))
			return found;
		snprintf(why, whylen, "the clang given %s ('%s') cannot be run; "
			 "point it at clang-19 or clang-14", override ? "with --clang" : "in FBPF_CLANG", c);
		return NULL;
	}
	if (executable(FBPF_CLANG))
		return FBPF_CLANG;
	for (i = 0; names[i]; i++)
		if (in_path(names[i], found, sizeof(found)))
			return found;
	snprintf(why, whylen, "no clang found (looked for %s, clang-19 and clang-14 in PATH); "
		 "install clang-19 (apt-get install clang-19) or set FBPF_CLANG", FBPF_CLANG);
	return NULL;
}

static int write_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");
	int rc;

	if (!f)
		return -1;
	rc = fwrite(data, 1, len, f) == len ? 0 : -1;
	if (fclose(f))
		rc = -1;
	return rc;
}

static int run(char *const argv[], const char *log_path, int *status)
{
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int rc;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, log_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	posix_spawn_file_actions_adddup2(&fa, 1, 2);
	rc = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (rc)
		return -rc;
	while (waitpid(pid, status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	return 0;
}

static void rm_tree(const char *dir, const char *const files[])
{
	char p[4200];
	int i;

	for (i = 0; files[i]; i++) {
		snprintf(p, sizeof(p), "%s/%s", dir, files[i]);
		unlink(p);
	}
	rmdir(dir);
}

int driver_build(const struct policy *p, const struct lowered *l, const char *out_path,
		 const struct driver_opts *o, struct diag *d)
{
	static const char *const tmpfiles[] = { "policy.bpf.c", "tables.bin", "clang.log", "out.o", NULL };
	char dir[] = "/tmp/fbpfc.XXXXXX", c_path[64], blob_path[64], log_path[64], obj_path[64];
	char why[512], inc1[4200], inc2[4200];
	const char *clang, *stdlib = getenv("FBPF_STDLIB");
	unsigned char *blob = NULL;
	size_t bloblen = 0;
	FILE *f;
	int status = 0, rc = -1, err;

	clang = driver_find_clang(o ? o->clang : NULL, why, sizeof(why));
	if (!clang) {
		diag_plain(d, "%s", why);
		return -1;
	}
	if (!mkdtemp(dir)) {
		diag_plain(d, "cannot create a temporary directory: %s", strerror(errno));
		return -1;
	}
	snprintf(c_path, sizeof(c_path), "%s/policy.bpf.c", dir);
	snprintf(blob_path, sizeof(blob_path), "%s/tables.bin", dir);
	snprintf(log_path, sizeof(log_path), "%s/clang.log", dir);
	snprintf(obj_path, sizeof(obj_path), "%s/out.o", dir);
	if (backend_meta_blob(p, l, &blob, &bloblen) || write_file(blob_path, blob, bloblen)) {
		diag_plain(d, "cannot write %s: %s", blob_path, strerror(errno));
		goto out;
	}
	f = fopen(c_path, "w");
	if (!f) {
		diag_plain(d, "cannot write %s: %s", c_path, strerror(errno));
		goto out;
	}
	backend_emit_c(f, p->name, l->callbacks, blob_path);
	fclose(f);
	if (o && o->emit_c) {
		f = fopen(o->emit_c, "w");
		if (!f) {
			diag_plain(d, "cannot write %s: %s", o->emit_c, strerror(errno));
			goto out;
		}
		backend_emit_c(f, p->name, l->callbacks, "tables.bin");
		fclose(f);
	}
	snprintf(inc1, sizeof(inc1), "-I%s", stdlib && *stdlib ? stdlib : FBPF_STDLIB_DIR);
	snprintf(inc2, sizeof(inc2), "-I%s", FBPF_MULTIARCH_INCLUDE);
	{
		char *argv[] = { (char *)clang, "-target", "bpf", "-O2", "-g", "-D__TARGET_ARCH_x86",
				 inc1, inc2, "-Wall", "-Wno-unused-function", "-c", c_path, "-o", obj_path, NULL };

		if (o && o->verbose) {
			int i;

			for (i = 0; argv[i]; i++)
				fprintf(stderr, "%s%s", i ? " " : "", argv[i]);
			fputc('\n', stderr);
		}
		err = run(argv, log_path, &status);
	}
	if (err) {
		diag_plain(d, "cannot run %s: %s", clang, strerror(-err));
		goto out;
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		char line[1024];

		diag_plain(d, "%s failed to build the BPF object; its messages follow "
			   "(a bug in fbpfc or in stdlib/, please report it)", clang);
		f = fopen(log_path, "r");
		while (f && fgets(line, sizeof(line), f))
			fputs(line, d->out);
		if (f)
			fclose(f);
		goto out;
	}
	/* rename(2) cannot cross file systems: copy the object into place */
	{
		FILE *in = fopen(obj_path, "rb"), *outf;
		char tmp_out[4200];
		char b[65536];
		size_t n;

		snprintf(tmp_out, sizeof(tmp_out), "%s.tmp%d", out_path, (int)getpid());
		outf = fopen(tmp_out, "wb");
		if (!in || !outf) {
			diag_plain(d, "cannot write %s: %s", out_path, strerror(errno));
			if (in)
				fclose(in);
			if (outf)
				fclose(outf);
			unlink(tmp_out);
			goto out;
		}
		while ((n = fread(b, 1, sizeof(b), in)) > 0)
			if (fwrite(b, 1, n, outf) != n)
				break;
		fclose(in);
		if (fclose(outf) || rename(tmp_out, out_path)) {
			diag_plain(d, "cannot write %s: %s", out_path, strerror(errno));
			unlink(tmp_out);
			goto out;
		}
	}
	rc = 0;
out:
	free(blob);
	rm_tree(dir, tmpfiles);
	return rc;
}
