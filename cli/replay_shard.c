// SPDX-License-Identifier: GPL-2.0
/*
 * The partial report of `replay --explore --shard I/N`: its "shard" member,
 * written through the JSON writer, and read back for `mmreplay merge` by a
 * small JSON reader (a tree of values; the report is at most a few MB).
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "replay_shard.h"

/* ---- the writer ---------------------------------------------------------- */

__u64 replay_shard_trace_id(const char *path)
{
	FILE *f = fopen(path, "r");
	__u64 h = 0xcbf29ce484222325ULL;
	int c;

	if (!f)
		return 0;
	while ((c = getc(f)) != EOF)
		h = (h ^ (unsigned char)c) * 0x100000001b3ULL;
	fclose(f);
	return h;
}

/* [type, nr, task]: what the report's printers need of an op */
static void write_op(json_writer_t *w, const char *name, const struct rop *op)
{
	jsonw_name(w, name);
	jsonw_start_array(w);
	jsonw_uint(w, op->type);
	jsonw_uint(w, op->nr);
	jsonw_uint(w, op->task);
	jsonw_end_array(w);
}

static void write_run(json_writer_t *w, const struct run_result *res, const struct run_check *rc)
{
	jsonw_start_object(w);
	jsonw_u64_field(w, "seed", res->run.seed);
	jsonw_u64_field(w, "findings", rc->findings);
	jsonw_name(w, "verdicts");
	jsonw_start_array(w);
	for (int v = 0; v < V_NR; v++)
		jsonw_u64(w, rc->per_verdict[v]);
	jsonw_end_array(w);
	jsonw_int_field(w, "perturbed", res->st.perturbed);
	jsonw_int_field(w, "perturb_at_ns", res->st.perturb_at_ns);
	jsonw_u64_field(w, "op_ns", res->st.op_ns);
	jsonw_u64_field(w, "perturb_ns", res->st.perturb_ns);
	jsonw_float_field(w, "after_s", res->after_s);
	jsonw_string_field(w, "error", res->err);
	jsonw_string_field(w, "first", rc->first);
	jsonw_end_object(w);
}

/* Cell i of rs: its trials that ran, r = t * nr_pairs + i, in trial order. */
static void write_cell(json_writer_t *w, const struct rrun_set *rs, const struct rplan *p,
		       const struct replay_outcome *out, int i)
{
	const struct rpair *pr = &rs->pairs[i];

	jsonw_start_object(w);
	jsonw_int_field(w, "cell", rs->cell_id[i]);
	jsonw_uint_field(w, "a", pr->a);
	jsonw_uint_field(w, "b", pr->b);
	jsonw_int_field(w, "perturb", pr->perturb);
	write_op(w, "op_a", &p->ops[pr->a]);
	write_op(w, "op_b", &p->ops[pr->perturb ? pr->a : pr->b]);
	jsonw_name(w, "runs");
	jsonw_start_array(w);
	for (int t = 0, n = cell_runs(rs, out, i); t < n; t++)
		write_run(w, &out->res[t * rs->nr_pairs + i], &out->rc[t * rs->nr_pairs + i]);
	jsonw_end_array(w);
	jsonw_end_object(w);
}

static void write_caps(json_writer_t *w, const struct perturb_caps *c)
{
	jsonw_uint_field(w, "perturb_ok", c->ok);
	jsonw_name(w, "perturb_how");
	jsonw_start_array(w);
	for (int k = 0; k < PERTURB_NR; k++)
		jsonw_string(w, c->how[k]);
	jsonw_end_array(w);
	jsonw_name(w, "perturb_why");
	jsonw_start_array(w);
	for (int k = 0; k < PERTURB_NR; k++)
		jsonw_string(w, c->why[k]);
	jsonw_end_array(w);
}

