/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The replay session: the runs of a plan executed under `record
 * --snapshot` here (session_local.c) or in a QEMU guest booted on another kernel
 * (session_vm.c), their results read back (results.c), and each run of the
 * replay trace checked (session_check.c).  It fills a struct
 * replay_outcome; cli/ prints it.  The options are input only.
 *
 * Messages on the way (warnings, errors, -v notes) go to o->say in the
 * order they happen; the guest's console tail goes to stderr (vm/).
 * Includes replay/, check/ (to check each run), traces/ and vm/.
 */
#ifndef MMR_REPLAY_SESSION_H
#define MMR_REPLAY_SESSION_H

#include <signal.h>
#include "check/check.h"
#include "replay/replay.h"
#include "replay/results.h"

enum replay_say { SAY_ERROR, SAY_WARN, SAY_NOTE };	/* NOTE: a line as it is */

/* Where a session is, for a progress line. */
struct replay_progress {
	/* "replay" or "explore" here; "boot", then "guest" while QEMU runs; "check" */
	const char *phase;
	int explore;			/* runs and cells count trials of --explore */
	int cells, cells_done;		/* cells whose every trial ran */
	int runs, runs_done;		/* -1: not known (in the guest) */
	double left_s;			/* of the budget; 0 without one */
	int findings;			/* trials with findings in the checked batches; -1: none yet */
};

struct replay_opts {
	const char *trace, *out, *scratch_parent;
	enum rorder order;
	int explore, json, trials, max_pairs, timeout_s, no_snapshot;
	long pair_a, pair_b;
	int pair_perturb;		/* --pair A,KIND */
	unsigned perturb;		/* --perturb: mask of PERTURB_* kinds */
	__u64 seed, window_ns;
	/* --kernel: the replay runs in a QEMU guest (session_vm.c) */
	const char *kernel, *modules, *vmlinux, *accel;
	int mem_mb, cpus, vm_timeout_s;
	int icount;			/* --icount: TCG shift, ICOUNT_OFF or ICOUNT_AUTO */
	const char *results_out;	/* in the guest: write the results here, no report */
	/* in the guest: the host's runs file (no plan is built there), the recording's swap-outs */
	const char *guest_runs;
	int guest_stop;			/* in the guest: the host may ask it to stop (vm_stop_asked) */
	__u64 guest_swapouts;
	long guest_page_size;
	int verbose;			/* -v: notes, and -v for the guest */
	/* --explore's --budget: its length, and when it ends (vm_now() seconds); 0: none */
	int budget_s;
	double deadline;
	double started;			/* vm_now() when the command started (0: not known) */
	int stop_after;			/* --stop-after K: a cell counts to its K-th reproduction */
	/* --min-trials M: a cell the budget ended has run enough (its state "budget") at M */
	int min_trials;
	int shard, shards;		/* --shard I/N: cells i with i % N == I - 1; 0: all */
	int quiet;			/* -q: no progress lines */
	volatile sig_atomic_t *stop;	/* set by SIGINT/SIGTERM: 1, then 2 after another */
	void (*say)(enum replay_say level, const char *msg);	/* NULL: stderr */
	/* while the runs run, a few times a second (NULL: none) */
	void (*progress)(const struct replay_progress *pr);
	/* a batch of an explore (replay_explore()): the explore's cells, before this batch */
	/* and the trials with findings of the batches checked so far (-1: none checked yet) */
	struct { int cells, cells_done, runs_done, findings; } batch;
};

#define ICOUNT_OFF (-1)
#define ICOUNT_AUTO (-2)	/* with --explore or --pair under TCG, if QEMU can */
#define ICOUNT_SHIFT 6		/* 64 ns an instruction: a 15.6 MHz guest */
#define REPLAY_MAX_PAIRS 256

#define REPLAY_EXIT_INCOMPLETE 5

/*
 * The runs of one replay: a plain run, one --pair trial, or the explore
 * trials, in rounds: trial t of cell i is run t * nr_pairs + i, so that a
 * budget that ends early has given every cell its share.  With --shard,
 * pairs[] holds this shard's cells only; cell_id[i] is cell i's index among
 * all nr_cells, which its trials' seeds and the report's numbers use.
 */
