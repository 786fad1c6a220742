// SPDX-License-Identifier: GPL-2.0
/*
 * Semantic checks on the tree: names and limits, errno values, conditions
 * (types, sets, size, what a rename may read), rename strings and the number
 * of transforms, handler names and their number, attr items, and every
 * pattern through the automaton's own glob parser.
 *
 * The parser already refuses what it can see token by token (unknown names,
 * a number where a file type belongs, ...) and does not put bad values into
 * the tree; the checks here that repeat some of that only guard trees built
 * by hand.
 */
#include <stdlib.h>
#include <string.h>

#include "ast.h"
#include "automaton.h"
#include "diag.h"
#include "fbpf_abi.h"

#define RULES_MAX 65535
#define HANDLERS_MAX 64
#define HANDLER_NAME_MAX 32

/* Quotes user text in a message, shortened when long. */
static const char *q(char *buf, size_t size, const char *s)
{
	size_t n = strlen(s);

	if (n < size - 4) {
		memcpy(buf, s, n + 1);
	} else {
		memcpy(buf, s, size - 4);
		memcpy(buf + size - 4, "...", 4);
	}
	return buf;
}

/* Column of byte `off` of a pattern in the source: the lexer unescaped \"
 * and \\, so where the token is longer than the pattern and its quotes the
 * source is walked. */
static struct loc pattern_point(const struct policy *p, const struct rule *r, int off)
{
	struct loc l = r->pattern_loc;
	const char *line, *s;
	int n, k;

	l.len = 1;
	if ((size_t)r->pattern_loc.len == strlen(r->pattern) + 2 || !p->source) {
		l.col += 1 + off; /* nothing unescaped: bytes are columns */
		return l;
	}
	for (line = p->source, n = 1; n < l.line && line; n++) {
		line = strchr(line, '\n');
		if (line)
			line++;
	}
	if (!line || l.col < 1 || strnlen(line, (size_t)l.col) < (size_t)l.col ||
	    memchr(line, '\n', (size_t)l.col)) {
		l.col += 1 + off;
		return l;
	}
	s = line + l.col; /* just after the opening quote */
	for (k = 0; k < off && *s && *s != '"' && *s != '\n'; k++)
		s += (s[0] == '\\' && (s[1] == '"' || s[1] == '\\')) ? 2 : 1;
	l.col = (int)(s - line) + 1;
	return l;
}

static int handler_name_ok(const char *s)
{
	const char *c;

	if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || *s == '_'))
		return 0;
	for (c = s + 1; *c; c++)
		if (!((*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') ||
		      *c == '_' || *c == '.' || *c == '-'))
			return 0;
	return 1;
}

static int entry_field(int f)
{
	return f == FBPF_F_OWNER || f == FBPF_F_GROUP || f == FBPF_F_TYPE || f == FBPF_F_MODE;
}

/* A stack for walking condition trees without recursion. */
struct walk {
	const struct cond **v;
	int n, cap;
};

static int push(struct walk *w, const struct cond *c)
{
	if (!c)
		return 0;
	if (w->n == w->cap) {
		int cap = w->cap ? w->cap * 2 : 64;
		const struct cond **v = realloc(w->v, (size_t)cap * sizeof(*v));

		if (!v)
			return -1;
		w->v = v;
		w->cap = cap;
	}
	w->v[w->n++] = c;
	return 0;
}

