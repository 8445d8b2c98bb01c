// SPDX-License-Identifier: GPL-2.0
/*
 * mmreplay replay: rebuild a recorded workload and re-execute it on this
 * kernel (or in a QEMU guest), under `record --snapshot`, then check the
 * replay's trace.  The session is replay/session.h's; here are its options,
 * the hidden commands it starts (`__replay-run`, `__vm-send`) and the call
 * to the report (replay_report.c).
 */
#include <signal.h>
#include <stdio.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>
#include "cmds.h"
#include "replay_cli.h"
#include "replay_fidelity.h"
#include "traces/trace.h"
#include "util.h"
#include "vm/vm.h"

const char usage_replay[] =
	"usage: mmreplay replay TRACE [-o FILE] [--order recorded|free] [--json]\n"
	"       mmreplay replay TRACE --explore [--budget D] [--stop-after K] [--trials N]\n"
	"                             [--min-trials M] [--seed S] [--pairs N]\n"
	"                             [--jobs N | --shard I/N] [-q]\n"
	"       mmreplay replay TRACE --pair A,B --seed S\n"
	"       mmreplay replay TRACE --kernel IMAGE [--modules DIR] [--vmlinux FILE]\n"
	"                             [--mem SIZE] [--cpus N] [--accel auto|kvm|tcg]\n"
	"                             [--icount N|auto|off]\n\n"
	"Rebuild the recorded workload (mappings, files as stand-ins, mm syscalls,\n"
	"page touches from the recorded faults, forks and threads, reclaim as\n"
	"MADV_PAGEOUT) and run it on this kernel, recorded with snapshots into\n"
	"FILE, then check that trace.\n\n"
	"  -o, --output FILE    the replay's trace (default replay.trace)\n"
	"      --order recorded the recorded global order, enforced (default)\n"
	"      --order free     only each task's own order\n"
	"      --explore        race hunting: for each pair of ops of different tasks\n"
	"                       on the same pages, close in time, run up to --trials\n"
	"                       replays that start both from a barrier after seeded\n"
	"                       delays\n"
	"  -n, --trials N       at most N trials per cell (default 100). They run in\n"
	"                       batches, each a replay (or a guest) checked before\n"
	"                       the next: first 3 trials of every cell, which also\n"
	"                       measures a trial's cost; then the budget left is\n"
	"                       shared among the cells still open, 4 shares to a\n"
	"                       cell with findings, 2 to one whose perturbation\n"
	"                       overlapped its op or of a race mm's history names\n"
	"                       (munlock or munmap x reclaim, mlock x migrate, a\n"
	"                       fault x mprotect or munmap: run first in each\n"
	"                       round), 1 to the others; while more is wanted than\n"
	"                       fits, a batch takes half of what is left\n"
	"      --min-trials M   a cell the budget ends after M trials (default 3,\n"
	"                       the first batch's) has run enough: its state is\n"
	"                       \"budget\", and the explore is complete when every\n"
	"                       cell is done, stopped or at that; the report says\n"
	"                       what rate of a race the fewest trials rule out.\n"
	"                       M >= --trials: every trial must run\n"
	"      --budget D       bound the whole explore, boot included: 90s, 10m, 1h\n"
	"                       (default 10m). When it ends no trial starts; the\n"
	"                       report covers the trials that ran and names the\n"
	"                       cells that did not run or reach --min-trials, if\n"
	"                       any (then exit 5). With --kernel the guest's limit\n"
	"                       is the budget + 60 s\n"
	"      --stop-after K   a cell stops at its K-th reproduction (default 3, 0:\n"
	"                       never): it gets no trial in later batches, and its\n"
	"                       rate counts its trials up to that one\n"
	"  -q, --quiet          no progress lines (else on stderr, every second on\n"
	"                       a terminal, every 10 s otherwise; a plain replay's\n"
	"                       once it has run 2 s: booting, replaying, checking)\n"
	"      --jobs N         run N shards of the explore at once (N local replays,\n"
	"                       or N guests with --kernel), merged into one report:\n"
	"                       the same cells and trial seeds as one run (default:\n"
	"                       the number of online CPUs, at most one per cell;\n"
	"                       1: one run). Shard I writes its replay trace to\n"
	"                       FILE.I (-o). Not with --shard; -j is --json.\n"
	"                       An explore's batch N > 1 writes its replay trace\n"
	"                       to FILE.N (FILE.I.N with --jobs)\n"
	"      --shard I/N      run the I-th of N slices of the cells (cell i, counted\n"
	"                       from 0, goes to shard i mod N + 1) and print a partial\n"
	"                       report (JSON) for 'mmreplay merge'; a trial's seed\n"
	"                       depends on its cell's index among all cells, not on\n"
	"                       the shard\n"
	"      --seed S         master seed (default 1); with --pair, the trial's seed\n"
	"  -P, --pair A,B       one trial of the pair of op ids A and B (or of op A and\n"
	"                       a perturbation: --pair A,migrate)\n"
	"      --pairs N        at most N pairs (default 16)\n"
	"      --window US      ops at most US microseconds apart pair up (default 1000)\n"
	"      --perturb KINDS  with --explore: also run each mlock, munlock, munmap,\n"
	"                       madvise... op (at most --pairs) up to --trials times\n"
	"                       against kernel-side activity on its pages, started\n"
	"                       before, during or after it (seeded): reclaim, migrate,\n"
	"                       compact, collapse, comma-separated (default: all the\n"
	"                       kernel supports), or none\n"
	"      --scratch DIR    where the scratch directory goes (default $TMPDIR or\n"
	"                       /var/tmp); stand-in files take its filesystem: use\n"
	"                       /dev/shm to replay files that were on tmpfs as shmem\n"
	"      --timeout S      a run without progress for S seconds is stuck (default 30);\n"
	"                       with --kernel, the limit for the whole guest (default 300,\n"
	"                       with --explore the budget + 60)\n"
	"      --no-snapshot    record the replay from events only (fast; check then\n"
	"                       judges only where this kernel lets it hook mm internals)\n"
	"  -j, --json           the report as JSON\n\n"
	"--trials, --min-trials, --pairs, --window, --perturb, --budget, --stop-after,\n"
	"--jobs and --shard go with --explore, the guest's options below with --kernel;\n"
	"given without it, each is an error (exit 2).\n\n"
	"In a QEMU guest (another kernel, e.g. with your patch):\n"
	"      --kernel IMAGE   boot IMAGE (an x86_64 bzImage) in QEMU with an initramfs\n"
	"                       built on the fly, two NUMA nodes and swap on zram; replay\n"
	"                       there, bring the trace back and check it here. Said\n"
	"                       first: what the image cannot do (from a vmlinux and\n"
	"                       config beside it); the guest console goes to FILE.console\n"
	"      --modules DIR    lib/modules/<release> (or a root holding it) for zram;\n"
	"                       default: lib/modules beside IMAGE\n"
	"      --vmlinux FILE   the image's vmlinux (default: beside IMAGE), read with\n"
	"                       libelf for the hooks it has and its BTF\n"
	"      --mem SIZE       guest memory, e.g. 1G or 768M (default 1G)\n"
	"      --cpus N         guest CPUs, split over two NUMA nodes (default 2)\n"
	"      --accel A        auto (default: KVM if a probe guest boots, else TCG), kvm\n"
	"                       or tcg\n"
	"      --icount N       run the TCG guest deterministically (QEMU -icount\n"
	"                       shift=N, one host thread for all vCPUs, a fixed clock\n"
	"                       and RDRAND seed): the same --seed then gives the same\n"
	"                       report. auto (default): shift 6 with --explore or\n"
	"                       --pair, if this QEMU boots the guest's CPUs under\n"
	"                       -icount (probed once); off: vCPUs race on host threads\n\n"
	"A guest kernel that panics or oopses is reported with its console tail and\n"
	"exit status 1; one that hangs past --timeout, with exit status 2.\n\n"
	"After the check, the replay is compared with the recording operation by\n"
	"operation (as mmreplay diff does), and the report gives its fidelity:\n"
	"operations equivalent, those that differ (the first in diff's words), ops\n"
	"not issued and why, touches that faulted.  Ops and touches on memory no\n"
	"recorded operation mapped (exec's: program image, stack) are not rebuilt,\n"
	"and said; anything else the replay did not do makes it not faithful.\n\n"
	"Exit status: 0 faithful and clean, 1 findings, 2 error (or fidelity not\n"
	"checked), 3 faithful, no findings, but some verdicts not checked (as\n"
	"check: --no-snapshot on a kernel without the hooks; for --explore, in\n"
	"its trials), 4 ran without\n"
	"findings but not faithful to the recording (not for --pair, whose trial\n"
	"starts two ops together on purpose), 5 (--explore) the budget ended, or\n"
	"Ctrl-C or SIGTERM came, before every cell ran --min-trials (or was done or\n"
	"stopped) and those that ran had no\n"
	"findings (with findings: 1; the report says which).  With --kernel,\n"
	"Ctrl-C asks a guest that ran trials to stop and send them back (20 s);\n"
	"a second Ctrl-C, or Ctrl-C while it boots, kills it: exit 2, unless an\n"
	"explore's earlier batches ran trials (their report, interrupted).\n\n"
	"examples:\n"
	"  mmreplay record -o w.trace -- ./workload\n"
	"  mmreplay replay w.trace\n"
	"  mmreplay replay w.trace --explore --trials 20 --seed 1\n"
	"  mmreplay replay w.trace --explore --budget 90s --kernel bzImage\n"
	"  mmreplay replay w.trace --kernel ~/linux/arch/x86/boot/bzImage\n";

