/* SPDX-License-Identifier: GPL-2.0 */
/* JSON strings, for every --json output and the audit log. */
#ifndef FBPF_JSON_H
#define FBPF_JSON_H

#include <stddef.h>
#include <stdio.h>

/* Length of the well-formed UTF-8 sequence at s (at most n bytes), 0 if the
 * byte at s does not start one. */
size_t fbpf_utf8_len(const unsigned char *s, size_t n);

/* Append the contents of s as a JSON string (no quotes) at p and return the
 * new end. Bytes that are not UTF-8 become \ufffd (JSON text must be UTF-8)
 * and set *lossy when lossy is not NULL. Needs at most 6 bytes of room per
 * byte of s, plus one for the NUL written at the end. */
char *fbpf_json_escape(char *p, const char *s, int *lossy);

/* Write s (NULL: "") to f as a JSON string literal, with its quotes. */
void fbpf_json_string(FILE *f, const char *s);

#endif
