// SPDX-License-Identifier: GPL-2.0
/*
 * Inodes: one per dentry, each showing one lower entry (a path) and keeping
 * the match state its lookup computed. Attributes are read from the lower
 * inode; the policy's attribute rewrites change only what getattr reports.
 *
 * Access: every lower operation runs with the caller's credentials (fbpf
 * never overrides them), and ->permission asks the lower inode, so the
 * caller gets exactly the access the lower filesystem gives them. Policy
 * rules come on top of that; they can only refuse.
 */
#include "fbpf.h"
#include "compat.h"

#include <linux/xattr.h>
#include <linux/stat.h>

static struct kmem_cache *fbpf_inode_cachep;

static void fbpf_inode_init_once(void *obj)
{
	struct fbpf_inode *fi = obj;

	inode_init_once(&fi->vfs_inode);
}

int fbpf_inode_cache_init(void)
{
	fbpf_inode_cachep = kmem_cache_create("fbpf_inode", sizeof(struct fbpf_inode), 0,
					      SLAB_RECLAIM_ACCOUNT | SLAB_ACCOUNT,
					      fbpf_inode_init_once);
	return fbpf_inode_cachep ? 0 : -ENOMEM;
}

void fbpf_inode_cache_exit(void)
{
	/* inodes are freed after an RCU grace period */
	rcu_barrier();
	kmem_cache_destroy(fbpf_inode_cachep);
}

struct inode *fbpf_alloc_inode(struct super_block *sb)
{
	struct fbpf_inode *fi = alloc_inode_sb(sb, fbpf_inode_cachep, GFP_KERNEL);

	if (!fi)
		return NULL;
	fi->lower.mnt = NULL;
	fi->lower.dentry = NULL;
	fi->state = FBPF_STATE_DEAD;
	fi->flags = 0;
	fi->gen = 0;
	fi->moves = 0;
	fi->memo_bits = 0;
	fi->list = NULL;
	return &fi->vfs_inode;
}

void fbpf_free_inode(struct inode *inode)
{
	kmem_cache_free(fbpf_inode_cachep, FBPF_I(inode));
}

void fbpf_evict_inode(struct inode *inode)
{
	struct fbpf_inode *fi = FBPF_I(inode);
	struct path lower = fi->lower;

	truncate_inode_pages_final(&inode->i_data);
	clear_inode(inode);
	fbpf_list_put(fi->list);
	fi->list = NULL;
	/* RCU walkers may still look at the inode: they see NULL */
	WRITE_ONCE(fi->lower.dentry, NULL);
	WRITE_ONCE(fi->lower.mnt, NULL);
	path_put(&lower);
}

/* Copy the lower inode's attributes (as the lower mount maps them). */
void fbpf_copyattr(struct inode *inode)
{
	struct fbpf_inode *fi = FBPF_I(inode);
	struct inode *li = d_inode(fi->lower.dentry);
	struct mnt_idmap *idmap = mnt_idmap(fi->lower.mnt);

	if (!li)
		return;
	inode->i_uid = vfsuid_into_kuid(i_uid_into_vfsuid(idmap, li));
	inode->i_gid = vfsgid_into_kgid(i_gid_into_vfsgid(idmap, li));
	inode->i_mode = li->i_mode;
	inode_set_atime_to_ts(inode, inode_get_atime(li));
	inode_set_mtime_to_ts(inode, inode_get_mtime(li));
	inode_set_ctime_to_ts(inode, inode_get_ctime(li));
	i_size_write(inode, i_size_read(li));
	set_nlink(inode, li->i_nlink);
	inode->i_blkbits = li->i_blkbits;
	/*
	 * S_NOSEC: writes go to the lower file, whose filesystem removes the
	 * setuid, setgid and capability bits it must (file_remove_privs() of
	 * the backing file). Without it, every write would first ask the
	 * lower file for its security.capability through the view's xattr
	 * handler, to remove them a second time through the view.
	 */
	inode_set_flags(inode, (li->i_flags & (S_SYNC | S_APPEND | S_IMMUTABLE)) |
			       (S_ISREG(li->i_mode) ? S_NOSEC : 0),
			S_SYNC | S_APPEND | S_IMMUTABLE | S_NOSEC);
}

