// SPDX-License-Identifier: GPL-2.0
/* FUSE mode: options, the session and the mount. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ops.h"
#include "policy.h"

#if defined(FBPF_HAVE_DEFER)
#include "defer.h"
#endif

const char fbpf_fuse_options_help[] =
	"FUSE mode -o options (besides the usual mount and FUSE options such as ro,\n"
	"allow_other, default_permissions):\n"
	"  timeout=S            entry_timeout, attr_timeout and negative_timeout at once\n"
	"  entry_timeout=S      how long the kernel may keep a name (default 30; 0 for\n"
	"                       caller-dependent answers whatever this says)\n"
	"  attr_timeout=S       how long it may keep attributes (default 30)\n"
	"  negative_timeout=S   how long it may remember that a name is missing (default 30)\n"
	"  writeback            write-back page cache (default off)\n"
	"  nopassthrough        no kernel data passthrough (used when libfuse >= 3.17,\n"
	"                       the kernel allows it and the daemon runs as root)\n"
	"  flush                pass close() to the lower file system (for network lowers)\n"
	"  splice               move data with splice(2)\n"
	"  threads=N            idle worker threads kept (default 10)\n"
	"  busy_poll=US         after a request, look for the next one this many\n"
	"                       microseconds before sleeping (default 50; 0: never;\n"
	"                       off on a single CPU)\n"
	"  noallow_other        as root, only root may use the view\n";

/* libfuse's messages go here while mounting, so that fbpf-run can report
 * them as its one sentence. */
static char fuse_msg[512];

static void log_capture(enum fuse_log_level level, const char *fmt, va_list ap)
{
	size_t l = strlen(fuse_msg);

	if (level > FUSE_LOG_ERR)
		return;
	/* a message may come in pieces; keep the last line */
	if (l && fuse_msg[l - 1] == '\n')
		l = 0;
	vsnprintf(fuse_msg + l, sizeof(fuse_msg) - l, fmt, ap);
}

static void log_stderr(enum fuse_log_level level, const char *fmt, va_list ap)
{
	(void)level;
	vfprintf(stderr, fmt, ap);
}

/* The captured message as one clause: no "fuse: ", no newline, no dot. */
static const char *fuse_message(void)
{
	size_t l = strlen(fuse_msg);
	char *o;

	while (l && (fuse_msg[l - 1] == '\n' || fuse_msg[l - 1] == '.'))
		fuse_msg[--l] = 0;
	if (!strncmp(fuse_msg, "fuse: ", 6))
		memmove(fuse_msg, fuse_msg + 6, l - 5);
	/* "unknown option(s): `-o bogus'" */
	o = strstr(fuse_msg, "unknown option");
	if (o && (o = strstr(o, "-o "))) {
		char opt[256];

		snprintf(opt, sizeof(opt), "%s", o + 3);
		opt[strcspn(opt, "'")] = 0;
		snprintf(fuse_msg, sizeof(fuse_msg), "unknown mount option '%s'", opt);
	}
	return fuse_msg;
}

int fbpf_fuse_available(char *why, size_t n)
{
	if (access("/dev/fuse", F_OK)) {
		snprintf(why, n, "FUSE is not available: /dev/fuse does not exist (load the fuse module, or give "
			 "the container the device)");
		return 0;
	}
	if (access("/dev/fuse", R_OK | W_OK)) {
		if (geteuid() == 0)
			snprintf(why, n, "FUSE is not available: /dev/fuse cannot be opened (%s)", strerror(errno));
		else
			snprintf(why, n, "FUSE is not available to this user: /dev/fuse is not readable and writable "
				 "by uid %u (it is normally mode 0666)", (unsigned)getuid());
		return 0;
	}
	return 1;
}

int fbpf_fuse_hits(void *ctx, uint64_t *hits, uint32_t n)
{
	struct fs *fs = ctx;
	uint32_t i;

	for (i = 0; i < n; i++)
		hits[i] = i <= fs->nrules ? __atomic_load_n(&fs->hits[i], __ATOMIC_RELAXED) : 0;
	return 0;
}

static int fail(const struct fbpf_mount_args *a, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (a->err && a->errlen)
		vsnprintf(a->err, a->errlen, fmt, ap);
	va_end(ap);
	return -1;
}

/* A whole number from lo to hi; 0 or -1. */
static int parse_count(const char *v, long lo, long hi, long *out)
{
	char *end;

	errno = 0;
	*out = strtol(v, &end, 10);
	return *end || end == v || errno || *out < lo || *out > hi ? -1 : 0;
}

static int parse_seconds(const char *v, double *out)
{
	char *end;
	double d;

	errno = 0;
	d = strtod(v, &end);
	if (errno || end == v || *end || d < 0 || d > 86400.0 * 365)
		return -1;
	*out = d;
	return 0;
}

