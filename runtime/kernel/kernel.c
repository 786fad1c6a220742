// SPDX-License-Identifier: GPL-2.0
/*
 * Kernel mode: load rules.o with libbpf, attach its struct_ops to fbpf.ko,
 * mount the view (type "fbpf") and serve the module's channel.
 *
 * Threads of a kernel-mode daemon:
 *   - the caller's thread waits for the view to go away (poll on
 *     /proc/self/mountinfo), or for SIGINT/SIGTERM, which unmount it;
 *   - KWORKERS workers read struct fbpf_kreq from the channel (non-blocking
 *     fd, so that idle workers wait in poll), ask the deferred-operation
 *     handlers and write struct fbpf_kresp;
 *   - the reload thread answers `fbpf-run reload` on an abstract unix
 *     socket named after the mount point.
 * The current policy (BPF object, handlers, hits map) is swapped under a
 * rwlock: workers and the statistics hold it for reading.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "defer.h"
#include "kernel.h"
#include "mount_args.h"
#include "object.h"

#define KWORKERS 4
#define RELOAD_TIMEOUT_S 300 /* loading a big policy under emulation is slow */

const char fbpf_kernel_options_help[] =
	"  defer_timeout_ms=N   how long the module waits for a deferred operation's answer\n"
	"                       (default: --defer-timeout, else 5000)\n"
	"  other -o options are passed to the fbpf filesystem as they are\n";

/* ---- libbpf messages ----------------------------------------------------- */

/* The tail of what libbpf says while one call runs on this thread: the
 * verifier's reason for refusing a program comes last. */
static __thread char *log_buf;
static __thread size_t log_len, log_cap;

static int capture(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	char line[1024];
	size_t n;
	int r;

	if (level == LIBBPF_DEBUG || !log_buf)
		return 0;
	r = vsnprintf(line, sizeof(line), fmt, ap);
	if (r <= 0)
		return 0;
	n = (size_t)r < sizeof(line) ? (size_t)r : sizeof(line) - 1;
	if (n + 1 > log_cap)
		return 0;
	if (log_len + n + 1 > log_cap) {
		size_t drop = log_len + n + 1 - log_cap;

		memmove(log_buf, log_buf + drop, log_len - drop);
		log_len -= drop;
	}
	memcpy(log_buf + log_len, line, n);
	log_len += n;
	log_buf[log_len] = 0;
	return 0;
}

static pthread_mutex_t print_lock = PTHREAD_MUTEX_INITIALIZER;
static libbpf_print_fn_t print_saved;

/* libbpf's print function is global: one capture at a time. */
static void capture_begin(char *buf, size_t len)
{
	pthread_mutex_lock(&print_lock);
	buf[0] = 0;
	log_buf = buf;
	log_len = 0;
	log_cap = len;
	print_saved = libbpf_set_print(capture);
}

/* The last `max` bytes of a captured log: the verifier's reason comes last. */
static const char *log_tail(const char *log, size_t max)
{
	size_t len = strlen(log);

	if (len <= max)
		return log;
	log += len - max;
	while (*log && *log != ' ')
		log++;
	return log;
}

/* Ends the capture; the messages become one line, to quote in a sentence. */
static void capture_end(void)
{
	char *s;

	libbpf_set_print(print_saved);
	for (s = log_buf; *s; s++)
		if (*s == '\n' || *s == '\t')
			*s = ' ';
	log_buf = NULL;
	pthread_mutex_unlock(&print_lock);
}

/* ---- is kernel mode possible here? -------------------------------------- */

static int libbpf_ok(char *why, size_t n)
{
	unsigned maj = libbpf_major_version(), min = libbpf_minor_version();

	if (maj > 1 || (maj == 1 && min >= 4))
		return 1;
	snprintf(why, n,
		 "kernel mode needs libbpf 1.4 or newer to load a struct_ops type that lives in a module, "
		 "but fbpf-run runs with libbpf %u.%u: install libbpf 1.4 (bookworm-backports) and rebuild, "
		 "or use --mode fuse", maj, min);
	return 0;
}

