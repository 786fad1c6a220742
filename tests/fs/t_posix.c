// SPDX-License-Identifier: GPL-2.0
/*
 * POSIX conformance of the view under a pass-through policy (no rules):
 * what a program sees through the mount is what it would see on the lower
 * filesystem, and every change lands on the lower filesystem.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/statfs.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "fstest.h"

static void pt_mount(void)
{
	chmod(W.lower, 0777);
	fs_mount("passthrough");
}

START_TEST(posix_permissions)
{
	mkdirp(L("priv"), 0700);
	mkfile(L("priv/x"), "x", 0644);
	mkfile(L("ro"), "ro", 0644);
	mkfile(L("secret"), "s", 0600);
	mkdirp(L("rodir"), 0755);
	mkfile(L("rodir/f"), "f", 0666);
	mkdirp(L("sticky"), 01777);
	mkfile(L("sticky/b"), "b", 0666);
	xchown(L("sticky/b"), 1001, 1001);
	mkfile(L("mine"), "m", 0600);
	xchown(L("mine"), 1000, 1000);
	pt_mount();

	/* root passes the permission bits */
	ck_errno(X(X_READ, M("secret"), NULL), 0);
	ck_errno(X(X_WRITE, M("ro"), "root"), 0);
	ck_errno(X(X_LIST, M("priv"), NULL), 0);

	/* another uid does not */
	ck_errno(XA(1000, X_READ, M("secret"), NULL), EACCES);
	ck_errno(XA(1000, X_READ, M("ro"), NULL), 0);
	ck_errno(XA(1000, X_WRITE, M("ro"), "x"), EACCES);
	ck_errno(XA(1000, X_TRUNCATE, M("ro"), NULL), EACCES);
	ck_errno(XA(1000, X_STAT, M("priv/x"), NULL), EACCES);
	ck_errno(XA(1000, X_LIST, M("priv"), NULL), EACCES);
	ck_errno(XA(1000, X_CREAT, M("rodir/new"), NULL), EACCES);
	ck_errno(XA(1000, X_MKDIR, M("rodir/new"), NULL), EACCES);
	ck_errno(XA(1000, X_UNLINK, M("rodir/f"), NULL), EACCES);
	ck_errno(XA(1000, X_RENAME, M("rodir/f"), M("moved")), EACCES);
	ck_errno(XA(1000, X_CHMOD, M("ro"), NULL), EPERM);
	ck_errno(XA(1000, X_CHOWN, M("ro"), NULL), EPERM);
	ck_errno(XA(1000, X_UTIMENS, M("ro"), NULL), EACCES);
	ck_errno(XA(1000, X_UNLINK, M("sticky/b"), NULL), EPERM);
	ck_errno(XA(1000, X_READ, M("mine"), NULL), 0);
	ck_errno(XA(1001, X_READ, M("mine"), NULL), EACCES);
	ck_errno(XA(1000, X_CHMOD, M("mine"), NULL), 0);
	ck_assert(exists(L("rodir/f")) && exists(L("sticky/b")));

	/* names the kernel knows in a directory stop working for others as
	 * soon as it is closed to them */
	ck_errno(XA(1000, X_STAT, M("rodir/f"), NULL), 0);
	ck_errno(X(X_STAT, M("rodir/f"), NULL), 0);
	ck_errno(X(X_LIST, M("rodir"), NULL), 0);
	ck_assert_int_eq(chmod(M("rodir"), 0700), 0);
	ck_errno(XA(1000, X_STAT, M("rodir/f"), NULL), EACCES);
	ck_errno(XA(1000, X_READ, M("rodir/f"), NULL), EACCES);
	ck_errno(XA(1000, X_STAT, M("rodir/nothere"), NULL), EACCES);
	ck_errno(X(X_STAT, M("rodir/f"), NULL), 0);
	ck_assert_int_eq(chmod(M("rodir"), 0755), 0);
	ck_errno(XA(1000, X_STAT, M("rodir/f"), NULL), 0);
	{
		char buf[16];

		slurp(L("ro"), buf, sizeof(buf));
		ck_assert_str_eq(buf, "root");
	}
}
END_TEST

