// SPDX-License-Identifier: GPL-2.0
/* fbpf-run: mount a compiled policy as a view of a directory, unmount it,
 * and report what its rules decided. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "control.h"
#include "defer.h"
#include "fbpf_fuse.h"
#include "mount_args.h"
#include "object.h"

#if defined(FBPF_HAVE_KERNEL) && __has_include("kernel.h")
#include "kernel.h"
#define HAVE_KERNEL 1
#else
#define HAVE_KERNEL 0
#endif

#ifndef FBPF_VERSION
#define FBPF_VERSION "0.1.0"
#endif

static const char usage[] =
	"usage: fbpf-run mount RULES.o LOWER MNT [-f] [--mode auto|fuse|kernel] [-o OPTS]\n"
	"                      [--handler NAME=SPEC]... [--defer-timeout MS]\n"
	"       fbpf-run umount MNT\n"
	"       fbpf-run stats MNT [--json]\n"
	"       fbpf-run reload MNT NEW.o\n"
	"       fbpf-run --version\n"
	"\n"
	"Each command takes --help.\n";

static const char mount_help[] =
	"usage: fbpf-run mount RULES.o LOWER MNT [options]\n"
	"\n"
	"Mount the view that policy RULES.o (built by fbpfc compile) makes of the\n"
	"directory LOWER on the directory MNT. fbpf-run returns once the view works,\n"
	"and a daemon serves it until `fbpf-run umount MNT`, or SIGINT or SIGTERM.\n"
	"\n"
	"  -f, --foreground       stay in the foreground; messages go to stderr\n"
	"  --mode MODE            auto (default: kernel when the fbpf module is\n"
	"                         loaded, else FUSE), fuse or kernel\n"
	"  -o OPTS                mount options, comma-separated (may be repeated)\n"
	"  --handler NAME=SPEC    what handler NAME of the policy runs: audit,\n"
	"                         audit:FILE, or a helper command (exec:CMD ARGS)\n"
	"  --defer-timeout MS     how long a handler may take to answer (default 5000)\n"
	"  -h, --help             this text\n"
	"\n";

static const char umount_help[] =
	"usage: fbpf-run umount MNT\n"
	"\n"
	"Unmount the view on MNT and wait (up to 5 seconds) for its daemon to exit.\n";

static const char stats_help[] =
	"usage: fbpf-run stats MNT [--json]\n"
	"\n"
	"Print how often each rule of the policy mounted on MNT decided an\n"
	"operation, with the rule's source line. --json prints one JSON object.\n";

static void die_usage(const char *cmd, const char *msg, const char *help)
{
	fprintf(stderr, "fbpf-run %s: %s\n%s", cmd, msg, help);
	exit(2);
}

/* ------------------------------------------------------------------ */

static int is_mount_root(const char *path, int *err)
{
	struct statx sx;
	struct stat a, b;
	char parent[PATH_MAX + 4];

	*err = 0;
	if (statx(AT_FDCWD, path, AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT, STATX_BASIC_STATS, &sx) == 0 &&
	    (sx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT))
		return !!(sx.stx_attributes & STATX_ATTR_MOUNT_ROOT);
	if (stat(path, &a)) {
		*err = errno;
		return errno == ENOTCONN; /* a FUSE mount whose daemon is gone */
	}
	snprintf(parent, sizeof(parent), "%s/..", path);
	if (stat(parent, &b))
		return 0;
	return a.st_dev != b.st_dev || a.st_ino == b.st_ino;
}

/* The file system type of the mount on `path` (the last one), "" if none. */
static void mount_type(const char *path, char *type, size_t len)
{
	char line[2 * PATH_MAX], mp[PATH_MAX], fst[64];
	FILE *f = fopen("/proc/self/mountinfo", "r");

	type[0] = 0;
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char *dash = strstr(line, " - ");

		/* id parent major:minor root mountpoint ... - fstype */
		if (!dash || sscanf(line, "%*s %*s %*s %*s %4095s", mp) != 1 || sscanf(dash + 3, "%63s", fst) != 1)
			continue;
		if (!strcmp(mp, path))
			snprintf(type, len, "%s", fst);
	}
	fclose(f);
}

