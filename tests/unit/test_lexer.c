// SPDX-License-Identifier: GPL-2.0
/*
 * The scanner, seen through parse_policy: numbers, strings and escapes,
 * comments, keywords and words, byte columns (tabs, UTF-8, CRLF), newlines
 * inside brackets, unclosed brackets, the nesting limit, and hostile input
 * (NUL, invalid UTF-8, megabyte lines, 10,000 parentheses).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ast.h"
#include "diag.h"
#include "fbpf_abi.h"

struct run {
	struct policy *p;
	char *out;
	int errors;
};

/* Parses src; sema too when `sema` and the parse was clean. */
static struct run run_src(const char *src, int sema)
{
	struct run r;
	size_t len;
	struct diag d;
	FILE *f = open_memstream(&r.out, &len);

	diag_init(&d, "t.fbp", src, f);
	r.p = parse_policy("t.fbp", src, &d);
	if (sema && !d.errors)
		sema_check(r.p, &d);
	fclose(f);
	r.errors = d.errors;
	return r;
}

static void run_free(struct run *r)
{
	policy_free(r->p);
	free(r->out);
}

static char *cat3(const char *a, const char *b, const char *c)
{
	size_t la = strlen(a), lb = strlen(b), lc = strlen(c);
	char *s = malloc(la + lb + lc + 1);

	memcpy(s, a, la);
	memcpy(s + la, b, lb);
	memcpy(s + la + lb, c, lc + 1);
	return s;
}

static char *repeat(const char *unit, size_t n)
{
	size_t l = strlen(unit), i;
	char *s = malloc(l * n + 1);

	for (i = 0; i < n; i++)
		memcpy(s + i * l, unit, l);
	s[l * n] = 0;
	return s;
}

/* ---- numbers ------------------------------------------------------------- */

static const struct {
	const char *text;
	uint32_t value;
} good_numbers[] = {
	{ "0", 0 },           { "7", 7 },           { "123", 123 },     { "0755", 0755 },
	{ "00", 0 },          { "0x1f", 0x1f },     { "0X1F", 0x1f },   { "0xABCdef", 0xabcdef },
	{ "4294967295", 4294967295u }, { "0xffffffff", 0xffffffffu }, { "037777777777", 037777777777u },
	{ "000000000000000000000000000001", 1 },
};

START_TEST(numbers_good)
{
	char src[256];
	struct run r;

	snprintf(src, sizeof(src), "policy p\nhide \"/a\" when uid == %s\n", good_numbers[_i].text);
	r = run_src(src, 1);
	ck_assert_msg(r.errors == 0, "%s: %s", good_numbers[_i].text, r.out);
	ck_assert_int_eq(r.p->nrules, 1);
	ck_assert_uint_eq(r.p->rules[0].cond->rhs, good_numbers[_i].value);
	run_free(&r);
}
END_TEST

static const struct {
	const char *text;
	const char *msg;
	int col; /* of the caret, from the number's first byte */
} bad_numbers[] = {
	{ "4294967296", "out of range", 0 },
	{ "0x100000000", "out of range", 0 },
	{ "040000000000", "out of range", 0 },
	{ "99999999999999999999999999999999999999", "out of range", 0 },
	{ "0x", "has no digits", 0 },
	{ "0x1g", "invalid digit 'g' in hexadecimal", 3 },
	{ "08", "invalid digit '8' in octal", 1 },
	{ "0759", "invalid digit '9' in octal", 3 },
	{ "12ab", "invalid digit 'a' in decimal", 2 },
	{ "1_000", "invalid digit '_' in decimal", 1 },
};

