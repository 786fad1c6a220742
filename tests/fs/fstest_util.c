// SPDX-License-Identifier: GPL-2.0
/*
 * fbpf_fstest: the workspace of a test, mounting through fbpf-run, and
 * operations run as other callers.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "fstest.h"

struct fs_env E;
struct fs_ws W;
static int ws_active;
static char canary_content[64];

static char rbuf[32][PATH_MAX];
static unsigned rnext;

static const char *vpath(const char *base, const char *fmt, va_list ap)
{
	char *b = rbuf[rnext++ % 32], rel[PATH_MAX];
	int n;

	vsnprintf(rel, sizeof(rel), fmt, ap);
	if (rel[0] == '\0')
		n = snprintf(b, PATH_MAX, "%s", base);
	else
		n = snprintf(b, PATH_MAX, "%s/%s", base, rel);
	ck_assert_msg(n > 0 && n < PATH_MAX, "path too long: %s/%s", base, rel);
	return b;
}

const char *L(const char *fmt, ...)
{
	va_list ap;
	const char *r;

	va_start(ap, fmt);
	r = vpath(W.lower, fmt, ap);
	va_end(ap);
	return r;
}

const char *M(const char *fmt, ...)
{
	va_list ap;
	const char *r;

	va_start(ap, fmt);
	r = vpath(W.mnt, fmt, ap);
	va_end(ap);
	return r;
}

const char *P(const char *fmt, ...)
{
	va_list ap;
	const char *r;

	va_start(ap, fmt);
	r = vpath(W.root, fmt, ap);
	va_end(ap);
	return r;
}

int fmt(char *dst, size_t len, const char *f, ...)
{
	va_list ap;
	int n;

	va_start(ap, f);
	n = vsnprintf(dst, len, f, ap);
	va_end(ap);
	return n;
}

const char *errname(int err)
{
	static char buf[4][32];
	static unsigned i;
	const char *n;

	if (err == 0)
		return "success";
	if (err == -1)
		return "(the caller hung)";
	n = err > 0 ? strerrorname_np(err) : NULL;
	if (n)
		return n;
	snprintf(buf[i % 4], sizeof(buf[0]), "errno %d", err);
	return buf[i++ % 4];
}

/* ---- commands ----------------------------------------------------------- */

