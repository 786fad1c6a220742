// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target for the front end: parse_policy and sema_check on any
 * bytes, diagnostics to a memory stream (text, JSON or coloured, by the
 * input's length), then a few invariants of the tree. Built with clang
 * -fsanitize=fuzzer,address,undefined by tests/fuzz/fuzz.cmake.
 *
 * The input becomes a C string, as parse_policy takes one: bytes after a
 * NUL are not seen (fbpfc refuses such files before parsing).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ast.h"
#include "diag.h"

#define CHECK(x)                                                                   \
	do {                                                                       \
		if (!(x)) {                                                        \
			fprintf(stderr, "invariant failed: %s (%s:%d)\n", #x, __FILE__, __LINE__); \
			abort();                                                   \
		}                                                                  \
	} while (0)

static void check_loc(struct loc l)
{
	CHECK(l.line >= 1);
	CHECK(l.col >= 1);
	CHECK(l.len >= 1);
}

static void check_cond(const struct cond *root)
{
	const struct cond **stack = NULL;
	int n = 0, cap = 0;

	if (!root)
		return;
	stack = malloc(sizeof(*stack) * 16);
	cap = 16;
	stack[n++] = root;
	while (n) {
		const struct cond *c = stack[--n];

		CHECK(c->kind >= COND_CMP && c->kind <= COND_NOT);
		check_loc(c->loc);
		if (c->kind == COND_AND || c->kind == COND_OR)
			CHECK(c->l && c->r);
		if (c->kind == COND_NOT)
			CHECK(c->l && !c->r);
		if (c->kind == COND_IN)
			CHECK(c->nset >= 0 && (c->nset == 0 || c->set));
		if (n + 2 > cap) {
			cap *= 2;
			stack = realloc(stack, sizeof(*stack) * (size_t)cap);
			CHECK(stack);
		}
		if (c->l)
			stack[n++] = c->l;
		if (c->r)
			stack[n++] = c->r;
	}
	free(stack);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *src = malloc(size + 1), *out = NULL;
	size_t outlen = 0;
	struct diag d;
	struct policy *p;
	FILE *f;
	int i, errors;

	if (!src)
		return 0;
	memcpy(src, data, size);
	src[size] = 0;
	f = open_memstream(&out, &outlen);
	if (!f) {
		free(src);
		return 0;
	}
	diag_init(&d, "fuzz.fbp", src, f);
	d.json = size % 3 == 1;
	d.color = size % 5 == 2;
	p = parse_policy("fuzz.fbp", src, &d);
	CHECK(p);
	CHECK(p->source == src);
	errors = d.errors;
	CHECK(errors >= 0 && errors <= DIAG_MAX_ERRORS + 1);
	if (p->name)
		check_loc(p->name_loc);
	for (i = 0; i < p->nrules; i++) {
		const struct rule *r = &p->rules[i];

		CHECK(r->index == i + 1);
		CHECK(r->kind >= RULE_HIDE && r->kind <= RULE_ATTR);
		check_loc(r->loc);
		check_loc(r->pattern_loc);
		CHECK(r->pattern);
		CHECK(strlen(r->pattern) <= 4096);
		if (i)
			CHECK(r->loc.line >= p->rules[i - 1].loc.line);
		if (r->kind == RULE_DENY)
			CHECK(r->err >= 1 && r->err <= 4095);
		if (r->kind == RULE_DEFER)
			CHECK(r->handler);
		if (r->kind == RULE_RENAME)
			CHECK(r->s1);
		check_cond(r->cond);
	}
	/* sema on whatever parsed, errors or not */
	sema_check(p, &d);
	CHECK(d.errors >= errors && d.errors <= DIAG_MAX_ERRORS + 1);
	if (!errors && d.errors == 0)
		CHECK(p->name != NULL);
	policy_free(p);
	fclose(f);
	if (d.errors)
		CHECK(outlen > 0);
	free(out);
	free(src);
	return 0;
}