START_TEST(numbers_bad)
{
	char src[256], where[64];
	struct run r;

	snprintf(src, sizeof(src), "policy p\nhide \"/a\" when uid == %s\n", bad_numbers[_i].text);
	r = run_src(src, 1);
	ck_assert_msg(r.errors == 1, "%s: %s", bad_numbers[_i].text, r.out);
	ck_assert_msg(strstr(r.out, bad_numbers[_i].msg), "%s: %s", bad_numbers[_i].text, r.out);
	snprintf(where, sizeof(where), "t.fbp:2:%d: error:", 23 + bad_numbers[_i].col);
	ck_assert_msg(strstr(r.out, where), "%s: want %s in\n%s", bad_numbers[_i].text, where, r.out);
	/* the rule is kept, and no second error follows from the bad value */
	ck_assert_int_eq(r.p->nrules, 1);
	run_free(&r);
}
END_TEST

START_TEST(number_huge_no_cascade)
{
	/* a bad errno number and a bad attr number: one error each */
	struct run r = run_src("policy p\ndeny \"/a\" with 0x\nattr \"/b\" { mode = 09 }\n", 1);

	ck_assert_int_eq(r.errors, 2);
	ck_assert_int_eq(r.p->rules[0].err, 13 /* EACCES */);
	run_free(&r);
}
END_TEST

/* ---- strings ------------------------------------------------------------- */

START_TEST(string_escapes)
{
	static const struct {
		const char *src, *want;
	} t[] = {
		{ "\"/a\\\"b\"", "/a\"b" },     /* \" -> " */
		{ "\"/a\\\\b\"", "/a\\b" },     /* \\ -> \ */
		{ "\"/a\\*b\"", "/a\\*b" },     /* \* kept */
		{ "\"/a\\?\\[\"", "/a\\?\\[" }, /* kept */
		{ "\"/\\\\\\\"\"", "/\\\"" },   /* \\\" -> \" */
		{ "\"/a#b\"", "/a#b" },         /* no comment in a string */
		{ "\"/caf\xc3\xa9\xff\"", "/caf\xc3\xa9\xff" },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		char *src = cat3("policy p\nhide ", t[i].src, "\n");
		struct run r = run_src(src, 0);

		ck_assert_msg(r.errors == 0, "%s: %s", t[i].src, r.out);
		ck_assert_str_eq(r.p->rules[0].pattern, t[i].want);
		ck_assert_int_eq(r.p->rules[0].pattern_loc.col, 6);
		ck_assert_int_eq(r.p->rules[0].pattern_loc.len, (int)strlen(t[i].src));
		run_free(&r);
		free(src);
	}
}
END_TEST

START_TEST(string_unterminated)
{
	struct run r = run_src("policy p\nhide \"/a\nhide \"/b\\\nhide \"/c\"\n", 0);

	ck_assert_int_eq(r.errors, 2);
	ck_assert_ptr_nonnull(strstr(r.out, "t.fbp:2:6: error: missing closing '\"'"));
	ck_assert_ptr_nonnull(strstr(r.out, "t.fbp:3:6: error: missing closing '\"'"));
	/* the string ends at the line end; the next line is a rule again */
	ck_assert_int_eq(r.p->nrules, 3);
	ck_assert_str_eq(r.p->rules[0].pattern, "/a");
	ck_assert_str_eq(r.p->rules[1].pattern, "/b");
	ck_assert_str_eq(r.p->rules[2].pattern, "/c");
	run_free(&r);
}
END_TEST

START_TEST(string_max)
{
	char *ok = repeat("a", 4095), *bad = repeat("a", 4096);
	char *s1 = cat3("policy p\nhide \"/", ok, "\"\n"), *s2 = cat3("policy p\nhide \"/", bad, "\"\n");
	struct run r1 = run_src(s1, 1), r2 = run_src(s2, 1);

	ck_assert_msg(r1.errors == 0, "%s", r1.out);
	ck_assert_int_eq(strlen(r1.p->rules[0].pattern), 4096);
	ck_assert_int_eq(r2.errors, 1);
	ck_assert_ptr_nonnull(strstr(r2.out, "string too long: 4097 bytes, at most 4096"));
	ck_assert_int_eq(strlen(r2.p->rules[0].pattern), 4096);
	run_free(&r1);
	run_free(&r2);
	free(ok);
	free(bad);
	free(s1);
	free(s2);
}
END_TEST

/* ---- words, comments, lines ---------------------------------------------- */

