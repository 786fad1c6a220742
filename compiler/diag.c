// SPDX-License-Identifier: GPL-2.0
/*
 * Diagnostics in the style of a C compiler:
 *
 *   rules.fbp:3:6: error: unknown operation 'wirte'
 *       deny wirte "/DCIM/"
 *            ^~~~~
 *   rules.fbp:3:6: note: did you mean 'write'?
 *
 * Errors and warnings quote their line, indented by four spaces, with a caret
 * line under loc.len bytes of it; notes do not. Columns are byte columns; in
 * the caret line a tab stays a tab and a UTF-8 character takes one place, so
 * that the caret lines up on a terminal. With d->json every diagnostic is
 * one JSON object on a line of its own.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "json.h"

#define INDENT "    "

enum sev { SEV_ERROR, SEV_WARNING, SEV_NOTE, SEV_FATAL };

static const char *const sev_name[] = { "error", "warning", "note", "fatal error" };
static const char *const sev_color[] = { "\033[1;31m", "\033[1;35m", "\033[1;36m", "\033[1;31m" };
#define C_BOLD "\033[1m"
#define C_CARET "\033[1;32m"
#define C_RESET "\033[0m"

void diag_init(struct diag *d, const char *file, const char *source, FILE *out)
{
	memset(d, 0, sizeof(*d));
	d->file = file;
	d->source = source;
	d->out = out ? out : stderr;
}

/* The message, with control bytes shown as \xNN so that quoted input cannot
 * move the cursor or colour the terminal. */
static void text_message(FILE *f, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c < 0x20 || c == 0x7f)
			fprintf(f, "\\x%02x", c);
		else
			fputc(c, f);
	}
}

/* Start of line `line` (1-based) of the source, or NULL; *len gets its
 * length without the line end. Remembers where it stopped. */
static const char *find_line(struct diag *d, int line, size_t *len)
{
	const char *p = d->source, *e;
	int at = 1;

	if (!p || line < 1)
		return NULL;
	if (d->lc_source == d->source && d->lc_at && d->lc_line <= line) {
		p = d->lc_at;
		at = d->lc_line;
	}
	while (at < line) {
		p = strchr(p, '\n');
		if (!p)
			return NULL;
		p++;
		at++;
	}
	d->lc_source = d->source;
	d->lc_at = p;
	d->lc_line = line;
	e = strchr(p, '\n');
	*len = e ? (size_t)(e - p) : strlen(p);
	if (*len && p[*len - 1] == '\r')
		(*len)--;
	return p;
}

/* The quoted line and the caret line under [col, col+len). */
static void quote_line(struct diag *d, struct loc loc)
{
	const unsigned char *s;
	size_t n, i, l, start, end;
	FILE *f = d->out;

	s = (const unsigned char *)find_line(d, loc.line, &n);
	if (!s)
		return;
	start = loc.col > 1 ? (size_t)loc.col - 1 : 0;
	if (start > n)
		start = n;
	end = start + (size_t)(loc.len > 1 ? loc.len : 1);
	if (end > n)
		end = n;
	fputs(INDENT, f);
	for (i = 0; i < n; i += l) {
		l = s[i] < 0x80 ? 1 : fbpf_utf8_len(s + i, n - i);
		if (!l) {
			fputc('?', f);
			l = 1;
		} else if (l > 1) {
			fwrite(s + i, 1, l, f);
		} else if (s[i] == '\t') {
			fputc('\t', f);
		} else if (s[i] < 0x20 || s[i] == 0x7f) {
			fputc(' ', f);
		} else {
			fputc(s[i], f);
		}
	}
	fputs("\n" INDENT, f);
	for (i = 0; i < start; i += l) {
		l = s[i] < 0x80 ? 1 : fbpf_utf8_len(s + i, n - i);
		if (!l)
			l = 1;
		fputc(s[i] == '\t' ? '\t' : ' ', f);
	}
	if (d->color)
		fputs(C_CARET, f);
	fputc('^', f);
	i = start;
	if (i < n) {
		l = s[i] < 0x80 ? 1 : fbpf_utf8_len(s + i, n - i);
		i += l ? l : 1;
	}
	for (; i < end; i += l) {
		l = s[i] < 0x80 ? 1 : fbpf_utf8_len(s + i, n - i);
		if (!l)
			l = 1;
		fputc('~', f);
	}
	if (d->color)
		fputs(C_RESET, f);
	fputc('\n', f);
}

