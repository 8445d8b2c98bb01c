// SPDX-License-Identifier: GPL-2.0
/*
 * mmreplay merge: the partial reports of `replay --explore --shard I/N`
 * combined into the report one unsharded explore prints.  It rebuilds the
 * outcome the report's printers take (replay_report.c): every cell, its
 * trials in rounds, trial t of cell i as run t * cells + i.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cmds.h"
#include "replay_cli.h"
#include "replay_shard.h"
#include "util.h"

const char usage_merge[] =
	"usage: mmreplay merge [--json] PART...\n\n"
	"Combine the partial reports of 'mmreplay replay TRACE --explore --shard I/N'\n"
	"(one per shard, 1 to N) into the report of one explore of every cell, as\n"
	"replay --explore prints it, plain or with --json.  The parts must be of one\n"
	"trace (its bytes' fingerprint), one --seed, one N and the same explore\n"
	"options (--trials, --min-trials, --pairs, --window, --perturb, --stop-after,\n"
	"--budget), each shard once and none missing; else merge says which in one\n"
	"line and exits 2.  A trial's seed depends on its cell and trial only, so\n"
	"the merged report names the same reproducing seeds as one run would.  With\n"
	"--kernel, the report has each shard's guest summary (\"guests\" in JSON).\n\n"
	"  -j, --json           the report as JSON\n\n"
	"Exit status: as replay --explore's: 0 clean, 1 findings, 2 error (a part\n"
	"unreadable or not belonging with the others, or a trial that failed), 3 no\n"
	"findings but some verdicts not checked in the trials, 5 a shard's budget\n"
	"ended before each of its cells ran --min-trials (or was done or stopped)\n"
	"and those that ran had no findings.\n\n"
	"example:\n"
	"  parallel mmreplay replay w.trace --explore --seed 7 --shard {}/3 '>' part{}.json \\\n"
	"      ::: 1 2 3\n"
	"  mmreplay merge part1.json part2.json part3.json\n";

/* What must be equal in every part: 0, or -1 with what differs said in why. */
static int mismatch(const struct shard_part *a, const struct shard_part *b, char *why, size_t len)
{
	if (a->trace_id != b->trace_id)
		snprintf(why, len, "another trace (its bytes differ)");
	else if (a->seed != b->seed)
		snprintf(why, len, "another --seed (%llu, not %llu)", (unsigned long long)b->seed,
			 (unsigned long long)a->seed);
	else if (a->shards != b->shards)
		snprintf(why, len, "a shard of another N (%d, not %d)", b->shards, a->shards);
	else if (a->trials != b->trials || a->stop_after != b->stop_after ||
		 a->min_trials != b->min_trials ||
		 a->budget_s != b->budget_s || a->max_pairs != b->max_pairs ||
		 a->window_ns != b->window_ns || a->perturb != b->perturb ||
		 !a->kernel[0] != !b->kernel[0])
		snprintf(why, len, "other explore options (--trials, --min-trials, --pairs, "
			 "--window, --perturb, --stop-after, --budget or --kernel)");
	else if (a->nr_cells_all != b->nr_cells_all || a->nr_racing != b->nr_racing)
		snprintf(why, len, "other cells (%d, not %d)", b->nr_cells_all, a->nr_cells_all);
	else
		return 0;
	return -1;
}

/* The parts are shards 1..N of one explore, each once: 0, or -1 (said). */
static int parts_belong(struct shard_part *sp, char **paths, int n)
{
	char missing[512] = "";
	int *at = calloc(sp[0].shards + 1, sizeof(int)), len = 0, nr_missing = 0;

	for (int i = 0; at && i < n; i++) {
		char why[200];

		if (mismatch(&sp[0], &sp[i], why, sizeof(why))) {
			mmr_err("merge: %s: %s than %s; not parts of one explore", paths[i], why,
				paths[0]);
			free(at);
			return -1;
		}
		if (at[sp[i].shard]) {
			mmr_err("merge: shard %d/%d given twice: %s and %s", sp[i].shard, sp[i].shards,
				paths[at[sp[i].shard] - 1], paths[i]);
			free(at);
			return -1;
		}
		at[sp[i].shard] = i + 1;
	}
	for (int s = 1; at && s <= sp[0].shards; s++)
		if (!at[s] && len < (int)sizeof(missing) - 16)
			len += snprintf(missing + len, sizeof(missing) - len, "%s%d", nr_missing++ ?
					", " : "", s);
	free(at);
	if (nr_missing)
		mmr_err("merge: shard%s %s of %d missing", nr_missing > 1 ? "s" : "", missing,
			sp[0].shards);
	return nr_missing ? -1 : 0;
}

