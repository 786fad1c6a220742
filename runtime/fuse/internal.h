/* SPDX-License-Identifier: GPL-2.0 */
/* FUSE mode internals: the inode table, lower access, the policy glue. */
#ifndef FBPF_FUSE_INTERNAL_H
#define FBPF_FUSE_INTERNAL_H

#define FUSE_USE_VERSION 35
#include <fuse_lowlevel.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "eval.h"
#include "fbpf_fuse.h"
#include "object.h"

#if defined(FUSE_CAP_PASSTHROUGH) && FUSE_MAJOR_VERSION == 3 && FUSE_MINOR_VERSION >= 17
#define FBPF_PASSTHROUGH 1
#else
#define FBPF_PASSTHROUGH 0
#endif

/*
 * One inode of the view. The key is the lower (st_dev, st_ino) plus the
 * policy state of the name it was reached by: a file with hard links in
 * places the policy treats differently is two inodes of the view, each
 * with its own state, so no rule of one place applies in another.
 *
 * Lower paths are not kept open: an inode knows its parent and its stored
 * name, and every operation resolves the path from the lower root with
 * openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS). So the daemon holds no
 * descriptor per inode, only the ones of open files and directories.
 */
/* A name of a node: its parent and its stored and shown names. A file
 * with hard links has one per name the kernel knows; the first is used to
 * build its path. Every link is also in the name index, keyed by (parent,
 * stored name), so that a rename or an unlink updates every node that the
 * name leads to (the same lower file can be several nodes, one per policy
 * state): a node's names always name its own lower file. */
struct link {
	struct link *next;          /* the node's names */
	struct link *hnext;         /* chain of the name index */
	struct link *tmp;           /* a list while a rename moves names */
	struct node *parent, *node;
	uint64_t h;                 /* hash of (parent, name) */
	char *name, *shown;
};

/* An open file of the view (fi->fh): the lower descriptor, and what each
 * read or write must ask. Listed with its node (stripe lock), so that an
 * operation on an open file whose names are all gone (fstat, fchmod after
 * the last unlink) can reach the lower file without a name. */
struct ofile {
	int fd;
	uint32_t flags;             /* OF_* */
	struct node *node;
	struct ofile *next, **pprev;
};
#define OF_CHECK_READ  (1u << 0)  /* ask the read filter on every read */
#define OF_CHECK_WRITE (1u << 1)  /* ask the write filter on every write */
#define OF_BACKING     (1u << 2)  /* holds a reference to n->backing_id */

struct node {
	struct node *next;          /* hash chain (stripe lock) */
	uint64_t dev, ino, state;   /* the key */
	uint64_t nlookup;           /* kernel references (stripe lock) */
	uint64_t gen;               /* generation reported to the kernel */
	unsigned children;          /* links whose parent this is (tree lock) */
	struct link *links;         /* its names; NULL: the root, or unlinked (tree lock) */
	struct ofile *files;        /* its open files (stripe lock) */
	uint32_t mode, uid, gid;    /* last lower stat (relaxed atomics) */
	uint8_t caller;             /* some answer about it depended on the caller */
	uint8_t attr_nocache;       /* getattr filters decide here: no attr caching */
	uint8_t hashed;             /* in the table */
	uint8_t root;
	uint32_t kids;              /* FBPF_OUT_LIST_PLAIN...: what the policy
				       promises about its entries, once
				       KIDS_KNOWN (relaxed atomics) */
	int backing_id;             /* passthrough (stripe lock) */
	unsigned backing_refs;
};

#define KIDS_KNOWN (1u << 31)

#define FBPF_STRIPES 64

struct stripe {
	pthread_mutex_t lock;
	struct node **b;
	size_t nb, n;
};

struct fs {
	const struct fbpf_mount_args *args;
	const struct fbpf_object *obj;
	struct fuse_session *se;
	struct fbpf_handlers *handlers;
	int rootfd;                 /* the lower root, O_PATH */
	struct node root;
	pthread_rwlock_t tree;      /* parent and name links of all nodes */
	struct link **lidx;         /* the name index (tree lock) */
	size_t lidx_nb, lidx_n;
	struct stripe stripes[FBPF_STRIPES];
	uint64_t next_gen;

