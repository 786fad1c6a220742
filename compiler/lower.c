// SPDX-License-Identifier: GPL-2.0
/*
 * Lowering: patterns into one automaton, rules into records, conditions into
 * stack programs, transforms and handler names into small tables; then the
 * lot packed into the word array that stdlib/fbpf_eval.h reads.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "automaton.h"
#include "diag.h"
#include "fbpf_abi.h"
#include "lower.h"

#define MAX_DFA_STATES 2000000

/* A growable word array. */
struct words {
	uint32_t *w;
	uint32_t n, cap;
};

static void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p) {
		fprintf(stderr, "fbpfc: out of memory\n");
		exit(1);
	}
	return p;
}

static uint32_t push(struct words *v, uint32_t x)
{
	if (v->n == v->cap) {
		v->cap = v->cap ? v->cap * 2 : 1024;
		v->w = xrealloc(v->w, v->cap * sizeof(*v->w));
	}
	v->w[v->n] = x;
	return v->n++;
}

/* ---- conditions -------------------------------------------------------- */

struct condgen {
	struct words *w;      /* where programs and sets go (absolute offsets later) */
	uint32_t base;        /* absolute word offset of w->w[0] */
	uint32_t flags;       /* FBPF_RF_* seen */
	uint32_t insn[FBPF_COND_MAX * FBPF_INSN_WORDS];
	int ninsn;
	int sets[FBPF_COND_MAX]; /* insn index -> set needs placing, or -1 */
	const struct cond *setsrc[FBPF_COND_MAX];
	int depth, maxdepth;
	int overflow;
};

static void note_field(struct condgen *g, int field)
{
	if (field == FBPF_F_UID || field == FBPF_F_GID || field == FBPF_F_PID)
		g->flags |= FBPF_RF_CALLER;
	else
		g->flags |= FBPF_RF_ENTRY;
}

static void emit(struct condgen *g, uint32_t w0, uint32_t w1, const struct cond *set, int delta)
{
	if (g->ninsn >= FBPF_COND_MAX) {
		g->overflow = 1;
		return;
	}
	g->insn[g->ninsn * 2] = w0;
	g->insn[g->ninsn * 2 + 1] = w1;
	g->setsrc[g->ninsn] = set;
	g->ninsn++;
	g->depth += delta;
	if (g->depth > g->maxdepth)
		g->maxdepth = g->depth;
}

static void gen_cond(struct condgen *g, const struct cond *c)
{
	switch (c->kind) {
	case COND_CMP:
		note_field(g, c->field);
		if (c->rhs_is_field)
			note_field(g, (int)c->rhs);
		emit(g, FBPF_C_CMP | (uint32_t)c->field << 8 | (uint32_t)c->cmp << 16 |
			(uint32_t)(c->rhs_is_field ? FBPF_RHS_FIELD : FBPF_RHS_CONST) << 24,
		     c->rhs, NULL, 1);
		break;
	case COND_IN:
		note_field(g, c->field);
		emit(g, FBPF_C_IN | (uint32_t)c->field << 8, 0, c, 1);
		break;
	case COND_AND:
	case COND_OR:
		gen_cond(g, c->l);
		gen_cond(g, c->r);
		emit(g, c->kind == COND_AND ? FBPF_C_AND : FBPF_C_OR, 0, NULL, -1);
		break;
	case COND_NOT:
		gen_cond(g, c->l);
		emit(g, FBPF_C_NOT, 0, NULL, 0);
		break;
	}
}

