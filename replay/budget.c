// SPDX-License-Identifier: GPL-2.0
/*
 * An explore's budget, for the local session and the QEMU one alike: when
 * the replay process is to start no more runs, the progress said on the
 * way, and the results file read back, its runs stopped by the budget
 * told from runs lost.
 */
#include <stdio.h>
#include "session_int.h"
#include "vm/vm.h"

double replay_run_deadline(const struct replay_opts *o)
{
	double reserve = o->budget_s / 10.0;

	if (!o->deadline)
		return 0;
	if (o->budget_s)
		reserve = reserve < 1 ? 1 : reserve > 30 ? 30 : reserve;
	return o->deadline - reserve;
}

void replay_progress_say(const struct replay_opts *o, const char *phase, int runs,
			 int runs_done)
{
	struct replay_progress pr = { phase, o->explore, 0, 0, runs, runs_done, 0, -1 };

	if (!o->progress)
		return;
	pr.cells = o->explore && o->trials ? runs / o->trials : 0;
	/* in rounds: a cell is done when its trial of the last round ran */
	if (runs_done > runs - pr.cells)
		pr.cells_done = runs_done - (runs - pr.cells);
	if (o->batch.cells) {	/* a batch: the explore's cells, its runs so far */
		pr.cells = o->batch.cells;
		pr.cells_done = o->batch.cells_done;
		pr.runs = runs < 0 ? runs : o->batch.runs_done + runs;
		pr.runs_done = runs_done < 0 ? runs_done : o->batch.runs_done + runs_done;
		pr.findings = o->batch.findings;
	}
	pr.left_s = o->deadline ? o->deadline - vm_now() : 0;
	o->progress(&pr);
}

void replay_stamp(const struct replay_opts *o, struct replay_outcome *out, const double *done_at)
{
	for (int r = 0; r < out->nr_ran; r++) {
		double end = done_at ? done_at[r] : out->res[r].st.end_ns / 1e9;

		out->res[r].after_s = o->started && end > 0 ? end - o->started : -1;
	}
}

int replay_results(const struct replay_opts *o, const char *path, const char *who,
		   struct replay_outcome *out)
{
	int n = results_read(path, out->res, out->nr_runs), stopped = results_stopped(path);

	results_caps_read(path, &out->caps);
	out->nr_ran = n;
	out->incomplete = n < out->nr_runs && stopped == n;
	if (n == out->nr_runs || out->incomplete)
		return 0;
	replay_say(o, SAY_ERROR, "replay: the %s reported %d of %d runs", who, n, out->nr_runs);
	return -1;
}
