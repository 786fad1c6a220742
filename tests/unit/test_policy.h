/* SPDX-License-Identifier: GPL-2.0 */
/*
 * For tests: a policy compiled in memory through the real front end and
 * lowering, as a struct fbpf_object the evaluator and the handlers take
 * (no clang, no ELF). Every fbpf_unit_test has this folder on its path.
 */
#ifndef FBPF_TEST_POLICY_H
#define FBPF_TEST_POLICY_H

#include <check.h>
#include <stdio.h>
#include <stdlib.h>

#include "ast.h"
#include "diag.h"
#include "lower.h"
#include "object.h"

struct pol {
	struct fbpf_object o;
	struct lowered low;
	struct policy *p;
};

/* Compile src (it must compile: the test fails otherwise). src must outlive
 * the result: the object's source points into it. */
static inline struct pol *compile(const char *src)
{
	struct pol *x = calloc(1, sizeof(*x));
	struct diag d;
	char *errs = NULL;
	size_t errlen = 0;
	FILE *mem = open_memstream(&errs, &errlen);

	diag_init(&d, "test.fbp", src, mem);
	x->p = parse_policy("test.fbp", src, &d);
	if (!d.errors)
		sema_check(x->p, &d);
	if (!d.errors)
		lower_policy(x->p, &d, 0, &x->low);
	fclose(mem);
	ck_assert_msg(d.errors == 0, "policy did not compile:\n%s", errs);
	free(errs);
	x->o.words = x->low.words;
	x->o.nwords = x->low.nwords;
	x->o.meta.callbacks = x->low.callbacks;
	x->o.meta.nrules = (unsigned)x->p->nrules;
	x->o.meta.nhandlers = (unsigned)x->low.nhandlers;
	x->o.handlers = (const char **)x->low.handlers;
	x->o.source = src;
	x->o.file = "test.fbp";
	snprintf(x->o.meta.policy, sizeof(x->o.meta.policy), "%s", x->p->name);
	return x;
}

static inline void drop(struct pol *x)
{
	lowered_free(&x->low);
	policy_free(x->p);
	free(x);
}

#endif
