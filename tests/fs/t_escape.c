// SPDX-License-Identifier: GPL-2.0
/*
 * Escapes: nothing done through the view may reach outside LOWER.
 *
 * The workspace is laid out so that the kernel's own symlink resolution in
 * the view never reaches the canary, but an engine that followed symlinks
 * or ".." while resolving lower paths would:
 *
 *   ROOT/a/lower            the lower directory
 *   ROOT/a/outside/canary   the canary (mode 0666, a fixed mtime)
 *   ROOT/b/mnt              the view (ROOT/b/outside does not exist)
 *
 * so a lower symlink "../outside/canary" points at the canary for the
 * engine, and at nothing for a process in the view. Every test's teardown
 * also checks that the canary and its directory are untouched.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "fstest.h"

START_TEST(escape_static_symlinks)
{
	char abs[PATH_MAX], buf[PATH_MAX];
	struct stat a, b;
	ssize_t n;

	fmt(abs, sizeof(abs), "%s/canary", W.outside);
	ck_assert(symlink("../outside", L("up")) == 0);
	ck_assert(symlink("../outside/canary", L("upcanary")) == 0);
	ck_assert(symlink(abs, L("abs")) == 0);
	ck_assert(symlink("../../../../../../../../..", L("dd")) == 0);
	mkdirp(L("sub"), 0755);
	ck_assert(symlink("../../outside/canary", L("sub/up2")) == 0);
	fs_mount("passthrough");

	/* Symlinks are shown with their stored targets, unchanged. */
	n = readlink(M("up"), buf, sizeof(buf) - 1);
	ck_assert_int_eq(n, 10);
	buf[n] = '\0';
	ck_assert_str_eq(buf, "../outside");
	n = readlink(M("abs"), buf, sizeof(buf) - 1);
	ck_assert_int_ge(n, 0);
	buf[n] = '\0';
	ck_assert_str_eq(buf, abs);
	ck_assert_int_eq(lstat(M("dd"), &a), 0);
	ck_assert(S_ISLNK(a.st_mode));

	/* Followed in the view, relative targets resolve next to the mount. */
	ck_errno(X(X_STAT, M("up/canary"), NULL), ENOENT);
	ck_errno(X(X_OPEN_R, M("upcanary"), NULL), ENOENT);
	ck_errno(X(X_OPEN_TRUNC, M("upcanary"), NULL), ENOENT);
	ck_errno(X(X_OPEN_CREAT, M("upcanary"), NULL), ENOENT);
	ck_errno(X(X_OPEN_R, M("sub/up2"), NULL), ENOENT);
	ck_errno(X(X_CHMOD, M("sub/up2"), NULL), ENOENT);
	ck_errno(X(X_TRUNCATE, M("upcanary"), NULL), ENOENT);
	ck_errno(X(X_SETXATTR, M("upcanary"), NULL), ENOENT);
	/* lchown and lutimes act on the link itself, inside LOWER */
	ck_assert_int_eq(lchown(M("upcanary"), 0, 0), 0);
	ck_assert_int_eq(utimensat(AT_FDCWD, M("upcanary"), NULL, AT_SYMLINK_NOFOLLOW), 0);

	/* ".." from the view's root is the mount point's parent, never LOWER's. */
	ck_assert_int_eq(stat(P("b"), &b), 0);
	ck_assert_int_eq(stat(M(".."), &a), 0);
	ck_assert_msg(a.st_ino == b.st_ino && a.st_dev == b.st_dev, "MNT/.. is not the mount point's parent");
	ck_assert_int_eq(stat(M("sub/../.."), &a), 0);
	ck_assert_msg(a.st_ino == b.st_ino && a.st_dev == b.st_dev, "MNT/sub/../.. is not the mount point's parent");
	ck_errno(X(X_STAT, M("../outside/canary"), NULL), ENOENT);
	ck_errno(X(X_STAT, M("sub/../../outside"), NULL), ENOENT);

	/* A symlink made through the view keeps its target text. */
	ck_assert_int_eq(symlink("../outside/canary", M("made")), 0);
	n = readlink(L("made"), buf, sizeof(buf) - 1);
	ck_assert_int_ge(n, 0);
	buf[n] = '\0';
	ck_assert_str_eq(buf, "../outside/canary");
	ck_errno(X(X_WRITE, M("made"), "PWNED"), ENOENT);
}
END_TEST

