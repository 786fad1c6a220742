/* SPDX-License-Identifier: GPL-2.0 */
/* Globs to one deterministic automaton over path bytes.
 *
 * Every pattern of a policy is added with its rule index; the automaton
 * reads a whole shown path ("/a/b/c") byte by byte from state 1 (the root,
 * empty path) and, after the last byte, the state's accept list names every
 * rule whose pattern matches the path. State 0 is dead: no pattern can
 * match any extension of the bytes read. */
#ifndef FBPFC_AUTOMATON_H
#define FBPFC_AUTOMATON_H

#include <stdint.h>

struct nfa;

struct nfa *nfa_new(void);
void nfa_free(struct nfa *n);

/* Add glob `glob` for rule `rule` (>= 1). On a malformed glob returns -1 and
 * sets *err_off (0-based byte offset in glob) and *err_msg (static string). */
int nfa_add_glob(struct nfa *n, const char *glob, int rule, int *err_off, const char **err_msg);

/* Does `glob` match `path`? A direct backtracking matcher with the same
 * meaning, used by tests as the reference and by `fbpfc check`. A malformed
 * glob matches nothing; so does a string that is not a path ("/", "//",
 * a trailing '/'). */
int glob_match(const char *glob, const char *path);

/* Is `glob` well formed? 0, or -1 with *err_off and *err_msg as nfa_add_glob
 * sets them (either pointer may be NULL). */
int glob_check(const char *glob, int *err_off, const char **err_msg);

struct dfa {
	int nstates;          /* 0 dead, 1 start */
	int nclasses;
	uint8_t classmap[256];
	uint32_t *trans;      /* nstates * nclasses, dense */
	int **accept;         /* per state: rule indices in increasing order */
	int *naccept;
	int raw_states;       /* states before minimisation (summed over the rule groups) */
};

/* Subset construction (and minimisation). Returns NULL with *err_msg set if
 * the automaton would exceed `max_states` (before or after minimisation), or
 * when out of memory. `n` is not changed and may be used again. */
struct dfa *dfa_build(struct nfa *n, int max_states, const char **err_msg);
void dfa_free(struct dfa *d);

/* Row-displacement ("comb") compression as described in fbpf_abi.h:
 * next(s, c) = (i = base[s] + c, i < ncomb && check[i] == s) ? next[i] : def[s].
 * def[s] is the most frequent target of row s; unused slots below ncomb have
 * check 0xffffffff (no state) and next 0. */
struct comb {
	uint32_t *base, *def, *next, *check;
	uint32_t ncomb;
};
/* Returns 0, or -1 (and *out all zero) when out of memory. */
int dfa_comb(const struct dfa *d, struct comb *out);
void comb_free(struct comb *c);

#endif
