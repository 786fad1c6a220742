/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The fbp grammar (see the language specification). A pure parser over a
 * reentrant scanner: all state lives in struct fbp_state.
 *
 * Every line is a rule; a line that does not parse is reported once and
 * skipped (the `error NL` rule), and parsing goes on. Words where the
 * grammar wants an operation, a field, a type, an errno, a transform or an
 * attribute are looked up here, so that an unknown one gets its own message
 * and a did-you-mean note; the rule is still kept. Checks that need only the
 * tree (limits, strings, patterns) are in sema.c.
 */
%define api.pure full
%define api.prefix {fbp_}
%define parse.error custom
%define parse.lac full
%define api.token.prefix {TK_}
%locations
%param {struct fbp_state *st}
%initial-action {
	@$.first_line = @$.last_line = 1;
	@$.first_column = @$.last_column = 1;
	@$.first_off = 0;
}

%code requires {
#include <stdint.h>
#include "ast.h"
#include "diag.h"

/* Locations: byte columns, last_column one past the last byte; first_off is
 * the byte offset of the first byte in the source. */
typedef struct FBP_LTYPE {
	int first_line, first_column, last_line, last_column;
	long first_off;
} FBP_LTYPE;
#define FBP_LTYPE_IS_DECLARED 1

struct fbp_num { uint32_t v; int bad; };
struct fbp_ops { uint32_t mask; int given; };
struct fbp_val { int is_word; uint32_t v; int bad; char *word; FBP_LTYPE loc; };
struct fbp_vals { struct fbp_val *v; int n, cap; };
struct fbp_attr { uint32_t set, uid, gid, mand, mor; };
struct fbp_item { int what, op; uint32_t v; int ok; };
struct fbp_xto { char *s; FBP_LTYPE loc; FBP_LTYPE to_loc; };
struct fbp_state;
}

%union {
	char *word;
	char *str;
	struct fbp_num num;
	struct fbp_ops ops;
	struct cond *cond;
	struct fbp_val val;
	struct fbp_vals *vals;
	struct fbp_attr attr;
	struct fbp_item item;
	struct fbp_xto xto;
	int ival;
}

%code provides {
#define FBP_MAX_PARENS 64      /* nesting of ( ) in a condition */
#define FBP_STRING_MAX 4096    /* bytes in a string */
#define FBP_TEXT_MAX 48        /* bytes of a word quoted in a message */

/* A token the scanner has to hand over later (several at once). */
struct fbp_tok { int kind; FBP_STYPE val; FBP_LTYPE loc; };

struct fbp_state {
	struct diag *d;
	const char *source;
	struct policy *p;
	int rcap;
	int errors0;

	/* scanner */
	void *scanner;
	int line, col;
	long off;
	int at_bol;             /* nothing but blanks yet on this physical line */
	char *brk;              /* open brackets, innermost last */
	int nbrk, brkcap, nparen;
	FBP_LTYPE brk_loc[FBP_MAX_PARENS + 2]; /* where the first ones opened */
	int eof_state;
	struct fbp_tok q[3];
	int nq, qi;

	/* context for syntax error messages */
	int cur_kind, prev_kind;
	FBP_LTYPE cur_loc, prev_loc;
	char cur_text[FBP_TEXT_MAX + 8], prev_text[FBP_TEXT_MAX + 8];
	int rule_kw, nstrings, in_braces;

	/* the policy line */
	int seen_policy, missing_done, missing_reported, nrules_seen;
	struct loc policy_loc, first_rule_loc;

	/* one line length remembered, for locations across lines */
	int ll_line;
	int ll_len;
};

int fbp_lex(FBP_STYPE *lval, FBP_LTYPE *lloc, struct fbp_state *st);
void fbp_quote(char *buf, size_t size, const char *s, size_t n);
}

%code {
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ctype.h>
#include <errno.h>

#include "fbpf_abi.h"

#define YYLLOC_DEFAULT(Cur, Rhs, N)                                        \
	do {                                                                \
		if (N) {                                                    \
			(Cur).first_line = YYRHSLOC(Rhs, 1).first_line;     \
			(Cur).first_column = YYRHSLOC(Rhs, 1).first_column; \
			(Cur).first_off = YYRHSLOC(Rhs, 1).first_off;       \
			(Cur).last_line = YYRHSLOC(Rhs, N).last_line;       \
			(Cur).last_column = YYRHSLOC(Rhs, N).last_column;   \
		} else {                                                    \
			(Cur).first_line = (Cur).last_line = YYRHSLOC(Rhs, 0).last_line;     \
			(Cur).first_column = (Cur).last_column = YYRHSLOC(Rhs, 0).last_column; \
			(Cur).first_off = YYRHSLOC(Rhs, 0).first_off;       \
		}                                                           \
	} while (0)

static void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p) {
		fputs("fbpfc: out of memory\n", stderr);
		abort();
	}
	return p;
}

