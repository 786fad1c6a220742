/* SPDX-License-Identifier: GPL-2.0 */
/* The native evaluator: the same filters as the BPF programs, run in
 * process over the tables of a rules.o (FUSE mode, fbpfc explain, tests). */
#ifndef FBPF_EVAL_NATIVE_H
#define FBPF_EVAL_NATIVE_H

#include "fbpf_abi.h"
#include "object.h"

/* Run filter (args->op, args->phase) on args: reads the inputs, writes the
 * outputs, returns the verdict. Thread-safe; no allocation. */
int fbpf_eval(const struct fbpf_object *o, struct fbpf_args *args);

/* Does the object have the filter (op, phase)? A missing filter means
 * "continue": the engines skip it. */
static inline int fbpf_has_filter(const struct fbpf_object *o, unsigned op, unsigned phase)
{
	return op < FBPF_OP_COUNT && phase < 2 && (o->meta.callbacks & FBPF_CB_BIT(op, phase));
}

#endif
