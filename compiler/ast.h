/* SPDX-License-Identifier: GPL-2.0 */
/* The syntax tree of a policy, as the parser builds it and sema checks it. */
#ifndef FBPFC_AST_H
#define FBPFC_AST_H

#include <stdint.h>

struct loc {
	int line;    /* 1-based */
	int col;     /* 1-based byte column of the first character */
	int len;     /* bytes underlined by the caret, at least 1 */
};

enum cond_kind { COND_CMP = 1, COND_IN, COND_AND, COND_OR, COND_NOT };

/* A condition on the caller or the entry. Fields and comparisons use the
 * FBPF_F_* and FBPF_* codes of stdlib/fbpf_abi.h. */
struct cond {
	enum cond_kind kind;
	struct loc loc;
	int field;             /* CMP, IN: left-hand field */
	int cmp;               /* CMP: FBPF_EQ ... */
	int rhs_is_field;      /* CMP: rhs names a field */
	uint32_t rhs;          /* CMP: constant or field */
	uint32_t *set;         /* IN: values */
	int nset;
	struct cond *l, *r;    /* AND, OR: both; NOT: l */
};

enum rule_kind { RULE_HIDE = 1, RULE_DENY, RULE_DEFER, RULE_RENAME, RULE_ATTR };

struct rule {
	enum rule_kind kind;   /* same values as FBPF_R_* */
	struct loc loc;        /* the keyword */
	int index;             /* 1-based position in the policy */
	uint32_t ops;          /* FBPF op mask; FBPF_OPMASK_ALL where the rule has no op list */
	struct loc ops_loc;
	char *pattern;         /* glob text, quotes removed, escapes kept as written */
	struct loc pattern_loc;/* the opening quote */
	struct cond *cond;     /* NULL: always; "unless C" is stored as NOT(C) */
	int err;               /* deny: positive errno (EACCES when not given) */
	char *handler;         /* defer: handler name */
	struct loc handler_loc;
	int xform;             /* rename: FBPF_X_* */
	char *s1, *s2;         /* rename: suffix/prefix, or ext from/to */
	struct loc xform_loc;
	uint32_t a_set, a_uid, a_gid, a_mode_and, a_mode_or; /* attr, as in fbpf_args */
	struct loc attr_loc;
};

struct policy {
	char *name;
	struct loc name_loc;
	struct rule *rules;
	int nrules;
	const char *file;      /* path as given on the command line */
	const char *source;    /* whole source text, NUL-terminated */
};

struct diag;

/* Parse `source` (named `file` in messages). Errors are reported through
 * `d`; the returned policy holds every rule that parsed. Never NULL. */
struct policy *parse_policy(const char *file, const char *source, struct diag *d);
void policy_free(struct policy *p);

/* Semantic checks (names, limits, errno values, transforms, patterns).
 * Returns the number of errors reported. */
int sema_check(struct policy *p, struct diag *d);

/* Names of codes, for messages, dump and explain. */
const char *op_name(int op);             /* "lookup" ... */
const char *field_name(int field);       /* "uid" ... */
const char *cmp_name(int cmp);           /* "==" ... */
const char *rule_kind_name(int kind);    /* "hide" ... */
const char *type_name(uint32_t type);    /* "file" ... */
const char *errno_name(int err);         /* "EROFS" ..., NULL if unknown */
int errno_by_name(const char *name);     /* 0 if unknown */

#endif
