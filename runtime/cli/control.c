// SPDX-License-Identifier: GPL-2.0
/* The control socket of a mount: `fbpf-run stats` (see control.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "control.h"
#include "object.h"

int fbpf_ctl_canon(const char *mnt, char *out, size_t len)
{
	char a[PATH_MAX], b[PATH_MAX], dir[PATH_MAX];
	const char *base;
	size_t l;

	snprintf(a, sizeof(a), "%s", mnt);
	snprintf(b, sizeof(b), "%s", mnt);
	l = strlen(a);
	while (l > 1 && a[l - 1] == '/') {
		l--;
		a[l] = 0;
		b[l] = 0;
	}
	base = basename(a);
	if (!strcmp(base, "/") || !strcmp(base, ".") || !strcmp(base, "..")) {
		if (!realpath(mnt, dir))
			return -1;
		snprintf(out, len, "%s", dir);
		return 0;
	}
	if (!realpath(dirname(b), dir))
		return -1;
	if ((size_t)snprintf(out, len, "%s%s%s", dir, strcmp(dir, "/") ? "/" : "", base) >= len) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

static int base_dir(int root, char *out, size_t len)
{
	const char *x;

	if (root) {
		snprintf(out, len, "/run/fbpf");
		return 0;
	}
	x = getenv("XDG_RUNTIME_DIR");
	if (x && x[0] == '/')
		snprintf(out, len, "%s/fbpf", x);
	else
		snprintf(out, len, "/tmp/fbpf-%u", (unsigned)getuid());
	return 0;
}

int fbpf_ctl_path(const char *mnt, int which, char *out, size_t len)
{
	char dir[PATH_MAX], name[48];
	uint64_t h = 0xcbf29ce484222325ull;
	const char *p = mnt;
	size_t n = 0;
	int root = geteuid() == 0;

	if (which)
		root = !root;
	base_dir(root, dir, sizeof(dir));
	for (; *p; p++)
		h = (h ^ (unsigned char)*p) * 0x100000001b3ull;
	/* a readable part: the last 24 bytes of the path */
	p = strlen(mnt) > 24 ? mnt + strlen(mnt) - 24 : mnt;
	for (; *p && n < sizeof(name) - 1; p++)
		name[n++] = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
				    *p == '.' || *p == '_' ? *p : '-';
	name[n] = 0;
	if ((size_t)snprintf(out, len, "%s/%s-%016llx.sock", dir, name, (unsigned long long)h) >= len)
		return -1;
	return 0;
}

/* ------------------------------------------------------------------ */

static struct {
	const struct fbpf_mount_args *a;
	fbpf_hits_fn hits;
	void *ctx;
	int fd, stop[2];
	char path[PATH_MAX];
	pthread_t thread;
	int running;
} srv = { .fd = -1, .stop = { -1, -1 } };

static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c == '\n')
			fputs("\\n", f);
		else if (c == '\t')
			fputs("\\t", f);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

static void answer_stats(FILE *f, int json)
{
	const struct fbpf_object *o = srv.a->object;
	uint32_t n = o->meta.nrules + 1, r;
	uint64_t *hits = calloc(n, sizeof(*hits)), total = 0;
	char src[1024];

	if (!hits || srv.hits(srv.ctx, hits, n)) {
		fprintf(f, json ? "{\"error\":\"no statistics\"}\n" : "no statistics\n");
		free(hits);
		return;
	}
	for (r = 1; r < n; r++)
		total += hits[r];
	if (json) {
		fputs("{\"policy\":", f);
		json_str(f, o->meta.policy);
		fputs(",\"source_file\":", f);
		json_str(f, o->file ? o->file : "");
		fputs(",\"mode\":", f);
		json_str(f, srv.a->mode ? srv.a->mode : "fuse");
		fputs(",\"mount\":", f);
		json_str(f, srv.a->mnt);
		fputs(",\"lower\":", f);
		json_str(f, srv.a->lower);
		fprintf(f, ",\"total\":%llu,\"rules\":[", (unsigned long long)total);
	} else {
		fprintf(f, "policy %s (%s), %s mode, %s on %s\n", o->meta.policy, o->file ? o->file : "?",
			srv.a->mode ? srv.a->mode : "fuse", srv.a->lower, srv.a->mnt);
		fprintf(f, "%5s %5s %12s  %s\n", "rule", "line", "hits", "source");
	}
	for (r = 1; r < n; r++) {
		uint32_t line = fbpf_object_rule_line(o, r);
		const char *s = line ? fbpf_object_source_line(o, line, src, sizeof(src)) : NULL;

		if (!s)
			s = "";
		s += strspn(s, " \t");
		if (json) {
			fprintf(f, "%s{\"rule\":%u,\"line\":%u,\"hits\":%llu,\"source\":", r > 1 ? "," : "", r, line,
				(unsigned long long)hits[r]);
			json_str(f, s);
			fputc('}', f);
		} else {
			fprintf(f, "%5u %5u %12llu  %s\n", r, line, (unsigned long long)hits[r], s);
		}
	}
	if (json)
		fputs("]}\n", f);
	else
		fprintf(f, "total %llu\n", (unsigned long long)total);
	free(hits);
}

