/* SPDX-License-Identifier: GPL-2.0 */
/* `mmreplay replay`: shared by cmd_replay.c (setup, runs) and replay_report.c (results). */
#ifndef MMR_REPLAY_CLI_H
#define MMR_REPLAY_CLI_H

#include <signal.h>
#include "replay/replay.h"

struct replay_opts {
	const char *trace, *out, *scratch_parent;
	enum rorder order;
	int explore, json, trials, max_pairs, timeout_s, no_snapshot;
	long pair_a, pair_b;
	int pair_perturb;		/* --pair A,KIND */
	unsigned perturb;		/* --perturb: mask of PERTURB_* kinds */
	__u64 seed, window_ns;
	/* --kernel: the replay runs in a QEMU guest (replay_vm.c) */
	const char *kernel, *modules, *vmlinux, *accel;
	int mem_mb, cpus, vm_timeout_s;
	int icount;			/* --icount: TCG shift, ICOUNT_OFF or ICOUNT_AUTO */
	const char *determinism;	/* whether the same --seed gives the same report, why */
	int deterministic;
	const char *console;		/* the guest console, beside the replay trace */
	const char *guest_json;		/* the guest's summary, for the JSON report */
	const char *results_out;	/* in the guest: write the results here, no report */
	volatile sig_atomic_t *stop;	/* set by SIGINT/SIGTERM */
	const struct perturb_caps *caps;	/* what perturbations could run (the results) */
};

#define ICOUNT_OFF (-1)
#define ICOUNT_AUTO (-2)	/* with --explore or --pair under TCG, if QEMU can */
#define ICOUNT_SHIFT 6		/* 64 ns an instruction: a 15.6 MHz guest */

/* The runs of one replay: a plain run, one --pair trial, or the explore trials. */
struct rrun_set {
	struct rpair *pairs;
	int nr_pairs;
	struct rrun *runs;
	int nr_runs;
};

/* What one run did, as the replay process wrote it to the results file. */
struct run_result {
	struct rrun run;
	struct rstats st;
	char err[256];
};

/* Reads the results the replay process wrote; returns the number of runs. */
int results_read(const char *path, struct run_result *res, int max);
int results_write(FILE *f, const struct run_result *r);
/* The perturbations the replay process found it could run ("#perturb" lines). */
void results_caps_write(FILE *f, const struct perturb_caps *c);
void results_caps_read(const char *path, struct perturb_caps *c);

/*
 * Checks each run of the replay trace and prints the report; returns the
 * exit status (0 faithful and clean, 1 findings, 2 error, 4 not faithful:
 * replay_fidelity.h).
 */
int replay_report(const struct replay_opts *o, const struct rplan *p, const struct rpair *pairs,
		  int nr_pairs, struct run_result *res, int nr_runs);

/* A new directory PREFIX-XXXXXX under --scratch, $TMPDIR or /var/tmp; 0 or -1 (said). */
int replay_mkdir(const struct replay_opts *o, const char *prefix, char *dir, size_t len);
/* Removes the tree at @dir, if any, and empties @dir. */
void replay_rmdir(char *dir);

/* Replays in a guest booted on o->kernel; the exit status. */
int replay_vm(struct replay_opts *o, const struct rplan *p, const struct rrun_set *rs);

#endif