/* Is MNT taken by a view already (or a FUSE mount whose daemon died)? */
static int mnt_busy(const char *path)
{
	char type[64], real[PATH_MAX];
	int err;

	if (!is_mount_root(path, &err))
		return 0;
	if (err == ENOTCONN)
		return 1;
	if (!realpath(path, real))
		return 1;
	mount_type(real, type, sizeof(type));
	return !strncmp(type, "fuse", 4) || !strcmp(type, "fbpf");
}

struct run {
	int fg;
	int pipefd;
};

static void on_ready(const struct fbpf_mount_args *a, fbpf_hits_fn hits, void *ctx)
{
	struct run *r = a->priv;
	char err[600], msg[700];
	int n, fd;

	if (fbpf_ctl_start(a, hits, ctx, err, sizeof(err)))
		n = snprintf(msg, sizeof(msg), "Rwarning: %s; fbpf-run stats will not work for this mount", err);
	else
		n = snprintf(msg, sizeof(msg), "R");
	if (r->fg) {
		if (n > 1)
			fprintf(stderr, "fbpf-run: %s\n", msg + 1);
		return;
	}
	if (write(r->pipefd, msg, (size_t)n) < 0)
		(void)0;
	close(r->pipefd);
	r->pipefd = -1;
	/* detach from the terminal */
	fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (fd >= 0) {
		dup2(fd, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		if (fd > 2)
			close(fd);
	}
}

static int run_engine(struct fbpf_mount_args *a)
{
#if HAVE_KERNEL
	if (!strcmp(a->mode, "kernel"))
		return fbpf_kernel_mount(a);
#endif
	return fbpf_fuse_mount(a);
}

static int parse_ms(const char *s, unsigned *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || v == 0 || v > 3600000 || s[0] == '-')
		return -1;
	*out = (unsigned)v;
	return 0;
}

