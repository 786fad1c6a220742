// SPDX-License-Identifier: GPL-2.0
/*
 * The hidden-name oracle (docs/language.md, "Hidden names"): every system
 * call that could reveal a hidden name gives the same answer whether the
 * name exists in the lower directory (as a file, a directory, a symlink) or
 * not, and that answer is the documented one: ENOENT for lookups and for
 * everything done to the name, EACCES for creating it or renaming or
 * linking onto it.
 *
 * Policy policies/hidden.fbp:
 *   hide "/secret"                       (for everyone)
 *   hide every entry of /e               (a directory of hidden entries)
 *   hide (any depth) ".priv" unless uid == 0   (checked as uid 1000; root sees it)
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "fstest.h"

/* What the lower holds under the hidden name. */
enum variant { V_ABSENT, V_FILE, V_DIR, V_SYMLINK, NVARIANTS };
static const char *const vname[] = { "absent", "a file", "a directory", "a symlink" };

/*
 * One probe: an operation on names in the view directory D (where H is the
 * hidden name). '@' in an argument stands for the hidden name, '%' for the
 * view directory itself.
 */
struct probe {
	const char *label;
	enum xop_kind kind;
	const char *a1, *a2;
	int want;
};

static const struct probe probes[] = {
	{ "stat", X_STAT, "@", NULL, ENOENT },
	{ "lstat", X_LSTAT, "@", NULL, ENOENT },
	{ "statx", X_STATX, "@", NULL, ENOENT },
	{ "open O_RDONLY", X_OPEN_R, "@", NULL, ENOENT },
	{ "open O_WRONLY", X_OPEN_W, "@", NULL, ENOENT },
	{ "open O_TRUNC", X_OPEN_TRUNC, "@", NULL, ENOENT },
	{ "read", X_READ, "@", NULL, ENOENT },
	{ "write", X_WRITE, "@", "x", ENOENT },
	{ "open O_CREAT", X_OPEN_CREAT, "@", NULL, EACCES },
	{ "open O_CREAT|O_EXCL", X_OPEN_EXCL, "@", NULL, EACCES },
	{ "creat", X_CREAT, "@", NULL, EACCES },
	{ "mkdir", X_MKDIR, "@", NULL, EACCES },
	{ "mknod", X_MKNOD, "@", NULL, EACCES },
	{ "mkfifo", X_MKFIFO, "@", NULL, EACCES },
	{ "symlink with it as the new name", X_SYMLINK, "@", "other", EACCES },
	{ "link onto it", X_LINK, "other", "@", EACCES },
	{ "rename onto it", X_RENAME, "other", "@", EACCES },
	{ "rename a directory onto it", X_RENAME, "odir", "@", EACCES },
	{ "RENAME_NOREPLACE onto it", X_RENAME_NOREPLACE, "other", "@", EACCES },
	/* An exchange moves the hidden entry too: it is a rename from it, and
	 * the VFS refuses an exchange with a missing name with ENOENT. */
	{ "RENAME_EXCHANGE with it", X_RENAME_EXCHANGE, "other", "@", ENOENT },
	{ "RENAME_EXCHANGE from it", X_RENAME_EXCHANGE, "@", "other", ENOENT },
	{ "link from it", X_LINK, "@", "newlink", ENOENT },
	{ "rename from it", X_RENAME, "@", "renamed", ENOENT },
	{ "RENAME_NOREPLACE from it", X_RENAME_NOREPLACE, "@", "renamed", ENOENT },
	{ "unlink", X_UNLINK, "@", NULL, ENOENT },
	{ "rmdir", X_RMDIR, "@", NULL, ENOENT },
	{ "chmod", X_CHMOD, "@", NULL, ENOENT },
	{ "chown", X_CHOWN, "@", NULL, ENOENT },
	{ "truncate", X_TRUNCATE, "@", NULL, ENOENT },
	{ "utimensat", X_UTIMENS, "@", NULL, ENOENT },
	{ "getxattr", X_GETXATTR, "@", NULL, ENOENT },
	{ "setxattr", X_SETXATTR, "@", NULL, ENOENT },
	{ "listxattr", X_LISTXATTR, "@", NULL, ENOENT },
	{ "removexattr", X_REMOVEXATTR, "@", NULL, ENOENT },
	{ "access", X_ACCESS, "@", NULL, ENOENT },
	{ "opendir", X_OPENDIR, "@", NULL, ENOENT },
	{ "chdir", X_CHDIR, "@", NULL, ENOENT },
	{ "readlink", X_READLINK, "@", NULL, ENOENT },
	/* path walks through it */
	{ "stat @/x", X_STAT, "@/x", NULL, ENOENT },
	{ "open @/x", X_OPEN_R, "@/x", NULL, ENOENT },
	{ "open @/x O_CREAT", X_OPEN_CREAT, "@/x", NULL, ENOENT },
	{ "mkdir @/x", X_MKDIR, "@/x", NULL, ENOENT },
	{ "opendir @/.", X_OPENDIR, "@/.", NULL, ENOENT },
	{ "unlink @/x", X_UNLINK, "@/x", NULL, ENOENT },
	{ "rename onto @/x", X_RENAME, "other", "@/x", ENOENT },
	{ "symlink @/x", X_SYMLINK, "@/x", "other", ENOENT },
	{ "stat @/../other", X_STAT, "@/../other", NULL, ENOENT },
	/* a symlink in the view that points to it */
	{ "symlink to it", X_SYMLINK, "lnk", "@", 0 },
	{ "stat through a symlink to it", X_STAT, "lnk", NULL, ENOENT },
	{ "open through a symlink to it", X_OPEN_R, "lnk", NULL, ENOENT },
	{ "open O_CREAT through a symlink to it", X_OPEN_CREAT, "lnk", NULL, EACCES },
	{ "open O_CREAT through a symlink to @/x", X_OPEN_CREAT, "lnk2", NULL, ENOENT },
	{ "unlink the symlink to it", X_UNLINK, "lnk", NULL, 0 },
	/* the directory itself, listed after all of the above */
	{ "listing", X_LIST, "%", NULL, 0 },
};
#define NPROBES (sizeof(probes) / sizeof(probes[0]))

