// SPDX-License-Identifier: GPL-2.0
/*
 * The automaton: globs -> one minimal DFA -> comb tables.
 *
 *  - random globs and random well-formed paths: the DFA's accept lists
 *    against glob_match, the backtracking reference; random strings over
 *    the glob syntax; every short path over a small alphabet;
 *  - the comb against the dense table, for every state and class;
 *  - one or more cases for every sentence of the "Patterns" section of the
 *    specification, and every error of its error list;
 *  - minimality: equivalent patterns cost no states, and an independent
 *    (Moore) refinement finds nothing left to merge;
 *  - a generated 10,000-rule policy: build time (printed) and agreement on
 *    sample paths.
 *
 * FBPF_TEST_SEED=<n> replays the random tests with another seed.
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "automaton.h"

#define MAX_STATES 2000000 /* as lower.c passes */

/* ck_assert records every passing check (a write per check): in loops
 * that run millions of times, only report failures. */
#define REQUIRE(cond, ...)                          \
	do {                                        \
		if (!(cond))                        \
			ck_abort_msg(__VA_ARGS__);  \
	} while (0)

/* ---- helpers ---------------------------------------------------------------- */

static uint64_t rng_state;

static uint32_t rnd(void)
{
	rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
	return (uint32_t)(rng_state >> 33);
}

static unsigned rn(unsigned n)
{
	return rnd() % n;
}