START_TEST(keywords_and_words)
{
	struct run r = run_src("policy uid\n", 1);

	/* field, op, type and errno names are words, not keywords */
	ck_assert_int_eq(r.errors, 0);
	ck_assert_str_eq(r.p->name, "uid");
	run_free(&r);
	r = run_src("policy hide\n", 1);
	ck_assert_int_eq(r.errors, 1);
	ck_assert_ptr_nonnull(strstr(r.out, "expected the policy name after 'policy', found 'hide'"));
	run_free(&r);
	/* keywords are case sensitive */
	r = run_src("policy p\nHIDE \"/a\"\n", 1);
	ck_assert_int_eq(r.errors, 1);
	ck_assert_ptr_nonnull(strstr(r.out, "unknown rule 'HIDE'"));
	ck_assert_ptr_nonnull(strstr(r.out, "did you mean 'hide'?"));
	run_free(&r);
}
END_TEST

START_TEST(comments_and_blanks)
{
	struct run r = run_src("# head\n\n   \t\npolicy p # the name\n# x \"unterminated\n"
			       "hide \"/a\" # \"/b\" (\n\n\nhide \"/c\"\n   # indented\n", 1);

	ck_assert_msg(r.errors == 0, "%s", r.out);
	ck_assert_int_eq(r.p->nrules, 2);
	ck_assert_int_eq(r.p->rules[0].loc.line, 6);
	ck_assert_int_eq(r.p->rules[1].loc.line, 9);
	run_free(&r);
}
END_TEST

START_TEST(no_final_newline)
{
	struct run r = run_src("policy p\nhide \"/a\" when uid == 1", 1);

	ck_assert_msg(r.errors == 0, "%s", r.out);
	ck_assert_int_eq(r.p->nrules, 1);
	ck_assert_ptr_nonnull(r.p->rules[0].cond);
	run_free(&r);
}
END_TEST

START_TEST(byte_columns)
{
	/* tabs are one byte; UTF-8 counts its bytes */
	struct run r = run_src("policy p\n\thide\t\"/caf\xc3\xa9\"\twhen uid == 1\n", 1);
	const struct rule *ru;

	ck_assert_msg(r.errors == 0, "%s", r.out);
	ru = &r.p->rules[0];
	ck_assert_int_eq(ru->loc.line, 2);
	ck_assert_int_eq(ru->loc.col, 2);
	ck_assert_int_eq(ru->loc.len, 4);
	ck_assert_int_eq(ru->pattern_loc.col, 7);
	ck_assert_int_eq(ru->pattern_loc.len, 8);
	ck_assert_int_eq(ru->cond->loc.col, 21);
	ck_assert_int_eq(ru->cond->loc.len, 8);
	run_free(&r);
}
END_TEST

START_TEST(crlf_same_as_lf)
{
	const char *lf = "policy p\nhide \"/a\" when uid == 1\ndeny write \"/b\" with EROFS\n";
	const char *crlf = "policy p\r\nhide \"/a\" when uid == 1\r\ndeny write \"/b\" with EROFS\r\n";
	struct run a = run_src(lf, 1), b = run_src(crlf, 1);
	int i;

	ck_assert_int_eq(a.errors, 0);
	ck_assert_msg(b.errors == 0, "%s", b.out);
	ck_assert_int_eq(a.p->nrules, b.p->nrules);
	for (i = 0; i < a.p->nrules; i++) {
		ck_assert_mem_eq(&a.p->rules[i].loc, &b.p->rules[i].loc, sizeof(struct loc));
		ck_assert_mem_eq(&a.p->rules[i].pattern_loc, &b.p->rules[i].pattern_loc, sizeof(struct loc));
	}
	run_free(&a);
	run_free(&b);
	/* a lone CR is a blank; the quoted line has no CR */
	a = run_src("policy p\r\nhide\r\"/a\" when usr == 1\r\n", 1);
	ck_assert_int_eq(a.errors, 1);
	ck_assert_ptr_null(strchr(a.out, '\r'));
	run_free(&a);
}
END_TEST