/* Our own -o options go into fs; the rest is returned for libfuse. */
static int parse_options(struct fs *fs, const struct fbpf_mount_args *a, char *rest, size_t restlen)
{
	char *opts = strdup(a->options ? a->options : ""), *save = NULL, *o;
	int noallow = 0, allow = 0;
	size_t used = 0;

	if (!opts)
		return fail(a, "out of memory");
	rest[0] = 0;
	for (o = strtok_r(opts, ",", &save); o; o = strtok_r(NULL, ",", &save)) {
		const char *eq = strchr(o, '=');
		double d;
		long v;

#define IS(name) (!strcmp(o, name))
#define KEY(name) (eq && (size_t)(eq - o) == strlen(name) && !strncmp(o, name, strlen(name)))
		if (KEY("timeout") || KEY("entry_timeout") || KEY("attr_timeout") || KEY("negative_timeout")) {
			if (parse_seconds(eq + 1, &d)) {
				fail(a, "the -o option '%s' needs a number of seconds", o);
				free(opts);
				return -1;
			}
			if (KEY("timeout") || KEY("entry_timeout"))
				fs->entry_timeout = d;
			if (KEY("timeout") || KEY("attr_timeout"))
				fs->attr_timeout = d;
			if (KEY("timeout") || KEY("negative_timeout"))
				fs->negative_timeout = d;
		} else if (KEY("threads")) {
			if (parse_count(eq + 1, 1, 1000, &v)) {
				fail(a, "the -o option '%s' needs a number of threads from 1 to 1000", o);
				free(opts);
				return -1;
			}
			fs->threads = (int)v;
		} else if (KEY("busy_poll")) {
			if (parse_count(eq + 1, 0, 100000, &v)) {
				fail(a, "the -o option '%s' needs a number of microseconds from 0 to 100000", o);
				free(opts);
				return -1;
			}
			fs->busy_poll_us = (unsigned)v;
		} else if (IS("writeback")) {
			fs->writeback = 1;
		} else if (IS("nowriteback")) {
			fs->writeback = 0;
		} else if (IS("passthrough")) {
			fs->passthrough = 1;
		} else if (IS("nopassthrough")) {
			fs->passthrough = 0;
		} else if (IS("flush")) {
			fs->flush = 1;
		} else if (IS("noflush")) {
			fs->flush = 0;
		} else if (IS("splice")) {
			fs->splice = 1;
		} else if (IS("nosplice")) {
			fs->splice = 0;
		} else if (IS("noallow_other")) {
			noallow = 1;
		} else {
			size_t l = strlen(o);

			if (IS("allow_other"))
				allow = 1;
			if (IS("default_permissions"))
				fs->kernel_perms = 1;
			if (used + l + 2 > restlen) {
				free(opts);
				return fail(a, "the -o options are too long");
			}
			if (used)
				rest[used++] = ',';
			memcpy(rest + used, o, l + 1);
			used += l;
		}
#undef IS
#undef KEY
	}
	free(opts);
	if (geteuid() == 0 && !noallow && !allow) {
		if (used + 13 > restlen)
			return fail(a, "the -o options are too long");
		memcpy(rest + used, used ? ",allow_other" : "allow_other", used ? 13 : 12);
	}
	return 0;
}

static void scan_policy(struct fs *fs)
{
	const struct fbpf_object *o = fs->obj;
	uint32_t r, nrules = o->meta.nrules, base, cond, n, i;

	fs->rules = o->meta.callbacks != 0;
	if (o->nwords < FBPF_T_HEADER_WORDS)
		return;
	base = o->words[FBPF_T_RULES];
	for (r = 0; r < nrules; r++) {
		uint32_t w = base + r * FBPF_RULE_WORDS;

		if (w + FBPF_RULE_WORDS > o->nwords)
			break;
		if (o->words[w + FBPF_RW_FLAGS] & FBPF_RF_CALLER)
			fs->policy_caller = 1;
		if (o->words[w + FBPF_RW_FLAGS] & FBPF_RF_ENTRY)
			fs->policy_entry = 1;
		cond = o->words[w + FBPF_RW_COND];
		if (!cond || cond >= o->nwords)
			continue;
		n = o->words[cond];
		for (i = 0; i < n && i < FBPF_COND_MAX; i++) {
			uint32_t at = cond + 1 + i * FBPF_INSN_WORDS, w0, w1;

			if (at + 1 >= o->nwords)
				break;
			w0 = o->words[at];
			w1 = o->words[at + 1];
			if (((w0 >> 8) & 0xff) == FBPF_F_PID ||
			    (((w0 >> 24) & 0xff) == FBPF_RHS_FIELD && w1 == FBPF_F_PID))
				fs->policy_pid = 1;
		}
	}
}

