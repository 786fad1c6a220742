// SPDX-License-Identifier: GPL-2.0
/* FUSE mode: the loop that reads requests from /dev/fuse and serves them. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

/*
 * The request loop. Every request is two context switches; what decides
 * their cost is which thread the kernel wakes. libfuse's loop keeps all
 * its idle threads blocked in read() on /dev/fuse, and the kernel wakes
 * the one that has waited longest: successive requests of one process go
 * round all the threads, each woken cold, and the asynchronous ones (a
 * RELEASE after close()) wake yet another. Here one thread at a time
 * reads (the reader) and serves what it read itself; when it is done it
 * reads again, so a process's requests are served by one thread that
 * stays warm, and a RELEASE queued while it works is read without a
 * wakeup. Idle workers wait on a stack, newest first.
 *
 * The reader hands its role to an idle worker (or a new one) when it
 * must not hold up the others: an operation that may wait for another
 * request (a handler, a blocking flock, an invalidation that waits for a
 * directory lock) hands it over first with loop_may_block(); and a
 * watchdog hands it over when one request has held up others for
 * LOOP_WATCH_NS (a slow lower file system), so that they are served
 * meanwhile. Handing over on every queued request instead would bring
 * back the round of cold threads: requests the kernel sends on its own
 * (FORGET, RELEASE) are queued most of the time.
 */

struct worker {
	struct worker *next;        /* all workers */
	struct worker *next_idle;   /* the stack of idle workers */
	struct loop *lp;
	pthread_t tid;
	pid_t id;                   /* its kernel thread id */
	pthread_cond_t cond;
	int go;                     /* woken to become the reader */
};

struct loop {
	struct fuse_session *se;
	int fd;
	pthread_mutex_t lock;
	struct worker *all, *idle;
	unsigned nidle, nworkers, max_idle, max_workers;
	int reading;                /* some worker holds the reader role */
	pthread_t reader;
	int stop, err;
	int efd;                    /* readable once the loop stops */
	uint64_t nreq;              /* requests read */
	pid_t server;               /* the thread of the last request read */
	pthread_t watchdog;
	pthread_cond_t wd_cond;
	int wd_sleeping, wd_running;
	uint64_t poll_ns;           /* busy polling after a request (fd non-blocking) */
};

#define LOOP_MAX_WORKERS 256
#define LOOP_WATCH_NS 2000000u   /* a request this long lets another worker read */

static __thread struct worker *this_worker;

static void *worker_main(void *arg);

/* Under lp->lock: a new worker that starts as the reader. */
static int spawn_locked(struct loop *lp)
{
	struct worker *w = calloc(1, sizeof(*w));
	sigset_t all, old;
	int e;

	if (!w)
		return -1;
	w->lp = lp;
	pthread_cond_init(&w->cond, NULL);
	/* signals go to the thread that runs the loop, which stops it */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	e = pthread_create(&w->tid, NULL, worker_main, w);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (e) {
		pthread_cond_destroy(&w->cond);
		free(w);
		return -1;
	}
	w->next = lp->all;
	lp->all = w;
	lp->nworkers++;
	lp->reading = 1;
	lp->reader = w->tid;
	return 0;
}

/* Under lp->lock: make sure some worker reads. */
static void promote_locked(struct loop *lp)
{
	struct worker *w = lp->idle;

	if (lp->reading || lp->stop)
		return;
	if (w) {
		lp->idle = w->next_idle;
		lp->nidle--;
		w->go = 1;
		lp->reading = 1;
		lp->reader = w->tid;
		pthread_cond_signal(&w->cond);
	} else if (lp->nworkers < lp->max_workers) {
		spawn_locked(lp); /* fails: served once this worker is done */
	}
}