START_TEST(posix_ownership)
{
	struct stat st;
	struct xop op;
	struct xres r;
	const char *names[] = { "f", "d", "l", "p" };
	unsigned i;

	mkdirp(L("sgid"), 02777);
	xchown(L("sgid"), 0, 4000);
	chmod(L("sgid"), 02777);
	pt_mount();
	ck_errno(XA(1000, X_CREAT, M("f"), NULL), 0);
	ck_errno(XA(1000, X_MKDIR, M("d"), NULL), 0);
	ck_errno(XA(1000, X_SYMLINK, M("l"), "f"), 0);
	ck_errno(XA(1000, X_MKFIFO, M("p"), NULL), 0);
	for (i = 0; i < 4; i++) {
		op = (struct xop){ X_LSTAT, M("%s", names[i]), NULL };
		ck_errno(xop_as((uid_t)-1, 0, &op, &r), 0);
		ck_assert_msg(r.uid == 1000 && r.gid == 1000, "%s in the view: owner %u:%u, want 1000:1000",
			      names[i], (unsigned)r.uid, (unsigned)r.gid);
		ck_assert_int_eq(lstat(L("%s", names[i]), &st), 0);
		ck_assert_msg(st.st_uid == 1000 && st.st_gid == 1000, "%s in the lower: owner %u:%u",
			      names[i], (unsigned)st.st_uid, (unsigned)st.st_gid);
	}
	/* a setgid directory hands its group down */
	ck_errno(XA(1001, X_CREAT, M("sgid/g"), NULL), 0);
	ck_assert_int_eq(stat(L("sgid/g"), &st), 0);
	ck_assert_msg(st.st_uid == 1001 && st.st_gid == 4000, "sgid/g: owner %u:%u, want 1001:4000",
		      (unsigned)st.st_uid, (unsigned)st.st_gid);
	ck_errno(X(X_CREAT, M("byroot"), NULL), 0);
	ck_assert_int_eq(stat(L("byroot"), &st), 0);
	ck_assert_int_eq(st.st_uid, 0);
}
END_TEST

START_TEST(posix_rename)
{
	char buf[64];
	struct stat st;

	mkfile(L("a"), "A", 0644);
	mkfile(L("b"), "B", 0644);
	mkdirp(L("d1/sub"), 0755);
	mkdirp(L("d2"), 0755);
	mkdirp(L("full"), 0755);
	mkfile(L("full/x"), "x", 0644);
	mkfile(L("c"), "C", 0644);
	mkfile(L("e"), "E", 0644);
	pt_mount();

	ck_errno(X(X_RENAME, M("a"), M("b")), 0); /* replaces b */
	ck_assert(!exists(L("a")));
	slurp(L("b"), buf, sizeof(buf));
	ck_assert_str_eq(buf, "A");
	ck_errno(X(X_STAT, M("a"), NULL), ENOENT);
	slurp(M("b"), buf, sizeof(buf));
	ck_assert_str_eq(buf, "A");

	ck_errno(X(X_RENAME, M("d1"), M("d2")), 0); /* onto an empty directory */
	ck_assert(exists(L("d2/sub")) && !exists(L("d1")));
	ck_errno(X(X_STAT, M("d2/sub"), NULL), 0);
	ck_errno(X(X_RENAME, M("d2"), M("full")), ENOTEMPTY);
	ck_errno(X(X_RENAME, M("b"), M("full")), EISDIR);
	ck_errno(X(X_RENAME, M("full"), M("b")), ENOTDIR);
	ck_errno(X(X_RENAME, M("d2"), M("d2/sub/in")), EINVAL);
	ck_errno(X(X_RENAME, M("missing"), M("z")), ENOENT);

	ck_errno(X(X_RENAME_NOREPLACE, M("b"), M("c")), EEXIST);
	slurp(L("c"), buf, sizeof(buf));
	ck_assert_str_eq(buf, "C");
	ck_errno(X(X_RENAME_NOREPLACE, M("b"), M("n")), 0);
	ck_assert(exists(L("n")) && !exists(L("b")));

	ck_errno(X(X_RENAME_EXCHANGE, M("c"), M("e")), 0);
	slurp(L("c"), buf, sizeof(buf));
	ck_assert_str_eq(buf, "E");
	slurp(M("e"), buf, sizeof(buf));
	ck_assert_str_eq(buf, "C");
	ck_errno(X(X_RENAME_EXCHANGE, M("c"), M("nothere")), ENOENT);
	ck_errno(X(X_RENAME_EXCHANGE, M("c"), M("d2")), 0); /* a file with a directory */
	ck_assert_int_eq(stat(L("c"), &st), 0);
	ck_assert(S_ISDIR(st.st_mode));
	ck_errno(X(X_STAT, M("c/sub"), NULL), 0);

	ck_errno(X(X_RENAME, M("n"), M("c/moved")), 0); /* into another directory */
	ck_assert(exists(L("c/moved")));
}
END_TEST

