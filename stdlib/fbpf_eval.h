/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * The policy evaluator: one source, two engines.
 *
 * This file is compiled twice: into every rules.o by clang -target bpf (the
 * struct_ops filters and their syscall twins, see fbpf_bpf.h), and natively
 * into the runtime's evaluator (runtime/eval.c). The includer defines
 *
 *   FBPF_TAB(s, i)  the table word i (0 when i is out of range)
 *   FBPF_FUNC       how the entry points below are declared: global
 *                   noinline functions in BPF (each verified once), plain
 *                   static functions natively
 *   struct fbpf_scratch_ext  (optional) extra members of the scratch area
 *
 * Everything is written for the BPF verifier: loops have constant bounds,
 * buffer indexes are masked, nothing recurses, table reads are checked.
 * What the code means is stated in docs/language.md ("How rules combine").
 */
#ifndef FBPF_EVAL_H
#define FBPF_EVAL_H

#include "fbpf_abi.h"

#define FBPF_NBUF 4 /* name buffers, a power of two */
enum { FBPF_B_IN = 0, FBPF_B_MAP = 1, FBPF_B_CAND = 2, FBPF_B_BACK = 3 };

struct fbpf_scratch {
	struct fbpf_args a;                       /* the working copy */
	__u32 h[FBPF_T_HEADER_WORDS];             /* the table header */
	__u32 len[FBPF_NBUF];
	unsigned char buf[FBPF_NBUF][FBPF_NAME_MAX + 1];
	__u32 caller;                             /* an answer read uid, gid or pid */
	__u32 first[8];                           /* first applying rule per kind */
	__u32 stack, sp, known;                   /* fbpf_cond's working state */
	__u32 memo_b;                             /* fbpf_advance's last answer: buffer, */
	__u64 memo_dir, memo_st;                  /* directory state, result */
#ifdef FBPF_SCRATCH_EXT
	FBPF_SCRATCH_EXT
#endif
};

/* Small helpers are inlined into their callers: in BPF a function that is
 * not inlined is a call frame, and a chain of calls may be at most 8 deep. */
#define FBPF_INLINE static inline __attribute__((always_inline))

/* Keeps clang from turning a byte-copy loop into memcpy, which BPF lacks. */
#ifdef __bpf__
#define FBPF_NO_MEMCPY(i) asm volatile("" : "+r"(i))
#else
#define FBPF_NO_MEMCPY(i) ((void)0)
#endif

#define FBPF_BUF(s, b, i) ((s)->buf[(b) & (FBPF_NBUF - 1)][(i) & FBPF_NAME_MAX])

/*
 * FBPF_LOOP(n, fn, ctx): call fn(i, ctx) for i = 0, 1, ... n - 1 until it
 * returns non-zero. In BPF this is bpf_loop(): the verifier checks fn once,
 * for any i, instead of walking every iteration of an unrolled loop, which
 * made each filter cost some 300,000 verified instructions (seconds per
 * mount under emulation). Natively it is a plain loop the compiler inlines.
 * The bodies mask every index they compute from i.
 */
#ifdef __bpf__
#define FBPF_LOOP(n, fn, ctx) bpf_loop((n), (fn), (ctx), 0)
#else
static inline long fbpf_loop(__u32 n, long (*fn)(__u32, void *), void *ctx)
{
	__u32 i;

	for (i = 0; i < n; i++)
		if (fn(i, ctx))
			return i + 1;
	return n;
}
#define FBPF_LOOP(n, fn, ctx) fbpf_loop((n), (fn), (ctx))
#endif

/* The errno that keeps a hidden name's existence secret (docs/language.md). */
FBPF_INLINE __u32 fbpf_hidden_errno(__u32 op, __u32 flags)
{
	if (op == FBPF_OP_CREATE || (op == FBPF_OP_RENAME && (flags & FBPF_IN_TARGET)))
		return 13; /* EACCES */
	return 2;          /* ENOENT */
}

FBPF_INLINE __u32 fbpf_rule_word(struct fbpf_scratch *s, __u32 rule, __u32 w)
{
	/* rule is 1-based */
	return FBPF_TAB(s, s->h[FBPF_T_RULES] + (rule - 1) * FBPF_RULE_WORDS + w);
}

FBPF_INLINE __u32 fbpf_str_byte(struct fbpf_scratch *s, __u32 off)
{
	__u32 w = FBPF_TAB(s, s->h[FBPF_T_STRINGS] + (off >> 2));

	return (w >> ((off & 3) * 8)) & 0xff;
}

