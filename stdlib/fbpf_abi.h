/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * fbpf ABI: the one contract between fbpfc's generated code, the kernel
 * module fbpf.ko and the runtime fbpf-run.
 *
 *  - struct fbpf_args: the argument block every filter receives, inputs first,
 *    outputs after (the module lets programs write only the outputs);
 *  - struct fbpf_ops: the struct_ops type, a pre- and a post-filter per
 *    operation class, as in FUSE-BPF;
 *  - the table format: the compiled policy, an array of 32-bit words that the
 *    BPF programs (through a map) and the native evaluator (in memory) read
 *    with the same code, stdlib/fbpf_eval.h;
 *  - the object metadata: section ".fbpf" of a compiled rules.o.
 *
 * Bump FBPF_ABI_VERSION on any change to a layout or a meaning below.
 */
#ifndef FBPF_ABI_H
#define FBPF_ABI_H

#ifdef __KERNEL__
#include <linux/types.h>
#elif defined(__bpf__)
/* BPF programs get the __u32 family from linux/types.h or vmlinux.h. */
#include <linux/types.h>
#else
#include <linux/types.h>
#endif

#define FBPF_ABI_VERSION 3

#define FBPF_NAME_MAX 255          /* longest name a filter sees or returns */
#define FBPF_POLICY_NAME_MAX 15    /* struct_ops names are at most 15 bytes */

/* Operation classes. A rule names a set of them; requests carry one. */
enum fbpf_op {
	FBPF_OP_LOOKUP = 0,
	FBPF_OP_READDIR,
	FBPF_OP_GETATTR,
	FBPF_OP_OPEN,
	FBPF_OP_READ,
	FBPF_OP_WRITE,
	FBPF_OP_CREATE,  /* create, mknod, mkdir, symlink, link target */
	FBPF_OP_DELETE,  /* unlink, rmdir */
	FBPF_OP_RENAME,  /* source, and destination with FBPF_IN_TARGET */
	FBPF_OP_SETATTR, /* chmod, chown, truncate, utimes, setxattr */
	FBPF_OP_COUNT
};
#define FBPF_OPMASK_ALL ((1u << FBPF_OP_COUNT) - 1)

enum fbpf_phase {
	FBPF_PRE = 0,  /* before the lower filesystem is asked */
	FBPF_POST = 1, /* after, with what the lower filesystem answered */
};

/* Return value of every filter, also stored in fbpf_args.verdict. */
enum fbpf_verdict {
	FBPF_CONTINUE = 0, /* go on to the lower filesystem */
	FBPF_ERROR = 1,    /* fail the operation with fbpf_args.err */
	FBPF_DEFER = 2,    /* ask handler fbpf_args.handler in user space */
};

/* fbpf_args.flags (inputs) */
#define FBPF_IN_ENTRY  (1u << 0) /* e_uid, e_gid, e_mode describe the lower entry */
#define FBPF_IN_WRITE  (1u << 1) /* OPEN asks for write access (or O_TRUNC) */
#define FBPF_IN_TARGET (1u << 2) /* RENAME: this name is the destination */

/* fbpf_args.out_flags */
#define FBPF_OUT_HIDDEN (1u << 0) /* the name is hidden (READDIR post: omit it) */
#define FBPF_OUT_NAME   (1u << 1) /* out_name holds the mapped name */
#define FBPF_OUT_ATTR   (1u << 2) /* a_* hold attribute overrides */
#define FBPF_OUT_CALLER (1u << 3) /* the answer depends on the caller: do not
				     share it between callers through caches */
/*
 * What the policy can do to the entries of the directory whose state the
 * answer returns (`state`), so that an engine can skip work for a whole
 * listing. Each is a promise; without it the engine does the work. Every
 * answer may carry them; engines read them from READDIR/PRE, which the
 * compiler emits whenever it emits READDIR/POST.
 */
#define FBPF_OUT_LIST_PLAIN (1u << 4) /* READDIR/POST leaves every entry as it
					 is: shown under its stored name, not
					 hidden, no attribute rewrite */
