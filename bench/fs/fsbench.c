// SPDX-License-Identifier: GPL-2.0
/*
 * fsbench: filesystem workloads, timed, for comparing fbpf views with the
 * native lower filesystem (bench/fs/run.sh drives it; it runs in a busybox
 * guest too, so all the work is done here).
 *
 *   fsbench setup DIR              make the data set in DIR (about 300 MiB)
 *   fsbench run DIR CONFIG [REPS]  run every workload on DIR (a view of the
 *                                  data set, or the data set itself), REPS
 *                                  times each (default 3, at least 2);
 *                                  prints "CONFIG WORKLOAD WARM FIRST" per
 *                                  workload: the median of the repetitions
 *                                  after the first, and the first (on a
 *                                  fresh mount: caches cold for that view)
 *   fsbench report FILE            a markdown table of the lines in FILE,
 *                                  with ratios to the config "native"
 *   fsbench gen-policy N [FILE]    a policy of N rules (a realistic mix:
 *                                  mostly anchored paths, a few any-depth
 *                                  rules) that leaves the data set as it is
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#define NFILES 10000      /* files/: 10k files of 4 KiB */
#define NMISSING 10000    /* stats of names that do not exist */
#define NCREATE 5000      /* create+write+close+unlink */
#define BIG_MIB 256       /* big: one file read sequentially */
#define WALK_DIRS 200     /* walk/: 200 directories of 100 entries */
#define WALK_FILES 100

static const char *const workloads[] = {
	"stat-10k", "stat-missing-10k", "readdir-10k", "open-read-close-10k", "seq-read-256MiB",
	"create-write-unlink-5k", "lstat-walk-20k",
};
#define NWORK (sizeof(workloads) / sizeof(workloads[0]))

