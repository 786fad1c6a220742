// SPDX-License-Identifier: GPL-2.0
/*
 * Golden diagnostics: for every tests/golden/NAME.fbp, what parse_policy and
 * sema_check print must be exactly tests/golden/NAME.expected.
 *
 * As in fbpfc, sema_check runs only when the file parsed without errors. The
 * file is named NAME.fbp in the messages. A NAME starting with "json_" is run
 * with JSON diagnostics. The source is what parse_policy gets: a C string, so
 * a NUL byte in a file ends the text there (fbpfc refuses such files before
 * parsing; the golden case shows that the front end stays sane anyway).
 *
 * FBPF_UPDATE_GOLDEN=1 rewrites the .expected files from the output.
 */
#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ast.h"
#include "diag.h"

#define GOLDEN_DIR FBPF_SOURCE_DIR "/tests/golden"
#define MIN_CASES 25

static char **cases;
static int ncases;

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void find_cases(void)
{
	DIR *dir = opendir(GOLDEN_DIR);
	struct dirent *e;

	if (!dir)
		return;
	while ((e = readdir(dir))) {
		size_t n = strlen(e->d_name);

		if (n > 4 && !strcmp(e->d_name + n - 4, ".fbp")) {
			cases = realloc(cases, (size_t)(ncases + 1) * sizeof(*cases));
			cases[ncases++] = strndup(e->d_name, n - 4);
		}
	}
	closedir(dir);
	qsort(cases, (size_t)ncases, sizeof(*cases), cmp_names);
}

static char *read_all(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t cap = 0, n = 0, r;

	if (!f)
		return NULL;
	do {
		if (n + 4096 + 1 > cap) {
			cap = cap ? cap * 2 : 8192;
			buf = realloc(buf, cap);
		}
		r = fread(buf + n, 1, cap - n - 1, f);
		n += r;
	} while (r);
	fclose(f);
	buf[n] = 0;
	if (len)
		*len = n;
	return buf;
}

/* The diagnostics for one source, as fbpfc would print them. */
static char *run(const char *name, const char *source, int json)
{
	struct diag d;
	struct policy *p;
	char *out = NULL;
	size_t outlen = 0;
	FILE *f = open_memstream(&out, &outlen);

	diag_init(&d, name, source, f);
	d.json = json;
	p = parse_policy(name, source, &d);
	if (!d.errors)
		sema_check(p, &d);
	policy_free(p);
	fclose(f);
	return out;
}

/* Line number of the first difference, for the failure message. */
static int first_diff_line(const char *a, const char *b)
{
	int line = 1;

	for (; *a && *a == *b; a++, b++)
		if (*a == '\n')
			line++;
	return line;
}

START_TEST(golden_case)
{
	const char *name = cases[_i];
	char path[4096], fname[512], *src, *want, *got;

	snprintf(path, sizeof(path), "%s/%s.fbp", GOLDEN_DIR, name);
	snprintf(fname, sizeof(fname), "%s.fbp", name);
	src = read_all(path, NULL);
	ck_assert_msg(src != NULL, "cannot read %s", path);
	got = run(fname, src, !strncmp(name, "json_", 5));
	snprintf(path, sizeof(path), "%s/%s.expected", GOLDEN_DIR, name);
	if (getenv("FBPF_UPDATE_GOLDEN") && !strcmp(getenv("FBPF_UPDATE_GOLDEN"), "1")) {
		FILE *f = fopen(path, "wb");

		ck_assert_msg(f != NULL, "cannot write %s", path);
		fputs(got, f);
		fclose(f);
	} else {
		want = read_all(path, NULL);
		ck_assert_msg(want != NULL, "%s is missing: run with FBPF_UPDATE_GOLDEN=1 to create it", path);
		ck_assert_msg(!strcmp(want, got),
			      "%s: the diagnostics differ from %s.expected at line %d\n"
			      "---- expected ----\n%s---- got ----\n%s", fname, name,
			      first_diff_line(want, got), want, got);
		free(want);
	}
	free(got);
	free(src);
}
END_TEST

START_TEST(enough_cases)
{
	ck_assert_msg(ncases >= MIN_CASES, "only %d golden cases in %s, want at least %d", ncases, GOLDEN_DIR,
		      MIN_CASES);
}
END_TEST

/* Every case but the valid ones reports at least one error, and the
 * expected text is deterministic (a second run prints the same). */
START_TEST(stable_output)
{
	int i;

	for (i = 0; i < ncases; i++) {
		char path[4096], fname[512], *src, *a, *b;

		snprintf(path, sizeof(path), "%s/%s.fbp", GOLDEN_DIR, cases[i]);
		snprintf(fname, sizeof(fname), "%s.fbp", cases[i]);
		src = read_all(path, NULL);
		ck_assert_ptr_nonnull(src);
		a = run(fname, src, 0);
		b = run(fname, src, 0);
		ck_assert_str_eq(a, b);
		if (strncmp(cases[i], "ok_", 3))
			ck_assert_msg(strstr(a, "error:") != NULL, "%s reports no error", fname);
		else
			ck_assert_msg(!strstr(a, "error:"), "%s should be clean:\n%s", fname, a);
		free(a);
		free(b);
		free(src);
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("golden");
	TCase *tc = tcase_create("golden");
	SRunner *sr;
	int failed;

	find_cases();
	tcase_add_test(tc, enough_cases);
	tcase_add_test(tc, stable_output);
	tcase_add_loop_test(tc, golden_case, 0, ncases);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
