// SPDX-License-Identifier: GPL-2.0
/*
 * The inode table of FUSE mode: a hash of nodes keyed by (dev, ino, state),
 * split into stripes with a lock each, so lookups of different names do not
 * contend. The links between nodes (parent, stored and shown name) are
 * guarded by one read-write lock: read to build a path, write to change a
 * link (new node, rename, unlink, forget). Lock order: tree, then a stripe.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static uint64_t hash3(uint64_t dev, uint64_t ino, uint64_t state)
{
	uint64_t h = ino * 0x9e3779b97f4a7c15ull;

	h ^= (dev + 0x632be59bd9b4e019ull) * 0xbf58476d1ce4e5b9ull;
	h ^= (state + (h << 6) + (h >> 2)) * 0x94d049bb133111ebull;
	return h ^ (h >> 31);
}

void nodes_init(struct fs *fs)
{
	size_t i;

	pthread_rwlock_init(&fs->tree, NULL);
	for (i = 0; i < FBPF_STRIPES; i++) {
		pthread_mutex_init(&fs->stripes[i].lock, NULL);
		fs->stripes[i].b = NULL;
		fs->stripes[i].nb = 0;
		fs->stripes[i].n = 0;
	}
	fs->lidx = NULL;
	fs->lidx_nb = fs->lidx_n = 0;
}

static void link_free(struct link *l)
{
	free(l->name);
	free(l->shown);
	free(l);
}

static void node_free_one(struct node *n)
{
	struct link *l, *next;

	for (l = n->links; l; l = next) {
		next = l->next;
		link_free(l);
	}
	free(n);
}

void nodes_free(struct fs *fs)
{
	size_t i, j;

	for (i = 0; i < FBPF_STRIPES; i++) {
		struct stripe *s = &fs->stripes[i];

		for (j = 0; j < s->nb; j++) {
			struct node *n = s->b[j], *next;

			for (; n; n = next) {
				next = n->next;
				node_free_one(n);
			}
		}
		free(s->b);
		s->b = NULL;
		s->nb = s->n = 0;
	}
	free(fs->lidx);
	fs->lidx = NULL;
	fs->lidx_nb = fs->lidx_n = 0;
}

static struct stripe *stripe_of(struct fs *fs, uint64_t h)
{
	return &fs->stripes[h & (FBPF_STRIPES - 1)];
}

struct stripe *node_stripe(struct fs *fs, struct node *n)
{
	return stripe_of(fs, hash3(n->dev, n->ino, n->state));
}

static struct node **slot(struct stripe *s, uint64_t h)
{
	return &s->b[(h >> 6) & (s->nb - 1)];
}

/* Under the stripe lock. */
static struct node *find_locked(struct stripe *s, uint64_t h, uint64_t dev, uint64_t ino, uint64_t state)
{
	struct node *n;

	if (!s->nb)
		return NULL;
	for (n = *slot(s, h); n; n = n->next)
		if (n->ino == ino && n->dev == dev && n->state == state)
			return n;
	return NULL;
}

static int insert_locked(struct stripe *s, uint64_t h, struct node *n)
{
	if (s->n + 1 > s->nb) {
		size_t nb = s->nb ? s->nb * 2 : 64, i;
		struct node **b = calloc(nb, sizeof(*b)), *m, *next;

		if (!b)
			return -1;
		for (i = 0; i < s->nb; i++)
			for (m = s->b[i]; m; m = next) {
				uint64_t mh = hash3(m->dev, m->ino, m->state);

				next = m->next;
				m->next = b[(mh >> 6) & (nb - 1)];
				b[(mh >> 6) & (nb - 1)] = m;
			}
		free(s->b);
		s->b = b;
		s->nb = nb;
	}
	n->next = *slot(s, h);
	*slot(s, h) = n;
	n->hashed = 1;
	s->n++;
	return 0;
}

static void unhash_locked(struct stripe *s, uint64_t h, struct node *n)
{
	struct node **pp;

	if (!n->hashed)
		return;
	for (pp = slot(s, h); *pp; pp = &(*pp)->next)
		if (*pp == n) {
			*pp = n->next;
			n->hashed = 0;
			s->n--;
			return;
		}
}

