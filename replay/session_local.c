// SPDX-License-Identifier: GPL-2.0
/*
 * The replay session on this kernel: the runs to do, then `record
 * --snapshot` of a replay process (`mmreplay __replay-run`) that runs them
 * and writes their results; this process sets up the scratch directory and
 * swap, cleans them up whatever happens, and checks the replay's trace.
 * With --kernel the session goes to a QEMU guest (session_vm.c).
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
#include "session_int.h"
#include "vm/vm.h"

/* ---- scratch directory and swap ---------------------------------------- */

static char scratch[4096], swapfile[4200];

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
static void setup_swap(const struct replay_opts *o, __u64 swapouts, long page_size)
{
	long mb = (long)(swapouts * 2 * page_size >> 20) + 64;
	char *mk[] = { "mkswap", swapfile, NULL };
	const char *why = NULL;
	int fd;

	if (!swapouts || swap_active())
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
		replay_say(o, SAY_WARN, "replay: the recording swapped %llu pages; swapping to a "
			   "temporary %ld MiB file for this run", (unsigned long long)swapouts, mb);
		return;
	}
	replay_say(o, SAY_WARN, "replay: the recording swapped %llu pages, but this machine has no "
		   "swap and a temporary swap file in %s could not be set up (%s); swap-outs will "
		   "not happen", (unsigned long long)swapouts, scratch, why);
	unlink(swapfile);
	swapfile[0] = 0;
}

/* ---- the runs ---------------------------------------------------------- */

/* Explore's cells: racing pairs of tasks' ops, then target ops x perturbation kinds. */
static int explore_cells(const struct replay_opts *o, const struct rplan *p, struct rpair *cells,
			 int *nr_racing)
{
	__u32 targets[REPLAY_MAX_PAIRS];
	int n = plan_pairs(p, o->window_ns, cells, o->max_pairs);
	int nt = o->perturb ? plan_targets(p, targets, o->max_pairs) : 0;

	*nr_racing = n > 0 ? n : 0;
	for (int i = 0; i < nt; i++)
		for (int k = 1; k < PERTURB_NR; k++)
			if (o->perturb & 1u << k && n < REPLAY_MAX_PAIRS)
				cells[n++] = (struct rpair){ targets[i], 0, k };
	return n;
}

/*
 * The cells of o's shard, in rs->pairs: every cell, or with --shard I/N
 * those whose index i has i % N == I - 1 (round robin, so that each shard
 * gets racing pairs and perturbations alike).
 */
static void shard_cells(const struct replay_opts *o, const struct rplan *p, struct rrun_set *rs)
{
	struct rpair all[REPLAY_MAX_PAIRS];

	rs->nr_cells = explore_cells(o, p, all, &rs->nr_racing);
	if (rs->nr_cells < 0)
		rs->nr_cells = 0;
	for (int i = 0; i < rs->nr_cells; i++) {
		rs->kinds |= all[i].perturb ? 1u << all[i].perturb : 0;
		if (o->shards > 1 && i % o->shards != o->shard - 1)
			continue;
		rs->cell_id[rs->nr_pairs] = i;
		rs->pairs[rs->nr_pairs++] = all[i];
	}
}