/*
 * The view has looked up LOWER/d and LOWER/f (the kernel caches them); then
 * they are replaced in the lower directory by symlinks that point outside.
 * Every operation through the names must stay inside LOWER.
 *
 * The operations run in a child chrooted to ROOT/b, with the view at /mnt:
 * should the kernel look the names up again and follow the new symlinks
 * itself (as it may), an absolute target then resolves in the caller's
 * root, where no canary exists; only an engine that followed the symlink
 * on the lower side could reach it.
 */
static int probe_swapped(int fd)
{
	static const enum xop_kind file_ops[] = { X_READ, X_OPEN_TRUNC, X_WRITE, X_APPEND, X_CHMOD,
						  X_CHOWN, X_TRUNCATE, X_UTIMENS, X_SETXATTR,
						  X_REMOVEXATTR, X_GETXATTR };
	static const enum xop_kind dir_ops[] = { X_READ, X_WRITE, X_OPEN_CREAT, X_MKDIR, X_MKFIFO,
						 X_UNLINK, X_CHMOD, X_TRUNCATE, X_SETXATTR, X_RMDIR };
	static struct xres r;
	char buf[64];
	unsigned i;
	ssize_t n;

	for (i = 0; i < sizeof(file_ops) / sizeof(file_ops[0]); i++) {
		struct xop op = { file_ops[i], "/mnt/f", "PWNED" };

		xop_run(&op, &r);
		if (file_ops[i] == X_READ && r.err == 0 && !strncmp(r.data, "CANARY-", 7))
			return 1;
	}
	for (i = 0; i < sizeof(dir_ops) / sizeof(dir_ops[0]); i++) {
		struct xop op = { dir_ops[i], "/mnt/d/canary", "PWNED" };

		xop_run(&op, &r);
		if (dir_ops[i] == X_READ && r.err == 0 && !strncmp(r.data, "CANARY-", 7))
			return 2;
		op.a1 = "/mnt/d/new";
		xop_run(&op, &r);
	}
	X(X_RENAME, "/mnt/d/f", "/mnt/d/canary");
	X(X_LINK, "/mnt/d/f", "/mnt/d/linked");
	X(X_SYMLINK, "/mnt/d/sl", "x");
	/* the file descriptor opened before the swap reads the old file */
	n = pread(fd, buf, sizeof(buf) - 1, 0);
	if (n >= 0) {
		buf[n] = '\0';
		if (!strncmp(buf, "CANARY-", 7))
			return 3;
	}
	n = slurp("/mnt/f", buf, sizeof(buf));
	if (n >= 0 && !strncmp(buf, "CANARY-", 7))
		return 4;
	n = slurp("/mnt/d/canary", buf, sizeof(buf));
	if (n >= 0 && !strncmp(buf, "CANARY-", 7))
		return 5;
	return 0;
}

static void swap_and_probe(const char *dirtarget, const char *filetarget)
{
	static const char *const what[] = { "", "reading the swapped file", "reading d/canary",
					    "the file opened before the swap", "reading f at the end",
					    "reading d/canary at the end" };
	struct stat st;
	char list[4096];
	int fd, status;
	pid_t pid;

	mkdirp(L("d"), 0755);
	mkfile(L("d/f"), "inside", 0644);
	mkfile(L("f"), "inside", 0644);
	fs_mount("passthrough");
	/* let the kernel and the engine learn the names; keep f open */
	ck_assert_int_eq(stat(M("d/f"), &st), 0);
	ck_assert_int_eq(stat(M("f"), &st), 0);
	fd = open(M("f"), O_RDONLY);
	ck_assert_int_ge(fd, 0);

	ck_assert_int_eq(rename(L("d"), L("d.old")), 0);
	ck_assert_int_eq(symlink(dirtarget, L("d")), 0);
	ck_assert_int_eq(rename(L("f"), L("f.old")), 0);
	ck_assert_int_eq(symlink(filetarget, L("f")), 0);

	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		if (chroot(P("b")) || chdir("/"))
			_exit(99);
		_exit(probe_swapped(fd));
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) != 99, "cannot chroot to %s", P("b"));
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		      "%s through the view returned the canary outside LOWER",
		      WIFEXITED(status) && WEXITSTATUS(status) < 6 ? what[WEXITSTATUS(status)] : "a probe");
	close(fd);
	if (listdir(M("d"), list, sizeof(list)) >= 0)
		ck_assert_msg(!list_has(list, "canary") || exists(L("d.old/canary")),
			      "listing the swapped directory shows the canary's directory: [%s]", list);
}