#define FBPF_OUT_KIDS_NO_ENTRY (1u << 5) /* no answer about an entry (READDIR/POST,
					    LOOKUP/POST, operations on it) reads
					    its attributes (e_uid, e_gid, e_mode) */
#define FBPF_OUT_KIDS_NO_CALLER (1u << 6) /* no answer about an entry depends on
					     the caller */
#define FBPF_OUT_PROMISES (FBPF_OUT_LIST_PLAIN | FBPF_OUT_KIDS_NO_ENTRY | \
			   FBPF_OUT_KIDS_NO_CALLER)

/* fbpf_args.a_set */
#define FBPF_ATTR_UID  (1u << 0)
#define FBPF_ATTR_GID  (1u << 1)
#define FBPF_ATTR_MODE (1u << 2) /* mode = (mode & a_mode_and) | a_mode_or, permission bits only */

/*
 * The argument block. Match states: the root directory has state
 * FBPF_STATE_ROOT; a name's state is what the filter returns in `state`,
 * and the engine keeps it with the inode to pass as dir_state for its
 * children (or for operations on the inode itself, with name_len == 0).
 * A state is opaque to the engines: a pair of automaton states (the low
 * word for anchored patterns, the high word for patterns that begin with
 * "**"), FBPF_STATE_DEAD when no pattern can match below the name.
 */
#define FBPF_STATE_DEAD 0ull
#define FBPF_STATE_ROOT ((1ull << 32) | 1ull)

struct fbpf_args {
	/* inputs */
	__u32 op;        /* enum fbpf_op */
	__u32 phase;     /* enum fbpf_phase */
	__u32 flags;     /* FBPF_IN_* */
	__u32 uid, gid, pid;       /* the caller (fsuid, fsgid, tgid) */
	__u32 e_uid, e_gid, e_mode; /* the lower entry, when FBPF_IN_ENTRY */
	__u32 name_len;  /* 0: the operation is on the inode itself */
	__u64 dir_state; /* state of the parent, or of the inode itself when name_len == 0 */
	char name[FBPF_NAME_MAX + 1]; /* shown name; stored name for READDIR post */

	/* outputs: everything from here on is written by the filter */
	__u64 state;     /* match state of the name (or of the inode) */
	__s32 verdict;   /* enum fbpf_verdict, also the return value */
	__u32 err;       /* positive errno with FBPF_ERROR */
	__u32 out_flags; /* FBPF_OUT_* */
	__u32 rule;      /* 1-based index of the deciding rule, 0 for none */
	__u32 handler;   /* handler index with FBPF_DEFER */
	__u32 a_set, a_uid, a_gid, a_mode_and, a_mode_or;
	__u32 out_name_len;
	char out_name[FBPF_NAME_MAX + 1]; /* stored name (pre), shown name (READDIR post) */
};

#define FBPF_ARGS_OUT_OFFSET __builtin_offsetof(struct fbpf_args, state)

/*
 * The struct_ops type. A policy fills in only the filters it needs; a NULL
 * filter means "continue". Member order is ABI.
 */
#define FBPF_FOR_EACH_OP(X) \
	X(lookup, FBPF_OP_LOOKUP) X(readdir, FBPF_OP_READDIR) X(getattr, FBPF_OP_GETATTR) \
	X(open, FBPF_OP_OPEN) X(read, FBPF_OP_READ) X(write, FBPF_OP_WRITE) \
	X(create, FBPF_OP_CREATE) X(delete, FBPF_OP_DELETE) X(rename, FBPF_OP_RENAME) \
	X(setattr, FBPF_OP_SETATTR)

