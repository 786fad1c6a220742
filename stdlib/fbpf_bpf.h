/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * BPF side of a compiled policy: the maps, the copy-in/copy-out around the
 * shared evaluator, and the macros generated code uses to define filters.
 *
 * A filter copies its argument block into a per-CPU scratch area (struct_ops
 * arguments and syscall contexts cannot be read at variable offsets), runs
 * fbpf_filter() on the copy, and writes the outputs back at constant offsets.
 */
#ifndef FBPF_BPF_H
#define FBPF_BPF_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "fbpf_abi.h"

struct fbpf_scratch;

/* The policy tables: sized and filled by the loader from section .fbpf. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct fbpf_tab_row);
} fbpf_tab SEC(".maps");

static __always_inline __u32 fbpf_tab_word(__u32 i)
{
	__u32 row = i / FBPF_TAB_ROW_WORDS;
	struct fbpf_tab_row *r = bpf_map_lookup_elem(&fbpf_tab, &row);

	return r ? r->w[i & (FBPF_TAB_ROW_WORDS - 1)] : 0;
}

#define FBPF_TAB(s, i) fbpf_tab_word(i)
#define FBPF_FUNC __attribute__((noinline))
#include "fbpf_eval.h"

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct fbpf_scratch);
} fbpf_scratch SEC(".maps");

/* Per-rule statistics: entry r counts the answers rule r decided. The
 * loader sizes the map to nrules + 1; rules beyond its size go uncounted. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} fbpf_hits SEC(".maps");

#define FBPF_OUT_COPY(field) args->field = s->a.field

static __always_inline int fbpf_run(struct fbpf_args *args, __u32 op, __u32 phase)
{
	__u32 zero = 0, i;
	struct fbpf_scratch *s = bpf_map_lookup_elem(&fbpf_scratch, &zero);

	if (!s)
		return FBPF_CONTINUE;
	if (bpf_probe_read_kernel(&s->a, FBPF_ARGS_OUT_OFFSET, args))
		return FBPF_CONTINUE;
	s->a.op = op;
	s->a.phase = phase;
	fbpf_load_header(s);
	fbpf_filter(s);
	if (s->a.rule) {
		__u32 r = s->a.rule;
		__u64 *n = bpf_map_lookup_elem(&fbpf_hits, &r);

		if (n)
			*n += 1;
	}
	FBPF_OUT_COPY(verdict);
	FBPF_OUT_COPY(err);
	FBPF_OUT_COPY(out_flags);
	FBPF_OUT_COPY(rule);
	FBPF_OUT_COPY(handler);
	FBPF_OUT_COPY(state);
	FBPF_OUT_COPY(a_set);
	FBPF_OUT_COPY(a_uid);
	FBPF_OUT_COPY(a_gid);
	FBPF_OUT_COPY(a_mode_and);
	FBPF_OUT_COPY(a_mode_or);
	FBPF_OUT_COPY(out_name_len);
	if (s->a.out_flags & FBPF_OUT_NAME) {
#pragma clang loop unroll(full)
		for (i = 0; i < (FBPF_NAME_MAX + 1) / 8; i++)
			((__u64 *)args->out_name)[i] = ((__u64 *)s->a.out_name)[i];
	}
	return s->a.verdict;
}

/*
 * FBPF_FILTER(lookup, FBPF_OP_LOOKUP, pre, FBPF_PRE) defines the struct_ops
 * program lookup_pre.
 */
#define FBPF_FILTER(name, op, ph, phase)                                        \
	SEC("struct_ops/" #name "_" #ph)                                        \
	int BPF_PROG(name##_##ph, struct fbpf_args *args)                       \
	{                                                                       \
		return fbpf_run(args, op, phase);                               \
	}

/*
 * The same filters as one syscall program, which runs on any kernel through
 * BPF_PROG_TEST_RUN (the struct_ops programs need the module): the filter is
 * the one args->op and args->phase name. The code below fbpf_run is the
 * struct_ops programs' own, global functions verified the same way; one
 * program instead of a twin per filter verifies it once instead of twenty
 * times.
 */
SEC("syscall")
int fbpf_test(struct fbpf_args *args)
{
	return fbpf_run(args, args->op, args->phase);
}

char LICENSE[] SEC("license") = "GPL";

#endif /* FBPF_BPF_H */