int fbpf_kernel_available(char *why, size_t n)
{
	struct btf *vmlinux, *mod;
	int found;

	if (!libbpf_ok(why, n))
		return 0;
	if (access("/sys/module/fbpf", F_OK) || access(FBPF_DEV_PATH, F_OK)) {
		snprintf(why, n, "the fbpf kernel module is not loaded: run insmod kmod/fbpf.ko or use --mode fuse");
		return 0;
	}
	if (access("/sys/kernel/btf/fbpf", R_OK)) {
		snprintf(why, n, "the fbpf module is loaded but has no BTF (/sys/kernel/btf/fbpf is missing): "
				 "rebuild kmod/ with pahole (dwarves) installed, or use --mode fuse");
		return 0;
	}
	vmlinux = btf__load_vmlinux_btf();
	if (!vmlinux) {
		snprintf(why, n, "this kernel has no BTF (/sys/kernel/btf/vmlinux), which struct_ops needs: "
				 "use --mode fuse");
		return 0;
	}
	mod = btf__load_module_btf("fbpf", vmlinux);
	found = mod && btf__find_by_name_kind(mod, "fbpf_ops", BTF_KIND_STRUCT) > 0;
	btf__free(mod);
	btf__free(vmlinux);
	if (!found) {
		snprintf(why, n, "the loaded fbpf module does not define struct fbpf_ops: load the fbpf.ko "
				 "built from this source tree, or use --mode fuse");
		return 0;
	}
	return 1;
}

/* ---- one loaded policy ------------------------------------------------------ */

struct kpolicy {
	struct bpf_object *obj;
	struct bpf_map *ops;         /* the struct_ops map */
	int hits_fd;                 /* FBPF_MAP_HITS, -1 when the object has none */
	uint32_t nhits;
	const struct fbpf_object *o;
	struct fbpf_object *owned;   /* o, when this file read it (reload) */
	struct fbpf_handlers *handlers;
};

static void kpolicy_free(struct kpolicy *p)
{
	if (!p)
		return;
	fbpf_handlers_close(p->handlers);
	bpf_object__close(p->obj);
	fbpf_object_free(p->owned);
	free(p);
}

static int fill_tables(struct bpf_map *tab, const struct fbpf_object *o, size_t rows)
{
	size_t len = rows * sizeof(struct fbpf_tab_row), r;
	void *mem = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, bpf_map__fd(tab), 0);

	if (mem != MAP_FAILED) {
		memset(mem, 0, len);
		memcpy(mem, o->words, (size_t)o->nwords * 4);
		munmap(mem, len);
		return 0;
	}
	for (r = 0; r < rows; r++) {
		struct fbpf_tab_row row = { { 0 } };
		size_t w = r * FBPF_TAB_ROW_WORDS, k = o->nwords - w;
		__u32 key = (__u32)r;

		memcpy(row.w, o->words + w, (k < FBPF_TAB_ROW_WORDS ? k : FBPF_TAB_ROW_WORDS) * 4);
		if (bpf_map_update_elem(bpf_map__fd(tab), &key, &row, BPF_ANY))
			return -errno;
	}
	return 0;
}

/* Open and load path (whose metadata o describes) and fill its tables; the
 * struct_ops is not attached yet. name: the name to register the struct_ops
 * under (the module's registry key, ops= of the mount). */
