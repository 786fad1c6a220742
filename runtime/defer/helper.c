// SPDX-License-Identifier: GPL-2.0
/*
 * User handlers: one long-running helper process per handler, speaking the
 * line protocol of docs/handlers.md on its stdin and stdout.
 *
 * Callers (many threads) queue a request line, register a waiter under the
 * request's id and sleep until its answer, the helper's death or their
 * deadline. One supervisor thread per helper reads and dispatches the
 * answers, writes what the pipe could not take at once, notices the
 * helper's exit (pidfd, or EOF on its stdout) and restarts it with backoff.
 * Only the supervisor closes the helper's file descriptors; everything is
 * under the helper's lock except poll().
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "defer_int.h"

extern char **environ;

#define ANSWER_MAX 4096             /* longest answer line */
#define OBUF_MAX (1u << 20)         /* requests queued for a helper that does not read */
#define STABLE_MS 10000             /* a helper up this long has not "kept dying" */
#define STOP_GRACE_MS 1000          /* close: EOF, then SIGTERM, then SIGKILL */

struct waiter {
	uint64_t id;
	int done, err;
	pthread_cond_t cv;
	struct waiter *prev, *next;
};

enum hstate { H_DOWN, H_RUNNING };

struct helper {
	struct handler *hd;
	char **argv;
	char *command;
	char **envp;
	char *env_own[4];
	pthread_mutex_t lock;
	pthread_cond_t state_cv;    /* state changes, for callers waiting for a restart */
	pthread_t thread;
	int thread_started;
	int closing;
	enum hstate state;
	pid_t pid;
	int pidfd, in_fd, out_fd;   /* in_fd: the helper's stdin (we write) */
	int wake[2];
	int wake_pending;
	uint64_t started_ms, restart_at;
	unsigned fails;             /* quick deaths in a row */
	unsigned long spawns;       /* start attempts since open */
	uint64_t next_id;
	struct waiter *pending;
	char *obuf;
	size_t olen, ocap;
	char ibuf[ANSWER_MAX + 1];
	size_t ilen;
	int discarding;             /* skipping the rest of an overlong line */
};

static void report(struct helper *h, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void report(struct helper *h, const char *fmt, ...)
{
	char msg[900];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fbpf_defer_report(h->hd->hs, "handler '%s': %s", h->hd->name, msg);
}

static void deadline_ts(struct timespec *ts, uint64_t ms)
{
	ts->tv_sec = ms / 1000;
	ts->tv_nsec = (long)(ms % 1000) * 1000000;
}

static void wake_supervisor(struct helper *h)
{
	if (!h->wake_pending && write(h->wake[1], "", 1) == 1)
		h->wake_pending = 1;
}

static int fd_above_2(int fd)
{
	int nfd;

	if (fd < 0 || fd > 2)
		return fd;
	nfd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	close(fd);
	return nfd;
}

/* ------------------------------------------------------------ lifecycle */

/* Start the helper process. Returns 0, or an errno with the state left
 * H_DOWN. Lock held (or no thread yet). */
static int spawn(struct helper *h)
{
	int in[2] = { -1, -1 }, out[2] = { -1, -1 }, e;
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none, dfl;
	pid_t pid;

	if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC)) {
		e = errno;
		goto fail_pipes;
	}
	/* keep our pipe ends away from 0-2 so the dup2()s cannot clobber them */
	in[0] = fd_above_2(in[0]);
	in[1] = fd_above_2(in[1]);
	out[0] = fd_above_2(out[0]);
	out[1] = fd_above_2(out[1]);
	if (in[0] < 0 || in[1] < 0 || out[0] < 0 || out[1] < 0) {
		e = EMFILE;
		goto fail_pipes;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, in[0], 0);
	posix_spawn_file_actions_adddup2(&fa, out[1], 1);
#if defined(__GLIBC__) && (__GLIBC__ > 2 || __GLIBC_MINOR__ >= 34)
	posix_spawn_file_actions_addclosefrom_np(&fa, 3);