static int cmd_mount(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "foreground", no_argument, NULL, 'f' }, { "mode", required_argument, NULL, 'm' },
		{ "handler", required_argument, NULL, 'H' }, { "defer-timeout", required_argument, NULL, 'T' },
		{ "help", no_argument, NULL, 'h' }, { 0 } };
	struct fbpf_handler_opts hopts;
	struct fbpf_mount_args a;
	struct fbpf_object *o = NULL;
	const char *mode = "auto";
	char err[1024], lower[PATH_MAX], mnt[PATH_MAX], why[512];
	char *opts = NULL;
	size_t optslen = 0;
	struct run r = { 0, -1 };
	struct stat st;
	int c, ret, p[2];
	pid_t pid;

	memset(&hopts, 0, sizeof(hopts));
	optind = 1;
	while ((c = getopt_long(argc, argv, "fo:h", lo, NULL)) != -1) {
		switch (c) {
		case 'f':
			r.fg = 1;
			break;
		case 'm':
			if (strcmp(optarg, "auto") && strcmp(optarg, "fuse") && strcmp(optarg, "kernel"))
				die_usage("mount", "--mode is auto, fuse or kernel", mount_help);
			mode = optarg;
			break;
		case 'o': {
			size_t l = strlen(optarg);
			char *n = realloc(opts, optslen + l + 2);

			if (!n) {
				fprintf(stderr, "fbpf-run: out of memory\n");
				return 1;
			}
			opts = n;
			if (optslen)
				opts[optslen++] = ',';
			memcpy(opts + optslen, optarg, l + 1);
			optslen += l;
			break;
		}
		case 'H':
			if (fbpf_handler_opts_parse(&hopts, optarg))
				return 2;
			break;
		case 'T':
			if (parse_ms(optarg, &hopts.timeout_ms))
				die_usage("mount", "--defer-timeout takes a number of milliseconds from 1 to 3600000",
					  mount_help);
			break;
		case 'h':
			fputs(mount_help, stdout);
			fputs(fbpf_fuse_options_help, stdout);
#if HAVE_KERNEL
			fputs("\n", stdout);
			fputs(fbpf_kernel_options_help, stdout);
#endif
			return 0;
		default:
			fputs(mount_help, stderr);
			return 2;
		}
	}
	if (argc - optind != 3)
		die_usage("mount", "give a compiled policy, the lower directory and the mount point", mount_help);

	if (fbpf_object_read(argv[optind], &o, err, sizeof(err))) {
		fprintf(stderr, "fbpf-run: %s\n", err);
		return 1;
	}
	if (stat(argv[optind + 1], &st) || !realpath(argv[optind + 1], lower)) {
		fprintf(stderr, "fbpf-run: the lower directory %s %s\n", argv[optind + 1],
			errno == ENOENT ? "does not exist" : strerror(errno));
		return 1;
	}
	if (!S_ISDIR(st.st_mode)) {
		fprintf(stderr, "fbpf-run: the lower directory %s is not a directory\n", argv[optind + 1]);
		return 1;
	}
	if (mnt_busy(argv[optind + 2])) {
		fprintf(stderr, "fbpf-run: %s is busy: a view or another FUSE file system is mounted there "
			"(unmount it first with fbpf-run umount %s, or choose another directory)\n",
			argv[optind + 2], argv[optind + 2]);
		return 1;
	}
	if (stat(argv[optind + 2], &st) || !realpath(argv[optind + 2], mnt)) {
		fprintf(stderr, "fbpf-run: the mount point %s %s\n", argv[optind + 2],
			errno == ENOENT ? "does not exist: create it with mkdir first" : strerror(errno));
		return 1;
	}
	if (!S_ISDIR(st.st_mode)) {
		fprintf(stderr, "fbpf-run: the mount point %s is not a directory\n", argv[optind + 2]);
		return 1;
	}
	{
		size_t l = strlen(lower);

		if (!strncmp(mnt, lower, l) && (mnt[l] == '/' || (l == 1 && mnt[1])) && mnt[l == 1 ? 1 : l]) {
			fprintf(stderr, "fbpf-run: the mount point %s is inside the lower directory %s: the view "
				"would contain itself (mount on LOWER itself or outside it)\n", mnt, lower);
			return 1;
		}
	}

	if (!strcmp(mode, "kernel")) {
#if HAVE_KERNEL
		if (!fbpf_kernel_available(why, sizeof(why))) {
			fprintf(stderr, "fbpf-run: kernel mode is not available: %s\n", why);
			return 1;
		}
#else
		fprintf(stderr, "fbpf-run: kernel mode is not built into this fbpf-run: use --mode fuse\n");
		return 1;
#endif
	} else if (!strcmp(mode, "auto")) {
		mode = "fuse";
#if HAVE_KERNEL
		if (fbpf_kernel_available(why, sizeof(why)))
			mode = "kernel";
#endif
	}
	if (!strcmp(mode, "fuse") && !fbpf_fuse_available(why, sizeof(why))) {
		fprintf(stderr, "fbpf-run: %s\n", why);
		return 1;
	}

	memset(&a, 0, sizeof(a));
	a.object_path = argv[optind];
	a.object = o;
	a.lower = lower;
	a.mnt = mnt;
	a.foreground = r.fg;
	a.handler_opts = &hopts;
	a.options = opts ? opts : "";
	a.mode = mode;
	a.ready = on_ready;
	a.err = err;
	a.errlen = sizeof(err);
	a.priv = &r;
	err[0] = 0;

	if (r.fg) {
		ret = run_engine(&a);
		fbpf_ctl_stop();
		if (ret)
			fprintf(stderr, "fbpf-run: %s\n", err[0] ? err : "the mount failed");
		return ret ? 1 : 0;
	}

	/* Daemon: the child mounts and serves; the parent waits for its word. */
	if (pipe2(p, O_CLOEXEC)) {
		fprintf(stderr, "fbpf-run: cannot create a pipe: %s\n", strerror(errno));
		return 1;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		fprintf(stderr, "fbpf-run: cannot start the daemon: %s\n", strerror(errno));
		return 1;
	}
	if (pid == 0) {
		close(p[0]);
		r.pipefd = p[1];
		setsid();
		if (chdir("/"))
			(void)0;
		ret = run_engine(&a);
		fbpf_ctl_stop();
		if (r.pipefd >= 0) {
			char msg[1100];
			int n = snprintf(msg, sizeof(msg), "E%s", err[0] ? err : "the mount failed");

			if (write(r.pipefd, msg, (size_t)n) < 0)
				(void)0;
		}
		_exit(ret ? 1 : 0);
	}
	close(p[1]);
	{
		char msg[1200];
		size_t n = 0;
		ssize_t k;
		int status;

		while (n < sizeof(msg) - 1 && (k = read(p[0], msg + n, sizeof(msg) - 1 - n)) != 0) {
			if (k < 0) {
				if (errno == EINTR)
					continue;
				break;
			}
			n += (size_t)k;
		}
		msg[n] = 0;
		close(p[0]);
		if (n && msg[0] == 'R') {
			struct stat m, q;
			char parent[PATH_MAX + 4];

			if (msg[1])
				fprintf(stderr, "fbpf-run: %s\n", msg + 1);
			snprintf(parent, sizeof(parent), "%s/..", mnt);
			if (stat(mnt, &m) == 0 && stat(parent, &q) == 0 && (m.st_dev != q.st_dev || m.st_ino == q.st_ino))
				return 0;
			fprintf(stderr, "fbpf-run: the daemon reported %s mounted, but it does not answer; "
				"stopping it\n", mnt);
			kill(pid, SIGTERM); /* it unmounts on the way out */
			waitpid(pid, &status, 0);
			return 1;
		}
		if (n && msg[0] == 'E') {
			fprintf(stderr, "fbpf-run: %s\n", msg + 1);
		} else {
			waitpid(pid, &status, 0);
			if (WIFSIGNALED(status))
				fprintf(stderr, "fbpf-run: the daemon was killed by signal %d before %s was mounted\n",
					WTERMSIG(status), mnt);
			else
				fprintf(stderr, "fbpf-run: the daemon exited before %s was mounted\n", mnt);
			return 1;
		}
		waitpid(pid, &status, 0);
		return 1;
	}
}

