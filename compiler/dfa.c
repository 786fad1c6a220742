// SPDX-License-Identifier: GPL-2.0
/*
 * The fragments of every glob of a policy into one minimal DFA over byte
 * classes, and the DFA into the comb tables of fbpf_abi.h.
 *
 * 1. Byte classes: the coarsest partition of the 256 bytes such that every
 *    byte set a pattern uses is a union of classes.
 * 2. The rules are split into three groups: anchored rules without a "**"
 *    before their last component (the bulk of a policy), rules with such a
 *    "**", and rules that start with "**" and go on. For each group:
 *    - an epsilon-free NFA (automaton_int.h) whose states are shared twice
 *      over: backwards within a rule, forwards across rules (gnfa_build);
 *    - subset construction: NFA state sets sorted and hashed; per DFA state
 *      the classes whose move lists are equal share one lookup;
 *    - minimisation: Valmari and Lehtinen's partition refinement for
 *      partial DFAs, O(m log n), from the partition by accept list.
 * 3. The group automata are combined by a product construction over the
 *    reachable pairs. As the groups have disjoint rules, two pairs are
 *    equivalent only when their components are, so the product of minimal
 *    automata is minimal: no second minimisation, and the subset
 *    construction never carries the states of the leading-"**" rules
 *    (active everywhere) through the bulk of the policy.
 *    The product can be large: every state of the first automaton below an
 *    anchored "**" meets every state that the others can be in there.
 * States are numbered breadth-first from the start (1), classes in order,
 * so the output depends only on the input; 0 is the dead state.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "automaton.h"
#include "automaton_int.h"

/* ---- helpers ----------------------------------------------------------- */

static uint64_t mix64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ull;
	x ^= x >> 33;
	return x;
}

static uint64_t hash_ints(const int *v, int n)
{
	uint64_t h = 0x243f6a8885a308d3ull ^ (uint64_t)n;

	for (int i = 0; i < n; i++)
		h = (h ^ (uint32_t)v[i]) * 0x100000001b3ull + (h >> 29);
	return mix64(h);
}

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return (x > y) - (x < y);
}

/* Sort v[0..n) and drop duplicates; returns the new length. */
static int sort_unique(int *v, int n)
{
	int m;

	if (n <= 16) {
		for (int i = 1; i < n; i++) {
			int x = v[i], j = i;

			while (j > 0 && v[j - 1] > x) {
				v[j] = v[j - 1];
				j--;
			}
			v[j] = x;
		}
	} else {
		qsort(v, (size_t)n, sizeof(int), cmp_int);
	}
	m = n ? 1 : 0;
	for (int i = 1; i < n; i++)
		if (v[i] != v[m - 1])
			v[m++] = v[i];
	return m;
}

static int grow(void **p, size_t *cap, size_t need, size_t elem)
{
	size_t c = *cap ? *cap : 64;
	void *v;

	if (need <= *cap)
		return 0;
	while (c < need)
		c *= 2;
	v = realloc(*p, c * elem);
	if (!v)
		return -1;
	*p = v;
	*cap = c;
	return 0;
}

static char errbuf[160];

static const char *too_many(int max)
{
	snprintf(errbuf, sizeof(errbuf), "more than %d states", max);
	return errbuf;
}

static const char *const OOM = "out of memory";

/* ---- accept lists, interned: id 0 is the empty list --------------------- */

struct alists {
	int *pool;
	size_t npool, cappool;
	size_t *off;
	int *len;
	size_t n, cap;
	int *ht; /* id + 1 */
	size_t htcap;
};

static int al_rehash(struct alists *a)
{
	size_t cap = a->htcap ? a->htcap * 2 : 1024;
	int *ht = calloc(cap, sizeof(int));

	if (!ht)
		return -1;
	for (size_t i = 0; i < a->n; i++) {
		size_t j = hash_ints(a->pool + a->off[i], a->len[i]) & (cap - 1);

		while (ht[j])
			j = (j + 1) & (cap - 1);
		ht[j] = (int)i + 1;
	}
	free(a->ht);
	a->ht = ht;
	a->htcap = cap;
	return 0;
}

/* Id of the sorted list v[0..n), or -1 when out of memory. */
static int al_intern(struct alists *a, const int *v, int n)
{
	size_t j;

	if (!n && a->n)
		return 0; /* the empty list is interned first */
	if ((a->n + 1) * 2 > a->htcap && al_rehash(a) < 0)
		return -1;
	j = hash_ints(v, n) & (a->htcap - 1);
	while (a->ht[j]) {
		int id = a->ht[j] - 1;

		if (a->len[id] == n && !memcmp(a->pool + a->off[id], v, (size_t)n * sizeof(int)))
			return id;
		j = (j + 1) & (a->htcap - 1);
	}
	if (grow((void **)&a->pool, &a->cappool, a->npool + (size_t)n, sizeof(int)) < 0)
		return -1;
	if (a->n == a->cap) {
		size_t c = a->cap ? a->cap * 2 : 256;
		size_t *o = realloc(a->off, c * sizeof(*o));
		int *l;

		if (!o)
			return -1;
		a->off = o;
		l = realloc(a->len, c * sizeof(*l));
		if (!l)
			return -1;
		a->len = l;
		a->cap = c;
	}
	if (n)
		memcpy(a->pool + a->npool, v, (size_t)n * sizeof(int));
	a->off[a->n] = a->npool;
	a->len[a->n] = n;
	a->npool += (size_t)n;
	a->ht[j] = (int)a->n + 1;
	return (int)a->n++;
}

static void al_free(struct alists *a)
{
	free(a->pool);
	free(a->off);
	free(a->len);
	free(a->ht);
}

/* ---- byte classes -------------------------------------------------------- */

struct classes {
	int n;
	uint8_t map[256];
	int *first, *count; /* per byte set: its classes, in list[] */
	uint8_t *list;
};

static int classes_compute(const struct nfa *nf, struct classes *c)
{
	int cls[256] = { 0 }, n = 1, total = 0;

	for (int s = 0; s < nf->nsets; s++) {
		int remap[256][2], m = 0;

		for (int i = 0; i < n; i++)
			remap[i][0] = remap[i][1] = -1;
		for (int b = 0; b < 256; b++) {
			int in = bs_has(&nf->sets[s], (unsigned)b);

			if (remap[cls[b]][in] < 0)
				remap[cls[b]][in] = m++;
			cls[b] = remap[cls[b]][in];
		}
		n = m;
	}
	c->n = n;
	for (int b = 0; b < 256; b++)
		c->map[b] = (uint8_t)cls[b];
	c->first = calloc((size_t)nf->nsets + 1, sizeof(int));
	c->count = calloc((size_t)nf->nsets + 1, sizeof(int));
	c->list = malloc((size_t)(nf->nsets + 1) * (size_t)n);
	if (!c->first || !c->count || !c->list)
		return -1;
	for (int s = 0; s < nf->nsets; s++) {
		uint8_t seen[256] = { 0 };

		c->first[s] = total;
		for (int b = 0; b < 256; b++)
			if (bs_has(&nf->sets[s], (unsigned)b) && !seen[cls[b]]) {
				seen[cls[b]] = 1;
				c->list[total++] = (uint8_t)cls[b];
			}
		c->count[s] = total - c->first[s];
		/* in increasing class order, for nicer memory access */
		for (int i = c->first[s] + 1; i < total; i++) {
			uint8_t x = c->list[i];
			int j = i;

			while (j > c->first[s] && c->list[j - 1] > x) {
				c->list[j] = c->list[j - 1];
				j--;
			}
			c->list[j] = x;
		}
	}
	return 0;
}

static void classes_free(struct classes *c)
{
	free(c->first);
	free(c->count);
	free(c->list);
}

/* ---- dense DFAs under construction ---------------------------------------- */