static void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p) {
		fputs("fbpfc: out of memory\n", stderr);
		abort();
	}
	return p;
}

static void yyerror(FBP_LTYPE *lloc, struct fbp_state *st, const char *msg);

/* struct loc of a span; a span over several lines underlines the rest of
 * its first line. */
static struct loc mkloc(struct fbp_state *st, FBP_LTYPE l)
{
	struct loc r = { l.first_line, l.first_column, 1 };

	if (l.last_line == l.first_line) {
		r.len = l.last_column - l.first_column;
	} else {
		if (st->ll_line != l.first_line) {
			const char *s = st->source + l.first_off - (l.first_column - 1);
			const char *e = strchr(s, '\n');
			long n = e ? e - s : (long)strlen(s);

			if (n && s[n - 1] == '\r')
				n--;
			st->ll_line = l.first_line;
			st->ll_len = (int)n;
		}
		r.len = st->ll_len - l.first_column + 1;
	}
	if (r.len < 1)
		r.len = 1;
	return r;
}

#define LOC(l) mkloc(st, (l))

static const char *const rule_words[] = { "policy", "hide", "deny", "defer", "rename", "attr", NULL };
static const char *const op_words[] = { "lookup", "readdir", "getattr", "open", "read", "write", "create",
					"delete", "rename", "setattr", "modify", "all", NULL };
static const char *const field_words[] = { "uid", "gid", "pid", "owner", "group", "type", "mode", NULL };
static const char *const type_words[] = { "file", "dir", "symlink", "fifo", "socket", "chardev", "blockdev", NULL };
static const char *const xform_words[] = { "suffix", "prefix", "ext", NULL };
static const char *const attr_words[] = { "uid", "gid", "mode", NULL };
static const char *const errno_words[] = {
	"EACCES", "EPERM", "EROFS", "ENOENT", "EIO", "ENOSPC", "EEXIST", "ENOTDIR", "EISDIR", "EBUSY",
	"EAGAIN", "EINVAL", "EOPNOTSUPP", "ENOTSUP", "EXDEV", "EDQUOT", "ENAMETOOLONG", "ETXTBSY",
	"ENOTEMPTY", "EFBIG", "EMLINK", "ENXIO", "ENODEV", "ETIMEDOUT", "ECONNREFUSED", "EFAULT",
	"ENOMEM", NULL };

static int is_rule_kw(int k)
{
	return k == YYSYMBOL_POLICY || k == YYSYMBOL_HIDE || k == YYSYMBOL_DENY || k == YYSYMBOL_DEFER ||
	       k == YYSYMBOL_RENAME || k == YYSYMBOL_ATTR;
}

static int word_index(const char *const *words, const char *w)
{
	int i;

	for (i = 0; words[i]; i++)
		if (!strcmp(words[i], w))
			return i;
	return -1;
}

/* `what` 'word' is unknown: an error, and a note with the nearest name or,
 * for short lists, all of them. */
static void unknown(struct fbp_state *st, FBP_LTYPE l, const char *what, const char *w,
		    const char *const *cands, const char *list)
{
	char q[FBP_TEXT_MAX + 8];
	const char *near = did_you_mean(w, cands);

	fbp_quote(q, sizeof(q), w, strlen(w));
	diag_error(st->d, LOC(l), "unknown %s '%s'", what, q);
	if (near)
		diag_note(st->d, LOC(l), "did you mean '%s'?", near);
	else if (list)
		diag_note(st->d, LOC(l), "%s", list);
}

static uint32_t op_mask(struct fbp_state *st, char *w, FBP_LTYPE l)
{
	int i = word_index(op_words, w);
	uint32_t m = 0;

	if (i < 0)
		unknown(st, l, "operation", w, op_words,
			"the operations are lookup, readdir, getattr, open, read, write, create, delete, "
			"rename, setattr, modify and all");
	else if (i < FBPF_OP_COUNT)
		m = 1u << i;
	else if (!strcmp(w, "modify"))
		m = 1u << FBPF_OP_WRITE | 1u << FBPF_OP_CREATE | 1u << FBPF_OP_DELETE |
		    1u << FBPF_OP_RENAME | 1u << FBPF_OP_SETATTR;
	else
		m = FBPF_OPMASK_ALL;
	free(w);
	return m;
}

static struct cond *new_cond(enum cond_kind kind, struct loc loc)
{
	struct cond *c = xmalloc(sizeof(*c));

	memset(c, 0, sizeof(*c));
	c->kind = kind;
	c->loc = loc;
	return c;
}

static struct cond *bin(struct fbp_state *st, enum cond_kind k, struct cond *l, struct cond *r, FBP_LTYPE at)
{
	struct cond *c = new_cond(k, LOC(at));

	c->l = l;
	c->r = r;
	return c;
}

