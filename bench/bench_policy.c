// SPDX-License-Identifier: GPL-2.0
/*
 * Compiler and evaluator benchmark.
 *
 *   compile: wall time of `fbpfc compile` (front end, automaton, lowering,
 *            clang) for generated policies of 10, 1,000 and 10,000 rules;
 *   eval:    time per filter call of the native evaluator (the same code as
 *            the BPF filters) for 1 and 1,000 rules on the same requests,
 *            best of several rounds; and, as root, of the BPF programs run
 *            through BPF_PROG_TEST_RUN (dominated by the syscall).
 *
 * Usage: bench_policy FBPFC [--quick]. Prints a Markdown table.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bpftest.h"
#include "eval.h"
#include "object.h"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A realistic policy of n rules: per-app private data, per-user rules,
 * read-only trees, attribute views, a few renames and unanchored rules. */
static void gen_policy(const char *path, int n)
{
	FILE *f = fopen(path, "w");
	int i;

	if (!f) {
		perror(path);
		exit(1);
	}
	fprintf(f, "policy bench%d\n", n);
	for (i = 0; i < n; i++) {
		switch (i % 10) {
		case 0: case 1: case 2:
			fprintf(f, "hide \"/Android/data/com.app%d/**\" unless uid == %d or uid == 0\n", i, 10000 + i);
			break;
		case 3:
			fprintf(f, "deny write \"/home/u%d/ro/**\" with EROFS unless gid in (1023, 9997)\n", i);
			break;
		case 4:
			fprintf(f, "attr \"/srv/{a,b}/d%d/**\" { uid = %d; mode &= 0750 }\n", i, 1000 + i);
			break;
		case 5:
			fprintf(f, "deny create,delete \"/data/app%d/*.lock\" with EPERM\n", i);
			break;
		case 6:
			fprintf(f, "defer open \"/secure/s%d/**\" to \"authz\"\n", i);
			break;
		case 7:
			if (i % 100 == 7)
				fprintf(f, "hide \"**/.cache%d\"\n", i);
			else
				fprintf(f, "hide \"/tmp/t%d/x?[0-9]*\"\n", i);
			break;
		case 8:
			fprintf(f, "rename \"/legacy/l%d/*.jpeg\" ext \".jpeg\" to \".jpg\"\n", i);
			break;
		default:
			fprintf(f, "deny all \"/media/m%d/private/**\" with EACCES when uid != 0\n", i);
			break;
		}
	}
	fclose(f);
}

static double compile(const char *fbpfc, const char *src, const char *obj)
{
	double t0 = now();
	pid_t pid = fork();
	int st;

	if (pid == 0) {
		execl(fbpfc, fbpfc, "compile", src, "-o", obj, (char *)NULL);
		_exit(127);
	}
	waitpid(pid, &st, 0);
	if (!WIFEXITED(st) || WEXITSTATUS(st)) {
		fprintf(stderr, "bench: fbpfc failed on %s\n", src);
		exit(1);
	}
	return now() - t0;
}

#define NREQ 64

/* The requests: a walk down /Android/data/com.app0/files/, lookups, readdir
 * entries, getattr and write checks. */
static void make_requests(const struct fbpf_object *o, struct fbpf_args *req)
{
	static const char *const path[] = { "Android", "data", "com.app0", "files", "photo.jpeg" };
	unsigned long long st = FBPF_STATE_ROOT;
	unsigned i;

	for (i = 0; i < NREQ; i++) {
		struct fbpf_args *a = &req[i];
		const char *nm = path[i % 5];

		memset(a, 0, sizeof(*a));
		a->uid = 10000;
		a->gid = 10000;
		a->flags = FBPF_IN_ENTRY;
		a->e_mode = 0100644;
		a->e_uid = 10000;
		a->dir_state = st;
		a->name_len = (unsigned)strlen(nm);
		memcpy(a->name, nm, a->name_len);
		switch (i % 4) {
		case 0: a->op = FBPF_OP_LOOKUP; a->phase = FBPF_PRE; break;
		case 1: a->op = FBPF_OP_READDIR; a->phase = FBPF_POST; break;
		case 2: a->op = FBPF_OP_LOOKUP; a->phase = FBPF_POST; a->name_len = 0; break;
		default: a->op = FBPF_OP_WRITE; a->phase = FBPF_PRE; break;
		}
		if (i % 5 == 4) {
			st = FBPF_STATE_ROOT;
		} else {
			struct fbpf_args l = *a;

			l.op = FBPF_OP_LOOKUP;
			l.phase = FBPF_PRE;
			l.name_len = (unsigned)strlen(nm);
			fbpf_eval(o, &l);
			st = l.state;
		}
	}
}

static double eval_ns(const struct fbpf_object *o, int rounds, int iters)
{
	struct fbpf_args req[NREQ], a;
	double best = 1e9;
	int r, i;
	volatile int sink = 0;

	make_requests(o, req);
	for (r = 0; r < rounds; r++) {
		double t0 = now();

		for (i = 0; i < iters; i++) {
			a = req[i % NREQ];
			sink += fbpf_eval(o, &a);
		}
		t0 = (now() - t0) * 1e9 / iters;
		if (t0 < best)
			best = t0;
	}
	(void)sink;
	return best;
}