static void subst(char *out, size_t len, const char *view, const char *hidden, const char *a)
{
	size_t n = 0;

	out[0] = '\0';
	if (!a)
		return;
	if (!strcmp(a, "%")) {
		fmt(out, len, "%s", view);
		return;
	}
	n = (size_t)fmt(out, len, "%s/", view);
	for (; *a && n + 1 < len; a++) {
		if (*a == '@')
			n += (size_t)fmt(out + n, len - n, "%s", hidden);
		else
			out[n++] = *a, out[n] = '\0';
	}
}

/* Fill lower directory dir for variant v (hidden name h). */
static void make_lower(const char *dir, const char *h, enum variant v, uid_t owner)
{
	char p[PATH_MAX];

	mkdirp(dir, 0777);
	fmt(p, sizeof(p), "%s/other", dir);
	mkfile(p, "other", 0666);
	xchown(p, owner, owner);
	fmt(p, sizeof(p), "%s/odir", dir);
	mkdirp(p, 0777);
	xchown(p, owner, owner);
	fmt(p, sizeof(p), "%s/%s", dir, h);
	switch (v) {
	case V_ABSENT:
		break;
	case V_FILE:
		mkfile(p, "HIDDEN", 0666);
		setxattr(p, "user.fbpf", "h", 1, 0);
		xchown(p, owner, owner);
		break;
	case V_DIR: {
		char x[PATH_MAX];

		mkdirp(p, 0777);
		fmt(x, sizeof(x), "%s/x", p);
		mkfile(x, "HIDDEN-X", 0666);
		xchown(p, owner, owner);
		break;
	}
	case V_SYMLINK:
		ck_assert(symlink("other", p) == 0);
		xchown(p, owner, owner);
		break;
	default:
		break;
	}
	/* a pre-made dangling symlink for the path-walk probe */
	fmt(p, sizeof(p), "%s/lnk2", dir);
	{
		char t[PATH_MAX];

		fmt(t, sizeof(t), "%s/x", h);
		ck_assert(symlink(t, p) == 0);
	}
}

/* A fingerprint of the lower directory: names, types, sizes, modes, owners. */
static void fingerprint(const char *dir, char *out, size_t len)
{
	char list[8192], *save = NULL, *name;
	size_t n = 0;

	out[0] = '\0';
	ck_assert_int_ge(listdir(dir, list, sizeof(list)), 0);
	for (name = strtok_r(list, "\n", &save); name; name = strtok_r(NULL, "\n", &save)) {
		char p[PATH_MAX];
		struct stat st;

		fmt(p, sizeof(p), "%s/%s", dir, name);
		if (lstat(p, &st))
			continue;
		n += (size_t)fmt(out + n, len - n, "%s:%o:%lld:%u;", name, st.st_mode,
				      (long long)st.st_size, (unsigned)st.st_uid);
		if (S_ISDIR(st.st_mode)) {
			char sub[4096];

			listdir(p, sub, sizeof(sub));
			n += (size_t)fmt(out + n, len - n, "[%s];", sub);
		}
		if (n >= len)
			break;
	}
}

/*
 * Run every probe as uid (or root when uid is 0) against NVARIANTS views
 * that differ only in what the lower holds under the hidden name.
 */