int run_cmd(const char *const *argv, char *out, size_t outlen, int timeout_ms)
{
	int fd = memfd_create("fbpf-fstest-out", 0), status = 0, waited = 0;
	pid_t pid, r;
	ssize_t n;

	if (out && outlen)
		out[0] = '\0';
	if (fd < 0)
		return -1;
	pid = fork();
	if (pid < 0) {
		close(fd);
		return -1;
	}
	if (pid == 0) {
		int nul = open("/dev/null", O_RDONLY);

		dup2(nul, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		execv(argv[0], (char *const *)argv);
		dprintf(2, "cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	for (;;) {
		r = waitpid(pid, &status, WNOHANG);
		if (r == pid)
			break;
		if (waited >= timeout_ms) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			status = -1;
			break;
		}
		usleep(5000);
		waited += 5;
	}
	if (out && outlen) {
		n = pread(fd, out, outlen - 1, 0);
		out[n > 0 ? n : 0] = '\0';
	}
	close(fd);
	if (status == -1)
		return -1;
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return 128 + WTERMSIG(status);
}

static int is_mountpoint(const char *path)
{
	struct stat a, b;
	char parent[PATH_MAX];

	snprintf(parent, sizeof(parent), "%s/..", path);
	if (stat(path, &a) || stat(parent, &b))
		return 0;
	return a.st_dev != b.st_dev;
}

int fs_try_mount(const char *policy, const char *lower, const char *mnt, char *out, size_t outlen,
		 const char *const *extra)
{
	const char *argv[32];
	char obj[PATH_MAX];
	int n = 0, rc;

	fmt(obj, sizeof(obj), "%s/%s.o", E.policies, policy);
	argv[n++] = E.run;
	argv[n++] = "mount";
	argv[n++] = obj;
	argv[n++] = lower;
	argv[n++] = mnt;
	argv[n++] = "--mode";
	argv[n++] = E.mode;
	if (E.opts[0]) {
		argv[n++] = "-o";
		argv[n++] = E.opts;
	}
	while (extra && *extra && n < 30)
		argv[n++] = *extra++;
	argv[n] = NULL;
	rc = run_cmd(argv, out, outlen, 30000);
	if (rc == 0 && W.nmounted < MAX_MOUNTS)
		fmt(W.mounted[W.nmounted++], PATH_MAX, "%s", mnt);
	return rc;
}

void fs_mount_at(const char *policy, const char *lower, const char *mnt, ...)
{
	const char *extra[24];
	char out[4096];
	va_list ap;
	int n = 0, rc;

	va_start(ap, mnt);
	while (n < 23 && (extra[n] = va_arg(ap, const char *)) != NULL)
		n++;
	va_end(ap);
	extra[n] = NULL;
	rc = fs_try_mount(policy, lower, mnt, out, sizeof(out), extra);
	ck_assert_msg(rc == 0, "fbpf-run mount %s.o %s %s failed (status %d): %s", policy, lower, mnt,
		      rc, out);
	ck_assert_msg(is_mountpoint(mnt),
		      "fbpf-run mount %s.o exited 0 but %s is not a mount point: %s", policy, mnt, out);
}

static int do_umount(const char *mnt, char *out, size_t outlen)
{
	const char *argv[] = { E.run, "umount", mnt, NULL };

	return run_cmd(argv, out, outlen, 30000);
}

static void forget_mount(const char *mnt)
{
	int i;

	for (i = 0; i < W.nmounted; i++) {
		if (strcmp(W.mounted[i], mnt) == 0) {
			memmove(W.mounted[i], W.mounted[i + 1],
				(size_t)(W.nmounted - i - 1) * sizeof(W.mounted[0]));
			W.nmounted--;
			return;
		}
	}
}

void fs_umount_at(const char *mnt)
{
	char out[4096];
	int rc = do_umount(mnt, out, sizeof(out));

	if (rc != 0)
		umount2(mnt, MNT_DETACH);
	forget_mount(mnt);
	ck_assert_msg(rc == 0, "fbpf-run umount %s failed (status %d): %s", mnt, rc, out);
	ck_assert_msg(!is_mountpoint(mnt), "fbpf-run umount %s exited 0 but it is still mounted", mnt);
}

/* ---- the workspace ------------------------------------------------------ */

static void cleanup_quiet(void)
{
	char out[1024];
	int i;

	if (!ws_active)
		return;
	ws_active = 0;
	for (i = W.nmounted - 1; i >= 0; i--)
		if (do_umount(W.mounted[i], out, sizeof(out)) != 0)
			umount2(W.mounted[i], MNT_DETACH);
	W.nmounted = 0;
	umount2(W.root, MNT_DETACH);
	rmdir(W.root);
}

void ws_setup(void)
{
	static unsigned seq;
	char opts[64];
	int fd;

	memset(&W, 0, sizeof(W));
	fmt(W.root, sizeof(W.root), "%s/t%d-%u", E.scratch, (int)getpid(), seq++);
	ck_assert_msg(mkdir(W.root, 0755) == 0, "cannot make %s: %s", W.root, strerror(errno));
	snprintf(opts, sizeof(opts), "mode=0755,size=1g");
	ck_assert_msg(mount("fbpf-fstest", W.root, "tmpfs", 0, opts) == 0,
		      "cannot mount a tmpfs on %s: %s", W.root, strerror(errno));
	ws_active = 1;
	atexit(cleanup_quiet);
	fmt(W.lower, sizeof(W.lower), "%s/a/lower", W.root);
	fmt(W.outside, sizeof(W.outside), "%s/a/outside", W.root);
	fmt(W.mnt, sizeof(W.mnt), "%s/b/mnt", W.root);
	mkdirp(W.lower, 0755);
	mkdirp(W.outside, 0777);
	mkdirp(W.mnt, 0755);
	chmod(W.lower, 0755);
	chmod(W.outside, 0777);
	/* The canary: nothing done through a view of LOWER may reach it. */
	snprintf(canary_content, sizeof(canary_content), "CANARY-%d", (int)getpid());
	fd = open(P("a/outside/canary"), O_CREAT | O_WRONLY | O_TRUNC, 0666);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, canary_content, strlen(canary_content)), (ssize_t)strlen(canary_content));
	close(fd);
	chmod(P("a/outside/canary"), 0666);
	{
		struct timespec ts[2] = { { 1000000000, 0 }, { 1000000000, 0 } };

		utimensat(AT_FDCWD, P("a/outside/canary"), ts, 0);
		utimensat(AT_FDCWD, W.outside, ts, 0);
	}
}