static void die(const char *fmt, const char *arg)
{
	fprintf(stderr, "fsbench: ");
	fprintf(stderr, fmt, arg, strerror(errno));
	fputc('\n', stderr);
	exit(1);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static char *path(const char *dir, const char *fmt, long a, long b)
{
	static char buf[4][PATH_MAX];
	static unsigned i;
	char rel[256];
	char *p = buf[i++ % 4];

	snprintf(rel, sizeof(rel), fmt, a, b);
	if (snprintf(p, PATH_MAX, "%s/%s", dir, rel) >= PATH_MAX)
		die("path too long under %s%s", dir);
	return p;
}

static void writefile(const char *p, const char *buf, size_t len)
{
	int fd = open(p, O_CREAT | O_WRONLY | O_TRUNC, 0644);

	if (fd < 0 || write(fd, buf, len) != (ssize_t)len || close(fd))
		die("cannot write %s: %s", p);
}

static int setup(const char *dir)
{
	static char block[1 << 20];
	long i, j;
	int fd;

	memset(block, 'x', sizeof(block));
	if (mkdir(path(dir, "files", 0, 0), 0755) && errno != EEXIST)
		die("cannot make %s/files: %s", dir);
	for (i = 0; i < NFILES; i++)
		writefile(path(dir, "files/f%05ld", i, 0), block, 4096);
	fd = open(path(dir, "big", 0, 0), O_CREAT | O_WRONLY | O_TRUNC, 0644);
	if (fd < 0)
		die("cannot make %s/big: %s", dir);
	for (i = 0; i < BIG_MIB; i++)
		if (write(fd, block, sizeof(block)) != (ssize_t)sizeof(block))
			die("cannot write %s/big: %s", dir);
	close(fd);
	mkdir(path(dir, "walk", 0, 0), 0755);
	for (i = 0; i < WALK_DIRS; i++) {
		if (mkdir(path(dir, "walk/d%03ld", i, 0), 0755) && errno != EEXIST)
			die("cannot make a directory in %s/walk: %s", dir);
		for (j = 0; j < WALK_FILES - 1; j++)
			writefile(path(dir, "walk/d%03ld/e%03ld", i, j), "", 0);
		symlink("e000", path(dir, "walk/d%03ld/link", i, 0));
	}
	mkdir(path(dir, "scratch", 0, 0), 0777);
	return 0;
}

/* ---- workloads ---------------------------------------------------------- */

static long walk(const char *p)
{
	DIR *d = opendir(p);
	struct dirent *de;
	struct stat st;
	long n = 0;

	if (!d)
		die("cannot list %s: %s", p);
	while ((de = readdir(d)) != NULL) {
		char sub[PATH_MAX];

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		snprintf(sub, sizeof(sub), "%s/%s", p, de->d_name);
		if (lstat(sub, &st))
			die("cannot lstat %s: %s", sub);
		n++;
		if (S_ISDIR(st.st_mode))
			n += walk(sub);
	}
	closedir(d);
	return n;
}

static double run_one(const char *dir, unsigned w)
{
	static char buf[1 << 20];
	struct stat st;
	double t0 = now();
	long i, n;
	int fd;

	switch (w) {
	case 0:
		for (i = 0; i < NFILES; i++)
			if (stat(path(dir, "files/f%05ld", i, 0), &st))
				die("cannot stat %s: %s", path(dir, "files/f%05ld", i, 0));
		break;
	case 1:
		for (i = 0; i < NMISSING; i++)
			if (stat(path(dir, "files/missing%05ld", i, 0), &st) == 0 || errno != ENOENT)
				die("a missing name in %s answered otherwise%s", dir);
		break;
	case 2: {
		DIR *d = opendir(path(dir, "files", 0, 0));

		if (!d)
			die("cannot list %s/files: %s", dir);
		for (n = 0; readdir(d);)
			n++;
		closedir(d);
		if (n != NFILES + 2)
			die("%s/files does not list 10,000 entries%s", dir);
		break;
	}
	case 3:
		for (i = 0; i < NFILES; i++) {
			fd = open(path(dir, "files/f%05ld", i, 0), O_RDONLY);
			if (fd < 0 || read(fd, buf, 4096) != 4096)
				die("cannot read %s: %s", path(dir, "files/f%05ld", i, 0));
			close(fd);
		}
		break;
	case 4: {
		ssize_t r;
		long long total = 0;

		fd = open(path(dir, "big", 0, 0), O_RDONLY);
		if (fd < 0)
			die("cannot open %s/big: %s", dir);
		while ((r = read(fd, buf, sizeof(buf))) > 0)
			total += r;
		close(fd);
		if (total != (long long)BIG_MIB << 20)
			die("%s/big is short%s", dir);
		break;
	}
	case 5:
		for (i = 0; i < NCREATE; i++) {
			char *p = path(dir, "scratch/n%05ld", i, 0);

			fd = open(p, O_CREAT | O_WRONLY | O_TRUNC, 0644);
			if (fd < 0 || write(fd, buf, 4096) != 4096 || close(fd) || unlink(p))
				die("cannot create, write and remove %s: %s", p);
		}
		break;
	case 6:
		n = walk(path(dir, "walk", 0, 0));
		if (n != WALK_DIRS * (WALK_FILES + 1))
			die("the walk of %s/walk found another number of entries%s", dir);
		break;
	}
	return now() - t0;
}

static int cmpd(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *t, int n)
{
	qsort(t, (size_t)n, sizeof(t[0]), cmpd);
	return n % 2 ? t[n / 2] : (t[n / 2 - 1] + t[n / 2]) / 2;
}

static int run(const char *dir, const char *config, int reps)
{
	double t[16], first, warm;
	unsigned w;
	int r, n;

	if (reps < 2 || reps > 15)
		reps = 3;
	for (w = 0; w < NWORK; w++) {
		first = run_one(dir, w);
		for (r = 1; r < reps; r++)
			t[r - 1] = run_one(dir, w);
		n = reps - 1;
		warm = median(t, n);
		printf("%s %s %.6f %.6f\n", config, workloads[w], warm, first);
		fflush(stdout);
	}
	return 0;
}

/* ---- the table ---------------------------------------------------------- */

#define MAXCONF 16
#define MAXROUND 15
static char configs[MAXCONF][64];
static double vals[2][MAXCONF][NWORK];          /* the median over the rounds, or -1 */
static double samples[2][MAXCONF][NWORK][MAXROUND];
static int nsamples[2][MAXCONF][NWORK];
static int nconf;

static void table(int k, const char *title)
{
	int i, native = -1;
	unsigned w;

	for (i = 0; i < nconf; i++)
		if (!strcmp(configs[i], "native"))
			native = i;
	printf("%s\n\n| workload |", title);
	for (i = 0; i < nconf; i++)
		printf(" %s |", configs[i]);
	printf("\n|---|");
	for (i = 0; i < nconf; i++)
		printf("---:|");
	printf("\n");
	for (w = 0; w < NWORK; w++) {
		printf("| %s |", workloads[w]);
		for (i = 0; i < nconf; i++) {
			double v = vals[k][i][w], n = native >= 0 ? vals[k][native][w] : -1;

			if (v < 0)
				printf(" - |");
			else if (i != native && n > 0)
				printf(" %.3f s (%.1fx) |", v, v / n);
			else
				printf(" %.3f s |", v);
		}
		printf("\n");
	}
	printf("\n");
}

static int report(const char *file)
{
	char c[64], wname[64];
	double warm, first;
	unsigned w;
	int i, k;
	FILE *f = fopen(file, "r");

	if (!f)
		die("cannot read %s: %s", file);
	while (fscanf(f, "%63s %63s %lf %lf", c, wname, &warm, &first) == 4) {
		for (i = 0; i < nconf && strcmp(configs[i], c); i++)
			;
		if (i == nconf) {
			if (nconf == MAXCONF)
				continue;
			snprintf(configs[nconf++], sizeof(configs[0]), "%s", c);
		}
		for (w = 0; w < NWORK && strcmp(workloads[w], wname); w++)
			;
		/* one line per round (run.sh ROUNDS) */
		for (k = 0; k < 2 && w < NWORK; k++)
			if (nsamples[k][i][w] < MAXROUND)
				samples[k][i][w][nsamples[k][i][w]++] = k ? first : warm;
	}
	fclose(f);
	for (k = 0; k < 2; k++)
		for (i = 0; i < MAXCONF; i++)
			for (w = 0; w < NWORK; w++)
				vals[k][i][w] = nsamples[k][i][w] ? median(samples[k][i][w], nsamples[k][i][w]) : -1;
	table(0, "Warm: the median of the repetitions after the first (the kernel's caches of the view are filled).");
	table(1, "First run on a fresh mount (cold caches of the view; native tmpfs is always warm).");
	printf("(Nx) is the ratio to native, measured in the same run. A '-' is a workload that failed.\n");
	return 0;
}

/* ---- a large policy ----------------------------------------------------- */

static int gen_policy(long n, const char *file)
{
	static const char *const exts[] = { "tmp", "part", "crdownload", "swp", "bak" };
	FILE *f = file ? fopen(file, "w") : stdout;
	long i;

	if (!f)
		die("cannot write %s: %s", file);
	fprintf(f, "# %ld rules, generated by fsbench gen-policy: mostly anchored paths, a few any-depth\n", n);
	fprintf(f, "# rules. None of them changes the benchmark's data set (files/, big, walk/, scratch/).\n");
	fprintf(f, "policy bench%ld\n", n);
	for (i = 0; i < n; i++) {
		switch (i % 20) {
		case 0:
			if (i / 20 % 10 == 0) {
				fprintf(f, "hide \"**/.thumbnails%ld\"\n", i);
				break;
			}
			/* fall through */
		case 1: case 2: case 3: case 4:
			fprintf(f, "hide \"/Android/data/com.app%ld{,/**}\" unless uid == owner or uid == 0\n", i);
			break;
		case 5: case 6: case 7:
			fprintf(f, "deny write \"/archive/%ld/**\" with EROFS\n", i);
			break;
		case 8: case 9:
			fprintf(f, "deny create, rename \"/incoming/u%ld/*.%s\" with EPERM unless gid == %ld\n", i,
				exts[i % 5], 1000 + i);
			break;
		case 10: case 11: case 12:
			fprintf(f, "attr \"/shared/g%ld/**\" { uid = %ld; mode &= 0750 }\n", i, 10000 + i);
			break;
		case 13:
			if (i / 20 % 10 == 1) {
				fprintf(f, "deny write \"**/lock%ld.pid\" with EBUSY\n", i);
				break;
			}
			/* fall through */
		case 14: case 15:
			fprintf(f, "hide \"/home/user%ld/.cache/*\"\n", i);
			break;
		case 16:
			fprintf(f, "defer open \"/secure/vault%ld/**\" to \"audit\"\n", i);
			break;
		case 17:
			fprintf(f, "deny readdir \"/private/p%ld\"\n", i);
			break;
		default:
			fprintf(f, "hide \"/DCIM/Camera/IMG_%05ld.tmp\"\n", i);
			break;
		}
	}
	if (file && fclose(f))
		die("cannot write %s: %s", file);
	return 0;
}

static void usage(void)
{
	fprintf(stderr, "usage: fsbench setup DIR | run DIR CONFIG [REPS] | report FILE | gen-policy N [FILE]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	if (argc >= 3 && !strcmp(argv[1], "setup"))
		return setup(argv[2]);
	if (argc >= 4 && !strcmp(argv[1], "run"))
		return run(argv[2], argv[3], argc > 4 ? atoi(argv[4]) : 3);
	if (argc >= 3 && !strcmp(argv[1], "report"))
		return report(argv[2]);
	if (argc >= 3 && !strcmp(argv[1], "gen-policy")) {
		long n = strtol(argv[2], NULL, 10);

		if (n < 1 || n > 65535) {
			fprintf(stderr, "fsbench: the number of rules must be 1 to 65535, not %s\n", argv[2]);
			return 2;
		}
		return gen_policy(n, argc > 3 ? argv[3] : NULL);
	}
	usage();
	return 2;
}
