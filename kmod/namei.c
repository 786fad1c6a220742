// SPDX-License-Identifier: GPL-2.0
/*
 * Names: lookup, dentry revalidation, and the operations that take a name
 * (create, mknod, mkdir, symlink, link, unlink, rmdir, rename).
 *
 * Every shown name is mapped to its stored name by a filter (LOOKUP/PRE, or
 * the operation's own pre-filter, which maps and decides at once). Hidden
 * names never reveal themselves: a lookup fails with ENOENT, while creating
 * one, or renaming onto one, fails with EACCES whether or not the lower
 * directory has it. For that, a lookup done for a create or a rename target
 * leaves a negative dentry instead of failing, and the operation decides.
 *
 * Caches: a dentry whose answers depended on the caller is re-checked (the
 * filters re-run) on every use; an entry renamed through the view is
 * re-checked once under its new name (only the rename filters saw it), and
 * so is every dentry after the policy is replaced or a directory is renamed.
 * A negative dentry is kept only when its answers did not depend on the
 * caller; it holds the lower negative dentry it found, and holds as long as
 * that one stays negative and hashed (a name made in the lower directory
 * turns it positive, or unhashes it) and the policy generation is the same.
 */
#include "fbpf.h"
#include "compat.h"

/*
 * The pre-filter for an operation on the name of @dentry in @dir: the
 * operation's own filter when the policy has one, else LOOKUP/PRE (which
 * maps the name only). Returns 0 to go on, with the stored name and the
 * name's state in @a, or a negative errno.
 */
static int fbpf_name_pre(struct inode *dir, struct dentry *dentry, u32 op,
			 u32 flags, const struct path *entry, struct fbpf_args *a)
{
	struct super_block *sb = dir->i_sb;
	int err;

	fbpf_args_init(a, READ_ONCE(FBPF_I(dir)->state), flags);
	err = fbpf_args_name(a, &dentry->d_name);
	if (err)
		return err;
	if (entry && op != FBPF_OP_CREATE)
		fbpf_args_entry(a, entry);
	if (fbpf_has_filter(sb, op, FBPF_PRE)) {
		fbpf_filter(sb, a, op, FBPF_PRE);
	} else {
		fbpf_filter(sb, a, FBPF_OP_LOOKUP, FBPF_PRE);
		/* no stored name shows as this one: creating it must not tell */
		if (a->verdict == FBPF_ERROR && (a->out_flags & FBPF_OUT_HIDDEN) &&
		    (op == FBPF_OP_CREATE ||
		     (op == FBPF_OP_RENAME && (flags & FBPF_IN_TARGET))))
			a->err = EACCES;
	}
	return fbpf_verdict(sb, a, dentry, NULL);
}

/* ---- lookup ------------------------------------------------------------ */