static int jobs;	/* --jobs N; 0: not given */

static int parse_pair(const char *s, struct replay_opts *o)
{
	char *end;

	o->pair_a = strtol(s, &end, 0);
	if (*end != ',' || o->pair_a < 0)
		return -1;
	o->pair_perturb = perturb_kind(end + 1);
	if (o->pair_perturb > 0)
		return 0;
	o->pair_perturb = 0;
	o->pair_b = strtol(end + 1, &end, 0);
	return *end || o->pair_b <= o->pair_a ? -1 : 0;
}

static int parse_num(const char *opt, const char *s, long min, long *v)
{
	char *end;

	*v = strtol(s, &end, 0);
	if (*end || *v < min) {
		mmr_err("replay: %s needs a number of at least %ld, not '%s'", opt, min, s);
		return -1;
	}
	return 0;
}

/* "90s", "10m", "1h", or seconds */
static int parse_duration(const char *opt, const char *s, int *secs)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (*end == 'm')
		v *= 60, end++;
	else if (*end == 'h')
		v *= 3600, end++;
	else if (*end == 's')
		end++;
	if (*end || end == s || v < 1 || v > 7 * 24 * 3600) {
		mmr_err("replay: %s needs a duration like 90s, 10m or 1h, not '%s'", opt, s);
		return -1;
	}
	*secs = v;
	return 0;
}

