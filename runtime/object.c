// SPDX-License-Identifier: GPL-2.0
/* Reading rules.o: a small ELF64 section walker (no libelf needed) and the
 * checks that turn a bad or foreign object into one clear sentence. */
#include <elf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "object.h"

#ifndef EM_BPF
#define EM_BPF 247
#endif

static int fail(char *err, size_t errlen, const char *fmt, const char *a, const char *b)
{
	snprintf(err, errlen, fmt, a, b);
	return -1;
}

int fbpf_object_parse(const void *elf, size_t len, const char *path, struct fbpf_object **out,
		      char *err, size_t errlen)
{
	const unsigned char *p = elf;
	Elf64_Ehdr eh;
	Elf64_Shdr sh, strsh;
	const unsigned char *sec = NULL;
	size_t seclen = 0, i;
	struct fbpf_meta m;
	struct fbpf_object *o;
	char abibuf[64];

	*out = NULL;
	if (len < sizeof(eh) || memcmp(p, ELFMAG, SELFMAG))
		return fail(err, errlen, "%s is not an ELF object: give fbpf-run a rules.o built by 'fbpfc compile'%s", path, "");
	memcpy(&eh, p, sizeof(eh));
	if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_ident[EI_DATA] != ELFDATA2LSB)
		return fail(err, errlen, "%s is not a 64-bit little-endian ELF object; rebuild it with 'fbpfc compile'%s", path, "");
	if (eh.e_machine != EM_BPF)
		return fail(err, errlen, "%s is not a BPF object (it was built for another machine); build it with 'fbpfc compile'%s", path, "");
	if (eh.e_shentsize != sizeof(Elf64_Shdr) || eh.e_shoff > len ||
	    (size_t)eh.e_shnum * sizeof(Elf64_Shdr) > len - eh.e_shoff || eh.e_shstrndx >= eh.e_shnum)
		return fail(err, errlen, "%s is a damaged ELF object (bad section table); rebuild it with 'fbpfc compile'%s", path, "");
	memcpy(&strsh, p + eh.e_shoff + (size_t)eh.e_shstrndx * sizeof(Elf64_Shdr), sizeof(strsh));
	if (strsh.sh_offset > len || strsh.sh_size > len - strsh.sh_offset)
		return fail(err, errlen, "%s is a damaged ELF object (bad section names); rebuild it with 'fbpfc compile'%s", path, "");
	for (i = 0; i < eh.e_shnum; i++) {
		const char *name;

		memcpy(&sh, p + eh.e_shoff + i * sizeof(Elf64_Shdr), sizeof(sh));
		if (sh.sh_name >= strsh.sh_size)
			continue;
		name = (const char *)p + strsh.sh_offset + sh.sh_name;
		if (strnlen(name, strsh.sh_size - sh.sh_name) == strsh.sh_size - sh.sh_name)
			continue;
		if (strcmp(name, FBPF_META_SECTION))
			continue;
		if (sh.sh_type == SHT_NOBITS || sh.sh_offset > len || sh.sh_size > len - sh.sh_offset)
			return fail(err, errlen, "%s has a damaged %s section; rebuild it with 'fbpfc compile'", path, FBPF_META_SECTION);
		sec = p + sh.sh_offset;
		seclen = sh.sh_size;
		break;
	}
	if (!sec)
		return fail(err, errlen, "%s is a BPF object but not an fbpf policy (it has no %s section); "
			    "build it with 'fbpfc compile'", path, FBPF_META_SECTION);
	if (seclen < 16 || memcmp(sec, FBPF_META_MAGIC, 8))
		return fail(err, errlen, "%s has a %s section that is not fbpf metadata; build it with 'fbpfc compile'", path, FBPF_META_SECTION);
	memset(&m, 0, sizeof(m));
	memcpy(&m, sec, seclen < sizeof(m) ? seclen : sizeof(m));
	if (m.abi != FBPF_ABI_VERSION) {
		snprintf(abibuf, sizeof(abibuf), "%u, but this fbpf speaks ABI %u", m.abi, FBPF_ABI_VERSION);
		return fail(err, errlen, "%s was built for fbpf ABI %s: recompile the policy with this fbpfc", path, abibuf);
	}
	if (m.meta_size != sizeof(m) || seclen < sizeof(m) ||
	    m.strtab_len > seclen - sizeof(m) ||
	    (size_t)m.tables_words * 4 > seclen - sizeof(m) - m.strtab_len ||
	    m.tables_words < FBPF_T_HEADER_WORDS || m.strtab_len == 0 ||
	    m.file_off >= m.strtab_len || m.handlers_off > m.strtab_len || m.source_off >= m.strtab_len)
		return fail(err, errlen, "%s has inconsistent fbpf metadata (damaged or truncated); rebuild it with 'fbpfc compile'%s", path, "");
	o = calloc(1, sizeof(*o));
	if (!o)
		return fail(err, errlen, "out of memory reading %s%s", path, "");
	o->meta = m;
	o->meta.policy[FBPF_POLICY_NAME_MAX] = 0;
	o->strtab = malloc(m.strtab_len + 1);
	o->words = malloc((size_t)m.tables_words * 4);
	o->handlers = calloc(m.nhandlers + 1, sizeof(char *));
	if (!o->strtab || !o->words || !o->handlers) {
		fbpf_object_free(o);
		return fail(err, errlen, "out of memory reading %s%s", path, "");
	}
	memcpy(o->strtab, sec + sizeof(m), m.strtab_len);
	o->strtab[m.strtab_len] = 0;
	memcpy(o->words, sec + sizeof(m) + m.strtab_len, (size_t)m.tables_words * 4);
	o->nwords = m.tables_words;
	o->file = o->strtab + m.file_off;
	o->source = o->strtab + m.source_off;
	{
		size_t off = m.handlers_off;

		for (i = 0; i < m.nhandlers; i++) {
			if (off >= m.strtab_len) {
				fbpf_object_free(o);
				return fail(err, errlen, "%s has inconsistent handler names; rebuild it with 'fbpfc compile'%s", path, "");
			}
			o->handlers[i] = o->strtab + off;
			off += strlen(o->strtab + off) + 1;
		}
	}
	if (o->words[FBPF_T_MAGIC] != FBPF_TABLE_MAGIC || o->words[FBPF_T_ABI] != FBPF_ABI_VERSION ||
	    o->words[FBPF_T_WORDS] != o->nwords) {
		fbpf_object_free(o);
		return fail(err, errlen, "%s has damaged policy tables; rebuild it with 'fbpfc compile'%s", path, "");
	}
	*out = o;
	return 0;
}