static struct dentry *fbpf_lookup(struct inode *dir, struct dentry *dentry,
			   unsigned int flags)
{
	struct super_block *sb = dir->i_sb;
	struct fbpf_inode *fdir = FBPF_I(dir);
	struct dentry *lower = NULL;
	unsigned int iflags = 0;
	struct fbpf_args *a;
	struct inode *inode;
	struct qstr stored;
	unsigned int gen;
	u64 state;
	int err;

	if (dentry->d_name.len > FBPF_NAME_MAX)
		return ERR_PTR(-ENAMETOOLONG);
	gen = fbpf_gen(sb);
	a = fbpf_args_alloc();
	if (!a)
		return ERR_PTR(-ENOMEM);

	/* 1. the shown name -> the stored name and the child's state */
	fbpf_args_init(a, READ_ONCE(fdir->state), 0);
	fbpf_args_name(a, &dentry->d_name);
	fbpf_filter(sb, a, FBPF_OP_LOOKUP, FBPF_PRE);
	if (a->out_flags & FBPF_OUT_CALLER)
		iflags |= FBPF_I_CALLER;
	if (a->verdict != FBPF_CONTINUE)
		goto refused;
	state = a->state;
	stored = fbpf_stored_name(a);

	/* 2. the lower entry, looked up as the caller */
	lower = fbpf_lookup_unlocked(mnt_idmap(fdir->lower.mnt), &stored,
				     fdir->lower.dentry);
	if (IS_ERR(lower)) {
		err = PTR_ERR(lower);
		lower = NULL;
		goto out_err;
	}

	/* 3. the lookup decides, with the entry when there is one */
	fbpf_args_init(a, state, 0);
	if (d_is_positive(lower)) {
		struct path lp = { .mnt = fdir->lower.mnt, .dentry = lower };

		fbpf_args_entry(a, &lp);
	}
	fbpf_filter(sb, a, FBPF_OP_LOOKUP, FBPF_POST);
	if (a->out_flags & FBPF_OUT_CALLER)
		iflags |= FBPF_I_CALLER;
	if (a->verdict == FBPF_ERROR)
		goto refused;
	if (a->verdict == FBPF_DEFER) {
		err = fbpf_verdict(sb, a, dentry, NULL);
		if (err)
			goto out_err;
		iflags |= FBPF_I_REVAL;	/* ask again on the next use */
	}
	fbpf_args_free(a);

	if (d_is_negative(lower)) {
		/*
		 * Keep the name's absence when no answer depended on the caller
		 * (fbpf_d_revalidate() checks the lower dentry), else ask again
		 * on the next use (fbpf_d_delete()).
		 */
		if (!iflags) {
			dentry->d_time = gen;
			WRITE_ONCE(dentry->d_fsdata, lower);
		} else {
			dput(lower);
		}
		return d_splice_alias(NULL, dentry);
	}
	{
		struct path lp = { .mnt = fdir->lower.mnt, .dentry = lower };

		inode = fbpf_new_inode(sb, &lp, state, iflags);
	}
	dput(lower);
	if (IS_ERR(inode))
		return ERR_CAST(inode);
	FBPF_I(inode)->gen = gen;
	return d_splice_alias(inode, dentry);

refused:
	/*
	 * A hidden name looked up to be created or renamed onto: leave a
	 * negative dentry, and let the operation's filter answer EACCES.
	 */
	if (a->verdict == FBPF_ERROR && a->err == ENOENT &&
	    (flags & (LOOKUP_CREATE | LOOKUP_RENAME_TARGET))) {
		dput(lower);
		fbpf_args_free(a);
		return d_splice_alias(NULL, dentry);
	}
	err = fbpf_verdict(sb, a, dentry, NULL);
	if (!err)
		err = -ENOENT;
out_err:
	dput(lower);
	fbpf_args_free(a);
	return ERR_PTR(err);
}

/* ---- revalidation ------------------------------------------------------ */

/* Re-run the lookup filters for a cached dentry: 1 if it still holds. */
static int fbpf_recheck(struct inode *dir, const struct qstr *name,
			struct inode *inode)
{
	struct super_block *sb = inode->i_sb;
	struct fbpf_inode *fi = FBPF_I(inode);
	struct dentry *lower = fi->lower.dentry;
	unsigned int gen = fbpf_gen(sb), iflags = 0, moves;
	struct fbpf_args *a;
	struct qstr stored;
	bool same;
	u64 state;
	int ret = 0;

	if (name->len > FBPF_NAME_MAX)
		return 0;
	spin_lock(&inode->i_lock);
	moves = fi->moves;
	spin_unlock(&inode->i_lock);
	a = fbpf_args_alloc();
	if (!a)
		return -ENOMEM;
	fbpf_args_init(a, READ_ONCE(FBPF_I(dir)->state), 0);
	fbpf_args_name(a, name);
	fbpf_filter(sb, a, FBPF_OP_LOOKUP, FBPF_PRE);
	if (a->out_flags & FBPF_OUT_CALLER)
		iflags |= FBPF_I_CALLER;
	if (a->verdict != FBPF_CONTINUE)
		goto out;
	stored = fbpf_stored_name(a);
	spin_lock(&lower->d_lock);
	same = lower->d_name.len == stored.len &&
	       !memcmp(lower->d_name.name, stored.name, stored.len);
	spin_unlock(&lower->d_lock);
	if (!same)
		goto out;

