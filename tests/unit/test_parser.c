// SPDX-License-Identifier: GPL-2.0
/*
 * The parser and the diagnostics: the tree of every rule kind, operations,
 * errnos, conditions (precedence, unless, sets, fields, types), attr items,
 * transforms, locations; error recovery (several errors, rules kept, the
 * error cap); the policy line; the messages (plain words, did you mean);
 * the diagnostic formats (text, caret lines, JSON, colour); the name helpers
 * of ast.c; speed on 10,000 and 100,000 rules.
 */
#include <check.h>
#include <errno.h>
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

static struct run run_opts(const char *src, int sema, int json, int color)
{
	struct run r;
	size_t len;
	struct diag d;
	FILE *f = open_memstream(&r.out, &len);

	diag_init(&d, "t.fbp", src, f);
	d.json = json;
	d.color = color;
	r.p = parse_policy("t.fbp", src, &d);
	if (sema && !d.errors)
		sema_check(r.p, &d);
	fclose(f);
	r.errors = d.errors;
	return r;
}

static struct run run_src(const char *src)
{
	return run_opts(src, 1, 0, 0);
}

static void run_free(struct run *r)
{
	policy_free(r->p);
	free(r->out);
}

static int count(const char *hay, const char *needle)
{
	int n = 0;

	for (; (hay = strstr(hay, needle)); hay++)
		n++;
	return n;
}

#define OPBIT(o) (1u << FBPF_OP_##o)

/* ---- the tree ---------------------------------------------------------------- */

START_TEST(rule_kinds)
{
	struct run r = run_src("policy photos\n"
			       "hide \"/secret/**\"\n"
			       "deny write, create \"/DCIM/**\" with EROFS\n"
			       "defer open \"/x/*.db\" to \"db.handler\"\n"
			       "rename \"/a/*\" suffix \".bak\"\n"
			       "rename \"/b/*\" prefix \"old.\"\n"
			       "rename \"/c/*\" ext \".jpeg\" to \".jpg\"\n"
			       "attr \"/pub/**\" { uid = 0; gid = 100 }\n");
	const struct rule *ru;
	int i;

	ck_assert_msg(r.errors == 0, "%s", r.out);
	ck_assert_str_eq(r.p->name, "photos");
	ck_assert_int_eq(r.p->name_loc.line, 1);
	ck_assert_int_eq(r.p->name_loc.col, 8);
	ck_assert_int_eq(r.p->name_loc.len, 6);
	ck_assert_str_eq(r.p->file, "t.fbp");
	ck_assert_int_eq(r.p->nrules, 7);
	for (i = 0; i < 7; i++) {
		ck_assert_int_eq(r.p->rules[i].index, i + 1);
		ck_assert_int_eq(r.p->rules[i].loc.line, i + 2);
		ck_assert_int_eq(r.p->rules[i].loc.col, 1);
		ck_assert_ptr_null(r.p->rules[i].cond);
	}
	ru = &r.p->rules[0];
	ck_assert_int_eq(ru->kind, RULE_HIDE);
	ck_assert_int_eq(ru->loc.len, 4);
	ck_assert_uint_eq(ru->ops, FBPF_OPMASK_ALL);
	ck_assert_str_eq(ru->pattern, "/secret/**");
	ck_assert_int_eq(ru->pattern_loc.col, 6);
	ck_assert_int_eq(ru->pattern_loc.len, 12);
	ru = &r.p->rules[1];
	ck_assert_int_eq(ru->kind, RULE_DENY);
	ck_assert_uint_eq(ru->ops, OPBIT(WRITE) | OPBIT(CREATE));
	ck_assert_int_eq(ru->ops_loc.col, 6);
	ck_assert_int_eq(ru->ops_loc.len, 13);
	ck_assert_int_eq(ru->err, EROFS);
	ru = &r.p->rules[2];
	ck_assert_int_eq(ru->kind, RULE_DEFER);
	ck_assert_uint_eq(ru->ops, OPBIT(OPEN));
	ck_assert_str_eq(ru->handler, "db.handler");
	ck_assert_int_eq(ru->handler_loc.col, 25);
	ck_assert_int_eq(ru->handler_loc.len, 12);
	ru = &r.p->rules[3];
	ck_assert_int_eq(ru->kind, RULE_RENAME);
	ck_assert_int_eq(ru->xform, FBPF_X_SUFFIX);
	ck_assert_str_eq(ru->s1, ".bak");
	ck_assert_ptr_null(ru->s2);
	ck_assert_int_eq(ru->xform_loc.col, 15);
	ck_assert_int_eq(ru->xform_loc.len, 13);
	ck_assert_int_eq(r.p->rules[4].xform, FBPF_X_PREFIX);
	ck_assert_str_eq(r.p->rules[4].s1, "old.");
	ru = &r.p->rules[5];
	ck_assert_int_eq(ru->xform, FBPF_X_EXT);
	ck_assert_str_eq(ru->s1, ".jpeg");
	ck_assert_str_eq(ru->s2, ".jpg");
	ck_assert_int_eq(ru->xform_loc.len, 21);
	ru = &r.p->rules[6];
	ck_assert_int_eq(ru->kind, RULE_ATTR);
	ck_assert_uint_eq(ru->a_set, FBPF_ATTR_UID | FBPF_ATTR_GID);
	ck_assert_uint_eq(ru->a_uid, 0);
	ck_assert_uint_eq(ru->a_gid, 100);
	ck_assert_int_eq(ru->attr_loc.col, 16);
	ck_assert_int_eq(ru->attr_loc.len, 22);
	run_free(&r);
}
END_TEST

