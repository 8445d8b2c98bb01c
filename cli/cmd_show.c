// SPDX-License-Identifier: GPL-2.0
/* mmreplay show / info: print a trace's events, or its header and coverage. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cmds.h"
#include "traces/decode.h"
#include "traces/kinds.h"
#include "traces/sysdecode.h"
#include "traces/trace.h"
#include "util.h"

const char usage_show[] =
	"usage: mmreplay show FILE [--json] [--pid P] [--kind K]\n\n"
	"Print the events of a trace in time order, decoded from the formats\n"
	"stored in the trace (no access to the recording machine needed).\n\n"
	"  -j, --json     print a JSON array of event objects\n"
	"  -p, --pid P    only events of process or thread P\n"
	"  -k, --kind K   only events of kind K (see mmreplay info FILE), or of\n"
	"                 syscall K (e.g. mlock); repeat for several\n"
	"  (mmreplay -v show also prints each page of a snapshot_pages record)\n\n"
	"A truncated or corrupt trace prints every complete chunk, then one error\n"
	"line, and exits with status 2.\n\n"
	"examples:\n"
	"  mmreplay show mmreplay.trace\n"
	"  mmreplay show mmreplay.trace --kind rss_stat --kind mlock\n"
	"  mmreplay show mmreplay.trace --json | jq length\n";

const char usage_info[] =
	"usage: mmreplay info FILE [--json]\n\n"
	"Print a trace's header (kernel, machine, command; for -p, the processes'\n"
	"command lines), the recording's duration, the command's exit status (or\n"
	"why it is not recorded), events, snapshots and drops per CPU, its probe\n"
	"coverage (for each event kind, the attach point used or why it was\n"
	"unavailable), and its counters (events by kind).\n\n"
	"Events, here as in record's summary, show and check, are the trace's\n"
	"records of every kind: the kernel's and the snapshots'.\n\n"
	"  -j, --json     print them as one JSON object\n\n"
	"examples:\n"
	"  mmreplay info mmreplay.trace\n"
	"  mmreplay info --json mmreplay.trace\n";

#define MAX_FILTERS 32

struct show_opts {
	const char *file;
	int json;
	long pid;
	int nr_kinds, kinds[MAX_FILTERS];	/* kind ids */
	int nr_sys, sys[MAX_FILTERS];		/* syscall numbers */
};

static int add_kind_filter(struct show_opts *o, const char *name)
{
	const struct kind_def *k = kind_def_by_name(name);
	int nr = syscall_nr(name);

	if (k && o->nr_kinds < MAX_FILTERS) {
		o->kinds[o->nr_kinds++] = k->id;
		return 0;
	}
	if (nr >= 0 && o->nr_sys < MAX_FILTERS) {
		o->sys[o->nr_sys++] = nr;
		return 0;
	}
	mmr_err("show: unknown kind '%s' (see mmreplay probes)", name);
	return -1;
}

static int parse_show(int argc, char **argv, struct show_opts *o, int info)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "pid", required_argument, NULL, 'p' },
		{ "kind", required_argument, NULL, 'k' },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	const char *cmd = info ? "info" : "show";
	char *end;
	int c;

	o->pid = -1;
	for (;;) {
		c = mmr_getopt(cmd, argc, argv, info ? "jh" : "jp:k:h", opts);
		if (c == -1 && optind < argc && !o->file) {
			o->file = argv[optind++];	/* FILE may come before options */
			continue;
		}
		if (c == -1)
			break;
		switch (c) {
		case 'j': o->json = 1; break;
		case 'h': cmd_help(cmd); return 1;
		case 'p':
			o->pid = strtol(optarg, &end, 10);
			if (*end || o->pid < 0) {
				mmr_err("show: bad pid '%s'", optarg);
				return -1;
			}
			break;
		case 'k':
			if (add_kind_filter(o, optarg))
				return -1;
			break;
		default: return -1;
		}
	}
	if (!o->file) {
		mmr_err("%s: no trace file given (see mmreplay %s --help)", cmd, cmd);
		return -1;
	}
	if (optind < argc) {
		mmr_err("%s: unexpected argument '%s'", cmd, argv[optind]);
		return -1;
	}
	return 0;
}

