/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The two text files between `mmreplay replay` and its replay process
 * (`mmreplay __replay-run`, under record): the runs to do, one a line, and
 * the results, a tab-separated line per run after "#perturb" lines saying
 * which perturbations could run.  Each writer sits beside its reader in
 * results.c, so that the two cannot drift apart.
 */
#ifndef MMR_REPLAY_RESULTS_H
#define MMR_REPLAY_RESULTS_H

#include <stdio.h>
#include "replay/replay.h"

/* What one run did, as the replay process wrote it to the results file. */
struct run_result {
	struct rrun run;
	struct rstats st;
	char err[256];
	/* on the host: seconds from the command's start until it ended (not in the file); < 0: unknown */
	double after_s;
};

/*
 * The runs file: "A B SEED PERTURB" a line, after "#kinds MASK" (if not 0):
 * the perturbation kinds to detect and calibrate, also those no run in the
 * file has (a --shard's runs are a slice of an explore's, and calibrate as
 * all of them would).  0, or -1 with errno set.
 */
int runs_write(const char *path, const struct rrun *runs, int n, unsigned kinds);
/* Its runs into *runs (caller frees), its kinds into *kinds (NULL: not wanted); how many, or -1. */
int runs_read(const char *path, struct rrun **runs, unsigned *kinds);

/* One run's line of the results file; 0, or -1 on a write error. */
int results_write(FILE *f, const struct run_result *r);
/* Reads the results the replay process wrote; returns the number of runs. */
int results_read(const char *path, struct run_result *res, int max);
/*
 * The budget ended or a signal came (@why: "budget", "interrupted"): runs
 * from @next on were not run, or not to the end (a "#stopped" line).
 * results_stopped(): that index, or -1 if every run was started.
 */
void results_stopped_write(FILE *f, int next, const char *why);
int results_stopped(const char *path);
/* The perturbations the replay process found it could run ("#perturb" lines). */
void results_caps_write(FILE *f, const struct perturb_caps *c);
void results_caps_read(const char *path, struct perturb_caps *c);

#endif