START_TEST(escape_swap_relative)
{
	swap_and_probe("../outside", "../outside/canary");
}
END_TEST

START_TEST(escape_swap_absolute)
{
	char d[PATH_MAX], f[PATH_MAX];

	fmt(d, sizeof(d), "%s", W.outside);
	fmt(f, sizeof(f), "%s/canary", W.outside);
	swap_and_probe(d, f);
}
END_TEST

/* Threads: the lower keeps swapping a directory and a file with symlinks
 * that point outside, while other threads use the names through the view. */
static volatile int race_stop;
static int race_leak;

static void *swapper(void *arg)
{
	(void)arg;
	while (!race_stop) {
		renameat2(AT_FDCWD, L("d"), AT_FDCWD, L("ds"), RENAME_EXCHANGE);
		renameat2(AT_FDCWD, L("f"), AT_FDCWD, L("fs"), RENAME_EXCHANGE);
		sched_yield();
	}
	return NULL;
}

static void *user(void *arg)
{
	char mine[PATH_MAX], buf[128];
	long id = (long)arg;
	unsigned n = 0;

	fmt(mine, sizeof(mine), "%s/d/new%ld", W.mnt, id);
	while (!race_stop) {
		char path[PATH_MAX];
		struct stat st;
		int fd;

		fmt(path, sizeof(path), "%s/%s", W.mnt, (n & 1) ? "d/canary" : "f");
		fd = open(path, (n % 3 == 0) ? O_RDWR : O_RDONLY);
		if (fd >= 0) {
			ssize_t r = pread(fd, buf, sizeof(buf) - 1, 0);

			if (r > 0) {
				buf[r] = '\0';
				if (!strncmp(buf, "CANARY-", 7))
					race_leak = 1;
			}
			if (n % 3 == 0)
				(void)!pwrite(fd, "inside", 6, 0);
			close(fd);
		}
		stat(path, &st);
		chmod(path, 0644);
		truncate(path, 6);
		fd = open(mine, O_CREAT | O_WRONLY, 0644);
		if (fd >= 0)
			close(fd);
		unlink(mine);
		n++;
	}
	return NULL;
}

/* The users run in a child chrooted to ROOT/b (the view at /mnt), so that
 * the absolute symlink, if the kernel follows it, points at nothing. */
START_TEST(escape_race)
{
	char abs[PATH_MAX];
	pthread_t s;
	pid_t pid;
	int status;

	mkdirp(L("d"), 0755);
	mkfile(L("d/canary"), "inside", 0644);
	mkfile(L("f"), "inside", 0644);
	fmt(abs, sizeof(abs), "%s/canary", W.outside);
	ck_assert_int_eq(symlink("../outside", L("ds")), 0);
	ck_assert_int_eq(symlink(abs, L("fs")), 0);
	fs_mount("passthrough");
	race_stop = 0;
	race_leak = 0;
	pthread_create(&s, NULL, swapper, NULL);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		pthread_t u[3];
		long i;

		if (chroot(P("b")) || chdir("/"))
			_exit(99);
		fmt(W.mnt, sizeof(W.mnt), "/mnt");
		for (i = 0; i < 3; i++)
			pthread_create(&u[i], NULL, user, (void *)i);
		usleep(2000 * 1000);
		race_stop = 1;
		for (i = 0; i < 3; i++)
			pthread_join(u[i], NULL);
		_exit(race_leak);
	}
	waitpid(pid, &status, 0);
	race_stop = 1;
	pthread_join(s, NULL);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) != 99, "cannot chroot to %s", P("b"));
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		      "a read through the view returned the canary outside LOWER");
}
END_TEST

TCase *tc_escape(void)
{
	TCase *tc = fs_tcase("escape", 60);

	tcase_add_test(tc, escape_static_symlinks);
	tcase_add_test(tc, escape_swap_relative);
	tcase_add_test(tc, escape_swap_absolute);
	tcase_add_test(tc, escape_race);
	return tc;
}