START_TEST(operations)
{
	static const struct {
		const char *ops;
		uint32_t mask;
	} t[] = {
		{ "lookup", OPBIT(LOOKUP) },
		{ "readdir", OPBIT(READDIR) },
		{ "getattr", OPBIT(GETATTR) },
		{ "open", OPBIT(OPEN) },
		{ "read", OPBIT(READ) },
		{ "write", OPBIT(WRITE) },
		{ "create", OPBIT(CREATE) },
		{ "delete", OPBIT(DELETE) },
		{ "rename", OPBIT(RENAME) },
		{ "setattr", OPBIT(SETATTR) },
		{ "modify", OPBIT(WRITE) | OPBIT(CREATE) | OPBIT(DELETE) | OPBIT(RENAME) | OPBIT(SETATTR) },
		{ "all", FBPF_OPMASK_ALL },
		{ "read, read, lookup", OPBIT(READ) | OPBIT(LOOKUP) },
		{ "open,read , write", OPBIT(OPEN) | OPBIT(READ) | OPBIT(WRITE) },
		{ "rename, delete", OPBIT(RENAME) | OPBIT(DELETE) },
		{ "", FBPF_OPMASK_ALL },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		char src[256];
		struct run r;

		snprintf(src, sizeof(src), "policy p\ndeny %s \"/a\"\ndefer %s \"/a\" to \"h\"\n", t[i].ops, t[i].ops);
		r = run_src(src);
		ck_assert_msg(r.errors == 0, "%s: %s", t[i].ops, r.out);
		ck_assert_uint_eq(r.p->rules[0].ops, t[i].mask);
		ck_assert_uint_eq(r.p->rules[1].ops, t[i].mask);
		if (!*t[i].ops)
			ck_assert_mem_eq(&r.p->rules[0].ops_loc, &r.p->rules[0].loc, sizeof(struct loc));
		run_free(&r);
	}
}
END_TEST

START_TEST(rename_op_is_a_keyword)
{
	/* 'rename' is the rule keyword and an operation: both are read */
	struct run r = run_src("policy p\ndeny rename \"/a\"\nrename \"/b\" suffix \"~\"\ndeny rename \"/c\" when uid == 1\n");

	ck_assert_msg(r.errors == 0, "%s", r.out);
	ck_assert_int_eq(r.p->rules[0].kind, RULE_DENY);
	ck_assert_uint_eq(r.p->rules[0].ops, OPBIT(RENAME));
	ck_assert_int_eq(r.p->rules[1].kind, RULE_RENAME);
	ck_assert_uint_eq(r.p->rules[2].ops, OPBIT(RENAME));
	run_free(&r);
}
END_TEST

START_TEST(errnos)
{
	struct run r = run_src("policy p\ndeny \"/a\"\ndeny \"/b\" with EPERM\ndeny \"/c\" with 28\n"
			       "deny \"/d\" with ENOTSUP\ndeny \"/e\" with 4095\ndeny \"/f\" with 0x1\n");

	ck_assert_msg(r.errors == 0, "%s", r.out);
	ck_assert_int_eq(r.p->rules[0].err, EACCES);
	ck_assert_int_eq(r.p->rules[1].err, EPERM);
	ck_assert_int_eq(r.p->rules[2].err, 28);
	ck_assert_int_eq(r.p->rules[3].err, ENOTSUP);
	ck_assert_int_eq(r.p->rules[4].err, 4095);
	ck_assert_int_eq(r.p->rules[5].err, 1);
	ck_assert_int_eq(r.p->rules[0].err, 13);
	run_free(&r);
	r = run_src("policy p\ndeny \"/a\" with 0\ndeny \"/b\" with 4096\ndeny \"/c\" with EROF\n");
	ck_assert_int_eq(r.errors, 3);
	ck_assert_int_eq(r.p->nrules, 3);
	ck_assert_int_eq(r.p->rules[0].err, EACCES);
	ck_assert_int_eq(r.p->rules[2].err, EACCES);
	ck_assert_ptr_nonnull(strstr(r.out, "t.fbp:2:16: error: errno 0 is out of range"));
	ck_assert_ptr_nonnull(strstr(r.out, "t.fbp:4:16: note: did you mean 'EROFS'?"));
	run_free(&r);
}
END_TEST

/* The condition of the first rule of "policy p\nhide "/a" when C", as a string. */
static void show(const struct cond *c, char *buf, size_t size)
{
	char l[512], r[512];
	int i;
	size_t at;

	switch (c->kind) {
	case COND_CMP:
		if (c->rhs_is_field)
			snprintf(buf, size, "%s%s%s", field_name(c->field), cmp_name(c->cmp), field_name((int)c->rhs));
		else
			snprintf(buf, size, "%s%s%u", field_name(c->field), cmp_name(c->cmp), c->rhs);
		break;
	case COND_IN:
		at = (size_t)snprintf(buf, size, "%s in{", field_name(c->field));
		for (i = 0; i < c->nset && at < size; i++)
			at += (size_t)snprintf(buf + at, size - at, "%s%u", i ? "," : "", c->set[i]);
		if (at < size)
			snprintf(buf + at, size - at, "}");
		break;
	case COND_AND:
	case COND_OR:
		show(c->l, l, sizeof(l));
		show(c->r, r, sizeof(r));
		snprintf(buf, size, "(%s %s %s)", l, c->kind == COND_AND ? "and" : "or", r);
		break;
	case COND_NOT:
		show(c->l, l, sizeof(l));
		snprintf(buf, size, "!%s", l);
		break;
	}
}

static const struct {
	const char *src, *tree;
} conds[] = {
	{ "uid == 1", "uid==1" },
	{ "uid != 1 or gid < 2", "(uid!=1 or gid<2)" },
	{ "uid <= 1 and gid > 2 or pid >= 3", "((uid<=1 and gid>2) or pid>=3)" },
	{ "uid == 1 or gid == 2 and pid == 3", "(uid==1 or (gid==2 and pid==3))" },
	{ "uid == 1 or gid == 2 or pid == 3", "((uid==1 or gid==2) or pid==3)" },
	{ "uid == 1 and gid == 2 and pid == 3", "((uid==1 and gid==2) and pid==3)" },
	{ "not uid == 1 and gid == 2", "(!uid==1 and gid==2)" },
	{ "not (uid == 1 and gid == 2)", "!(uid==1 and gid==2)" },
	{ "not not uid == 1", "!!uid==1" },
	{ "! uid == 1 || gid == 2 && pid == 3", "(!uid==1 or (gid==2 and pid==3))" },
	{ "(uid == 1 or gid == 2) and pid == 3", "((uid==1 or gid==2) and pid==3)" },
	{ "((((uid == 1))))", "uid==1" },
	{ "uid == owner", "uid==owner" },
	{ "owner != uid and group == gid", "(owner!=uid and group==gid)" },
	{ "type == file or type != dir", "(type==1 or type!=2)" },
	{ "type in (symlink, fifo, socket, chardev, blockdev)", "type in{3,4,5,6,7}" },
	{ "uid in (0, 1000, 0x10, 010)", "uid in{0,1000,16,8}" },
	{ "mode >= 0100 and mode < 01000", "(mode>=64 and mode<512)" },
	{ "pid > 4294967295", "pid>4294967295" },
};

