// SPDX-License-Identifier: GPL-2.0
/*
 * Per-caller rules (policies/callers.fbp) as two different uids, 1000 (A)
 * and 1001 (B), in quick succession, well within any cache timeout: one
 * caller's answer never reaches the other through the kernel's dentry,
 * attribute or readdir caches (docs/language.md, "Caches").
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fstest.h"

#define A 1000
#define B 1001

static struct xres res;

static int as(uid_t uid, enum xop_kind k, const char *path)
{
	struct xop op = { k, path, NULL };

	return xop_as(uid, uid, &op, &res);
}

static void homes(void)
{
	mkdirp(L("home/a"), 0755);
	mkfile(L("home/a/f"), "a's", 0644);
	xchown(L("home/a"), A, A);
	mkdirp(L("home/b"), 0755);
	mkfile(L("home/b/f"), "b's", 0644);
	xchown(L("home/b"), B, B);
	fs_mount("callers");
}

START_TEST(callers_hide_stat_sequence)
{
	int round;

	homes();
	for (round = 0; round < 3; round++) {
		ck_errno(as(A, X_STAT, M("home/a")), 0);
		ck_errno(as(B, X_STAT, M("home/a")), ENOENT);
		ck_errno(as(B, X_STAT, M("home/b")), 0);
		ck_errno(as(A, X_STAT, M("home/b")), ENOENT);
		ck_errno(as(A, X_READ, M("home/a/f")), 0);
		ck_assert_str_eq(res.data, "a's");
		ck_errno(as(B, X_READ, M("home/a/f")), ENOENT);
		ck_errno(as(A, X_READ, M("home/b/f")), ENOENT);
		ck_errno(as(B, X_READ, M("home/b/f")), 0);
		ck_errno(as(0, X_STAT, M("home/a/f")), 0);
		ck_errno(as(0, X_STAT, M("home/b/f")), 0);
	}
}
END_TEST

/* The first to ask is the one who may not see it (a negative entry first). */
START_TEST(callers_hide_negative_first)
{
	homes();
	ck_errno(as(B, X_STAT, M("home/a/f")), ENOENT);
	ck_errno(as(B, X_STAT, M("home/a")), ENOENT);
	ck_errno(as(A, X_STAT, M("home/a/f")), 0);
	ck_errno(as(B, X_STAT, M("home/a/f")), ENOENT);
	ck_errno(as(A, X_CHDIR, M("home/a")), 0);
	ck_errno(as(B, X_CHDIR, M("home/a")), ENOENT);
}
END_TEST

START_TEST(callers_hide_listing)
{
	int round;

	homes();
	for (round = 0; round < 3; round++) {
		ck_errno(as(A, X_LIST, M("home")), 0);
		ck_assert_str_eq(res.data, "a");
		ck_errno(as(B, X_LIST, M("home")), 0);
		ck_assert_str_eq(res.data, "b");
		ck_errno(as(0, X_LIST, M("home")), 0);
		ck_assert_str_eq(res.data, "a\nb");
	}
}
END_TEST

START_TEST(callers_fixed_uid_and_attrs)
{
	int round;

	mkfile(L("onlya"), "A", 0644);
	mkdirp(L("attrs"), 0755);
	mkfile(L("attrs/f"), "f", 0644);
	fs_mount("callers");
	for (round = 0; round < 2; round++) {
		ck_errno(as(A, X_STAT, M("onlya")), 0);
		ck_errno(as(B, X_STAT, M("onlya")), ENOENT);
		ck_errno(as(B, X_LIST, W.mnt), 0);
		ck_assert_msg(!list_has(res.data, "onlya"), "B lists [%s]", res.data);
		ck_errno(as(A, X_LIST, W.mnt), 0);
		ck_assert_msg(list_has(res.data, "onlya"), "A lists [%s]", res.data);

		ck_errno(as(A, X_STAT, M("attrs/f")), 0);
		ck_assert_msg(res.mode == (S_IFREG | 0600) && res.uid == 0, "A sees %o uid %u", res.mode,
			      (unsigned)res.uid);
		ck_errno(as(B, X_STAT, M("attrs/f")), 0);
		ck_assert_msg(res.mode == (S_IFREG | 0644) && res.uid == 7, "B sees %o uid %u", res.mode,
			      (unsigned)res.uid);
		ck_errno(as(0, X_STAT, M("attrs/f")), 0);
		ck_assert_msg(res.mode == (S_IFREG | 0644) && res.uid == 0, "root sees %o uid %u", res.mode,
			      (unsigned)res.uid);
		/* after a listing (readdirplus fills the attribute cache) */
		ck_errno(as(B, X_LIST, M("attrs")), 0);
		ck_errno(as(A, X_STAT, M("attrs/f")), 0);
		ck_assert_msg(res.mode == (S_IFREG | 0600) && res.uid == 0, "A sees %o uid %u after B's listing",
			      res.mode, (unsigned)res.uid);
		ck_errno(as(A, X_LIST, M("attrs")), 0);
		ck_errno(as(B, X_STAT, M("attrs/f")), 0);
		ck_assert_msg(res.mode == (S_IFREG | 0644) && res.uid == 7, "B sees %o uid %u after A's listing",
			      res.mode, (unsigned)res.uid);
	}
}
END_TEST

