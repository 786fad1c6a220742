/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The VFS interfaces fbpf uses, across the kernels it supports (6.9 and
 * later). Kbuild detects each interface change from the headers and defines
 * FBPF_HAVE_*; everything version-dependent is in this file.
 */
#ifndef FBPF_COMPAT_H
#define FBPF_COMPAT_H

#include <linux/fs.h>
#include <linux/namei.h>
#include <linux/backing-file.h>

/* ---- lookups ----------------------------------------------------------- */

static inline struct dentry *fbpf_lookup_unlocked(struct mnt_idmap *idmap,
						  struct qstr *name,
						  struct dentry *base)
{
#ifdef FBPF_HAVE_LOOKUP_QSTR
	return lookup_one_unlocked(idmap, name, base);
#else
	return lookup_one_unlocked(idmap, name->name, base, name->len);
#endif
}

static inline struct dentry *fbpf_lookup_positive_unlocked(struct mnt_idmap *idmap,
							   struct qstr *name,
							   struct dentry *base)
{
#ifdef FBPF_HAVE_LOOKUP_QSTR
	return lookup_one_positive_unlocked(idmap, name, base);
#else
	return lookup_one_positive_unlocked(idmap, name->name, base, name->len);
#endif
}

/*
 * Lock @parent and look up @name in it, for creating (the result may be
 * positive or negative) or removing (the result is positive). Finish with
 * fbpf_end_dirop(). On error nothing is held.
 */
static inline struct dentry *fbpf_start_dirop(struct mnt_idmap *idmap,
					      struct dentry *parent,
					      struct qstr *name, bool create)
{
#ifdef FBPF_HAVE_START_CREATING
	return create ? start_creating(idmap, parent, name) :
			start_removing(idmap, parent, name);
#else
	struct dentry *child;

	inode_lock_nested(d_inode(parent), I_MUTEX_PARENT);
	child = lookup_one(idmap, name->name, parent, name->len);
	if (!IS_ERR(child) && !create && d_is_negative(child)) {
		dput(child);
		child = ERR_PTR(-ENOENT);
	}
	if (IS_ERR(child))
		inode_unlock(d_inode(parent));
	return child;
#endif
}

static inline void fbpf_end_dirop(struct dentry *parent, struct dentry *child)
{
#ifdef FBPF_HAVE_START_CREATING
	end_creating(child);
#else
	if (!IS_ERR(child)) {
		dput(child);
		inode_unlock(d_inode(parent));
	}
#endif
}

/* ---- changes to the lower directory ------------------------------------ */

static inline int fbpf_vfs_create(struct mnt_idmap *idmap, struct inode *dir,
				  struct dentry *child, umode_t mode)
{
#ifdef FBPF_HAVE_CREATE_NODIR
	return vfs_create(idmap, child, mode, NULL);
#else
	return vfs_create(idmap, dir, child, mode, true);
#endif
}

/*
 * mkdir in a directory locked by fbpf_start_dirop(). Returns the new
 * directory's dentry, still locked (finish with fbpf_end_dirop()), or an
 * error, in which case nothing is held any more.
 */
static inline struct dentry *fbpf_vfs_mkdir(struct mnt_idmap *idmap,
					    struct dentry *parent,
					    struct dentry *child, umode_t mode)
{
#if defined(FBPF_HAVE_MKDIR_DENTRY) && defined(FBPF_HAVE_DELEG_STRUCT)
	return vfs_mkdir(idmap, d_inode(parent), child, mode, NULL);
#elif defined(FBPF_HAVE_MKDIR_DENTRY)
	return vfs_mkdir(idmap, d_inode(parent), child, mode);
#else
	int err = vfs_mkdir(idmap, d_inode(parent), child, mode);

	if (!err && (d_unhashed(child) || d_is_negative(child))) {
		struct dentry *again = lookup_one(idmap, child->d_name.name,
						  parent, child->d_name.len);

		dput(child);
		child = again;
		if (!IS_ERR(child) && d_is_negative(child)) {
			dput(child);
			child = ERR_PTR(-EIO);
		}
		if (IS_ERR(child)) {
			inode_unlock(d_inode(parent));
			return child;
		}
	}
	if (err) {
		fbpf_end_dirop(parent, child);
		return ERR_PTR(err);
	}
	return child;
#endif
}

static inline int fbpf_vfs_mknod(struct mnt_idmap *idmap, struct inode *dir,
				 struct dentry *child, umode_t mode, dev_t rdev)
{
#ifdef FBPF_HAVE_DELEG_STRUCT
	return vfs_mknod(idmap, dir, child, mode, rdev, NULL);
#else
	return vfs_mknod(idmap, dir, child, mode, rdev);
#endif
}

static inline int fbpf_vfs_symlink(struct mnt_idmap *idmap, struct inode *dir,
				   struct dentry *child, const char *target)
{
#ifdef FBPF_HAVE_DELEG_STRUCT
	return vfs_symlink(idmap, dir, child, target, NULL);
#else
	return vfs_symlink(idmap, dir, child, target);
#endif
}

static inline int fbpf_vfs_link(struct dentry *old, struct mnt_idmap *idmap,
				struct inode *dir, struct dentry *child)
{
	return vfs_link(old, idmap, dir, child, NULL);
}

static inline int fbpf_vfs_unlink(struct mnt_idmap *idmap, struct inode *dir,
				  struct dentry *child)
{
	return vfs_unlink(idmap, dir, child, NULL);
}

static inline int fbpf_vfs_rmdir(struct mnt_idmap *idmap, struct inode *dir,
				 struct dentry *child)
{
#ifdef FBPF_HAVE_RMDIR_NODELEG
	return vfs_rmdir(idmap, dir, child);
#else
	return vfs_rmdir(idmap, dir, child, NULL);
#endif
}

/* ---- dentry operations ------------------------------------------------- */

#ifdef FBPF_HAVE_REVALIDATE_DIR
#define FBPF_REVALIDATE_ARGS struct inode *dir, const struct qstr *name, \
			     struct dentry *dentry, unsigned int flags
#else
#define FBPF_REVALIDATE_ARGS struct dentry *dentry, unsigned int flags
#endif

static inline void fbpf_set_d_op(struct super_block *sb,
				 const struct dentry_operations *dops)
{
#ifdef FBPF_HAVE_SET_DEFAULT_D_OP
	set_default_d_op(sb, dops);
#else
	sb->s_d_op = dops;
#endif
}

#ifdef FBPF_HAVE_MKDIR_DENTRY
#define FBPF_MKDIR_RET struct dentry *
#define FBPF_MKDIR_RETURN(err) ERR_PTR(err)
#else
#define FBPF_MKDIR_RET int
#define FBPF_MKDIR_RETURN(err) (err)
#endif

/* ---- backing files ----------------------------------------------------- */

static inline struct file *fbpf_backing_open(struct file *user_file, int flags,
					     const struct path *real_path)
{
#ifdef FBPF_HAVE_BF_OPEN_FILE
	return backing_file_open(user_file, flags, real_path, current_cred());
#else
	return backing_file_open(&user_file->f_path, flags, real_path,
				 current_cred());
#endif
}

#ifdef FBPF_HAVE_BF_CTX_USER_FILE
#define FBPF_BF_USER_FILE(f) .user_file = (f),
#else
#define FBPF_BF_USER_FILE(f)
#endif

#endif /* FBPF_COMPAT_H */
