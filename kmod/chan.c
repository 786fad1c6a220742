// SPDX-License-Identifier: GPL-2.0
/*
 * /dev/fbpf: the channel that carries deferred operations to the daemon.
 *
 * Each open of /dev/fbpf is one channel. A mount names it with fd=N. An
 * operation whose filter answers DEFER queues a struct fbpf_kreq and waits
 * (killably, up to the mount's timeout) for the struct fbpf_kresp the
 * daemon writes back. When the daemon's file goes away, every waiter fails
 * with FBPF_ERR_NO_DAEMON at once, and so does every later deferral; the
 * mounts keep the (dead) channel object until they are unmounted.
 */
#include "fbpf.h"

#include <linux/completion.h>
#include <linux/file.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/poll.h>
#include <linux/uaccess.h>
#include <linux/wait.h>

struct fbpf_chan {
	struct kref ref;		/* the daemon's file and each mount */
	spinlock_t lock;
	wait_queue_head_t readq;
	struct list_head pending;	/* queued, not yet read */
	struct list_head sent;		/* read, waiting for the answer */
	u64 next_id;
	bool dead;			/* the daemon's file is gone */
};

struct fbpf_defer {
	struct list_head node;		/* pending or sent; empty once decided */
	struct kref ref;		/* the waiter, and a reader copying it */
	struct completion done;
	int answer;			/* 0 or a negative errno */
	struct fbpf_kreq kreq;
};

static void fbpf_chan_release_ref(struct kref *ref)
{
	kfree(container_of(ref, struct fbpf_chan, ref));
}

void fbpf_chan_put(struct fbpf_chan *chan)
{
	if (chan)
		kref_put(&chan->ref, fbpf_chan_release_ref);
}

static void fbpf_defer_release(struct kref *ref)
{
	kfree(container_of(ref, struct fbpf_defer, ref));
}

/* Decide @d with @answer; the caller holds chan->lock. */
static void fbpf_defer_decide(struct fbpf_defer *d, int answer)
{
	list_del_init(&d->node);
	d->answer = answer;
	complete(&d->done);
}

int fbpf_chan_defer(struct fbpf_chan *chan, struct fbpf_kreq *req,
		    unsigned int timeout_ms)
{
	struct fbpf_defer *d;
	long left;
	int ret;

	d = kmalloc(sizeof(*d), GFP_KERNEL);
	if (!d)
		return -ENOMEM;
	INIT_LIST_HEAD(&d->node);
	kref_init(&d->ref);
	init_completion(&d->done);
	d->answer = -FBPF_ERR_NO_DAEMON;
	memcpy(&d->kreq, req, sizeof(d->kreq));

	spin_lock(&chan->lock);
	if (chan->dead) {
		spin_unlock(&chan->lock);
		kfree(d);
		return -FBPF_ERR_NO_DAEMON;
	}
	d->kreq.id = ++chan->next_id;
	list_add_tail(&d->node, &chan->pending);
	spin_unlock(&chan->lock);
	wake_up_interruptible_poll(&chan->readq, EPOLLIN | EPOLLRDNORM);

	left = wait_for_completion_killable_timeout(&d->done,
						     msecs_to_jiffies(timeout_ms));

	spin_lock(&chan->lock);
	if (list_empty(&d->node)) {
		ret = d->answer;	/* decided, maybe just now */
	} else {
		list_del_init(&d->node);
		ret = left < 0 ? -EINTR : -FBPF_ERR_TIMEOUT;
	}
	spin_unlock(&chan->lock);
	kref_put(&d->ref, fbpf_defer_release);
	return ret;
}

/* ---- the character device ---------------------------------------------- */

static int fbpf_chan_open(struct inode *inode, struct file *file)
{
	struct fbpf_chan *chan;

	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	chan = kzalloc(sizeof(*chan), GFP_KERNEL);
	if (!chan)
		return -ENOMEM;
	kref_init(&chan->ref);
	spin_lock_init(&chan->lock);
	init_waitqueue_head(&chan->readq);
	INIT_LIST_HEAD(&chan->pending);
	INIT_LIST_HEAD(&chan->sent);
	file->private_data = chan;
	return stream_open(inode, file);
}