int fbpf_object_read(const char *path, struct fbpf_object **out, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	unsigned char *buf = NULL;
	size_t len = 0, cap = 0, n;
	int rc;

	*out = NULL;
	if (!f) {
		snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
		return -1;
	}
	for (;;) {
		if (len == cap) {
			unsigned char *nb;

			cap = cap ? cap * 2 : 1 << 16;
			if (cap > (1u << 30) || !(nb = realloc(buf, cap))) {
				free(buf);
				fclose(f);
				snprintf(err, errlen, "%s is too large to be a policy object", path);
				return -1;
			}
			buf = nb;
		}
		n = fread(buf + len, 1, cap - len, f);
		len += n;
		if (n == 0)
			break;
	}
	if (ferror(f)) {
		snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
		free(buf);
		fclose(f);
		return -1;
	}
	fclose(f);
	rc = fbpf_object_parse(buf, len, path, out, err, errlen);
	free(buf);
	return rc;
}

void fbpf_object_free(struct fbpf_object *o)
{
	if (!o)
		return;
	free(o->strtab);
	free(o->words);
	free(o->handlers);
	free(o);
}

const char *fbpf_object_source_line(const struct fbpf_object *o, uint32_t line, char *buf, size_t len)
{
	const char *s = o->source, *e;
	uint32_t l = 1;

	while (*s && l < line) {
		if (*s++ == '\n')
			l++;
	}
	if (l != line || !len)
		return NULL;
	e = strchr(s, '\n');
	if (!e)
		e = s + strlen(s);
	if (e > s && e[-1] == '\r')
		e--;
	snprintf(buf, len, "%.*s", (int)(e - s), s);
	return buf;
}

uint32_t fbpf_object_rule_line(const struct fbpf_object *o, uint32_t rule)
{
	uint32_t at;

	if (rule == 0 || rule > o->words[FBPF_T_NRULES])
		return 0;
	at = o->words[FBPF_T_RULES] + (rule - 1) * FBPF_RULE_WORDS + FBPF_RW_LINE;
	return at < o->nwords ? o->words[at] : 0;
}
