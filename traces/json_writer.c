// SPDX-License-Identifier: GPL-2.0
/* The JSON writer (see json_writer.h): commas, nesting, layout, escaping. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include "json_writer.h"

#define JSONW_MAX_DEPTH 32

struct jsonw_level {
	char close;		/* ']' or '}' */
	bool first;		/* no member yet */
	int member_indent;	/* -1: members on the same line */
	int close_indent;	/* -1: bracket on the same line */
};

struct json_writer {
	FILE *out;
	int depth;
	struct jsonw_level lvl[JSONW_MAX_DEPTH];
	bool after_name;	/* a name was written, its value comes next */
	bool written;
	bool hold_top, held, closing;
	int pending;		/* indent of a jsonw_break(), or -1 */
};

json_writer_t *jsonw_new(FILE *f)
{
	json_writer_t *w = calloc(1, sizeof(*w));

	if (!w)
		return NULL;
	w->out = f;
	w->pending = -1;
	return w;
}

static void newline(json_writer_t *w, int indent)
{
	fputc('\n', w->out);
	for (int i = 0; i < indent; i++)
		fputc(' ', w->out);
}

/* what goes before a member: the comma, then a new line or a space */
static void sep(json_writer_t *w)
{
	struct jsonw_level *l;

	if (w->after_name) {
		w->after_name = false;
		return;
	}
	w->written = true;
	if (!w->depth) {
		if (w->pending >= 0)
			newline(w, w->pending);
		w->pending = -1;
		return;
	}
	l = &w->lvl[w->depth - 1];
	if (!l->first)
		fputc(',', w->out);
	if (w->pending >= 0)
		newline(w, w->pending);
	else if (l->member_indent >= 0)
		newline(w, l->member_indent);
	else if (!l->first)
		fputc(' ', w->out);
	w->pending = -1;
	l->first = false;
}

static void start(json_writer_t *w, char open, char close)
{
	if (w->depth == JSONW_MAX_DEPTH) {	/* a printer's bug: no report nests this deep */
		fprintf(stderr, "mmreplay: JSON nested deeper than %d\n", JSONW_MAX_DEPTH);
		abort();
	}
	sep(w);
	fputc(open, w->out);
	w->lvl[w->depth++] = (struct jsonw_level){ close, true, -1, -1 };
}

static void end(json_writer_t *w)
{
	struct jsonw_level *l;

	if (!w->depth)
		return;
	if (w->depth == 1 && w->hold_top && !w->closing) {
		w->held = true;
		return;
	}
	if (w->after_name) {		/* a name without a value */
		fputs("null", w->out);
		w->after_name = false;
	}
	l = &w->lvl[w->depth - 1];
	if (w->pending >= 0)
		newline(w, w->pending);
	else if (l->close_indent >= 0 && !l->first)
		newline(w, l->close_indent);
	w->pending = -1;
	fputc(l->close, w->out);
	w->depth--;
}

void jsonw_start_object(json_writer_t *w) { start(w, '{', '}'); }
void jsonw_end_object(json_writer_t *w) { end(w); }
void jsonw_start_array(json_writer_t *w) { start(w, '[', ']'); }
void jsonw_end_array(json_writer_t *w) { end(w); }

