// SPDX-License-Identifier: GPL-2.0
/*
 * A strict check of the ftrace format text a trace carries, before
 * libtraceevent sees it: the text comes from an untrusted file, and
 * libtraceevent's parser and printer trust it (a print fmt "",D/s divides by
 * zero, "field:d n[" dereferences NULL).  Only the shapes real kernels (6.1
 * to 6.18) write for the tracepoints mmreplay records, and the formats
 * mmreplay generates for its own kinds, are accepted:
 *
 *   name: NAME
 *   ID: N
 *   format:
 *   <TAB>field:TYPE NAME[N];<TAB>offset:N;<TAB>size:N;<TAB>signed:0|1;
 *   ...                                  (blank lines between groups)
 *   print fmt: "TEXT", ARG, ...
 *
 * with conversions %[flags][width][.prec][hh|h|l|ll|z]d/i/o/u/x/X/c/s and
 * %p/%ps/%pS, and each ARG one of
 *   [(CAST)]REC->FIELD [& NUM] [? "S" : "S"]
 *   __get_str(FIELD)
 *   __print_symbolic(REC->FIELD, { NUM, "S" }, ...)
 *   __print_flags(REC->FIELD, "S", { NUM, "S" }, ...)
 */
#include <ctype.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "format.h"

#define FMT_MAX_TEXT (64 << 10)
#define FMT_MAX_FIELDS 64
#define FMT_MAX_ENTRIES 256	/* of a __print_symbolic or __print_flags */
#define RECORD_MAX 0xffff

#define FIELD_RE								\
	"^[\t ]field:(__data_loc )?([A-Za-z_][A-Za-z0-9_]*( [A-Za-z_][A-Za-z0-9_]*)*)"	\
	"(\\[\\])?( \\*+)? ([A-Za-z_][A-Za-z0-9_]*)(\\[([0-9]{1,5})\\])?;"	\
	"[\t ]offset:([0-9]{1,5});[\t ]size:([0-9]{1,5});[\t ]signed:([01]);$"

enum { M_ALL, M_LOC, M_TYPE, M_WORD, M_DYN, M_PTR, M_NAME, M_ARR, M_ARRN, M_OFF, M_SIZE,
       M_SIGNED, M_NR };

struct fmt_field {
	char name[64];
	unsigned off, size;
	int dynamic;
};

struct fmt_check {
	struct fmt_field f[FMT_MAX_FIELDS];
	int nr;
	const char *p;		/* cursor in the print fmt's arguments */
	char *why;
	size_t len;
};

/* Says why (one printable line, whatever the trace held) and returns -1. */
static int refuse(struct fmt_check *c, const char *fmt, const char *what)
{
	snprintf(c->why, c->len, fmt, what);
	for (char *p = c->why; *p; p++)
		if (!isprint((unsigned char)*p))
			*p = '?';
	return -1;
}

static unsigned match_num(const char *line, const regmatch_t *m)
{
	return m->rm_so < 0 ? 0 : (unsigned)strtoul(line + m->rm_so, NULL, 10);
}

static int field_size_ok(const struct fmt_field *f, unsigned count, int array)
{
	unsigned elem;

	if (f->dynamic)
		return f->size == 4 && !array;
	if (!array)
		return f->size == 1 || f->size == 2 || f->size == 4 || f->size == 8;
	if (!count || f->size % count)
		return 0;
	elem = f->size / count;
	return elem == 1 || elem == 2 || elem == 4 || elem == 8;
}

/* The four common fields every format starts with, as the kernel lays them out. */
static int common_ok(const struct fmt_check *c)
{
	static const struct { const char *name; unsigned off, size; } common[] = {
		{ "common_type", 0, 2 }, { "common_flags", 2, 1 },
		{ "common_preempt_count", 3, 1 }, { "common_pid", 4, 4 },
	};

	for (int i = 0; i < 4; i++)
		if (i >= c->nr || strcmp(c->f[i].name, common[i].name) ||
		    c->f[i].off != common[i].off || c->f[i].size != common[i].size)
			return 0;
	return 1;
}

static const struct fmt_field *find_field(const struct fmt_check *c, const char *name, size_t n)
{
	for (int i = 0; i < c->nr; i++)
		if (strlen(c->f[i].name) == n && !strncmp(c->f[i].name, name, n))
			return &c->f[i];
	return NULL;
}

