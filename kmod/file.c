// SPDX-License-Identifier: GPL-2.0
/*
 * Regular files. Opening one opens the lower file as a backing file (as
 * overlayfs and FUSE passthrough do); reads, writes, splices and mappings go
 * to it through the backing_file_* helpers, with the opener's credentials,
 * at the lower filesystem's speed. The policy's OPEN, READ and WRITE
 * pre-filters run when the policy has them.
 */
#include "fbpf.h"
#include "compat.h"

#include <linux/file.h>
#include <linux/fs_stack.h>
#include <linux/mm.h>
#include <linux/splice.h>
#include <linux/uio.h>

static struct file *fbpf_real(struct file *file)
{
	return file->private_data;
}

/* The lower file changed: take its size and times. */
static void fbpf_file_modified(struct file *file)
{
	fbpf_copyattr(file_inode(file));
}

#ifdef FBPF_HAVE_BF_END_WRITE_KIOCB
static void fbpf_end_write(struct kiocb *iocb, ssize_t ret)
{
	fbpf_file_modified(iocb->ki_filp);
}
#else
static void fbpf_end_write(struct file *file, loff_t pos, ssize_t ret)
{
	fbpf_file_modified(file);
}
#endif

static void fbpf_accessed(struct file *file)
{
	/* the lower file system keeps the access time */
}

static int fbpf_open(struct inode *inode, struct file *file)
{
	struct fbpf_inode *fi = FBPF_I(inode);
	struct file *realfile;
	int flags, err;

	/* creat() of a new name was the CREATE operation; nothing to open */
	if (!(file->f_mode & FMODE_CREATED)) {
		u32 in = 0;

		if ((file->f_mode & FMODE_WRITE) || (file->f_flags & O_TRUNC))
			in |= FBPF_IN_WRITE;
		err = fbpf_inode_op(inode, file->f_path.dentry, FBPF_OP_OPEN, in);
		if (err)
			return err;
	}
	/* truncation was done by the VFS through ->setattr */
	flags = file->f_flags & ~(O_CREAT | O_EXCL | O_NOCTTY | O_TRUNC);
	realfile = fbpf_backing_open(file, flags, &fi->lower);
	if (IS_ERR(realfile))
		return PTR_ERR(realfile);
	file->private_data = realfile;
	return 0;
}

static int fbpf_release(struct inode *inode, struct file *file)
{
	fput(fbpf_real(file));
	return 0;
}

static ssize_t fbpf_read_iter(struct kiocb *iocb, struct iov_iter *iter)
{
	struct file *file = iocb->ki_filp;
	struct backing_file_ctx ctx = {
		.cred = file->f_cred,
		FBPF_BF_USER_FILE(file)
		.accessed = fbpf_accessed,
	};
	int err;

	if (!iov_iter_count(iter))
		return 0;
	err = fbpf_inode_op(file_inode(file), file->f_path.dentry, FBPF_OP_READ, 0);
	if (err)
		return err;
	return backing_file_read_iter(fbpf_real(file), iter, iocb,
				      iocb->ki_flags, &ctx);
}

static ssize_t fbpf_write_iter(struct kiocb *iocb, struct iov_iter *iter)
{
	struct file *file = iocb->ki_filp;
	struct inode *inode = file_inode(file);
	struct backing_file_ctx ctx = {
		.cred = file->f_cred,
		FBPF_BF_USER_FILE(file)
		.end_write = fbpf_end_write,
	};
	int ifl = iocb->ki_flags;
	ssize_t ret;

	if (!iov_iter_count(iter))
		return 0;
	ret = fbpf_inode_op(inode, file->f_path.dentry, FBPF_OP_WRITE, 0);
	if (ret)
		return ret;
#ifdef IOCB_DIO_CALLER_COMP
	/* deferred completions are not passed down */
	ifl &= ~IOCB_DIO_CALLER_COMP;
#endif
	inode_lock(inode);
	ret = backing_file_write_iter(fbpf_real(file), iter, iocb, ifl, &ctx);
	inode_unlock(inode);
	return ret;
}