struct rrun_set {
	struct rpair pairs[REPLAY_MAX_PAIRS];
	int nr_pairs;
	int cell_id[REPLAY_MAX_PAIRS];
	int nr_cells, nr_racing;	/* of every shard: cells, of which racing pairs */
	unsigned kinds;			/* of every shard's cells: perturbations to calibrate */
	struct rrun *runs;
	int nr_runs;
};

/* The runs o asks for of plan p; 0, or -1 with err set.  replay_runs_free() after. */
int replay_runs(const struct replay_opts *o, const struct rplan *p, struct rrun_set *rs,
		char *err, size_t errlen);
void replay_runs_free(struct rrun_set *rs);
/* The cell of explore run r (its trial in *trial). */
int rrun_cell(const struct rrun_set *rs, int r, int *trial);
/* The 95 % Wilson score interval of k successes in n trials; [0, 1] for n = 0. */
void wilson95(int k, int n, double *lo, double *hi);

/* One run of the replay trace, checked on its own. */
struct run_check {
	__u64 findings;
	__u64 per_verdict[V_NR];
	char first[480];	/* the first finding, in a line */
};

/* A plain replay's trace against its plan. */
struct replay_fidelity {
	__u64 syscalls, syscalls_seen, brks, touches, touches_faulted, swapouts;
	__u64 reclaim_passes;	/* check's (record --reclaim-pass): they swap pages out too */
	int tasks_complete;	/* tasks whose every op was marked */
};

/* What the guest said of itself (its "guest" file) and of its recorder. */
struct replay_guest {
	char kernel[128], nodes[32], swap[64];
	int cpus, status, leftover_perturbers, leftover_cgroups;
	double init_s, cmd_start_s, cmd_end_s;
	char accel[8];
	int icount;			/* under TCG -icount */
	double wall_s;			/* QEMU's, on the host */
	char missing[2048];		/* kinds its recorder could not attach */
	int kinds_ok, kinds;
	int boots;			/* guests booted (an explore's batches): the times are their sums */
};

struct replay_outcome {
	int status;		/* exit status: 0 clean, 1 findings or a broken kernel, 2 error,
				 * 5 no findings but the budget ended before every run ran */
	int report;		/* the runs came back and were checked: there is a report */
	struct run_result *res;	/* per run, as the replay process wrote them */
	struct run_check *rc;	/* per run, the check of its part of the replay trace */
	int nr_runs;
	int nr_ran;		/* runs that ran: fewer when the budget ended (incomplete) */
	int incomplete;
	int interrupted;	/* incomplete: SIGINT or SIGTERM stopped it, not the budget */
	int unchecked;		/* no findings, but some verdicts were not checked */
	/* merged shards: the trials that ran per cell, runs[] has holes (zeroed); NULL: 0..nr_ran-1 */
	int *cell_ran;
	struct replay_fidelity fid;	/* a plain replay's */
	struct checker *last;	/* the last run's checker: a plain replay's check */
	struct mmr_trace *trace;	/* the replay trace, for the check's printer */
	struct perturb_caps caps;	/* what perturbations could run */
	char determinism[320];	/* whether the same --seed gives the same report, why */
	int deterministic;
	char console[4200];	/* with --kernel: the guest console, beside the replay trace */
	int guest_ok;		/* with --kernel: guest below is filled */
	struct replay_guest guest;
};

/*
 * The trials of one explore cell that count: those that ran, up to its
 * o->stop_after'th reproduction (later ones, already queued, ran but do
 * not count: the replay process cannot see findings); how many had
 * findings, failed, were perturbed; the first with a finding.
 */
struct cell_tally {
	int n, k, errors, perturbed;
	int near;		/* trials whose perturbation overlapped the op (replay_near_miss()) */
	int repro;		/* the run of the first trial with findings, -1 */
	int stopped;		/* reached o->stop_after reproductions */
	__u64 per[V_NR];	/* trials with each verdict */
	double lo, hi;		/* 95 % Wilson interval of k in n */
};
struct cell_tally cell_tally(const struct replay_opts *o, const struct rrun_set *rs,
			     const struct replay_outcome *out, int cell);
