/* SPDX-License-Identifier: GPL-2.0 */
/* `mmreplay replay`: shared by cmd_replay.c (options, runs) and replay_report.c (the report). */
#ifndef MMR_REPLAY_CLI_H
#define MMR_REPLAY_CLI_H

#include "replay/session.h"

struct fidelity_report;

/*
 * Prints the report of a session that has one (out->report), plain or
 * JSON, and the guest's summary with --kernel; fr: a plain replay's
 * fidelity verdict (replay_fidelity.h), NULL for explore.
 */
void replay_report(const struct replay_opts *o, const struct rplan *p, const struct rrun_set *rs,
		   const struct replay_outcome *out, const struct fidelity_report *fr);

/*
 * A progress line on stderr (o->progress): once a second on a TTY, where
 * it is rewritten, else every 10 s ($MMREPLAY_PROGRESS_S overrides both).
 */
void replay_progress_print(const struct replay_progress *pr);
/* Ends a TTY's progress line before another message */
void replay_progress_break(void);
/* In a QEMU guest: the trials run, to the console, for the host (session_vm.c) */
void replay_progress_console(const struct replay_progress *pr);

/*
 * The guests of merged parts (with --kernel), which replay_report() then
 * prints with an explore's report: "guests" in JSON, a summary each in plain.
 */
struct shard_part;
void replay_report_guests(const struct shard_part *sp, int n);
/* A replay of o, its report and its exit status */
typedef int (*replay_one_fn)(struct replay_opts *o, const struct rplan *p);
/*
 * --explore --jobs N: nr_jobs shards of the explore's cells (of every
 * shard) at once, each run by run_one in a child, merged and printed as
 * one explore (replay_jobs.c).
 */
int replay_jobs(struct replay_opts *o, const struct rplan *p, int nr_jobs, int cells,
		replay_one_fn run_one);

#endif
