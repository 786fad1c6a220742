// SPDX-License-Identifier: GPL-2.0
/*
 * Each action (hide, deny with an errno, rename, attr; defer is in
 * t_defer.c) and each operation class, on a mounted view of
 * policies/actions.fbp, against docs/language.md ("Actions", "Operation
 * classes", "How rules combine").
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "fstest.h"

START_TEST(act_hide)
{
	char list[1024];

	mkfile(L("hidden"), "H", 0644);
	mkfile(L(".secret"), "S", 0644);
	mkdirp(L("x"), 0755);
	mkfile(L("x/.secret"), "S", 0644);
	mkfile(L("x/visible"), "V", 0644);
	mkfile(L("shown"), "s", 0644);
	fs_mount("actions");
	ck_assert_int_ge(listdir(W.mnt, list, sizeof(list)), 0);
	ck_assert_msg(!list_has(list, "hidden") && !list_has(list, ".secret") && list_has(list, "shown") &&
			      list_has(list, "x"),
		      "root lists [%s]", list);
	ck_assert_int_ge(listdir(M("x"), list, sizeof(list)), 0);
	ck_assert_str_eq(list, "visible");
	ck_errno(X(X_STAT, M("hidden"), NULL), ENOENT);
	ck_errno(X(X_STAT, M("x/.secret"), NULL), ENOENT);
	ck_errno(X(X_READ, M(".secret"), NULL), ENOENT);
	ck_errno(X(X_CREAT, M("x/.secret"), NULL), EACCES);
	ck_errno(X(X_MKDIR, M("y/.secret"), NULL), ENOENT);
	ck_errno(X(X_MKDIR, M("x/new"), NULL), 0);
	ck_errno(X(X_MKDIR, M("x/new/.secret"), NULL), EACCES);
	ck_assert(!exists(L("x/new/.secret")));
	ck_errno(X(X_UNLINK, M("hidden"), NULL), ENOENT);
	ck_assert(exists(L("hidden")));
}
END_TEST

START_TEST(act_deny_write)
{
	char buf[64];

	mkdirp(L("ro/sub"), 0755);
	mkfile(L("ro/f"), "data", 0644);
	fs_mount("actions");
	ck_errno(X(X_READ, M("ro/f"), NULL), 0);
	ck_errno(X(X_OPEN_W, M("ro/f"), NULL), EROFS);
	ck_errno(X(X_OPEN_TRUNC, M("ro/f"), NULL), EROFS);
	ck_errno(X(X_OPEN_CREAT, M("ro/f"), NULL), EROFS); /* O_RDWR on an existing file */
	ck_errno(X(X_CREAT, M("ro/f"), NULL), EROFS);
	ck_errno(X(X_APPEND, M("ro/f"), "x"), EROFS);
	slurp(L("ro/f"), buf, sizeof(buf));
	ck_assert_str_eq(buf, "data");
	/* creating a name is `create`, not `write`; changing attributes is `setattr` */
	ck_errno(X(X_MKDIR, M("ro/newdir"), NULL), 0);
	ck_errno(X(X_CHMOD, M("ro/f"), NULL), 0);
	ck_errno(X(X_UNLINK, M("ro/f"), NULL), 0);
	ck_assert(!exists(L("ro/f")));
	/* the directory /ro itself is not matched by /ro/<star><star> */
	ck_errno(X(X_CHMOD, M("ro"), NULL), 0);
}
END_TEST