/* Field name to FBPF_F_*, 0 if none. */
static int field_code(const char *w)
{
	int i = word_index(field_words, w);

	return i < 0 ? 0 : FBPF_F_UID + i;
}

static int type_code(const char *w)
{
	int i = word_index(type_words, w);

	return i < 0 ? 0 : FBPF_TYPE_FILE + i;
}

#define TYPE_LIST "the file types are file, dir, symlink, fifo, socket, chardev and blockdev"

/* Resolves one value against the field it is compared with. Returns 1 and
 * sets *v (*is_field) when it is good; otherwise reports and returns 0. */
static int resolve_value(struct fbp_state *st, int field, const char *fname, struct fbp_val *val,
			 int in_set, uint32_t *v, int *is_field)
{
	char q[FBP_TEXT_MAX + 8];
	int f, t;

	*is_field = 0;
	if (!val->is_word) {
		if (val->bad)
			return 0;
		if (field == FBPF_F_TYPE) {
			diag_error(st->d, LOC(val->loc), "'type' is compared with a file type name, not a number");
			diag_note(st->d, LOC(val->loc), TYPE_LIST);
			return 0;
		}
		*v = val->v;
		return 1;
	}
	fbp_quote(q, sizeof(q), val->word, strlen(val->word));
	f = field_code(val->word);
	t = type_code(val->word);
	if (f) {
		if (in_set) {
			diag_error(st->d, LOC(val->loc),
				   "an 'in' set holds constants, not fields like '%s'; compare with == instead", q);
			return 0;
		}
		*is_field = 1;
		*v = (uint32_t)f;
		return 1;
	}
	if (t) {
		if (field && field != FBPF_F_TYPE) {
			diag_error(st->d, LOC(val->loc),
				   "'%s' is a file type: only 'type' is compared with file types, not '%s'", q, fname);
			return 0;
		}
		*v = (uint32_t)t;
		return 1;
	}
	if (field == FBPF_F_TYPE)
		unknown(st, val->loc, "file type", val->word, type_words, TYPE_LIST);
	else if (in_set)
		diag_error(st->d, LOC(val->loc), "'%s' is not a number", q);
	else
		unknown(st, val->loc, "field", val->word, field_words,
			"a value is a number or one of the fields uid, gid, pid, owner, group, type, mode");
	return 0;
}

static int lhs_field(struct fbp_state *st, const char *w, FBP_LTYPE l)
{
	int f = field_code(w);

	if (!f)
		unknown(st, l, "field", w, field_words,
			"the fields are uid, gid, pid (the caller) and owner, group, type, mode (the entry)");
	return f;
}

static struct cond *cmp_atom(struct fbp_state *st, char *w, FBP_LTYPE wl, int cmp, struct fbp_val *val,
			     FBP_LTYPE at)
{
	struct cond *c = new_cond(COND_CMP, LOC(at));
	uint32_t v = 0;
	int is_field = 0;

	c->field = lhs_field(st, w, wl);
	c->cmp = cmp;
	if (c->field && resolve_value(st, c->field, w, val, 0, &v, &is_field)) {
		c->rhs = v;
		c->rhs_is_field = is_field;
	}
	free(w);
	free(val->word);
	return c;
}

static struct cond *in_atom(struct fbp_state *st, char *w, FBP_LTYPE wl, struct fbp_vals *vals, FBP_LTYPE at)
{
	struct cond *c = new_cond(COND_IN, LOC(at));
	int i, is_field;
	uint32_t v;

	c->field = lhs_field(st, w, wl);
	c->set = xmalloc((size_t)vals->n * sizeof(uint32_t));
	for (i = 0; i < vals->n; i++) {
		if (c->field && resolve_value(st, c->field, w, &vals->v[i], 1, &v, &is_field))
			c->set[c->nset++] = v;
		free(vals->v[i].word);
	}
	free(vals->v);
	free(vals);
	free(w);
	return c;
}

static void vals_free(struct fbp_vals *v)
{
	int i;

	if (!v)
		return;
	for (i = 0; i < v->n; i++)
		free(v->v[i].word);
	free(v->v);
	free(v);
}

static struct fbp_vals *vals_add(struct fbp_vals *vs, struct fbp_val v)
{
	if (!vs) {
		vs = xmalloc(sizeof(*vs));
		memset(vs, 0, sizeof(*vs));
	}
	if (vs->n == vs->cap) {
		vs->cap = vs->cap ? vs->cap * 2 : 4;
		vs->v = xrealloc(vs->v, (size_t)vs->cap * sizeof(*vs->v));
	}
	vs->v[vs->n++] = v;
	return vs;
}

static void cond_free_tree(struct cond *c)
{
	while (c) {
		if (c->l) {
			struct cond *l = c->l;

			c->l = l->r;
			l->r = c;
			c = l;
		} else {
			struct cond *r = c->r;

			free(c->set);
			free(c);
			c = r;
		}
	}
}

