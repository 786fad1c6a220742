// SPDX-License-Identifier: GPL-2.0
/*
 * Deferred operations: the --handler options, setting the handlers up for
 * an object, dispatching requests to them, and reporting problems.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "defer_int.h"

#define HANDLER_NAME_MAX 32

static const char *const op_names[FBPF_OP_COUNT] = {
	[FBPF_OP_LOOKUP] = "lookup", [FBPF_OP_READDIR] = "readdir",
	[FBPF_OP_GETATTR] = "getattr", [FBPF_OP_OPEN] = "open",
	[FBPF_OP_READ] = "read", [FBPF_OP_WRITE] = "write",
	[FBPF_OP_CREATE] = "create", [FBPF_OP_DELETE] = "delete",
	[FBPF_OP_RENAME] = "rename", [FBPF_OP_SETATTR] = "setattr",
};

const char *fbpf_defer_op_name(uint32_t op)
{
	return op < FBPF_OP_COUNT ? op_names[op] : "unknown";
}

uint64_t fbpf_defer_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ---------------------------------------------------------------- errnos */

static const struct {
	const char *name;
	int e;
} errno_aliases[] = {
	{ "EWOULDBLOCK", EWOULDBLOCK }, { "EDEADLOCK", EDEADLOCK }, { "ENOTSUP", ENOTSUP },
};

const char *fbpf_defer_errno_name(int e, char *buf)
{
	const char *s = e > 0 ? strerrorname_np(e) : NULL;

	if (s)
		return s;
	snprintf(buf, 16, "%d", e);
	return buf;
}

int fbpf_defer_errno_parse(const char *s)
{
	size_t i;
	int e;

	if (isdigit((unsigned char)*s)) {
		char *end;
		long v;

		errno = 0;
		v = strtol(s, &end, 10);
		if (*end || errno || v < 1 || v > 4095)
			return 0;
		return (int)v;
	}
	if (s[0] != 'E')
		return 0;
	for (i = 0; i < sizeof(errno_aliases) / sizeof(errno_aliases[0]); i++)
		if (!strcmp(s, errno_aliases[i].name))
			return errno_aliases[i].e;
	for (e = 1; e < 256; e++) {
		const char *n = strerrorname_np(e);

		if (n && !strcmp(n, s))
			return e;
	}
	return 0;
}

/* ------------------------------------------------------------- reporting */

#define REPORT_WINDOW_MS 10000
#define REPORT_MAX 20

void fbpf_defer_report(struct fbpf_handlers *hs, const char *fmt, ...)
{
	char msg[1024], line[1100];
	uint64_t now = fbpf_defer_now_ms();
	unsigned suppressed = 0;
	va_list ap;

	pthread_mutex_lock(&hs->rep_lock);
	if (now - hs->rep_window >= REPORT_WINDOW_MS) {
		suppressed = hs->rep_suppressed;
		hs->rep_window = now;
		hs->rep_count = 0;
		hs->rep_suppressed = 0;
	}
	if (hs->rep_count >= REPORT_MAX) {
		hs->rep_suppressed++;
		pthread_mutex_unlock(&hs->rep_lock);
		return;
	}
	hs->rep_count++;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (suppressed) {
		char note[96];

		snprintf(note, sizeof(note), "%u more messages about handlers were suppressed", suppressed);
		if (hs->report)
			hs->report(hs->report_arg, note);
		else
			dprintf(2, "fbpf-run: %s\n", note);
	}
	if (hs->report) {
		hs->report(hs->report_arg, msg);
	} else {
		/* one write per message, so that lines from threads do not mix */
		int n = snprintf(line, sizeof(line), "fbpf-run: %s\n", msg);

		if (n > (int)sizeof(line) - 1)
			n = sizeof(line) - 1;
		if (write(2, line, n) < 0) {
			/* nowhere left to say it */
		}
	}
	pthread_mutex_unlock(&hs->rep_lock);
}

/* --------------------------------------------------------------- options */