/* "1G", "768M", or MiB */
static int parse_mem(const char *s, int *mb)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (*end == 'G' || *end == 'g')
		v *= 1024, end++;
	else if (*end == 'M' || *end == 'm')
		end++;
	if (*end || v < 256 || v > 65536) {
		mmr_err("replay: --mem needs a size from 256M to 64G, like 1G or 768M, not '%s'", s);
		return -1;
	}
	*mb = v;
	return 0;
}

static int parse_vm_opt(int c, struct replay_opts *o)
{
	long v;

	switch (c) {
	case 'k': o->kernel = optarg; return 0;
	case 'M': o->modules = optarg; return 0;
	case 'L': o->vmlinux = optarg; return 0;
	case 'G': o->results_out = optarg; return 0;
	case 'R': o->guest_runs = optarg; return 0;
	case 'S': {
		unsigned long long pages;

		if (sscanf(optarg, "%llu,%ld", &pages, &o->guest_page_size) != 2) {
			mmr_err("replay: --guest-swap is PAGES,PAGE_SIZE");
			return -1;
		}
		o->guest_swapouts = pages;
		return 0;
	}
	case 'm': return parse_mem(optarg, &o->mem_mb);
	case 'c':
		if (parse_num("--cpus", optarg, 1, &v))
			return -1;
		o->cpus = v;
		return 0;
	case 'T':
		if (!perturb_parse(optarg, &o->perturb))
			return 0;
		mmr_err("replay: --perturb takes reclaim, migrate, compact, collapse (comma-"
			"separated) or none, not '%s'", optarg);
		return -1;
	case 'I':
		if (!strcmp(optarg, "off") || !strcmp(optarg, "auto")) {
			o->icount = optarg[0] == 'o' ? ICOUNT_OFF : ICOUNT_AUTO;
			return 0;
		}
		if (parse_num("--icount", optarg, 0, &v) || v > 10) {
			mmr_err("replay: --icount is a shift from 0 to 10, auto or off");
			return -1;
		}
		o->icount = v;
		return 0;
	case 'A':
		if (strcmp(optarg, "auto") && strcmp(optarg, "kvm") && strcmp(optarg, "tcg")) {
			mmr_err("replay: --accel is auto, kvm or tcg, not '%s'", optarg);
			return -1;
		}
		o->accel = optarg;
		return 0;
	}
	return -1;
}

