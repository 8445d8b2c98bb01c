/* SPDX-License-Identifier: GPL-2.0 */
/* Shared by the session's files: session_local.c, session_vm.c, session_check.c, scratch.c. */
#ifndef MMR_REPLAY_SESSION_INT_H
#define MMR_REPLAY_SESSION_INT_H

#include "session.h"

void replay_say(const struct replay_opts *o, enum replay_say level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* A new directory PREFIX-XXXXXX under --scratch, $TMPDIR or /var/tmp; 0 or -1 (said). */
int replay_mkdir(const struct replay_opts *o, const char *prefix, char *dir, size_t len);
/* Removes the tree at @dir, if any, and empties @dir. */
void replay_rmdir(char *dir);
/* Checks each run of the replay trace o->out into out (rc, fid, last, status). */
int replay_check(const struct replay_opts *o, const struct rplan *p, const struct rrun_set *rs,
		 struct replay_outcome *out);
/*
 * The results file at path into out (res, nr_ran, incomplete, caps): 0, or
 * -1 (said, naming who wrote it) if runs are missing that the budget did not stop.
 */
/*
 * Each run's after_s, from o->started: when @done_at[r] (vm_now()) says
 * it ended, or (NULL: the replay process ran on this clock) its end_ns.
 */
void replay_stamp(const struct replay_opts *o, struct replay_outcome *out, const double *done_at);
int replay_results(const struct replay_opts *o, const char *path, const char *who,
		   struct replay_outcome *out);
/*
 * When the replay process is to start no more runs (vm_now() seconds): the
 * budget's end less a tenth of it (1 to 30 s) for the check; 0: no budget.
 */
double replay_run_deadline(const struct replay_opts *o);
/* o->progress, if any, in phase with runs_done of runs (-1: not known) */
void replay_progress_say(const struct replay_opts *o, const char *phase, int runs,
			 int runs_done);
/* The QEMU backend; out->status. */
int replay_vm(const struct replay_opts *o, const struct rplan *p, const struct rrun_set *rs,
	      struct replay_outcome *out);

#endif