/* Next state of automaton k from state st, whose base word is `base`. */
FBPF_INLINE __u32 fbpf_step(struct fbpf_scratch *s, __u32 k, __u32 st, __u32 base, __u32 byte)
{
	__u32 cls = FBPF_TAB(s, s->h[FBPF_T_D(k, FBPF_D_CLASSMAP)] + (byte & 0xff));
	__u32 i = (base & ~FBPF_BASE_SKIP) + cls;

	if (i < s->h[FBPF_T_D(k, FBPF_D_NCOMB)] && FBPF_TAB(s, s->h[FBPF_T_D(k, FBPF_D_CHECK)] + i) == st)
		return FBPF_TAB(s, s->h[FBPF_T_D(k, FBPF_D_NEXT)] + i);
	return FBPF_TAB(s, s->h[FBPF_T_D(k, FBPF_D_DEFAULT)] + st);
}

struct fbpf_walk {
	struct fbpf_scratch *s;
	__u32 k, st, b, len;
};

static long fbpf_walk_byte(__u32 i, void *ctx)
{
	struct fbpf_walk *w = ctx;
	struct fbpf_scratch *s = w->s;
	__u32 k = w->k & (FBPF_NDFA - 1), base;

	if (i >= w->len || w->st == 0)
		return 1;
	base = FBPF_TAB(s, s->h[FBPF_T_D(k, FBPF_D_BASE)] + w->st);
	if (base & FBPF_BASE_SKIP)
		return 1;
	w->st = fbpf_step(s, k, w->st, base, FBPF_BUF(s, w->b, i));
	return 0;
}

/* Automaton k's state of "<path of st>/<name in buffer b>". A state
 * marked FBPF_BASE_SKIP keeps the rest of the name: a name has no '/'. */
FBPF_FUNC int fbpf_advance1(struct fbpf_scratch *s, __u32 k, __u32 st, __u32 b)
{
	struct fbpf_walk w;
	__u32 base;

	if (!s)
		return 0;
	k &= FBPF_NDFA - 1;
	if (st == 0 || st >= s->h[FBPF_T_D(k, FBPF_D_NSTATES)])
		return 0;
	base = FBPF_TAB(s, s->h[FBPF_T_D(k, FBPF_D_BASE)] + st);
	w.s = s;
	w.k = k;
	w.st = fbpf_step(s, k, st, base, '/');
	w.b = b;
	w.len = s->len[b & (FBPF_NBUF - 1)];
	FBPF_LOOP(FBPF_NAME_MAX, fbpf_walk_byte, &w);
	return w.st;
}

/* The match state of "<path of st>/<name in buffer b>". A filter asks for
 * the same name's state several times: the last answer is kept until
 * buffer b is written (fbpf_put). */
FBPF_INLINE __u64 fbpf_advance(struct fbpf_scratch *s, __u64 st, __u32 b)
{
	__u64 lo, hi;

	if (s->memo_b == b && s->memo_dir == st)
		return s->memo_st;
	lo = (__u32)fbpf_advance1(s, 0, (__u32)st, b);
	hi = (__u32)fbpf_advance1(s, 1, (__u32)(st >> 32), b);
	s->memo_b = b;
	s->memo_dir = st;
	s->memo_st = lo | (hi << 32);
	return s->memo_st;
}

/* Offset of the hit list of automaton k's state st, 0 if none. */
FBPF_INLINE __u32 fbpf_hit_list(struct fbpf_scratch *s, __u32 k, __u32 st)
{
	if (st == 0 || st >= s->h[FBPF_T_D(k, FBPF_D_NSTATES)])
		return 0;
	return FBPF_TAB(s, s->h[FBPF_T_D(k, FBPF_D_HITS)] + st);
}

/* FBPF_K_* of the rules that can match a child of automaton k's state st. */
FBPF_INLINE __u32 fbpf_kids(struct fbpf_scratch *s, __u32 k, __u32 st)
{
	if (st == 0 || st >= s->h[FBPF_T_D(k, FBPF_D_NSTATES)])
		return 0;
	return FBPF_TAB(s, s->h[FBPF_T_D(k, FBPF_D_KIDS)] + st);
}

/* The FBPF_OUT_* promises about the entries of the directory at state st. */
FBPF_INLINE __u32 fbpf_kids_flags(struct fbpf_scratch *s, __u64 st)
{
	__u32 k = fbpf_kids(s, 0, (__u32)st) | fbpf_kids(s, 1, (__u32)(st >> 32)), f = 0;

	if (!(k & FBPF_K_LIST))
		f |= FBPF_OUT_LIST_PLAIN;
	if (!(k & FBPF_K_ENTRY))
		f |= FBPF_OUT_KIDS_NO_ENTRY;
	if (!(k & FBPF_K_CALLER))
		f |= FBPF_OUT_KIDS_NO_CALLER;
	return f;
}