/* "I/N", 1 <= I <= N */
static int parse_shard(const char *s, struct replay_opts *o)
{
	int i, n, len = 0;

	if (sscanf(s, "%d/%d%n", &i, &n, &len) != 2 || s[len] || i < 1 || n < 1 || i > n ||
	    n > 100000) {
		mmr_err("replay: --shard is I/N with 1 <= I <= N, like 2/3, not '%s'", s);
		return -1;
	}
	o->shard = i, o->shards = n;
	o->json = 1;	/* a partial report is JSON, for merge */
	return 0;
}

static int parse_opt(int c, struct replay_opts *o)
{
	long v;

	switch (c) {
	case 'o': o->out = optarg; return 0;
	case 'x': o->explore = 1; return 0;
	case 'j': o->json = 1; return 0;
	case 'r': o->scratch_parent = optarg; return 0;
	case 'N': o->no_snapshot = 1; return 0;
	case 'O':
		if (!strcmp(optarg, "recorded") || !strcmp(optarg, "free")) {
			o->order = optarg[0] == 'f' ? ORDER_FREE : ORDER_RECORDED;
			return 0;
		}
		mmr_err("replay: --order is 'recorded' or 'free', not '%s'", optarg);
		return -1;
	case 'P':
		if (parse_pair(optarg, o) == 0)
			return 0;
		mmr_err("replay: --pair needs two op ids A,B with A < B, or A,KIND, not '%s'", optarg);
		return -1;
	case 's':
		if (parse_num("--seed", optarg, 0, &v))
			return -1;
		o->seed = v;
		return 0;
	case 'n':
		if (parse_num("--trials", optarg, 1, &v))
			return -1;
		o->trials = v;
		return 0;
	case 'p':
		if (parse_num("--pairs", optarg, 1, &v))
			return -1;
		o->max_pairs = v < REPLAY_MAX_PAIRS ? v : REPLAY_MAX_PAIRS;
		return 0;
	case 'w':
		if (parse_num("--window", optarg, 0, &v))
			return -1;
		o->window_ns = v * 1000ULL;
		return 0;
	case 't':
		return parse_num("--timeout", optarg, 1, &v) ? -1 : (o->vm_timeout_s = v, 0);
	case 'B': return parse_duration("--budget", optarg, &o->budget_s);
	case 'K':
		return parse_num("--stop-after", optarg, 0, &v) ? -1 : (o->stop_after = v, 0);
	case 'W':
		return parse_num("--min-trials", optarg, 1, &v) ? -1 : (o->min_trials = v, 0);
	case 'q': o->quiet = 1; return 0;
	case 'D': o->guest_stop = 1; return 0;
	case 'Z': return parse_shard(optarg, o);
	case 'J':
		return parse_num("--jobs", optarg, 1, &v) ? -1 : (jobs = v > 1024 ? 1024 : v, 0);
	}
	return parse_vm_opt(c, o);
}

