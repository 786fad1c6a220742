// SPDX-License-Identifier: GPL-2.0
/*
 * Directories. Opening one for listing is the READDIR operation (its
 * pre-filter decides). How a listing is read depends on what READDIR/POST
 * can do to the directory's entries, which the open learns from the
 * READDIR/PRE answer's promises (FBPF_OUT_PROMISES):
 *
 *  - when its answers do not read the entries' attributes, and do not
 *    depend on the caller (or there are none: no READDIR/POST filter, or
 *    FBPF_OUT_LIST_PLAIN), the listing is the same for every caller. It is
 *    read whole, filtered, and kept with the directory's inode for the next
 *    opens, as long as the policy, the directory's state and the lower
 *    directory are unchanged: the lower directory must count its changes
 *    (i_version), so that none goes unnoticed, whether made through the
 *    view or not. A listing in which a rule decided is not kept (each
 *    listing counts its rules), nor is one whose answers turned out to
 *    depend on the caller;
 *  - when the lower directory does not count its changes, or the answers
 *    depend on the caller, but not on the entries' attributes: the lower
 *    listing is passed through at the lower positions (as overlayfs does
 *    for a directory that is not merged), each entry through READDIR/POST
 *    on its way (hidden ones left out, renamed ones shown renamed) unless
 *    the listing is plain. Nothing is kept;
 *  - otherwise the listing is read whole from the lower directory when it
 *    starts (position 0), each entry is looked up for its attributes and
 *    goes through READDIR/POST, and the result is kept with the open file
 *    only. The lookups cannot be done while the lower directory is being
 *    read (it is locked).
 *
 * A listing read whole keeps its positions stable while it is read in
 * pieces; one caller's view never reaches another.
 */
#include "fbpf.h"
#include "compat.h"

#include <linux/file.h>
#include <linux/iversion.h>
#include <linux/vmalloc.h>

struct fbpf_dirent {
	u64 ino;
	unsigned int type;
	unsigned int len;
	char name[];
};

/*
 * A listing read whole and filtered. One that every caller gets alike is
 * kept with the directory's inode (fbpf_inode.list) for the next opens, for
 * as long as its key holds: the policy generation, the directory's state
 * and the lower directory's change counter (i_version).
 */
struct fbpf_list {
	refcount_t ref;
	unsigned int gen;
	u64 state;
	u64 version;
	size_t n, cap;
	struct fbpf_dirent **ents;
};

enum fbpf_dir_mode {
	FBPF_DIR_PLAIN,		/* the lower listing as it is */
	FBPF_DIR_STREAM,	/* the lower listing through READDIR/POST */
	FBPF_DIR_SHARED,	/* read whole, kept with the directory */
	FBPF_DIR_BUFFER,	/* read whole, with the entries' attributes */
};

/* Longest listing kept with a directory. */
#define FBPF_LIST_KEEP_MAX 65536

struct fbpf_dir {
	struct file *realfile;
	enum fbpf_dir_mode mode;
	bool plain;			/* READDIR/POST leaves every entry as it is */
	struct fbpf_list *list;		/* SHARED and BUFFER, from position 0 */
};

struct fbpf_collect {
	struct dir_context ctx;
	struct fbpf_list *l;
	size_t added;
	int err;
};

void fbpf_list_put(struct fbpf_list *l)
{
	size_t i;

	if (!l || !refcount_dec_and_test(&l->ref))
		return;
	for (i = 0; i < l->n; i++)
		kfree(l->ents[i]);
	kvfree(l->ents);
	kfree(l);
}

static int fbpf_list_add(struct fbpf_list *l, const char *name, int len,
			 u64 ino, unsigned int type)
{
	struct fbpf_dirent *e;

	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		struct fbpf_dirent **ents;

		ents = kvmalloc_array(cap, sizeof(*ents), GFP_KERNEL);
		if (!ents)
			return -ENOMEM;
		if (l->n)
			memcpy(ents, l->ents, l->n * sizeof(*ents));
		kvfree(l->ents);
		l->ents = ents;
		l->cap = cap;
	}
	e = kmalloc(struct_size(e, name, len + 1), GFP_KERNEL);
	if (!e)
		return -ENOMEM;
	e->ino = ino;
	e->type = type;
	e->len = len;
	memcpy(e->name, name, len);
	e->name[len] = '\0';
	l->ents[l->n++] = e;
	return 0;
}