static uint64_t test_seed(const char *what)
{
	const char *e = getenv("FBPF_TEST_SEED");
	uint64_t s = e ? strtoull(e, NULL, 0) : 20240611;

	printf("%s: seed %llu (FBPF_TEST_SEED to change)\n", what, (unsigned long long)s);
	fflush(stdout);
	return s;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Build a DFA of globs g[0..n) as rules 1..n; all must be valid. */
static struct dfa *build(const char *const *g, int n)
{
	struct nfa *nf = nfa_new();
	const char *msg = NULL;
	struct dfa *d;

	ck_assert_ptr_nonnull(nf);
	for (int i = 0; i < n; i++) {
		int off = -1;

		msg = NULL;
		REQUIRE(nfa_add_glob(nf, g[i], i + 1, &off, &msg) == 0, "glob %s: %s at %d", g[i], msg ? msg : "?",
			off);
	}
	d = dfa_build(nf, MAX_STATES, &msg);
	if (!d) {
		for (int i = 0; i < n; i++)
			fprintf(stderr, "  rule %d: %s\n", i + 1, g[i]);
		ck_abort_msg("dfa_build: %s", msg ? msg : "?");
	}
	nfa_free(nf);
	return d;
}

static uint32_t run(const struct dfa *d, const char *path)
{
	uint32_t s = 1;

	for (const unsigned char *p = (const unsigned char *)path; *p && s; p++)
		s = d->trans[(size_t)s * (size_t)d->nclasses + d->classmap[*p]];
	return s;
}

static int accepts(const struct dfa *d, uint32_t s, int rule)
{
	for (int i = 0; i < d->naccept[s]; i++)
		if (d->accept[s][i] == rule)
			return 1;
	return 0;
}

static int dmatch(const struct dfa *d, const char *path, int rule)
{
	return accepts(d, run(d, path), rule);
}

/* The comb gives the dense table's answer for every state and class. */
static void check_comb(const struct dfa *d)
{
	struct comb c;

	ck_assert_int_eq(dfa_comb(d, &c), 0);
	for (int s = 0; s < d->nstates; s++)
		for (int k = 0; k < d->nclasses; k++) {
			uint32_t i = c.base[s] + (uint32_t)k;
			uint32_t t = (i < c.ncomb && c.check[i] == (uint32_t)s) ? c.next[i] : c.def[s];

			REQUIRE(t == d->trans[(size_t)s * (size_t)d->nclasses + (size_t)k],
				"comb: state %d class %d gives %u, dense %u", s, k, t,
				      d->trans[(size_t)s * (size_t)d->nclasses + (size_t)k]);
		}
	comb_free(&c);
}

/* Well-formedness of the tables: dead state, sorted accept lists. */
static void check_shape(const struct dfa *d)
{
	ck_assert_int_ge(d->nstates, 2);
	ck_assert_int_eq(d->naccept[0], 0);
	for (int k = 0; k < d->nclasses; k++)
		ck_assert_uint_eq(d->trans[k], 0);
	for (int s = 0; s < d->nstates; s++) {
		for (int i = 1; i < d->naccept[s]; i++)
			REQUIRE(d->accept[s][i - 1] < d->accept[s][i], "state %d: accept list not sorted", s);
		for (int k = 0; k < d->nclasses; k++)
			REQUIRE(d->trans[(size_t)s * (size_t)d->nclasses + (size_t)k] < (uint32_t)d->nstates,
				"state %d class %d: target out of range", s, k);
	}
	/* the root (empty path) is never matched */
	ck_assert_int_eq(d->naccept[1], 0);
}

static int same_list(const struct dfa *d, int a, int b)
{
	return d->naccept[a] == d->naccept[b] &&
	       !memcmp(d->accept[a], d->accept[b], (size_t)d->naccept[a] * sizeof(int));
}

/* Moore refinement, independent of dfa.c: the number of classes of
 * equivalent states. */
static int moore_blocks(const struct dfa *d)
{
	int n = d->nstates, k = d->nclasses, nb = 0, changed = 1;
	int *blk = malloc((size_t)n * sizeof(int)), *nbk = malloc((size_t)n * sizeof(int));

	for (int s = 0; s < n; s++) {
		blk[s] = -1;
		for (int t = 0; t < s; t++)
			if (same_list(d, s, t)) {
				blk[s] = blk[t];
				break;
			}
		if (blk[s] < 0)
			blk[s] = nb++;
	}
	while (changed) {
		int m = 0;

		changed = 0;
		for (int s = 0; s < n; s++) {
			nbk[s] = -1;
			for (int t = 0; t < s && nbk[s] < 0; t++) {
				int eq = blk[s] == blk[t];

				for (int c = 0; eq && c < k; c++)
					eq = blk[d->trans[(size_t)s * k + c]] == blk[d->trans[(size_t)t * k + c]];
				if (eq)
					nbk[s] = nbk[t];
			}
			if (nbk[s] < 0)
				nbk[s] = m++;
		}
		if (m != nb)
			changed = 1;
		nb = m;
		memcpy(blk, nbk, (size_t)n * sizeof(int));
	}
	/* the start state is kept apart from the dead one even when nothing
	 * can match: count it */
	if (blk[0] == blk[1])
		nb++;
	free(blk);
	free(nbk);
	return nb;
}

/* ---- (1) random globs against the reference ------------------------------------- */

static const char *const atoms[] = { "a", "b", ".", "*", "?", "[ab]", "[!a]", "{a,b}",
				      "{a,b/a}", "{,a}", "\\a", "[a-b]" };

static void random_component(char *buf)
{
	int n = 1 + (int)rn(3);

	if (rn(8) == 0) {
		strcat(buf, "**");
		return;
	}
	for (int i = 0; i < n; i++)
		strcat(buf, atoms[rn(sizeof(atoms) / sizeof(atoms[0]) - (rn(3) ? 3 : 0))]);
}

static void random_glob(char *buf)
{
	static const char *const raw[] = { "a", "b", ".", "/", "*", "?", "**", "[ab]", "[!a]", "{a,b}" };

	buf[0] = 0;
	if (rn(5) == 0) { /* anything from the alphabet: often malformed */
		int n = 1 + (int)rn(6);

		for (int i = 0; i < n; i++)
			strcat(buf, raw[rn(sizeof(raw) / sizeof(raw[0]))]);
		return;
	}
	{
		int n = 1 + (int)rn(4);

		if (rn(4) == 0) {
			strcat(buf, "**");
			n--;
		}
		for (int i = 0; i < n; i++) {
			strcat(buf, "/");
			random_component(buf);
		}
		if (!buf[0])
			strcat(buf, "**");
	}
}

static void random_path(char *buf)
{
	static const char alpha[] = "ab.c";
	int depth = 1 + (int)rn(4);

	buf[0] = 0;
	for (int i = 0; i < depth; i++) {
		char comp[8];
		int len;

		do {
			len = 1 + (int)rn(3);
			for (int j = 0; j < len; j++)
				comp[j] = alpha[rn(4)];
			comp[len] = 0;
		} while (!strcmp(comp, ".") || !strcmp(comp, ".."));
		strcat(buf, "/");
		strcat(buf, comp);
	}
}

START_TEST(test_random_vs_reference)
{
	long comparisons = 0, invalid = 0, policies = 0, matches = 0;

	rng_state = test_seed("random globs");
	for (int round = 0; round < 400; round++) {
		char globs[6][256];
		const char *ok[6];
		int n = 1 + (int)rn(6), nok = 0;
		struct dfa *d;

		for (int i = 0; i < n; i++) {
			int off = -1, off2 = -1;
			const char *msg = NULL, *msg2 = NULL;

			random_glob(globs[i]);
			if (glob_check(globs[i], &off, &msg) == 0) {
				ok[nok++] = globs[i];
				continue;
			}
			/* the same verdict from nfa_add_glob, and no match */
			{
				struct nfa *nf = nfa_new();

				ck_assert_int_eq(nfa_add_glob(nf, globs[i], 1, &off2, &msg2), -1);
				ck_assert_int_eq(off, off2);
				ck_assert_str_eq(msg, msg2);
				ck_assert_int_ge(off, 0);
				ck_assert_int_le(off, (int)strlen(globs[i]));
				nfa_free(nf);
			}
			ck_assert_int_eq(glob_match(globs[i], "/a"), 0);
			invalid++;
		}
		if (!nok)
			continue;
		d = build(ok, nok);
		policies++;
		check_shape(d);
		if (round % 4 == 0) {
			int nb = moore_blocks(d);

			ck_assert_msg(nb == d->nstates, "not minimal: %d states, %d classes of equivalent states",
				      d->nstates, nb);
		}
		check_comb(d);
		for (int p = 0; p < 150; p++) {
			char path[64];
			uint32_t s;

			random_path(path);
			/* now and then not a path: both must still agree (no match) */
			if (rn(20) == 0)
				strcat(path, "/");
			else if (rn(20) == 0)
				strcpy(path, "/");
			else if (rn(20) == 0)
				memmove(path + 1, path, strlen(path) + 1);
			s = run(d, path);
			for (int r = 0; r < nok; r++) {
				int want = glob_match(ok[r], path), got = accepts(d, s, r + 1);

				REQUIRE(want == got, "glob %s path %s: reference %d, DFA %d", ok[r], path, want, got);
				comparisons++;
				matches += want;
			}
		}
		dfa_free(d);
	}
	printf("random globs: %ld policies, %ld DFA/reference comparisons (%ld matches), %ld malformed globs\n",
	       policies, comparisons, matches, invalid);
	ck_assert_int_ge(comparisons, 20000);
	ck_assert_int_ge(matches, 1000);
}
END_TEST

/* Random strings over the glob syntax characters: never a crash; when
 * well formed, the DFA agrees with the reference on paths over the same
 * characters (so that literal '{', ',', ']', '!' ... get matched too). */
START_TEST(test_random_syntax)
{
	static const char chars[] = "/a.*?[]!^-\\{},";
	static const char pchars[] = "a.]!^-\\{},*?[";
	long valid = 0, comparisons = 0, matches = 0;

	rng_state = test_seed("random syntax") + 1;
	for (int round = 0; round < 20000; round++) {
		char g[24], path[24];
		int len = 1 + (int)rn(12), off = -1;
		const char *msg = NULL;
		struct dfa *d;

		g[0] = rn(2) ? '/' : '*';
		for (int i = 1; i < len; i++)
			g[i] = chars[rn(sizeof(chars) - 1)];
		g[len] = 0;
		if (glob_check(g, &off, &msg) < 0) {
			REQUIRE(msg && off >= 0 && off <= len, "%s: offset %d", g, off);
			continue;
		}
		valid++;
		d = build((const char *const *)&(const char *){ g }, 1);
		for (int p = 0; p < 40; p++) {
			int depth = 1 + (int)rn(3), n = 0;

			for (int i = 0; i < depth; i++) {
				int cl = 1 + (int)rn(4);

				path[n++] = '/';
				for (int j = 0; j < cl; j++)
					path[n++] = pchars[rn(sizeof(pchars) - 1)];
			}
			path[n] = 0;
			if (strstr(path, "/./") || strstr(path, "/../"))
				continue;
			{
				int want = glob_match(g, path);

				REQUIRE(want == dmatch(d, path, 1), "glob %s path %s: reference %d", g, path, want);
				comparisons++;
				matches += want;
			}
		}
		dfa_free(d);
	}
	printf("random syntax: %ld well-formed globs, %ld comparisons (%ld matches)\n", valid, comparisons,
	       matches);
	ck_assert_int_ge(valid, 1000);
}
END_TEST

/* Exhaustive over short paths: every well-formed path over {a, .} up to 7
 * bytes, for a fixed set of tricky globs at once. */
START_TEST(test_exhaustive_short_paths)
{
	static const char *const g[] = {
		"**", "/**", "**/a", "/a/**", "/a/**/a", "**/.*", "/*", "/*/*", "/.*/**",
		"/{a,.a}/**/{a,**/..a}", "**/*a*/**", "/[!a]*", "/a?", "/**/**/a", "/{,a}a/*",
	};
	int n = (int)(sizeof(g) / sizeof(g[0])), checked = 0;
	struct dfa *d = build(g, n);

	for (int len = 1; len <= 7; len++)
		for (int bits = 0; bits < (1 << (len * 2)); bits++) {
			char path[16];
			int ok = 1, complen = 0;

			/* bytes from {'/', 'a', '.'} (code 3 unused) */
			for (int i = 0; i < len; i++) {
				int v = (bits >> (i * 2)) & 3;

				if (v == 3)
					ok = 0;
				path[i] = v == 0 ? '/' : v == 1 ? 'a' : '.';
			}
			path[len] = 0;
			if (!ok || path[0] != '/')
				continue;
			/* well formed: no "//", no trailing '/', no "." or ".." components */
			for (int i = 1; i <= len && ok; i++) {
				if (i == len || path[i] == '/') {
					if (!complen || (complen <= 2 && !strncmp(path + i - complen, "..", (size_t)complen)))
						ok = 0;
					complen = 0;
				} else {
					complen++;
				}
			}
			if (!ok)
				continue;
			for (int r = 0; r < n; r++) {
				REQUIRE(glob_match(g[r], path) == dmatch(d, path, r + 1), "glob %s path %s", g[r],
					path);
				checked++;
			}
		}
	printf("exhaustive short paths: %d comparisons\n", checked);
	dfa_free(d);
}
END_TEST

/* ---- (3) every sentence of the specification --------------------------------------- */

struct mcase {
	const char *glob, *path;
	int match;
};

static const struct mcase spec_cases[] = {
	/* anchored at the root, or any depth */
	{ "/a", "/a", 1 }, { "/a", "/b/a", 0 }, { "/a", "/ab", 0 }, { "/a/b", "/a/b", 1 },
	{ "/a/b", "/a", 0 }, { "/a/b", "/a/b/c", 0 },
	/* the root itself is never matched */
	{ "**", "/", 0 }, { "/*", "/", 0 }, { "/**", "/", 0 }, { "/{,a}*", "/", 0 },
	/* '*': any run but '/', also empty, also a leading dot */
	{ "/*", "/a", 1 }, { "/*", "/.hidden", 1 }, { "/*", "/a/b", 0 }, { "/a*", "/a", 1 },
	{ "/*.txt", "/.txt", 1 }, { "/*.txt", "/a.txt", 1 }, { "/*.txt", "/a/b.txt", 0 },
	{ "/a*b*c", "/aXbYbZc", 1 }, { "/a*b*c", "/aXbYbZ", 0 }, { "/*/*", "/a/b", 1 },
	{ "/*/*", "/a", 0 }, { "/x/*", "/x/.git", 1 },
	/* '?': one byte but '/' */
	{ "/a?c", "/abc", 1 }, { "/a?c", "/ac", 0 }, { "/a?c", "/abbc", 0 }, { "/a?", "/a.", 1 },
	{ "/?", "/\xc3", 1 },
	/* classes */
	{ "/[abc]x", "/bx", 1 }, { "/[abc]x", "/dx", 0 }, { "/[a-c]", "/b", 1 }, { "/[a-c]", "/d", 0 },
	{ "/[!a-z]", "/A", 1 }, { "/[!a-z]", "/a", 0 }, { "/[!a-z]", "/-", 1 },
	{ "/[!a-z]x", "/.x", 1 }, { "/[^a-z]", "/m", 0 }, { "/[^a-z]", "/M", 1 }, { "/[]a]", "/]", 1 },
	{ "/[]a]", "/a", 1 }, { "/[]a]", "/b", 0 }, { "/[!]a]", "/b", 1 }, { "/[!]a]", "/]", 0 },
	{ "/[^]]", "/]", 0 }, { "/[a-]", "/-", 1 }, { "/[a-]", "/b", 0 }, { "/[\\]]", "/]", 1 },
	{ "/[\\!a]", "/!", 1 }, { "/x[!a]", "/x/b", 0 }, { "/[+-0]", "/,", 1 }, { "/[z-a]", "/m", 0 },
	{ "/[\x80-\xff]", "/\xe9", 1 }, { "/[\x80-\xff]", "/e", 0 },
	/* "**" */
	{ "/a/**", "/a", 0 }, { "/a/**", "/a/b", 1 }, { "/a/**", "/a/b/c", 1 }, { "/a/**", "/ab", 0 },
	{ "/a/**", "/b/a", 0 }, { "/a/**/b", "/a/b", 1 }, { "/a/**/b", "/a/x/b", 1 },
	{ "/a/**/b", "/a/x/y/b", 1 }, { "/a/**/b", "/a/b/c", 0 }, { "/a/**/b", "/a", 0 },
	{ "/a/**/b", "/a/xb", 0 }, { "/a/**/b", "/b", 0 }, { "/a/**/b", "/a/b/b", 1 },
	{ "**/b", "/b", 1 }, { "**/b", "/x/b", 1 }, { "**/b", "/x/y/b", 1 }, { "**/b", "/bb", 0 },
	{ "**/b", "/b/x", 0 }, { "**/b", "/xb", 0 }, { "**", "/a", 1 }, { "**", "/a/b/c", 1 },
	{ "/**", "/a", 1 }, { "/**/b", "/b", 1 }, { "/a/**/**/b", "/a/b", 1 }, { "/a/**/**/b", "/a/x/y/b", 1 },
	{ "/a/**/**", "/a/x", 1 }, { "/a/**/**", "/a", 0 }, { "**/.cache", "/.cache", 1 },
	{ "**/.cache", "/home/u/.cache", 1 }, { "**/.cache", "/home/u/.cache/x", 0 },
	{ "**/.cache/**", "/x/.cache/y", 1 }, { "**/.cache/**", "/x/.cache", 0 },
	{ "**/*.tmp", "/a/b.tmp", 1 }, { "**/*.tmp", "/a.tmp/b", 0 }, { "**/*.tmp", "/.tmp", 1 },
	{ "/a/**/*", "/a/b", 1 }, { "/a/**/*", "/a", 0 }, { "/a/**/*.c", "/a/x/y.c", 1 },
	/* braces: alternatives, nested, with '/' and glob syntax inside, empty ones */
	{ "/{a,b}/c", "/a/c", 1 }, { "/{a,b}/c", "/b/c", 1 }, { "/{a,b}/c", "/c/c", 0 },
	{ "/{a/b,c}/d", "/a/b/d", 1 }, { "/{a/b,c}/d", "/c/d", 1 }, { "/{a/b,c}/d", "/a/d", 0 },
	{ "/x{,y}", "/x", 1 }, { "/x{,y}", "/xy", 1 }, { "/x{,y}", "/xz", 0 }, { "/{a,{b,c}}", "/c", 1 },
	{ "/{a,{b,c}}", "/d", 0 }, { "/{a*,b?}", "/abc", 1 }, { "/{a*,b?}", "/bc", 1 },
	{ "/{a*,b?}", "/b", 0 }, { "{/a,**/b}", "/a", 1 }, { "{/a,**/b}", "/x/b", 1 },
	{ "{/a,**/b}", "/x/a", 0 }, { "/{}x", "/x", 1 }, { "/{[,],x}", "/,", 1 }, { "/{[,],x}", "/x", 1 },
	{ "/a{/**,}", "/a", 1 }, { "/a{/**,}", "/a/b/c", 1 }, { "/{*}*", "/abc", 1 },
	{ "/{**}/x", "/a/b/x", 1 }, { "/a}", "/a}", 1 }, { "/a,b", "/a,b", 1 },
	/* escapes */
	{ "/a\\*", "/a*", 1 }, { "/a\\*", "/ab", 0 }, { "/\\[a]", "/[a]", 1 }, { "/\\[a]", "/a", 0 },
	{ "/\\?", "/?", 1 }, { "/\\?", "/x", 0 }, { "/a\\/b", "/a/b", 1 }, { "/\\{a,b}", "/{a,b}", 1 },
	{ "/\\{a,b}", "/a", 0 }, { "/\\*\\*", "/**", 1 }, { "/\\*\\*", "/ab", 0 }, { "/a\\", "/a\\", 1 },
	{ "/\\\\", "/\\", 1 },
	/* arbitrary bytes */
	{ "/\xc3\xa9*", "/\xc3\xa9t\xc3\xa9", 1 }, { "/*\xff", "/a\xff", 1 }, { "/\x01", "/\x01", 1 },
};

START_TEST(test_spec_cases)
{
	int n = (int)(sizeof(spec_cases) / sizeof(spec_cases[0]));
	const char **g = malloc((size_t)n * sizeof(char *));
	struct dfa *all;

	/* each case on its own, and all in one automaton */
	for (int i = 0; i < n; i++) {
		struct dfa *d = build(&spec_cases[i].glob, 1);

		g[i] = spec_cases[i].glob;
		ck_assert_msg(glob_match(spec_cases[i].glob, spec_cases[i].path) == spec_cases[i].match,
			      "glob_match(%s, %s) != %d", spec_cases[i].glob, spec_cases[i].path,
			      spec_cases[i].match);
		ck_assert_msg(dmatch(d, spec_cases[i].path, 1) == spec_cases[i].match, "DFA(%s, %s) != %d",
			      spec_cases[i].glob, spec_cases[i].path, spec_cases[i].match);
		check_shape(d);
		dfa_free(d);
	}
	all = build(g, n);
	check_shape(all);
	check_comb(all);
	for (int i = 0; i < n; i++)
		for (int j = 0; j < n; j++)
			REQUIRE(dmatch(all, spec_cases[i].path, j + 1) == glob_match(g[j], spec_cases[i].path),
				"combined: glob %s path %s", g[j], spec_cases[i].path);
	dfa_free(all);
	free(g);
}
END_TEST

/* A directory's state, advanced over "/" + name, is the child's state. */
START_TEST(test_incremental_state)
{
	static const char *const g[] = { "/home/*/.cache/**", "**/*.tmp", "/home/u1/**" };
	struct dfa *d = build(g, 3);
	uint32_t s = run(d, "/home/u1");
	const char *rest = "/.cache/x.tmp";

	for (const unsigned char *p = (const unsigned char *)rest; *p; p++)
		s = d->trans[(size_t)s * (size_t)d->nclasses + d->classmap[*p]];
	ck_assert_uint_eq(s, run(d, "/home/u1/.cache/x.tmp"));
	ck_assert_int_eq(d->naccept[s], 3);
	ck_assert_uint_ne(run(d, "/etc/x"), 0); /* "**" rules match anywhere */
	dfa_free(d);
	{
		static const char *const h[] = { "/a/b" };

		d = build(h, 1);
		ck_assert_uint_eq(run(d, "/c"), 0);
		ck_assert_uint_ne(run(d, "/a"), 0);
		dfa_free(d);
	}
}
END_TEST

/* ---- (4) errors -------------------------------------------------------------------- */

struct ecase {
	const char *glob;
	int off;
	const char *msg; /* a substring */
};

static const struct ecase err_cases[] = {
	{ "", 0, "empty pattern" },
	{ "{}", 0, "empty pattern" },
	{ "a/b", 0, "starts with '/'" },
	{ "*/a", 0, "starts with '/'" },
	{ "{a,/b}", 1, "starts with '/'" },
	{ "/a**", 2, "whole path component" },
	{ "/**a", 1, "whole path component" },
	{ "/a/b**/c", 4, "whole path component" },
	{ "***", 0, "whole path component" },
	{ "**a", 0, "whole path component" },
	{ "/a/x***", 4, "whole path component" },
	{ "/a{*,b}*", 3, "whole path component" },
	{ "/a[bc", 2, "unterminated '['" },
	{ "/[]", 1, "unterminated '['" },
	{ "/[!]", 1, "unterminated '['" },
	{ "/[a\\]", 1, "unterminated '['" },
	{ "/a{b,c", 2, "unterminated '{'" },
	{ "/a{b,{c}", 2, "unterminated '{'" },
	{ "/a{b,{c", 5, "unterminated '{'" },
	{ "/{[}]", 1, "unterminated '{'" },
	{ "/a[b/c]", 4, "'/' inside '[...]'" },
	{ "/a[\\/]", 4, "'/' inside '[...]'" },
	{ "/a[!/]", 4, "'/' inside '[...]'" },
	{ "/a/", 2, "trailing '/'" },
	{ "/", 0, "trailing '/'" },
	{ "**/", 2, "trailing '/'" },
	{ "/{a,}/", 5, "trailing '/'" },
	{ "/a//b", 3, "'//'" },
	{ "//a", 1, "'//'" },
	{ "/a{/,}/b", 6, "'//'" },
	{ "/a/\\/b", 3, "'//'" },
	{ "/a/./b", 3, "'.' or '..'" },
	{ "/a/..", 3, "'.' or '..'" },
	{ "/.", 1, "'.' or '..'" },
	{ "/x/{.,a}", 4, "'.' or '..'" },
	{ "/\\.", 1, "'.' or '..'" },
	{ "**/..", 3, "'.' or '..'" },
	/* 2^11 alternatives: the 11th brace (at 1 + 5 * 10) is the one too many */
	{ "/{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}", 51, "more than 1024 alternatives" },
	{ "/x/{a,b}{a,b}{a,b}{a,{b,c,{d,e}{f,g}{h,i}{j,k}{l,m}{n,o}{p,q}{r,s}{t,u}{v,w}}}", 21,
	  "more than 1024 alternatives" },
};

START_TEST(test_errors)
{
	int n = (int)(sizeof(err_cases) / sizeof(err_cases[0]));

	for (int i = 0; i < n; i++) {
		struct nfa *nf = nfa_new();
		int off = -7;
		const char *msg = NULL;

		ck_assert_msg(nfa_add_glob(nf, err_cases[i].glob, 1, &off, &msg) == -1, "%s accepted",
			      err_cases[i].glob);
		ck_assert_ptr_nonnull(msg);
		ck_assert_msg(strstr(msg, err_cases[i].msg) != NULL, "%s: message '%s', want '%s'",
			      err_cases[i].glob, msg, err_cases[i].msg);
		ck_assert_msg(off == err_cases[i].off, "%s: offset %d, want %d (%s)", err_cases[i].glob, off,
			      err_cases[i].off, msg);
		ck_assert_int_eq(glob_match(err_cases[i].glob, "/a"), 0);
		/* a rejected glob leaves nothing behind */
		{
			struct dfa *d = dfa_build(nf, MAX_STATES, &msg);

			ck_assert_ptr_nonnull(d);
			ck_assert_int_eq(d->nstates, 2);
			dfa_free(d);
		}
		nfa_free(nf);
	}
	/* the boundary: exactly 1024 alternatives are fine */
	{
		const char *g = "/{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}";
		struct dfa *d = build(&g, 1);

		ck_assert(dmatch(d, "/abababbbba", 1));
		ck_assert(!dmatch(d, "/abababbbb", 1));
		dfa_free(d);
	}
}
END_TEST

/* ---- (5) minimisation --------------------------------------------------------------- */

static int states_of(const char *const *g, int n)
{
	struct dfa *d = build(g, n);
	int s = d->nstates;

	dfa_free(d);
	return s;
}

START_TEST(test_minimise)
{
	static const char *const pairs[][2] = {
		{ "/a/**/b", "/a/{b,**/b}" },
		{ "/a/**", "/a/{*,**/*}" },       /* different rule groups */
		{ "/x*", "/x{*,}" },
		{ "/a/*b", "/a/{*b,b,*b}" },
		{ "/a/b", "/a/b" },
		{ "**/.git", "{**/.git,/.git,/**/.git}" },
		{ "/[ab]c", "/{a,b}c" },
		{ "/d/[!a]", "/d/{[!a],[b-c]}" },
	};

	for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
		int one = states_of(pairs[i], 1), two = states_of(pairs[i], 2);

		ck_assert_msg(one == two, "%s: %d states, with %s as well: %d", pairs[i][0], one, pairs[i][1], two);
		ck_assert_int_eq(states_of(&pairs[i][1], 1), one);
	}
	/* the subset construction has more states than the minimal automaton */
	{
		static const char *const g[] = { "/{a*,ab*}" };
		struct dfa *d = build(g, 1);

		ck_assert_int_eq(d->nstates, 4); /* dead, root, "/", "/a..." */
		ck_assert_int_gt(d->raw_states, d->nstates);
		dfa_free(d);
	}
	/* the root is state 1 even when nothing can match */
	{
		static const char *const g[] = { "/[z-a]" };
		struct dfa *d = build(g, 1);

		ck_assert_int_eq(d->nstates, 2);
		ck_assert_uint_eq(run(d, "/a"), 0);
		check_comb(d);
		dfa_free(d);
	}
	/* the same rule twice: one entry in the accept lists */
	{
		struct nfa *nf = nfa_new();
		const char *msg;
		struct dfa *d;

		ck_assert_int_eq(nfa_add_glob(nf, "/a/*", 3, NULL, NULL), 0);
		ck_assert_int_eq(nfa_add_glob(nf, "/a/{x,*}", 3, NULL, NULL), 0);
		ck_assert_int_eq(nfa_add_glob(nf, "**/x", 1, NULL, NULL), 0);
		d = dfa_build(nf, MAX_STATES, &msg);
		ck_assert_ptr_nonnull(d);
		ck_assert_int_eq(d->naccept[run(d, "/a/x")], 2);
		ck_assert_int_eq(d->accept[run(d, "/a/x")][0], 1);
		ck_assert_int_eq(d->accept[run(d, "/a/x")][1], 3);
		ck_assert_int_eq(moore_blocks(d), d->nstates);
		dfa_free(d);
		nfa_free(nf);
	}
}
END_TEST

