// SPDX-License-Identifier: GPL-2.0
/*
 * Semantic checks, each at its limit and one past it: the policy name,
 * errno values, 'type' comparisons, 'in' sets, condition size, rename
 * strings and conditions, the number of transforms and handlers, handler
 * names, attr items, patterns (with the column of the error, also behind
 * escapes), the number of rules. Trees built by hand check the guards the
 * parser never lets through.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ast.h"
#include "diag.h"
#include "fbpf_abi.h"

struct run {
	struct policy *p;
	char *out;
	int errors, sema;
};

/* Parse (must be clean), then sema. */
static struct run run_src(const char *src)
{
	struct run r;
	size_t len;
	struct diag d;
	FILE *f = open_memstream(&r.out, &len);

	diag_init(&d, "t.fbp", src, f);
	r.p = parse_policy("t.fbp", src, &d);
	ck_assert_msg(d.errors == 0, "parse errors in:\n%s", src);
	r.sema = sema_check(r.p, &d);
	fclose(f);
	r.errors = d.errors;
	return r;
}

static void run_free(struct run *r)
{
	policy_free(r->p);
	free(r->out);
}

/* One rule line after "policy p": the number of errors, and the output. */
static int errors_of(const char *line, char **out)
{
	char *src = malloc(strlen(line) + 16);
	struct run r;
	int n;

	sprintf(src, "policy p\n%s\n", line);
	r = run_src(src);
	n = r.errors;
	ck_assert_int_eq(r.sema, r.errors);
	if (out)
		*out = strdup(r.out);
	run_free(&r);
	free(src);
	return n;
}

static void expect(const char *line, const char *msg)
{
	char *out;
	int n = errors_of(line, &out);

	if (msg)
		ck_assert_msg(n == 1 && strstr(out, msg), "%s:\nwant 1 error with '%s', got:\n%s", line, msg, out);
	else
		ck_assert_msg(n == 0, "%s: want no error, got:\n%s", line, out);
	free(out);
}

static char *repeat(const char *unit, int n)
{
	size_t l = strlen(unit);
	char *s = malloc(l * (size_t)n + 1);
	int i;

	for (i = 0; i < n; i++)
		memcpy(s + (size_t)i * l, unit, l);
	s[l * (size_t)n] = 0;
	return s;
}

START_TEST(clean_policy)
{
	struct run r = run_src("policy photos\nhide \"/secret/**\"\n"
			       "deny write, create \"/DCIM/**\" with EROFS when uid != 0 and not (gid == 100 or pid < 5)\n"
			       "defer open \"/x/*.db\" to \"db.handler\" unless uid in (0, 1000)\n"
			       "rename \"/a/*\" suffix \".bak\" when uid == 1000 or gid in (1, 2) or pid > 5\n"
			       "rename \"/a/*\" ext \".jpeg\" to \".jpg\"\n"
			       "attr \"/pub/**\" { uid = 0; mode &= 0755 } when type == file and mode >= 0100\n"
			       "hide \"**\" when type in (dir, symlink) or type != fifo or owner == uid\n"
			       "hide \"/x{a,b/c,}/[!x]?\\\\*\" when type == type\n");

	ck_assert_msg(r.errors == 0, "%s", r.out);
	ck_assert_str_eq(r.out, "");
	run_free(&r);
}
END_TEST

START_TEST(policy_name)
{
	struct run r = run_src("policy abcdefghijklmno\n");

	ck_assert_int_eq(r.errors, 0);
	run_free(&r);
	r = run_src("policy abcdefghijklmnop\n");
	ck_assert_int_eq(r.errors, 1);
	ck_assert_ptr_nonnull(strstr(r.out, "t.fbp:1:8: error: policy name 'abcdefghijklmnop' is too long: 16 bytes, at most 15"));
	ck_assert_ptr_nonnull(strstr(r.out, "\n           ^~~~~~~~~~~~~~~~\n"));
	run_free(&r);
}
END_TEST

