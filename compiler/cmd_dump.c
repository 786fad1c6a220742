// SPDX-License-Identifier: GPL-2.0
/* fbpfc dump RULES.o: the generated C and the compiled tables, readable. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "backend.h"
#include "commands.h"
#include "object.h"

static const char help[] =
	"usage: fbpfc dump RULES.o [--c | --tables] [--states N] [--json]\n"
	"\n"
	"Show what a compiled policy holds: its metadata, the generated BPF C, the rules\n"
	"with their condition programs, the rename transforms, the handlers, and the\n"
	"automaton (the transitions of the first N states, default 64).\n"
	"\n"
	"  --c        only the generated C\n"
	"  --tables   only the tables\n"
	"  --json     metadata, rules, transforms and sizes as one JSON object\n";

#define W(i) ((uint32_t)(i) < o->nwords ? o->words[(uint32_t)(i)] : 0u)

static void pool_str(const struct fbpf_object *o, uint32_t off, uint32_t len, char *buf, size_t cap)
{
	uint32_t i;
	size_t n = 0;

	for (i = 0; i < len && n + 5 < cap; i++) {
		uint32_t b = off + i, w = W(W(FBPF_T_STRINGS) + b / 4);
		unsigned char ch = (unsigned char)(w >> ((b % 4) * 8));

		n += (size_t)snprintf(buf + n, cap - n, ch >= 0x20 && ch < 0x7f && ch != '"' && ch != '\\' ? "%c" : "\\x%02x", ch);
	}
	buf[n] = 0;
}

static void print_cond(FILE *f, const struct fbpf_object *o, uint32_t off)
{
	uint32_t n = W(off), i, j;

	if (!off) {
		fprintf(f, "always");
		return;
	}
	for (i = 0; i < n && i < FBPF_COND_MAX; i++) {
		uint32_t w0 = W(off + 1 + i * 2), w1 = W(off + 2 + i * 2);

		if (i)
			fputc(' ', f);
		switch (w0 & 0xff) {
		case FBPF_C_CMP:
			fprintf(f, "[%s %s ", field_name((int)((w0 >> 8) & 0xff)), cmp_name((int)((w0 >> 16) & 0xff)));
			if ((w0 >> 24) == FBPF_RHS_FIELD)
				fprintf(f, "%s]", field_name((int)w1));
			else
				fprintf(f, "%u]", w1);
			break;
		case FBPF_C_IN:
			fprintf(f, "[%s in", field_name((int)((w0 >> 8) & 0xff)));
			for (j = 0; j < W(w1) && j < FBPF_SET_MAX; j++)
				fprintf(f, " %u", W(w1 + 1 + j));
			fprintf(f, "]");
			break;
		case FBPF_C_AND: fprintf(f, "AND"); break;
		case FBPF_C_OR: fprintf(f, "OR"); break;
		case FBPF_C_NOT: fprintf(f, "NOT"); break;
		default: fprintf(f, "?%u", w0); break;
		}
	}
}

/* Automaton k, state by state: hit lists and the transitions that differ
 * from the state's default, as byte ranges. */
static void print_automaton(const struct fbpf_object *o, uint32_t k, int max_states)
{
	uint32_t ns = W(FBPF_T_D(k, FBPF_D_NSTATES)), r, s, b;
	uint32_t base = W(FBPF_T_D(k, FBPF_D_BASE)), cls = W(FBPF_T_D(k, FBPF_D_CLASSMAP));
	uint32_t ncomb = W(FBPF_T_D(k, FBPF_D_NCOMB)), check = W(FBPF_T_D(k, FBPF_D_CHECK));
	uint32_t next = W(FBPF_T_D(k, FBPF_D_NEXT));

	printf("\nautomaton %u, %s patterns (state 0 is dead, 1 is the root; '.' = every other byte):\n", k,
	       k ? "\"**\"-led" : "anchored");
	for (s = 1; s < ns && (int)s <= max_states; s++) {
		uint32_t hits = W(W(FBPF_T_D(k, FBPF_D_HITS)) + s), def = W(W(FBPF_T_D(k, FBPF_D_DEFAULT)) + s);

		printf("  state %u:", s);
		if (hits) {
			printf(" matches rules");
			for (r = 0; r < W(hits) && r < FBPF_HITS_MAX; r++)
				printf(" %u", W(hits + 1 + r));
			printf(";");
		}
		for (b = 0; b < 256; b++) {
			uint32_t i = (W(base + s) & ~FBPF_BASE_SKIP) + W(cls + b), t = def, e;

			if (i < ncomb && W(check + i) == s)
				t = W(next + i);
			if (t == def)
				continue;
			for (e = b; e + 1 < 256; e++) {
				uint32_t j = (W(base + s) & ~FBPF_BASE_SKIP) + W(cls + e + 1), t2 = def;

				if (j < ncomb && W(check + j) == s)
					t2 = W(next + j);
				if (t2 != t)
					break;
			}
			if (e == b)
				printf(b > 0x20 && b < 0x7f ? " '%c'->%u" : " 0x%02x->%u", b, t);
			else
				printf(" [0x%02x-0x%02x]->%u", b, e, t);
			b = e;
		}
		printf(" .->%u\n", def);
	}
	if ((int)ns > max_states + 1)
		printf("  ... %u more states (--states N shows more)\n", ns - 1 - (uint32_t)max_states);
}

