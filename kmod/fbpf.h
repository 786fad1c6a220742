/* SPDX-License-Identifier: GPL-2.0 */
/*
 * fbpf.ko: a stacked filesystem whose behaviour is a BPF struct_ops policy.
 *
 * Pieces:
 *   ops.c      the struct_ops type fbpf_ops and the registry of policies
 *   engine.c   how the filesystem calls the filters (docs: engine protocol)
 *   chan.c     /dev/fbpf, the channel that carries deferred operations
 *   super.c    the filesystem type, mount options, superblock
 *   inode.c    inodes, attributes, permission, xattrs, symlinks
 *   namei.c    lookup, revalidation and the operations that take a name
 *   readdir.c  directories
 *   file.c     regular files, through backing files
 */
#ifndef FBPF_H
#define FBPF_H

#undef pr_fmt
#define pr_fmt(fmt) "fbpf: " fmt

#include <linux/fs.h>
#include <linux/path.h>
#include <linux/rcupdate.h>
#include <linux/refcount.h>
#include <linux/kref.h>
#include <linux/list.h>
#include <linux/mount.h>
#include <linux/dcache.h>
#include <linux/namei.h>
#include <linux/slab.h>

#include "fbpf_abi.h"

#define FBPF_SUPER_MAGIC 0x46425046 /* "FBPF" */

/* ---- policies (ops.c) -------------------------------------------------- */

/*
 * A registered policy: one attached struct_ops map of type fbpf_ops. Mounts
 * hold a reference to this object, not to the BPF map; the map's kdata is
 * reached through @ops under RCU. When the map is detached @ops becomes NULL
 * and every later operation on the mount fails with FBPF_ERR_NO_DAEMON.
 */
struct fbpf_policy {
	struct list_head node;		/* fbpf_policies, while registered */
	refcount_t ref;
	struct fbpf_ops __rcu *ops;
	atomic_t gen;			/* bumped when @ops changes */
	char name[FBPF_POLICY_NAME_MAX + 1];
};

int fbpf_ops_register(void);
void fbpf_ops_unregister(void);
struct fbpf_policy *fbpf_policy_get(const char *name);
void fbpf_policy_put(struct fbpf_policy *pol);

/* ---- the defer channel (chan.c) ---------------------------------------- */

struct fbpf_chan;

int fbpf_chan_init(void);
void fbpf_chan_exit(void);
struct fbpf_chan *fbpf_chan_from_fd(int fd);
void fbpf_chan_put(struct fbpf_chan *chan);
int fbpf_chan_defer(struct fbpf_chan *chan, struct fbpf_kreq *req,
		    unsigned int timeout_ms);

/* ---- superblock and inodes --------------------------------------------- */

struct fbpf_sb {
	struct path lower;		/* the lower root */
	struct fbpf_policy *pol;
	struct fbpf_chan *chan;		/* NULL: every deferral fails */
	unsigned int timeout_ms;
	atomic_t gen;			/* bumped by directory renames */
	char *lowerdir;			/* as given, for /proc/mounts */
	char *ops_name;
	int chan_fd;
};

struct fbpf_list;

/* fbpf_inode.flags */
#define FBPF_I_CALLER	(1u << 0) /* an answer depended on the caller */
#define FBPF_I_REVAL	(1u << 1) /* re-run the lookup on every use (DEFER) */
#define FBPF_I_UNCHECKED (1u << 2) /* made or renamed through the view: the
					 lookup filters have not answered for
					 its name yet; re-run them once */

/*
 * @state, @flags and @gen are what the lookup filters answered for the
 * inode's name. A rename changes them under i_lock and bumps @moves, so that
 * a revalidation that ran the filters for the old name does not store its
 * answer over the new one.
 */
struct fbpf_inode {
	struct inode vfs_inode;
	struct path lower;		/* the lower entry this inode shows */
	u64 state;			/* match state, from lookup_pre */
	unsigned int flags;		/* FBPF_I_* */
	unsigned int gen;		/* fbpf_gen() when state was computed */
	unsigned int moves;		/* renames of this inode */
	struct fbpf_list *list;		/* a directory's kept listing (readdir.c) */
	/*
	 * Filters of operations on the inode itself that answered "nothing
	 * to do" (see fbpf_memo_hit()), for the key they answered: the
	 * policy generation, the inode's state and the lower entry's owner,
	 * group and mode. Under i_lock.
	 */
	u64 memo_state;
	unsigned int memo_gen;
	u32 memo_uid, memo_gid, memo_mode;
	u32 memo_bits;			/* FBPF_CB_BIT() of those filters, and
					   FBPF_MEMO_OPEN_WRITE */
	u32 memo_kids;			/* FBPF_OUT_PROMISES of READDIR/PRE */
};

