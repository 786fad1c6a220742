// SPDX-License-Identifier: GPL-2.0
/*
 * The kernel backend on a machine without fbpf.ko (any development host):
 * every entry point refuses with its one sentence and leaves nothing behind.
 * Where the module is loaded (the VM), the availability test checks the
 * other answer. The kernel-mode behaviour itself is tested in the VM.
 */
#define _GNU_SOURCE
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "defer.h"
#include "kernel.h"
#include "object.h"

#ifndef FBPF_BINARY_DIR
#error FBPF_BINARY_DIR is set by fbpf_unit_test()
#endif

static int module_loaded(void)
{
	return access("/sys/module/fbpf", F_OK) == 0 && access(FBPF_DEV_PATH, F_OK) == 0;
}

START_TEST(test_available)
{
	char why[512] = "";
	int r = fbpf_kernel_available(why, sizeof(why));

	if (module_loaded()) {
		ck_assert_msg(r == 1, "the module is loaded but kernel mode is not available: %s", why);
	} else {
		ck_assert_int_eq(r, 0);
		ck_assert_str_eq(why, "the fbpf kernel module is not loaded: run insmod kmod/fbpf.ko "
				      "or use --mode fuse");
	}
}
END_TEST

START_TEST(test_reload_no_daemon)
{
	char err[1024] = "", dir[] = "/tmp/fbpf-kreload.XXXXXX", obj[256];
	FILE *f;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	/* a missing object */
	ck_assert_int_eq(fbpf_kernel_reload(dir, "/nonexistent/rules.o", err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "/nonexistent/rules.o") && strstr(err, "fbpfc compile"), "%s", err);
	/* not an object: the object reader's sentence */
	snprintf(obj, sizeof(obj), "%s/bad.o", dir);
	f = fopen(obj, "w");
	ck_assert_ptr_nonnull(f);
	fputs("not an ELF file\n", f);
	fclose(f);
	ck_assert_int_eq(fbpf_kernel_reload(dir, obj, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "not an ELF object"), "%s", err);
	/* a good object, but no kernel-mode daemon serves the directory */
	ck_assert_int_eq(fbpf_kernel_reload(dir, FBPF_BINARY_DIR "/tests/vm/kh_passthrough.o", err,
					    sizeof(err)), -1);
	ck_assert_msg(strstr(err, "no kernel-mode fbpf-run serves"), "%s", err);
	unlink(obj);
	rmdir(dir);
}
END_TEST

START_TEST(test_mount_refused_without_module)
{
	char err[1024] = "", lower[] = "/tmp/fbpf-klower.XXXXXX", mnt[] = "/tmp/fbpf-kmnt.XXXXXX";
	const char *path = FBPF_BINARY_DIR "/tests/vm/kh_passthrough.o";
	struct fbpf_handler_opts hopts = { 0 };
	struct fbpf_object *o;
	struct fbpf_mount_args a = { 0 };
	struct stat before, after;

	if (module_loaded())
		return; /* the VM tests mounting */
	ck_assert_msg(fbpf_object_read(path, &o, err, sizeof(err)) == 0, "%s", err);
	ck_assert_ptr_nonnull(mkdtemp(lower));
	ck_assert_ptr_nonnull(mkdtemp(mnt));
	ck_assert_int_eq(stat(mnt, &before), 0);
	a.object_path = path;
	a.object = o;
	a.lower = lower;
	a.mnt = mnt;
	a.handler_opts = &hopts;
	a.options = "";
	a.mode = "kernel";
	a.err = err;
	a.errlen = sizeof(err);
	ck_assert_int_ne(fbpf_kernel_mount(&a), 0);
	ck_assert_msg(strstr(err, "not loaded") || strstr(err, "libbpf 1.4"), "%s", err);
	ck_assert_int_eq(stat(mnt, &after), 0);
	ck_assert_msg(before.st_dev == after.st_dev, "something is mounted on %s", mnt);
	fbpf_object_free(o);
	rmdir(lower);
	rmdir(mnt);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("kernel_backend_host");
	TCase *tc = tcase_create("refusals");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_available);
	tcase_add_test(tc, test_reload_no_daemon);
	tcase_add_test(tc, test_mount_refused_without_module);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