static struct kpolicy *kpolicy_load(const char *path, const struct fbpf_object *o, const char *name,
				    char *err, size_t n)
{
	struct kpolicy *p = calloc(1, sizeof(*p));
	struct bpf_program *prog;
	struct bpf_map *map, *tab, *hits;
	char log[8192];
	size_t rows;
	int rc;

	if (!p) {
		snprintf(err, n, "out of memory loading %s", path);
		return NULL;
	}
	p->hits_fd = -1;
	p->o = o;
	capture_begin(log, sizeof(log));
	p->obj = bpf_object__open_file(path, NULL);
	if (!p->obj) {
		rc = errno;
		capture_end();
		snprintf(err, n, "libbpf cannot open %s (%s): rebuild it with 'fbpfc compile'", path, strerror(rc));
		free(p);
		return NULL;
	}
	/* the syscall twins (*_test) are for BPF_PROG_TEST_RUN, not for the module */
	bpf_object__for_each_program(prog, p->obj)
		if (bpf_program__type(prog) == BPF_PROG_TYPE_SYSCALL)
			bpf_program__set_autoload(prog, false);
	bpf_object__for_each_map(map, p->obj)
		if (bpf_map__type(map) == BPF_MAP_TYPE_STRUCT_OPS && !p->ops)
			p->ops = map;
	tab = bpf_object__find_map_by_name(p->obj, FBPF_MAP_TABLES);
	hits = bpf_object__find_map_by_name(p->obj, FBPF_MAP_HITS);
	if (p->ops && strcmp(name, o->meta.policy)) {
		size_t sz = 0;
		struct fbpf_ops *v = bpf_map__initial_value(p->ops, &sz);

		if (!v || sz < sizeof(*v)) {
			capture_end();
			snprintf(err, n, "this libbpf cannot rename the struct_ops of %s to %s", path, name);
			goto fail;
		}
		memset(v->name, 0, sizeof(v->name));
		memcpy(v->name, name, strnlen(name, FBPF_POLICY_NAME_MAX));
	}
	if (!p->ops || !tab) {
		capture_end();
		snprintf(err, n, "%s has no %s: it was not built by this fbpfc; rebuild it with 'fbpfc compile'",
			 path, p->ops ? "policy table map " FBPF_MAP_TABLES : "struct_ops map");
		goto fail;
	}
	rows = (o->nwords + FBPF_TAB_ROW_WORDS - 1) / FBPF_TAB_ROW_WORDS;
	if (!rows)
		rows = 1;
	bpf_map__set_max_entries(tab, (__u32)rows);
	if (hits) {
		p->nhits = o->meta.nrules + 1;
		bpf_map__set_max_entries(hits, p->nhits);
	}
	rc = bpf_object__load(p->obj);
	capture_end();
	if (rc) {
		if (rc == -ESRCH || strstr(log, "not found in kernel BTF"))
			snprintf(err, n, "the kernel does not know struct fbpf_ops, so %s cannot be loaded: "
					 "run insmod kmod/fbpf.ko or use --mode fuse", path);
		else
			snprintf(err, n, "the kernel refused the BPF programs of %s (%s); the end of libbpf's "
					 "report: ...%s", path, strerror(-rc), log_tail(log, 480));
		goto fail;
	}
	rc = fill_tables(tab, o, rows);
	if (rc) {
		snprintf(err, n, "cannot write the policy tables of %s into its map: %s", path, strerror(-rc));
		goto fail;
	}
	if (hits)
		p->hits_fd = bpf_map__fd(hits);
	return p;
fail:
	kpolicy_free(p);
	return NULL;
}

/* ---- the mount ------------------------------------------------------------ */

struct kmount {
	const struct fbpf_mount_args *a;
	char mnt[PATH_MAX];
	int chfd;                 /* the channel, /dev/fbpf */
	int stopfd;               /* eventfd: becomes readable when everything must stop */
	int gonefd;               /* eventfd: a worker saw the channel end */
	int ctlfd;                /* the reload socket, -1 if none */
	struct bpf_link *link;
	char name[FBPF_POLICY_NAME_MAX + 1]; /* the struct_ops's registered name: ops= */
	pthread_rwlock_t lock;    /* guards cur */
	struct kpolicy *cur;
};