void node_set_attr(struct node *n, const struct stat *st)
{
	__atomic_store_n(&n->mode, (uint32_t)st->st_mode, __ATOMIC_RELAXED);
	__atomic_store_n(&n->uid, (uint32_t)st->st_uid, __ATOMIC_RELAXED);
	__atomic_store_n(&n->gid, (uint32_t)st->st_gid, __ATOMIC_RELAXED);
}

/* ------------------------------------------------------------------ */
/* The name index: every link, by (parent, stored name). Tree lock. */

static uint64_t name_hash(const struct node *p, const char *name)
{
	uint64_t h = 0xcbf29ce484222325ull ^ ((uint64_t)(uintptr_t)p * 0x9e3779b97f4a7c15ull);

	for (; *name; name++)
		h = (h ^ (unsigned char)*name) * 0x100000001b3ull;
	return h ^ (h >> 29);
}

static struct link **idx_slot(struct fs *fs, uint64_t h)
{
	return &fs->lidx[h & (fs->lidx_nb - 1)];
}

static int idx_add(struct fs *fs, struct link *l)
{
	if (fs->lidx_n + 1 > fs->lidx_nb) {
		size_t nb = fs->lidx_nb ? fs->lidx_nb * 2 : 256, i;
		struct link **b = calloc(nb, sizeof(*b)), *m, *next;

		if (!b) {
			if (!fs->lidx_nb)
				return -1;
		} else {
			for (i = 0; i < fs->lidx_nb; i++)
				for (m = fs->lidx[i]; m; m = next) {
					next = m->hnext;
					m->hnext = b[m->h & (nb - 1)];
					b[m->h & (nb - 1)] = m;
				}
			free(fs->lidx);
			fs->lidx = b;
			fs->lidx_nb = nb;
		}
	}
	l->hnext = *idx_slot(fs, l->h);
	*idx_slot(fs, l->h) = l;
	fs->lidx_n++;
	return 0;
}

static void idx_del(struct fs *fs, struct link *l)
{
	struct link **pp;

	for (pp = idx_slot(fs, l->h); *pp; pp = &(*pp)->hnext)
		if (*pp == l) {
			*pp = l->hnext;
			fs->lidx_n--;
			return;
		}
}

/* The first link named (p, name) in the index after `after` (NULL: the
 * first of all). */
static struct link *idx_find(struct fs *fs, uint64_t h, struct node *p, const char *name, struct link *after)
{
	struct link *l;

	if (!fs->lidx_nb)
		return NULL;
	for (l = after ? after->hnext : *idx_slot(fs, h); l; l = l->hnext)
		if (l->h == h && l->parent == p && !strcmp(l->name, name))
			return l;
	return NULL;
}

/* Make (p, name, shown) n's first name, adding it if new. Under the tree
 * write lock. */
static int set_link(struct fs *fs, struct node *n, struct node *p, const char *name, const char *shown)
{
	struct link **pp, *l;

	for (pp = &n->links; *pp; pp = &(*pp)->next)
		if ((*pp)->parent == p && !strcmp((*pp)->name, name))
			break;
	l = *pp;
	if (l) {
		if (strcmp(l->shown, shown)) {
			char *sh = strdup(shown);

			if (!sh)
				return -1;
			free(l->shown);
			l->shown = sh;
		}
		*pp = l->next;
	} else {
		l = calloc(1, sizeof(*l));
		if (!l || !(l->name = strdup(name)) || !(l->shown = strdup(shown))) {
			if (l)
				link_free(l);
			return -1;
		}
		l->parent = p;
		l->node = n;
		l->h = name_hash(p, name);
		if (idx_add(fs, l)) {
			link_free(l);
			return -1;
		}
		p->children++;
	}
	l->next = n->links;
	n->links = l;
	return 0;
}

/* Take l off its node and out of the index, and free it. Under the tree
 * write lock. The caller reaps l's node and parent. */
static void drop_link(struct fs *fs, struct link *l)
{
	struct link **pp;

	for (pp = &l->node->links; *pp; pp = &(*pp)->next)
		if (*pp == l) {
			*pp = l->next;
			break;
		}
	idx_del(fs, l);
	l->parent->children--;
	link_free(l);
}

static int same_link(struct node *n, struct node *p, const char *name, const char *shown)
{
	struct link *l = n->links;

	return l && l->parent == p && !strcmp(l->name, name) && !strcmp(l->shown, shown);
}