static int add_field(struct fmt_check *c, const regex_t *re, const char *line)
{
	regmatch_t m[M_NR];
	struct fmt_field *f;
	size_t n;
	int array;

	if (regexec(re, line, M_NR, m, 0))
		return refuse(c, "malformed field line '%.60s'", line);
	if (c->nr == FMT_MAX_FIELDS)
		return refuse(c, "more than %s fields", "64");
	f = &c->f[c->nr];
	n = m[M_NAME].rm_eo - m[M_NAME].rm_so;
	if (n >= sizeof(f->name))
		return refuse(c, "field name too long in '%.60s'", line);
	memcpy(f->name, line + m[M_NAME].rm_so, n);
	f->name[n] = 0;
	if (find_field(c, f->name, n))
		return refuse(c, "field '%s' declared twice", f->name);
	f->off = match_num(line, &m[M_OFF]);
	f->size = match_num(line, &m[M_SIZE]);
	f->dynamic = m[M_LOC].rm_so >= 0;
	array = m[M_ARR].rm_so >= 0;
	if ((m[M_DYN].rm_so >= 0) != f->dynamic)
		return refuse(c, "bad __data_loc field '%s'", f->name);
	if (f->off > RECORD_MAX || f->size > RECORD_MAX - f->off)
		return refuse(c, "field '%s' lies beyond a record", f->name);
	if (!field_size_ok(f, match_num(line, &m[M_ARRN]), array))
		return refuse(c, "field '%s' has a size its type cannot have", f->name);
	c->nr++;
	return 0;
}

/* Length of one conversion spec after its '%' at @p; 0 if refused. */
static size_t conversion(const char *p)
{
	const char *q = p + strspn(p, "-+ #0");
	size_t n = strspn(q, "0123456789");

	if (n > 3)
		return 0;
	q += n;
	if (*q == '.') {
		n = strspn(q + 1, "0123456789");
		if (n > 3)
			return 0;
		q += 1 + n;
	}
	if (!strncmp(q, "hh", 2) || !strncmp(q, "ll", 2))
		q += 2;
	else if (*q == 'h' || *q == 'l' || *q == 'z')
		q++;
	if (*q == 'p' && (q[1] == 's' || q[1] == 'S'))
		return q + 2 - p;
	if (*q == 'p' && isalnum((unsigned char)q[1]))
		return 0;	/* %pM, %pI4...: libtraceevent reads memory for those */
	if (!*q || !strchr("diouxXcsp", *q))
		return 0;
	return q + 1 - p;
}

/* Conversions in the quoted text at *s (moved past its closing quote); -1 if refused. */
static int conversions(struct fmt_check *c, const char **s)
{
	const char *p = *s + 1;
	int n = 0;

	for (; *p && *p != '"'; p++) {
		size_t len;

		if (*p == '\\' && (p[1] == '\\' || p[1] == 'n' || p[1] == 't')) {
			p++;
			continue;
		}
		if (!isprint((unsigned char)*p) || *p == '\\')
			return refuse(c, "%s", "print fmt has an unprintable character or a backslash");
		if (*p != '%')
			continue;
		if (p[1] == '%') {
			p++;
			continue;
		}
		len = conversion(p + 1);
		if (!len)
			return refuse(c, "print fmt has a conversion mmreplay does not know at '%.20s'",
				      p);
		p += len;
		n++;
	}
	if (*p != '"')
		return refuse(c, "%s", "print fmt text is not closed");
	*s = p + 1;
	return n;
}

/* ---- arguments: a tiny recursive descent over c->p ---------------------- */

static void skip_sp(struct fmt_check *c)
{
	while (*c->p == ' ')
		c->p++;
}

static int eat(struct fmt_check *c, const char *tok)
{
	size_t n = strlen(tok);

	skip_sp(c);
	if (strncmp(c->p, tok, n))
		return 0;
	c->p += n;
	return 1;
}

static size_t ident_len(const char *p)
{
	size_t n = 0;

	if (!isalpha((unsigned char)*p) && *p != '_')
		return 0;
	while (isalnum((unsigned char)p[n]) || p[n] == '_')
		n++;
	return n;
}

static int number(struct fmt_check *c)
{
	size_t n;

	skip_sp(c);
	c->p += *c->p == '-';
	n = !strncmp(c->p, "0x", 2) ? 2 + strspn(c->p + 2, "0123456789abcdefABCDEF") :
				      strspn(c->p, "0123456789");
	if (!n || n > 20)
		return 0;
	c->p += n;
	c->p += strspn(c->p, "uUlL") <= 3 ? strspn(c->p, "uUlL") : 0;
	return 1;
}

static int string(struct fmt_check *c)
{
	const char *e;

	skip_sp(c);
	if (*c->p != '"' || !(e = strchr(c->p + 1, '"')) || e - c->p > 256)
		return 0;
	for (const char *q = c->p + 1; q < e; q++)
		if (!isprint((unsigned char)*q) || *q == '\\')
			return 0;
	c->p = e + 1;
	return 1;
}

/* REC->FIELD, a declared field that is not dynamic. */
static int rec_field(struct fmt_check *c)
{
	const struct fmt_field *f;
	size_t n;

	if (!eat(c, "REC->"))
		return 0;
	n = ident_len(c->p);
	f = n ? find_field(c, c->p, n) : NULL;
	if (!f || f->dynamic)
		return 0;
	c->p += n;
	return 1;
}