START_TEST(posix_links)
{
	struct stat a, b;
	char buf[64];
	int fd;

	mkfile(L("f"), "one", 0644);
	pt_mount();
	ck_errno(X(X_LINK, M("f"), M("g")), 0);
	ck_assert_int_eq(stat(M("f"), &a), 0);
	ck_assert_int_eq(stat(M("g"), &b), 0);
	ck_assert_int_eq(a.st_nlink, 2);
	ck_assert_int_eq(b.st_nlink, 2);
	ck_assert_msg(a.st_ino == b.st_ino, "two links of one file show different inode numbers");
	ck_assert_int_eq(stat(L("g"), &b), 0);
	ck_assert_int_eq(b.st_nlink, 2);
	ck_errno(X(X_WRITE, M("g"), "two"), 0);
	slurp(M("f"), buf, sizeof(buf));
	ck_assert_str_eq(buf, "two");
	ck_errno(X(X_LINK, M("f"), M("g")), EEXIST);
	ck_errno(X(X_UNLINK, M("f"), NULL), 0);
	ck_assert_int_eq(stat(M("g"), &b), 0);
	ck_assert_int_eq(b.st_nlink, 1);

	ck_errno(X(X_MKDIR, M("d"), NULL), 0);
	ck_errno(X(X_MKDIR, M("d/s1"), NULL), 0);
	ck_errno(X(X_MKDIR, M("d/s2"), NULL), 0);
	ck_assert_int_eq(stat(M("d"), &a), 0);
	ck_assert_int_eq(a.st_nlink, 4);
	ck_errno(X(X_RMDIR, M("d/s2"), NULL), 0);
	ck_assert_int_eq(stat(M("d"), &a), 0);
	ck_assert_int_eq(a.st_nlink, 3);
	ck_errno(X(X_LINK, M("d"), M("dl")), EPERM);

	/* an open file outlives its last name */
	fd = open(M("g"), O_RDWR);
	ck_assert_int_ge(fd, 0);
	ck_errno(X(X_UNLINK, M("g"), NULL), 0);
	ck_assert(!exists(L("g")));
	ck_assert_msg(fstat(fd, &a) == 0, "fstat of an open file whose last name is gone: %s", strerror(errno));
	ck_assert_int_eq(a.st_nlink, 0);
	/* and so do the operations on it that carry no file handle */
	ck_assert_msg(fchmod(fd, 0600) == 0, "fchmod of an open file whose last name is gone: %s", strerror(errno));
	ck_assert_int_eq(fstat(fd, &a), 0);
	ck_assert_int_eq(a.st_mode & 0777, 0600);
	ck_assert_msg(ftruncate(fd, 1) == 0, "ftruncate: %s", strerror(errno));
	ck_assert_int_eq(pwrite(fd, "three", 5, 0), 5);
	ck_assert_int_eq(pread(fd, buf, 5, 0), 5);
	ck_assert(!memcmp(buf, "three", 5));
	close(fd);
}
END_TEST

START_TEST(posix_truncate)
{
	char buf[16384];
	struct stat st;
	int fd, i;

	mkfile(L("f"), "0123456789", 0644);
	pt_mount();
	ck_assert_int_eq(truncate(M("f"), 10000), 0);
	ck_assert_int_eq(stat(M("f"), &st), 0);
	ck_assert_int_eq(st.st_size, 10000);
	ck_assert_int_eq(slurp(M("f"), buf, sizeof(buf)), 10000);
	ck_assert(!memcmp(buf, "0123456789", 10));
	for (i = 10; i < 10000; i++)
		ck_assert_msg(buf[i] == 0, "byte %d after growing is %d, not 0", i, buf[i]);
	ck_assert_int_eq(truncate(M("f"), 3), 0);
	ck_assert_int_eq(slurp(L("f"), buf, sizeof(buf)), 3);
	ck_assert_str_eq(buf, "012");
	ck_assert_int_eq(truncate(M("f"), -1), -1);
	ck_errno(errno, EINVAL);
	fd = open(M("f"), O_RDWR);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(ftruncate(fd, 1), 0);
	ck_assert_int_eq(fstat(fd, &st), 0);
	ck_assert_int_eq(st.st_size, 1);
	ck_assert_int_eq(ftruncate(fd, 5000), 0);
	close(fd);
	ck_assert_int_eq(stat(L("f"), &st), 0);
	ck_assert_int_eq(st.st_size, 5000);
	fd = open(M("f"), O_WRONLY | O_TRUNC);
	ck_assert_int_ge(fd, 0);
	close(fd);
	ck_assert_int_eq(stat(M("f"), &st), 0);
	ck_assert_int_eq(st.st_size, 0);
	ck_assert_int_eq(stat(L("f"), &st), 0);
	ck_assert_int_eq(st.st_size, 0);
	fd = open(M("f"), O_RDONLY);
	ck_assert_int_eq(ftruncate(fd, 1), -1);
	ck_assert(errno == EINVAL || errno == EBADF);
	close(fd);
}
END_TEST