/* A field of the caller or the entry; sets s->known to 0 when the field
 * is the entry's and there is no entry. */
FBPF_INLINE int fbpf_field(struct fbpf_scratch *s, __u32 f)
{
	__u32 m;

	if (!s)
		return 0;
	s->known = 1;
	switch (f) {
	case FBPF_F_UID: return s->a.uid;
	case FBPF_F_GID: return s->a.gid;
	case FBPF_F_PID: return s->a.pid;
	default: break;
	}
	if (!(s->a.flags & FBPF_IN_ENTRY)) {
		s->known = 0;
		return 0;
	}
	switch (f) {
	case FBPF_F_OWNER: return s->a.e_uid;
	case FBPF_F_GROUP: return s->a.e_gid;
	case FBPF_F_MODE: return s->a.e_mode & 07777;
	case FBPF_F_TYPE:
		m = s->a.e_mode & 0170000;
		if (m == 0100000) return FBPF_TYPE_FILE;
		if (m == 0040000) return FBPF_TYPE_DIR;
		if (m == 0120000) return FBPF_TYPE_SYMLINK;
		if (m == 0010000) return FBPF_TYPE_FIFO;
		if (m == 0140000) return FBPF_TYPE_SOCKET;
		if (m == 0020000) return FBPF_TYPE_CHAR;
		if (m == 0060000) return FBPF_TYPE_BLOCK;
		return FBPF_TYPE_NONE;
	default:
		s->known = 0;
		return 0;
	}
}

/* One atom of a condition: instruction words w0, w1. */
FBPF_INLINE int fbpf_atom(struct fbpf_scratch *s, __u32 w0, __u32 w1)
{
	__u32 l, r, j, cnt, known;

	if (!s)
		return 0;
	l = (__u32)fbpf_field(s, (w0 >> 8) & 0xff);
	known = s->known;
	if ((w0 & 0xff) == FBPF_C_IN) {
		cnt = FBPF_TAB(s, w1);
		for (j = 0; j < FBPF_SET_MAX; j++) {
			if (j >= cnt)
				break;
			if (FBPF_TAB(s, w1 + 1 + j) == l)
				return known;
		}
		return 0;
	}
	r = w1;
	if (((w0 >> 24) & 0xff) == FBPF_RHS_FIELD) {
		r = (__u32)fbpf_field(s, w1);
		known = known && s->known;
	}
	if (!known)
		return 0;
	switch ((w0 >> 16) & 0xff) {
	case FBPF_EQ: return l == r;
	case FBPF_NE: return l != r;
	case FBPF_LT: return l < r;
	case FBPF_LE: return l <= r;
	case FBPF_GT: return l > r;
	case FBPF_GE: return l >= r;
	default: return 0;
	}
}

/* Run the condition program at `off`: 1 if it holds. Malformed: 0.
 * The boolean stack lives in the scratch area, not in registers, so that
 * the verifier sees one state per instruction, not one per stack value. */
struct fbpf_cond_ctx {
	struct fbpf_scratch *s;
	__u32 off, n, bad;
};

static long fbpf_cond_insn(__u32 i, void *ctx)
{
	struct fbpf_cond_ctx *c = ctx;
	struct fbpf_scratch *s = c->s;
	__u32 w0, w1, op, v, a, b;

	if (i >= c->n)
		return 1;
	w0 = FBPF_TAB(s, c->off + 1 + i * FBPF_INSN_WORDS);
	w1 = FBPF_TAB(s, c->off + 2 + i * FBPF_INSN_WORDS);
	op = w0 & 0xff;
	if (op == FBPF_C_CMP || op == FBPF_C_IN) {
		v = fbpf_atom(s, w0, w1) & 1;
	} else if (op == FBPF_C_NOT) {
		if (s->sp < 1)
			goto bad;
		s->stack ^= 1;
		return 0;
	} else if (op == FBPF_C_AND || op == FBPF_C_OR) {
		if (s->sp < 2)
			goto bad;
		a = s->stack & 1;
		b = (s->stack >> 1) & 1;
		s->stack >>= 2;
		s->sp -= 2;
		v = op == FBPF_C_AND ? (a & b) : (a | b);
	} else {
		goto bad;
	}
	if (s->sp >= FBPF_STACK_MAX)
		goto bad;
	s->stack = (s->stack << 1) | v;
	s->sp++;
	return 0;
bad:
	c->bad = 1;
	return 1;
}

