// SPDX-License-Identifier: GPL-2.0
/*
 * mmreplay record: its options, the recorder's lifecycle (record/record.h)
 * and the summary.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include "cmds.h"
#include "replay/replay.h"
#include "traces/kinds.h"
#include "traces/syscalls.h"
#include "record/record.h"
#include "record/watchdog.h"
#include "util.h"

const char usage_record[] =
	"usage: mmreplay record [OPTIONS] -- CMD ARGS...\n"
	"       mmreplay record [OPTIONS] -p PID ...\n\n"
	"Record the mm activity of CMD and every task it forks, or of running\n"
	"processes (-p, repeatable) and their future children, until they exit or\n"
	"Ctrl-C / SIGTERM / SIGHUP.  A signal to record goes on to CMD and the\n"
	"processes it forked (SIGKILL after a second signal or 5 s), and the trace\n"
	"is closed once they have exited; -p targets are left alone.\n\n"
	"  -o, --output FILE     trace file (default mmreplay.trace)\n"
	"  -p, --pid PID         trace a running process and its future children\n"
	"                        (not with CMD); the recording ends when they exit\n"
	"  -e, --events KINDS    comma-separated kinds to record (default: all that\n"
	"                        this kernel allows; see mmreplay probes); a kind\n"
	"                        it cannot attach is an error, saying why; a\n"
	"                        syscall's name is no kind (sys_enter and sys_exit\n"
	"                        record every mm syscall); leaving out a kind\n"
	"                        replay needs is a warning\n"
	"      --allow-missing   such a kind is a warning, and the others are recorded\n"
	"  -x, --exclude KINDS   comma-separated kinds not to record\n"
	"  -b, --buffer-mb MB    ring buffer size in MiB (default 16)\n"
	"      --no-coalesce     one ring buffer record per fault, rss_stat change\n"
	"                        and LRU insertion (by default the kernel stages\n"
	"                        them, up to 60 a record, and record writes each\n"
	"                        back as its own event: the trace is the same)\n"
	"  -s, --snapshot        after each mlock, munlock, munmap, mremap, madvise,\n"
	"                        fallocate and truncate call, stop the process and\n"
	"                        record its memory state from /proc for `check`\n"
	"                        (slow: for tests and reproductions, not production)\n"
	"  -S, --snapshot-max N  --snapshot for the first N calls only, then events\n"
	"                        alone (bounds the cost of a call-heavy workload)\n"
	"      --reclaim-pass    with --snapshot: when a snapshot finds a page not\n"
	"                        mlocked in a VM_LOCKED VMA, reclaim the process's\n"
	"                        cgroup (memory.reclaim: it must have a group of its\n"
	"                        own) and snapshot it again, for `check` to tell the\n"
	"                        kernel's documented transients from lost mlocks;\n"
	"                        evicts its other pages (replay passes it)\n"
	"      --flight-recorder SIZE\n"
	"                        hold only the last SIZE bytes of events in memory\n"
	"                        (K, M or G; at least 256K) and write a trace only\n"
	"                        on a trigger: SIGUSR1 to record (which goes on\n"
	"                        recording), CMD's death by a signal record did not\n"
	"                        pass on, or a kernel log line (/dev/kmsg) matching\n"
	"                        a --trigger-kmsg pattern; the first trigger writes\n"
	"                        FILE, the next FILE.1, FILE.2 ...; no trigger: no\n"
	"                        file (not with --snapshot)\n"
	"      --trigger-kmsg REGEX\n"
	"                        a POSIX extended regex for the kernel log trigger,\n"
	"                        repeatable; replaces the default patterns\n"
	"                        'Bad rss-counter state', 'BUG:', 'WARNING:.*mm/'\n"
	"  -q, --quiet           no start line, live line or summary on stderr\n"
	"  -j, --json            the summary as JSON on stdout (after CMD's own output)\n\n"
	"Exit status: CMD's own (128+N if signal N killed it), as perf record;\n"
	"0 for -p; 2 when record itself fails, after an \"mmreplay: record: ...\"\n"
	"error line on stderr.  A CMD that exits 2 has no such line, and the\n"
	"summary's last line says \"command exited with status 2\" (--json:\n"
	"\"command\": {\"exit_status\": 2}).\n\n"
	"Before the recording starts, a line on stderr says what is recorded; on a\n"
	"terminal a live line then counts events, drops, MB and snapshots.\n\n"
	"examples:\n"
	"  mmreplay record -- ./workload arg\n"
	"  mmreplay record -o db.trace -p 4242\n"
	"  mmreplay record -x mmap_lock_start_locking,mmap_lock_acquire_returned,mmap_lock_released -- make\n";

static struct recorder *recording;

static void on_signal(int sig)
{
	recorder_stop(recording, sig);
}

static struct recorder *flight;	/* set before the BPF load: an early SIGUSR1 still counts */