START_TEST(conditions)
{
	char src[512], got[2048];
	struct run r;

	snprintf(src, sizeof(src), "policy p\nhide \"/a\" when %s\nhide \"/b\" unless %s\n", conds[_i].src, conds[_i].src);
	r = run_src(src);
	ck_assert_msg(r.errors == 0, "%s: %s", conds[_i].src, r.out);
	show(r.p->rules[0].cond, got, sizeof(got));
	ck_assert_str_eq(got, conds[_i].tree);
	/* unless C is NOT(C), located at 'unless' */
	ck_assert_int_eq(r.p->rules[1].cond->kind, COND_NOT);
	ck_assert_int_eq(r.p->rules[1].cond->loc.col, 11);
	show(r.p->rules[1].cond->l, got, sizeof(got));
	ck_assert_str_eq(got, conds[_i].tree);
	run_free(&r);
}
END_TEST

START_TEST(condition_locations)
{
	struct run r = run_src("policy p\nhide \"/a\" when uid == 1 or not gid in (1, 2)\n");
	const struct cond *c;

	ck_assert_int_eq(r.errors, 0);
	c = r.p->rules[0].cond;
	ck_assert_int_eq(c->loc.col, 16);
	ck_assert_int_eq(c->loc.len, 29);
	ck_assert_int_eq(c->l->loc.col, 16);
	ck_assert_int_eq(c->l->loc.len, 8);
	ck_assert_int_eq(c->r->loc.col, 28);
	ck_assert_int_eq(c->r->loc.len, 17);
	ck_assert_int_eq(c->r->l->loc.col, 32);
	ck_assert_int_eq(c->r->l->loc.len, 13);
	run_free(&r);
}
END_TEST

START_TEST(attr_items)
{
	static const struct {
		const char *items;
		uint32_t set, uid, gid, mand, mor;
	} t[] = {
		{ "uid = 5", FBPF_ATTR_UID, 5, 0, 07777, 0 },
		{ "gid = 4294967294", FBPF_ATTR_GID, 0, 4294967294u, 07777, 0 },
		{ "mode = 0644", FBPF_ATTR_MODE, 0, 0, 0, 0644 },
		{ "mode &= 0755", FBPF_ATTR_MODE, 0, 0, 0755, 0 },
		{ "mode |= 0444", FBPF_ATTR_MODE, 0, 0, 07777, 0444 },
		{ "mode &= 0750; mode |= 04", FBPF_ATTR_MODE, 0, 0, 0750, 04 },
		{ "mode |= 0444; mode &= 0640", FBPF_ATTR_MODE, 0, 0, 0640, 0440 },
		{ "mode |= 0111; mode = 0600; mode |= 0060", FBPF_ATTR_MODE, 0, 0, 0, 0660 },
		{ "uid = 1; uid = 2", FBPF_ATTR_UID, 2, 0, 07777, 0 },
		{ "uid = 1\n gid = 2\n\n mode = 07777;", 7, 1, 2, 0, 07777 },
		{ "; uid = 1 ;", FBPF_ATTR_UID, 1, 0, 07777, 0 },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		char src[256];
		struct run r;
		const struct rule *ru;

		snprintf(src, sizeof(src), "policy p\nattr \"/a\" { %s }\n", t[i].items);
		r = run_src(src);
		ck_assert_msg(r.errors == 0, "%s: %s", t[i].items, r.out);
		ru = &r.p->rules[0];
		ck_assert_uint_eq(ru->a_set, t[i].set);
		ck_assert_uint_eq(ru->a_uid, t[i].uid);
		ck_assert_uint_eq(ru->a_gid, t[i].gid);
		ck_assert_msg(ru->a_mode_and == t[i].mand && ru->a_mode_or == t[i].mor, "%s: and %o or %o",
			      t[i].items, ru->a_mode_and, ru->a_mode_or);
		run_free(&r);
	}
}
END_TEST

START_TEST(semicolons_and_conditions_on_every_kind)
{
	struct run r = run_src("policy p;\nhide \"/a\";\ndeny \"/b\" with EIO when uid == 1;\n"
			       "defer \"/c\" to \"h\" unless gid == 2;\nrename \"/d/*\" suffix \"~\" when pid > 1;\n"
			       "rename \"/e/*\" ext \".a\" to \".b\" when uid == 0;\n"
			       "attr \"/f\" { mode = 0 } when owner == uid;\n");
	int i;

	ck_assert_msg(r.errors == 0, "%s", r.out);
	ck_assert_int_eq(r.p->nrules, 6);
	for (i = 1; i < 6; i++)
		ck_assert_ptr_nonnull(r.p->rules[i].cond);
	run_free(&r);
}
END_TEST

/* ---- recovery and messages ------------------------------------------------------ */

START_TEST(recovery_keeps_rules)
{
	struct run r = run_src("policy p\n"
			       "hide \"/1\"\n"
			       "hdie \"/x\"\n"
			       "hide \"/2\" when usr == 1\n"     /* semantic: kept */
			       "hide \"/x\" when uid == == 1\n"  /* syntax: dropped */
			       "hide \"/3\"\n"
			       "deny wirte \"/4\"\n"             /* semantic: kept */
			       "hide \"/x\" when (uid == 1 @\n"
			       "  or gid == 2)\n"
			       "hide \"/5\"\n");
	int i;

	ck_assert_int_eq(r.errors, 5);
	ck_assert_int_eq(r.p->nrules, 5);
	for (i = 0; i < 5; i++) {
		char want[8];

		snprintf(want, sizeof(want), "/%d", i + 1);
		ck_assert_str_eq(r.p->rules[i].pattern, want);
		ck_assert_int_eq(r.p->rules[i].index, i + 1);
	}
	run_free(&r);
}
END_TEST

