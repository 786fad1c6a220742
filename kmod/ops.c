// SPDX-License-Identifier: GPL-2.0
/*
 * The struct_ops type fbpf_ops and the registry of attached policies.
 *
 * A policy object (rules.o) holds one struct_ops map of type fbpf_ops. When
 * its link is attached, .reg adds it to the registry under its `name`; a
 * mount names the policy with ops=NAME. bpf_link__update_map() replaces the
 * programs of a registered policy in place (.update): live mounts switch to
 * the new programs, and every cached answer is re-checked once. When the
 * link goes away (.unreg) the policy leaves the registry; mounts that still
 * use it fail every operation with FBPF_ERR_NO_DAEMON until unmounted.
 *
 * Programs get a pointer to a struct fbpf_args. They may read all of it and
 * write only its outputs (from FBPF_ARGS_OUT_OFFSET on).
 */
#include "fbpf.h"

#include <linux/bpf.h>
#include <linux/btf.h>
#include <linux/bpf_verifier.h>
#include <linux/ctype.h>
#include <linux/mutex.h>

static DEFINE_MUTEX(fbpf_policies_lock);
static LIST_HEAD(fbpf_policies);
static const struct btf *fbpf_btf;

static struct fbpf_policy *fbpf_find_name(const char *name)
{
	struct fbpf_policy *pol;

	lockdep_assert_held(&fbpf_policies_lock);
	list_for_each_entry(pol, &fbpf_policies, node)
		if (!strcmp(pol->name, name))
			return pol;
	return NULL;
}

static struct fbpf_policy *fbpf_find_ops(const void *kdata)
{
	struct fbpf_policy *pol;

	lockdep_assert_held(&fbpf_policies_lock);
	list_for_each_entry(pol, &fbpf_policies, node)
		if (rcu_access_pointer(pol->ops) == kdata)
			return pol;
	return NULL;
}

struct fbpf_policy *fbpf_policy_get(const char *name)
{
	struct fbpf_policy *pol;

	mutex_lock(&fbpf_policies_lock);
	pol = fbpf_find_name(name);
	if (pol)
		refcount_inc(&pol->ref);
	mutex_unlock(&fbpf_policies_lock);
	return pol;
}

void fbpf_policy_put(struct fbpf_policy *pol)
{
	if (pol && refcount_dec_and_test(&pol->ref))
		kfree(pol);
}

/* ---- struct_ops callbacks ---------------------------------------------- */

static int fbpf_ops_reg(void *kdata, struct bpf_link *link)
{
	struct fbpf_ops *ops = kdata;
	struct fbpf_policy *pol;
	int err = 0;

	pol = kzalloc(sizeof(*pol), GFP_KERNEL);
	if (!pol)
		return -ENOMEM;
	refcount_set(&pol->ref, 1);	/* the registry's */
	strscpy(pol->name, ops->name, sizeof(pol->name));
	RCU_INIT_POINTER(pol->ops, ops);

	mutex_lock(&fbpf_policies_lock);
	if (fbpf_find_name(pol->name))
		err = -EEXIST;
	else
		list_add_tail(&pol->node, &fbpf_policies);
	mutex_unlock(&fbpf_policies_lock);
	if (err) {
		pr_info("a policy named '%s' is already attached\n", pol->name);
		kfree(pol);
	}
	return err;
}

static void fbpf_ops_unreg(void *kdata, struct bpf_link *link)
{
	struct fbpf_policy *pol;

	mutex_lock(&fbpf_policies_lock);
	pol = fbpf_find_ops(kdata);
	if (pol) {
		/*
		 * Readers hold rcu_read_lock() while they use the ops; the
		 * map is freed only after an RCU grace period.
		 */
		RCU_INIT_POINTER(pol->ops, NULL);
		atomic_inc(&pol->gen);
		list_del_init(&pol->node);
	}
	mutex_unlock(&fbpf_policies_lock);
	fbpf_policy_put(pol);
}

static int fbpf_ops_update(void *kdata, void *old_kdata, struct bpf_link *link)
{
	struct fbpf_ops *ops = kdata;
	struct fbpf_policy *pol, *other;
	int err = 0;

	mutex_lock(&fbpf_policies_lock);
	pol = fbpf_find_ops(old_kdata);
	other = fbpf_find_name(ops->name);
	if (!pol) {
		err = -ENOENT;
	} else if (other && other != pol) {
		err = -EEXIST;
	} else {
		strscpy(pol->name, ops->name, sizeof(pol->name));
		rcu_assign_pointer(pol->ops, ops);
		atomic_inc(&pol->gen);
	}
	mutex_unlock(&fbpf_policies_lock);
	return err;
}

static int fbpf_ops_validate(void *kdata)
{
	return 0;
}

static bool fbpf_name_ok(const char *name, size_t size)
{
	size_t i, n = strnlen(name, size);

	if (n == 0 || n == size)
		return false;
	for (i = 0; i < n; i++)
		if (!isalnum(name[i]) && name[i] != '_' && name[i] != '-' &&
		    name[i] != '.')
			return false;
	return true;
}