int fbpf_fuse_mount(const struct fbpf_mount_args *a)
{
	struct fuse_args args = FUSE_ARGS_INIT(0, NULL);
	char rest[2048], *fsopts = NULL;
	struct fs *fs;
	struct stat st;
	int ret = -1, r, ngroups;

	fs = calloc(1, sizeof(*fs));
	if (!fs)
		return fail(a, "out of memory");
	fs->args = a;
	fs->obj = a->object;
	fs->rootfd = -1;
	fs->entry_timeout = fs->attr_timeout = fs->negative_timeout = 30.0;
	fs->threads = 10;
	fs->busy_poll_us = 50;
	fs->creds = geteuid() == 0;
	fs->passthrough = FBPF_PASSTHROUGH && fs->creds;
	nodes_init(fs);
	scan_policy(fs);
	fs->nrules = a->object->meta.nrules;
	fs->hits = calloc(fs->nrules + 1, sizeof(*fs->hits));
	if (!fs->hits) {
		fail(a, "out of memory");
		goto out;
	}
	if (parse_options(fs, a, rest, sizeof(rest)))
		goto out;

	fs->rootfd = open(a->lower, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fs->rootfd < 0 || fstat(fs->rootfd, &st)) {
		fail(a, "cannot open the lower directory %s: %s", a->lower, strerror(errno));
		goto out;
	}
	fs->root.root = 1;
	fs->root.dev = st.st_dev;
	fs->root.ino = st.st_ino;
	fs->root.state = FBPF_STATE_ROOT;
	fs->root.mode = st.st_mode;
	fs->root.nlookup = 1;
	fs->own_gid = getegid();
	ngroups = getgroups(64, fs->own_groups);
	fs->own_ngroups = ngroups < 0 ? 0 : ngroups;

#if defined(FBPF_HAVE_DEFER)
	if (a->object->meta.nhandlers) {
		char err[512];

		if (fbpf_handlers_open(&fs->handlers, a->object, a->handler_opts, err, sizeof(err))) {
			fail(a, "%s", err);
			goto out;
		}
	}
#endif
	umask(0);

	{
		/* fuse_opt splits at ',' unless escaped */
		char esc[2 * PATH_MAX];
		size_t i, j = 0;

		for (i = 0; a->lower[i] && j + 3 < sizeof(esc); i++) {
			if (a->lower[i] == ',' || a->lower[i] == '\\')
				esc[j++] = '\\';
			esc[j++] = a->lower[i];
		}
		esc[j] = 0;
		r = asprintf(&fsopts, "subtype=fbpf,fsname=%s%s%s", esc, rest[0] ? "," : "", rest);
	}
	if (r < 0) {
		fsopts = NULL;
		fail(a, "out of memory");
		goto out;
	}
	if (fuse_opt_add_arg(&args, "fbpf-run") || fuse_opt_add_arg(&args, "-o") ||
	    fuse_opt_add_arg(&args, fsopts)) {
		fail(a, "out of memory");
		goto out;
	}
	fuse_set_log_func(log_capture);
	fuse_msg[0] = 0;
	fs->se = fuse_session_new(&args, &fbpf_fuse_ops, sizeof(fbpf_fuse_ops), fs);
	if (!fs->se) {
		fuse_message();
		if (!strncmp(fuse_msg, "unknown mount option", 20))
			fail(a, "%s: see fbpf-run mount --help for the -o options", fuse_msg);
		else
			fail(a, "cannot set up the FUSE session: %s", fuse_msg[0] ? fuse_msg : "invalid options");
		goto out;
	}
	/* SIGINT and SIGTERM unmount, even when started with them ignored
	 * (a background job of a script) */
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	if (fuse_set_signal_handlers(fs->se)) {
		fail(a, "cannot install the signal handlers");
		goto out_session;
	}
	if (fuse_session_mount(fs->se, a->mnt)) {
		fuse_message();
		fail(a, "cannot mount on %s: %s", a->mnt, fuse_msg[0] ? fuse_msg : "the FUSE mount failed");
		goto out_signals;
	}
	fuse_set_log_func(log_stderr);
	r = fuse_loop_run(fs);
	fuse_session_unmount(fs->se);
	if (r < 0 && !fs->ready_sent)
		fail(a, "the FUSE session on %s failed: %s", a->mnt, strerror(-r));
	else
		ret = 0;
out_signals:
	fuse_remove_signal_handlers(fs->se);
out_session:
	fuse_session_destroy(fs->se);
out:
#if defined(FBPF_HAVE_DEFER)
	if (fs->handlers)
		fbpf_handlers_close(fs->handlers);
#endif
	fuse_opt_free_args(&args);
	free(fsopts);
	if (fs->rootfd >= 0)
		close(fs->rootfd);
	nodes_free(fs);
	free(fs->hits);
	free(fs);
	return ret;
}

const char *fbpf_fuse_version(void)
{
	static char v[64];
	int n = fuse_version();

	snprintf(v, sizeof(v), "libfuse %d.%d%s", n / 100, n % 100,
		 FBPF_PASSTHROUGH ? ", passthrough" : "");
	return v;
}