static const struct {
	const char *line, *msg;
} messages[] = {
	{ "hide", "2:5: error: expected a pattern string after 'hide'" },
	{ "hide when", "2:6: error: expected a pattern string after 'hide', found 'when'" },
	{ "deny", "2:5: error: expected an operation or a pattern string after 'deny'" },
	{ "deny write,", "2:12: error: expected an operation after ','" },
	{ "deny write \"/a\" with", "2:21: error: expected an errno name or number after 'with'" },
	{ "defer \"/a\"", "2:11: error: expected 'to' after the pattern" },
	{ "defer \"/a\" to h", "2:15: error: expected the handler name as a string after 'to', found 'h'" },
	{ "rename \"/a\"", "2:12: error: expected a transform (suffix, prefix or ext) after the pattern" },
	{ "rename \"/a\" suffix", "2:19: error: expected a string after 'suffix'" },
	{ "attr \"/a\"", "2:10: error: expected '{' after the pattern" },
	{ "attr \"/a\" {", "2:11: error: this '{' is never closed" },
	{ "attr \"/a\" { uid }", "2:17: error: expected '=', '&=' or '|=' after 'uid', found '}'" },
	{ "attr \"/a\" { uid = }", "2:19: error: expected a number after '=', found '}'" },
	{ "attr \"/a\" { uid = 1 gid = 1 }", "2:21: error: expected ';', a line break or '}' after '1', found 'gid'" },
	{ "hide \"/a\" when", "2:15: error: expected a condition after 'when'" },
	{ "hide \"/a\" unless", "2:17: error: expected a condition after 'unless'" },
	{ "hide \"/a\" when uid", "2:19: error: expected a comparison (==, !=, <, <=, >, >=) or 'in' after 'uid'" },
	{ "hide \"/a\" when uid ==", "2:22: error: expected a number, a field or a file type after '=='" },
	{ "hide \"/a\" when uid in 1", "2:23: error: expected '(' after 'in', found '1'" },
	{ "hide \"/a\" when uid in (1", "2:23: error: this '(' is never closed" },
	{ "hide \"/a\" when uid in (1 2)", "2:26: error: expected ',' or ')' after '1', found '2'" },
	{ "hide \"/a\" when uid in ()", "2:24: error: expected a value after '(', found ')'" },
	{ "hide \"/a\" when uid == 1 and", "2:28: error: expected a condition after 'and'" },
	{ "hide \"/a\" when uid == 1 gid", "2:25: error: expected 'and', 'or' or the end of the line after '1', found 'gid'" },
	{ "hide \"/a\" when (uid == 1) )", "2:27: error: expected 'and', 'or' or the end of the line after ')', found ')'" },
	{ "hide \"/a\" \"/b\"", "2:11: error: expected 'when', 'unless' or the end of the line after the pattern, found a string" },
	{ "deny \"/a\" with EIO EIO", "2:20: error: expected 'when', 'unless' or the end of the line after 'EIO', found 'EIO'" },
	{ "\"/a\"", "2:1: error: expected a rule (hide, deny, defer, rename or attr) at the start of a line, found a string" },
	{ "when", "2:1: error: expected a rule (hide, deny, defer, rename or attr) at the start of a line, found 'when'" },
	{ "hide \"/a\";;", "2:11: error: expected the end of the line after ';', found ';'" },
	{ "hide \"/a\" when uid = 1", "2:20: error: expected a comparison (==, !=, <, <=, >, >=) or 'in' after 'uid', found '='" },
	{ "policy q", "2:1: error: a second policy line" },
	{ "policy", "2:7: error: expected the policy name after 'policy'" },
};

START_TEST(syntax_messages)
{
	char src[256];
	struct run r;

	snprintf(src, sizeof(src), "policy p\n%s\n", messages[_i].line);
	r = run_src(src);
	ck_assert_msg(r.errors >= 1 && strstr(r.out, messages[_i].msg), "%s:\nwant %s\ngot  %s", messages[_i].line,
		      messages[_i].msg, r.out);
	run_free(&r);
}
END_TEST

static const struct {
	const char *line, *msg, *note;
} unknowns[] = {
	{ "hdie \"/a\"", "unknown rule 'hdie'", "did you mean 'hide'?" },
	{ "dney \"/a\"", "unknown rule 'dney'", "did you mean 'deny'?" },
	{ "defre \"/a\" to \"h\"", "unknown rule 'defre'", "did you mean 'defer'?" },
	{ "renmae \"/a\" suffix \"x\"", "unknown rule 'renmae'", "did you mean 'rename'?" },
	{ "atr \"/a\" { uid = 1 }", "unknown rule 'atr'", "did you mean 'attr'?" },
	{ "plicy q", "unknown rule 'plicy'", "did you mean 'policy'?" },
	{ "allow \"/a\"", "unknown rule 'allow'", "a rule starts with hide, deny, defer, rename or attr" },
	{ "deny wirte \"/a\"", "unknown operation 'wirte'", "did you mean 'write'?" },
	{ "deny lokup \"/a\"", "unknown operation 'lokup'", "did you mean 'lookup'?" },
	{ "deny modfy \"/a\"", "unknown operation 'modfy'", "did you mean 'modify'?" },
	{ "deny zzz \"/a\"", "unknown operation 'zzz'", "the operations are lookup, readdir" },
	{ "deny \"/a\" with EROF", "unknown errno 'EROF'", "did you mean 'EROFS'?" },
	{ "deny \"/a\" with eacces", "unknown errno 'eacces'", "did you mean 'EACCES'?" },
	{ "deny \"/a\" with ENAMETOLONG", "unknown errno 'ENAMETOLONG'", "did you mean 'ENAMETOOLONG'?" },
	{ "hide \"/a\" when usr == 1", "unknown field 'usr'", "the fields are uid, gid, pid" },
	{ "hide \"/a\" when onwer == 1", "unknown field 'onwer'", "did you mean 'owner'?" },
	{ "hide \"/a\" when uid == gdi", "unknown field 'gdi'", "did you mean 'gid'?" },
	{ "hide \"/a\" when type == fiel", "unknown file type 'fiel'", "did you mean 'file'?" },
	{ "hide \"/a\" when type in (dir, simlink)", "unknown file type 'simlink'", "did you mean 'symlink'?" },
	{ "hide \"/a\" when type == regular", "unknown file type 'regular'", "the file types are file, dir" },
	{ "rename \"/a\" sufix \"x\"", "unknown transform 'sufix'", "did you mean 'suffix'?" },
	{ "rename \"/a\" extension \"x\" to \"y\"", "unknown transform 'extension'", "a rename takes suffix" },
	{ "attr \"/a\" { mod = 1 }", "unknown attribute 'mod'", "did you mean 'mode'?" },
	{ "attr \"/a\" { owner = 1 }", "unknown attribute 'owner'", "an attr rule sets uid, gid or mode" },
	{ "deny \"/a\" wiht EROFS", "found 'wiht'", "did you mean 'with'?" },
	{ "hide \"/a\" whne uid == 1", "found 'whne'", "did you mean 'when'?" },
	{ "hide \"/a\" unles uid == 1", "found 'unles'", "did you mean 'unless'?" },
	{ "hide \"/a\" when uid == 1 nad gid == 1", "found 'nad'", "did you mean 'and'?" },
	{ "defer \"/a\" ot \"h\"", "found 'ot'", "did you mean 'to'?" },
	{ "hide \"/a\" when uid = 1", "found '='", "use '==' to compare" },
};

