// SPDX-License-Identifier: GPL-2.0
/* fbpfc explain RULES.o PATH: walk PATH through the compiled policy with the
 * native evaluator (the same code as the BPF filters) and say who decides. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "commands.h"
#include "eval.h"
#include "object.h"

static const char help[] =
	"usage: fbpfc explain RULES.o PATH [options]\n"
	"\n"
	"Walk PATH (as seen through the mount) component by component through the\n"
	"compiled policy and say which rule decides the operation, and the outcome.\n"
	"\n"
	"  --op OP        lookup (default), readdir, getattr, open, read, write, create,\n"
	"                 delete, rename, setattr\n"
	"  --write        with --op open: an open for writing\n"
	"  --target       with --op rename: PATH is the destination\n"
	"  --uid N --gid N --pid N      the caller (default 0)\n"
	"  --owner N --group N          the lower entry's owner and group (default 0)\n"
	"  --type T       file (default), dir, symlink, fifo, socket, chardev, blockdev\n"
	"  --mode M       the entry's permission bits (default 0644, 0755 for dir)\n"
	"  --no-entry     the entry does not exist in the lower directory\n"
	"  --json         one JSON object\n";

static const char *const types[] = { "", "file", "dir", "symlink", "fifo", "socket", "chardev", "blockdev", NULL };
static const unsigned type_bits[] = { 0, 0100000, 0040000, 0120000, 0010000, 0140000, 0020000, 0060000 };

static void rule_text(const struct fbpf_object *o, unsigned rule, char *buf, size_t len)
{
	unsigned line = fbpf_object_rule_line(o, rule);
	char src[1024];

	if (!rule || !fbpf_object_source_line(o, line, src, sizeof(src)))
		snprintf(buf, len, "%s", "");
	else
		snprintf(buf, len, "%s", src + strspn(src, " \t"));
}

int cmd_explain(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "op", required_argument, NULL, 'o' }, { "uid", required_argument, NULL, 'u' },
		{ "gid", required_argument, NULL, 'g' }, { "pid", required_argument, NULL, 'p' },
		{ "owner", required_argument, NULL, 'O' }, { "group", required_argument, NULL, 'G' },
		{ "type", required_argument, NULL, 't' }, { "mode", required_argument, NULL, 'm' },
		{ "no-entry", no_argument, NULL, 'n' }, { "write", no_argument, NULL, 'w' },
		{ "target", no_argument, NULL, 'T' }, { "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' }, { 0 } };
	unsigned uid = 0, gid = 0, pid = 0, owner = 0, group = 0, mode = 0, type = 1, op = FBPF_OP_LOOKUP, v;
	int c, json = 0, no_entry = 0, write = 0, target = 0, mode_set = 0, i;
	struct fbpf_object *o;
	struct fbpf_args a;
	char err[1024], stored[8192] = "", comp[FBPF_NAME_MAX + 2], *path, *save = NULL, *tok, *next;
	char shown_at[8192] = "", why[2048] = "", rtext[1024];
	unsigned long long state = FBPF_STATE_ROOT;
	unsigned rename_rule = 0;
	int verdict = FBPF_CONTINUE, stopped = 0;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'o':
			for (i = 0; i < FBPF_OP_COUNT; i++)
				if (!strcmp(optarg, op_name(i)))
					break;
			if (i == FBPF_OP_COUNT) {
				static const char *const ops[] = { "lookup", "readdir", "getattr", "open", "read", "write",
								   "create", "delete", "rename", "setattr", NULL };
				const char *near = did_you_mean(optarg, ops);

				fprintf(stderr, "fbpfc explain: unknown operation '%s'%s%s%s\n", optarg,
					near ? "; did you mean '" : "", near ? near : "", near ? "'?" : "");
				return 2;
			}
			op = (unsigned)i;
			break;
		case 'u': case 'g': case 'p': case 'O': case 'G': case 'm':
			if (parse_u32(optarg, &v)) {
				fprintf(stderr, "fbpfc explain: '%s' is not a number\n", optarg);
				return 2;
			}
			if (c == 'u') uid = v;
			else if (c == 'g') gid = v;
			else if (c == 'p') pid = v;
			else if (c == 'O') owner = v;
			else if (c == 'G') group = v;
			else { mode = v & 07777; mode_set = 1; }
			break;
		case 't':
			for (i = 1; types[i]; i++)
				if (!strcmp(optarg, types[i]))
					break;
			if (!types[i]) {
				fprintf(stderr, "fbpfc explain: unknown type '%s' (file, dir, symlink, fifo, socket, chardev, blockdev)\n", optarg);
				return 2;
			}
			type = (unsigned)i;
			break;
		case 'n': no_entry = 1; break;
		case 'w': write = 1; break;
		case 'T': target = 1; break;
		case 'j': json = 1; break;
		case 'h': fputs(help, stdout); return 0;
		default: fputs(help, stderr); return 2;
		}
	}
	if (optind != argc - 2) {
		fprintf(stderr, "fbpfc explain: give a compiled policy and a path\n%s", help);
		return 2;
	}
	if (argv[optind + 1][0] != '/') {
		fprintf(stderr, "fbpfc explain: the path must start with '/' (the mount root)\n");
		return 2;
	}
	if (fbpf_object_read(argv[optind], &o, err, sizeof(err))) {
		fprintf(stderr, "fbpfc explain: %s\n", err);
		return 1;
	}
	if (!mode_set)
		mode = type == 2 ? 0755 : 0644;
	if (op == FBPF_OP_CREATE)
		no_entry = 1;

	path = strdup(argv[optind + 1]);
	memset(&a, 0, sizeof(a));
	for (tok = strtok_r(path, "/", &save); tok; tok = next) {
		int last;

		next = strtok_r(NULL, "/", &save);
		last = next == NULL;
		if (strlen(tok) > FBPF_NAME_MAX) {
			fprintf(stderr, "fbpfc explain: a path component is longer than %d bytes\n", FBPF_NAME_MAX);
			free(path);
			fbpf_object_free(o);
			return 2;
		}
		snprintf(comp, sizeof(comp), "%s", tok);
		strncat(shown_at, "/", sizeof(shown_at) - strlen(shown_at) - 1);
		strncat(shown_at, comp, sizeof(shown_at) - strlen(shown_at) - 1);
		/* name -> stored name and state */
		memset(&a, 0, sizeof(a));
		a.op = last && (op == FBPF_OP_CREATE || op == FBPF_OP_RENAME || op == FBPF_OP_DELETE) ? op : FBPF_OP_LOOKUP;
		a.phase = FBPF_PRE;
		a.flags = target ? FBPF_IN_TARGET : 0;
		a.dir_state = state;
		a.uid = uid; a.gid = gid; a.pid = pid;
		a.name_len = (unsigned)strlen(comp);
		memcpy(a.name, comp, a.name_len);
		if (a.op != FBPF_OP_LOOKUP) {
			/* the operation's own pre-filter decides on the name */
			if (!no_entry || op != FBPF_OP_CREATE) {
				a.flags |= no_entry ? 0 : FBPF_IN_ENTRY;
				a.e_uid = owner; a.e_gid = group; a.e_mode = type_bits[type] | mode;
			}
			if (op == FBPF_OP_CREATE) {
				a.flags &= ~FBPF_IN_ENTRY;
			}
		}
		verdict = fbpf_eval(o, &a);
		if (a.out_flags & FBPF_OUT_NAME) {
			strncat(stored, "/", sizeof(stored) - strlen(stored) - 1);
			strncat(stored, a.out_name, sizeof(stored) - strlen(stored) - 1);
			if (a.rule && fbpf_object_rule_line(o, a.rule) && strcmp(a.out_name, comp))
				rename_rule = a.rule;
		}
		state = a.state;
		if (verdict != FBPF_CONTINUE) {
			snprintf(why, sizeof(why), "%s", a.rule ? "" : "no stored name is shown under this name");
			stopped = 1;
			break;
		}
		if (a.op != FBPF_OP_LOOKUP)
			break;
		/* the lookup decides with the entry */
		memset(&a, 0, sizeof(a));
		a.op = FBPF_OP_LOOKUP;
		a.phase = FBPF_POST;
		a.dir_state = state;
		a.uid = uid; a.gid = gid; a.pid = pid;
		if (!(last && no_entry)) {
			a.flags = FBPF_IN_ENTRY;
			a.e_uid = owner; a.e_gid = group;
			a.e_mode = last ? type_bits[type] | mode : 0040755;
		}
		verdict = fbpf_eval(o, &a);
		if (verdict != FBPF_CONTINUE) {
			stopped = 1;
			break;
		}
		if (last && op != FBPF_OP_LOOKUP) {
			/* the operation on the inode itself */
			unsigned long long st = a.state;

			memset(&a, 0, sizeof(a));
			a.op = op;
			a.phase = FBPF_PRE;
			a.dir_state = st;
			a.uid = uid; a.gid = gid; a.pid = pid;
			a.flags = (write ? FBPF_IN_WRITE : 0) | (no_entry ? 0 : FBPF_IN_ENTRY);
			a.e_uid = owner; a.e_gid = group; a.e_mode = type_bits[type] | mode;
			verdict = fbpf_eval(o, &a);
			if (verdict == FBPF_CONTINUE && (op == FBPF_OP_GETATTR || op == FBPF_OP_READDIR)) {
				a.phase = FBPF_POST;
				if (op == FBPF_OP_READDIR) {
					/* as an entry of its parent: fine as is; the attr of the directory */
					a.op = FBPF_OP_GETATTR;
				}
				verdict = fbpf_eval(o, &a);
			}
		}
	}
	if (!tok && !strcmp(argv[optind + 1], "/")) {
		snprintf(shown_at, sizeof(shown_at), "/");
		a.state = FBPF_STATE_ROOT;
		snprintf(why, sizeof(why), "the root is never matched by a rule");
	}
	if (stopped && !(a.out_flags & FBPF_OUT_NAME) && !a.rule)
		snprintf(stored, sizeof(stored), "(none: no stored name is shown as %s)", shown_at);
	else if (!stored[0])
		snprintf(stored, sizeof(stored), "/");
	/* a rename rule maps the name; it does not decide the operation */
	if (a.rule && verdict == FBPF_CONTINUE && !(a.out_flags & (FBPF_OUT_HIDDEN | FBPF_OUT_ATTR)) &&
	    a.rule <= o->words[FBPF_T_NRULES] &&
	    o->words[o->words[FBPF_T_RULES] + (a.rule - 1) * FBPF_RULE_WORDS + FBPF_RW_KIND] == FBPF_R_RENAME)
		a.rule = 0;
	rule_text(o, a.rule, rtext, sizeof(rtext));
	{
		const char *en = verdict == FBPF_ERROR ? errno_name((int)a.err) : NULL;
		char outcome[256], num[16];

		if (verdict == FBPF_ERROR)
			snprintf(outcome, sizeof(outcome), "fails with %s%s", en ? en : "errno ",
				 en ? "" : (snprintf(num, sizeof(num), "%u", a.err), num));
		else if (verdict == FBPF_DEFER)
			snprintf(outcome, sizeof(outcome), "deferred to handler '%s'",
				 a.handler < o->meta.nhandlers ? o->handlers[a.handler] : "?");
		else
			snprintf(outcome, sizeof(outcome), "allowed: continues to the lower filesystem");
		if (json) {
			printf("{\"path\":");
			fbpf_json_string(stdout, argv[optind + 1]);
			printf(",\"stored\":");
			fbpf_json_string(stdout, stored);
			printf(",\"op\":\"%s\",\"uid\":%u,\"gid\":%u,\"pid\":%u,\"verdict\":\"%s\"", op_name((int)op),
			       uid, gid, pid, verdict == FBPF_ERROR ? "error" : verdict == FBPF_DEFER ? "defer" : "continue");
			if (verdict == FBPF_ERROR) {
				printf(",\"errno\":%u,\"errno_name\":", a.err);
				fbpf_json_string(stdout, en ? en : "");
			}
			if (verdict == FBPF_DEFER) {
				printf(",\"handler\":");
				fbpf_json_string(stdout, a.handler < o->meta.nhandlers ? o->handlers[a.handler] : "");
			}
			printf(",\"hidden\":%s,\"caller_dependent\":%s,\"rule\":%u,\"line\":%u,\"rule_text\":",
			       (a.out_flags & FBPF_OUT_HIDDEN) ? "true" : "false",
			       (a.out_flags & FBPF_OUT_CALLER) ? "true" : "false", a.rule,
			       fbpf_object_rule_line(o, a.rule));
			fbpf_json_string(stdout, rtext);
			printf(",\"decided_at\":");
			fbpf_json_string(stdout, shown_at);
			printf(",\"renamed_by\":%u", rename_rule);
			if (a.out_flags & FBPF_OUT_ATTR)
				printf(",\"attr\":{\"set\":%u,\"uid\":%u,\"gid\":%u,\"mode_and\":%u,\"mode_or\":%u}",
				       a.a_set, a.a_uid, a.a_gid, a.a_mode_and, a.a_mode_or);
			printf("}\n");
		} else {
			printf("path:      %s\n", argv[optind + 1]);
			printf("stored as: %s%s", stored, rename_rule ? "" : "\n");
			if (rename_rule) {
				rule_text(o, rename_rule, err, sizeof(err));
				printf("  (renamed by line %u: %s)\n", fbpf_object_rule_line(o, rename_rule), err);
			}
			printf("operation: %s%s by uid %u gid %u pid %u\n", op_name((int)op),
			       write && op == FBPF_OP_OPEN ? " (for writing)" : "", uid, gid, pid);
			printf("outcome:   %s%s\n", outcome,
			       (a.out_flags & FBPF_OUT_HIDDEN) ? " (the name is hidden)" : "");
			if (stopped && strcmp(shown_at, argv[optind + 1]))
				printf("           (decided at %s)\n", shown_at);
			if (a.rule && fbpf_object_rule_line(o, a.rule))
				printf("rule:      line %u: %s\n", fbpf_object_rule_line(o, a.rule), rtext);
			else if (why[0])
				printf("rule:      none (%s)\n", why);
			else
				printf("rule:      none applies\n");
			if (a.out_flags & FBPF_OUT_ATTR) {
				printf("attributes:");
				if (a.a_set & FBPF_ATTR_UID)
					printf(" uid=%u", a.a_uid);
				if (a.a_set & FBPF_ATTR_GID)
					printf(" gid=%u", a.a_gid);
				if (a.a_set & FBPF_ATTR_MODE)
					printf(" mode=(mode & %#o) | %#o -> %#o", a.a_mode_and, a.a_mode_or,
					       (mode & a.a_mode_and) | a.a_mode_or);
				printf("\n");
			}
			if (a.out_flags & FBPF_OUT_CALLER)
				printf("note:      the answer depends on the caller\n");
		}
	}
	free(path);
	fbpf_object_free(o);
	return 0;
}