START_TEST(posix_utimes)
{
	struct timespec ts[2] = { { 1000000000, 123456789 }, { 1200000000, 987654321 } };
	struct timespec omit[2] = { { 1100000000, 5 }, { 0, UTIME_OMIT } };
	struct timespec now[2] = { { 0, UTIME_OMIT }, { 0, UTIME_NOW } };
	struct stat st;
	time_t before, after;
	int fd;

	mkfile(L("f"), "x", 0644);
	pt_mount();
	ck_assert_int_eq(utimensat(AT_FDCWD, M("f"), ts, 0), 0);
	ck_assert_int_eq(stat(M("f"), &st), 0);
	ck_assert_int_eq(st.st_atim.tv_sec, 1000000000);
	ck_assert_int_eq(st.st_atim.tv_nsec, 123456789);
	ck_assert_int_eq(st.st_mtim.tv_sec, 1200000000);
	ck_assert_int_eq(st.st_mtim.tv_nsec, 987654321);
	ck_assert_int_eq(stat(L("f"), &st), 0);
	ck_assert_int_eq(st.st_mtim.tv_sec, 1200000000);
	ck_assert_int_eq(st.st_mtim.tv_nsec, 987654321);

	ck_assert_int_eq(utimensat(AT_FDCWD, M("f"), omit, 0), 0);
	ck_assert_int_eq(stat(M("f"), &st), 0);
	ck_assert_int_eq(st.st_atim.tv_sec, 1100000000);
	ck_assert_int_eq(st.st_atim.tv_nsec, 5);
	ck_assert_int_eq(st.st_mtim.tv_sec, 1200000000);
	ck_assert_int_eq(st.st_mtim.tv_nsec, 987654321);

	before = time(NULL);
	ck_assert_int_eq(utimensat(AT_FDCWD, M("f"), now, 0), 0);
	after = time(NULL);
	ck_assert_int_eq(stat(M("f"), &st), 0);
	ck_assert_int_eq(st.st_atim.tv_sec, 1100000000);
	ck_assert_msg(st.st_mtim.tv_sec >= before - 1 && st.st_mtim.tv_sec <= after + 1,
		      "UTIME_NOW gave mtime %lld, now is %lld", (long long)st.st_mtim.tv_sec,
		      (long long)after);

	fd = open(M("f"), O_RDWR);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(futimens(fd, ts), 0);
	close(fd);
	ck_assert_int_eq(stat(L("f"), &st), 0);
	ck_assert_int_eq(st.st_atim.tv_sec, 1000000000);
	ck_assert_int_eq(st.st_mtim.tv_sec, 1200000000);

	/* a write moves mtime */
	ck_errno(X(X_APPEND, M("f"), "more"), 0);
	ck_assert_int_eq(stat(M("f"), &st), 0);
	ck_assert_msg(st.st_mtim.tv_sec >= before - 1, "a write did not update mtime (%lld)",
		      (long long)st.st_mtim.tv_sec);
}
END_TEST