START_TEST(operators)
{
	struct run r = run_src("policy p\nhide \"/a\" when !(uid==1&&gid!=2)||pid<3 or pid<=4 and pid>5 and pid>=6\n"
			       "attr \"/b\" {mode=1;mode&=2;mode|=3}\n", 1);
	const struct cond *c;

	ck_assert_msg(r.errors == 0, "%s", r.out);
	c = r.p->rules[0].cond;
	ck_assert_int_eq(c->kind, COND_OR);
	ck_assert_int_eq(c->l->kind, COND_OR);
	ck_assert_int_eq(c->l->l->kind, COND_NOT);
	ck_assert_int_eq(c->l->l->l->kind, COND_AND);
	ck_assert_int_eq(c->l->l->l->r->cmp, FBPF_NE);
	ck_assert_int_eq(c->l->r->cmp, FBPF_LT);
	ck_assert_int_eq(c->r->kind, COND_AND);
	ck_assert_int_eq(r.p->rules[1].a_mode_and, 0); /* = then &= */
	ck_assert_int_eq(r.p->rules[1].a_mode_or, 3);
	run_free(&r);
}
END_TEST

START_TEST(stray_bytes)
{
	struct run r = run_src("policy p\nhide \"/a\" when uid == 1 & gid == 2\nhide \"/b\" @$%\n"
			       "hide \"/c\" \xff\xfe\nhide \"/d\" \xc3\xa9\nhide \"/e\" \x01\nhide \"/ok\"\n", 1);

	/* one error per line, and the last rule stands */
	ck_assert_int_eq(r.errors, 5);
	ck_assert_ptr_nonnull(strstr(r.out, "t.fbp:2:25: error: unexpected '&': write '&&' (or 'and')"));
	ck_assert_ptr_nonnull(strstr(r.out, "t.fbp:3:11: error: unexpected characters '@$%'"));
	ck_assert_ptr_nonnull(strstr(r.out, "t.fbp:4:11: error: unexpected byte 0xff (not UTF-8)"));
	ck_assert_ptr_nonnull(strstr(r.out, "t.fbp:5:11: error: unexpected character '\xc3\xa9'"));
	ck_assert_ptr_nonnull(strstr(r.out, "t.fbp:6:11: error: unexpected control byte 0x01"));
	ck_assert_int_eq(r.p->nrules, 1);
	ck_assert_str_eq(r.p->rules[0].pattern, "/ok");
	run_free(&r);
}
END_TEST

START_TEST(nul_ends_the_text)
{
	/* the source is a C string: what follows a NUL is not seen */
	static const char src[] = "policy p\nhide \"/a\0\"\nhide \"/b\"\n";
	struct run r = run_src(src, 1);

	ck_assert_int_eq(r.errors, 1);
	ck_assert_ptr_nonnull(strstr(r.out, "missing closing '\"'"));
	ck_assert_int_eq(r.p->nrules, 1);
	run_free(&r);
	r = run_src("", 1);
	ck_assert_int_eq(r.errors, 1);
	ck_assert_ptr_nonnull(strstr(r.out, "t.fbp:1:1: error: missing policy line"));
	run_free(&r);
}
END_TEST

/* ---- brackets -------------------------------------------------------------- */

START_TEST(newlines_in_brackets)
{
	struct run r = run_src("policy p\nhide \"/a\" when (uid == 1\n  or\n\n  gid in (1,\n 2)) and pid > 1\n"
			       "attr \"/b\" {\n  uid = 1\n\n  gid = 2;\n  mode = 0644\n}\nhide \"/c\"\n", 1);

	ck_assert_msg(r.errors == 0, "%s", r.out);
	ck_assert_int_eq(r.p->nrules, 3);
	ck_assert_int_eq(r.p->rules[0].cond->kind, COND_AND);
	ck_assert_int_eq(r.p->rules[0].cond->l->r->nset, 2);
	/* a span over lines underlines the rest of its first line */
	ck_assert_int_eq(r.p->rules[0].cond->loc.line, 2);
	ck_assert_int_eq(r.p->rules[0].cond->loc.col, 16);
	ck_assert_int_eq(r.p->rules[0].cond->loc.len, 9);
	ck_assert_uint_eq(r.p->rules[1].a_set, FBPF_ATTR_UID | FBPF_ATTR_GID | FBPF_ATTR_MODE);
	ck_assert_int_eq(r.p->rules[2].loc.line, 13);
	run_free(&r);
}
END_TEST

