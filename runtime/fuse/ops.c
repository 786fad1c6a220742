// SPDX-License-Identifier: GPL-2.0
/* FUSE mode: the low-level operations of the view. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/statvfs.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "ops.h"
#include "policy.h"

static struct fs *FS(fuse_req_t req)
{
	return fuse_req_userdata(req);
}

/* fi->fh of a file (struct ofile, internal.h). */
static struct ofile *OF(const struct fuse_file_info *fi)
{
	return (struct ofile *)(uintptr_t)fi->fh;
}

/* A per-thread buffer, for reads, listings and xattrs. */
static __thread char *tbuf;
static __thread size_t tbuf_len;

static char *thread_buf(size_t len)
{
	if (len > tbuf_len) {
		char *b = realloc(tbuf, len);

		if (!b)
			return NULL;
		tbuf = b;
		tbuf_len = len;
	}
	return tbuf;
}

static double entry_to(struct fs *fs, int caller)
{
	return caller ? 0.0 : fs->entry_timeout;
}

/* May the kernel keep names found in directory p? Without
 * default_permissions the kernel does not check search permission while it
 * walks cached names, and the lower file system checks it only when asked.
 * So a name in a directory that not everyone may search is never kept: each
 * walk through it comes here and is checked as the caller. */
static int may_keep(struct fs *fs, struct node *p)
{
	return fs->kernel_perms || (__atomic_load_n(&p->mode, __ATOMIC_RELAXED) & 0111) == 0111;
}

static double attr_to(struct fs *fs, struct node *n, int caller)
{
	return caller || n->caller || n->attr_nocache ? 0.0 : fs->attr_timeout;
}

static void fill_entry(struct fs *fs, struct fuse_entry_param *e, struct node *p, struct node *n,
		       const struct stat *st, int caller)
{
	memset(e, 0, sizeof(*e));
	e->ino = node_id(fs, n);
	e->generation = n->gen;
	e->attr = *st;
	e->entry_timeout = entry_to(fs, caller || n->caller || !may_keep(fs, p));
	e->attr_timeout = attr_to(fs, n, caller);
}

/* Do getattr filters decide anything about n? Then every stat must come
 * here: the attributes are not cached. */
static void note_getattr(struct fs *fs, fuse_req_t req, struct node *n, const struct stat *st)
{
	if (!fs->rules || n->attr_nocache)
		return;
	if (inode_probe(fs, req, n, FBPF_OP_GETATTR, st))
		n->attr_nocache = 1;
}

/* ------------------------------------------------------------------ */

static void op_init(void *userdata, struct fuse_conn_info *conn)
{
	struct fs *fs = userdata;

	if (conn->capable & FUSE_CAP_ATOMIC_O_TRUNC)
		conn->want |= FUSE_CAP_ATOMIC_O_TRUNC;
	if (conn->capable & FUSE_CAP_FLOCK_LOCKS)
		conn->want |= FUSE_CAP_FLOCK_LOCKS;
	conn->want &= ~FUSE_CAP_POSIX_LOCKS;
	if (fs->writeback && (conn->capable & FUSE_CAP_WRITEBACK_CACHE))
		conn->want |= FUSE_CAP_WRITEBACK_CACHE;
	else
		fs->writeback = 0;
	if (fs->splice) {
		conn->want |= conn->capable & (FUSE_CAP_SPLICE_WRITE | FUSE_CAP_SPLICE_MOVE | FUSE_CAP_SPLICE_READ);
	} else {
		conn->want &= ~(FUSE_CAP_SPLICE_WRITE | FUSE_CAP_SPLICE_MOVE | FUSE_CAP_SPLICE_READ);
	}
	/* Symlink targets may be cached when no rule reads them. */
	if ((conn->capable & FUSE_CAP_CACHE_SYMLINKS) &&
	    !(fs->rules && fbpf_has_filter(fs->obj, FBPF_OP_READ, FBPF_PRE)))
		conn->want |= FUSE_CAP_CACHE_SYMLINKS;
#if FBPF_PASSTHROUGH
	if (fs->passthrough && (conn->capable & FUSE_CAP_PASSTHROUGH)) {
		conn->want |= FUSE_CAP_PASSTHROUGH;
		conn->want &= ~FUSE_CAP_WRITEBACK_CACHE;
		fs->writeback = 0;
	} else {
		fs->passthrough = 0;
	}
#else
	fs->passthrough = 0;
#endif
	if (!fs->ready_sent) {
		fs->ready_sent = 1;
		if (fs->args->ready)
			fs->args->ready(fs->args, fbpf_fuse_hits, fs);
	}
}

/* ------------------------------------------------------------------ */
/* Names */

/* Look shown name `name` up in p. Returns 0 with *e filled and one more
 * reference, or an errno; *negative says whether ENOENT may be cached. */
static int do_lookup(struct fs *fs, fuse_req_t req, struct node *p, const char *name, struct fuse_entry_param *e,
		     int *negative)
{
	struct mapped m;
	struct fbpf_args a;
	struct stat st;
	struct loc l;
	struct node *n;
	int err, exists, caller;

	*negative = 0;
	creds_enter(fs, req);
	err = map_name(fs, req, p, name, FBPF_OP_LOOKUP, 0, &m);
	caller = m.caller;
	if (err) {
		*negative = err == ENOENT && !caller;
		return err;
	}
	err = loc_open(fs, p, m.stored, &l);
	if (err)
		return err;
	exists = fstatat(l.dfd, l.name, &st, AT_SYMLINK_NOFOLLOW) == 0;
	err = exists ? 0 : errno;
	loc_close(&l);
	if (!exists && err != ENOENT)
		return err;
	if (fs->rules && fbpf_has_filter(fs->obj, FBPF_OP_LOOKUP, FBPF_POST)) {
		args_init(fs, &a, req, FBPF_OP_LOOKUP, FBPF_POST, m.state);
		if (exists)
			args_entry(&a, &st);
		eval(fs, &a, 0);
		if (a.out_flags & FBPF_OUT_CALLER)
			caller = 1;
		err = decide(fs, req, &a, p, name);
		if (err) {
			*negative = err == ENOENT && !caller;
			return err;
		}
		if (exists)
			apply_attr(&a, &st);
	}
	if (!exists) {
		*negative = !caller;
		return ENOENT;
	}
	n = node_get(fs, &st, m.state, p, m.stored, name);
	if (!n)
		return ENOMEM;
	if (caller)
		n->caller = 1;
	note_getattr(fs, req, n, NULL);
	fill_entry(fs, e, p, n, &st, caller);
	return 0;
}

