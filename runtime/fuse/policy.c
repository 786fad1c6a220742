// SPDX-License-Identifier: GPL-2.0
/*
 * FUSE mode's side of the engine protocol (notes in docs/fuse-mode.md):
 * the caller's credentials, the argument block, statistics, deferral, and
 * lower-path resolution beneath the lower root.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fsuid.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "policy.h"

#if defined(FBPF_HAVE_DEFER)
#include "defer.h"
#endif

/* ------------------------------------------------------------------ */
/* Credentials: each worker thread takes on the caller's fsuid, fsgid and
 * supplementary groups (setgroups through the raw system call, which is
 * per thread; glibc's wrapper would change every thread). A thread keeps
 * them until a request of another caller, or until it acts for the daemon
 * itself (creds_leave). Supplementary groups come from /proc through
 * fuse_req_getgroups(), remembered per process for one second. */

#define NGROUPS_KEEP 64
#define GCACHE 8

struct tcreds {
	int valid;
	uid_t uid;
	gid_t gid;
	int n;
	gid_t g[NGROUPS_KEEP];
};

struct gcache {
	pid_t pid;
	uid_t uid;
	gid_t gid;
	int n;
	uint64_t t;
	gid_t g[NGROUPS_KEEP];
};

static __thread struct tcreds cur;
static __thread struct gcache gc[GCACHE];
static __thread unsigned gc_next;

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void set_creds(uid_t uid, gid_t gid, int n, const gid_t *g)
{
	if (!cur.valid || cur.n != n || memcmp(cur.g, g, (size_t)n * sizeof(*g))) {
		syscall(SYS_setgroups, (size_t)n, g);
		cur.n = n;
		memcpy(cur.g, g, (size_t)n * sizeof(*g));
	}
	if (!cur.valid || cur.gid != gid)
		setfsgid(gid);
	if (!cur.valid || cur.uid != uid)
		setfsuid(uid);
	cur.uid = uid;
	cur.gid = gid;
	cur.valid = 1;
}

void creds_enter(struct fs *fs, fuse_req_t req)
{
	const struct fuse_ctx *c;
	struct gcache *e = NULL;
	uint64_t t;
	unsigned i;

	if (!fs->creds)
		return;
	c = fuse_req_ctx(req);
	if (c->uid == 0) {
		set_creds(0, c->gid, fs->own_ngroups, fs->own_groups);
		return;
	}
	t = now_ms();
	for (i = 0; i < GCACHE; i++)
		if (gc[i].pid == c->pid && gc[i].uid == c->uid && gc[i].gid == c->gid &&
		    gc[i].pid && t - gc[i].t < 1000) {
			e = &gc[i];
			break;
		}
	if (!e) {
		gid_t g[NGROUPS_KEEP];
		int n = fuse_req_getgroups(req, NGROUPS_KEEP, g);

		e = &gc[gc_next++ % GCACHE];
		if (n < 0)
			n = 0; /* unknown: no supplementary groups */
		if (n > NGROUPS_KEEP)
			n = NGROUPS_KEEP;
		e->pid = c->pid;
		e->uid = c->uid;
		e->gid = c->gid;
		e->n = n;
		e->t = t;
		memcpy(e->g, g, (size_t)n * sizeof(*g));
	}
	set_creds(c->uid, c->gid, e->n, e->g);
}

void creds_leave(struct fs *fs)
{
	if (!fs->creds || !cur.valid)
		return;
	set_creds(0, fs->own_gid, fs->own_ngroups, fs->own_groups);
}

/* ------------------------------------------------------------------ */
/* The caller's process id: FUSE reports the calling thread; the policy
 * sees the thread group, as in kernel mode. Only looked up when a rule
 * reads pid. */

static __thread struct {
	pid_t tid, tgid;
	uint64_t t;
} pidc[4];
static __thread unsigned pidc_next;