/* Free n if nothing refers to it any more, then its parents likewise.
 * Under the tree write lock. */
static void reap(struct fs *fs, struct node *n)
{
	struct stripe *s;
	struct link *l, *next;

	if (!n || n->root)
		return;
	s = node_stripe(fs, n);
	pthread_mutex_lock(&s->lock);
	if (n->nlookup || n->children || n->backing_refs || n->files) {
		pthread_mutex_unlock(&s->lock);
		return;
	}
	unhash_locked(s, hash3(n->dev, n->ino, n->state), n);
	pthread_mutex_unlock(&s->lock);
	for (l = n->links; l; l = next) {
		next = l->next;
		idx_del(fs, l);
		l->parent->children--;
		reap(fs, l->parent);
		link_free(l);
	}
	n->links = NULL;
	free(n);
}

/* Other nodes that still have the name (p, name) but are another lower
 * file (it was replaced behind the view's back) lose it. Tree write lock. */
static void drop_stale(struct fs *fs, struct node *n, struct node *p, const char *name)
{
	uint64_t h = name_hash(p, name);
	struct link *l;

	for (;;) {
		struct node *m;

		for (l = idx_find(fs, h, p, name, NULL); l; l = idx_find(fs, h, p, name, l))
			if (l->node->dev != n->dev || l->node->ino != n->ino)
				break;
		if (!l)
			return;
		m = l->node;
		drop_link(fs, l);
		reap(fs, m);
	}
}

/* Is (p, name) also a name of a node of another lower file? Tree lock. */
static int has_stale(struct fs *fs, struct node *n, struct node *p, const char *name)
{
	uint64_t h = name_hash(p, name);
	struct link *l;

	for (l = idx_find(fs, h, p, name, NULL); l; l = idx_find(fs, h, p, name, l))
		if (l->node->dev != n->dev || l->node->ino != n->ino)
			return 1;
	return 0;
}

struct node *node_get(struct fs *fs, const struct stat *st, uint64_t state, struct node *p,
		      const char *name, const char *shown)
{
	uint64_t h = hash3(st->st_dev, st->st_ino, state);
	struct stripe *s = stripe_of(fs, h);
	struct node *n, *old = NULL;

	/* A name that leads back to the lower root is the root. */
	if ((uint64_t)st->st_dev == fs->root.dev && (uint64_t)st->st_ino == fs->root.ino) {
		pthread_mutex_lock(&node_stripe(fs, &fs->root)->lock);
		fs->root.nlookup++;
		pthread_mutex_unlock(&node_stripe(fs, &fs->root)->lock);
		return &fs->root;
	}
	/* Fast path: known, same link, same type, no other file has the name. */
	pthread_rwlock_rdlock(&fs->tree);
	pthread_mutex_lock(&s->lock);
	n = find_locked(s, h, st->st_dev, st->st_ino, state);
	if (n && ((n->mode ^ st->st_mode) & S_IFMT) == 0 && same_link(n, p, name, shown) &&
	    !has_stale(fs, n, p, name)) {
		n->nlookup++;
		pthread_mutex_unlock(&s->lock);
		pthread_rwlock_unlock(&fs->tree);
		node_set_attr(n, st);
		return n;
	}
	pthread_mutex_unlock(&s->lock);
	pthread_rwlock_unlock(&fs->tree);

	pthread_rwlock_wrlock(&fs->tree);
	pthread_mutex_lock(&s->lock);
	n = find_locked(s, h, st->st_dev, st->st_ino, state);
	if (n && ((n->mode ^ st->st_mode) & S_IFMT)) {
		/* The lower inode number was reused for another file type: the
		 * old node lives on until the kernel forgets it, unfindable. */
		unhash_locked(s, h, n);
		old = n;
		n = NULL;
	}
	if (n) {
		n->nlookup++;
		pthread_mutex_unlock(&s->lock);
		if (!same_link(n, p, name, shown))
			set_link(fs, n, p, name, shown);
		drop_stale(fs, n, p, name);
		pthread_rwlock_unlock(&fs->tree);
		node_set_attr(n, st);
		return n;
	}
	n = calloc(1, sizeof(*n));
	if (!n || insert_locked(s, h, n)) {
		pthread_mutex_unlock(&s->lock);
		pthread_rwlock_unlock(&fs->tree);
		free(n);
		return NULL;
	}
	n->dev = st->st_dev;
	n->ino = st->st_ino;
	n->state = state;
	n->nlookup = 1;
	n->gen = __atomic_add_fetch(&fs->next_gen, 1, __ATOMIC_RELAXED);
	node_set_attr(n, st);
	pthread_mutex_unlock(&s->lock);
	set_link(fs, n, p, name, shown); /* out of memory: the node stays unnamed */
	drop_stale(fs, n, p, name);
	if (old)
		reap(fs, old);
	pthread_rwlock_unlock(&fs->tree);
	return n;
}