static void check_atom(const struct cond *c, int in_rename, struct diag *d)
{
	int i;

	if (c->field < FBPF_F_UID || c->field > FBPF_F_MODE)
		return; /* an unknown field, reported by the parser */
	if (c->kind == COND_CMP && (c->cmp < FBPF_EQ || c->cmp > FBPF_GE)) {
		diag_error(d, c->loc, "invalid comparison");
		return;
	}
	if (c->kind == COND_CMP && c->rhs_is_field && (c->rhs < FBPF_F_UID || c->rhs > FBPF_F_MODE)) {
		diag_error(d, c->loc, "invalid field on the right of '%s'", cmp_name(c->cmp));
		return;
	}
	if (in_rename) {
		int f = entry_field(c->field) ? c->field :
			(c->kind == COND_CMP && c->rhs_is_field && entry_field((int)c->rhs)) ? (int)c->rhs : 0;

		if (f) {
			diag_error(d, c->loc, "a rename condition may test only the caller (uid, gid, pid), "
				   "not the entry's '%s'", field_name(f));
			diag_note(d, c->loc, "a rename maps names before any entry is looked up");
		}
	}
	if (c->kind == COND_IN) {
		if (c->nset < 1 || c->nset > FBPF_SET_MAX)
			diag_error(d, c->loc, "an 'in' set holds 1 to %d values; this one has %d",
				   FBPF_SET_MAX, c->nset);
		if (c->field == FBPF_F_TYPE)
			for (i = 0; i < c->nset; i++)
				if (c->set[i] < FBPF_TYPE_FILE || c->set[i] > FBPF_TYPE_BLOCK) {
					diag_error(d, c->loc, "%u is not a file type", c->set[i]);
					break;
				}
		return;
	}
	if (c->field == FBPF_F_TYPE || (c->rhs_is_field && c->rhs == FBPF_F_TYPE)) {
		if (c->rhs_is_field && c->field == FBPF_F_TYPE && c->rhs == FBPF_F_TYPE) {
			/* type == type: pointless but well typed */
		} else if (c->rhs_is_field) {
			diag_error(d, c->loc, "'type' is compared with file types (file, dir, symlink, ...), "
				   "not with '%s'", field_name(c->field == FBPF_F_TYPE ? (int)c->rhs : c->field));
			return;
		} else if (c->rhs < FBPF_TYPE_FILE || c->rhs > FBPF_TYPE_BLOCK) {
			diag_error(d, c->loc, "%u is not a file type", c->rhs);
			return;
		}
		if (c->cmp != FBPF_EQ && c->cmp != FBPF_NE)
			diag_error(d, c->loc, "'type' is compared with == or != (or 'in'), not with '%s'",
				   cmp_name(c->cmp));
	}
}

static void check_cond(const struct cond *root, int in_rename, struct diag *d)
{
	struct walk w = { 0 };
	const struct cond *c;
	int nodes = 0, oom = 0;

	/* size first: it is reported at the whole condition */
	oom |= push(&w, root);
	while (w.n && !oom) {
		c = w.v[--w.n];
		nodes++;
		oom |= push(&w, c->l);
		oom |= push(&w, c->r);
	}
	if (!oom && nodes > FBPF_COND_MAX) {
		diag_error(d, root->loc, "condition too large: %d terms, at most %d (each comparison, 'in' test, "
			   "'and', 'or' and 'not' counts, and 'unless' adds a 'not')", nodes, FBPF_COND_MAX);
	}
	/* then every atom, in the order written */
	w.n = 0;
	oom |= push(&w, root);
	while (w.n && !oom && d->errors <= DIAG_MAX_ERRORS) {
		c = w.v[--w.n];
		if (c->kind == COND_CMP || c->kind == COND_IN) {
			check_atom(c, in_rename, d);
		} else {
			oom |= push(&w, c->r);
			oom |= push(&w, c->l);
		}
	}
	if (oom)
		diag_error(d, root->loc, "out of memory checking this condition");
	free(w.v);
}

static void check_xstr(struct diag *d, struct loc loc, const char *what, const char *s)
{
	char b[80];
	size_t n;

	if (!s)
		return;
	n = strlen(s);
	if (!n)
		diag_error(d, loc, "the %s must not be empty", what);
	else if (strchr(s, '/'))
		diag_error(d, loc, "the %s '%s' must not contain '/': a rename changes a name, not a directory",
			   what, q(b, sizeof(b), s));
	else if (n > FBPF_XSTR_MAX)
		diag_error(d, loc, "the %s is too long: %zu bytes, at most %d", what, n, FBPF_XSTR_MAX);
}

