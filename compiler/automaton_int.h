/* SPDX-License-Identifier: GPL-2.0 */
/* Private to glob.c and dfa.c: what the glob parser hands to the DFA builder.
 *
 * nfa_add_glob expands the braces of a glob and turns every alternative into
 * a fragment: a list of elements over interned byte sets. The first element
 * is always the '/' of the first component. Read left to right from the
 * start state, with `cur` the current NFA state:
 *
 *   E_SET s        new state q, edge cur -s-> q, cur = q      (a byte, '/', ?, [..])
 *   E_STAR s       self-loop cur -s-> cur                     (*: s = every byte but '/';
 *                                                              a lone '*' component is "?*")
 *   E_DSTAR_MID    loop state t: cur -N-> t, t -N-> t, t -'/'-> cur; cur stays
 *                  ("**" followed by more components: cur is just after a '/'
 *                  and the loop reads ([^/]+ /)*, taking the separator before
 *                  the next component too)
 *   E_DSTAR_END    the same loop, then cur = t               (a final "**": [^/]+(/[^/]+)*)
 *
 * and the final `cur` accepts for the fragment's rule. (N: every byte but
 * '/'.) Every component reads at least one byte, so nothing matches "/",
 * "//" or a trailing '/'. dfa.c builds this NFA with shared states; see
 * gnfa_build there.
 */
#ifndef FBPFC_AUTOMATON_INT_H
#define FBPFC_AUTOMATON_INT_H

#include <stddef.h>
#include <stdint.h>

enum { E_SET = 0, E_STAR = 1, E_DSTAR_MID = 2, E_DSTAR_END = 3 };
#define E_KIND(x) ((uint32_t)(x) & 3u)
#define E_SETID(x) ((uint32_t)(x) >> 2)
#define E_MAKE(kind, set) (((uint32_t)(set) << 2) | (uint32_t)(kind))

struct byteset {
	uint64_t w[4];
};

static inline int bs_has(const struct byteset *s, unsigned b)
{
	return (int)((s->w[b >> 6] >> (b & 63)) & 1u);
}

static inline void bs_add(struct byteset *s, unsigned b)
{
	s->w[b >> 6] |= (uint64_t)1 << (b & 63);
}

struct nfa_frag {
	int rule;
	uint32_t first, len; /* elements [first, first + len) of nfa.elem */
};

struct nfa {
	/* interned byte sets; ids index sets[] */
	struct byteset *sets;
	int nsets, capsets;
	int *set_ht;          /* open addressing: set id + 1, 0 empty */
	int set_htcap;        /* power of two */
	int slash_set;        /* id of {'/'}, -1 until used */
	int any_set;          /* id of "every byte but '/'", -1 until used */
	int lit_set[256];     /* id of {b}, -1 until used */
	/* fragments */
	uint32_t *elem;
	size_t nelem, capelem;
	struct nfa_frag *frag;
	int nfrag, capfrag;
	int oom;              /* an allocation failed: dfa_build reports it */
};

#endif