START_TEST(unknown_words)
{
	char src[256], note[256];
	struct run r;

	snprintf(src, sizeof(src), "policy p\n%s\n", unknowns[_i].line);
	r = run_src(src);
	ck_assert_msg(r.errors == 1 && strstr(r.out, unknowns[_i].msg), "%s:\n%s", unknowns[_i].line, r.out);
	snprintf(note, sizeof(note), "note: %s", unknowns[_i].note);
	ck_assert_msg(strstr(r.out, note), "%s: no '%s' in\n%s", unknowns[_i].line, note, r.out);
	run_free(&r);
}
END_TEST

START_TEST(type_misuse_in_parser)
{
	struct run r = run_src("policy p\nhide \"/a\" when uid == file\nhide \"/b\" when type == 3\n"
			       "hide \"/c\" when type in (file, 2)\nhide \"/d\" when uid in (gid)\n"
			       "hide \"/e\" when uid in (dir)\nhide \"/f\" when uid in (foo)\n");

	ck_assert_int_eq(r.errors, 6);
	ck_assert_ptr_nonnull(strstr(r.out, "2:23: error: 'file' is a file type: only 'type' is compared with file types, not 'uid'"));
	ck_assert_ptr_nonnull(strstr(r.out, "3:24: error: 'type' is compared with a file type name, not a number"));
	ck_assert_ptr_nonnull(strstr(r.out, "4:31: error: 'type' is compared with a file type name, not a number"));
	ck_assert_ptr_nonnull(strstr(r.out, "5:24: error: an 'in' set holds constants, not fields like 'gid'"));
	ck_assert_ptr_nonnull(strstr(r.out, "6:24: error: 'dir' is a file type"));
	ck_assert_ptr_nonnull(strstr(r.out, "7:24: error: 'foo' is not a number"));
	/* the good values stay */
	ck_assert_int_eq(r.p->rules[2].cond->nset, 1);
	ck_assert_uint_eq(r.p->rules[2].cond->set[0], FBPF_TYPE_FILE);
	run_free(&r);
}
END_TEST

START_TEST(attr_value_errors)
{
	struct run r = run_src("policy p\nattr \"/a\" { uid = 4294967295 }\nattr \"/b\" { gid &= 1 }\n"
			       "attr \"/c\" { mode = 010000 }\nattr \"/d\" { mode |= 0x1000; uid = 4294967294 }\n");

	ck_assert_int_eq(r.errors, 4);
	ck_assert_ptr_nonnull(strstr(r.out, "2:19: error: uid 4294967295 is not allowed"));
	ck_assert_ptr_nonnull(strstr(r.out, "3:17: error: 'gid' is set with '=' only"));
	ck_assert_ptr_nonnull(strstr(r.out, "4:20: error: mode 010000 has bits beyond the permission bits 07777"));
	ck_assert_ptr_nonnull(strstr(r.out, "5:21: error: mode 0x1000 has bits"));
	ck_assert_uint_eq(r.p->rules[3].a_set, FBPF_ATTR_UID);
	ck_assert_uint_eq(r.p->rules[3].a_uid, 4294967294u);
	run_free(&r);
}
END_TEST

START_TEST(rename_forms)
{
	struct run r = run_src("policy p\nrename \"/a\" ext \".a\"\nrename \"/b\" suffix \".a\" to \".b\"\n"
			       "rename \"/c\" prefix \"x\" to \"y\"\n");

	ck_assert_int_eq(r.errors, 3);
	ck_assert_ptr_nonnull(strstr(r.out, "2:17: error: 'ext' needs the new extension: ext \".a\" to \"...\""));
	ck_assert_ptr_nonnull(strstr(r.out, "3:25: error: 'to' belongs to 'ext' only; 'suffix' takes one string"));
	ck_assert_ptr_nonnull(strstr(r.out, "4:24: error: 'to' belongs to 'ext' only; 'prefix' takes one string"));
	ck_assert_int_eq(r.p->nrules, 3);
	run_free(&r);
}
END_TEST

/* ---- the policy line ------------------------------------------------------------ */