static void op_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct fs *fs = FS(req);
	struct fuse_entry_param e;
	int negative, err;

	err = do_lookup(fs, req, N(fs, parent), name, &e, &negative);
	if (err == ENOENT && negative && fs->negative_timeout > 0 && may_keep(fs, N(fs, parent))) {
		memset(&e, 0, sizeof(e));
		e.entry_timeout = fs->negative_timeout;
		fuse_reply_entry(req, &e);
		return;
	}
	if (err) {
		fuse_reply_err(req, err);
		return;
	}
	if (fuse_reply_entry(req, &e))
		node_forget(fs, N(fs, e.ino), 1);
}

static void op_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	struct fs *fs = FS(req);

	node_forget(fs, N(fs, ino), nlookup);
	fuse_reply_none(req);
}

static void op_forget_multi(fuse_req_t req, size_t count, struct fuse_forget_data *forgets)
{
	struct fs *fs = FS(req);
	size_t i;

	for (i = 0; i < count; i++)
		node_forget(fs, N(fs, forgets[i].ino), forgets[i].nlookup);
	fuse_reply_none(req);
}

/* Reply with the entry of a name just made in p. */
static void reply_new(struct fs *fs, fuse_req_t req, struct node *p, const char *name, const struct mapped *m,
		      struct stat *st, int caller)
{
	struct fuse_entry_param e;
	struct node *n;

	n = node_get(fs, st, m->state, p, m->stored, name);
	if (!n) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	if (caller)
		n->caller = 1;
	if (fs->rules && fbpf_has_filter(fs->obj, FBPF_OP_LOOKUP, FBPF_POST)) {
		/* The create was decided by its own filter; a lookup of the new
		 * entry may answer otherwise (a hide that reads the type, say).
		 * Then the kernel must not keep this answer: the next use looks
		 * the name up, as kernel mode does. */
		struct fbpf_args b;

		args_init(fs, &b, req, FBPF_OP_LOOKUP, FBPF_POST, m->state);
		args_entry(&b, st);
		fbpf_eval(fs->obj, &b);
		if (b.verdict != FBPF_CONTINUE || (b.out_flags & FBPF_OUT_CALLER))
			caller = 1;
	}
	attr_post(fs, req, n, st, &caller);
	note_getattr(fs, req, n, st);
	fill_entry(fs, &e, p, n, st, caller);
	if (fuse_reply_entry(req, &e))
		node_forget(fs, n, 1);
}

/*
 * The prologue of every operation on a name: map shown name `name` in p to
 * its stored name (m) and run op's filter on it (CREATE; DELETE; RENAME,
 * the destination with FBPF_IN_TARGET). With l, the lower directory is
 * opened in l (left open on success), and but for CREATE the lower entry
 * is looked at first, into *st (*exists): it must exist, except as a
 * rename's destination. Without l (CREATE only), the caller opens the
 * path itself. *caller is set when an answer depended on the caller.
 */
static int resolve_name(struct fs *fs, fuse_req_t req, struct node *p, const char *name, uint32_t op,
			uint32_t flags, struct mapped *m, struct loc *l, struct stat *st, int *exists, int *caller)
{
	int err;

	*exists = 0;
	err = map_name(fs, req, p, name, op, flags, m);
	if (m->caller)
		*caller = 1;
	if (err)
		return err;
	if (op == FBPF_OP_CREATE) {
		err = name_filter(fs, req, p, name, op, flags, NULL, caller);
		return err || !l ? err : loc_open(fs, p, m->stored, l);
	}
	err = loc_open(fs, p, m->stored, l);
	if (err)
		return err;
	if (fstatat(l->dfd, l->name, st, AT_SYMLINK_NOFOLLOW) == 0)
		*exists = 1;
	else if (errno != ENOENT || !(flags & FBPF_IN_TARGET))
		err = errno;
	if (!err)
		err = name_filter(fs, req, p, name, op, flags, *exists ? st : NULL, caller);
	if (err)
		loc_close(l);
	return err;
}

/* mknod, mkdir, symlink */
static void make(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode, dev_t rdev, const char *target)
{
	struct fs *fs = FS(req);
	struct node *p = N(fs, parent);
	struct mapped m;
	struct stat st;
	struct loc l;
	int err, caller = 0, exists;

	creds_enter(fs, req);
	err = resolve_name(fs, req, p, name, FBPF_OP_CREATE, 0, &m, &l, &st, &exists, &caller);
	if (err) {
		fuse_reply_err(req, err);
		return;
	}
	if (target)
		err = symlinkat(target, l.dfd, l.name);
	else if (S_ISDIR(mode))
		err = mkdirat(l.dfd, l.name, mode & 07777);
	else
		err = mknodat(l.dfd, l.name, mode, rdev);
	if (!err)
		err = fstatat(l.dfd, l.name, &st, AT_SYMLINK_NOFOLLOW);
	err = err ? errno : 0;
	loc_close(&l);
	if (err) {
		fuse_reply_err(req, err);
		return;
	}
	reply_new(fs, req, p, name, &m, &st, caller);
}

static void op_mknod(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode, dev_t rdev)
{
	make(req, parent, name, mode, rdev, NULL);
}

static void op_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode)
{
	make(req, parent, name, S_IFDIR | mode, 0, NULL);
}

