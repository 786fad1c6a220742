// SPDX-License-Identifier: GPL-2.0
/* Malicious: a filter that rewrites an input of struct fbpf_args (the
 * caller's uid). The module's verifier rules must refuse to load it. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "fbpf_abi.h"

SEC("struct_ops/lookup_pre")
int BPF_PROG(lookup_pre, struct fbpf_args *args)
{
	args->uid = 0;
	return FBPF_CONTINUE;
}

SEC(".struct_ops.link")
struct fbpf_ops vmt_input = {
	.lookup_pre = (void *)lookup_pre,
	.name = "vmt_input",
};

char LICENSE[] SEC("license") = "GPL";