START_TEST(policy_line)
{
	struct run r;

	r = run_src("hide \"/a\"\n");
	ck_assert_int_eq(r.errors, 1);
	ck_assert_ptr_nonnull(strstr(r.out, "t.fbp:1:1: error: missing policy line: a policy file begins with 'policy NAME'"));
	ck_assert_ptr_null(r.p->name);
	run_free(&r);
	r = run_src("# c\n\n  # d\n");
	ck_assert_int_eq(r.errors, 1);
	ck_assert_ptr_nonnull(strstr(r.out, "t.fbp:1:1: error: missing policy line"));
	run_free(&r);
	r = run_src("hide \"/a\"\n  policy p\nhide \"/b\"\n");
	ck_assert_int_eq(r.errors, 1);
	ck_assert_ptr_nonnull(strstr(r.out, "t.fbp:2:3: error: the policy line must come first, before the rules"));
	ck_assert_ptr_nonnull(strstr(r.out, "t.fbp:1:1: note: the first rule is here"));
	ck_assert_str_eq(r.p->name, "p");
	ck_assert_int_eq(r.p->nrules, 2);
	run_free(&r);
	r = run_src("policy a\npolicy b\n");
	ck_assert_int_eq(r.errors, 1);
	ck_assert_ptr_nonnull(strstr(r.out, "t.fbp:2:1: error: a second policy line: a file holds one policy"));
	ck_assert_ptr_nonnull(strstr(r.out, "t.fbp:1:1: note: the policy is named here"));
	ck_assert_str_eq(r.p->name, "a");
	run_free(&r);
	/* a broken policy line: no second error about it missing */
	r = run_src("policy my-name\nhide \"/a\"\n");
	ck_assert_int_eq(r.errors, 1);
	run_free(&r);
	r = run_src("polcy p\nhide \"/a\"\n");
	ck_assert_int_eq(r.errors, 1);
	ck_assert_ptr_nonnull(strstr(r.out, "did you mean 'policy'?"));
	run_free(&r);
}
END_TEST

START_TEST(error_cap)
{
	char *src = malloc(100000), *at = src;
	struct run r;
	int i;

	at += sprintf(at, "policy p\n");
	for (i = 0; i < 200; i++)
		at += sprintf(at, "hide \"/a\" when usr == 1 and grp == 2\n");
	r = run_src(src);
	ck_assert_int_eq(r.errors, DIAG_MAX_ERRORS + 1);
	ck_assert_int_eq(count(r.out, ": error: "), DIAG_MAX_ERRORS);
	ck_assert_int_eq(count(r.out, "too many errors"), 1);
	ck_assert_ptr_nonnull(strstr(r.out, "t.fbp: fatal error: too many errors (more than 50), stopping now\n"));
	/* nothing after the cap line */
	ck_assert_str_eq(strstr(r.out, "stopping now\n"), "stopping now\n");
	run_free(&r);
	free(src);
}
END_TEST

/* ---- diagnostics ------------------------------------------------------------------ */

START_TEST(diag_text_format)
{
	char *out = NULL;
	size_t len;
	FILE *f = open_memstream(&out, &len);
	struct diag d;
	struct loc l1 = { 2, 6, 5 }, l2 = { 3, 9, 3 }, l3 = { 1, 9, 4 }, l4 = { 4, 3, 100 };
	const char *src = "policy p\ndeny wirte \"/a\"\n\thide\t\"/\xc3\xa9\" x\nab\n";

	diag_init(&d, "r.fbp", src, f);
	diag_error(&d, l1, "unknown operation '%s'", "wirte");
	diag_note(&d, l1, "did you mean '%s'?", "write");
	diag_warning(&d, l2, "a %s", "warning");
	diag_error(&d, l3, "past the end");
	diag_error(&d, l4, "len clamped");
	diag_plain(&d, "cannot open %s", "x");
	fclose(f);
	ck_assert_str_eq(out,
			 "r.fbp:2:6: error: unknown operation 'wirte'\n"
			 "    deny wirte \"/a\"\n"
			 "         ^~~~~\n"
			 "r.fbp:2:6: note: did you mean 'write'?\n"
			 "r.fbp:3:9: warning: a warning\n"
			 "    \thide\t\"/\xc3\xa9\" x\n"
			 "    \t    \t  ^~\n"
			 "r.fbp:1:9: error: past the end\n"
			 "    policy p\n"
			 "            ^\n"
			 "r.fbp:4:3: error: len clamped\n"
			 "    ab\n"
			 "      ^\n"
			 "fbpfc: error: cannot open x\n");
	ck_assert_int_eq(d.errors, 4);
	ck_assert_int_eq(d.warnings, 1);
	free(out);
}
END_TEST

START_TEST(diag_escapes_and_json)
{
	char *out = NULL;
	size_t len;
	FILE *f = open_memstream(&out, &len);
	struct diag d;
	struct loc l = { 1, 1, 1 };

	diag_init(&d, "a\"b.fbp", "x\n", f);
	diag_error(&d, l, "q\"b\\s\x01\tn\n\xc3\xa9\xff.");
	d.json = 1;
	diag_error(&d, l, "q\"b\\s\x01\tn\n\xc3\xa9\xff.");
	diag_note(&d, l, "n");
	diag_warning(&d, l, "w");
	diag_plain(&d, "p");
	fclose(f);
	ck_assert_str_eq(out,
			 "a\"b.fbp:1:1: error: q\"b\\s\\x01\\x09n\\x0a\xc3\xa9\xff.\n"
			 "    x\n"
			 "    ^\n"
			 "{\"file\":\"a\\\"b.fbp\",\"line\":1,\"col\":1,\"severity\":\"error\",\"message\":"
			 "\"q\\\"b\\\\s\\u0001\\tn\\n\xc3\xa9\\ufffd.\"}\n"
			 "{\"file\":\"a\\\"b.fbp\",\"line\":1,\"col\":1,\"severity\":\"note\",\"message\":\"n\"}\n"
			 "{\"file\":\"a\\\"b.fbp\",\"line\":1,\"col\":1,\"severity\":\"warning\",\"message\":\"w\"}\n"
			 "{\"file\":\"a\\\"b.fbp\",\"line\":0,\"col\":0,\"severity\":\"error\",\"message\":\"p\"}\n");
	free(out);
}
END_TEST

