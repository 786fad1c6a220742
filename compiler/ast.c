// SPDX-License-Identifier: GPL-2.0
/* The syntax tree: freeing it, and the names of the codes it holds. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ast.h"
#include "fbpf_abi.h"

/* Frees a condition tree without recursion (trees may be deep: a long chain
 * of 'or' is as deep as it is long): rotate left children up until a node
 * has none, then free it and go on with its right child. */
static void cond_free(struct cond *c)
{
	while (c) {
		if (c->l) {
			struct cond *l = c->l;

			c->l = l->r;
			l->r = c;
			c = l;
		} else {
			struct cond *r = c->r;

			free(c->set);
			free(c);
			c = r;
		}
	}
}

void policy_free(struct policy *p)
{
	int i;

	if (!p)
		return;
	for (i = 0; i < p->nrules; i++) {
		struct rule *r = &p->rules[i];

		free(r->pattern);
		free(r->handler);
		free(r->s1);
		free(r->s2);
		cond_free(r->cond);
	}
	free(p->rules);
	free(p->name);
	free(p);
}

static const char *const op_names[FBPF_OP_COUNT] = {
	[FBPF_OP_LOOKUP] = "lookup", [FBPF_OP_READDIR] = "readdir", [FBPF_OP_GETATTR] = "getattr",
	[FBPF_OP_OPEN] = "open",     [FBPF_OP_READ] = "read",       [FBPF_OP_WRITE] = "write",
	[FBPF_OP_CREATE] = "create", [FBPF_OP_DELETE] = "delete",   [FBPF_OP_RENAME] = "rename",
	[FBPF_OP_SETATTR] = "setattr",
};

const char *op_name(int op)
{
	return op >= 0 && op < FBPF_OP_COUNT ? op_names[op] : "?";
}

const char *field_name(int field)
{
	switch (field) {
	case FBPF_F_UID: return "uid";
	case FBPF_F_GID: return "gid";
	case FBPF_F_PID: return "pid";
	case FBPF_F_OWNER: return "owner";
	case FBPF_F_GROUP: return "group";
	case FBPF_F_TYPE: return "type";
	case FBPF_F_MODE: return "mode";
	}
	return "?";
}

const char *cmp_name(int cmp)
{
	switch (cmp) {
	case FBPF_EQ: return "==";
	case FBPF_NE: return "!=";
	case FBPF_LT: return "<";
	case FBPF_LE: return "<=";
	case FBPF_GT: return ">";
	case FBPF_GE: return ">=";
	}
	return "?";
}

const char *rule_kind_name(int kind)
{
	switch (kind) {
	case RULE_HIDE: return "hide";
	case RULE_DENY: return "deny";
	case RULE_DEFER: return "defer";
	case RULE_RENAME: return "rename";
	case RULE_ATTR: return "attr";
	}
	return "?";
}

const char *type_name(uint32_t type)
{
	switch (type) {
	case FBPF_TYPE_NONE: return "none";
	case FBPF_TYPE_FILE: return "file";
	case FBPF_TYPE_DIR: return "dir";
	case FBPF_TYPE_SYMLINK: return "symlink";
	case FBPF_TYPE_FIFO: return "fifo";
	case FBPF_TYPE_SOCKET: return "socket";
	case FBPF_TYPE_CHAR: return "chardev";
	case FBPF_TYPE_BLOCK: return "blockdev";
	}
	return "?";
}

/* The errno names of the language, in the order of the specification.
 * ENOTSUP and EOPNOTSUPP are one number on Linux: errno_name gives the first. */
static const struct {
	const char *name;
	int value;
} errnos[] = {
	{ "EACCES", EACCES },         { "EPERM", EPERM },
	{ "EROFS", EROFS },           { "ENOENT", ENOENT },
	{ "EIO", EIO },               { "ENOSPC", ENOSPC },
	{ "EEXIST", EEXIST },         { "ENOTDIR", ENOTDIR },
	{ "EISDIR", EISDIR },         { "EBUSY", EBUSY },
	{ "EAGAIN", EAGAIN },         { "EINVAL", EINVAL },
	{ "EOPNOTSUPP", EOPNOTSUPP }, { "ENOTSUP", ENOTSUP },
	{ "EXDEV", EXDEV },           { "EDQUOT", EDQUOT },
	{ "ENAMETOOLONG", ENAMETOOLONG }, { "ETXTBSY", ETXTBSY },
	{ "ENOTEMPTY", ENOTEMPTY },   { "EFBIG", EFBIG },
	{ "EMLINK", EMLINK },         { "ENXIO", ENXIO },
	{ "ENODEV", ENODEV },         { "ETIMEDOUT", ETIMEDOUT },
	{ "ECONNREFUSED", ECONNREFUSED }, { "EFAULT", EFAULT },
	{ "ENOMEM", ENOMEM },
};

const char *errno_name(int err)
{
	size_t i;

	for (i = 0; i < sizeof(errnos) / sizeof(errnos[0]); i++)
		if (errnos[i].value == err)
			return errnos[i].name;
	return NULL;
}

int errno_by_name(const char *name)
{
	size_t i;

	if (!name)
		return 0;
	for (i = 0; i < sizeof(errnos) / sizeof(errnos[0]); i++)
		if (!strcmp(errnos[i].name, name))
			return errnos[i].value;
	return 0;
}