static void escaped(FILE *f, const char *s, size_t n)
{
	fputc('"', f);
	for (size_t i = 0; i < n && s[i]; i++) {
		unsigned char c = s[i];

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c == '\n')
			fputs("\\n", f);
		else if (c == '\t')
			fputs("\\t", f);
		else if (c < 0x20 || c >= 0x7f)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

void jsonw_name(json_writer_t *w, const char *name)
{
	sep(w);
	escaped(w->out, name, (size_t)-1);
	fputs(": ", w->out);
	w->after_name = true;
}

void jsonw_stringn(json_writer_t *w, const char *s, size_t n)
{
	sep(w);
	escaped(w->out, s ? s : "", n);
}

void jsonw_string(json_writer_t *w, const char *s)
{
	jsonw_stringn(w, s, (size_t)-1);
}

static void vstringf(json_writer_t *w, const char *fmt, va_list ap)
{
	char buf[1024], *p = buf;
	va_list aq;
	int n;

	va_copy(aq, ap);
	n = vsnprintf(buf, sizeof(buf), fmt, aq);
	va_end(aq);
	if (n >= (int)sizeof(buf) && (p = malloc(n + 1)))
		vsnprintf(p, n + 1, fmt, ap);
	jsonw_string(w, p ? p : buf);
	if (p != buf)
		free(p);
}

void jsonw_stringf(json_writer_t *w, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vstringf(w, fmt, ap);
	va_end(ap);
}

void jsonw_printf(json_writer_t *w, const char *fmt, ...)
{
	va_list ap;

	sep(w);
	va_start(ap, fmt);
	vfprintf(w->out, fmt, ap);
	va_end(ap);
}

void jsonw_uint(json_writer_t *w, unsigned long long v) { jsonw_printf(w, "%llu", v); }
void jsonw_int(json_writer_t *w, long long v) { jsonw_printf(w, "%lld", v); }
void jsonw_u64(json_writer_t *w, unsigned long long v) { jsonw_printf(w, "%llu", v); }
void jsonw_hex(json_writer_t *w, unsigned long long v) { jsonw_stringf(w, "0x%llx", v); }
void jsonw_float(json_writer_t *w, double v) { jsonw_printf(w, "%g", v); }
void jsonw_bool(json_writer_t *w, bool v) { jsonw_printf(w, "%s", v ? "true" : "false"); }
void jsonw_null(json_writer_t *w) { jsonw_printf(w, "null"); }

void jsonw_string_field(json_writer_t *w, const char *name, const char *s)
{
	jsonw_name(w, name);
	jsonw_string(w, s);
}

void jsonw_stringf_field(json_writer_t *w, const char *name, const char *fmt, ...)
{
	va_list ap;

	jsonw_name(w, name);
	va_start(ap, fmt);
	vstringf(w, fmt, ap);
	va_end(ap);
}

void jsonw_uint_field(json_writer_t *w, const char *name, unsigned long long v)
{
	jsonw_name(w, name);
	jsonw_uint(w, v);
}

void jsonw_int_field(json_writer_t *w, const char *name, long long v)
{
	jsonw_name(w, name);
	jsonw_int(w, v);
}

void jsonw_u64_field(json_writer_t *w, const char *name, unsigned long long v)
{
	jsonw_name(w, name);
	jsonw_u64(w, v);
}

void jsonw_hex_field(json_writer_t *w, const char *name, unsigned long long v)
{
	jsonw_name(w, name);
	jsonw_hex(w, v);
}

void jsonw_float_field(json_writer_t *w, const char *name, double v)
{
	jsonw_name(w, name);
	jsonw_float(w, v);
}

void jsonw_bool_field(json_writer_t *w, const char *name, bool v)
{
	jsonw_name(w, name);
	jsonw_bool(w, v);
}

void jsonw_null_field(json_writer_t *w, const char *name)
{
	jsonw_name(w, name);
	jsonw_null(w);
}

void jsonw_lines(json_writer_t *w, int member_indent, int close_indent)
{
	if (w->depth) {
		w->lvl[w->depth - 1].member_indent = member_indent;
		w->lvl[w->depth - 1].close_indent = close_indent;
	}
}

void jsonw_break(json_writer_t *w, int indent)
{
	w->pending = indent;
}

void jsonw_hold_top(json_writer_t *w)
{
	w->hold_top = true;
}

static void close_all(json_writer_t *w)
{
	w->closing = true;
	while (w->depth)
		end(w);
	w->held = false;
}

void jsonw_error(json_writer_t *w, const char *msg)
{
	if (!w->depth && w->written)
		return;		/* a whole document is out: the error stays on stderr */
	w->closing = true;
	while (w->depth > 1)
		end(w);
	if (w->depth && w->lvl[0].close == '}') {
		if (w->after_name)
			jsonw_null(w);
		w->pending = -1;
		jsonw_string_field(w, "error", msg);
	} else {
		w->pending = -1;
		jsonw_start_object(w);
		jsonw_string_field(w, "error", msg);
		jsonw_end_object(w);
	}
	close_all(w);
}

int jsonw_depth(const json_writer_t *w)
{
	return w->held ? 0 : w->depth;
}

bool jsonw_written(const json_writer_t *w)
{
	return w->written;
}

void jsonw_destroy(json_writer_t **w)
{
	if (!*w)
		return;
	close_all(*w);
	if ((*w)->written)
		fputc('\n', (*w)->out);
	fflush((*w)->out);
	free(*w);
	*w = NULL;
}