void loop_may_block(void)
{
	struct worker *w = this_worker;

	if (!w)
		return;
	pthread_mutex_lock(&w->lp->lock);
	promote_locked(w->lp);
	pthread_mutex_unlock(&w->lp->lock);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int more_queued(struct loop *lp)
{
	struct pollfd p = { .fd = lp->fd, .events = POLLIN };

	return poll(&p, 1, 0) > 0 && (p.revents & POLLIN);
}

/*
 * Read the next request. Waking a thread that sleeps costs more than most
 * requests: on a virtual machine the CPU it sleeps on has halted, and the
 * host must be asked to wake it. So for lp->poll_ns after a request the
 * reader looks for the next one without sleeping, and a process that makes
 * one request after another (open, then its release, then the next open)
 * finds the reader awake. On a single CPU this would only keep the caller
 * from running: no busy polling there.
 */
static int read_request(struct loop *lp, struct fuse_buf *buf, uint64_t until)
{
	struct pollfd p = { .fd = lp->fd, .events = POLLIN };
	int r;

	for (;;) {
		r = fuse_session_receive_buf(lp->se, buf);
		if (r != -EAGAIN || !lp->poll_ns)
			return r;
		if (now_ns() >= until && poll(&p, 1, -1) < 0 && errno != EINTR)
			return -errno;
	}
}

/* Under lp->lock. */
static void stop_locked(struct loop *lp, int err)
{
	struct worker *w;

	if (err && !lp->err)
		lp->err = err;
	if (!lp->stop) {
		lp->stop = 1;
		eventfd_write(lp->efd, 1);
	}
	for (w = lp->idle; w; w = w->next_idle)
		pthread_cond_signal(&w->cond);
	pthread_cond_signal(&lp->wd_cond);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg, **pp;
	struct loop *lp = w->lp;
	struct fuse_buf fbuf;
	int r, trimmed = 0;
	uint64_t until = 0;

	memset(&fbuf, 0, sizeof(fbuf));
	this_worker = w;
	w->id = (pid_t)syscall(SYS_gettid);
	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, NULL);
	pthread_mutex_lock(&lp->lock);
	while (!lp->stop) {
		/* this worker holds the reader role (lp->reader) */
		pthread_mutex_unlock(&lp->lock);
		/* the loop's thread cancels a reader blocked here to stop */
		pthread_setcancelstate(PTHREAD_CANCEL_ENABLE, NULL);
		r = read_request(lp, &fbuf, until);
		pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, NULL);
		pthread_mutex_lock(&lp->lock);
		if (r == -EINTR || r == -EAGAIN)
			continue;
		if (r <= 0 || fuse_session_exited(lp->se)) {
			stop_locked(lp, r < 0 ? r : 0);
			break;
		}
		lp->reading = 0;
		lp->nreq++;
		lp->server = w->id;
		if (lp->wd_sleeping) {
			lp->wd_sleeping = 0;
			pthread_cond_signal(&lp->wd_cond);
		}
		pthread_mutex_unlock(&lp->lock);
		fuse_session_process_buf(lp->se, &fbuf);
		until = lp->poll_ns ? now_ns() + lp->poll_ns : 0;
		pthread_mutex_lock(&lp->lock);
		/* read again, unless another worker reads: then wait, on top
		 * of the stack, or leave when enough workers wait */
		while (lp->reading && !lp->stop) {
			if (lp->nidle >= lp->max_idle) {
				trimmed = 1;
				break;
			}
			w->go = 0;
			w->next_idle = lp->idle;
			lp->idle = w;
			lp->nidle++;
			while (!w->go && !lp->stop)
				pthread_cond_wait(&w->cond, &lp->lock);
			if (w->go)
				break; /* promoted: the role is ours */
			for (pp = &lp->idle; *pp; pp = &(*pp)->next_idle)
				if (*pp == w) {
					*pp = w->next_idle;
					lp->nidle--;
					break;
				}
		}
		if (trimmed)
			break;
		lp->reading = 1;
		lp->reader = pthread_self();
	}
	if (trimmed && !lp->stop) {
		/* gone for good: the loop's thread will not join it */
		for (pp = &lp->all; *pp; pp = &(*pp)->next)
			if (*pp == w) {
				*pp = w->next;
				break;
			}
		lp->nworkers--;
		pthread_detach(pthread_self());
		pthread_mutex_unlock(&lp->lock);
		pthread_cond_destroy(&w->cond);
		free(w);
	} else {
		pthread_mutex_unlock(&lp->lock);
	}
	free(fbuf.mem);
	return NULL;
}

/* Is thread id running or waiting for a CPU (not sleeping, not stopped)? */
static int thread_runs(pid_t id)
{
	char path[64], buf[256], *p;
	ssize_t r;
	int fd;

	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", (int)id);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	r = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (r <= 0)
		return 0;
	buf[r] = 0;
	p = strrchr(buf, ')');
	return p && p[1] == ' ' && p[2] == 'R';
}

/*
 * The safety net for requests that wait in ways no code here foresaw:
 * while requests come, the watchdog looks every LOOP_WATCH_NS; when no
 * worker has read a request since its last look and none reads now, one
 * request has taken that long, and if others wait behind it another worker
 * takes over reading. Not when the thread serving it runs (or waits for a
 * CPU): a request held up by a busy machine gains nothing from another
 * thread, which would only move the serving away from a warm thread.
 * When nothing came since its last look and a worker reads, the view is
 * idle: it sleeps until the next request.
 */
