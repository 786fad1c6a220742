// SPDX-License-Identifier: GPL-2.0
/*
 * Rename policies (policies/renames.fbp), against docs/language.md
 * "Renames": shown names map back to stored names for every operation, new
 * names land on the stored names (checked in the lower), and collisions
 * eclipse as documented.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "fstest.h"

static void want_list(const char *dir, const char *want)
{
	char list[8192];

	ck_assert_msg(listdir(dir, list, sizeof(list)) >= 0, "cannot list %s: %s", dir, strerror(errno));
	ck_assert_msg(!strcmp(list, want), "%s lists [%s], want [%s]", dir, list, want);
}

static void want_content(const char *path, const char *want)
{
	char buf[256];
	ssize_t n = slurp(path, buf, sizeof(buf));

	ck_assert_msg(n >= 0, "cannot read %s: %s", path, errname((int)-n));
	ck_assert_msg(!strcmp(buf, want), "%s holds '%s', want '%s'", path, buf, want);
}

START_TEST(ren_lookup_table)
{
	mkdirp(L("m"), 0755);
	mkfile(L("m/a.jpeg"), "a.jpeg", 0644);
	mkfile(L("m/a.png"), "a.png", 0644);
	mkfile(L("m/old_a.jpeg"), "old_a.jpeg", 0644);
	fs_mount("renames");
	want_list(M("m"), "a.jpg\nold_a.jpg\nold_a.png");
	want_content(M("m/a.jpg"), "a.jpeg");
	want_content(M("m/old_a.png"), "a.png");
	want_content(M("m/old_a.jpg"), "old_a.jpeg");
	ck_errno(X(X_STAT, M("m/a.jpeg"), NULL), ENOENT);
	ck_errno(X(X_STAT, M("m/old_a.jpeg"), NULL), ENOENT);
	ck_errno(X(X_STAT, M("m/a.png"), NULL), ENOENT);
	ck_errno(X(X_CREAT, M("m/new.jpg"), NULL), 0);
	ck_assert(exists(L("m/new.jpeg")) && !exists(L("m/new.jpg")));
	ck_errno(X(X_CREAT, M("m/new.png"), NULL), EACCES);
	ck_errno(X(X_MKDIR, M("m/new.png"), NULL), EACCES);
	ck_assert(!exists(L("m/new.png")));
	ck_errno(X(X_CREAT, M("m/old_new.png"), NULL), 0);
	ck_assert(exists(L("m/new.png")) && !exists(L("m/old_new.png")));
	want_list(M("m"), "a.jpg\nnew.jpg\nold_a.jpg\nold_a.png\nold_new.png");
}
END_TEST

START_TEST(ren_operations)
{
	struct stat st;
	char buf[64];
	ssize_t n;

	mkdirp(L("m"), 0755);
	mkfile(L("m/a.jpeg"), "a", 0644);
	mkfile(L("top.jpeg"), "top", 0644);
	fs_mount("renames");
	ck_errno(X(X_MKDIR, M("m/old_dir"), NULL), 0);
	ck_assert_int_eq(stat(L("m/dir"), &st), 0);
	ck_assert(S_ISDIR(st.st_mode));
	ck_errno(X(X_SYMLINK, M("m/old_sl"), "a.jpeg"), 0);
	n = readlink(L("m/sl"), buf, sizeof(buf) - 1);
	ck_assert_int_eq(n, 6);
	n = readlink(M("m/old_sl"), buf, sizeof(buf) - 1);
	ck_assert_int_eq(n, 6);
	buf[n] = '\0';
	ck_assert_str_eq(buf, "a.jpeg"); /* targets are not rewritten */
	ck_errno(X(X_LINK, M("m/a.jpg"), M("m/b.jpg")), 0);
	ck_assert_int_eq(stat(L("m/b.jpeg"), &st), 0);
	ck_assert_int_eq(st.st_nlink, 2);
	ck_errno(X(X_RENAME, M("m/b.jpg"), M("m/c.jpg")), 0);
	ck_assert(exists(L("m/c.jpeg")) && !exists(L("m/b.jpeg")));
	ck_errno(X(X_RENAME, M("m/c.jpg"), M("m/c.txt")), EACCES);
	ck_errno(X(X_RENAME, M("m/c.jpg"), M("m/old_c.txt")), 0);
	ck_assert(exists(L("m/c.txt")) && !exists(L("m/c.jpeg")));
	ck_errno(X(X_RENAME, M("top.jpeg"), M("m/top.jpg")), 0); /* moved in */
	ck_assert(exists(L("m/top.jpeg")));
	want_content(M("m/top.jpg"), "top");
	ck_errno(X(X_RENAME_NOREPLACE, M("m/top.jpg"), M("m/a.jpg")), EEXIST);
	ck_errno(X(X_RENAME_EXCHANGE, M("m/top.jpg"), M("m/a.jpg")), 0);
	want_content(L("m/a.jpeg"), "top");
	ck_errno(X(X_UNLINK, M("m/old_c.txt"), NULL), 0);
	ck_assert(!exists(L("m/c.txt")));
	ck_errno(X(X_RMDIR, M("m/old_dir"), NULL), 0);
	ck_assert(!exists(L("m/dir")));
	ck_errno(X(X_CHMOD, M("m/a.jpg"), NULL), 0);
	ck_assert_int_eq(stat(L("m/a.jpeg"), &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0600);
	want_list(M("m"), "a.jpg\nold_sl\ntop.jpg");
}
END_TEST

/*
 * One lower file can be two inodes of the view (one per policy state): here
 * an open file keeps the inode of its old place after a rename into /m,
 * while a lookup in /m makes the other. A rename must move the names of
 * both, or an operation on the open file (fchmod has no file handle)
 * lands on whatever file took the old name.
 */
