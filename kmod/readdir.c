// SPDX-License-Identifier: GPL-2.0
/*
 * Directories. Opening one for listing is the READDIR operation (its
 * pre-filter decides). A listing is read whole from the lower directory
 * when it starts (position 0), each entry goes through READDIR/POST (hidden
 * and eclipsed names are left out, renamed ones are shown renamed), and the
 * result is kept with the open file. So one caller's view never reaches
 * another through a shared cache, and positions stay stable while the
 * listing is read in pieces.
 */
#include "fbpf.h"
#include "compat.h"

#include <linux/file.h>
#include <linux/vmalloc.h>

struct fbpf_dirent {
	u64 ino;
	unsigned int type;
	unsigned int len;
	char name[];
};

struct fbpf_dir {
	struct file *realfile;
	struct fbpf_dirent **ents;
	size_t n, cap;
	bool filled;
};

struct fbpf_collect {
	struct dir_context ctx;
	struct fbpf_dir *od;
	size_t added;
	int err;
};

static void fbpf_dir_clear(struct fbpf_dir *od)
{
	size_t i;

	for (i = 0; i < od->n; i++)
		kfree(od->ents[i]);
	od->n = 0;
	od->filled = false;
}

static int fbpf_dir_add(struct fbpf_dir *od, const char *name, int len,
			u64 ino, unsigned int type)
{
	struct fbpf_dirent *e;

	if (od->n == od->cap) {
		size_t cap = od->cap ? od->cap * 2 : 64;
		struct fbpf_dirent **ents;

		ents = kvmalloc_array(cap, sizeof(*ents), GFP_KERNEL);
		if (!ents)
			return -ENOMEM;
		if (od->n)
			memcpy(ents, od->ents, od->n * sizeof(*ents));
		kvfree(od->ents);
		od->ents = ents;
		od->cap = cap;
	}
	e = kmalloc(struct_size(e, name, len + 1), GFP_KERNEL);
	if (!e)
		return -ENOMEM;
	e->ino = ino;
	e->type = type;
	e->len = len;
	memcpy(e->name, name, len);
	e->name[len] = '\0';
	od->ents[od->n++] = e;
	return 0;
}

static bool fbpf_collect_actor(struct dir_context *ctx, const char *name,
			       int len, loff_t pos, u64 ino, unsigned int type)
{
	struct fbpf_collect *c = container_of(ctx, struct fbpf_collect, ctx);

	if ((len == 1 && name[0] == '.') ||
	    (len == 2 && name[0] == '.' && name[1] == '.'))
		return true;
	c->err = fbpf_dir_add(c->od, name, len, ino, type);
	if (c->err)
		return false;
	c->added++;
	return true;
}

/*
 * Pass each stored entry through READDIR/POST: drop hidden ones, put the
 * shown name in place of the stored one.
 */
static int fbpf_dir_filter(struct file *file, struct fbpf_dir *od)
{
	struct inode *dir = file_inode(file);
	struct super_block *sb = dir->i_sb;
	struct fbpf_inode *fdir = FBPF_I(dir);
	struct mnt_idmap *idmap = mnt_idmap(fdir->lower.mnt);
	struct fbpf_args *a;
	size_t i, kept = 0;
	int err = 0;

	if (!fbpf_has_filter(sb, FBPF_OP_READDIR, FBPF_POST))
		return 0;
	a = fbpf_args_alloc();
	if (!a)
		return -ENOMEM;
	for (i = 0; i < od->n; i++) {
		struct fbpf_dirent *e = od->ents[i], *shown;
		struct qstr name = QSTR_INIT(e->name, e->len);
		struct dentry *lower;

		od->ents[i] = NULL;
		fbpf_args_init(a, READ_ONCE(fdir->state), 0);
		if (fbpf_args_name(a, &name)) {
			kfree(e);	/* a name the view cannot show */
			continue;
		}
		/* the entry's attributes, for conditions that read them */
		lower = fbpf_lookup_positive_unlocked(idmap, &name, fdir->lower.dentry);
		if (!IS_ERR(lower)) {
			struct path lp = { .mnt = fdir->lower.mnt, .dentry = lower };

			fbpf_args_entry(a, &lp);
			dput(lower);
		}
		fbpf_filter(sb, a, FBPF_OP_READDIR, FBPF_POST);
		if (a->verdict == FBPF_ERROR && a->err == FBPF_ERR_NO_DAEMON) {
			kfree(e);
			err = -FBPF_ERR_NO_DAEMON;
			continue;
		}
		if (a->out_flags & FBPF_OUT_HIDDEN) {
			kfree(e);
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
		od->ents[kept++] = e;
	}
	od->n = kept;
	fbpf_args_free(a);
	return err;
}

static int fbpf_dir_fill(struct file *file, struct fbpf_dir *od)
{
	struct fbpf_collect c = {
		.ctx.actor = fbpf_collect_actor,
		.od = od,
	};
	loff_t pos;
	int err;

	fbpf_dir_clear(od);
	pos = vfs_llseek(od->realfile, 0, SEEK_SET);
	if (pos < 0)
		return pos;
	do {
		c.added = 0;
		c.err = 0;
		err = iterate_dir(od->realfile, &c.ctx);
		if (!err)
			err = c.err;
	} while (!err && c.added);
	if (!err)
		err = fbpf_dir_filter(file, od);
	if (err) {
		fbpf_dir_clear(od);
		return err;
	}
	od->filled = true;
	return 0;
}

static int fbpf_iterate(struct file *file, struct dir_context *ctx)
{
	struct fbpf_dir *od = file->private_data;
	int err;

	if (ctx->pos == 0 || !od->filled) {
		err = fbpf_dir_fill(file, od);
		if (err)
			return err;
	}
	if (!dir_emit_dots(file, ctx))
		return 0;
	while (ctx->pos - 2 < od->n) {
		struct fbpf_dirent *e = od->ents[ctx->pos - 2];

		if (!dir_emit(ctx, e->name, e->len, e->ino, e->type))
			break;
		ctx->pos++;
	}
	return 0;
}

static int fbpf_dir_open(struct inode *inode, struct file *file)
{
	struct fbpf_inode *fi = FBPF_I(inode);
	struct fbpf_dir *od;
	struct file *realfile;
	int err;

	err = fbpf_inode_op(inode, file->f_path.dentry, FBPF_OP_READDIR, 0);
	if (err)
		return err;
	od = kzalloc(sizeof(*od), GFP_KERNEL);
	if (!od)
		return -ENOMEM;
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

static int fbpf_dir_release(struct inode *inode, struct file *file)
{
	struct fbpf_dir *od = file->private_data;

	fbpf_dir_clear(od);
	kvfree(od->ents);
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
	.llseek		= generic_file_llseek,
	.fsync		= fbpf_dir_fsync,
};