START_TEST(posix_long_names_and_paths)
{
	char name[300], path[PATH_MAX + 300], list[4096];
	size_t n;
	int depth, i, fd;

	pt_mount();
	memset(name, 'n', 255);
	name[255] = '\0';
	ck_errno(X(X_CREAT, M("%s", name), NULL), 0);
	ck_assert(exists(L("%s", name)));
	ck_errno(X(X_STAT, M("%s", name), NULL), 0);
	ck_assert_int_eq(listdir(W.mnt, list, sizeof(list)), 1);
	ck_assert_str_eq(list, name);
	name[255] = 'n';
	name[256] = '\0';
	ck_errno(X(X_CREAT, M("%s", name), NULL), ENAMETOOLONG);
	ck_errno(X(X_STAT, M("%s", name), NULL), ENAMETOOLONG);
	ck_errno(X(X_MKDIR, M("%s", name), NULL), ENAMETOOLONG);

	/* a path of 4000+ bytes: directories of 250-byte names */
	memset(name, 'd', 250);
	name[250] = '\0';
	n = (size_t)snprintf(path, sizeof(path), "%s", W.mnt);
	depth = (int)((4050 - n) / 251);
	for (i = 0; i < depth; i++) {
		n += (size_t)snprintf(path + n, sizeof(path) - n, "/%s", name);
		ck_assert_msg(mkdir(path, 0755) == 0, "mkdir at depth %d (%zu bytes): %s", i, n,
			      strerror(errno));
	}
	/* fill up to 4095 bytes with the last name */
	{
		size_t room = 4095 - n - 1;
		char last[256];

		if (room > 255)
			room = 255;
		memset(last, 'f', room);
		last[room] = '\0';
		snprintf(path + n, sizeof(path) - n, "/%s", last);
		ck_assert_int_eq(strlen(path), n + 1 + room);
		fd = open(path, O_CREAT | O_WRONLY, 0644);
		ck_assert_msg(fd >= 0, "creating a file at a %zu-byte path: %s", strlen(path), strerror(errno));
		ck_assert_int_eq(write(fd, "deep", 4), 4);
		close(fd);
		ck_errno(X(X_STAT, path, NULL), 0);
		/* one byte more is too long */
		path[n] = '\0';
		strcat(path, "/");
		memset(last, 'g', room + 1 > 255 ? 255 : room + 1);
		last[room + 1 > 255 ? 255 : room + 1] = '\0';
		strcat(path, last);
		if (strlen(path) >= PATH_MAX)
			ck_errno(X(X_CREAT, path, NULL), ENAMETOOLONG);
	}
	/* the deep file is in the lower, at the same relative path */
	{
		int dfd = open(W.lower, O_RDONLY | O_DIRECTORY), nfd;
		char buf[16];

		for (i = 0; i < depth; i++) {
			nfd = openat(dfd, name, O_RDONLY | O_DIRECTORY);
			ck_assert_msg(nfd >= 0, "lower directory at depth %d is missing", i);
			close(dfd);
			dfd = nfd;
		}
		nfd = -1;
		{
			DIR *d = fdopendir(dfd);
			struct dirent *de;

			while (d && (de = readdir(d)) != NULL)
				if (de->d_name[0] == 'f')
					nfd = openat(dirfd(d), de->d_name, O_RDONLY);
			ck_assert_msg(nfd >= 0, "the deep file is not in the lower directory");
			ck_assert_int_eq(read(nfd, buf, 4), 4);
			ck_assert(!memcmp(buf, "deep", 4));
			close(nfd);
			closedir(d);
		}
	}
}
END_TEST

START_TEST(posix_readdir_many)
{
	enum { NLOWER = 3000, NVIEW = 200 };
	static char seen[NLOWER + NVIEW];
	char names1[10][NAME_MAX + 1], names2[10][NAME_MAX + 1];
	struct dirent *de;
	long pos;
	DIR *d;
	int i, count = 0;

	mkdirp(L("big"), 0755);
	for (i = 0; i < NLOWER; i++) {
		char n[64];

		snprintf(n, sizeof(n), "big/entry-%05d", i);
		mkfile(L("%s", n), NULL, 0644);
	}
	pt_mount();
	for (i = NLOWER; i < NLOWER + NVIEW; i++)
		ck_errno(X(X_CREAT, M("big/entry-%05d", i), NULL), 0);
	memset(seen, 0, sizeof(seen));
	d = opendir(M("big"));
	ck_assert(d != NULL);
	while ((de = readdir(d)) != NULL) {
		int k;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		ck_assert_msg(sscanf(de->d_name, "entry-%d", &k) == 1 && k >= 0 && k < NLOWER + NVIEW,
			      "unexpected entry %s", de->d_name);
		ck_assert_msg(!seen[k], "entry %s listed twice", de->d_name);
		seen[k] = 1;
		count++;
	}
	ck_assert_int_eq(count, NLOWER + NVIEW);

	/* telldir/seekdir: coming back to a position gives the same entries */
	rewinddir(d);
	for (i = 0; i < 1500; i++)
		ck_assert(readdir(d) != NULL);
	pos = telldir(d);
	for (i = 0; i < 10; i++) {
		de = readdir(d);
		ck_assert(de != NULL);
		snprintf(names1[i], sizeof(names1[i]), "%s", de->d_name);
	}
	for (i = 0; i < 500; i++)
		readdir(d);
	seekdir(d, pos);
	for (i = 0; i < 10; i++) {
		de = readdir(d);
		ck_assert(de != NULL);
		snprintf(names2[i], sizeof(names2[i]), "%s", de->d_name);
		ck_assert_msg(!strcmp(names1[i], names2[i]), "after seekdir entry %d is %s, was %s", i,
			      names2[i], names1[i]);
	}
	/* a removal elsewhere in the directory does not disturb the position */
	seekdir(d, pos);
	ck_errno(X(X_UNLINK, M("big/entry-%05d", 3100), NULL), 0);
	de = readdir(d);
	ck_assert(de != NULL);
	ck_assert_str_eq(de->d_name, names1[0]);
	closedir(d);
}
END_TEST

