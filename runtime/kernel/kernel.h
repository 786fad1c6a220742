/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Kernel mode of fbpf-run: the policy's BPF programs are attached to fbpf.ko
 * as a struct_ops, the view is a mount of type "fbpf", and this process
 * serves the module's channel (deferred operations) and the per-rule
 * statistics. The channel and mount contract: the kernel-mode block of
 * stdlib/fbpf_abi.h.
 */
#ifndef FBPF_KERNEL_H
#define FBPF_KERNEL_H

#include <stddef.h>
#include "mount_args.h"

/* 1 if kernel mode can work here: libbpf >= 1.4, the fbpf module loaded
 * (/sys/module/fbpf, /dev/fbpf) and its BTF defining struct fbpf_ops. Else 0
 * with one sentence in why. */
int fbpf_kernel_available(char *why, size_t n);

/* Load and attach args->object, mount it over args->lower on args->mnt,
 * call args->ready, and serve the channel until the view is unmounted (or
 * SIGINT/SIGTERM unmounts it): see mount_args.h. Returns 0 after a clean
 * unmount, non-zero with one sentence in args->err (and nothing mounted or
 * attached) when it cannot mount. */
int fbpf_kernel_mount(const struct fbpf_mount_args *args);

/* Replace the policy of the live kernel-mode mount at mnt by new_object:
 * asks the mount's daemon, which loads the new object and swaps it in
 * atomically (bpf_link_update of the struct_ops link). Operations never see
 * a view without a policy. Returns 0, or -1 with one sentence in err. */
int fbpf_kernel_reload(const char *mnt, const char *new_object, char *err, size_t n);

/* The -o options kernel mode understands, for --help. */
extern const char fbpf_kernel_options_help[];

#endif
