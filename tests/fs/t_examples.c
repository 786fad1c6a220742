// SPDX-License-Identifier: GPL-2.0
/*
 * Each example of examples/NAME/policy.fbp, mounted (compiled by the build
 * as ex_NAME.o), against what its README shows a user.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "fstest.h"

static struct xres res;

static int as(uid_t uid, gid_t gid, enum xop_kind k, const char *a1, const char *a2)
{
	struct xop op = { k, a1, a2 };

	return xop_as(uid, gid, &op, &res);
}

static void want_list_as(uid_t uid, const char *dir, const char *want)
{
	ck_errno(as(uid, uid, X_LIST, dir, NULL), 0);
	ck_assert_msg(!strcmp(res.data, want), "uid %u lists %s as [%s], want [%s]", (unsigned)uid, dir,
		      res.data, want);
}

START_TEST(ex_suffix_rename)
{
	mkdirp(L("docs"), 0777);
	mkfile(L("docs/report.txt"), "report", 0644);
	ck_assert_int_eq(symlink("report.txt", L("docs/link")), 0);
	fs_mount("ex_suffix-rename");
	want_list_as(0, W.mnt, "docs.x");
	want_list_as(0, M("docs.x"), "link.x\nreport.txt.x");
	ck_errno(as(0, 0, X_READ, M("docs.x/report.txt.x"), NULL), 0);
	ck_assert_str_eq(res.data, "report");
	ck_errno(X(X_STAT, M("docs"), NULL), ENOENT);
	ck_errno(X(X_STAT, M("docs.x/report.txt"), NULL), ENOENT);
	/* the symlink still points to report.txt, which the view does not have */
	ck_errno(as(0, 0, X_READLINK, M("docs.x/link.x"), NULL), 0);
	ck_assert_str_eq(res.data, "report.txt");
	ck_errno(X(X_STAT, M("docs.x/link.x"), NULL), ENOENT);
	ck_errno(X(X_CREAT, M("docs.x/new.x"), NULL), 0);
	ck_assert(exists(L("docs/new")));
	ck_errno(X(X_CREAT, M("docs.x/other"), NULL), EACCES);
	ck_errno(X(X_MKDIR, M("sub.x"), NULL), 0);
	ck_assert(exists(L("sub")));
}
END_TEST

START_TEST(ex_private_dotfiles)
{
	chmod(W.lower, 0777);
	mkfile(L(".bash_history"), "h", 0600);
	xchown(L(".bash_history"), 1001, 1001);
	mkfile(L(".gitconfig"), "g", 0644);
	xchown(L(".gitconfig"), 1000, 1000);
	mkdirp(L(".ssh"), 0700);
	xchown(L(".ssh"), 1000, 1000);
	mkfile(L("report.pdf"), "r", 0644);
	xchown(L("report.pdf"), 1000, 1000);
	mkfile(L("todo.txt"), "t", 0664);
	xchown(L("todo.txt"), 1001, 1001);
	mkdirp(L("proj"), 0777);
	mkdirp(L("proj/.git"), 0755);
	xchown(L("proj/.git"), 1001, 1001);
	fs_mount("ex_private-dotfiles");
	want_list_as(1000, W.mnt, ".gitconfig\n.ssh\nproj\nreport.pdf\ntodo.txt");
	want_list_as(1001, W.mnt, ".bash_history\nproj\nreport.pdf\ntodo.txt");
	want_list_as(0, W.mnt, ".bash_history\n.gitconfig\n.ssh\nproj\nreport.pdf\ntodo.txt");
	want_list_as(1000, M("proj"), "");
	want_list_as(1001, M("proj"), ".git");
	ck_errno(as(1000, 1000, X_STAT, M(".bash_history"), NULL), ENOENT);
	ck_errno(as(1001, 1001, X_STAT, M(".bash_history"), NULL), 0);
	ck_errno(as(1001, 1001, X_STAT, M(".ssh"), NULL), ENOENT);
	/* a new dot name has no owner yet: only root creates one */
	ck_errno(as(1000, 1000, X_CREAT, M(".newdot"), NULL), EACCES);
	ck_errno(as(1000, 1000, X_CREAT, M(".bash_history"), NULL), EACCES);
	ck_errno(as(1000, 1000, X_CREAT, M("plain"), NULL), 0);
	ck_errno(as(0, 0, X_CREAT, M(".rootdot"), NULL), 0);
	ck_assert(exists(L(".rootdot")) && !exists(L(".newdot")));
}
END_TEST