static void op_symlink(fuse_req_t req, const char *target, fuse_ino_t parent, const char *name)
{
	make(req, parent, name, S_IFLNK | 0777, 0, target);
}

static void op_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent, const char *newname)
{
	struct fs *fs = FS(req);
	struct node *n = N(fs, ino), *p = N(fs, newparent);
	struct mapped m;
	struct stat st;
	struct loc ol, nl;
	int err, caller = 0, exists;

	if (n->root) {
		fuse_reply_err(req, EPERM);
		return;
	}
	creds_enter(fs, req);
	err = resolve_name(fs, req, p, newname, FBPF_OP_CREATE, 0, &m, &nl, &st, &exists, &caller);
	if (err) {
		fuse_reply_err(req, err);
		return;
	}
	err = loc_open(fs, n, NULL, &ol);
	if (err) {
		loc_close(&nl);
		fuse_reply_err(req, err);
		return;
	}
	err = linkat(ol.dfd, ol.name, nl.dfd, nl.name, 0);
	if (!err)
		err = fstatat(nl.dfd, nl.name, &st, AT_SYMLINK_NOFOLLOW);
	err = err ? errno : 0;
	loc_close(&ol);
	loc_close(&nl);
	if (err) {
		fuse_reply_err(req, err);
		return;
	}
	reply_new(fs, req, p, newname, &m, &st, caller);
}

static void remove_name(fuse_req_t req, fuse_ino_t parent, const char *name, int dir)
{
	struct fs *fs = FS(req);
	struct node *p = N(fs, parent);
	struct mapped m;
	struct stat st;
	struct loc l;
	int err, caller = 0, exists;

	creds_enter(fs, req);
	err = resolve_name(fs, req, p, name, FBPF_OP_DELETE, 0, &m, &l, &st, &exists, &caller);
	if (err) {
		fuse_reply_err(req, err);
		return;
	}
	if (unlinkat(l.dfd, l.name, dir ? AT_REMOVEDIR : 0))
		err = errno;
	loc_close(&l);
	if (!err)
		node_unlinked(fs, p, m.stored);
	fuse_reply_err(req, err);
}

static void op_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	remove_name(req, parent, name, 0);
}

static void op_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	remove_name(req, parent, name, 1);
}

static void op_rename(fuse_req_t req, fuse_ino_t parent, const char *name, fuse_ino_t newparent,
		      const char *newname, unsigned int flags)
{
	struct fs *fs = FS(req);
	struct node *op = N(fs, parent), *np = N(fs, newparent);
	struct mapped ms, md;
	struct stat sst, dst;
	struct loc ol, nl;
	int err, caller = 0, sexists, dexists;

	if (flags & ~(unsigned)(RENAME_NOREPLACE | RENAME_EXCHANGE)) {
		fuse_reply_err(req, EINVAL);
		return;
	}
	creds_enter(fs, req);
	err = resolve_name(fs, req, op, name, FBPF_OP_RENAME, 0, &ms, &ol, &sst, &sexists, &caller);
	if (err) {
		fuse_reply_err(req, err);
		return;
	}
	err = resolve_name(fs, req, np, newname, FBPF_OP_RENAME, FBPF_IN_TARGET, &md, &nl, &dst, &dexists,
			   &caller);
	if (err) {
		loc_close(&ol);
		fuse_reply_err(req, err);
		return;
	}
	if (renameat2(ol.dfd, ol.name, nl.dfd, nl.name, flags))
		err = errno;
	loc_close(&ol);
	loc_close(&nl);
	if (err) {
		fuse_reply_err(req, err);
		return;
	}
	/* Every node of either name follows its name, whatever its state. */
	node_renamed(fs, op, ms.stored, name, np, md.stored, newname, !!(flags & RENAME_EXCHANGE),
		     dexists && dst.st_dev == sst.st_dev && dst.st_ino == sst.st_ino);
	fuse_reply_err(req, 0);
	/* The moved entries' policy states follow their paths: let the kernel
	 * look them up again where the state changed, and below directories. */
	if (fs->rules) {
		int inew = ms.state != md.state || S_ISDIR(sst.st_mode);
		int iold = dexists && (flags & RENAME_EXCHANGE) && (ms.state != md.state || S_ISDIR(dst.st_mode));

		/* an invalidation waits for the directory's lock, which a
		 * caller waiting for another request may hold */
		if (inew || iold)
			loop_may_block();
		if (inew)
			fuse_lowlevel_notify_inval_entry(fs->se, newparent, newname, strlen(newname));
		if (iold)
			fuse_lowlevel_notify_inval_entry(fs->se, parent, name, strlen(name));
	}
}

/* ------------------------------------------------------------------ */
/* Attributes */

static void op_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct fs *fs = FS(req);
	struct node *n = N(fs, ino);
	struct stat st;
	int err, caller = 0;

	if (fi) {
		/*
		 * The kernel asks for the attributes of a file that is open
		 * here (to check the size while reading, or to revalidate the
		 * page cache): that is part of reading or writing the open
		 * file, which its open already allowed, so getattr rules do not
		 * refuse it. stat() and fstat() never come this way. The
		 * attribute rewrite still applies.
		 */
		err = fstat(OF(fi)->fd, &st) ? errno : 0;
		if (!err)
			node_set_attr(n, &st);
	} else {
		creds_enter(fs, req);
		err = node_stat(fs, n, &st);
		if (!err) {
			node_set_attr(n, &st);
			err = inode_filter(fs, req, n, FBPF_OP_GETATTR, 0, &st, &caller);
		}
	}
	if (err) {
		fuse_reply_err(req, err);
		return;
	}
	attr_post(fs, req, n, &st, &caller);
	fuse_reply_attr(req, &st, attr_to(fs, n, caller));
}

static int procpath(int fd, char *buf, size_t len)
{
	return snprintf(buf, len, "/proc/self/fd/%d", fd) >= (int)len ? ENAMETOOLONG : 0;
}