/*
 * The kernel dropped `count` references. The last one is dropped under the
 * tree write lock, together with freeing the node: a node is freed only by
 * the thread that takes its count to 0 while no lookup can find it, so two
 * forgets racing with a lookup cannot both free it.
 */
void node_forget(struct fs *fs, struct node *n, uint64_t count)
{
	struct stripe *s = node_stripe(fs, n);

	pthread_mutex_lock(&s->lock);
	if (n->root || n->nlookup > count) {
		n->nlookup = n->nlookup > count ? n->nlookup - count : 0;
		pthread_mutex_unlock(&s->lock);
		return;
	}
	pthread_mutex_unlock(&s->lock);
	pthread_rwlock_wrlock(&fs->tree);
	pthread_mutex_lock(&s->lock);
	n->nlookup = n->nlookup > count ? n->nlookup - count : 0;
	pthread_mutex_unlock(&s->lock);
	reap(fs, n);
	pthread_rwlock_unlock(&fs->tree);
}

void node_unlinked(struct fs *fs, struct node *p, const char *name)
{
	uint64_t h = name_hash(p, name);
	struct link *l;

	pthread_rwlock_wrlock(&fs->tree);
	while ((l = idx_find(fs, h, p, name, NULL)) != NULL) {
		struct node *m = l->node;

		drop_link(fs, l);
		reap(fs, m);
	}
	reap(fs, p);
	pthread_rwlock_unlock(&fs->tree);
}

/* Give link l the name (np, name, shown); out of memory: drop it. Tree
 * write lock; the caller reaps the old parent. */
static void relink(struct fs *fs, struct link *l, struct node *np, const char *name, const char *shown)
{
	char *a = strdup(name), *b = strdup(shown);
	struct node *m = l->node;

	if (!a || !b) {
		free(a);
		free(b);
		drop_link(fs, l);
		reap(fs, m);
		return;
	}
	idx_del(fs, l);
	free(l->name);
	free(l->shown);
	l->name = a;
	l->shown = b;
	l->parent->children--;
	np->children++;
	l->parent = np;
	l->h = name_hash(np, name);
	idx_add(fs, l); /* cannot fail: the index has room for it */
}

void node_renamed(struct fs *fs, struct node *op, const char *oname, const char *oshown, struct node *np,
		  const char *nname, const char *nshown, int exchange, int same)
{
	uint64_t ho = name_hash(op, oname), hn = name_hash(np, nname);
	struct link *l, *from = NULL, *to = NULL, *next;

	if (same || (op == np && !strcmp(oname, nname)))
		return;
	pthread_rwlock_wrlock(&fs->tree);
	/* Both groups first, so that moving one cannot mix it up with the
	 * other. A node's count of kernel references keeps it alive here. */
	for (l = fs->lidx_nb ? *idx_slot(fs, ho) : NULL; l; l = l->hnext)
		if (l->h == ho && l->parent == op && !strcmp(l->name, oname)) {
			l->tmp = from;
			from = l;
		}
	for (l = fs->lidx_nb ? *idx_slot(fs, hn) : NULL; l; l = l->hnext)
		if (l->h == hn && l->parent == np && !strcmp(l->name, nname)) {
			l->tmp = to;
			to = l;
		}
	for (l = to; l; l = next) {
		struct node *m = l->node;

		next = l->tmp;
		if (exchange) {
			relink(fs, l, op, oname, oshown);
		} else {
			drop_link(fs, l);
			reap(fs, m);
		}
	}
	for (l = from; l; l = next) {
		next = l->tmp;
		relink(fs, l, np, nname, nshown);
	}
	reap(fs, op);
	reap(fs, np);
	pthread_rwlock_unlock(&fs->tree);
}