	state = a->state;
	fbpf_args_init(a, state, 0);
	fbpf_args_entry(a, &fi->lower);
	fbpf_filter(sb, a, FBPF_OP_LOOKUP, FBPF_POST);
	if (a->out_flags & FBPF_OUT_CALLER)
		iflags |= FBPF_I_CALLER;
	/* ERROR and DEFER: a fresh lookup gives the answer */
	if (a->verdict != FBPF_CONTINUE)
		goto out;
	/* renamed meanwhile: this answer was for the old name */
	spin_lock(&inode->i_lock);
	if (fi->moves == moves) {
		WRITE_ONCE(fi->state, state);
		WRITE_ONCE(fi->flags, iflags);
		WRITE_ONCE(fi->gen, gen);
		ret = 1;
	}
	spin_unlock(&inode->i_lock);
out:
	fbpf_args_free(a);
	return ret;
}

/*
 * A kept negative dentry (see fbpf_lookup()) holds while the lower negative
 * dentry it found is still negative and hashed in the same lower directory,
 * and the policy has not changed. Both dentries stay allocated under RCU.
 */
static int fbpf_revalidate_negative(struct dentry *dentry, unsigned int flags)
{
	struct dentry *lower = READ_ONCE(dentry->d_fsdata);
	struct dentry *parent;
	struct inode *dir;
	int ret;

	if (!lower || dentry->d_time != fbpf_gen(dentry->d_sb))
		return 0;
	if (d_is_positive(lower) || d_unhashed(lower))
		return 0;
	if (flags & LOOKUP_RCU) {
		parent = READ_ONCE(dentry->d_parent);
		dir = d_inode_rcu(parent);
		if (!dir)
			return -ECHILD;
		return READ_ONCE(lower->d_parent) ==
		       READ_ONCE(FBPF_I(dir)->lower.dentry);
	}
	parent = dget_parent(dentry);
	ret = READ_ONCE(lower->d_parent) == FBPF_I(d_inode(parent))->lower.dentry;
	dput(parent);
	return ret;
}

/* A dentry that turns positive drops the lower negative dentry it kept. */
static void fbpf_drop_negative(struct dentry *dentry)
{
	dput(xchg(&dentry->d_fsdata, NULL));
}

static int fbpf_d_revalidate(FBPF_REVALIDATE_ARGS)
{
	struct inode *inode = d_inode_rcu(dentry);
	struct fbpf_inode *fi;
	struct dentry *lower;
	bool fresh;
#ifndef FBPF_HAVE_REVALIDATE_DIR
	struct name_snapshot snap;
	int ret;
	struct dentry *parent;
	struct inode *dir;
#endif

	if (!inode)
		return fbpf_revalidate_negative(dentry, flags);
	fi = FBPF_I(inode);
	lower = READ_ONCE(fi->lower.dentry);
	if (!lower || d_unhashed(lower))
		return 0;	/* removed from the lower directory */
	fresh = !(READ_ONCE(fi->flags) &
		  (FBPF_I_CALLER | FBPF_I_REVAL | FBPF_I_UNCHECKED)) &&
		READ_ONCE(fi->gen) == fbpf_gen(inode->i_sb);

	if (flags & LOOKUP_RCU) {
#ifdef FBPF_HAVE_REVALIDATE_DIR
		struct dentry *ldir = READ_ONCE(FBPF_I(dir)->lower.dentry);
#else
		struct dentry *parent_rcu = READ_ONCE(dentry->d_parent);
		struct inode *dir_rcu = d_inode_rcu(parent_rcu);
		struct dentry *ldir = dir_rcu ? READ_ONCE(FBPF_I(dir_rcu)->lower.dentry) : NULL;
#endif
		if (!fresh || !ldir)
			return -ECHILD;
		return READ_ONCE(lower->d_parent) == ldir;
	}

#ifdef FBPF_HAVE_REVALIDATE_DIR
	if (READ_ONCE(lower->d_parent) != FBPF_I(dir)->lower.dentry)
		return 0;	/* moved in the lower directory */
	return fresh ? 1 : fbpf_recheck(dir, name, inode);
#else
	parent = dget_parent(dentry);
	dir = d_inode(parent);
	if (READ_ONCE(lower->d_parent) != FBPF_I(dir)->lower.dentry) {
		ret = 0;
	} else if (fresh) {
		ret = 1;
	} else {
		take_dentry_name_snapshot(&snap, dentry);
		ret = fbpf_recheck(dir, &snap.name, inode);
		release_dentry_name_snapshot(&snap);
	}
	dput(parent);
	return ret;
#endif
}

