// SPDX-License-Identifier: GPL-2.0
/* Load a policy's filters as the syscall program fbpf_test and run them. */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bpftest.h"

struct fbpf_bpftest {
	struct bpf_object *obj;
	int prog_fd;
	__u32 callbacks; /* FBPF_CB_BIT mask of the policy's filters */
};

static __thread char *log_buf;
static __thread size_t log_len, log_cap;

static int capture(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	char line[1024];
	int n;

	if (level == LIBBPF_DEBUG || !log_buf)
		return 0;
	n = vsnprintf(line, sizeof(line), fmt, ap);
	if (n < 0)
		return 0;
	if ((size_t)n >= sizeof(line))
		n = sizeof(line) - 1;
	/* keep the tail: the verifier's reason comes last */
	if (log_len + (size_t)n + 1 > log_cap) {
		size_t drop = log_len + (size_t)n + 1 - log_cap;

		if (drop > log_len)
			drop = log_len;
		memmove(log_buf, log_buf + drop, log_len - drop);
		log_len -= drop;
	}
	if ((size_t)n + 1 <= log_cap) {
		memcpy(log_buf + log_len, line, (size_t)n);
		log_len += (size_t)n;
		log_buf[log_len] = 0;
	}
	return 0;
}


int fbpf_bpftest_open(const char *path, const struct fbpf_object *o, struct fbpf_bpftest **out,
		      char *err, size_t errlen)
{
	struct fbpf_bpftest *t;
	struct bpf_program *prog;
	struct bpf_map *map, *tab;
	libbpf_print_fn_t old;
	char logbuf[4096];
	size_t rows, len;
	void *mem;
	int rc;

	*out = NULL;
	if (geteuid() != 0) {
		snprintf(err, errlen, "running BPF programs needs root (CAP_BPF and CAP_SYS_ADMIN)");
		return -EPERM;
	}
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	log_buf = logbuf;
	log_len = 0;
	log_cap = sizeof(logbuf);
	logbuf[0] = 0;
	old = libbpf_set_print(capture);
	t->obj = bpf_object__open_file(path, NULL);
	if (!t->obj) {
		rc = -errno;
		snprintf(err, errlen, "libbpf cannot open %s: %s", path, strerror(-rc));
		goto fail;
	}
	/* the struct_ops programs and map need the module; fbpf_test does not */
	bpf_object__for_each_program(prog, t->obj)
		if (bpf_program__type(prog) != BPF_PROG_TYPE_SYSCALL)
			bpf_program__set_autoload(prog, false);
	bpf_object__for_each_map(map, t->obj)
		if (bpf_map__type(map) == BPF_MAP_TYPE_STRUCT_OPS)
			bpf_map__set_autocreate(map, false);
	tab = bpf_object__find_map_by_name(t->obj, FBPF_MAP_TABLES);
	if (!tab) {
		rc = -ENOENT;
		snprintf(err, errlen, "%s has no %s map: it was not built by this fbpfc", path, FBPF_MAP_TABLES);
		goto fail;
	}
	rows = (o->nwords + FBPF_TAB_ROW_WORDS - 1) / FBPF_TAB_ROW_WORDS;
	bpf_map__set_max_entries(tab, (unsigned)(rows ? rows : 1));
	rc = bpf_object__load(t->obj);
	if (rc) {
		snprintf(err, errlen, "the kernel refused the BPF programs of %s (%s); libbpf said: %s",
			 path, strerror(-rc), logbuf);
		goto fail;
	}
	len = (rows ? rows : 1) * sizeof(struct fbpf_tab_row);
	mem = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, bpf_map__fd(tab), 0);
	if (mem == MAP_FAILED) {
		rc = -errno;
		snprintf(err, errlen, "cannot map the policy tables: %s", strerror(-rc));
		goto fail;
	}
	memcpy(mem, o->words, (size_t)o->nwords * 4);
	munmap(mem, len);
	prog = bpf_object__find_program_by_name(t->obj, FBPF_PROG_TEST);
	t->prog_fd = prog ? bpf_program__fd(prog) : -1;
	if (t->prog_fd < 0) {
		rc = -ENOENT;
		snprintf(err, errlen, "%s has no %s program: it was not built by this fbpfc", path, FBPF_PROG_TEST);
		goto fail;
	}
	t->callbacks = o->meta.callbacks;
	libbpf_set_print(old);
	log_buf = NULL;
	*out = t;
	return 0;
fail:
	libbpf_set_print(old);
	log_buf = NULL;
	bpf_object__close(t->obj);
	free(t);
	return rc;
}

int fbpf_bpftest_run(struct fbpf_bpftest *t, struct fbpf_args *args)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts, .ctx_in = args, .ctx_size_in = sizeof(*args));
	if (args->op >= FBPF_OP_COUNT || args->phase > 1)
		return -EINVAL;
	if (!(t->callbacks & FBPF_CB_BIT(args->op, args->phase)))
		return -ENOENT;
	if (bpf_prog_test_run_opts(t->prog_fd, &opts))
		return -errno;
	return (int)opts.retval;
}

void fbpf_bpftest_close(struct fbpf_bpftest *t)
{
	if (!t)
		return;
	bpf_object__close(t->obj);
	free(t);
}