static void print_tables(const struct fbpf_object *o, int max_states)
{
	uint32_t nr = W(FBPF_T_NRULES), nx = W(FBPF_T_NXFORMS);
	uint32_t r, c, x, k;
	char src[1024], s1[300], s2[300];

	printf("tables: %u words (%u bytes): %u rules, %u transforms\n", o->nwords, o->nwords * 4, nr, nx);
	for (k = 0; k < FBPF_NDFA; k++)
		printf("  automaton %u (%s patterns): %u states, %u byte classes, %u comb slots\n", k,
		       k ? "\"**\"-led" : "anchored", W(FBPF_T_D(k, FBPF_D_NSTATES)),
		       W(FBPF_T_D(k, FBPF_D_NCLASSES)), W(FBPF_T_D(k, FBPF_D_NCOMB)));
	printf("\nrules:\n");
	for (r = 1; r <= nr; r++) {
		uint32_t at = W(FBPF_T_RULES) + (r - 1) * FBPF_RULE_WORDS;
		uint32_t kind = W(at + FBPF_RW_KIND), ops = W(at + FBPF_RW_OPS), line = W(at + FBPF_RW_LINE);

		printf("  %3u  line %-4u %-6s ops=", r, line, rule_kind_name((int)kind));
		if (ops == FBPF_OPMASK_ALL) {
			printf("all");
		} else {
			int first = 1;

			for (c = 0; c < FBPF_OP_COUNT; c++)
				if (ops & (1u << c)) {
					printf("%s%s", first ? "" : ",", op_name((int)c));
					first = 0;
				}
		}
		switch (kind) {
		case FBPF_R_DENY: printf(" errno=%s", errno_name((int)W(at + FBPF_RW_A0)) ? errno_name((int)W(at + FBPF_RW_A0)) : "?"); break;
		case FBPF_R_DEFER: printf(" handler=%s", W(at + FBPF_RW_A0) < o->meta.nhandlers ? o->handlers[W(at + FBPF_RW_A0)] : "?"); break;
		case FBPF_R_RENAME: printf(" transform=%u", W(at + FBPF_RW_A0)); break;
		case FBPF_R_ATTR:
			printf(" set=%u uid=%u gid=%u mode&=%04o mode|=%04o", W(at + FBPF_RW_A0), W(at + FBPF_RW_A1),
			       W(at + FBPF_RW_A2), W(at + FBPF_RW_A3), W(at + FBPF_RW_A4));
			break;
		default: break;
		}
		printf("\n         when ");
		print_cond(stdout, o, W(at + FBPF_RW_COND));
		if (fbpf_object_source_line(o, line, src, sizeof(src)))
			printf("\n         source: %s", src + strspn(src, " \t"));
		printf("\n");
	}
	if (nx) {
		printf("\ntransforms:\n");
		for (x = 0; x < nx && x < FBPF_XFORM_MAX; x++) {
			uint32_t at = W(FBPF_T_XFORMS) + x * FBPF_XFORM_WORDS;

			pool_str(o, W(at + FBPF_XW_S1), W(at + FBPF_XW_L1), s1, sizeof(s1));
			pool_str(o, W(at + FBPF_XW_S2), W(at + FBPF_XW_L2), s2, sizeof(s2));
			switch (W(at + FBPF_XW_KIND)) {
			case FBPF_X_SUFFIX: printf("  %u  suffix \"%s\"\n", x, s1); break;
			case FBPF_X_PREFIX: printf("  %u  prefix \"%s\"\n", x, s1); break;
			case FBPF_X_EXT: printf("  %u  ext \"%s\" to \"%s\"\n", x, s1, s2); break;
			default: printf("  %u  ?\n", x); break;
			}
		}
	}
	if (o->meta.nhandlers) {
		printf("\nhandlers:\n");
		for (x = 0; x < o->meta.nhandlers; x++)
			printf("  %u  %s\n", x, o->handlers[x]);
	}
	for (k = 0; k < FBPF_NDFA; k++)
		print_automaton(o, k, max_states);
}