struct ddfa {
	int n, k;
	size_t cap;
	uint32_t *trans; /* n * k */
	int *acc;        /* accept list id per state */
};

/* A new state with an all-dead row; -1 when out of memory. */
static int dd_add(struct ddfa *d)
{
	if ((size_t)d->n == d->cap) {
		size_t c = d->cap ? d->cap * 2 : 1024;
		uint32_t *t = realloc(d->trans, c * (size_t)d->k * sizeof(uint32_t));
		int *a;

		if (!t)
			return -1;
		d->trans = t;
		a = realloc(d->acc, c * sizeof(int));
		if (!a)
			return -1;
		d->acc = a;
		d->cap = c;
	}
	memset(d->trans + (size_t)d->n * (size_t)d->k, 0, (size_t)d->k * sizeof(uint32_t));
	d->acc[d->n] = 0;
	return d->n++;
}

static void dd_free(struct ddfa *d)
{
	free(d->trans);
	free(d->acc);
	memset(d, 0, sizeof(*d));
}

/* The automaton that matches nothing: dead 0 and start 1. */
static int dd_trivial(struct ddfa *d, int k)
{
	memset(d, 0, sizeof(*d));
	d->k = k;
	if (dd_add(d) < 0 || dd_add(d) < 0) {
		dd_free(d);
		return -1;
	}
	return 0;
}

/* ---- the epsilon-free NFA of one rule group ------------------------------- */

struct gnfa {
	int n;
	int *efirst; /* n + 1 */
	int *etgt, *eset;
	int *rfirst; /* n + 1: the rules state q accepts are rule[rfirst[q] .. rfirst[q + 1]) */
	int *rule;
};

struct edge3 {
	int src, set, dst;
};

static int cmp_edge3(const void *a, const void *b)
{
	const struct edge3 *x = a, *y = b;

	if (x->src != y->src)
		return (x->src > y->src) - (x->src < y->src);
	if (x->set != y->set)
		return (x->set > y->set) - (x->set < y->set);
	return (x->dst > y->dst) - (x->dst < y->dst);
}

static void gnfa_free(struct gnfa *g)
{
	free(g->efirst);
	free(g->etgt);
	free(g->eset);
	free(g->rfirst);
	free(g->rule);
	memset(g, 0, sizeof(*g));
}

/* Hash-consing of small int keys. */
struct hcons {
	int *pool;
	size_t npool, cappool;
	size_t *off;
	int *len, *val;
	size_t n, cap;
	int *ht; /* entry + 1 */
	size_t htcap;
};

static void hc_free(struct hcons *h)
{
	free(h->pool);
	free(h->off);
	free(h->len);
	free(h->val);
	free(h->ht);
}

static size_t hc_slot(const struct hcons *h, const int *key, int n)
{
	size_t j = hash_ints(key, n) & (h->htcap - 1);

	for (;;) {
		int e = h->ht[j] - 1;

		if (e < 0 || (h->len[e] == n && !memcmp(h->pool + h->off[e], key, (size_t)n * sizeof(int))))
			return j;
		j = (j + 1) & (h->htcap - 1);
	}
}

/* The value of key, or -1 if absent. */
static int hc_find(struct hcons *h, const int *key, int n)
{
	int e;

	if (!h->htcap)
		return -1;
	e = h->ht[hc_slot(h, key, n)] - 1;
	return e < 0 ? -1 : h->val[e];
}

static int hc_add(struct hcons *h, const int *key, int n, int val)
{
	if ((h->n + 1) * 2 > h->htcap) {
		size_t cap = h->htcap ? h->htcap * 2 : 1024;
		int *ht = calloc(cap, sizeof(int));

		if (!ht)
			return -1;
		free(h->ht);
		h->ht = ht;
		h->htcap = cap;
		for (size_t e = 0; e < h->n; e++)
			h->ht[hc_slot(h, h->pool + h->off[e], h->len[e])] = (int)e + 1;
	}
	if (grow((void **)&h->pool, &h->cappool, h->npool + (size_t)n, sizeof(int)) < 0)
		return -1;
	if (h->n == h->cap) {
		size_t c = h->cap ? h->cap * 2 : 256;
		size_t *o = realloc(h->off, c * sizeof(*o));
		int *l, *v;

		if (!o)
			return -1;
		h->off = o;
		if (!(l = realloc(h->len, c * sizeof(int))))
			return -1;
		h->len = l;
		if (!(v = realloc(h->val, c * sizeof(int))))
			return -1;
		h->val = v;
		h->cap = c;
	}
	memcpy(h->pool + h->npool, key, (size_t)n * sizeof(int));
	h->off[h->n] = h->npool;
	h->len[h->n] = n;
	h->val[h->n] = val;
	h->npool += (size_t)n;
	h->ht[hc_slot(h, key, n)] = (int)h->n + 1;
	h->n++;
	return 0;
}

/*
 * The NFA of a rule group, in two passes that share states.
 *
 * 1. Backwards over each fragment: a state is keyed by its rule, its loops
 *    ('*', and a "**" inside whose loop state it owns) and its one forward
 *    edge (to an already shared state), or by its acceptance. States with the
 *    same rest of the same rule are then one: otherwise the alternatives of
 *    a rule that end in a "**" component would each keep a state alive below
 *    a match, and the subset construction would count their combinations.
 * 2. Forwards: states reached by the same edges from the same (merged)
 *    states, with the same loops, have the same left language and are
 *    merged too (their accept lists joined). The trie of common prefixes
 *    ("/data/app1/..", "/data/app2/..") and the hub of every leading "**"
 *    become single states, so the NFA state sets stay small.
 * Both merges keep the language of every rule.
 */
struct rawnfa {
	struct edge3 *e;
	size_t ne, cape;
	int *rule, *owner;
	size_t cap;
	int ns;
};

static int raw_edge(struct rawnfa *r, int a, int set, int b)
{
	if (grow((void **)&r->e, &r->cape, r->ne + 1, sizeof(*r->e)) < 0)
		return -1;
	r->e[r->ne++] = (struct edge3){ a, set, b };
	return 0;
}

static int raw_state(struct rawnfa *r, int owner)
{
	if ((size_t)r->ns == r->cap) {
		size_t c = r->cap ? r->cap * 2 : 1024;
		int *x = realloc(r->rule, c * sizeof(int));

		if (!x)
			return -1;
		r->rule = x;
		if (!(x = realloc(r->owner, c * sizeof(int))))
			return -1;
		r->owner = x;
		r->cap = c;
	}
	r->rule[r->ns] = 0;
	r->owner[r->ns] = owner;
	return r->ns++;
}

/* The "**" loop of state q: q -N-> t, t -N-> t, t -'/'-> q. */
static int raw_loop(struct rawnfa *r, const struct nfa *nf, int q)
{
	int t = raw_state(r, q);

	if (t < 0 || raw_edge(r, q, nf->any_set, t) < 0 || raw_edge(r, t, nf->any_set, t) < 0 ||
	    raw_edge(r, t, nf->slash_set, q) < 0)
		return -1;
	return t;
}