/* `not` written n times: n NOT nodes, but never more than the limit
 * needs to be seen as exceeded (the parity is kept). */
static struct cond *nots(struct fbp_state *st, int n, struct cond *c, FBP_LTYPE at)
{
	if (n > FBPF_COND_MAX + 2)
		n = FBPF_COND_MAX + 2 + (n & 1);
	while (n-- > 0) {
		struct cond *x = new_cond(COND_NOT, LOC(at));

		x->l = c;
		c = x;
	}
	return c;
}

static struct fbp_item attr_item(struct fbp_state *st, char *w, FBP_LTYPE wl, int op, FBP_LTYPE opl,
				 struct fbp_num n, FBP_LTYPE nl)
{
	struct fbp_item it = { 0, op, n.v, 0 };
	int i = word_index(attr_words, w);

	if (i < 0) {
		unknown(st, wl, "attribute", w, attr_words, "an attr rule sets uid, gid or mode");
	} else if (i < 2 && op != 0) {
		diag_error(st->d, LOC(opl), "'%s' is set with '=' only; '&=' and '|=' are for 'mode'", w);
	} else if (n.bad) {
		/* reported by the scanner */
	} else if (i < 2 && n.v > 4294967294u) {
		diag_error(st->d, LOC(nl), "%s 4294967295 is not allowed: it means 'no %s'; the largest is 4294967294",
			   w, w);
	} else if (i == 2 && n.v > 07777) {
		char q[FBP_TEXT_MAX + 8];

		fbp_quote(q, sizeof(q), st->source + nl.first_off, (size_t)(nl.last_column - nl.first_column));
		diag_error(st->d, LOC(nl), "mode %s has bits beyond the permission bits 07777", q);
	} else {
		it.what = i + 1;
		it.ok = 1;
	}
	free(w);
	return it;
}

static void attr_apply(struct fbp_attr *a, struct fbp_item it)
{
	if (!it.ok)
		return;
	switch (it.what) {
	case 1:
		a->set |= FBPF_ATTR_UID;
		a->uid = it.v;
		break;
	case 2:
		a->set |= FBPF_ATTR_GID;
		a->gid = it.v;
		break;
	case 3:
		a->set |= FBPF_ATTR_MODE;
		if (it.op == 0) {
			a->mand = 0;
			a->mor = it.v;
		} else if (it.op == 1) {
			a->mand &= it.v;
			a->mor &= it.v;
		} else {
			a->mor |= it.v;
		}
		break;
	}
}

/* Does a line after s begin with the word "policy"? */
static int policy_line_follows(const char *s)
{
	while ((s = strchr(s, '\n'))) {
		s++;
		s += strspn(s, " \t\r\f\v");
		if (!strncmp(s, "policy", 6) && !(isalnum((unsigned char)s[6]) || s[6] == '_'))
			return 1;
	}
	return 0;
}

static void add_rule(struct fbp_state *st, struct rule *r)
{
	struct policy *p = st->p;

	if (!st->seen_policy && !st->missing_done) {
		st->missing_done = 1;
		/* a policy line further down gets the error itself */
		if (st->d->errors == st->errors0 && !policy_line_follows(st->source + st->cur_loc.first_off)) {
			diag_error(st->d, r->loc, "missing policy line: a policy file begins with 'policy NAME'");
			st->missing_reported = 1;
		}
	}
	if (!st->nrules_seen++)
		st->first_rule_loc = r->loc;
	if (p->nrules == st->rcap) {
		st->rcap = st->rcap ? st->rcap * 2 : 64;
		p->rules = xrealloc(p->rules, (size_t)st->rcap * sizeof(*p->rules));
	}
	r->index = p->nrules + 1;
	p->rules[p->nrules++] = *r;
}

static void rule_init(struct fbp_state *st, struct rule *r, enum rule_kind kind, FBP_LTYPE kw,
		      char *pattern, FBP_LTYPE pl, struct cond *cond)
{
	memset(r, 0, sizeof(*r));
	r->kind = kind;
	r->loc = LOC(kw);
	r->ops = FBPF_OPMASK_ALL;
	r->ops_loc = r->loc;
	r->pattern = pattern;
	r->pattern_loc = LOC(pl);
	r->cond = cond;
}

static void policy_line(struct fbp_state *st, char *name, FBP_LTYPE kw, FBP_LTYPE nl)
{
	struct policy *p = st->p;

	if (st->seen_policy) {
		diag_error(st->d, LOC(kw), "a second policy line: a file holds one policy");
		diag_note(st->d, st->policy_loc, "the policy is named here");
		free(name);
		return;
	}
	if (st->nrules_seen && !st->missing_reported) {
		diag_error(st->d, LOC(kw), "the policy line must come first, before the rules");
		diag_note(st->d, st->first_rule_loc, "the first rule is here");
	}
	st->seen_policy = 1;
	st->policy_loc = LOC(kw);
	p->name = name;
	p->name_loc = LOC(nl);
}

