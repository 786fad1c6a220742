// SPDX-License-Identifier: GPL-2.0
/*
 * The differential test: one policy, two engines, one meaning.
 *
 * Random policies are compiled by the real fbpfc (real clang) into real
 * objects; their filters run in this kernel as BPF programs (the syscall
 * twins, through BPF_PROG_TEST_RUN: real verifier, real JIT) and natively
 * (runtime/eval.c) on the same random requests. Every output must agree.
 *
 * FBPF_DIFF_SEED, FBPF_DIFF_POLICIES and FBPF_DIFF_CASES override the
 * defaults. Needs root; without it every test is skipped (exit 77).
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bpftest.h"
#include "eval.h"
#include "object.h"

#define FBPFC FBPF_BINARY_DIR "/compiler/fbpfc"

static unsigned long long rng_state;

static unsigned rnd(unsigned n)
{
	rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
	return n ? (unsigned)((rng_state >> 33) % n) : 0;
}

static const char *pick(const char *const *v, unsigned n)
{
	return v[rnd(n)];
}
#define PICK(v) pick(v, sizeof(v) / sizeof(v[0]))

/* ---- random policies --------------------------------------------------- */

static const char *const comps[] = { "a", "b", "a.txt", "b.md", ".hid", "*", "*.txt", "*.md", "?",
				     "[ab]*", "{a,b}", "{a,.hid}", "x*", "*.x", "p_*", "a.jpeg" };
static const char *const names[] = { "a", "b", "c", "a.txt", "b.txt", "a.md", "b.md", ".hid", ".x",
				     "a.x", "a.txt.x", "p_a", "p_a.txt", "p_", "x", "xa", "a.jpeg", "a.jpg",
				     "ab", "ba", "a.md.x", "p_p_a", ".txt", "q" };
static const char *const ops[] = { "lookup", "readdir", "getattr", "open", "read", "write", "create",
				   "delete", "rename", "setattr", "modify", "all", "write, create", "open,read" };
static const char *const errnos[] = { "EROFS", "EACCES", "EPERM", "ENOENT", "EIO", "13", "1" };
static const char *const xforms[] = { "suffix \".x\"", "prefix \"p_\"", "ext \".txt\" to \".md\"",
				      "ext \".md\" to \".txt\"", "ext \".jpeg\" to \".jpg\"", "suffix \".txt\"" };

static void gen_pattern(char *buf, size_t len)
{
	int depth = 1 + (int)rnd(3), i;
	size_t n = 0;

	if (rnd(3) == 0)
		n += (size_t)snprintf(buf + n, len - n, "**");
	for (i = 0; i < depth; i++) {
		if (n == 0 || rnd(6))
			n += (size_t)snprintf(buf + n, len - n, "/%s", PICK(comps));
		else
			n += (size_t)snprintf(buf + n, len - n, "/**");
	}
}

static void gen_atom(char *buf, size_t len, int caller_only)
{
	static const char *const cfields[] = { "uid", "gid", "pid" };
	static const char *const efields[] = { "owner", "group", "mode" };
	static const char *const cmps[] = { "==", "!=", "<", "<=", ">", ">=" };
	static const char *const types[] = { "file", "dir", "symlink" };
	static const char *const vals[] = { "0", "1000", "1001", "0644", "0755" };
	int k = (int)rnd(caller_only ? 2 : 5);

	if (k == 0)
		snprintf(buf, len, "%s %s %s", PICK(cfields), PICK(cmps), PICK(vals));
	else if (k == 1)
		snprintf(buf, len, "%s in (0, %s)", PICK(cfields), PICK(vals));
	else if (k == 2)
		snprintf(buf, len, "uid == owner");
	else if (k == 3)
		snprintf(buf, len, "type %s %s", rnd(2) ? "==" : "!=", PICK(types));
	else
		snprintf(buf, len, "%s %s %s", PICK(efields), PICK(cmps), PICK(vals));
}

static void gen_cond(char *buf, size_t len, int caller_only)
{
	char a[128], b[128];

	buf[0] = 0;
	switch (rnd(5)) {
	case 0:
	case 1:
		return;
	case 2:
		gen_atom(a, sizeof(a), caller_only);
		snprintf(buf, len, " %s %s", rnd(2) ? "when" : "unless", a);
		return;
	default:
		gen_atom(a, sizeof(a), caller_only);
		gen_atom(b, sizeof(b), caller_only);
		snprintf(buf, len, " when %s(%s) %s %s", rnd(3) ? "" : "not ", a, rnd(2) ? "and" : "or", b);
		return;
	}
}

