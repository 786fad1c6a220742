// SPDX-License-Identifier: GPL-2.0
/*
 * The filesystem type "fbpf":
 *
 *   mount -t fbpf -o lowerdir=DIR,ops=NAME[,fd=N][,defer_timeout_ms=MS] none MNT
 *
 * lowerdir  the directory to show (resolved by the mounting process)
 * ops       the name of an attached fbpf_ops struct_ops map (the policy)
 * fd        an open /dev/fbpf in the mounting process: where deferred
 *           operations go. Without it every deferral fails with
 *           FBPF_ERR_NO_DAEMON.
 * defer_timeout_ms  how long a deferred operation waits for the daemon
 *           (default FBPF_DEFER_TIMEOUT_MS)
 */
#include "fbpf.h"
#include "compat.h"

#include <linux/fs_context.h>
#include <linux/fs_parser.h>
#include <linux/module.h>
#include <linux/seq_file.h>
#include <linux/statfs.h>

enum { Opt_lowerdir, Opt_ops, Opt_fd, Opt_timeout };

static const struct fs_parameter_spec fbpf_params[] = {
	fsparam_string("lowerdir", Opt_lowerdir),
	fsparam_string("ops", Opt_ops),
	fsparam_u32("fd", Opt_fd),
	fsparam_u32("defer_timeout_ms", Opt_timeout),
	{}
};

#define FBPF_TIMEOUT_MAX_MS (24u * 3600 * 1000)

static void fbpf_sb_free(struct fbpf_sb *sbi)
{
	if (!sbi)
		return;
	path_put(&sbi->lower);
	fbpf_policy_put(sbi->pol);
	fbpf_chan_put(sbi->chan);
	kfree(sbi->lowerdir);
	kfree(sbi->ops_name);
	kfree(sbi);
}

static int fbpf_statfs(struct dentry *dentry, struct kstatfs *buf)
{
	struct fbpf_sb *sbi = FBPF_SB(dentry->d_sb);
	int err;

	err = vfs_statfs(&sbi->lower, buf);
	if (!err)
		buf->f_type = FBPF_SUPER_MAGIC;
	return err;
}

static int fbpf_show_options(struct seq_file *m, struct dentry *root)
{
	struct fbpf_sb *sbi = FBPF_SB(root->d_sb);

	seq_show_option(m, "lowerdir", sbi->lowerdir);
	seq_show_option(m, "ops", sbi->ops_name);
	if (sbi->chan_fd >= 0)
		seq_printf(m, ",fd=%d", sbi->chan_fd);
	seq_printf(m, ",defer_timeout_ms=%u", sbi->timeout_ms);
	return 0;
}

static const struct super_operations fbpf_sops = {
	.alloc_inode	= fbpf_alloc_inode,
	.free_inode	= fbpf_free_inode,
	.evict_inode	= fbpf_evict_inode,
	.statfs		= fbpf_statfs,
	.show_options	= fbpf_show_options,
};

static int fbpf_fill_super(struct super_block *sb, struct fs_context *fc)
{
	struct fbpf_sb *sbi = sb->s_fs_info;
	struct super_block *lsb;
	struct inode *root;
	int err;

	if (!sbi->lowerdir)
		return invalfc(fc, "missing lowerdir=DIR: give the directory to show");
	if (!sbi->ops_name)
		return invalfc(fc, "missing ops=NAME: give the name of an attached fbpf_ops policy");

	err = kern_path(sbi->lowerdir, LOOKUP_FOLLOW | LOOKUP_DIRECTORY, &sbi->lower);
	if (err) {
		errorfc(fc, "lowerdir '%s' is not a directory that can be opened (%d)",
			sbi->lowerdir, err);
		return err;
	}
	lsb = sbi->lower.dentry->d_sb;
	sb->s_stack_depth = lsb->s_stack_depth + 1;
	if (sb->s_stack_depth > FILESYSTEM_MAX_STACK_DEPTH)
		return invalfc(fc, "lowerdir '%s' is already stacked too deep; use the directory below it",
			       sbi->lowerdir);

	sbi->pol = fbpf_policy_get(sbi->ops_name);
	if (!sbi->pol) {
		errorfc(fc, "no fbpf_ops policy named '%s' is attached: load and attach it first",
			sbi->ops_name);
		return -ENOENT;
	}
	if (sbi->chan_fd >= 0) {
		sbi->chan = fbpf_chan_from_fd(sbi->chan_fd);
		if (IS_ERR(sbi->chan)) {
			err = PTR_ERR(sbi->chan);
			sbi->chan = NULL;
			errorfc(fc, "fd=%d is not an open %s", sbi->chan_fd, FBPF_DEV_PATH);
			return err;
		}
	}

	sb->s_magic = FBPF_SUPER_MAGIC;
	sb->s_op = &fbpf_sops;
	sb->s_xattr = fbpf_xattr_handlers;
	sb->s_maxbytes = lsb->s_maxbytes;
	sb->s_time_gran = lsb->s_time_gran;
	/* the lower filesystem applies its default ACLs and the umask */
	sb->s_flags |= lsb->s_flags & SB_POSIXACL;
	fbpf_set_d_op(sb, &fbpf_dops);

	root = fbpf_new_inode(sb, &sbi->lower, FBPF_STATE_ROOT, 0);
	if (IS_ERR(root))
		return PTR_ERR(root);
	sb->s_root = d_make_root(root);
	if (!sb->s_root)
		return -ENOMEM;
	return 0;
}

