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
 * build its path. */
struct link {
	struct link *next;
	struct node *parent;
	char *name, *shown;
};

struct node {
	struct node *next;          /* hash chain (stripe lock) */
	uint64_t dev, ino, state;   /* the key */
	uint64_t nlookup;           /* kernel references (stripe lock) */
	uint64_t gen;               /* generation reported to the kernel */
	unsigned children;          /* links whose parent this is (tree lock) */
	struct link *links;         /* its names; NULL: the root, or unlinked (tree lock) */
	uint32_t mode, uid, gid;    /* last lower stat (relaxed atomics) */
	uint8_t caller;             /* some answer about it depended on the caller */
	uint8_t attr_nocache;       /* getattr filters decide here: no attr caching */
	uint8_t hashed;             /* in the table */
	uint8_t root;
	int backing_id;             /* passthrough (stripe lock) */
	unsigned backing_refs;
};

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
	int allow_other_set, creds;  /* switch to the caller's credentials (root daemon) */
	gid_t own_gid;
	int own_ngroups;
	gid_t own_groups[64];
	int ready_sent;
};

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
/* The node (dev, ino, state) if the table has it, with no new reference. */
struct node *node_find(struct fs *fs, uint64_t dev, uint64_t ino, uint64_t state);
void node_forget(struct fs *fs, struct node *n, uint64_t count);
/* The name (op, oname) of n is now (np, nname, nshown); np NULL: it was
 * removed. */
void node_move(struct fs *fs, struct node *n, struct node *op, const char *oname, struct node *np,
	       const char *nname, const char *nshown);
/* Lower path of n (relative to the lower root, "." for the root), with
 * `leaf` appended when not NULL; shown != 0: the path as shown, "/a/b".
 * Returns the length, or -errno. */
int node_path(struct fs *fs, struct node *n, const char *leaf, char *buf, size_t len, int shown);
void node_set_attr(struct node *n, const struct stat *st);
struct stripe *node_stripe(struct fs *fs, struct node *n);

#endif
