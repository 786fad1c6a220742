// SPDX-License-Identifier: GPL-2.0
/*
 * Lowering and the evaluator: policies go through the real front end and
 * lowering, and the native evaluator (the same source as the BPF filters)
 * must give the answers docs/language.md promises.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ast.h"
#include "diag.h"
#include "eval.h"
#include "lower.h"
#include "object.h"
#include "test_policy.h"

struct caller {
	unsigned uid, gid;
};
static const struct caller ROOT = { 0, 0 }, USER = { 1000, 1000 }, OTHER = { 1001, 1001 };

/* Run filter (op, phase) for `name` in the directory with state dir. */
static struct fbpf_args run(struct pol *x, unsigned op, unsigned phase, unsigned long long dir, const char *name,
			    struct caller c, unsigned flags, unsigned e_uid, unsigned e_mode)
{
	struct fbpf_args a;

	memset(&a, 0, sizeof(a));
	a.op = op;
	a.phase = phase;
	a.dir_state = dir;
	a.flags = flags | (e_mode ? FBPF_IN_ENTRY : 0);
	a.uid = c.uid;
	a.gid = c.gid;
	a.pid = 4242;
	a.e_uid = e_uid;
	a.e_gid = e_uid;
	a.e_mode = e_mode;
	if (name) {
		a.name_len = (unsigned)strlen(name);
		memcpy(a.name, name, a.name_len);
	}
	fbpf_eval(&x->o, &a);
	return a;
}

/* The state of a shown path, walked with lookup pre-filters. */
static unsigned long long state_of(struct pol *x, const char *path)
{
	char buf[4096], *save = NULL, *t;
	unsigned long long st = FBPF_STATE_ROOT;

	snprintf(buf, sizeof(buf), "%s", path);
	for (t = strtok_r(buf, "/", &save); t; t = strtok_r(NULL, "/", &save))
		st = run(x, FBPF_OP_LOOKUP, FBPF_PRE, st, t, ROOT, 0, 0, 0).state;
	return st;
}

/* Lookup of path (last component) by caller, entry owned by owner: pre then post. */
static struct fbpf_args lookup(struct pol *x, const char *path, struct caller c, unsigned owner, unsigned mode)
{
	char dir[4096];
	const char *name = strrchr(path, '/') + 1;
	struct fbpf_args a;

	snprintf(dir, sizeof(dir), "%.*s", (int)(name - path - 1), path);
	a = run(x, FBPF_OP_LOOKUP, FBPF_PRE, state_of(x, dir), name, c, 0, 0, 0);
	if (a.verdict != FBPF_CONTINUE)
		return a;
	return run(x, FBPF_OP_LOOKUP, FBPF_POST, a.state, NULL, c, 0, owner, mode);
}

static struct fbpf_args on_dir(struct pol *x, unsigned op, const char *dirpath, const char *name, struct caller c,
			       unsigned flags)
{
	return run(x, op, FBPF_PRE, state_of(x, dirpath), name, c, flags, 0, 0);
}

static struct fbpf_args readdir_entry(struct pol *x, const char *dirpath, const char *stored, struct caller c,
				      unsigned owner, unsigned mode)
{
	return run(x, FBPF_OP_READDIR, FBPF_POST, state_of(x, dirpath), stored, c, 0, owner, mode);
}

#define FILE_MODE 0100644
#define DIR_MODE 0040755

