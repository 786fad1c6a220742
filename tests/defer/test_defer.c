// SPDX-License-Identifier: GPL-2.0
/*
 * Deferred operations (runtime/defer): the --handler options, the built-in
 * audit handler and helper processes, with real helper processes
 * (tests/defer/test_helper.c, examples/handler/gate.sh) and real files.
 * Policies go through the real front end and lowering, so rule numbers and
 * source lines are the compiler's.
 */
#define _GNU_SOURCE
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ast.h"
#include "defer.h"
#include "diag.h"
#include "lower.h"
#include "object.h"
#include "test_policy.h"

/* ------------------------------------------------------------ objects */

static const char POLICY[] =
	"policy deferme\n"
	"defer open, write \"/**\" to \"authz\"\n"
	"defer open \"/contracts/**\" to \"audit\"\n";

static uint32_t handler_index(struct pol *x, const char *name)
{
	uint32_t i;

	for (i = 0; i < x->o.meta.nhandlers; i++)
		if (!strcmp(x->o.handlers[i], name))
			return i;
	ck_abort_msg("the policy has no handler %s", name);
	return 0;
}

/* ------------------------------------------------------------ reports */

static pthread_mutex_t rep_lock = PTHREAD_MUTEX_INITIALIZER;
static char reports[65536];
static size_t rep_len;

static void collect(void *arg, const char *msg)
{
	(void)arg;
	pthread_mutex_lock(&rep_lock);
	rep_len += snprintf(reports + rep_len, sizeof(reports) - rep_len, "%s\n", msg);
	if (rep_len >= sizeof(reports))
		rep_len = sizeof(reports) - 1;
	pthread_mutex_unlock(&rep_lock);
}

static int reported(const char *needle)
{
	int r;

	pthread_mutex_lock(&rep_lock);
	r = strstr(reports, needle) != NULL;
	pthread_mutex_unlock(&rep_lock);
	return r;
}

static int count_reported(const char *needle)
{
	const char *p;
	int n = 0;

	pthread_mutex_lock(&rep_lock);
	for (p = reports; (p = strstr(p, needle)); p++)
		n++;
	pthread_mutex_unlock(&rep_lock);
	return n;
}

/* --------------------------------------------------------------- misc */

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static char tmpdir[64];

