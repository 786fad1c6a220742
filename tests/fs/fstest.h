/* SPDX-License-Identifier: GPL-2.0 */
/*
 * fbpf_fstest: behavioural tests of a mounted fbpf view. Every test mounts a
 * compiled policy over a fresh lower directory (on its own tmpfs) with the
 * real fbpf-run, acts through real system calls, and unmounts.
 *
 * Environment:
 *   FBPF_RUN         path of fbpf-run (required)
 *   FBPF_MODE        fuse, kernel or auto (default fuse)
 *   FBPF_POLICY_DIR  directory of the compiled policies NAME.o (required)
 *   FBPF_SCRATCH     directory for the test mounts (default: a new /tmp/fbpf-fstest.*)
 *   FBPF_MOUNT_OPTS  -o options for the mount (default allow_other, none in kernel mode)
 *
 * The two unprivileged callers are uid/gid 1000 and 1001 (the policies name them);
 * they need no passwd entries.
 */
#ifndef FBPF_FSTEST_H
#define FBPF_FSTEST_H

#include <check.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>

struct fs_env {
	char run[PATH_MAX];
	char mode[16];
	char policies[PATH_MAX];
	char scratch[PATH_MAX];
	char opts[256];
	char self[PATH_MAX];	/* this program, for helper modes */
	unsigned uid_a, uid_b;
};
extern struct fs_env E;

#define MAX_MOUNTS 4
struct fs_ws {
	char root[PATH_MAX];	/* a tmpfs of its own */
	char lower[PATH_MAX];	/* root/a/lower */
	char mnt[PATH_MAX];	/* root/b/mnt */
	char outside[PATH_MAX];	/* root/a/outside: must never be reached */
	char mounted[MAX_MOUNTS][PATH_MAX];
	int nmounted;
};
extern struct fs_ws W;

/* Fixture: the workspace of one test (runs in the test's own process). */
void ws_setup(void);
void ws_teardown(void);

/* Paths: rotating static buffers, good for a few uses at a time. */
const char *L(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
const char *M(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
const char *P(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Mount policy NAME (FBPF_POLICY_DIR/NAME.o) over lower on mnt; extra args
 * (NULL-terminated) go to fbpf-run. Fails the test when the mount fails. */
void fs_mount_at(const char *policy, const char *lower, const char *mnt, ...);
#define fs_mount(policy, ...) fs_mount_at(policy, W.lower, W.mnt, ##__VA_ARGS__, NULL)
/* The same, but returns the exit status and leaves the output in out. */
int fs_try_mount(const char *policy, const char *lower, const char *mnt, char *out, size_t outlen,
		 const char *const *extra);
void fs_umount_at(const char *mnt);
#define fs_umount() fs_umount_at(W.mnt)

/* Run a command with a time limit; output (stdout+stderr) into out. Returns
 * the exit status, 128+signal, or -1 after the time limit. */
int run_cmd(const char *const *argv, char *out, size_t outlen, int timeout_ms);

/* Files in the lower (or anywhere): fail the test on error. */
void mkfile(const char *path, const char *content, mode_t mode);
void mkdirp(const char *path, mode_t mode);
void xchown(const char *path, uid_t uid, gid_t gid);
/* Contents of a file (NUL-terminated, at most len-1 bytes), or -errno. */
ssize_t slurp(const char *path, char *buf, size_t len);
int exists(const char *path);	/* lstat succeeds */

/* A directory listing, sorted, joined with '\n' (without . and ..), or -errno. */
int listdir(const char *path, char *out, size_t outlen);
int list_has(const char *listing, const char *name);

/* ---- operations, run as any caller ---------------------------------- */
enum xop_kind {
	X_STAT, X_LSTAT, X_STATX, X_OPEN_R, X_OPEN_W, X_OPEN_TRUNC, X_OPEN_CREAT, X_OPEN_EXCL, X_CREAT,
	X_MKDIR, X_MKNOD, X_MKFIFO,
	X_SYMLINK,	/* symlink(a2, a1): a1 is the new name */
	X_LINK,		/* link(a1, a2) */
	X_RENAME,	/* rename(a1, a2) */
	X_RENAME_NOREPLACE, X_RENAME_EXCHANGE,
	X_UNLINK, X_RMDIR, X_CHMOD, X_CHOWN, X_TRUNCATE, X_UTIMENS,
	X_GETXATTR, X_SETXATTR, X_LISTXATTR, X_REMOVEXATTR,
	X_ACCESS, X_OPENDIR, X_CHDIR, X_READLINK,
	X_READ,		/* read the file into xres.data */
	X_WRITE,	/* open O_WRONLY|O_TRUNC and write a2 */
	X_APPEND,	/* open O_WRONLY|O_APPEND and write a2 */
	X_LIST,		/* list directory a1 into xres.data */
	X_STATFS,
};

struct xop {
	enum xop_kind kind;
	const char *a1, *a2;
};

/* What an operation gave: errno (0 on success), and for stat-like ops the
 * attributes, for reads the data. */
struct xres {
	int err;
	uid_t uid;
	gid_t gid;
	mode_t mode;
	nlink_t nlink;
	off_t size;
	ino_t ino;
	ssize_t len;
	char data[65536];
};

/* Run op as root in this process. */
int xop_run(const struct xop *op, struct xres *res);
/* Run op in a child process with uid/gid (groups cleared); res gets the
 * result. Returns res->err. uid (uid_t)-1 means: as root, in a child. */
int xop_as(uid_t uid, gid_t gid, const struct xop *op, struct xres *res);
/* Shorthands returning only the errno. */
int X(enum xop_kind kind, const char *a1, const char *a2);
int XA(uid_t uid, enum xop_kind kind, const char *a1, const char *a2);

const char *errname(int err);

/* snprintf, out of line: paths here are far below PATH_MAX, and an
 * over-long one is cut like snprintf cuts it. */
int fmt(char *dst, size_t len, const char *f, ...) __attribute__((format(printf, 3, 4)));

/* ck_assert on errnos, printing names. */
#define ck_errno(got, want)                                                                     \
	do {                                                                                    \
		int g_ = (got), w_ = (want);                                                    \
		ck_assert_msg(g_ == w_, "%s: got %s, want %s", #got, errname(g_), errname(w_)); \
	} while (0)

/* Test groups: each returns a TCase. */
TCase *tc_actions(void);
TCase *tc_examples(void);
TCase *tc_callers(void);
TCase *tc_hidden(void);
TCase *tc_escape(void);
TCase *tc_posix(void);
TCase *tc_renames(void);
TCase *tc_defer(void);

/* The test's TCase with the workspace fixture and a time limit. */
TCase *fs_tcase(const char *name, double timeout);

#endif