/* The memo bit of OPEN/PRE with FBPF_IN_WRITE (the others are FBPF_CB_BIT). */
#define FBPF_MEMO_OPEN_WRITE (1u << (FBPF_OP_COUNT * 2))

static inline struct fbpf_sb *FBPF_SB(const struct super_block *sb)
{
	return sb->s_fs_info;
}

static inline struct fbpf_inode *FBPF_I(const struct inode *inode)
{
	return container_of(inode, struct fbpf_inode, vfs_inode);
}

static inline struct dentry *fbpf_lower_dentry(const struct inode *inode)
{
	return FBPF_I(inode)->lower.dentry;
}

static inline struct inode *fbpf_lower_inode(const struct inode *inode)
{
	return d_inode(FBPF_I(inode)->lower.dentry);
}

static inline struct mnt_idmap *fbpf_lower_idmap(const struct inode *inode)
{
	return mnt_idmap(FBPF_I(inode)->lower.mnt);
}

static inline bool fbpf_is_root(const struct inode *inode)
{
	return inode == d_inode(inode->i_sb->s_root);
}

/*
 * Generation of cached answers: any change of policy or a directory rename
 * makes every cached dentry re-run its filters once.
 */
static inline unsigned int fbpf_gen(const struct super_block *sb)
{
	return (unsigned int)atomic_read(&FBPF_SB(sb)->pol->gen) +
	       (unsigned int)atomic_read(&FBPF_SB(sb)->gen);
}

void fbpf_list_put(struct fbpf_list *l);

extern const struct inode_operations fbpf_dir_iops;
extern const struct inode_operations fbpf_file_iops;
extern const struct inode_operations fbpf_symlink_iops;
extern const struct inode_operations fbpf_special_iops;
extern const struct file_operations fbpf_dir_fops;
extern const struct file_operations fbpf_file_fops;
extern const struct address_space_operations fbpf_file_aops;
extern const struct dentry_operations fbpf_dops;
extern const struct xattr_handler * const fbpf_xattr_handlers[];

int fbpf_inode_cache_init(void);
void fbpf_inode_cache_exit(void);
struct inode *fbpf_alloc_inode(struct super_block *sb);
void fbpf_free_inode(struct inode *inode);
void fbpf_evict_inode(struct inode *inode);
struct inode *fbpf_new_inode(struct super_block *sb, const struct path *lower,
			     u64 state, unsigned int flags);
void fbpf_copyattr(struct inode *inode);
int fbpf_getattr(struct mnt_idmap *idmap, const struct path *path,
		 struct kstat *stat, u32 mask, unsigned int flags);
int fbpf_setattr(struct mnt_idmap *idmap, struct dentry *dentry,
		 struct iattr *attr);
int fbpf_permission(struct mnt_idmap *idmap, struct inode *inode, int mask);
ssize_t fbpf_listxattr(struct dentry *dentry, char *list, size_t size);

int fbpf_register_fs(void);
void fbpf_unregister_fs(void);

/* ---- the engine (engine.c) --------------------------------------------- */

int fbpf_engine_init(void);
void fbpf_engine_exit(void);

struct fbpf_args *fbpf_args_alloc(void);
void fbpf_args_free(struct fbpf_args *a);
void fbpf_args_init(struct fbpf_args *a, u64 dir_state, u32 flags);
int fbpf_args_name(struct fbpf_args *a, const struct qstr *name);
void fbpf_args_entry(struct fbpf_args *a, const struct path *lower);
bool fbpf_has_filter(struct super_block *sb, u32 op, u32 phase);
u32 fbpf_filters(struct super_block *sb, u32 op);
int fbpf_filter(struct super_block *sb, struct fbpf_args *a, u32 op, u32 phase);
int fbpf_verdict(struct super_block *sb, struct fbpf_args *a,
		 struct dentry *dentry, const struct qstr *name);
int fbpf_inode_op(struct inode *inode, struct dentry *dentry, u32 op,
		  u32 flags);
int fbpf_inode_op_kids(struct inode *inode, struct dentry *dentry, u32 op,
		       u32 flags, u32 *kids);
u32 fbpf_memo_bits(struct inode *inode, unsigned int gen, u32 *kids);
void fbpf_memo_store(struct inode *inode, const struct fbpf_args *a,
		     unsigned int gen);
void fbpf_apply_attr(const struct fbpf_args *a, struct kstat *stat);

/* The stored name a filter chose (or the shown name itself). */
static inline struct qstr fbpf_stored_name(const struct fbpf_args *a)
{
	if (a->out_flags & FBPF_OUT_NAME)
		return (struct qstr)QSTR_INIT(a->out_name, a->out_name_len);
	return (struct qstr)QSTR_INIT(a->name, a->name_len);
}

#endif /* FBPF_H */
