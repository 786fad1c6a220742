// SPDX-License-Identifier: GPL-2.0
/*
 * Globs: the parser that turns a pattern into NFA fragments for dfa.c, and
 * glob_match, a direct backtracking matcher with the same meaning that the
 * tests use as their reference.
 *
 * The meaning (the "Patterns" section of the language specification):
 *   - a pattern starts with '/' (anchored at the mount root) or with "**";
 *   - '*' is any run of bytes but '/', '?' one byte but '/', "[...]" one byte
 *     of (or, with '!' or '^', not of) a class, never '/'; ']' first is literal;
 *   - "**" is a whole component: any number of components (at least one when
 *     it is the last component of the pattern);
 *   - "{a,b}" alternatives, nested, with any syntax inside, empty ones allowed;
 *   - "\x" is x literally ("\/" is a separator like '/');
 *   - the root itself is never matched.
 *
 * Braces are expanded first (every alternative keeps, for each byte, its
 * offset in the pattern, so errors point into what the user wrote), then
 * every expansion is checked and lowered on its own.
 */
#include <stdlib.h>
#include <string.h>

#include "automaton.h"
#include "automaton_int.h"

#define GLOB_MAX_ALTS 1024

/* ---- the NFA object: interned byte sets and fragments ------------------ */

struct nfa *nfa_new(void)
{
	struct nfa *n = calloc(1, sizeof(*n));

	if (!n)
		return NULL;
	n->slash_set = -1;
	n->any_set = -1;
	for (int i = 0; i < 256; i++)
		n->lit_set[i] = -1;
	return n;
}

void nfa_free(struct nfa *n)
{
	if (!n)
		return;
	free(n->sets);
	free(n->set_ht);
	free(n->elem);
	free(n->frag);
	free(n);
}

static uint64_t bs_hash(const struct byteset *s)
{
	uint64_t h = 0x9e3779b97f4a7c15ull;

	for (int i = 0; i < 4; i++) {
		h ^= s->w[i];
		h *= 0xff51afd7ed558ccdull;
		h ^= h >> 32;
	}
	return h;
}

static int set_ht_insert(int *ht, int cap, const struct byteset *sets, int id)
{
	uint64_t h = bs_hash(&sets[id]);
	int i = (int)(h & (uint64_t)(cap - 1));

	while (ht[i])
		i = (i + 1) & (cap - 1);
	ht[i] = id + 1;
	return 0;
}

/* Id of byte set s, adding it if new; -1 when out of memory. */
static int set_intern(struct nfa *n, const struct byteset *s)
{
	if (n->set_htcap) {
		int i = (int)(bs_hash(s) & (uint64_t)(n->set_htcap - 1));

		while (n->set_ht[i]) {
			if (!memcmp(&n->sets[n->set_ht[i] - 1], s, sizeof(*s)))
				return n->set_ht[i] - 1;
			i = (i + 1) & (n->set_htcap - 1);
		}
	}
	if (n->nsets == n->capsets) {
		int cap = n->capsets ? n->capsets * 2 : 64;
		struct byteset *v = realloc(n->sets, (size_t)cap * sizeof(*v));

		if (!v)
			return -1;
		n->sets = v;
		n->capsets = cap;
	}
	if ((n->nsets + 1) * 2 > n->set_htcap) {
		int cap = n->set_htcap ? n->set_htcap * 2 : 128;
		int *ht = calloc((size_t)cap, sizeof(int));

		if (!ht)
			return -1;
		for (int i = 0; i < n->nsets; i++)
			set_ht_insert(ht, cap, n->sets, i);
		free(n->set_ht);
		n->set_ht = ht;
		n->set_htcap = cap;
	}
	n->sets[n->nsets] = *s;
	set_ht_insert(n->set_ht, n->set_htcap, n->sets, n->nsets);
	return n->nsets++;
}

static void any_but_slash(struct byteset *s)
{
	for (int i = 0; i < 4; i++)
		s->w[i] = ~(uint64_t)0;
	s->w['/' >> 6] &= ~((uint64_t)1 << ('/' & 63));
}