START_TEST(unclosed_brackets)
{
	struct run r = run_src("policy p\nhide \"/a\" when (uid == 1\n  or gid == 2\nhide \"/b\"\n"
			       "attr \"/c\" { uid = 1\n  deny \"/d\"\nhide \"/e\" when ((uid == 1)", 1);

	ck_assert_int_eq(r.errors, 3);
	ck_assert_ptr_nonnull(strstr(r.out, "t.fbp:2:16: error: this '(' is never closed"));
	ck_assert_ptr_nonnull(strstr(r.out, "t.fbp:5:11: error: this '{' is never closed"));
	ck_assert_ptr_nonnull(strstr(r.out, "t.fbp:7:16: error: this '(' is never closed"));
	/* the rules after an unclosed bracket are read as rules */
	ck_assert_int_eq(r.p->nrules, 2);
	ck_assert_str_eq(r.p->rules[0].pattern, "/b");
	ck_assert_str_eq(r.p->rules[1].pattern, "/d");
	run_free(&r);
	/* a stray closing bracket is a plain syntax error */
	r = run_src("policy p\nhide \"/a\" )\nhide \"/b\" }\nhide \"/c\"\n", 1);
	ck_assert_int_eq(r.errors, 2);
	ck_assert_int_eq(r.p->nrules, 1);
	run_free(&r);
}
END_TEST

START_TEST(nesting_limit)
{
	char *open64 = repeat("(", 64), *close64 = repeat(")", 64);
	char *open65 = repeat("(", 65), *close65 = repeat(")", 65);
	char *a = cat3(open64, "uid == 1", close64), *b = cat3(open65, "uid == 1", close65);
	char *s1 = cat3("policy p\nhide \"/a\" when ", a, "\n"), *s2 = cat3("policy p\nhide \"/a\" when ", b, "\nhide \"/z\"\n");
	struct run r1 = run_src(s1, 1), r2 = run_src(s2, 1);

	ck_assert_msg(r1.errors == 0, "%s", r1.out);
	ck_assert_int_eq(r2.errors, 1);
	ck_assert_ptr_nonnull(strstr(r2.out, "t.fbp:2:80: error: conditions nest too deeply: at most 64"));
	ck_assert_int_eq(r2.p->nrules, 1);
	run_free(&r1);
	run_free(&r2);
	free(open64);
	free(close64);
	free(open65);
	free(close65);
	free(a);
	free(b);
	free(s1);
	free(s2);
}
END_TEST

START_TEST(ten_thousand_parens)
{
	char *o = repeat("(", 10000), *c = repeat(")", 10000), *e = cat3(o, "uid == 1", c);
	char *s1 = cat3("policy p\nhide \"/a\" when ", e, "\nhide \"/b\"\n");
	char *s2 = cat3("policy p\nhide \"/a\" when ", o, "\nhide \"/b\"\n");
	char *s3 = cat3("policy p\nhide \"/a\" when ", c, "\nhide \"/b\"\n");
	struct run r1 = run_src(s1, 1), r2 = run_src(s2, 1), r3 = run_src(s3, 1);

	ck_assert_int_eq(r1.errors, 1);
	ck_assert_int_eq(r1.p->nrules, 1);
	ck_assert_int_eq(r2.errors, 2); /* too deep, and never closed */
	ck_assert_int_eq(r2.p->nrules, 1);
	ck_assert_int_eq(r3.errors, 1);
	ck_assert_int_eq(r3.p->nrules, 1);
	run_free(&r1);
	run_free(&r2);
	run_free(&r3);
	free(o);
	free(c);
	free(e);
	free(s1);
	free(s2);
	free(s3);
}
END_TEST

