// SPDX-License-Identifier: GPL-2.0
/*
 * fbpf_fstest: behavioural tests of the mounted filesystem, against either
 * engine (FBPF_MODE=fuse|kernel|auto). See fstest.h for the environment and
 * tests/fs/README.md for how to run it. Needs root; exits 77 (skip) without.
 * CK_RUN_CASE=<group> runs one group (actions, examples, callers, hidden,
 * escape, posix, renames, defer).
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <unistd.h>

#include "fstest.h"

int fs_defer_helper_main(int argc, char **argv);

static void skip(const char *why)
{
	printf("fbpf_fstest: skipped: %s\n", why);
	exit(77);
}

static void getenv_into(char *dst, size_t len, const char *name, const char *def)
{
	const char *v = getenv(name);

	snprintf(dst, len, "%s", v && *v ? v : (def ? def : ""));
}

/* Unmount whatever a killed test left below the scratch directory. */
static void sweep(void)
{
	char line[8192], mp[PATH_MAX], pending[64][PATH_MAX];
	size_t slen = strlen(E.scratch);
	int n, again, round;

	for (round = 0; round < 5; round++) {
		FILE *f = fopen("/proc/self/mountinfo", "r");

		if (!f)
			return;
		n = 0;
		while (fgets(line, sizeof(line), f) && n < 64) {
			if (sscanf(line, "%*s %*s %*s %*s %4095s", mp) != 1)
				continue;
			if (!strncmp(mp, E.scratch, slen) && mp[slen] == '/')
				snprintf(pending[n++], PATH_MAX, "%s", mp);
		}
		fclose(f);
		again = 0;
		while (n-- > 0) { /* the last mounted first */
			if (umount2(pending[n], MNT_DETACH) == 0)
				again = 1;
			rmdir(pending[n]);
		}
		if (!again)
			break;
	}
}

int main(int argc, char **argv)
{
	char tmpl[] = "/tmp/fbpf-fstest.XXXXXX";
	int made_scratch = 0, failed;
	Suite *s;
	SRunner *sr;

	if (argc > 1 && !strcmp(argv[1], "--defer-helper"))
		return fs_defer_helper_main(argc - 1, argv + 1);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (geteuid() != 0)
		skip("the filesystem tests mount views and switch uids, which needs root");
	getenv_into(E.run, sizeof(E.run), "FBPF_RUN", NULL);
	getenv_into(E.mode, sizeof(E.mode), "FBPF_MODE", "fuse");
	getenv_into(E.policies, sizeof(E.policies), "FBPF_POLICY_DIR", NULL);
	if (!E.run[0] || !E.policies[0]) {
		fprintf(stderr, "fbpf_fstest: set FBPF_RUN (the fbpf-run binary) and FBPF_POLICY_DIR "
				"(the compiled test policies); ctest sets both\n");
		return 2;
	}
	if (access(E.run, X_OK) != 0) {
		fprintf(stderr, "fbpf_fstest: FBPF_RUN=%s is not an executable: build the fbpf-run target\n",
			E.run);
		return 1;
	}
	if (strcmp(E.mode, "fuse") && strcmp(E.mode, "kernel") && strcmp(E.mode, "auto")) {
		fprintf(stderr, "fbpf_fstest: FBPF_MODE=%s is not fuse, kernel or auto\n", E.mode);
		return 2;
	}
	if (!strcmp(E.mode, "fuse") && access("/dev/fuse", R_OK | W_OK) != 0)
		skip("FUSE mode needs /dev/fuse, which this machine does not have");
	if (!strcmp(E.mode, "kernel") && access("/dev/fbpf", F_OK) != 0)
		skip("kernel mode needs the fbpf module (no /dev/fbpf): insmod fbpf.ko first");
	if (getenv("FBPF_MOUNT_OPTS"))
		getenv_into(E.opts, sizeof(E.opts), "FBPF_MOUNT_OPTS", "");
	else
		snprintf(E.opts, sizeof(E.opts), "%s", strcmp(E.mode, "kernel") ? "allow_other" : "");
	/* The test policies name these two callers. */
	E.uid_a = 1000;
	E.uid_b = 1001;
	if (readlink("/proc/self/exe", E.self, sizeof(E.self) - 1) < 0)
		snprintf(E.self, sizeof(E.self), "%s", argv[0]);
	getenv_into(E.scratch, sizeof(E.scratch), "FBPF_SCRATCH", NULL);
	if (!E.scratch[0]) {
		if (!mkdtemp(tmpl)) {
			perror("fbpf_fstest: cannot make a scratch directory in /tmp");
			return 1;
		}
		snprintf(E.scratch, sizeof(E.scratch), "%s", tmpl);
		made_scratch = 1;
	} else {
		mkdir(E.scratch, 0755);
	}
	/* Other uids walk to their mounts through it. */
	chmod(E.scratch, 0755);
	printf("fbpf_fstest: mode %s, fbpf-run %s, policies %s, scratch %s, -o '%s'\n", E.mode, E.run,
	       E.policies, E.scratch, E.opts);

	s = suite_create("fs");
	suite_add_tcase(s, tc_actions());
	suite_add_tcase(s, tc_defer());
	suite_add_tcase(s, tc_examples());
	suite_add_tcase(s, tc_callers());
	suite_add_tcase(s, tc_hidden());
	suite_add_tcase(s, tc_escape());
	suite_add_tcase(s, tc_posix());
	suite_add_tcase(s, tc_renames());
	sr = srunner_create(s);
	srunner_run_all(sr, CK_VERBOSE);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	sweep();
	if (made_scratch)
		rmdir(E.scratch);
	return failed ? 1 : 0;
}