/* An option that has no effect without another is an error (one line, exit 2). */
static int check_combinations(const struct replay_opts *o, const char *seen)
{
	static const struct { char letter; const char *name; } needs_explore[] = {
		{ 'n', "--trials" }, { 'p', "--pairs" }, { 'w', "--window" }, { 'T', "--perturb" },
		{ 'B', "--budget" }, { 'K', "--stop-after" }, { 'Z', "--shard" }, { 'J', "--jobs" },
		{ 'W', "--min-trials" },
	}, needs_kernel[] = {
		{ 'M', "--modules" }, { 'L', "--vmlinux" }, { 'm', "--mem" }, { 'c', "--cpus" },
		{ 'A', "--accel" }, { 'I', "--icount" },
	};

	/* a --kernel guest's own command line (--guest-results) carries --perturb always */
	for (size_t i = 0; i < sizeof(needs_explore) / sizeof(needs_explore[0]); i++)
		if (seen[(int)needs_explore[i].letter] && !o->explore && !seen['G']) {
			mmr_err("replay: %s has no effect without --explore", needs_explore[i].name);
			return -1;
		}
	for (size_t i = 0; i < sizeof(needs_kernel) / sizeof(needs_kernel[0]); i++)
		if (seen[(int)needs_kernel[i].letter] && !o->kernel) {
			mmr_err("replay: %s has no effect without --kernel IMAGE", needs_kernel[i].name);
			return -1;
		}
	if (o->explore && o->pair_a >= 0) {
		mmr_err("replay: --pair replays one trial, --explore many: give one of them");
		return -1;
	}
	if (o->shards && jobs > 1) {
		mmr_err("replay: --jobs runs the shards of one explore at once, --shard one of them: "
			"give one of them");
		return -1;
	}
	if ((o->explore || o->pair_a >= 0) && o->order == ORDER_FREE) {
		mmr_err("replay: --explore and --pair need --order recorded");
		return -1;
	}
	return 0;
}

static int parse_replay(int argc, char **argv, struct replay_opts *o)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' }, { "order", required_argument, NULL, 'O' },
		{ "explore", no_argument, NULL, 'x' }, { "trials", required_argument, NULL, 'n' },
		{ "seed", required_argument, NULL, 's' }, { "pair", required_argument, NULL, 'P' },
		{ "pairs", required_argument, NULL, 'p' }, { "window", required_argument, NULL, 'w' },
		{ "scratch", required_argument, NULL, 'r' }, { "timeout", required_argument, NULL, 't' },
		{ "no-snapshot", no_argument, NULL, 'N' }, { "json", no_argument, NULL, 'j' },
		{ "kernel", required_argument, NULL, 'k' }, { "modules", required_argument, NULL, 'M' },
		{ "vmlinux", required_argument, NULL, 'L' }, { "mem", required_argument, NULL, 'm' },
		{ "cpus", required_argument, NULL, 'c' }, { "accel", required_argument, NULL, 'A' },
		{ "guest-results", required_argument, NULL, 'G' },
		{ "guest-runs", required_argument, NULL, 'R' }, { "guest-swap", required_argument, NULL, 'S' },
		{ "perturb", required_argument, NULL, 'T' }, { "icount", required_argument, NULL, 'I' },
		{ "budget", required_argument, NULL, 'B' }, { "stop-after", required_argument, NULL, 'K' },
		{ "quiet", no_argument, NULL, 'q' }, { "guest-stop", no_argument, NULL, 'D' },
		{ "shard", required_argument, NULL, 'Z' }, { "jobs", required_argument, NULL, 'J' },
		{ "min-trials", required_argument, NULL, 'W' },
		{ "help", no_argument, NULL, 'h' }, {},
	};
	char seen[128] = {};	/* options given, by their letter */
	int c;

	*o = (struct replay_opts){ .out = "replay.trace", .trials = 100, .seed = 1, .max_pairs = 16,
				   .window_ns = 1000000, .timeout_s = 30, .pair_a = -1, .pair_b = -1,
				   .mem_mb = 1024, .cpus = 2, .perturb = PERTURB_ALL,
				   .icount = ICOUNT_AUTO, .budget_s = 600, .stop_after = 3,
				   .min_trials = 3 };
	for (;;) {
		c = mmr_getopt("replay", argc, argv, "o:n:P:jqh", opts);
		if (c == -1 && optind < argc && !o->trace) {
			o->trace = argv[optind++];
			continue;
		}
		if (c == -1)
			break;
		if (c == 'h')
			return cmd_help("replay") ? -1 : 1;
		if (c == '?' || parse_opt(c, o))
			return -1;
		seen[c & 127] = 1;
	}
	if (!o->trace) {
		mmr_err("replay: no trace file given (see mmreplay replay --help)");
		return -1;
	}
	if (optind < argc) {
		mmr_err("replay: unexpected argument '%s'", argv[optind]);
		return -1;
	}
	if (check_combinations(o, seen))
		return -1;
	/* --timeout: the whole guest with --kernel, else a run without progress */
	if (!o->kernel && o->vm_timeout_s)
		o->timeout_s = o->vm_timeout_s;
	/* an explore's guest: its budget, and time to bring the results back */
	if (o->kernel && !o->vm_timeout_s)
		o->vm_timeout_s = o->explore ? o->budget_s + 60 : 300;
	return 0;
}