/* The state limit: a clean error, not a hang or a crash. */
START_TEST(test_state_limit)
{
	struct nfa *nf = nfa_new();
	const char *msg = NULL;
	struct dfa *d;
	char g[64];

	/* "**" + "/a?????" style rules need a state per combination of pending matches */
	for (int i = 0; i < 12; i++) {
		snprintf(g, sizeof(g), "**/%c*/*/*/*%c", 'a' + i, 'a' + i);
		ck_assert_int_eq(nfa_add_glob(nf, g, i + 1, NULL, NULL), 0);
	}
	d = dfa_build(nf, 1000, &msg);
	ck_assert_ptr_null(d);
	ck_assert_ptr_nonnull(msg);
	ck_assert_msg(strstr(msg, "1000") != NULL, "message: %s", msg);
	d = dfa_build(nf, MAX_STATES, &msg);
	ck_assert_ptr_nonnull(d);
	printf("state limit: the 12-rule policy needs %d states\n", d->nstates);
	dfa_free(d);
	nfa_free(nf);
}
END_TEST

/* ---- (6) a generated 10,000-rule policy ----------------------------------------------
 * Mostly anchored rules, and two dozen rules of a leading "**" and a name or
 * an extension (".cache", "*.tmp") spread among them. The size of the one
 * automaton is about the number of anchored states times the number of
 * states the leading-"**" rules can be in below them (every subtree under a
 * final "**" meets every suffix that the "*.tmp" style rules track), so
 * those two dozen rules are what makes it large: printed, not asserted. */