static void on_usr1(int sig)
{
	recorder_trigger(flight);
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (mmr_verbose < 2 && (level == LIBBPF_DEBUG || mmr_verbose < 1))
		return 0;
	return vfprintf(stderr, fmt, ap);
}

struct rec_opts {
	struct recorder_opts rec;	/* what the recorder is given */
	int pids[64];
	const char *patterns[16];	/* --trigger-kmsg */
	int quiet, json;
	int live;			/* a live line is on stderr, to be cleared */
};

static int parse_pid(struct rec_opts *o, const char *arg)
{
	char *end;

	if (o->rec.nr_pids == 64) {
		mmr_err("record: at most 64 -p options");
		return -1;
	}
	o->pids[o->rec.nr_pids] = strtol(arg, &end, 10);
	if (*end || o->pids[o->rec.nr_pids] <= 0 || kill(o->pids[o->rec.nr_pids], 0)) {
		mmr_err("record: no such process '%s'", arg);
		return -1;
	}
	o->rec.nr_pids++;
	return 0;
}

/* --flight-recorder SIZE: bytes, with a K, M or G suffix (powers of 1024). */
static int parse_size(const char *arg, size_t *out)
{
	unsigned long long n;
	int shift = 0;
	char *end;

	errno = 0;
	n = strtoull(arg, &end, 10);
	if (*end && !end[1] && strchr("kKmMgG", *end))
		shift = *end == 'k' || *end == 'K' ? 10 : *end == 'm' || *end == 'M' ? 20 : 30;
	else if (*end)
		n = 0;
	if (errno || end == arg || arg[0] == '-' || n > (64ULL << 30) >> shift ||
	    (n << shift) < (256 << 10)) {
		mmr_err("record: --flight-recorder '%s': a size from 256K to 64G (K, M or G "
			"suffix, e.g. 64M)", arg);
		return -1;
	}
	*out = n << shift;
	return 0;
}

/* What to trace: a command or -p targets, one of the two. */
static int check_targets(struct rec_opts *o)
{
	if (o->rec.cmd && o->rec.nr_pids) {
		mmr_err("record: -p and a command exclude each other: record one or the other");
		return -1;
	}
	if (!o->rec.cmd && !o->rec.nr_pids) {
		mmr_err("record: nothing to trace: give -p PID or -- CMD (see mmreplay record --help)");
		return -1;
	}
	return 0;
}

