/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The partial report of `replay --explore --shard I/N`, which `mmreplay
 * merge` reads back: the explore report as --json prints it, and beside it
 * a "shard" member with what merge needs (the shard, the options, the
 * trace's fingerprint, each of its cells' trials).  Its writer and its
 * reader sit together in replay_shard.c, so that the two cannot drift apart.
 */
#ifndef MMR_REPLAY_SHARD_H
#define MMR_REPLAY_SHARD_H

#include "replay/session.h"
#include "traces/json_writer.h"

/* Writes the "shard" member into the open top-level object of the JSON report. */
void replay_shard_write(const struct replay_opts *o, const struct rrun_set *rs,
			const struct rplan *p, const struct replay_outcome *out, json_writer_t *w);

/* One cell of a shard: its index among all cells, its ops, the trials that ran. */
struct shard_cell {
	int id;
	struct rpair pair;
	struct rop op_a, op_b;		/* type, nr and task only: for the report's names */
	int nr_runs;
	struct run_result *res;		/* per trial, in trial order */
	struct run_check *rc;
};

struct shard_part {
	int shard, shards;
	char trace[4096], kernel[4096];	/* kernel: "" without --kernel */
	__u64 trace_id, seed, window_ns;
	int trials, stop_after, min_trials, budget_s, max_pairs;
	unsigned perturb;
	int nr_cells_all, nr_racing;	/* of every shard */
	int incomplete, interrupted, unchecked, deterministic;
	char determinism[320];
	struct perturb_caps caps;	/* ok, how and why only */
	int nr_cells;
	struct shard_cell *cells;
	/* with --kernel: the report's "guest", the shard's guest summary */
	int guest_ok;
	struct replay_guest guest;
	char console[4200];
};

/* Reads a partial report; 0, or -1 with err set (not one, or damaged). */
int replay_shard_read(const char *path, struct shard_part *sp, char *err, size_t errlen);
void replay_shard_free(struct shard_part *sp);
/*
 * Parts 1..N of one explore (paths: where each came from, for the errors)
 * combined and printed as that explore's report, plain or JSON
 * (cmd_merge.c; replay --jobs uses it too): explore's exit status.
 */
int merge_parts(struct shard_part *sp, char **paths, int n, int json);
/* The trace's fingerprint (FNV-1a of its bytes); 0 if it cannot be read. */
__u64 replay_shard_trace_id(const char *path);

#endif
