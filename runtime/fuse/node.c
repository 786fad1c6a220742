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

/* Make (p, name, shown) n's first name, adding it if new. Under the tree
 * write lock. */
static int set_link(struct node *n, struct node *p, const char *name, const char *shown)
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
		p->children++;
	}
	l->next = n->links;
	n->links = l;
	return 0;
}

/* Remove the name (p, name) of n; returns the parent it had, or NULL. */
static struct node *drop_link(struct node *n, struct node *p, const char *name)
{
	struct link **pp, *l;

	for (pp = &n->links; *pp; pp = &(*pp)->next)
		if ((*pp)->parent == p && !strcmp((*pp)->name, name)) {
			l = *pp;
			*pp = l->next;
			p->children--;
			link_free(l);
			return p;
		}
	return NULL;
}

static int same_link(struct node *n, struct node *p, const char *name, const char *shown)
{
	struct link *l = n->links;

	return l && l->parent == p && !strcmp(l->name, name) && !strcmp(l->shown, shown);
}

/* Free n if nothing refers to it any more, then its parent likewise.
 * Under the tree write lock. */
static void reap(struct fs *fs, struct node *n)
{
	struct stripe *s;
	struct link *l, *next;

	if (!n || n->root)
		return;
	s = node_stripe(fs, n);
	pthread_mutex_lock(&s->lock);
	if (n->nlookup || n->children || n->backing_refs) {
		pthread_mutex_unlock(&s->lock);
		return;
	}
	unhash_locked(s, hash3(n->dev, n->ino, n->state), n);
	pthread_mutex_unlock(&s->lock);
	for (l = n->links; l; l = next) {
		next = l->next;
		l->parent->children--;
		reap(fs, l->parent);
		link_free(l);
	}
	n->links = NULL;
	free(n);
}

struct node *node_find(struct fs *fs, uint64_t dev, uint64_t ino, uint64_t state)
{
	uint64_t h = hash3(dev, ino, state);
	struct stripe *s = stripe_of(fs, h);
	struct node *n;

	if (fs->root.dev == dev && fs->root.ino == ino && fs->root.state == state)
		return &fs->root;
	pthread_mutex_lock(&s->lock);
	n = find_locked(s, h, dev, ino, state);
	pthread_mutex_unlock(&s->lock);
	return n;
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
	/* Fast path: known, same link, same type. */
	pthread_rwlock_rdlock(&fs->tree);
	pthread_mutex_lock(&s->lock);
	n = find_locked(s, h, st->st_dev, st->st_ino, state);
	if (n && ((n->mode ^ st->st_mode) & S_IFMT) == 0 && same_link(n, p, name, shown)) {
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
			set_link(n, p, name, shown);
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
	set_link(n, p, name, shown); /* out of memory: the node stays unnamed */
	if (old)
		reap(fs, old);
	pthread_rwlock_unlock(&fs->tree);
	return n;
}

void node_forget(struct fs *fs, struct node *n, uint64_t count)
{
	struct stripe *s = node_stripe(fs, n);
	int gone;

	pthread_mutex_lock(&s->lock);
	n->nlookup = n->nlookup > count ? n->nlookup - count : 0;
	gone = !n->root && n->nlookup == 0;
	pthread_mutex_unlock(&s->lock);
	if (!gone)
		return;
	pthread_rwlock_wrlock(&fs->tree);
	reap(fs, n);
	pthread_rwlock_unlock(&fs->tree);
}

void node_move(struct fs *fs, struct node *n, struct node *op, const char *oname, struct node *np,
	       const char *nname, const char *nshown)
{
	struct node *oldp;

	if (n->root)
		return;
	pthread_rwlock_wrlock(&fs->tree);
	oldp = drop_link(n, op, oname);
	if (np)
		set_link(n, np, nname, nshown);
	if (oldp && oldp != np)
		reap(fs, oldp);
	pthread_rwlock_unlock(&fs->tree);
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
