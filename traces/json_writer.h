/* SPDX-License-Identifier: GPL-2.0 */
/*
 * One JSON writer for every printer, after bpftool's json_writer.h: the
 * writer owns the commas, the nesting and the escaping, so a printer only
 * says what it writes.
 *
 * Layout: values go on one line, "key": value, separated by ", " (the
 * spacing that mmreplay's JSON has always had, which scripts and tests grep
 * for).  jsonw_lines() puts each member of the innermost open container on
 * a line of its own; jsonw_break() puts only the next member (or the
 * closing bracket) on a new line.  Both take the indent, in spaces.
 *
 * Strings: '"' and '\\' as \" and \\, newline and tab as \n and \t, any
 * other byte below 0x20 or from 0x7f up as \u00XX.  jsonw_string(w, NULL)
 * writes "" (use jsonw_null for null).  Numbers are written as C prints
 * them (%llu, %lld).  A 64-bit value that can pass 2^53 (an address, a
 * register, a hash, an mm pointer) goes through jsonw_hex(): a string
 * "0x...", which readers that hold numbers in doubles (jq, JavaScript) keep
 * exact; jsonw_u64() is for counts.
 *
 * Errors (bpftool's p_err under --json): jsonw_error() writes
 * {"error": "msg"} when nothing was written yet, an "error" member when the
 * outermost container is an object that is still open, and an
 * {"error": "msg"} element when it is an array; then it closes everything.
 * jsonw_hold_top() keeps the outermost container open when its printer ends
 * it, so that an error found after the report still goes inside it; the
 * bracket is written by jsonw_destroy() or jsonw_error().
 */
#ifndef MMR_JSON_WRITER_H
#define MMR_JSON_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

typedef struct json_writer json_writer_t;

json_writer_t *jsonw_new(FILE *f);
/* closes what is still open, ends the output with a newline, frees *w */
void jsonw_destroy(json_writer_t **w);

void jsonw_start_object(json_writer_t *w);
void jsonw_end_object(json_writer_t *w);
void jsonw_start_array(json_writer_t *w);
void jsonw_end_array(json_writer_t *w);
void jsonw_name(json_writer_t *w, const char *name);

void jsonw_string(json_writer_t *w, const char *s);
/* at most n bytes of s, stopping at a NUL */
void jsonw_stringn(json_writer_t *w, const char *s, size_t n);
void jsonw_stringf(json_writer_t *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* a value written as is (a number in a format of its own) */
void jsonw_printf(json_writer_t *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void jsonw_uint(json_writer_t *w, unsigned long long v);
void jsonw_int(json_writer_t *w, long long v);
void jsonw_u64(json_writer_t *w, unsigned long long v);
void jsonw_hex(json_writer_t *w, unsigned long long v);	/* "0x..." */
void jsonw_float(json_writer_t *w, double v);	/* %g */
void jsonw_bool(json_writer_t *w, bool v);
void jsonw_null(json_writer_t *w);

void jsonw_string_field(json_writer_t *w, const char *name, const char *s);
void jsonw_stringf_field(json_writer_t *w, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void jsonw_uint_field(json_writer_t *w, const char *name, unsigned long long v);
void jsonw_int_field(json_writer_t *w, const char *name, long long v);
void jsonw_u64_field(json_writer_t *w, const char *name, unsigned long long v);
void jsonw_hex_field(json_writer_t *w, const char *name, unsigned long long v);
void jsonw_float_field(json_writer_t *w, const char *name, double v);
void jsonw_bool_field(json_writer_t *w, const char *name, bool v);
void jsonw_null_field(json_writer_t *w, const char *name);

/* layout of the innermost open container: each member on a line of its own,
 * indented by member_indent; the closing bracket (when there were members)
 * on a line of its own, indented by close_indent */
void jsonw_lines(json_writer_t *w, int member_indent, int close_indent);
/* the next member, or the closing bracket, on a new line indented by indent */
void jsonw_break(json_writer_t *w, int indent);

void jsonw_hold_top(json_writer_t *w);
void jsonw_error(json_writer_t *w, const char *msg);
/* nesting depth: 0 before the first value and after the last bracket */
int jsonw_depth(const json_writer_t *w);
bool jsonw_written(const json_writer_t *w);

#endif