START_TEST(act_deny_create)
{
	mkdirp(L("nocreate"), 0777);
	mkfile(L("nocreate/existing"), "e", 0644);
	mkfile(L("outer"), "o", 0644);
	fs_mount("actions");
	ck_errno(X(X_CREAT, M("nocreate/a"), NULL), EPERM);
	ck_errno(X(X_OPEN_EXCL, M("nocreate/a"), NULL), EPERM);
	ck_errno(X(X_MKDIR, M("nocreate/a"), NULL), EPERM);
	ck_errno(X(X_MKNOD, M("nocreate/a"), NULL), EPERM);
	ck_errno(X(X_MKFIFO, M("nocreate/a"), NULL), EPERM);
	ck_errno(X(X_SYMLINK, M("nocreate/a"), "x"), EPERM);
	ck_errno(X(X_LINK, M("outer"), M("nocreate/a")), EPERM);
	ck_errno(XA(1000, X_CREAT, M("nocreate/a"), NULL), EPERM);
	ck_assert(!exists(L("nocreate/a")));
	/* an existing name opens for writing; moving a file in is `rename` */
	ck_errno(X(X_WRITE, M("nocreate/existing"), "w"), 0);
	ck_errno(X(X_RENAME, M("outer"), M("nocreate/moved")), 0);
	ck_assert(exists(L("nocreate/moved")));
}
END_TEST

START_TEST(act_deny_delete_rename)
{
	mkdirp(L("nodelete/d"), 0755);
	mkfile(L("nodelete/f"), "f", 0644);
	mkfile(L("nodelete/g"), "g", 0644);
	mkdirp(L("norename"), 0755);
	mkfile(L("norename/f"), "f", 0644);
	mkfile(L("other"), "o", 0644);
	fs_mount("actions");
	ck_errno(X(X_UNLINK, M("nodelete/f"), NULL), EACCES);
	ck_errno(X(X_RMDIR, M("nodelete/d"), NULL), EACCES);
	ck_assert(exists(L("nodelete/f")) && exists(L("nodelete/d")));
	/* renaming away or replacing by rename is `rename`, not `delete` */
	ck_errno(X(X_RENAME, M("nodelete/g"), M("g2")), 0);
	ck_errno(X(X_RENAME, M("other"), M("nodelete/f")), 0);

	ck_errno(X(X_RENAME, M("norename/f"), M("f2")), EXDEV);
	ck_errno(X(X_RENAME, M("g2"), M("norename/f")), EXDEV);
	ck_errno(X(X_RENAME, M("g2"), M("norename/new")), EXDEV);
	ck_errno(X(X_RENAME_EXCHANGE, M("g2"), M("norename/f")), EXDEV);
	ck_assert(exists(L("norename/f")) && exists(L("g2")));
	ck_errno(X(X_LINK, M("g2"), M("norename/l")), 0);
	ck_errno(X(X_UNLINK, M("norename/f"), NULL), 0);
}
END_TEST

START_TEST(act_deny_setattr)
{
	struct stat st;
	int fd;

	mkdirp(L("nosetattr"), 0755);
	mkfile(L("nosetattr/f"), "data", 0644);
	fs_mount("actions");
	ck_errno(X(X_CHMOD, M("nosetattr/f"), NULL), EPERM);
	ck_errno(X(X_CHOWN, M("nosetattr/f"), NULL), EPERM);
	ck_errno(X(X_TRUNCATE, M("nosetattr/f"), NULL), EPERM);
	ck_errno(X(X_UTIMENS, M("nosetattr/f"), NULL), EPERM);
	ck_errno(X(X_SETXATTR, M("nosetattr/f"), NULL), EPERM);
	ck_errno(X(X_REMOVEXATTR, M("nosetattr/f"), NULL), EPERM);
	fd = open(M("nosetattr/f"), O_RDWR);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(ftruncate(fd, 1), -1);
	ck_errno(errno, EPERM);
	ck_assert_int_eq(pwrite(fd, "DA", 2, 0), 2); /* writing data is `write` */
	close(fd);
	ck_assert_int_eq(stat(L("nosetattr/f"), &st), 0);
	ck_assert_int_eq(st.st_mode & 07777, 0644);
	ck_assert_int_eq(st.st_size, 4);
	ck_errno(X(X_GETXATTR, M("nosetattr/f"), NULL), ENODATA);
}
END_TEST