static void emit(struct diag *d, enum sev sev, const struct loc *loc, const char *msg)
{
	FILE *f = d->out ? d->out : stderr;
	const char *file = d->file ? d->file : "<input>";

	d->out = f;
	if (d->json) {
		fputs("{\"file\":", f);
		fbpf_json_string(f, file);
		fprintf(f, ",\"line\":%d,\"col\":%d,\"severity\":\"%s\",\"message\":",
			loc ? loc->line : 0, loc ? loc->col : 0, sev == SEV_FATAL ? "fatal" : sev_name[sev]);
		fbpf_json_string(f, msg);
		fputs("}\n", f);
		fflush(f);
		return;
	}
	if (d->color)
		fputs(C_BOLD, f);
	if (loc)
		fprintf(f, "%s:%d:%d: ", file, loc->line, loc->col);
	else
		fprintf(f, "%s: ", sev == SEV_FATAL ? file : "fbpfc");
	if (d->color)
		fprintf(f, "%s%s:" C_RESET C_BOLD " ", sev_color[sev], sev_name[sev]);
	else
		fprintf(f, "%s: ", sev_name[sev]);
	text_message(f, msg);
	if (d->color)
		fputs(C_RESET, f);
	fputc('\n', f);
	if (loc && (sev == SEV_ERROR || sev == SEV_WARNING))
		quote_line(d, *loc);
	fflush(f);
}

static void vreport(struct diag *d, enum sev sev, const struct loc *loc, const char *fmt, va_list ap)
{
	char buf[1024], *msg = buf;
	va_list ap2;
	int n;

	if (!d)
		return;
	if (d->errors > DIAG_MAX_ERRORS)
		return; /* past the cap: silence, notes and warnings too */
	if (sev == SEV_ERROR && d->errors == DIAG_MAX_ERRORS) {
		d->errors++;
		emit(d, SEV_FATAL, NULL, "too many errors (more than 50), stopping now");
		return;
	}
	va_copy(ap2, ap);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	if (n >= (int)sizeof(buf)) {
		msg = malloc((size_t)n + 1);
		if (msg)
			vsnprintf(msg, (size_t)n + 1, fmt, ap2);
		else
			msg = buf; /* truncated, but said */
	}
	va_end(ap2);
	if (sev == SEV_ERROR)
		d->errors++;
	else if (sev == SEV_WARNING)
		d->warnings++;
	emit(d, sev, loc, msg);
	if (msg != buf)
		free(msg);
}

void diag_error(struct diag *d, struct loc loc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(d, SEV_ERROR, &loc, fmt, ap);
	va_end(ap);
}

void diag_warning(struct diag *d, struct loc loc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(d, SEV_WARNING, &loc, fmt, ap);
	va_end(ap);
}

void diag_note(struct diag *d, struct loc loc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(d, SEV_NOTE, &loc, fmt, ap);
	va_end(ap);
}

void diag_plain(struct diag *d, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(d, SEV_ERROR, NULL, fmt, ap);
	va_end(ap);
}

/* ---- did you mean --------------------------------------------------------
 * Optimal string alignment distance (Levenshtein plus the swap of two
 * neighbours, so that "wirte" is one edit from "write"), ignoring case. */

static int lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

#define DYM_MAX 64 /* candidates are short words */

static size_t osa_distance(const char *a, size_t la, const char *b, size_t lb)
{
	size_t rows[3][DYM_MAX + 1], *pp = rows[0], *p = rows[1], *c = rows[2], *t;
	size_t i, j;

	for (j = 0; j <= lb; j++)
		p[j] = j;
	for (i = 1; i <= la; i++) {
		c[0] = i;
		for (j = 1; j <= lb; j++) {
			size_t cost = lower((unsigned char)a[i - 1]) != lower((unsigned char)b[j - 1]);
			size_t v = p[j] + 1;

			if (c[j - 1] + 1 < v)
				v = c[j - 1] + 1;
			if (p[j - 1] + cost < v)
				v = p[j - 1] + cost;
			if (i > 1 && j > 1 && lower((unsigned char)a[i - 1]) == lower((unsigned char)b[j - 2]) &&
			    lower((unsigned char)a[i - 2]) == lower((unsigned char)b[j - 1]) && pp[j - 2] + 1 < v)
				v = pp[j - 2] + 1;
			c[j] = v;
		}
		t = pp;
		pp = p;
		p = c;
		c = t;
	}
	return p[lb];
}

const char *did_you_mean(const char *word, const char *const *cands)
{
	size_t lw, limit, best_d = (size_t)-1;
	const char *best = NULL;

	if (!word || !cands)
		return NULL;
	lw = strlen(word);
	if (!lw)
		return NULL;
	limit = lw / 3 > 1 ? lw / 3 : 1;
	for (; *cands; cands++) {
		size_t lc = strlen(*cands), dist;

		if (lc > DYM_MAX || (lw > lc ? lw - lc : lc - lw) > limit)
			continue;
		dist = osa_distance(word, lw, *cands, lc);
		if (dist <= limit && dist < best_d) {
			best_d = dist;
			best = *cands;
		}
	}
	return best;
}