FBPF_FUNC int fbpf_cond(struct fbpf_scratch *s, __u32 off)
{
	struct fbpf_cond_ctx c;

	if (!s)
		return 0;
	if (!off)
		return 1;
	c.s = s;
	c.off = off;
	c.n = FBPF_TAB(s, off);
	c.bad = 0;
	if (c.n == 0 || c.n > FBPF_COND_MAX)
		return 0;
	s->stack = 0;
	s->sp = 0;
	FBPF_LOOP(FBPF_COND_MAX, fbpf_cond_insn, &c);
	if (c.bad)
		return 0;
	return s->sp == 1 ? (int)(s->stack & 1) : 0;
}

/* Does the rule's condition hold? Notes whether it read the caller. */
FBPF_INLINE int fbpf_rule_holds(struct fbpf_scratch *s, __u32 r)
{
	if (fbpf_rule_word(s, r, FBPF_RW_FLAGS) & FBPF_RF_CALLER)
		s->caller = 1;
	return fbpf_cond(s, fbpf_rule_word(s, r, FBPF_RW_COND));
}

FBPF_INLINE __u32 fbpf_xform_word(struct fbpf_scratch *s, __u32 x, __u32 w)
{
	return FBPF_TAB(s, s->h[FBPF_T_XFORMS] + x * FBPF_XFORM_WORDS + w);
}

struct fbpf_cmp_ctx {
	struct fbpf_scratch *s;
	__u32 b, at, off, n, other, same;
};

static long fbpf_cmp_pool_byte(__u32 i, void *ctx)
{
	struct fbpf_cmp_ctx *c = ctx;

	if (i >= c->n)
		return 1;
	if (FBPF_BUF(c->s, c->b, c->at + i) != fbpf_str_byte(c->s, c->off + i)) {
		c->same = 0;
		return 1;
	}
	return 0;
}

/* Does buffer b hold, at byte `at`, the l-byte pool string at `off`? */
FBPF_FUNC int fbpf_has_str(struct fbpf_scratch *s, __u32 b, __u32 at, __u32 off, __u32 l)
{
	struct fbpf_cmp_ctx c;

	if (!s || l > FBPF_XSTR_MAX)
		return 0;
	c.s = s;
	c.b = b;
	c.at = at;
	c.off = off;
	c.n = l;
	c.other = 0;
	c.same = 1;
	FBPF_LOOP(FBPF_XSTR_MAX, fbpf_cmp_pool_byte, &c);
	return c.same;
}

/* Does buffer b end with (and is it longer than) the pool string (off, l)? */
FBPF_INLINE int fbpf_ends_with(struct fbpf_scratch *s, __u32 b, __u32 off, __u32 l)
{
	__u32 len = s->len[b & (FBPF_NBUF - 1)];

	return l < len && fbpf_has_str(s, b, len - l, off, l);
}

/* Write n bytes into buffer `to` at `at`: from buffer `from` at `src`, or,
 * with FBPF_POOL in bufs, from the string pool at `src`.
 * (BPF functions take at most five arguments: to and from share one.) */
#define FBPF_BUFS(to, from) ((to) | ((from) << 8))
#define FBPF_POOL (FBPF_NBUF << 8) /* `from` of FBPF_BUFS: the string pool */
struct fbpf_put_ctx {
	struct fbpf_scratch *s;
	__u32 to, from, at, src, n, pool;
};

static long fbpf_put_byte(__u32 i, void *ctx)
{
	struct fbpf_put_ctx *c = ctx;
	struct fbpf_scratch *s = c->s;

	if (i >= c->n)
		return 1;
	if (c->pool)
		FBPF_BUF(s, c->to, c->at + i) = fbpf_str_byte(s, c->src + i);
	else
		FBPF_BUF(s, c->to, c->at + i) = FBPF_BUF(s, c->from, c->src + i);
	return 0;
}

FBPF_FUNC int fbpf_put(struct fbpf_scratch *s, __u32 bufs, __u32 at, __u32 src, __u32 n)
{
	struct fbpf_put_ctx c;

	if (!s)
		return 0;
	c.s = s;
	c.to = bufs & (FBPF_NBUF - 1);
	c.from = (bufs >> 8) & (FBPF_NBUF - 1);
	c.pool = (bufs & FBPF_POOL) != 0;
	c.at = at;
	c.src = src;
	c.n = n;
	if (s->memo_b == c.to)
		s->memo_b = FBPF_NBUF;
	FBPF_LOOP(FBPF_NAME_MAX, fbpf_put_byte, &c);
	return 0;
}

