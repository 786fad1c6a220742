// SPDX-License-Identifier: GPL-2.0
/*
 * fbpf.ko: a stacked filesystem whose behaviour is a BPF policy.
 *
 * Load order: the engine's caches, the defer channel, the struct_ops type
 * (which needs this module's BTF), then the filesystem type.
 */
#include "fbpf.h"

#include <linux/module.h>

static int __init fbpf_init(void)
{
	int err;

	err = fbpf_engine_init();
	if (err)
		return err;
	err = fbpf_inode_cache_init();
	if (err)
		goto out_engine;
	err = fbpf_chan_init();
	if (err)
		goto out_cache;
	err = fbpf_ops_register();
	if (err) {
		pr_err("cannot register the struct_ops type fbpf_ops (%d): was the module built with BTF (pahole, CONFIG_DEBUG_INFO_BTF_MODULES)?\n",
		       err);
		goto out_chan;
	}
	err = fbpf_register_fs();
	if (err)
		goto out_ops;
	return 0;

out_ops:
	fbpf_ops_unregister();
out_chan:
	fbpf_chan_exit();
out_cache:
	fbpf_inode_cache_exit();
out_engine:
	fbpf_engine_exit();
	return err;
}

static void __exit fbpf_exit(void)
{
	fbpf_unregister_fs();
	fbpf_ops_unregister();
	fbpf_chan_exit();
	fbpf_inode_cache_exit();
	fbpf_engine_exit();
}

module_init(fbpf_init);
module_exit(fbpf_exit);

MODULE_DESCRIPTION("fbpf: a stacked filesystem programmed by BPF struct_ops policies");
MODULE_LICENSE("GPL");
