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

/* Length of the valid UTF-8 sequence at s (at most n bytes), 0 if invalid. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	size_t len, i;
	uint32_t cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		len = 2;
		cp = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		len = 3;
		cp = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4;
		cp = s[0] & 0x07;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return len;
}

/* Append s as the contents of a JSON string; invalid UTF-8 bytes become
 * U+FFFD. Returns the new end; *lossy is set when a byte was replaced.
 * Needs at most 6 bytes of room per input byte. */
static char *json_str(char *p, const char *str, int *lossy)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t n = strlen(str), l;

	while (n) {
		if (*s == '"' || *s == '\\') {
			*p++ = '\\';
			*p++ = *s++;
			n--;
		} else if (*s < 0x20 || *s == 0x7f) {
			p += sprintf(p, "\\u%04x", *s++);
			n--;
		} else if ((l = utf8_len(s, n)) != 0) {
			memcpy(p, s, l);
			p += l;
			s += l;
			n -= l;
		} else {
			memcpy(p, "\xef\xbf\xbd", 3);
			p += 3;
			s++;
			n--;
			*lossy = 1;
		}
	}
	return p;
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
	p = json_str(p, o ? o->meta.policy : "", &lossy);
	p += sprintf(p, "\",\"handler\":\"");
	p = json_str(p, hd->name, &lossy);
	p += sprintf(p, "\",\"op\":\"%s\",\"flags\":[%s%s%s],\"path\":\"",
		     fbpf_defer_op_name(req->op),
		     req->flags & FBPF_IN_WRITE ? "\"write\"" : "",
		     (req->flags & FBPF_IN_WRITE) && (req->flags & FBPF_IN_TARGET) ? "," : "",
		     req->flags & FBPF_IN_TARGET ? "\"target\"" : "");
	lossy = 0;
	p = json_str(p, path, &lossy);
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