/* Length of the name that transform x makes of buffer b, or 0 if x does
 * not apply to it. */
FBPF_INLINE __u32 fbpf_forward_len(struct fbpf_scratch *s, __u32 x, __u32 b)
{
	__u32 len = s->len[b & (FBPF_NBUF - 1)];
	__u32 kind = fbpf_xform_word(s, x, FBPF_XW_KIND);
	__u32 l1 = fbpf_xform_word(s, x, FBPF_XW_L1);

	if (kind == FBPF_X_SUFFIX || kind == FBPF_X_PREFIX)
		return len + l1;
	if (kind == FBPF_X_EXT && fbpf_ends_with(s, b, fbpf_xform_word(s, x, FBPF_XW_S1), l1))
		return len - l1 + fbpf_xform_word(s, x, FBPF_XW_L2);
	return 0;
}

/* The first rename rule of hit list `hits` below rule `below` (0: no
 * bound) that applies to name buffer b: pattern, condition, and a transform
 * that applies to the name. Returns it, or `below`. */
struct fbpf_list_ctx {
	struct fbpf_scratch *s;
	__u32 hits, n, b, below, found, opmask;
};

static long fbpf_list_rename_one(__u32 i, void *ctx)
{
	struct fbpf_list_ctx *c = ctx;
	struct fbpf_scratch *s = c->s;
	__u32 r;

	if (i >= c->n)
		return 1;
	r = FBPF_TAB(s, c->hits + 1 + i);
	if (c->below && r >= c->below)
		return 1;
	if (r == 0 || r > s->h[FBPF_T_NRULES])
		return 0;
	if (fbpf_rule_word(s, r, FBPF_RW_KIND) != FBPF_R_RENAME)
		return 0;
	if (!fbpf_forward_len(s, fbpf_rule_word(s, r, FBPF_RW_A0), c->b))
		return 0;
	if (!fbpf_rule_holds(s, r))
		return 0;
	c->found = r;
	return 1;
}

FBPF_FUNC int fbpf_list_rename(struct fbpf_scratch *s, __u32 hits, __u32 b, __u32 below)
{
	struct fbpf_list_ctx c;

	if (!s || !hits)
		return below;
	c.s = s;
	c.hits = hits;
	c.n = FBPF_TAB(s, hits);
	c.b = b;
	c.below = below;
	c.found = below;
	c.opmask = 0;
	FBPF_LOOP(FBPF_HITS_MAX, fbpf_list_rename_one, &c);
	return c.found;
}

/* The first rename rule that applies to name buffer b in directory st. */
FBPF_INLINE __u32 fbpf_first_rename(struct fbpf_scratch *s, __u64 st, __u32 b)
{
	__u32 r;

	st = fbpf_advance(s, st, b);
	r = fbpf_list_rename(s, fbpf_hit_list(s, 0, (__u32)st), b, 0);
	return fbpf_list_rename(s, fbpf_hit_list(s, 1, (__u32)(st >> 32)), b, r);
}

/* Write into buffer `to` the name transform x makes of buffer `from`
 * (inverse: the name it was made from). Returns 0 if it does not apply. */
FBPF_FUNC int fbpf_transform(struct fbpf_scratch *s, __u32 x, __u32 from, __u32 to, __u32 inverse)
{
	__u32 kind, s1, l1, s2, l2, len, pre_n, pre_off, keep_from, keep_n, post_off, post_n, out;

	if (!s)
		return 0;
	kind = fbpf_xform_word(s, x, FBPF_XW_KIND);
	s1 = fbpf_xform_word(s, x, FBPF_XW_S1);
	l1 = fbpf_xform_word(s, x, FBPF_XW_L1);
	s2 = fbpf_xform_word(s, x, FBPF_XW_S2);
	l2 = fbpf_xform_word(s, x, FBPF_XW_L2);
	len = s->len[from & (FBPF_NBUF - 1)];
	if (l1 > FBPF_XSTR_MAX || l2 > FBPF_XSTR_MAX || len > FBPF_NAME_MAX)
		return 0;
	/* out = <pre string> + from[keep_from .. keep_from + keep_n) + <post string> */
	pre_n = 0; pre_off = 0; post_n = 0; post_off = 0; keep_from = 0; keep_n = len;
	if (kind == FBPF_X_SUFFIX && !inverse) {
		post_off = s1; post_n = l1;
	} else if (kind == FBPF_X_SUFFIX) {
		if (!fbpf_ends_with(s, from, s1, l1))
			return 0;
		keep_n = len - l1;
	} else if (kind == FBPF_X_PREFIX && !inverse) {
		pre_off = s1; pre_n = l1;
	} else if (kind == FBPF_X_PREFIX) {
		if (l1 >= len || !fbpf_has_str(s, from, 0, s1, l1))
			return 0;
		keep_from = l1; keep_n = len - l1;
	} else if (kind == FBPF_X_EXT) {
		__u32 f_off = inverse ? s2 : s1, f_n = inverse ? l2 : l1;

		if (!fbpf_ends_with(s, from, f_off, f_n))
			return 0;
		keep_n = len - f_n;
		post_off = inverse ? s1 : s2; post_n = inverse ? l1 : l2;
	} else {
		return 0;
	}
	out = pre_n + keep_n + post_n;
	if (out == 0 || out > FBPF_NAME_MAX)
		return 0;
	fbpf_put(s, (to | FBPF_POOL), 0, pre_off, pre_n);
	fbpf_put(s, FBPF_BUFS(to, from), pre_n, keep_from, keep_n);
	fbpf_put(s, (to | FBPF_POOL), pre_n + keep_n, post_off, post_n);
	s->len[to & (FBPF_NBUF - 1)] = out;
	return 1;
}

