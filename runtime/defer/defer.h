/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Deferred operations: the handlers that a policy's `defer ... to "NAME"`
 * rules hand operations to. Both engines call this library: FUSE mode from
 * its worker threads, kernel mode for each request read from the module's
 * channel. The protocol of helper processes is documented in
 * docs/handlers.md.
 *
 * Handler kinds, chosen per name with `--handler NAME=SPEC`:
 *   audit           built in: one JSON line per operation on stderr, allow
 *   audit:FILE      built in: the same lines appended to FILE
 *   exec:CMD ARGS   a long-running helper process (line protocol)
 *   CMD ARGS        the same, when SPEC is neither `audit...` nor `exec:...`
 * A name the policy uses but no --handler option configures: "audit" is the
 * built-in audit handler (logging to opts->audit_log, or stderr); any other
 * name makes fbpf_handlers_open() fail.
 */
#ifndef FBPF_DEFER_H
#define FBPF_DEFER_H

#include <stddef.h>
#include <stdint.h>
#include "fbpf_abi.h"
#include "object.h"

/* One deferred operation. */
struct fbpf_defer_req {
	uint32_t op;      /* enum fbpf_op */
	uint32_t flags;   /* FBPF_IN_* (FBPF_IN_WRITE, FBPF_IN_TARGET are passed on) */
	uint32_t rule;    /* the deferring rule, 1-based (0: unknown) */
	uint32_t handler; /* index into the object's handler names */
	uint32_t uid, gid, pid; /* the caller */
	const char *path; /* the path as shown through the mount, "/a/b" */
};

enum fbpf_handler_kind {
	FBPF_HANDLER_AUDIT = 1, /* the built-in audit log */
	FBPF_HANDLER_EXEC,      /* a helper process */
};

/* One `--handler NAME=SPEC` option. */
struct fbpf_handler_spec {
	char *name;                 /* the handler name used in the policy */
	enum fbpf_handler_kind kind;
	char *file;                 /* AUDIT: the log file; NULL for stderr */
	char *command;              /* EXEC: the command line as given */
	char **argv;                /* EXEC: the command line split into words, NULL-terminated */
};

#define FBPF_DEFER_RESTART_MS 100   /* first restart delay of a helper that died */
#define FBPF_DEFER_RESTART_MAX_MS 30000
#define FBPF_DEFER_KEEPS_DYING 5    /* quick deaths in a row after which requests fail at once */

/*
 * What the command line configures. A zeroed struct is valid: no handler
 * specs, audit to stderr, the default timeout, reports on stderr.
 */
struct fbpf_handler_opts {
	struct fbpf_handler_spec *specs; /* filled by fbpf_handler_opts_parse() */
	size_t nspecs;
	const char *audit_log;      /* log of the built-in "audit" name when no --handler
				       audit=... is given; NULL: stderr. Not owned. */
	unsigned timeout_ms;        /* per request; 0: FBPF_DEFER_TIMEOUT_MS */
	unsigned restart_ms;        /* first restart delay; 0: FBPF_DEFER_RESTART_MS */
	/* Where problems are reported (helper died, malformed answer, timeout),
	 * one sentence per call, without a newline. NULL: stderr, prefixed with
	 * "fbpf-run: ". Called with internal locks held: it must not call back
	 * into this library. */
	void (*report)(void *arg, const char *msg);
	void *report_arg;
};

/* Add one `--handler NAME=SPEC` (the text after `--handler`). Returns 0, or
 * -1 with a one-sentence message on stderr. */
int fbpf_handler_opts_parse(struct fbpf_handler_opts *opts, const char *spec);
/* Free what fbpf_handler_opts_parse() added; opts is zeroed but for
 * audit_log, timeout_ms, restart_ms, report and report_arg. */
void fbpf_handler_opts_free(struct fbpf_handler_opts *opts);

struct fbpf_handlers;

/*
 * Set up every handler the object names: open the audit logs and start the
 * helper processes. Returns 0, or -1 with one sentence in err (an
 * unconfigured handler name, a log that cannot be opened, a command that
 * cannot be run). `o` and `opts->report` must stay valid until
 * fbpf_handlers_close(); opts itself may be freed after this returns.
 * Sets SIGPIPE to SIG_IGN if it is SIG_DFL, so that a dead helper or a
 * closed log pipe cannot kill the daemon.
 */
int fbpf_handlers_open(struct fbpf_handlers **out, const struct fbpf_object *o,
		       const struct fbpf_handler_opts *opts, char *err, size_t errlen);

/*
 * Ask handler req->handler. Returns 0 (continue to the lower filesystem) or
 * a positive errno to fail the operation with: the handler's answer,
 * FBPF_ERR_TIMEOUT when it does not answer within the timeout,
 * FBPF_ERR_NO_DAEMON when its helper is not running or dies meanwhile (and
 * for h == NULL or a handler index out of range), EIO when an audit line
 * cannot be written. Thread-safe; never blocks longer than the timeout.
 */
int fbpf_handlers_call(struct fbpf_handlers *h, const struct fbpf_defer_req *req);

/* Stop the helpers (EOF on their stdin, then SIGTERM after 1 s, SIGKILL
 * after 2 s), wait for them and free everything. No call may be running. */
void fbpf_handlers_close(struct fbpf_handlers *h);

/* Kernel mode: the request carried by a struct fbpf_kreq read from the
 * channel. Terminates k->path in place (path_len must be < FBPF_PATH_MAX);
 * returns -1 for a damaged request, which the daemon should answer with
 * FBPF_ERR_NO_DAEMON. */
static inline int fbpf_defer_req_from_kreq(struct fbpf_defer_req *r, struct fbpf_kreq *k)
{
	if (k->path_len >= FBPF_PATH_MAX)
		return -1;
	k->path[k->path_len] = 0;
	r->op = k->op;
	r->flags = k->flags;
	r->rule = k->rule;
	r->handler = k->handler;
	r->uid = k->uid;
	r->gid = k->gid;
	r->pid = k->pid;
	r->path = k->path;
	return 0;
}

/* The name of operation class op ("open"), "unknown" when out of range. */
const char *fbpf_defer_op_name(uint32_t op);

/* The pid of the running helper of handler index i, 0 if none (tests,
 * status output). */
int fbpf_handlers_helper_pid(struct fbpf_handlers *h, uint32_t i);

#endif