/* ---- brace expansion --------------------------------------------------- */

struct gerr {
	int off;
	const char *msg;
};

enum { N_SEQ, N_GROUP, N_CHUNK };

struct bnode {
	int type, parent, first, last, next;
	int start, end; /* chunk: [start, end); group: start is the '{' */
	long count;
};

/* An expansion: one int per byte, byte | offset in the pattern << 8. */
struct xstr {
	int len;
	int *c;
};

struct xlist {
	int n;
	struct xstr *v;
};

struct bparse {
	const char *g;
	struct bnode *nd;
	int nnd, capnd;
	int oom;
};

/* Index of the ']' that closes the class opened at g[i] == '[', or -1. */
static int class_end(const char *g, int i)
{
	int j = i + 1;

	if (g[j] == '!' || g[j] == '^')
		j++;
	if (g[j] == ']')
		j++;
	while (g[j] && g[j] != ']')
		j += (g[j] == '\\' && g[j + 1]) ? 2 : 1;
	return g[j] ? j : -1;
}

static int bp_new(struct bparse *p, int type, int parent, int start)
{
	struct bnode *x;

	if (p->nnd == p->capnd) {
		int cap = p->capnd ? p->capnd * 2 : 16;
		struct bnode *v = realloc(p->nd, (size_t)cap * sizeof(*v));

		if (!v) {
			p->oom = 1;
			return -1;
		}
		p->nd = v;
		p->capnd = cap;
	}
	x = &p->nd[p->nnd];
	x->type = type;
	x->parent = parent;
	x->first = x->last = x->next = -1;
	x->start = x->end = start;
	x->count = 1;
	if (parent >= 0) {
		if (p->nd[parent].last >= 0)
			p->nd[p->nd[parent].last].next = p->nnd;
		else
			p->nd[parent].first = p->nnd;
		p->nd[parent].last = p->nnd;
	}
	return p->nnd++;
}

/* Build the brace tree of p->g. Nodes are created parents first, so that
 * walking them backwards visits children before parents. */
static int brace_parse(struct bparse *p, struct gerr *e)
{
	const char *g = p->g;
	int root = bp_new(p, N_SEQ, -1, 0), cur = root, i = 0;

	if (root < 0)
		return -1;
	for (;;) {
		char c = g[i];
		int end;

		if (!c) {
			if (cur != root) {
				e->off = p->nd[p->nd[cur].parent].start;
				e->msg = "unterminated '{'";
				return -1;
			}
			return 0;
		}
		if (c == '{') {
			int grp = bp_new(p, N_GROUP, cur, i);

			if (grp < 0 || (cur = bp_new(p, N_SEQ, grp, i + 1)) < 0)
				return -1;
			i++;
			continue;
		}
		if (cur != root && c == ',') {
			if ((cur = bp_new(p, N_SEQ, p->nd[cur].parent, i + 1)) < 0)
				return -1;
			i++;
			continue;
		}
		if (cur != root && c == '}') {
			cur = p->nd[p->nd[cur].parent].parent;
			i++;
			continue;
		}
		if (c == '\\' && g[i + 1]) {
			end = i + 2;
		} else if (c == '[') {
			int j = class_end(g, i);

			if (j < 0) {
				e->off = i;
				e->msg = "unterminated '[' (a class ends with ']')";
				return -1;
			}
			for (int k = i + 1; k < j; k++)
				if (g[k] == '/') {
					e->off = k;
					e->msg = "'/' inside '[...]' (a class never matches '/')";
					return -1;
				}
			end = j + 1;
		} else {
			end = i + 1;
		}
		if (p->nd[cur].last >= 0 && p->nd[p->nd[cur].last].type == N_CHUNK &&
		    p->nd[p->nd[cur].last].end == i) {
			p->nd[p->nd[cur].last].end = end;
		} else {
			int ch = bp_new(p, N_CHUNK, cur, i);

			if (ch < 0)
				return -1;
			p->nd[ch].end = end;
		}
		i = end;
	}
}

