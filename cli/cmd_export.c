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
#include "check.h"
#include "cmds.h"
#include "decode.h"
#include "diff.h"
#include "kinds.h"
#include "util.h"

#define TRACK_BASE 10000000	/* track ids of trace i: (i + 1) * TRACK_BASE + ... */
#define THREAD_TRACKS 1000000	/* ... + task, or + THREAD_TRACKS + tid for other threads */

const char usage_export[] =
	"usage: mmreplay export FILE [FILE2] --perfetto OUT.json\n\n"
	"Write the Chrome/Perfetto trace-event JSON that ui.perfetto.dev opens.\n"
	"Each trace is a process and each of its tasks a track (threads that ran\n"
	"no task, such as a replay's harness, get a track of their own).\n"
	"Operations are slices (a replay's, from its op marks), every other event\n"
	"is an instant with its decoded fields, and check's findings are instants\n"
	"flagged on the process.  Time starts at 0 in each trace, so that two\n"
	"traces (before and after a patch, a recording and its replay) line up.\n\n"
	"  --perfetto OUT.json   where to write (required)\n\n"
	"examples:\n"
	"  mmreplay export w.trace --perfetto w.json\n"
	"  mmreplay export before.trace after.trace --perfetto ab.json\n";

struct export_opts {
	const char *file[2], *out;
	int n;
};

static int parse_export(int argc, char **argv, struct export_opts *o)
{
	static const struct option opts[] = {
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
			o->n ? "--perfetto OUT.json is needed" : "no trace file given");
		return -1;
	}
	if (optind < argc) {
		mmr_err("export: unexpected argument '%s'", argv[optind]);
		return -1;
	}
	return 0;
}

struct out {
	FILE *f;
	int pid;		/* 1 + the trace's index */
	__u64 t0;		/* its first timestamp */
	int n;			/* events written */
	int *named;		/* threads that ran no task, named so far */
	size_t nr_named, cap_named;
};

static void head(struct out *o, const char *ph, const char *name, const char *cat, __u64 ts,
		 long track)
{
	fprintf(o->f, "%s\n{\"ph\": \"%s\", \"name\": ", o->n++ ? "," : "", ph);
	json_str(o->f, name);
	fprintf(o->f, ", \"cat\": \"%s\", \"ts\": %.3f, \"pid\": %d, \"tid\": %ld", cat,
		ts > o->t0 ? (ts - o->t0) / 1000.0 : 0.0, o->pid, track);
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
	fprintf(o->f, "%s\n{\"ph\": \"M\", \"name\": \"%s\", \"pid\": %d, \"tid\": %ld, "
		"\"args\": {\"name\": ", o->n++ ? "," : "", what, o->pid, track);
	json_str(o->f, name);
	fprintf(o->f, "}}");
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

static void slices(struct out *o, const struct dtrace *d)
{
	for (size_t i = 0; i < d->nr_ops; i++) {
		const struct dop *op = &d->ops[i];

		if (op->type >= DOP_START)
			continue;
		head(o, "X", dop_name(op), "op", op->ts, task_track(o, op->task));
		fprintf(o->f, ", \"dur\": %.3f, \"args\": {\"op\": %u, \"task\": %u, "
			"\"touches_after\": %u", op->end > op->ts ? (op->end - op->ts) / 1000.0 : 0.0,
			op->id, op->task, op->touches);
		if (!d->replay && op->type == ROP_SYSCALL)
			fprintf(o->f, ", \"result\": %lld", (long long)op->ret);
		fprintf(o->f, "}}");
	}
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
	o->named = replay_grow(o->named, &o->cap_named, o->nr_named + 1, sizeof(*o->named));
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
	fprintf(o->f, ", \"s\": \"t\", \"args\": {");
	mmr_decode_json_fields(dec, ev, o->f);
	fprintf(o->f, "}}");
}

static void findings(struct out *o, const struct dtrace *d, const struct checker *c)
{
	const struct finding *f;
	char name[64];
	int nr;

	f = checker_findings(c, &nr);
	for (int i = 0; i < nr; i++) {
		snprintf(name, sizeof(name), "finding: %s", verdict_name(f[i].kind));
		head(o, "i", name, "finding", f[i].ts, thread_track(o, d, f[i].tid ? f[i].tid :
								      f[i].pid));
		fprintf(o->f, ", \"s\": \"p\", \"args\": {\"address\": %llu, \"pages\": %llu, \"op\": ",
			(unsigned long long)f[i].address, (unsigned long long)f[i].nr_pages);
		json_str(o->f, f[i].op);
		fprintf(o->f, ", \"evidence\": [");
		for (int e = 0; e < f[i].nr_evidence; e++) {
			fprintf(o->f, "%s", e ? ", " : "");
			json_str(o->f, f[i].evidence[e]);
		}
		fprintf(o->f, "]}}");
	}
}

/* One trace: its names, its op slices, its events, its findings. */
static int export_one(struct out *o, struct mmr_trace *t, const struct dtrace *d,
		      const char *file)
{
	struct mmr_decoder *dec;
	struct checker *c;
	struct mmr_event ev;
	char err[256];

	dec = mmr_decoder_new(t, err, sizeof(err));
	if (dec && mmr_decoder_refused(dec)) {
		mmr_err("export: %s: %s", file, mmr_decoder_refused(dec));
		mmr_decoder_free(dec);
		return -1;
	}
	c = dec ? checker_new(t, err, sizeof(err)) : NULL;
	if (!c) {
		mmr_err("export: %s: %s", file, err);
		mmr_decoder_free(dec);
		return -1;
	}
	o->nr_named = 0;
	mmr_trace_rewind(t);
	o->t0 = mmr_trace_next(t, &ev) == 1 ? ev.h.ts : 0;
	mmr_trace_rewind(t);
	names(o, d, file);
	slices(o, d);
	while (mmr_trace_next(t, &ev) == 1) {
		checker_event(c, &ev);
		if (!is_syscall_record(&ev))
			instant(o, d, dec, &ev);
	}
	checker_finish(c);
	findings(o, d, c);
	checker_free(c);
	mmr_decoder_free(dec);
	return 0;
}

int cmd_export(int argc, char **argv)
{
	struct export_opts o = {};
	struct mmr_trace *t[2] = { NULL, NULL };
	struct dtrace d[2];
	struct out out = { 0 };
	int r = parse_export(argc, argv, &o), ret = MMR_EXIT_ERROR;

	if (r)
		return r > 0 ? 0 : MMR_EXIT_ERROR;
	memset(d, 0, sizeof(d));
	if (load_traces("export", o.file, o.n, t, d))
		goto out;
	out.f = fopen(o.out, "w");
	if (!out.f) {
		mmr_err("export: cannot write %s: %m", o.out);
		goto out;
	}
	fprintf(out.f, "{\"displayTimeUnit\": \"ns\", \"traceEvents\": [");
	for (int i = 0; i < o.n; i++) {
		out.pid = i + 1;
		if (export_one(&out, t[i], &d[i], o.file[i]))
			break;
		ret = i + 1 == o.n ? 0 : ret;
	}
	fprintf(out.f, "\n]}\n");
	if (fclose(out.f) && !ret) {
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