static int wanted(const struct show_opts *o, const struct mmr_event *ev)
{
	const struct mmr_common *c = ev->data;
	int any = !o->nr_kinds && !o->nr_sys;

	if (o->pid >= 0 && ev->h.tgid != o->pid && c->pid != o->pid)
		return 0;
	for (int i = 0; !any && i < o->nr_kinds; i++)
		any = c->type == o->kinds[i];
	if (!any && (c->type == MMR_K_SYS_ENTER || c->type == MMR_K_SYS_EXIT ||
		     c->type == MMR_K_SYS_PATH)) {
		__u32 nr = ((const struct mmr_sys_enter *)c)->nr;	/* same offset in all three */

		for (int i = 0; !any && i < o->nr_sys; i++)
			any = (int)nr == o->sys[i];
	}
	return any;
}

static void print_sys(const struct mmr_event *ev, FILE *f)
{
	const struct mmr_common *c = ev->data;
	const struct mmr_file_id *file = NULL;
	char text[1024];

	if (c->type == MMR_K_SYS_ENTER) {
		const struct mmr_sys_enter *e = ev->data;

		sys_call_text(e->nr, e->args, text, sizeof(text));
		fputs(text, f);
		file = &e->file;
	} else if (c->type == MMR_K_SYS_EXIT) {
		const struct mmr_sys_exit *e = ev->data;
		const char *name = syscall_name(e->nr);

		sys_ret_text(e->nr, e->ret, text, sizeof(text));
		fprintf(f, "%s = %s", name ? name : "?", text);
		if (e->ret < 0 && e->ret > -4096 && sys_errno_name((int)-e->ret))
			fprintf(f, " (%s)", strerror((int)-e->ret));
		file = &e->file;
	} else {
		const struct mmr_sys_path *e = ev->data;
		const char *name = syscall_name(e->nr);

		fprintf(f, "%s arg%u=\"%.*s\"", name ? name : "?", e->arg, MMR_PATH_MAX, e->path);
	}
	if (file && file->valid)
		fprintf(f, " file=%u:%u/%llu size=%llu", file->dev >> 20, file->dev & 0xfffff,
			(unsigned long long)file->ino, (unsigned long long)file->size);
}

/* A syscall record's decoded part: "args" (strings, as plain show prints them) or "result". */
static void json_sys(const struct mmr_event *ev, json_writer_t *w)
{
	const struct mmr_common *c = ev->data;
	const char *name = syscall_name(((const struct mmr_sys_enter *)c)->nr);
	char text[256];

	jsonw_string_field(w, "syscall", name ? name : "?");
	if (c->type == MMR_K_SYS_ENTER) {
		const struct mmr_sys_enter *e = ev->data;
		int n = sys_arg_count(e->nr, e->args);

		jsonw_name(w, "args");
		jsonw_start_array(w);
		for (int i = 0; i < n; i++) {
			sys_arg_text(e->nr, e->args, i, text, sizeof(text));
			jsonw_string(w, text);
		}
		jsonw_end_array(w);
	} else if (c->type == MMR_K_SYS_EXIT) {
		const struct mmr_sys_exit *e = ev->data;

		sys_ret_text(e->nr, e->ret, text, sizeof(text));
		jsonw_string_field(w, "result", text);
	}
}

static const char *kind_name(const struct mmr_trace *t, const struct mmr_event *ev)
{
	const struct mmr_kind_info *k = mmr_trace_kind(t, ((const struct mmr_common *)ev->data)->type);

	return k ? k->name : "?";
}

/* The page array of a snapshot_pages record: one line per page. */
static void print_snap_pages(const struct mmr_event *ev)
{
	const struct mmr_snap_pages *p = ev->data;

	for (__u32 i = 0; sizeof(*p) + (i + 1) * sizeof(p->p[0]) <= ev->h.len && i < p->nr; i++)
		printf("\n    0x%llx pagemap=0x%016llx kflags=0x%x mapcount=%u folio=%u/%u",
		       (unsigned long long)p->p[i].addr, (unsigned long long)p->p[i].pagemap,
		       p->p[i].kflags, p->p[i].mapcount, p->p[i].folio_idx, p->p[i].folio_nr);
}

static void print_plain(const struct mmr_trace *t, struct mmr_decoder *d,
			const struct mmr_event *ev)
{
	const struct mmr_common *c = ev->data;

	printf("%6llu.%06llu %3u %7u/%-7d %-16llx %-24s ",
	       (unsigned long long)(ev->h.ts / 1000000000ULL),
	       (unsigned long long)(ev->h.ts % 1000000000ULL / 1000), ev->h.cpu, ev->h.tgid,
	       c->pid, (unsigned long long)ev->h.mm, kind_name(t, ev));
	if (c->type == MMR_K_SYS_ENTER || c->type == MMR_K_SYS_EXIT || c->type == MMR_K_SYS_PATH)
		print_sys(ev, stdout);
	else
		mmr_decode_info(d, ev, stdout);
	if (c->type == MMR_K_SNAP_PAGES && mmr_verbose)
		print_snap_pages(ev);
	putchar('\n');
}