#define CHECK_CAP()                                          \
	do {                                                 \
		if (st->d->errors > DIAG_MAX_ERRORS)         \
			YYACCEPT;                            \
	} while (0)
}

%token <word> WORD "word"
%token <str> STRING "string"
%token <num> NUMBER "number"
%token POLICY "policy" HIDE "hide" DENY "deny" DEFER "defer" RENAME "rename" ATTR "attr"
%token WITH "with" TO "to" WHEN "when" UNLESS "unless" IN "in"
%token AND "and" OR "or" NOT "not"
%token EQ "==" NE "!=" LT "<" LE "<=" GT ">" GE ">="
%token ASSIGN "=" ANDEQ "&=" OREQ "|="
%token NL "end of line" BNL "new line" LEXERR "invalid token"
%token COMMA "," SEMI ";" LBRACE "{" RBRACE "}" LPAREN "(" RPAREN ")"

%type <ops> ops_opt ops
%type <cond> cond_opt expr unary primary atom
%type <ival> cmpop nots with_opt
%type <val> value
%type <vals> setvals
%type <attr> attr_body items
%type <item> item
%type <xto> to_opt

%destructor { free($$); } <word> <str>
%destructor { cond_free_tree($$); } <cond>
%destructor { free($$.word); } <val>
%destructor { vals_free($$); } <vals>
%destructor { free($$.s); } <xto>

%left OR
%left AND

%%

file: lines ;

lines: %empty
     | lines line
     ;

line: NL
    | POLICY WORD end          { policy_line(st, $2, @1, @2); CHECK_CAP(); }
    | rule end                 { CHECK_CAP(); }
    | error NL                 { yyerrok; CHECK_CAP(); }
    ;

end: NL
   | SEMI NL
   ;

rule: HIDE STRING cond_opt
	{
		struct rule r;

		rule_init(st, &r, RULE_HIDE, @1, $2, @2, $3);
		add_rule(st, &r);
	}
    | DENY ops_opt STRING with_opt cond_opt
	{
		struct rule r;

		rule_init(st, &r, RULE_DENY, @1, $3, @3, $5);
		if ($2.given) {
			r.ops = $2.mask;
			r.ops_loc = LOC(@2);
		}
		r.err = $4;
		add_rule(st, &r);
	}
    | DEFER ops_opt STRING TO STRING cond_opt
	{
		struct rule r;

		rule_init(st, &r, RULE_DEFER, @1, $3, @3, $6);
		if ($2.given) {
			r.ops = $2.mask;
			r.ops_loc = LOC(@2);
		}
		r.handler = $5;
		r.handler_loc = LOC(@5);
		add_rule(st, &r);
	}
    | RENAME STRING WORD STRING to_opt cond_opt
	{
		struct rule r;
		FBP_LTYPE span = @3;
		int x = word_index(xform_words, $3);

		rule_init(st, &r, RULE_RENAME, @1, $2, @2, $6);
		span.last_line = $5.s ? $5.loc.last_line : @4.last_line;
		span.last_column = $5.s ? $5.loc.last_column : @4.last_column;
		r.xform_loc = LOC(span);
		r.s1 = $4;
		if (x < 0) {
			unknown(st, @3, "transform", $3, xform_words,
				"a rename takes suffix \"S\", prefix \"P\" or ext \"F\" to \"T\"");
			free($5.s);
		} else if (x == 2 && !$5.s) {
			diag_error(st->d, LOC(@4), "'ext' needs the new extension: ext \"%s\" to \"...\"",
				   strlen($4) <= FBP_TEXT_MAX ? $4 : "...");
		} else if (x < 2 && $5.s) {
			diag_error(st->d, LOC($5.to_loc), "'to' belongs to 'ext' only; '%s' takes one string",
				   xform_words[x]);
			free($5.s);
		} else {
			r.xform = FBPF_X_SUFFIX + x;
			r.s2 = $5.s;
		}
		free($3);
		add_rule(st, &r);
	}
    | ATTR STRING LBRACE attr_body RBRACE cond_opt
	{
		struct rule r;
		FBP_LTYPE span = @3;

		span.last_line = @5.last_line;
		span.last_column = @5.last_column;
		rule_init(st, &r, RULE_ATTR, @1, $2, @2, $6);
		r.attr_loc = LOC(span);
		r.a_set = $4.set;
		r.a_uid = $4.uid;
		r.a_gid = $4.gid;
		r.a_mode_and = $4.mand;
		r.a_mode_or = $4.mor;
		add_rule(st, &r);
	}
    ;

ops_opt: %empty        { $$.mask = FBPF_OPMASK_ALL; $$.given = 0; }
       | ops           { $$ = $1; }
       ;

