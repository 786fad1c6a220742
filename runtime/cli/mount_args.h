/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What `fbpf-run mount` hands to an engine (FUSE mode, kernel mode).
 *
 * fbpf-run reads and checks the object, checks LOWER and MNT, parses the
 * handler options and, without -f, forks: the engine runs in the child. The
 * engine mounts, calls ready() once the mount works, serves until the view
 * is unmounted (or SIGINT/SIGTERM unmounts it) and returns 0. If it cannot
 * mount it returns non-zero with one sentence in err, and must leave nothing
 * mounted. ready() starts the control socket that serves `fbpf-run stats`,
 * and lets the waiting parent exit 0.
 */
#ifndef FBPF_MOUNT_ARGS_H
#define FBPF_MOUNT_ARGS_H

#include <stddef.h>
#include <stdint.h>

struct fbpf_object;
struct fbpf_handler_opts;

/* Per-rule statistics: fill hits[0..n-1], where hits[r] counts the answers
 * rule r (1-based) decided and hits[0] is unused. Returns 0, or -1. Called
 * from the control socket's thread. */
typedef int (*fbpf_hits_fn)(void *ctx, uint64_t *hits, uint32_t n);

struct fbpf_mount_args {
	const char *object_path;           /* rules.o as given on the command line */
	const struct fbpf_object *object;  /* read and checked (ABI) by fbpf-run */
	const char *lower;                 /* absolute path of an existing directory */
	const char *mnt;                   /* absolute path of an existing directory, not a mount point */
	int foreground;                    /* -f: attached to the terminal, messages on stderr */
	const struct fbpf_handler_opts *handler_opts; /* --handler, --defer-timeout; never NULL */
	const char *options;               /* the -o options joined with ',', "" when none */
	/* "fuse" or "kernel": set by fbpf-run before it calls the engine. */
	const char *mode;
	/* The engine calls this once, from any thread, when the mount works. */
	void (*ready)(const struct fbpf_mount_args *a, fbpf_hits_fn hits, void *hits_ctx);
	char *err;                         /* one sentence when the engine fails */
	size_t errlen;
	void *priv;                        /* fbpf-run's own */
};

#endif
