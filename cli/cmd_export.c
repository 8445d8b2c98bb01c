// SPDX-License-Identifier: GPL-2.0
/*
 * mmreplay export: a trace (or two, side by side) as Chrome/Perfetto
 * trace-event JSON, which ui.perfetto.dev opens.  Each trace is a process,
 * each of its tasks a track: operations are slices, kernel events instants
 * with their decoded fields, check's findings flagged instants.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "check/check.h"
#include "cmds.h"
#include "traces/decode.h"
#include "diff/diff.h"
#include "traces/kinds.h"
#include "util.h"

#define TRACK_BASE 10000000	/* track ids of trace i: (i + 1) * TRACK_BASE + ... */
#define THREAD_TRACKS 1000000	/* ... + task, or + THREAD_TRACKS + tid for other threads */

const char usage_export[] =
	"usage: mmreplay export FILE [FILE2] -o OUT.json[.gz]\n\n"
	"Write the Chrome/Perfetto trace-event JSON that ui.perfetto.dev opens.\n"
	"Each trace is a process and each of its tasks a track (threads that ran\n"
	"no task, such as a replay's harness, get a track of their own).\n"
	"Operations are slices (a replay's, from its op marks), every other event\n"
	"is an instant with its decoded fields, and check's findings are instants\n"
	"flagged on the process; each track is in time order.  Time starts at 0\n"
	"in each trace, so that two traces (before and after a patch, a recording\n"
	"and its replay) line up.  Addresses are strings (\"0x...\").\n\n"
	"  -o, --output OUT   where to write (required); gzip-compressed when OUT\n"
	"                     ends in .gz, which ui.perfetto.dev opens as it is\n"
	"                     (the JSON is about 20 times the trace; gzip about 1.5)\n"
	"      --perfetto OUT the same as -o\n\n"
	"examples:\n"
	"  mmreplay export w.trace -o w.json.gz\n"
	"  mmreplay export before.trace after.trace -o ab.json\n";

struct export_opts {
	const char *file[2], *out;
	int n;
};

static int parse_export(int argc, char **argv, struct export_opts *o)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "perfetto", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	int c;

	for (;;) {
		c = mmr_getopt("export", argc, argv, "o:h", opts);
		if (c == -1 && optind < argc && o->n < 2) {
			o->file[o->n++] = argv[optind++];
			continue;
		}
		if (c == -1)
			break;
		if (c == 'o')
			o->out = optarg;
		else if (c == 'h')
			return cmd_help("export") ? -1 : 1;
		else
			return -1;
	}
	if (!o->n || !o->out) {
		mmr_err("export: %s (see mmreplay export --help)",
			o->n ? "-o OUT.json is needed" : "no trace file given");
		return -1;
	}
	if (optind < argc) {
		mmr_err("export: unexpected argument '%s'", argv[optind]);
		return -1;
	}
	return 0;
}

struct out {
	json_writer_t *w;
	int pid;		/* 1 + the trace's index */
	__u64 t0;		/* its first timestamp */
	int *named;		/* threads that ran no task, named so far */
	size_t nr_named, cap_named;
};

static void head(struct out *o, const char *ph, const char *name, const char *cat, __u64 ts,
		 long track)
{
	json_writer_t *w = o->w;

	jsonw_start_object(w);		/* the caller adds its members and ends it */
	jsonw_string_field(w, "ph", ph);
	jsonw_string_field(w, "name", name);
	jsonw_string_field(w, "cat", cat);
	jsonw_name(w, "ts");
	jsonw_printf(w, "%.3f", ts > o->t0 ? (ts - o->t0) / 1000.0 : 0.0);
	jsonw_int_field(w, "pid", o->pid);
	jsonw_int_field(w, "tid", track);
}

static long task_track(const struct out *o, int task)
{
	return (long)o->pid * TRACK_BASE + task;
}

static long thread_track(const struct out *o, const struct dtrace *d, int tid)
{
	int task = dtrace_task_of(d, tid);

	return task >= 0 ? task_track(o, task) : (long)o->pid * TRACK_BASE + THREAD_TRACKS + tid;
}

static void meta(struct out *o, const char *what, long track, const char *name)
{
	json_writer_t *w = o->w;

	jsonw_start_object(w);
	jsonw_string_field(w, "ph", "M");
	jsonw_string_field(w, "name", what);
	jsonw_int_field(w, "pid", o->pid);
	jsonw_int_field(w, "tid", track);
	jsonw_name(w, "args");
	jsonw_start_object(w);
	jsonw_string_field(w, "name", name);
	jsonw_end_object(w);
	jsonw_end_object(w);
}