/* Negative dentries are kept only with their lower one (fbpf_lookup()). */
static int fbpf_d_delete(const struct dentry *dentry)
{
	return d_really_is_negative(dentry) && !READ_ONCE(dentry->d_fsdata);
}

static void fbpf_d_release(struct dentry *dentry)
{
	dput(dentry->d_fsdata);
}

const struct dentry_operations fbpf_dops = {
	.d_revalidate	= fbpf_d_revalidate,
	.d_delete	= fbpf_d_delete,
	.d_release	= fbpf_d_release,
};

/* ---- making new names -------------------------------------------------- */

struct fbpf_new {
	umode_t mode;		/* S_IFMT bits say what to make; 0 for a link */
	dev_t rdev;
	const char *target;	/* symlink */
	struct dentry *old;	/* link: the lower entry to link to */
};

/*
 * The lookup filters' answer for a name just made through the view, with the
 * new lower entry @lp, as the name's first lookup would get it (see
 * fbpf_recheck()). Only the create filter has seen the name, without the
 * entry; asking the lookup filters now, rather than on the name's next use,
 * keeps that use on the fast path. When they continue under the same stored
 * name, @state and @iflags are set to what they answered (a caller-dependent
 * answer is then re-checked on every use, as after any lookup); otherwise
 * the name stays unchecked and its next use asks again. @a holds the create
 * answer, which stands for LOOKUP/PRE's when @lookup_pre is set.
 */
static void fbpf_check_new(struct inode *dir, struct dentry *dentry,
			   const struct path *lp, struct fbpf_args *a,
			   bool lookup_pre, u64 *state, unsigned int *iflags)
{
	struct super_block *sb = dir->i_sb;
	struct dentry *child = lp->dentry;
	unsigned int flags = 0;
	u64 st;

	if (!lookup_pre) {
		fbpf_args_init(a, READ_ONCE(FBPF_I(dir)->state), 0);
		if (fbpf_args_name(a, &dentry->d_name))
			return;
		fbpf_filter(sb, a, FBPF_OP_LOOKUP, FBPF_PRE);
	}
	if (a->out_flags & FBPF_OUT_CALLER)
		flags |= FBPF_I_CALLER;
	if (a->verdict != FBPF_CONTINUE)
		return;
	{
		struct qstr stored = fbpf_stored_name(a);

		/* the lower parent is locked: the child's name is stable */
		if (stored.len != child->d_name.len ||
		    memcmp(stored.name, child->d_name.name, stored.len))
			return;
	}
	st = a->state;
	fbpf_args_init(a, st, 0);
	fbpf_args_entry(a, lp);
	fbpf_filter(sb, a, FBPF_OP_LOOKUP, FBPF_POST);
	if (a->out_flags & FBPF_OUT_CALLER)
		flags |= FBPF_I_CALLER;
	if (a->verdict != FBPF_CONTINUE)
		return;
	*state = st;
	*iflags = flags;
}

