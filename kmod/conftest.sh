#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Print -DFBPF_HAVE_* for each VFS interface change found in the kernel
# headers under $1 (the kernel source or headers tree). Distribution kernels
# backport some of these, so the headers are asked, not the version number.

inc="$1/include/linux"

have() {
	# have HEADER PATTERN MACRO
	if grep -qsE -- "$2" "$inc/$1"; then
		printf ' -D%s' "$3"
	fi
}

have namei.h 'struct dentry \*start_creating\(' FBPF_HAVE_START_CREATING
have namei.h 'lookup_one\(struct mnt_idmap \*, struct qstr \*' FBPF_HAVE_LOOKUP_QSTR
have fs.h 'struct dentry \*vfs_mkdir\(' FBPF_HAVE_MKDIR_DENTRY
have fs.h 'struct delegated_inode \*\);' FBPF_HAVE_DELEG_STRUCT
have fs.h 'int vfs_rmdir\(struct mnt_idmap \*, struct inode \*, struct dentry \*\);' FBPF_HAVE_RMDIR_NODELEG
have fs.h 'int vfs_create\(struct mnt_idmap \*, struct dentry \*' FBPF_HAVE_CREATE_NODIR
have fs.h 'struct dentry \*old_parent;' FBPF_HAVE_RENAMEDATA_PARENT
have dcache.h 'int \(\*d_revalidate\)\(struct inode \*' FBPF_HAVE_REVALIDATE_DIR
# struct bpf_prog has its own "sleepable" bit (6.10), not prog->aux->sleepable
have bpf.h 'sleepable:1;[[:space:]]*/\* BPF program is sleepable' FBPF_HAVE_PROG_SLEEPABLE
have dcache.h 'void set_default_d_op' FBPF_HAVE_SET_DEFAULT_D_OP
have backing-file.h 'struct file \*user_file;' FBPF_HAVE_BF_CTX_USER_FILE
have backing-file.h 'backing_file_open\(const struct file \*' FBPF_HAVE_BF_OPEN_FILE
have backing-file.h 'backing_file_splice_read\(struct file \*in, struct kiocb' FBPF_HAVE_BF_SPLICE_KIOCB
have backing-file.h '\(\*end_write\)\(struct kiocb' FBPF_HAVE_BF_END_WRITE_KIOCB
# ->create() lost its "bool excl" argument (the declaration spans two lines)
if grep -sA1 'int (\*create) (' "$inc/fs.h" | grep -qs 'umode_t);'; then
	printf ' -D%s' FBPF_HAVE_CREATE_NOEXCL
fi
echo