static void names(struct out *o, const struct dtrace *d, const char *file)
{
	char name[512];

	snprintf(name, sizeof(name), "%c: %s (%s)", 'A' + o->pid - 1, file, d->what);
	meta(o, "process_name", task_track(o, 0), name);
	for (int t = 0; t < d->nr_tasks; t++) {
		snprintf(name, sizeof(name), "task %d", t);
		for (size_t i = 0; i < d->nr_tids; i++)
			if (d->tids[i].task == t)
				snprintf(name, sizeof(name), "task %d (tid %d)", t, d->tids[i].tid);
		meta(o, "thread_name", task_track(o, t), name);
	}
}

static void slice(struct out *o, const struct dtrace *d, const struct dop *op)
{
	head(o, "X", dop_name(op), "op", op->ts, task_track(o, op->task));
	jsonw_name(o->w, "dur");
	jsonw_printf(o->w, "%.3f", op->end > op->ts ? (op->end - op->ts) / 1000.0 : 0.0);
	jsonw_name(o->w, "args");
	jsonw_start_object(o->w);
	jsonw_uint_field(o->w, "op", op->id);
	jsonw_uint_field(o->w, "task", op->task);
	jsonw_uint_field(o->w, "touches_after", op->touches);
	if (!d->replay && op->type == ROP_SYSCALL)
		jsonw_int_field(o->w, "result", (long long)op->ret);
	jsonw_end_object(o->w);
	jsonw_end_object(o->w);
}

static int is_syscall_record(const struct mmr_event *ev)
{
	int type = ((const struct mmr_common *)ev->data)->type;

	return type == MMR_K_SYS_ENTER || type == MMR_K_SYS_EXIT || type == MMR_K_SYS_PATH;
}

/* A thread that ran no task (a replay's harness, a kernel thread) gets a named track. */
static void name_thread(struct out *o, const struct dtrace *d, int tid)
{
	char name[64];

	if (dtrace_task_of(d, tid) >= 0)
		return;
	for (size_t i = 0; i < o->nr_named; i++)
		if (o->named[i] == tid)
			return;
	if (GROW(o->named, o->cap_named, o->nr_named + 1))
		return;		/* out of memory: the track keeps its bare tid */
	o->named[o->nr_named++] = tid;
	snprintf(name, sizeof(name), "thread %d (no task)", tid);
	meta(o, "thread_name", thread_track(o, d, tid), name);
}

static void instant(struct out *o, const struct dtrace *d, struct mmr_decoder *dec,
		    const struct mmr_event *ev)
{
	const struct kind_def *k = kind_def(((const struct mmr_common *)ev->data)->type);

	name_thread(o, d, ((const struct mmr_common *)ev->data)->pid);
	head(o, "i", k ? k->name : "?", "event", ev->h.ts,
	     thread_track(o, d, ((const struct mmr_common *)ev->data)->pid));
	jsonw_string_field(o->w, "s", "t");
	jsonw_name(o->w, "args");
	jsonw_start_object(o->w);
	mmr_decode_json_fields(dec, ev, o->w);
	jsonw_end_object(o->w);
	jsonw_end_object(o->w);
}

static void finding(struct out *o, const struct dtrace *d, const struct finding *f)
{
	char name[64];

	snprintf(name, sizeof(name), "finding: %s", verdict_name(f->kind));
	head(o, "i", name, "finding", f->ts, thread_track(o, d, f->tid ? f->tid : f->pid));
	jsonw_string_field(o->w, "s", "p");
	jsonw_name(o->w, "args");
	jsonw_start_object(o->w);
	jsonw_hex_field(o->w, "address", f->address);
	jsonw_u64_field(o->w, "pages", f->nr_pages);
	jsonw_string_field(o->w, "op", f->op);
	jsonw_name(o->w, "evidence");
	jsonw_start_array(o->w);
	for (int e = 0; e < f->nr_evidence; e++)
		jsonw_string(o->w, f->evidence[e]);
	jsonw_end_array(o->w);
	jsonw_end_object(o->w);
	jsonw_end_object(o->w);
}

/*
 * The slices and findings, in time order, to be written among the trace's
 * events (which come in time order) so that every track is in time order.
 */
struct item {
	__u64 ts;
	size_t i;	/* an op's index, or nr_ops + a finding's */
};

struct timeline {
	struct item *items;
	size_t nr, next;
	const struct finding *f;
};

static int item_cmp(const void *a, const void *b)
{
	const struct item *x = a, *y = b;

	if (x->ts != y->ts)
		return x->ts < y->ts ? -1 : 1;
	return x->i < y->i ? -1 : x->i > y->i;
}

