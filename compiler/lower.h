/* SPDX-License-Identifier: GPL-2.0 */
/* Lowering: a checked policy becomes the table words of fbpf_abi.h. */
#ifndef FBPFC_LOWER_H
#define FBPFC_LOWER_H

#include <stdint.h>
#include "ast.h"

struct diag;

struct lowered {
	uint32_t *words;        /* the tables, words[FBPF_T_WORDS] of them */
	uint32_t nwords;
	uint32_t callbacks;     /* FBPF_CB_BIT mask of the filters the policy needs */
	char **handlers;        /* defer handler names, by handler index */
	int nhandlers;
	int nstates, nclasses;
	uint32_t ncomb;
	/* per rule (index - 1): the first rule that decides before it wherever
	 * its pattern matches, or 0 if it decides somewhere; -1 if its pattern
	 * matches no path at all */
	int *shadowed_by;
};

/* Build the tables. Returns the number of errors reported through d.
 * all_filters: every callback, not only those the policy needs (tests). */
int lower_policy(const struct policy *p, struct diag *d, int all_filters, struct lowered *out);
void lowered_free(struct lowered *l);

#endif