static void *watchdog_main(void *arg)
{
	struct loop *lp = arg;
	struct timespec ts;
	uint64_t last, t;
	pid_t server;

	pthread_mutex_lock(&lp->lock);
	last = lp->nreq;
	while (!lp->stop) {
		t = now_ns() + LOOP_WATCH_NS;
		ts.tv_sec = (time_t)(t / 1000000000u);
		ts.tv_nsec = (long)(t % 1000000000u);
		pthread_cond_timedwait(&lp->wd_cond, &lp->lock, &ts);
		if (lp->stop)
			break;
		if (lp->nreq == last) {
			if (lp->reading) {
				lp->wd_sleeping = 1;
				while (lp->wd_sleeping && !lp->stop)
					pthread_cond_wait(&lp->wd_cond, &lp->lock);
			} else if (more_queued(lp)) {
				server = lp->server;
				pthread_mutex_unlock(&lp->lock);
				t = thread_runs(server);
				pthread_mutex_lock(&lp->lock);
				if (!t && lp->nreq == last)
					promote_locked(lp);
			}
		}
		last = lp->nreq;
	}
	pthread_mutex_unlock(&lp->lock);
	return NULL;
}

/* The CPUs this process may run on. */
static int cpus_available(void)
{
	cpu_set_t set;

	if (sched_getaffinity(0, sizeof(set), &set))
		return 1;
	return CPU_COUNT(&set);
}

/* Serve requests until the view is unmounted or a signal stops it. */
int fuse_loop_run(struct fs *fs)
{
	struct loop lp;
	struct worker *w, *next;
	struct pollfd p;
	pthread_condattr_t ca;
	sigset_t all, old, stops, waiting;
	int err;

	memset(&lp, 0, sizeof(lp));
	lp.se = fs->se;
	lp.fd = fuse_session_fd(fs->se);
	lp.max_idle = (unsigned)fs->threads;
	lp.max_workers = LOOP_MAX_WORKERS;
	lp.efd = eventfd(0, EFD_CLOEXEC);
	if (lp.efd < 0)
		return -errno;
	if (fs->busy_poll_us && cpus_available() > 1 &&
	    fcntl(lp.fd, F_SETFL, fcntl(lp.fd, F_GETFL) | O_NONBLOCK) == 0)
		lp.poll_ns = fs->busy_poll_us * 1000ull;
	pthread_mutex_init(&lp.lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC); /* now_ns() */
	pthread_cond_init(&lp.wd_cond, &ca);
	pthread_condattr_destroy(&ca);
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	lp.wd_running = !pthread_create(&lp.watchdog, NULL, watchdog_main, &lp);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_mutex_lock(&lp.lock);
	if (spawn_locked(&lp)) {
		lp.stop = 1;
		pthread_mutex_unlock(&lp.lock);
		err = -ENOMEM;
		goto out;
	}
	pthread_mutex_unlock(&lp.lock);
	/*
	 * The signals that stop the view are handled here (the workers block
	 * them), only inside ppoll(): one that comes before it is held until
	 * ppoll() lets it in, and then interrupts the wait.
	 */
	sigemptyset(&stops);
	sigaddset(&stops, SIGINT);
	sigaddset(&stops, SIGTERM);
	sigaddset(&stops, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &stops, &waiting);
	sigdelset(&waiting, SIGINT);
	sigdelset(&waiting, SIGTERM);
	sigdelset(&waiting, SIGHUP);
	p.fd = lp.efd;
	p.events = POLLIN;
	while (!fuse_session_exited(fs->se) && ppoll(&p, 1, NULL, &waiting) <= 0)
		;
	pthread_sigmask(SIG_UNBLOCK, &stops, NULL);
	pthread_mutex_lock(&lp.lock);
	stop_locked(&lp, 0);
	if (lp.reading)
		pthread_cancel(lp.reader);
	pthread_mutex_unlock(&lp.lock);
	/* after stop no worker leaves the list */
	for (w = lp.all; w; w = next) {
		next = w->next;
		pthread_join(w->tid, NULL);
		pthread_cond_destroy(&w->cond);
		free(w);
	}
	err = lp.err;
out:
	if (lp.wd_running)
		pthread_join(lp.watchdog, NULL);
	pthread_cond_destroy(&lp.wd_cond);
	pthread_mutex_destroy(&lp.lock);
	close(lp.efd);
	return err;
}