static int str_eq(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

int sema_check(struct policy *p, struct diag *d)
{
	const char *handlers[HANDLERS_MAX];
	struct {
		int kind;
		const char *s1, *s2;
	} xf[FBPF_XFORM_MAX];
	int e0, nh = 0, nx = 0, more_h = 0, more_x = 0, i, k;
	char b[80];

	if (!p || !d)
		return 0;
	e0 = d->errors;
	if (p->name && strlen(p->name) > FBPF_POLICY_NAME_MAX)
		diag_error(d, p->name_loc, "policy name '%s' is too long: %zu bytes, at most %d",
			   q(b, sizeof(b), p->name), strlen(p->name), FBPF_POLICY_NAME_MAX);
	for (i = 0; i < p->nrules && d->errors <= DIAG_MAX_ERRORS; i++) {
		const struct rule *r = &p->rules[i];
		const char *msg = NULL;
		int off = 0;

		if (i == RULES_MAX)
			diag_error(d, r->loc, "too many rules: a policy holds at most %d", RULES_MAX);
		if (r->pattern && glob_check(r->pattern, &off, &msg) < 0) {
			if (off < 0)
				off = 0;
			if ((size_t)off > strlen(r->pattern))
				off = (int)strlen(r->pattern);
			diag_error(d, pattern_point(p, r, off), "%s", msg ? msg : "invalid pattern");
		}
		switch (r->kind) {
		case RULE_DENY:
			if (r->err < 1 || r->err > 4095)
				diag_error(d, r->loc, "errno %d is out of range: 1 to 4095", r->err);
			break;
		case RULE_DEFER:
			if (!r->handler)
				break;
			if (!handler_name_ok(r->handler)) {
				diag_error(d, r->handler_loc, "'%s' is not a handler name: use letters, digits, '_', "
					   "'.' and '-', beginning with a letter or '_'", q(b, sizeof(b), r->handler));
				break;
			}
			if (strlen(r->handler) > HANDLER_NAME_MAX) {
				diag_error(d, r->handler_loc, "handler name '%s' is too long: %zu bytes, at most %d",
					   q(b, sizeof(b), r->handler), strlen(r->handler), HANDLER_NAME_MAX);
				break;
			}
			for (k = 0; k < nh; k++)
				if (!strcmp(handlers[k], r->handler))
					break;
			if (k < nh)
				break;
			if (nh < HANDLERS_MAX)
				handlers[nh++] = r->handler;
			else if (!more_h++)
				diag_error(d, r->handler_loc, "too many handlers: a policy defers to at most %d "
					   "different handlers", HANDLERS_MAX);
			break;
		case RULE_RENAME:
			if (r->xform < FBPF_X_SUFFIX || r->xform > FBPF_X_EXT)
				break; /* an unknown transform, reported by the parser */
			if (r->xform == FBPF_X_SUFFIX) {
				check_xstr(d, r->xform_loc, "suffix", r->s1);
			} else if (r->xform == FBPF_X_PREFIX) {
				check_xstr(d, r->xform_loc, "prefix", r->s1);
			} else {
				check_xstr(d, r->xform_loc, "extension", r->s1);
				check_xstr(d, r->xform_loc, "new extension", r->s2);
			}
			for (k = 0; k < nx; k++)
				if (xf[k].kind == r->xform && str_eq(xf[k].s1, r->s1) && str_eq(xf[k].s2, r->s2))
					break;
			if (k < nx)
				break;
			if (nx < FBPF_XFORM_MAX) {
				xf[nx].kind = r->xform;
				xf[nx].s1 = r->s1;
				xf[nx].s2 = r->s2;
				nx++;
			} else if (!more_x++) {
				diag_error(d, r->xform_loc, "more than %d different rename transforms", FBPF_XFORM_MAX);
			}
			break;
		case RULE_ATTR:
			if (!r->a_set)
				diag_error(d, r->attr_loc, "an attr rule needs at least one item: uid = N, gid = N "
					   "or mode = M");
			if (((r->a_set & FBPF_ATTR_UID) && r->a_uid == 0xffffffffu) ||
			    ((r->a_set & FBPF_ATTR_GID) && r->a_gid == 0xffffffffu))
				diag_error(d, r->attr_loc, "uid and gid are at most 4294967294");
			if ((r->a_set & FBPF_ATTR_MODE) && ((r->a_mode_and | r->a_mode_or) & ~07777u))
				diag_error(d, r->attr_loc, "mode values are at most 07777");
			break;
		default:
			break;
		}
		if (r->cond)
			check_cond(r->cond, r->kind == RULE_RENAME, d);
	}
	return d->errors - e0;
}