START_TEST(diag_color)
{
	struct run r = run_opts("policy p\nhdie \"/a\"\n", 1, 0, 1), plain = run_opts("policy p\nhdie \"/a\"\n", 1, 0, 0);

	ck_assert_ptr_nonnull(strstr(r.out, "\033[1;31merror:"));
	ck_assert_ptr_nonnull(strstr(r.out, "\033[1;36mnote:"));
	ck_assert_ptr_nonnull(strstr(r.out, "\033[1;32m^~~~"));
	ck_assert_ptr_null(strchr(plain.out, '\033'));
	run_free(&r);
	run_free(&plain);
	r = run_opts("policy p\nhdie \"/a\"\n", 1, 1, 1); /* JSON is never coloured */
	ck_assert_ptr_null(strchr(r.out, '\033'));
	run_free(&r);
}
END_TEST

START_TEST(diag_json_parse)
{
	struct run r = run_opts("policy p\ndeny wirte \"/a\"\n", 1, 1, 0);

	ck_assert_str_eq(r.out,
			 "{\"file\":\"t.fbp\",\"line\":2,\"col\":6,\"severity\":\"error\",\"message\":\"unknown operation 'wirte'\"}\n"
			 "{\"file\":\"t.fbp\",\"line\":2,\"col\":6,\"severity\":\"note\",\"message\":\"did you mean 'write'?\"}\n");
	run_free(&r);
}
END_TEST

START_TEST(diag_no_source)
{
	char *out = NULL;
	size_t len;
	FILE *f = open_memstream(&out, &len);
	struct diag d;
	struct loc l = { 7, 3, 2 };

	diag_init(&d, NULL, NULL, f);
	diag_error(&d, l, "e");
	diag_init(&d, "x.fbp", "one line\n", f);
	diag_error(&d, l, "beyond the last line");
	fclose(f);
	ck_assert_str_eq(out, "<input>:7:3: error: e\nx.fbp:7:3: error: beyond the last line\n");
	free(out);
}
END_TEST

START_TEST(did_you_mean_distance)
{
	static const char *const ops[] = { "lookup", "readdir", "getattr", "open", "read", "write", "create",
					   "delete", "setattr", NULL };
	static const char *const short_words[] = { "to", "in", "or", NULL };

	ck_assert_str_eq(did_you_mean("wirte", ops), "write");   /* a swap is one edit */
	ck_assert_str_eq(did_you_mean("writ", ops), "write");
	ck_assert_str_eq(did_you_mean("WRITE", ops), "write");   /* case is free */
	ck_assert_str_eq(did_you_mean("raed", ops), "read");
	ck_assert_str_eq(did_you_mean("lokup", ops), "lookup");
	ck_assert_str_eq(did_you_mean("setatr", ops), "setattr");
	ck_assert_ptr_null(did_you_mean("xyzzy", ops));
	ck_assert_ptr_null(did_you_mean("", ops));
	ck_assert_ptr_null(did_you_mean(NULL, ops));
	/* short words: one edit at most */
	ck_assert_str_eq(did_you_mean("ot", short_words), "to");
	ck_assert_str_eq(did_you_mean("i", short_words), "in");
	ck_assert_ptr_null(did_you_mean("xyz", short_words));
	/* long words: len/3 edits */
	ck_assert_str_eq(did_you_mean("ENAMETOLONG", (const char *const[]){ "ENAMETOOLONG", NULL }), "ENAMETOOLONG");
	ck_assert_ptr_null(did_you_mean("EXYZETOOLONG", (const char *const[]){ "ENAMETOOL", NULL }));
}
END_TEST

/* ---- names ------------------------------------------------------------------------ */

START_TEST(names)
{
	static const char *const ops[] = { "lookup", "readdir", "getattr", "open", "read", "write", "create",
					   "delete", "rename", "setattr" };
	static const struct {
		const char *name;
		int value;
	} errs[] = {
		{ "EACCES", EACCES }, { "EPERM", EPERM }, { "EROFS", EROFS }, { "ENOENT", ENOENT },
		{ "EIO", EIO }, { "ENOSPC", ENOSPC }, { "EEXIST", EEXIST }, { "ENOTDIR", ENOTDIR },
		{ "EISDIR", EISDIR }, { "EBUSY", EBUSY }, { "EAGAIN", EAGAIN }, { "EINVAL", EINVAL },
		{ "EOPNOTSUPP", EOPNOTSUPP }, { "ENOTSUP", ENOTSUP }, { "EXDEV", EXDEV }, { "EDQUOT", EDQUOT },
		{ "ENAMETOOLONG", ENAMETOOLONG }, { "ETXTBSY", ETXTBSY }, { "ENOTEMPTY", ENOTEMPTY },
		{ "EFBIG", EFBIG }, { "EMLINK", EMLINK }, { "ENXIO", ENXIO }, { "ENODEV", ENODEV },
		{ "ETIMEDOUT", ETIMEDOUT }, { "ECONNREFUSED", ECONNREFUSED }, { "EFAULT", EFAULT },
		{ "ENOMEM", ENOMEM },
	};
	size_t i;

	for (i = 0; i < FBPF_OP_COUNT; i++)
		ck_assert_str_eq(op_name((int)i), ops[i]);
	ck_assert_str_eq(op_name(-1), "?");
	ck_assert_str_eq(op_name(FBPF_OP_COUNT), "?");
	ck_assert_str_eq(field_name(FBPF_F_UID), "uid");
	ck_assert_str_eq(field_name(FBPF_F_GID), "gid");
	ck_assert_str_eq(field_name(FBPF_F_PID), "pid");
	ck_assert_str_eq(field_name(FBPF_F_OWNER), "owner");
	ck_assert_str_eq(field_name(FBPF_F_GROUP), "group");
	ck_assert_str_eq(field_name(FBPF_F_TYPE), "type");
	ck_assert_str_eq(field_name(FBPF_F_MODE), "mode");
	ck_assert_str_eq(field_name(0), "?");
	ck_assert_str_eq(cmp_name(FBPF_EQ), "==");
	ck_assert_str_eq(cmp_name(FBPF_NE), "!=");
	ck_assert_str_eq(cmp_name(FBPF_LT), "<");
	ck_assert_str_eq(cmp_name(FBPF_LE), "<=");
	ck_assert_str_eq(cmp_name(FBPF_GT), ">");
	ck_assert_str_eq(cmp_name(FBPF_GE), ">=");
	ck_assert_str_eq(cmp_name(99), "?");
	ck_assert_str_eq(rule_kind_name(RULE_HIDE), "hide");
	ck_assert_str_eq(rule_kind_name(RULE_DENY), "deny");
	ck_assert_str_eq(rule_kind_name(RULE_DEFER), "defer");
	ck_assert_str_eq(rule_kind_name(RULE_RENAME), "rename");
	ck_assert_str_eq(rule_kind_name(RULE_ATTR), "attr");
	ck_assert_int_eq(RULE_ATTR, FBPF_R_ATTR);
	ck_assert_str_eq(type_name(FBPF_TYPE_FILE), "file");
	ck_assert_str_eq(type_name(FBPF_TYPE_DIR), "dir");
	ck_assert_str_eq(type_name(FBPF_TYPE_SYMLINK), "symlink");
	ck_assert_str_eq(type_name(FBPF_TYPE_FIFO), "fifo");
	ck_assert_str_eq(type_name(FBPF_TYPE_SOCKET), "socket");
	ck_assert_str_eq(type_name(FBPF_TYPE_CHAR), "chardev");
	ck_assert_str_eq(type_name(FBPF_TYPE_BLOCK), "blockdev");
	ck_assert_str_eq(type_name(99), "?");
	for (i = 0; i < sizeof(errs) / sizeof(errs[0]); i++) {
		ck_assert_int_eq(errno_by_name(errs[i].name), errs[i].value);
		ck_assert_ptr_nonnull(errno_name(errs[i].value));
		ck_assert_int_eq(errno_by_name(errno_name(errs[i].value)), errs[i].value);
	}
	ck_assert_str_eq(errno_name(EROFS), "EROFS");
	ck_assert_str_eq(errno_name(EOPNOTSUPP), "EOPNOTSUPP");
	ck_assert_ptr_null(errno_name(0));
	ck_assert_ptr_null(errno_name(ECHILD)); /* not in the language */
	ck_assert_int_eq(errno_by_name("EROF"), 0);
	ck_assert_int_eq(errno_by_name("erofs"), 0);
	ck_assert_int_eq(errno_by_name(NULL), 0);
	policy_free(NULL);
}
END_TEST