static void make_tmpdir(void)
{
	strcpy(tmpdir, "/tmp/fbpf-defer-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* checked teardown: the test's files go away (they stay if a test fails) */
static void rm_tmpdir(void)
{
	if (tmpdir[0])
		nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	tmpdir[0] = 0;
}

static char *tmpfile_path(const char *name)
{
	static char buf[4][128];
	static int k;

	k = (k + 1) % 4;
	snprintf(buf[k], sizeof(buf[k]), "%s/%s", tmpdir, name);
	return buf[k];
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t len = 0;
	FILE *mem;
	int c;

	ck_assert_msg(f != NULL, "cannot open %s: %s", path, strerror(errno));
	mem = open_memstream(&buf, &len);
	while ((c = fgetc(f)) != EOF)
		fputc(c, mem);
	fclose(mem);
	fclose(f);
	return buf;
}

static struct fbpf_defer_req req_for(uint32_t handler, uint32_t op, const char *path)
{
	struct fbpf_defer_req r = {
		.op = op, .flags = 0, .rule = 1, .handler = handler,
		.uid = 1000, .gid = 100, .pid = 4242, .path = path,
	};

	return r;
}

/* Open the policy with --handler authz=<helper ARGS>. */
static struct fbpf_handlers *open_helper(struct pol *x, const char *args, unsigned timeout_ms,
					 unsigned restart_ms)
{
	struct fbpf_handler_opts opts;
	struct fbpf_handlers *h = NULL;
	char spec[512], err[512];

	memset(&opts, 0, sizeof(opts));
	opts.timeout_ms = timeout_ms;
	opts.restart_ms = restart_ms;
	opts.report = collect;
	opts.audit_log = tmpfile_path("audit.log");
	snprintf(spec, sizeof(spec), "authz=exec:%s %s", FBPF_TEST_HELPER, args);
	ck_assert_int_eq(fbpf_handler_opts_parse(&opts, spec), 0);
	ck_assert_msg(fbpf_handlers_open(&h, &x->o, &opts, err, sizeof(err)) == 0, "open: %s", err);
	fbpf_handler_opts_free(&opts);
	return h;
}

static int ask(struct fbpf_handlers *h, uint32_t handler, const char *path)
{
	struct fbpf_defer_req r = req_for(handler, FBPF_OP_OPEN, path);

	return fbpf_handlers_call(h, &r);
}

/* ----------------------------------------------------- a strict JSON reader */

struct jval {
	char key[32];
	char type;          /* 's' string, 'n' number, 'a' array of strings, 'b', 'z' */
	char str[16384];
	double num;
	int nitems;
	char items[4][32];
};
struct jobj {
	int n;
	struct jval v[24];
};

static void ws(const char **s)
{
	while (**s == ' ' || **s == '\t' || **s == '\n' || **s == '\r')
		(*s)++;
}

static int put_utf8(char *out, size_t *o, unsigned cp)
{
	if (cp < 0x80) {
		out[(*o)++] = (char)cp;
	} else if (cp < 0x800) {
		out[(*o)++] = (char)(0xc0 | cp >> 6);
		out[(*o)++] = (char)(0x80 | (cp & 0x3f));
	} else {
		out[(*o)++] = (char)(0xe0 | cp >> 12);
		out[(*o)++] = (char)(0x80 | ((cp >> 6) & 0x3f));
		out[(*o)++] = (char)(0x80 | (cp & 0x3f));
	}
	return 0;
}

/* A JSON string at *s (after the quote) into out; -1 if not valid JSON. */
static int jstring(const char **s, char *out, size_t cap)
{
	const unsigned char *p = (const unsigned char *)*s;
	size_t o = 0;

	for (;;) {
		if (o + 8 > cap)
			return -1;
		if (*p == '"') {
			p++;
			break;
		}
		if (*p < 0x20)
			return -1; /* raw control characters are not JSON */
		if (*p == '\\') {
			p++;
			switch (*p) {
			case '"': case '\\': case '/':
				out[o++] = (char)*p++;
				break;
			case 'n': out[o++] = '\n'; p++; break;
			case 't': out[o++] = '\t'; p++; break;
			case 'r': out[o++] = '\r'; p++; break;
			case 'b': out[o++] = '\b'; p++; break;
			case 'f': out[o++] = '\f'; p++; break;
			case 'u': {
				unsigned cp;

				if (sscanf((const char *)p + 1, "%4x", &cp) != 1)
					return -1;
				p += 5;
				put_utf8(out, &o, cp);
				break;
			}
			default:
				return -1;
			}
			continue;
		}
		if (*p >= 0x80) {
			/* must be valid UTF-8 */
			int len = *p >= 0xf0 ? 4 : *p >= 0xe0 ? 3 : *p >= 0xc2 ? 2 : 0, i;

			if (!len || *p > 0xf4)
				return -1;
			for (i = 1; i < len; i++)
				if ((p[i] & 0xc0) != 0x80)
					return -1;
			memcpy(out + o, p, len);
			o += len;
			p += len;
			continue;
		}
		out[o++] = (char)*p++;
	}
	out[o] = 0;
	*s = (const char *)p;
	return 0;
}

/* One line holding exactly one JSON object of scalars and string arrays. */
static int json_object(const char *s, struct jobj *j)
{
	memset(j, 0, sizeof(*j));
	ws(&s);
	if (*s++ != '{')
		return -1;
	ws(&s);
	if (*s == '}')
		goto end;
	for (;;) {
		struct jval *v = &j->v[j->n];

		if (j->n == 24)
			return -1;
		ws(&s);
		if (*s++ != '"' || jstring(&s, v->key, sizeof(v->key)))
			return -1;
		ws(&s);
		if (*s++ != ':')
			return -1;
		ws(&s);
		if (*s == '"') {
			s++;
			v->type = 's';
			if (jstring(&s, v->str, sizeof(v->str)))
				return -1;
		} else if (*s == '[') {
			s++;
			v->type = 'a';
			ws(&s);
			while (*s != ']') {
				if (v->nitems == 4 || *s++ != '"' ||
				    jstring(&s, v->items[v->nitems++], sizeof(v->items[0])))
					return -1;
				ws(&s);
				if (*s == ',') {
					s++;
					ws(&s);
					if (*s == ']')
						return -1;
				} else if (*s != ']') {
					return -1;
				}
			}
			s++;
		} else if (*s == '-' || (*s >= '0' && *s <= '9')) {
			char *end;

			v->type = 'n';
			v->num = strtod(s, &end);
			if (end == s)
				return -1;
			s = end;
		} else if (!strncmp(s, "true", 4) || !strncmp(s, "null", 4)) {
			v->type = s[0] == 't' ? 'b' : 'z';
			s += 4;
		} else if (!strncmp(s, "false", 5)) {
			v->type = 'b';
			s += 5;
		} else {
			return -1;
		}
		j->n++;
		ws(&s);
		if (*s == ',') {
			s++;
			continue;
		}
		if (*s == '}')
			break;
		return -1;
	}
end:
	s++;
	ws(&s);
	return *s ? -1 : 0;
}

static const struct jval *jget(const struct jobj *j, const char *key, char type)
{
	int i;

	for (i = 0; i < j->n; i++)
		if (!strcmp(j->v[i].key, key)) {
			ck_assert_msg(j->v[i].type == type, "field %s has type %c, expected %c",
				      key, j->v[i].type, type);
			return &j->v[i];
		}
	ck_abort_msg("the audit line has no field %s", key);
	return NULL;
}

/* Split text into lines (modifies it); returns the count. */
static int split_lines(char *text, char **lines, int max)
{
	int n = 0;
	char *p = text, *nl;

	while (*p && (nl = strchr(p, '\n'))) {
		*nl = 0;
		ck_assert_int_lt(n, max);
		lines[n++] = p;
		p = nl + 1;
	}
	ck_assert_msg(*p == 0, "the last line has no newline: %s", p);
	return n;
}

/* ------------------------------------------------------------ options */

/* Run fbpf_handler_opts_parse with stderr captured. */
static int parse_captured(struct fbpf_handler_opts *opts, const char *spec, char *msg, size_t len)
{
	char path[] = "/tmp/fbpf-defer-err-XXXXXX";
	int fd = mkstemp(path), saved = dup(2), rc;
	ssize_t n;

	ck_assert_int_ge(fd, 0);
	fflush(stderr);
	dup2(fd, 2);
	rc = fbpf_handler_opts_parse(opts, spec);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	n = pread(fd, msg, len - 1, 0);
	msg[n > 0 ? n : 0] = 0;
	close(fd);
	unlink(path);
	return rc;
}

START_TEST(test_opts_good)
{
	struct fbpf_handler_opts opts;
	char msg[1024];

	memset(&opts, 0, sizeof(opts));
	ck_assert_int_eq(parse_captured(&opts, "authz=exec:/bin/x --a 'b c' \"d\\\"e\" f\\ g", msg, sizeof(msg)), 0);
	ck_assert_str_eq(msg, "");
	ck_assert_int_eq(parse_captured(&opts, "audit=audit", msg, sizeof(msg)), 0);
	ck_assert_int_eq(parse_captured(&opts, "log.2=audit:/var/log/x.log", msg, sizeof(msg)), 0);
	ck_assert_int_eq(parse_captured(&opts, "_plain-1=/usr/bin/helper  --db   /etc/db", msg, sizeof(msg)), 0);
	ck_assert_uint_eq(opts.nspecs, 4);

	ck_assert_str_eq(opts.specs[0].name, "authz");
	ck_assert_int_eq(opts.specs[0].kind, FBPF_HANDLER_EXEC);
	ck_assert_str_eq(opts.specs[0].argv[0], "/bin/x");
	ck_assert_str_eq(opts.specs[0].argv[1], "--a");
	ck_assert_str_eq(opts.specs[0].argv[2], "b c");
	ck_assert_str_eq(opts.specs[0].argv[3], "d\"e");
	ck_assert_str_eq(opts.specs[0].argv[4], "f g");
	ck_assert_ptr_null(opts.specs[0].argv[5]);

	ck_assert_int_eq(opts.specs[1].kind, FBPF_HANDLER_AUDIT);
	ck_assert_ptr_null(opts.specs[1].file);
	ck_assert_int_eq(opts.specs[2].kind, FBPF_HANDLER_AUDIT);
	ck_assert_str_eq(opts.specs[2].file, "/var/log/x.log");

	ck_assert_int_eq(opts.specs[3].kind, FBPF_HANDLER_EXEC);
	ck_assert_str_eq(opts.specs[3].argv[0], "/usr/bin/helper");
	ck_assert_str_eq(opts.specs[3].argv[1], "--db");
	ck_assert_str_eq(opts.specs[3].argv[2], "/etc/db");
	ck_assert_ptr_null(opts.specs[3].argv[3]);
	fbpf_handler_opts_free(&opts);
	ck_assert_uint_eq(opts.nspecs, 0);
	ck_assert_ptr_null(opts.specs);
}
END_TEST

START_TEST(test_opts_bad)
{
	static const char *const bad[] = {
		"", "authz", "=audit", "9x=audit", "a b=audit", "a=", "a=exec:", "a=exec:   ",
		"a=exec:/bin/x 'open", "a=/bin/x \"open", "a=audit:",
		"a123456789012345678901234567890123=audit",
	};
	struct fbpf_handler_opts opts;
	char msg[1024];
	size_t i;

	memset(&opts, 0, sizeof(opts));
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_msg(parse_captured(&opts, bad[i], msg, sizeof(msg)) == -1, "'%s' was accepted", bad[i]);
		ck_assert_msg(strncmp(msg, "fbpf-run: --handler ", 20) == 0 && strchr(msg, '\n') == msg + strlen(msg) - 1,
			      "'%s': not one message line: %s", bad[i], msg);
	}
	ck_assert_uint_eq(opts.nspecs, 0);
	ck_assert_int_eq(parse_captured(&opts, "a=audit", msg, sizeof(msg)), 0);
	ck_assert_int_eq(parse_captured(&opts, "a=/bin/true", msg, sizeof(msg)), -1);
	ck_assert_msg(strstr(msg, "configured twice"), "%s", msg);
	ck_assert_uint_eq(opts.nspecs, 1);
	fbpf_handler_opts_free(&opts);
}
END_TEST

/* ------------------------------------------------------------- opening */

START_TEST(test_unconfigured_handler)
{
	struct pol *x = compile(POLICY);
	struct fbpf_handler_opts opts;
	struct fbpf_handlers *h = (void *)1;
	char err[512];

	memset(&opts, 0, sizeof(opts));
	ck_assert_int_eq(fbpf_handlers_open(&h, &x->o, &opts, err, sizeof(err)), -1);
	ck_assert_ptr_null(h);
	ck_assert_msg(strstr(err, "handler 'authz' (line 2)") && strstr(err, "--handler authz="),
		      "message: %s", err);
	ck_assert_ptr_null(strchr(err, '\n'));

	/* a command that cannot run is an error at open time */
	ck_assert_int_eq(fbpf_handler_opts_parse(&opts, "authz=/nonexistent/fbpf-helper --x"), 0);
	ck_assert_int_eq(fbpf_handlers_open(&h, &x->o, &opts, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "cannot run '/nonexistent/fbpf-helper' for handler 'authz'") &&
		      strstr(err, "No such file"), "message: %s", err);
	fbpf_handler_opts_free(&opts);

	/* an audit log that cannot be opened too */
	ck_assert_int_eq(fbpf_handler_opts_parse(&opts, "authz=audit:/nonexistent/dir/log"), 0);
	ck_assert_int_eq(fbpf_handlers_open(&h, &x->o, &opts, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "/nonexistent/dir/log") && strstr(err, "'authz'"), "message: %s", err);
	fbpf_handler_opts_free(&opts);
	drop(x);
}
END_TEST

START_TEST(test_default_audit_and_unused_option)
{
	struct pol *x = compile(POLICY);
	struct fbpf_handler_opts opts;
	struct fbpf_handlers *h;
	char err[512], *text, *lines[8];
	struct jobj j;
	struct fbpf_defer_req r;

	make_tmpdir();
	memset(&opts, 0, sizeof(opts));
	opts.audit_log = tmpfile_path("default.log");
	opts.report = collect;
	ck_assert_int_eq(fbpf_handler_opts_parse(&opts, "authz=audit:/dev/null"), 0);
	ck_assert_int_eq(fbpf_handler_opts_parse(&opts, "unused=audit"), 0);
	ck_assert_msg(fbpf_handlers_open(&h, &x->o, &opts, err, sizeof(err)) == 0, "%s", err);
	fbpf_handler_opts_free(&opts);
	ck_assert_msg(reported("handler 'unused' is configured but the policy does not defer to it"),
		      "reports: %s", reports);

	r = req_for(handler_index(x, "audit"), FBPF_OP_OPEN, "/contracts/c1");
	r.rule = 2;
	ck_assert_int_eq(fbpf_handlers_call(h, &r), 0);
	/* out of range and NULL: no handler to ask */
	r.handler = 7;
	ck_assert_int_eq(fbpf_handlers_call(h, &r), FBPF_ERR_NO_DAEMON);
	ck_assert_int_eq(fbpf_handlers_call(NULL, &r), FBPF_ERR_NO_DAEMON);
	fbpf_handlers_close(h);

	text = slurp(tmpfile_path("default.log"));
	ck_assert_int_eq(split_lines(text, lines, 8), 1);
	ck_assert_int_eq(json_object(lines[0], &j), 0);
	ck_assert_str_eq(jget(&j, "handler", 's')->str, "audit");
	ck_assert_str_eq(jget(&j, "path", 's')->str, "/contracts/c1");
	free(text);
	drop(x);
}
END_TEST

/* --------------------------------------------------------------- audit */

static const char *const audit_paths[] = {
	"/contracts/a.txt",
	"/contracts/we\"ird\\na\tme\nx",
	"/contracts/\xff\xfe bad",
	"/contracts/\xc3\xbcn\xc3\xaf \xe2\x82\xac",
	"/",
};

START_TEST(test_audit_json)
{
	struct pol *x = compile(POLICY);
	struct fbpf_handler_opts opts;
	struct fbpf_handlers *h;
	char err[512], *text, *lines[16];
	uint32_t ai = handler_index(x, "audit");
	time_t before = time(NULL), after;
	size_t i;
	int n;

	make_tmpdir();
	memset(&opts, 0, sizeof(opts));
	ck_assert_int_eq(fbpf_handler_opts_parse(&opts, "authz=audit:/dev/null"), 0);
	{
		char spec[256];

		snprintf(spec, sizeof(spec), "audit=audit:%s", tmpfile_path("audit.log"));
		ck_assert_int_eq(fbpf_handler_opts_parse(&opts, spec), 0);
	}
	ck_assert_msg(fbpf_handlers_open(&h, &x->o, &opts, err, sizeof(err)) == 0, "%s", err);
	fbpf_handler_opts_free(&opts);
	for (i = 0; i < sizeof(audit_paths) / sizeof(audit_paths[0]); i++) {
		struct fbpf_defer_req r = req_for(ai, FBPF_OP_OPEN, audit_paths[i]);

		r.rule = 2;
		r.uid = 1000 + (uint32_t)i;
		r.gid = 2000;
		r.pid = 77;
		if (i == 1) {
			r.op = FBPF_OP_RENAME;
			r.flags = FBPF_IN_TARGET;
		} else if (i == 2) {
			r.flags = FBPF_IN_WRITE;
		}
		ck_assert_int_eq(fbpf_handlers_call(h, &r), 0);
	}
	fbpf_handlers_close(h);
	after = time(NULL);

	text = slurp(tmpfile_path("audit.log"));
	n = split_lines(text, lines, 16);
	ck_assert_int_eq(n, 5);
	for (i = 0; i < (size_t)n; i++) {
		const struct jval *t, *f;
		struct jobj j;
		struct tm tm;
		char *end;
		time_t ts;

		ck_assert_msg(json_object(lines[i], &j) == 0, "line %zu is not a JSON object: %s", i, lines[i]);
		/* ISO-8601 UTC with milliseconds, close to now */
		t = jget(&j, "time", 's');
		memset(&tm, 0, sizeof(tm));
		end = strptime(t->str, "%Y-%m-%dT%H:%M:%S", &tm);
		ck_assert_msg(end && end[0] == '.' && end[1] >= '0' && end[1] <= '9' && end[2] >= '0' &&
			      end[2] <= '9' && end[3] >= '0' && end[3] <= '9' && !strcmp(end + 4, "Z"),
			      "time %s", t->str);
		ts = timegm(&tm);
		ck_assert_msg(ts >= before - 1 && ts <= after + 1, "time %s is not now", t->str);
		ck_assert_str_eq(jget(&j, "policy", 's')->str, "deferme");
		ck_assert_str_eq(jget(&j, "handler", 's')->str, "audit");
		ck_assert_str_eq(jget(&j, "op", 's')->str, i == 1 ? "rename" : "open");
		f = jget(&j, "flags", 'a');
		ck_assert_int_eq(f->nitems, i == 1 || i == 2);
		if (i == 1)
			ck_assert_str_eq(f->items[0], "target");
		if (i == 2)
			ck_assert_str_eq(f->items[0], "write");
		ck_assert_int_eq((int)jget(&j, "uid", 'n')->num, 1000 + (int)i);
		ck_assert_int_eq((int)jget(&j, "gid", 'n')->num, 2000);
		ck_assert_int_eq((int)jget(&j, "pid", 'n')->num, 77);
		ck_assert_str_eq(jget(&j, "decision", 's')->str, "allow");
		ck_assert_int_eq((int)jget(&j, "rule", 'n')->num, 2);
		/* rule 2 is on line 3 of the policy */
		ck_assert_int_eq((int)jget(&j, "line", 'n')->num, 3);
		if (i == 2) {
			/* not UTF-8: replacement characters, and the exact bytes */
			ck_assert_str_eq(jget(&j, "path", 's')->str, "/contracts/\xef\xbf\xbd\xef\xbf\xbd bad");
			ck_assert_str_eq(jget(&j, "path_pct", 's')->str, "/contracts/%FF%FE%20bad");
		} else {
			ck_assert_str_eq(jget(&j, "path", 's')->str, audit_paths[i]);
		}
	}
	free(text);
	drop(x);
}
END_TEST

struct audit_thread {
	struct fbpf_handlers *h;
	uint32_t handler;
	int t;
};

#define AUDIT_THREADS 8
#define AUDIT_CALLS 250

static void *audit_worker(void *arg)
{
	struct audit_thread *a = arg;
	char path[3100];
	int i, bad = 0;

	for (i = 0; i < AUDIT_CALLS; i++) {
		struct fbpf_defer_req r = req_for(a->handler, FBPF_OP_OPEN, path);
		int n = snprintf(path, sizeof(path), "/contracts/t%d/i%d/", a->t, i);

		/* long lines: far more than one stdio buffer would hold */
		memset(path + n, 'a' + a->t, 3000);
		path[n + 3000] = 0;
		r.uid = (uint32_t)a->t;
		r.pid = (uint32_t)i;
		bad += fbpf_handlers_call(a->h, &r) != 0;
	}
	return (void *)(long)bad;
}

START_TEST(test_audit_concurrent)
{
	struct pol *x = compile(POLICY);
	struct fbpf_handler_opts opts;
	struct fbpf_handlers *h;
	struct audit_thread at[AUDIT_THREADS];
	pthread_t th[AUDIT_THREADS];
	static char *lines[AUDIT_THREADS * AUDIT_CALLS + 1];
	static char seen[AUDIT_THREADS][AUDIT_CALLS];
	static struct jobj j;
	char err[512], *text;
	int i, n;

	make_tmpdir();
	memset(&opts, 0, sizeof(opts));
	opts.audit_log = tmpfile_path("audit.log");
	ck_assert_int_eq(fbpf_handler_opts_parse(&opts, "authz=audit:/dev/null"), 0);
	ck_assert_msg(fbpf_handlers_open(&h, &x->o, &opts, err, sizeof(err)) == 0, "%s", err);
	fbpf_handler_opts_free(&opts);
	for (i = 0; i < AUDIT_THREADS; i++) {
		at[i] = (struct audit_thread){ h, handler_index(x, "audit"), i };
		pthread_create(&th[i], NULL, audit_worker, &at[i]);
	}
	for (i = 0; i < AUDIT_THREADS; i++) {
		void *bad;

		pthread_join(th[i], &bad);
		ck_assert_int_eq((long)bad, 0);
	}
	fbpf_handlers_close(h);

	text = slurp(tmpfile_path("audit.log"));
	n = split_lines(text, lines, AUDIT_THREADS * AUDIT_CALLS + 1);
	ck_assert_int_eq(n, AUDIT_THREADS * AUDIT_CALLS);
	for (i = 0; i < n; i++) {
		const char *p;
		int t, k;

		ck_assert_msg(json_object(lines[i], &j) == 0, "line %d is not one JSON object", i);
		p = jget(&j, "path", 's')->str;
		ck_assert_int_eq(sscanf(p, "/contracts/t%d/i%d/", &t, &k), 2);
		ck_assert(t >= 0 && t < AUDIT_THREADS && k >= 0 && k < AUDIT_CALLS);
		ck_assert_int_eq((int)jget(&j, "uid", 'n')->num, t);
		ck_assert_int_eq((int)jget(&j, "pid", 'n')->num, k);
		ck_assert_int_eq((int)strspn(strrchr(p, '/') + 1, (char[]){ (char)('a' + t), 0 }), 3000);
		ck_assert_msg(!seen[t][k], "line of thread %d call %d twice", t, k);
		seen[t][k] = 1;
	}
	free(text);
	drop(x);
}
END_TEST

START_TEST(test_audit_write_error)
{
	struct pol *x = compile(POLICY);
	struct fbpf_handler_opts opts;
	struct fbpf_handlers *h;
	char err[512];

	memset(&opts, 0, sizeof(opts));
	opts.report = collect;
	ck_assert_int_eq(fbpf_handler_opts_parse(&opts, "authz=audit:/dev/full"), 0);
	ck_assert_msg(fbpf_handlers_open(&h, &x->o, &opts, err, sizeof(err)) == 0, "%s", err);
	fbpf_handler_opts_free(&opts);
	/* no record, no access */
	ck_assert_int_eq(ask(h, handler_index(x, "authz"), "/x"), EIO);
	ck_assert_msg(reported("cannot write the audit line for open /x"), "reports: %s", reports);
	fbpf_handlers_close(h);
	drop(x);
}
END_TEST

/* ------------------------------------------------------------- helpers */

START_TEST(test_helper_answers)
{
	struct pol *x = compile(POLICY);
	struct fbpf_handlers *h;
	uint32_t hi = handler_index(x, "authz");
	char args[256], *text, *lines[16];
	struct fbpf_defer_req r;

	make_tmpdir();
	snprintf(args, sizeof(args), "--record %s", tmpfile_path("rec"));
	h = open_helper(x, args, 0, 0);
	ck_assert_int_gt(fbpf_handlers_helper_pid(h, hi), 0);
	ck_assert_int_eq(fbpf_handlers_helper_pid(h, handler_index(x, "audit")), 0);

	ck_assert_int_eq(ask(h, hi, "/ok"), 0);
	ck_assert_int_eq(ask(h, hi, "/deny/ENOENT"), ENOENT);
	ck_assert_int_eq(ask(h, hi, "/deny/EROFS"), EROFS);
	ck_assert_int_eq(ask(h, hi, "/deny/13"), 13);
	ck_assert_int_eq(ask(h, hi, "/deny/EWOULDBLOCK"), EAGAIN);
	ck_assert_int_eq(ask(h, hi, "/denyplain"), EACCES);
	r = req_for(hi, FBPF_OP_OPEN, "/a b%c\n\xc3\xa9/\x01");
	r.flags = FBPF_IN_WRITE | FBPF_IN_ENTRY;
	r.rule = 1;
	ck_assert_int_eq(fbpf_handlers_call(h, &r), 0);
	r = req_for(hi, FBPF_OP_RENAME, "/t");
	r.flags = FBPF_IN_TARGET;
	r.uid = 0;
	r.gid = 0;
	r.pid = 1;
	ck_assert_int_eq(fbpf_handlers_call(h, &r), 0);
	fbpf_handlers_close(h);

	/* what the helper received, byte for byte */
	text = slurp(tmpfile_path("rec"));
	ck_assert_int_eq(split_lines(text, lines, 16), 9);
	ck_assert_str_eq(lines[0], "env authz deferme 1 5000");
	ck_assert_str_eq(lines[1], "1 open 1000 100 4242 1 - /ok");
	ck_assert_str_eq(lines[2], "2 open 1000 100 4242 1 - /deny/ENOENT");
	ck_assert_str_eq(lines[7], "7 open 1000 100 4242 1 write /a%20b%25c%0A%C3%A9/%01");
	ck_assert_str_eq(lines[8], "8 rename 0 0 1 1 target /t");
	free(text);
	drop(x);
}
END_TEST

#define OOO_THREADS 8
#define OOO_CALLS 100

struct ooo_thread {
	struct fbpf_handlers *h;
	uint32_t handler;
	int t, wrong;
};

static void *ooo_worker(void *arg)
{
	struct ooo_thread *a = arg;
	int i;

	for (i = 0; i < OOO_CALLS; i++) {
		char path[64];
		int e = (a->t * 7 + i) % 11; /* 0 = allow, else this errno */

		snprintf(path, sizeof(path), "/t/%d/%d", a->t * 1000 + i, e);
		if (ask(a->h, a->handler, path) != e)
			a->wrong++;
	}
	return NULL;
}

START_TEST(test_helper_concurrent_out_of_order)
{
	struct pol *x = compile(POLICY);
	struct fbpf_handlers *h;
	struct ooo_thread at[OOO_THREADS];
	pthread_t th[OOO_THREADS];
	int i;

	make_tmpdir();
	/* the helper answers requests in pairs, the later one first */
	h = open_helper(x, "--swap", 0, 0);
	for (i = 0; i < OOO_THREADS; i++) {
		at[i] = (struct ooo_thread){ h, handler_index(x, "authz"), i, 0 };
		pthread_create(&th[i], NULL, ooo_worker, &at[i]);
	}
	for (i = 0; i < OOO_THREADS; i++) {
		pthread_join(th[i], NULL);
		ck_assert_msg(at[i].wrong == 0, "thread %d got %d answers meant for others", i, at[i].wrong);
	}
	ck_assert_msg(!reported("malformed") && !reported("no answer"), "reports: %s", reports);
	fbpf_handlers_close(h);
	drop(x);
}
END_TEST

START_TEST(test_helper_timeout)
{
	struct pol *x = compile(POLICY);
	struct fbpf_handlers *h;
	uint32_t hi = handler_index(x, "authz");
	uint64_t t0, dt;

	make_tmpdir();
	h = open_helper(x, "", 400, 0);
	t0 = now_ms();
	ck_assert_int_eq(ask(h, hi, "/hang"), FBPF_ERR_TIMEOUT);
	dt = now_ms() - t0;
	/* generous bounds: this is about not hanging, not about speed */
	ck_assert_msg(dt >= 390 && dt < 400 + 5000, "the timeout took %llu ms", (unsigned long long)dt);
	ck_assert_msg(reported("no answer to request 1 (open /hang) within 400 ms"), "reports: %s", reports);
	/* the helper still works */
	ck_assert_int_eq(ask(h, hi, "/ok"), 0);

	/* an answer that comes after the timeout is ignored, and does not
	 * reach the next request */
	ck_assert_int_eq(ask(h, hi, "/late/700"), FBPF_ERR_TIMEOUT);
	usleep(500000); /* the late answer arrives meanwhile */
	ck_assert_int_eq(ask(h, hi, "/ok"), 0);
	ck_assert_msg(reported("ignoring the answer to request 3: nobody waits for it any more"),
		      "reports: %s", reports);
	fbpf_handlers_close(h);
	drop(x);
}
END_TEST

struct bg_call {
	struct fbpf_handlers *h;
	uint32_t handler;
	const char *path;
	int rc;
	uint64_t done_ms;
};

static void *bg_ask(void *arg)
{
	struct bg_call *c = arg;

	c->rc = ask(c->h, c->handler, c->path);
	c->done_ms = now_ms();
	return NULL;
}

START_TEST(test_helper_dies)
{
	struct pol *x = compile(POLICY);
	struct fbpf_handlers *h;
	uint32_t hi = handler_index(x, "authz");
	struct bg_call bg[3];
	pthread_t th[3];
	uint64_t t0;
	int pid0, pid1, i;

	make_tmpdir();
	/* a long timeout, so that "promptly" is far from it */
	h = open_helper(x, "", 20000, 0);
	pid0 = fbpf_handlers_helper_pid(h, hi);
	ck_assert_int_gt(pid0, 0);
	for (i = 0; i < 3; i++) {
		bg[i] = (struct bg_call){ h, hi, "/hang", -1, 0 };
		pthread_create(&th[i], NULL, bg_ask, &bg[i]);
	}
	usleep(300000); /* let them be in flight */
	t0 = now_ms();
	ck_assert_int_eq(ask(h, hi, "/die"), FBPF_ERR_NO_DAEMON);
	ck_assert_msg(now_ms() - t0 < 10000, "the death was noticed after %llu ms",
		      (unsigned long long)(now_ms() - t0));
	for (i = 0; i < 3; i++) {
		pthread_join(th[i], NULL);
		ck_assert_int_eq(bg[i].rc, FBPF_ERR_NO_DAEMON);
		ck_assert(bg[i].done_ms - t0 < 10000);
	}
	ck_assert_msg(reported("exited with status 3; 4 requests in flight fail with ENOTCONN; restarting it in 100 ms"),
		      "reports: %s", reports);
	/* restarted: the next request waits for the new helper */
	ck_assert_int_eq(ask(h, hi, "/ok"), 0);
	pid1 = fbpf_handlers_helper_pid(h, hi);
	ck_assert_int_gt(pid1, 0);
	ck_assert_int_ne(pid1, pid0);
	ck_assert_int_eq(kill(pid0, 0), -1); /* the old one was reaped */
	ck_assert_int_eq(ask(h, hi, "/deny/EPERM"), EPERM);
	fbpf_handlers_close(h);
	drop(x);
}
END_TEST

START_TEST(test_helper_keeps_dying)
{
	struct pol *x = compile(POLICY);
	struct fbpf_handler_opts opts;
	struct fbpf_handlers *h;
	uint32_t hi = handler_index(x, "authz");
	uint64_t t0, end;
	char err[512];
	int calls = 0;

	memset(&opts, 0, sizeof(opts));
	opts.timeout_ms = 20000;
	opts.restart_ms = 20;
	opts.report = collect;
	ck_assert_int_eq(fbpf_handler_opts_parse(&opts, "authz=sh -c 'exit 7'"), 0);
	ck_assert_msg(fbpf_handlers_open(&h, &x->o, &opts, err, sizeof(err)) == 0, "%s", err);
	fbpf_handler_opts_free(&opts);
	end = now_ms() + 15000;
	while (!reported("keeps exiting") && now_ms() < end) {
		ck_assert_int_eq(ask(h, hi, "/x"), FBPF_ERR_NO_DAEMON);
		calls++;
	}
	ck_assert_msg(reported("helper 'sh -c 'exit 7'' keeps exiting (5 times in a row; last time it (pid"),
		      "reports: %s", reports);
	ck_assert(reported("exited with status 7"));
	/* now requests fail at once, not after the 20 s timeout */
	t0 = now_ms();
	ck_assert_int_eq(ask(h, hi, "/x"), FBPF_ERR_NO_DAEMON);
	ck_assert_int_eq(ask(h, hi, "/x"), FBPF_ERR_NO_DAEMON);
	ck_assert_msg(now_ms() - t0 < 5000, "failing took %llu ms", (unsigned long long)(now_ms() - t0));
	fbpf_handlers_close(h);
	drop(x);
}
END_TEST

START_TEST(test_helper_malformed)
{
	struct pol *x = compile(POLICY);
	struct fbpf_handlers *h;
	uint32_t hi = handler_index(x, "authz");

	make_tmpdir();
	h = open_helper(x, "", 5000, 0);
	ck_assert_int_eq(ask(h, hi, "/garbage"), 0);
	ck_assert_msg(reported("\"hello\" from helper") && reported("does not start with a request id"),
		      "reports: %s", reports);
	ck_assert(reported("'maybe' is neither 'allow' nor 'deny'"));
	ck_assert(reported("'ENOSUCHERRNO' is not an errno name"));
	ck_assert(reported("'0' is not an errno name"));
	ck_assert(reported("words after 'allow'"));
	ck_assert(reported("the line is longer than 4096 bytes"));
	ck_assert(reported("no answer after the id"));
	ck_assert_int_eq(count_reported("ignoring the malformed answer line"), 8);
	/* still in step after all that */
	ck_assert_int_eq(ask(h, hi, "/deny/ENOSPC"), ENOSPC);
	ck_assert_int_eq(ask(h, hi, "/wrongid"), 0);
	ck_assert_msg(reported("ignoring an answer to request 1000003, which was never sent"), "reports: %s", reports);
	ck_assert_int_eq(ask(h, hi, "/ok"), 0);
	fbpf_handlers_close(h);
	drop(x);
}
END_TEST

START_TEST(test_helper_sigpipe)
{
	struct pol *x = compile(POLICY);
	struct fbpf_handlers *h;
	uint32_t hi = handler_index(x, "authz");

	make_tmpdir();
	/* whatever the process had, writing to a helper that stopped reading
	 * must not kill it */
	signal(SIGPIPE, SIG_DFL);
	h = open_helper(x, "", 20000, 0);
	ck_assert_int_eq(ask(h, hi, "/closestdin"), 0);
	usleep(100000);
	ck_assert_int_eq(ask(h, hi, "/ok"), FBPF_ERR_NO_DAEMON);
	ck_assert_msg(reported("stopped reading its stdin, so it was killed"), "reports: %s", reports);
	ck_assert_int_eq(ask(h, hi, "/ok"), 0);
	fbpf_handlers_close(h);
	drop(x);
}
END_TEST

START_TEST(test_close_stubborn_helper)
{
	struct pol *x = compile(POLICY);
	struct fbpf_handlers *h;
	uint64_t t0;
	int pid;

	make_tmpdir();
	h = open_helper(x, "--stubborn", 0, 0);
	pid = fbpf_handlers_helper_pid(h, handler_index(x, "authz"));
	ck_assert_int_gt(pid, 0);
	usleep(100000); /* let it ignore SIGTERM */
	t0 = now_ms();
	fbpf_handlers_close(h);
	ck_assert_msg(now_ms() - t0 < 15000, "close took %llu ms", (unsigned long long)(now_ms() - t0));
	/* killed and reaped: no such process, not even a zombie */
	ck_assert_int_eq(kill(pid, 0), -1);
	ck_assert_int_eq(errno, ESRCH);
	ck_assert_msg(reported("did not exit after EOF on its stdin and SIGTERM"), "reports: %s", reports);
	drop(x);
}
END_TEST

START_TEST(test_example_gate)
{
	static const char src[] =
		"policy gate_demo\n"
		"defer open, modify \"/shared/**\" to \"gate\"\n";
	struct pol *x = compile(src);
	struct fbpf_handler_opts opts;
	struct fbpf_handlers *h;
	struct fbpf_defer_req r;
	char spec[512], err[512];
	uint32_t g = handler_index(x, "gate");

	memset(&opts, 0, sizeof(opts));
	opts.report = collect;
	snprintf(spec, sizeof(spec), "gate=exec:sh %s/examples/handler/gate.sh %s/examples/handler/deny.list",
		 FBPF_SOURCE_DIR, FBPF_SOURCE_DIR);
	ck_assert_int_eq(fbpf_handler_opts_parse(&opts, spec), 0);
	setenv("GATE_NOW", "6 10", 1); /* a Saturday */
	ck_assert_msg(fbpf_handlers_open(&h, &x->o, &opts, err, sizeof(err)) == 0, "%s", err);
	fbpf_handler_opts_free(&opts);

	ck_assert_int_eq(ask(h, g, "/shared/report.txt"), 0);
	ck_assert_int_eq(ask(h, g, "/shared/payroll/2026.csv"), EACCES);
	ck_assert_int_eq(ask(h, g, "/shared/keys/site.key"), EACCES);
	r = req_for(g, FBPF_OP_WRITE, "/shared/report.txt");
	ck_assert_int_eq(fbpf_handlers_call(h, &r), EROFS);
	r = req_for(g, FBPF_OP_OPEN, "/shared/report.txt");
	r.flags = FBPF_IN_WRITE;
	ck_assert_int_eq(fbpf_handlers_call(h, &r), EROFS);
	r = req_for(g, FBPF_OP_DELETE, "/shared/payroll/2026.csv");
	r.uid = 0;
	ck_assert_int_eq(fbpf_handlers_call(h, &r), 0);
	fbpf_handlers_close(h);

	setenv("GATE_NOW", "2 09", 1); /* Tuesday morning */
	ck_assert_int_eq(fbpf_handler_opts_parse(&opts, spec), 0);
	ck_assert_msg(fbpf_handlers_open(&h, &x->o, &opts, err, sizeof(err)) == 0, "%s", err);
	fbpf_handler_opts_free(&opts);
	r = req_for(g, FBPF_OP_WRITE, "/shared/report.txt");
	ck_assert_int_eq(fbpf_handlers_call(h, &r), 0);
	r = req_for(g, FBPF_OP_WRITE, "/shared/payroll/x");
	ck_assert_int_eq(fbpf_handlers_call(h, &r), EACCES);
	fbpf_handlers_close(h);
	ck_assert_msg(rep_len == 0, "reports: %s", reports);
	drop(x);
}
END_TEST

START_TEST(test_kreq)
{
	static struct fbpf_kreq k;
	struct fbpf_defer_req r;

	memset(&k, 'x', sizeof(k));
	k.op = FBPF_OP_DELETE;
	k.flags = 0;
	k.rule = 3;
	k.handler = 1;
	k.uid = 5;
	k.gid = 6;
	k.pid = 7;
	memcpy(k.path, "/a/b", 4);
	k.path_len = 4;
	ck_assert_int_eq(fbpf_defer_req_from_kreq(&r, &k), 0);
	ck_assert_str_eq(r.path, "/a/b");
	ck_assert(r.op == FBPF_OP_DELETE && r.rule == 3 && r.handler == 1 && r.uid == 5 && r.gid == 6 && r.pid == 7);
	k.path_len = FBPF_PATH_MAX;
	ck_assert_int_eq(fbpf_defer_req_from_kreq(&r, &k), -1);
}
END_TEST

START_TEST(test_no_handlers)
{
	struct pol *x = compile("policy plain\nhide \"/x\"\n");
	struct fbpf_handlers *h;
	struct fbpf_defer_req r = req_for(0, FBPF_OP_OPEN, "/x");
	char err[256];

	ck_assert_int_eq(fbpf_handlers_open(&h, &x->o, NULL, err, sizeof(err)), 0);
	ck_assert_int_eq(fbpf_handlers_call(h, &r), FBPF_ERR_NO_DAEMON);
	fbpf_handlers_close(h);
	drop(x);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("defer");
	TCase *opts = tcase_create("options"), *audit = tcase_create("audit"),
	      *helper = tcase_create("helper");
	SRunner *sr;
	int failed;

	tcase_add_test(opts, test_opts_good);
	tcase_add_test(opts, test_opts_bad);
	tcase_add_test(opts, test_unconfigured_handler);
	tcase_add_test(opts, test_default_audit_and_unused_option);
	tcase_add_test(opts, test_no_handlers);
	tcase_add_test(opts, test_kreq);
	tcase_add_test(audit, test_audit_json);
	tcase_add_test(audit, test_audit_concurrent);
	tcase_add_test(audit, test_audit_write_error);
	tcase_add_test(helper, test_helper_answers);
	tcase_add_test(helper, test_helper_concurrent_out_of_order);
	tcase_add_test(helper, test_helper_timeout);
	tcase_add_test(helper, test_helper_dies);
	tcase_add_test(helper, test_helper_keeps_dying);
	tcase_add_test(helper, test_helper_malformed);
	tcase_add_test(helper, test_helper_sigpipe);
	tcase_add_test(helper, test_close_stubborn_helper);
	tcase_add_test(helper, test_example_gate);
	tcase_add_checked_fixture(opts, NULL, rm_tmpdir);
	tcase_add_checked_fixture(audit, NULL, rm_tmpdir);
	tcase_add_checked_fixture(helper, NULL, rm_tmpdir);
	suite_add_tcase(s, opts);
	suite_add_tcase(s, audit);
	suite_add_tcase(s, helper);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