/*
 * Directory n no longer lets everyone search it: the names the kernel keeps
 * below it must go (see may_keep). Dropping n's own name cuts every walk
 * into it, and needs only its parent's lock, which the chmod does not hold:
 * so it is done before the reply, and no later walk can use a kept name.
 * The root has no name: there the names inside are dropped after the reply
 * (the kernel holds the root's lock until then).
 */
static void forget_below(struct fs *fs, struct node *n, int after_reply)
{
	struct name_ref *v;
	size_t i, k;

	if (n->root != after_reply)
		return;
	k = node_names(fs, n, n->root, &v);
	if (k)
		loop_may_block();
	for (i = 0; i < k; i++)
		fuse_lowlevel_notify_inval_entry(fs->se, node_id(fs, v[i].parent), v[i].name, strlen(v[i].name));
	free(v);
}

static void op_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set, struct fuse_file_info *fi)
{
	struct fs *fs = FS(req);
	struct node *n = N(fs, ino);
	struct stat st;
	char pp[64];
	uint32_t old_mode;
	int err, caller = 0, fd = -1, pfd = -1, close_p = 0, closed;

	creds_enter(fs, req);
	if (fi) {
		fd = OF(fi)->fd;
		err = fstat(fd, &st) ? errno : 0;
	} else {
		err = node_stat(fs, n, &st);
	}
	if (!err)
		err = inode_filter(fs, req, n, FBPF_OP_SETATTR, 0, &st, &caller);
	if (err)
		goto out;
	if (fd < 0) {
		pfd = node_opath(fs, n, &close_p);
		if (pfd < 0) {
			err = -pfd;
			goto out;
		}
	}
	if (to_set & FUSE_SET_ATTR_MODE) {
		if (fd >= 0)
			err = fchmod(fd, attr->st_mode & 07777);
		else if (!(err = procpath(pfd, pp, sizeof(pp))))
			err = chmod(pp, attr->st_mode & 07777);
		if (err) {
			err = errno;
			goto out;
		}
	}
	if (to_set & (FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID)) {
		uid_t u = (to_set & FUSE_SET_ATTR_UID) ? attr->st_uid : (uid_t)-1;
		gid_t g = (to_set & FUSE_SET_ATTR_GID) ? attr->st_gid : (gid_t)-1;

		if (fchownat(fd >= 0 ? fd : pfd, "", u, g, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW)) {
			err = errno;
			goto out;
		}
	}
	if (to_set & FUSE_SET_ATTR_SIZE) {
		if (fd >= 0) {
			err = ftruncate(fd, attr->st_size) ? errno : 0;
		} else if (!(err = procpath(pfd, pp, sizeof(pp)))) {
			/* reopened as the caller: the lower file checks write access */
			int wfd = open(pp, O_WRONLY | O_NONBLOCK | O_CLOEXEC);

			if (wfd < 0) {
				err = errno;
			} else {
				err = ftruncate(wfd, attr->st_size) ? errno : 0;
				close(wfd);
			}
		}
		if (err)
			goto out;
	}
	if (to_set & (FUSE_SET_ATTR_ATIME | FUSE_SET_ATTR_MTIME)) {
		struct timespec ts[2];

		ts[0].tv_sec = 0;
		ts[0].tv_nsec = UTIME_OMIT;
		ts[1] = ts[0];
		if (to_set & FUSE_SET_ATTR_ATIME_NOW)
			ts[0].tv_nsec = UTIME_NOW;
		else if (to_set & FUSE_SET_ATTR_ATIME)
			ts[0] = attr->st_atim;
		if (to_set & FUSE_SET_ATTR_MTIME_NOW)
			ts[1].tv_nsec = UTIME_NOW;
		else if (to_set & FUSE_SET_ATTR_MTIME)
			ts[1] = attr->st_mtim;
		if (fd >= 0)
			err = futimens(fd, ts);
		else
			err = utimensat(pfd, "", ts, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW);
		if (err) {
			err = errno;
			goto out;
		}
	}
	if (fd >= 0)
		err = fstat(fd, &st) ? errno : 0;
	else
		err = fstatat(pfd, "", &st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) ? errno : 0;
out:
	if (close_p)
		close(pfd);
	if (err) {
		fuse_reply_err(req, err);
		return;
	}
	old_mode = __atomic_load_n(&n->mode, __ATOMIC_RELAXED);
	node_set_attr(n, &st);
	closed = S_ISDIR(old_mode) && (old_mode & 0111) == 0111 && (st.st_mode & 0111) != 0111 && !fs->kernel_perms;
	if (closed)
		forget_below(fs, n, 0);
	attr_post(fs, req, n, &st, &caller);
	fuse_reply_attr(req, &st, attr_to(fs, n, caller));
	if (closed)
		forget_below(fs, n, 1);
}

static void op_readlink(fuse_req_t req, fuse_ino_t ino)
{
	struct fs *fs = FS(req);
	struct node *n = N(fs, ino);
	char buf[PATH_MAX + 1];
	struct loc l;
	ssize_t r;
	int err;

	creds_enter(fs, req);
	err = inode_filter(fs, req, n, FBPF_OP_READ, 0, NULL, NULL);
	if (!err)
		err = loc_open(fs, n, NULL, &l);
	if (err) {
		fuse_reply_err(req, err);
		return;
	}
	r = readlinkat(l.dfd, l.name, buf, sizeof(buf) - 1);
	err = errno;
	loc_close(&l);
	if (r < 0) {
		fuse_reply_err(req, err);
		return;
	}
	buf[r] = 0;
	fuse_reply_readlink(req, buf);
}

static void op_statfs(fuse_req_t req, fuse_ino_t ino)
{
	struct fs *fs = FS(req);
	struct statvfs sv;

	(void)ino;
	if (fstatvfs(fs->rootfd, &sv))
		fuse_reply_err(req, errno);
	else
		fuse_reply_statfs(req, &sv);
}