static void gen_policy(FILE *f, int id)
{
	int n = 1 + (int)rnd(10), i;
	char pat[256], cond[300];

	fprintf(f, "policy diff%d\n", id);
	for (i = 0; i < n; i++) {
		gen_pattern(pat, sizeof(pat));
		switch (rnd(5)) {
		case 0:
			gen_cond(cond, sizeof(cond), 0);
			fprintf(f, "hide \"%s\"%s\n", pat, cond);
			break;
		case 1:
			gen_cond(cond, sizeof(cond), 0);
			fprintf(f, "deny %s \"%s\" with %s%s\n", PICK(ops), pat, PICK(errnos), cond);
			break;
		case 2:
			gen_cond(cond, sizeof(cond), 0);
			fprintf(f, "defer %s \"%s\" to \"h%u\"%s\n", PICK(ops), pat, rnd(3), cond);
			break;
		case 3:
			gen_cond(cond, sizeof(cond), 1);
			fprintf(f, "rename \"%s\" %s%s\n", pat, PICK(xforms), cond);
			break;
		default:
			gen_cond(cond, sizeof(cond), 0);
			fprintf(f, "attr \"%s\" { uid = %u; mode &= 0750; mode |= 0%o }%s\n", pat, 1000 + rnd(3),
				rnd(8), cond);
			break;
		}
	}
}

/* ---- running both engines ---------------------------------------------- */

/* Compare the outputs that carry meaning. Returns 1 if equal; otherwise 0
 * with the first difference described in why. */