static int fbpf_get_tree(struct fs_context *fc)
{
	return get_tree_nodev(fc, fbpf_fill_super);
}

static int fbpf_parse_param(struct fs_context *fc, struct fs_parameter *param)
{
	struct fbpf_sb *sbi = fc->s_fs_info;
	struct fs_parse_result result;
	int opt;

	opt = fs_parse(fc, fbpf_params, param, &result);
	if (opt < 0)
		return opt;
	switch (opt) {
	case Opt_lowerdir:
		kfree(sbi->lowerdir);
		sbi->lowerdir = param->string;
		param->string = NULL;
		break;
	case Opt_ops:
		if (strlen(param->string) > FBPF_POLICY_NAME_MAX)
			return invalfc(fc, "ops=%s: a policy name has at most %d characters",
				       param->string, FBPF_POLICY_NAME_MAX);
		kfree(sbi->ops_name);
		sbi->ops_name = param->string;
		param->string = NULL;
		break;
	case Opt_fd:
		if (result.uint_32 > INT_MAX)
			return invalfc(fc, "fd=%u is not a file descriptor", result.uint_32);
		sbi->chan_fd = result.uint_32;
		break;
	case Opt_timeout:
		if (result.uint_32 == 0 || result.uint_32 > FBPF_TIMEOUT_MAX_MS)
			return invalfc(fc, "defer_timeout_ms=%u: give 1 to %u milliseconds",
				       result.uint_32, FBPF_TIMEOUT_MAX_MS);
		sbi->timeout_ms = result.uint_32;
		break;
	}
	return 0;
}

static int fbpf_reconfigure(struct fs_context *fc)
{
	/* the options are fixed at mount time; remount only changes flags */
	sync_filesystem(fc->root->d_sb);
	return 0;
}

static void fbpf_free_fc(struct fs_context *fc)
{
	fbpf_sb_free(fc->s_fs_info);
}

static const struct fs_context_operations fbpf_context_ops = {
	.parse_param	= fbpf_parse_param,
	.get_tree	= fbpf_get_tree,
	.reconfigure	= fbpf_reconfigure,
	.free		= fbpf_free_fc,
};

static int fbpf_init_fs_context(struct fs_context *fc)
{
	struct fbpf_sb *sbi;

	sbi = kzalloc(sizeof(*sbi), GFP_KERNEL);
	if (!sbi)
		return -ENOMEM;
	sbi->chan_fd = -1;
	sbi->timeout_ms = FBPF_DEFER_TIMEOUT_MS;
	atomic_set(&sbi->gen, 0);
	fc->s_fs_info = sbi;
	fc->ops = &fbpf_context_ops;
	return 0;
}

static void fbpf_kill_sb(struct super_block *sb)
{
	struct fbpf_sb *sbi = sb->s_fs_info;

	kill_anon_super(sb);
	fbpf_sb_free(sbi);
}

static struct file_system_type fbpf_fs_type = {
	.owner			= THIS_MODULE,
	.name			= FBPF_FS_TYPE,
	.init_fs_context	= fbpf_init_fs_context,
	.parameters		= fbpf_params,
	.kill_sb		= fbpf_kill_sb,
};
MODULE_ALIAS_FS(FBPF_FS_TYPE);

int fbpf_register_fs(void)
{
	return register_filesystem(&fbpf_fs_type);
}

void fbpf_unregister_fs(void)
{
	unregister_filesystem(&fbpf_fs_type);
}