static int fbpf_make(struct inode *dir, struct dentry *dentry,
		     const struct fbpf_new *nw)
{
	struct super_block *sb = dir->i_sb;
	struct fbpf_inode *fdir = FBPF_I(dir);
	struct dentry *lparent = fdir->lower.dentry;
	struct mnt_idmap *idmap = mnt_idmap(fdir->lower.mnt);
	struct dentry *child;
	struct fbpf_args *a;
	struct inode *inode;
	struct qstr stored;
	unsigned int iflags, gen = fbpf_gen(sb);
	bool lookup_pre;
	u64 state;
	int err;

	a = fbpf_args_alloc();
	if (!a)
		return -ENOMEM;
	err = fbpf_name_pre(dir, dentry, FBPF_OP_CREATE, 0, NULL, a);
	if (err)
		goto out;
	/*
	 * A create answer maps the name exactly as LOOKUP/PRE does (same
	 * stored name, same state); when it continued without depending on
	 * the caller, it stands for LOOKUP/PRE's answer in fbpf_check_new().
	 * Without a create filter, LOOKUP/PRE is what ran.
	 */
	lookup_pre = !fbpf_has_filter(sb, FBPF_OP_CREATE, FBPF_PRE) ||
		     (a->verdict == FBPF_CONTINUE && !(a->out_flags & FBPF_OUT_CALLER));
	stored = fbpf_stored_name(a);
	/*
	 * Only the create filter has seen the name, without the entry: the
	 * lookup filters must answer for it before it is used (see
	 * fbpf_check_new()).
	 */
	state = a->state;
	iflags = FBPF_I_UNCHECKED;
	if (a->out_flags & FBPF_OUT_CALLER)
		iflags |= FBPF_I_CALLER;

	err = mnt_want_write(fdir->lower.mnt);
	if (err)
		goto out;
	child = fbpf_start_dirop(idmap, lparent, &stored, true);
	if (IS_ERR(child)) {
		err = PTR_ERR(child);
		goto out_drop;
	}
	if (d_is_positive(child)) {
		err = -EEXIST;
	} else if (nw->old) {
		err = fbpf_vfs_link(nw->old, idmap, d_inode(lparent), child);
	} else {
		switch (nw->mode & S_IFMT) {
		case S_IFDIR:
			child = fbpf_vfs_mkdir(idmap, lparent, child, nw->mode);
			if (IS_ERR(child)) {
				err = PTR_ERR(child);
				goto out_drop;	/* nothing is held */
			}
			break;
		case S_IFLNK:
			err = fbpf_vfs_symlink(idmap, d_inode(lparent), child,
					       nw->target);
			break;
		case S_IFREG:
			err = fbpf_vfs_create(idmap, d_inode(lparent), child,
					      nw->mode);
			break;
		default:
			err = fbpf_vfs_mknod(idmap, d_inode(lparent), child,
					     nw->mode, nw->rdev);
			break;
		}
	}
	if (!err) {
		struct path lp = { .mnt = fdir->lower.mnt, .dentry = child };

		fbpf_check_new(dir, dentry, &lp, a, lookup_pre, &state, &iflags);
		inode = fbpf_new_inode(sb, &lp, state, iflags);
		if (IS_ERR(inode)) {
			err = PTR_ERR(inode);
		} else {
			/* the answers are as old as the policy they came from */
			FBPF_I(inode)->gen = gen;
			fbpf_drop_negative(dentry);
			d_instantiate(dentry, inode);
			fbpf_copyattr(dir);
		}
	}
	fbpf_end_dirop(lparent, child);
out_drop:
	mnt_drop_write(fdir->lower.mnt);
out:
	fbpf_args_free(a);
	return err;
}

#ifdef FBPF_HAVE_CREATE_NOEXCL
static int fbpf_create(struct mnt_idmap *idmap, struct inode *dir,
		       struct dentry *dentry, umode_t mode)
#else
static int fbpf_create(struct mnt_idmap *idmap, struct inode *dir,
		       struct dentry *dentry, umode_t mode, bool excl)
#endif
{
	struct fbpf_new nw = { .mode = (mode & 07777) | S_IFREG };

	return fbpf_make(dir, dentry, &nw);
}

static int fbpf_mknod(struct mnt_idmap *idmap, struct inode *dir,
		      struct dentry *dentry, umode_t mode, dev_t rdev)
{
	struct fbpf_new nw = { .mode = mode, .rdev = rdev };

	if (S_ISDIR(mode) || S_ISLNK(mode) || !(mode & S_IFMT))
		nw.mode = (mode & 07777) | S_IFREG;
	return fbpf_make(dir, dentry, &nw);
}

static FBPF_MKDIR_RET fbpf_mkdir(struct mnt_idmap *idmap, struct inode *dir,
				 struct dentry *dentry, umode_t mode)
{
	struct fbpf_new nw = { .mode = (mode & 07777) | S_IFDIR };

	return FBPF_MKDIR_RETURN(fbpf_make(dir, dentry, &nw));
}

static int fbpf_symlink(struct mnt_idmap *idmap, struct inode *dir,
			struct dentry *dentry, const char *target)
{
	struct fbpf_new nw = { .mode = S_IFLNK | 0777, .target = target };

	return fbpf_make(dir, dentry, &nw);
}

static int fbpf_link(struct dentry *old, struct inode *dir, struct dentry *dentry)
{
	struct inode *inode = d_inode(old);
	struct fbpf_new nw = { .old = fbpf_lower_dentry(inode) };
	int err;

	err = fbpf_make(dir, dentry, &nw);
	if (!err)
		fbpf_copyattr(inode);
	return err;
}

/* ---- removing names ---------------------------------------------------- */