ops: WORD              { $$.mask = op_mask(st, $1, @1); $$.given = 1; }
   | RENAME            { $$.mask = 1u << FBPF_OP_RENAME; $$.given = 1; }
   | ops COMMA WORD      { $$.mask = $1.mask | op_mask(st, $3, @3); $$.given = 1; }
   | ops COMMA RENAME    { $$.mask = $1.mask | 1u << FBPF_OP_RENAME; $$.given = 1; }
   ;

with_opt: %empty       { $$ = EACCES; }
        | WITH WORD
	{
		$$ = errno_by_name($2);
		if (!$$) {
			unknown(st, @2, "errno", $2, errno_words, NULL);
			$$ = EACCES;
		}
		free($2);
	}
        | WITH NUMBER
	{
		$$ = (int)$2.v;
		if ($2.bad) {
			$$ = EACCES;
		} else if ($2.v < 1 || $2.v > 4095) {
			diag_error(st->d, LOC(@2), "errno %u is out of range: give a name like EACCES or a number "
				   "from 1 to 4095", $2.v);
			$$ = EACCES;
		}
	}
        ;

to_opt: %empty         { $$.s = NULL; $$.loc = @$; $$.to_loc = @$; }
      | TO STRING      { $$.s = $2; $$.loc = @2; $$.to_loc = @1; }
      ;

cond_opt: %empty       { $$ = NULL; }
        | WHEN expr    { $$ = $2; }
        | UNLESS expr  { $$ = new_cond(COND_NOT, LOC(@$)); $$->l = $2; }
        ;

expr: expr OR expr     { $$ = bin(st, COND_OR, $1, $3, @$); }
    | expr AND expr    { $$ = bin(st, COND_AND, $1, $3, @$); }
    | unary            { $$ = $1; }
    ;

unary: primary         { $$ = $1; }
     | nots primary    { $$ = nots(st, $1, $2, @$); }
     ;

nots: NOT              { $$ = 1; }
    | nots NOT         { $$ = $1 < 1000000 ? $1 + 1 : $1 - 1; }
    ;

primary: LPAREN expr RPAREN  { $$ = $2; }
       | atom          { $$ = $1; }
       ;

atom: WORD cmpop value          { $$ = cmp_atom(st, $1, @1, $2, &$3, @$); }
    | WORD IN LPAREN setvals RPAREN   { $$ = in_atom(st, $1, @1, $4, @$); }
    ;

cmpop: EQ { $$ = FBPF_EQ; } | NE { $$ = FBPF_NE; } | LT { $$ = FBPF_LT; }
     | LE { $$ = FBPF_LE; } | GT { $$ = FBPF_GT; } | GE { $$ = FBPF_GE; }
     ;

value: NUMBER          { memset(&$$, 0, sizeof($$)); $$.v = $1.v; $$.bad = $1.bad; $$.loc = @1; }
     | WORD            { memset(&$$, 0, sizeof($$)); $$.is_word = 1; $$.word = $1; $$.loc = @1; }
     ;

setvals: value              { $$ = vals_add(NULL, $1); }
       | setvals COMMA value  { $$ = vals_add($1, $3); }
       ;

attr_body: isep_opt               { memset(&$$, 0, sizeof($$)); $$.mand = 07777; }
         | isep_opt items isep_opt { $$ = $2; }
         ;

items: item                 { memset(&$$, 0, sizeof($$)); $$.mand = 07777; attr_apply(&$$, $1); }
     | items isep item      { $$ = $1; attr_apply(&$$, $3); }
     ;

isep: SEMI | BNL | isep SEMI | isep BNL ;

isep_opt: %empty | isep ;

item: WORD ASSIGN NUMBER    { $$ = attr_item(st, $1, @1, 0, @2, $3, @3); }
    | WORD ANDEQ NUMBER     { $$ = attr_item(st, $1, @1, 1, @2, $3, @3); }
    | WORD OREQ NUMBER      { $$ = attr_item(st, $1, @1, 2, @2, $3, @3); }
    ;

%%

/* ---- syntax errors in plain words ----------------------------------------- */

void fbp_quote(char *buf, size_t size, const char *s, size_t n)
{
	size_t max = size > 8 ? size - 4 : 1;

	if (n < max) {
		memcpy(buf, s, n);
		buf[n] = 0;
	} else {
		memcpy(buf, s, max - 1);
		memcpy(buf + max - 1, "...", 4);
	}
}

struct phrases {
	const char *p[24];
	int n;
};

static void add(struct phrases *ph, const char *s)
{
	int i;

	for (i = 0; i < ph->n; i++)
		if (!strcmp(ph->p[i], s))
			return;
	if (ph->n < 24)
		ph->p[ph->n++] = s;
}

static void join(char *buf, size_t size, const struct phrases *ph)
{
	size_t at = 0;
	int i;

	buf[0] = 0;
	for (i = 0; i < ph->n && at < size; i++) {
		const char *sep = i == 0 ? "" : i == ph->n - 1 ? " or " : ", ";

		at += (size_t)snprintf(buf + at, size - at, "%s%s", sep, ph->p[i]);
	}
}