static void op_access(fuse_req_t req, fuse_ino_t ino, int mask)
{
	struct fs *fs = FS(req);
	struct node *n = N(fs, ino);
	struct loc l;
	int err;

	creds_enter(fs, req);
	err = inode_filter(fs, req, n, FBPF_OP_GETATTR, 0, NULL, NULL);
	if (!err)
		err = loc_open(fs, n, NULL, &l);
	if (err) {
		fuse_reply_err(req, err);
		return;
	}
	err = faccessat(l.dfd, l.name, mask, AT_EACCESS | (n->root ? 0 : AT_SYMLINK_NOFOLLOW)) ? errno : 0;
	loc_close(&l);
	fuse_reply_err(req, err);
}

/* ------------------------------------------------------------------ */
/* Extended attributes: through the O_PATH descriptor's /proc link, which
 * names the inode itself (no path is walked again). */

static int xattr_path(struct fs *fs, fuse_req_t req, struct node *n, uint32_t op, char *pp, size_t len,
		      int *fd, int *close_it)
{
	int err = inode_filter(fs, req, n, op, 0, NULL, NULL);

	if (err)
		return err;
	*fd = node_opath(fs, n, close_it);
	if (*fd < 0)
		return -*fd;
	return procpath(*fd, pp, len);
}

static void op_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name, size_t size)
{
	struct fs *fs = FS(req);
	char pp[64], *buf = NULL;
	int fd, close_it = 0, err;
	ssize_t r;

	creds_enter(fs, req);
	err = xattr_path(fs, req, N(fs, ino), FBPF_OP_GETATTR, pp, sizeof(pp), &fd, &close_it);
	if (!err && size && !(buf = thread_buf(size)))
		err = ENOMEM;
	if (!err) {
		r = getxattr(pp, name, buf, size);
		err = r < 0 ? errno : 0;
	}
	if (close_it)
		close(fd);
	if (err)
		fuse_reply_err(req, err);
	else if (!size)
		fuse_reply_xattr(req, (size_t)r);
	else
		fuse_reply_buf(req, buf, (size_t)r);
}

static void op_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size)
{
	struct fs *fs = FS(req);
	char pp[64], *buf = NULL;
	int fd, close_it = 0, err;
	ssize_t r;

	creds_enter(fs, req);
	err = xattr_path(fs, req, N(fs, ino), FBPF_OP_GETATTR, pp, sizeof(pp), &fd, &close_it);
	if (!err && size && !(buf = thread_buf(size)))
		err = ENOMEM;
	if (!err) {
		r = listxattr(pp, buf, size);
		err = r < 0 ? errno : 0;
	}
	if (close_it)
		close(fd);
	if (err)
		fuse_reply_err(req, err);
	else if (!size)
		fuse_reply_xattr(req, (size_t)r);
	else
		fuse_reply_buf(req, buf, (size_t)r);
}

static void op_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name, const char *value, size_t size,
			int flags)
{
	struct fs *fs = FS(req);
	char pp[64];
	int fd, close_it = 0, err;

	creds_enter(fs, req);
	err = xattr_path(fs, req, N(fs, ino), FBPF_OP_SETATTR, pp, sizeof(pp), &fd, &close_it);
	if (!err)
		err = setxattr(pp, name, value, size, flags) ? errno : 0;
	if (close_it)
		close(fd);
	fuse_reply_err(req, err);
}

static void op_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name)
{
	struct fs *fs = FS(req);
	char pp[64];
	int fd, close_it = 0, err;

	creds_enter(fs, req);
	err = xattr_path(fs, req, N(fs, ino), FBPF_OP_SETATTR, pp, sizeof(pp), &fd, &close_it);
	if (!err)
		err = removexattr(pp, name) ? errno : 0;
	if (close_it)
		close(fd);
	fuse_reply_err(req, err);
}

/* ------------------------------------------------------------------ */
/* Files */

static int lower_flags(struct fs *fs, int flags)
{
	flags &= ~(O_CREAT | O_EXCL | O_NOCTTY);
	if (fs->writeback) {
		/* the kernel may read pages of a file opened write-only */
		if ((flags & O_ACCMODE) == O_WRONLY)
			flags = (flags & ~O_ACCMODE) | O_RDWR;
		flags &= ~O_APPEND;
	}
	return flags | O_NOFOLLOW;
}

/* Decide how an open file is served; fills fi. Returns 0, or ENOMEM (the
 * caller closes fd). */
static int setup_open(struct fs *fs, fuse_req_t req, struct node *n, int fd, int flags, struct fuse_file_info *fi,
		      const struct stat *st)
{
	int wr = (flags & O_ACCMODE) != O_RDONLY || (flags & O_TRUNC);
	int check_read, check_write;
	struct ofile *f = malloc(sizeof(*f));

	if (!f)
		return ENOMEM;
	f->fd = fd;
	f->flags = 0;
	check_read = inode_probe(fs, req, n, FBPF_OP_READ, st);
	check_write = wr && inode_probe(fs, req, n, FBPF_OP_WRITE, st);
	if (check_read)
		f->flags |= OF_CHECK_READ;
	if (check_write)
		f->flags |= OF_CHECK_WRITE;
	fi->direct_io = check_read || (check_write && fs->writeback);
	fi->keep_cache = !fi->direct_io;
	if (!fs->flush)
		fi->noflush = 1;
#if FBPF_PASSTHROUGH
	if (fs->passthrough && !fi->direct_io && S_ISREG(n->mode)) {
		struct stripe *s = node_stripe(fs, n);
		int id;

		creds_leave(fs);
		pthread_mutex_lock(&s->lock);
		if (!n->backing_id) {
			id = fuse_passthrough_open(req, fd);
			if (id > 0)
				n->backing_id = id;
		}
		if (n->backing_id) {
			n->backing_refs++;
			fi->backing_id = n->backing_id;
			fi->keep_cache = 0;
			f->flags |= OF_BACKING;
		} else {
			fi->direct_io = 1;
			fi->keep_cache = 0;
		}
		pthread_mutex_unlock(&s->lock);
	} else if (fs->passthrough) {
		/* cached opens cannot share an inode with passthrough ones */
		fi->direct_io = 1;
		fi->keep_cache = 0;
	}
#endif
	/*
	 * A write-only open cannot read, so the page cache gives it nothing;
	 * written past it, each write() is one request, where a cached write
	 * is two: the kernel first asks for security.capability (FUSE mounts
	 * are not SB_NOSEC). The kernel keeps other opens' cached pages
	 * coherent with such writes. Not with write-back caching, which was
	 * asked for, nor with passthrough, which is faster still.
	 */
	if ((flags & O_ACCMODE) == O_WRONLY && !fs->writeback && !(f->flags & OF_BACKING))
		fi->direct_io = 1;
	node_file_add(fs, n, f);
	fi->fh = (uintptr_t)f;
	return 0;
}

