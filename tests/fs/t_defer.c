// SPDX-License-Identifier: GPL-2.0
/*
 * defer: operations handed to a handler of the daemon (policies/deferred.fbp).
 *   audit   the built-in audit handler (--handler audit=audit:FILE): records, allows
 *   gate    a helper process speaking the line protocol (docs/handlers.md):
 *           this program with --defer-helper; it denies paths containing
 *           "deny" (EPERM) or "nospc" (ENOSPC), never answers for "slow",
 *           and allows everything else
 *   dead    a helper that exits at once: requests fail with ENOTCONN
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "fstest.h"

/* The helper: "ID OP UID GID PID RULE FLAGS PATH" in, "ID allow" or
 * "ID deny ERRNO" out. Every request line is appended to the log file. */
int fs_defer_helper_main(int argc, char **argv)
{
	char line[8192];

	if (argc < 2 || !strcmp(argv[1], "--exit"))
		return 3;
	setvbuf(stdout, NULL, _IOLBF, 0);
	while (fgets(line, sizeof(line), stdin)) {
		unsigned long long id = strtoull(line, NULL, 10);
		FILE *log = fopen(argv[1], "a");
		const char *path = strrchr(line, ' ');

		if (log) {
			fputs(line, log);
			fclose(log);
		}
		path = path ? path + 1 : "";
		if (strstr(path, "slow"))
			continue;
		if (strstr(path, "deny"))
			printf("%llu deny EPERM\n", id);
		else if (strstr(path, "nospc"))
			printf("%llu deny 28\n", id);
		else
			printf("%llu allow\n", id);
	}
	return 0;
}

static void defer_mount(const char *timeout_ms)
{
	char audit[PATH_MAX + 32], gate[2 * PATH_MAX + 64], dead[PATH_MAX + 64];

	snprintf(audit, sizeof(audit), "audit=audit:%s", P("audit.log"));
	snprintf(gate, sizeof(gate), "gate=exec:%s --defer-helper %s", E.self, P("gate.log"));
	snprintf(dead, sizeof(dead), "dead=exec:%s --defer-helper --exit", E.self);
	mkdirp(L("audited"), 0777);
	mkfile(L("audited/f"), "audited", 0666);
	mkdirp(L("gate"), 0777);
	mkfile(L("gate/ok"), "ok", 0666);
	mkfile(L("gate/deny-me"), "no", 0666);
	mkfile(L("gate/nospc"), "no", 0666);
	mkfile(L("gate/slow"), "slow", 0666);
	mkdirp(L("absent"), 0777);
	mkfile(L("absent/f"), "f", 0666);
	fs_mount("deferred", "--handler", audit, "--handler", gate, "--handler", dead,
		 "--defer-timeout", timeout_ms);
}

START_TEST(defer_audit)
{
	char log[65536], list[256];
	struct xres r;
	struct xop op = { X_READ, NULL, NULL };

	defer_mount("3000");
	op.a1 = M("audited/f");
	ck_errno(xop_as(1000, 1000, &op, &r), 0);
	ck_assert_str_eq(r.data, "audited");
	ck_errno(XA(1000, X_CREAT, M("audited/new"), NULL), 0);
	ck_assert(exists(L("audited/new")));
	ck_assert_int_ge(listdir(M("audited"), list, sizeof(list)), 0);
	ck_errno(X(X_STAT, M("audited/f"), NULL), 0);
	ck_assert_int_ge(slurp(P("audit.log"), log, sizeof(log)), 0);
	ck_assert_msg(strstr(log, "\"op\":\"open\"") && strstr(log, "\"path\":\"/audited/f\"") &&
			      strstr(log, "\"uid\":1000") && strstr(log, "\"decision\":\"allow\""),
		      "the audit log does not record the open of /audited/f by uid 1000:\n%s", log);
	ck_assert_msg(strstr(log, "\"op\":\"create\"") && strstr(log, "\"path\":\"/audited/new\""),
		      "the audit log does not record the create of /audited/new:\n%s", log);
	/* lookup, readdir and getattr are not in the rule's list */
	ck_assert_msg(!strstr(log, "\"op\":\"readdir\"") && !strstr(log, "\"op\":\"lookup\"") &&
			      !strstr(log, "\"op\":\"getattr\""),
		      "the audit log records operations the rule does not defer:\n%s", log);
}
END_TEST

START_TEST(defer_helper)
{
	char log[65536], buf[64];

	defer_mount("3000");
	ck_errno(X(X_READ, M("gate/ok"), NULL), 0);
	ck_errno(XA(1001, X_READ, M("gate/ok"), NULL), 0);
	ck_errno(X(X_READ, M("gate/deny-me"), NULL), EPERM);
	ck_errno(XA(1000, X_OPEN_W, M("gate/nospc"), NULL), ENOSPC);
	ck_errno(X(X_CREAT, M("gate/deny-new"), NULL), EPERM);
	ck_assert(!exists(L("gate/deny-new")));
	ck_errno(X(X_CREAT, M("gate/new"), NULL), 0);
	ck_assert(exists(L("gate/new")));
	ck_errno(X(X_STAT, M("gate/deny-me"), NULL), 0); /* getattr is not deferred */
	slurp(L("gate/deny-me"), buf, sizeof(buf));
	ck_assert_str_eq(buf, "no");
	ck_assert_int_ge(slurp(P("gate.log"), log, sizeof(log)), 0);
	ck_assert_msg(strstr(log, " open 1001 1001 ") && strstr(log, " /gate/ok\n"),
		      "the helper did not see uid 1001 open /gate/ok:\n%s", log);
	ck_assert_msg(strstr(log, " open 1000 1000 ") && strstr(log, " write /gate/nospc\n"),
		      "the helper did not see the open for writing of /gate/nospc:\n%s", log);
	ck_assert_msg(strstr(log, " create 0 0 ") && strstr(log, " /gate/deny-new\n"),
		      "the helper did not see the create of /gate/deny-new:\n%s", log);
}
END_TEST

START_TEST(defer_timeout)
{
	defer_mount("500");
	ck_errno(X(X_READ, M("gate/slow"), NULL), ETIMEDOUT);
	/* the helper still answers other requests */
	ck_errno(X(X_READ, M("gate/ok"), NULL), 0);
}
END_TEST

START_TEST(defer_dead_helper)
{
	defer_mount("3000");
	ck_errno(X(X_READ, M("absent/f"), NULL), ENOTCONN);
	ck_errno(X(X_STAT, M("absent/f"), NULL), 0);
	ck_errno(X(X_READ, M("gate/ok"), NULL), 0);
}
END_TEST

TCase *tc_defer(void)
{
	TCase *tc = fs_tcase("defer", 60);

	tcase_add_test(tc, defer_audit);
	tcase_add_test(tc, defer_helper);
	tcase_add_test(tc, defer_timeout);
	tcase_add_test(tc, defer_dead_helper);
	return tc;
}