static pid_t tgid_of(pid_t tid)
{
	char path[64], buf[512];
	uint64_t t = now_ms();
	pid_t tgid = tid;
	unsigned i;
	ssize_t r;
	char *p;
	int fd;

	for (i = 0; i < 4; i++)
		if (pidc[i].tid == tid && tid && t - pidc[i].t < 1000)
			return pidc[i].tgid;
	snprintf(path, sizeof(path), "/proc/%d/status", (int)tid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		r = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (r > 0) {
			buf[r] = 0;
			p = strstr(buf, "\nTgid:");
			if (p)
				tgid = (pid_t)strtol(p + 6, NULL, 10);
		}
	}
	i = pidc_next++ % 4;
	pidc[i].tid = tid;
	pidc[i].tgid = tgid;
	pidc[i].t = t;
	return tgid;
}

/* ------------------------------------------------------------------ */

void args_init(struct fs *fs, struct fbpf_args *a, fuse_req_t req, uint32_t op, uint32_t phase, uint64_t st)
{
	const struct fuse_ctx *c = fuse_req_ctx(req);

	memset(a, 0, offsetof(struct fbpf_args, name));
	a->name[0] = 0;
	a->op = op;
	a->phase = phase;
	a->uid = c->uid;
	a->gid = c->gid;
	a->pid = fs->policy_pid ? (uint32_t)tgid_of(c->pid) : (uint32_t)c->pid;
	a->dir_state = st;
}

void args_entry(struct fbpf_args *a, const struct stat *st)
{
	a->flags |= FBPF_IN_ENTRY;
	a->e_uid = st->st_uid;
	a->e_gid = st->st_gid;
	a->e_mode = st->st_mode;
}

void args_cached_entry(struct fbpf_args *a, struct node *n)
{
	a->flags |= FBPF_IN_ENTRY;
	a->e_uid = __atomic_load_n(&n->uid, __ATOMIC_RELAXED);
	a->e_gid = __atomic_load_n(&n->gid, __ATOMIC_RELAXED);
	a->e_mode = __atomic_load_n(&n->mode, __ATOMIC_RELAXED);
}

int args_name(struct fbpf_args *a, const char *name)
{
	size_t l = strlen(name);

	if (l > FBPF_NAME_MAX)
		return ENAMETOOLONG;
	memcpy(a->name, name, l + 1);
	a->name_len = (uint32_t)l;
	return 0;
}

int eval(struct fs *fs, struct fbpf_args *a, int count_rename)
{
	int v = fbpf_eval(fs->obj, a);

	if (a->rule && a->rule <= fs->nrules) {
		int decided = v != FBPF_CONTINUE || (a->out_flags & (FBPF_OUT_HIDDEN | FBPF_OUT_ATTR));

		if (!decided && count_rename && (a->out_flags & FBPF_OUT_NAME) &&
		    (a->out_name_len != a->name_len || memcmp(a->out_name, a->name, a->name_len)))
			decided = 1;
		if (decided)
			__atomic_add_fetch(&fs->hits[a->rule], 1, __ATOMIC_RELAXED);
	}
	return v;
}

void apply_attr(const struct fbpf_args *a, struct stat *st)
{
	if (!(a->out_flags & FBPF_OUT_ATTR))
		return;
	if (a->a_set & FBPF_ATTR_UID)
		st->st_uid = a->a_uid;
	if (a->a_set & FBPF_ATTR_GID)
		st->st_gid = a->a_gid;
	if (a->a_set & FBPF_ATTR_MODE)
		st->st_mode = (st->st_mode & ~07777u) | ((st->st_mode & 07777 & a->a_mode_and) | a->a_mode_or);
}

int defer_call(struct fs *fs, fuse_req_t req, const struct fbpf_args *a, struct node *dir, const char *leaf)
{
#if defined(FBPF_HAVE_DEFER)
	char path[FBPF_PATH_MAX];
	struct fbpf_defer_req d;
	int r = node_path(fs, dir, leaf, path, sizeof(path), 1);

	if (r < 0)
		return -r;
	memset(&d, 0, sizeof(d));
	d.op = a->op;
	d.flags = a->flags & (FBPF_IN_WRITE | FBPF_IN_TARGET);
	d.rule = a->rule;
	d.handler = a->handler;
	d.uid = a->uid;
	d.gid = a->gid;
	d.pid = a->pid;
	d.path = path;
	/* a handler may take long, or use the view itself */
	loop_may_block();
	creds_leave(fs);
	r = fbpf_handlers_call(fs->handlers, &d);
	creds_enter(fs, req);
	return r;
#else
	(void)fs; (void)req; (void)a; (void)dir; (void)leaf;
	return FBPF_ERR_NO_DAEMON;
#endif
}