void replay_shard_write(const struct replay_opts *o, const struct rrun_set *rs,
			const struct rplan *p, const struct replay_outcome *out, json_writer_t *w)
{
	jsonw_break(w, 0);
	jsonw_name(w, "shard");
	jsonw_start_object(w);
	jsonw_int_field(w, "index", o->shard);
	jsonw_int_field(w, "of", o->shards);
	jsonw_string_field(w, "trace", o->trace);
	jsonw_hex_field(w, "trace_fnv1a", replay_shard_trace_id(o->trace));
	jsonw_u64_field(w, "seed", o->seed);
	jsonw_int_field(w, "trials", o->trials);
	jsonw_int_field(w, "stop_after", o->stop_after);
	jsonw_int_field(w, "min_trials", o->min_trials);
	jsonw_int_field(w, "budget_s", o->budget_s);
	jsonw_int_field(w, "max_pairs", o->max_pairs);
	jsonw_u64_field(w, "window_ns", o->window_ns);
	jsonw_uint_field(w, "perturb", o->perturb);
	jsonw_string_field(w, "kernel", o->kernel ?: "");
	jsonw_int_field(w, "cells_all", rs->nr_cells);
	jsonw_int_field(w, "racing_all", rs->nr_racing);
	jsonw_bool_field(w, "incomplete", out->incomplete);
	jsonw_bool_field(w, "interrupted", out->interrupted);
	jsonw_bool_field(w, "unchecked", out->unchecked);
	jsonw_bool_field(w, "deterministic", out->deterministic);
	jsonw_string_field(w, "determinism", out->determinism);
	write_caps(w, &out->caps);
	jsonw_name(w, "cells");
	jsonw_start_array(w);
	jsonw_lines(w, 2, 0);
	for (int i = 0; i < rs->nr_pairs; i++)
		write_cell(w, rs, p, out, i);
	jsonw_end_array(w);
	jsonw_end_object(w);
}

/* ---- a small JSON reader ------------------------------------------------- */

enum { J_NULL, J_BOOL, J_NUM, J_STR, J_ARR, J_OBJ };

struct jv {
	int type;
	char *text;		/* a string's bytes, a number's or a bool's text */
	char **keys;		/* an object's */
	struct jv *kids;	/* an array's or an object's values */
	int n;
};

struct jparse {
	const char *s, *end;
	int depth;
};

static void jv_free(struct jv *v)
{
	for (int i = 0; i < v->n; i++) {
		jv_free(&v->kids[i]);
		if (v->keys)
			free(v->keys[i]);
	}
	free(v->kids);
	free(v->keys);
	free(v->text);
}

static void skip_ws(struct jparse *j)
{
	while (j->s < j->end && isspace((unsigned char)*j->s))
		j->s++;
}

static int hex4(const char *s)
{
	int v = 0;

	for (int i = 0; i < 4; i++) {
		if (!isxdigit((unsigned char)s[i]))
			return -1;
		v = v * 16 + (isdigit((unsigned char)s[i]) ? s[i] - '0' : (s[i] | 32) - 'a' + 10);
	}
	return v;
}

/* A string at j->s ('"'); its bytes (\u00XX as the byte the writer escaped) */
static char *parse_str(struct jparse *j)
{
	static const char esc[] = "\"\"\\\\//b\bf\fn\nr\rt\t";
	char *buf = malloc(j->end - j->s + 1), *o = buf;

	for (j->s++; buf && j->s < j->end && *j->s != '"'; j->s++) {
		const char *e;

		if (*j->s != '\\') {
			*o++ = *j->s;
			continue;
		}
		if (++j->s >= j->end)
			break;
		if (*j->s == 'u' && j->end - j->s > 4 && hex4(j->s + 1) >= 0 && hex4(j->s + 1) < 256) {
			*o++ = hex4(j->s + 1);
			j->s += 4;
		} else if ((e = strchr(esc, *j->s)) && (e - esc) % 2 == 0 && *j->s) {
			*o++ = e[1];
		} else {
			break;
		}
	}
	if (!buf || j->s >= j->end || *j->s != '"') {
		free(buf);
		return NULL;
	}
	j->s++;
	*o = 0;
	return buf;
}

static int parse_value(struct jparse *j, struct jv *v);

/* The members of an array or object, up to its closing bracket */
static int parse_members(struct jparse *j, struct jv *v, char close)
{
	for (j->s++, skip_ws(j); j->s < j->end && *j->s != close;) {
		if (v->n && (*j->s != ',' || (j->s++, skip_ws(j), 0)))
			return -1;
		v->kids = realloc(v->kids, (v->n + 1) * sizeof(*v->kids));
		if (!v->kids)
			return -1;
		if (close == '}') {
			v->keys = realloc(v->keys, (v->n + 1) * sizeof(*v->keys));
			if (!v->keys || j->s >= j->end || *j->s != '"')
				return -1;
			v->keys[v->n] = parse_str(j);
			skip_ws(j);
			if (!v->keys[v->n] || j->s >= j->end || *j->s != ':') {
				free(v->keys[v->n]);
				return -1;
			}
			j->s++;
		}
		memset(&v->kids[v->n], 0, sizeof(v->kids[0]));
		if (parse_value(j, &v->kids[v->n++]))
			return -1;
		skip_ws(j);
	}
	if (j->s >= j->end)
		return -1;
	j->s++;
	return 0;
}

