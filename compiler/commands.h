/* SPDX-License-Identifier: GPL-2.0 */
/* fbpfc's commands and what they share. */
#ifndef FBPFC_COMMANDS_H
#define FBPFC_COMMANDS_H

#include <stdio.h>
#include "ast.h"
#include "diag.h"

int cmd_compile(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_explain(int argc, char **argv);
int cmd_dump(int argc, char **argv);

/* Read and parse a policy file and run the semantic checks. Returns the
 * policy (never NULL unless the file cannot be read) with d->errors set.
 * *source receives the text, to free with the policy. */
struct policy *load_policy(const char *path, struct diag *d, char **source, int json);

/* Print a JSON string literal. */

/* A number: decimal, 0octal or 0xhex, whole string. */
int parse_u32(const char *s, unsigned *out);

#endif