static void oracle(const char *sub, const char *hname, uid_t uid)
{
	static char report[4096];
	char lowers[NVARIANTS][PATH_MAX], mnts[NVARIANTS][PATH_MAX], before[NVARIANTS][8192];
	int got[NVARIANTS][NPROBES];
	size_t rn = 0;
	unsigned v, i;

	for (v = 0; v < NVARIANTS; v++) {
		char ldir[PATH_MAX];

		fmt(lowers[v], PATH_MAX, "%s/a/l%u", W.root, v);
		fmt(mnts[v], PATH_MAX, "%s/b/m%u", W.root, v);
		mkdirp(lowers[v], 0755);
		mkdirp(mnts[v], 0755);
		fmt(ldir, sizeof(ldir), "%s%s%s", lowers[v], sub[0] ? "/" : "", sub);
		make_lower(ldir, hname, (enum variant)v, uid);
		fingerprint(ldir, before[v], sizeof(before[v]));
		fs_mount_at("hidden", lowers[v], mnts[v], NULL);
	}
	report[0] = '\0';
	for (i = 0; i < NPROBES; i++) {
		for (v = 0; v < NVARIANTS; v++) {
			char view[PATH_MAX], a1[PATH_MAX], a2[PATH_MAX];
			struct xop op;
			static struct xres r;

			fmt(view, sizeof(view), "%s%s%s", mnts[v], sub[0] ? "/" : "", sub);
			subst(a1, sizeof(a1), view, hname, probes[i].a1);
			subst(a2, sizeof(a2), view, hname, probes[i].a2);
			op.kind = probes[i].kind;
			op.a1 = a1;
			op.a2 = probes[i].a2 ? a2 : NULL;
			/* symlink targets are relative names, not view paths */
			if (op.kind == X_SYMLINK)
				op.a2 = probes[i].a2[0] == '@' ? hname : probes[i].a2;
			got[v][i] = xop_as(uid ? uid : (uid_t)-1, uid, &op, &r);
			if (op.kind == X_LIST && got[v][i] == 0 && list_has(r.data, hname) && rn < 2500)
				rn += (size_t)fmt(report + rn, sizeof(report) - rn,
						       "  listing shows the hidden name when it is %s\n",
						       vname[v]);
			if (got[v][i] != probes[i].want && rn < 2500)
				rn += (size_t)fmt(report + rn, sizeof(report) - rn,
						       "  %s: %s when the name is %s, want %s\n", probes[i].label,
						       errname(got[v][i]), vname[v], errname(probes[i].want));
		}
	}
	/* Nothing in the lower changed (the symlink "lnk" was made and removed). */
	for (v = 0; v < NVARIANTS; v++) {
		char ldir[PATH_MAX], after[8192];

		fmt(ldir, sizeof(ldir), "%s%s%s", lowers[v], sub[0] ? "/" : "", sub);
		fingerprint(ldir, after, sizeof(after));
		if (strcmp(before[v], after) && rn < 2500)
			rn += (size_t)fmt(report + rn, sizeof(report) - rn,
					       "  the lower directory changed when the name is %s:\n    before %s\n    after  %s\n",
					       vname[v], before[v], after);
	}
	ck_assert_msg(rn == 0, "hidden name '%s' as uid %u: %s", hname, (unsigned)uid, report);
}

START_TEST(hidden_oracle_root)
{
	oracle("", "secret", 0);
}
END_TEST

START_TEST(hidden_oracle_conditional_uid)
{
	oracle("d", ".priv", 1000);
}
END_TEST

/* The conditional hide does not apply to root: root sees .priv everywhere. */
START_TEST(hidden_conditional_root_sees)
{
	char list[1024];
	struct xres r;
	struct xop op = { X_STAT, NULL, NULL };

	mkdirp(L("d"), 0777);
	mkfile(L("d/.priv"), "P", 0644);
	mkfile(L("d/visible"), "V", 0644);
	fs_mount("hidden");
	ck_errno(X(X_STAT, M("d/.priv"), NULL), 0);
	ck_assert_int_ge(listdir(M("d"), list, sizeof(list)), 0);
	ck_assert_msg(list_has(list, ".priv") && list_has(list, "visible"), "root lists [%s]", list);
	op.a1 = M("d/.priv");
	ck_errno(xop_as(1000, 1000, &op, &r), ENOENT);
	op.kind = X_LIST;
	op.a1 = M("d");
	ck_errno(xop_as(1000, 1000, &op, &r), 0);
	ck_assert_msg(!list_has(r.data, ".priv") && list_has(r.data, "visible"), "uid 1000 lists [%s]",
		      r.data);
}
END_TEST

/* A directory whose only entries are hidden lists as empty, but rmdir says
 * ENOTEMPTY, as documented under "Limits of hiding". */
START_TEST(hidden_only_entries)
{
	char list[256];

	mkdirp(L("e/secret"), 0755);
	mkdirp(L("e/.priv"), 0755);
	fs_mount("hidden");
	ck_assert_int_eq(listdir(M("e"), list, sizeof(list)), 0);
	ck_errno(XA(1000, X_LIST, M("e"), NULL), 0);
	ck_errno(X(X_RMDIR, M("e"), NULL), ENOTEMPTY);
	ck_assert(exists(L("e/secret")));
}
END_TEST

TCase *tc_hidden(void)
{
	TCase *tc = fs_tcase("hidden", 120);

	tcase_add_test(tc, hidden_oracle_root);
	tcase_add_test(tc, hidden_oracle_conditional_uid);
	tcase_add_test(tc, hidden_conditional_root_sees);
	tcase_add_test(tc, hidden_only_entries);
	return tc;
}
