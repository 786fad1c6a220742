// SPDX-License-Identifier: GPL-2.0
/*
 * fbpfc: the fbpf policy compiler.
 *
 * The pipeline, in order (compile runs all of it; check stops before the
 * backend):
 *   read source -> lexer.l/parser.y (AST, ast.h) -> sema.c (checks)
 *   -> glob.c/dfa.c (one automaton for all patterns) -> lower.c (tables)
 *   -> backend.c (BPF C + .fbpf section) -> driver.c (clang) -> rules.o
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"

static const char usage[] =
	"usage: fbpfc COMMAND [ARGS]\n"
	"\n"
	"commands:\n"
	"  compile RULES.fbp -o RULES.o   compile a policy into a BPF struct_ops object\n"
	"  check RULES.fbp                report errors and likely mistakes, build nothing\n"
	"  explain RULES.o PATH           say which rule decides an operation on PATH, and how\n"
	"  dump RULES.o                   show the generated BPF C and the compiled tables\n"
	"\n"
	"'fbpfc COMMAND --help' describes each command. The language: docs/language.md.\n";

struct policy *load_policy(const char *path, struct diag *d, char **source, int json)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
	char *buf = NULL;
	size_t len = 0, cap = 0, n, i;
	struct policy *p;

	*source = NULL;
	if (!f) {
		diag_init(d, path, NULL, stderr);
		d->json = json;
		diag_plain(d, "cannot open %s: %s", path, strerror(errno));
		return NULL;
	}
	for (;;) {
		if (len + 1 >= cap) {
			char *nb;

			cap = cap ? cap * 2 : 65536;
			nb = cap > (256u << 20) ? NULL : realloc(buf, cap);
			if (!nb) {
				free(buf);
				if (f != stdin)
					fclose(f);
				diag_init(d, path, NULL, stderr);
				d->json = json;
				diag_plain(d, "%s is too large for a policy (over 256 MiB)", path);
				return NULL;
			}
			buf = nb;
		}
		n = fread(buf + len, 1, cap - len - 1, f);
		len += n;
		if (n == 0)
			break;
	}
	if (f != stdin)
		fclose(f);
	buf[len] = 0;
	diag_init(d, path, buf, stderr);
	d->json = json;
	d->color = !json && isatty(2);
	for (i = 0; i < len; i++) {
		if (buf[i] == 0) {
			struct loc l = { 1, 1, 1 };
			size_t j;

			for (j = 0; j < i; j++) {
				if (buf[j] == '\n') {
					l.line++;
					l.col = 1;
				} else {
					l.col++;
				}
			}
			buf[i] = ' '; /* so the line can be shown */
			diag_error(d, l, "the policy contains a NUL byte; policies are text");
			buf[i] = 0;
			*source = buf;
			return NULL;
		}
	}
	*source = buf;
	p = parse_policy(path, buf, d);
	if (p && !d->errors)
		sema_check(p, d);
	return p;
}

int parse_u32(const char *s, unsigned *out)
{
	char *end;
	unsigned long v;

	if (!s || !*s || *s == '-')
		return -1;
	errno = 0;
	v = strtoul(s, &end, 0);
	if (errno || *end || v > 0xffffffffUL)
		return -1;
	*out = (unsigned)v;
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		fputs(usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("fbpfc 0.1.0 (fbpf ABI 1)\n");
		return 0;
	}
	if (!strcmp(argv[1], "compile"))
		return cmd_compile(argc - 1, argv + 1);
	if (!strcmp(argv[1], "check"))
		return cmd_check(argc - 1, argv + 1);
	if (!strcmp(argv[1], "explain"))
		return cmd_explain(argc - 1, argv + 1);
	if (!strcmp(argv[1], "dump"))
		return cmd_dump(argc - 1, argv + 1);
	{
		static const char *const cmds[] = { "compile", "check", "explain", "dump", NULL };
		const char *near = did_you_mean(argv[1], cmds);

		fprintf(stderr, "fbpfc: unknown command '%s'", argv[1]);
		if (near)
			fprintf(stderr, "; did you mean '%s'?", near);
		fprintf(stderr, "\n%s", usage);
	}
	return 2;
}