struct inode *fbpf_new_inode(struct super_block *sb, const struct path *lower,
			     u64 state, unsigned int flags)
{
	struct inode *li = d_inode(lower->dentry);
	struct fbpf_inode *fi;
	struct inode *inode;

	if (!li)
		return ERR_PTR(-ENOENT);
	inode = new_inode(sb);
	if (!inode)
		return ERR_PTR(-ENOMEM);
	fi = FBPF_I(inode);
	fi->lower = *lower;
	path_get(&fi->lower);
	fi->state = state;
	fi->flags = flags;
	fi->gen = fbpf_gen(sb);

	inode->i_ino = li->i_ino;
	inode->i_mode = li->i_mode;
	/* our page cache is never used: data lives in the lower inode */
	inode->i_flags |= S_NOATIME | S_NOCMTIME;
	switch (li->i_mode & S_IFMT) {
	case S_IFREG:
		inode->i_op = &fbpf_file_iops;
		inode->i_fop = &fbpf_file_fops;
		inode->i_mapping->a_ops = &fbpf_file_aops;
		break;
	case S_IFDIR:
		inode->i_op = &fbpf_dir_iops;
		inode->i_fop = &fbpf_dir_fops;
		break;
	case S_IFLNK:
		inode->i_op = &fbpf_symlink_iops;
		break;
	default:
		inode->i_op = &fbpf_special_iops;
		init_special_inode(inode, li->i_mode, li->i_rdev);
		break;
	}
	fbpf_copyattr(inode);
	return inode;
}

/* ---- attributes -------------------------------------------------------- */

/* The VFS asks without the security check when it already did one. */
static int fbpf_lower_getattr(const struct path *path, struct kstat *stat,
			      u32 mask, unsigned int flags)
{
#ifdef AT_GETATTR_NOSEC
	if (flags & AT_GETATTR_NOSEC)
		return vfs_getattr_nosec(path, stat, mask, flags);
#endif
	return vfs_getattr(path, stat, mask, flags);
}

int fbpf_getattr(struct mnt_idmap *idmap, const struct path *path,
			struct kstat *stat, u32 mask, unsigned int flags)
{
	struct inode *inode = d_inode(path->dentry);
	struct super_block *sb = inode->i_sb;
	struct fbpf_inode *fi = FBPF_I(inode);
	struct fbpf_args *a = NULL;
	bool pre = false, post = false;
	unsigned int gen = 0;
	int err;

	if (!fbpf_is_root(inode)) {
		u32 filters = fbpf_filters(sb, FBPF_OP_GETATTR);

		pre = filters & (1u << FBPF_PRE);
		post = filters & (1u << FBPF_POST);
	}
	/* filters that are known to have nothing to say are not asked */
	if (pre || post) {
		u32 known;

		gen = fbpf_gen(sb);
		known = fbpf_memo_bits(inode, gen, NULL);
		if (known & FBPF_CB_BIT(FBPF_OP_GETATTR, FBPF_PRE))
			pre = false;
		if (known & FBPF_CB_BIT(FBPF_OP_GETATTR, FBPF_POST))
			post = false;
	}
	if (pre || post) {
		a = fbpf_args_alloc();
		if (!a)
			return -ENOMEM;
		fbpf_args_init(a, READ_ONCE(fi->state), 0);
		fbpf_args_entry(a, &fi->lower);
	}
	if (pre) {
		fbpf_filter(sb, a, FBPF_OP_GETATTR, FBPF_PRE);
		fbpf_memo_store(inode, a, gen);
		err = fbpf_verdict(sb, a, path->dentry, NULL);
		if (err)
			goto out;
	}
	err = fbpf_lower_getattr(&fi->lower, stat, mask, flags);
	if (err)
		goto out;
	if (post) {
		fbpf_filter(sb, a, FBPF_OP_GETATTR, FBPF_POST);
		fbpf_memo_store(inode, a, gen);
		err = fbpf_verdict(sb, a, path->dentry, NULL);
		if (err)
			goto out;
		fbpf_apply_attr(a, stat);
	}
	stat->dev = sb->s_dev;
out:
	fbpf_args_free(a);
	return err;
}

int fbpf_setattr(struct mnt_idmap *idmap, struct dentry *dentry,
			struct iattr *attr)
{
	struct inode *inode = d_inode(dentry);
	struct fbpf_inode *fi = FBPF_I(inode);
	struct dentry *lower = fi->lower.dentry;
	int err;

	err = setattr_prepare(&nop_mnt_idmap, dentry, attr);
	if (err)
		return err;
	/* open(O_TRUNC) was decided by the open filter (a write) */
	if (!(attr->ia_valid & ATTR_OPEN)) {
		err = fbpf_inode_op(inode, dentry, FBPF_OP_SETATTR, 0);
		if (err)
			return err;
	}
	/* the lower file system must not see our struct file */
	attr->ia_valid &= ~(ATTR_FILE | ATTR_OPEN);
	/*
	 * As in ovl_setattr(): setattr_prepare() has turned the kill bits into
	 * a mode for this inode; the lower notify_change() computes its own and
	 * BUGs on both (a chown of a setuid file, a write by a non-owner).
	 */
	if (attr->ia_valid & (ATTR_KILL_SUID | ATTR_KILL_SGID))
		attr->ia_valid &= ~ATTR_MODE;