static int valid_handler_name(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || len > HANDLER_NAME_MAX || !(isalpha((unsigned char)s[0]) || s[0] == '_'))
		return 0;
	for (i = 0; i < len; i++)
		if (!(isalnum((unsigned char)s[i]) || s[i] == '_' || s[i] == '.' || s[i] == '-'))
			return 0;
	return 1;
}

static void free_argv(char **argv)
{
	char **p;

	if (!argv)
		return;
	for (p = argv; *p; p++)
		free(*p);
	free(argv);
}

/* Split a command line into words: blanks separate words, '...' is
 * literal, "..." keeps blanks and takes \" \\ \$ \` as escapes, and a
 * backslash outside quotes escapes the next character. No other shell
 * syntax: use `sh -c '...'` for that. */
static char **split_command(const char *s, const char **why)
{
	size_t cap = 4, n = 0, len = strlen(s);
	char **argv = calloc(cap, sizeof(char *));
	char *word = malloc(len + 1);

	if (!argv || !word)
		goto nomem;
	for (;;) {
		size_t wl = 0;
		int have = 0;

		while (*s == ' ' || *s == '\t')
			s++;
		if (!*s)
			break;
		while (*s && *s != ' ' && *s != '\t') {
			have = 1;
			if (*s == '\'') {
				const char *e = strchr(s + 1, '\'');

				if (!e) {
					*why = "it has an unterminated ' quote";
					goto fail;
				}
				memcpy(word + wl, s + 1, e - s - 1);
				wl += e - s - 1;
				s = e + 1;
			} else if (*s == '"') {
				s++;
				while (*s && *s != '"') {
					if (*s == '\\' && s[1] && strchr("\"\\$`", s[1]))
						s++;
					word[wl++] = *s++;
				}
				if (*s != '"') {
					*why = "it has an unterminated \" quote";
					goto fail;
				}
				s++;
			} else if (*s == '\\' && s[1]) {
				word[wl++] = s[1];
				s += 2;
			} else {
				word[wl++] = *s++;
			}
		}
		if (!have)
			continue;
		if (n + 2 > cap) {
			char **nv = realloc(argv, (cap *= 2) * sizeof(char *));

			if (!nv)
				goto nomem;
			argv = nv;
		}
		argv[n] = strndup(word, wl);
		if (!argv[n])
			goto nomem;
		argv[++n] = NULL;
	}
	free(word);
	if (n == 0) {
		*why = "the command is empty";
		free_argv(argv);
		return NULL;
	}
	return argv;
nomem:
	*why = "out of memory";
fail:
	free(word);
	free_argv(argv);
	return NULL;
}