/* A near miss: the run's perturbation started before its op ended and ended after it began. */
int replay_near_miss(const struct rstats *st);
/* The runs of out to look at: those that ran, or every run when holes are zeroed (cell_ran). */
int replay_outcome_span(const struct replay_outcome *out);
/* The exit status of checked runs: 2 a run failed, 1 findings, 5 incomplete, 0. */
int replay_outcome_status(const struct replay_opts *o, const struct replay_outcome *out);

/*
 * Runs rs here or (o->kernel) in a guest, then checks each run: fills
 * *out, returns out->status.  replay_outcome_free() after, either way.
 */
int replay_session(const struct replay_opts *o, const struct rplan *p, const struct rrun_set *rs,
		   struct replay_outcome *out);
void replay_outcome_free(struct replay_outcome *out);

/*
 * An explore (o->explore, no --pair) in batches, each a replay_session()
 * (adapt.c): a calibration of a few trials per cell, then batches sized to
 * the budget left that share it among the cells still open, more to those
 * that show signal, none to one that reproduced o->stop_after times or ran
 * o->trials.  Fills *out as a merge does (cell_ran, trial t of cell i as
 * run t * nr_pairs + i); returns out->status.  Anything else: replay_session().
 */
int replay_explore(const struct replay_opts *o, const struct rplan *p, const struct rrun_set *rs,
		   struct replay_outcome *out);
/* What the next batch's share is made from, per cell. */
struct adapt_cell {
	int ran, k;		/* trials run, of which with findings (up to --stop-after) */
	int near;		/* trials whose perturbation overlapped the op */
	int open;		/* it may run more: not stopped, under --trials, available */
	int seeded;		/* of a race the seeds name (adapt_seeded()) */
};
/*
 * Trials for the next batch, into add[]: every open cell's rest up to
 * trials if they fit in capacity, else capacity shared by weight (a cell
 * with findings 4, a near miss or a seeded race 2, else 1), each open cell
 * at least one while they last.  The total.
 */
int adapt_share(const struct adapt_cell *c, int n, int capacity, int trials, int *add);
/*
 * The first batch's share, into add[]: 3 trials to each cell, 6 to a cell
 * of a seeded race (a race that shows in half its trials would be missed
 * by 3 one time in 8), none past trials.  The total.
 */
int adapt_calibrate(const struct adapt_cell *c, int n, int trials, int *add);
/*
 * The order of a batch's trials: into cell_of[] and trial_of[], every
 * trial of the cells of weight 2 or more, in rounds by ran + t, then the others'; the
 * count (the sum of add[]).
 */
int adapt_order(const struct adapt_cell *c, int n, const int *add, int *cell_of, int *trial_of);
/* A cell of a race the seeds name: perturb against its op, or a pair of ops. */
int adapt_seeded(const struct rplan *p, const struct rpair *c);
/* What the next batch is sized by: seconds left of the budget, one trial, a batch's own cost. */
struct adapt_time {
	double left_s, trial_s, fixed_s;
};
/*
 * The trials the next batch may take, of need wanted by open cells: all if
 * they fit in what is left, else what fits, or half of it (up to twice, while
 * that leaves six batch costs) so that the rest follows what the half shows.
 */
int adapt_batch_size(const struct adapt_time *t, int need, int open, int batches);
/* The trials of cell i of rs that ran in out. */
int cell_runs(const struct rrun_set *rs, const struct replay_outcome *out, int cell);

/*
 * In the guest, where the host's runs come in o->guest_runs: scratch and
 * swap, the replay process under record, the results into o->results_out
 * (the host checks them).  The exit status.
 */
int replay_in_guest(const struct replay_opts *o);

/* The replay process (`__replay-run`): the runs file's runs, the results file written. */
struct replay_run_args {
	const char *trace, *runs, *results;
	double deadline;		/* vm_now(): no run starts after it; 0: none */
	int guest_stop;			/* in a guest: nor once the host asks (vm_stop_asked) */
	struct rexec_opts xo;
};
/* 0, or -1 with err set (the trace, the runs or the results could not be had). */
int replay_run_process(struct replay_run_args *a, char *err, size_t errlen);

#endif