static int fbpf_remove(struct inode *dir, struct dentry *dentry, bool is_dir)
{
	struct inode *inode = d_inode(dentry);
	struct fbpf_inode *fi = FBPF_I(inode), *fdir = FBPF_I(dir);
	struct dentry *lparent = fdir->lower.dentry;
	struct mnt_idmap *idmap = mnt_idmap(fdir->lower.mnt);
	struct dentry *child;
	struct fbpf_args *a;
	struct qstr stored;
	int err;

	a = fbpf_args_alloc();
	if (!a)
		return -ENOMEM;
	err = fbpf_name_pre(dir, dentry, FBPF_OP_DELETE, 0, &fi->lower, a);
	if (err)
		goto out;
	stored = fbpf_stored_name(a);

	err = mnt_want_write(fdir->lower.mnt);
	if (err)
		goto out;
	child = fbpf_start_dirop(idmap, lparent, &stored, false);
	if (IS_ERR(child)) {
		err = PTR_ERR(child);
		goto out_drop;
	}
	if (child != fi->lower.dentry)
		err = -ESTALE;	/* the lower directory changed under us */
	else if (is_dir)
		err = fbpf_vfs_rmdir(idmap, d_inode(lparent), child);
	else
		err = fbpf_vfs_unlink(idmap, d_inode(lparent), child);
	if (!err) {
		if (is_dir)
			clear_nlink(inode);
		else
			fbpf_copyattr(inode);
		fbpf_copyattr(dir);
	}
	fbpf_end_dirop(lparent, child);
out_drop:
	mnt_drop_write(fdir->lower.mnt);
out:
	fbpf_args_free(a);
	return err;
}

static int fbpf_unlink(struct inode *dir, struct dentry *dentry)
{
	return fbpf_remove(dir, dentry, false);
}

static int fbpf_rmdir(struct inode *dir, struct dentry *dentry)
{
	return fbpf_remove(dir, dentry, true);
}

/* ---- rename ------------------------------------------------------------ */

/* Check the lower dentries found under the rename lock against ours. */
static int fbpf_rename_check(struct dentry *lold, struct dentry *lnew,
			     struct inode *oldi, struct inode *newi,
			     unsigned int flags)
{
	if (lold != fbpf_lower_dentry(oldi))
		return -ESTALE;
	if (newi)
		return lnew == fbpf_lower_dentry(newi) ? 0 : -ESTALE;
	if (d_is_positive(lnew))
		return (flags & RENAME_NOREPLACE) ? -EEXIST : -ESTALE;
	return (flags & RENAME_EXCHANGE) ? -ENOENT : 0;
}

static int fbpf_lower_rename(struct fbpf_inode *fold, struct fbpf_inode *fnew,
			     struct qstr *oldname, struct qstr *newname,
			     struct inode *oldi, struct inode *newi,
			     unsigned int flags)
{
	struct mnt_idmap *idmap = mnt_idmap(fold->lower.mnt);
	struct dentry *lodir = fold->lower.dentry, *lndir = fnew->lower.dentry;
	int err;
#ifdef FBPF_HAVE_RENAMEDATA_PARENT
	struct renamedata rd = {
		.mnt_idmap	= idmap,
		.old_parent	= lodir,
		.new_parent	= lndir,
		.flags		= flags,
	};

	err = start_renaming(&rd, 0, oldname, newname);
	if (err)
		return err;
	err = fbpf_rename_check(rd.old_dentry, rd.new_dentry, oldi, newi, flags);
	if (!err)
		err = vfs_rename(&rd);
	end_renaming(&rd);
	return err;
#else
	struct renamedata rd = {
		.old_mnt_idmap	= idmap,
		.old_dir	= d_inode(lodir),
		.new_mnt_idmap	= idmap,
		.new_dir	= d_inode(lndir),
		.flags		= flags,
	};
	struct dentry *trap, *lold, *lnew;

	trap = lock_rename(lndir, lodir);
	if (IS_ERR(trap))
		return PTR_ERR(trap);
	lold = lookup_one(idmap, oldname->name, lodir, oldname->len);
	err = PTR_ERR(lold);
	if (IS_ERR(lold))
		goto out_unlock;
	lnew = lookup_one(idmap, newname->name, lndir, newname->len);
	err = PTR_ERR(lnew);
	if (IS_ERR(lnew))
		goto out_dput_old;
	err = fbpf_rename_check(lold, lnew, oldi, newi, flags);
	if (!err && lold == trap)
		err = -EINVAL;
	if (!err && lnew == trap)
		err = (flags & RENAME_EXCHANGE) ? -EINVAL : -ENOTEMPTY;
	if (!err) {
		rd.old_dentry = lold;
		rd.new_dentry = lnew;
		err = vfs_rename(&rd);
	}
	dput(lnew);
out_dput_old:
	dput(lold);
out_unlock:
	unlock_rename(lndir, lodir);
	return err;
#endif
}