/* Emits the program into g->w; returns its absolute offset, 0 on error. */
static uint32_t lower_cond(struct condgen *g, const struct cond *c)
{
	uint32_t at;
	int i, j;

	g->ninsn = 0;
	g->depth = g->maxdepth = 0;
	g->overflow = 0;
	gen_cond(g, c);
	if (g->overflow || g->maxdepth > FBPF_STACK_MAX)
		return 0;
	at = g->base + push(g->w, (uint32_t)g->ninsn);
	for (i = 0; i < g->ninsn; i++) {
		push(g->w, g->insn[i * 2]);
		push(g->w, g->insn[i * 2 + 1]);
	}
	for (i = 0; i < g->ninsn; i++) {
		const struct cond *s = g->setsrc[i];
		uint32_t set;

		if (!s)
			continue;
		set = g->base + push(g->w, (uint32_t)s->nset);
		for (j = 0; j < s->nset; j++)
			push(g->w, s->set[j]);
		/* patch the insn's second word (at + 1 + i*2 + 1 - base) */
		g->w->w[at - g->base + 2 + i * 2] = set;
	}
	return at;
}

/* ---- transforms and handlers ------------------------------------------ */

struct xform {
	int kind;
	const char *s1, *s2;
	uint32_t o1, l1, o2, l2;
};