static long sat_mul(long a, long b)
{
	return (a > GLOB_MAX_ALTS || b > GLOB_MAX_ALTS || a * b > GLOB_MAX_ALTS) ? GLOB_MAX_ALTS + 1 : a * b;
}

/* Count the expansions; on more than GLOB_MAX_ALTS find the brace to blame. */
static int brace_count(struct bparse *p, struct gerr *e)
{
	struct bnode *nd = p->nd;
	int x;

	for (int i = p->nnd - 1; i >= 0; i--) {
		long c = nd[i].type == N_GROUP ? 0 : 1;

		if (nd[i].type == N_CHUNK)
			continue;
		for (int ch = nd[i].first; ch >= 0; ch = nd[ch].next) {
			if (nd[i].type == N_SEQ)
				c = sat_mul(c, nd[ch].count);
			else if ((c += nd[ch].count) > GLOB_MAX_ALTS)
				c = GLOB_MAX_ALTS + 1;
		}
		nd[i].count = c;
	}
	if (nd[0].count <= GLOB_MAX_ALTS)
		return 0;
	e->msg = "more than 1024 alternatives after expanding braces";
	x = 0;
	for (;;) {
		long c = nd[x].type == N_GROUP ? 0 : 1;
		int ch, next = -1;

		for (ch = nd[x].first; ch >= 0; ch = nd[ch].next) {
			if (nd[x].type == N_SEQ)
				c = sat_mul(c, nd[ch].count);
			else
				c += nd[ch].count;
			if (c > GLOB_MAX_ALTS)
				break;
		}
		if (ch < 0) { /* cannot happen */
			e->off = nd[x].start;
			return -1;
		}
		if (nd[ch].count > GLOB_MAX_ALTS)
			next = ch;
		if (next < 0) {
			e->off = nd[x].type == N_GROUP ? nd[x].start : nd[ch].start;
			return -1;
		}
		x = next;
	}
}