int cmd_dump(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "c", no_argument, NULL, 'c' }, { "tables", no_argument, NULL, 't' },
		{ "states", required_argument, NULL, 's' }, { "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' }, { 0 } };
	struct fbpf_object *o;
	char err[1024];
	int c, only_c = 0, only_t = 0, json = 0, op, ph;
	unsigned max_states = 64;
	uint32_t r;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'c': only_c = 1; break;
		case 't': only_t = 1; break;
		case 's':
			if (parse_u32(optarg, &max_states)) {
				fprintf(stderr, "fbpfc dump: '%s' is not a number\n", optarg);
				return 2;
			}
			break;
		case 'j': json = 1; break;
		case 'h': fputs(help, stdout); return 0;
		default: fputs(help, stderr); return 2;
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, "fbpfc dump: give one compiled policy\n%s", help);
		return 2;
	}
	if (fbpf_object_read(argv[optind], &o, err, sizeof(err))) {
		fprintf(stderr, "fbpfc dump: %s\n", err);
		return 1;
	}
	if (json) {
		printf("{\"policy\":");
		fbpf_json_string(stdout, o->meta.policy);
		printf(",\"abi\":%u,\"source_file\":", o->meta.abi);
		fbpf_json_string(stdout, o->file);
		printf(",\"filters\":[");
		for (op = 0, c = 0; op < FBPF_OP_COUNT; op++)
			for (ph = 0; ph < 2; ph++)
				if (o->meta.callbacks & FBPF_CB_BIT(op, ph))
					printf("%s\"%s_%s\"", c++ ? "," : "", op_name(op), ph ? "post" : "pre");
		printf("],\"handlers\":[");
		for (r = 0; r < o->meta.nhandlers; r++) {
			printf(r ? "," : "");
			fbpf_json_string(stdout, o->handlers[r]);
		}
		printf("],\"automata\":[");
		for (c = 0; c < FBPF_NDFA; c++)
			printf("%s{\"states\":%u,\"classes\":%u,\"comb\":%u}", c ? "," : "",
			       W(FBPF_T_D(c, FBPF_D_NSTATES)), W(FBPF_T_D(c, FBPF_D_NCLASSES)),
			       W(FBPF_T_D(c, FBPF_D_NCOMB)));
		printf("],\"words\":%u,\"rules\":[", o->nwords);
		for (r = 1; r <= W(FBPF_T_NRULES); r++) {
			uint32_t at = W(FBPF_T_RULES) + (r - 1) * FBPF_RULE_WORDS;
			char src[1024];

			printf("%s{\"index\":%u,\"kind\":\"%s\",\"ops\":%u,\"line\":%u,\"flags\":%u,\"a0\":%u,\"source\":",
			       r > 1 ? "," : "", r, rule_kind_name((int)W(at + FBPF_RW_KIND)), W(at + FBPF_RW_OPS),
			       W(at + FBPF_RW_LINE), W(at + FBPF_RW_FLAGS), W(at + FBPF_RW_A0));
			fbpf_json_string(stdout, fbpf_object_source_line(o, W(at + FBPF_RW_LINE), src, sizeof(src)) ? src : "");
			printf("}");
		}
		printf("]}\n");
		fbpf_object_free(o);
		return 0;
	}
	if (!only_c) {
		printf("policy %s (fbpf ABI %u), compiled from %s\nfilters:", o->meta.policy, o->meta.abi, o->file);
		for (op = 0; op < FBPF_OP_COUNT; op++)
			for (ph = 0; ph < 2; ph++)
				if (o->meta.callbacks & FBPF_CB_BIT(op, ph))
					printf(" %s_%s", op_name(op), ph ? "post" : "pre");
		printf("%s\n\n", o->meta.callbacks ? "" : " none (a pass-through policy)");
	}
	if (!only_t) {
		if (!only_c)
			printf("---- generated BPF C ----\n");
		backend_emit_c(stdout, o->meta.policy, o->meta.callbacks, "tables.bin");
		if (!only_c)
			printf("\n---- tables ----\n");
	}
	if (!only_c)
		print_tables(o, (int)max_states);
	fbpf_object_free(o);
	return 0;
}