START_TEST(hide_hides_from_every_operation)
{
	struct pol *x = compile("policy t\nhide \"**/.secret\"\n");
	struct fbpf_args a;

	a = lookup(x, "/a/.secret", USER, 1000, FILE_MODE);
	ck_assert_int_eq(a.verdict, FBPF_ERROR);
	ck_assert_uint_eq(a.err, 2);
	ck_assert(a.out_flags & FBPF_OUT_HIDDEN);
	ck_assert_uint_eq(a.rule, 1);
	a = lookup(x, "/.secret", USER, 1000, FILE_MODE);
	ck_assert_uint_eq(a.err, 2);
	a = lookup(x, "/a/.secret2", USER, 1000, FILE_MODE);
	ck_assert_int_eq(a.verdict, FBPF_CONTINUE);
	a = readdir_entry(x, "/a", ".secret", USER, 1000, FILE_MODE);
	ck_assert_int_eq(a.verdict, FBPF_CONTINUE);
	ck_assert(a.out_flags & FBPF_OUT_HIDDEN);
	/* creating a hidden name: EACCES, whether or not it exists */
	a = on_dir(x, FBPF_OP_CREATE, "/a", ".secret", USER, 0);
	ck_assert_uint_eq(a.err, 13);
	a = on_dir(x, FBPF_OP_RENAME, "/a", ".secret", USER, FBPF_IN_TARGET);
	ck_assert_uint_eq(a.err, 13);
	a = on_dir(x, FBPF_OP_RENAME, "/a", ".secret", USER, 0);
	ck_assert_uint_eq(a.err, 2);
	a = on_dir(x, FBPF_OP_DELETE, "/a", ".secret", USER, 0);
	ck_assert_uint_eq(a.err, 2);
	a = on_dir(x, FBPF_OP_CREATE, "/a", "visible", USER, 0);
	ck_assert_int_eq(a.verdict, FBPF_CONTINUE);
	drop(x);
}
END_TEST

START_TEST(first_rule_per_kind_and_hide_wins)
{
	struct pol *x = compile("policy t\n"
				"deny write \"/d/**\" with EROFS unless gid in (1023, 9997)\n"
				"deny all \"/d/**\" with EPERM\n"
				"defer open \"/d/**\" to \"audit\"\n"
				"hide \"/d/h*\"\n");
	struct fbpf_args a;
	unsigned long long d = state_of(x, "/d");

	a = run(x, FBPF_OP_WRITE, FBPF_PRE, d, "f", USER, 0, 1000, FILE_MODE);
	ck_assert_uint_eq(a.err, 30);
	ck_assert_uint_eq(a.rule, 1);
	ck_assert(a.out_flags & FBPF_OUT_CALLER);
	/* gid 1023 skips rule 1; rule 2 decides */
	a = run(x, FBPF_OP_WRITE, FBPF_PRE, d, "f", (struct caller){ 5, 1023 }, 0, 1000, FILE_MODE);
	ck_assert_uint_eq(a.err, 1);
	ck_assert_uint_eq(a.rule, 2);
	/* deny wins over defer */
	a = run(x, FBPF_OP_OPEN, FBPF_PRE, d, "f", USER, 0, 1000, FILE_MODE);
	ck_assert_uint_eq(a.err, 1);
	/* hide wins over deny */
	a = run(x, FBPF_OP_WRITE, FBPF_PRE, d, "hx", USER, 0, 1000, FILE_MODE);
	ck_assert_uint_eq(a.err, 2);
	ck_assert_uint_eq(a.rule, 4);
	/* outside /d nothing applies */
	a = run(x, FBPF_OP_WRITE, FBPF_PRE, FBPF_STATE_ROOT, "f", USER, 0, 1000, FILE_MODE);
	ck_assert_int_eq(a.verdict, FBPF_CONTINUE);
	ck_assert_uint_eq(a.rule, 0);
	drop(x);
}
END_TEST

START_TEST(defer_names_its_handler)
{
	struct pol *x = compile("policy t\ndefer open \"/secure/**\" to \"authz\"\n"
				"defer delete \"/secure/**\" to \"audit\"\n");
	struct fbpf_args a;
	unsigned long long s = state_of(x, "/secure");

	a = run(x, FBPF_OP_OPEN, FBPF_PRE, s, "f", USER, 0, 0, FILE_MODE);
	ck_assert_int_eq(a.verdict, FBPF_DEFER);
	ck_assert_uint_eq(a.handler, 0);
	ck_assert_str_eq(x->low.handlers[a.handler], "authz");
	a = run(x, FBPF_OP_DELETE, FBPF_PRE, s, "f", USER, 0, 0, FILE_MODE);
	ck_assert_int_eq(a.verdict, FBPF_DEFER);
	ck_assert_str_eq(x->low.handlers[a.handler], "audit");
	a = run(x, FBPF_OP_READ, FBPF_PRE, s, "f", USER, 0, 0, FILE_MODE);
	ck_assert_int_eq(a.verdict, FBPF_CONTINUE);
	drop(x);
}
END_TEST