static bool fbpf_collect_actor(struct dir_context *ctx, const char *name,
			       int len, loff_t pos, u64 ino, unsigned int type)
{
	struct fbpf_collect *c = container_of(ctx, struct fbpf_collect, ctx);

	if ((len == 1 && name[0] == '.') ||
	    (len == 2 && name[0] == '.' && name[1] == '.'))
		return true;
	c->err = fbpf_list_add(c->l, name, len, ino, type);
	if (c->err)
		return false;
	c->added++;
	return true;
}

/*
 * READDIR/POST on the entry whose stored name @a holds: 1 to list it (as
 * a->out_name with FBPF_OUT_NAME), 0 to leave it out, -FBPF_ERR_NO_DAEMON
 * when the daemon that had to answer is gone.
 */
static int fbpf_list_entry(struct super_block *sb, struct fbpf_args *a)
{
	fbpf_filter(sb, a, FBPF_OP_READDIR, FBPF_POST);
	if (a->verdict == FBPF_ERROR && a->err == FBPF_ERR_NO_DAEMON)
		return -FBPF_ERR_NO_DAEMON;
	return !(a->out_flags & FBPF_OUT_HIDDEN);
}

/*
 * Pass each stored entry through READDIR/POST: drop hidden ones, put the
 * shown name in place of the stored one. With @entries, each entry is
 * looked up for its attributes first. *@same stays true only when every
 * answer was one that every caller gets, and that need not be counted again
 * (no rule decided).
 */
static int fbpf_list_filter(struct file *file, struct fbpf_list *l,
			    bool entries, bool *same)
{
	struct inode *dir = file_inode(file);
	struct super_block *sb = dir->i_sb;
	struct fbpf_inode *fdir = FBPF_I(dir);
	struct mnt_idmap *idmap = mnt_idmap(fdir->lower.mnt);
	struct fbpf_args *a;
	size_t i, kept = 0;
	int err = 0, r;

	if (!fbpf_has_filter(sb, FBPF_OP_READDIR, FBPF_POST))
		return 0;
	a = fbpf_args_alloc();
	if (!a)
		return -ENOMEM;
	for (i = 0; i < l->n; i++) {
		struct fbpf_dirent *e = l->ents[i], *shown;
		struct qstr name = QSTR_INIT(e->name, e->len);

		l->ents[i] = NULL;
		fbpf_args_init(a, l->state, 0);
		if (fbpf_args_name(a, &name)) {
			kfree(e);	/* a name the view cannot show */
			continue;
		}
		/* the entry's attributes, for conditions that read them */
		if (entries) {
			struct dentry *lower;

			lower = fbpf_lookup_positive_unlocked(idmap, &name,
							      fdir->lower.dentry);
			if (!IS_ERR(lower)) {
				struct path lp = { .mnt = fdir->lower.mnt,
						   .dentry = lower };

				fbpf_args_entry(a, &lp);
				dput(lower);
			}
		}
		r = fbpf_list_entry(sb, a);
		if (a->verdict != FBPF_CONTINUE || a->rule ||
		    (a->out_flags & FBPF_OUT_CALLER))
			*same = false;
		if (r <= 0) {
			kfree(e);
			if (r < 0)
				err = r;
			continue;
		}
		if ((a->out_flags & FBPF_OUT_NAME) &&
		    (a->out_name_len != e->len ||
		     memcmp(a->out_name, e->name, e->len))) {
			shown = kmalloc(struct_size(shown, name, a->out_name_len + 1),
					GFP_KERNEL);
			if (!shown) {
				kfree(e);
				err = -ENOMEM;
				continue;
			}
			shown->ino = e->ino;
			shown->type = e->type;
			shown->len = a->out_name_len;
			memcpy(shown->name, a->out_name, a->out_name_len + 1);
			kfree(e);
			e = shown;
		}
		l->ents[kept++] = e;
	}
	l->n = kept;
	fbpf_args_free(a);
	return err;
}

/* The listing kept with @dir, if it still holds for this key. */
static struct fbpf_list *fbpf_list_kept(struct inode *dir, unsigned int gen,
					u64 state, u64 version)
{
	struct fbpf_inode *fi = FBPF_I(dir);
	struct fbpf_list *l;

	spin_lock(&dir->i_lock);
	l = fi->list;
	if (l && l->gen == gen && l->state == state && l->version == version)
		refcount_inc(&l->ref);
	else
		l = NULL;
	spin_unlock(&dir->i_lock);
	return l;
}

