// SPDX-License-Identifier: GPL-2.0
/*
 * fbpf-load: the smallest loader for fbpf.ko, for testing the module on its
 * own (fbpf-run's kernel mode is the real one).
 *
 *   fbpf-load RULES.o LOWER MNT [-a ERRNO] [-t MS] [-n] [-r OTHER.o]
 *
 * Loads RULES.o with libbpf, fills its table map from section .fbpf,
 * attaches the struct_ops, opens /dev/fbpf, mounts, prints "ready" and then
 * answers every deferred operation with ERRNO (default 0: continue),
 * printing one "defer ..." line each. -n: read requests but never answer
 * them (to test timeouts). -r: on SIGUSR1, replace the policy with OTHER.o
 * through bpf_link__update_map(). SIGTERM/SIGINT: unmount and exit.
 *
 * Build: cc -O2 -I../../stdlib fbpf-load.c -lbpf -o fbpf-load
 */
#include <errno.h>
#include <elf.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpf/libbpf.h>
#include <bpf/bpf.h>

#include "fbpf_abi.h"

static volatile sig_atomic_t stop, reload;

static void on_signal(int sig)
{
	if (sig == SIGUSR1)
		reload = 1;
	else
		stop = 1;
}

/* Section .fbpf of an ELF64 object: metadata, strings, then table words. */
static void *read_meta(const char *path, size_t *len)
{
	Elf64_Ehdr *eh;
	Elf64_Shdr *sh;
	struct stat st;
	char *map, *names;
	void *out = NULL;
	int fd, i;

	fd = open(path, O_RDONLY);
	if (fd < 0 || fstat(fd, &st))
		return NULL;
	map = mmap(NULL, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (map == MAP_FAILED)
		return NULL;
	eh = (Elf64_Ehdr *)map;
	sh = (Elf64_Shdr *)(map + eh->e_shoff);
	names = map + sh[eh->e_shstrndx].sh_offset;
	for (i = 0; i < eh->e_shnum; i++) {
		if (strcmp(names + sh[i].sh_name, FBPF_META_SECTION))
			continue;
		out = malloc(sh[i].sh_size);
		if (out) {
			memcpy(out, map + sh[i].sh_offset, sh[i].sh_size);
			*len = sh[i].sh_size;
		}
		break;
	}
	munmap(map, st.st_size);
	return out;
}

struct policy {
	struct bpf_object *obj;
	struct bpf_map *ops;
	char name[FBPF_POLICY_NAME_MAX + 1];
};

static int load(const char *path, struct policy *p)
{
	const struct fbpf_meta *m;
	struct bpf_program *prog;
	struct bpf_map *map, *tab;
	size_t len = 0, rows, off;
	void *meta, *mem;
	int err;

	memset(p, 0, sizeof(*p));
	meta = read_meta(path, &len);
	if (!meta || len < sizeof(*m)) {
		fprintf(stderr, "fbpf-load: %s has no %s section\n", path, FBPF_META_SECTION);
		return -1;
	}
	m = meta;
	snprintf(p->name, sizeof(p->name), "%s", m->policy);
	off = sizeof(*m) + m->strtab_len;
	if (off + (size_t)m->tables_words * 4 > len) {
		fprintf(stderr, "fbpf-load: %s: truncated tables\n", path);
		return -1;
	}
	p->obj = bpf_object__open_file(path, NULL);
	if (!p->obj) {
		fprintf(stderr, "fbpf-load: cannot open %s: %s\n", path, strerror(errno));
		return -1;
	}
	bpf_object__for_each_program(prog, p->obj)
		if (bpf_program__type(prog) == BPF_PROG_TYPE_SYSCALL)
			bpf_program__set_autoload(prog, false);
	bpf_object__for_each_map(map, p->obj)
		if (bpf_map__type(map) == BPF_MAP_TYPE_STRUCT_OPS)
			p->ops = map;
	tab = bpf_object__find_map_by_name(p->obj, FBPF_MAP_TABLES);
	if (!tab || !p->ops) {
		fprintf(stderr, "fbpf-load: %s lacks the table or struct_ops map\n", path);
		return -1;
	}
	rows = (m->tables_words + FBPF_TAB_ROW_WORDS - 1) / FBPF_TAB_ROW_WORDS;
	if (!rows)
		rows = 1;
	bpf_map__set_max_entries(tab, rows);
	err = bpf_object__load(p->obj);
	if (err) {
		fprintf(stderr, "fbpf-load: loading %s failed: %s\n", path, strerror(-err));
		return -1;
	}
	mem = mmap(NULL, rows * sizeof(struct fbpf_tab_row), PROT_READ | PROT_WRITE,
		   MAP_SHARED, bpf_map__fd(tab), 0);
	if (mem == MAP_FAILED) {
		perror("fbpf-load: mmap tables");
		return -1;
	}
	memcpy(mem, (char *)meta + off, (size_t)m->tables_words * 4);
	munmap(mem, rows * sizeof(struct fbpf_tab_row));
	free(meta);
	return 0;
}

int main(int argc, char **argv)
{
	struct policy pol, other;
	struct bpf_link *link;
	const char *reload_path = NULL;
	unsigned int timeout = 0;
	int answer = 0, never = 0, chan, c;
	char opts[8192];

	while ((c = getopt(argc, argv, "a:t:nr:")) != -1) {
		switch (c) {
		case 'a': answer = atoi(optarg); break;
		case 't': timeout = strtoul(optarg, NULL, 0); break;
		case 'n': never = 1; break;
		case 'r': reload_path = optarg; break;
		default:
			fprintf(stderr, "usage: fbpf-load RULES.o LOWER MNT [-a ERRNO] [-t MS] [-n] [-r OTHER.o]\n");
			return 2;
		}
	}
	if (argc - optind != 3) {
		fprintf(stderr, "usage: fbpf-load RULES.o LOWER MNT [-a ERRNO] [-t MS] [-n] [-r OTHER.o]\n");
		return 2;
	}
	if (load(argv[optind], &pol))
		return 1;
	link = bpf_map__attach_struct_ops(pol.ops);
	if (!link) {
		fprintf(stderr, "fbpf-load: attaching policy %s failed: %s\n", pol.name, strerror(errno));
		return 1;
	}
	chan = open(FBPF_DEV_PATH, O_RDWR | O_CLOEXEC);
	if (chan < 0) {
		perror("fbpf-load: " FBPF_DEV_PATH);
		return 1;
	}
	snprintf(opts, sizeof(opts), "lowerdir=%s,ops=%s,fd=%d", argv[optind + 1], pol.name, chan);
	if (timeout)
		snprintf(opts + strlen(opts), sizeof(opts) - strlen(opts), ",defer_timeout_ms=%u", timeout);
	if (mount("none", argv[optind + 2], FBPF_FS_TYPE, 0, opts)) {
		fprintf(stderr, "fbpf-load: mount -o %s: %s\n", opts, strerror(errno));
		return 1;
	}
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	signal(SIGUSR1, on_signal);
	printf("ready %s\n", pol.name);
	fflush(stdout);

	while (!stop) {
		struct pollfd pfd = { .fd = chan, .events = POLLIN };
		struct fbpf_kreq req;
		struct fbpf_kresp resp;

		if (reload && reload_path) {
			reload = 0;
			if (!load(reload_path, &other)) {
				int err = bpf_link__update_map(link, other.ops);

				printf("reload %s: %s\n", other.name, err ? strerror(-err) : "ok");
				fflush(stdout);
			}
		}
		if (poll(&pfd, 1, 200) <= 0)
			continue;
		if (read(chan, &req, sizeof(req)) != sizeof(req))
			continue;
		printf("defer op=%u handler=%u rule=%u uid=%u path=%s\n", req.op, req.handler,
		       req.rule, req.uid, req.path);
		fflush(stdout);
		if (never)
			continue;
		memset(&resp, 0, sizeof(resp));
		resp.id = req.id;
		resp.err = answer;
		if (write(chan, &resp, sizeof(resp)) != sizeof(resp))
			perror("fbpf-load: answer");
	}
	if (umount2(argv[optind + 2], MNT_DETACH))
		perror("fbpf-load: umount");
	close(chan);
	bpf_link__destroy(link);
	return 0;
}