static int str_eq(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

/* ---- hit lists --------------------------------------------------------- */

struct hitmap {
	uint32_t *keys;   /* offset into area of the list (0 = empty slot) */
	uint64_t *hash;
	size_t cap, n;
};

static uint64_t hash_list(const uint32_t *l, uint32_t n)
{
	uint64_t h = 1469598103934665603ull ^ n;
	uint32_t i;

	for (i = 0; i < n; i++) {
		h ^= l[i];
		h *= 1099511628211ull;
	}
	return h;
}

/* Find or add list l[0..n) in area (stored as [n, l...]); returns its
 * absolute offset. */
static uint32_t intern_list(struct hitmap *m, struct words *area, uint32_t base,
			    const uint32_t *l, uint32_t n)
{
	uint64_t h = hash_list(l, n);
	size_t i;
	uint32_t at, k;

	if (m->n * 2 >= m->cap) {
		size_t ocap = m->cap, j;
		uint32_t *okeys = m->keys;
		uint64_t *ohash = m->hash;

		m->cap = m->cap ? m->cap * 2 : 1024;
		m->keys = calloc(m->cap, sizeof(*m->keys));
		m->hash = calloc(m->cap, sizeof(*m->hash));
		if (!m->keys || !m->hash) {
			fprintf(stderr, "fbpfc: out of memory\n");
			exit(1);
		}
		for (j = 0; j < ocap; j++) {
			if (!okeys[j])
				continue;
			for (i = ohash[j] & (m->cap - 1); m->keys[i]; i = (i + 1) & (m->cap - 1))
				;
			m->keys[i] = okeys[j];
			m->hash[i] = ohash[j];
		}
		free(okeys);
		free(ohash);
	}
	for (i = h & (m->cap - 1); m->keys[i]; i = (i + 1) & (m->cap - 1)) {
		const uint32_t *e = area->w + (m->keys[i] - base);

		if (m->hash[i] == h && e[0] == n && !memcmp(e + 1, l, n * sizeof(*l)))
			return m->keys[i];
	}
	at = base + push(area, n);
	for (k = 0; k < n; k++)
		push(area, l[k]);
	m->keys[i] = at;
	m->hash[i] = h;
	m->n++;
	return at;
}

/* ---- callbacks --------------------------------------------------------- */

static uint32_t rule_callbacks(const struct rule *r)
{
	uint32_t cb = FBPF_CB_BIT(FBPF_OP_LOOKUP, FBPF_PRE);
	int op;

	switch (r->kind) {
	case RULE_HIDE:
		cb |= FBPF_CB_BIT(FBPF_OP_LOOKUP, FBPF_POST) | FBPF_CB_BIT(FBPF_OP_READDIR, FBPF_POST) |
		      FBPF_CB_BIT(FBPF_OP_CREATE, FBPF_PRE) | FBPF_CB_BIT(FBPF_OP_RENAME, FBPF_PRE);
		if (r->cond) /* an inode seen by one caller may be hidden from the next */
			for (op = 0; op < FBPF_OP_COUNT; op++)
				if (op != FBPF_OP_LOOKUP)
					cb |= FBPF_CB_BIT(op, FBPF_PRE);
		break;
	case RULE_DENY:
	case RULE_DEFER:
		for (op = 0; op < FBPF_OP_COUNT; op++) {
			if (!(r->ops & (1u << op)))
				continue;
			cb |= op == FBPF_OP_LOOKUP ? FBPF_CB_BIT(op, FBPF_POST) : FBPF_CB_BIT(op, FBPF_PRE);
		}
		if (r->ops & (1u << FBPF_OP_WRITE))
			cb |= FBPF_CB_BIT(FBPF_OP_OPEN, FBPF_PRE);
		break;
	case RULE_RENAME:
		cb |= FBPF_CB_BIT(FBPF_OP_READDIR, FBPF_POST);
		break;
	case RULE_ATTR:
		cb |= FBPF_CB_BIT(FBPF_OP_LOOKUP, FBPF_POST) | FBPF_CB_BIT(FBPF_OP_GETATTR, FBPF_POST) |
		      FBPF_CB_BIT(FBPF_OP_READDIR, FBPF_POST);
		break;
	}
	/* engines learn from READDIR/PRE what a listing can skip (fbpf_abi.h) */
	if (cb & FBPF_CB_BIT(FBPF_OP_READDIR, FBPF_POST))
		cb |= FBPF_CB_BIT(FBPF_OP_READDIR, FBPF_PRE);
	return cb;
}

/* Which automaton a pattern goes to: 1 for those that begin with "**". */
static int lower_floating(const char *glob)
{
	return glob[0] == '*' && glob[1] == '*';
}

/* Does every byte but '/' lead from state s back to s? */
static int skips_name(const struct dfa *d, int s)
{
	const uint32_t *row = d->trans + (size_t)s * (size_t)d->nclasses;
	int b;

	if (s == 0)
		return 0;
	for (b = 0; b < 256; b++)
		if (b != '/' && row[d->classmap[b]] != (uint32_t)s)
			return 0;
	return 1;
}

/*
 * FBPF_K_* of the rules that can match a child of each state: the rules
 * accepted anywhere within one more name ('/' and bytes other than '/').
 * within[s] first gathers the rules accepted at s or after more bytes of
 * the same name; a least fixpoint, which in reverse state order (the
 * builder numbers states breadth first) settles in a pass or two.
 */
static uint32_t *kids_of(const struct dfa *da, const struct policy *p, const uint32_t *rule_flags)
{
	uint32_t n = (uint32_t)da->nstates, nc = (uint32_t)da->nclasses, s, c, *within, *kids;
	const uint32_t *tr = da->trans;
	uint8_t name_class[256] = { 0 };
	int b, j, changed;

	within = calloc(n ? n : 1, sizeof(uint32_t));
	kids = calloc(n ? n : 1, sizeof(uint32_t));
	if (!within || !kids) {
		free(within);
		free(kids);
		return NULL;
	}
	for (b = 0; b < 256; b++)
		if (b != '/')
			name_class[da->classmap[b]] = 1;
	for (s = 1; s < n; s++) {
		for (j = 0; j < da->naccept[s]; j++) {
			int ri = da->accept[s][j] - 1;
			enum rule_kind kind = p->rules[ri].kind;

			if (kind == RULE_HIDE || kind == RULE_RENAME || kind == RULE_ATTR)
				within[s] |= FBPF_K_LIST;
			if (rule_flags[ri] & FBPF_RF_ENTRY)
				within[s] |= FBPF_K_ENTRY;
			if (rule_flags[ri] & FBPF_RF_CALLER)
				within[s] |= FBPF_K_CALLER;
		}
	}
	do {
		changed = 0;
		for (s = n; s-- > 1;) {
			uint32_t w = within[s];

			for (c = 0; c < nc; c++)
				if (name_class[c])
					w |= within[tr[(size_t)s * nc + c]];
			if (w != within[s]) {
				within[s] = w;
				changed = 1;
			}
		}
	} while (changed);
	for (s = 1; s < n; s++) {
		uint32_t t = tr[(size_t)s * nc + da->classmap['/']];

		for (c = 0; c < nc; c++)
			if (name_class[c])
				kids[s] |= within[tr[(size_t)t * nc + c]];
	}
	free(within);
	return kids;
}

/* ---- the whole policy -------------------------------------------------- */

int lower_policy(const struct policy *p, struct diag *d, int all_filters, struct lowered *out)
{
	struct nfa *nfa[FBPF_NDFA];
	struct dfa *dfa[FBPF_NDFA] = { NULL };
	struct comb comb[FBPF_NDFA] = { 0 };
	struct words area = { 0 };   /* hits, then conditions, after the fixed tables */
	struct words tab = { 0 };
	struct hitmap hm = { 0 };
	struct xform xf[FBPF_XFORM_MAX];
	uint32_t *rule_xform = NULL, *rule_cond = NULL, *rule_flags = NULL, *rule_handler = NULL;
	uint32_t *hits_of[FBPF_NDFA] = { NULL }, *list = NULL, pool_bytes = 0, area_base, i, k;
	unsigned char *pool = NULL;
	const char *err_msg = NULL;
	int nx = 0, errors0 = d->errors, s, r, nrules = p->nrules, a;

	memset(out, 0, sizeof(*out));
	out->shadowed_by = calloc((size_t)nrules + 1, sizeof(int));
	rule_xform = calloc((size_t)nrules + 1, sizeof(uint32_t));
	rule_cond = calloc((size_t)nrules + 1, sizeof(uint32_t));
	rule_flags = calloc((size_t)nrules + 1, sizeof(uint32_t));
	rule_handler = calloc((size_t)nrules + 1, sizeof(uint32_t));
	list = calloc((size_t)nrules + 1, sizeof(uint32_t));
	if (!out->shadowed_by || !rule_xform || !rule_cond || !rule_flags || !rule_handler || !list) {
		diag_plain(d, "out of memory");
		goto fail;
	}

	/* 1. patterns -> two automata: anchored ones, and those that begin
	 * with "**" (fbpf_abi.h says why) */
	for (a = 0; a < FBPF_NDFA; a++)
		nfa[a] = nfa_new();
	for (r = 0; r < nrules; r++) {
		const struct rule *ru = &p->rules[r];
		int off = 0;
		const char *msg = NULL;

		a = lower_floating(ru->pattern);
		if (nfa_add_glob(nfa[a], ru->pattern, r + 1, &off, &msg) < 0) {
			struct loc l = ru->pattern_loc;

			l.col += 1 + off;
			l.len = 1;
			diag_error(d, l, "%s", msg ? msg : "invalid pattern");
		}
	}
	for (a = 0; a < FBPF_NDFA; a++) {
		if (d->errors == errors0 && (a == 0 || dfa[0]))
			dfa[a] = dfa_build(nfa[a], MAX_DFA_STATES, &err_msg);
		nfa_free(nfa[a]);
	}
	if (!dfa[0] || !dfa[1]) {
		if (d->errors == errors0)
			diag_plain(d, "the patterns of this policy need too large an automaton (%s); "
				   "split the policy or use fewer patterns with '**' in the middle",
				   err_msg ? err_msg : "too many states");
		goto fail;
	}
	out->nstates = dfa[0]->nstates + dfa[1]->nstates;
	out->nclasses = dfa[0]->nclasses > dfa[1]->nclasses ? dfa[0]->nclasses : dfa[1]->nclasses;

	/* 2. transforms, string pool and handlers */
	for (r = 0; r < nrules; r++) {
		const struct rule *ru = &p->rules[r];

		if (ru->kind == RULE_RENAME) {
			for (k = 0; k < (uint32_t)nx; k++)
				if (xf[k].kind == ru->xform && str_eq(xf[k].s1, ru->s1) && str_eq(xf[k].s2, ru->s2))
					break;
			if (k == (uint32_t)nx) {
				if (nx == FBPF_XFORM_MAX) {
					diag_error(d, ru->xform_loc, "more than %d different rename transforms",
						   FBPF_XFORM_MAX);
					goto fail;
				}
				xf[nx].kind = ru->xform;
				xf[nx].s1 = ru->s1;
				xf[nx].s2 = ru->s2;
				nx++;
			}
			rule_xform[r] = k;
		} else if (ru->kind == RULE_DEFER) {
			for (k = 0; k < (uint32_t)out->nhandlers; k++)
				if (!strcmp(out->handlers[k], ru->handler))
					break;
			if (k == (uint32_t)out->nhandlers) {
				out->handlers = xrealloc(out->handlers, (k + 1) * sizeof(char *));
				out->handlers[k] = strdup(ru->handler);
				out->nhandlers++;
			}
			rule_handler[r] = k;
		}
	}
	for (k = 0; k < (uint32_t)nx; k++) {
		const char *sv[2] = { xf[k].s1, xf[k].s2 };
		uint32_t *ov[2] = { &xf[k].o1, &xf[k].o2 }, *lv[2] = { &xf[k].l1, &xf[k].l2 };
		int j;

		for (j = 0; j < 2; j++) {
			size_t n = sv[j] ? strlen(sv[j]) : 0;

			*ov[j] = pool_bytes;
			*lv[j] = (uint32_t)n;
			pool = xrealloc(pool, pool_bytes + n + 4);
			memcpy(pool + pool_bytes, sv[j] ? sv[j] : "", n);
			pool_bytes += (uint32_t)n;
		}
	}

	/* 3. hit lists, pruned: a rule is left out of a state's list when
	 * earlier unconditional rules of its kind already cover its operations */
	area_base = FBPF_T_HEADER_WORDS; /* fixed up below */
	for (r = 0; r < nrules; r++)
		out->shadowed_by[r] = -1;
	for (a = 0; a < FBPF_NDFA; a++) {
		hits_of[a] = calloc((size_t)dfa[a]->nstates, sizeof(uint32_t));
		if (!hits_of[a]) {
			diag_plain(d, "out of memory");
			goto fail;
		}
		for (s = 0; s < dfa[a]->nstates; s++) {
			uint32_t covered[FBPF_R_ATTR + 1] = { 0 }, coverer[FBPF_R_ATTR + 1] = { 0 }, n = 0;
			int j;

			for (j = 0; j < dfa[a]->naccept[s]; j++) {
				const struct rule *ru = &p->rules[dfa[a]->accept[s][j] - 1];
				int ri = dfa[a]->accept[s][j] - 1, kind = ru->kind;

				if (ru->ops & ~covered[kind]) {
					list[n++] = (uint32_t)(ri + 1);
					out->shadowed_by[ri] = 0;
					if (!ru->cond && !(kind == RULE_RENAME && ru->xform == FBPF_X_EXT)) {
						covered[kind] |= ru->ops;
						coverer[kind] = (uint32_t)(ri + 1);
					}
				} else if (out->shadowed_by[ri] < 0) {
					out->shadowed_by[ri] = (int)coverer[kind];
				}
			}
			if (n > FBPF_HITS_MAX) {
				const struct rule *ru = &p->rules[list[FBPF_HITS_MAX] - 1];

				diag_error(d, ru->loc, "more than %d rules can apply to one path; this one is rule %u "
					   "of them (narrow the patterns or merge rules)", FBPF_HITS_MAX, FBPF_HITS_MAX + 1);
				goto fail;
			}
			hits_of[a][s] = n ? intern_list(&hm, &area, area_base, list, n) : 0;
		}
	}

	/* 4. conditions, after the hit lists in the same area */
	for (r = 0; r < nrules; r++) {
		const struct rule *ru = &p->rules[r];
		struct condgen g = { .w = &area, .base = area_base };

		if (!ru->cond)
			continue;
		rule_cond[r] = lower_cond(&g, ru->cond);
		if (!rule_cond[r]) {
			diag_error(d, ru->cond->loc, "condition too large: at most %d terms and %d levels of nesting",
				   FBPF_COND_MAX, FBPF_STACK_MAX);
			continue;
		}
		rule_flags[r] = g.flags;
	}
	if (d->errors != errors0)
		goto fail;

	/* 5. pack: header, per automaton (classmap, base, default, next, check,
	 * hits), then area, rules, xforms, strings */
	for (a = 0; a < FBPF_NDFA; a++) {
		if (dfa_comb(dfa[a], &comb[a]) < 0) {
			diag_plain(d, "out of memory");
			goto fail;
		}
		out->ncomb += comb[a].ncomb;
	}
	{
		uint32_t off_dfa[FBPF_NDFA], at = FBPF_T_HEADER_WORDS;

		for (a = 0; a < FBPF_NDFA; a++) {
			off_dfa[a] = at;
			at += 256 + 4 * (uint32_t)dfa[a]->nstates + 2 * comb[a].ncomb;
		}
		uint32_t off_area = at;
		uint32_t off_rules = off_area + area.n;
		uint32_t off_xf = off_rules + (uint32_t)nrules * FBPF_RULE_WORDS;
		uint32_t off_str = off_xf + (uint32_t)nx * FBPF_XFORM_WORDS;
		uint32_t total = off_str + (pool_bytes + 3) / 4;
		uint32_t delta = off_area - area_base; /* area offsets were relative to area_base */

		tab.cap = total;
		tab.w = calloc(total ? total : 1, sizeof(uint32_t));
		if (!tab.w) {
			diag_plain(d, "out of memory");
			goto fail;
		}
		tab.n = total;
		tab.w[FBPF_T_MAGIC] = FBPF_TABLE_MAGIC;
		tab.w[FBPF_T_ABI] = FBPF_ABI_VERSION;
		tab.w[FBPF_T_WORDS] = total;
		for (a = 0; a < FBPF_NDFA; a++) {
			const struct dfa *da = dfa[a];
			const struct comb *c = &comb[a];
			uint32_t ns = (uint32_t)da->nstates;
			uint32_t off_class = off_dfa[a], off_base = off_class + 256, off_def = off_base + ns;
			uint32_t off_next = off_def + ns, off_check = off_next + c->ncomb;
			uint32_t off_hits = off_check + c->ncomb, off_kids = off_hits + ns;
			uint32_t *kids = kids_of(da, p, rule_flags);

			if (!kids) {
				diag_plain(d, "out of memory");
				goto fail;
			}

			tab.w[FBPF_T_D(a, FBPF_D_NSTATES)] = ns;
			tab.w[FBPF_T_D(a, FBPF_D_NCLASSES)] = (uint32_t)da->nclasses;
			tab.w[FBPF_T_D(a, FBPF_D_CLASSMAP)] = off_class;
			tab.w[FBPF_T_D(a, FBPF_D_BASE)] = off_base;
			tab.w[FBPF_T_D(a, FBPF_D_DEFAULT)] = off_def;
			tab.w[FBPF_T_D(a, FBPF_D_NEXT)] = off_next;
			tab.w[FBPF_T_D(a, FBPF_D_CHECK)] = off_check;
			tab.w[FBPF_T_D(a, FBPF_D_NCOMB)] = c->ncomb;
			tab.w[FBPF_T_D(a, FBPF_D_HITS)] = off_hits;
			tab.w[FBPF_T_D(a, FBPF_D_KIDS)] = off_kids;
			for (i = 0; i < 256; i++)
				tab.w[off_class + i] = da->classmap[i];
			for (s = 0; s < da->nstates; s++) {
				tab.w[off_base + s] = c->base[s] | (skips_name(da, s) ? FBPF_BASE_SKIP : 0);
				tab.w[off_def + s] = c->def[s];
				tab.w[off_hits + s] = hits_of[a][s] ? hits_of[a][s] + delta : 0;
				tab.w[off_kids + s] = kids[s];
			}
			free(kids);
			memcpy(tab.w + off_next, c->next, c->ncomb * sizeof(uint32_t));
			memcpy(tab.w + off_check, c->check, c->ncomb * sizeof(uint32_t));
		}
		tab.w[FBPF_T_NRULES] = (uint32_t)nrules;
		tab.w[FBPF_T_RULES] = off_rules;
		tab.w[FBPF_T_NXFORMS] = (uint32_t)nx;
		tab.w[FBPF_T_XFORMS] = off_xf;
		tab.w[FBPF_T_STRINGS] = off_str;
		tab.w[FBPF_T_NSTRBYTES] = pool_bytes;
		/* the area holds offsets to itself (sets inside conditions): relocate */
		memcpy(tab.w + off_area, area.w, area.n * sizeof(uint32_t));
		for (r = 0; r < nrules; r++) {
			uint32_t at;
			int j;

			if (!rule_cond[r])
				continue;
			at = rule_cond[r] + delta;
			for (j = 0; j < (int)tab.w[at]; j++)
				if ((tab.w[at + 1 + j * 2] & 0xff) == FBPF_C_IN)
					tab.w[at + 2 + j * 2] += delta;
		}
		for (r = 0; r < nrules; r++) {
			const struct rule *ru = &p->rules[r];
			uint32_t *rw = tab.w + off_rules + (uint32_t)r * FBPF_RULE_WORDS;

			rw[FBPF_RW_KIND] = (uint32_t)ru->kind;
			rw[FBPF_RW_OPS] = ru->ops;
			rw[FBPF_RW_COND] = rule_cond[r] ? rule_cond[r] + delta : 0;
			rw[FBPF_RW_FLAGS] = rule_flags[r];
			rw[FBPF_RW_LINE] = (uint32_t)ru->loc.line;
			switch (ru->kind) {
			case RULE_DENY: rw[FBPF_RW_A0] = (uint32_t)ru->err; break;
			case RULE_DEFER: rw[FBPF_RW_A0] = rule_handler[r]; break;
			case RULE_RENAME: rw[FBPF_RW_A0] = rule_xform[r]; break;
			case RULE_ATTR:
				rw[FBPF_RW_A0] = ru->a_set;
				rw[FBPF_RW_A1] = ru->a_uid;
				rw[FBPF_RW_A2] = ru->a_gid;
				rw[FBPF_RW_A3] = ru->a_mode_and;
				rw[FBPF_RW_A4] = ru->a_mode_or;
				break;
			default: break;
			}
			out->callbacks |= rule_callbacks(ru);
		}
		for (k = 0; k < (uint32_t)nx; k++) {
			uint32_t *xw = tab.w + off_xf + k * FBPF_XFORM_WORDS;

			xw[FBPF_XW_KIND] = (uint32_t)xf[k].kind;
			xw[FBPF_XW_S1] = xf[k].o1;
			xw[FBPF_XW_L1] = xf[k].l1;
			xw[FBPF_XW_S2] = xf[k].o2;
			xw[FBPF_XW_L2] = xf[k].l2;
		}
		for (i = 0; i < pool_bytes; i++)
			tab.w[off_str + i / 4] |= (uint32_t)pool[i] << ((i % 4) * 8);
	}
	if (all_filters)
		out->callbacks = (1u << (FBPF_OP_COUNT * 2)) - 1;
	out->words = tab.w;
	out->nwords = tab.n;
	tab.w = NULL;
	goto done;
fail:
	lowered_free(out);
done:
	free(tab.w);
	free(area.w);
	free(hm.keys);
	free(hm.hash);
	free(pool);
	for (a = 0; a < FBPF_NDFA; a++) {
		free(hits_of[a]);
		comb_free(&comb[a]);
		if (dfa[a])
			dfa_free(dfa[a]);
	}
	free(list);
	free(rule_xform);
	free(rule_cond);
	free(rule_flags);
	free(rule_handler);
	return d->errors - errors0;
}

void lowered_free(struct lowered *l)
{
	int i;

	free(l->words);
	for (i = 0; i < l->nhandlers; i++)
		free(l->handlers[i]);
	free(l->handlers);
	free(l->shadowed_by);
	memset(l, 0, sizeof(*l));
}
