// SPDX-License-Identifier: GPL-2.0
/*
 * fbpfc's commands, run as a user runs them: the exit status and what they
 * print. Each case writes its policy into a fresh directory.
 */
#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define FBPFC FBPF_BINARY_DIR "/compiler/fbpfc"

static char dir[64];

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/fbpfc-cli.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	ck_assert_int_eq(system(cmd), 0);
}

/* Write `text` to DIR/name; returns the path (static buffer per call site use). */
static const char *put(const char *name, const char *text)
{
	static char path[4][256];
	static int k;
	char *p = path[k++ & 3];
	FILE *f;

	snprintf(p, 256, "%s/%s", dir, name);
	f = fopen(p, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
	return p;
}

/* Run fbpfc with `args` (a shell word list, paths from put()), in DIR.
 * Returns the exit status; *out gets stdout and stderr together. */
static int run(char **out, const char *fmt, ...)
{
	char args[2048], cmd[4096];
	size_t cap = 1 << 16, n = 0, r;
	va_list ap;
	FILE *p;
	int st;

	va_start(ap, fmt);
	vsnprintf(args, sizeof(args), fmt, ap);
	va_end(ap);
	snprintf(cmd, sizeof(cmd), "cd %s && %s %s 2>&1", dir, FBPFC, args);
	p = popen(cmd, "r");
	ck_assert_ptr_nonnull(p);
	*out = malloc(cap);
	while ((r = fread(*out + n, 1, cap - n - 1, p)) > 0)
		n += r;
	(*out)[n] = 0;
	st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

#define HAS(out, s) ck_assert_msg(strstr(out, s) != NULL, "expected \"%s\" in:\n%s", s, out)
#define HASNT(out, s) ck_assert_msg(strstr(out, s) == NULL, "did not expect \"%s\" in:\n%s", s, out)

START_TEST(compile_error_names_file_line_column)
{
	char *o;

	put("bad.fbp", "policy p\nhide \"/a\"\nhdie \"/b\"\n");
	ck_assert_int_ne(run(&o, "compile bad.fbp -o bad.o"), 0);
	HAS(o, "bad.fbp:3:1: error: unknown rule 'hdie'");
	HAS(o, "did you mean 'hide'?");
	HAS(o, "    ^~~~");
	ck_assert_int_ne(access("bad.o", F_OK), 0);
	free(o);
	ck_assert_int_ne(run(&o, "compile bad.fbp -o bad.o --json"), 0);
	HAS(o, "{\"file\":\"bad.fbp\",\"line\":3,\"col\":1,\"severity\":\"error\"");
	HASNT(o, "generated");
	free(o);
}
END_TEST

START_TEST(compile_then_dump)
{
	char *o;

	put("p.fbp", "policy pics\nrename \"**/*.jpeg\" ext \".jpeg\" to \".jpg\"\n"
		     "deny write \"/ro/**\" with EROFS\n");
	ck_assert_int_eq(run(&o, "compile p.fbp -o p.o"), 0);
	free(o);
	ck_assert_int_eq(run(&o, "dump p.o"), 0);
	HAS(o, "policy pics (fbpf ABI ");
	HAS(o, "), compiled from p.fbp");
	HAS(o, "ext \".jpeg\" to \".jpg\"");
	HAS(o, "automaton 0 (anchored patterns)");
	HAS(o, "automaton 1 (\"**\"-led patterns)");
	free(o);
	ck_assert_int_eq(run(&o, "dump p.o --json"), 0);
	HAS(o, "\"automata\":[{\"states\":");
	free(o);
	ck_assert_int_eq(run(&o, "dump p.o --c"), 0);
	HAS(o, "FBPF_FILTER(");
	free(o);
}
END_TEST

START_TEST(check_reports_shadowed_and_colliding_rules)
{
	char *o;

	put("c.fbp", "policy c\n"
		     "deny write \"/data/**\" with EROFS\n"
		     "deny write \"/data/logs/**\" with ENOSPC\n"
		     "rename \"/photos/**\" ext \".jpeg\" to \".jpg\"\n");
	ck_assert_int_eq(run(&o, "check c.fbp"), 0);
	HAS(o, "c.fbp:3:1: warning: this rule never decides");
	HAS(o, "c.fbp:4:");
	HAS(o, "this rename can collide: '/photos/q.jpeg' is shown as '/photos/q.jpg'");
	free(o);
	ck_assert_int_ne(run(&o, "check c.fbp --werror"), 0);
	free(o);
	ck_assert_int_eq(run(&o, "check c.fbp --json"), 0);
	HAS(o, "\"severity\":\"warning\"");
	free(o);
	put("ok.fbp", "policy ok\nhide \"**/.git\"\n");
	ck_assert_int_eq(run(&o, "check ok.fbp"), 0);
	HASNT(o, "warning:");
	free(o);
}
END_TEST

START_TEST(explain_says_which_rule_decides)
{
	char *o;

	put("e.fbp", "policy e\n"
		     "hide \"/Android/data/*\" unless uid == 0\n"
		     "deny write \"/DCIM/**\" with EROFS unless gid in (1023, 9997)\n"
		     "defer open \"/secure/**\" to \"authz\"\n");
	ck_assert_int_eq(run(&o, "compile e.fbp -o e.o"), 0);
	free(o);
	ck_assert_int_eq(run(&o, "explain e.o /Android/data/com.app --uid 1000"), 0);
	HAS(o, "fails with ENOENT");
	HAS(o, "line 2: hide");
	free(o);
	ck_assert_int_eq(run(&o, "explain e.o /Android/data/com.app --uid 0"), 0);
	HAS(o, "stored as: /Android/data/com.app");
	HAS(o, "allowed");
	free(o);
	ck_assert_int_eq(run(&o, "explain e.o /DCIM/a.jpg --op write --uid 5 --gid 5"), 0);
	HAS(o, "fails with EROFS");
	free(o);
	ck_assert_int_eq(run(&o, "explain e.o /DCIM/a.jpg --op write --uid 5 --gid 1023"), 0);
	HAS(o, "allowed");
	free(o);
	ck_assert_int_eq(run(&o, "explain e.o /secure/k --op open --json"), 0);
	HAS(o, "\"verdict\":\"defer\"");
	HAS(o, "\"handler\":\"authz\"");
	free(o);
	put("r.fbp", "policy r\nrename \"**\" suffix \".x\"\n");
	ck_assert_int_eq(run(&o, "compile r.fbp -o r.o"), 0);
	free(o);
	ck_assert_int_eq(run(&o, "explain r.o /DCIM.x/new.x --op create"), 0);
	HAS(o, "stored as: /DCIM/new");
	HAS(o, "rule:      none applies");
	free(o);
	/* a shown name that no stored name is shown under */
	ck_assert_int_eq(run(&o, "explain r.o /DCIM/a"), 0);
	HAS(o, "no stored name is shown");
	free(o);
}
END_TEST

START_TEST(bad_objects_get_one_sentence)
{
	char *o;

	put("junk.o", "this is not an ELF file\n");
	ck_assert_int_ne(run(&o, "explain junk.o /a"), 0);
	HAS(o, "junk.o");
	ck_assert_msg(strchr(o, '\n') == strrchr(o, '\n'), "more than one line:\n%s", o);
	free(o);
	ck_assert_int_ne(run(&o, "dump missing.o"), 0);
	HAS(o, "missing.o");
	free(o);
	ck_assert_int_ne(run(&o, "compile missing.fbp -o x.o"), 0);
	HAS(o, "cannot open missing.fbp");
	free(o);
}
END_TEST

START_TEST(help_on_every_command)
{
	static const char *const cmds[] = { "compile", "check", "explain", "dump" };
	char *o;
	unsigned i;

	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		ck_assert_int_eq(run(&o, "%s --help", cmds[i]), 0);
		HAS(o, "usage: fbpfc");
		free(o);
	}
	ck_assert_int_eq(run(&o, "--help"), 0);
	HAS(o, "explain");
	free(o);
	ck_assert_int_ne(run(&o, "frobnicate"), 0);
	free(o);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("fbpfc");
	TCase *tc = tcase_create("commands");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, compile_error_names_file_line_column);
	tcase_add_test(tc, compile_then_dump);
	tcase_add_test(tc, check_reports_shadowed_and_colliding_rules);
	tcase_add_test(tc, explain_says_which_rule_decides);
	tcase_add_test(tc, bad_objects_get_one_sentence);
	tcase_add_test(tc, help_on_every_command);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