static int args_equal(const struct fbpf_args *x, const struct fbpf_args *y, char *why, size_t len)
{
#define SAME(f)                                                                       \
	if (x->f != y->f) {                                                           \
		snprintf(why, len, #f ": bpf %lld, native %lld", (long long)x->f, (long long)y->f); \
		return 0;                                                             \
	}
	SAME(verdict);
	SAME(err);
	SAME(out_flags);
	SAME(rule);
	SAME(handler);
	SAME(state);
	if (x->out_flags & FBPF_OUT_ATTR) {
		SAME(a_set);
		SAME(a_uid);
		SAME(a_gid);
		SAME(a_mode_and);
		SAME(a_mode_or);
	}
	if (x->out_flags & FBPF_OUT_NAME) {
		SAME(out_name_len);
		if (x->out_name_len > FBPF_NAME_MAX || memcmp(x->out_name, y->out_name, x->out_name_len)) {
			snprintf(why, len, "out_name: bpf '%.*s', native '%.*s'", (int)(x->out_name_len & 0xff),
				 x->out_name, (int)(y->out_name_len & 0xff), y->out_name);
			return 0;
		}
	}
#undef SAME
	return 1;
}

static void describe(const struct fbpf_args *a, char *buf, size_t len)
{
	snprintf(buf, len, "op %u phase %u flags %u dir_state %#llx uid %u gid %u pid %u entry %u/%u/%o name '%.*s'",
		 a->op, a->phase, a->flags, (unsigned long long)a->dir_state, a->uid, a->gid, a->pid, a->e_uid, a->e_gid, a->e_mode,
		 (int)a->name_len, a->name);
}

static int compile_policy(const char *src, const char *obj)
{
	pid_t pid = fork();
	int st;

	if (pid == 0) {
		execl(FBPFC, FBPFC, "compile", "--all-filters", src, "-o", obj, (char *)NULL);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &st, 0) < 0)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void random_args(struct fbpf_args *a, const unsigned long long *states, unsigned nstates)
{
	static const unsigned types[] = { 0100000, 0040000, 0120000, 0010000 };
	static const unsigned ids[] = { 0, 1000, 1001, 7 };
	const char *nm;

	memset(a, 0, sizeof(*a));
	/* fill the output part with junk: the filters must overwrite it */
	memset((char *)a + FBPF_ARGS_OUT_OFFSET, 0xa5, sizeof(*a) - FBPF_ARGS_OUT_OFFSET);
	a->op = rnd(FBPF_OP_COUNT);
	a->phase = rnd(2);
	a->flags = (rnd(4) ? FBPF_IN_ENTRY : 0) | (rnd(3) ? 0 : FBPF_IN_WRITE) | (rnd(4) ? 0 : FBPF_IN_TARGET);
	a->dir_state = rnd(20) ? states[rnd(nstates)] : ((unsigned long long)rnd(100000) << (rnd(2) ? 32 : 0)) | rnd(100000);
	a->uid = ids[rnd(4)];
	a->gid = ids[rnd(4)];
	a->pid = rnd(3) ? 1 : 1000;
	a->e_uid = ids[rnd(4)];
	a->e_gid = ids[rnd(4)];
	a->e_mode = types[rnd(4)] | (rnd(2) ? 0644 : 0755);
	if (rnd(5)) {
		nm = PICK(names);
		a->name_len = (unsigned)strlen(nm);
		memcpy(a->name, nm, a->name_len);
	}
	if (rnd(50) == 0) { /* a long name, near NAME_MAX */
		a->name_len = 250 + rnd(6);
		memset(a->name, 'a', a->name_len);
		memcpy(a->name + a->name_len - 4, ".txt", 4);
	}
}

/* Match states reachable by shown paths, found with the native lookup. */
static unsigned collect_states(const struct fbpf_object *o, unsigned long long *states, unsigned max)
{
	unsigned n = 0, i, d;
	struct fbpf_args a;

	states[n++] = FBPF_STATE_ROOT;
	for (i = 0; i < 200 && n < max; i++) {
		unsigned long long st = FBPF_STATE_ROOT;

		for (d = 0; d < 1 + rnd(3) && n < max; d++) {
			const char *nm = PICK(names);

			memset(&a, 0, sizeof(a));
			a.op = FBPF_OP_LOOKUP;
			a.phase = FBPF_PRE;
			a.dir_state = st;
			a.name_len = (unsigned)strlen(nm);
			memcpy(a.name, nm, a.name_len);
			fbpf_eval(o, &a);
			st = a.state;
			states[n++] = st;
		}
	}
	return n;
}

static unsigned env_num(const char *name, unsigned dflt)
{
	const char *v = getenv(name);

	return v && *v ? (unsigned)strtoul(v, NULL, 0) : dflt;
}

static void need_root(void)
{
	if (geteuid() != 0) {
		fprintf(stderr, "SKIP: the differential test runs BPF programs and needs root\n");
		exit(77);
	}
}

START_TEST(engines_agree)
{
	unsigned seed = env_num("FBPF_DIFF_SEED", 20261123), npol = env_num("FBPF_DIFF_POLICIES", 80);
	unsigned ncases = env_num("FBPF_DIFF_CASES", 200), p, i, total = 0, nstates;
	unsigned long long states[1024];
	char dir[] = "/tmp/fbpf-diff.XXXXXX", src[128], obj[128], err[8192], why[512], what[512];

	ck_assert_ptr_nonnull(mkdtemp(dir));
	rng_state = seed;
	printf("differential test: seed %u, %u policies x %u cases\n", seed, npol, ncases);
	for (p = 0; p < npol; p++) {
		struct fbpf_object *o;
		struct fbpf_bpftest *t;
		FILE *f;

		snprintf(src, sizeof(src), "%s/p%u.fbp", dir, p);
		snprintf(obj, sizeof(obj), "%s/p%u.o", dir, p);
		f = fopen(src, "w");
		ck_assert_ptr_nonnull(f);
		gen_policy(f, (int)p);
		fclose(f);
		ck_assert_msg(compile_policy(src, obj) == 0, "fbpfc failed on %s", src);
		ck_assert_msg(fbpf_object_read(obj, &o, err, sizeof(err)) == 0, "%s", err);
		ck_assert_msg(fbpf_bpftest_open(obj, o, &t, err, sizeof(err)) == 0, "%s", err);
		nstates = collect_states(o, states, 1024);
		for (i = 0; i < ncases; i++) {
			struct fbpf_args in, kb, nat;
			int rb, rn;

			random_args(&in, states, nstates);
			kb = in;
			nat = in;
			rb = fbpf_bpftest_run(t, &kb);
			rn = fbpf_eval(o, &nat);
			describe(&in, what, sizeof(what));
			ck_assert_msg(rb >= 0, "BPF run failed (%d) on policy %s, %s", rb, src, what);
			ck_assert_msg(rb == rn, "verdicts differ: bpf %d native %d (policy %s, %s)", rb, rn, src, what);
			ck_assert_msg(args_equal(&kb, &nat, why, sizeof(why)), "engines differ: %s (policy %s, %s)",
				      why, src, what);
			total++;
		}
		fbpf_bpftest_close(t);
		fbpf_object_free(o);
		unlink(src);
		unlink(obj);
	}
	rmdir(dir);
	printf("differential test: %u cases, the BPF programs and the native evaluator agree on all\n", total);
	ck_assert_uint_ge(total, 10000);
}
END_TEST

/* The comparator must see a difference in every output field. */
START_TEST(comparator_catches_planted_differences)
{
	struct fbpf_args x, y;
	char why[256];
	int f;

	memset(&x, 0, sizeof(x));
	x.out_flags = FBPF_OUT_NAME | FBPF_OUT_ATTR;
	x.out_name_len = 3;
	memcpy(x.out_name, "abc", 3);
	y = x;
	ck_assert(args_equal(&x, &y, why, sizeof(why)));
	for (f = 0; f < 13; f++) {
		y = x;
		switch (f) {
		case 0: y.verdict = 1; break;
		case 1: y.err = 30; break;
		case 2: y.out_flags |= FBPF_OUT_HIDDEN; break;
		case 3: y.rule = 2; break;
		case 4: y.handler = 1; break;
		case 5: y.state = 9; break;
		case 6: y.a_set = 1; break;
		case 7: y.a_uid = 1; break;
		case 8: y.a_gid = 1; break;
		case 9: y.a_mode_and = 1; break;
		case 10: y.a_mode_or = 1; break;
		case 11: y.out_name_len = 2; break;
		default: y.out_name[1] = 'X'; break;
		}
		ck_assert_msg(!args_equal(&x, &y, why, sizeof(why)), "planted difference %d not seen", f);
	}
}
END_TEST

/* A planted disagreement between the engines themselves: the BPF side runs
 * with one table word changed; the harness must notice. */
START_TEST(harness_catches_a_corrupted_engine)
{
	char dir[] = "/tmp/fbpf-diff.XXXXXX", src[128], obj[128], err[8192], why[256];
	struct fbpf_object *o, *bad;
	struct fbpf_bpftest *t;
	unsigned i, seen = 0, at;
	FILE *f;

	need_root();
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(src, sizeof(src), "%s/planted.fbp", dir);
	snprintf(obj, sizeof(obj), "%s/planted.o", dir);
	f = fopen(src, "w");
	ck_assert_ptr_nonnull(f);
	fputs("policy planted\ndeny write \"/a/**\" with EROFS\nhide \"**/.hid\"\n", f);
	fclose(f);
	ck_assert_int_eq(compile_policy(src, obj), 0);
	ck_assert_int_eq(fbpf_object_read(obj, &o, err, sizeof(err)), 0);
	ck_assert_int_eq(fbpf_object_read(obj, &bad, err, sizeof(err)), 0);
	/* change the errno of rule 1 in the copy the kernel gets */
	at = bad->words[FBPF_T_RULES] + FBPF_RW_A0;
	ck_assert_uint_eq(bad->words[at], 30);
	bad->words[at] = 1;
	ck_assert_msg(fbpf_bpftest_open(obj, bad, &t, err, sizeof(err)) == 0, "%s", err);
	for (i = 0; i < 50; i++) {
		struct fbpf_args in, kb, nat;

		memset(&in, 0, sizeof(in));
		in.op = FBPF_OP_WRITE;
		in.phase = FBPF_PRE;
		in.dir_state = FBPF_STATE_ROOT;
		in.name_len = 1;
		in.name[0] = 'a';
		/* state of /a, then a child of it */
		nat = in;
		nat.op = FBPF_OP_LOOKUP;
		fbpf_eval(o, &nat);
		in.dir_state = nat.state;
		in.name[0] = (char)('a' + i % 3);
		kb = in;
		nat = in;
		ck_assert_int_ge(fbpf_bpftest_run(t, &kb), 0);
		fbpf_eval(o, &nat);
		if (!args_equal(&kb, &nat, why, sizeof(why)))
			seen++;
	}
	ck_assert_msg(seen > 0, "a corrupted BPF table went unnoticed");
	fbpf_bpftest_close(t);
	fbpf_object_free(o);
	fbpf_object_free(bad);
	unlink(src);
	unlink(obj);
	rmdir(dir);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("differential");
	TCase *tc = tcase_create("engines");
	SRunner *sr;
	int failed;

	tcase_set_timeout(tc, 900);
	tcase_add_test(tc, comparator_catches_planted_differences);
	if (geteuid() == 0) {
		tcase_add_test(tc, harness_catches_a_corrupted_engine);
		tcase_add_test(tc, engines_agree);
	} else {
		fprintf(stderr, "SKIP: the differential test runs BPF programs and needs root\n");
		return 77;
	}
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