FBPF_INLINE void fbpf_copy_buf(struct fbpf_scratch *s, __u32 from, __u32 to)
{
	fbpf_put(s, FBPF_BUFS(to, from), 0, 0, s->len[from & (FBPF_NBUF - 1)]);
	s->len[to & (FBPF_NBUF - 1)] = s->len[from & (FBPF_NBUF - 1)];
}

static long fbpf_cmp_buf_byte(__u32 i, void *ctx)
{
	struct fbpf_cmp_ctx *c = ctx;

	if (i >= c->n)
		return 1;
	if (FBPF_BUF(c->s, c->b, i) != FBPF_BUF(c->s, c->other, i)) {
		c->same = 0;
		return 1;
	}
	return 0;
}

FBPF_FUNC int fbpf_same_buf(struct fbpf_scratch *s, __u32 x, __u32 y)
{
	struct fbpf_cmp_ctx c;

	if (!s)
		return 0;
	if (s->len[x & (FBPF_NBUF - 1)] != s->len[y & (FBPF_NBUF - 1)])
		return 0;
	c.s = s;
	c.b = x;
	c.other = y;
	c.n = s->len[x & (FBPF_NBUF - 1)];
	c.at = 0;
	c.off = 0;
	c.same = 1;
	FBPF_LOOP(FBPF_NAME_MAX, fbpf_cmp_buf_byte, &c);
	return c.same;
}

/* The shown name of stored name `from`, into `to`. Returns the rename rule. */
FBPF_FUNC int fbpf_forward(struct fbpf_scratch *s, __u64 dir, __u32 from, __u32 to)
{
	__u32 r;

	if (!s)
		return 0;
	r = fbpf_first_rename(s, dir, from);
	if (r && fbpf_transform(s, fbpf_rule_word(s, r, FBPF_RW_A0), from, to, 0))
		return r;
	fbpf_copy_buf(s, from, to);
	return 0;
}

/*
 * The stored name that shown name `from` stands for, into `to`.
 * Returns 1 + the deciding rename rule (1 when the name is not renamed),
 * or 0 when no stored name is shown under this name.
 * (A plain loop, not FBPF_LOOP: a callback frame here would make the
 * deepest call chain, down to a condition's atoms, exceed BPF's 8 frames.)
 */
FBPF_FUNC int fbpf_inverse(struct fbpf_scratch *s, __u64 dir, __u32 from, __u32 to)
{
	__u32 x, nx, best = 0;

	if (!s)
		return 0;
	nx = s->h[FBPF_T_NXFORMS];
	for (x = 0; x < FBPF_XFORM_MAX; x++) {
		__u32 r;

		if (x >= nx)
			break;
		if (!fbpf_transform(s, x, from, FBPF_B_CAND, 1))
			continue;
		r = fbpf_first_rename(s, dir, FBPF_B_CAND);
		if (!r || fbpf_rule_word(s, r, FBPF_RW_A0) != x)
			continue;
		if (best && best <= r)
			continue;
		best = r;
		fbpf_copy_buf(s, FBPF_B_CAND, to);
	}
	if (best)
		return best + 1;
	x = fbpf_first_rename(s, dir, from);
	if (x && fbpf_forward_len(s, fbpf_rule_word(s, x, FBPF_RW_A0), from) <= FBPF_NAME_MAX)
		return 0;
	fbpf_copy_buf(s, from, to);
	return 1;
}