/* The end of an open file: fi->fh is gone afterwards. */
static void close_file(struct fs *fs, fuse_req_t req, struct fuse_file_info *fi)
{
	struct ofile *f = OF(fi);
	struct node *n = f->node;

#if FBPF_PASSTHROUGH
	if (f->flags & OF_BACKING) {
		struct stripe *s = node_stripe(fs, n);

		pthread_mutex_lock(&s->lock);
		if (n->backing_refs && !--n->backing_refs && n->backing_id) {
			fuse_passthrough_close(req, n->backing_id);
			n->backing_id = 0;
		}
		pthread_mutex_unlock(&s->lock);
	}
#else
	(void)req;
	(void)n;
#endif
	node_file_del(fs, f);
	close(f->fd);
	free(f);
}

static void op_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct fs *fs = FS(req);
	struct node *n = N(fs, ino);
	char path[PATH_MAX];
	struct stat st, *stp = NULL;
	int wr, fd, err, r;

	wr = (fi->flags & O_ACCMODE) != O_RDONLY || (fi->flags & O_TRUNC);
	creds_enter(fs, req);
	/* fresh attributes for the open filter, unless no answer about the
	 * entries of n's directory reads them */
	if (fs->rules && fs->policy_entry && !n->root &&
	    !(parent_kids(fs, req, n) & FBPF_OUT_KIDS_NO_ENTRY)) {
		err = node_stat(fs, n, &st);
		if (err) {
			fuse_reply_err(req, err);
			return;
		}
		node_set_attr(n, &st);
		stp = &st;
	}
	err = inode_filter(fs, req, n, FBPF_OP_OPEN, wr ? FBPF_IN_WRITE : 0, stp, NULL);
	if (err) {
		fuse_reply_err(req, err);
		return;
	}
	r = node_path(fs, n, NULL, path, sizeof(path), 0);
	if (r < 0) {
		fuse_reply_err(req, -r);
		return;
	}
	fd = lower_open(fs, path, lower_flags(fs, fi->flags), 0);
	if (fd < 0) {
		fuse_reply_err(req, -fd);
		return;
	}
	err = setup_open(fs, req, n, fd, fi->flags, fi, stp);
	if (err) {
		close(fd);
		fuse_reply_err(req, err);
		return;
	}
	if (fuse_reply_open(req, fi))
		close_file(fs, req, fi);
}

static void op_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode, struct fuse_file_info *fi)
{
	struct fs *fs = FS(req);
	struct node *p = N(fs, parent), *n;
	struct fuse_entry_param e;
	char path[PATH_MAX];
	struct mapped m;
	struct stat st;
	int err, caller = 0, exists, fd, r;

	creds_enter(fs, req);
	/* the file is opened by its path: one openat2, no directory to open */
	err = resolve_name(fs, req, p, name, FBPF_OP_CREATE, 0, &m, NULL, &st, &exists, &caller);
	if (err) {
		fuse_reply_err(req, err);
		return;
	}
	r = node_path(fs, p, m.stored, path, sizeof(path), 0);
	if (r < 0) {
		fuse_reply_err(req, -r);
		return;
	}
	fd = lower_open(fs, path, lower_flags(fs, fi->flags) | O_CREAT | (fi->flags & O_EXCL), mode);
	if (fd < 0) {
		fuse_reply_err(req, -fd);
		return;
	}
	if (fstat(fd, &st)) {
		err = errno;
		close(fd);
		fuse_reply_err(req, err);
		return;
	}
	n = node_get(fs, &st, m.state, p, m.stored, name);
	if (!n) {
		close(fd);
		fuse_reply_err(req, ENOMEM);
		return;
	}
	if (caller)
		n->caller = 1;
	err = setup_open(fs, req, n, fd, fi->flags | O_CREAT, fi, &st);
	if (err) {
		close(fd);
		node_forget(fs, n, 1);
		fuse_reply_err(req, err);
		return;
	}
	attr_post(fs, req, n, &st, &caller);
	note_getattr(fs, req, n, &st);
	fill_entry(fs, &e, p, n, &st, caller);
	if (fuse_reply_create(req, &e, fi)) {
		close_file(fs, req, fi);
		node_forget(fs, n, 1);
	}
}

static int rw_check(struct fs *fs, fuse_req_t req, fuse_ino_t ino, const struct fuse_file_info *fi, uint32_t op)
{
	uint32_t bit = op == FBPF_OP_READ ? OF_CHECK_READ : OF_CHECK_WRITE;

	if (!(OF(fi)->flags & bit))
		return 0;
	return inode_filter(fs, req, N(fs, ino), op, 0, NULL, NULL);
}

static void op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi)
{
	struct fs *fs = FS(req);
	int fd = OF(fi)->fd, err;
	ssize_t r;
	char *buf;

	err = rw_check(fs, req, ino, fi, FBPF_OP_READ);
	if (err) {
		fuse_reply_err(req, err);
		return;
	}
	if (fs->splice || size > (1u << 20) || !(buf = thread_buf(size))) {
		struct fuse_bufvec bv = FUSE_BUFVEC_INIT(size);

		bv.buf[0].flags = FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK;
		bv.buf[0].fd = fd;
		bv.buf[0].pos = off;
		fuse_reply_data(req, &bv, FUSE_BUF_SPLICE_MOVE);
		return;
	}
	r = pread(fd, buf, size, off);
	if (r < 0)
		fuse_reply_err(req, errno);
	else
		fuse_reply_buf(req, buf, (size_t)r);
}

