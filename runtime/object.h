/* SPDX-License-Identifier: GPL-2.0 */
/* Reading a compiled policy: the .fbpf section of rules.o. */
#ifndef FBPF_OBJECT_H
#define FBPF_OBJECT_H

#include <stddef.h>
#include <stdint.h>
#include "fbpf_abi.h"

struct fbpf_object {
	struct fbpf_meta meta;
	char *strtab;             /* meta.strtab_len bytes, NUL-terminated strings */
	uint32_t *words;          /* the tables */
	uint32_t nwords;
	const char *file;         /* the policy's source file name */
	const char *source;       /* the policy source */
	const char **handlers;    /* meta.nhandlers names */
};

/* Read rules.o. On failure returns -1 and writes one sentence saying what is
 * wrong and what to do into err. */
int fbpf_object_read(const char *path, struct fbpf_object **out, char *err, size_t errlen);
int fbpf_object_parse(const void *elf, size_t len, const char *path, struct fbpf_object **out,
		      char *err, size_t errlen);
void fbpf_object_free(struct fbpf_object *o);

/* Line `line` (1-based) of the policy source, without its newline, into buf. */
const char *fbpf_object_source_line(const struct fbpf_object *o, uint32_t line, char *buf, size_t len);
/* Source line of rule `rule` (1-based), 0 if unknown. */
uint32_t fbpf_object_rule_line(const struct fbpf_object *o, uint32_t rule);

#endif
