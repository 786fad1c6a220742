/* SPDX-License-Identifier: GPL-2.0 */
/* Running a policy's BPF filters on this kernel without the module: the
 * syscall program fbpf_test (every filter of the policy), loaded with libbpf
 * and run with BPF_PROG_TEST_RUN. Needs root (CAP_BPF and CAP_SYS_ADMIN). */
#ifndef FBPF_BPFTEST_H
#define FBPF_BPFTEST_H

#include <stddef.h>
#include "fbpf_abi.h"
#include "object.h"

struct fbpf_bpftest;

/* Load the fbpf_test program of rules.o at path and fill its table map from o.
 * On failure returns -errno and writes one sentence (and, for a verifier
 * rejection, the tail of its log) into err. */
int fbpf_bpftest_open(const char *path, const struct fbpf_object *o, struct fbpf_bpftest **out,
		      char *err, size_t errlen);
/* Run filter (args->op, args->phase) on args in the kernel. Returns the
 * verdict, or -ENOENT when the object has no such filter, or -errno. */
int fbpf_bpftest_run(struct fbpf_bpftest *t, struct fbpf_args *args);
void fbpf_bpftest_close(struct fbpf_bpftest *t);

#endif