/* ------------------------------------------------------------------ */

static int cmd_umount(int argc, char **argv)
{
	static const struct option lo[] = { { "help", no_argument, NULL, 'h' }, { 0 } };
	char mnt[PATH_MAX], sock[PATH_MAX], sock2[PATH_MAX];
	struct timespec ts = { 0, 20 * 1000 * 1000 };
	int c, e, i, had = 0;
	struct stat st;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		if (c == 'h') {
			fputs(umount_help, stdout);
			return 0;
		}
		fputs(umount_help, stderr);
		return 2;
	}
	if (argc - optind != 1)
		die_usage("umount", "give the mount point", umount_help);
	if (fbpf_ctl_canon(argv[optind], mnt, sizeof(mnt))) {
		fprintf(stderr, "fbpf-run: %s does not exist\n", argv[optind]);
		return 1;
	}
	if (!is_mount_root(mnt, &e)) {
		fprintf(stderr, "fbpf-run: %s is not mounted%s\n", argv[optind],
			e == ENOENT ? " (it does not exist)" : "");
		return 1;
	}
	if (!fbpf_ctl_path(mnt, 0, sock, sizeof(sock)) && !stat(sock, &st))
		had = 1;
	if (!fbpf_ctl_path(mnt, 1, sock2, sizeof(sock2)) && !stat(sock2, &st))
		had |= 2;
	if (geteuid() == 0) {
		if (umount2(mnt, UMOUNT_NOFOLLOW)) {
			if (errno == EBUSY)
				fprintf(stderr, "fbpf-run: %s is busy: a process has files open or its working "
					"directory there (close them, or use umount -l)\n", mnt);
			else
				fprintf(stderr, "fbpf-run: cannot unmount %s: %s\n", mnt, strerror(errno));
			return 1;
		}
	} else {
		pid_t pid = fork();
		int status;

		if (pid == 0) {
			execlp("fusermount3", "fusermount3", "-u", "-q", "--", mnt, (char *)NULL);
			fprintf(stderr, "fbpf-run: cannot run fusermount3: %s\n", strerror(errno));
			_exit(127);
		}
		if (pid < 0 || waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status)) {
			fprintf(stderr, "fbpf-run: cannot unmount %s (fusermount3 -u failed; is it busy, or "
				"mounted by another user?)\n", mnt);
			return 1;
		}
	}
	/* Wait for the daemon to go: it removes its socket on the way out. */
	for (i = 0; i < 250 && had; i++) {
		if (((had & 1) && !stat(sock, &st)) || ((had & 2) && !stat(sock2, &st)))
			nanosleep(&ts, NULL);
		else
			break;
	}
	return 0;
}

