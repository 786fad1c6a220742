// SPDX-License-Identifier: GPL-2.0
/*
 * A handler helper for the tests of runtime/defer: speaks the line
 * protocol of docs/handlers.md and does what the request's path asks.
 *
 *   /deny/NAME      ID deny NAME
 *   /denyplain      ID deny
 *   /hang           no answer
 *   /die            exit 3 at once, without answering
 *   /late/MS        ID deny EPERM, after MS milliseconds
 *   /garbage        malformed lines, then ID allow
 *   /wrongid        an answer to a request never sent, then ID allow
 *   /closestdin     close stdin, answer ID allow, then wait
 *   /t/N/E          ID allow if E is 0, else ID deny E (E a number)
 *   anything else   ID allow
 *
 * Options: --record FILE appends every request line (and, at start, the
 * FBPF_* environment) to FILE; --swap answers requests in pairs, the
 * second first (a lone request after 50 ms idle); --stubborn ignores EOF
 * and SIGTERM and never reads. Modes that stop reading exit once nobody
 * reads their stdout.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static FILE *rec;

/* Wait until nobody reads our stdout any more (the test is over), so that
 * a failed test leaves no process behind. */
static void wait_for_reader_gone(void)
{
	struct pollfd p = { .fd = 1, .events = 0 };

	for (;;)
		if (poll(&p, 1, -1) > 0 && (p.revents & (POLLERR | POLLHUP | POLLNVAL)))
			exit(0);
}

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	char buf[8192];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (write(1, buf, n) != n)
		exit(5);
}

/* Answer one request line (without its newline). */
static void handle(char *line)
{
	char id[32], path[8192];
	int e;

	if (rec) {
		fprintf(rec, "%s\n", line);
		fflush(rec);
	}
	if (sscanf(line, "%31s %*s %*s %*s %*s %*s %*s %8191s", id, path) != 2) {
		say("this is not a request\n");
		return;
	}
	if (!strncmp(path, "/deny/", 6)) {
		say("%s deny %s\n", id, path + 6);
	} else if (!strcmp(path, "/denyplain")) {
		say("%s deny\n", id);
	} else if (!strcmp(path, "/hang")) {
		/* no answer */
	} else if (!strcmp(path, "/die")) {
		exit(3);
	} else if (!strncmp(path, "/late/", 6)) {
		usleep(atoi(path + 6) * 1000);
		say("%s deny EPERM\n", id);
	} else if (!strcmp(path, "/garbage")) {
		char big[6000];

		memset(big, 'x', sizeof(big) - 1);
		big[sizeof(big) - 1] = 0;
		say("hello\n");
		say("%s\n", id);
		say("%s maybe\n", id);
		say("%s deny ENOSUCHERRNO\n", id);
		say("%s deny 0\n", id);
		say("%s allow please\n", id);
		say("x%s allow\n", id);
		say("%s\n", big);
		say("%s allow\n", id);
	} else if (!strcmp(path, "/wrongid")) {
		say("%llu allow\n", strtoull(id, NULL, 10) + 1000000);
		say("%s allow\n", id);
	} else if (!strcmp(path, "/closestdin")) {
		close(0);
		say("%s allow\n", id);
		wait_for_reader_gone();
	} else if (sscanf(path, "/t/%*d/%d", &e) == 1) {
		if (e)
			say("%s deny %d\n", id, e);
		else
			say("%s allow\n", id);
	} else {
		say("%s allow\n", id);
	}
}

int main(int argc, char **argv)
{
	static char buf[65536];
	size_t len = 0;
	char *held = NULL;
	int swap = 0, i;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--record") && i + 1 < argc) {
			rec = fopen(argv[++i], "a");
			if (!rec)
				return 2;
			fprintf(rec, "env %s %s %s %s\n", getenv("FBPF_HANDLER"), getenv("FBPF_POLICY"),
				getenv("FBPF_PROTOCOL"), getenv("FBPF_TIMEOUT_MS"));
			fflush(rec);
		} else if (!strcmp(argv[i], "--swap")) {
			swap = 1;
		} else if (!strcmp(argv[i], "--stubborn")) {
			signal(SIGTERM, SIG_IGN);
			wait_for_reader_gone();
		} else {
			fprintf(stderr, "test helper: unknown option %s\n", argv[i]);
			return 2;
		}
	}
	for (;;) {
		struct pollfd p = { .fd = 0, .events = POLLIN };
		char *nl;
		ssize_t r;

		if (held && poll(&p, 1, 50) == 0) {
			handle(held);
			free(held);
			held = NULL;
			continue;
		}
		r = read(0, buf + len, sizeof(buf) - 1 - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return 0; /* EOF: the daemon is done with us */
		len += r;
		while ((nl = memchr(buf, '\n', len))) {
			*nl = 0;
			if (!swap) {
				handle(buf);
			} else if (!held) {
				held = strdup(buf);
			} else {
				handle(buf);
				handle(held);
				free(held);
				held = NULL;
			}
			len -= nl + 1 - buf;
			memmove(buf, nl + 1, len);
		}
	}
}