START_TEST(callers_rename_and_deny)
{
	int round;

	mkdirp(L("ren"), 0755);
	mkfile(L("ren/x"), "x", 0644);
	mkdirp(L("den"), 0755);
	mkfile(L("den/f"), "f", 0644);
	fs_mount("callers");
	for (round = 0; round < 2; round++) {
		ck_errno(as(B, X_LIST, M("ren")), 0);
		ck_assert_str_eq(res.data, "x.b");
		ck_errno(as(A, X_LIST, M("ren")), 0);
		ck_assert_str_eq(res.data, "x");
		ck_errno(as(B, X_READ, M("ren/x.b")), 0);
		ck_assert_str_eq(res.data, "x");
		ck_errno(as(A, X_STAT, M("ren/x.b")), ENOENT);
		ck_errno(as(A, X_READ, M("ren/x")), 0);
		ck_errno(as(B, X_STAT, M("ren/x")), ENOENT);

		ck_errno(as(A, X_READ, M("den/f")), EPERM);
		ck_errno(as(B, X_READ, M("den/f")), 0);
		ck_errno(as(A, X_READ, M("den/f")), EPERM);
	}
}
END_TEST

/* A and B at the same time, for a second: every answer is the caller's own. */
START_TEST(callers_concurrent)
{
	int *wrong = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	pid_t pids[2];
	int i;

	homes();
	ck_assert(wrong != MAP_FAILED);
	for (i = 0; i < 2; i++) {
		pids[i] = fork();
		ck_assert_int_ge(pids[i], 0);
		if (pids[i] == 0) {
			uid_t me = i ? B : A;
			struct timespec t0, t;
			char p_mine[PATH_MAX], p_other[PATH_MAX];
			struct stat st;

			if (setgroups(0, NULL) || setresgid(me, me, me) || setresuid(me, me, me))
				_exit(99);
			fmt(p_mine, sizeof(p_mine), "%s/home/%s/f", W.mnt, i ? "b" : "a");
			fmt(p_other, sizeof(p_other), "%s/home/%s/f", W.mnt, i ? "a" : "b");
			clock_gettime(CLOCK_MONOTONIC, &t0);
			do {
				if (stat(p_mine, &st) != 0) {
					if (!wrong[i])
						wrong[6 + i] = errno;
					__atomic_add_fetch(&wrong[i], 1, __ATOMIC_RELAXED);
				}
				if (stat(p_other, &st) == 0 || errno != ENOENT)
					__atomic_add_fetch(&wrong[2 + i], 1, __ATOMIC_RELAXED);
				__atomic_add_fetch(&wrong[4 + i], 1, __ATOMIC_RELAXED);
				clock_gettime(CLOCK_MONOTONIC, &t);
			} while ((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000 < 1000);
			_exit(0);
		}
	}
	for (i = 0; i < 2; i++) {
		int st;

		waitpid(pids[i], &st, 0);
		ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "caller %d failed", i);
	}
	for (i = 0; i < 2; i++) {
		ck_assert_msg(wrong[4 + i] > 0, "caller %d made no request", i);
		ck_assert_msg(wrong[i] == 0, "uid %d could not stat its own file %d of %d times (first: %s)",
			      i ? B : A, wrong[i], wrong[4 + i], errname(wrong[6 + i]));
		ck_assert_msg(wrong[2 + i] == 0, "uid %d saw the other's file %d of %d times", i ? B : A,
			      wrong[2 + i], wrong[4 + i]);
	}
	munmap(wrong, 4096);
}
END_TEST

TCase *tc_callers(void)
{
	TCase *tc = fs_tcase("callers", 60);

	tcase_add_test(tc, callers_hide_stat_sequence);
	tcase_add_test(tc, callers_hide_negative_first);
	tcase_add_test(tc, callers_hide_listing);
	tcase_add_test(tc, callers_fixed_uid_and_attrs);
	tcase_add_test(tc, callers_rename_and_deny);
	tcase_add_test(tc, callers_concurrent);
	return tc;
}