START_TEST(ex_app_private_data)
{
	char audit[PATH_MAX + 32], log[16384];

	mkdirp(L("Android/data/com.example.camera/files"), 0771);
	xchown(L("Android/data/com.example.camera"), 10057, 10057);
	mkdirp(L("Android/data/com.example.mail/files"), 0771);
	xchown(L("Android/data/com.example.mail"), 10061, 10061);
	chmod(L("Android/data/com.example.camera"), 0771);
	chmod(L("Android/data/com.example.mail"), 0771);
	chmod(L("Android/data"), 0777);
	mkdirp(L("DCIM/Camera"), 0777);
	mkfile(L("DCIM/Camera/IMG_0001.jpg"), "img", 0666);
	mkdirp(L("secure"), 0777);
	mkfile(L("secure/keys.db"), "keys", 0644);
	snprintf(audit, sizeof(audit), "audit=audit:%s", P("audit.log"));
	fs_mount("ex_app-private-data", "--handler", audit);

	want_list_as(10057, M("Android/data"), "com.example.camera");
	want_list_as(10061, M("Android/data"), "com.example.mail");
	want_list_as(0, M("Android/data"), "com.example.camera\ncom.example.mail");
	ck_errno(as(10057, 10057, X_STAT, M("Android/data/com.example.mail/files"), NULL), ENOENT);
	ck_errno(as(10057, 10057, X_MKDIR, M("Android/data/com.example.mail"), NULL), EACCES);
	ck_errno(as(10057, 10057, X_MKDIR, M("Android/data/com.example.new"), NULL), EACCES);
	ck_errno(as(10057, 10057, X_STAT, M("Android/data/com.example.camera/files"), NULL), 0);

	ck_errno(as(10057, 10057, X_CREAT, M("DCIM/Camera/shot.jpg"), NULL), EACCES);
	ck_errno(as(10057, 10057, X_UNLINK, M("DCIM/Camera/IMG_0001.jpg"), NULL), EACCES);
	ck_errno(as(10057, 10057, X_RENAME, M("DCIM"), M("DCIM2")), EACCES);
	ck_errno(as(10057, 10057, X_READ, M("DCIM/Camera/IMG_0001.jpg"), NULL), 0);
	ck_errno(as(10057, 9997, X_CREAT, M("DCIM/Camera/shot.jpg"), NULL), 0);
	ck_errno(as(10057, 1023, X_CREAT, M("DCIM/Camera/shot2.jpg"), NULL), 0);
	ck_assert(exists(L("DCIM/Camera/shot.jpg")) && exists(L("DCIM/Camera/IMG_0001.jpg")));

	ck_errno(as(10057, 10057, X_READ, M("secure/keys.db"), NULL), 0);
	ck_assert_int_ge(slurp(P("audit.log"), log, sizeof(log)), 0);
	ck_assert_msg(strstr(log, "\"path\":\"/secure/keys.db\"") && strstr(log, "\"uid\":10057"),
		      "the audit log does not record the open of /secure/keys.db:\n%s", log);
}
END_TEST