static void print_json(const struct mmr_trace *t, struct mmr_decoder *d,
		       const struct mmr_event *ev, json_writer_t *w)
{
	const struct mmr_common *c = ev->data;

	jsonw_start_object(w);
	jsonw_u64_field(w, "ts", ev->h.ts);
	jsonw_uint_field(w, "cpu", ev->h.cpu);
	jsonw_uint_field(w, "pid", ev->h.tgid);
	jsonw_int_field(w, "tid", c->pid);
	jsonw_hex_field(w, "mm", ev->h.mm);
	jsonw_string_field(w, "kind", kind_name(t, ev));
	if (c->type == MMR_K_SYS_ENTER || c->type == MMR_K_SYS_EXIT || c->type == MMR_K_SYS_PATH)
		json_sys(ev, w);
	jsonw_name(w, "fields");
	jsonw_start_object(w);
	mmr_decode_json_fields(d, ev, w);
	jsonw_end_object(w);
	jsonw_end_object(w);
}

/*
 * Problems and drops: one line each on stderr; 2 if the trace is damaged, or
 * (@d) if a format it carries was refused and its events printed undecoded.
 */
static int report_trace_state(struct mmr_trace *t, const char *file,
			      const struct mmr_decoder *d)
{
	__u64 drops = mmr_trace_stat(t, "drops");

	if (drops)
		mmr_warn("%llu events were dropped while recording (ring buffer full)",
			 (unsigned long long)drops);
	if (mmr_trace_problem(t)) {
		mmr_err("%s: %s", file, mmr_trace_problem(t));
		return MMR_EXIT_ERROR;
	}
	if (d && mmr_decoder_refused(d)) {
		mmr_err("%s: %s (its events are shown undecoded)", file, mmr_decoder_refused(d));
		return MMR_EXIT_ERROR;
	}
	return 0;
}

static struct mmr_trace *open_trace(const char *file)
{
	char err[512];
	struct mmr_trace *t = mmr_trace_open(file, err, sizeof(err));

	if (!t)
		mmr_err("%s", err);
	return t;
}

int cmd_show(int argc, char **argv)
{
	struct show_opts o = {};
	struct mmr_decoder *d;
	struct mmr_trace *t;
	struct mmr_event ev;
	json_writer_t *w = NULL;
	char err[256];
	int r, ret;

	r = parse_show(argc, argv, &o, 0);
	if (r)
		return r > 0 ? 0 : MMR_EXIT_ERROR;
	t = open_trace(o.file);
	if (!t)
		return MMR_EXIT_ERROR;
	d = mmr_decoder_new(t, err, sizeof(err));
	if (!d) {
		mmr_err("show: %s", err);
		mmr_trace_close(t);
		return MMR_EXIT_ERROR;
	}
	if (o.json) {
		w = mmr_json();
		jsonw_start_array(w);
		jsonw_lines(w, 0, 0);		/* an event a line */
	}
	while ((r = mmr_trace_next(t, &ev)) > 0) {
		if (!wanted(&o, &ev))
			continue;
		if (o.json)
			print_json(t, d, &ev, w);
		else
			print_plain(t, d, &ev);
	}
	if (o.json) {
		jsonw_break(w, 0);		/* "[\n]" when there is none */
		jsonw_end_array(w);
	}
	fflush(stdout);
	ret = r < 0 ? MMR_EXIT_ERROR : report_trace_state(t, o.file, d);
	mmr_decoder_free(d);
	mmr_trace_close(t);
	return ret;
}

/* Nanoseconds from the start to the last counters written; 0 if not recorded. */
static __u64 info_duration(const struct mmr_trace *t)
{
	const char *start = mmr_trace_meta(t, "start_monotonic_ns");
	__u64 end = mmr_trace_stat(t, "end_monotonic_ns"), s = start ? strtoull(start, NULL, 10) : 0;

	return s && end > s ? end - s : 0;
}

/* Has the last counters text key=...? (mmr_trace_stat says 0 for both.) */
static int has_stat(const struct mmr_trace *t, const char *key)
{
	char buf[32];

	return mmr_kv_get(mmr_trace_stats(t), key, buf, sizeof(buf)) != NULL;
}

