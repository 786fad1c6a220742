// SPDX-License-Identifier: GPL-2.0
/* fbpfc check RULES.fbp: errors, and warnings about likely mistakes. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "automaton.h"
#include "commands.h"
#include "fbpf_abi.h"
#include "lower.h"

static const char help[] =
	"usage: fbpfc check RULES.fbp [--json] [--werror]\n"
	"\n"
	"Report errors, and warn about likely mistakes: rules that never decide because\n"
	"earlier rules always do first, and renames whose shown names can collide with\n"
	"stored names (the stored entry is then eclipsed). Builds nothing.\n"
	"\n"
	"      --json     diagnostics as JSON lines\n"
	"      --werror   exit 1 on warnings too\n";

/* One path the glob matches: every wildcard replaced by a plain byte. */
static void glob_sample(const char *g, char *out, size_t outlen)
{
	size_t n = 0;
	int depth = 0, skip = 0; /* inside {..}: skip all but the first alternative */

	for (; *g && n + 2 < outlen; g++) {
		char ch = *g;

		if (ch == '\\' && g[1]) {
			if (!skip)
				out[n++] = *++g;
			else
				g++;
			continue;
		}
		if (ch == '{') {
			depth++;
			continue;
		}
		if (ch == ',' && depth) {
			if (!skip)
				skip = depth;
			continue;
		}
		if (ch == '}' && depth) {
			if (skip == depth)
				skip = 0;
			depth--;
			continue;
		}
		if (skip)
			continue;
		if (ch == '*') {
			if (g[1] == '*')
				g++;
			out[n++] = 'q';
		} else if (ch == '?') {
			out[n++] = 'q';
		} else if (ch == '[') {
			const char *e = g + 1;
			int neg = *e == '!' || *e == '^';

			if (neg)
				e++;
			out[n++] = neg ? '~' : (*e == ']' ? ']' : *e);
			if (*e == ']')
				e++;
			while (*e && *e != ']')
				e++;
			g = *e ? e : e - 1;
		} else {
			out[n++] = ch;
		}
	}
	out[n] = 0;
	if (out[0] != '/') { /* leading ** became "q" */
		memmove(out + 1, out, n + 1 < outlen ? n + 1 : outlen - 1);
		out[0] = '/';
	}
}

static void rename_collision(const struct rule *r, struct diag *d)
{
	char path[8192], shown[8192], *name;
	size_t l1 = strlen(r->s1), nl;

	glob_sample(r->pattern, path, sizeof(path) - 200);
	if (r->xform == FBPF_X_EXT) {
		/* the rename applies only to names that end with s1: make the
		 * sample one, if the pattern allows it ("/photos/q" -> "/photos/q.jpeg") */
		size_t pl = strlen(path);

		if ((pl < l1 || strcmp(path + pl - l1, r->s1)) && pl + l1 < sizeof(path)) {
			memcpy(path + pl, r->s1, l1 + 1);
			if (!glob_match(r->pattern, path))
				path[pl] = 0;
		}
	}
	name = strrchr(path, '/');
	if (!name || !name[1])
		return;
	name++;
	nl = strlen(name);
	memcpy(shown, path, (size_t)(name - path));
	shown[name - path] = 0;
	switch (r->xform) {
	case FBPF_X_SUFFIX:
		snprintf(shown + (name - path), sizeof(shown) - (size_t)(name - path), "%s%s", name, r->s1);
		break;
	case FBPF_X_PREFIX:
		snprintf(shown + (name - path), sizeof(shown) - (size_t)(name - path), "%s%s", r->s1, name);
		break;
	case FBPF_X_EXT:
		if (nl <= l1 || strcmp(name + nl - l1, r->s1))
			return;
		snprintf(shown + (name - path), sizeof(shown) - (size_t)(name - path), "%.*s%s",
			 (int)(nl - l1), name, r->s2);
		break;
	default:
		return;
	}
	if (glob_match(r->pattern, shown) && r->xform != FBPF_X_EXT)
		return; /* the shown names are themselves renamed: no collision */
	diag_warning(d, r->xform_loc,
		     "this rename can collide: '%s' is shown as '%s', and a stored entry named '%s' "
		     "would then be eclipsed (hidden)", path, shown, shown);
}

int cmd_check(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' }, { "werror", no_argument, NULL, 'W' },
		{ "help", no_argument, NULL, 'h' }, { 0 } };
	struct lowered low;
	struct policy *p;
	struct diag d;
	char *source = NULL;
	int c, json = 0, werror = 0, rc = 1, i;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'j': json = 1; break;
		case 'W': werror = 1; break;
		case 'h': fputs(help, stdout); return 0;
		default: fputs(help, stderr); return 2;
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, "fbpfc check: give exactly one policy file\n%s", help);
		return 2;
	}
	p = load_policy(argv[optind], &d, &source, json);
	if (p && !d.errors && !lower_policy(p, &d, 0, &low)) {
		for (i = 0; i < p->nrules; i++) {
			const struct rule *r = &p->rules[i];
			int by = low.shadowed_by[i];

			if (by > 0) {
				diag_warning(&d, r->loc,
					     "this rule never decides: wherever its pattern matches, the %s rule "
					     "on line %d decides first", rule_kind_name(p->rules[by - 1].kind),
					     p->rules[by - 1].loc.line);
				diag_note(&d, p->rules[by - 1].loc, "the earlier rule is here");
			} else if (by < 0) {
				diag_warning(&d, r->pattern_loc, "this pattern matches no path");
			}
			if (r->kind == RULE_RENAME)
				rename_collision(r, &d);
		}
		rc = (werror && d.warnings) ? 1 : 0;
		if (!json)
			fprintf(stderr, "%s: %d rule%s, %d state%s, %d warning%s\n", argv[optind], p->nrules,
				p->nrules == 1 ? "" : "s", low.nstates, low.nstates == 1 ? "" : "s",
				d.warnings, d.warnings == 1 ? "" : "s");
		lowered_free(&low);
	} else if (d.errors && !json) {
		fprintf(stderr, "%d error%s generated.\n", d.errors, d.errors == 1 ? "" : "s");
	}
	if (p)
		policy_free(p);
	free(source);
	return rc;
}