/* Lower s->first[] to the first applying rule of each kind in hit list
 * `hits`, for the operations in opmask. */
static long fbpf_scan_one(__u32 i, void *ctx)
{
	struct fbpf_list_ctx *c = ctx;
	struct fbpf_scratch *s = c->s;
	__u32 r, k;

	if (i >= c->n)
		return 1;
	r = FBPF_TAB(s, c->hits + 1 + i);
	if (r == 0 || r > s->h[FBPF_T_NRULES])
		return 0;
	k = fbpf_rule_word(s, r, FBPF_RW_KIND) & 7;
	if (k == 0 || k > FBPF_R_ATTR || k == FBPF_R_RENAME || (s->first[k] && s->first[k] < r))
		return 0;
	if (!(fbpf_rule_word(s, r, FBPF_RW_OPS) & c->opmask))
		return 0;
	if (fbpf_rule_holds(s, r))
		s->first[k] = r;
	return 0;
}

FBPF_FUNC int fbpf_scan_list(struct fbpf_scratch *s, __u32 hits, __u32 opmask)
{
	struct fbpf_list_ctx c;

	if (!s || !hits)
		return 0;
	c.s = s;
	c.hits = hits;
	c.n = FBPF_TAB(s, hits);
	c.opmask = opmask;
	c.b = 0;
	c.below = 0;
	c.found = 0;
	FBPF_LOOP(FBPF_HITS_MAX, fbpf_scan_one, &c);
	return 0;
}

/* Fill s->first[] with the first applying rule of each kind at state st
 * for the operations in opmask: the union of the two automata's lists. */
FBPF_INLINE void fbpf_scan(struct fbpf_scratch *s, __u64 st, __u32 opmask)
{
	__u32 k;

	for (k = 0; k < 8; k++)
		s->first[k] = 0;
	fbpf_scan_list(s, fbpf_hit_list(s, 0, (__u32)st), opmask);
	fbpf_scan_list(s, fbpf_hit_list(s, 1, (__u32)(st >> 32)), opmask);
}

/* The input name into buffer FBPF_B_IN, the mapped name out of FBPF_B_MAP. */
struct fbpf_sctx {
	struct fbpf_scratch *s; /* bpf_loop's context must be on the stack */
};

static long fbpf_name_in_byte(__u32 i, void *ctx)
{
	struct fbpf_scratch *s = ((struct fbpf_sctx *)ctx)->s;

	if (i >= s->len[FBPF_B_IN])
		return 1;
	FBPF_BUF(s, FBPF_B_IN, i) = s->a.name[i & FBPF_NAME_MAX];
	return 0;
}

static long fbpf_name_out_byte(__u32 i, void *ctx)
{
	struct fbpf_scratch *s = ((struct fbpf_sctx *)ctx)->s;

	if (i >= s->a.out_name_len)
		return 1;
	s->a.out_name[i & FBPF_NAME_MAX] = FBPF_BUF(s, FBPF_B_MAP, i);
	return 0;
}

/*
 * The filter: reads s->a's inputs, writes its outputs, returns the verdict.
 * Tables: the header must already be in s->h (fbpf_load_header).
 */