int replay_runs(const struct replay_opts *o, const struct rplan *p, struct rrun_set *rs,
		char *err, size_t errlen)
{
	struct rpair *pairs = rs->pairs;
	int n = 0;

	rs->nr_pairs = rs->nr_cells = rs->nr_racing = 0;
	rs->kinds = 0;
	rs->nr_runs = 0;
	if (o->pair_a >= 0 && ((size_t)o->pair_a >= p->nr_ops ||
			       (!o->pair_perturb && (size_t)o->pair_b >= p->nr_ops))) {
		snprintf(err, errlen, "--pair: the plan has ops 0 to %zu", p->nr_ops - 1);
		return -1;
	}
	if (o->explore && o->pair_a < 0)
		shard_cells(o, p, rs);
	rs->runs = calloc((size_t)rs->nr_pairs * o->trials + 1, sizeof(*rs->runs));
	if (!rs->runs) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (o->pair_a >= 0)
		rs->runs[n++] = (struct rrun){ o->pair_a, o->pair_perturb ? -1 : o->pair_b, o->seed,
					       o->pair_perturb };
	else if (!o->explore)
		rs->runs[n++] = (struct rrun){ -1, -1, o->seed };
	/*
	 * in rounds: trial t of every cell before trial t + 1 of any (rrun_cell());
	 * a trial's seed is its cell's among all, whichever shard runs it
	 */
	for (int t = 0; t < o->trials; t++)
		for (int i = 0; i < rs->nr_pairs; i++)
			rs->runs[n++] = (struct rrun){ pairs[i].a, pairs[i].perturb ? -1 :
						       (long)pairs[i].b,
						       trial_seed(o->seed, rs->cell_id[i], t),
						       pairs[i].perturb };
	rs->nr_runs = n;
	return 0;
}

void replay_runs_free(struct rrun_set *rs)
{
	free(rs->runs);
	rs->runs = NULL;
}

static int stopped(const struct replay_opts *o)
{
	return o->stop && *o->stop;
}