START_TEST(posix_append)
{
	char buf[256];
	int a, b, i;

	mkfile(L("f"), "start:", 0644);
	pt_mount();
	a = open(M("f"), O_WRONLY | O_APPEND);
	b = open(M("f"), O_WRONLY | O_APPEND);
	ck_assert(a >= 0 && b >= 0);
	for (i = 0; i < 5; i++) {
		ck_assert_int_eq(write(a, "A", 1), 1);
		ck_assert_int_eq(write(b, "BB", 2), 2);
	}
	ck_assert_int_eq(lseek(a, 0, SEEK_CUR), 19); /* the end when a last wrote */
	close(a);
	close(b);
	ck_assert_int_eq(slurp(M("f"), buf, sizeof(buf)), 21);
	ck_assert_str_eq(buf, "start:ABBABBABBABBABB");
	slurp(L("f"), buf, sizeof(buf));
	ck_assert_str_eq(buf, "start:ABBABBABBABBABB");
}
END_TEST

START_TEST(posix_sparse_seek)
{
	const off_t off = 8 << 20;
	off_t lv, vv;
	struct stat st;
	char buf[4096];
	int fd, lfd, i;
	static const int whences[] = { SEEK_DATA, SEEK_HOLE };
	off_t starts[] = { 0, 4096, off - 1, off, off + 1 };

	pt_mount();
	fd = open(M("sparse"), O_CREAT | O_RDWR, 0644);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pwrite(fd, "X", 1, off), 1);
	ck_assert_int_eq(fsync(fd), 0);
	ck_assert_int_eq(fstat(fd, &st), 0);
	ck_assert_int_eq(st.st_size, off + 1);
	ck_assert_int_eq(stat(M("sparse"), &st), 0);
	ck_assert_msg((long long)st.st_blocks * 512 < (1 << 20), "a sparse file uses %lld blocks",
		      (long long)st.st_blocks);
	ck_assert_int_eq(pread(fd, buf, sizeof(buf), 4096), (ssize_t)sizeof(buf));
	for (i = 0; i < (int)sizeof(buf); i++)
		ck_assert_int_eq(buf[i], 0);
	/* SEEK_DATA / SEEK_HOLE answer as the lower filesystem does */
	lfd = open(L("sparse"), O_RDONLY);
	ck_assert_int_ge(lfd, 0);
	for (i = 0; i < 10; i++) {
		int w = whences[i % 2];
		off_t s = starts[i / 2];

		errno = 0;
		lv = lseek(lfd, s, w);
		int le = errno;

		errno = 0;
		vv = lseek(fd, s, w);
		ck_assert_msg(vv == lv && (vv >= 0 || errno == le),
			      "lseek(%lld, %s): view %lld (%s), lower %lld (%s)", (long long)s,
			      w == SEEK_DATA ? "SEEK_DATA" : "SEEK_HOLE", (long long)vv, errname(errno),
			      (long long)lv, errname(le));
	}
	ck_assert_int_eq(lseek(fd, 0, SEEK_DATA), (off_t)off);
	ck_assert_int_eq(lseek(fd, off + 1, SEEK_DATA), -1);
	ck_errno(errno, ENXIO);
	close(lfd);
	close(fd);
}
END_TEST

START_TEST(posix_xattr)
{
	char buf[8192], big[4000];
	ssize_t n;

	mkfile(L("f"), "x", 0644);
	pt_mount();
	ck_assert_int_eq(setxattr(M("f"), "user.a", "1", 1, 0), 0);
	n = getxattr(L("f"), "user.a", buf, sizeof(buf));
	ck_assert_int_eq(n, 1);
	n = getxattr(M("f"), "user.a", buf, sizeof(buf));
	ck_assert_int_eq(n, 1);
	ck_assert_int_eq(buf[0], '1');
	ck_assert_int_eq(getxattr(M("f"), "user.a", NULL, 0), 1);
	ck_assert_int_eq(setxattr(M("f"), "user.a", "2", 1, XATTR_CREATE), -1);
	ck_errno(errno, EEXIST);
	ck_assert_int_eq(setxattr(M("f"), "user.b", "2", 1, XATTR_REPLACE), -1);
	ck_errno(errno, ENODATA);
	memset(big, 'v', sizeof(big));
	ck_assert_int_eq(setxattr(M("f"), "user.big", big, sizeof(big), 0), 0);
	ck_assert_int_eq(getxattr(M("f"), "user.big", buf, 10), -1);
	ck_errno(errno, ERANGE);
	ck_assert_int_eq(getxattr(M("f"), "user.big", buf, sizeof(buf)), (ssize_t)sizeof(big));
	ck_assert(!memcmp(buf, big, sizeof(big)));
	n = listxattr(M("f"), buf, sizeof(buf));
	ck_assert_int_eq(n, (ssize_t)(sizeof("user.a") + sizeof("user.big")));
	ck_assert_int_eq(listxattr(M("f"), NULL, 0), n);
	ck_assert_int_eq(removexattr(M("f"), "user.a"), 0);
	ck_assert_int_eq(getxattr(M("f"), "user.a", buf, sizeof(buf)), -1);
	ck_errno(errno, ENODATA);
	ck_assert_int_eq(getxattr(L("f"), "user.a", buf, sizeof(buf)), -1);
	ck_assert_int_eq(removexattr(M("f"), "user.a"), -1);
	ck_errno(errno, ENODATA);
	/* a caller without write access cannot set user xattrs */
	ck_errno(XA(1000, X_SETXATTR, M("f"), NULL), EACCES);
}
END_TEST