START_TEST(type_comparisons)
{
	expect("hide \"/a\" when type == dir", NULL);
	expect("hide \"/a\" when type != dir", NULL);
	expect("hide \"/a\" when type in (file, dir)", NULL);
	expect("hide \"/a\" when type == type", NULL);
	expect("hide \"/a\" when type < dir", "2:16: error: 'type' is compared with == or != (or 'in'), not with '<'");
	expect("hide \"/a\" when type <= dir", "not with '<='");
	expect("hide \"/a\" when type > dir", "not with '>'");
	expect("hide \"/a\" when type >= dir", "not with '>='");
	expect("hide \"/a\" when type == uid", "'type' is compared with file types (file, dir, symlink, ...), not with 'uid'");
	expect("hide \"/a\" when mode == type", "not with 'mode'");
	/* other fields compare freely, with numbers and fields */
	expect("hide \"/a\" when mode < 0100 and owner >= 1000 and group != gid and pid <= uid", NULL);
}
END_TEST

START_TEST(in_sets)
{
	char line[512];
	char *vals = repeat("1,", 15);

	snprintf(line, sizeof(line), "hide \"/a\" when uid in (%s1)", vals);
	expect(line, NULL);
	snprintf(line, sizeof(line), "hide \"/a\" when uid in (%s1, 2)", vals);
	expect(line, "2:16: error: an 'in' set holds 1 to 16 values; this one has 17");
	free(vals);
	expect("hide \"/a\" when uid in (1)", NULL);
}
END_TEST

static char *chain(int atoms, const char *op)
{
	char *s = malloc((size_t)atoms * 16 + 1), *at = s;
	int i;

	for (i = 0; i < atoms; i++)
		at += sprintf(at, "%s%s", i ? op : "", "uid == 1");
	return s;
}

START_TEST(condition_size)
{
	char line[2048], *c16 = chain(16, " or "), *c17 = chain(17, " and "), *c15 = chain(15, " or ");

	snprintf(line, sizeof(line), "hide \"/a\" when %s", c16); /* 16 + 15 = 31 */
	expect(line, NULL);
	snprintf(line, sizeof(line), "hide \"/a\" when not (%s)", c16); /* 32 */
	expect(line, NULL);
	snprintf(line, sizeof(line), "hide \"/a\" unless %s", c16); /* NOT(31) = 32 */
	expect(line, NULL);
	snprintf(line, sizeof(line), "hide \"/a\" unless not %s", c16 + 0); /* 33 */
	expect(line, "condition too large: 33 terms, at most 32");
	snprintf(line, sizeof(line), "hide \"/a\" when %s", c17); /* 33 */
	expect(line, "2:16: error: condition too large: 33 terms, at most 32");
	snprintf(line, sizeof(line), "hide \"/a\" when not not %s or uid in (1, 2)", c15); /* 29+2+1+1 = 33 */
	expect(line, "condition too large: 33 terms");
	free(c16);
	free(c17);
	free(c15);
}
END_TEST

START_TEST(rename_strings)
{
	char line[512], *s64 = repeat("x", 64), *s65 = repeat("y", 65);

	expect("rename \"/a/*\" suffix \".bak\"", NULL);
	expect("rename \"/a/*\" suffix \"\"", "2:15: error: the suffix must not be empty");
	expect("rename \"/a/*\" prefix \"\"", "the prefix must not be empty");
	expect("rename \"/a/*\" ext \"\" to \".b\"", "the extension must not be empty");
	expect("rename \"/a/*\" ext \".a\" to \"\"", "the new extension must not be empty");
	expect("rename \"/a/*\" suffix \"a/b\"", "the suffix 'a/b' must not contain '/'");
	expect("rename \"/a/*\" prefix \"/\"", "the prefix '/' must not contain '/'");
	expect("rename \"/a/*\" ext \".a/\" to \".b\"", "the extension '.a/' must not contain '/'");
	snprintf(line, sizeof(line), "rename \"/a/*\" suffix \"%s\"", s64);
	expect(line, NULL);
	snprintf(line, sizeof(line), "rename \"/a/*\" ext \"%s\" to \"%s\"", s64, s64);
	expect(line, NULL);
	snprintf(line, sizeof(line), "rename \"/a/*\" prefix \"%s\"", s65);
	expect(line, "the prefix is too long: 65 bytes, at most 64");
	snprintf(line, sizeof(line), "rename \"/a/*\" ext \".a\" to \"%s\"", s65);
	expect(line, "the new extension is too long: 65 bytes, at most 64");
	/* the caret spans the transform and its strings */
	{
		char *out;

		errors_of("rename \"/a/*\" ext \"\" to \".b\"", &out);
		ck_assert_ptr_nonnull(strstr(out, "\n                  ^~~~~~~~~~~~~~\n"));
		free(out);
	}
	free(s64);
	free(s65);
}
END_TEST