static int build_backward(const struct nfa *nf, const int *frags, int nfr, struct rawnfa *r)
{
	struct hcons hc = { 0 };
	int *key = NULL, ret = -1;
	size_t capkey = 0;

	if (raw_state(r, -1) != 0) /* the start */
		goto out;
	for (int f = 0; f < nfr; f++) {
		const struct nfa_frag *fr = &nf->frag[frags[f]];
		const uint32_t *el = nf->elem + fr->first;
		int next_kind = -1, next_set = 0, next_id = 0; /* -1: none (accepting) */
		int i = (int)fr->len;

		while (i > 0) {
			/* the segment: a consuming element el[j], then loops el[j+1..i) */
			int j = i - 1, nk = 0, id;

			while (j > 0 && (E_KIND(el[j]) == E_STAR || E_KIND(el[j]) == E_DSTAR_MID))
				j--;
			if (E_KIND(el[j]) == E_DSTAR_END) { /* always last */
				next_kind = E_DSTAR_END;
				i = j;
				continue;
			}
			if (grow((void **)&key, &capkey, (size_t)(i - j) + 8, sizeof(int)) < 0)
				goto out;
			key[nk++] = fr->rule;
			key[nk++] = next_kind;
			key[nk++] = next_set;
			key[nk++] = next_id;
			key[nk++] = 0; /* a "**" loop */
			for (int x = j + 1; x < i; x++) {
				if (E_KIND(el[x]) == E_DSTAR_MID)
					key[4] = 1;
				else
					key[nk++] = (int)E_SETID(el[x]);
			}
			nk = 5 + sort_unique(key + 5, nk - 5);
			id = hc_find(&hc, key, nk);
			if (id < 0) {
				int q = raw_state(r, -1);

				if (q < 0 || hc_add(&hc, key, nk, q) < 0)
					goto out;
				for (int y = 5; y < nk; y++)
					if (raw_edge(r, q, key[y], q) < 0)
						goto out;
				if (key[4] && raw_loop(r, nf, q) < 0)
					goto out;
				if (next_kind == E_SET) {
					if (raw_edge(r, q, next_set, next_id) < 0)
						goto out;
				} else if (next_kind == E_DSTAR_END) {
					int t = raw_loop(r, nf, q);

					if (t < 0)
						goto out;
					r->rule[t] = fr->rule;
				} else {
					r->rule[q] = fr->rule;
				}
				id = q;
			}
			next_kind = E_SET;
			next_set = (int)E_SETID(el[j]);
			next_id = id;
			i = j;
		}
		/* the first element ('/') leaves the start (duplicates go later) */
		if (raw_edge(r, 0, next_set, next_id) < 0)
			goto out;
	}
	ret = 0;
out:
	hc_free(&hc);
	free(key);
	return ret;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

static int gnfa_build(const struct nfa *nf, const int *frags, int nfr, struct gnfa *g)
{
	struct rawnfa r = { 0 };
	struct hcons hc = { 0 };
	int *inf = NULL, *lpf = NULL, *lp = NULL, *merged = NULL, *key = NULL, *hasloop = NULL;
	int ret = -1, nm = 1;
	int64_t *in = NULL;
	struct edge3 *acc = NULL;
	size_t capkey = 0, na = 0;

	memset(g, 0, sizeof(*g));
	if (build_backward(nf, frags, nfr, &r) < 0)
		goto out;
	/* per state: the edges into it, as (source << 32 | set), but for the
	 * loops back from its own "**" loop state; its self-loops (sets) */
	inf = calloc((size_t)r.ns + 1, sizeof(int));
	lpf = calloc((size_t)r.ns + 1, sizeof(int));
	in = malloc((r.ne ? r.ne : 1) * sizeof(*in));
	lp = malloc((r.ne ? r.ne : 1) * sizeof(*lp));
	merged = malloc((size_t)r.ns * sizeof(int));
	hasloop = calloc((size_t)r.ns, sizeof(int));
	acc = malloc(((size_t)r.ns + 1) * sizeof(*acc));
	if (!inf || !lpf || !in || !lp || !merged || !hasloop || !acc)
		goto out;
	for (size_t i = 0; i < r.ne; i++) {
		const struct edge3 *x = &r.e[i];

		if (x->src == x->dst)
			lpf[x->dst + 1]++;
		else if (r.owner[x->src] != x->dst)
			inf[x->dst + 1]++;
	}
	for (int q = 0; q < r.ns; q++) {
		inf[q + 1] += inf[q];
		lpf[q + 1] += lpf[q];
		if (r.owner[q] >= 0)
			hasloop[r.owner[q]] = 1;
	}
	{
		int *pi = malloc(((size_t)r.ns + 1) * sizeof(int)), *pl = malloc(((size_t)r.ns + 1) * sizeof(int));

		if (!pi || !pl) {
			free(pi);
			free(pl);
			goto out;
		}
		memcpy(pi, inf, ((size_t)r.ns + 1) * sizeof(int));
		memcpy(pl, lpf, ((size_t)r.ns + 1) * sizeof(int));
		for (size_t i = 0; i < r.ne; i++) {
			const struct edge3 *x = &r.e[i];

			if (x->src == x->dst)
				lp[pl[x->dst]++] = x->set;
			else if (r.owner[x->src] != x->dst)
				in[pi[x->dst]++] = (int64_t)x->src << 32 | (uint32_t)x->set;
		}
		free(pi);
		free(pl);
	}
	/* forward merging, predecessors first: pass 1 numbered every state
	 * after the states it leads to (the start, 0, comes first anyway).
	 * Key: 0, has a "**" loop, the loop sets, then (merged source, set)
	 * of the edges in, both sorted. */
	merged[0] = 0;
	for (int q = r.ns - 1; q >= 1; q--) {
		int nk = 0, nin = inf[q + 1] - inf[q], nl = lpf[q + 1] - lpf[q], id;
		int64_t *pin = in + inf[q];

		if (r.owner[q] >= 0)
			continue;
		if (grow((void **)&key, &capkey, (size_t)(2 * nin + nl) + 4, sizeof(int)) < 0)
			goto out;
		key[nk++] = 0;
		key[nk++] = hasloop[q];
		memcpy(key + nk + 1, lp + lpf[q], (size_t)nl * sizeof(int));
		nl = sort_unique(key + nk + 1, nl);
		key[nk] = nl;
		nk += 1 + nl;
		for (int x = 0; x < nin; x++)
			pin[x] = (int64_t)merged[pin[x] >> 32] << 32 | (uint32_t)pin[x];
		qsort(pin, (size_t)nin, sizeof(int64_t), cmp_i64);
		for (int x = 0; x < nin; x++)
			if (!x || pin[x] != pin[x - 1]) {
				key[nk++] = (int)(pin[x] >> 32);
				key[nk++] = (int)(uint32_t)pin[x];
			}
		id = hc_find(&hc, key, nk);
		if (id < 0) {
			id = nm++;
			if (hc_add(&hc, key, nk, id) < 0)
				goto out;
		}
		merged[q] = id;
	}
	/* a "**" loop state goes with its (merged) owner */
	for (int q = 1; q < r.ns; q++) {
		int k2[2], id;

		if (r.owner[q] < 0)
			continue;
		k2[0] = 1;
		k2[1] = merged[r.owner[q]];
		id = hc_find(&hc, k2, 2);
		if (id < 0) {
			id = nm++;
			if (hc_add(&hc, k2, 2, id) < 0)
				goto out;
		}
		merged[q] = id;
	}
	/* the merged NFA: edges sorted, without duplicates; accept lists */
	for (size_t i = 0; i < r.ne; i++) {
		r.e[i].src = merged[r.e[i].src];
		r.e[i].dst = merged[r.e[i].dst];
	}
	qsort(r.e, r.ne, sizeof(*r.e), cmp_edge3);
	g->n = nm;
	g->efirst = calloc((size_t)nm + 1, sizeof(int));
	g->etgt = malloc((r.ne ? r.ne : 1) * sizeof(int));
	g->eset = malloc((r.ne ? r.ne : 1) * sizeof(int));
	g->rfirst = calloc((size_t)nm + 1, sizeof(int));
	if (!g->efirst || !g->etgt || !g->eset || !g->rfirst)
		goto out;
	for (size_t i = 0, m = 0; i < r.ne; i++)
		if (!i || cmp_edge3(&r.e[i], &r.e[i - 1])) {
			g->efirst[r.e[i].src + 1]++;
			g->etgt[m] = r.e[i].dst;
			g->eset[m++] = r.e[i].set;
		}
	for (int q = 0; q < r.ns; q++)
		if (r.rule[q])
			acc[na++] = (struct edge3){ merged[q], r.rule[q], 0 };
	qsort(acc, na, sizeof(*acc), cmp_edge3);
	g->rule = malloc((na ? na : 1) * sizeof(int));
	if (!g->rule)
		goto out;
	for (size_t i = 0, m = 0; i < na; i++)
		if (!i || cmp_edge3(&acc[i], &acc[i - 1])) {
			g->rfirst[acc[i].src + 1]++;
			g->rule[m++] = acc[i].set;
		}
	for (int q = 0; q < nm; q++) {
		g->efirst[q + 1] += g->efirst[q];
		g->rfirst[q + 1] += g->rfirst[q];
	}
	ret = 0;
out:
	free(r.e);
	free(r.rule);
	free(r.owner);
	free(inf);
	free(lpf);
	free(in);
	free(lp);
	free(merged);
	free(hasloop);
	free(acc);
	free(key);
	hc_free(&hc);
	if (ret < 0)
		gnfa_free(g);
	return ret;
}

/* ---- subset construction --------------------------------------------------- */

struct sets {
	int *pool;
	size_t npool, cappool;
	size_t *off;
	int *len;
	uint64_t *hash;
	size_t cap;
	int *ht; /* state + 1 */
	size_t htcap;
};

static void sets_free(struct sets *s)
{
	free(s->pool);
	free(s->off);
	free(s->len);
	free(s->hash);
	free(s->ht);
}

static int sets_rehash(struct sets *s, int n)
{
	size_t cap = s->htcap ? s->htcap * 2 : 4096;
	int *ht = calloc(cap, sizeof(int));

	if (!ht)
		return -1;
	for (int i = 0; i < n; i++) {
		size_t j = s->hash[i] & (cap - 1);

		while (ht[j])
			j = (j + 1) & (cap - 1);
		ht[j] = i + 1;
	}
	free(s->ht);
	s->ht = ht;
	s->htcap = cap;
	return 0;
}

/* The DFA state of NFA set v[0..n) (sorted), added to d if new; -1 when out
 * of memory, -2 when that would make more than max states. */
static int sets_state(struct sets *s, struct ddfa *d, const int *v, int n, int max)
{
	uint64_t h = hash_ints(v, n);
	size_t j;
	int id;

	if (((size_t)d->n + 1) * 2 > s->htcap && sets_rehash(s, d->n) < 0)
		return -1;
	j = h & (s->htcap - 1);
	while (s->ht[j]) {
		id = s->ht[j] - 1;
		if (s->hash[id] == h && s->len[id] == n &&
		    (!n || !memcmp(s->pool + s->off[id], v, (size_t)n * sizeof(int))))
			return id;
		j = (j + 1) & (s->htcap - 1);
	}
	if (d->n >= max)
		return -2;
	if (grow((void **)&s->pool, &s->cappool, s->npool + (size_t)n, sizeof(int)) < 0)
		return -1;
	if ((size_t)d->n == s->cap) {
		size_t c = s->cap ? s->cap * 2 : 1024;
		size_t *o = realloc(s->off, c * sizeof(*o));
		int *l;
		uint64_t *hh;

		if (!o)
			return -1;
		s->off = o;
		if (!(l = realloc(s->len, c * sizeof(*l))))
			return -1;
		s->len = l;
		if (!(hh = realloc(s->hash, c * sizeof(*hh))))
			return -1;
		s->hash = hh;
		s->cap = c;
	}
	id = dd_add(d);
	if (id < 0)
		return -1;
	if (n)
		memcpy(s->pool + s->npool, v, (size_t)n * sizeof(int));
	s->off[id] = s->npool;
	s->len[id] = n;
	s->hash[id] = h;
	s->npool += (size_t)n;
	s->ht[j] = id + 1;
	return id;
}

static int subset(const struct gnfa *g, const struct classes *cl, struct alists *al, int max,
		  struct ddfa *d, const char **err)
{
	struct sets S = { 0 };
	int k = cl->n, ret = -1;
	int *bk[256] = { 0 }, bn[256] = { 0 }, touched[256];
	size_t bcap[256] = { 0 };
	int *tmp = NULL, *rules = NULL;
	size_t captmp = 0, caprules = 0;
	int start = 0;

	memset(d, 0, sizeof(*d));
	d->k = k;
	*err = OOM;
	if (max < 2)
		max = 2;
	if (sets_state(&S, d, NULL, 0, max) != 0 || sets_state(&S, d, &start, 1, max) != 1)
		goto out;
	for (int s = 1; s < d->n; s++) {
		int nt = 0, nr = 0, nmemo = 0;
		uint64_t memo_h[256];
		int memo_c[256], memo_t[256];

		/* gather the moves of every NFA state of s, per class */
		for (int i = 0; i < S.len[s]; i++) {
			int q = S.pool[S.off[s] + (size_t)i];

			for (int x = g->rfirst[q]; x < g->rfirst[q + 1]; x++) {
				if (grow((void **)&rules, &caprules, (size_t)nr + 1, sizeof(int)) < 0)
					goto out;
				rules[nr++] = g->rule[x];
			}
			for (int e = g->efirst[q]; e < g->efirst[q + 1]; e++) {
				int t = g->etgt[e], set = g->eset[e];
				const uint8_t *cls = cl->list + cl->first[set];

				for (int j = 0; j < cl->count[set]; j++) {
					int c = cls[j];

					if (!bn[c])
						touched[nt++] = c;
					if ((size_t)bn[c] == bcap[c] &&
					    grow((void **)&bk[c], &bcap[c], (size_t)bn[c] + 1, sizeof(int)) < 0)
						goto out;
					bk[c][bn[c]++] = t;
				}
			}
		}
		nr = sort_unique(rules, nr);
		if ((d->acc[s] = al_intern(al, rules, nr)) < 0)
			goto out;
		/* one lookup per distinct move list */
		for (int i = 0; i < nt; i++) {
			int c = touched[i], t = -1, m;
			uint64_t h = hash_ints(bk[c], bn[c]);

			for (m = 0; m < nmemo; m++)
				if (memo_h[m] == h && bn[memo_c[m]] == bn[c] &&
				    !memcmp(bk[memo_c[m]], bk[c], (size_t)bn[c] * sizeof(int))) {
					t = memo_t[m];
					break;
				}
			if (t < 0) {
				int n;

				if (grow((void **)&tmp, &captmp, (size_t)bn[c], sizeof(int)) < 0)
					goto out;
				memcpy(tmp, bk[c], (size_t)bn[c] * sizeof(int));
				n = sort_unique(tmp, bn[c]);
				t = sets_state(&S, d, tmp, n, max);
				if (t == -2) {
					*err = too_many(max);
					goto out;
				}
				if (t < 0)
					goto out;
				memo_h[nmemo] = h;
				memo_c[nmemo] = c;
				memo_t[nmemo++] = t;
			}
			d->trans[(size_t)s * (size_t)k + (size_t)c] = (uint32_t)t;
		}
		for (int i = 0; i < nt; i++)
			bn[touched[i]] = 0;
	}
	ret = 0;
	*err = NULL;
out:
	sets_free(&S);
	for (int c = 0; c < 256; c++)
		free(bk[c]);
	free(tmp);
	free(rules);
	if (ret < 0)
		dd_free(d);
	return ret;
}

/* ---- minimisation: Valmari & Lehtinen, partial DFAs ----------------------- */

struct part {
	int z;
	int *E, *L, *S, *F, *P;
};

struct refiner {
	int *M, *W, w;
};

static int part_init(struct part *p, int n)
{
	p->z = 0;
	p->E = malloc(((size_t)n + 1) * sizeof(int));
	p->L = malloc(((size_t)n + 1) * sizeof(int));
	p->S = malloc(((size_t)n + 1) * sizeof(int));
	p->F = malloc(((size_t)n + 1) * sizeof(int));
	p->P = malloc(((size_t)n + 1) * sizeof(int));
	return p->E && p->L && p->S && p->F && p->P ? 0 : -1;
}

static void part_free(struct part *p)
{
	free(p->E);
	free(p->L);
	free(p->S);
	free(p->F);
	free(p->P);
}

static inline void part_mark(struct part *p, struct refiner *r, int e)
{
	int s = p->S[e], i = p->L[e], j = p->F[s] + r->M[s];

	p->E[i] = p->E[j];
	p->L[p->E[i]] = i;
	p->E[j] = e;
	p->L[e] = j;
	if (!r->M[s]++)
		r->W[r->w++] = s;
}

static void part_split(struct part *p, struct refiner *r)
{
	while (r->w) {
		int s = r->W[--r->w], j = p->F[s] + r->M[s], z = p->z;

		if (j == p->P[s]) {
			r->M[s] = 0;
			continue;
		}
		if (r->M[s] <= p->P[s] - j) {
			p->F[z] = p->F[s];
			p->P[z] = p->F[s] = j;
		} else {
			p->P[z] = p->P[s];
			p->F[z] = p->P[s] = j;
		}
		for (int i = p->F[z]; i < p->P[z]; i++)
			p->S[p->E[i]] = z;
		r->M[s] = r->M[z] = 0;
		p->z++;
	}
}

static int minimise(const struct ddfa *in, int nlists, struct ddfa *out)
{
	int n = in->n, k = in->k, nl = 0, ret = -1;
	size_t m = 0, mm = 0;
	int *live = NULL, *orig = NULL, *rf = NULL, *ra = NULL, *queue = NULL;
	int *T = NULL, *Lb = NULL, *H = NULL, *Fa = NULL, *Aa = NULL, *cnt = NULL;
	int *newid = NULL;
	struct part B = { 0 }, C = { 0 };
	struct refiner R = { 0 };

	memset(out, 0, sizeof(*out));
	/* states that can reach an accepting state: backwards from the accepting */
	rf = calloc((size_t)n + 1, sizeof(int));
	live = malloc((size_t)n * sizeof(int));
	queue = malloc((size_t)n * sizeof(int));
	if (!rf || !live || !queue)
		goto out;
	for (int s = 1; s < n; s++)
		for (int c = 0; c < k; c++) {
			uint32_t t = in->trans[(size_t)s * (size_t)k + (size_t)c];

			if (t) {
				rf[t + 1]++;
				m++;
			}
		}
	for (int s = 0; s < n; s++)
		rf[s + 1] += rf[s];
	ra = malloc((m ? m : 1) * sizeof(int));
	cnt = malloc(((size_t)n + 1) * sizeof(int));
	if (!ra || !cnt)
		goto out;
	memcpy(cnt, rf, ((size_t)n + 1) * sizeof(int));
	for (int s = 1; s < n; s++)
		for (int c = 0; c < k; c++) {
			uint32_t t = in->trans[(size_t)s * (size_t)k + (size_t)c];

			if (t)
				ra[cnt[t]++] = s;
		}
	{
		int qh = 0, qt = 0;

		for (int s = 0; s < n; s++) {
			live[s] = s && in->acc[s] ? 1 : 0;
			if (live[s])
				queue[qt++] = s;
		}
		while (qh < qt) {
			int t = queue[qh++];

			for (int i = rf[t]; i < rf[t + 1]; i++)
				if (!live[ra[i]]) {
					live[ra[i]] = 1;
					queue[qt++] = ra[i];
				}
		}
	}
	free(ra);
	ra = NULL;
	if (n < 2 || !live[1]) {
		ret = dd_trivial(out, k);
		goto out;
	}
	/* live states renumbered 0..nl-1 */
	orig = malloc((size_t)n * sizeof(int));
	if (!orig)
		goto out;
	for (int s = 0; s < n; s++)
		live[s] = live[s] ? (orig[nl] = s, nl++) : -1;
	for (int i = 0; i < nl; i++)
		for (int c = 0; c < k; c++) {
			uint32_t t = in->trans[(size_t)orig[i] * (size_t)k + (size_t)c];

			if (t && live[t] >= 0)
				mm++;
		}
	T = malloc((mm ? mm : 1) * sizeof(int));
	Lb = malloc((mm ? mm : 1) * sizeof(int));
	H = malloc((mm ? mm : 1) * sizeof(int));
	Aa = malloc((mm ? mm : 1) * sizeof(int));
	Fa = calloc((size_t)nl + 1, sizeof(int));
	R.M = calloc(((size_t)nl > mm ? (size_t)nl : mm) + 1, sizeof(int));
	R.W = malloc((((size_t)nl > mm ? (size_t)nl : mm) + 1) * sizeof(int));
	if (!T || !Lb || !H || !Aa || !Fa || !R.M || !R.W || part_init(&B, nl) < 0 ||
	    part_init(&C, (int)mm) < 0)
		goto out;
	/* transitions, already sorted by label within a state; sorted by label
	 * overall below, by counting */
	{
		size_t *lc = calloc((size_t)k + 1, sizeof(size_t));
		size_t x = 0;

		if (!lc)
			goto out;
		for (int i = 0; i < nl; i++)
			for (int c = 0; c < k; c++) {
				uint32_t t = in->trans[(size_t)orig[i] * (size_t)k + (size_t)c];

				if (t && live[t] >= 0) {
					T[x] = i;
					Lb[x] = c;
					H[x] = live[t];
					lc[c + 1]++;
					x++;
				}
			}
		for (int c = 0; c < k; c++)
			lc[c + 1] += lc[c];
		/* cords: one per label */
		for (size_t t = 0; t < mm; t++) {
			size_t at = lc[Lb[t]]++;

			C.E[at] = (int)t;
			C.L[t] = (int)at;
		}
		C.z = 0;
		for (size_t t = 0; t < mm; t++) {
			int lab = Lb[C.E[t]];

			if (!t || Lb[C.E[t - 1]] != lab) {
				if (C.z)
					C.P[C.z - 1] = (int)t;
				C.F[C.z++] = (int)t;
			}
			C.S[C.E[t]] = C.z - 1;
		}
		if (C.z)
			C.P[C.z - 1] = (int)mm;
		free(lc);
	}
	/* blocks: by accept list */
	{
		int *ac = calloc((size_t)nlists + 1, sizeof(int));

		if (!ac)
			goto out;
		for (int i = 0; i < nl; i++)
			ac[in->acc[orig[i]] + 1]++;
		for (int a = 0; a < nlists; a++)
			ac[a + 1] += ac[a];
		for (int i = 0; i < nl; i++) {
			int at = ac[in->acc[orig[i]]]++;

			B.E[at] = i;
			B.L[i] = at;
		}
		free(ac);
		B.z = 0;
		for (int x = 0; x < nl; x++) {
			int a = in->acc[orig[B.E[x]]];

			if (!x || in->acc[orig[B.E[x - 1]]] != a) {
				if (B.z)
					B.P[B.z - 1] = x;
				B.F[B.z++] = x;
			}
			B.S[B.E[x]] = B.z - 1;
		}
		B.P[B.z - 1] = nl;
	}
	/* incoming transitions of each state */
	for (size_t t = 0; t < mm; t++)
		Fa[H[t] + 1]++;
	for (int i = 0; i < nl; i++)
		Fa[i + 1] += Fa[i];
	memcpy(cnt, Fa, ((size_t)nl + 1) * sizeof(int));
	for (size_t t = 0; t < mm; t++)
		Aa[cnt[H[t]]++] = (int)t;
	{
		int b = 1, c = 0;

		while (c < C.z) {
			for (int i = C.F[c]; i < C.P[c]; i++)
				part_mark(&B, &R, T[C.E[i]]);
			part_split(&B, &R);
			c++;
			while (b < B.z) {
				for (int i = B.F[b]; i < B.P[b]; i++) {
					int st = B.E[i];

					for (int j = Fa[st]; j < Fa[st + 1]; j++)
						part_mark(&C, &R, Aa[j]);
				}
				part_split(&C, &R);
				b++;
			}
		}
	}
	/* the quotient, numbered breadth-first from the start */
	newid = malloc((size_t)B.z * sizeof(int));
	if (!newid)
		goto out;
	for (int b = 0; b < B.z; b++)
		newid[b] = -1;
	out->k = k;
	if (dd_add(out) < 0 || dd_add(out) < 0)
		goto out;
	newid[B.S[live[1]]] = 1;
	queue[0] = B.S[live[1]];
	for (int qh = 0, qt = 1; qh < qt; qh++) {
		int b = queue[qh], rep = orig[B.E[B.F[b]]], s = newid[b];

		out->acc[s] = in->acc[rep];
		for (int c = 0; c < k; c++) {
			uint32_t t = in->trans[(size_t)rep * (size_t)k + (size_t)c];
			int tb;

			if (!t || live[t] < 0)
				continue;
			tb = B.S[live[t]];
			if (newid[tb] < 0) {
				if ((newid[tb] = dd_add(out)) < 0)
					goto out;
				queue[qt++] = tb;
			}
			out->trans[(size_t)s * (size_t)k + (size_t)c] = (uint32_t)newid[tb];
		}
	}
	ret = 0;
out:
	free(live);
	free(orig);
	free(rf);
	free(ra);
	free(queue);
	free(T);
	free(Lb);
	free(H);
	free(Fa);
	free(Aa);
	free(cnt);
	free(newid);
	free(R.M);
	free(R.W);
	part_free(&B);
	part_free(&C);
	if (ret < 0)
		dd_free(out);
	return ret;
}

/* ---- product of two automata over disjoint rules ---------------------------- */

static int merge_lists(struct alists *al, int a, int b, int **tmp, size_t *cap)
{
	int na, nb, i = 0, j = 0, n = 0;
	const int *x, *y;

	if (!a)
		return b;
	if (!b)
		return a;
	na = al->len[a];
	nb = al->len[b];
	if (grow((void **)tmp, cap, (size_t)(na + nb), sizeof(int)) < 0)
		return -1;
	x = al->pool + al->off[a];
	y = al->pool + al->off[b];
	while (i < na || j < nb) {
		int v = j >= nb || (i < na && x[i] < y[j]) ? x[i++] : y[j++];

		if (!n || (*tmp)[n - 1] != v)
			(*tmp)[n++] = v;
	}
	return al_intern(al, *tmp, n);
}

/* Pair -> product state: a direct table when the pairs are few enough,
 * otherwise a hash table over the pairs stored in pa[], pb[]. */
#define PAIR_DIRECT_MAX ((size_t)1 << 25)

struct pairs {
	uint32_t *pa, *pb;
	size_t cap;
	uint32_t nb;
	int *direct;  /* na * nb entries: state + 1, 0 for none */
	int *ht;      /* state + 1 */
	size_t htcap;
};

static size_t pairs_hslot(const struct pairs *p, uint64_t key)
{
	size_t j = mix64(key) & (p->htcap - 1);

	for (;;) {
		int id = p->ht[j] - 1;

		if (id < 0 || ((uint64_t)p->pa[id] << 32 | p->pb[id]) == key)
			return j;
		j = (j + 1) & (p->htcap - 1);
	}
}

/* The product state of (a, b), or -1 if there is none yet. */
static inline int pairs_find(const struct pairs *p, uint32_t a, uint32_t b)
{
	if (p->direct)
		return p->direct[(size_t)a * p->nb + b] - 1;
	return p->ht[pairs_hslot(p, (uint64_t)a << 32 | b)] - 1;
}

static int pairs_add(struct pairs *p, uint32_t a, uint32_t b, int id)
{
	if ((size_t)id >= p->cap) {
		size_t c = p->cap ? p->cap * 2 : 1024;
		uint32_t *x = realloc(p->pa, c * sizeof(uint32_t));

		if (!x)
			return -1;
		p->pa = x;
		if (!(x = realloc(p->pb, c * sizeof(uint32_t))))
			return -1;
		p->pb = x;
		p->cap = c;
	}
	p->pa[id] = a;
	p->pb[id] = b;
	if (p->direct) {
		p->direct[(size_t)a * p->nb + b] = id + 1;
		return 0;
	}
	if (((size_t)id + 1) * 2 > p->htcap) {
		size_t nc = p->htcap ? p->htcap * 2 : 4096;
		int *nh = calloc(nc, sizeof(int));

		if (!nh)
			return -1;
		free(p->ht);
		p->ht = nh;
		p->htcap = nc;
		for (int i = 0; i < id; i++)
			p->ht[pairs_hslot(p, (uint64_t)p->pa[i] << 32 | p->pb[i])] = i + 1;
	}
	p->ht[pairs_hslot(p, (uint64_t)a << 32 | b)] = id + 1;
	return 0;
}

static int product(const struct ddfa *A, const struct ddfa *B, struct alists *al, int max,
		   struct ddfa *d, const char **err)
{
	int k = A->k, ret = -1;
	struct pairs P = { 0 };
	int *tmp = NULL;
	size_t captmp = 0;
	/* per-row memo of the pairs already looked up: generation-stamped */
	enum { MEMO = 128 };
	uint64_t memo_k[MEMO];
	int memo_t[MEMO];
	uint32_t memo_g[MEMO] = { 0 }, gen = 0;

	memset(d, 0, sizeof(*d));
	d->k = k;
	*err = OOM;
	if (max < 2)
		max = 2;
	P.nb = (uint32_t)B->n;
	if ((size_t)A->n * (size_t)B->n <= PAIR_DIRECT_MAX)
		P.direct = calloc((size_t)A->n * (size_t)B->n, sizeof(int));
	/* else, or if that failed: hashing */
	/* state 0 = (0, 0), 1 = (1, 1) */
	for (int s = 0; s < 2; s++)
		if (dd_add(d) < 0 || pairs_add(&P, (uint32_t)s, (uint32_t)s, s) < 0)
			goto out;
	for (int s = 1; s < d->n; s++) {
		const uint32_t *ra = A->trans + (size_t)P.pa[s] * (size_t)k;
		const uint32_t *rb = B->trans + (size_t)P.pb[s] * (size_t)k;
		uint32_t *row;
		uint64_t last = 0;
		int lastt = 0;

		if ((d->acc[s] = merge_lists(al, A->acc[P.pa[s]], B->acc[P.pb[s]], &tmp, &captmp)) < 0)
			goto out;
		if (++gen == 0) {
			memset(memo_g, 0, sizeof(memo_g));
			gen = 1;
		}
		for (int c = 0; c < k; c++) {
			uint64_t key = (uint64_t)ra[c] << 32 | rb[c];
			int t;

			if (key != last) {
				uint64_t h = key * 0x9e3779b97f4a7c15ull;
				unsigned mi = (unsigned)(h >> 57);

				if (memo_g[mi] == gen && memo_k[mi] == key) {
					t = memo_t[mi];
				} else {
					t = pairs_find(&P, ra[c], rb[c]);
					if (t < 0) {
						if (d->n >= max) {
							*err = too_many(max);
							goto out;
						}
						if ((t = dd_add(d)) < 0 || pairs_add(&P, ra[c], rb[c], t) < 0)
							goto out;
					}
					memo_g[mi] = gen;
					memo_k[mi] = key;
					memo_t[mi] = t;
				}
				last = key;
				lastt = t;
			}
			row = d->trans + (size_t)s * (size_t)k;
			row[c] = (uint32_t)lastt;
		}
	}
	ret = 0;
	*err = NULL;
out:
	free(P.pa);
	free(P.pb);
	free(P.direct);
	free(P.ht);
	free(tmp);
	if (ret < 0)
		dd_free(d);
	return ret;
}

/* ---- dfa_build --------------------------------------------------------------- */

struct fref {
	int rule, idx, group;
};

static int cmp_fref(const void *a, const void *b)
{
	const struct fref *x = a, *y = b;

	if (x->rule != y->rule)
		return (x->rule > y->rule) - (x->rule < y->rule);
	return (x->idx > y->idx) - (x->idx < y->idx);
}

/* 0: no "**" but maybe a final one; 1: a "**" inside; 2: starts with "**" and goes on. */
static int frag_group(const struct nfa *n, const struct nfa_frag *f)
{
	int g = 0;

	for (uint32_t i = 0; i < f->len; i++)
		if (E_KIND(n->elem[f->first + i]) == E_DSTAR_MID)
			g = i == 1 ? 2 : (g > 1 ? g : 1);
	return g;
}

static struct dfa *to_dfa(struct ddfa *d, const struct classes *cl, const struct alists *al, int raw)
{
	struct dfa *r = calloc(1, sizeof(*r));
	int *where = NULL;
	size_t pool = 0;
	int *p;

	if (!r)
		return NULL;
	where = malloc((al->n ? al->n : 1) * sizeof(int));
	if (!where)
		goto fail;
	for (size_t i = 0; i < al->n; i++)
		where[i] = -1;
	for (int s = 0; s < d->n; s++)
		if (where[d->acc[s]] < 0) {
			where[d->acc[s]] = (int)pool;
			pool += (size_t)al->len[d->acc[s]];
		}
	/* the pointers, then the lists, then one 0 that empty lists point at */
	r->accept = malloc((size_t)d->n * sizeof(int *) + (pool + 1) * sizeof(int));
	r->naccept = malloc((size_t)d->n * sizeof(int));
	if (!r->accept || !r->naccept)
		goto fail;
	p = (int *)(r->accept + d->n);
	for (size_t i = 0; i < al->n; i++)
		if (where[i] >= 0 && al->len[i])
			memcpy(p + where[i], al->pool + al->off[i], (size_t)al->len[i] * sizeof(int));
	p[pool] = 0;
	for (int s = 0; s < d->n; s++) {
		r->naccept[s] = al->len[d->acc[s]];
		r->accept[s] = r->naccept[s] ? p + where[d->acc[s]] : p + pool;
	}
	free(where);
	r->nstates = d->n;
	r->nclasses = d->k;
	memcpy(r->classmap, cl->map, 256);
	r->trans = d->trans;
	r->raw_states = raw;
	d->trans = NULL;
	dd_free(d);
	return r;
fail:
	free(where);
	free(r->accept);
	free(r->naccept);
	free(r);
	return NULL;
}

struct dfa *dfa_build(struct nfa *n, int max_states, const char **err_msg)
{
	struct classes cl = { 0 };
	struct alists al = { 0 };
	struct ddfa cur = { 0 };
	struct fref *fr = NULL;
	int *idx = NULL, have = 0, raw = 0;
	const char *err = OOM;
	struct dfa *r = NULL;

	if (!n || n->oom)
		goto out;
	if (classes_compute(n, &cl) < 0 || al_intern(&al, NULL, 0) != 0)
		goto out;
	fr = malloc(((size_t)n->nfrag + 1) * sizeof(*fr));
	idx = malloc(((size_t)n->nfrag + 1) * sizeof(int));
	if (!fr || !idx)
		goto out;
	for (int i = 0; i < n->nfrag; i++) {
		fr[i].rule = n->frag[i].rule;
		fr[i].idx = i;
		fr[i].group = frag_group(n, &n->frag[i]);
	}
	qsort(fr, (size_t)n->nfrag, sizeof(*fr), cmp_fref);
	/* a rule goes to the highest group of its fragments */
	for (int i = 0, j; i < n->nfrag; i = j) {
		int g = 0;

		for (j = i; j < n->nfrag && fr[j].rule == fr[i].rule; j++)
			g = fr[j].group > g ? fr[j].group : g;
		for (int x = i; x < j; x++)
			fr[x].group = g;
	}
	for (int g = 0; g < 3; g++) {
		struct gnfa gn;
		struct ddfa raw_d, min_d;
		int nf = 0;

		for (int i = 0; i < n->nfrag; i++)
			if (fr[i].group == g)
				idx[nf++] = fr[i].idx;
		if (!nf)
			continue;
		/* fragments in the order they were added */
		qsort(idx, (size_t)nf, sizeof(int), cmp_int);
		if (gnfa_build(n, idx, nf, &gn) < 0)
			goto out;
		if (subset(&gn, &cl, &al, max_states, &raw_d, &err) < 0) {
			gnfa_free(&gn);
			goto out;
		}
		gnfa_free(&gn);
		raw += raw_d.n;
		err = OOM;
		if (minimise(&raw_d, (int)al.n, &min_d) < 0) {
			dd_free(&raw_d);
			goto out;
		}
		dd_free(&raw_d);
		if (!have) {
			cur = min_d;
			have = 1;
		} else {
			struct ddfa p;
			int rc = product(&cur, &min_d, &al, max_states, &p, &err);

			dd_free(&min_d);
			dd_free(&cur);
			if (rc < 0)
				goto out;
			cur = p;
		}
	}
	err = OOM;
	if (!have) {
		if (dd_trivial(&cur, cl.n) < 0)
			goto out;
		raw = 2;
	}
	r = to_dfa(&cur, &cl, &al, raw);
out:
	if (!r && err_msg)
		*err_msg = err;
	dd_free(&cur);
	classes_free(&cl);
	al_free(&al);
	free(fr);
	free(idx);
	return r;
}

void dfa_free(struct dfa *d)
{
	if (!d)
		return;
	free(d->trans);
	free(d->accept);
	free(d->naccept);
	free(d);
}

/* ---- the comb ------------------------------------------------------------------
 * Row displacement: a row keeps only the classes whose target differs from
 * its default (the most frequent target), at base + class. Rows are placed
 * fullest first, each at the lowest base where its entries fall on free
 * slots (first fit). The search looks at 64 candidate bases at a time in the
 * occupancy bitmap, starts at the first free slot, and for a row of the same
 * shape (set of classes) as an earlier one, after that one's base: slots
 * only ever fill up, so bases that did not fit then do not fit now. A search
 * that goes on too long ends at the top of the comb. */

#define COMB_SCAN_LIMIT (1u << 16)

static inline uint64_t occ64(const uint64_t *u, size_t nw, size_t pos)
{
	size_t w = pos >> 6;
	unsigned sh = (unsigned)(pos & 63);
	uint64_t lo = w < nw ? u[w] : 0, hi = w + 1 < nw ? u[w + 1] : 0;

	return sh ? (lo >> sh) | (hi << (64 - sh)) : lo;
}

struct shape_ids {
	uint64_t *key;
	uint32_t *id;
	size_t n, cap;
};

/* Id of the shape with hash `key` (two shapes with the same hash share an
 * id: that costs density at worst, never correctness); -1 when out of memory. */
static long shape_id(struct shape_ids *m, uint64_t key)
{
	size_t j;

	if ((m->n + 1) * 2 > m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 1024;
		uint64_t *k = calloc(cap, sizeof(uint64_t));
		uint32_t *v = calloc(cap, sizeof(uint32_t));

		if (!k || !v) {
			free(k);
			free(v);
			return -1;
		}
		for (size_t i = 0; i < m->cap; i++)
			if (m->key[i]) {
				size_t q = mix64(m->key[i]) & (cap - 1);

				while (k[q])
					q = (q + 1) & (cap - 1);
				k[q] = m->key[i];
				v[q] = m->id[i];
			}
		free(m->key);
		free(m->id);
		m->key = k;
		m->id = v;
		m->cap = cap;
	}
	key |= 1; /* 0 marks an empty slot */
	j = mix64(key) & (m->cap - 1);
	while (m->key[j] && m->key[j] != key)
		j = (j + 1) & (m->cap - 1);
	if (!m->key[j]) {
		m->key[j] = key;
		m->id[j] = (uint32_t)m->n++;
	}
	return m->id[j];
}

int dfa_comb(const struct dfa *d, struct comb *out)
{
	int n = d->nstates, k = d->nclasses, ret = -1;
	uint32_t *order = NULL, *ne = NULL;
	uint64_t *used = NULL;
	size_t usedw = 0, cap = 0, ncomb = 0, first_free = 0;
	int cols[256];
	uint32_t *start = NULL;
	struct shape_ids shapes = { 0 };
	uint32_t *shape = NULL;
	size_t *shape_last = NULL;
	uint32_t tkey[512], tcnt[512], tgen[512] = { 0 }, gen = 0;
	size_t *eoff = NULL, nent = 0, capent = 0, captgt = 0;
	uint8_t *ecol = NULL;
	uint32_t *etgt = NULL;

	memset(out, 0, sizeof(*out));
	out->base = calloc((size_t)n + 1, sizeof(uint32_t));
	out->def = calloc((size_t)n + 1, sizeof(uint32_t));
	ne = calloc((size_t)n + 1, sizeof(uint32_t));
	eoff = malloc(((size_t)n + 1) * sizeof(size_t));
	order = malloc(((size_t)n + 1) * sizeof(uint32_t));
	shape = malloc(((size_t)n + 1) * sizeof(uint32_t));
	start = calloc((size_t)k + 2, sizeof(uint32_t));
	if (!out->base || !out->def || !ne || !eoff || !order || !shape || !start)
		goto out;
	/* default of a row: its most frequent target (the smaller on a tie),
	 * counted in a small generation-stamped table; the other entries are
	 * kept, in class order, for the placement below */
	for (int s = 0; s < n; s++) {
		const uint32_t *row = d->trans + (size_t)s * (size_t)k;
		uint32_t best = row[0], bc = 0;

		if (++gen == 0) {
			memset(tgen, 0, sizeof(tgen));
			gen = 1;
		}
		for (int c = 0; c < k; c++) {
			uint32_t t = row[c], x;
			unsigned h = (t * 0x9e3779b1u) >> 23; /* 9 bits */

			while (tgen[h] == gen && tkey[h] != t)
				h = (h + 1) & 511;
			if (tgen[h] != gen) {
				tgen[h] = gen;
				tkey[h] = t;
				tcnt[h] = 0;
			}
			x = ++tcnt[h];
			if (x > bc || (x == bc && t < best)) {
				best = t;
				bc = x;
			}
		}
		out->def[s] = best;
		ne[s] = (uint32_t)k - bc;
		eoff[s] = nent;
		if (grow((void **)&ecol, &capent, nent + ne[s], 1) < 0 ||
		    grow((void **)&etgt, &captgt, nent + ne[s], sizeof(uint32_t)) < 0)
			goto out;
		{
			uint64_t sh[4] = { 0 };
			long id;

			for (int c = 0; c < k; c++)
				if (row[c] != best) {
					ecol[nent] = (uint8_t)c;
					etgt[nent++] = row[c];
					sh[c >> 6] |= (uint64_t)1 << (c & 63);
				}
			id = shape_id(&shapes, mix64(sh[0] ^ mix64(sh[1] ^ mix64(sh[2] ^ mix64(sh[3])))));
			if (id < 0)
				goto out;
			shape[s] = (uint32_t)id;
		}
	}
	eoff[n] = nent;
	/* fullest rows first, else in state order (a stable counting sort) */
	shape_last = calloc(shapes.n + 1, sizeof(size_t));
	if (!shape_last)
		goto out;
	for (int s = 0; s < n; s++)
		start[k - ne[s]]++;
	for (int i = 0, acc = 0; i <= k; i++) {
		int c = (int)start[i];

		start[i] = (uint32_t)acc;
		acc += c;
	}
	for (int s = 0; s < n; s++)
		order[start[k - ne[s]]++] = (uint32_t)s;
	for (int oi = 0; oi < n; oi++) {
		int s = (int)order[oi], nc = (int)ne[s];
		const uint8_t *col = ecol + eoff[s];
		const uint32_t *tgt = etgt + eoff[s];
		size_t b, b0, *last = &shape_last[shape[s]];

		if (!nc)
			break; /* the rest have no entries: base 0 */
		for (int j = 0; j < nc; j++)
			cols[j] = col[j];
		b0 = first_free > (size_t)cols[0] ? first_free - (size_t)cols[0] : 0;
		if (*last > b0)
			b0 = *last;
		for (b = b0;;) {
			uint64_t occ = 0;

			for (int j = 0; j < nc && occ != ~(uint64_t)0; j++)
				occ |= occ64(used, usedw, b + (size_t)cols[j]);
			if (occ != ~(uint64_t)0) {
				b += (size_t)__builtin_ctzll(~occ);
				break;
			}
			b += 64;
			if (b - b0 > COMB_SCAN_LIMIT) {
				b = ncomb > (size_t)cols[0] ? ncomb - (size_t)cols[0] : 0;
				break;
			}
		}
		*last = b + 1;
		if (b + (size_t)k > (size_t)UINT32_MAX - 1)
			goto out;
		/* room */
		if (b + (size_t)k > cap) {
			size_t nc2 = cap ? cap : 4096;
			uint32_t *x;
			uint64_t *u;

			while (nc2 < b + (size_t)k)
				nc2 *= 2;
			if (!(x = realloc(out->next, nc2 * sizeof(uint32_t))))
				goto out;
			out->next = x;
			if (!(x = realloc(out->check, nc2 * sizeof(uint32_t))))
				goto out;
			out->check = x;
			for (size_t i = cap; i < nc2; i++) {
				out->next[i] = 0;
				out->check[i] = UINT32_MAX;
			}
			if (!(u = realloc(used, (nc2 / 64 + 1) * sizeof(uint64_t))))
				goto out;
			used = u;
			memset(used + usedw, 0, (nc2 / 64 + 1 - usedw) * sizeof(uint64_t));
			usedw = nc2 / 64 + 1;
			cap = nc2;
		}
		for (int j = 0; j < nc; j++) {
			size_t i = b + (size_t)cols[j];

			used[i >> 6] |= (uint64_t)1 << (i & 63);
			out->next[i] = tgt[j];
			out->check[i] = (uint32_t)s;
		}
		if (b + (size_t)cols[nc - 1] + 1 > ncomb)
			ncomb = b + (size_t)cols[nc - 1] + 1;
		out->base[s] = (uint32_t)b;
		while ((first_free >> 6) < usedw && used[first_free >> 6] == ~(uint64_t)0)
			first_free = ((first_free >> 6) + 1) << 6;
		while ((first_free >> 6) < usedw && (used[first_free >> 6] >> (first_free & 63) & 1))
			first_free++;
	}
	if (!out->next) {
		out->next = calloc(1, sizeof(uint32_t));
		out->check = malloc(sizeof(uint32_t));
		if (!out->next || !out->check)
			goto out;
		out->check[0] = UINT32_MAX;
	}
	out->ncomb = (uint32_t)ncomb;
	ret = 0;
out:
	free(ne);
	free(eoff);
	free(ecol);
	free(etgt);
	free(order);
	free(start);
	free(used);
	free(shapes.key);
	free(shapes.id);
	free(shape);
	free(shape_last);

	if (ret < 0)
		comb_free(out);
	return ret;
}

void comb_free(struct comb *c)
{
	free(c->base);
	free(c->def);
	free(c->next);
	free(c->check);
	memset(c, 0, sizeof(*c));
}
