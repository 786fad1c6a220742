// SPDX-License-Identifier: GPL-2.0
/* Malicious: a filter that writes past the end of struct fbpf_args. The
 * module's verifier rules must refuse to load it. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "fbpf_abi.h"

SEC("struct_ops/lookup_pre")
int BPF_PROG(lookup_pre, struct fbpf_args *args)
{
	volatile __u64 *p = (volatile __u64 *)((char *)args + sizeof(struct fbpf_args));

	*p = 0x4141414141414141ull;
	return FBPF_CONTINUE;
}

SEC(".struct_ops.link")
struct fbpf_ops vmt_oob = {
	.lookup_pre = (void *)lookup_pre,
	.name = "vmt_oob",
};

char LICENSE[] SEC("license") = "GPL";