START_TEST(rename_conditions)
{
	expect("rename \"/a/*\" suffix \"~\" when uid == 0 and gid in (1, 2) or not pid > 3 or uid == gid", NULL);
	expect("rename \"/a/*\" suffix \"~\" when owner == 0", "2:31: error: a rename condition may test only the caller (uid, gid, pid), not the entry's 'owner'");
	expect("rename \"/a/*\" suffix \"~\" when group in (1)", "not the entry's 'group'");
	expect("rename \"/a/*\" suffix \"~\" when uid == 1 and type == dir", "2:44: error: a rename condition may test only the caller");
	expect("rename \"/a/*\" suffix \"~\" unless mode > 0", "not the entry's 'mode'");
	expect("rename \"/a/*\" suffix \"~\" when uid == owner", "not the entry's 'owner'");
	/* other rules may read the entry */
	expect("hide \"/a\" when owner == 0 and type == dir and mode > 0 and group == gid", NULL);
	expect("attr \"/a\" { mode = 0 } when owner == uid", NULL);
}
END_TEST

START_TEST(transforms_limit)
{
	char *src = malloc(8192), *at;
	struct run r;
	int i;

	at = src + sprintf(src, "policy p\n");
	for (i = 0; i < 16; i++)
		at += sprintf(at, "rename \"/a%d/*\" suffix \".%d\"\nrename \"/b%d/*\" suffix \".%d\"\n", i, i, i, i);
	at += sprintf(at, "rename \"/c/*\" prefix \".0\"\nrename \"/d/*\" ext \".0\" to \".1\"\n");
	r = run_src(src); /* 16 + prefix + ext = 18 different; report once, at the 17th */
	ck_assert_int_eq(r.errors, 1);
	ck_assert_ptr_nonnull(strstr(r.out, "t.fbp:34:15: error: more than 16 different rename transforms"));
	run_free(&r);
	sprintf(src, "policy p\n");
	for (i = 0, at = src + strlen(src); i < 40; i++)
		at += sprintf(at, "rename \"/a%d/*\" suffix \".%d\"\n", i, i % 16);
	r = run_src(src); /* the same transform again is not a new one */
	ck_assert_int_eq(r.errors, 0);
	run_free(&r);
	free(src);
}
END_TEST

START_TEST(handler_names)
{
	char line[256], *h32 = repeat("h", 32), *h33 = repeat("h", 33);

	expect("defer \"/a\" to \"db\"", NULL);
	expect("defer \"/a\" to \"_x.y-z9\"", NULL);
	expect("defer \"/a\" to \"A.B.C\"", NULL);
	expect("defer \"/a\" to \"\"", "2:15: error: '' is not a handler name");
	expect("defer \"/a\" to \"9x\"", "'9x' is not a handler name");
	expect("defer \"/a\" to \".x\"", "'.x' is not a handler name");
	expect("defer \"/a\" to \"-x\"", "'-x' is not a handler name");
	expect("defer \"/a\" to \"a b\"", "'a b' is not a handler name");
	expect("defer \"/a\" to \"a/b\"", "'a/b' is not a handler name");
	expect("defer \"/a\" to \"caf\xc3\xa9\"", "is not a handler name");
	snprintf(line, sizeof(line), "defer \"/a\" to \"%s\"", h32);
	expect(line, NULL);
	snprintf(line, sizeof(line), "defer \"/a\" to \"%s\"", h33);
	expect(line, "is too long: 33 bytes, at most 32");
	free(h32);
	free(h33);
}
END_TEST