struct fbpf_ops {
#define FBPF_OPS_MEMBER(n, op) \
	int (*n##_pre)(struct fbpf_args *args); \
	int (*n##_post)(struct fbpf_args *args);
	FBPF_FOR_EACH_OP(FBPF_OPS_MEMBER)
#undef FBPF_OPS_MEMBER
	char name[FBPF_POLICY_NAME_MAX + 1];
};

/* Bit (op * 2 + phase) of a callback mask: which filters an object has. */
#define FBPF_CB_BIT(op, phase) (1u << ((op) * 2 + (phase)))

/* ------------------------------------------------------------------------
 * The table format: an array of __u32 words. Offsets are word indices.
 * Word FBPF_T_* of the header holds the value named.
 * ------------------------------------------------------------------------ */
#define FBPF_TABLE_MAGIC 0x54504246u /* "FBPT" little-endian */

enum fbpf_table_header {
	FBPF_T_MAGIC = 0,
	FBPF_T_ABI,       /* FBPF_ABI_VERSION */
	FBPF_T_WORDS,     /* total number of words */
	FBPF_T_NRULES,
	FBPF_T_RULES,     /* nrules records of FBPF_RULE_WORDS words */
	FBPF_T_NXFORMS,
	FBPF_T_XFORMS,    /* nxforms records of FBPF_XFORM_WORDS words */
	FBPF_T_STRINGS,   /* byte pool, 4 bytes a word, little-endian */
	FBPF_T_NSTRBYTES,
	FBPF_T_DFA,       /* FBPF_NDFA automata of FBPF_D_WORDS header words each */
	FBPF_T_HEADER_WORDS = 32
};

/*
 * Two automata over the bytes of the shown path: automaton 0 holds the
 * patterns anchored at the root (such as "/a/b"), automaton 1 those that
 * begin with "**" (such as "**" followed by "/.git"). Kept apart, the anchored patterns stay a trie and the
 * floating ones stay small; one product automaton of both can have the
 * product of their sizes. A match state (fbpf_args.state) is the pair:
 * automaton 0's state in the low word, automaton 1's in the high word.
 * The rules matching a path are the union of the two states' hit lists.
 */
#define FBPF_NDFA 2
enum fbpf_dfa_word {
	FBPF_D_NSTATES = 0, /* states; 0 is dead, 1 is the root (empty path) */
	FBPF_D_NCLASSES,    /* byte equivalence classes */
	FBPF_D_CLASSMAP,    /* 256 words: class of each byte */
	FBPF_D_BASE,        /* nstates words: comb base of each state's row, with
			       FBPF_BASE_SKIP set when every byte but '/' leads
			       back to the state (the rest of a name can be skipped) */
	FBPF_D_DEFAULT,     /* nstates words: target of bytes not in the comb */
	FBPF_D_NEXT,        /* ncomb words: comb targets */
	FBPF_D_CHECK,       /* ncomb words: owner state of each comb slot */
	FBPF_D_NCOMB,
	FBPF_D_HITS,        /* nstates words: offset of the state's hit list, 0 if none;
			       a hit list is [count, rule index...] in rule order */
	FBPF_D_KIDS,        /* nstates words: FBPF_K_* of the rules that can match a
			       child of the state ('/' and one more name) */
	FBPF_D_WORDS
};
#define FBPF_BASE_SKIP 0x80000000u
#define FBPF_K_LIST   (1u << 0) /* a hide, rename or attr rule */
#define FBPF_K_ENTRY  (1u << 1) /* a rule whose condition reads the entry */
#define FBPF_K_CALLER (1u << 2) /* a rule whose condition reads the caller */
/* Header word w of automaton k. */
#define FBPF_T_D(k, w) (FBPF_T_DFA + (k) * FBPF_D_WORDS + (w))

/*
 * Next state of s on byte class c (of automaton k):
 *   i = (base[s] & ~FBPF_BASE_SKIP) + c;
 *   next = (i < ncomb && check[i] == s) ? next[i] : default[s]
 */

enum fbpf_rule_kind {
	FBPF_R_HIDE = 1,
	FBPF_R_DENY,
	FBPF_R_DEFER,
	FBPF_R_RENAME,
	FBPF_R_ATTR,
};

enum fbpf_rule_word {
	FBPF_RW_KIND = 0, /* enum fbpf_rule_kind */
	FBPF_RW_OPS,      /* operation mask (FBPF_OPMASK_ALL for hide, rename, attr) */
	FBPF_RW_COND,     /* offset of the condition program, 0 for "always" */
	FBPF_RW_FLAGS,    /* FBPF_RF_* */
	FBPF_RW_A0,       /* deny: errno; defer: handler; rename: xform; attr: a_set */
	FBPF_RW_A1,       /* attr: uid */
	FBPF_RW_A2,       /* attr: gid */
	FBPF_RW_A3,       /* attr: mode and-mask */
	FBPF_RW_A4,       /* attr: mode or-mask */
	FBPF_RW_LINE,     /* source line, for people */
	FBPF_RULE_WORDS
};
#define FBPF_RF_CALLER (1u << 0) /* the condition reads uid, gid or pid */
#define FBPF_RF_ENTRY  (1u << 1) /* the condition reads the lower entry */

/*
 * Condition programs: [count, insn...], each insn FBPF_INSN_WORDS words,
 * evaluated on a stack of booleans; the result is the top of the stack.
 *   word 0: opcode | field << 8 | cmp << 16 | rhs kind << 24
 *   word 1: constant, field, or offset of a set [count, value...]
 * An atom that reads the entry is false when there is no entry.
 */
#define FBPF_INSN_WORDS 2
#define FBPF_COND_MAX 32   /* instructions per condition */
#define FBPF_STACK_MAX 16  /* depth of the boolean stack */
#define FBPF_SET_MAX 16    /* values in an `in (...)` set */

enum fbpf_cond_opcode { FBPF_C_CMP = 1, FBPF_C_IN, FBPF_C_AND, FBPF_C_OR, FBPF_C_NOT };
enum fbpf_field {
	FBPF_F_UID = 1, FBPF_F_GID, FBPF_F_PID,         /* the caller */
	FBPF_F_OWNER, FBPF_F_GROUP, FBPF_F_TYPE, FBPF_F_MODE, /* the entry */
};
enum fbpf_cmp { FBPF_EQ = 1, FBPF_NE, FBPF_LT, FBPF_LE, FBPF_GT, FBPF_GE };
enum fbpf_rhs { FBPF_RHS_CONST = 0, FBPF_RHS_FIELD = 1 };

/* Values of the type field. */
enum fbpf_type {
	FBPF_TYPE_NONE = 0, FBPF_TYPE_FILE, FBPF_TYPE_DIR, FBPF_TYPE_SYMLINK,
	FBPF_TYPE_FIFO, FBPF_TYPE_SOCKET, FBPF_TYPE_CHAR, FBPF_TYPE_BLOCK,
};

/* Invertible name transforms of rename rules. */
enum fbpf_xform_kind {
	FBPF_X_SUFFIX = 1, /* shown = stored + s1 */
	FBPF_X_PREFIX,     /* shown = s1 + stored */
	FBPF_X_EXT,        /* stored ends with s1; shown = stored - s1 + s2 */
};
enum fbpf_xform_word {
	FBPF_XW_KIND = 0, FBPF_XW_S1, FBPF_XW_L1, FBPF_XW_S2, FBPF_XW_L2,
	FBPF_XFORM_WORDS
};
#define FBPF_XFORM_MAX 16 /* distinct transforms per policy */
#define FBPF_XSTR_MAX 64  /* bytes in a transform string */
#define FBPF_HITS_MAX 64  /* rules in one hit list (after pruning) */

/* ------------------------------------------------------------------------
 * Object metadata: ELF section ".fbpf" of rules.o.
 *   struct fbpf_meta, then the string table (strtab_len bytes), then the
 *   table words (tables_words * 4 bytes, 4-byte aligned).
 * The string table holds: the source file name, the handler names, and the
 * policy source, each NUL-terminated, at the offsets given.
 * ------------------------------------------------------------------------ */
#define FBPF_META_SECTION ".fbpf"
#define FBPF_META_MAGIC "FBPFOBJ"

struct fbpf_meta {
	char magic[8];       /* FBPF_META_MAGIC */
	__u32 abi;           /* FBPF_ABI_VERSION */
	__u32 meta_size;     /* sizeof(struct fbpf_meta) */
	char policy[FBPF_POLICY_NAME_MAX + 1];
	__u32 callbacks;     /* FBPF_CB_BIT mask of the filters in the object */
	__u32 nrules;
	__u32 nhandlers;
	__u32 handlers_off;  /* strtab offset of nhandlers NUL-terminated names */
	__u32 file_off;      /* strtab offset of the source file name */
	__u32 source_off;    /* strtab offset of the policy source */
	__u32 strtab_len;
	__u32 tables_words;
	__u32 reserved[4];
};

/* Names of maps and programs in the object, for loaders. */
#define FBPF_MAP_TABLES  "fbpf_tab"     /* ARRAY, mmapable, of struct fbpf_tab_row */
#define FBPF_MAP_SCRATCH "fbpf_scratch" /* PERCPU_ARRAY, 1 entry: working copy */
#define FBPF_TAB_ROW_WORDS 16
struct fbpf_tab_row {
	__u32 w[FBPF_TAB_ROW_WORDS];
};
/* Every filter, as one syscall program for BPF_PROG_TEST_RUN: the filter
 * run is the one fbpf_args.op and .phase name. */
#define FBPF_PROG_TEST "fbpf_test"

/* ------------------------------------------------------------------------
 * Kernel mode: how fbpf-run and fbpf.ko talk.
 *
 *  - The daemon opens FBPF_DEV_PATH; the file is the mount's channel. It
 *    mounts with  mount -t fbpf -o lowerdir=DIR,ops=NAME,fd=N none MNT
 *    where NAME is the policy name (the struct_ops map's `name`, already
 *    registered) and N the channel fd in the mounting process.
 *  - read() on the channel returns one struct fbpf_kreq per deferred
 *    operation (blocking, or EAGAIN with O_NONBLOCK; poll works);
 *    write() of a struct fbpf_kresp answers it. When the channel's last
 *    reference goes away (the daemon exits or dies), every waiter fails
 *    with FBPF_ERR_NO_DAEMON at once, and so does every later deferral.
 *  - A request nobody answers within the mount's timeout (mount option
 *    defer_timeout_ms=, default FBPF_DEFER_TIMEOUT_MS) fails with
 *    FBPF_ERR_TIMEOUT. FUSE mode gives the same errnos.
 * ------------------------------------------------------------------------ */
#define FBPF_FS_TYPE "fbpf"
#define FBPF_DEV_PATH "/dev/fbpf"
#define FBPF_DEFER_TIMEOUT_MS 5000
#define FBPF_ERR_TIMEOUT 110   /* ETIMEDOUT */
#define FBPF_ERR_NO_DAEMON 107 /* ENOTCONN */
#define FBPF_PATH_MAX 4096

struct fbpf_kreq {
	__u64 id;        /* echo in the answer */
	__u32 op;        /* enum fbpf_op */
	__u32 flags;     /* FBPF_IN_* */
	__u32 rule;      /* the deferring rule, 1-based */
	__u32 handler;   /* index into the policy's handler names */
	__u32 uid, gid, pid;
	__u32 path_len;  /* bytes of path, without the NUL */
	char path[FBPF_PATH_MAX]; /* the path as shown through the mount, "/a/b" */
};

struct fbpf_kresp {
	__u64 id;
	__s32 err;       /* 0: continue to the lower filesystem; > 0: fail with this errno */
	__u32 pad;
};

/* Per-rule statistics: map FBPF_MAP_HITS (PERCPU_ARRAY of __u64, entry r
 * counts the answers rule r decided; the loader sizes it to nrules + 1). */
#define FBPF_MAP_HITS "fbpf_hits"

#endif /* FBPF_ABI_H */