START_TEST(write_open_is_also_write)
{
	struct pol *x = compile("policy t\ndeny write \"/**\" with EROFS\n");
	struct fbpf_args a;

	a = run(x, FBPF_OP_OPEN, FBPF_PRE, FBPF_STATE_ROOT, "f", USER, FBPF_IN_WRITE, 0, FILE_MODE);
	ck_assert_uint_eq(a.err, 30);
	a = run(x, FBPF_OP_OPEN, FBPF_PRE, FBPF_STATE_ROOT, "f", USER, 0, 0, FILE_MODE);
	ck_assert_int_eq(a.verdict, FBPF_CONTINUE);
	ck_assert(x->low.callbacks & FBPF_CB_BIT(FBPF_OP_OPEN, FBPF_PRE));
	drop(x);
}
END_TEST

START_TEST(entry_conditions)
{
	struct pol *x = compile("policy t\nhide \"**/.*\" unless uid == owner or uid == 0\n"
				"deny create \"/dirs/*\" with EPERM when type == dir\n");
	struct fbpf_args a;

	a = lookup(x, "/home/.bashrc", USER, 1000, FILE_MODE);
	ck_assert_int_eq(a.verdict, FBPF_CONTINUE);
	a = lookup(x, "/home/.bashrc", OTHER, 1000, FILE_MODE);
	ck_assert_uint_eq(a.err, 2);
	a = lookup(x, "/home/.bashrc", ROOT, 1000, FILE_MODE);
	ck_assert_int_eq(a.verdict, FBPF_CONTINUE);
	/* no entry: entry atoms are false, so "unless uid == owner" hides */
	a = on_dir(x, FBPF_OP_CREATE, "/home", ".new", USER, 0);
	ck_assert_uint_eq(a.err, 13);
	/* type == dir is false without an entry */
	a = on_dir(x, FBPF_OP_CREATE, "/dirs", "n", USER, 0);
	ck_assert_int_eq(a.verdict, FBPF_CONTINUE);
	a = run(x, FBPF_OP_CREATE, FBPF_PRE, state_of(x, "/dirs"), "n", USER, 0, 0, DIR_MODE);
	ck_assert_uint_eq(a.err, 1);
	drop(x);
}
END_TEST

START_TEST(suffix_rename_maps_both_ways)
{
	struct pol *x = compile("policy t\nrename \"**\" suffix \".x\"\n");
	struct fbpf_args a;

	a = readdir_entry(x, "/", "doc", USER, 0, FILE_MODE);
	ck_assert(!(a.out_flags & FBPF_OUT_HIDDEN));
	ck_assert(a.out_flags & FBPF_OUT_NAME);
	ck_assert_str_eq(a.out_name, "doc.x");
	a = on_dir(x, FBPF_OP_LOOKUP, "/", "doc.x", USER, 0);
	ck_assert_int_eq(a.verdict, FBPF_CONTINUE);
	ck_assert_str_eq(a.out_name, "doc");
	ck_assert_uint_eq(a.rule, 1);
	/* the stored name itself is not a shown name */
	a = on_dir(x, FBPF_OP_LOOKUP, "/", "doc", USER, 0);
	ck_assert_int_eq(a.verdict, FBPF_ERROR);
	ck_assert_uint_eq(a.err, 2);
	a = on_dir(x, FBPF_OP_CREATE, "/", "doc", USER, 0);
	ck_assert_uint_eq(a.err, 13);
	/* nested: the directory /d.x is stored d */
	a = on_dir(x, FBPF_OP_LOOKUP, "/d.x", "f.x", USER, 0);
	ck_assert_str_eq(a.out_name, "f");
	/* names already ending in the suffix are renamed again */
	a = readdir_entry(x, "/", "a.x", USER, 0, FILE_MODE);
	ck_assert_str_eq(a.out_name, "a.x.x");
	ck_assert(x->low.callbacks == (FBPF_CB_BIT(FBPF_OP_LOOKUP, FBPF_PRE) | FBPF_CB_BIT(FBPF_OP_READDIR, FBPF_PRE) |
				       FBPF_CB_BIT(FBPF_OP_READDIR, FBPF_POST)));
	drop(x);
}
END_TEST