static int fbpf_chan_release(struct inode *inode, struct file *file)
{
	struct fbpf_chan *chan = file->private_data;
	struct fbpf_defer *d, *tmp;

	spin_lock(&chan->lock);
	chan->dead = true;
	list_for_each_entry_safe(d, tmp, &chan->pending, node)
		fbpf_defer_decide(d, -FBPF_ERR_NO_DAEMON);
	list_for_each_entry_safe(d, tmp, &chan->sent, node)
		fbpf_defer_decide(d, -FBPF_ERR_NO_DAEMON);
	spin_unlock(&chan->lock);
	fbpf_chan_put(chan);
	return 0;
}

static ssize_t fbpf_chan_read(struct file *file, char __user *buf,
			      size_t count, loff_t *ppos)
{
	struct fbpf_chan *chan = file->private_data;
	struct fbpf_defer *d;
	int err;

	if (count < sizeof(struct fbpf_kreq))
		return -EINVAL;
	for (;;) {
		spin_lock(&chan->lock);
		d = list_first_entry_or_null(&chan->pending, struct fbpf_defer, node);
		if (d) {
			list_move_tail(&d->node, &chan->sent);
			kref_get(&d->ref);
		}
		spin_unlock(&chan->lock);
		if (d)
			break;
		if (file->f_flags & O_NONBLOCK)
			return -EAGAIN;
		err = wait_event_interruptible(chan->readq,
					       !list_empty(&chan->pending));
		if (err)
			return err;
	}

	/* kreq is not changed after queueing; the reference keeps it */
	err = copy_to_user(buf, &d->kreq, sizeof(d->kreq)) ? -EFAULT : 0;
	if (err) {
		spin_lock(&chan->lock);
		if (!list_empty(&d->node))
			list_move(&d->node, &chan->pending);
		spin_unlock(&chan->lock);
	}
	kref_put(&d->ref, fbpf_defer_release);
	return err ? err : sizeof(struct fbpf_kreq);
}

static ssize_t fbpf_chan_write(struct file *file, const char __user *buf,
			       size_t count, loff_t *ppos)
{
	struct fbpf_chan *chan = file->private_data;
	struct fbpf_kresp resp;
	struct fbpf_defer *d;
	int answer;

	if (count != sizeof(resp))
		return -EINVAL;
	if (copy_from_user(&resp, buf, sizeof(resp)))
		return -EFAULT;
	if (resp.err < 0 || resp.err >= MAX_ERRNO)
		return -EINVAL;
	answer = -resp.err;

	spin_lock(&chan->lock);
	list_for_each_entry(d, &chan->sent, node) {
		if (d->kreq.id == resp.id) {
			fbpf_defer_decide(d, answer);
			spin_unlock(&chan->lock);
			return count;
		}
	}
	spin_unlock(&chan->lock);
	return -ENOENT;	/* timed out or interrupted already, or a bad id */
}

static __poll_t fbpf_chan_poll(struct file *file, poll_table *wait)
{
	struct fbpf_chan *chan = file->private_data;
	__poll_t mask = EPOLLOUT | EPOLLWRNORM;

	poll_wait(file, &chan->readq, wait);
	spin_lock(&chan->lock);
	if (!list_empty(&chan->pending))
		mask |= EPOLLIN | EPOLLRDNORM;
	spin_unlock(&chan->lock);
	return mask;
}

static const struct file_operations fbpf_chan_fops = {
	.owner		= THIS_MODULE,
	.open		= fbpf_chan_open,
	.release	= fbpf_chan_release,
	.read		= fbpf_chan_read,
	.write		= fbpf_chan_write,
	.poll		= fbpf_chan_poll,
};

static struct miscdevice fbpf_miscdev = {
	.minor	= MISC_DYNAMIC_MINOR,
	.name	= "fbpf",
	.fops	= &fbpf_chan_fops,
	.mode	= 0600,
};

/* The channel behind descriptor @fd of the mounting process, referenced. */
struct fbpf_chan *fbpf_chan_from_fd(int fd)
{
	struct fbpf_chan *chan;
	struct file *file;

	file = fget(fd);
	if (!file)
		return ERR_PTR(-EBADF);
	if (file->f_op != &fbpf_chan_fops) {
		fput(file);
		return ERR_PTR(-EINVAL);
	}
	chan = file->private_data;
	kref_get(&chan->ref);
	fput(file);
	return chan;
}

int fbpf_chan_init(void)
{
	return misc_register(&fbpf_miscdev);
}

void fbpf_chan_exit(void)
{
	misc_deregister(&fbpf_miscdev);
}