FBPF_FUNC int fbpf_filter(struct fbpf_scratch *s)
{
	struct fbpf_args *a;
	struct fbpf_sctx sc;
	__u32 op, phase, opmask, r;
	__u64 st;
	int decide;

	if (!s)
		return FBPF_CONTINUE;
	a = &s->a;
	sc.s = s;
	a->verdict = FBPF_CONTINUE;
	a->err = 0;
	a->out_flags = 0;
	a->rule = 0;
	a->handler = 0;
	a->state = FBPF_STATE_DEAD;
	a->a_set = 0;
	a->a_uid = 0;
	a->a_gid = 0;
	a->a_mode_and = 07777;
	a->a_mode_or = 0;
	a->out_name_len = 0;
	s->caller = 0;
	s->memo_b = FBPF_NBUF;
	if (s->h[FBPF_T_MAGIC] != FBPF_TABLE_MAGIC || s->h[FBPF_T_ABI] != FBPF_ABI_VERSION) {
		a->verdict = FBPF_ERROR;
		a->err = 5; /* EIO: no usable tables */
		return FBPF_ERROR;
	}
	op = a->op;
	phase = a->phase;
	if (op >= FBPF_OP_COUNT)
		return FBPF_CONTINUE;
	opmask = 1u << op;
	if (op == FBPF_OP_OPEN && (a->flags & FBPF_IN_WRITE))
		opmask |= 1u << FBPF_OP_WRITE;

	st = a->dir_state;
	if (a->name_len) {
		__u32 len = a->name_len > FBPF_NAME_MAX ? FBPF_NAME_MAX : a->name_len;

		s->len[FBPF_B_IN] = len;
		FBPF_LOOP(FBPF_NAME_MAX, fbpf_name_in_byte, &sc);
		if (op == FBPF_OP_READDIR && phase == FBPF_POST) {
			/* stored name in, shown name out; eclipsed names are omitted */
			r = fbpf_forward(s, st, FBPF_B_IN, FBPF_B_MAP);
			if (!fbpf_inverse(s, st, FBPF_B_MAP, FBPF_B_BACK) ||
			    !fbpf_same_buf(s, FBPF_B_BACK, FBPF_B_IN)) {
				a->out_flags = FBPF_OUT_HIDDEN | (s->caller ? FBPF_OUT_CALLER : 0);
				return FBPF_CONTINUE;
			}
			st = fbpf_advance(s, st, FBPF_B_MAP);
		} else {
			/* shown name in, stored name out */
			r = fbpf_inverse(s, st, FBPF_B_IN, FBPF_B_MAP);
			st = fbpf_advance(s, st, FBPF_B_IN);
			a->state = st;
			if (!r) {
				a->verdict = FBPF_ERROR;
				a->err = fbpf_hidden_errno(op, a->flags);
				a->out_flags = FBPF_OUT_HIDDEN | (s->caller ? FBPF_OUT_CALLER : 0);
				return FBPF_ERROR;
			}
			r = r - 1;
		}
		a->out_name_len = s->len[FBPF_B_MAP];
		FBPF_LOOP(FBPF_NAME_MAX, fbpf_name_out_byte, &sc);
		a->out_name[a->out_name_len & FBPF_NAME_MAX] = 0;
		a->out_flags |= FBPF_OUT_NAME;
		a->rule = r;
	}
	a->state = st;
	if (op == FBPF_OP_LOOKUP && phase == FBPF_PRE)
		goto out; /* names and states only; the lookup decides after */

	fbpf_scan(s, st, opmask);
	if (phase == FBPF_PRE)
		decide = op != FBPF_OP_LOOKUP;
	else
		decide = op == FBPF_OP_LOOKUP;
	if (s->first[FBPF_R_HIDE] && (decide || op == FBPF_OP_READDIR)) {
		a->rule = s->first[FBPF_R_HIDE];
		a->out_flags |= FBPF_OUT_HIDDEN;
		if (phase == FBPF_POST && op == FBPF_OP_READDIR)
			goto out;
		a->verdict = FBPF_ERROR;
		a->err = fbpf_hidden_errno(op, a->flags);
		goto out;
	}
	if (decide && s->first[FBPF_R_DENY]) {
		a->rule = s->first[FBPF_R_DENY];
		a->verdict = FBPF_ERROR;
		a->err = fbpf_rule_word(s, a->rule, FBPF_RW_A0);
		goto out;
	}
	if (decide && s->first[FBPF_R_DEFER]) {
		a->rule = s->first[FBPF_R_DEFER];
		a->verdict = FBPF_DEFER;
		a->handler = fbpf_rule_word(s, a->rule, FBPF_RW_A0);
		goto out;
	}
	r = s->first[FBPF_R_ATTR];
	if (r && phase == FBPF_POST &&
	    (op == FBPF_OP_LOOKUP || op == FBPF_OP_GETATTR || op == FBPF_OP_READDIR)) {
		a->rule = r;
		a->out_flags |= FBPF_OUT_ATTR;
		a->a_set = fbpf_rule_word(s, r, FBPF_RW_A0);
		a->a_uid = fbpf_rule_word(s, r, FBPF_RW_A1);
		a->a_gid = fbpf_rule_word(s, r, FBPF_RW_A2);
		a->a_mode_and = fbpf_rule_word(s, r, FBPF_RW_A3);
		a->a_mode_or = fbpf_rule_word(s, r, FBPF_RW_A4);
	}
out:
	if (s->caller)
		a->out_flags |= FBPF_OUT_CALLER;
	a->out_flags |= fbpf_kids_flags(s, a->state);
	return a->verdict;
}

/* Copy the table header into the scratch area. */
FBPF_INLINE void fbpf_load_header(struct fbpf_scratch *s)
{
	__u32 i;

	for (i = 0; i < FBPF_T_HEADER_WORDS; i++)
		s->h[i] = FBPF_TAB(s, i);
}

#endif /* FBPF_EVAL_H */