static double bpf_ns(const char *obj, const struct fbpf_object *o, int iters)
{
	struct fbpf_bpftest *t;
	struct fbpf_args req[NREQ], a;
	char err[4096];
	double t0;
	int i;

	if (geteuid() != 0 || fbpf_bpftest_open(obj, o, &t, err, sizeof(err)))
		return -1;
	make_requests(o, req);
	t0 = now();
	for (i = 0; i < iters; i++) {
		a = req[i % NREQ];
		fbpf_bpftest_run(t, &a);
	}
	t0 = (now() - t0) * 1e9 / iters;
	fbpf_bpftest_close(t);
	return t0;
}

int main(int argc, char **argv)
{
	static const int sizes[] = { 10, 1000, 10000 };
	char dir[] = "/tmp/fbpf-bench.XXXXXX", src[128], obj[128], obj1[128], obj10[128], obj1000[128], err[4096];
	int quick = argc > 2 && !strcmp(argv[2], "--quick");
	int rounds = quick ? 3 : 9, iters = quick ? 200000 : 1000000;
	struct fbpf_object *o1, *o10, *o1000;
	double e1, e10, e1000, b1, b10, b1000;
	size_t i;

	if (argc < 2) {
		fprintf(stderr, "usage: bench_policy FBPFC [--quick]\n");
		return 2;
	}
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	printf("## fbpfc compile time (wall clock, clang included)\n\n");
	printf("| rules | seconds | states (anchored + \"**\"-led) | table words | target |\n|---:|---:|---:|---:|---|\n");
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		struct fbpf_object *o;
		double t;

		snprintf(src, sizeof(src), "%s/p%d.fbp", dir, sizes[i]);
		snprintf(obj, sizeof(obj), "%s/p%d.o", dir, sizes[i]);
		gen_policy(src, sizes[i]);
		t = compile(argv[1], src, obj);
		if (fbpf_object_read(obj, &o, err, sizeof(err))) {
			fprintf(stderr, "bench: %s\n", err);
			return 1;
		}
		printf("| %d | %.3f | %u + %u | %u | %s |\n", sizes[i], t, o->words[FBPF_T_D(0, FBPF_D_NSTATES)],
		       o->words[FBPF_T_D(1, FBPF_D_NSTATES)], o->nwords,
		       sizes[i] == 1000 ? "< 1 s" : sizes[i] == 10000 ? "< 5 s" : "");
		fbpf_object_free(o);
	}
	snprintf(src, sizeof(src), "%s/one.fbp", dir);
	snprintf(obj1, sizeof(obj1), "%s/one.o", dir);
	gen_policy(src, 1);
	compile(argv[1], src, obj1);
	snprintf(obj10, sizeof(obj10), "%s/p10.o", dir);
	snprintf(obj1000, sizeof(obj1000), "%s/p1000.o", dir);
	if (fbpf_object_read(obj1, &o1, err, sizeof(err)) || fbpf_object_read(obj10, &o10, err, sizeof(err)) ||
	    fbpf_object_read(obj1000, &o1000, err, sizeof(err))) {
		fprintf(stderr, "bench: %s\n", err);
		return 1;
	}
	e1 = eval_ns(o1, rounds, iters);
	e10 = eval_ns(o10, rounds, iters);
	e1000 = eval_ns(o1000, rounds, iters);
	b1 = bpf_ns(obj1, o1, iters / 10);
	b10 = bpf_ns(obj10, o10, iters / 10);
	b1000 = bpf_ns(obj1000, o1000, iters / 10);
	printf("\n## evaluator time per filter call (same %d requests, best of %d rounds)\n\n", NREQ, rounds);
	printf("The 1-rule policy has one anchored pattern and no rename; from 10 rules on, a policy\n"
	       "has both automata (anchored and \"**\"-led patterns) and a rename transform.\n\n");
	printf("| engine | 1 rule (ns) | 10 rules (ns) | 1,000 rules (ns) | 1,000 vs 1 | 1,000 vs 10 |\n"
	       "|---|---:|---:|---:|---:|---:|\n");
	printf("| native | %.1f | %.1f | %.1f | %.2fx | %.2fx |\n", e1, e10, e1000, e1 / e1000, e10 / e1000);
	if (b1 > 0 && b10 > 0 && b1000 > 0)
		printf("| BPF (BPF_PROG_TEST_RUN, syscall included) | %.1f | %.1f | %.1f | %.2fx | %.2fx |\n",
		       b1, b10, b1000, b1 / b1000, b10 / b1000);
	else
		printf("| BPF | not run (needs root) | | | | |\n");
	fbpf_object_free(o10);
	fbpf_object_free(o1);
	fbpf_object_free(o1000);
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		snprintf(src, sizeof(src), "%s/p%d.fbp", dir, sizes[i]);
		unlink(src);
		snprintf(src, sizeof(src), "%s/p%d.o", dir, sizes[i]);
		unlink(src);
	}
	snprintf(src, sizeof(src), "%s/one.fbp", dir);
	unlink(src);
	unlink(obj1);
	rmdir(dir);
	return 0;
}