static void fbpf_list_keep(struct inode *dir, struct fbpf_list *l)
{
	struct fbpf_inode *fi = FBPF_I(dir);
	struct fbpf_list *old;

	refcount_inc(&l->ref);
	spin_lock(&dir->i_lock);
	old = fi->list;
	fi->list = l;
	spin_unlock(&dir->i_lock);
	fbpf_list_put(old);
}

static int fbpf_dir_fill(struct file *file, struct fbpf_dir *od)
{
	struct inode *dir = file_inode(file);
	struct fbpf_inode *fi = FBPF_I(dir);
	struct fbpf_collect c = {
		.ctx.actor = fbpf_collect_actor,
	};
	bool same = od->mode == FBPF_DIR_SHARED;
	struct fbpf_list *l;
	loff_t pos;
	int err;

	fbpf_list_put(od->list);
	od->list = NULL;
	l = kzalloc(sizeof(*l), GFP_KERNEL);
	if (!l)
		return -ENOMEM;
	refcount_set(&l->ref, 1);
	/* the key is read before the listing: a change meanwhile changes it */
	l->gen = fbpf_gen(dir->i_sb);
	l->state = READ_ONCE(fi->state);
	if (same) {
		struct fbpf_list *kept;

		l->version = inode_query_iversion(d_inode(fi->lower.dentry));
		kept = fbpf_list_kept(dir, l->gen, l->state, l->version);
		if (kept) {
			kfree(l);
			od->list = kept;
			return 0;
		}
	}
	c.l = l;
	pos = vfs_llseek(od->realfile, 0, SEEK_SET);
	if (pos < 0) {
		err = pos;
		goto out_err;
	}
	do {
		c.added = 0;
		c.err = 0;
		err = iterate_dir(od->realfile, &c.ctx);
		if (!err)
			err = c.err;
	} while (!err && c.added);
	if (!err && !od->plain)
		err = fbpf_list_filter(file, l, od->mode == FBPF_DIR_BUFFER, &same);
	if (err)
		goto out_err;
	if (same && l->n <= FBPF_LIST_KEEP_MAX)
		fbpf_list_keep(dir, l);
	od->list = l;
	return 0;

out_err:
	fbpf_list_put(l);
	return err;
}

/* ---- passing the lower listing through ------------------------------- */

struct fbpf_pass {
	struct dir_context ctx;
	struct dir_context *caller;
	struct super_block *sb;
	struct fbpf_args *a;		/* NULL: no entry is filtered */
	u64 state;			/* the directory's */
	u64 parent_ino;
	int err;
};

static bool fbpf_pass_actor(struct dir_context *ctx, const char *name,
			    int len, loff_t pos, u64 ino, unsigned int type)
{
	struct fbpf_pass *p = container_of(ctx, struct fbpf_pass, ctx);
	struct fbpf_args *a = p->a;

	if (len == 1 && name[0] == '.')
		goto emit;
	if (len == 2 && name[0] == '.' && name[1] == '.') {
		/* the view's parent, which differs from the lower one at the root */
		ino = p->parent_ino;
		goto emit;
	}
	if (a) {
		struct qstr qname = QSTR_INIT(name, len);
		int r;

		fbpf_args_init(a, p->state, 0);
		if (fbpf_args_name(a, &qname))
			return true;	/* a name the view cannot show */
		r = fbpf_list_entry(p->sb, a);
		if (r < 0) {
			p->err = r;
			return false;
		}
		if (!r)
			return true;
		if (a->out_flags & FBPF_OUT_NAME) {
			name = a->out_name;
			len = a->out_name_len;
		}
	}
emit:
	return p->caller->actor(p->caller, name, len, pos, ino, type);
}

static int fbpf_iterate_lower(struct file *file, struct dir_context *ctx)
{
	struct fbpf_dir *od = file->private_data;
	struct inode *dir = file_inode(file);
	struct fbpf_pass p = {
		.ctx.actor = fbpf_pass_actor,
		.caller = ctx,
		.sb = dir->i_sb,
		.state = READ_ONCE(FBPF_I(dir)->state),
		.parent_ino = d_parent_ino(file->f_path.dentry),
	};
	int err;

	if (od->mode == FBPF_DIR_STREAM) {
		p.a = fbpf_args_alloc();
		if (!p.a)
			return -ENOMEM;
	}
	/* positions are the lower file's; fbpf_dir_llseek() keeps them equal */
	if (od->realfile->f_pos != ctx->pos) {
		loff_t pos = vfs_llseek(od->realfile, ctx->pos, SEEK_SET);

		if (pos < 0) {
			err = pos;
			goto out;
		}
	}
	p.ctx.pos = ctx->pos;
	err = iterate_dir(od->realfile, &p.ctx);
	ctx->pos = p.ctx.pos;
	if (!err)
		err = p.err;
out:
	fbpf_args_free(p.a);
	return err;
}