#endif
	posix_spawnattr_init(&attr);
	sigemptyset(&none);
	sigemptyset(&dfl);
	sigaddset(&dfl, SIGPIPE);
	sigaddset(&dfl, SIGINT);
	sigaddset(&dfl, SIGTERM);
	sigaddset(&dfl, SIGHUP);
	sigaddset(&dfl, SIGQUIT);
	sigaddset(&dfl, SIGCHLD);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &dfl);
	/* its own process group: a ^C meant for the daemon does not kill the
	 * helper before the daemon has shut down */
	posix_spawnattr_setpgroup(&attr, 0);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF |
				 POSIX_SPAWN_SETPGROUP);
	e = posix_spawnp(&pid, h->argv[0], &fa, &attr, h->argv, h->envp);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	close(in[0]);
	close(out[1]);
	if (e) {
		close(in[1]);
		close(out[0]);
		return e;
	}
	fcntl(in[1], F_SETFL, O_NONBLOCK);
	fcntl(out[0], F_SETFL, O_NONBLOCK);
	h->pid = pid;
	h->in_fd = in[1];
	h->out_fd = out[0];
	h->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (h->pidfd >= 0)
		fcntl(h->pidfd, F_SETFD, FD_CLOEXEC);
	h->ilen = 0;
	h->discarding = 0;
	h->olen = 0;
	h->started_ms = fbpf_defer_now_ms();
	h->state = H_RUNNING;
	pthread_cond_broadcast(&h->state_cv);
	return 0;
fail_pipes:
	if (in[0] >= 0)
		close(in[0]);
	if (in[1] >= 0)
		close(in[1]);
	if (out[0] >= 0)
		close(out[0]);
	if (out[1] >= 0)
		close(out[1]);
	return e;
}

/* Fail every waiting request with err; returns how many. */
static unsigned fail_pending(struct helper *h, int err)
{
	unsigned n = 0;
	struct waiter *w;

	while ((w = h->pending)) {
		h->pending = w->next;
		if (w->next)
			w->next->prev = NULL;
		w->prev = w->next = NULL;
		w->done = 1;
		w->err = err;
		pthread_cond_signal(&w->cv);
		n++;
	}
	return n;
}

static void describe_status(char *buf, size_t len, int st)
{
	if (WIFEXITED(st))
		snprintf(buf, len, "exited with status %d", WEXITSTATUS(st));
	else if (WIFSIGNALED(st))
		snprintf(buf, len, "was killed by signal %d (%s)", WTERMSIG(st), strsignal(WTERMSIG(st)));
	else
		snprintf(buf, len, "stopped running");
}

enum reaped { R_GONE, R_EXITED, R_KILLED };

/* Reap the helper, killing it if it does not exit within a moment (its
 * stdout may close a little before it becomes a zombie), and close its
 * descriptors. */
static enum reaped reap(struct helper *h, int *st)
{
	enum reaped how = R_GONE;
	pid_t r = 0;
	int i;

	for (i = 0; h->pid > 0 && i < 2; i++) {
		struct pollfd p = { .fd = h->pidfd, .events = POLLIN };

		do
			r = waitpid(h->pid, st, WNOHANG);
		while (r < 0 && errno == EINTR);
		if (r != 0 || i == 1)
			break;
		if (h->pidfd >= 0)
			poll(&p, 1, 100);
		else
			usleep(100000);
	}
	if (r == h->pid) {
		how = R_EXITED;
	} else if (r == 0) {
		kill(h->pid, SIGKILL);
		do
			r = waitpid(h->pid, st, 0);
		while (r < 0 && errno == EINTR);
		how = R_KILLED;
	}
	if (h->in_fd >= 0)
		close(h->in_fd);
	if (h->out_fd >= 0)
		close(h->out_fd);
	if (h->pidfd >= 0)
		close(h->pidfd);
	h->in_fd = h->out_fd = h->pidfd = -1;
	h->pid = 0;
	return how;
}

/* The helper is gone or broken (why: what we saw, for a helper that had to
 * be killed). Lock held. */