static void print_exit(const struct mmr_trace *t)
{
	const char *cmd = mmr_trace_meta(t, "command"), *pids = mmr_trace_meta(t, "pids");

	if (has_stat(t, "exit_signal"))	/* exit_status is then 128+N, as record exits */
		printf("%-16s killed by signal %llu\n", "exit_status",
		       (unsigned long long)mmr_trace_stat(t, "exit_signal"));
	else if (has_stat(t, "exit_status"))
		printf("%-16s %llu\n", "exit_status",
		       (unsigned long long)mmr_trace_stat(t, "exit_status"));
	else if (pids && *pids)
		printf("%-16s not recorded (-p %s: not the recorder's child)\n", "exit_status", pids);
	else if (!mmr_trace_closed(t))
		printf("%-16s not recorded (the trace was not closed)\n", "exit_status");
	else if (mmr_trace_meta(t, "trigger"))
		printf("%-16s not recorded (a flight recorder trace, written while the command "
		       "ran)\n", "exit_status");
	else
		printf("%-16s not recorded (%s ended before it, or an older trace)\n", "exit_status",
		       cmd && *cmd ? "the recording" : "no command; the recording");
}

/* drops in total, and per CPU where there were any */
static void print_drops(const struct mmr_trace *t)
{
	const char *ncpu = mmr_trace_meta(t, "nr_cpus");
	int n = ncpu ? atoi(ncpu) : 0, sep = 0;
	char key[32];

	printf("%-16s %llu", "drops", (unsigned long long)mmr_trace_stat(t, "drops"));
	for (int i = 0; i < n && i < MMR_MAX_CPUS; i++) {
		snprintf(key, sizeof(key), "drops_cpu%d", i);
		if (mmr_trace_stat(t, key))
			printf("%scpu%d %llu", sep++ ? ", " : " (", i,
			       (unsigned long long)mmr_trace_stat(t, key));
	}
	printf(sep ? ")\n" : " (0 on each of %d CPUs)\n", n);
}

/* record --flight-recorder: what triggered the trace, its span, what it lost at the front. */
static void print_flight(const struct mmr_trace *t)
{
	const char *v = mmr_trace_meta(t, "trigger");
	__u64 start, first, last;
	char trig[600];

	if (!v)
		return;
	snprintf(trig, sizeof(trig), "%s", v);	/* v is mmr_trace_meta()'s buffer */
	v = mmr_trace_meta(t, "start_monotonic_ns");
	start = v ? strtoull(v, NULL, 10) : 0;
	v = mmr_trace_meta(t, "first_event_ns");
	first = v ? strtoull(v, NULL, 10) : 0;
	v = mmr_trace_meta(t, "last_event_ns");
	last = v ? strtoull(v, NULL, 10) : 0;
	v = mmr_trace_meta(t, "flight_recorder_bytes");
	printf("%-16s %s (flight recorder of %s bytes)\n", "trigger", trig, v ?: "?");
	if (first && first >= start && last >= first)
		printf("%-16s %.3f s to %.3f s after the start (%.3f s)\n", "span",
		       (first - start) / 1e9, (last - start) / 1e9, (last - first) / 1e9);
	if (mmr_trace_stat(t, "overwritten"))
		printf("%-16s %llu events before the first held (not in this trace: the "
		       "processes and mappings made before it are missing)\n", "overwritten",
		       (unsigned long long)mmr_trace_stat(t, "overwritten"));
	else
		printf("%-16s 0 (the trace holds the recording from its start)\n", "overwritten");
}

static void info_summary(const struct mmr_trace *t)
{
	__u64 ns = info_duration(t);

	if (ns)
		printf("%-16s %.3f s\n", "duration", ns / 1e9);
	else
		printf("%-16s not recorded\n", "duration");
	print_exit(t);
	printf("%-16s %llu (records of every kind, as show prints and check reads them)\n",
	       "events", (unsigned long long)mmr_trace_stat(t, "events"));
	if (has_stat(t, "snapshots"))
		printf("%-16s %llu of processes, %llu of the counters alone\n", "snapshots",
		       (unsigned long long)mmr_trace_stat(t, "snapshots"),
		       (unsigned long long)mmr_trace_stat(t, "snapshots_global"));
	print_drops(t);
	print_flight(t);
}

static void info_plain(const struct mmr_trace *t)
{
	static const char *keys[] = { "kernel_release", "machine", "page_size", "nr_cpus",
				      "thp_enabled", "anon_read_fault", "clock", "start_realtime",
				      "command", "pids", "mm_id" };

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		printf("%-16s %s\n", keys[i], mmr_trace_meta(t, keys[i]) ?: "");
	printf("chunks           %d%s\n", mmr_trace_chunks(t),
	       mmr_trace_closed(t) ? "" : " (not closed)");
	info_summary(t);
	printf("\n%-28s %-36s %s\n", "KIND", "ATTACH", "STATUS");
	for (int id = 1; id < MMR_MAX_KINDS; id++) {
		const struct mmr_kind_info *k = mmr_trace_kind(t, id);

		if (k)
			printf("%-28s %-36s %s\n", k->name, k->attach, k->status);
	}
	printf("\ncounters:\n%s", mmr_trace_stats(t));
}