	err = mnt_want_write(fi->lower.mnt);
	if (err)
		return err;
	inode_lock(d_inode(lower));
	err = notify_change(mnt_idmap(fi->lower.mnt), lower, attr, NULL);
	if (!err)
		fbpf_copyattr(inode);
	inode_unlock(d_inode(lower));
	mnt_drop_write(fi->lower.mnt);
	return err;
}

int fbpf_permission(struct mnt_idmap *idmap, struct inode *inode, int mask)
{
	struct fbpf_inode *fi = FBPF_I(inode);
	struct dentry *lower = READ_ONCE(fi->lower.dentry);
	struct vfsmount *mnt = READ_ONCE(fi->lower.mnt);
	struct inode *li = lower ? d_inode_rcu(lower) : NULL;

	if (!li || !mnt)
		return (mask & MAY_NOT_BLOCK) ? -ECHILD : -ESTALE;
	return inode_permission(mnt_idmap(mnt), li, mask);
}

/* ---- symlinks ---------------------------------------------------------- */

static const char *fbpf_get_link(struct dentry *dentry, struct inode *inode,
				 struct delayed_call *done)
{
	if (!dentry)
		return ERR_PTR(-ECHILD);
	return vfs_get_link(fbpf_lower_dentry(inode), done);
}

/* readlink(2) reads the target: the READ class. Following a link does not. */
static int fbpf_readlink(struct dentry *dentry, char __user *buf, int len)
{
	struct inode *inode = d_inode(dentry);
	int err;

	err = fbpf_inode_op(inode, dentry, FBPF_OP_READ, 0);
	if (err)
		return err;
	return vfs_readlink(fbpf_lower_dentry(inode), buf, len);
}

/* ---- extended attributes ----------------------------------------------- */

static int fbpf_xattr_get(const struct xattr_handler *handler,
			  struct dentry *dentry, struct inode *inode,
			  const char *name, void *buffer, size_t size)
{
	int err = fbpf_inode_op(inode, dentry, FBPF_OP_GETATTR, 0);

	if (err)
		return err;
	return vfs_getxattr(fbpf_lower_idmap(inode), fbpf_lower_dentry(inode),
			    name, buffer, size);
}

static int fbpf_xattr_set(const struct xattr_handler *handler,
			  struct mnt_idmap *idmap, struct dentry *dentry,
			  struct inode *inode, const char *name,
			  const void *value, size_t size, int flags)
{
	struct fbpf_inode *fi = FBPF_I(inode);
	int err = fbpf_inode_op(inode, dentry, FBPF_OP_SETATTR, 0);

	if (err)
		return err;
	err = mnt_want_write(fi->lower.mnt);
	if (err)
		return err;
	if (value)
		err = vfs_setxattr(mnt_idmap(fi->lower.mnt), fi->lower.dentry,
				   name, value, size, flags);
	else
		err = vfs_removexattr(mnt_idmap(fi->lower.mnt), fi->lower.dentry,
				      name);
	mnt_drop_write(fi->lower.mnt);
	fbpf_copyattr(inode);
	return err;
}

ssize_t fbpf_listxattr(struct dentry *dentry, char *list, size_t size)
{
	struct inode *inode = d_inode(dentry);
	int err = fbpf_inode_op(inode, dentry, FBPF_OP_GETATTR, 0);

	if (err)
		return err;
	return vfs_listxattr(fbpf_lower_dentry(inode), list, size);
}

/* Every name goes to the lower inode, as in overlayfs. */
static const struct xattr_handler fbpf_xattr_handler = {
	.prefix	= "",
	.get	= fbpf_xattr_get,
	.set	= fbpf_xattr_set,
};

const struct xattr_handler * const fbpf_xattr_handlers[] = {
	&fbpf_xattr_handler,
	NULL
};

const struct inode_operations fbpf_file_iops = {
	.permission	= fbpf_permission,
	.getattr	= fbpf_getattr,
	.setattr	= fbpf_setattr,
	.listxattr	= fbpf_listxattr,
};

const struct inode_operations fbpf_symlink_iops = {
	.get_link	= fbpf_get_link,
	.readlink	= fbpf_readlink,
	.getattr	= fbpf_getattr,
	.setattr	= fbpf_setattr,
	.listxattr	= fbpf_listxattr,
};

const struct inode_operations fbpf_special_iops = {
	.permission	= fbpf_permission,
	.getattr	= fbpf_getattr,
	.setattr	= fbpf_setattr,
	.listxattr	= fbpf_listxattr,
};