static void died(struct helper *h, const char *why)
{
	uint64_t now = fbpf_defer_now_ms(), delay;
	pid_t pid = h->pid;
	char status[160], who[32] = "";
	unsigned n;
	int st = 0;

	switch (reap(h, &st)) {
	case R_EXITED:
		describe_status(status, sizeof(status), st);
		break;
	case R_KILLED:
		snprintf(status, sizeof(status), "%s, so it was killed", why);
		break;
	default:
		snprintf(status, sizeof(status), "%s", why);
	}
	n = fail_pending(h, FBPF_ERR_NO_DAEMON);
	h->olen = 0;
	h->ilen = 0;
	if (now - h->started_ms >= STABLE_MS)
		h->fails = 1;
	else
		h->fails++;
	delay = (uint64_t)h->hd->hs->restart_ms << (h->fails - 1 < 20 ? h->fails - 1 : 20);
	if (delay > FBPF_DEFER_RESTART_MAX_MS)
		delay = FBPF_DEFER_RESTART_MAX_MS;
	h->restart_at = now + delay;
	h->state = H_DOWN;
	pthread_cond_broadcast(&h->state_cv);
	if (pid > 0)
		snprintf(who, sizeof(who), " (pid %d)", (int)pid);
	if (h->fails >= FBPF_DEFER_KEEPS_DYING)
		report(h, "helper '%s' keeps exiting (%u times in a row; last time it%s %s); its requests fail with ENOTCONN until it stays up; next start in %llu ms",
		       h->command, h->fails, who, status, (unsigned long long)delay);
	else
		report(h, "helper '%s'%s %s; %u request%s in flight fail%s with ENOTCONN; restarting it in %llu ms",
		       h->command, who, status, n, n == 1 ? "" : "s", n == 1 ? "s" : "",
		       (unsigned long long)delay);
}

/* ------------------------------------------------------------- answers */

static struct waiter *find_waiter(struct helper *h, uint64_t id)
{
	struct waiter *w;

	for (w = h->pending; w; w = w->next)
		if (w->id == id)
			return w;
	return NULL;
}

static void unlink_waiter(struct helper *h, struct waiter *w)
{
	if (w->prev)
		w->prev->next = w->next;
	else if (h->pending == w)
		h->pending = w->next;
	if (w->next)
		w->next->prev = w->prev;
	w->prev = w->next = NULL;
}

static void malformed(struct helper *h, const char *line, const char *why)
{
	report(h, "ignoring the malformed answer line \"%.120s\" from helper '%s': %s (expected \"ID allow\" or \"ID deny ERRNO\")",
	       line, h->command, why);
}

/* One answer line, without its newline. */
static void answer(struct helper *h, char *line)
{
	char *tok[4], *p = line, *end, orig[ANSWER_MAX + 1];
	unsigned long long id;
	struct waiter *w;
	int n = 0, err;
	size_t l = strlen(line);

	while (l && (line[l - 1] == '\r' || line[l - 1] == ' ' || line[l - 1] == '\t'))
		line[--l] = 0;
	if (!l)
		return; /* blank lines are allowed */
	memcpy(orig, line, l + 1);
	for (;;) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p)
			break;
		if (n == 4) {
			malformed(h, orig, "too many words");
			return;
		}
		tok[n++] = p;
		while (*p && *p != ' ' && *p != '\t')
			p++;
		if (*p)
			*p++ = 0;
	}
	errno = 0;
	id = strtoull(tok[0], &end, 10);
	if (*end || errno || tok[0][0] < '0' || tok[0][0] > '9' || id == 0) {
		malformed(h, orig, "it does not start with a request id");
		return;
	}
	if (n < 2) {
		malformed(h, orig, "no answer after the id");
		return;
	}
	if (!strcmp(tok[1], "allow")) {
		if (n != 2) {
			malformed(h, orig, "words after 'allow'");
			return;
		}
		err = 0;
	} else if (!strcmp(tok[1], "deny")) {
		if (n > 3) {
			malformed(h, orig, "more than one errno after 'deny'");
			return;
		}
		err = n == 3 ? fbpf_defer_errno_parse(tok[2]) : EACCES;
		if (!err) {
			char why[160];

			snprintf(why, sizeof(why), "'%.40s' is not an errno name like EACCES or a number from 1 to 4095", tok[2]);
			malformed(h, orig, why);
			return;
		}
	} else {
		char why[96];

		snprintf(why, sizeof(why), "'%.40s' is neither 'allow' nor 'deny'", tok[1]);
		malformed(h, orig, why);
		return;
	}
	w = find_waiter(h, id);
	if (!w) {
		if (id <= h->next_id)
			report(h, "ignoring the answer to request %llu: nobody waits for it any more (it timed out)", id);
		else
			report(h, "ignoring an answer to request %llu, which was never sent", id);
		return;
	}
	unlink_waiter(h, w);
	w->done = 1;
	w->err = err;
	pthread_cond_signal(&w->cv);
}

