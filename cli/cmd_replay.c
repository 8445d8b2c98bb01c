// SPDX-License-Identifier: GPL-2.0
/*
 * mmreplay replay: rebuild a recorded workload and re-execute it on this
 * kernel, under `record --snapshot`, then check the replay's trace.  The
 * replay itself runs in a child (`mmreplay __replay-run`) that `record`
 * starts and traces; this process sets up the scratch directory and swap,
 * and cleans them up whatever happens.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/swap.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include "cmds.h"
#include "replay_cli.h"
#include "traces/trace.h"
#include "util.h"

#define MAX_PAIRS 256

const char usage_replay[] =
	"usage: mmreplay replay TRACE [-o FILE] [--order recorded|free] [--json]\n"
	"       mmreplay replay TRACE --explore [--trials N] [--seed S] [--pairs N]\n"
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
	"                       on the same pages, close in time, run --trials replays\n"
	"                       that start both from a barrier after seeded delays\n"
	"  -n, --trials N       trials per pair (default 100)\n"
	"      --seed S         master seed (default 1); with --pair, the trial's seed\n"
	"  -P, --pair A,B       one trial of the pair of op ids A and B (or of op A and\n"
	"                       a perturbation: --pair A,migrate)\n"
	"      --pairs N        at most N pairs (default 16)\n"
	"      --window US      ops at most US microseconds apart pair up (default 1000)\n"
	"      --perturb KINDS  with --explore: also run each mlock, munlock, munmap,\n"
	"                       madvise... op (at most --pairs) --trials times against\n"
	"                       kernel-side activity on its pages, started before,\n"
	"                       during or after it (seeded): reclaim, migrate, compact,\n"
	"                       collapse, comma-separated (default: all the kernel\n"
	"                       supports), or none\n"
	"      --scratch DIR    where the scratch directory goes (default $TMPDIR or\n"
	"                       /var/tmp); stand-in files take its filesystem: use\n"
	"                       /dev/shm to replay files that were on tmpfs as shmem\n"
	"      --timeout S      a run without progress for S seconds is stuck (default 30);\n"
	"                       with --kernel, the limit for the whole guest (default 300)\n"
	"      --no-snapshot    record the replay from events only (fast; check then\n"
	"                       judges only where this kernel lets it hook mm internals)\n"
	"  -j, --json           the report as JSON\n\n"
	"--trials, --pairs, --window and --perturb go with --explore, the guest's\n"
	"options below with --kernel; given without it, each is an error (exit 2).\n\n"
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
	"checked), 4 ran without findings but not faithful to the recording (not\n"
	"for --pair, whose trial starts two ops together on purpose).\n\n"
	"examples:\n"
	"  mmreplay record -o w.trace -- ./workload\n"
	"  mmreplay replay w.trace\n"
	"  mmreplay replay w.trace --explore --trials 20 --seed 1\n"
	"  mmreplay replay w.trace --kernel ~/linux/arch/x86/boot/bzImage\n";

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
		o->max_pairs = v < MAX_PAIRS ? v : MAX_PAIRS;
		return 0;
	case 'w':
		if (parse_num("--window", optarg, 0, &v))
			return -1;
		o->window_ns = v * 1000ULL;
		return 0;
	case 't':
		return parse_num("--timeout", optarg, 1, &v) ? -1 : (o->vm_timeout_s = v, 0);
	}
	return parse_vm_opt(c, o);
}

/* An option that has no effect without another is an error (one line, exit 2). */
static int check_combinations(const struct replay_opts *o, const char *seen)
{
	static const struct { char letter; const char *name; } needs_explore[] = {
		{ 'n', "--trials" }, { 'p', "--pairs" }, { 'w', "--window" }, { 'T', "--perturb" },
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
		{ "perturb", required_argument, NULL, 'T' }, { "icount", required_argument, NULL, 'I' },
		{ "help", no_argument, NULL, 'h' }, {},
	};
	char seen[128] = {};	/* options given, by their letter */
	int c;

	*o = (struct replay_opts){ .out = "replay.trace", .trials = 100, .seed = 1, .max_pairs = 16,
				   .window_ns = 1000000, .timeout_s = 30, .pair_a = -1, .pair_b = -1,
				   .mem_mb = 1024, .cpus = 2, .perturb = PERTURB_ALL,
				   .icount = ICOUNT_AUTO };
	for (;;) {
		c = mmr_getopt("replay", argc, argv, "o:n:P:jh", opts);
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
	if (o->kernel && !o->vm_timeout_s)
		o->vm_timeout_s = 300;
	return 0;
}

/* ---- scratch directory and swap ---------------------------------------- */

static char scratch[4096], swapfile[4200];
static volatile sig_atomic_t interrupted;

static void cleanup(void)
{
	if (swapfile[0]) {
		swapoff(swapfile);
		unlink(swapfile);
		swapfile[0] = 0;
	}
	replay_rmdir(scratch);
}

static int swap_active(void)
{
	FILE *f = fopen("/proc/swaps", "r");
	char line[512];
	int n = 0;

	while (f && fgets(line, sizeof(line), f))
		n++;
	if (f)
		fclose(f);
	return n > 1;
}

static int run_quiet(char *const argv[])
{
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);

		dup2(null, 1);
		dup2(null, 2);
		execvp(argv[0], argv);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &status, 0) < 0)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* The recording swapped and this machine has no swap: a temporary swap file. */
