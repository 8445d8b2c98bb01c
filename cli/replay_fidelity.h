/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The fidelity part of `mmreplay replay`'s report (issue 19): the replay's
 * trace compared with its recording (diff/fidelity.h), printed plain or as
 * the report's "fidelity" object, and its share of the exit status.
 * replay_report() calls these four; nothing else here knows the report.
 */
#ifndef MMR_REPLAY_FIDELITY_H
#define MMR_REPLAY_FIDELITY_H

#include "diff/fidelity.h"
#include "traces/json_writer.h"
#include "replay_cli.h"

/* Exit status of a replay that ran, with no findings, but not faithfully. */
#define MMR_EXIT_UNFAITHFUL 4

struct fidelity_report {
	int checked;		/* 0: a trace could not be read (err) */
	char err[256];
	const char *recording, *replay;
	int paired;		/* a --pair trial: two ops started together on purpose */
	struct fverdict v;
};

/* Compares the replay trace o->out with the recording o->trace; r: the plain run. */
void replay_fidelity_check(struct fidelity_report *rf, const struct replay_opts *o,
			   const struct run_result *r);
void replay_fidelity_plain(const struct fidelity_report *rf);
/* The "fidelity" member, in the open report object. */
void replay_fidelity_json(const struct fidelity_report *rf, json_writer_t *w);
/*
 * The exit status, from the one without fidelity (0 clean, 1 findings, 2
 * error): an error or findings stay; fidelity not checked is an error; a
 * clean replay that is not faithful is MMR_EXIT_UNFAITHFUL, but for a
 * --pair trial, which is not meant to be (its verdict is only reported).
 */
int replay_fidelity_status(const struct fidelity_report *rf, int status);

#endif