/* Sends sig to the children of ppid; how many there were. */
static int signal_children(pid_t ppid, int sig)
{
	char path[300], buf[512], *p;
	DIR *d = opendir("/proc");
	struct dirent *e;
	int n = 0, parent;
	FILE *f;

	while (d && (e = readdir(d))) {
		if (e->d_name[0] < '1' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", e->d_name);
		f = fopen(path, "r");
		p = f && fgets(buf, sizeof(buf), f) ? strrchr(buf, ')') : NULL;
		if (f)
			fclose(f);
		if (p && sscanf(p, ") %*c %d", &parent) == 1 && parent == ppid) {
			kill(atoi(e->d_name), sig);
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

static void reap_orphans(const struct replay_opts *o)
{
	time_t t0 = time(NULL);

	while (waitpid(-1, NULL, WNOHANG) >= 0 || errno == EINTR) {
		if (time(NULL) - t0 > REAP_WAIT_S)
			break;
		if (stopped(o))
			signal_children(getpid(), SIGKILL);	/* our orphans; ends a stop too */
		usleep(10000);
	}
}

/* Runs in a results file so far (its lines not starting with '#'). */
static int results_count(const char *path)
{
	FILE *f = fopen(path, "r");
	int n = 0, c, bol = 1;

	while (f && (c = getc(f)) != EOF) {
		n += bol && c != '#';
		bol = c == '\n';
	}
	if (f)
		fclose(f);
	return n;
}

/*
 * Waits for the record process, saying how far its runs are.  A signal to
 * us alone (not to our process group, as Ctrl-C is) goes on to the replay
 * process, record's child, whose stop it is (a second one is harmless
 * there; record would take it for "kill now").
 */
static void wait_record(const struct replay_opts *o, pid_t pid, int *status, const char *results,
			int nr_runs)
{
	int told = 0;
	pid_t r;

	/* in a guest without progress to say: no polling (its schedule stays as it was) */
	while (!o->progress && o->results_out && waitpid(pid, status, 0) < 0 && errno == EINTR)
		;
	while ((o->progress || !o->results_out) && ((r = waitpid(pid, status, WNOHANG)) == 0 ||
						    (r < 0 && errno == EINTR))) {
		if (stopped(o) && !told)
			told = signal_children(pid, SIGINT) > 0;
		if (o->progress)
			replay_progress_say(o, o->explore ? "explore" : "replay", nr_runs,
					    results_count(results));
		usleep(o->progress ? 250000 : 50000);
	}
}

/* record --snapshot --reclaim-pass -o OUT -- mmreplay __replay-run ... TRACE */
static int record_replay(const struct replay_opts *o, const char *runs, const char *results,
			 int nr_runs)
{
	char self[4096], timeout[16], deadline[32];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	char *argv[] = { self, "record", o->no_snapshot ? "-q" : "--snapshot",
			 o->no_snapshot ? "-q" : "--reclaim-pass", "-q", "-o", (char *)o->out, "--",
			 self,
			 "__replay-run", "--scratch", scratch, "--runs", (char *)runs, "--results",
			 (char *)results, "--order", o->order == ORDER_FREE ? "free" : "recorded",
			 "--timeout", timeout, "--deadline", deadline, "--guest-stop",
			 o->guest_stop ? "1" : "0", (char *)o->trace, NULL };
	int status = -1;
	pid_t pid;

	if (n <= 0)
		return -1;
	self[n] = 0;
	snprintf(timeout, sizeof(timeout), "%d", o->timeout_s);
	snprintf(deadline, sizeof(deadline), "%.3f", replay_run_deadline(o));
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	pid = fork();
	if (pid == 0) {
		execv(self, argv);
		_exit(127);
	}
	if (pid > 0)
		wait_record(o, pid, &status, results, nr_runs);
	reap_orphans(o);
	if (pid < 0 || stopped(o))
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* Here, on this kernel: record the replay process, then check its trace. */
/*
 * The replay process under record, runs to results; 0, or -1 (said).
 * Interrupted, an explore's trials that ran to their end are still 0: its
 * replay process said where it stopped (or ran them all), and record closed
 * the trace.
 */
static int run_recorded(const struct replay_opts *o, const char *runs_path, const char *res_path,
			int nr_runs)
{
	int rc = record_replay(o, runs_path, res_path, nr_runs);

	if (stopped(o) && o->explore && (results_stopped(res_path) >= 0 ||
					  results_count(res_path) == nr_runs))
		return 0;
	if (stopped(o)) {
		/* a later batch of an explore cut short: the earlier ones' trials stand */
		if (!(o->explore && o->batch.runs_done))
			replay_say(o, SAY_ERROR, "replay: interrupted; the scratch directory was "
				   "removed");
		return -1;
	}
	if (rc != 0) {
		replay_say(o, SAY_ERROR, "replay: recording the replay failed (record exited with %d)",
			   rc);
		return -1;
	}
	return 0;
}

static int replay_local(const struct replay_opts *o, const struct rplan *p,
			const struct rrun_set *rs, struct replay_outcome *out)
{
	char runs_path[4200], res_path[4200];

	if (replay_mkdir(o, "mmreplay", scratch, sizeof(scratch)))
		return out->status;
	setup_swap(o, p->swapouts, p->page_size);
	snprintf(runs_path, sizeof(runs_path), "%s/runs", scratch);
	snprintf(res_path, sizeof(res_path), "%s", o->results_out ?: "");
	if (!o->results_out)
		snprintf(res_path, sizeof(res_path), "%s/results", scratch);
	if (runs_write(runs_path, rs->runs, rs->nr_runs, rs->kinds)) {
		replay_say(o, SAY_ERROR, "replay: cannot write %s: %s", runs_path, strerror(errno));
		goto out;
	}
	if (rs->nr_runs && run_recorded(o, runs_path, res_path, rs->nr_runs))
		goto out;
	if (o->results_out) {	/* in a guest: the host checks and reports */
		out->status = 0;
		goto out;
	}
	if (replay_results(o, res_path, "replay process", out))
		goto out;
	replay_stamp(o, out, NULL);
	out->interrupted = stopped(o) && out->incomplete;
	snprintf(out->determinism, sizeof(out->determinism), "not deterministic: on the running "
		 "kernel, the tasks and the kernel's own threads race for real (replay --kernel "
		 "IMAGE runs a deterministic QEMU guest)");
	cleanup();
	replay_check(o, p, rs, out);
out:
	cleanup();
	return out->status;
}

int replay_in_guest(const struct replay_opts *o)
{
	struct rrun *runs;
	int n = runs_read(o->guest_runs, &runs, NULL), ret = 2;

	free(runs);
	if (n < 0) {
		replay_say(o, SAY_ERROR, "replay: cannot read %s", o->guest_runs);
		return ret;
	}
	if (replay_mkdir(o, "mmreplay", scratch, sizeof(scratch)))
		return ret;
	setup_swap(o, o->guest_swapouts, o->guest_page_size);
	if (!n || !run_recorded(o, o->guest_runs, o->results_out, n))
		ret = 0;
	cleanup();
	return ret;
}

int replay_session(const struct replay_opts *o, const struct rplan *p, const struct rrun_set *rs,
		   struct replay_outcome *out)
{
	memset(out, 0, sizeof(*out));
	out->status = 2;
	out->nr_runs = rs->nr_runs;
	out->res = calloc(rs->nr_runs + 1, sizeof(*out->res));
	if (!out->res) {
		replay_say(o, SAY_ERROR, "replay: out of memory");
		return out->status;
	}
	if (o->explore && !rs->nr_runs) {	/* a --shard with no cells: nothing to boot or run */
		snprintf(out->determinism, sizeof(out->determinism), "deterministic: no trial to run");
		out->deterministic = 1;
		out->report = 1;
		return out->status = 0;
	}
	return o->kernel ? replay_vm(o, p, rs, out) : replay_local(o, p, rs, out);
}

void replay_outcome_free(struct replay_outcome *out)
{
	if (out->last)
		checker_free(out->last);
	if (out->trace)
		mmr_trace_close(out->trace);
	free(out->res);
	free(out->rc);
	free(out->cell_ran);
	memset(out, 0, sizeof(*out));
}

/* ---- the replay process ---------------------------------------------- */

/*
 * Each run of runs[], its results written to res as it ends, until the
 * deadline or the host's word to stop.
 */
static void run_all(const struct rplan *p, const struct rrun *runs, int n, unsigned want,
		    const struct replay_run_args *a, struct rexec_opts *xo, FILE *res)
{
	struct perturb_caps caps = { 0 };
	struct run_result rr;

	for (int i = 0; i < n; i++)
		want |= runs[i].perturb ? 1u << runs[i].perturb : 0;
	if (want) {
		perturb_detect(&caps, want, xo->scratch);
		xo->caps = &caps;
		results_caps_write(res, &caps);
	}
	perturb_own_cgroup(&caps, xo->scratch);
	for (int i = 0; i < n; i++) {
		if ((a->deadline && vm_now() >= a->deadline) || (a->guest_stop && vm_stop_asked())) {
			results_stopped_write(res, i, "budget");
			break;
		}
		memset(&rr, 0, sizeof(rr));
		rr.run = runs[i];
		if (runs[i].perturb && !(caps.ok & 1u << runs[i].perturb))
			rr.st.perturbed = -1;	/* not available here: not run */
		else if (!plan_interrupted())
			plan_exec(p, &runs[i], i, xo, &rr.st, rr.err, sizeof(rr.err));
		if (plan_interrupted()) {	/* run i was cut short, or not started */
			results_stopped_write(res, i, "interrupted");
			break;
		}
		rr.st.end_ns = vm_now() * 1e9;
		results_write(res, &rr);
		fflush(res);
	}
	perturb_cleanup(&caps);
}

int replay_run_process(struct replay_run_args *a, char *err, size_t errlen)
{
	struct mmr_trace *t = mmr_trace_open(a->trace, err, errlen);
	struct rrun *runs;
	struct rplan p;
	unsigned kinds;
	FILE *res;
	int n;

	if (!t)
		return -1;
	if (plan_build(t, &p, err, errlen)) {
		mmr_trace_close(t);
		return -1;
	}
	mmr_trace_close(t);
	n = runs_read(a->runs, &runs, &kinds);
	res = fopen(a->results, "w");
	if (n < 0 || !res) {
		snprintf(err, errlen, "cannot read the runs or write the results in %s",
			 a->xo.scratch);
		if (res)
			fclose(res);
		free(runs);
		plan_free(&p);
		return -1;
	}
	run_all(&p, runs, n, kinds, a, &a->xo, res);
	fclose(res);
	free(runs);
	plan_free(&p);
	return 0;
}