static const char *const exts[] = { "txt", "log", "conf", "json", "md", "csv", "pdf", "png" };
static const char *const unanchored[] = {
	"**/.cache", "**/.git", "**/node_modules", "**/__pycache__", "**/.DS_Store", "**/Thumbs.db",
	"**/.svn", "**/.hg", "**/.idea", "**/.vscode", "**/core", "**/.Trash", "**/*.tmp",
	"**/*.swp", "**/*.o", "**/*.pyc", "**/*.bak", "**/*~", "**/*.class", "**/*.part",
	"**/*.crdownload", "**/.#*", "**/#*#", "**/*.lock",
};
#define NUNANCHORED ((int)(sizeof(unanchored) / sizeof(unanchored[0])))

static void gen_rule(int i, char *buf, size_t len)
{
	int every = 10000 / NUNANCHORED;

	if (i % every == every / 2 && i / every < NUNANCHORED) {
		snprintf(buf, len, "%s", unanchored[i / every]);
		return;
	}
	switch (i % 20) {
	case 0: case 1: case 2: case 3: case 4: case 5: case 6:
		snprintf(buf, len, "/data/app%d/**", i);
		break;
	case 7: case 8: case 9: case 10:
		snprintf(buf, len, "/home/u%d/*.%s", i, exts[i % 8]);
		break;
	case 11: case 12: case 13:
		snprintf(buf, len, "/srv/s%d/{a,b}/x?[0-9]/**", i);
		break;
	case 14: case 15:
		snprintf(buf, len, "/var/log/svc%d/*.log", i);
		break;
	case 16:
		snprintf(buf, len, "/etc/conf%d/[a-m]*.conf", i);
		break;
	case 17:
		snprintf(buf, len, "/opt/pkg%d/bin/*", i);
		break;
	case 18:
		snprintf(buf, len, "/home/u%d/**/*.bak", i - 11);
		break;
	default:
		snprintf(buf, len, "/proj/p%d/{src,include}/**/*.{c,h}", i);
		break;
	}
}