static ssize_t fbpf_splice_read(struct file *in, loff_t *ppos,
				struct pipe_inode_info *pipe, size_t len,
				unsigned int flags)
{
	struct backing_file_ctx ctx = {
		.cred = in->f_cred,
		FBPF_BF_USER_FILE(in)
		.accessed = fbpf_accessed,
	};
	ssize_t ret;
#ifdef FBPF_HAVE_BF_SPLICE_KIOCB
	struct kiocb iocb;
#endif

	ret = fbpf_inode_op(file_inode(in), in->f_path.dentry, FBPF_OP_READ, 0);
	if (ret)
		return ret;
#ifdef FBPF_HAVE_BF_SPLICE_KIOCB
	init_sync_kiocb(&iocb, in);
	iocb.ki_pos = *ppos;
	ret = backing_file_splice_read(fbpf_real(in), &iocb, pipe, len, flags, &ctx);
	*ppos = iocb.ki_pos;
#else
	ret = backing_file_splice_read(fbpf_real(in), ppos, pipe, len, flags, &ctx);
#endif
	return ret;
}

static ssize_t fbpf_splice_write(struct pipe_inode_info *pipe, struct file *out,
				 loff_t *ppos, size_t len, unsigned int flags)
{
	struct inode *inode = file_inode(out);
	struct backing_file_ctx ctx = {
		.cred = out->f_cred,
		FBPF_BF_USER_FILE(out)
		.end_write = fbpf_end_write,
	};
	ssize_t ret;
#ifdef FBPF_HAVE_BF_SPLICE_KIOCB
	struct kiocb iocb;
#endif

	ret = fbpf_inode_op(inode, out->f_path.dentry, FBPF_OP_WRITE, 0);
	if (ret)
		return ret;
	inode_lock(inode);
#ifdef FBPF_HAVE_BF_SPLICE_KIOCB
	init_sync_kiocb(&iocb, out);
	iocb.ki_pos = *ppos;
	ret = backing_file_splice_write(pipe, fbpf_real(out), &iocb, len, flags, &ctx);
	*ppos = iocb.ki_pos;
#else
	ret = backing_file_splice_write(pipe, fbpf_real(out), ppos, len, flags, &ctx);
#endif
	inode_unlock(inode);
	return ret;
}

/* Mapping a file reads it (reading a mapped page is READ). */
static int fbpf_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct backing_file_ctx ctx = {
		.cred = file->f_cred,
		FBPF_BF_USER_FILE(file)
		.accessed = fbpf_accessed,
	};
	int err;

	err = fbpf_inode_op(file_inode(file), file->f_path.dentry, FBPF_OP_READ, 0);
	if (err)
		return err;
	return backing_file_mmap(fbpf_real(file), vma, &ctx);
}

static loff_t fbpf_llseek(struct file *file, loff_t offset, int whence)
{
	struct inode *inode = file_inode(file);
	struct file *realfile = fbpf_real(file);
	loff_t ret;

	if (offset == 0) {
		if (whence == SEEK_CUR)
			return file->f_pos;
		if (whence == SEEK_SET)
			return vfs_setpos(file, 0, 0);
	}
	/* the lower file knows holes, data and its own size limits */
	inode_lock(inode);
	realfile->f_pos = file->f_pos;
	ret = vfs_llseek(realfile, offset, whence);
	file->f_pos = realfile->f_pos;
	inode_unlock(inode);
	return ret;
}

static int fbpf_fsync(struct file *file, loff_t start, loff_t end, int datasync)
{
	return vfs_fsync_range(fbpf_real(file), start, end, datasync);
}

static long fbpf_fallocate(struct file *file, int mode, loff_t offset, loff_t len)
{
	struct inode *inode = file_inode(file);
	long ret;

	ret = fbpf_inode_op(inode, file->f_path.dentry, FBPF_OP_WRITE, 0);
	if (ret)
		return ret;
	inode_lock(inode);
	ret = vfs_fallocate(fbpf_real(file), mode, offset, len);
	fbpf_file_modified(file);
	inode_unlock(inode);
	return ret;
}

static int fbpf_flush(struct file *file, fl_owner_t id)
{
	struct file *realfile = fbpf_real(file);

	if (realfile->f_op->flush)
		return realfile->f_op->flush(realfile, id);
	return 0;
}

const struct file_operations fbpf_file_fops = {
	.open		= fbpf_open,
	.release	= fbpf_release,
	.llseek		= fbpf_llseek,
	.read_iter	= fbpf_read_iter,
	.write_iter	= fbpf_write_iter,
	.splice_read	= fbpf_splice_read,
	.splice_write	= fbpf_splice_write,
	.mmap		= fbpf_mmap,
	.fsync		= fbpf_fsync,
	.fallocate	= fbpf_fallocate,
	.flush		= fbpf_flush,
};

/*
 * dentry_open() allows O_DIRECT only when a_ops->direct_IO is set; the
 * backing file does the real direct I/O.
 */
const struct address_space_operations fbpf_file_aops = {
	.direct_IO	= noop_direct_IO,
};