static int parse_value(struct jparse *j, struct jv *v)
{
	const char *start;

	skip_ws(j);
	if (j->s >= j->end || ++j->depth > 16)
		return -1;
	if (*j->s == '{' || *j->s == '[') {
		v->type = *j->s == '{' ? J_OBJ : J_ARR;
		if (parse_members(j, v, *j->s == '{' ? '}' : ']'))
			return -1;
	} else if (*j->s == '"') {
		v->type = J_STR;
		if (!(v->text = parse_str(j)))
			return -1;
	} else {
		for (start = j->s; j->s < j->end && (isalnum((unsigned char)*j->s) ||
						     strchr("+-.", *j->s)); j->s++)
			;
		v->text = strndup(start, j->s - start);
		if (!v->text)
			return -1;
		v->type = !strcmp(v->text, "null") ? J_NULL : !strcmp(v->text, "true") ||
			  !strcmp(v->text, "false") ? J_BOOL : J_NUM;
		if (v->type == J_NUM && (!v->text[0] || !strchr("-0123456789", v->text[0])))
			return -1;
	}
	j->depth--;
	return 0;
}

static const struct jv *jget(const struct jv *o, const char *key)
{
	for (int i = 0; o && o->type == J_OBJ && i < o->n; i++)
		if (!strcmp(o->keys[i], key))
			return &o->kids[i];
	return NULL;
}

/* ---- the reader ---------------------------------------------------------- */

/* Reading one part: the first field missing or of the wrong type, said once. */
struct rd {
	char *err;
	size_t len;
	int bad;
};

static const struct jv *need(struct rd *r, const struct jv *o, const char *key, int type)
{
	const struct jv *v = jget(o, key);

	if (v && v->type == type)
		return v;
	if (!r->bad)
		snprintf(r->err, r->len, "no %s \"%s\"", type == J_NUM ? "number" : type == J_STR ?
			 "string" : type == J_BOOL ? "true or false" : type == J_ARR ? "array" :
			 "object", key);
	r->bad = 1;
	return NULL;
}

static long long get_int(struct rd *r, const struct jv *o, const char *key, long long min,
			 long long max)
{
	const struct jv *v = need(r, o, key, J_NUM);
	long long n = v ? strtoll(v->text, NULL, 10) : 0;

	if (v && (n < min || n > max)) {
		if (!r->bad)
			snprintf(r->err, r->len, "\"%s\": %lld is out of range", key, n);
		r->bad = 1;
	}
	return n;
}

static __u64 get_u64(struct rd *r, const struct jv *o, const char *key)
{
	const struct jv *v = need(r, o, key, J_NUM);

	return v ? strtoull(v->text, NULL, 10) : 0;
}

static int get_bool(struct rd *r, const struct jv *o, const char *key)
{
	const struct jv *v = need(r, o, key, J_BOOL);

	return v && !strcmp(v->text, "true");
}

static void get_str(struct rd *r, const struct jv *o, const char *key, char *buf, size_t len)
{
	const struct jv *v = need(r, o, key, J_STR);

	snprintf(buf, len, "%s", v ? v->text : "");
}

/* An array of exactly n members of type t (NULL: said) */
static const struct jv *get_arr(struct rd *r, const struct jv *o, const char *key, int n, int t)
{
	const struct jv *v = need(r, o, key, J_ARR);

	for (int i = 0; v && i < v->n; i++)
		if (v->kids[i].type != t)
			v = NULL;
	if (v && (n < 0 || v->n == n))
		return v;
	if (!r->bad)
		snprintf(r->err, r->len, "\"%s\" is not an array of %d", key, n);
	r->bad = 1;
	return NULL;
}

static void read_op(struct rd *r, const struct jv *o, const char *key, struct rop *op)
{
	const struct jv *v = get_arr(r, o, key, 3, J_NUM);

	if (!v)
		return;
	op->type = strtoul(v->kids[0].text, NULL, 10);
	op->nr = strtoul(v->kids[1].text, NULL, 10);
	op->task = strtoul(v->kids[2].text, NULL, 10);
}

static double get_double(struct rd *r, const struct jv *o, const char *key);

static void read_run(struct rd *r, const struct jv *o, struct run_result *res,
		     struct run_check *rc)
{
	const struct jv *v = get_arr(r, o, "verdicts", V_NR, J_NUM);