/* Cell c of part sp is where --shard puts it, once, with the seeds --seed gives. */
static int cell_fits(const struct shard_part *sp, const struct shard_cell *c,
		     const struct rrun_set *rs, const char *path)
{
	if (c->id >= sp->nr_cells_all || c->id % sp->shards != sp->shard - 1 ||
	    rs->cell_id[c->id] >= 0) {
		mmr_err("merge: %s: cell %d is not one shard %d/%d has, or comes twice", path,
			c->id, sp->shard, sp->shards);
		return 0;
	}
	if (c->nr_runs > sp->trials) {
		mmr_err("merge: %s: cell %d has %d trials of %d", path, c->id, c->nr_runs, sp->trials);
		return 0;
	}
	for (int t = 0; t < c->nr_runs; t++)
		if (c->res[t].run.seed != trial_seed(sp->seed, c->id, t)) {
			mmr_err("merge: %s: cell %d trial %d has seed %llu, not the one --seed %llu "
				"gives (another mmreplay?)", path, c->id, t,
				(unsigned long long)c->res[t].run.seed, (unsigned long long)sp->seed);
			return 0;
		}
	return 1;
}

/* Cell c's trials into their runs of the merged outcome; its ops into the plan. */
static void place_cell(const struct shard_cell *c, struct rrun_set *rs, struct rplan *p,
		       struct replay_outcome *out)
{
	const struct rpair *pr = &c->pair;

	rs->pairs[c->id] = *pr;
	rs->cell_id[c->id] = c->id;
	out->cell_ran[c->id] = c->nr_runs;
	out->nr_ran += c->nr_runs;
	for (int t = 0; t < c->nr_runs; t++) {
		int r = t * rs->nr_pairs + c->id;

		out->res[r] = c->res[t];
		out->res[r].run = (struct rrun){ pr->a, pr->perturb ? -1 : (long)pr->b,
						 c->res[t].run.seed, pr->perturb };
		out->rc[r] = c->rc[t];
	}
	p->ops[pr->a] = c->op_a;
	if (!pr->perturb)
		p->ops[pr->b] = c->op_b;
}

/* The largest op id of any cell, for the plan the printers name ops from */
static size_t max_op(const struct shard_part *sp, int n)
{
	size_t m = 0;

	for (int i = 0; i < n; i++)
		for (int k = 0; k < sp[i].nr_cells; k++) {
			const struct rpair *pr = &sp[i].cells[k].pair;

			m = pr->a > m ? pr->a : m;
			m = !pr->perturb && pr->b > m ? pr->b : m;
		}
	return m;
}

/* The perturbation kinds a part has cells of: those it looked for */
static unsigned kinds_wanted(const struct shard_part *sp)
{
	unsigned want = 0;

	for (int k = 0; k < sp->nr_cells; k++)
		want |= sp->cells[k].pair.perturb ? 1u << sp->cells[k].pair.perturb : 0;
	return want;
}

/*
 * What could run: each shard looked only for the kinds of its own cells.
 * A kind counts as available if a shard that looked for it could run it;
 * the hosts disagreeing is said (its cells' "perturbed" counts tell).
 */
static void merge_caps(const struct shard_part *sp, int n, struct perturb_caps *c)
{
	unsigned seen_no = 0;

	for (int i = n; i-- > 0;) {
		unsigned want = kinds_wanted(&sp[i]);

		for (int k = 1; k < PERTURB_NR; k++) {
			if (!(want & 1u << k))
				continue;
			if (sp[i].caps.ok & 1u << k) {
				c->ok |= 1u << k;
				memcpy(c->how[k], sp[i].caps.how[k], sizeof(c->how[k]));
			} else {
				seen_no |= 1u << k;
				memcpy(c->why[k], sp[i].caps.why[k], sizeof(c->why[k]));
			}
		}
	}
	for (int k = 1; k < PERTURB_NR; k++)
		if (seen_no & c->ok & 1u << k)
			mmr_warn("merge: %s ran in some shards, not in others (%s)", perturb_name(k),
				 c->why[k]);
}

/* The outcome one explore of every cell would have had; 0, or -1 (said). */
static int merge_outcome(struct shard_part *sp, char **paths, int n, struct rrun_set *rs,
			 struct rplan *p, struct replay_outcome *out)
{
	int cells = sp[0].nr_cells_all;