static int timeline_new(struct timeline *tl, const struct dtrace *d, const struct checker *c)
{
	int nr_f;
	size_t n = 0;

	tl->f = checker_findings(c, &nr_f);
	tl->items = calloc(d->nr_ops + nr_f + 1, sizeof(*tl->items));
	if (!tl->items)
		return -1;
	for (size_t i = 0; i < d->nr_ops; i++)
		if (d->ops[i].type < DOP_START)
			tl->items[n++] = (struct item){ d->ops[i].ts, i };
	for (int i = 0; i < nr_f; i++)
		tl->items[n++] = (struct item){ tl->f[i].ts, d->nr_ops + i };
	qsort(tl->items, n, sizeof(*tl->items), item_cmp);
	tl->nr = n;
	tl->next = 0;
	return 0;
}

/* Write the slices and findings that start before @ts. */
static void timeline_until(struct out *o, const struct dtrace *d, struct timeline *tl, __u64 ts)
{
	for (; tl->next < tl->nr && tl->items[tl->next].ts <= ts; tl->next++) {
		size_t i = tl->items[tl->next].i;

		if (i < d->nr_ops)
			slice(o, d, &d->ops[i]);
		else
			finding(o, d, &tl->f[i - d->nr_ops]);
	}
}

/* check's pass over the trace, which finds what export flags; sets o->t0. */
static void check_trace(struct out *o, struct mmr_trace *t, struct checker *c)
{
	struct mmr_event ev;
	int first = 1;

	o->t0 = 0;
	mmr_trace_rewind(t);
	while (mmr_trace_next(t, &ev) == 1) {
		if (first)
			o->t0 = ev.h.ts;
		first = 0;
		checker_event(c, &ev);
	}
	checker_finish(c);
}

/* One trace: its names, then its op slices, events and findings in time order. */
static int export_one(struct out *o, struct mmr_trace *t, const struct dtrace *d,
		      const char *file)
{
	struct mmr_decoder *dec;
	struct timeline tl = {};
	struct checker *c = NULL;
	struct mmr_event ev;
	char err[256];
	int ret = -1;

	dec = mmr_decoder_new(t, err, sizeof(err));
	if (dec && mmr_decoder_refused(dec)) {
		mmr_err("export: %s: %s", file, mmr_decoder_refused(dec));
		goto out;
	}
	c = dec ? checker_new(t, err, sizeof(err)) : NULL;
	if (!c) {
		mmr_err("export: %s: %s", file, err);
		goto out;
	}
	check_trace(o, t, c);
	if (timeline_new(&tl, d, c)) {
		mmr_err("export: out of memory");
		goto out;
	}
	o->nr_named = 0;
	names(o, d, file);
	mmr_trace_rewind(t);
	while (mmr_trace_next(t, &ev) == 1) {
		if (is_syscall_record(&ev))
			continue;
		timeline_until(o, d, &tl, ev.h.ts);
		instant(o, d, dec, &ev);
	}
	timeline_until(o, d, &tl, ~0ULL);
	ret = 0;
out:
	free(tl.items);
	checker_free(c);
	mmr_decoder_free(dec);
	return ret;
}

int cmd_export(int argc, char **argv)
{
	struct export_opts o = {};
	struct mmr_trace *t[2] = { NULL, NULL };
	struct dtrace d[2];
	struct out out = { 0 };
	FILE *f;
	int r = parse_export(argc, argv, &o), ret = MMR_EXIT_ERROR;

	if (r)
		return r > 0 ? 0 : MMR_EXIT_ERROR;
	memset(d, 0, sizeof(d));
	if (load_traces("export", o.file, o.n, t, d))
		goto out;
	f = mmr_fopen_out(o.out);
	if (!f || !(out.w = jsonw_new(f))) {
		mmr_err("export: cannot write %s: %m", o.out);
		if (f)
			fclose(f);
		goto out;
	}
	jsonw_start_object(out.w);
	jsonw_string_field(out.w, "displayTimeUnit", "ns");
	jsonw_name(out.w, "traceEvents");
	jsonw_start_array(out.w);
	jsonw_lines(out.w, 0, -1);	/* an event a line */
	for (int i = 0; i < o.n; i++) {
		out.pid = i + 1;
		if (export_one(&out, t[i], &d[i], o.file[i]))
			break;
		ret = i + 1 == o.n ? 0 : ret;
	}
	jsonw_break(out.w, 0);
	jsonw_end_array(out.w);
	jsonw_end_object(out.w);
	jsonw_destroy(&out.w);
	if (fclose(f) && !ret) {
		mmr_err("export: cannot write %s: %m", o.out);
		ret = MMR_EXIT_ERROR;
	}
	if (ret)
		unlink(o.out);
	free(out.named);
out:
	close_traces(t, d, 2);
	return ret;
}