/* The canary and its directory are exactly as ws_setup left them. */
static void check_canary(char *msg, size_t len)
{
	char buf[128], list[4096];
	struct stat st;
	ssize_t n;

	msg[0] = '\0';
	n = slurp(P("a/outside/canary"), buf, sizeof(buf));
	if (n < 0 || strcmp(buf, canary_content) != 0) {
		snprintf(msg, len, "the canary outside LOWER was changed or removed");
		return;
	}
	if (stat(P("a/outside/canary"), &st) || st.st_mtim.tv_sec != 1000000000 ||
	    (st.st_mode & 07777) != 0666 || st.st_uid != 0) {
		snprintf(msg, len, "the canary outside LOWER had its attributes changed");
		return;
	}
	if (listdir(W.outside, list, sizeof(list)) < 0 || strcmp(list, "canary") != 0) {
		fmt(msg, len, "the directory outside LOWER was changed: it holds [%s]", list);
		return;
	}
	if (stat(W.outside, &st) || st.st_mtim.tv_sec != 1000000000)
		fmt(msg, len, "the directory outside LOWER was modified (mtime changed)");
}

void ws_teardown(void)
{
	char died[PATH_MAX + 128] = "", failed[PATH_MAX + 4200] = "", out[4096], canary[256];
	struct stat st;
	int i, rc;

	for (i = W.nmounted - 1; i >= 0; i--) {
		if (stat(W.mounted[i], &st) != 0 && !died[0])
			snprintf(died, sizeof(died), "the view at %s no longer answers (%s): did the daemon die?",
				 W.mounted[i], errname(errno));
		rc = do_umount(W.mounted[i], out, sizeof(out));
		if (rc != 0) {
			if (!failed[0])
				snprintf(failed, sizeof(failed), "fbpf-run umount %s failed (status %d): %s",
					 W.mounted[i], rc, out);
			umount2(W.mounted[i], MNT_DETACH);
		}
	}
	W.nmounted = 0;
	check_canary(canary, sizeof(canary));
	ws_active = 0;
	umount2(W.root, MNT_DETACH);
	rmdir(W.root);
	ck_assert_msg(!died[0], "%s", died);
	ck_assert_msg(!failed[0], "%s", failed);
	ck_assert_msg(!canary[0], "%s", canary);
}

TCase *fs_tcase(const char *name, double timeout)
{
	TCase *tc = tcase_create(name);

	tcase_add_checked_fixture(tc, ws_setup, ws_teardown);
	tcase_set_timeout(tc, timeout);
	return tc;
}

/* ---- files -------------------------------------------------------------- */

void mkfile(const char *path, const char *content, mode_t mode)
{
	int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, mode);
	size_t len = content ? strlen(content) : 0;

	ck_assert_msg(fd >= 0, "cannot create %s: %s", path, strerror(errno));
	ck_assert_msg(write(fd, content ? content : "", len) == (ssize_t)len, "cannot write %s", path);
	fchmod(fd, mode);
	close(fd);
}

void mkdirp(const char *path, mode_t mode)
{
	char buf[PATH_MAX], *p;

	snprintf(buf, sizeof(buf), "%s", path);
	for (p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) && errno != EEXIST)
			ck_abort_msg("cannot make %s: %s", buf, strerror(errno));
		*p = '/';
	}
	if (mkdir(buf, mode) && errno != EEXIST)
		ck_abort_msg("cannot make %s: %s", buf, strerror(errno));
	chmod(buf, mode);
}

void xchown(const char *path, uid_t uid, gid_t gid)
{
	ck_assert_msg(lchown(path, uid, gid) == 0, "cannot chown %s: %s", path, strerror(errno));
}

ssize_t slurp(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY);
	ssize_t n = 0, got = 0;

	buf[0] = '\0';
	if (fd < 0)
		return -errno;
	while ((size_t)got < len - 1 && (n = read(fd, buf + got, len - 1 - (size_t)got)) > 0)
		got += n;
	if (n < 0) {
		int e = errno;

		close(fd);
		return -e;
	}
	buf[got] = '\0';
	close(fd);
	return got;
}

int exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