static int fbpf_iterate(struct file *file, struct dir_context *ctx)
{
	struct fbpf_dir *od = file->private_data;
	struct fbpf_list *l;
	int err;

	if (od->mode == FBPF_DIR_PLAIN || od->mode == FBPF_DIR_STREAM)
		return fbpf_iterate_lower(file, ctx);
	if (ctx->pos == 0 || !od->list) {
		err = fbpf_dir_fill(file, od);
		if (err)
			return err;
	}
	if (!dir_emit_dots(file, ctx))
		return 0;
	l = od->list;
	while (ctx->pos - 2 < l->n) {
		struct fbpf_dirent *e = l->ents[ctx->pos - 2];

		if (!dir_emit(ctx, e->name, e->len, e->ino, e->type))
			break;
		ctx->pos++;
	}
	return 0;
}

static int fbpf_dir_open(struct inode *inode, struct file *file)
{
	struct fbpf_inode *fi = FBPF_I(inode);
	bool post = fbpf_has_filter(inode->i_sb, FBPF_OP_READDIR, FBPF_POST);
	struct fbpf_dir *od;
	struct file *realfile;
	u32 kids = 0;
	int err;

	/* the promises matter only when there is a READDIR/POST to skip */
	err = fbpf_inode_op_kids(inode, file->f_path.dentry, FBPF_OP_READDIR,
				 0, post ? &kids : NULL);
	if (err)
		return err;
	if (!post)
		kids = FBPF_OUT_LIST_PLAIN;	/* no answer changes an entry */
	od = kzalloc(sizeof(*od), GFP_KERNEL);
	if (!od)
		return -ENOMEM;
	/*
	 * A listing is kept only when it is the same for every caller, and
	 * only of a lower directory that counts its changes (i_version), so
	 * that no change, through the view or not, goes unnoticed.
	 */
	od->plain = kids & FBPF_OUT_LIST_PLAIN;
	if (!od->plain && !(kids & FBPF_OUT_KIDS_NO_ENTRY))
		od->mode = FBPF_DIR_BUFFER;
	else if ((od->plain || (kids & FBPF_OUT_KIDS_NO_CALLER)) &&
		 IS_I_VERSION(d_inode(fi->lower.dentry)))
		od->mode = FBPF_DIR_SHARED;
	else if (od->plain)
		od->mode = FBPF_DIR_PLAIN;
	else
		od->mode = FBPF_DIR_STREAM;
	realfile = dentry_open(&fi->lower, O_RDONLY | O_DIRECTORY | O_LARGEFILE,
			       current_cred());
	if (IS_ERR(realfile)) {
		kfree(od);
		return PTR_ERR(realfile);
	}
	od->realfile = realfile;
	file->private_data = od;
	return 0;
}

/* Listings passed through keep the lower file's positions. */
static loff_t fbpf_dir_llseek(struct file *file, loff_t offset, int whence)
{
	struct fbpf_dir *od = file->private_data;
	struct inode *inode = file_inode(file);
	loff_t ret;

	if (od->mode == FBPF_DIR_SHARED || od->mode == FBPF_DIR_BUFFER)
		return generic_file_llseek(file, offset, whence);
	inode_lock(inode);
	od->realfile->f_pos = file->f_pos;
	ret = vfs_llseek(od->realfile, offset, whence);
	file->f_pos = od->realfile->f_pos;
	inode_unlock(inode);
	return ret;
}

static int fbpf_dir_release(struct inode *inode, struct file *file)
{
	struct fbpf_dir *od = file->private_data;

	fbpf_list_put(od->list);
	fput(od->realfile);
	kfree(od);
	return 0;
}

static int fbpf_dir_fsync(struct file *file, loff_t start, loff_t end,
			  int datasync)
{
	struct fbpf_dir *od = file->private_data;

	return vfs_fsync_range(od->realfile, start, end, datasync);
}

const struct file_operations fbpf_dir_fops = {
	.open		= fbpf_dir_open,
	.release	= fbpf_dir_release,
	.read		= generic_read_dir,
	.iterate_shared	= fbpf_iterate,
	.llseek		= fbpf_dir_llseek,
	.fsync		= fbpf_dir_fsync,
};