size_t node_names(struct fs *fs, struct node *n, int children, struct name_ref **out)
{
	size_t i, cnt = 0, bytes = 0, k = 0;
	struct name_ref *v;
	struct link *l;
	char *at;

#define PICK(l) (children ? (l)->parent == n : (l)->node == n)
	*out = NULL;
	pthread_rwlock_rdlock(&fs->tree);
	for (i = 0; i < fs->lidx_nb; i++)
		for (l = fs->lidx[i]; l; l = l->hnext)
			if (PICK(l)) {
				cnt++;
				bytes += strlen(l->shown) + 1;
			}
	v = cnt ? malloc(cnt * sizeof(*v) + bytes) : NULL;
	if (v) {
		at = (char *)(v + cnt);
		for (i = 0; i < fs->lidx_nb; i++)
			for (l = fs->lidx[i]; l; l = l->hnext)
				if (PICK(l)) {
					size_t len = strlen(l->shown) + 1;

					memcpy(at, l->shown, len);
					v[k].parent = l->parent;
					v[k++].name = at;
					at += len;
				}
	}
	pthread_rwlock_unlock(&fs->tree);
#undef PICK
	*out = v;
	return v ? k : 0;
}

void node_file_add(struct fs *fs, struct node *n, struct ofile *f)
{
	struct stripe *s = node_stripe(fs, n);

	f->node = n;
	pthread_mutex_lock(&s->lock);
	f->next = n->files;
	if (f->next)
		f->next->pprev = &f->next;
	f->pprev = &n->files;
	n->files = f;
	pthread_mutex_unlock(&s->lock);
}

void node_file_del(struct fs *fs, struct ofile *f)
{
	struct node *n = f->node;
	struct stripe *s = node_stripe(fs, n);
	int orphan;

	pthread_mutex_lock(&s->lock);
	*f->pprev = f->next;
	if (f->next)
		f->next->pprev = f->pprev;
	orphan = !n->root && !n->nlookup && !n->files;
	pthread_mutex_unlock(&s->lock);
	if (orphan) {
		/* the kernel forgot the node before it released the file */
		pthread_rwlock_wrlock(&fs->tree);
		reap(fs, n);
		pthread_rwlock_unlock(&fs->tree);
	}
}

int node_file_dup(struct fs *fs, struct node *n)
{
	struct stripe *s = node_stripe(fs, n);
	int fd = -1;

	pthread_mutex_lock(&s->lock);
	if (n->files)
		fd = fcntl(n->files->fd, F_DUPFD_CLOEXEC, 0);
	pthread_mutex_unlock(&s->lock);
	return fd;
}

int node_path(struct fs *fs, struct node *n, const char *leaf, char *buf, size_t len, int shown)
{
	size_t pos = len, l;
	struct node *m;
	int first = 1;

	if (len < 2)
		return -ENAMETOOLONG;
	buf[--pos] = 0;
	if (leaf) {
		l = strlen(leaf);
		if (l + 1 > pos)
			return -ENAMETOOLONG;
		pos -= l;
		memcpy(buf + pos, leaf, l);
		first = 0;
	}
	pthread_rwlock_rdlock(&fs->tree);
	for (m = n; !m->root; m = m->links->parent) {
		const char *c;

		if (!m->links) {
			pthread_rwlock_unlock(&fs->tree);
			return -ENOENT; /* unlinked */
		}
		c = shown ? m->links->shown : m->links->name;
		l = strlen(c);
		if (l + 2 > pos) {
			pthread_rwlock_unlock(&fs->tree);
			return -ENAMETOOLONG;
		}
		if (!first)
			buf[--pos] = '/';
		pos -= l;
		memcpy(buf + pos, c, l);
		first = 0;
	}
	pthread_rwlock_unlock(&fs->tree);
	if (shown) {
		if (pos < 1)
			return -ENAMETOOLONG;
		buf[--pos] = '/';
		if (first)
			pos = len - 2, buf[pos] = '/', buf[pos + 1] = 0;
	} else if (first) {
		pos = len - 2;
		buf[pos] = '.';
		buf[pos + 1] = 0;
	}
	memmove(buf, buf + pos, len - pos);
	return (int)(len - pos - 1);
}