static int cmpstr(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int listdir(const char *path, char *out, size_t outlen)
{
	DIR *d = opendir(path);
	struct dirent *de;
	char **names = NULL;
	size_t n = 0, cap = 0, i, used = 0;

	out[0] = '\0';
	if (!d)
		return -errno;
	errno = 0;
	while ((de = readdir(d)) != NULL) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			names = realloc(names, cap * sizeof(*names));
		}
		names[n++] = strdup(de->d_name);
	}
	if (errno) {
		int e = errno;

		closedir(d);
		for (i = 0; i < n; i++)
			free(names[i]);
		free(names);
		return -e;
	}
	closedir(d);
	if (n)
		qsort(names, n, sizeof(*names), cmpstr);
	for (i = 0; i < n; i++) {
		int w = snprintf(out + used, outlen - used, "%s%s", i ? "\n" : "", names[i]);

		if (w > 0 && (size_t)w < outlen - used)
			used += (size_t)w;
		free(names[i]);
	}
	free(names);
	return (int)n;
}

int list_has(const char *listing, const char *name)
{
	size_t n = strlen(name);
	const char *p = listing;

	while (p && *p) {
		const char *e = strchr(p, '\n');
		size_t l = e ? (size_t)(e - p) : strlen(p);

		if (l == n && !memcmp(p, name, n))
			return 1;
		p = e ? e + 1 : NULL;
	}
	return 0;
}

/* ---- operations --------------------------------------------------------- */

static int fill_stat(struct xres *r, const struct stat *st)
{
	r->uid = st->st_uid;
	r->gid = st->st_gid;
	r->mode = st->st_mode;
	r->nlink = st->st_nlink;
	r->size = st->st_size;
	r->ino = st->st_ino;
	return 0;
}

#define TRY(expr) ((expr) < 0 ? errno : 0)