	res->run.seed = get_u64(r, o, "seed");
	rc->findings = get_u64(r, o, "findings");
	for (int i = 0; v && i < V_NR; i++)
		rc->per_verdict[i] = strtoull(v->kids[i].text, NULL, 10);
	res->st.perturbed = get_int(r, o, "perturbed", -1, 1);
	res->st.perturb_at_ns = get_int(r, o, "perturb_at_ns", -(1LL << 62), 1LL << 62);
	res->st.op_ns = get_u64(r, o, "op_ns");
	/* absent in the parts of an mmreplay before them: not known */
	res->st.perturb_ns = jget(o, "perturb_ns") ? get_u64(r, o, "perturb_ns") : 0;
	res->after_s = jget(o, "after_s") ? get_double(r, o, "after_s") : -1;
	get_str(r, o, "error", res->err, sizeof(res->err));
	get_str(r, o, "first", rc->first, sizeof(rc->first));
}

static void read_cell(struct rd *r, const struct jv *o, struct shard_cell *c)
{
	const struct jv *runs;

	c->id = get_int(r, o, "cell", 0, REPLAY_MAX_PAIRS - 1);
	c->pair.a = get_int(r, o, "a", 0, 1LL << 31);
	c->pair.b = get_int(r, o, "b", 0, 1LL << 31);
	c->pair.perturb = get_int(r, o, "perturb", 0, PERTURB_NR - 1);
	read_op(r, o, "op_a", &c->op_a);
	read_op(r, o, "op_b", &c->op_b);
	runs = get_arr(r, o, "runs", -1, J_OBJ);
	if (!runs)
		return;
	c->res = calloc(runs->n + 1, sizeof(*c->res));
	c->rc = calloc(runs->n + 1, sizeof(*c->rc));
	if (!c->res || !c->rc) {
		snprintf(r->err, r->len, "out of memory");
		r->bad = 1;
		return;
	}
	c->nr_runs = runs->n;
	for (int t = 0; t < runs->n && !r->bad; t++)
		read_run(r, &runs->kids[t], &c->res[t], &c->rc[t]);
}

static void read_caps(struct rd *r, const struct jv *o, struct perturb_caps *c)
{
	const struct jv *how = get_arr(r, o, "perturb_how", PERTURB_NR, J_STR);
	const struct jv *why = get_arr(r, o, "perturb_why", PERTURB_NR, J_STR);

	c->ok = get_u64(r, o, "perturb_ok");
	for (int k = 0; how && why && k < PERTURB_NR; k++) {
		snprintf(c->how[k], sizeof(c->how[k]), "%s", how->kids[k].text);
		snprintf(c->why[k], sizeof(c->why[k]), "%s", why->kids[k].text);
	}
}

static void read_part(struct rd *r, const struct jv *s, struct shard_part *sp)
{
	const struct jv *cells, *id;

	sp->shard = get_int(r, s, "index", 1, 100000);
	sp->shards = get_int(r, s, "of", sp->shard, 100000);
	get_str(r, s, "trace", sp->trace, sizeof(sp->trace));
	id = need(r, s, "trace_fnv1a", J_STR);
	sp->trace_id = id ? strtoull(id->text, NULL, 16) : 0;
	sp->seed = get_u64(r, s, "seed");
	sp->trials = get_int(r, s, "trials", 1, 1 << 30);
	sp->stop_after = get_int(r, s, "stop_after", 0, 1 << 30);
	sp->min_trials = get_int(r, s, "min_trials", 0, 1 << 30);
	sp->budget_s = get_int(r, s, "budget_s", 0, 1 << 30);
	sp->max_pairs = get_int(r, s, "max_pairs", 0, REPLAY_MAX_PAIRS);
	sp->window_ns = get_u64(r, s, "window_ns");
	sp->perturb = get_u64(r, s, "perturb");
	get_str(r, s, "kernel", sp->kernel, sizeof(sp->kernel));
	sp->nr_cells_all = get_int(r, s, "cells_all", 0, REPLAY_MAX_PAIRS);
	sp->nr_racing = get_int(r, s, "racing_all", 0, sp->nr_cells_all);
	sp->incomplete = get_bool(r, s, "incomplete");
	/* absent in the parts of an mmreplay before it: not interrupted */
	sp->interrupted = jget(s, "interrupted") && get_bool(r, s, "interrupted");
	sp->unchecked = get_bool(r, s, "unchecked");
	sp->deterministic = get_bool(r, s, "deterministic");
	get_str(r, s, "determinism", sp->determinism, sizeof(sp->determinism));
	read_caps(r, s, &sp->caps);
	cells = get_arr(r, s, "cells", -1, J_OBJ);
	if (r->bad || !cells)
		return;
	sp->cells = calloc(cells->n + 1, sizeof(*sp->cells));
	if (!sp->cells) {
		snprintf(r->err, r->len, "out of memory");
		r->bad = 1;
		return;
	}
	sp->nr_cells = cells->n;
	for (int i = 0; i < cells->n && !r->bad; i++)
		read_cell(r, &cells->kids[i], &sp->cells[i]);
}