int fbpf_handler_opts_parse(struct fbpf_handler_opts *opts, const char *arg)
{
	const char *eq = strchr(arg, '='), *spec, *why = NULL;
	struct fbpf_handler_spec s, *nv;
	size_t nlen, i, nlen_cmd;

	memset(&s, 0, sizeof(s));
	if (!eq) {
		fprintf(stderr, "fbpf-run: --handler %s: expected NAME=SPEC, for example --handler authz=/usr/local/bin/authz or --handler audit=audit:/var/log/fbpf.log\n", arg);
		return -1;
	}
	nlen = eq - arg;
	spec = eq + 1;
	if (!valid_handler_name(arg, nlen)) {
		fprintf(stderr, "fbpf-run: --handler %s: '%.*s' is not a handler name: use the name the policy's defer rule gives (letters, digits, '_', '.', '-', starting with a letter or '_', at most %d bytes)\n",
			arg, (int)nlen, arg, HANDLER_NAME_MAX);
		return -1;
	}
	for (i = 0; i < opts->nspecs; i++) {
		if (strlen(opts->specs[i].name) == nlen && !strncmp(opts->specs[i].name, arg, nlen)) {
			fprintf(stderr, "fbpf-run: --handler %s: handler '%.*s' is configured twice; give one --handler option per name\n",
				arg, (int)nlen, arg);
			return -1;
		}
	}
	if (!strcmp(spec, "audit")) {
		s.kind = FBPF_HANDLER_AUDIT;
	} else if (!strncmp(spec, "audit:", 6)) {
		s.kind = FBPF_HANDLER_AUDIT;
		if (!spec[6]) {
			fprintf(stderr, "fbpf-run: --handler %s: the audit log file name is empty; give audit:FILE, or audit for stderr\n", arg);
			return -1;
		}
		s.file = strdup(spec + 6);
		if (!s.file)
			goto nomem;
	} else {
		const char *cmd = !strncmp(spec, "exec:", 5) ? spec + 5 : spec;

		s.kind = FBPF_HANDLER_EXEC;
		s.argv = split_command(cmd, &why);
		if (!s.argv) {
			fprintf(stderr, "fbpf-run: --handler %s: %s; give the helper's command line, for example --handler %.*s=exec:/usr/local/bin/authz --db /etc/authz.db\n",
				arg, why, (int)nlen, arg);
			return -1;
		}
		while (*cmd == ' ' || *cmd == '\t')
			cmd++;
		s.command = strdup(cmd);
		if (!s.command)
			goto nomem;
		nlen_cmd = strlen(s.command);
		while (nlen_cmd && (s.command[nlen_cmd - 1] == ' ' || s.command[nlen_cmd - 1] == '\t'))
			s.command[--nlen_cmd] = 0;
	}
	s.name = strndup(arg, nlen);
	nv = realloc(opts->specs, (opts->nspecs + 1) * sizeof(*nv));
	if (!s.name || !nv)
		goto nomem;
	opts->specs = nv;
	opts->specs[opts->nspecs++] = s;
	return 0;
nomem:
	fprintf(stderr, "fbpf-run: --handler %s: out of memory\n", arg);
	free(s.name);
	free(s.file);
	free(s.command);
	free_argv(s.argv);
	return -1;
}

void fbpf_handler_opts_free(struct fbpf_handler_opts *opts)
{
	size_t i;

	for (i = 0; i < opts->nspecs; i++) {
		free(opts->specs[i].name);
		free(opts->specs[i].file);
		free(opts->specs[i].command);
		free_argv(opts->specs[i].argv);
	}
	free(opts->specs);
	opts->specs = NULL;
	opts->nspecs = 0;
}

/* ------------------------------------------------------------- handlers */

/* Source line of the first rule that defers to handler index i, 0 if none. */
static uint32_t handler_line(const struct fbpf_object *o, uint32_t i)
{
	uint32_t r, nrules = o->nwords > FBPF_T_NRULES ? o->words[FBPF_T_NRULES] : 0;

	for (r = 0; r < nrules; r++) {
		uint64_t at = (uint64_t)o->words[FBPF_T_RULES] + (uint64_t)r * FBPF_RULE_WORDS;

		if (at + FBPF_RULE_WORDS > o->nwords)
			break;
		if (o->words[at + FBPF_RW_KIND] == FBPF_R_DEFER && o->words[at + FBPF_RW_A0] == i)
			return o->words[at + FBPF_RW_LINE];
	}
	return 0;
}

static const struct fbpf_handler_spec *find_spec(const struct fbpf_handler_opts *opts, const char *name)
{
	size_t i;

	for (i = 0; opts && i < opts->nspecs; i++)
		if (!strcmp(opts->specs[i].name, name))
			return &opts->specs[i];
	return NULL;
}

