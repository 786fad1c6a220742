/* SPDX-License-Identifier: GPL-2.0 */
/* FUSE mode: credentials, policy calls, lower-path resolution. */
#ifndef FBPF_FUSE_POLICY_H
#define FBPF_FUSE_POLICY_H

#include <limits.h>
#include "internal.h"

void creds_enter(struct fs *fs, fuse_req_t req);
void creds_leave(struct fs *fs);

void args_init(struct fs *fs, struct fbpf_args *a, fuse_req_t req, uint32_t op, uint32_t phase, uint64_t st);
void args_entry(struct fbpf_args *a, const struct stat *st);
void args_cached_entry(struct fbpf_args *a, struct node *n);
int args_name(struct fbpf_args *a, const char *name);
/* fbpf_eval plus per-rule statistics. */
int eval(struct fs *fs, struct fbpf_args *a, int count_rename);
void apply_attr(const struct fbpf_args *a, struct stat *st);
/* 0 to go on, or the errno: the filter's, or the handler's answer. */
int decide(struct fs *fs, fuse_req_t req, const struct fbpf_args *a, struct node *dir, const char *leaf);
int defer_call(struct fs *fs, fuse_req_t req, const struct fbpf_args *a, struct node *dir, const char *leaf);

struct mapped {
	char stored[FBPF_NAME_MAX + 1];
	uint64_t state;
	int caller;
};
/* LOOKUP/PRE: shown name -> stored name and state. 0 or the errno that
 * op gives for a name nothing is shown under. */
int map_name(struct fs *fs, fuse_req_t req, struct node *p, const char *name, uint32_t op, uint32_t flags,
	     struct mapped *m);
/* op's pre-filter on a name in p (create, delete, rename). */
int name_filter(struct fs *fs, fuse_req_t req, struct node *p, const char *name, uint32_t op, uint32_t flags,
		const struct stat *st, int *caller);
/* op's pre-filter on the inode itself; st NULL: the last known attributes. */
int inode_filter(struct fs *fs, fuse_req_t req, struct node *n, uint32_t op, uint32_t flags,
		 const struct stat *st, int *caller);
/* READDIR/PRE on directory n, as inode_filter; *kids gets what the answer
 * promises about n's entries (FBPF_OUT_LIST_PLAIN, FBPF_OUT_KIDS_NO_ENTRY,
 * FBPF_OUT_KIDS_NO_CALLER), all of them when the view has no rules. */
int dir_filter(struct fs *fs, fuse_req_t req, struct node *n, uint32_t *kids);
/* The same promises about n, as an entry of each of its parents (all of
 * them must promise), 0 when n has no name left. */
uint32_t parent_kids(struct fs *fs, fuse_req_t req, struct node *n);
int inode_probe(struct fs *fs, fuse_req_t req, struct node *n, uint32_t op, const struct stat *st);
/* The same for GETATTR on a name of state `state` not yet in the table. */
int inode_probe_state(struct fs *fs, fuse_req_t req, uint64_t state, const struct stat *st);
/* GETATTR/POST: attribute rewrite. */
void attr_post(struct fs *fs, fuse_req_t req, struct node *n, struct stat *st, int *caller);

/* openat2 beneath the lower root: fd or -errno. */
int lower_open(struct fs *fs, const char *path, int flags, mode_t mode);

/* The lower directory holding n (or n itself + leaf) and the last name. */
struct loc {
	char path[PATH_MAX];
	const char *name;
	int dfd;
	int close;
};
int loc_open(struct fs *fs, struct node *n, const char *leaf, struct loc *l);
void loc_close(struct loc *l);
int node_stat(struct fs *fs, struct node *n, struct stat *st);
int node_opath(struct fs *fs, struct node *n, int *close_it);

#endif