static void poke(int efd)
{
	uint64_t one = 1;

	if (write(efd, &one, sizeof(one)) < 0) {
		/* an eventfd write only fails on overflow: it is readable anyway */
	}
}

/* Is there an fbpf mount on mnt in this mount namespace? */
static int mounted_here(const char *mnt)
{
	FILE *f = fopen("/proc/self/mountinfo", "r");
	char *line = NULL, mp[PATH_MAX];
	size_t cap = 0;
	int found = 0;

	if (!f)
		return 1; /* cannot tell: assume it is */
	while (!found && getline(&line, &cap, f) > 0) {
		char *s = line, *sep, *d;
		int field;

		for (field = 0; field < 4 && s; field++) {
			s = strchr(s, ' ');
			if (s)
				s++;
		}
		sep = strstr(line, " - ");
		if (!s || !sep)
			continue;
		/* field 5: the mount point, with octal escapes */
		for (d = mp; *s && *s != ' ' && d < mp + sizeof(mp) - 1; d++) {
			if (s[0] == '\\' && s[1] >= '0' && s[1] <= '7' && s[2] && s[3]) {
				*d = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
				s += 4;
			} else {
				*d = *s++;
			}
		}
		*d = 0;
		found = !strcmp(mp, mnt) && !strncmp(sep + 3, FBPF_FS_TYPE " ", strlen(FBPF_FS_TYPE) + 1);
	}
	free(line);
	fclose(f);
	return found;
}

static void *worker(void *arg)
{
	struct kmount *km = arg;
	struct fbpf_kreq *req = malloc(sizeof(*req));

	if (!req) {
		poke(km->gonefd);
		return NULL;
	}
	for (;;) {
		struct pollfd pfd[2] = { { km->chfd, POLLIN, 0 }, { km->stopfd, POLLIN, 0 } };
		struct fbpf_defer_req d;
		struct fbpf_kresp resp;
		ssize_t r;

		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (pfd[1].revents)
			break;
		if (pfd[0].revents & (POLLERR | POLLHUP | POLLNVAL)) {
			poke(km->gonefd);
			break;
		}
		r = read(km->chfd, req, sizeof(*req));
		if (r < 0 && (errno == EAGAIN || errno == EINTR))
			continue; /* another worker took it */
		if (r <= 0) {
			poke(km->gonefd);
			break;
		}
		if ((size_t)r < offsetof(struct fbpf_kreq, path) || req->path_len >= FBPF_PATH_MAX ||
		    offsetof(struct fbpf_kreq, path) + req->path_len > (size_t)r) {
			fprintf(stderr, "fbpf-run: the fbpf module sent a malformed request (%zd bytes); "
					"failing it: the module and fbpf-run may be from different trees\n", r);
			resp = (struct fbpf_kresp){ .id = (size_t)r >= sizeof(req->id) ? req->id : 0, .err = EIO };
			if (write(km->chfd, &resp, sizeof(resp)) < 0) {
				/* nobody to tell */
			}
			continue;
		}
		req->path[req->path_len] = 0;
		d = (struct fbpf_defer_req){
			.op = req->op, .flags = req->flags, .rule = req->rule, .handler = req->handler,
			.uid = req->uid, .gid = req->gid, .pid = req->pid, .path = req->path,
		};
		resp = (struct fbpf_kresp){ .id = req->id };
		pthread_rwlock_rdlock(&km->lock);
		resp.err = fbpf_handlers_call(km->cur->handlers, &d);
		pthread_rwlock_unlock(&km->lock);
		/* ENOENT/ETIMEDOUT: the waiter already gave up; nothing to do */
		if (write(km->chfd, &resp, sizeof(resp)) < 0 && errno != ENOENT && errno != ETIMEDOUT &&
		    errno != EINTR)
			fprintf(stderr, "fbpf-run: cannot answer the fbpf module: %s\n", strerror(errno));
	}
	free(req);
	return NULL;
}