int decide(struct fs *fs, fuse_req_t req, const struct fbpf_args *a, struct node *dir, const char *leaf)
{
	switch (a->verdict) {
	case FBPF_CONTINUE:
		return 0;
	case FBPF_ERROR:
		return a->err ? (int)a->err : EACCES;
	case FBPF_DEFER:
		return defer_call(fs, req, a, dir, leaf);
	default:
		return EIO;
	}
}

static int hidden_errno(uint32_t op, uint32_t flags)
{
	return op == FBPF_OP_CREATE || (op == FBPF_OP_RENAME && (flags & FBPF_IN_TARGET)) ? EACCES : ENOENT;
}

static int bad_name(const char *s)
{
	return !s[0] || (s[0] == '.' && (!s[1] || (s[1] == '.' && !s[2]))) || strchr(s, '/');
}

int map_name(struct fs *fs, fuse_req_t req, struct node *p, const char *name, uint32_t op, uint32_t flags,
	     struct mapped *m)
{
	struct fbpf_args a;
	int v;

	m->caller = 0;
	m->state = FBPF_STATE_DEAD;
	if (strlen(name) > FBPF_NAME_MAX)
		return ENAMETOOLONG;
	if (!fs->rules) {
		if (bad_name(name))
			return hidden_errno(op, flags);
		strcpy(m->stored, name);
		return 0;
	}
	args_init(fs, &a, req, FBPF_OP_LOOKUP, FBPF_PRE, p->state);
	args_name(&a, name);
	v = eval(fs, &a, 1);
	m->caller = !!(a.out_flags & FBPF_OUT_CALLER);
	m->state = a.state;
	if (v == FBPF_ERROR)
		return op == FBPF_OP_LOOKUP ? (a.err ? (int)a.err : ENOENT) : hidden_errno(op, flags);
	if (a.out_flags & FBPF_OUT_NAME)
		memcpy(m->stored, a.out_name, a.out_name_len + 1);
	else
		strcpy(m->stored, name);
	if (bad_name(m->stored))
		return hidden_errno(op, flags);
	return 0;
}

int name_filter(struct fs *fs, fuse_req_t req, struct node *p, const char *name, uint32_t op, uint32_t flags,
		const struct stat *st, int *caller)
{
	struct fbpf_args a;

	if (!fs->rules || !fbpf_has_filter(fs->obj, op, FBPF_PRE))
		return 0;
	args_init(fs, &a, req, op, FBPF_PRE, p->state);
	a.flags = flags;
	if (st)
		args_entry(&a, st);
	args_name(&a, name);
	eval(fs, &a, 0);
	if (a.out_flags & FBPF_OUT_CALLER)
		*caller = 1;
	return decide(fs, req, &a, p, name);
}

int inode_filter(struct fs *fs, fuse_req_t req, struct node *n, uint32_t op, uint32_t flags,
		 const struct stat *st, int *caller)
{
	struct fbpf_args a;

	if (!fs->rules || n->root || !fbpf_has_filter(fs->obj, op, FBPF_PRE))
		return 0;
	args_init(fs, &a, req, op, FBPF_PRE, n->state);
	a.flags = flags;
	if (st)
		args_entry(&a, st);
	else
		args_cached_entry(&a, n);
	eval(fs, &a, 0);
	if ((a.out_flags & FBPF_OUT_CALLER) && caller)
		*caller = 1;
	return decide(fs, req, &a, n, NULL);
}