static int parse_opts(int argc, char **argv, struct rec_opts *o)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "pid", required_argument, NULL, 'p' },
		{ "events", required_argument, NULL, 'e' },
		{ "exclude", required_argument, NULL, 'x' },
		{ "buffer-mb", required_argument, NULL, 'b' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "json", no_argument, NULL, 'j' },
		{ "allow-missing", no_argument, NULL, 'M' },
		{ "snapshot", no_argument, NULL, 's' },
		{ "snapshot-max", required_argument, NULL, 'S' },
		{ "flight-recorder", required_argument, NULL, 'F' },
		{ "trigger-kmsg", required_argument, NULL, 'K' },
		{ "no-coalesce", no_argument, NULL, 'C' },
		{ "reclaim-pass", no_argument, NULL, 'R' },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	char *end;
	int c;

	o->rec.out = "mmreplay.trace";
	o->rec.buffer_mb = 16;
	o->rec.pids = o->pids;
	o->rec.kmsg_patterns = o->patterns;
	while ((c = mmr_getopt("record", argc, argv, "o:p:e:x:b:qjsS:h", opts)) != -1) {
		switch (c) {
		case 'o': o->rec.out = optarg; break;
		case 'e': o->rec.only = optarg; break;
		case 'x': o->rec.exclude = optarg; break;
		case 'q': o->quiet = 1; break;
		case 'j': o->json = 1; break;
		case 'M': o->rec.allow_missing = 1; break;
		case 's': o->rec.snapshot = 1; break;
		case 'C': o->rec.no_coalesce = 1; break;
		case 'R': o->rec.reclaim_pass = 1; break;
		case 'S':
			o->rec.snapshot = 1;
			o->rec.snapshot_max = strtol(optarg, &end, 10);
			if (*end || o->rec.snapshot_max < 1) {
				mmr_err("record: --snapshot-max must be a positive number");
				return -1;
			}
			break;
		case 'h': cmd_help("record"); return 1;
		case 'F':
			if (parse_size(optarg, &o->rec.flight_bytes))
				return -1;
			break;
		case 'K':
			if (o->rec.nr_kmsg_patterns == 16) {
				mmr_err("record: at most 16 --trigger-kmsg patterns");
				return -1;
			}
			o->patterns[o->rec.nr_kmsg_patterns++] = optarg;
			break;
		case 'p':
			if (parse_pid(o, optarg))
				return -1;
			break;
		case 'b':
			o->rec.buffer_mb = strtol(optarg, &end, 10);
			if (*end || o->rec.buffer_mb < 1 || o->rec.buffer_mb > 4096 ||
			    (o->rec.buffer_mb & (o->rec.buffer_mb - 1))) {
				mmr_err("record: --buffer-mb must be a power of two from 1 to 4096");
				return -1;
			}
			break;
		default: return -1;
		}
	}
	if (optind < argc)
		o->rec.cmd = argv + optind;
	if (o->rec.nr_kmsg_patterns && !o->rec.flight_bytes) {
		mmr_err("record: --trigger-kmsg is a trigger of --flight-recorder: give both");
		return -1;
	}
	return check_targets(o);
}

/* Every name in a kinds list must be a kind. */
static int check_list(const char *list)
{
	char name[64];

	for (const char *p = list; p && *p;) {
		size_t l = strcspn(p, ",");

		snprintf(name, sizeof(name), "%.*s", (int)l, p);
		if (!kind_def_by_name(name) && syscall_nr(name) >= 0) {
			mmr_err("record: '%s' is a syscall, not an event kind: the sys_enter and "
				"sys_exit kinds record every mm syscall (show --kind %s picks it out)",
				name, name);
			return -1;
		}
		if (!kind_def_by_name(name)) {
			mmr_err("record: unknown event kind '%s' (see mmreplay probes)", name);
			return -1;
		}
		p += l + (p[l] == ',');
	}
	return 0;
}

/* A selection of kinds that leaves out what replay needs is said at record time. */
static void warn_unreplayable(const struct recorder_opts *o)
{
	for (int i = 0; replay_needed_kinds[i]; i++) {
		const char *k = replay_needed_kinds[i];

		if (!recorder_kind_wanted(o, k)) {
			mmr_warn("record: without %s, replay cannot use this trace (it needs "
				 "sys_enter, sys_exit, task_fork and page_fault_user)", k);
			return;
		}
	}
}