/* Make a path well formed: no empty, "." or ".." components. */
static void sanitize(char *path)
{
	char buf[512], *o = buf;
	const char *p = path;

	while (*p == '/')
		p++;
	while (*p) {
		const char *e = strchr(p, '/');
		size_t n = e ? (size_t)(e - p) : strlen(p);

		*o++ = '/';
		if (!n) {
			*o++ = 'e';
		} else {
			memcpy(o, p, n);
			o += n;
			if ((n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
				*o++ = 'x';
		}
		p += n;
		if (*p == '/')
			p++;
	}
	if (o == buf)
		*o++ = '/', *o++ = 'e';
	*o = 0;
	strcpy(path, buf);
}

/* A random path that a glob of the generator's kind often matches, made by
 * instantiating its syntax; sometimes a little is added so that it misses. */
static void instantiate(const char *g, char *out)
{
	static const char pool[] = "abcxyz.0123456789-_";
	char *o = out;

	while (*g) {
		if (g[0] == '*' && g[1] == '*') {
			int final = !g[2], n = (int)rn(3) + final;

			for (int i = 0; i < n; i++) {
				if (o == out || i)
					*o++ = '/';
				*o++ = "dpq"[rn(3)];
				*o++ = "0123"[rn(4)];
			}
			if (o == out || final) {
				g += 2; /* leading: the next '/' follows; final: the end */
			} else {
				if (n)
					*o++ = '/';
				g += 3; /* "**" + "/" after a '/' */
			}
			continue;
		}
		if (*g == '*') {
			int n = (int)rn(3);

			for (int i = 0; i < n; i++)
				*o++ = pool[rn(sizeof(pool) - 1)];
			g++;
		} else if (*g == '?') {
			*o++ = pool[rn(6)];
			g++;
		} else if (*g == '[') {
			const char *e = strchr(g, ']');
			char c;

			do
				c = (char)('0' + rn(75));
			while (c == '/');
			if (e && e - g == 4 && g[2] == '-') /* [x-y] */
				c = (char)(g[1] + (char)rn((unsigned)(g[3] - g[1] + 1)));
			*o++ = c;
			g = e ? e + 1 : g + 1;
		} else if (*g == '{') {
			const char *e = strchr(g, '}'), *a = g + 1;
			int nalt = 1, pick;

			for (const char *p = a; p < e; p++)
				nalt += *p == ',';
			pick = (int)rn((unsigned)nalt);
			for (int i = 0; i < pick; i++)
				a = strchr(a, ',') + 1;
			while (*a != ',' && *a != '}')
				*o++ = *a++;
			g = e + 1;
		} else {
			*o++ = *g++;
		}
	}
	*o = 0;
	if (rn(4) == 0) /* sometimes a little more */
		strcat(out, rn(2) ? "/x.tmp" : ".cache");
	sanitize(out);
}

START_TEST(test_10k_rules)
{
	enum { N = 10000, SAMPLES = 1500, CHECK_RULES = 300 };
	static char globs[N][96];
	const char *msg = NULL;
	struct nfa *nf;
	struct dfa *d;
	struct comb c;
	double t0, t1, t2, t3;
	long checks = 0, hits = 0;
	int anchored = 0;

	rng_state = test_seed("10k rules");
	for (int i = 0; i < N; i++) {
		gen_rule(i, globs[i], sizeof(globs[i]));
		anchored += globs[i][0] == '/';
	}
	t0 = now();
	nf = nfa_new();
	for (int i = 0; i < N; i++)
		REQUIRE(nfa_add_glob(nf, globs[i], i + 1, NULL, NULL) == 0, "glob %s", globs[i]);
	t1 = now();
	d = dfa_build(nf, MAX_STATES, &msg);
	ck_assert_msg(d != NULL, "dfa_build: %s", msg ? msg : "?");
	t2 = now();
	ck_assert_int_eq(dfa_comb(d, &c), 0);
	t3 = now();
	nfa_free(nf);
	printf("10k rules (%d anchored, %d with a leading **): nfa_add_glob %.3f s, dfa_build %.3f s, "
	       "dfa_comb %.3f s, total %.3f s\n",
	       anchored, N - anchored, t1 - t0, t2 - t1, t3 - t2, t3 - t0);
	printf("10k rules: %d classes; subset construction %d states (summed over the rule groups), "
	       "minimal automaton %d states; comb %u slots: base+default+next+check = %llu words "
	       "(a dense table would be %llu)\n",
	       d->nclasses, d->raw_states, d->nstates, c.ncomb,
	       (unsigned long long)(2ull * (unsigned)d->nstates + 2ull * c.ncomb),
	       (unsigned long long)d->nstates * (unsigned)d->nclasses);
	fflush(stdout);
	check_shape(d);
	/* the comb, on every state and class */
	for (int s = 0; s < d->nstates; s++)
		for (int k = 0; k < d->nclasses; k++) {
			uint32_t i = c.base[s] + (uint32_t)k;
			uint32_t t = (i < c.ncomb && c.check[i] == (uint32_t)s) ? c.next[i] : c.def[s];

			REQUIRE(t == d->trans[(size_t)s * (size_t)d->nclasses + (size_t)k],
				"comb differs at state %d class %d", s, k);
		}
	comb_free(&c);
	/* sample paths: every accepted rule matches by the reference, and for
	 * the path's own rule plus a random sample of the others, membership
	 * agrees with the reference */
	for (int p = 0; p < SAMPLES; p++) {
		char path[512];
		int src = (int)rn(N);
		uint32_t s;

		instantiate(globs[src], path);
		s = run(d, path);
		for (int j = 0; j < d->naccept[s]; j++) {
			int r = d->accept[s][j];

			REQUIRE(glob_match(globs[r - 1], path), "path %s: DFA accepts rule %d (%s)", path, r,
				globs[r - 1]);
			checks++;
		}
		for (int j = 0; j <= CHECK_RULES; j++) {
			int r = j ? (int)rn(N) : src;

			REQUIRE(glob_match(globs[r], path) == accepts(d, s, r + 1), "path %s rule %d (%s): reference %d",
				path, r + 1, globs[r], glob_match(globs[r], path));
			checks++;
		}
		hits += accepts(d, s, src + 1);
	}
	printf("10k rules: %d sample paths, %ld reference checks, %ld paths matched by their own rule\n",
	       SAMPLES, checks, hits);
	ck_assert_int_gt(hits, SAMPLES / 2);
	dfa_free(d);
}
END_TEST

static Suite *automaton_suite(void)
{
	Suite *s = suite_create("automaton");
	TCase *t = tcase_create("core");

	tcase_set_timeout(t, 600);
	tcase_add_test(t, test_spec_cases);
	tcase_add_test(t, test_errors);
	tcase_add_test(t, test_incremental_state);
	tcase_add_test(t, test_minimise);
	tcase_add_test(t, test_exhaustive_short_paths);
	tcase_add_test(t, test_random_vs_reference);
	tcase_add_test(t, test_random_syntax);
	tcase_add_test(t, test_state_limit);
	tcase_add_test(t, test_10k_rules);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(automaton_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
