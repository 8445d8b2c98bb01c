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
#include "traces/kinds.h"
#include "record/record.h"
#include "record/watchdog.h"
#include "util.h"

const char usage_record[] =
	"usage: mmreplay record [-o FILE] [-p PID ...] [-e KINDS] [-b MB] [-s] [-- CMD ARGS...]\n\n"
	"Record the mm activity of CMD and every task it forks, or of running\n"
	"processes (-p, repeatable), until they exit or Ctrl-C / SIGTERM.\n\n"
	"  -o, --output FILE     trace file (default mmreplay.trace)\n"
	"  -p, --pid PID         trace a running process and its future children\n"
	"  -e, --events KINDS    comma-separated kinds to record (default: all that\n"
	"                        this kernel allows; see mmreplay probes)\n"
	"  -x, --exclude KINDS   comma-separated kinds not to record\n"
	"  -b, --buffer-mb MB    ring buffer size in MiB (default 16)\n"
	"  -s, --snapshot        after each mlock, munlock, munmap, mremap, madvise,\n"
	"                        fallocate and truncate call, stop the process and\n"
	"                        record its memory state from /proc for `check`\n"
	"                        (slow: for tests and reproductions, not production)\n"
	"  -S, --snapshot-max N  --snapshot for the first N calls only, then events\n"
	"                        alone (bounds the cost of a call-heavy workload)\n"
	"  -q, --quiet           no summary\n\n"
	"examples:\n"
	"  mmreplay record -- ./workload arg\n"
	"  mmreplay record -o db.trace -p 4242\n"
	"  mmreplay record -x mmap_lock_start_locking,mmap_lock_acquire_returned,mmap_lock_released -- make\n";

static struct recorder *recording;

static void on_signal(int sig)
{
	recorder_stop(recording);
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
	int quiet;
};