START_TEST(posix_fsync_mmap)
{
	char buf[8192];
	char *p;
	int fd, i;

	for (i = 0; i < (int)sizeof(buf); i++)
		buf[i] = (char)('a' + i % 26);
	buf[sizeof(buf) - 1] = '\0';
	mkfile(L("m"), buf, 0644);
	pt_mount();
	fd = open(M("w"), O_CREAT | O_RDWR, 0644);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "synced", 6), 6);
	ck_assert_int_eq(fsync(fd), 0);
	ck_assert_int_eq(fdatasync(fd), 0);
	ck_assert_int_eq(syncfs(fd), 0);
	close(fd);
	slurp(L("w"), buf, sizeof(buf));
	ck_assert_str_eq(buf, "synced");

	fd = open(M("m"), O_RDWR);
	ck_assert_int_ge(fd, 0);
	p = mmap(NULL, 8191, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ck_assert_msg(p != MAP_FAILED, "mmap MAP_SHARED: %s", strerror(errno));
	ck_assert_int_eq(p[0], 'a');
	ck_assert_int_eq(p[5000], 'a' + 5000 % 26);
	memcpy(p + 4096, "MAPPED", 6);
	ck_assert_int_eq(msync(p, 8191, MS_SYNC), 0);
	munmap(p, 8191);
	close(fd);
	ck_assert_int_eq(slurp(L("m"), buf, sizeof(buf)), 8191);
	ck_assert(!memcmp(buf + 4096, "MAPPED", 6));
	ck_assert_int_eq(buf[4095], 'a' + 4095 % 26);

	/* a private mapping never reaches the file */
	fd = open(M("m"), O_RDONLY);
	p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	ck_assert(p != MAP_FAILED);
	memcpy(p, "PRIVATE", 7);
	munmap(p, 4096);
	close(fd);
	slurp(L("m"), buf, sizeof(buf));
	ck_assert_int_eq(buf[0], 'a');
}
END_TEST

/* Is process pid asleep (state S or D in /proc)? */
static int asleep(pid_t pid)
{
	char buf[256], *p;
	ssize_t n = slurp(P("/proc/%d/stat", (int)pid), buf, sizeof(buf));

	p = n > 0 ? strrchr(buf, ')') : NULL;
	return p && (p[2] == 'S' || p[2] == 'D');
}

START_TEST(posix_flock)
{
	char out[64], other[PATH_MAX];
	const char *cat[] = { "/bin/cat", other, NULL }, *ls[] = { "/bin/ls", W.mnt, NULL };
	int a, st, i;
	pid_t pid;

	mkfile(L("lock"), "", 0644);
	mkfile(L("other"), "o", 0644);
	snprintf(other, sizeof(other), "%s", M("other"));
	pt_mount();
	a = open(M("lock"), O_RDWR);
	ck_assert_int_ge(a, 0);
	ck_assert_int_eq(flock(a, LOCK_EX), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		int c;

		close(a); /* the lock stays with the parent's open file only */
		c = open(M("lock"), O_RDWR);
		alarm(30);
		_exit(c >= 0 && flock(c, LOCK_EX) == 0 && flock(c, LOCK_UN) == 0 ? 0 : 1);
	}
	for (i = 0; i < 500 && !asleep(pid); i++)
		usleep(10000);
	/* while one caller waits for the lock, the view answers the others */
	ck_assert_msg(run_cmd(cat, out, sizeof(out), 20000) == 0, "cat: %s", out);
	ck_assert_str_eq(out, "o");
	ck_assert_int_eq(run_cmd(ls, out, sizeof(out), 20000), 0);
	ck_assert_int_eq(flock(a, LOCK_EX | LOCK_NB), 0); /* still ours */
	ck_assert_int_eq(waitpid(pid, &st, WNOHANG), 0);   /* still waiting */
	ck_assert_int_eq(flock(a, LOCK_UN), 0);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	close(a);
}
END_TEST