START_TEST(rename_collisions_eclipse_the_stored_entry)
{
	struct pol *x = compile("policy t\nrename \"**/*.txt\" suffix \".bak\"\n");
	struct fbpf_args a;

	a = readdir_entry(x, "/d", "a.txt", USER, 0, FILE_MODE);
	ck_assert_str_eq(a.out_name, "a.txt.bak");
	/* a stored a.txt.bak would be shown under the same name: eclipsed */
	a = readdir_entry(x, "/d", "a.txt.bak", USER, 0, FILE_MODE);
	ck_assert(a.out_flags & FBPF_OUT_HIDDEN);
	a = on_dir(x, FBPF_OP_LOOKUP, "/d", "a.txt.bak", USER, 0);
	ck_assert_str_eq(a.out_name, "a.txt");
	/* an unrelated name is itself */
	a = on_dir(x, FBPF_OP_LOOKUP, "/d", "b.md", USER, 0);
	ck_assert_str_eq(a.out_name, "b.md");
	a = readdir_entry(x, "/d", "b.md", USER, 0, FILE_MODE);
	ck_assert_str_eq(a.out_name, "b.md");
	ck_assert(!(a.out_flags & FBPF_OUT_HIDDEN));
	drop(x);
}
END_TEST

START_TEST(prefix_and_ext_renames)
{
	struct pol *x = compile("policy t\nrename \"/legacy/*.jpeg\" ext \".jpeg\" to \".jpg\"\n"
				"rename \"/old/*\" prefix \"OLD_\"\n");
	struct fbpf_args a;

	a = readdir_entry(x, "/legacy", "cat.jpeg", USER, 0, FILE_MODE);
	ck_assert_str_eq(a.out_name, "cat.jpg");
	a = on_dir(x, FBPF_OP_LOOKUP, "/legacy", "cat.jpg", USER, 0);
	ck_assert_str_eq(a.out_name, "cat.jpeg");
	/* a stored cat.jpg is eclipsed by cat.jpeg's shown name */
	a = readdir_entry(x, "/legacy", "cat.jpg", USER, 0, FILE_MODE);
	ck_assert(a.out_flags & FBPF_OUT_HIDDEN);
	/* ".jpeg" alone is not renamed (the name must be longer than the extension) */
	a = readdir_entry(x, "/legacy", ".jpeg", USER, 0, FILE_MODE);
	ck_assert_str_eq(a.out_name, ".jpeg");
	a = readdir_entry(x, "/old", "f", USER, 0, FILE_MODE);
	ck_assert_str_eq(a.out_name, "OLD_f");
	a = on_dir(x, FBPF_OP_LOOKUP, "/old", "OLD_f", USER, 0);
	ck_assert_str_eq(a.out_name, "f");
	a = on_dir(x, FBPF_OP_LOOKUP, "/old", "f", USER, 0);
	ck_assert_int_eq(a.verdict, FBPF_ERROR);
	drop(x);
}
END_TEST

START_TEST(long_names_keep_their_stored_name)
{
	struct pol *x = compile("policy t\nrename \"**\" suffix \".longsuffix\"\n");
	char name[256];
	struct fbpf_args a;

	memset(name, 'n', 250);
	name[250] = 0;
	a = readdir_entry(x, "/", name, USER, 0, FILE_MODE);
	ck_assert(!(a.out_flags & FBPF_OUT_HIDDEN));
	ck_assert_uint_eq(a.out_name_len, 250);
	a = on_dir(x, FBPF_OP_LOOKUP, "/", name, USER, 0);
	ck_assert_int_eq(a.verdict, FBPF_CONTINUE);
	ck_assert_uint_eq(a.out_name_len, 250);
	drop(x);
}
END_TEST

START_TEST(attr_rewrites_in_post_filters)
{
	struct pol *x = compile("policy t\nattr \"/Download/**\" { uid = 1000; gid = 9997; mode &= 0750 }\n");
	struct fbpf_args a;
	unsigned long long st = state_of(x, "/Download/f");

	a = run(x, FBPF_OP_GETATTR, FBPF_POST, st, NULL, USER, 0, 0, FILE_MODE);
	ck_assert(a.out_flags & FBPF_OUT_ATTR);
	ck_assert_uint_eq(a.a_set, FBPF_ATTR_UID | FBPF_ATTR_GID | FBPF_ATTR_MODE);
	ck_assert_uint_eq(a.a_uid, 1000);
	ck_assert_uint_eq(a.a_gid, 9997);
	ck_assert_uint_eq(a.a_mode_and, 0750);
	ck_assert_uint_eq(a.a_mode_or, 0);
	a = run(x, FBPF_OP_GETATTR, FBPF_PRE, st, NULL, USER, 0, 0, FILE_MODE);
	ck_assert(!(a.out_flags & FBPF_OUT_ATTR));
	a = readdir_entry(x, "/Download", "f", USER, 0, FILE_MODE);
	ck_assert(a.out_flags & FBPF_OUT_ATTR);
	a = run(x, FBPF_OP_GETATTR, FBPF_POST, state_of(x, "/Other/f"), NULL, USER, 0, 0, FILE_MODE);
	ck_assert(!(a.out_flags & FBPF_OUT_ATTR));
	drop(x);
}
END_TEST