START_TEST(ex_readonly_view)
{
	struct stat st;

	mkdirp(L("d"), 0777);
	mkfile(L("d/f"), "data", 0664);
	xchown(L("d/f"), 1000, 1000);
	fs_mount("ex_readonly-view");
	ck_errno(X(X_READ, M("d/f"), NULL), 0);
	ck_errno(X(X_OPEN_W, M("d/f"), NULL), EROFS);
	ck_errno(X(X_OPEN_TRUNC, M("d/f"), NULL), EROFS);
	ck_errno(X(X_CREAT, M("d/new"), NULL), EROFS);
	ck_errno(X(X_MKDIR, M("d/new"), NULL), EROFS);
	ck_errno(X(X_SYMLINK, M("d/new"), "f"), EROFS);
	ck_errno(X(X_LINK, M("d/f"), M("d/new")), EROFS);
	ck_errno(X(X_UNLINK, M("d/f"), NULL), EROFS);
	ck_errno(X(X_RMDIR, M("d"), NULL), EROFS);
	ck_errno(X(X_RENAME, M("d/f"), M("d/g")), EROFS);
	ck_errno(X(X_CHMOD, M("d/f"), NULL), EROFS);
	ck_errno(X(X_CHOWN, M("d/f"), NULL), EROFS);
	ck_errno(X(X_TRUNCATE, M("d/f"), NULL), EROFS);
	ck_errno(X(X_UTIMENS, M("d/f"), NULL), EROFS);
	ck_errno(X(X_SETXATTR, M("d/f"), NULL), EROFS);
	ck_assert_int_eq(stat(M("d/f"), &st), 0);
	ck_assert_msg(st.st_uid == 65534 && st.st_gid == 65534 && (st.st_mode & 07777) == 0444,
		      "d/f shows %u:%u %o", (unsigned)st.st_uid, (unsigned)st.st_gid, st.st_mode & 07777);
	ck_assert_int_eq(stat(M("d"), &st), 0);
	ck_assert_int_eq(st.st_mode & 07777, 0555);
	ck_assert_int_eq(stat(L("d/f"), &st), 0);
	ck_assert(st.st_uid == 1000 && (st.st_mode & 07777) == 0664 && st.st_size == 4);
}
END_TEST

START_TEST(ex_legacy_names)
{
	mkdirp(L("photos/2019"), 0777);
	mkfile(L("photos/2019/beach.jpeg"), "beach", 0644);
	mkfile(L("photos/2019/DSC_0042.JPEG"), "dsc", 0644);
	mkfile(L("photos/2019/map.png"), "map", 0644);
	mkfile(L("photos/2019/notes.txt"), "notes", 0644);
	mkfile(L("photos/top.jpeg"), "top", 0644);
	mkdirp(L("photos/q"), 0777);
	mkfile(L("photos/q/a.jpeg"), "a.jpeg", 0644);
	mkfile(L("photos/q/a.jpg"), "a.jpg", 0644);
	mkdirp(L("scans/2019"), 0777);
	mkfile(L("scans/0001.pdf"), "1", 0644);
	mkfile(L("scans/0002.pdf"), "2", 0644);
	mkfile(L("scans/SCAN_x"), "sx", 0644);
	mkfile(L("scans/a.jpeg"), "aj", 0644);
	fs_mount("ex_legacy-names");
	want_list_as(0, M("photos/2019"), "DSC_0042.JPG\nbeach.jpg\nmap.png\nnotes.txt");
	want_list_as(0, M("scans"), "SCAN_0001.pdf\nSCAN_0002.pdf\nSCAN_2019\nSCAN_SCAN_x\nSCAN_a.jpeg");
	want_list_as(0, M("photos"), "2019\nq\ntop.jpg");
	ck_errno(as(0, 0, X_READ, M("photos/2019/beach.jpg"), NULL), 0);
	ck_assert_str_eq(res.data, "beach");
	ck_errno(X(X_STAT, M("photos/2019/beach.jpeg"), NULL), ENOENT);
	ck_errno(X(X_CREAT, M("photos/2019/new.jpg"), NULL), 0);
	ck_assert(exists(L("photos/2019/new.jpeg")));
	ck_errno(X(X_CREAT, M("scans/x.pdf"), NULL), EACCES);
	ck_errno(X(X_CREAT, M("scans/SCAN_y.pdf"), NULL), 0);
	ck_assert(exists(L("scans/y.pdf")));
	ck_errno(as(0, 0, X_READ, M("scans/SCAN_SCAN_x"), NULL), 0);
	ck_assert_str_eq(res.data, "sx");
	/* the collision in photos/q: the renamed a.jpeg owns the name a.jpg */
	want_list_as(0, M("photos/q"), "a.jpg");
	ck_errno(as(0, 0, X_READ, M("photos/q/a.jpg"), NULL), 0);
	ck_assert_str_eq(res.data, "a.jpeg");
}
END_TEST

