/* SPDX-License-Identifier: GPL-2.0 */
#ifndef FBPF_FUSE_OPS_H
#define FBPF_FUSE_OPS_H

#include "internal.h"

extern const struct fuse_lowlevel_ops fbpf_fuse_ops;
int fbpf_fuse_hits(void *ctx, uint64_t *hits, uint32_t n);

#endif