/* Read what the helper wrote. Returns -1 on EOF or error, else 0. */
static int read_answers(struct helper *h)
{
	for (;;) {
		ssize_t r = read(h->out_fd, h->ibuf + h->ilen, ANSWER_MAX - h->ilen);
		size_t start = 0, i;

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return errno == EAGAIN ? 0 : -1;
		if (r == 0)
			return -1;
		h->ilen += r;
		for (i = 0; i < h->ilen; i++) {
			if (h->ibuf[i] != '\n')
				continue;
			h->ibuf[i] = 0;
			if (h->discarding)
				h->discarding = 0;
			else if (memchr(h->ibuf + start, 0, i - start))
				malformed(h, "", "it contains a NUL byte");
			else
				answer(h, h->ibuf + start);
			start = i + 1;
		}
		memmove(h->ibuf, h->ibuf + start, h->ilen - start);
		h->ilen -= start;
		if (h->ilen == ANSWER_MAX) {
			if (!h->discarding) {
				h->ibuf[60] = 0;
				malformed(h, h->ibuf, "the line is longer than 4096 bytes");
			}
			h->discarding = 1;
			h->ilen = 0;
		}
	}
}

/* Write queued requests. Returns -1 when the helper cannot take them any
 * more (EPIPE). */
static int flush_requests(struct helper *h)
{
	while (h->olen) {
		ssize_t w = write(h->in_fd, h->obuf, h->olen);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return errno == EAGAIN ? 0 : -1;
		memmove(h->obuf, h->obuf + w, h->olen - w);
		h->olen -= w;
	}
	return 0;
}

/* ---------------------------------------------------------- supervisor */

/* Wait up to ms for the helper to exit by itself. Lock held; dropped
 * while waiting. Returns 1 when it exited. */
static int wait_exit(struct helper *h, unsigned ms, int *st)
{
	uint64_t end = fbpf_defer_now_ms() + ms;
	pid_t r;

	for (;;) {
		uint64_t now;
		struct pollfd p = { .fd = h->pidfd, .events = POLLIN };

		do
			r = waitpid(h->pid, st, WNOHANG);
		while (r < 0 && errno == EINTR);
		if (r != 0)
			return 1; /* exited, or not ours to wait for (ECHILD) */
		now = fbpf_defer_now_ms();
		if (now >= end)
			return 0;
		pthread_mutex_unlock(&h->lock);
		if (h->pidfd >= 0)
			poll(&p, 1, (int)(end - now));
		else
			usleep(10000);
		pthread_mutex_lock(&h->lock);
	}
}

static void shutdown_helper(struct helper *h)
{
	int st = 0;

	if (h->state != H_RUNNING)
		return;
	/* EOF on its stdin asks it to exit */
	close(h->in_fd);
	h->in_fd = -1;
	if (!wait_exit(h, STOP_GRACE_MS, &st)) {
		kill(h->pid, SIGTERM);
		if (!wait_exit(h, STOP_GRACE_MS, &st)) {
			report(h, "helper '%s' (pid %d) did not exit after EOF on its stdin and SIGTERM; killing it",
			       h->command, (int)h->pid);
			kill(h->pid, SIGKILL);
			while (waitpid(h->pid, &st, 0) < 0 && errno == EINTR)
				;
		}
	}
	h->pid = 0; /* reaped */
	reap(h, &st);
	h->state = H_DOWN;
}