static int hits(void *ctx, uint64_t *out, uint32_t n)
{
	struct kmount *km = ctx;
	int ncpu = libbpf_num_possible_cpus(), rc = 0, c;
	uint64_t *v;
	uint32_t r;

	if (ncpu <= 0 || !(v = calloc((size_t)ncpu, sizeof(*v))))
		return -1;
	pthread_rwlock_rdlock(&km->lock);
	if (km->cur->hits_fd < 0)
		rc = -1;
	for (r = 0; r < n && !rc; r++) {
		out[r] = 0;
		if (r >= km->cur->nhits)
			continue;
		if (bpf_map_lookup_elem(km->cur->hits_fd, &r, v)) {
			rc = -1;
			break;
		}
		for (c = 0; c < ncpu; c++)
			out[r] += v[c];
	}
	pthread_rwlock_unlock(&km->lock);
	free(v);
	return rc;
}

/* ---- reload ----------------------------------------------------------------- */

static int do_reload(struct kmount *km, const char *path, char *err, size_t n)
{
	struct fbpf_object *o;
	struct kpolicy *p, *old;
	char log[1024];
	int rc;

	if (fbpf_object_read(path, &o, err, n))
		return -1;
	/* under the name the mount knows, whatever the new policy calls itself */
	p = kpolicy_load(path, o, km->name, err, n);
	if (!p) {
		fbpf_object_free(o);
		return -1;
	}
	p->owned = o;
	if (fbpf_handlers_open(&p->handlers, o, km->a->handler_opts, err, n)) {
		kpolicy_free(p);
		return -1;
	}
	capture_begin(log, sizeof(log));
	rc = bpf_link__update_map(km->link, p->ops);
	capture_end();
	if (rc) {
		snprintf(err, n, "the fbpf module refused to switch %s to the new %s (%s)%s%s", km->mnt, path,
			 strerror(-rc), log[0] ? "; libbpf said: " : "", log_tail(log, 480));
		kpolicy_free(p);
		return -1;
	}
	pthread_rwlock_wrlock(&km->lock);
	old = km->cur;
	km->cur = p;
	pthread_rwlock_unlock(&km->lock);
	kpolicy_free(old);
	return 0;
}

/* The reload socket: abstract, named after a hash of the mount point. */
static socklen_t ctl_addr(const char *mnt, struct sockaddr_un *sa)
{
	uint64_t h = 1469598103934665603ull;
	const char *s;
	int len;

	for (s = mnt; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	len = snprintf(sa->sun_path + 1, sizeof(sa->sun_path) - 1, "fbpf-kernel-%016llx", (unsigned long long)h);
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + len);
}

#define CTL_MSG_MAX (2 * PATH_MAX + 16)

static void *ctl_thread(void *arg)
{
	struct kmount *km = arg;
	char *msg = malloc(CTL_MSG_MAX + 1), reply[8300], sentence[8192];

	while (msg) {
		struct pollfd pfd[2] = { { km->ctlfd, POLLIN, 0 }, { km->stopfd, POLLIN, 0 } };
		struct ucred cred;
		socklen_t cl = sizeof(cred);
		const char *mnt, *obj;
		ssize_t len;
		int c;

		if (poll(pfd, 2, -1) < 0 && errno != EINTR)
			break;
		if (pfd[1].revents)
			break;
		if (!pfd[0].revents)
			continue;
		c = accept4(km->ctlfd, NULL, NULL, SOCK_CLOEXEC);
		if (c < 0)
			continue;
		if (getsockopt(c, SOL_SOCKET, SO_PEERCRED, &cred, &cl) ||
		    (cred.uid != 0 && cred.uid != geteuid())) {
			snprintf(reply, sizeof(reply), "error: only root or the mount's owner may reload its policy");
			goto answer;
		}
		len = recv(c, msg, CTL_MSG_MAX, 0);
		if (len <= 0) {
			close(c);
			continue;
		}
		msg[len] = 0;
		/* "reload\0MNT\0OBJECT\0" */
		mnt = msg + strlen(msg) + 1;
		obj = mnt < msg + len ? mnt + strlen(mnt) + 1 : msg + len;
		if (strcmp(msg, "reload") || obj >= msg + len || strcmp(mnt, km->mnt)) {
			snprintf(reply, sizeof(reply), "error: malformed reload request");
			goto answer;
		}
		strcpy(reply, "ok");
		if (do_reload(km, obj, sentence, sizeof(sentence)))
			snprintf(reply, sizeof(reply), "error: %s", sentence);
answer:
		if (send(c, reply, strlen(reply), MSG_NOSIGNAL) < 0) {
			/* the asker went away */
		}
		close(c);
	}
	free(msg);
	return NULL;
}

