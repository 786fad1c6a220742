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
static bool fbpf_entry_ids(const struct path *lower, u32 *uid, u32 *gid,
			   u32 *mode)
{
	struct inode *inode = d_inode(lower->dentry);
	struct mnt_idmap *idmap = mnt_idmap(lower->mnt);

	if (!inode)
		return false;
	*uid = from_kuid_munged(&init_user_ns,
				vfsuid_into_kuid(i_uid_into_vfsuid(idmap, inode)));
	*gid = from_kgid_munged(&init_user_ns,
				vfsgid_into_kgid(i_gid_into_vfsgid(idmap, inode)));
	*mode = inode->i_mode;
	return true;
}

void fbpf_args_entry(struct fbpf_args *a, const struct path *lower)
{
	if (fbpf_entry_ids(lower, &a->e_uid, &a->e_gid, &a->e_mode))
		a->flags |= FBPF_IN_ENTRY;
}

/*
 * Which of the two filters of @op must be called: bit FBPF_PRE and bit
 * FBPF_POST. A detached policy counts as having both, so that the call
 * reports FBPF_ERR_NO_DAEMON.
 */
u32 fbpf_filters(struct super_block *sb, u32 op)
{
	struct fbpf_ops *ops;
	u32 ret = 3;

	rcu_read_lock();
	ops = rcu_dereference(FBPF_SB(sb)->pol->ops);
	if (ops)
		ret = (fbpf_member(ops, op, FBPF_PRE) ? 1u << FBPF_PRE : 0) |
		      (fbpf_member(ops, op, FBPF_POST) ? 1u << FBPF_POST : 0);
	rcu_read_unlock();
	return ret;
}

/* Whether filter (@op, @phase) must be called. */
bool fbpf_has_filter(struct super_block *sb, u32 op, u32 phase)
{
	return fbpf_filters(sb, op) & (1u << phase);
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
 * Answers of the filters of operations on an inode itself, remembered.
 *
 * Such a filter sees the operation, the inode's state, the lower entry's
 * owner, group and mode, and the caller; nothing else. An answer that says
 * "nothing to do" (continue, no rule decided, no rewrite) and did not depend
 * on the caller is therefore the answer to every later call with the same
 * policy, state and entry attributes, by anyone: a stat, open or read of an
 * inode whose filters have nothing to say then costs no filter call. An
 * answer in which a rule decided is never remembered: its rule must be
 * counted each time.
 */
static u32 fbpf_memo_bit(u32 op, u32 phase, u32 flags)
{
	if (flags == FBPF_IN_WRITE && op == FBPF_OP_OPEN && phase == FBPF_PRE)
		return FBPF_MEMO_OPEN_WRITE;
	if (flags)
		return 0;
	return FBPF_CB_BIT(op, phase);
}

/*
 * Whether filter (@op, @phase) with input flags @flags is known to have
 * nothing to say about @inode now. @gen is fbpf_gen() read before any
 * filter of the operation ran. With @kids (READDIR/PRE), also the promises
 * its answer made.
 */
static bool fbpf_memo_hit(struct inode *inode, u32 op, u32 phase, u32 flags,
			  unsigned int gen, u32 *kids)
{
	u32 bit = fbpf_memo_bit(op, phase, flags);

	return bit && (fbpf_memo_bits(inode, gen, kids) & bit);
}

/*
 * The fbpf_memo_bit()s of the filters known to have nothing to say about
 * @inode now (see fbpf_memo_hit()).
 */
u32 fbpf_memo_bits(struct inode *inode, unsigned int gen, u32 *kids)
{
	struct fbpf_inode *fi = FBPF_I(inode);
	u32 bits = 0, uid, gid, mode;

	if (!READ_ONCE(fi->memo_bits) ||
	    !fbpf_entry_ids(&fi->lower, &uid, &gid, &mode))
		return 0;
	spin_lock(&inode->i_lock);
	if (fi->memo_gen == gen && fi->memo_state == fi->state &&
	    fi->memo_uid == uid && fi->memo_gid == gid && fi->memo_mode == mode) {
		bits = fi->memo_bits;
		if (kids)
			*kids = fi->memo_kids;
	}
	spin_unlock(&inode->i_lock);
	return bits;
}

/* Remember @a, the answer of a filter of an operation on @inode itself. */
void fbpf_memo_store(struct inode *inode, const struct fbpf_args *a,
		     unsigned int gen)
{
	struct fbpf_inode *fi = FBPF_I(inode);
	u32 bit = fbpf_memo_bit(a->op, a->phase, a->flags & ~FBPF_IN_ENTRY);

	if (!bit || !(a->flags & FBPF_IN_ENTRY) || a->name_len ||
	    a->verdict != FBPF_CONTINUE || a->rule ||
	    (a->out_flags & (FBPF_OUT_CALLER | FBPF_OUT_ATTR | FBPF_OUT_NAME |
			     FBPF_OUT_HIDDEN)))
		return;
	spin_lock(&inode->i_lock);
	if (fi->memo_gen != gen || fi->memo_state != a->dir_state ||
	    fi->memo_uid != a->e_uid || fi->memo_gid != a->e_gid ||
	    fi->memo_mode != a->e_mode) {
		fi->memo_gen = gen;
		fi->memo_state = a->dir_state;
		fi->memo_uid = a->e_uid;
		fi->memo_gid = a->e_gid;
		fi->memo_mode = a->e_mode;
		fi->memo_bits = 0;
	}
	fi->memo_bits |= bit;
	if (a->op == FBPF_OP_READDIR && a->phase == FBPF_PRE)
		fi->memo_kids = a->out_flags & FBPF_OUT_PROMISES;
	spin_unlock(&inode->i_lock);
}

/*
 * The pre-filter of an operation on an inode itself (GETATTR, OPEN, READ,
 * WRITE, SETATTR, READDIR). The root is never filtered; with @kids, its
 * filter is asked only for the promises its answer makes about the
 * directory's entries (FBPF_OUT_PROMISES), which @kids returns (0: none).
 */
int fbpf_inode_op_kids(struct inode *inode, struct dentry *dentry, u32 op,
		       u32 flags, u32 *kids)
{
	struct super_block *sb = inode->i_sb;
	struct fbpf_inode *fi = FBPF_I(inode);
	struct dentry *alias = NULL;
	bool root = fbpf_is_root(inode);
	struct fbpf_args *a;
	unsigned int gen;
	int err;

	if (kids)
		*kids = 0;
	if ((root && !kids) || !fbpf_has_filter(sb, op, FBPF_PRE))
		return 0;
	gen = fbpf_gen(sb);
	if (fbpf_memo_hit(inode, op, FBPF_PRE, flags, gen, kids))
		return 0;
	a = fbpf_args_alloc();
	if (!a)
		return -ENOMEM;
	fbpf_args_init(a, READ_ONCE(fi->state), flags);
	fbpf_args_entry(a, &fi->lower);
	fbpf_filter(sb, a, op, FBPF_PRE);
	fbpf_memo_store(inode, a, gen);
	if (kids && a->verdict != FBPF_ERROR)
		*kids = a->out_flags & FBPF_OUT_PROMISES;
	if (root) {
		fbpf_args_free(a);
		return 0;
	}
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

int fbpf_inode_op(struct inode *inode, struct dentry *dentry, u32 op, u32 flags)
{
	return fbpf_inode_op_kids(inode, dentry, op, flags, NULL);
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