START_TEST(conditions_follow_precedence)
{
	/* not > and > or: hide when uid == 1 or (uid == 1000 and not gid == 1000) */
	struct pol *x = compile("policy t\nhide \"/h\" when uid == 1 or uid == 1000 and not gid == 1000\n");

	ck_assert_uint_eq(lookup(x, "/h", (struct caller){ 1, 1000 }, 0, FILE_MODE).err, 2);
	ck_assert_int_eq(lookup(x, "/h", (struct caller){ 1000, 1000 }, 0, FILE_MODE).verdict, FBPF_CONTINUE);
	ck_assert_uint_eq(lookup(x, "/h", (struct caller){ 1000, 5 }, 0, FILE_MODE).err, 2);
	ck_assert_int_eq(lookup(x, "/h", (struct caller){ 7, 5 }, 0, FILE_MODE).verdict, FBPF_CONTINUE);
	drop(x);
}
END_TEST

START_TEST(the_root_and_dead_states)
{
	struct pol *x = compile("policy t\nhide \"**\"\n");
	struct fbpf_args a;

	/* the root itself is never matched */
	a = run(x, FBPF_OP_GETATTR, FBPF_PRE, FBPF_STATE_ROOT, NULL, USER, 0, 0, DIR_MODE);
	ck_assert_int_eq(a.verdict, FBPF_CONTINUE);
	a = lookup(x, "/x", USER, 0, FILE_MODE);
	ck_assert_uint_eq(a.err, 2);
	/* a state past the end of the automaton is dead: nothing applies */
	a = run(x, FBPF_OP_LOOKUP, FBPF_PRE, 99999999, "x", USER, 0, 0, 0);
	ck_assert_uint_eq(a.state, FBPF_STATE_DEAD);
	drop(x);
}
END_TEST

START_TEST(pruning_keeps_hit_lists_short)
{
	/* 1,000 rules, all matching /d/...: only the first unconditional deny of
	 * each op set can decide, so hit lists stay short and later rules are
	 * reported as shadowed */
	char *src = malloc(1 << 20);
	size_t n = 0;
	int i;
	struct pol *x;

	n += (size_t)sprintf(src + n, "policy t\ndeny write \"/d/**\" with EROFS\n");
	for (i = 0; i < 999; i++)
		n += (size_t)sprintf(src + n, "deny write \"/d/f%d\" with EPERM\n", i);
	x = compile(src);
	ck_assert_int_eq(x->low.shadowed_by[0], 0);
	ck_assert_int_eq(x->low.shadowed_by[5], 1);
	ck_assert_uint_eq(run(x, FBPF_OP_WRITE, FBPF_PRE, state_of(x, "/d"), "f7", USER, 0, 0, FILE_MODE).err, 30);
	drop(x);
	free(src);
}
END_TEST

START_TEST(cost_does_not_grow_with_rules)
{
	/* the same request against 1 and 1,000 unrelated rules walks the same
	 * number of hit-list entries: the answer and the state's list agree */
	char *src = malloc(1 << 20);
	size_t n = 0;
	int i;
	struct pol *one, *many;
	struct fbpf_args a, b;

	one = compile("policy t\nhide \"/data/app0/secret\"\n");
	n += (size_t)sprintf(src + n, "policy t\nhide \"/data/app0/secret\"\n");
	for (i = 1; i < 1000; i++)
		n += (size_t)sprintf(src + n, "hide \"/data/app%d/secret\"\n", i);
	many = compile(src);
	a = lookup(one, "/data/app0/secret", USER, 0, FILE_MODE);
	b = lookup(many, "/data/app0/secret", USER, 0, FILE_MODE);
	ck_assert_uint_eq(a.err, 2);
	ck_assert_uint_eq(b.err, 2);
	ck_assert_uint_eq(b.rule, 1);
	a = lookup(many, "/data/app999/secret", USER, 0, FILE_MODE);
	ck_assert_uint_eq(a.rule, 1000);
	{
		unsigned hits = many->o.words[many->o.words[FBPF_T_D(0, FBPF_D_HITS)] + (unsigned)b.state];

		ck_assert_uint_eq(many->o.words[hits], 1); /* one rule in the list, not 1,000 */
	}
	drop(one);
	drop(many);
	free(src);
}
END_TEST

