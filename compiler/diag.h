/* SPDX-License-Identifier: GPL-2.0 */
/* Diagnostics in the style of a C compiler:
 *   rules.fbp:3:8: error: unknown operation 'wirte'
 *       deny wirte "/DCIM/"
 *            ^~~~~
 *   rules.fbp:3:8: note: did you mean 'write'?
 */
#ifndef FBPFC_DIAG_H
#define FBPFC_DIAG_H

#include <stdio.h>
#include "ast.h"

struct diag {
	const char *file;
	const char *source;   /* for quoting the line; may be NULL */
	FILE *out;            /* stderr by default */
	int errors, warnings;
	int json;             /* one JSON object per line instead of text */
	int color;            /* ANSI colours (only when out is a terminal) */
	/* private to diag.c: where the last quoted line starts, so that quoting
	 * lines in file order stays linear */
	const char *lc_source, *lc_at;
	int lc_line;
};

/* After this many errors, one "too many errors" line and silence. */
#define DIAG_MAX_ERRORS 50

void diag_init(struct diag *d, const char *file, const char *source, FILE *out);
void diag_error(struct diag *d, struct loc loc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void diag_warning(struct diag *d, struct loc loc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void diag_note(struct diag *d, struct loc loc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* A message about no place in the file ("fbpfc: error: ..."). */
void diag_plain(struct diag *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The candidate nearest to `word` by edit distance, if near enough to be a
 * likely typo; NULL otherwise. `cands` ends with NULL. */
const char *did_you_mean(const char *word, const char *const *cands);

#endif