static void setup_signals(void)
{
	struct sigaction sa = { .sa_handler = on_signal };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

static void setup_usr1(void)
{
	struct sigaction sa = { .sa_handler = on_usr1, .sa_flags = SA_RESTART };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
}

static void warn(const char *msg)
{
	mmr_warn("record: %s", msg);
}

/* The trace file's size: header and chunks, as written. */
static long file_size(const char *path)
{
	FILE *f = fopen(path, "r");
	long bytes = 0;

	if (f && !fseek(f, 0, SEEK_END))
		bytes = ftell(f);
	if (f)
		fclose(f);
	return bytes;
}

static int kinds_recorded(const struct recorder *r)
{
	const struct probe_plan *plans = recorder_plans(r);
	int n = 0;

	for (int i = 0; i < mmr_nr_kinds; i++)
		n += plans[i].how != ATTACH_NONE && plans[i].emit;
	return n;
}

/* "mmreplay: recording 23 kinds of `sort -n f` (pid 42) into F; Ctrl-C to stop" */
static void print_start(const struct recorder *r, const struct rec_opts *o)
{
	fprintf(stderr, "mmreplay: recording %d kinds ", kinds_recorded(r));
	if (o->rec.cmd) {
		fprintf(stderr, "of `");
		for (int i = 0; o->rec.cmd[i]; i++)
			fprintf(stderr, "%s%s", i ? " " : "", o->rec.cmd[i]);
		fprintf(stderr, "` (pid %d)", recorder_child(r));
	} else {
		fprintf(stderr, "for pid");
		for (int i = 0; i < o->rec.nr_pids; i++)
			fprintf(stderr, "%s%d", i ? "," : " ", o->pids[i]);
	}
	if (o->rec.flight_bytes)
		fprintf(stderr, ", holding the last %.1f MB, into %s on a trigger (SIGUSR1 "
			"to pid %d%s); Ctrl-C to stop\n", o->rec.flight_bytes / 1048576.0,
			o->rec.out, getpid(), recorder_result(r)->kmsg_watched ?
			", the workload's death by a signal, the kernel log" :
			", the workload's death by a signal");
	else
		fprintf(stderr, " into %s%s; Ctrl-C to stop\n", o->rec.out,
			o->rec.snapshot ? " with snapshots" : "");
}

/* The live line on a terminal, rewritten in place each second. */
static void print_live(const struct record_result *res, void *ctx)
{
	struct rec_opts *o = ctx;

	fprintf(stderr, "\r\033[K  %llu events, %llu dropped, %.1f MB",
		(unsigned long long)res->events, (unsigned long long)res->drops,
		res->bytes / 1e6);
	if (o->rec.snapshot)
		fprintf(stderr, ", %llu snapshots", (unsigned long long)res->snapshots);
	fflush(stderr);
	o->live = 1;
}

static void clear_live(struct rec_opts *o)
{
	if (o->live)
		fprintf(stderr, "\r\033[K");
	o->live = 0;
}

/* What the command did, in the summary's last line; "" if it exited 0. */
static void print_child_status(const struct record_result *res)
{
	int st = res->child_status;

	if (res->forwarded_signal)
		fprintf(stderr, "mmreplay: passed SIG%s to the command\n",
			sigabbrev_np(res->forwarded_signal) ?: "?");
	if (!res->child_reaped)
		return;
	if (WIFEXITED(st) && WEXITSTATUS(st))
		fprintf(stderr, "mmreplay: command exited with status %d\n", WEXITSTATUS(st));
	else if (WIFSIGNALED(st))
		fprintf(stderr, "mmreplay: command killed by SIG%s (exit status %d)\n",
			sigabbrev_np(WTERMSIG(st)) ?: "?", 128 + WTERMSIG(st));
}

/* A flight recorder trace, as it is written. */
static void print_triggered(const struct flight_written *fw, void *ctx)
{
	struct rec_opts *o = ctx;

	clear_live(o);
	if (fw->error) {
		mmr_warn("record: flight recorder: %s: %s", fw->trigger, fw->error);
		return;
	}
	if (o->quiet)
		return;
	fprintf(stderr, "mmreplay: flight recorder: %s: wrote %llu events (%.3f s; %llu "
		"overwritten before them) to %s\n", fw->trigger, (unsigned long long)fw->events,
		fw->last_ns > fw->first_ns ? (fw->last_ns - fw->first_ns) / 1e9 : 0.0,
		(unsigned long long)fw->overwritten, fw->path);
}

/* Flight recorder: what was seen and held, and the traces written. */
static void print_flight_summary(const struct record_result *res)
{
	fprintf(stderr, "mmreplay: flight recorder: %llu events seen, %llu held at the end "
		"(%.1f MB), %llu overwritten, %llu handed to the %d trace%s written\n",
		(unsigned long long)res->events, (unsigned long long)res->flight_held,
		res->flight_held_bytes / 1e6, (unsigned long long)res->flight_overwritten,
		(unsigned long long)res->flight_moved, res->flight_written,
		res->flight_written == 1 ? "" : "s");
}

static void print_summary(const struct recorder *r, const struct rec_opts *o)
{
	const struct record_result *res = recorder_result(r);
	const struct probe_plan *plans = recorder_plans(r);
	__u64 bytes = file_size(o->rec.out);

	if (o->rec.flight_bytes)
		print_flight_summary(res);
	else
		fprintf(stderr, "mmreplay: recorded %llu events to %s (%llu bytes, %.1f "
			"bytes/event)\n", (unsigned long long)res->events, o->rec.out,
			(unsigned long long)bytes, res->events ? (double)bytes / res->events : 0.0);
	for (int k = 1; k < MMR_K_NR; k++)
		if (res->per_kind[k])
			fprintf(stderr, "  %-28s %llu\n", kind_def(k)->name,
				(unsigned long long)res->per_kind[k]);
	if (o->rec.snapshot)
		fprintf(stderr, "  %-28s %llu of processes, %llu of the counters alone (%llu not "
			"held stopped, %llu calls coalesced%s)\n", "snapshots",
			(unsigned long long)res->snapshots, (unsigned long long)res->snapshots_global,
			(unsigned long long)res->snapshots_not_held,
			(unsigned long long)res->snapshots_coalesced,
			res->snapshots_capped ? "; --snapshot-max reached, events alone after it" : "");
	if (o->rec.reclaim_pass)
		fprintf(stderr, "  %-28s %llu run, %llu wanted and not run%s%s\n", "reclaim passes",
			(unsigned long long)res->reclaim_passes,
			(unsigned long long)res->reclaim_not_run, res->reclaim_why[0] ? ": " : "",
			res->reclaim_why);
	if (res->batches)
		fprintf(stderr, "  %-28s %llu events in %llu ring records\n", "staged (coalesced)",
			(unsigned long long)res->staged, (unsigned long long)res->batches);
	if (res->drops)
		fprintf(stderr, "mmreplay: warning: %llu events dropped (ring buffer full); "
			"try a larger --buffer-mb\n", (unsigned long long)res->drops);
	else
		fprintf(stderr, "  dropped: 0\n");
	if (res->late)
		fprintf(stderr, "mmreplay: warning: %llu events came over 10 ms after a later one; "
			"a reader may put them out of order\n", (unsigned long long)res->late);
	if (mmr_verbose) {
		fprintf(stderr, "probe coverage:\n");
		for (int i = 0; i < mmr_nr_kinds; i++)
			fprintf(stderr, "  %-28s %-36s %s\n", plans[i].kind->name,
				plans[i].attach, plans[i].status);
	}
	print_child_status(res);
}

/* "command": {"pid", "exit_status" or "signal", "forwarded_signal"} */
static void print_child_json(json_writer_t *w, const struct recorder *r)
{
	const struct record_result *res = recorder_result(r);
	int st = res->child_status;

	jsonw_name(w, "command");
	jsonw_start_object(w);
	jsonw_int_field(w, "pid", recorder_child(r));
	if (res->child_reaped && WIFSIGNALED(st)) {
		jsonw_stringf_field(w, "signal", "SIG%s", sigabbrev_np(WTERMSIG(st)) ?: "?");
		jsonw_int_field(w, "exit_status", 128 + WTERMSIG(st));
	} else if (res->child_reaped) {
		jsonw_int_field(w, "exit_status", WEXITSTATUS(st));
	}
	if (res->forwarded_signal)
		jsonw_stringf_field(w, "forwarded_signal", "SIG%s",
				    sigabbrev_np(res->forwarded_signal) ?: "?");
	jsonw_end_object(w);
}

/* The summary as one JSON object on stdout. */
static void print_summary_json(const struct recorder *r, const struct rec_opts *o)
{
	const struct record_result *res = recorder_result(r);
	json_writer_t *w = mmr_json();

	jsonw_start_object(w);
	jsonw_lines(w, 2, 0);
	jsonw_string_field(w, "trace", o->rec.out);
	jsonw_u64_field(w, "bytes", file_size(o->rec.out));
	jsonw_u64_field(w, "events", res->events);
	jsonw_name(w, "events_by_kind");
	jsonw_start_object(w);
	for (int k = 1; k < MMR_K_NR; k++)
		if (res->per_kind[k])
			jsonw_u64_field(w, kind_def(k)->name, res->per_kind[k]);
	jsonw_end_object(w);
	jsonw_u64_field(w, "drops", res->drops);
	jsonw_u64_field(w, "bad_records", res->bad_records);
	jsonw_u64_field(w, "staged_events", res->staged);	/* coalesced: 0 with --no-coalesce */
	jsonw_u64_field(w, "staged_batches", res->batches);
	jsonw_u64_field(w, "late_events", res->late);
	if (o->rec.snapshot) {
		jsonw_u64_field(w, "snapshots", res->snapshots);
		jsonw_u64_field(w, "snapshots_not_held", res->snapshots_not_held);
		jsonw_u64_field(w, "snapshots_coalesced", res->snapshots_coalesced);
		jsonw_bool_field(w, "snapshots_capped", res->snapshots_capped);
	}
	if (o->rec.reclaim_pass) {
		jsonw_u64_field(w, "reclaim_passes", res->reclaim_passes);
		jsonw_u64_field(w, "reclaim_passes_not_run", res->reclaim_not_run);
		jsonw_string_field(w, "reclaim_pass_why", res->reclaim_why);
	}
	if (o->rec.flight_bytes) {
		jsonw_name(w, "flight_recorder");
		jsonw_start_object(w);
		jsonw_u64_field(w, "bytes", o->rec.flight_bytes);
		jsonw_int_field(w, "traces_written", res->flight_written);
		jsonw_u64_field(w, "held", res->flight_held);
		jsonw_u64_field(w, "held_bytes", res->flight_held_bytes);
		jsonw_u64_field(w, "overwritten", res->flight_overwritten);
		jsonw_u64_field(w, "handed_to_traces", res->flight_moved);
		jsonw_end_object(w);
	}
	if (o->rec.cmd)
		print_child_json(w, r);
	jsonw_end_object(w);
}

/* record's exit status: the command's (128+N for signal N), 0 for -p. */
static int exit_status(const struct record_result *res)
{
	if (!res->child_reaped)
		return 0;
	if (WIFSIGNALED(res->child_status))
		return 128 + WTERMSIG(res->child_status);
	return WIFEXITED(res->child_status) ? WEXITSTATUS(res->child_status) : 0;
}

/* new -> prepare -> load -> attach -> run; signals stop the run only. */
static int record(struct recorder *r, struct rec_opts *o)
{
	flight = r;
	if (o->rec.flight_bytes)	/* else SIGUSR1 during the load would kill us */
		setup_usr1();
	if (recorder_prepare(r) || recorder_load(r) || recorder_attach(r))
		return -1;
	recording = r;
	setup_signals();
	warn_unreplayable(&o->rec);
	if (!o->quiet)
		print_start(r, o);
	if (recorder_run(r)) {
		clear_live(o);
		return -1;
	}
	clear_live(o);
	/* even with -q: the one word on why there is no file */
	if (o->rec.flight_bytes && !recorder_result(r)->flight_written)
		fprintf(stderr, "mmreplay: record: no trigger: nothing written; %.1f MB of events "
			"held at the end\n", recorder_result(r)->flight_held_bytes / 1e6);
	if (!o->quiet)
		print_summary(r, o);
	if (o->json)
		print_summary_json(r, o);
	return 0;
}

int cmd_record(int argc, char **argv)
{
	struct rec_opts o = {};
	char path[4096];
	struct recorder *r;
	int ret = MMR_EXIT_ERROR, pr;

	pr = parse_opts(argc, argv, &o);
	if (pr)
		return pr > 0 ? 0 : MMR_EXIT_ERROR;
	if (check_list(o.rec.only) || check_list(o.rec.exclude))
		return MMR_EXIT_ERROR;
	if (o.rec.cmd && recorder_find_cmd(o.rec.cmd[0], path, sizeof(path))) {
		mmr_err("record: cannot run %s: %s", o.rec.cmd[0], strerror(errno));
		return MMR_EXIT_ERROR;
	}
	o.rec.argv = argv;
	o.rec.warn = warn;
	o.rec.triggered = print_triggered;
	o.rec.triggered_ctx = &o;
	if (!o.quiet && isatty(STDERR_FILENO)) {
		o.rec.progress = print_live;
		o.rec.progress_ctx = &o;
	}
	r = recorder_new(&o.rec);
	if (!r) {
		mmr_err("record: %s", strerror(errno));
		return MMR_EXIT_ERROR;
	}
	libbpf_set_print(libbpf_print);
	if (record(r, &o))
		mmr_err("record: %s", recorder_error(r));
	else
		ret = exit_status(recorder_result(r));
	recorder_free(r);
	return ret;
}

/* mmreplay __watchdog: what record --snapshot's watchdog execs (record/watchdog.h). */
int cmd_watchdog(int argc, char **argv)
{
	return watchdog_main() ? MMR_EXIT_ERROR : 0;
}