	/* the policy */
	int rules;                  /* the object has filters at all */
	int policy_caller;          /* some rule reads uid, gid or pid */
	int policy_entry;           /* some rule reads the lower entry */
	int policy_pid;             /* some rule reads pid */
	uint64_t *hits;             /* nrules + 1 counters */
	uint32_t nrules;

	/* options */
	double entry_timeout, attr_timeout, negative_timeout;
	int writeback, passthrough, flush, splice, threads;
	unsigned busy_poll_us;      /* the reader polls this long after a request */
	int kernel_perms;           /* -o default_permissions: the kernel checks permissions */
	int allow_other_set, creds;  /* switch to the caller's credentials (root daemon) */
	gid_t own_gid;
	int own_ngroups;
	gid_t own_groups[64];
	int ready_sent;
};

/* loop.c: serve requests until the view is unmounted or SIGINT, SIGTERM
 * or SIGHUP stops it; 0 or -errno. */
int fuse_loop_run(struct fs *fs);
/* loop.c: the calling worker may wait for another request (a handler,
 * a lock, a kernel invalidation): let another worker read meanwhile. */
void loop_may_block(void);

/* node.c */
void nodes_init(struct fs *fs);
void nodes_free(struct fs *fs);
static inline struct node *N(struct fs *fs, fuse_ino_t ino)
{
	return ino == FUSE_ROOT_ID ? &fs->root : (struct node *)(uintptr_t)ino;
}
static inline fuse_ino_t node_id(struct fs *fs, struct node *n)
{
	return n == &fs->root ? FUSE_ROOT_ID : (fuse_ino_t)(uintptr_t)n;
}
/* Find or make the node (st, state) named `name` (stored) / `shown` in p,
 * with one more kernel reference. NULL when out of memory. */
struct node *node_get(struct fs *fs, const struct stat *st, uint64_t state, struct node *p,
		      const char *name, const char *shown);
void node_forget(struct fs *fs, struct node *n, uint64_t count);
/* The stored name `name` in p is gone (unlink, rmdir): every node loses
 * that name. */
void node_unlinked(struct fs *fs, struct node *p, const char *name);
/* A rename of stored name oname in op (shown oshown) to nname in np (shown
 * nshown) succeeded: every node named (op, oname) is now named (np, nname);
 * with RENAME_EXCHANGE the nodes named (np, nname) are named (op, oname),
 * else they lose that name. same: both names were links of one file (a
 * rename that does nothing). */
void node_renamed(struct fs *fs, struct node *op, const char *oname, const char *oshown, struct node *np,
		  const char *nname, const char *nshown, int exchange, int same);
/* The names the kernel may have cached: of n itself (children 0) or of
 * its children (children 1), each with its parent; *out is one allocation
 * to free. Returns the count (0 on failure). The parents are nodes the
 * kernel holds (a child's name keeps its parent). */
struct name_ref {
	struct node *parent;
	const char *name;
};
size_t node_names(struct fs *fs, struct node *n, int children, struct name_ref **out);
/* Lower path of n (relative to the lower root, "." for the root), with
 * `leaf` appended when not NULL; shown != 0: the path as shown, "/a/b".
 * Returns the length, or -errno. */
int node_path(struct fs *fs, struct node *n, const char *leaf, char *buf, size_t len, int shown);
/* Open files of n: add, remove, and a new descriptor of one of them (-1 if
 * n has none open). */
void node_file_add(struct fs *fs, struct node *n, struct ofile *f);
void node_file_del(struct fs *fs, struct ofile *f);
int node_file_dup(struct fs *fs, struct node *n);
void node_set_attr(struct node *n, const struct stat *st);
struct stripe *node_stripe(struct fs *fs, struct node *n);

#endif