/* examples/handler: the gate.sh helper and the audit log. GATE_NOW fixes
 * the helper's clock (weekday, hour). */
static void handler_mount(const char *now)
{
	char gate[3 * PATH_MAX], audit[PATH_MAX + 32], dir[PATH_MAX];
	const char *src = getenv("FBPF_EXAMPLES_DIR");

	fmt(dir, sizeof(dir), "%s", src && *src ? src : FBPF_SOURCE_DIR "/examples");
	fmt(gate, sizeof(gate), "%s/handler/gate.sh", dir);
	ck_assert_msg(access(gate, R_OK) == 0,
		      "%s is missing: set FBPF_EXAMPLES_DIR to the examples directory", gate);
	fmt(gate, sizeof(gate), "gate=exec:sh %s/handler/gate.sh %s/handler/deny.list", dir, dir);
	fmt(audit, sizeof(audit), "audit=audit:%s", P("audit.log"));
	setenv("GATE_NOW", now, 1);
	fs_mount("ex_handler", "--handler", gate, "--handler", audit);
}

static void handler_lower(void)
{
	mkdirp(L("shared"), 0777);
	mkdirp(L("shared/payroll"), 0777);
	mkfile(L("shared/payroll/may.pdf"), "pay", 0666);
	mkfile(L("shared/site.key"), "key", 0666);
	mkfile(L("shared/notes.txt"), "notes", 0666);
	mkdirp(L("contracts"), 0755);
	mkfile(L("contracts/c1.pdf"), "c1", 0644);
}

START_TEST(ex_handler_office_hours)
{
	char log[16384];

	handler_lower();
	handler_mount("3 10");
	ck_errno(as(1000, 1000, X_READ, M("shared/payroll/may.pdf"), NULL), EACCES);
	ck_errno(as(1000, 1000, X_READ, M("shared/site.key"), NULL), EACCES);
	ck_errno(as(1000, 1000, X_READ, M("shared/notes.txt"), NULL), 0);
	ck_errno(as(1000, 1000, X_WRITE, M("shared/notes.txt"), "changed"), 0);
	ck_errno(as(1000, 1000, X_CREAT, M("shared/new.txt"), NULL), 0);
	ck_errno(as(0, 0, X_READ, M("shared/site.key"), NULL), 0);
	ck_errno(as(1000, 1000, X_READ, M("contracts/c1.pdf"), NULL), 0);
	ck_assert_int_ge(slurp(P("audit.log"), log, sizeof(log)), 0);
	ck_assert_msg(strstr(log, "\"path\":\"/contracts/c1.pdf\""), "the audit log lacks the open:\n%s", log);
	ck_assert(exists(L("shared/new.txt")));
}
END_TEST

START_TEST(ex_handler_weekend)
{
	handler_lower();
	handler_mount("6 10");
	ck_errno(as(1000, 1000, X_READ, M("shared/notes.txt"), NULL), 0);
	ck_errno(as(1000, 1000, X_WRITE, M("shared/notes.txt"), "changed"), EROFS);
	ck_errno(as(1000, 1000, X_CREAT, M("shared/new.txt"), NULL), EROFS);
	ck_errno(as(1000, 1000, X_UNLINK, M("shared/notes.txt"), NULL), EROFS);
	ck_errno(as(0, 0, X_WRITE, M("shared/notes.txt"), "root"), 0);
	ck_assert(!exists(L("shared/new.txt")));
}
END_TEST

TCase *tc_examples(void)
{
	TCase *tc = fs_tcase("examples", 60);

	tcase_add_test(tc, ex_suffix_rename);
	tcase_add_test(tc, ex_private_dotfiles);
	tcase_add_test(tc, ex_app_private_data);
	tcase_add_test(tc, ex_readonly_view);
	tcase_add_test(tc, ex_legacy_names);
	tcase_add_test(tc, ex_handler_office_hours);
	tcase_add_test(tc, ex_handler_weekend);
	return tc;
}