START_TEST(handlers_limit)
{
	char *src = malloc(16384), *at;
	struct run r;
	int i;

	at = src + sprintf(src, "policy p\n");
	for (i = 0; i < 64; i++)
		at += sprintf(at, "defer \"/a%d\" to \"h%d\"\ndefer \"/b%d\" to \"h%d\"\n", i, i, i, i);
	r = run_src(src);
	ck_assert_int_eq(r.errors, 0);
	run_free(&r);
	for (i = 64; i < 70; i++)
		at += sprintf(at, "defer \"/c%d\" to \"h%d\"\n", i, i);
	r = run_src(src);
	ck_assert_int_eq(r.errors, 1);
	ck_assert_ptr_nonnull(strstr(r.out, "t.fbp:130:17: error: too many handlers: a policy defers to at most 64 different handlers"));
	run_free(&r);
	free(src);
}
END_TEST

START_TEST(attr_items)
{
	expect("attr \"/a\" { uid = 4294967294 }", NULL);
	expect("attr \"/a\" { mode = 07777 }", NULL);
	expect("attr \"/a\" { mode &= 0 }", NULL);
	expect("attr \"/a\" { }", "2:11: error: an attr rule needs at least one item: uid = N, gid = N or mode = M");
	expect("attr \"/a\" { ; ; }", "an attr rule needs at least one item");
}
END_TEST

static const struct {
	const char *pattern; /* as written in the source, quotes included */
	int col;             /* of the caret */
	const char *msg;
} patterns[] = {
	{ "\"a/b\"", 7, "a pattern starts with '/'" },
	{ "\"*/b\"", 7, "a pattern starts with '/'" },
	{ "\"\"", 7, "empty pattern" },
	{ "\"/a/**x\"", 10, "'**' must be a whole path component" },
	{ "\"/a/x**\"", 11, "'**' must be a whole path component" },
	{ "\"/a/[bc\"", 10, "unterminated '['" },
	{ "\"/a/{b,c\"", 10, "unterminated '{'" },
	{ "\"/a//b\"", 10, "empty path component" },
	{ "\"/a/\"", 9, "trailing '/'" },
	{ "\"/a/./b\"", 10, "path component '.' or '..'" },
	{ "\"/a/..\"", 10, "path component '.' or '..'" },
	{ "\"/a/[x/y]\"", 12, "'/' inside '[...]'" },
	/* behind \" and \\ the column still points at the bad byte */
	{ "\"/\\\"q/**x\"", 12, "'**' must be a whole path component" },
	{ "\"/\\\\\\\\/\\\"/[b\"", 16, "unterminated '['" },
	{ "\"/\\*/**/\\?x**\"", 17, "'**' must be a whole path component" },
};

START_TEST(pattern_errors)
{
	char line[256], want[256], *out;
	int n;

	snprintf(line, sizeof(line), "hide %s", patterns[_i].pattern);
	n = errors_of(line, &out);
	snprintf(want, sizeof(want), "t.fbp:2:%d: error: %s", patterns[_i].col, patterns[_i].msg);
	ck_assert_msg(n == 1 && strstr(out, want), "%s:\nwant %s\ngot  %s", line, want, out);
	free(out);
}
END_TEST

START_TEST(good_patterns)
{
	expect("hide \"/a\"", NULL);
	expect("hide \"**\"", NULL);
	expect("hide \"**/b\"", NULL);
	expect("hide \"/a/**\"", NULL);
	expect("hide \"/a/**/b\"", NULL);
	expect("hide \"/{a,b,{c,d}}/[!x][^y][]z]?*\"", NULL);
	expect("hide \"/x{,a}/x\\*\\\\\"", NULL);
}
END_TEST