static void *supervise(void *arg)
{
	struct helper *h = arg;
	sigset_t pipe_set;

	/* belt and braces: whatever the process does with SIGPIPE, writes to
	 * a dead helper give this thread EPIPE */
	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe_set, NULL);

	pthread_mutex_lock(&h->lock);
	for (;;) {
		struct pollfd p[4];
		int np = 0, timeout = -1, iw = -1, io = -1, ip = -1;
		uint64_t now;
		char drain[64];

		if (h->closing)
			break;
		now = fbpf_defer_now_ms();
		if (h->state == H_DOWN && now >= h->restart_at) {
			int e = spawn(h);

			h->spawns++;
			pthread_cond_broadcast(&h->state_cv);
			if (e) {
				report(h, "cannot start helper '%s': %s", h->command, strerror(e));
				h->started_ms = now;
				died(h, "could not start");
			} else if (h->fails) {
				report(h, "helper '%s' started again (pid %d)", h->command, (int)h->pid);
			}
		}
		p[np].fd = h->wake[0];
		p[np++].events = POLLIN;
		if (h->state == H_RUNNING) {
			io = np;
			p[np].fd = h->out_fd;
			p[np++].events = POLLIN;
			if (h->pidfd >= 0) {
				ip = np;
				p[np].fd = h->pidfd;
				p[np++].events = POLLIN;
			}
			if (h->olen) {
				iw = np;
				p[np].fd = h->in_fd;
				p[np++].events = POLLOUT;
			}
		} else {
			timeout = h->restart_at > now ? (int)(h->restart_at - now) : 0;
		}
		pthread_mutex_unlock(&h->lock);
		if (poll(p, np, timeout) < 0 && errno != EINTR) {
			pthread_mutex_lock(&h->lock);
			report(h, "poll failed: %s", strerror(errno));
			pthread_mutex_unlock(&h->lock);
			usleep(100000);
		}
		pthread_mutex_lock(&h->lock);
		if (p[0].revents & POLLIN) {
			while (read(h->wake[0], drain, sizeof(drain)) > 0)
				;
			h->wake_pending = 0;
		}
		if (h->state != H_RUNNING || h->closing)
			continue;
		if (io >= 0 && (p[io].revents & (POLLIN | POLLHUP | POLLERR))) {
			if (read_answers(h) < 0) {
				died(h, "closed its stdout");
				continue;
			}
		}
		if (ip >= 0 && (p[ip].revents & POLLIN)) {
			read_answers(h); /* answers written just before it exited count */
			died(h, "exited");
			continue;
		}
		if (iw >= 0 && (p[iw].revents & (POLLOUT | POLLERR | POLLHUP))) {
			if (flush_requests(h) < 0) {
				died(h, "stopped reading its stdin");
				continue;
			}
		}
	}
	shutdown_helper(h);
	fail_pending(h, FBPF_ERR_NO_DAEMON);
	pthread_mutex_unlock(&h->lock);
	return NULL;
}

/* --------------------------------------------------------------- public */

/* The daemon's environment plus FBPF_HANDLER, FBPF_POLICY, FBPF_PROTOCOL
 * and FBPF_TIMEOUT_MS; the strings we add are kept in h->env_own. */
static char **helper_env(struct helper *h, const char *name, const char *policy, unsigned timeout_ms)
{
	size_t n = 0, i, k = 0;
	char **env;

	while (environ && environ[n])
		n++;
	env = calloc(n + 5, sizeof(char *));
	if (!env)
		return NULL;
	for (i = 0; i < n; i++)
		if (strncmp(environ[i], "FBPF_HANDLER=", 13) && strncmp(environ[i], "FBPF_POLICY=", 12) &&
		    strncmp(environ[i], "FBPF_PROTOCOL=", 14) && strncmp(environ[i], "FBPF_TIMEOUT_MS=", 16))
			env[k++] = environ[i];
	if (asprintf(&h->env_own[0], "FBPF_HANDLER=%s", name) < 0 ||
	    asprintf(&h->env_own[1], "FBPF_POLICY=%s", policy) < 0 ||
	    asprintf(&h->env_own[2], "FBPF_PROTOCOL=1") < 0 ||
	    asprintf(&h->env_own[3], "FBPF_TIMEOUT_MS=%u", timeout_ms) < 0) {
		free(env);
		return NULL;
	}
	for (i = 0; i < 4; i++)
		env[k++] = h->env_own[i];
	return env;
}