static int fbpf_ops_init_member(const struct btf_type *t,
				const struct btf_member *member,
				void *kdata, const void *udata)
{
	const struct fbpf_ops *uops = udata;
	struct fbpf_ops *kops = kdata;
	u32 moff = __btf_member_bit_offset(t, member) / 8;

	if (moff != offsetof(struct fbpf_ops, name))
		return 0;	/* a filter: the BPF core sets it up */
	if (!fbpf_name_ok(uops->name, sizeof(uops->name))) {
		pr_info("a policy name must be 1 to %d letters, digits, '_', '-' or '.'\n",
			FBPF_POLICY_NAME_MAX);
		return -EINVAL;
	}
	memcpy(kops->name, uops->name, sizeof(kops->name));
	return 1;
}

/*
 * Filters run with preemption disabled (engine.c): a sleepable program
 * cannot be one.
 */
static int fbpf_ops_check_member(const struct btf_type *t,
				 const struct btf_member *member,
				 const struct bpf_prog *prog)
{
#ifdef FBPF_HAVE_PROG_SLEEPABLE
	bool sleepable = prog->sleepable;
#else
	bool sleepable = prog->aux->sleepable;
#endif

	if (sleepable) {
		pr_info("fbpf_ops filters cannot be sleepable: use SEC(\"struct_ops/...\"), not struct_ops.s\n");
		return -EINVAL;
	}
	return 0;
}

static int fbpf_ops_init(struct btf *btf)
{
	fbpf_btf = btf;
	return 0;
}

/* ---- verifier ---------------------------------------------------------- */

static const struct bpf_func_proto *
fbpf_get_func_proto(enum bpf_func_id func_id, const struct bpf_prog *prog)
{
	return bpf_base_func_proto(func_id, prog);
}

static bool fbpf_is_valid_access(int off, int size, enum bpf_access_type type,
				 const struct bpf_prog *prog,
				 struct bpf_insn_access_aux *info)
{
	return bpf_tracing_btf_ctx_access(off, size, type, prog, info);
}

/*
 * Writes through a PTR_TO_BTF_ID. The only structure of this module's BTF a
 * filter can point to is its struct fbpf_args; of that, only the outputs
 * may be written.
 */
static int fbpf_btf_struct_access(struct bpf_verifier_log *log,
				  const struct bpf_reg_state *reg,
				  int off, int size)
{
	const struct btf_type *t = btf_type_by_id(reg->btf, reg->btf_id);

	if (reg->btf != fbpf_btf || !t || !btf_type_is_struct(t) ||
	    t->size != sizeof(struct fbpf_args)) {
		bpf_log(log, "fbpf filters may write only to their struct fbpf_args\n");
		return -EACCES;
	}
	if (off < (int)FBPF_ARGS_OUT_OFFSET || size <= 0 ||
	    off + size > (int)sizeof(struct fbpf_args)) {
		bpf_log(log, "write of %d bytes at offset %d of struct fbpf_args: only the outputs (offset %zu on) may be written\n",
			size, off, (size_t)FBPF_ARGS_OUT_OFFSET);
		return -EACCES;
	}
	return 0;
}

static const struct bpf_verifier_ops fbpf_verifier_ops = {
	.get_func_proto		= fbpf_get_func_proto,
	.is_valid_access	= fbpf_is_valid_access,
	.btf_struct_access	= fbpf_btf_struct_access,
};

/* The prototype of every filter, for the BPF core and for CFI. */
static int fbpf_ops__filter(struct fbpf_args *args)
{
	return FBPF_CONTINUE;
}

static struct fbpf_ops fbpf_cfi_stubs = {
#define FBPF_STUB(n, op) .n##_pre = fbpf_ops__filter, .n##_post = fbpf_ops__filter,
	FBPF_FOR_EACH_OP(FBPF_STUB)
#undef FBPF_STUB
};

static struct bpf_struct_ops fbpf_bpf_ops = {
	.verifier_ops	= &fbpf_verifier_ops,
	.init		= fbpf_ops_init,
	.init_member	= fbpf_ops_init_member,
	.check_member	= fbpf_ops_check_member,
	.reg		= fbpf_ops_reg,
	.unreg		= fbpf_ops_unreg,
	.update		= fbpf_ops_update,
	.validate	= fbpf_ops_validate,
	.cfi_stubs	= &fbpf_cfi_stubs,
	.owner		= THIS_MODULE,
	.name		= "fbpf_ops",
};

int fbpf_ops_register(void)
{
	BUILD_BUG_ON(FBPF_ARGS_OUT_OFFSET % 8);
	return register_bpf_struct_ops(&fbpf_bpf_ops, fbpf_ops);
}

void fbpf_ops_unregister(void)
{
	/*
	 * The BPF core drops the type with the module's BTF. Maps of this
	 * type hold a reference to the module, so none is left here.
	 */
}