/* Keywords other than rule keywords: spelling, and quoted for messages. */
static const struct { yysymbol_kind_t k; const char *w, *q; } kw_text[] = {
	{ YYSYMBOL_WITH, "with", "'with'" }, { YYSYMBOL_TO, "to", "'to'" },
	{ YYSYMBOL_WHEN, "when", "'when'" }, { YYSYMBOL_UNLESS, "unless", "'unless'" },
	{ YYSYMBOL_IN, "in", "'in'" },       { YYSYMBOL_AND, "and", "'and'" },
	{ YYSYMBOL_OR, "or", "'or'" },       { YYSYMBOL_NOT, "not", "'not'" },
};

static const char *sym_text(yysymbol_kind_t k)
{
	switch (k) {
	case YYSYMBOL_POLICY: return "policy";
	case YYSYMBOL_HIDE: return "hide";
	case YYSYMBOL_DENY: return "deny";
	case YYSYMBOL_DEFER: return "defer";
	case YYSYMBOL_RENAME: return "rename";
	case YYSYMBOL_ATTR: return "attr";
	case YYSYMBOL_WITH: return "with";
	case YYSYMBOL_TO: return "to";
	case YYSYMBOL_WHEN: return "when";
	case YYSYMBOL_UNLESS: return "unless";
	case YYSYMBOL_IN: return "in";
	case YYSYMBOL_AND: return "and";
	case YYSYMBOL_OR: return "or";
	case YYSYMBOL_NOT: return "not";
	case YYSYMBOL_EQ: return "==";
	case YYSYMBOL_NE: return "!=";
	case YYSYMBOL_LT: return "<";
	case YYSYMBOL_LE: return "<=";
	case YYSYMBOL_GT: return ">";
	case YYSYMBOL_GE: return ">=";
	case YYSYMBOL_ASSIGN: return "=";
	case YYSYMBOL_ANDEQ: return "&=";
	case YYSYMBOL_OREQ: return "|=";
	case YYSYMBOL_COMMA: return ",";
	case YYSYMBOL_SEMI: return ";";
	case YYSYMBOL_LBRACE: return "{";
	case YYSYMBOL_RBRACE: return "}";
	case YYSYMBOL_LPAREN: return "(";
	case YYSYMBOL_RPAREN: return ")";
	default: return "?";
	}
}

/* How a token reads in a message: 'hide', 'write', '==', a string. */
static void describe(char *buf, size_t size, yysymbol_kind_t kind, const char *text)
{
	switch (kind) {
	case YYSYMBOL_STRING:
		snprintf(buf, size, "a string");
		break;
	case YYSYMBOL_NUMBER:
	case YYSYMBOL_WORD:
		snprintf(buf, size, "'%s'", text);
		break;
	case YYSYMBOL_NL:
	case YYSYMBOL_BNL:
	case YYSYMBOL_YYEOF:
		snprintf(buf, size, "the end of the line");
		break;
	default:
		snprintf(buf, size, "'%s'", sym_text(kind));
	}
}

