/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The control socket of a mount: a unix stream socket named after the
 * mount point, in /run/fbpf/ (daemon run by root) or $XDG_RUNTIME_DIR/fbpf/
 * (else /tmp/fbpf-UID/). A client sends one line, "stats" or "stats json",
 * and reads the answer until the daemon closes the connection. Only root
 * and the daemon's own user are answered.
 */
#ifndef FBPF_CONTROL_H
#define FBPF_CONTROL_H

#include <stddef.h>
#include <stdio.h>
#include "mount_args.h"

/* The mount point as fbpf-run names it: the real path of its parent
 * directory joined with its last component (the mount itself is not
 * touched). Returns 0, or -1 with errno. */
int fbpf_ctl_canon(const char *mnt, char *out, size_t len);

/* Socket path for canonical mount point `mnt`: which 0 is the directory of
 * this user (root: /run/fbpf), which 1 the other one. Returns 0, -1 if
 * there is no such directory. */
int fbpf_ctl_path(const char *mnt, int which, char *out, size_t len);

/* Serve the socket of mount a (from a thread) until fbpf_ctl_stop(). */
int fbpf_ctl_start(const struct fbpf_mount_args *a, fbpf_hits_fn hits, void *ctx, char *err, size_t errlen);
void fbpf_ctl_stop(void);

/* Send `cmd` to the daemon of canonical mount point `mnt`, copy the answer
 * to out. Returns 0, or -1 with one sentence in err. */
int fbpf_ctl_query(const char *mnt, const char *cmd, FILE *out, char *err, size_t errlen);

#endif