static void fbpf_moved(struct inode *inode, u64 state)
{
	struct fbpf_inode *fi = FBPF_I(inode);

	spin_lock(&inode->i_lock);
	WRITE_ONCE(fi->state, state);
	WRITE_ONCE(fi->flags, READ_ONCE(fi->flags) | FBPF_I_UNCHECKED);
	fi->moves++;
	spin_unlock(&inode->i_lock);
}

static int fbpf_rename(struct mnt_idmap *idmap, struct inode *olddir,
		       struct dentry *old, struct inode *newdir,
		       struct dentry *new, unsigned int flags)
{
	struct inode *oldi = d_inode(old), *newi = d_inode(new);
	struct fbpf_inode *fold = FBPF_I(olddir), *fnew = FBPF_I(newdir);
	struct fbpf_args *a1, *a2 = NULL;
	struct qstr oldname, newname;
	bool dirs;
	int err;

	if (flags & ~(RENAME_NOREPLACE | RENAME_EXCHANGE))
		return -EINVAL;
	a1 = fbpf_args_alloc();
	if (a1)
		a2 = fbpf_args_alloc();
	if (!a2) {
		err = -ENOMEM;
		goto out;
	}
	err = fbpf_name_pre(olddir, old, FBPF_OP_RENAME, 0,
			    &FBPF_I(oldi)->lower, a1);
	if (err)
		goto out;
	err = fbpf_name_pre(newdir, new, FBPF_OP_RENAME, FBPF_IN_TARGET,
			    newi ? &FBPF_I(newi)->lower : NULL, a2);
	if (err)
		goto out;
	oldname = fbpf_stored_name(a1);
	newname = fbpf_stored_name(a2);

	err = mnt_want_write(fold->lower.mnt);
	if (err)
		goto out;
	err = fbpf_lower_rename(fold, fnew, &oldname, &newname, oldi, newi, flags);
	mnt_drop_write(fold->lower.mnt);
	if (err)
		goto out;

	/*
	 * The moved inodes now sit at other paths, under names the lookup
	 * filters have not answered for (only the rename filters have): the
	 * next use of each runs them, and learns, among other things, whether
	 * the answer there depends on the caller.
	 */
	fbpf_moved(oldi, a2->state);
	if ((flags & RENAME_EXCHANGE) && newi)
		fbpf_moved(newi, a1->state);
	dirs = S_ISDIR(oldi->i_mode) ||
	       ((flags & RENAME_EXCHANGE) && newi && S_ISDIR(newi->i_mode));
	if (dirs)	/* and so do the entries below them */
		atomic_inc(&FBPF_SB(olddir->i_sb)->gen);
	if (newi && !(flags & RENAME_EXCHANGE)) {
		if (S_ISDIR(newi->i_mode))
			clear_nlink(newi);
		else
			fbpf_copyattr(newi);
	}
	fbpf_copyattr(olddir);
	if (newdir != olddir)
		fbpf_copyattr(newdir);
out:
	fbpf_args_free(a1);
	fbpf_args_free(a2);
	return err;
}

const struct inode_operations fbpf_dir_iops = {
	.lookup		= fbpf_lookup,
	.create		= fbpf_create,
	.mknod		= fbpf_mknod,
	.mkdir		= fbpf_mkdir,
	.symlink	= fbpf_symlink,
	.link		= fbpf_link,
	.unlink		= fbpf_unlink,
	.rmdir		= fbpf_rmdir,
	.rename		= fbpf_rename,
	.permission	= fbpf_permission,
	.getattr	= fbpf_getattr,
	.setattr	= fbpf_setattr,
	.listxattr	= fbpf_listxattr,
};