/* 1 after SIGINT or SIGTERM, 2 after another (a guest asked to stop is then killed) */
static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
	interrupted = interrupted ? 2 : 1;
}

/* The session's messages, in the order they happen. */
static void say(enum replay_say level, const char *msg)
{
	replay_progress_break();
	if (level == SAY_ERROR)
		mmr_err("%s", msg);
	else if (level == SAY_WARN)
		mmr_warn("%s", msg);
	else
		fprintf(stderr, "%s\n", msg);
}

/* Where the session's messages go, and what stops it. */
static void session_io(struct replay_opts *o)
{
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	o->stop = &interrupted;
	o->say = say;
	o->verbose = mmr_verbose;
	if (!o->quiet && !o->results_out && !o->progress)	/* a --jobs shard has its own */
		o->progress = replay_progress_print;
	if (o->guest_stop)	/* an explore's, in a guest */
		o->progress = replay_progress_console;
}

/*
 * A plain replay's exit status, from the session's (0 clean, 1 findings, 2
 * error): not faithful (4) before some verdicts not checked (3).
 */
static int replay_status(const struct replay_outcome *out, const struct fidelity_report *fr,
			 int status)
{
	status = replay_fidelity_status(fr, status);
	if (!status && out->last && checker_unchecked(out->last))
		status = MMR_EXIT_UNCHECKED;
	return status;
}

/* The runs, the session, the report; the exit status. */
static int replay_and_report(struct replay_opts *o, const struct rplan *p)
{
	static struct rrun_set rs;
	struct replay_outcome out;
	struct fidelity_report fr;
	char err[512];
	int ret, plain;

	if (replay_runs(o, p, &rs, err, sizeof(err))) {
		mmr_err("replay: %s", err);
		return MMR_EXIT_ERROR;
	}
	session_io(o);
	ret = replay_explore(o, p, &rs, &out);
	plain = out.report && !o->explore;
	if (plain)
		replay_fidelity_check(&fr, o, &out.res[0]);
	replay_report(o, p, &rs, &out, plain ? &fr : NULL);
	if (plain)
		ret = replay_status(&out, &fr, ret);
	else if (out.report && !ret && out.unchecked)
		ret = MMR_EXIT_UNCHECKED;	/* explore: its trials' checks judged little */
	replay_outcome_free(&out);
	replay_runs_free(&rs);
	return ret;
}

/*
 * An explore with --jobs N (default: one per online CPU), N at most its
 * cells: its shards at once (replay_jobs.c); else one replay.
 */
static int explore_jobs(struct replay_opts *o, const struct rplan *p)
{
	static struct rrun_set rs;
	int n = jobs ? jobs : (int)sysconf(_SC_NPROCESSORS_ONLN);
	char err[512];

	if (!o->explore || o->shards || o->results_out || n <= 1)
		return replay_and_report(o, p);
	if (replay_runs(o, p, &rs, err, sizeof(err))) {
		mmr_err("replay: %s", err);
		return MMR_EXIT_ERROR;
	}
	replay_runs_free(&rs);
	n = n < rs.nr_cells ? n : rs.nr_cells;
	return n > 1 ? replay_jobs(o, p, n, rs.nr_cells, replay_and_report) :
		       replay_and_report(o, p);
}