static double get_double(struct rd *r, const struct jv *o, const char *key)
{
	const struct jv *v = need(r, o, key, J_NUM);

	return v ? strtod(v->text, NULL) : 0;
}

/* The report's "guest" (replay_report.c's guest_json()), for merge to print again */
static void read_guest(struct rd *r, const struct jv *g, struct shard_part *sp)
{
	struct replay_guest *x = &sp->guest;

	get_str(r, g, "kernel", x->kernel, sizeof(x->kernel));
	get_str(r, g, "accel", x->accel, sizeof(x->accel));
	get_str(r, g, "nodes", x->nodes, sizeof(x->nodes));
	get_str(r, g, "swap", x->swap, sizeof(x->swap));
	get_str(r, g, "kinds_unavailable", x->missing, sizeof(x->missing));
	get_str(r, g, "console", sp->console, sizeof(sp->console));
	x->icount = get_bool(r, g, "icount");
	x->cpus = get_int(r, g, "cpus", 0, 1 << 20);
	x->init_s = get_double(r, g, "boot_s");
	x->cmd_end_s = get_double(r, g, "replay_s");	/* cmd_start_s 0: the same length */
	x->wall_s = get_double(r, g, "qemu_wall_s");
	x->kinds_ok = get_int(r, g, "kinds_ok", 0, 1 << 20);
	x->kinds = get_int(r, g, "kinds", 0, 1 << 20);
	x->leftover_perturbers = get_int(r, g, "leftover_perturbers", -1, 1 << 20);
	x->leftover_cgroups = get_int(r, g, "leftover_cgroups", -1, 1 << 20);
	x->boots = jget(g, "boots") ? get_int(r, g, "boots", 1, 1 << 20) : 1;
	sp->guest_ok = !r->bad;
}

/* The whole file, NUL-terminated; NULL if it cannot be read or is over 1 GiB. */
static char *slurp_file(const char *path, size_t *len, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	long n = -1;

	if (f && !fseek(f, 0, SEEK_END))
		n = ftell(f);
	if (f && n >= 0 && n < (1L << 30) && !fseek(f, 0, SEEK_SET) && (buf = malloc(n + 1)) &&
	    fread(buf, 1, n, f) == (size_t)n) {
		buf[n] = 0;
		*len = n;
	} else {
		snprintf(err, errlen, "cannot read it%s", f ? "" : ": no such file or no access");
		free(buf);
		buf = NULL;
	}
	if (f)
		fclose(f);
	return buf;
}

int replay_shard_read(const char *path, struct shard_part *sp, char *err, size_t errlen)
{
	char why[400] = "";
	struct rd r = { why, sizeof(why), 0 };
	struct jv top = { 0 };
	size_t len = 0;
	char *buf;
	struct jparse j;

	memset(sp, 0, sizeof(*sp));
	err[0] = 0;
	buf = slurp_file(path, &len, err, errlen);
	if (!buf)
		return -1;
	j = (struct jparse){ buf, buf + len, 0 };
	if (parse_value(&j, &top) || (skip_ws(&j), j.s != j.end) || top.type != J_OBJ) {
		snprintf(err, errlen, "not a partial explore report (replay --explore --shard I/N "
			 "prints one): not JSON, or cut short");
	} else if (!jget(&top, "shard") || !jget(&top, "explore")) {
		snprintf(err, errlen, "not a partial explore report (replay --explore --shard I/N "
			 "prints one): no \"explore\" and \"shard\" members");
	} else {
		read_part(&r, jget(&top, "shard"), sp);
		if (jget(&top, "guest"))
			read_guest(&r, jget(&top, "guest"), sp);
		if (r.bad)
			snprintf(err, errlen, "a damaged partial report: %s", why);
	}
	jv_free(&top);
	free(buf);
	if (!err[0])
		return 0;
	replay_shard_free(sp);
	return -1;
}

void replay_shard_free(struct shard_part *sp)
{
	for (int i = 0; i < sp->nr_cells; i++) {
		free(sp->cells[i].res);
		free(sp->cells[i].rc);
	}
	free(sp->cells);
	memset(sp, 0, sizeof(*sp));
}
