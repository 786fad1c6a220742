// SPDX-License-Identifier: GPL-2.0
/*
 * fbpf_vmtest: the guest suite's helper for the module tests.
 *
 *   fbpf_vmtest attach OBJ        load OBJ's struct_ops maps and attach them
 *                                 (libbpf, no fbpf metadata needed), detach,
 *                                 exit 0; exit 1 with libbpf's and the
 *                                 verifier's messages when loading fails
 *   fbpf_vmtest open PATH         open PATH read-only; print "errno N" (0: it opened)
 *   fbpf_vmtest as UID stat|access PATH
 *                                 stat(PATH) or access(PATH, F_OK) as uid and
 *                                 gid UID (no other groups); print "errno N"
 *   fbpf_vmtest loop PATH SECS    read PATH again and again for SECS seconds;
 *                                 print "reads N errors M first-error E"
 *   fbpf_vmtest reload MNT OBJ    fbpf_kernel_reload(): switch the kernel-mode
 *                                 mount at MNT to policy OBJ
 *   fbpf_vmtest stress MNT LOWER NPROC NITER
 *                                 NPROC processes create, write, read back,
 *                                 rename, list and unlink files in MNT/sP
 *                                 (policy vm_stress: stored *.dat shown as
 *                                 *.txt, *.hidden hidden); then every file
 *                                 that must exist is checked in LOWER and in
 *                                 MNT. Exit 0 when nothing was lost or wrong.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "kernel.h"

static int print_libbpf(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

static int cmd_attach(const char *path)
{
	struct bpf_object *obj;
	struct bpf_map *map;
	struct bpf_link *links[16];
	int n = 0, err, i;

	libbpf_set_print(print_libbpf);
	obj = bpf_object__open_file(path, NULL);
	if (!obj) {
		fprintf(stderr, "fbpf_vmtest: cannot open %s: %s\n", path, strerror(errno));
		return 2;
	}
	err = bpf_object__load(obj);
	if (err) {
		printf("load failed: %s\n", strerror(-err));
		bpf_object__close(obj);
		return 1;
	}
	bpf_object__for_each_map(map, obj) {
		if (bpf_map__type(map) != BPF_MAP_TYPE_STRUCT_OPS || n == 16)
			continue;
		links[n] = bpf_map__attach_struct_ops(map);
		if (!links[n]) {
			printf("attach of %s failed: %s\n", bpf_map__name(map), strerror(errno));
			for (i = 0; i < n; i++)
				bpf_link__destroy(links[i]);
			bpf_object__close(obj);
			return 1;
		}
		printf("attached %s\n", bpf_map__name(map));
		n++;
	}
	for (i = 0; i < n; i++)
		bpf_link__destroy(links[i]);
	bpf_object__close(obj);
	return n ? 0 : 1;
}

static int cmd_open(const char *path)
{
	int fd = open(path, O_RDONLY);

	printf("errno %d\n", fd < 0 ? errno : 0);
	if (fd >= 0)
		close(fd);
	return 0;
}

static int cmd_as(const char *uidstr, const char *what, const char *path)
{
	char *end;
	unsigned long uid = strtoul(uidstr, &end, 10);
	struct stat st;
	int r;

	if (*uidstr == '\0' || *end || uid >= 65534) {
		fprintf(stderr, "fbpf_vmtest: as wants a numeric uid below 65534, not '%s'\n", uidstr);
		return 2;
	}
	if (strcmp(what, "stat") && strcmp(what, "access")) {
		fprintf(stderr, "fbpf_vmtest: as UID stat|access PATH: unknown operation '%s'\n", what);
		return 2;
	}
	if (setgroups(0, NULL) || setresgid(uid, uid, uid) || setresuid(uid, uid, uid)) {
		fprintf(stderr, "fbpf_vmtest: cannot become uid %lu: %s\n", uid, strerror(errno));
		return 2;
	}
	r = strcmp(what, "stat") ? access(path, F_OK) : stat(path, &st);
	printf("errno %d\n", r ? errno : 0);
	return 0;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int cmd_loop(const char *path, double secs)
{
	double end = now() + secs;
	long reads = 0, errors = 0;
	int first = 0;
	char buf[256];

	while (now() < end) {
		int fd = open(path, O_RDONLY);

		if (fd < 0 || read(fd, buf, sizeof(buf)) < 0) {
			if (!errors++)
				first = errno;
		}
		if (fd >= 0)
			close(fd);
		reads++;
	}
	printf("reads %ld errors %ld first-error %d\n", reads, errors, first);
	return 0;
}

/* ---- stress ------------------------------------------------------------ */
static int bad;

static void complain(const char *fmt, ...)
{
	va_list ap;

	if (bad++ >= 20)
		return;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void content(char *buf, size_t len, int p, int i)
{
	snprintf(buf, len, "process %d file %d: the quick brown fox %08x\n", p, i,
		 (unsigned)(p * 7919 + i * 104729));
}

static int put(const char *path, const char *data)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	ssize_t len = (ssize_t)strlen(data);

	if (fd < 0)
		return -errno;
	if (write(fd, data, len) != len) {
		int e = errno;

		close(fd);
		return -e;
	}
	return close(fd) ? -errno : 0;
}

static int same(const char *path, const char *want)
{
	char buf[512];
	int fd = open(path, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0)
		return -EIO;
	buf[n] = 0;
	return strcmp(buf, want) ? -EILSEQ : 0;
}

