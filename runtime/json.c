// SPDX-License-Identifier: GPL-2.0
/* JSON strings, for every --json output and the audit log. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

size_t fbpf_utf8_len(const unsigned char *s, size_t n)
{
	size_t len, i;
	uint32_t cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		len = 2;
		cp = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		len = 3;
		cp = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4;
		cp = s[0] & 0x07;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return len;
}

char *fbpf_json_escape(char *p, const char *str, int *lossy)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *s = (const unsigned char *)str;
	size_t n = strlen(str), l;

	while (n) {
		unsigned c = *s;

		if (c == '"' || c == '\\') {
			*p++ = '\\';
			*p++ = (char)c;
		} else if (c == '\n' || c == '\r' || c == '\t') {
			*p++ = '\\';
			*p++ = c == '\n' ? 'n' : c == '\r' ? 'r' : 't';
		} else if (c < 0x20 || c == 0x7f) {
			memcpy(p, "\\u00", 4);
			p[4] = hex[c >> 4];
			p[5] = hex[c & 15];
			p += 6;
		} else if ((l = fbpf_utf8_len(s, n)) != 0) {
			memcpy(p, s, l);
			p += l;
			s += l;
			n -= l;
			continue;
		} else {
			memcpy(p, "\\ufffd", 6);
			p += 6;
			if (lossy)
				*lossy = 1;
		}
		s++;
		n--;
	}
	*p = 0;
	return p;
}

void fbpf_json_string(FILE *f, const char *s)
{
	char stackbuf[1024], *buf = stackbuf, *end;
	size_t need;

	if (!s)
		s = "";
	need = strlen(s) * 6 + 1;
	if (need > sizeof(stackbuf)) {
		buf = malloc(need);
		if (!buf) {
			fputs("\"\"", f);
			return;
		}
	}
	end = fbpf_json_escape(buf, s, NULL);
	fputc('"', f);
	fwrite(buf, 1, (size_t)(end - buf), f);
	fputc('"', f);
	if (buf != stackbuf)
		free(buf);
}
