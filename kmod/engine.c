// SPDX-License-Identifier: GPL-2.0
/*
 * How the filesystem calls the filters: the engine protocol shared with FUSE
 * mode (docs/design.md, and the walk of compiler/cmd_explain.c).
 *
 * The argument block is allocated from a slab cache, so the programs get a
 * real kernel pointer they can copy with bpf_probe_read_kernel(). A filter
 * runs under rcu_read_lock(), which keeps the struct_ops map alive while it
 * runs, and with preemption disabled, which keeps its per-CPU working copy of
 * the arguments its own; nothing here sleeps inside that section.
 */
#include "fbpf.h"

#include <linux/cred.h>
#include <linux/preempt.h>
#include <linux/sched.h>
#include <linux/uidgid.h>

static struct kmem_cache *fbpf_args_cache;

typedef int (*fbpf_filter_fn)(struct fbpf_args *args);

static fbpf_filter_fn fbpf_member(const struct fbpf_ops *ops, u32 op, u32 phase)
{
	switch (op) {
#define FBPF_MEMBER(n, opnum)						\
	case opnum:							\
		return phase ? READ_ONCE(ops->n##_post) : READ_ONCE(ops->n##_pre);
	FBPF_FOR_EACH_OP(FBPF_MEMBER)
#undef FBPF_MEMBER
	}
	return NULL;
}

int fbpf_engine_init(void)
{
	fbpf_args_cache = kmem_cache_create("fbpf_args", sizeof(struct fbpf_args),
					    0, SLAB_ACCOUNT, NULL);
	return fbpf_args_cache ? 0 : -ENOMEM;
}

void fbpf_engine_exit(void)
{
	kmem_cache_destroy(fbpf_args_cache);
}

struct fbpf_args *fbpf_args_alloc(void)
{
	return kmem_cache_alloc(fbpf_args_cache, GFP_KERNEL);
}

void fbpf_args_free(struct fbpf_args *a)
{
	if (a)
		kmem_cache_free(fbpf_args_cache, a);
}

/* Inputs for an operation by the current task. */
void fbpf_args_init(struct fbpf_args *a, u64 dir_state, u32 flags)
{
	a->op = 0;
	a->phase = 0;
	a->flags = flags;
	a->uid = from_kuid_munged(&init_user_ns, current_fsuid());
	a->gid = from_kgid_munged(&init_user_ns, current_fsgid());
	a->pid = task_tgid_nr(current);
	a->e_uid = 0;
	a->e_gid = 0;
	a->e_mode = 0;
	a->name_len = 0;
	a->name[0] = '\0';
	a->dir_state = dir_state;
}

int fbpf_args_name(struct fbpf_args *a, const struct qstr *name)
{
	if (name->len > FBPF_NAME_MAX)
		return -ENAMETOOLONG;
	memcpy(a->name, name->name, name->len);
	memset(a->name + name->len, 0, sizeof(a->name) - name->len);
	a->name_len = name->len;
	return 0;
}

/* The lower entry's owner, group and mode, as the lower mount shows them. */
void fbpf_args_entry(struct fbpf_args *a, const struct path *lower)
{
	struct inode *inode = d_inode(lower->dentry);
	struct mnt_idmap *idmap = mnt_idmap(lower->mnt);

	if (!inode)
		return;
	a->flags |= FBPF_IN_ENTRY;
	a->e_uid = from_kuid_munged(&init_user_ns,
				    vfsuid_into_kuid(i_uid_into_vfsuid(idmap, inode)));
	a->e_gid = from_kgid_munged(&init_user_ns,
				    vfsgid_into_kgid(i_gid_into_vfsgid(idmap, inode)));
	a->e_mode = inode->i_mode;
}

/*
 * Whether the filter must be called. A detached policy counts as present,
 * so that the call reports FBPF_ERR_NO_DAEMON.
 */
bool fbpf_has_filter(struct super_block *sb, u32 op, u32 phase)
{
	struct fbpf_ops *ops;
	bool ret;

	rcu_read_lock();
	ops = rcu_dereference(FBPF_SB(sb)->pol->ops);
	ret = !ops || fbpf_member(ops, op, phase);
	rcu_read_unlock();
	return ret;
}

static bool fbpf_name_valid(const char *name, u32 len)
{
	if (len == 0 || len > FBPF_NAME_MAX)
		return false;
	if (memchr(name, '/', len) || memchr(name, '\0', len))
		return false;
	return !(name[0] == '.' && (len == 1 || (len == 2 && name[1] == '.')));
}

/*
 * Run filter (op, phase) on @a. A missing filter continues. Returns the
 * verdict; the outputs are checked, so callers can trust them.
 */
int fbpf_filter(struct super_block *sb, struct fbpf_args *a, u32 op, u32 phase)
{
	struct fbpf_ops *ops;
	fbpf_filter_fn fn = NULL;
	int ret = FBPF_CONTINUE;

	a->op = op;
	a->phase = phase;
	a->state = a->dir_state;
	a->verdict = FBPF_CONTINUE;
	a->err = 0;
	a->out_flags = 0;
	a->rule = 0;
	a->handler = 0;
	a->a_set = 0;
	a->a_uid = 0;
	a->a_gid = 0;
	a->a_mode_and = 07777;
	a->a_mode_or = 0;
	a->out_name_len = 0;
	a->out_name[0] = '\0';

	rcu_read_lock();
	ops = rcu_dereference(FBPF_SB(sb)->pol->ops);
	if (ops) {
		fn = fbpf_member(ops, op, phase);
		/*
		 * A filter works on a copy of @a in a per-CPU map (see
		 * stdlib/fbpf_bpf.h), and the BPF trampoline only disables
		 * migration. On a preemptible kernel a task preempted inside
		 * its filter would find the copy overwritten by the filter of
		 * the task that ran meanwhile on the same CPU: another
		 * caller's answer. Filters never sleep (ops.c refuses
		 * sleepable programs) and are bounded by the verifier.
		 */
		if (fn) {
			preempt_disable();
			ret = fn(a);
			preempt_enable();
		}
	}
	rcu_read_unlock();

	if (!ops) {
		a->verdict = FBPF_ERROR;
		a->err = FBPF_ERR_NO_DAEMON;
		return FBPF_ERROR;
	}
	if (!fn)
		return FBPF_CONTINUE;

	a->verdict = ret;
	switch (ret) {
	case FBPF_CONTINUE:
	case FBPF_DEFER:
		break;
	case FBPF_ERROR:
		if (a->err == 0 || a->err >= MAX_ERRNO)
			a->err = EIO;
		break;
	default:
		a->verdict = FBPF_ERROR;
		a->err = EIO;
		break;
	}
	if (a->out_flags & FBPF_OUT_NAME) {
		if (!fbpf_name_valid(a->out_name, a->out_name_len)) {
			pr_warn_ratelimited("policy %s returned an invalid name\n",
					    FBPF_SB(sb)->pol->name);
			a->out_flags &= ~FBPF_OUT_NAME;
			a->verdict = FBPF_ERROR;
			a->err = EIO;
		} else {
			a->out_name[a->out_name_len] = '\0';
		}
	}
	if (!(a->out_flags & FBPF_OUT_NAME))
		a->out_name_len = 0;
	return a->verdict;
}

/*
 * Ask the daemon about a DEFER answer: the path of @dentry (plus "/@name"
 * when the operation is on a name in the directory @dentry).
 */
static int fbpf_defer(struct super_block *sb, struct fbpf_args *a,
		      struct dentry *dentry, const struct qstr *name)
{
	struct fbpf_sb *sbi = FBPF_SB(sb);
	struct fbpf_kreq *req;
	char *p;
	size_t len;
	int err;

	if (!sbi->chan)
		return -FBPF_ERR_NO_DAEMON;
	req = kzalloc(sizeof(*req), GFP_KERNEL);
	if (!req)
		return -ENOMEM;
	p = dentry_path_raw(dentry, req->path, sizeof(req->path));
	if (IS_ERR(p)) {
		err = PTR_ERR(p);
		goto out;
	}
	len = strlen(p);
	memmove(req->path, p, len + 1);
	if (name) {
		if (len == 1)	/* the root: "/" */
			len = 0;
		if (len + 1 + name->len >= sizeof(req->path)) {
			err = -ENAMETOOLONG;
			goto out;
		}
		req->path[len++] = '/';
		memcpy(req->path + len, name->name, name->len);
		len += name->len;
		req->path[len] = '\0';
	}
	req->path_len = len;
	req->op = a->op;
	req->flags = a->flags;
	req->rule = a->rule;
	req->handler = a->handler;
	req->uid = a->uid;
	req->gid = a->gid;
	req->pid = a->pid;
	err = fbpf_chan_defer(sbi->chan, req, sbi->timeout_ms);
out:
	kfree(req);
	return err;
}

/*
 * What the filter's answer means for the operation: 0 to go on, or a
 * negative errno. DEFER asks the daemon (and may sleep, killably).
 */
int fbpf_verdict(struct super_block *sb, struct fbpf_args *a,
		 struct dentry *dentry, const struct qstr *name)
{
	switch (a->verdict) {
	case FBPF_CONTINUE:
		return 0;
	case FBPF_DEFER:
		return fbpf_defer(sb, a, dentry, name);
	default:
		return -(int)a->err;
	}
}

/*
 * The pre-filter of an operation on an inode itself (GETATTR, OPEN, READ,
 * WRITE, SETATTR, READDIR). The root is never filtered.
 */
int fbpf_inode_op(struct inode *inode, struct dentry *dentry, u32 op, u32 flags)
{
	struct super_block *sb = inode->i_sb;
	struct fbpf_inode *fi = FBPF_I(inode);
	struct dentry *alias = NULL;
	struct fbpf_args *a;
	int err;

	if (fbpf_is_root(inode) || !fbpf_has_filter(sb, op, FBPF_PRE))
		return 0;
	a = fbpf_args_alloc();
	if (!a)
		return -ENOMEM;
	fbpf_args_init(a, READ_ONCE(fi->state), flags);
	fbpf_args_entry(a, &fi->lower);
	fbpf_filter(sb, a, op, FBPF_PRE);
	if (a->verdict == FBPF_DEFER && !dentry)
		dentry = alias = d_find_alias(inode);
	if (a->verdict == FBPF_DEFER && !dentry)
		err = -ESTALE;
	else
		err = fbpf_verdict(sb, a, dentry, NULL);
	dput(alias);
	fbpf_args_free(a);
	return err;
}

/* Attribute rewrites of an answer (FBPF_OUT_ATTR). */
void fbpf_apply_attr(const struct fbpf_args *a, struct kstat *stat)
{
	if (!(a->out_flags & FBPF_OUT_ATTR))
		return;
	if (a->a_set & FBPF_ATTR_UID)
		stat->uid = make_kuid(&init_user_ns, a->a_uid);
	if (a->a_set & FBPF_ATTR_GID)
		stat->gid = make_kgid(&init_user_ns, a->a_gid);
	if (a->a_set & FBPF_ATTR_MODE)
		stat->mode = (stat->mode & ~07777) |
			     ((stat->mode & 07777 & a->a_mode_and) |
			      (a->a_mode_or & 07777));
}