	rs->nr_pairs = rs->nr_cells = cells;
	rs->nr_racing = sp[0].nr_racing;
	for (int i = 0; i < REPLAY_MAX_PAIRS; i++)
		rs->cell_id[i] = -1;
	out->nr_runs = cells * sp[0].trials;
	out->res = calloc(out->nr_runs + 1, sizeof(*out->res));
	out->rc = calloc(out->nr_runs + 1, sizeof(*out->rc));
	out->cell_ran = calloc(cells + 1, sizeof(int));
	p->nr_ops = max_op(sp, n) + 1;
	p->ops = calloc(p->nr_ops, sizeof(*p->ops));
	if (!out->res || !out->rc || !out->cell_ran || !p->ops) {
		mmr_err("merge: out of memory");
		return -1;
	}
	out->deterministic = 1;
	for (int i = 0; i < n; i++) {
		for (int k = 0; k < sp[i].nr_cells; k++) {
			if (!cell_fits(&sp[i], &sp[i].cells[k], rs, paths[i]))
				return -1;
			place_cell(&sp[i].cells[k], rs, p, out);
		}
		out->incomplete |= sp[i].incomplete;
		out->interrupted |= sp[i].interrupted;
		out->unchecked |= sp[i].unchecked;
		out->deterministic &= sp[i].deterministic;
	}
	for (int i = 0; i < cells; i++)
		if (rs->cell_id[i] < 0) {
			mmr_err("merge: cell %d is in no part (shard %d/%d's)", i, i % sp[0].shards + 1,
				sp[0].shards);
			return -1;
		}
	snprintf(out->determinism, sizeof(out->determinism), "%s", sp[0].determinism);
	merge_caps(sp, n, &out->caps);
	out->report = 1;
	return 0;
}

/* The options the report prints, as the parts' explore had them */
static void merged_opts(const struct shard_part *sp, int json, struct replay_opts *o)
{
	*o = (struct replay_opts){ .trace = sp->trace, .explore = 1, .json = json,
				   .trials = sp->trials, .seed = sp->seed, .max_pairs = sp->max_pairs,
				   .window_ns = sp->window_ns, .perturb = sp->perturb,
				   .stop_after = sp->stop_after, .min_trials = sp->min_trials,
				   .budget_s = sp->budget_s,
				   .kernel = sp->kernel[0] ? sp->kernel : NULL, .pair_a = -1,
				   .pair_b = -1 };
}

int merge_parts(struct shard_part *sp, char **paths, int n, int json)
{
	static struct rrun_set rs;
	struct replay_outcome out = { 0 };
	struct replay_opts o;
	struct rplan p = { 0 };
	int ret = MMR_EXIT_ERROR;

	merged_opts(&sp[0], json, &o);
	if (!parts_belong(sp, paths, n) && !merge_outcome(sp, paths, n, &rs, &p, &out)) {
		replay_report_guests(sp, n);
		replay_report(&o, &p, &rs, &out, NULL);
		replay_report_guests(NULL, 0);
		ret = replay_outcome_status(&o, &out);
		if (!ret && out.unchecked)
			ret = MMR_EXIT_UNCHECKED;
	}
	free(p.ops);
	replay_outcome_free(&out);
	return ret;
}

/* The options anywhere, the parts in *paths (caller frees): their number, or -1 (said). */
static int parse_merge(int argc, char **argv, int *json, char ***paths)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' }, { "help", no_argument, NULL, 'h' }, {},
	};
	int c, n = 0;

	*paths = calloc(argc + 1, sizeof(char *));
	while (*paths) {
		c = mmr_getopt("merge", argc, argv, "jh", opts);
		if (c == -1 && optind < argc) {
			(*paths)[n++] = argv[optind++];
			continue;
		}
		if (c == -1)
			break;
		if (c == 'h')
			return cmd_help("merge") ? -1 : 0;
		if (c != 'j')
			return -1;
		*json = 1;
	}
	if (*paths && !n)
		mmr_err("merge: no partial reports given (see mmreplay merge --help)");
	return *paths && n ? n : -1;
}

int cmd_merge(int argc, char **argv)
{
	struct shard_part *sp = NULL;
	char err[600], **paths;
	int json = 0, n = parse_merge(argc, argv, &json, &paths), ret = MMR_EXIT_ERROR;

	if (n <= 0) {
		free(paths);
		return n ? MMR_EXIT_ERROR : 0;
	}
	sp = calloc(n, sizeof(*sp));
	if (!sp) {
		mmr_err("merge: out of memory");
		goto out;
	}
	for (int i = 0; i < n; i++)
		if (replay_shard_read(paths[i], &sp[i], err, sizeof(err))) {
			mmr_err("merge: %s: %s", paths[i], err);
			goto out;
		}
	ret = merge_parts(sp, paths, n, json);
out:
	for (int i = 0; sp && i < n; i++)
		replay_shard_free(&sp[i]);
	free(sp);
	free(paths);
	return ret;
}