int fbpf_kernel_reload(const char *mnt, const char *new_object, char *err, size_t n)
{
	char rmnt[PATH_MAX], robj[PATH_MAX], *msg, reply[8300];
	struct sockaddr_un sa;
	struct timeval tv = { RELOAD_TIMEOUT_S, 0 };
	struct fbpf_object *o;
	socklen_t sl;
	size_t ml;
	ssize_t r;
	int fd;

	if (!realpath(mnt, rmnt)) {
		snprintf(err, n, "%s: %s: give the mount point of a kernel-mode view", mnt, strerror(errno));
		return -1;
	}
	if (!realpath(new_object, robj)) {
		snprintf(err, n, "%s: %s: give a rules.o built by 'fbpfc compile'", new_object, strerror(errno));
		return -1;
	}
	/* the usual sentences about a bad or foreign object, before bothering the daemon */
	if (fbpf_object_read(robj, &o, err, n))
		return -1;
	fbpf_object_free(o);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, n, "cannot make a unix socket: %s", strerror(errno));
		return -1;
	}
	sl = ctl_addr(rmnt, &sa);
	if (connect(fd, (struct sockaddr *)&sa, sl)) {
		snprintf(err, n, "no kernel-mode fbpf-run serves %s (%s): reload works on kernel-mode mounts; "
				 "remount a FUSE-mode view to change its policy", rmnt, strerror(errno));
		close(fd);
		return -1;
	}
	ml = strlen("reload") + strlen(rmnt) + strlen(robj) + 3;
	msg = malloc(ml);
	if (!msg) {
		close(fd);
		snprintf(err, n, "out of memory");
		return -1;
	}
	memcpy(msg, "reload", 7);
	memcpy(msg + 7, rmnt, strlen(rmnt) + 1);
	memcpy(msg + 8 + strlen(rmnt), robj, strlen(robj) + 1);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	r = send(fd, msg, ml, MSG_NOSIGNAL);
	free(msg);
	if (r == (ssize_t)ml)
		r = recv(fd, reply, sizeof(reply) - 1, 0);
	close(fd);
	if (r <= 0) {
		snprintf(err, n, "the fbpf-run serving %s did not answer the reload request (%s)", rmnt,
			 r < 0 ? strerror(errno) : "it closed the connection");
		return -1;
	}
	reply[r] = 0;
	if (!strcmp(reply, "ok"))
		return 0;
	snprintf(err, n, "%s", strncmp(reply, "error: ", 7) ? reply : reply + 7);
	return -1;
}

/* ---- mount and serve --------------------------------------------------------- */

