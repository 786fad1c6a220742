// SPDX-License-Identifier: GPL-2.0
/*
 * The built-in audit handler: one JSON object per line for each deferred
 * operation, appended to a file (O_APPEND) or written to stderr with one
 * write() per line, so that lines from concurrent callers never mix. It
 * allows the operation; if the line cannot be written, the operation fails
 * with EIO (no access without a record).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "json.h"
#include "defer_int.h"

int fbpf_audit_open(struct handler *hd, const char *file, char *err, size_t errlen)
{
	if (!file) {
		hd->fd = 2;
		hd->own_fd = 0;
		return 0;
	}
	hd->fd = open(file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0640);
	if (hd->fd < 0) {
		snprintf(err, errlen, "cannot open the audit log %s of handler '%s': %s; give a writable file with --handler %s=audit:FILE",
			 file, hd->name, strerror(errno), hd->name);
		return -1;
	}
	hd->own_fd = 1;
	return 0;
}

void fbpf_audit_close(struct handler *hd)
{
	if (hd->own_fd && hd->fd >= 0)
		close(hd->fd);
	hd->fd = -1;
}

static char *pct_str(char *p, const char *str)
{
	const unsigned char *s = (const unsigned char *)str;

	for (; *s; s++) {
		if (*s <= 0x20 || *s >= 0x7f || *s == '%' || *s == '"' || *s == '\\')
			p += sprintf(p, "%%%02X", *s);
		else
			*p++ = *s;
	}
	return p;
}

int fbpf_audit_call(struct handler *hd, const struct fbpf_defer_req *req)
{
	const struct fbpf_object *o = hd->hs->o;
	const char *path = req->path ? req->path : "";
	size_t plen = strlen(path), cap = plen * 9 + 640;
	char stack[2048], *buf = cap <= sizeof(stack) ? stack : malloc(cap), *p;
	struct timespec ts;
	struct tm tm;
	int lossy = 0, rc = 0;
	ssize_t w;

	if (!buf) {
		fbpf_defer_report(hd->hs, "handler '%s': out of memory writing an audit line; the operation fails with EIO", hd->name);
		return EIO;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	p = buf;
	p += strftime(p, 64, "{\"time\":\"%Y-%m-%dT%H:%M:%S", &tm);
	p += sprintf(p, ".%03ldZ\",\"policy\":\"", ts.tv_nsec / 1000000);
	p = fbpf_json_escape(p, o ? o->meta.policy : "", &lossy);
	p += sprintf(p, "\",\"handler\":\"");
	p = fbpf_json_escape(p, hd->name, &lossy);
	p += sprintf(p, "\",\"op\":\"%s\",\"flags\":[%s%s%s],\"path\":\"",
		     fbpf_defer_op_name(req->op),
		     req->flags & FBPF_IN_WRITE ? "\"write\"" : "",
		     (req->flags & FBPF_IN_WRITE) && (req->flags & FBPF_IN_TARGET) ? "," : "",
		     req->flags & FBPF_IN_TARGET ? "\"target\"" : "");
	lossy = 0;
	p = fbpf_json_escape(p, path, &lossy);
	*p++ = '"';
	if (lossy) {
		p += sprintf(p, ",\"path_pct\":\"");
		p = pct_str(p, path);
		*p++ = '"';
	}
	p += sprintf(p, ",\"uid\":%u,\"gid\":%u,\"pid\":%u,\"decision\":\"allow\",\"rule\":%u,\"line\":%u}\n",
		     req->uid, req->gid, req->pid, req->rule,
		     o ? fbpf_object_rule_line(o, req->rule) : 0);
	do
		w = write(hd->fd, buf, p - buf);
	while (w < 0 && errno == EINTR);
	if (w != p - buf) {
		fbpf_defer_report(hd->hs, "handler '%s': cannot write the audit line for %s %s: %s; the operation fails with EIO",
				  hd->name, fbpf_defer_op_name(req->op), path,
				  w < 0 ? strerror(errno) : "short write");
		rc = EIO;
	}
	if (buf != stack)
		free(buf);
	return rc;
}