static void op_write_buf(fuse_req_t req, fuse_ino_t ino, struct fuse_bufvec *in, off_t off,
			 struct fuse_file_info *fi)
{
	struct fs *fs = FS(req);
	struct fuse_bufvec out = FUSE_BUFVEC_INIT(fuse_buf_size(in));
	ssize_t r;
	int err;

	err = rw_check(fs, req, ino, fi, FBPF_OP_WRITE);
	if (err) {
		fuse_reply_err(req, err);
		return;
	}
	out.buf[0].flags = FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK;
	out.buf[0].fd = OF(fi)->fd;
	out.buf[0].pos = off;
	r = fuse_buf_copy(&out, in, 0);
	if (r < 0)
		fuse_reply_err(req, (int)-r);
	else
		fuse_reply_write(req, (size_t)r);
}

static void op_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	int fd = dup(OF(fi)->fd);

	(void)ino;
	if (fd < 0) {
		fuse_reply_err(req, errno);
		return;
	}
	fuse_reply_err(req, close(fd) ? errno : 0);
}

static void op_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)ino;
	close_file(FS(req), req, fi);
	fuse_reply_err(req, 0);
}

static void op_fsync(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi)
{
	int fd = OF(fi)->fd;

	(void)ino;
	fuse_reply_err(req, (datasync ? fdatasync(fd) : fsync(fd)) ? errno : 0);
}

static void op_fallocate(fuse_req_t req, fuse_ino_t ino, int mode, off_t off, off_t len,
			 struct fuse_file_info *fi)
{
	struct fs *fs = FS(req);
	int err = inode_filter(fs, req, N(fs, ino), FBPF_OP_WRITE, 0, NULL, NULL);

	if (!err && fallocate(OF(fi)->fd, mode, off, len))
		err = errno;
	fuse_reply_err(req, err);
}

static void op_lseek(fuse_req_t req, fuse_ino_t ino, off_t off, int whence, struct fuse_file_info *fi)
{
	off_t r = lseek(OF(fi)->fd, off, whence);

	(void)ino;
	if (r < 0)
		fuse_reply_err(req, errno);
	else
		fuse_reply_lseek(req, r);
}

static void op_copy_file_range(fuse_req_t req, fuse_ino_t ino_in, off_t off_in, struct fuse_file_info *fi_in,
			       fuse_ino_t ino_out, off_t off_out, struct fuse_file_info *fi_out, size_t len,
			       int flags)
{
	struct fs *fs = FS(req);
	ssize_t r;
	int err;

	err = rw_check(fs, req, ino_in, fi_in, FBPF_OP_READ);
	if (!err)
		err = rw_check(fs, req, ino_out, fi_out, FBPF_OP_WRITE);
	if (err) {
		fuse_reply_err(req, err);
		return;
	}
	r = copy_file_range(OF(fi_in)->fd, &off_in, OF(fi_out)->fd, &off_out, len, (unsigned)flags);
	if (r < 0)
		fuse_reply_err(req, errno);
	else
		fuse_reply_write(req, (size_t)r);
}

static void op_flock(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi, int op)
{
	(void)ino;
	/* the holder may need a request of its own to let go */
	if (!(op & LOCK_NB) && (op & (LOCK_SH | LOCK_EX)))
		loop_may_block();
	fuse_reply_err(req, flock(OF(fi)->fd, op) ? errno : 0);
}

/* ------------------------------------------------------------------ */
/* Directories */

struct dirh {
	DIR *dp;
	off_t off;
	struct dirent *e; /* read but not yet returned */
	uint32_t kids;    /* FBPF_OUT_LIST_PLAIN... of the READDIR/PRE answer */
};

static void op_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct fs *fs = FS(req);
	struct node *n = N(fs, ino);
	char path[PATH_MAX];
	struct dirh *d;
	uint32_t kids;
	int fd, err, r;

	creds_enter(fs, req);
	err = dir_filter(fs, req, n, &kids);
	if (err) {
		fuse_reply_err(req, err);
		return;
	}
	r = node_path(fs, n, NULL, path, sizeof(path), 0);
	if (r < 0) {
		fuse_reply_err(req, -r);
		return;
	}
	fd = lower_open(fs, path, O_RDONLY | O_DIRECTORY | (n->root ? 0 : O_NOFOLLOW), 0);
	if (fd < 0) {
		fuse_reply_err(req, -fd);
		return;
	}
	d = calloc(1, sizeof(*d));
	if (!d || !(d->dp = fdopendir(fd))) {
		free(d);
		close(fd);
		fuse_reply_err(req, ENOMEM);
		return;
	}
	d->kids = kids;
	/*
	 * A listing that is the same for every caller and changes only with
	 * the directory's contents (the lower names as they are, or names
	 * mapped without looking at the entries) is kept by the kernel: a
	 * change through the view drops it, as does a new mtime seen in the
	 * directory's attributes (after the attribute timeout for changes
	 * made directly in the lower directory). Opendir still comes here,
	 * so the policy and the lower file system decide each caller's
	 * access to the kept listing.
	 */
	if ((kids & FBPF_OUT_KIDS_NO_CALLER) && (kids & (FBPF_OUT_LIST_PLAIN | FBPF_OUT_KIDS_NO_ENTRY))) {
		fi->cache_readdir = 1;
		fi->keep_cache = 1;
	}
	fi->fh = (uintptr_t)d;
	if (fuse_reply_open(req, fi)) {
		closedir(d->dp);
		free(d);
	}
}

static int is_dot(const char *s)
{
	return s[0] == '.' && (!s[1] || (s[1] == '.' && !s[2]));
}