static int cmd_stats(int argc, char **argv)
{
	static const struct option lo[] = { { "json", no_argument, NULL, 'j' }, { "help", no_argument, NULL, 'h' },
					     { 0 } };
	char mnt[PATH_MAX], err[PATH_MAX + 200];
	char *buf = NULL;
	size_t len = 0;
	int c, json = 0, ret;
	FILE *f;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		if (c == 'j') {
			json = 1;
		} else if (c == 'h') {
			fputs(stats_help, stdout);
			return 0;
		} else {
			fputs(stats_help, stderr);
			return 2;
		}
	}
	if (argc - optind != 1)
		die_usage("stats", "give the mount point", stats_help);
	if (fbpf_ctl_canon(argv[optind], mnt, sizeof(mnt))) {
		fprintf(stderr, "fbpf-run: %s does not exist\n", argv[optind]);
		return 1;
	}
	f = open_memstream(&buf, &len);
	if (!f)
		return 1;
	ret = fbpf_ctl_query(mnt, json ? "stats json" : "stats", f, err, sizeof(err));
	if (ret) {
		/* the mount point may be a symlink or so: try its real path */
		char real[PATH_MAX];

		if (realpath(argv[optind], real) && strcmp(real, mnt))
			ret = fbpf_ctl_query(real, json ? "stats json" : "stats", f, err, sizeof(err));
	}
	fclose(f);
	if (ret) {
		fprintf(stderr, "fbpf-run: %s\n", err);
		free(buf);
		return 1;
	}
	if (!strncmp(buf, "error: ", 7)) {
		fprintf(stderr, "fbpf-run: %s", buf + 7);
		free(buf);
		return 1;
	}
	fwrite(buf, 1, len, stdout);
	free(buf);
	return 0;
}

static const char reload_help[] =
	"usage: fbpf-run reload MNT NEW.o\n"
	"\n"
	"Replace the policy of the live kernel-mode view at MNT by NEW.o, without\n"
	"unmounting: operations see the old policy or the new one, never none. FUSE\n"
	"mode views are remounted instead (fbpf-run umount, then mount).\n";

static int cmd_reload(int argc, char **argv)
{
	static const struct option lo[] = { { "help", no_argument, NULL, 'h' }, { 0 } };
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		if (c == 'h') {
			fputs(reload_help, stdout);
			return 0;
		}
		fputs(reload_help, stderr);
		return 2;
	}
	if (argc - optind != 2)
		die_usage("reload", "give the mount point and the new object", reload_help);
#if HAVE_KERNEL
	{
		char err[PATH_MAX + 256];

		if (fbpf_kernel_reload(argv[optind], argv[optind + 1], err, sizeof(err))) {
			fprintf(stderr, "fbpf-run: %s\n", err);
			return 1;
		}
		return 0;
	}
#else
	fprintf(stderr, "fbpf-run: kernel mode is not built into this fbpf-run, and only kernel-mode views "
		"can be reloaded: remount %s instead\n", argv[optind]);
	return 1;
#endif
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fputs(usage, stderr);
		return 2;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
		printf("fbpf-run %s (fbpf ABI %d; FUSE mode: %s; kernel mode: %s)\n", FBPF_VERSION, FBPF_ABI_VERSION,
		       fbpf_fuse_version(), HAVE_KERNEL ? "built in" : "not built");
		return 0;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		fputs(usage, stdout);
		return 0;
	}
	if (!strcmp(argv[1], "mount"))
		return cmd_mount(argc - 1, argv + 1);
	if (!strcmp(argv[1], "umount") || !strcmp(argv[1], "unmount"))
		return cmd_umount(argc - 1, argv + 1);
	if (!strcmp(argv[1], "stats"))
		return cmd_stats(argc - 1, argv + 1);
	if (!strcmp(argv[1], "reload"))
		return cmd_reload(argc - 1, argv + 1);
	fprintf(stderr, "fbpf-run: unknown command '%s'\n%s", argv[1], usage);
	return 2;
}