/* What READDIR/PRE promises about a directory's entries (fbpf_abi.h). */
static unsigned promises(struct pol *x, const char *dirpath)
{
	return run(x, FBPF_OP_READDIR, FBPF_PRE, state_of(x, dirpath), NULL, USER, 0, 0, DIR_MODE).out_flags & FBPF_OUT_PROMISES;
}

/* The parts of an answer a promise speaks for. */
static int same_answer(const struct fbpf_args *a, const struct fbpf_args *b)
{
	unsigned m = FBPF_OUT_HIDDEN | FBPF_OUT_NAME | FBPF_OUT_ATTR;

	return a->verdict == b->verdict && a->err == b->err && (a->out_flags & m) == (b->out_flags & m) &&
	       a->a_set == b->a_set && a->a_uid == b->a_uid && a->a_mode_and == b->a_mode_and &&
	       a->out_name_len == b->out_name_len && !memcmp(a->out_name, b->out_name, a->out_name_len);
}

/* Check every promise of directory dirpath against the answers for names. */
static void check_promises(struct pol *x, const char *dirpath)
{
	static const char *names[] = { "x", "x.tmp", "c", "d", ".cache", "y.x", "h" };
	static const struct caller who[] = { { 0, 0 }, { 1000, 1000 }, { 1001, 1001 } };
	static const unsigned ops[] = { FBPF_OP_GETATTR, FBPF_OP_OPEN, FBPF_OP_WRITE, FBPF_OP_SETATTR };
	unsigned p = promises(x, dirpath), i, w, o;
	unsigned long long dir = state_of(x, dirpath);

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		struct fbpf_args base = run(x, FBPF_OP_READDIR, FBPF_POST, dir, names[i], ROOT, 0, 0, FILE_MODE);
		unsigned long long st = run(x, FBPF_OP_LOOKUP, FBPF_PRE, dir, names[i], ROOT, 0, 0, 0).state;

		if (p & FBPF_OUT_LIST_PLAIN) {
			ck_assert_msg(!(base.out_flags & (FBPF_OUT_HIDDEN | FBPF_OUT_ATTR)), "%s/%s", dirpath, names[i]);
			ck_assert(base.out_name_len == strlen(names[i]) && !memcmp(base.out_name, names[i], base.out_name_len));
		}
		for (w = 0; w < 3; w++) {
			struct fbpf_args a, b;

			/* listing and lookup: another entry, another caller */
			a = run(x, FBPF_OP_READDIR, FBPF_POST, dir, names[i], who[w], 0, w ? 1000 : 0, w & 1 ? DIR_MODE : FILE_MODE);
			if ((p & FBPF_OUT_KIDS_NO_CALLER) && (p & FBPF_OUT_KIDS_NO_ENTRY))
				ck_assert_msg(same_answer(&a, &base), "%s/%s listed", dirpath, names[i]);
			for (o = 0; o < sizeof(ops) / sizeof(ops[0]); o++) {
				a = run(x, ops[o], FBPF_PRE, st, NULL, who[w], 0, 0, FILE_MODE);
				b = run(x, ops[o], FBPF_PRE, st, NULL, who[w], 0, 1000, DIR_MODE);
				if (p & FBPF_OUT_KIDS_NO_ENTRY)
					ck_assert_msg(same_answer(&a, &b), "%s/%s op %u", dirpath, names[i], ops[o]);
				b = run(x, ops[o], FBPF_PRE, st, NULL, ROOT, 0, 0, FILE_MODE);
				if (p & FBPF_OUT_KIDS_NO_CALLER)
					ck_assert_msg(same_answer(&a, &b), "%s/%s op %u caller", dirpath, names[i], ops[o]);
			}
			a = run(x, FBPF_OP_DELETE, FBPF_PRE, dir, names[i], who[w], 0, 0, FILE_MODE);
			b = run(x, FBPF_OP_DELETE, FBPF_PRE, dir, names[i], who[w], 0, 1000, DIR_MODE);
			if (p & FBPF_OUT_KIDS_NO_ENTRY)
				ck_assert_msg(same_answer(&a, &b), "%s/%s delete", dirpath, names[i]);
			b = run(x, FBPF_OP_DELETE, FBPF_PRE, dir, names[i], ROOT, 0, 0, FILE_MODE);
			if (p & FBPF_OUT_KIDS_NO_CALLER)
				ck_assert_msg(same_answer(&a, &b), "%s/%s delete caller", dirpath, names[i]);
			a = run(x, FBPF_OP_LOOKUP, FBPF_POST, st, NULL, who[w], 0, 0, FILE_MODE);
			b = run(x, FBPF_OP_LOOKUP, FBPF_POST, st, NULL, who[w], 0, 1000, DIR_MODE);
			if (p & FBPF_OUT_KIDS_NO_ENTRY)
				ck_assert_msg(same_answer(&a, &b), "%s/%s lookup", dirpath, names[i]);
		}
	}
}

