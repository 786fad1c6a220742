/* SPDX-License-Identifier: GPL-2.0 */
/* Deferred operations: what the parts of the library share. */
#ifndef FBPF_DEFER_INT_H
#define FBPF_DEFER_INT_H

#include <pthread.h>
#include <stdint.h>
#include "defer.h"

struct helper;

struct handler {
	const char *name;           /* o->handlers[i] */
	struct fbpf_handlers *hs;
	enum fbpf_handler_kind kind;
	int fd;                     /* AUDIT: the log */
	int own_fd;                 /* AUDIT: close fd at the end */
	struct helper *helper;      /* EXEC */
};

struct fbpf_handlers {
	const struct fbpf_object *o;
	unsigned timeout_ms, restart_ms;
	void (*report)(void *arg, const char *msg);
	void *report_arg;
	pthread_mutex_t rep_lock;   /* rate limit of reports */
	uint64_t rep_window;        /* start of the current window, ms */
	unsigned rep_count, rep_suppressed;
	uint32_t n;
	struct handler *v;
};

/* Monotonic milliseconds. */
uint64_t fbpf_defer_now_ms(void);
/* Report one sentence (no newline); rate limited to 20 per 10 s. */
void fbpf_defer_report(struct fbpf_handlers *hs, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* "ENOENT" for 2, or the number as text. buf must hold 16 bytes. */
const char *fbpf_defer_errno_name(int e, char *buf);
/* errno of a name ("EACCES") or number ("13"), 0 if it is neither. */
int fbpf_defer_errno_parse(const char *s);

/* audit.c */
int fbpf_audit_open(struct handler *hd, const char *file, char *err, size_t errlen);
int fbpf_audit_call(struct handler *hd, const struct fbpf_defer_req *req);
void fbpf_audit_close(struct handler *hd);

/* helper.c */
int fbpf_helper_start(struct handler *hd, const struct fbpf_handler_spec *spec, char *err, size_t errlen);
int fbpf_helper_call(struct handler *hd, const struct fbpf_defer_req *req);
void fbpf_helper_stop(struct handler *hd);
int fbpf_helper_pid(struct handler *hd);

#endif