START_TEST(rules_limit)
{
	size_t n = 65536, i;
	char *src = malloc(n * 12 + 32), *at = src;
	struct run r;

	at += sprintf(at, "policy p\n");
	for (i = 0; i < n - 1; i++)
		at += sprintf(at, "hide \"/a\"\n");
	r = run_src(src);
	ck_assert_int_eq(r.p->nrules, 65535);
	ck_assert_int_eq(r.errors, 0);
	run_free(&r);
	sprintf(at, "hide \"/a\"\nhide \"/b\"\n");
	r = run_src(src);
	ck_assert_int_eq(r.errors, 1);
	ck_assert_ptr_nonnull(strstr(r.out, "t.fbp:65537:1: error: too many rules: a policy holds at most 65535"));
	run_free(&r);
	free(src);
}
END_TEST

START_TEST(all_errors_reported)
{
	struct run r = run_src("policy abcdefghijklmnopq\nhide \"a\"\nhide \"/b\" when type < dir\n"
			       "rename \"/c\" suffix \"\" when owner == 0\nattr \"/d\" { }\ndefer \"/e\" to \"?\"\n");

	ck_assert_int_eq(r.errors, 7); /* the rename line has two */
	ck_assert_int_eq(r.sema, 7);
	run_free(&r);
}
END_TEST

/* ---- trees built by hand ---------------------------------------------------------- */

static struct cond *atom(int field, int cmp, int rhs_is_field, uint32_t rhs)
{
	struct cond *c = calloc(1, sizeof(*c));

	c->kind = COND_CMP;
	c->loc = (struct loc){ 1, 1, 1 };
	c->field = field;
	c->cmp = cmp;
	c->rhs_is_field = rhs_is_field;
	c->rhs = rhs;
	return c;
}

static struct policy *hand_policy(int nrules)
{
	struct policy *p = calloc(1, sizeof(*p));
	int i;

	p->name = strdup("p");
	p->file = "h.fbp";
	p->rules = calloc((size_t)nrules, sizeof(*p->rules));
	p->nrules = nrules;
	for (i = 0; i < nrules; i++) {
		p->rules[i].kind = RULE_HIDE;
		p->rules[i].index = i + 1;
		p->rules[i].ops = FBPF_OPMASK_ALL;
		p->rules[i].pattern = strdup("/a");
		p->rules[i].loc = p->rules[i].pattern_loc = (struct loc){ i + 1, 1, 1 };
	}
	return p;
}

static int sema_errors(struct policy *p, char **out)
{
	size_t len;
	struct diag d;
	FILE *f = open_memstream(out, &len);
	int n;

	diag_init(&d, "h.fbp", NULL, f);
	n = sema_check(p, &d);
	fclose(f);
	return n;
}