static void stat_or_null(const struct mmr_trace *t, const char *key, json_writer_t *w)
{
	if (has_stat(t, key))
		jsonw_uint_field(w, key, mmr_trace_stat(t, key));
	else
		jsonw_null_field(w, key);
}

/* duration_ns, exit_status / exit_signal (null: not recorded), drops_per_cpu */
static void info_json_summary(const struct mmr_trace *t, json_writer_t *w)
{
	const char *ncpu = mmr_trace_meta(t, "nr_cpus");
	int n = ncpu ? atoi(ncpu) : 0;
	char key[32];

	if (info_duration(t))
		jsonw_uint_field(w, "duration_ns", info_duration(t));
	else
		jsonw_null_field(w, "duration_ns");
	stat_or_null(t, "exit_status", w);
	stat_or_null(t, "exit_signal", w);
	jsonw_uint_field(w, "events", mmr_trace_stat(t, "events"));
	jsonw_uint_field(w, "drops", mmr_trace_stat(t, "drops"));
	jsonw_name(w, "drops_per_cpu");
	jsonw_start_array(w);
	for (int i = 0; i < n && i < MMR_MAX_CPUS; i++) {
		snprintf(key, sizeof(key), "drops_cpu%d", i);
		jsonw_uint(w, mmr_trace_stat(t, key));
	}
	jsonw_end_array(w);
}

static void info_json(struct mmr_trace *t, json_writer_t *w)
{
	static const char *keys[] = { "format_version", "kernel_release", "kernel_version",
				      "machine", "page_size", "nr_cpus", "thp_enabled", "thp_defrag",
				      "thp_shmem_enabled", "anon_read_fault", "clock",
				      "start_monotonic_ns", "start_realtime", "command", "pids",
				      "mm_id", "trigger", "flight_recorder_bytes",
				      "first_event_ns", "last_event_ns" };
	const char *stats = mmr_trace_stats(t);
	char name[128];

	jsonw_start_object(w);
	jsonw_name(w, "meta");
	jsonw_start_object(w);
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		jsonw_string_field(w, keys[i], mmr_trace_meta(t, keys[i]));
	jsonw_end_object(w);
	jsonw_break(w, 1);
	info_json_summary(t, w);
	jsonw_break(w, 1);
	jsonw_bool_field(w, "closed", mmr_trace_closed(t));
	jsonw_int_field(w, "chunks", mmr_trace_chunks(t));
	jsonw_string_field(w, "problem", mmr_trace_problem(t));
	jsonw_break(w, 1);
	jsonw_name(w, "coverage");
	jsonw_start_array(w);
	jsonw_lines(w, 2, -1);
	for (int id = 1; id < MMR_MAX_KINDS; id++) {
		const struct mmr_kind_info *k = mmr_trace_kind(t, id);

		if (!k)
			continue;
		jsonw_start_object(w);
		jsonw_string_field(w, "kind", k->name);
		jsonw_string_field(w, "source", k->source);
		jsonw_string_field(w, "attach", k->attach);
		jsonw_string_field(w, "status", k->status);
		jsonw_end_object(w);
	}
	jsonw_end_array(w);
	jsonw_break(w, 1);
	jsonw_name(w, "counters");
	jsonw_start_object(w);
	for (const char *p = stats; *p;) {
		size_t l = strcspn(p, "\n");
		const char *eq = memchr(p, '=', l);

		if (eq) {
			snprintf(name, sizeof(name), "%.*s", (int)(eq - p), p);
			jsonw_u64_field(w, name, strtoull(eq + 1, NULL, 0));
		}
		p += l + (p[l] == '\n');
	}
	jsonw_end_object(w);
	jsonw_end_object(w);
}

int cmd_info(int argc, char **argv)
{
	struct show_opts o = {};
	struct mmr_trace *t;
	int r;

	r = parse_show(argc, argv, &o, 1);
	if (r)
		return r > 0 ? 0 : MMR_EXIT_ERROR;
	t = open_trace(o.file);
	if (!t)
		return MMR_EXIT_ERROR;
	if (o.json)
		info_json(t, mmr_json());
	else
		info_plain(t);
	fflush(stdout);
	r = report_trace_state(t, o.file, NULL);
	mmr_trace_close(t);
	return r;
}
