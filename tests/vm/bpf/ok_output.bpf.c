// SPDX-License-Identifier: GPL-2.0
/* The control of the verifier test: a filter that writes only output fields
 * of struct fbpf_args. The module must accept it. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "fbpf_abi.h"

SEC("struct_ops/lookup_pre")
int BPF_PROG(lookup_pre, struct fbpf_args *args)
{
	args->err = 0;
	args->out_flags = 0;
	args->rule = 0;
	args->state = args->dir_state;
	return FBPF_CONTINUE;
}

SEC(".struct_ops.link")
struct fbpf_ops vmt_ok = {
	.lookup_pre = (void *)lookup_pre,
	.name = "vmt_ok",
};

char LICENSE[] SEC("license") = "GPL";