START_TEST(hand_built_guards)
{
	struct policy *p = hand_policy(9);
	struct cond *in;
	char *out;

	p->rules[0].kind = RULE_DENY;
	p->rules[0].err = 0;
	p->rules[1].kind = RULE_DENY;
	p->rules[1].err = 4096;
	p->rules[2].kind = RULE_ATTR;
	p->rules[2].a_set = FBPF_ATTR_UID;
	p->rules[2].a_uid = 0xffffffffu;
	p->rules[3].kind = RULE_ATTR;
	p->rules[3].a_set = FBPF_ATTR_MODE;
	p->rules[3].a_mode_or = 010000;
	p->rules[4].cond = atom(FBPF_F_TYPE, FBPF_EQ, 0, 9);
	in = calloc(1, sizeof(*in));
	in->kind = COND_IN;
	in->field = FBPF_F_UID;
	p->rules[5].cond = in; /* an empty set */
	p->rules[6].cond = atom(FBPF_F_UID, 77, 0, 1);
	p->rules[7].cond = atom(FBPF_F_UID, FBPF_EQ, 1, 99);
	p->rules[8].kind = RULE_DENY;
	p->rules[8].err = 4095;
	ck_assert_int_eq(sema_errors(p, &out), 8);
	ck_assert_ptr_nonnull(strstr(out, "h.fbp:1:1: error: errno 0 is out of range: 1 to 4095"));
	ck_assert_ptr_nonnull(strstr(out, "h.fbp:2:1: error: errno 4096 is out of range"));
	ck_assert_ptr_nonnull(strstr(out, "uid and gid are at most 4294967294"));
	ck_assert_ptr_nonnull(strstr(out, "mode values are at most 07777"));
	ck_assert_ptr_nonnull(strstr(out, "9 is not a file type"));
	ck_assert_ptr_nonnull(strstr(out, "an 'in' set holds 1 to 16 values; this one has 0"));
	ck_assert_ptr_nonnull(strstr(out, "invalid comparison"));
	ck_assert_ptr_nonnull(strstr(out, "invalid field on the right of '=='"));
	/* no source: no quoted lines */
	ck_assert_ptr_null(strstr(out, "^"));
	free(out);
	policy_free(p);
}
END_TEST

START_TEST(hand_built_odd_but_safe)
{
	struct policy *p = hand_policy(4);
	char *out;

	/* no name, no pattern, no handler, no strings, unknown kinds and fields */
	free(p->name);
	p->name = NULL;
	free(p->rules[0].pattern);
	p->rules[0].pattern = NULL;
	p->rules[1].kind = RULE_DEFER;
	p->rules[2].kind = RULE_RENAME;
	p->rules[2].xform = FBPF_X_EXT;
	p->rules[3].kind = 42;
	p->rules[3].cond = atom(0, FBPF_EQ, 0, 1);
	ck_assert_int_eq(sema_errors(p, &out), 0);
	free(out);
	policy_free(p);
	ck_assert_int_eq(sema_check(NULL, NULL), 0);
}
END_TEST

START_TEST(sema_after_parse_errors)
{
	/* what the parser kept after errors is still safe to check */
	static const char src[] = "policy p\nhide \"/a\" when usr == 1 and type == 3\nrename \"/b\" sufix \".x\"\n"
				  "attr \"/c\" { mod = 1 }\ndeny \"/d\" with EROF\nhide \"/e\" when uid in (gid, foo)\n"
				  "rename \"/f\" ext \".a\"\n";
	size_t len;
	char *out;
	struct diag d;
	FILE *f = open_memstream(&out, &len);
	struct policy *p;

	diag_init(&d, "t.fbp", src, f);
	p = parse_policy("t.fbp", src, &d);
	ck_assert_int_gt(d.errors, 0);
	ck_assert_int_eq(p->nrules, 6);
	sema_check(p, &d);
	fclose(f);
	policy_free(p);
	free(out);
}
END_TEST

static Suite *sema_suite(void)
{
	Suite *s = suite_create("sema");
	TCase *tc = tcase_create("sema");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, clean_policy);
	tcase_add_test(tc, policy_name);
	tcase_add_test(tc, type_comparisons);
	tcase_add_test(tc, in_sets);
	tcase_add_test(tc, condition_size);
	tcase_add_test(tc, rename_strings);
	tcase_add_test(tc, rename_conditions);
	tcase_add_test(tc, transforms_limit);
	tcase_add_test(tc, handler_names);
	tcase_add_test(tc, handlers_limit);
	tcase_add_test(tc, attr_items);
	tcase_add_loop_test(tc, pattern_errors, 0, sizeof(patterns) / sizeof(patterns[0]));
	tcase_add_test(tc, good_patterns);
	tcase_add_test(tc, rules_limit);
	tcase_add_test(tc, all_errors_reported);
	tcase_add_test(tc, hand_built_guards);
	tcase_add_test(tc, hand_built_odd_but_safe);
	tcase_add_test(tc, sema_after_parse_errors);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(sema_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