static int parse_opts(int argc, char **argv, struct rec_opts *o)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "pid", required_argument, NULL, 'p' },
		{ "events", required_argument, NULL, 'e' },
		{ "exclude", required_argument, NULL, 'x' },
		{ "buffer-mb", required_argument, NULL, 'b' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "snapshot", no_argument, NULL, 's' },
		{ "snapshot-max", required_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	char *end;
	int c;

	o->rec.out = "mmreplay.trace";
	o->rec.buffer_mb = 16;
	o->rec.pids = o->pids;
	while ((c = mmr_getopt("record", argc, argv, "o:p:e:x:b:qsS:h", opts)) != -1) {
		switch (c) {
		case 'o': o->rec.out = optarg; break;
		case 'e': o->rec.only = optarg; break;
		case 'x': o->rec.exclude = optarg; break;
		case 'q': o->quiet = 1; break;
		case 's': o->rec.snapshot = 1; break;
		case 'S':
			o->rec.snapshot = 1;
			o->rec.snapshot_max = strtol(optarg, &end, 10);
			if (*end || o->rec.snapshot_max < 1) {
				mmr_err("record: --snapshot-max must be a positive number");
				return -1;
			}
			break;
		case 'h': cmd_help("record"); return 1;
		case 'p':
			if (o->rec.nr_pids == 64) {
				mmr_err("record: at most 64 -p options");
				return -1;
			}
			o->pids[o->rec.nr_pids] = strtol(optarg, &end, 10);
			if (*end || o->pids[o->rec.nr_pids] <= 0 || kill(o->pids[o->rec.nr_pids], 0)) {
				mmr_err("record: no such process '%s'", optarg);
				return -1;
			}
			o->rec.nr_pids++;
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
	if (!o->rec.cmd && !o->rec.nr_pids) {
		mmr_err("record: nothing to trace: give -p PID or -- CMD (see mmreplay record --help)");
		return -1;
	}
	return 0;
}

/* Is @cmd something execvp() can run?  Checked before anything is loaded. */
static int runnable(const char *cmd)
{
	char path[4096];
	const char *dirs = getenv("PATH");

	if (strchr(cmd, '/'))
		return access(cmd, X_OK) == 0;
	for (const char *p = dirs ? dirs : "/usr/bin:/bin"; *p;) {
		size_t l = strcspn(p, ":");

		snprintf(path, sizeof(path), "%.*s/%s", (int)l, p, cmd);
		if (!access(path, X_OK))
			return 1;
		p += l + (p[l] == ':');
	}
	return 0;
}

/* Every name in a kinds list must be a kind. */
static int check_list(const char *list)
{
	char name[64];

	for (const char *p = list; p && *p;) {
		size_t l = strcspn(p, ",");

		snprintf(name, sizeof(name), "%.*s", (int)l, p);
		if (!kind_def_by_name(name)) {
			mmr_err("record: unknown event kind '%s' (see mmreplay probes)", name);
			return -1;
		}
		p += l + (p[l] == ',');
	}
	return 0;
}

static void setup_signals(void)
{
	struct sigaction sa = { .sa_handler = on_signal };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
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

static void print_summary(const struct recorder *r, const struct rec_opts *o)
{
	const struct record_result *res = recorder_result(r);
	const struct probe_plan *plans = recorder_plans(r);
	__u64 bytes = file_size(o->rec.out);

	fprintf(stderr, "mmreplay: recorded %llu events to %s (%llu bytes, %.1f bytes/event)\n",
		(unsigned long long)res->events, o->rec.out, (unsigned long long)bytes,
		res->events ? (double)bytes / res->events : 0.0);
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
	if (res->drops)
		fprintf(stderr, "mmreplay: warning: %llu events dropped (ring buffer full); "
			"try a larger --buffer-mb\n", (unsigned long long)res->drops);
	else
		fprintf(stderr, "  dropped: 0\n");
	if (WIFEXITED(res->child_status) && WEXITSTATUS(res->child_status))
		fprintf(stderr, "mmreplay: command exited with status %d\n",
			WEXITSTATUS(res->child_status));
	if (mmr_verbose) {
		fprintf(stderr, "probe coverage:\n");
		for (int i = 0; i < mmr_nr_kinds; i++)
			fprintf(stderr, "  %-28s %-36s %s\n", plans[i].kind->name,
				plans[i].attach, plans[i].status);
	}
}

/* new -> prepare -> load -> attach -> run; signals stop the run only. */
static int record(struct recorder *r, const struct rec_opts *o)
{
	if (recorder_prepare(r) || recorder_load(r) || recorder_attach(r))
		return -1;
	recording = r;
	setup_signals();
	if (recorder_run(r))
		return -1;
	if (!o->quiet)
		print_summary(r, o);
	return 0;
}

int cmd_record(int argc, char **argv)
{
	struct rec_opts o = {};
	struct recorder *r;
	int ret = MMR_EXIT_ERROR, pr;

	pr = parse_opts(argc, argv, &o);
	if (pr)
		return pr > 0 ? 0 : MMR_EXIT_ERROR;
	if (check_list(o.rec.only) || check_list(o.rec.exclude))
		return MMR_EXIT_ERROR;
	if (o.rec.cmd && !runnable(o.rec.cmd[0])) {
		mmr_err("record: cannot run %s: %s", o.rec.cmd[0], strerror(errno ?: ENOENT));
		return MMR_EXIT_ERROR;
	}
	o.rec.argv = argv;
	o.rec.warn = warn;
	r = recorder_new(&o.rec);
	if (!r) {
		mmr_err("record: %s", strerror(errno));
		return MMR_EXIT_ERROR;
	}
	libbpf_set_print(libbpf_print);
	if (record(r, &o))
		mmr_err("record: %s", recorder_error(r));
	else
		ret = 0;
	recorder_free(r);
	return ret;
}

/* mmreplay __watchdog: what record --snapshot's watchdog execs (record/watchdog.h). */
int cmd_watchdog(int argc, char **argv)
{
	return watchdog_main() ? MMR_EXIT_ERROR : 0;
}