/* ---- size ----------------------------------------------------------------- */

START_TEST(megabyte_lines)
{
	size_t mb = 1 << 20;
	char *a = repeat("a", mb), *x = repeat("x", mb), *sp = repeat(" ", mb);
	char *c1 = cat3("policy p\n#", a, "\nhide \"/ok\"\n");
	char *c2 = cat3("policy p\nhide \"/", a, "\"\n");
	char *c3 = cat3("policy p\n", x, " \"/a\"\nhide \"/ok\"\n");
	char *c4 = cat3("policy p\nhide", sp, "\"/ok\"\n");
	char *c5 = cat3("policy p\nhide \"/a\" when uid == ", x, "\n");
	struct run r;
	clock_t t0 = clock();

	r = run_src(c1, 1);
	ck_assert_int_eq(r.errors, 0);
	ck_assert_int_eq(r.p->nrules, 1);
	run_free(&r);
	r = run_src(c2, 1);
	ck_assert_int_eq(r.errors, 1);
	ck_assert_ptr_nonnull(strstr(r.out, "string too long"));
	run_free(&r);
	r = run_src(c3, 1);
	ck_assert_int_eq(r.errors, 1);
	ck_assert_ptr_nonnull(strstr(r.out, "unknown rule 'xxxxxxxx"));
	ck_assert_ptr_nonnull(strstr(r.out, "...'"));
	ck_assert_int_eq(r.p->nrules, 1);
	run_free(&r);
	r = run_src(c4, 1);
	ck_assert_int_eq(r.errors, 0);
	ck_assert_int_eq(r.p->rules[0].pattern_loc.col, (int)mb + 5);
	run_free(&r);
	r = run_src(c5, 1);
	ck_assert_int_eq(r.errors, 1);
	run_free(&r);
	ck_assert_msg((double)(clock() - t0) / CLOCKS_PER_SEC < 5.0, "megabyte lines too slow");
	free(a);
	free(x);
	free(sp);
	free(c1);
	free(c2);
	free(c3);
	free(c4);
	free(c5);
}
END_TEST

START_TEST(many_lines)
{
	/* 200,000 blank and comment lines, then a rule: line numbers hold */
	char *blank = repeat("\n# c\n", 100000), *src = cat3("policy p\n", blank, "hide \"/a\" when usr == 1\n");
	struct run r = run_src(src, 1);

	ck_assert_int_eq(r.errors, 1);
	ck_assert_ptr_nonnull(strstr(r.out, "t.fbp:200002:16: error: unknown field 'usr'"));
	run_free(&r);
	free(blank);
	free(src);
}
END_TEST

static Suite *lexer_suite(void)
{
	Suite *s = suite_create("lexer");
	TCase *tc = tcase_create("lexer");

	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, numbers_good, 0, sizeof(good_numbers) / sizeof(good_numbers[0]));
	tcase_add_loop_test(tc, numbers_bad, 0, sizeof(bad_numbers) / sizeof(bad_numbers[0]));
	tcase_add_test(tc, number_huge_no_cascade);
	tcase_add_test(tc, string_escapes);
	tcase_add_test(tc, string_unterminated);
	tcase_add_test(tc, string_max);
	tcase_add_test(tc, keywords_and_words);
	tcase_add_test(tc, comments_and_blanks);
	tcase_add_test(tc, no_final_newline);
	tcase_add_test(tc, byte_columns);
	tcase_add_test(tc, crlf_same_as_lf);
	tcase_add_test(tc, operators);
	tcase_add_test(tc, stray_bytes);
	tcase_add_test(tc, nul_ends_the_text);
	tcase_add_test(tc, newlines_in_brackets);
	tcase_add_test(tc, unclosed_brackets);
	tcase_add_test(tc, nesting_limit);
	tcase_add_test(tc, ten_thousand_parens);
	tcase_add_test(tc, megabyte_lines);
	tcase_add_test(tc, many_lines);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(lexer_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