/* Without READDIR/PRE, what is known of every directory's entries:
 * READDIR/PRE comes with every READDIR/POST, so without either a listing
 * shows the lower names as they are. */
static uint32_t kids_default(struct fs *fs)
{
	if (!fs->rules)
		return FBPF_OUT_PROMISES;
	return fbpf_has_filter(fs->obj, FBPF_OP_READDIR, FBPF_POST) ? 0 : FBPF_OUT_LIST_PLAIN;
}

/* Whether the view's READDIR/PRE filter is there to ask. */
static int readdir_pre(struct fs *fs)
{
	return fs->rules && fbpf_has_filter(fs->obj, FBPF_OP_READDIR, FBPF_PRE);
}

/* The promises depend on n's state alone, which never changes: kept. */
static void kids_keep(struct node *n, uint32_t kids)
{
	__atomic_store_n(&n->kids, (kids & FBPF_OUT_PROMISES) | KIDS_KNOWN, __ATOMIC_RELAXED);
}

/* What READDIR/PRE promises about directory n's entries: kept with n, or
 * asked (without deciding or counting anything) and kept. */
static uint32_t node_kids(struct fs *fs, fuse_req_t req, struct node *n)
{
	struct fbpf_args a;
	uint32_t k;

	if (!readdir_pre(fs))
		return kids_default(fs);
	k = __atomic_load_n(&n->kids, __ATOMIC_RELAXED);
	if (k & KIDS_KNOWN)
		return k & FBPF_OUT_PROMISES;
	args_init(fs, &a, req, FBPF_OP_READDIR, FBPF_PRE, n->state);
	args_cached_entry(&a, n);
	fbpf_eval(fs->obj, &a);
	kids_keep(n, a.out_flags);
	return a.out_flags & FBPF_OUT_PROMISES;
}

int dir_filter(struct fs *fs, fuse_req_t req, struct node *n, uint32_t *kids)
{
	struct fbpf_args a;

	/* the root itself is not decided on; only the promises count */
	if (!readdir_pre(fs) || n->root) {
		*kids = node_kids(fs, req, n);
		return 0;
	}
	args_init(fs, &a, req, FBPF_OP_READDIR, FBPF_PRE, n->state);
	args_cached_entry(&a, n);
	eval(fs, &a, 0);
	*kids = a.out_flags & FBPF_OUT_PROMISES;
	kids_keep(n, *kids);
	return decide(fs, req, &a, n, NULL);
}

uint32_t parent_kids(struct fs *fs, fuse_req_t req, struct node *n)
{
	struct link *l;
	uint32_t all = FBPF_OUT_PROMISES;

	if (!readdir_pre(fs))
		return kids_default(fs);
	/* the tree lock keeps the parents from going away; n's state came
	 * through one of its names: only what every parent promises holds */
	pthread_rwlock_rdlock(&fs->tree);
	if (!n->links)
		all = 0;
	for (l = n->links; l; l = l->next)
		all &= node_kids(fs, req, l->parent);
	pthread_rwlock_unlock(&fs->tree);
	return all;
}

/* Would op's pre-filter decide anything on n for this caller, or depend on
 * the caller? Then the daemon must see each such operation. */
int inode_probe(struct fs *fs, fuse_req_t req, struct node *n, uint32_t op, const struct stat *st)
{
	struct fbpf_args a;

	if (!fs->rules || n->root || !fbpf_has_filter(fs->obj, op, FBPF_PRE))
		return 0;
	args_init(fs, &a, req, op, FBPF_PRE, n->state);
	if (st)
		args_entry(&a, st);
	else
		args_cached_entry(&a, n);
	fbpf_eval(fs->obj, &a);
	return a.verdict != FBPF_CONTINUE || (a.out_flags & FBPF_OUT_CALLER);
}

int inode_probe_state(struct fs *fs, fuse_req_t req, uint64_t state, const struct stat *st)
{
	struct fbpf_args a;

	if (!fs->rules || !fbpf_has_filter(fs->obj, FBPF_OP_GETATTR, FBPF_PRE))
		return 0;
	args_init(fs, &a, req, FBPF_OP_GETATTR, FBPF_PRE, state);
	args_entry(&a, st);
	fbpf_eval(fs->obj, &a);
	return a.verdict != FBPF_CONTINUE || (a.out_flags & FBPF_OUT_CALLER);
}

