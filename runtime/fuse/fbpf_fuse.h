/* SPDX-License-Identifier: GPL-2.0 */
/* FUSE mode of fbpf-run: the view served by a libfuse3 low-level daemon
 * that runs the policy with the native evaluator. docs/fuse-mode.md. */
#ifndef FBPF_FUSE_H
#define FBPF_FUSE_H

#include <stddef.h>
#include "mount_args.h"

/* Can this machine mount FUSE? 1 yes; 0 no, with the reason in why. */
int fbpf_fuse_available(char *why, size_t n);

/* Mount a->object over a->lower on a->mnt and serve it (see mount_args.h).
 * Returns 0 after a clean unmount, non-zero with one sentence in a->err. */
int fbpf_fuse_mount(const struct fbpf_mount_args *a);

/* "libfuse 3.14": what FUSE mode runs on, for --version. */
const char *fbpf_fuse_version(void);

/* The -o options FUSE mode understands, for --help. */
extern const char fbpf_fuse_options_help[];

#endif