static int yyreport_syntax_error(const yypcontext_t *ctx, struct fbp_state *st)
{
	yysymbol_kind_t la = yypcontext_token(ctx);
	yysymbol_kind_t prevk = YYTRANSLATE(st->prev_kind), rulek = YYTRANSLATE(st->rule_kw);
	yysymbol_kind_t exp[YYNTOKENS];
	char has[YYNTOKENS] = { 0 };
	char want[768], prev[FBP_TEXT_MAX + 32], found[FBP_TEXT_MAX + 32];
	struct phrases ph = { { 0 }, 0 };
	const char *kwc[16];
	int n, i, nk = 0, eol, start;
	size_t j;
	FBP_LTYPE at = *yypcontext_location(ctx);
	struct loc l;

	if (la == YYSYMBOL_LEXERR)
		return 0; /* the scanner said what is wrong */
	n = yypcontext_expected_tokens(ctx, exp, YYNTOKENS);
	for (i = 0; i < n; i++)
		if (exp[i] >= 0 && exp[i] < YYNTOKENS)
			has[exp[i]] = 1;
	start = prevk == YYSYMBOL_NL;
	eol = la == YYSYMBOL_NL || la == YYSYMBOL_YYEOF || la == YYSYMBOL_BNL;
	l = mkloc(st, at);

	/* a word where a rule should start */
	if (la == YYSYMBOL_WORD && has[YYSYMBOL_HIDE]) {
		const char *near = did_you_mean(st->cur_text, rule_words);

		diag_error(st->d, l, "unknown rule '%s'", st->cur_text);
		if (near)
			diag_note(st->d, l, "did you mean '%s'?", near);
		else
			diag_note(st->d, l, "a rule starts with hide, deny, defer, rename or attr");
		return 0;
	}

	/* what was wanted, in plain words */
	if (has[YYSYMBOL_HIDE])
		add(&ph, "a rule (hide, deny, defer, rename or attr)");
	if (has[YYSYMBOL_NOT]) {
		add(&ph, "a condition");
		has[YYSYMBOL_WORD] = has[YYSYMBOL_NOT] = has[YYSYMBOL_LPAREN] = 0;
	}
	if (has[YYSYMBOL_WORD] && has[YYSYMBOL_NUMBER]) {
		if (prevk == YYSYMBOL_WITH)
			add(&ph, "an errno name or number");
		else if (prevk == YYSYMBOL_LPAREN || prevk == YYSYMBOL_COMMA)
			add(&ph, "a value");
		else
			add(&ph, "a number, a field or a file type");
		has[YYSYMBOL_WORD] = has[YYSYMBOL_NUMBER] = 0;
	}
	if (has[YYSYMBOL_WORD]) {
		if (prevk == YYSYMBOL_POLICY)
			add(&ph, "the policy name");
		else if (st->in_braces)
			add(&ph, "an attribute (uid, gid or mode)");
		else if (rulek == YYSYMBOL_RENAME && st->nstrings == 1)
			add(&ph, "a transform (suffix, prefix or ext)");
		else if (rulek == YYSYMBOL_DENY || rulek == YYSYMBOL_DEFER)
			add(&ph, "an operation");
		else
			add(&ph, "a word");
	}
	if (has[YYSYMBOL_NUMBER])
		add(&ph, "a number");
	if (has[YYSYMBOL_STRING]) {
		if (st->nstrings == 0)
			add(&ph, "a pattern string");
		else if (rulek == YYSYMBOL_DEFER)
			add(&ph, "the handler name as a string");
		else
			add(&ph, "a string");
	}
	if (has[YYSYMBOL_EQ])
		add(&ph, "a comparison (==, !=, <, <=, >, >=)");
	if (has[YYSYMBOL_ASSIGN])
		add(&ph, "'=', '&=' or '|='");
	for (j = 0; j < sizeof(kw_text) / sizeof(kw_text[0]); j++) {
		if (!has[kw_text[j].k])
			continue;
		add(&ph, kw_text[j].q);
		kwc[nk++] = kw_text[j].w;
	}
	kwc[nk] = NULL;
	if (has[YYSYMBOL_LBRACE])
		add(&ph, "'{'");
	if (has[YYSYMBOL_LPAREN])
		add(&ph, "'('");
	if (has[YYSYMBOL_COMMA])
		add(&ph, "','");
	if (has[YYSYMBOL_RPAREN])
		add(&ph, "')'");
	if (has[YYSYMBOL_BNL]) {
		add(&ph, "';'");
		add(&ph, "a line break");
	}
	if (has[YYSYMBOL_RBRACE])
		add(&ph, "'}'");
	if (has[YYSYMBOL_NL] && !start)
		add(&ph, "the end of the line");
	join(want, sizeof(want), &ph);
	if (!ph.n)
		snprintf(want, sizeof(want), "something else");

	describe(found, sizeof(found), la, st->cur_text);
	if (start) {
		diag_error(st->d, l, "expected %s at the start of a line, found %s", want, found);
		return 0;
	}
	if (prevk == YYSYMBOL_STRING)
		snprintf(prev, sizeof(prev), "%s", st->nstrings == 1 ? "the pattern" :
			 rulek == YYSYMBOL_DEFER ? "the handler name" : "the string");
	else if (prevk == YYSYMBOL_BNL)
		snprintf(prev, sizeof(prev), "the line break");
	else if (is_rule_kw(prevk) && (has[YYSYMBOL_STRING] || has[YYSYMBOL_WORD]) && !st->in_braces)
		snprintf(prev, sizeof(prev), "'%s'", sym_text(prevk));
	else
		describe(prev, sizeof(prev), prevk, st->prev_text);
	if (eol) {
		/* point just after the last token, like a C compiler */
		l.line = st->prev_loc.last_line;
		l.col = st->prev_loc.last_column;
		l.len = 1;
		diag_error(st->d, l, "expected %s after %s", want, prev);
	} else {
		diag_error(st->d, l, "expected %s after %s, found %s", want, prev, found);
	}
	if (la == YYSYMBOL_WORD && nk) {
		const char *near = did_you_mean(st->cur_text, kwc);

		if (near)
			diag_note(st->d, l, "did you mean '%s'?", near);
	} else if (la == YYSYMBOL_ASSIGN && has[YYSYMBOL_EQ]) {
		diag_note(st->d, l, "use '==' to compare");
	}
	return 0;
}

static void yyerror(FBP_LTYPE *lloc, struct fbp_state *st, const char *msg)
{
	/* only "memory exhausted": the parser stack is bounded by the nesting limit */
	diag_error(st->d, mkloc(st, *lloc), "%s", msg);
}