static int fail(const struct fbpf_mount_args *a, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int fail(const struct fbpf_mount_args *a, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (a->err && a->errlen)
		vsnprintf(a->err, a->errlen, fmt, ap);
	else
		vfprintf(stderr, fmt, ap);
	va_end(ap);
	return 1;
}

static int serve(struct kmount *km, int sigfd)
{
	int mi = open("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC);

	for (;;) {
		struct pollfd pfd[3] = { { sigfd, POLLIN, 0 }, { km->gonefd, POLLIN, 0 }, { mi, POLLPRI, 0 } };
		struct signalfd_siginfo si;

		if (poll(pfd, mi >= 0 ? 3 : 2, mi >= 0 ? -1 : 1000) < 0 && errno != EINTR)
			break;
		if (pfd[0].revents && read(sigfd, &si, sizeof(si)) > 0) {
			/* SIGINT, SIGTERM: unmount, lazily if it is busy */
			if (umount2(km->mnt, 0) && errno == EBUSY)
				umount2(km->mnt, MNT_DETACH);
			break;
		}
		if (pfd[1].revents) {
			/* the module ended the channel: the view is going away */
			if (mounted_here(km->mnt))
				umount2(km->mnt, MNT_DETACH);
			break;
		}
		if ((mi < 0 || pfd[2].revents) && !mounted_here(km->mnt))
			break;
	}
	if (mi >= 0)
		close(mi);
	return 0;
}

int fbpf_kernel_mount(const struct fbpf_mount_args *a)
{
	struct kmount km = { .a = a, .chfd = -1, .stopfd = -1, .gonefd = -1, .ctlfd = -1 };
	const struct fbpf_object *o = a->object;
	pthread_t workers[KWORKERS], ctl;
	int nworkers = 0, have_ctl = 0, sigfd = -1, rc = 1, attempt, i;
	char why[512], log[1024], timeout_opt[40], *opts = NULL;
	const char *user_opts;
	sigset_t block, old;
	struct sockaddr_un sa;

	if (!fbpf_kernel_available(why, sizeof(why)))
		return fail(a, "%s", why);
	if (!realpath(a->mnt, km.mnt))
		return fail(a, "%s: %s: give an existing directory as the mount point", a->mnt, strerror(errno));
	if (strchr(a->lower, ','))
		return fail(a, "the lower directory %s has a comma in its path, which the fbpf mount options "
			       "cannot carry: use a path without commas (a symlink will do)", a->lower);
	pthread_rwlock_init(&km.lock, NULL);

	/*
	 * The module keys attached policies by name. When another mount already
	 * uses this policy's name, attach this instance as NAME-XXXX (the mount
	 * shows it as ops=NAME-XXXX); a reload keeps the instance's name.
	 */
	for (attempt = 0; !km.link && attempt < 8; attempt++) {
		if (attempt == 0) {
			snprintf(km.name, sizeof(km.name), "%s", o->meta.policy);
		} else {
			char sfx[8];
			int sl = snprintf(sfx, sizeof(sfx), "-%04x", (unsigned)(getpid() + attempt * 7919) & 0xffff);

			snprintf(km.name, sizeof(km.name), "%.*s%s", FBPF_POLICY_NAME_MAX - sl, o->meta.policy, sfx);
		}
		kpolicy_free(km.cur);
		km.cur = kpolicy_load(a->object_path, o, km.name, why, sizeof(why));
		if (!km.cur) {
			fail(a, "%s", why);
			goto out;
		}
		capture_begin(log, sizeof(log));
		km.link = bpf_map__attach_struct_ops(km.cur->ops);
		i = km.link ? 0 : errno;
		capture_end();
		if (!km.link && i != EEXIST) {
			fail(a, "the fbpf module refused policy %s (%s)%s%s", o->meta.policy, strerror(i),
			     log[0] ? "; libbpf said: " : "", log_tail(log, 480));
			goto out;
		}
	}
	if (!km.link) {
		fail(a, "policy %s is attached to the fbpf module %d times already: unmount some of its views",
		     o->meta.policy, attempt);
		goto out;
	}
	if (fbpf_handlers_open(&km.cur->handlers, o, a->handler_opts, why, sizeof(why))) {
		fail(a, "%s", why);
		goto out;
	}
	km.chfd = open(FBPF_DEV_PATH, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (km.chfd < 0) {
		fail(a, "cannot open %s (%s): is the fbpf module loaded?", FBPF_DEV_PATH, strerror(errno));
		goto out;
	}
	km.stopfd = eventfd(0, EFD_CLOEXEC);
	km.gonefd = eventfd(0, EFD_CLOEXEC);
	if (km.stopfd < 0 || km.gonefd < 0) {
		fail(a, "cannot make an eventfd: %s", strerror(errno));
		goto out;
	}
	/* the module waits as long as the handlers do (--defer-timeout), unless -o says otherwise */
	user_opts = a->options ? a->options : "";
	timeout_opt[0] = 0;
	if (a->handler_opts && a->handler_opts->timeout_ms && !strstr(user_opts, "defer_timeout_ms="))
		snprintf(timeout_opt, sizeof(timeout_opt), ",defer_timeout_ms=%u", a->handler_opts->timeout_ms);
	if (asprintf(&opts, "lowerdir=%s,ops=%s,fd=%d%s%s%s", a->lower, km.name, km.chfd, timeout_opt,
		     *user_opts ? "," : "", user_opts) < 0) {
		opts = NULL;
		fail(a, "out of memory");
		goto out;
	}
	if (mount("none", km.mnt, FBPF_FS_TYPE, 0, opts)) {
		int e = errno;

		if (e == ENODEV)
			fail(a, "the kernel has no filesystem type fbpf: run insmod kmod/fbpf.ko or use --mode fuse");
		else if (e == EINVAL)
			fail(a, "the fbpf module refused the mount options '%s' (EINVAL): check the -o options "
				"(see dmesg for the module's reason)", opts);
		else
			fail(a, "cannot mount the fbpf view on %s: %s (see dmesg for the module's reason)",
			     km.mnt, strerror(e));
		goto out;
	}

	/* SIGINT and SIGTERM unmount; the threads must not take them */
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	sigfd = signalfd(-1, &block, SFD_CLOEXEC);
	for (i = 0; i < KWORKERS; i++)
		if (!pthread_create(&workers[nworkers], NULL, worker, &km))
			nworkers++;
	km.ctlfd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (km.ctlfd >= 0 && (bind(km.ctlfd, (struct sockaddr *)&sa, ctl_addr(km.mnt, &sa)) ||
			      listen(km.ctlfd, 4))) {
		fprintf(stderr, "fbpf-run: %s: reloading this view will not work: cannot make its control "
				"socket (%s)\n", km.mnt, strerror(errno));
		close(km.ctlfd);
		km.ctlfd = -1;
	}
	if (km.ctlfd >= 0 && !pthread_create(&ctl, NULL, ctl_thread, &km))
		have_ctl = 1;
	if (!nworkers || sigfd < 0) {
		fail(a, "cannot start serving %s (no threads or no signalfd): %s", km.mnt, strerror(errno));
		umount2(km.mnt, MNT_DETACH);
	} else {
		if (a->ready)
			a->ready(a, hits, &km);
		rc = serve(&km, sigfd);
	}
	poke(km.stopfd);
	for (i = 0; i < nworkers; i++)
		pthread_join(workers[i], NULL);
	if (have_ctl)
		pthread_join(ctl, NULL);
	if (sigfd >= 0)
		close(sigfd);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
out:
	free(opts);
	if (km.ctlfd >= 0)
		close(km.ctlfd);
	if (km.chfd >= 0)
		close(km.chfd); /* waiters fail with FBPF_ERR_NO_DAEMON */
	if (km.stopfd >= 0)
		close(km.stopfd);
	if (km.gonefd >= 0)
		close(km.gonefd);
	bpf_link__destroy(km.link);
	kpolicy_free(km.cur); /* a->object is not owned: only a reloaded object is freed */
	pthread_rwlock_destroy(&km.lock);
	return rc;
}