static void setup_swap(const struct rplan *p)
{
	long mb = (long)(p->swapouts * 2 * p->page_size >> 20) + 64;
	char *mk[] = { "mkswap", swapfile, NULL };
	const char *why = NULL;
	int fd;

	if (!p->swapouts || swap_active())
		return;
	snprintf(swapfile, sizeof(swapfile), "%s/swap", scratch);
	fd = open(swapfile, O_RDWR | O_CREAT | O_EXCL, 0600);
	if (fd < 0 || fallocate(fd, 0, 0, mb << 20))
		why = strerror(errno);
	if (fd >= 0)
		close(fd);
	if (!why && run_quiet(mk) != 0)
		why = "mkswap failed";
	else if (!why && swapon(swapfile, 0))
		why = strerror(errno);
	if (!why) {
		mmr_warn("replay: the recording swapped %llu pages; swapping to a temporary %ld MiB "
			 "file for this run", (unsigned long long)p->swapouts, mb);
		return;
	}
	mmr_warn("replay: the recording swapped %llu pages, but this machine has no swap and a "
		 "temporary swap file in %s could not be set up (%s); swap-outs will not happen",
		 (unsigned long long)p->swapouts, scratch, why);
	unlink(swapfile);
	swapfile[0] = 0;
}

/* ---- the runs ---------------------------------------------------------- */

/* Explore's cells: racing pairs of tasks' ops, then target ops x perturbation kinds. */
static int explore_cells(const struct replay_opts *o, const struct rplan *p, struct rpair *cells)
{
	__u32 targets[MAX_PAIRS];
	int n = plan_pairs(p, o->window_ns, cells, o->max_pairs);
	int nt = o->perturb ? plan_targets(p, targets, o->max_pairs) : 0;

	for (int i = 0; i < nt; i++)
		for (int k = 1; k < PERTURB_NR; k++)
			if (o->perturb & 1u << k && n < MAX_PAIRS)
				cells[n++] = (struct rpair){ targets[i], 0, k };
	return n;
}

static int plan_runs(const struct replay_opts *o, const struct rplan *p, struct rpair *pairs,
		     int *nr_pairs, struct rrun **runs)
{
	int n = 0;

	*nr_pairs = 0;
	if (o->pair_a >= 0) {
		if ((size_t)o->pair_a >= p->nr_ops || (!o->pair_perturb && (size_t)o->pair_b >= p->nr_ops)) {
			mmr_err("replay: --pair: the plan has ops 0 to %zu", p->nr_ops - 1);
			return -1;
		}
		*runs = malloc(sizeof(**runs));
		(*runs)[0] = (struct rrun){ o->pair_a, o->pair_perturb ? -1 : o->pair_b, o->seed,
					    o->pair_perturb };
		return 1;
	}
	if (!o->explore) {
		*runs = malloc(sizeof(**runs));
		(*runs)[0] = (struct rrun){ -1, -1, o->seed };
		return 1;
	}
	*nr_pairs = explore_cells(o, p, pairs);
	*runs = calloc((size_t)*nr_pairs * o->trials + 1, sizeof(**runs));
	for (int i = 0; i < *nr_pairs; i++)
		for (int t = 0; t < o->trials; t++)
			(*runs)[n++] = (struct rrun){ pairs[i].a, pairs[i].perturb ? -1 : (long)pairs[i].b,
						      trial_seed(o->seed, i, t), pairs[i].perturb };
	return n;
}