static void serve(int c)
{
	struct timeval tv = { 2, 0 };
	struct ucred cr;
	socklen_t cl = sizeof(cr);
	char line[128];
	size_t n = 0;
	ssize_t r;
	FILE *f;

	setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(c, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (getsockopt(c, SOL_SOCKET, SO_PEERCRED, &cr, &cl) || (cr.uid != 0 && cr.uid != geteuid())) {
		static const char no[] = "error: only root and the user who mounted the view may ask\n";

		if (write(c, no, sizeof(no) - 1) < 0)
			(void)0;
		close(c);
		return;
	}
	while (n < sizeof(line) - 1) {
		r = read(c, line + n, sizeof(line) - 1 - n);
		if (r <= 0)
			break;
		n += (size_t)r;
		if (memchr(line, '\n', n))
			break;
	}
	line[n] = 0;
	line[strcspn(line, "\r\n")] = 0;
	f = fdopen(c, "w");
	if (!f) {
		close(c);
		return;
	}
	if (!strcmp(line, "stats"))
		answer_stats(f, 0);
	else if (!strcmp(line, "stats json"))
		answer_stats(f, 1);
	else
		fprintf(f, "error: unknown request '%s'\n", line);
	fclose(f);
}

static void *ctl_thread(void *arg)
{
	(void)arg;
	for (;;) {
		struct pollfd p[2] = { { srv.fd, POLLIN, 0 }, { srv.stop[0], POLLIN, 0 } };
		int c;

		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[1].revents)
			break;
		if (p[0].revents & POLLIN) {
			c = accept4(srv.fd, NULL, NULL, SOCK_CLOEXEC);
			if (c >= 0)
				serve(c);
		}
	}
	return NULL;
}

int fbpf_ctl_start(const struct fbpf_mount_args *a, fbpf_hits_fn hits, void *ctx, char *err, size_t errlen)
{
	struct sockaddr_un sa;
	char dir[PATH_MAX], *slash;
	sigset_t all, old;
	int root = geteuid() == 0;

	if (srv.running)
		return 0;
	srv.a = a;
	srv.hits = hits;
	srv.ctx = ctx;
	if (fbpf_ctl_path(a->mnt, 0, srv.path, sizeof(srv.path)) || strlen(srv.path) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "the control socket path for %s is too long", a->mnt);
		return -1;
	}
	snprintf(dir, sizeof(dir), "%s", srv.path);
	slash = strrchr(dir, '/');
	*slash = 0;
	if (mkdir(dir, root ? 0755 : 0700) && errno != EEXIST) {
		snprintf(err, errlen, "cannot create %s: %s", dir, strerror(errno));
		return -1;
	}
	srv.fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (srv.fd < 0 || pipe2(srv.stop, O_CLOEXEC)) {
		snprintf(err, errlen, "cannot create the control socket: %s", strerror(errno));
		return -1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, srv.path, strlen(srv.path) + 1);
	unlink(srv.path); /* a socket left by a daemon that died */
	if (bind(srv.fd, (struct sockaddr *)&sa, sizeof(sa)) || chmod(srv.path, 0666) || listen(srv.fd, 8)) {
		snprintf(err, errlen, "cannot listen on %s: %s", srv.path, strerror(errno));
		close(srv.fd);
		srv.fd = -1;
		return -1;
	}
	/* The thread must not take the signals meant for the session. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	if (pthread_create(&srv.thread, NULL, ctl_thread, NULL)) {
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		snprintf(err, errlen, "cannot start the control thread");
		unlink(srv.path);
		return -1;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	srv.running = 1;
	return 0;
}

void fbpf_ctl_stop(void)
{
	if (!srv.running)
		return;
	if (write(srv.stop[1], "x", 1) < 0)
		(void)0;
	pthread_join(srv.thread, NULL);
	close(srv.fd);
	close(srv.stop[0]);
	close(srv.stop[1]);
	unlink(srv.path);
	srv.running = 0;
}

int fbpf_ctl_query(const char *mnt, const char *cmd, FILE *out, char *err, size_t errlen)
{
	struct sockaddr_un sa;
	char path[PATH_MAX], buf[4096];
	int which, fd = -1;
	ssize_t r;

	for (which = 0; which < 2; which++) {
		if (fbpf_ctl_path(mnt, which, path, sizeof(path)) || strlen(path) >= sizeof(sa.sun_path))
			continue;
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			break;
		memset(&sa, 0, sizeof(sa));
		sa.sun_family = AF_UNIX;
		memcpy(sa.sun_path, path, strlen(path) + 1);
		if (!connect(fd, (struct sockaddr *)&sa, sizeof(sa)))
			break;
		close(fd);
		fd = -1;
	}
	if (fd < 0) {
		snprintf(err, errlen, "no fbpf-run daemon serves %s (is it mounted with fbpf-run mount?)", mnt);
		return -1;
	}
	snprintf(buf, sizeof(buf), "%s\n", cmd);
	if (write(fd, buf, strlen(buf)) < 0) {
		snprintf(err, errlen, "the daemon of %s does not answer: %s", mnt, strerror(errno));
		close(fd);
		return -1;
	}
	while ((r = read(fd, buf, sizeof(buf))) > 0)
		fwrite(buf, 1, (size_t)r, out);
	close(fd);
	return 0;
}