static int count_entries(const char *dir, const char *suffix)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t sl = strlen(suffix);
	int n = 0;

	if (!d)
		return -errno;
	while ((e = readdir(d))) {
		size_t l = strlen(e->d_name);

		if (l >= sl && !strcmp(e->d_name + l - sl, suffix))
			n++;
	}
	closedir(d);
	return n;
}

/* Process p: files k<i>.txt (stored k<i>.dat) stay; t<i>.txt are renamed to
 * u<i>.txt and unlinked; h<i>.hidden must be refused and never listed. */
static int stress_child(const char *mnt, int p, int niter)
{
	char dir[4096], a[4200], b[4200], data[128];
	int i, r;

	snprintf(dir, sizeof(dir), "%s/s%d", mnt, p);
	if (mkdir(dir, 0755) && errno != EEXIST) {
		complain("p%d: mkdir %s: %s", p, dir, strerror(errno));
		return 1;
	}
	for (i = 0; i < niter; i++) {
		content(data, sizeof(data), p, i);
		snprintf(a, sizeof(a), "%s/k%d.txt", dir, i);
		if ((r = put(a, data)))
			complain("p%d: write %s: %s", p, a, strerror(-r));
		if ((r = same(a, data)))
			complain("p%d: read back %s: %s", p, a, strerror(-r));
		snprintf(a, sizeof(a), "%s/t%d.txt", dir, i);
		snprintf(b, sizeof(b), "%s/u%d.txt", dir, i);
		if ((r = put(a, data)))
			complain("p%d: write %s: %s", p, a, strerror(-r));
		if (rename(a, b))
			complain("p%d: rename %s: %s", p, a, strerror(errno));
		if ((r = same(b, data)))
			complain("p%d: read renamed %s: %s", p, b, strerror(-r));
		if (unlink(b))
			complain("p%d: unlink %s: %s", p, b, strerror(errno));
		snprintf(a, sizeof(a), "%s/h%d.hidden", dir, i);
		r = open(a, O_WRONLY | O_CREAT, 0644);
		if (r >= 0 || errno != EACCES)
			complain("p%d: creating hidden %s did not fail with EACCES (%s)", p, a,
				 r >= 0 ? "it was created" : strerror(errno));
		if (r >= 0)
			close(r);
		if (i % 8 == 7) {
			r = count_entries(dir, ".txt");
			if (r != i + 1)
				complain("p%d: %s lists %d *.txt, want %d", p, dir, r, i + 1);
			if (count_entries(dir, ".hidden") != 0)
				complain("p%d: %s lists a hidden name", p, dir);
		}
	}
	return bad ? 1 : 0;
}

static int cmd_stress(const char *mnt, const char *lower, int nproc, int niter)
{
	char path[4200], data[128];
	int p, i, st, r;
	pid_t pids[64];

	if (nproc < 1 || nproc > 64 || niter < 1) {
		fprintf(stderr, "fbpf_vmtest: stress wants 1..64 processes and at least 1 iteration\n");
		return 2;
	}
	for (p = 0; p < nproc; p++) {
		pids[p] = fork();
		if (pids[p] == 0)
			_exit(stress_child(mnt, p, niter));
		if (pids[p] < 0) {
			perror("fork");
			return 2;
		}
	}
	for (p = 0; p < nproc; p++) {
		if (waitpid(pids[p], &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st))
			complain("process %d failed (status %#x)", p, st);
	}
	/* nothing lost: every kept file, stored as .dat below, shown as .txt above */
	for (p = 0; p < nproc; p++) {
		for (i = 0; i < niter; i++) {
			content(data, sizeof(data), p, i);
			snprintf(path, sizeof(path), "%s/s%d/k%d.dat", lower, p, i);
			if ((r = same(path, data)))
				complain("lower %s: %s", path, strerror(-r));
			snprintf(path, sizeof(path), "%s/s%d/k%d.txt", mnt, p, i);
			if ((r = same(path, data)))
				complain("view %s: %s", path, strerror(-r));
		}
		snprintf(path, sizeof(path), "%s/s%d", lower, p);
		r = count_entries(path, "");
		if (r != niter + 2) /* k*.dat and . and .. */
			complain("lower %s has %d entries, want %d (renamed or unlinked files left behind?)",
				 path, r - 2, niter);
	}
	printf("stress: %d processes x %d iterations: %s\n", nproc, niter, bad ? "FAILED" : "ok");
	return bad ? 1 : 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 3 && !strcmp(argv[1], "attach"))
		return cmd_attach(argv[2]);
	if (argc == 3 && !strcmp(argv[1], "open"))
		return cmd_open(argv[2]);
	if (argc == 5 && !strcmp(argv[1], "as"))
		return cmd_as(argv[2], argv[3], argv[4]);
	if (argc == 4 && !strcmp(argv[1], "loop"))
		return cmd_loop(argv[2], atof(argv[3]));
	if (argc == 4 && !strcmp(argv[1], "reload")) {
		char err[8192];

		if (fbpf_kernel_reload(argv[2], argv[3], err, sizeof(err))) {
			fprintf(stderr, "fbpf_vmtest: %s\n", err);
			return 1;
		}
		return 0;
	}
	if (argc == 6 && !strcmp(argv[1], "stress"))
		return cmd_stress(argv[2], argv[3], atoi(argv[4]), atoi(argv[5]));
	fprintf(stderr, "usage: fbpf_vmtest attach OBJ | open PATH | as UID stat|access PATH | loop PATH SECS | "
			"reload MNT OBJ | stress MNT LOWER NPROC NITER\n");
	return 2;
}