START_TEST(act_deny_read_classes)
{
	char list[256], buf[16];
	int fd;

	mkdirp(L("nolist"), 0755);
	mkfile(L("nolist/f"), "f", 0644);
	mkdirp(L("nolookup"), 0755);
	mkfile(L("nolookup/f"), "f", 0644);
	mkfile(L("noopen"), "o", 0644);
	mkfile(L("noread"), "r", 0644);
	mkfile(L("nogetattr"), "g", 0644);
	mkfile(L("denyall"), "a", 0644);
	fs_mount("actions");

	ck_errno(X(X_LIST, M("nolist"), NULL), EACCES);
	ck_errno(X(X_STAT, M("nolist"), NULL), 0);
	ck_errno(X(X_READ, M("nolist/f"), NULL), 0);

	ck_errno(X(X_STAT, M("nolookup"), NULL), EACCES);
	ck_errno(X(X_STAT, M("nolookup/f"), NULL), EACCES);
	ck_errno(X(X_CHDIR, M("nolookup"), NULL), EACCES);

	ck_errno(X(X_OPEN_R, M("noopen"), NULL), ENXIO);
	ck_errno(X(X_STAT, M("noopen"), NULL), 0);

	fd = open(M("noread"), O_RDONLY);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(read(fd, buf, sizeof(buf)), -1);
	ck_errno(errno, EIO);
	close(fd);
	ck_errno(X(X_WRITE, M("noread"), "w"), 0);

	ck_errno(X(X_STAT, M("nogetattr"), NULL), EPERM);
	ck_errno(X(X_GETXATTR, M("nogetattr"), NULL), EPERM);
	ck_errno(X(X_LISTXATTR, M("nogetattr"), NULL), EPERM);
	ck_errno(X(X_READ, M("nogetattr"), NULL), 0);

	ck_errno(X(X_STAT, M("denyall"), NULL), EBUSY);
	ck_errno(X(X_READ, M("denyall"), NULL), EBUSY);

	/* denied entries are still listed */
	ck_assert_int_ge(listdir(W.mnt, list, sizeof(list)), 0);
	ck_assert_msg(list_has(list, "nolookup") && list_has(list, "denyall") && list_has(list, "noopen"),
		      "listing [%s]", list);
}
END_TEST

START_TEST(act_deny_numeric_and_hide_wins)
{
	char list[256];

	mkdirp(L("num"), 0755);
	mkfile(L("num/f"), "n", 0644);
	mkfile(L("both"), "b", 0644);
	fs_mount("actions");
	ck_errno(X(X_WRITE, M("num/f"), "x"), EDQUOT);
	ck_errno(X(X_STAT, M("both"), NULL), ENOENT);
	ck_errno(X(X_READ, M("both"), NULL), ENOENT);
	ck_errno(X(X_UNLINK, M("both"), NULL), ENOENT);
	ck_errno(X(X_CREAT, M("both"), NULL), EACCES);
	ck_assert_int_ge(listdir(W.mnt, list, sizeof(list)), 0);
	ck_assert_msg(!list_has(list, "both"), "listing [%s]", list);
}
END_TEST

static void want_attr(const char *path, uid_t uid, gid_t gid, mode_t mode)
{
	struct stat st;
	int fd;

	ck_assert_msg(stat(path, &st) == 0, "stat %s: %s", path, strerror(errno));
	ck_assert_msg(st.st_uid == uid && st.st_gid == gid && st.st_mode == mode,
		      "stat %s: %u:%u %o, want %u:%u %o", path, (unsigned)st.st_uid, (unsigned)st.st_gid,
		      st.st_mode, (unsigned)uid, (unsigned)gid, mode);
	fd = open(path, O_RDONLY);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(fstat(fd, &st), 0);
	ck_assert_msg(st.st_uid == uid && st.st_gid == gid && st.st_mode == mode,
		      "fstat %s: %u:%u %o, want %u:%u %o", path, (unsigned)st.st_uid, (unsigned)st.st_gid,
		      st.st_mode, (unsigned)uid, (unsigned)gid, mode);
	close(fd);
}