static void helper_free(struct helper *h)
{
	char **p;
	int i;

	if (h->wake[0] >= 0)
		close(h->wake[0]);
	if (h->wake[1] >= 0)
		close(h->wake[1]);
	for (p = h->argv; p && *p; p++)
		free(*p);
	free(h->argv);
	free(h->command);
	free(h->envp);
	for (i = 0; i < 4; i++)
		free(h->env_own[i]);
	free(h->obuf);
	pthread_cond_destroy(&h->state_cv);
	pthread_mutex_destroy(&h->lock);
	free(h);
}

int fbpf_helper_start(struct handler *hd, const struct fbpf_handler_spec *spec, char *err, size_t errlen)
{
	struct helper *h = calloc(1, sizeof(*h));
	pthread_condattr_t ca;
	size_t n = 0, i;
	int e;

	if (!h) {
		snprintf(err, errlen, "out of memory starting handler '%s'", hd->name);
		return -1;
	}
	h->hd = hd;
	h->wake[0] = h->wake[1] = -1;
	h->in_fd = h->out_fd = h->pidfd = -1;
	pthread_mutex_init(&h->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&h->state_cv, &ca);
	pthread_condattr_destroy(&ca);
	while (spec->argv[n])
		n++;
	h->argv = calloc(n + 1, sizeof(char *));
	h->command = strdup(spec->command ? spec->command : spec->argv[0]);
	h->envp = helper_env(h, hd->name, hd->hs->o ? hd->hs->o->meta.policy : "", hd->hs->timeout_ms);
	if (!h->argv || !h->command || !h->envp)
		goto nomem;
	for (i = 0; i < n; i++)
		if (!(h->argv[i] = strdup(spec->argv[i])))
			goto nomem;
	if (pipe2(h->wake, O_CLOEXEC | O_NONBLOCK)) {
		snprintf(err, errlen, "cannot start handler '%s': %s", hd->name, strerror(errno));
		goto fail;
	}
	e = spawn(h);
	if (e) {
		snprintf(err, errlen, "cannot run '%s' for handler '%s': %s; check the --handler %s=... option",
			 h->argv[0], hd->name, strerror(e), hd->name);
		goto fail;
	}
	hd->helper = h;
	e = pthread_create(&h->thread, NULL, supervise, h);
	if (e) {
		snprintf(err, errlen, "cannot start handler '%s': %s", hd->name, strerror(e));
		hd->helper = NULL;
		kill(h->pid, SIGKILL);
		reap(h, &(int){ 0 });
		goto fail;
	}
	h->thread_started = 1;
	return 0;
nomem:
	snprintf(err, errlen, "out of memory starting handler '%s'", hd->name);
fail:
	helper_free(h);
	return -1;
}

void fbpf_helper_stop(struct handler *hd)
{
	struct helper *h = hd->helper;

	if (!h)
		return;
	pthread_mutex_lock(&h->lock);
	h->closing = 1;
	pthread_cond_broadcast(&h->state_cv);
	wake_supervisor(h);
	pthread_mutex_unlock(&h->lock);
	if (h->thread_started)
		pthread_join(h->thread, NULL);
	hd->helper = NULL;
	helper_free(h);
}

int fbpf_helper_pid(struct handler *hd)
{
	struct helper *h = hd->helper;
	int pid;

	if (!h)
		return 0;
	pthread_mutex_lock(&h->lock);
	pid = h->state == H_RUNNING ? (int)h->pid : 0;
	pthread_mutex_unlock(&h->lock);
	return pid;
}

/* "ID OP UID GID PID RULE FLAGS PATH\n" with the path percent-encoded. */
static char *request_line(const struct fbpf_defer_req *req, uint64_t id, size_t *len)
{
	const unsigned char *s = (const unsigned char *)(req->path ? req->path : "");
	size_t plen = strlen((const char *)s);
	char *line = malloc(plen * 3 + 160), *p;
	const char *flags;

	if (!line)
		return NULL;
	switch (req->flags & (FBPF_IN_WRITE | FBPF_IN_TARGET)) {
	case FBPF_IN_WRITE:
		flags = "write";
		break;
	case FBPF_IN_TARGET:
		flags = "target";
		break;
	case FBPF_IN_WRITE | FBPF_IN_TARGET:
		flags = "write,target";
		break;
	default:
		flags = "-";
	}
	p = line + sprintf(line, "%llu %s %u %u %u %u %s ", (unsigned long long)id,
			   fbpf_defer_op_name(req->op), req->uid, req->gid, req->pid, req->rule, flags);
	if (!*s)
		*p++ = '/';
	for (; *s; s++) {
		if (*s <= 0x20 || *s >= 0x7f || *s == '%')
			p += sprintf(p, "%%%02X", *s);
		else
			*p++ = *s;
	}
	*p++ = '\n';
	*len = p - line;
	return line;
}