int cmd_replay(int argc, char **argv)
{
	struct replay_opts o;
	struct mmr_trace *t;
	struct rplan p;
	char err[512];
	int r;

	r = parse_replay(argc, argv, &o);
	if (r)
		return r > 0 ? 0 : MMR_EXIT_ERROR;
	if (!o.results_out)	/* the budget counts from here, boot included */
		o.started = vm_now();
	if (o.explore && !o.results_out)
		o.deadline = o.started + o.budget_s;
	if (o.guest_runs && o.results_out) {	/* in a guest: the host made the plan and runs */
		session_io(&o);
		return replay_in_guest(&o);
	}
	t = mmr_trace_open(o.trace, err, sizeof(err));
	if (!t) {
		mmr_err("replay: %s", err);
		return MMR_EXIT_ERROR;
	}
	if (plan_build(t, &p, err, sizeof(err))) {
		mmr_err("replay: %s: %s", o.trace, err);
		mmr_trace_close(t);
		return MMR_EXIT_ERROR;
	}
	if (mmr_trace_damaged(t)) {	/* a torn end is replayable; damage is not */
		mmr_err("replay: %s: %s", o.trace, mmr_trace_problem(t));
		plan_free(&p);
		mmr_trace_close(t);
		return MMR_EXIT_ERROR;
	}
	if (mmr_trace_problem(t))
		mmr_warn("replay: %s: %s; replaying what was recorded", o.trace, mmr_trace_problem(t));
	if (mmr_trace_stat(t, "drops"))
		mmr_warn("replay: the recording dropped %llu events; the rebuilt workload may miss "
			 "operations", (unsigned long long)mmr_trace_stat(t, "drops"));
	if (mmr_trace_stat(t, "overwritten"))
		mmr_warn("replay: a flight recorder trace: %llu events before its first were "
			 "overwritten; what the processes did before it is missing",
			 (unsigned long long)mmr_trace_stat(t, "overwritten"));
	mmr_trace_close(t);
	r = explore_jobs(&o, &p);
	plan_free(&p);
	return r;
}

/* ---- the hidden commands ----------------------------------------------- */

/*
 * __replay-run --scratch DIR --runs FILE --results FILE [--order O] [--timeout S]
 *              [--deadline T] [--guest-stop 0|1] TRACE
 */
int cmd_replay_run(int argc, char **argv)
{
	struct replay_run_args a = { .xo = { .timeout_s = 30 } };
	char err[512];

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--scratch") && i + 1 < argc)
			a.xo.scratch = argv[++i];
		else if (!strcmp(argv[i], "--runs") && i + 1 < argc)
			a.runs = argv[++i];
		else if (!strcmp(argv[i], "--results") && i + 1 < argc)
			a.results = argv[++i];
		else if (!strcmp(argv[i], "--order") && i + 1 < argc)
			a.xo.order = !strcmp(argv[++i], "free") ? ORDER_FREE : ORDER_RECORDED;
		else if (!strcmp(argv[i], "--timeout") && i + 1 < argc)
			a.xo.timeout_s = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--deadline") && i + 1 < argc)
			a.deadline = atof(argv[++i]);
		else if (!strcmp(argv[i], "--guest-stop") && i + 1 < argc)
			a.guest_stop = atoi(argv[++i]);
		else
			a.trace = argv[i];
	}
	if (!a.xo.scratch || !a.runs || !a.results || !a.trace) {
		mmr_err("__replay-run: internal command, started by 'mmreplay replay'");
		return MMR_EXIT_ERROR;
	}
	if (!replay_run_process(&a, err, sizeof(err)))
		return 0;
	mmr_err("replay: %s", err);
	return MMR_EXIT_ERROR;
}

/* mmreplay __vm-send DIR: in the guest, DIR into the ivshmem device (vm/send.c) */
int cmd_vm_send(int argc, char **argv)
{
	char err[512];

	if (argc != 2) {
		mmr_err("__vm-send: usage: __vm-send DIR");
		return MMR_EXIT_ERROR;
	}
	if (!vm_send(argv[1], err, sizeof(err)))
		return 0;
	mmr_err("__vm-send: %s", err);
	return MMR_EXIT_ERROR;
}