static int write_runs(const char *path, const struct rrun *runs, int n)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return -1;
	for (int i = 0; i < n; i++)
		fprintf(f, "%ld %ld %llu %d\n", runs[i].a, runs[i].b, (unsigned long long)runs[i].seed,
			runs[i].perturb);
	return fclose(f);
}

static void on_signal(int sig)
{
	interrupted = 1;
}

/* SIGKILLs our children (orphans we reap as subreaper); how many there were. */
static int kill_children(void)
{
	char path[300], buf[512], *p;
	DIR *d = opendir("/proc");
	struct dirent *e;
	int n = 0, ppid;
	FILE *f;

	while (d && (e = readdir(d))) {
		if (e->d_name[0] < '1' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", e->d_name);
		f = fopen(path, "r");
		p = f && fgets(buf, sizeof(buf), f) ? strrchr(buf, ')') : NULL;
		if (f)
			fclose(f);
		if (p && sscanf(p, ") %*c %d", &ppid) == 1 && ppid == getpid()) {
			kill(atoi(e->d_name), SIGKILL);	/* ends a stop too */
			n++;
		}
	}
	if (d)
		closedir(d);
	return n;
}

/*
 * After record: we are the subreaper of everything it ran (set before the
 * fork).  On Ctrl-C, record can exit while the replay process is still
 * killing its tasks, or is held stopped by a snapshot whose SIGSTOP landed
 * after record's SIGCONT: kill what is left and reap it, for at most
 * REAP_WAIT_S, so that nothing outlives the command.
 */
#define REAP_WAIT_S 20

static void reap_orphans(void)
{
	time_t t0 = time(NULL);

	while (waitpid(-1, NULL, WNOHANG) >= 0 || errno == EINTR) {
		if (time(NULL) - t0 > REAP_WAIT_S)
			break;
		if (interrupted)
			kill_children();
		usleep(10000);
	}
}

/* record --snapshot -o OUT -- mmreplay __replay-run ... TRACE */
static int record_replay(const struct replay_opts *o, const char *runs, const char *results)
{
	char self[4096], timeout[16];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	char *argv[] = { self, "record", o->no_snapshot ? "-q" : "--snapshot", "-q", "-o", (char *)o->out, "--", self,
			 "__replay-run", "--scratch", scratch, "--runs", (char *)runs, "--results",
			 (char *)results, "--order", o->order == ORDER_FREE ? "free" : "recorded",
			 "--timeout", timeout, (char *)o->trace, NULL };
	int status;
	pid_t pid;

	if (n <= 0)
		return -1;
	self[n] = 0;
	snprintf(timeout, sizeof(timeout), "%d", o->timeout_s);
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	pid = fork();
	if (pid == 0) {
		execv(self, argv);
		_exit(127);
	}
	while (pid > 0 && waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	reap_orphans();
	if (pid < 0 || interrupted)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* Here, on this kernel: record the replay process, then check its trace. */
static int replay_local(struct replay_opts *o, const struct rplan *p,
			const struct rrun_set *rs)
{
	static struct perturb_caps caps;
	struct run_result *res = NULL;
	char runs_path[4200], res_path[4200];
	int rc, n, ret = MMR_EXIT_ERROR;

	if (replay_mkdir(o, "mmreplay", scratch, sizeof(scratch)))
		return ret;
	setup_swap(p);
	snprintf(runs_path, sizeof(runs_path), "%s/runs", scratch);
	snprintf(res_path, sizeof(res_path), "%s/results", scratch);
	if (o->results_out)
		snprintf(res_path, sizeof(res_path), "%s", o->results_out);
	if (write_runs(runs_path, rs->runs, rs->nr_runs)) {
		mmr_err("replay: cannot write %s: %s", runs_path, strerror(errno));
		goto out;
	}
	if (rs->nr_runs) {
		rc = record_replay(o, runs_path, res_path);
		if (interrupted) {
			mmr_err("replay: interrupted; the scratch directory was removed");
			goto out;
		}
		if (rc != 0) {
			mmr_err("replay: recording the replay failed (record exited with %d)", rc);
			goto out;
		}
	}
	if (o->results_out) {	/* in a guest: the host checks and reports */
		ret = 0;
		goto out;
	}
	res = calloc(rs->nr_runs + 1, sizeof(*res));
	n = res ? results_read(res_path, res, rs->nr_runs) : -1;
	if (n != rs->nr_runs) {
		mmr_err("replay: the replay process reported %d of %d runs", n, rs->nr_runs);
		goto out;
	}
	results_caps_read(res_path, &caps);
	o->caps = &caps;
	o->determinism = "not deterministic: on the running kernel, the tasks and the kernel's "
			 "own threads race for real (replay --kernel IMAGE runs a deterministic "
			 "QEMU guest)";
	cleanup();
	ret = replay_report(o, p, rs->pairs, rs->nr_pairs, res, rs->nr_runs);
out:
	cleanup();
	free(res);
	return ret;
}

static int replay(struct replay_opts *o, const struct rplan *p)
{
	static struct rpair pairs[MAX_PAIRS];
	struct rrun_set rs = { .pairs = pairs };
	int ret;

	rs.nr_runs = plan_runs(o, p, pairs, &rs.nr_pairs, &rs.runs);
	if (rs.nr_runs < 0)
		return MMR_EXIT_ERROR;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	o->stop = &interrupted;
	ret = o->kernel ? replay_vm(o, p, &rs) : replay_local(o, p, &rs);
	free(rs.runs);
	return ret;
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
	mmr_trace_close(t);
	r = replay(&o, &p);
	plan_free(&p);
	return r;
}

/* ---- the replay process ---------------------------------------------- */

static int read_runs(const char *path, struct rrun **runs)
{
	FILE *f = fopen(path, "r");
	struct rrun r;
	unsigned long long seed;
	int n = 0, cap = 0;

	*runs = NULL;
	while (f && fscanf(f, "%ld %ld %llu %d", &r.a, &r.b, &seed, &r.perturb) == 4) {
		r.seed = seed;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			*runs = realloc(*runs, cap * sizeof(**runs));
		}
		(*runs)[n++] = r;
	}
	if (f)
		fclose(f);
	return f ? n : -1;
}

int cmd_replay_run(int argc, char **argv)
{
	struct rexec_opts xo = { .timeout_s = 30 };
	const char *runs_path = NULL, *res_path = NULL, *trace = NULL;
	static struct perturb_caps caps;
	struct run_result rr;
	unsigned want = 0;
	struct mmr_trace *t;
	struct rrun *runs;
	struct rplan p;
	char err[512];
	FILE *res;
	int n;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--scratch") && i + 1 < argc)
			xo.scratch = argv[++i];
		else if (!strcmp(argv[i], "--runs") && i + 1 < argc)
			runs_path = argv[++i];
		else if (!strcmp(argv[i], "--results") && i + 1 < argc)
			res_path = argv[++i];
		else if (!strcmp(argv[i], "--order") && i + 1 < argc)
			xo.order = !strcmp(argv[++i], "free") ? ORDER_FREE : ORDER_RECORDED;
		else if (!strcmp(argv[i], "--timeout") && i + 1 < argc)
			xo.timeout_s = atoi(argv[++i]);
		else
			trace = argv[i];
	}
	if (!xo.scratch || !runs_path || !res_path || !trace) {
		mmr_err("__replay-run: internal command, started by 'mmreplay replay'");
		return MMR_EXIT_ERROR;
	}
	t = mmr_trace_open(trace, err, sizeof(err));
	if (!t || plan_build(t, &p, err, sizeof(err))) {
		mmr_err("replay: %s", err);
		return MMR_EXIT_ERROR;
	}
	mmr_trace_close(t);
	n = read_runs(runs_path, &runs);
	res = fopen(res_path, "w");
	if (n < 0 || !res) {
		mmr_err("replay: cannot read the runs or write the results in %s", xo.scratch);
		return MMR_EXIT_ERROR;
	}
	for (int i = 0; i < n; i++)
		want |= runs[i].perturb ? 1u << runs[i].perturb : 0;
	if (want) {
		perturb_detect(&caps, want, xo.scratch);
		xo.caps = &caps;
		results_caps_write(res, &caps);
	}
	for (int i = 0; i < n && !plan_interrupted(); i++) {
		memset(&rr, 0, sizeof(rr));
		rr.run = runs[i];
		if (runs[i].perturb && !(caps.ok & 1u << runs[i].perturb))
			rr.st.perturbed = -1;	/* not available here: not run */
		else
			plan_exec(&p, &runs[i], i, &xo, &rr.st, rr.err, sizeof(rr.err));
		results_write(res, &rr);
		fflush(res);
	}
	fclose(res);
	perturb_cleanup(&caps);
	free(runs);
	plan_free(&p);
	return 0;
}