int fbpf_handlers_open(struct fbpf_handlers **out, const struct fbpf_object *o,
		       const struct fbpf_handler_opts *opts, char *err, size_t errlen)
{
	struct fbpf_handlers *hs;
	struct sigaction sa;
	uint32_t i;
	size_t k;

	*out = NULL;
	hs = calloc(1, sizeof(*hs));
	if (!hs) {
		snprintf(err, errlen, "out of memory setting up the handlers");
		return -1;
	}
	hs->o = o;
	hs->timeout_ms = opts && opts->timeout_ms ? opts->timeout_ms : FBPF_DEFER_TIMEOUT_MS;
	hs->restart_ms = opts && opts->restart_ms ? opts->restart_ms : FBPF_DEFER_RESTART_MS;
	hs->report = opts ? opts->report : NULL;
	hs->report_arg = opts ? opts->report_arg : NULL;
	hs->rep_window = fbpf_defer_now_ms();
	pthread_mutex_init(&hs->rep_lock, NULL);

	/* A helper that dies or a log pipe whose reader is gone must give
	 * EPIPE, not kill the daemon. */
	if (sigaction(SIGPIPE, NULL, &sa) == 0 && sa.sa_handler == SIG_DFL) {
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = SIG_IGN;
		sigaction(SIGPIPE, &sa, NULL);
	}

	hs->n = o ? o->meta.nhandlers : 0;
	hs->v = calloc(hs->n + 1, sizeof(*hs->v));
	if (!hs->v) {
		snprintf(err, errlen, "out of memory setting up the handlers");
		goto fail;
	}
	for (i = 0; i < hs->n; i++) {
		struct handler *hd = &hs->v[i];
		const struct fbpf_handler_spec *spec = find_spec(opts, o->handlers[i]);

		hd->name = o->handlers[i];
		hd->hs = hs;
		hd->fd = -1;
		if (!spec && strcmp(hd->name, "audit")) {
			uint32_t line = handler_line(o, i);
			char at[32] = "";

			if (line)
				snprintf(at, sizeof(at), " (line %u)", line);
			snprintf(err, errlen, "the policy defers operations to handler '%s'%s but no --handler option configures it: give --handler %s=COMMAND to run a helper program, or --handler %s=audit to log and allow",
				 hd->name, at, hd->name, hd->name);
			goto fail;
		}
		if (!spec || spec->kind == FBPF_HANDLER_AUDIT) {
			hd->kind = FBPF_HANDLER_AUDIT;
			if (fbpf_audit_open(hd, spec ? spec->file : (opts ? opts->audit_log : NULL), err, errlen))
				goto fail;
		} else {
			hd->kind = FBPF_HANDLER_EXEC;
			if (fbpf_helper_start(hd, spec, err, errlen))
				goto fail;
		}
	}
	for (k = 0; opts && k < opts->nspecs; k++) {
		for (i = 0; i < hs->n; i++)
			if (!strcmp(opts->specs[k].name, o->handlers[i]))
				break;
		if (i == hs->n)
			fbpf_defer_report(hs, "handler '%s' is configured but the policy does not defer to it; the --handler option is ignored",
					  opts->specs[k].name);
	}
	*out = hs;
	return 0;
fail:
	fbpf_handlers_close(hs);
	return -1;
}

int fbpf_handlers_call(struct fbpf_handlers *hs, const struct fbpf_defer_req *req)
{
	struct handler *hd;

	if (!hs || !req || req->handler >= hs->n)
		return FBPF_ERR_NO_DAEMON;
	hd = &hs->v[req->handler];
	switch (hd->kind) {
	case FBPF_HANDLER_AUDIT:
		return fbpf_audit_call(hd, req);
	case FBPF_HANDLER_EXEC:
		return fbpf_helper_call(hd, req);
	}
	return FBPF_ERR_NO_DAEMON;
}

void fbpf_handlers_close(struct fbpf_handlers *hs)
{
	uint32_t i;

	if (!hs)
		return;
	for (i = 0; hs->v && i < hs->n; i++) {
		if (hs->v[i].kind == FBPF_HANDLER_AUDIT)
			fbpf_audit_close(&hs->v[i]);
		else if (hs->v[i].kind == FBPF_HANDLER_EXEC)
			fbpf_helper_stop(&hs->v[i]);
	}
	free(hs->v);
	pthread_mutex_destroy(&hs->rep_lock);
	free(hs);
}

int fbpf_handlers_helper_pid(struct fbpf_handlers *hs, uint32_t i)
{
	if (!hs || i >= hs->n || hs->v[i].kind != FBPF_HANDLER_EXEC)
		return 0;
	return fbpf_helper_pid(&hs->v[i]);
}