START_TEST(posix_statfs)
{
	struct statfs v, l;

	pt_mount();
	ck_assert_int_eq(statfs(W.mnt, &v), 0);
	ck_assert_int_eq(statfs(W.lower, &l), 0);
	ck_assert_msg((unsigned long long)v.f_blocks * v.f_bsize == (unsigned long long)l.f_blocks * l.f_bsize,
		      "statfs: the view reports %llu bytes, the lower %llu",
		      (unsigned long long)v.f_blocks * v.f_bsize, (unsigned long long)l.f_blocks * l.f_bsize);
	ck_assert_int_eq(v.f_files, l.f_files);
	ck_assert_int_eq(v.f_namelen, 255);
}
END_TEST

START_TEST(posix_errors)
{
	struct stat st;
	char buf[64];
	int fd;

	mkfile(L("f"), "x", 0644);
	mkdirp(L("d/s"), 0755);
	ck_assert_int_eq(symlink("f", L("l")), 0);
	pt_mount();
	ck_errno(X(X_OPEN_EXCL, M("f"), NULL), EEXIST);
	ck_errno(X(X_MKDIR, M("d"), NULL), EEXIST);
	ck_errno(X(X_MKFIFO, M("f"), NULL), EEXIST);
	ck_errno(X(X_SYMLINK, M("f"), "y"), EEXIST);
	ck_errno(X(X_STAT, M("missing"), NULL), ENOENT);
	ck_errno(X(X_STAT, M("f/x"), NULL), ENOTDIR);
	ck_errno(X(X_OPEN_W, M("d"), NULL), EISDIR);
	ck_errno(X(X_UNLINK, M("d"), NULL), EISDIR);
	ck_errno(X(X_RMDIR, M("d"), NULL), ENOTEMPTY);
	ck_errno(X(X_RMDIR, M("f"), NULL), ENOTDIR);
	ck_errno(X(X_OPENDIR, M("f"), NULL), ENOTDIR);
	fd = open(M("l"), O_RDONLY | O_NOFOLLOW);
	ck_assert_int_eq(fd, -1);
	ck_errno(errno, ELOOP);
	ck_assert_int_eq(lstat(M("l"), &st), 0);
	ck_assert(S_ISLNK(st.st_mode));
	ck_assert_int_eq(st.st_size, 1);
	ck_assert_int_eq(readlink(M("l"), buf, sizeof(buf)), 1);
	ck_assert_int_eq(stat(M("l"), &st), 0);
	ck_assert(S_ISREG(st.st_mode));
	ck_errno(X(X_READLINK, M("f"), NULL), EINVAL);
	/* chmod and chown by root land on the lower */
	ck_assert_int_eq(chmod(M("f"), 04751), 0);
	ck_assert_int_eq(chown(M("f"), 1000, 1001), 0);
	ck_assert_int_eq(stat(L("f"), &st), 0);
	ck_assert_int_eq(st.st_uid, 1000);
	ck_assert_int_eq(st.st_gid, 1001);
	ck_assert_int_eq(st.st_mode & 07777, 0751); /* chown clears set-user-id */
	ck_errno(X(X_MKNOD, M("n"), NULL), 0);
	ck_assert_int_eq(stat(L("n"), &st), 0);
	ck_assert(S_ISREG(st.st_mode));
	ck_errno(X(X_MKFIFO, M("p"), NULL), 0);
	ck_assert_int_eq(lstat(L("p"), &st), 0);
	ck_assert(S_ISFIFO(st.st_mode));
}
END_TEST

TCase *tc_posix(void)
{
	TCase *tc = fs_tcase("posix", 90);

	tcase_add_test(tc, posix_permissions);
	tcase_add_test(tc, posix_ownership);
	tcase_add_test(tc, posix_rename);
	tcase_add_test(tc, posix_links);
	tcase_add_test(tc, posix_truncate);
	tcase_add_test(tc, posix_utimes);
	tcase_add_test(tc, posix_long_names_and_paths);
	tcase_add_test(tc, posix_readdir_many);
	tcase_add_test(tc, posix_append);
	tcase_add_test(tc, posix_sparse_seek);
	tcase_add_test(tc, posix_xattr);
	tcase_add_test(tc, posix_fsync_mmap);
	tcase_add_test(tc, posix_flock);
	tcase_add_test(tc, posix_statfs);
	tcase_add_test(tc, posix_errors);
	return tc;
}