/* ---- size and speed ------------------------------------------------------------------ */

static char *gen_rules(int n)
{
	size_t cap = (size_t)n * 80 + 64;
	char *s = malloc(cap), *at = s;
	int i;

	at += sprintf(at, "policy big\n");
	for (i = 0; i < n; i++)
		at += sprintf(at, "deny write, create \"/a/b%d/**\" with EROFS when uid == %d or gid in (1, 2)\n", i, i);
	return s;
}

START_TEST(ten_thousand_rules_fast)
{
	char *src = gen_rules(10000);
	struct timespec t0, t1;
	struct run r;
	double secs;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	r = run_opts(src, 0, 0, 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	printf("parse of 10,000 rules: %.3f s\n", secs);
	ck_assert_int_eq(r.errors, 0);
	ck_assert_int_eq(r.p->nrules, 10000);
	ck_assert_int_eq(r.p->rules[9999].loc.line, 10001);
	ck_assert_msg(secs < 0.5, "parsing 10,000 rules took %.3f s", secs);
	run_free(&r);
	free(src);
}
END_TEST

START_TEST(hundred_thousand_rules)
{
	char *src = gen_rules(100000);
	struct run r = run_opts(src, 0, 0, 0);

	ck_assert_int_eq(r.errors, 0);
	ck_assert_int_eq(r.p->nrules, 100000);
	run_free(&r);
	free(src);
}
END_TEST

START_TEST(long_chains)
{
	/* 100,000 'or's and 100,000 'not's: the tree is freed without recursion */
	size_t n = 100000, i;
	char *src = malloc(n * 16 + 100), *at = src;
	struct run r;

	at += sprintf(at, "policy p\nhide \"/a\" when uid == 1");
	for (i = 0; i < n; i++)
		at += sprintf(at, " or uid == 1");
	at += sprintf(at, "\nhide \"/b\" when ");
	for (i = 0; i < n; i++)
		at += sprintf(at, "not ");
	sprintf(at, "uid == 1\n");
	r = run_opts(src, 0, 0, 0);
	ck_assert_int_eq(r.errors, 0);
	ck_assert_int_eq(r.p->nrules, 2);
	run_free(&r);
	r = run_opts(src, 1, 0, 0);
	ck_assert_int_eq(r.errors, 2); /* both conditions too large */
	ck_assert_ptr_nonnull(strstr(r.out, "condition too large: 200001 terms"));
	run_free(&r);
	free(src);
}
END_TEST

static Suite *parser_suite(void)
{
	Suite *s = suite_create("parser");
	TCase *tc = tcase_create("parser");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, rule_kinds);
	tcase_add_test(tc, operations);
	tcase_add_test(tc, rename_op_is_a_keyword);
	tcase_add_test(tc, errnos);
	tcase_add_loop_test(tc, conditions, 0, sizeof(conds) / sizeof(conds[0]));
	tcase_add_test(tc, condition_locations);
	tcase_add_test(tc, attr_items);
	tcase_add_test(tc, semicolons_and_conditions_on_every_kind);
	tcase_add_test(tc, recovery_keeps_rules);
	tcase_add_loop_test(tc, syntax_messages, 0, sizeof(messages) / sizeof(messages[0]));
	tcase_add_loop_test(tc, unknown_words, 0, sizeof(unknowns) / sizeof(unknowns[0]));
	tcase_add_test(tc, type_misuse_in_parser);
	tcase_add_test(tc, attr_value_errors);
	tcase_add_test(tc, rename_forms);
	tcase_add_test(tc, policy_line);
	tcase_add_test(tc, error_cap);
	tcase_add_test(tc, diag_text_format);
	tcase_add_test(tc, diag_escapes_and_json);
	tcase_add_test(tc, diag_color);
	tcase_add_test(tc, diag_json_parse);
	tcase_add_test(tc, diag_no_source);
	tcase_add_test(tc, did_you_mean_distance);
	tcase_add_test(tc, names);
	tcase_add_test(tc, ten_thousand_rules_fast);
	tcase_add_test(tc, hundred_thousand_rules);
	tcase_add_test(tc, long_chains);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(parser_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