static int queue(struct helper *h, const char *line, size_t len)
{
	if (h->olen + len > OBUF_MAX)
		return -1;
	if (h->olen + len > h->ocap) {
		size_t cap = h->ocap ? h->ocap : 4096;
		char *nb;

		while (cap < h->olen + len)
			cap *= 2;
		nb = realloc(h->obuf, cap);
		if (!nb)
			return -1;
		h->obuf = nb;
		h->ocap = cap;
	}
	memcpy(h->obuf + h->olen, line, len);
	h->olen += len;
	wake_supervisor(h);
	return 0;
}

int fbpf_helper_call(struct handler *hd, const struct fbpf_defer_req *req)
{
	struct helper *h = hd->helper;
	uint64_t deadline = fbpf_defer_now_ms() + hd->hs->timeout_ms;
	struct timespec ts;
	pthread_condattr_t ca;
	struct waiter w;
	char *line;
	size_t len, off = 0;
	int waited = 0;

	if (!h)
		return FBPF_ERR_NO_DAEMON;
	deadline_ts(&ts, deadline);
	pthread_mutex_lock(&h->lock);
	while (h->state != H_RUNNING && !h->closing) {
		/* Down: wait for the restart if it comes within our time,
		 * unless the helper keeps dying (then fail at once). */
		unsigned long spawns = h->spawns;

		if (waited || h->fails >= FBPF_DEFER_KEEPS_DYING || h->restart_at > deadline) {
			pthread_mutex_unlock(&h->lock);
			return FBPF_ERR_NO_DAEMON;
		}
		/* until the next start attempt, whatever its outcome */
		while (h->spawns == spawns && !h->closing &&
		       pthread_cond_timedwait(&h->state_cv, &h->lock, &ts) != ETIMEDOUT)
			;
		waited = 1;
	}
	if (h->closing) {
		pthread_mutex_unlock(&h->lock);
		return FBPF_ERR_NO_DAEMON;
	}
	w.id = ++h->next_id;
	line = request_line(req, w.id, &len);
	if (!line) {
		pthread_mutex_unlock(&h->lock);
		report(h, "out of memory sending a request; the operation fails with ENOTCONN");
		return FBPF_ERR_NO_DAEMON;
	}
	if (!h->olen) {
		/* straight into the pipe when nothing waits before us */
		ssize_t n = write(h->in_fd, line, len);

		if (n > 0)
			off = n;
	}
	if (off < len && queue(h, line + off, len - off)) {
		/* a helper that reads nothing is as good as one that answers nothing */
		free(line);
		report(h, "helper '%s' does not read its requests (%u bytes queued); request %llu fails with ETIMEDOUT",
		       h->command, (unsigned)h->olen, (unsigned long long)w.id);
		pthread_mutex_unlock(&h->lock);
		return FBPF_ERR_TIMEOUT;
	}
	free(line);
	w.done = 0;
	w.err = 0;
	w.prev = NULL;
	w.next = h->pending;
	if (h->pending)
		h->pending->prev = &w;
	h->pending = &w;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&w.cv, &ca);
	pthread_condattr_destroy(&ca);
	while (!w.done) {
		if (pthread_cond_timedwait(&w.cv, &h->lock, &ts) == ETIMEDOUT && !w.done) {
			unlink_waiter(h, &w);
			w.err = FBPF_ERR_TIMEOUT;
			report(h, "no answer to request %llu (%s %s) within %u ms; the operation fails with ETIMEDOUT",
			       (unsigned long long)w.id, fbpf_defer_op_name(req->op),
			       req->path ? req->path : "", hd->hs->timeout_ms);
			break;
		}
	}
	pthread_mutex_unlock(&h->lock);
	pthread_cond_destroy(&w.cv);
	return w.err;
}