START_TEST(listing_promises_follow_the_rules_below)
{
	static const char *dirs[] = { "", "/a", "/b", "/b/c", "/e", "/f", "/g", "/g/h", "/z", "/z/y" };
	struct pol *x = compile("policy t\n"
				"hide \"/a/*.tmp\"\n"
				"hide \"/b/c/d\" unless uid == owner\n"
				"deny write \"/e/*\" with EROFS when uid == 1000\n"
				"rename \"/f/*\" suffix \".x\"\n"
				"attr \"/g/**\" { mode &= 0700 }\n");
	struct pol *y = compile("policy t\nhide \"**/.cache\" when type == dir\n");
	unsigned i;

	ck_assert_uint_eq(promises(x, ""), FBPF_OUT_PROMISES);
	ck_assert_uint_eq(promises(x, "/a"), FBPF_OUT_KIDS_NO_ENTRY | FBPF_OUT_KIDS_NO_CALLER);
	ck_assert_uint_eq(promises(x, "/b"), FBPF_OUT_PROMISES);
	ck_assert_uint_eq(promises(x, "/b/c"), 0);
	ck_assert_uint_eq(promises(x, "/e"), FBPF_OUT_LIST_PLAIN | FBPF_OUT_KIDS_NO_ENTRY);
	ck_assert_uint_eq(promises(x, "/f"), FBPF_OUT_KIDS_NO_ENTRY | FBPF_OUT_KIDS_NO_CALLER);
	ck_assert_uint_eq(promises(x, "/g/h"), FBPF_OUT_KIDS_NO_ENTRY | FBPF_OUT_KIDS_NO_CALLER);
	ck_assert_uint_eq(promises(x, "/z"), FBPF_OUT_PROMISES);
	ck_assert_uint_eq(promises(y, "/z/y"), FBPF_OUT_KIDS_NO_CALLER);
	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		check_promises(x, dirs[i]);
		check_promises(y, dirs[i]);
	}
	/* READDIR/PRE is there to ask whenever READDIR/POST is */
	ck_assert(x->o.meta.callbacks & FBPF_CB_BIT(FBPF_OP_READDIR, FBPF_PRE));
	drop(x);
	drop(y);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("lowering and evaluator");
	TCase *tc = tcase_create("semantics");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, hide_hides_from_every_operation);
	tcase_add_test(tc, first_rule_per_kind_and_hide_wins);
	tcase_add_test(tc, defer_names_its_handler);
	tcase_add_test(tc, write_open_is_also_write);
	tcase_add_test(tc, entry_conditions);
	tcase_add_test(tc, suffix_rename_maps_both_ways);
	tcase_add_test(tc, rename_collisions_eclipse_the_stored_entry);
	tcase_add_test(tc, prefix_and_ext_renames);
	tcase_add_test(tc, long_names_keep_their_stored_name);
	tcase_add_test(tc, attr_rewrites_in_post_filters);
	tcase_add_test(tc, conditions_follow_precedence);
	tcase_add_test(tc, the_root_and_dead_states);
	tcase_add_test(tc, pruning_keeps_hit_lists_short);
	tcase_add_test(tc, cost_does_not_grow_with_rules);
	tcase_add_test(tc, listing_promises_follow_the_rules_below);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