void attr_post(struct fs *fs, fuse_req_t req, struct node *n, struct stat *st, int *caller)
{
	struct fbpf_args a;

	if (!fs->rules || n->root || !fbpf_has_filter(fs->obj, FBPF_OP_GETATTR, FBPF_POST))
		return;
	args_init(fs, &a, req, FBPF_OP_GETATTR, FBPF_POST, n->state);
	args_entry(&a, st);
	eval(fs, &a, 0);
	if (a.out_flags & FBPF_OUT_CALLER)
		*caller = 1;
	apply_attr(&a, st);
}

/* ------------------------------------------------------------------ */
/* Lower paths. */

int lower_open(struct fs *fs, const char *path, int flags, mode_t mode)
{
	struct open_how how;
	int fd, tries = 0;

	memset(&how, 0, sizeof(how));
	how.flags = (uint64_t)(flags | O_CLOEXEC);
	how.mode = (flags & (O_CREAT | __O_TMPFILE)) ? (mode & 07777) : 0;
	how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
	do
		fd = (int)syscall(SYS_openat2, fs->rootfd, path, &how, sizeof(how));
	while (fd < 0 && errno == EAGAIN && ++tries < 8);
	if (fd < 0)
		return errno == EXDEV ? -EACCES : -errno;
	return fd;
}

int loc_open(struct fs *fs, struct node *n, const char *leaf, struct loc *l)
{
	char *slash;
	int r, fd;

	l->close = 0;
	l->dfd = fs->rootfd;
	if (n->root && !leaf) {
		l->path[0] = '.';
		l->path[1] = 0;
		l->name = l->path;
		return 0;
	}
	r = node_path(fs, n, leaf, l->path, sizeof(l->path), 0);
	if (r < 0)
		return -r;
	slash = strrchr(l->path, '/');
	if (!slash) {
		l->name = l->path;
		return 0;
	}
	*slash = 0;
	l->name = slash + 1;
	fd = lower_open(fs, l->path, O_PATH | O_DIRECTORY, 0);
	if (fd < 0)
		return -fd;
	l->dfd = fd;
	l->close = 1;
	return 0;
}

void loc_close(struct loc *l)
{
	if (l->close)
		close(l->dfd);
	l->close = 0;
}

/* An open file of n when n has no name left (unlinked while open): the
 * lower file is reached through that descriptor. -ENOENT if none. */
static int unlinked_fd(struct fs *fs, struct node *n)
{
	int fd = node_file_dup(fs, n);

	return fd >= 0 ? fd : -ENOENT;
}

int node_stat(struct fs *fs, struct node *n, struct stat *st)
{
	struct loc l;
	int r, fd;

	if (n->root)
		return fstat(fs->rootfd, st) ? errno : 0;
	r = loc_open(fs, n, NULL, &l);
	if (r == ENOENT && (fd = unlinked_fd(fs, n)) >= 0) {
		r = fstat(fd, st) ? errno : 0;
		close(fd);
		return r;
	}
	if (r)
		return r;
	r = fstatat(l.dfd, l.name, st, AT_SYMLINK_NOFOLLOW) ? errno : 0;
	loc_close(&l);
	return r;
}

/* An O_PATH descriptor of n itself (not followed if a symlink), or of its
 * open file when it has no name left. */
int node_opath(struct fs *fs, struct node *n, int *close_it)
{
	char path[PATH_MAX];
	int r;

	*close_it = 0;
	if (n->root)
		return fs->rootfd;
	r = node_path(fs, n, NULL, path, sizeof(path), 0);
	if (r == -ENOENT)
		r = unlinked_fd(fs, n);
	else if (r >= 0)
		r = lower_open(fs, path, O_PATH | O_NOFOLLOW, 0);
	if (r >= 0)
		*close_it = 1;
	return r;
}