static void xlist_free(struct xlist *l)
{
	for (int i = 0; i < l->n; i++)
		free(l->v[i].c);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

/* Expand the tree into out (the alternatives in order). */
static int brace_expand(struct bparse *p, struct xlist *out)
{
	struct bnode *nd = p->nd;
	struct xlist *lists = calloc((size_t)p->nnd, sizeof(*lists));
	int ok = 1;

	if (!lists)
		return -1;
	for (int i = p->nnd - 1; i >= 0 && ok; i--) {
		struct xlist *l = &lists[i];

		if (nd[i].type == N_CHUNK)
			continue;
		l->v = calloc((size_t)nd[i].count, sizeof(*l->v));
		if (!l->v) {
			ok = 0;
			break;
		}
		if (nd[i].type == N_GROUP) {
			for (int ch = nd[i].first; ch >= 0; ch = nd[ch].next) {
				memcpy(l->v + l->n, lists[ch].v, (size_t)lists[ch].n * sizeof(*l->v));
				l->n += lists[ch].n;
				free(lists[ch].v);
				lists[ch].v = NULL;
				lists[ch].n = 0;
			}
			continue;
		}
		/* a sequence: the cross product of its items */
		l->n = 1; /* one empty string */
		for (int ch = nd[i].first; ch >= 0 && ok; ch = nd[ch].next) {
			if (nd[ch].type == N_CHUNK) {
				int add = nd[ch].end - nd[ch].start;

				for (int k = 0; k < l->n; k++) {
					int *c = realloc(l->v[k].c, (size_t)(l->v[k].len + add) * sizeof(int));

					if (!c) {
						ok = 0;
						break;
					}
					for (int b = 0; b < add; b++)
						c[l->v[k].len + b] = (unsigned char)p->g[nd[ch].start + b] |
								     (nd[ch].start + b) << 8;
					l->v[k].c = c;
					l->v[k].len += add;
				}
			} else {
				struct xlist *g = &lists[ch];
				struct xstr *v = calloc((size_t)(l->n * g->n) + 1, sizeof(*v));
				int m = 0;

				if (!v) {
					ok = 0;
					break;
				}
				for (int a = 0; a < l->n && ok; a++)
					for (int b = 0; b < g->n; b++) {
						int len = l->v[a].len + g->v[b].len;
						int *c = malloc((size_t)(len ? len : 1) * sizeof(int));

						if (!c) {
							ok = 0;
							break;
						}
						if (l->v[a].len)
							memcpy(c, l->v[a].c, (size_t)l->v[a].len * sizeof(int));
						if (g->v[b].len)
							memcpy(c + l->v[a].len, g->v[b].c,
							       (size_t)g->v[b].len * sizeof(int));
						v[m].c = c;
						v[m++].len = len;
					}
				xlist_free(l);
				xlist_free(g);
				l->v = v;
				l->n = m;
			}
		}
	}
	if (ok) {
		*out = lists[0];
		lists[0].v = NULL;
		lists[0].n = 0;
	}
	for (int i = 0; i < p->nnd; i++)
		xlist_free(&lists[i]);
	free(lists);
	return ok ? 0 : -1;
}

/* ---- one expansion: tokens, checks, elements ---------------------------- */

enum { T_SLASH, T_STAR, T_QM, T_CLASS, T_LIT };

struct tok {
	int kind, off;
	int lit;   /* T_LIT */
	int cls;   /* T_CLASS: index into the class array */
};

/* An element before its byte set is interned: set >= 0 is one byte,
 * SD_ANY every byte but '/', SD_SLASH '/', SD_CLASS + i class i. */
enum { SD_ANY = -1, SD_SLASH = -2, SD_CLASS = 256 };

struct telem {
	int kind;
	int set;
};

struct work {
	struct tok *tok;
	int ntok, captok;
	struct byteset *cls;
	int ncls, capcls;
	struct telem *el;
	int nel, capel;
	int oom;
};

#define GROW(w, arr, n, cap)                                                   \
	do {                                                                   \
		if ((w)->n == (w)->cap) {                                      \
			int c_ = (w)->cap ? (w)->cap * 2 : 64;                 \
			void *v_ = realloc((w)->arr, (size_t)c_ * sizeof(*(w)->arr)); \
			if (!v_) {                                             \
				(w)->oom = 1;                                  \
				return -1;                                     \
			}                                                      \
			(w)->arr = v_;                                         \
			(w)->cap = c_;                                         \
		}                                                              \
	} while (0)

static int push_tok(struct work *w, int kind, int off, int lit, int cls)
{
	GROW(w, tok, ntok, captok);
	w->tok[w->ntok++] = (struct tok){ kind, off, lit, cls };
	return 0;
}

static int push_el(struct work *w, int kind, int set)
{
	GROW(w, el, nel, capel);
	w->el[w->nel++] = (struct telem){ kind, set };
	return 0;
}

static int push_cls(struct work *w, const struct byteset *s)
{
	GROW(w, cls, ncls, capcls);
	w->cls[w->ncls] = *s;
	return w->ncls++;
}

#define XB(x, i) ((x)->c[i] & 0xff)
#define XO(x, i) ((x)->c[i] >> 8)

/* Parse the class at x[i] == '['; returns the index after ']' or -1. */
static int parse_class(struct work *w, const struct xstr *x, int i, struct gerr *e)
{
	struct byteset s = { { 0 } };
	int j = i + 1, neg = 0, first = 1, id;

	if (j < x->len && (XB(x, j) == '!' || XB(x, j) == '^')) {
		neg = 1;
		j++;
	}
	for (;;) {
		int lo, hi, lo_off, hi_off;

		if (j >= x->len) {
			e->off = XO(x, i);
			e->msg = "unterminated '[' (a class ends with ']')";
			return -1;
		}
		if (XB(x, j) == ']' && !first)
			break;
		first = 0;
		lo_off = XO(x, j);
		if (XB(x, j) == '\\' && j + 1 < x->len) {
			lo = XB(x, j + 1);
			j += 2;
		} else {
			lo = XB(x, j);
			j++;
		}
		hi = lo;
		hi_off = lo_off;
		if (j + 1 < x->len && XB(x, j) == '-' && XB(x, j + 1) != ']') {
			int k = j + 1;

			hi_off = XO(x, k);
			if (XB(x, k) == '\\' && k + 1 < x->len) {
				hi = XB(x, k + 1);
				k += 2;
			} else {
				hi = XB(x, k);
				k++;
			}
			j = k;
		}
		if (lo == '/' || hi == '/') {
			e->off = lo == '/' ? lo_off : hi_off;
			e->msg = "'/' inside '[...]' (a class never matches '/')";
			return -1;
		}
		for (int b = lo; b <= hi; b++) /* a reversed range is empty */
			bs_add(&s, (unsigned)b);
	}
	if (neg)
		for (int k = 0; k < 4; k++)
			s.w[k] = ~s.w[k];
	s.w['/' >> 6] &= ~((uint64_t)1 << ('/' & 63));
	id = push_cls(w, &s);
	if (id < 0 || push_tok(w, T_CLASS, XO(x, i), 0, id) < 0)
		return -1;
	return j + 1;
}

static int tokenize(struct work *w, const struct xstr *x, struct gerr *e)
{
	int i = 0;

	w->ntok = 0;
	while (i < x->len) {
		int c = XB(x, i), off = XO(x, i), r = 0;

		if (c == '\\' && i + 1 < x->len) {
			int d = XB(x, i + 1);

			r = d == '/' ? push_tok(w, T_SLASH, off, 0, 0) : push_tok(w, T_LIT, off, d, 0);
			i += 2;
		} else if (c == '[') {
			i = parse_class(w, x, i, e);
			if (i < 0)
				return -1;
		} else {
			int k = c == '/' ? T_SLASH : c == '*' ? T_STAR : c == '?' ? T_QM : T_LIT;

			r = push_tok(w, k, off, c, 0);
			i++;
		}
		if (r < 0)
			return -1;
	}
	return 0;
}

/* Check the tokens of one expansion and append its elements. */
static int lower_expansion(struct work *w, struct gerr *e)
{
	struct tok *t = w->tok;
	int n = w->ntok, p, prev_mid = 0;

	if (!n) {
		e->off = 0;
		e->msg = "empty pattern";
		return -1;
	}
	if (t[0].kind == T_SLASH) {
		p = 1;
	} else if (n >= 2 && t[0].kind == T_STAR && t[1].kind == T_STAR) {
		p = 0; /* the first component is checked to be exactly "**" below */
	} else {
		e->off = t[0].off;
		e->msg = "a pattern starts with '/' (anchored at the root) or '**' (any depth)";
		return -1;
	}
	for (;;) {
		int q = p, dstar, last;

		while (q < n && t[q].kind != T_SLASH)
			q++;
		if (q == p) {
			if (p == n) {
				e->off = t[p - 1].off;
				e->msg = "trailing '/' (the root itself is never matched)";
			} else {
				e->off = t[q].off;
				e->msg = "empty path component ('//')";
			}
			return -1;
		}
		last = q == n;
		dstar = q - p == 2 && t[p].kind == T_STAR && t[p + 1].kind == T_STAR;
		if (!dstar) {
			int dots = 0, lits = 1;

			for (int k = p; k < q; k++) {
				if (k + 1 < q && t[k].kind == T_STAR && t[k + 1].kind == T_STAR) {
					e->off = t[k].off;
					e->msg = "'**' must be a whole path component";
					return -1;
				}
				if (t[k].kind != T_LIT)
					lits = 0;
				else if (t[k].lit == '.')
					dots++;
			}
			if (lits && dots == q - p && dots <= 2) {
				e->off = t[p].off;
				e->msg = "path component '.' or '..' (paths never contain them)";
				return -1;
			}
		}
		if (!prev_mid && push_el(w, E_SET, SD_SLASH) < 0)
			return -1;
		if (dstar) {
			if (push_el(w, last ? E_DSTAR_END : E_DSTAR_MID, SD_ANY) < 0)
				return -1;
			prev_mid = !last;
		} else {
			prev_mid = 0;
			/* a component is never empty: a lone '*' is "?*" */
			if (q - p == 1 && t[p].kind == T_STAR && push_el(w, E_SET, SD_ANY) < 0)
				return -1;
			for (int k = p; k < q; k++) {
				int r;

				switch (t[k].kind) {
				case T_STAR: r = push_el(w, E_STAR, SD_ANY); break;
				case T_QM: r = push_el(w, E_SET, SD_ANY); break;
				case T_CLASS: r = push_el(w, E_SET, SD_CLASS + t[k].cls); break;
				default: r = push_el(w, E_SET, t[k].lit); break;
				}
				if (r < 0)
					return -1;
			}
		}
		if (last)
			return 0;
		p = q + 1;
	}
}

static int resolve_set(struct nfa *n, const struct work *w, int sd)
{
	struct byteset s = { { 0 } };
	int *slot = NULL;
	int id;

	if (sd == SD_ANY) {
		slot = &n->any_set;
		any_but_slash(&s);
	} else if (sd == SD_SLASH) {
		slot = &n->slash_set;
		bs_add(&s, '/');
	} else if (sd < SD_CLASS) {
		slot = &n->lit_set[sd];
		bs_add(&s, (unsigned)sd);
	} else {
		s = w->cls[sd - SD_CLASS];
	}
	if (slot && *slot >= 0)
		return *slot;
	id = set_intern(n, &s);
	if (slot)
		*slot = id;
	return id;
}

static int nfa_commit(struct nfa *n, const struct work *w, const int *fstart, int nfr, int rule)
{
	size_t need = n->nelem + (size_t)w->nel;

	if (n->nfrag + nfr > n->capfrag) {
		int cap = n->capfrag ? n->capfrag : 64;
		struct nfa_frag *v;

		while (cap < n->nfrag + nfr)
			cap *= 2;
		v = realloc(n->frag, (size_t)cap * sizeof(*v));
		if (!v)
			return -1;
		n->frag = v;
		n->capfrag = cap;
	}
	if (need > n->capelem) {
		size_t cap = n->capelem ? n->capelem : 1024;
		uint32_t *v;

		while (cap < need)
			cap *= 2;
		v = realloc(n->elem, cap * sizeof(*v));
		if (!v)
			return -1;
		n->elem = v;
		n->capelem = cap;
	}
	/* '/' and "any" are needed by every "**" loop: make sure they exist */
	for (int i = 0; i < w->nel; i++) {
		int id = resolve_set(n, w, w->el[i].set);

		if (id < 0)
			return -1;
		if (w->el[i].kind == E_DSTAR_MID || w->el[i].kind == E_DSTAR_END)
			if (resolve_set(n, w, SD_SLASH) < 0)
				return -1;
		n->elem[n->nelem + (size_t)i] = E_MAKE(w->el[i].kind, id);
	}
	for (int f = 0; f < nfr; f++) {
		int end = f + 1 < nfr ? fstart[f + 1] : w->nel;

		n->frag[n->nfrag].rule = rule;
		n->frag[n->nfrag].first = (uint32_t)(n->nelem + (size_t)fstart[f]);
		n->frag[n->nfrag].len = (uint32_t)(end - fstart[f]);
		n->nfrag++;
	}
	n->nelem = need;
	return 0;
}

/* Parse and check `glob`; with n, add its fragments for `rule`. */
static int glob_compile(struct nfa *n, const char *glob, int rule, struct gerr *e)
{
	struct bparse p = { .g = glob };
	struct xlist xl = { 0 };
	struct work w = { 0 };
	int *fstart = NULL, ret = -1;

	e->off = 0;
	e->msg = NULL;
	if (!glob || !*glob) {
		e->msg = "empty pattern";
		return -1;
	}
	if (brace_parse(&p, e) < 0 || brace_count(&p, e) < 0 || brace_expand(&p, &xl) < 0)
		goto out;
	fstart = malloc((size_t)(xl.n ? xl.n : 1) * sizeof(int));
	if (!fstart)
		goto out;
	for (int i = 0; i < xl.n; i++) {
		fstart[i] = w.nel;
		if (tokenize(&w, &xl.v[i], e) < 0 || lower_expansion(&w, e) < 0)
			goto out;
	}
	if (n && nfa_commit(n, &w, fstart, xl.n, rule) < 0) {
		n->oom = 1;
		goto out;
	}
	ret = 0;
out:
	if (ret < 0 && !e->msg) {
		e->off = 0;
		e->msg = "out of memory";
		if (n)
			n->oom = 1;
	}
	xlist_free(&xl);
	free(p.nd);
	free(w.tok);
	free(w.cls);
	free(w.el);
	free(fstart);
	return ret;
}

int nfa_add_glob(struct nfa *n, const char *glob, int rule, int *err_off, const char **err_msg)
{
	struct gerr e;

	if (!n) {
		e.off = 0;
		e.msg = "out of memory";
	} else if (glob_compile(n, glob, rule, &e) == 0) {
		return 0;
	}
	if (err_off)
		*err_off = e.off;
	if (err_msg)
		*err_msg = e.msg;
	return -1;
}

int glob_check(const char *glob, int *err_off, const char **err_msg)
{
	struct gerr e;

	if (glob_compile(NULL, glob, 0, &e) == 0)
		return 0;
	if (err_off)
		*err_off = e.off;
	if (err_msg)
		*err_msg = e.msg;
	return -1;
}

/* ---- glob_match: the reference ----------------------------------------
 * Deliberately simple and separate from the above: braces by textual
 * substitution, then components matched by backtracking. Only the question
 * "is this glob well formed" is answered by glob_check. */

/* End of the class opened at p[i] == '[' ("]" right after "[", "[!" or "[^"
 * is literal; "\x" escapes), or -1. */
static int gm_class_end(const char *p, int i)
{
	int j = i + 1;

	if (p[j] == '!' || p[j] == '^')
		j++;
	if (p[j] == ']')
		j++;
	for (; p[j] && p[j] != ']'; j++)
		if (p[j] == '\\' && p[j + 1])
			j++;
	return p[j] ? j : -1;
}

/* Does the class starting at *pp match byte c? Advances *pp past ']'. */
static int gm_class(const char **pp, unsigned char c)
{
	const char *p = *pp + 1;
	int neg = 0, hit = 0;

	if (*p == '!' || *p == '^') {
		neg = 1;
		p++;
	}
	do {
		unsigned char lo, hi;

		if (*p == '\\' && p[1])
			p++;
		lo = hi = (unsigned char)*p++;
		if (*p == '-' && p[1] && p[1] != ']') {
			p++;
			if (*p == '\\' && p[1])
				p++;
			hi = (unsigned char)*p++;
		}
		if (lo <= c && c <= hi)
			hit = 1;
	} while (*p != ']');
	*pp = p + 1;
	return c != '/' && hit != neg;
}

/* One component pattern against one component name. */
static int gm_comp(const char *p, const char *s)
{
	while (*p) {
		if (*p == '*') {
			p++;
			for (;;) {
				if (gm_comp(p, s))
					return 1;
				if (!*s)
					return 0;
				s++;
			}
		}
		if (!*s)
			return 0;
		if (*p == '?') {
			p++;
		} else if (*p == '[') {
			if (!gm_class(&p, (unsigned char)*s))
				return 0;
		} else {
			if (*p == '\\' && p[1])
				p++;
			if (*p != *s)
				return 0;
			p++;
		}
		s++;
	}
	return !*s;
}

/* Components i.. of the pattern against components j.. of the path. */
static int gm_comps(char **pc, int np, int i, char **sc, int ns, int j)
{
	if (i == np)
		return j == ns;
	if (!strcmp(pc[i], "**")) {
		if (i == np - 1)
			return ns - j >= 1;
		for (int k = j; k <= ns; k++)
			if (gm_comps(pc, np, i + 1, sc, ns, k))
				return 1;
		return 0;
	}
	return j < ns && gm_comp(pc[i], sc[j]) && gm_comps(pc, np, i + 1, sc, ns, j + 1);
}

/* Split a brace-free pattern at its separators ('/' and "\/"). */
static int gm_split_pattern(const char *p, char ***out)
{
	size_t len = strlen(p);
	char *buf = malloc(len + 1), **v = calloc(len + 2, sizeof(char *));
	int n = 0;
	size_t k = 0;

	if (!buf || !v) {
		free(buf);
		free(v);
		return -1;
	}
	if (*p == '/')
		p++;
	v[n++] = buf;
	while (*p) {
		if (*p == '/' || (*p == '\\' && p[1] == '/')) {
			p += *p == '/' ? 1 : 2;
			buf[k++] = 0;
			v[n++] = buf + k;
		} else if (*p == '[') {
			int e = gm_class_end(p, 0);

			memcpy(buf + k, p, (size_t)e + 1);
			k += (size_t)e + 1;
			p += e + 1;
		} else if (*p == '\\' && p[1]) {
			buf[k++] = *p++;
			buf[k++] = *p++;
		} else {
			buf[k++] = *p++;
		}
	}
	buf[k] = 0;
	*out = v;
	return n;
}

static int gm_plain(const char *pat, const char *path)
{
	char **pc = NULL, **sc;
	char *pbuf;
	int np, ns = 0, r;
	size_t len = strlen(path);

	if (path[0] != '/' || !path[1])
		return 0; /* not a path, or the root */
	pbuf = strdup(path + 1);
	sc = calloc(len + 1, sizeof(char *));
	np = gm_split_pattern(pat, &pc);
	if (!pbuf || !sc || np < 0) {
		free(pbuf);
		free(sc);
		if (np >= 0) {
			free(pc[0]);
			free(pc);
		}
		return 0;
	}
	sc[ns++] = pbuf;
	for (char *q = pbuf; *q; q++)
		if (*q == '/') {
			*q = 0;
			sc[ns++] = q + 1;
		}
	r = 1;
	for (int i = 0; i < ns; i++)
		if (!*sc[i])
			r = 0; /* "//" or a trailing '/': not a path */
	r = r && gm_comps(pc, np, 0, sc, ns, 0);
	free(pc[0]);
	free(pc);
	free(pbuf);
	free(sc);
	return r;
}

static int gm_braces(const char *pat, const char *path)
{
	int i, open = -1, depth = 0, close = -1, r = 0;
	size_t len = strlen(pat);
	char *buf;

	for (i = 0; pat[i]; i++) {
		if (pat[i] == '\\' && pat[i + 1]) {
			i++;
		} else if (pat[i] == '[') {
			i = gm_class_end(pat, i);
		} else if (pat[i] == '{') {
			if (!depth++)
				open = i;
		} else if (pat[i] == '}' && depth) {
			if (!--depth) {
				close = i;
				break;
			}
		}
	}
	if (open < 0)
		return gm_plain(pat, path);
	buf = malloc(len + 1);
	if (!buf)
		return 0;
	/* each alternative between open and close, split at commas of depth 1 */
	for (int a = open + 1;;) {
		int b = a;

		depth = 0;
		for (; b < close; b++) {
			if (pat[b] == '\\' && pat[b + 1])
				b++;
			else if (pat[b] == '[')
				b = gm_class_end(pat, b);
			else if (pat[b] == '{')
				depth++;
			else if (pat[b] == '}')
				depth--;
			else if (pat[b] == ',' && !depth)
				break;
		}
		memcpy(buf, pat, (size_t)open);
		memcpy(buf + open, pat + a, (size_t)(b - a));
		strcpy(buf + open + (b - a), pat + close + 1);
		if (gm_braces(buf, path)) {
			r = 1;
			break;
		}
		if (b >= close)
			break;
		a = b + 1;
	}
	free(buf);
	return r;
}

int glob_match(const char *glob, const char *path)
{
	if (!glob || !path || glob_check(glob, NULL, NULL) < 0)
		return 0;
	return gm_braces(glob, path);
}
