/* SPDX-License-Identifier: GPL-2.0 */
/* Backend: the BPF C of a policy, the .fbpf section, and the clang run that
 * turns both into rules.o. */
#ifndef FBPFC_BACKEND_H
#define FBPFC_BACKEND_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "ast.h"
#include "lower.h"

struct diag;

/* The generated C depends only on the policy name and the filters it
 * needs; `blob` is the file clang embeds as section .fbpf (NULL: none). */
void backend_emit_c(FILE *out, const char *policy, uint32_t callbacks, const char *blob);

/* Section .fbpf: struct fbpf_meta, string table, table words. */
int backend_meta_blob(const struct policy *p, const struct lowered *l,
		      unsigned char **buf, size_t *len);

struct driver_opts {
	const char *clang;     /* NULL: $FBPF_CLANG, then the one found at build time, then PATH */
	const char *emit_c;    /* also write the generated C here */
	int verbose;           /* print the clang command */
};

/* Write rules.o. Returns 0, or -1 after reporting through d. */
int driver_build(const struct policy *p, const struct lowered *l, const char *out_path,
		 const struct driver_opts *o, struct diag *d);

/* The clang fbpfc would run, or NULL (with a sentence in why) if none. */
const char *driver_find_clang(const char *override, char *why, size_t whylen);

#endif