/* ( TYPE WORDS [*...] ) */
static int cast(struct fmt_check *c)
{
	int words = 0;
	size_t n;

	if (!eat(c, "("))
		return 0;
	for (skip_sp(c); (n = ident_len(c->p)); skip_sp(c), words++)
		c->p += n;
	while (eat(c, "*"))
		;
	return words && eat(c, ")");
}

/* { NUM, "S" }, ... ) */
static int entries(struct fmt_check *c)
{
	for (int i = 0; i < FMT_MAX_ENTRIES; i++) {
		if (!eat(c, ",") || !eat(c, "{") || !number(c) || !eat(c, ",") || !string(c) ||
		    !eat(c, "}"))
			return 0;
		if (eat(c, ")"))
			return 1;
	}
	return 0;
}

static int helper(struct fmt_check *c)
{
	const struct fmt_field *f;
	size_t n;

	if (eat(c, "__print_symbolic("))
		return rec_field(c) && entries(c);
	if (eat(c, "__print_flags("))
		return rec_field(c) && eat(c, ",") && string(c) && entries(c);
	if (!eat(c, "__get_str("))
		return 0;
	skip_sp(c);
	n = ident_len(c->p);
	f = n ? find_field(c, c->p, n) : NULL;
	if (!f || !f->dynamic)
		return 0;
	c->p += n;
	return eat(c, ")");
}

/* One argument, up to the next top-level comma or the end. */
static int argument(struct fmt_check *c)
{
	const char *at = c->p;

	skip_sp(c);
	if (*c->p == '_')
		return helper(c);
	if (*c->p == '(' && !cast(c))
		return 0;
	if (!rec_field(c))
		return 0;
	if (eat(c, "&") && !number(c))
		return 0;
	if (eat(c, "?") && !(string(c) && eat(c, ":") && string(c)))
		return 0;
	return c->p > at;
}

static int print_fmt(struct fmt_check *c, const char *line)
{
	const char *s = line + strlen("print fmt: ");
	int n;

	if (*s != '"')
		return refuse(c, "print fmt does not start with a %s", "quote");
	n = conversions(c, &s);
	if (n < 0)
		return -1;
	c->p = s;
	for (int i = 0; i < n; i++) {
		const char *at = c->p;

		if (!eat(c, ",") || !argument(c))
			return refuse(c, "print fmt argument '%.40s' is not one mmreplay knows",
				      *at == ',' ? at + 1 : at);
	}
	skip_sp(c);
	if (*c->p)
		return refuse(c, "print fmt has more arguments than conversions at '%.40s'",
			      c->p);
	return 0;
}

static int head_ok(const char *text, const char **rest)
{
	const char *p = text;
	size_t n;

	if (strncmp(p, "name: ", 6) || !(n = ident_len(p + 6)) || p[6 + n] != '\n')
		return 0;
	p += 6 + n + 1;
	if (strncmp(p, "ID: ", 4) || !(n = strspn(p + 4, "0123456789")) || n > 9 ||
	    p[4 + n] != '\n')
		return 0;
	p += 4 + n + 1;
	if (strncmp(p, "format:\n", 8))
		return 0;
	*rest = p + 8;
	return 1;
}

/* Fields, blank lines, then the print fmt line and the end of the text. */
static int body(struct fmt_check *c, const regex_t *re, const char *p)
{
	char line[1024];

	while (*p) {
		size_t n = strcspn(p, "\n");

		if (n >= sizeof(line))
			return refuse(c, "a line of the format is too %s", "long");
		memcpy(line, p, n);
		line[n] = 0;
		p += n + (p[n] == '\n');
		if (!n)
			continue;
		if (!strncmp(line, "print fmt: ", 11)) {
			if (!common_ok(c))
				return refuse(c, "the common fields are %s", "not the kernel's");
			if (print_fmt(c, line))
				return -1;
			if (p[strspn(p, "\n")])
				return refuse(c, "text follows the %s", "print fmt");
			return 0;
		}
		if (add_field(c, re, line))
			return -1;
	}
	return refuse(c, "the format has no %s", "print fmt");
}

int mmr_format_check(const char *text, char *why, size_t len)
{
	struct fmt_check c = { .why = why, .len = len };
	const char *rest;
	regex_t re;
	int ret;

	if (strlen(text) > FMT_MAX_TEXT)
		return refuse(&c, "the format is too %s", "long");
	if (!head_ok(text, &rest))
		return refuse(&c, "the format does not start with %s",
			      "'name:', 'ID:' and 'format:' lines");
	if (regcomp(&re, FIELD_RE, REG_EXTENDED))
		return refuse(&c, "%s", "cannot compile the field pattern");
	ret = body(&c, &re, rest);
	regfree(&re);
	return ret;
}
