// SPDX-License-Identifier: GPL-2.0
/* fbpfc compile RULES.fbp -o RULES.o */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "commands.h"
#include "lower.h"

static const char help[] =
	"usage: fbpfc compile RULES.fbp -o RULES.o [options]\n"
	"\n"
	"Compile a policy into one BPF object: a struct_ops map of type fbpf_ops named\n"
	"after the policy, the filters it needs (each with a syscall twin for tests),\n"
	"and section .fbpf with the compiled tables and metadata.\n"
	"\n"
	"  -o, --output FILE   the object to write (default: RULES.o beside RULES.fbp)\n"
	"      --clang PATH    the clang to use (default: $FBPF_CLANG, else the one found\n"
	"                      when fbpf was built, else clang-19 ... clang-14 in PATH)\n"
	"      --emit-c FILE   also write the generated BPF C to FILE\n"
	"      --all-filters   include every filter, not only those the policy needs\n"
	"      --json          diagnostics as JSON lines\n"
	"  -v, --verbose       print the clang command and the table sizes\n"
	"  -h, --help          this text\n";

int cmd_compile(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' }, { "clang", required_argument, NULL, 'c' },
		{ "emit-c", required_argument, NULL, 'e' }, { "all-filters", no_argument, NULL, 'a' },
		{ "json", no_argument, NULL, 'j' }, { "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' }, { 0 } };
	struct driver_opts dopt = { 0 };
	struct lowered low;
	struct policy *p;
	struct diag d;
	char *source = NULL, *defout = NULL;
	const char *out = NULL;
	int c, all = 0, json = 0, rc = 1;

	optind = 1;
	while ((c = getopt_long(argc, argv, "o:vh", opts, NULL)) != -1) {
		switch (c) {
		case 'o': out = optarg; break;
		case 'c': dopt.clang = optarg; break;
		case 'e': dopt.emit_c = optarg; break;
		case 'a': all = 1; break;
		case 'j': json = 1; break;
		case 'v': dopt.verbose = 1; break;
		case 'h': fputs(help, stdout); return 0;
		default: fputs(help, stderr); return 2;
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, "fbpfc compile: give exactly one policy file\n%s", help);
		return 2;
	}
	if (!out) {
		const char *in = argv[optind];
		size_t n = strlen(in);

		defout = malloc(n + 3);
		if (!defout)
			return 1;
		strcpy(defout, in);
		if (n > 4 && !strcmp(defout + n - 4, ".fbp"))
			defout[n - 4] = 0;
		strcat(defout, ".o");
		out = defout;
	}
	p = load_policy(argv[optind], &d, &source, json);
	if (p && !d.errors && !lower_policy(p, &d, all, &low)) {
		if (dopt.verbose)
			fprintf(stderr, "fbpfc: %d rules, %d states, %d byte classes, %u comb slots, %u table words\n",
				p->nrules, low.nstates, low.nclasses, low.ncomb, low.nwords);
		if (!driver_build(p, &low, out, &dopt, &d))
			rc = 0;
		lowered_free(&low);
	}
	if (rc && d.errors && !json)
		fprintf(stderr, "%d error%s generated.\n", d.errors, d.errors == 1 ? "" : "s");
	if (p)
		policy_free(p);
	free(source);
	free(defout);
	return rc;
}