static void do_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi, int plus)
{
	struct fs *fs = FS(req);
	struct node *dn = N(fs, ino);
	struct dirh *d = (struct dirh *)(uintptr_t)fi->fh;
	size_t rem = size, es;
	struct fbpf_args a;
	char *buf, *p;
	int err = 0;

	creds_enter(fs, req);
	buf = thread_buf(size);
	if (!buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	p = buf;
	if (off != d->off) {
		seekdir(d->dp, off);
		d->e = NULL;
		d->off = off;
	}
	for (;;) {
		struct fuse_entry_param e;
		struct stat st;
		const char *shown;
		struct node *n = NULL;
		int have_st = 0, caller = 0;
		uint64_t state = FBPF_STATE_DEAD;

		if (!d->e) {
			errno = 0;
			d->e = readdir(d->dp);
			if (!d->e) {
				if (errno && rem == size)
					err = errno;
				break;
			}
		}
		memset(&st, 0, sizeof(st));
		st.st_ino = d->e->d_ino;
		st.st_mode = DTTOIF(d->e->d_type);
		shown = d->e->d_name;
		if (!is_dot(d->e->d_name)) {
			/* the entry's attributes: for readdirplus, or for
			 * answers that may read them */
			if ((plus || (fs->rules && fs->policy_entry && !(d->kids & FBPF_OUT_KIDS_NO_ENTRY))) &&
			    fstatat(dirfd(d->dp), d->e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0)
				have_st = 1;
			/* a plain listing needs READDIR/POST only for the
			 * state of the entries readdirplus hands out */
			if (fs->rules && (plus || !(d->kids & FBPF_OUT_LIST_PLAIN))) {
				args_init(fs, &a, req, FBPF_OP_READDIR, FBPF_POST, dn->state);
				if (have_st)
					args_entry(&a, &st);
				if (args_name(&a, d->e->d_name) == 0)
					eval(fs, &a, 1);
				else
					a.out_flags = FBPF_OUT_HIDDEN;
				if (a.out_flags & FBPF_OUT_HIDDEN) {
					d->off = d->e->d_off;
					d->e = NULL;
					continue;
				}
				caller = !!(a.out_flags & FBPF_OUT_CALLER);
				if (a.out_flags & FBPF_OUT_NAME)
					shown = a.out_name;
				state = a.state;
				if (have_st)
					apply_attr(&a, &st);
			}
		}
		if (plus) {
			memset(&e, 0, sizeof(e));
			e.attr = st;
			if (have_st && !caller && may_keep(fs, dn)) {
				/* Prime the entry only when a lookup would succeed
				 * for everyone with these very attributes. */
				int ok = 1;

				if (fs->rules && fbpf_has_filter(fs->obj, FBPF_OP_LOOKUP, FBPF_POST)) {
					struct fbpf_args b;

					args_init(fs, &b, req, FBPF_OP_LOOKUP, FBPF_POST, state);
					args_entry(&b, &st);
					fbpf_eval(fs->obj, &b);
					ok = b.verdict == FBPF_CONTINUE && !(b.out_flags & FBPF_OUT_CALLER);
				}
				if (ok && fs->rules && inode_probe_state(fs, req, state, &st))
					ok = 0;
				if (ok)
					n = node_get(fs, &st, state, dn, d->e->d_name, shown);
				if (n && n->caller) {
					node_forget(fs, n, 1);
					n = NULL;
				}
				if (n)
					fill_entry(fs, &e, dn, n, &st, 0);
			}
			es = fuse_add_direntry_plus(req, p, rem, shown, &e, d->e->d_off);
		} else {
			es = fuse_add_direntry(req, p, rem, shown, &st, d->e->d_off);
		}
		if (es > rem) {
			if (n)
				node_forget(fs, n, 1);
			break;
		}
		p += es;
		rem -= es;
		d->off = d->e->d_off;
		d->e = NULL;
	}
	if (err)
		fuse_reply_err(req, err);
	else
		fuse_reply_buf(req, buf, size - rem);
}

static void op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi)
{
	do_readdir(req, ino, size, off, fi, 0);
}

static void op_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi)
{
	do_readdir(req, ino, size, off, fi, 1);
}

static void op_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct dirh *d = (struct dirh *)(uintptr_t)fi->fh;

	(void)ino;
	closedir(d->dp);
	free(d);
	fuse_reply_err(req, 0);
}

static void op_fsyncdir(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi)
{
	struct dirh *d = (struct dirh *)(uintptr_t)fi->fh;
	int fd = dirfd(d->dp);

	(void)ino;
	fuse_reply_err(req, (datasync ? fdatasync(fd) : fsync(fd)) ? errno : 0);
}

const struct fuse_lowlevel_ops fbpf_fuse_ops = {
	.init = op_init,
	.lookup = op_lookup,
	.forget = op_forget,
	.forget_multi = op_forget_multi,
	.getattr = op_getattr,
	.setattr = op_setattr,
	.readlink = op_readlink,
	.mknod = op_mknod,
	.mkdir = op_mkdir,
	.unlink = op_unlink,
	.rmdir = op_rmdir,
	.symlink = op_symlink,
	.rename = op_rename,
	.link = op_link,
	.open = op_open,
	.read = op_read,
	.write_buf = op_write_buf,
	.flush = op_flush,
	.release = op_release,
	.fsync = op_fsync,
	.opendir = op_opendir,
	.readdir = op_readdir,
	.readdirplus = op_readdirplus,
	.releasedir = op_releasedir,
	.fsyncdir = op_fsyncdir,
	.statfs = op_statfs,
	.setxattr = op_setxattr,
	.getxattr = op_getxattr,
	.listxattr = op_listxattr,
	.removexattr = op_removexattr,
	.access = op_access,
	.create = op_create,
	.flock = op_flock,
	.fallocate = op_fallocate,
	.copy_file_range = op_copy_file_range,
	.lseek = op_lseek,
};