int xop_run(const struct xop *op, struct xres *r)
{
	struct stat st;
	struct statx stx;
	struct statfs sfs;
	int fd, e = 0;
	ssize_t n;

	r->err = 0;
	r->len = 0;
	r->data[0] = '\0';
	errno = 0;
	switch (op->kind) {
	case X_STAT:
		e = TRY(stat(op->a1, &st));
		if (!e)
			fill_stat(r, &st);
		break;
	case X_LSTAT:
		e = TRY(lstat(op->a1, &st));
		if (!e)
			fill_stat(r, &st);
		break;
	case X_STATX:
		e = TRY(statx(AT_FDCWD, op->a1, AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, &stx));
		if (!e) {
			r->uid = stx.stx_uid;
			r->gid = stx.stx_gid;
			r->mode = stx.stx_mode;
			r->nlink = stx.stx_nlink;
			r->size = (off_t)stx.stx_size;
			r->ino = stx.stx_ino;
		}
		break;
	case X_OPEN_R:
	case X_OPEN_W:
	case X_OPEN_TRUNC:
	case X_OPEN_CREAT:
	case X_OPEN_EXCL:
	case X_CREAT: {
		static const int flags[] = {
			[X_OPEN_R] = O_RDONLY, [X_OPEN_W] = O_WRONLY, [X_OPEN_TRUNC] = O_WRONLY | O_TRUNC,
			[X_OPEN_CREAT] = O_RDWR | O_CREAT, [X_OPEN_EXCL] = O_RDWR | O_CREAT | O_EXCL,
			[X_CREAT] = O_WRONLY | O_CREAT | O_TRUNC,
		};
		fd = open(op->a1, flags[op->kind], 0644);
		e = TRY(fd);
		if (fd >= 0) {
			if (!fstat(fd, &st))
				fill_stat(r, &st);
			close(fd);
		}
		break;
	}
	case X_MKDIR:
		e = TRY(mkdir(op->a1, 0755));
		break;
	case X_MKNOD:
		e = TRY(mknod(op->a1, S_IFREG | 0644, 0));
		break;
	case X_MKFIFO:
		e = TRY(mkfifo(op->a1, 0644));
		break;
	case X_SYMLINK:
		e = TRY(symlink(op->a2, op->a1));
		break;
	case X_LINK:
		e = TRY(link(op->a1, op->a2));
		break;
	case X_RENAME:
		e = TRY(rename(op->a1, op->a2));
		break;
	case X_RENAME_NOREPLACE:
		e = TRY(renameat2(AT_FDCWD, op->a1, AT_FDCWD, op->a2, RENAME_NOREPLACE));
		break;
	case X_RENAME_EXCHANGE:
		e = TRY(renameat2(AT_FDCWD, op->a1, AT_FDCWD, op->a2, RENAME_EXCHANGE));
		break;
	case X_UNLINK:
		e = TRY(unlink(op->a1));
		break;
	case X_RMDIR:
		e = TRY(rmdir(op->a1));
		break;
	case X_CHMOD:
		e = TRY(chmod(op->a1, 0600));
		break;
	case X_CHOWN:
		e = TRY(chown(op->a1, getuid(), getgid()));
		break;
	case X_TRUNCATE:
		e = TRY(truncate(op->a1, 0));
		break;
	case X_UTIMENS:
		e = TRY(utimensat(AT_FDCWD, op->a1, NULL, 0));
		break;
	case X_GETXATTR:
		n = getxattr(op->a1, "user.fbpf", r->data, sizeof(r->data) - 1);
		e = TRY(n);
		if (n >= 0) {
			r->len = n;
			r->data[n] = '\0';
		}
		break;
	case X_SETXATTR:
		e = TRY(setxattr(op->a1, "user.fbpf", "v", 1, 0));
		break;
	case X_LISTXATTR:
		n = listxattr(op->a1, r->data, sizeof(r->data) - 1);
		e = TRY(n);
		if (n >= 0)
			r->len = n;
		break;
	case X_REMOVEXATTR:
		e = TRY(removexattr(op->a1, "user.fbpf"));
		break;
	case X_ACCESS:
		e = TRY(access(op->a1, F_OK));
		break;
	case X_OPENDIR:
		fd = open(op->a1, O_RDONLY | O_DIRECTORY);
		e = TRY(fd);
		if (fd >= 0)
			close(fd);
		break;
	case X_CHDIR: {
		int here = open(".", O_RDONLY | O_DIRECTORY);

		e = TRY(chdir(op->a1));
		if (!e && here >= 0)
			(void)!fchdir(here);
		if (here >= 0)
			close(here);
		break;
	}
	case X_READLINK:
		n = readlink(op->a1, r->data, sizeof(r->data) - 1);
		e = TRY(n);
		if (n >= 0) {
			r->len = n;
			r->data[n] = '\0';
		}
		break;
	case X_READ:
		n = slurp(op->a1, r->data, sizeof(r->data));
		e = n < 0 ? (int)-n : 0;
		r->len = n < 0 ? 0 : n;
		break;
	case X_WRITE:
	case X_APPEND:
		fd = open(op->a1, O_WRONLY | (op->kind == X_APPEND ? O_APPEND : O_TRUNC));
		e = TRY(fd);
		if (fd >= 0) {
			size_t len = op->a2 ? strlen(op->a2) : 0;

			n = write(fd, op->a2 ? op->a2 : "", len);
			e = n < 0 ? errno : (n == (ssize_t)len ? 0 : EIO);
			if (close(fd) && !e)
				e = errno;
		}
		break;
	case X_LIST:
		n = listdir(op->a1, r->data, sizeof(r->data));
		e = n < 0 ? (int)-n : 0;
		r->len = n < 0 ? 0 : n;
		break;
	case X_STATFS:
		e = TRY(statfs(op->a1, &sfs));
		break;
	}
	r->err = e;
	return e;
}

int xop_as(uid_t uid, gid_t gid, const struct xop *op, struct xres *res)
{
	struct xres *sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	int status = 0, waited = 0;
	pid_t pid;

	ck_assert(sh != MAP_FAILED);
	sh->err = -1;
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		if (uid != (uid_t)-1) {
			if (setgroups(0, NULL) || setresgid(gid, gid, gid) || setresuid(uid, uid, uid))
				_exit(99);
		}
		xop_run(op, sh);
		_exit(0);
	}
	while (waitpid(pid, &status, WNOHANG) != pid) {
		if (waited >= 30000) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			break;
		}
		usleep(1000);
		waited++;
	}
	ck_assert_msg(!(WIFEXITED(status) && WEXITSTATUS(status) == 99),
		      "cannot switch to uid %u gid %u", (unsigned)uid, (unsigned)gid);
	if (res)
		memcpy(res, sh, sizeof(*sh));
	waited = sh->err;
	munmap(sh, sizeof(*sh));
	return waited;
}

int X(enum xop_kind kind, const char *a1, const char *a2)
{
	struct xop op = { kind, a1, a2 };
	static struct xres r;

	return xop_run(&op, &r);
}

int XA(uid_t uid, enum xop_kind kind, const char *a1, const char *a2)
{
	struct xop op = { kind, a1, a2 };

	return xop_as(uid, uid, &op, NULL);
}