START_TEST(act_attr)
{
	struct stat st;
	char list[256];

	mkdirp(L("attrs/d"), 0755);
	mkfile(L("attrs/f"), "f", 0644);
	mkfile(L("attrs/keep"), "k", 0600);
	mkdirp(L("attrs2"), 0755);
	mkfile(L("attrs2/f"), "f", 0644);
	mkdirp(L("attrs3"), 0755);
	mkfile(L("attrs3/a"), "a", 0600);
	mkfile(L("attrs3/b"), "b", 0777);
	mkdirp(L("byowner"), 0755);
	mkfile(L("byowner/m"), "m", 0644);
	xchown(L("byowner/m"), 1000, 1000);
	mkfile(L("byowner/r"), "r", 0644);
	fs_mount("actions");
	want_attr(M("attrs/f"), 4242, 4343, S_IFREG | 0640);
	want_attr(M("attrs/d"), 4242, 4343, S_IFDIR | 0750);
	want_attr(M("attrs/keep"), 4242, 4343, S_IFREG | 0600); /* the first applying attr rule */
	want_attr(M("attrs2/f"), 0, 0, S_IFREG | 0611);
	want_attr(M("attrs3/a"), 0, 0, S_IFREG | 0444);
	want_attr(M("attrs3/b"), 0, 0, S_IFREG | 0555);
	want_attr(M("byowner/m"), 1000, 1000, S_IFREG | 0700);
	want_attr(M("byowner/r"), 0, 0, S_IFREG | 0644);
	want_attr(M("attrs"), 0, 0, S_IFDIR | 0755);
	/* the lower entries are unchanged */
	ck_assert_int_eq(stat(L("attrs/f"), &st), 0);
	ck_assert(st.st_uid == 0 && (st.st_mode & 07777) == 0644);
	/* after a listing (readdirplus), the same attributes */
	ck_assert_int_ge(listdir(M("attrs"), list, sizeof(list)), 0);
	ck_assert_str_eq(list, "d\nf\nkeep");
	want_attr(M("attrs/f"), 4242, 4343, S_IFREG | 0640);
	/* attr neither grants nor refuses access: the lower's 0644 decides */
	ck_errno(XA(1000, X_READ, M("attrs/f"), NULL), 0);
	ck_errno(XA(1000, X_READ, M("attrs2/f"), NULL), 0);
	ck_errno(XA(1000, X_READ, M("attrs/keep"), NULL), EACCES);
	/* a chmod through the view changes the lower; the view still rewrites */
	ck_assert_int_eq(chmod(M("attrs2/f"), 0600), 0);
	ck_assert_int_eq(stat(L("attrs2/f"), &st), 0);
	ck_assert_int_eq(st.st_mode & 07777, 0600);
	want_attr(M("attrs2/f"), 0, 0, S_IFREG | 0611);
}
END_TEST

/* A name the policy hides once it exists (a hide that reads the type) is
 * made, and from then on hidden: the create's answer is not kept. */
START_TEST(act_hide_after_create)
{
	mkdirp(L("newdirs"), 0755);
	fs_mount("actions");
	ck_errno(X(X_MKDIR, M("newdirs/d"), NULL), 0);
	ck_assert(exists(L("newdirs/d")));
	ck_errno(X(X_ACCESS, M("newdirs/d"), NULL), ENOENT);
	ck_errno(X(X_STAT, M("newdirs/d"), NULL), ENOENT);
	ck_errno(X(X_MKDIR, M("newdirs/d/sub"), NULL), ENOENT);
	ck_errno(X(X_CREAT, M("newdirs/f"), NULL), 0);
	ck_errno(X(X_STAT, M("newdirs/f"), NULL), 0);
}
END_TEST

TCase *tc_actions(void)
{
	TCase *tc = fs_tcase("actions", 60);

	tcase_add_test(tc, act_hide);
	tcase_add_test(tc, act_deny_write);
	tcase_add_test(tc, act_deny_create);
	tcase_add_test(tc, act_deny_delete_rename);
	tcase_add_test(tc, act_deny_setattr);
	tcase_add_test(tc, act_deny_read_classes);
	tcase_add_test(tc, act_deny_numeric_and_hide_wins);
	tcase_add_test(tc, act_attr);
	tcase_add_test(tc, act_hide_after_create);
	return tc;
}