START_TEST(ren_open_file_follows_renames)
{
	struct stat st;
	int fd;

	mkdirp(L("m"), 0755);
	mkfile(L("m/a.jpeg"), "a", 0644);
	mkfile(L("top.jpeg"), "top", 0644);
	fs_mount("renames");
	fd = open(M("top.jpeg"), O_RDONLY);
	ck_assert_int_ge(fd, 0);
	ck_errno(X(X_RENAME, M("top.jpeg"), M("m/top.jpg")), 0);
	want_content(M("m/top.jpg"), "top");
	ck_errno(X(X_RENAME_EXCHANGE, M("m/top.jpg"), M("m/a.jpg")), 0);
	want_content(L("m/a.jpeg"), "top");
	ck_assert_int_eq(fchmod(fd, 0600), 0);
	ck_assert_int_eq(stat(L("m/a.jpeg"), &st), 0);
	ck_assert_msg((st.st_mode & 0777) == 0600, "fchmod of the open file left it %o", st.st_mode & 0777);
	ck_assert_int_eq(stat(L("m/top.jpeg"), &st), 0);
	ck_assert_msg((st.st_mode & 0777) == 0644, "fchmod of the open file changed another file to %o",
		      st.st_mode & 0777);
	ck_assert_int_eq(fstat(fd, &st), 0);
	ck_assert_int_eq(st.st_size, 3);
	ck_errno(X(X_UNLINK, M("m/a.jpg"), NULL), 0);
	ck_assert_int_eq(fchmod(fd, 0640), 0);
	ck_assert_int_eq(stat(L("m/top.jpeg"), &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0644);
	close(fd);
}
END_TEST

START_TEST(ren_collision)
{
	mkdirp(L("docs"), 0755);
	mkfile(L("docs/a.txt"), "a.txt", 0644);
	mkfile(L("docs/a.txt.bak"), "a.txt.bak", 0644);
	mkfile(L("docs/b.md"), "b.md", 0644);
	fs_mount("renames");
	want_list(M("docs"), "a.txt.bak\nb.md");
	want_content(M("docs/a.txt.bak"), "a.txt");
	ck_errno(X(X_STAT, M("docs/a.txt"), NULL), ENOENT);
	ck_errno(X(X_CREAT, M("docs/c.txt.bak"), NULL), 0);
	ck_assert(exists(L("docs/c.txt")) && !exists(L("docs/c.txt.bak")));
	ck_errno(X(X_CREAT, M("docs/c.txt"), NULL), EACCES);
	ck_errno(X(X_CREAT, M("docs/d.md"), NULL), 0);
	ck_assert(exists(L("docs/d.md")));
	/* the shown name belongs to the renamed entry even when it is gone:
	 * the stored a.txt.bak stays eclipsed */
	ck_errno(X(X_UNLINK, M("docs/a.txt.bak"), NULL), 0);
	ck_assert(!exists(L("docs/a.txt")) && exists(L("docs/a.txt.bak")));
	ck_errno(X(X_STAT, M("docs/a.txt.bak"), NULL), ENOENT);
	want_list(M("docs"), "b.md\nc.txt.bak\nd.md");
	/* creating the shown name again lands on the stored a.txt */
	ck_errno(X(X_CREAT, M("docs/a.txt.bak"), NULL), 0);
	ck_assert(exists(L("docs/a.txt")));
	want_content(L("docs/a.txt.bak"), "a.txt.bak");
}
END_TEST

START_TEST(ren_suffix_tree)
{
	char name[300];

	mkdirp(L("x/d"), 0755);
	mkfile(L("x/d/f"), "f", 0644);
	mkfile(L("x/d/f.x"), "f.x", 0644);
	fs_mount("renames");
	want_list(M("x"), "d.x");
	want_list(M("x/d.x"), "f.x\nf.x.x");
	want_content(M("x/d.x/f.x"), "f");
	want_content(M("x/d.x/f.x.x"), "f.x");
	ck_errno(X(X_STAT, M("x/d"), NULL), ENOENT);
	ck_errno(X(X_CREAT, M("x/d.x/new.x"), NULL), 0);
	ck_assert(exists(L("x/d/new")));
	ck_errno(X(X_CREAT, M("x/d.x/new"), NULL), EACCES);
	ck_errno(X(X_MKDIR, M("x/n.x"), NULL), 0);
	ck_assert(exists(L("x/n")));
	ck_errno(X(X_RENAME, M("x/d.x/new.x"), M("x/n.x/moved.x")), 0);
	ck_assert(exists(L("x/n/moved")));

	/* long names: a shown name may not pass 255 bytes */
	memset(name, 'A', 253);
	name[253] = '\0';
	mkfile(L("x/%s", name), "253", 0644);
	memset(name, 'B', 254);
	name[254] = '\0';
	mkfile(L("x/%s", name), "254", 0644);
	want_content(M("x/%s", name), "254"); /* shown as stored */
	memset(name, 'A', 253);
	strcpy(name + 253, ".x");
	want_content(M("x/%s", name), "253");
	{
		char want[600];

		memset(want, 'A', 253);
		strcpy(want + 253, ".x\n");
		memset(want + 256, 'B', 254);
		strcpy(want + 510, "\nd.x\nn.x");
		want_list(M("x"), want);
	}
}
END_TEST

TCase *tc_renames(void)
{
	TCase *tc = fs_tcase("renames", 60);

	tcase_add_test(tc, ren_lookup_table);
	tcase_add_test(tc, ren_operations);
	tcase_add_test(tc, ren_open_file_follows_renames);
	tcase_add_test(tc, ren_collision);
	tcase_add_test(tc, ren_suffix_tree);
	return tc;
}
