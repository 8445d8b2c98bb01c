// SPDX-License-Identifier: GPL-2.0
/*
 * An explore in batches, each one replay_session() here or in a guest.
 * The first gives every cell a few trials and measures what a trial and
 * a batch cost.  Each next one is sized to the budget left and shares it
 * among the cells still open: more to those that show signal (a finding,
 * or a perturbation that overlapped its op) or are of a race the seeds
 * name (adapt_seeded(); their trials run first in a batch), none to a cell
 * that reproduced --stop-after times, ran --trials, or whose perturbation
 * this kernel cannot do.  While more trials are wanted than fit, a batch takes
 * half of what is left, so that the next one is shared by what it showed.
 * The batches' results land in one outcome laid out as a merge's: trial t
 * of cell i is run t * nr_pairs + i, and cell_ran[i] of cell i ran.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "session_int.h"
#include "vm/vm.h"

#define CALIBRATE 3		/* trials per cell in the first batch */
#define HALVINGS 2		/* batches of half the rest, at most, after the first */
#define MARGIN 1.15		/* a trial as measured, and some: the batch must end in time */

struct adapt {
	const struct replay_opts *o;
	const struct rrun_set *rs;	/* every trial of every cell, in rounds */
	struct replay_outcome *out;	/* the explore's */
	struct adapt_cell *c;
	int *add;			/* per cell: trials next */
	int *cell_of, *trial_of;	/* per run of a batch: its cell, its trial there */
	double trial_s, fixed_s;	/* measured: one trial; the rest of a batch (boot, check) */
	int batches, reported, sized;	/* batches run, of which checked; one cut to the budget */
	int failed;			/* a batch failed, not for a signal */
};

static int weight(const struct adapt_cell *c)
{
	return c->k ? 4 : c->near || c->seeded ? 2 : 1;
}

static int room(const struct adapt_cell *c, const int *add, int trials, int i)
{
	return c[i].open ? trials - c[i].ran - add[i] : 0;
}

/* One pass of capacity - total shared by weight among cells with room; what it gave. */
static int share_pass(const struct adapt_cell *c, int n, int left, int trials, int *add)
{
	int w = 0, given = 0;

	for (int i = 0; i < n; i++)
		w += room(c, add, trials, i) > 0 ? weight(&c[i]) : 0;
	for (int i = 0; w && i < n; i++) {
		int r = room(c, add, trials, i), g = r > 0 ? (int)((long)left * weight(&c[i]) / w) : 0;

		g = g < r ? g : r;
		add[i] += g;
		given += g;
	}
	return given;
}

/* The cell of weight w not in @given with room and the fewest trials so far; -1: none. */
static int fewest(const struct adapt_cell *c, int n, int trials, const int *add,
		  const char *given, int w)
{
	int best = -1;

	for (int i = 0; i < n; i++)
		if (!given[i] && weight(&c[i]) == w && room(c, add, trials, i) > 0 &&
		    (best < 0 || c[i].ran + add[i] < c[best].ran + add[best]))
			best = i;
	return best;
}

/*
 * One more trial to each cell with room while capacity lasts: the heaviest
 * first, and among equals those with the fewest, so that batch after batch
 * the shares stay even.
 */
static int one_each(const struct adapt_cell *c, int n, int capacity, int trials, int *add)
{
	char given[REPLAY_MAX_PAIRS] = { 0 };
	int total = 0;

	for (int w = 4; w >= 1; w /= 2)
		for (int i; total < capacity && (i = fewest(c, n, trials, add, given, w)) >= 0;)
			given[i] = 1, add[i]++, total++;
	return total;
}

int adapt_share(const struct adapt_cell *c, int n, int capacity, int trials, int *add)
{
	int need = 0, total = 0, given;

	n = n < REPLAY_MAX_PAIRS ? n : REPLAY_MAX_PAIRS;
	for (int i = 0; i < n; i++) {
		add[i] = 0;
		need += room(c, add, trials, i);
	}
	if (need <= capacity) {
		for (int i = 0; i < n; i++)
			add[i] = room(c, add, trials, i);
		return need;
	}
	total = one_each(c, n, capacity, trials, add);
	do {
		given = share_pass(c, n, capacity - total, trials, add);
		total += given;
	} while (given && total < capacity);
	return total + one_each(c, n, capacity - total, trials, add);	/* what rounding left */
}

int cell_runs(const struct rrun_set *rs, const struct replay_outcome *out, int cell)
{
	int span = replay_outcome_span(out), n = 0;

	if (out->cell_ran)
		return out->cell_ran[cell];
	for (int r = cell; r < span; r += rs->nr_pairs)
		n++;
	return n;
}

static void cells_update(struct adapt *ad)
{
	const struct rrun_set *rs = ad->rs;
	const struct replay_opts *o = ad->o;

	for (int i = 0; i < rs->nr_pairs; i++) {
		struct cell_tally t = cell_tally(o, rs, ad->out, i);
		struct adapt_cell *c = &ad->c[i];
		int kind = rs->pairs[i].perturb;

		c->ran = ad->out->cell_ran[i];
		c->k = t.k;
		c->near = t.near;
		c->open = !t.stopped && c->ran < o->trials &&
			  !(kind && c->ran && !(ad->out->caps.ok & 1u << kind));
	}
}

int adapt_batch_size(const struct adapt_time *t, int need, int open, int batches)
{
	double left = t->left_s - t->fixed_s;
	int cap = left > 0 ? (int)(left / (t->trial_s * MARGIN + 1e-3)) : 0;

	if (need <= cap)
		return need;
	/* half of the rest, while that is worth a batch's cost, so the rest follows signal */
	if (batches <= HALVINGS && cap / 2 >= open && left > 6 * t->fixed_s)
		return cap / 2;
	return cap;
}

int adapt_calibrate(const struct adapt_cell *c, int n, int trials, int *add)
{
	int total = 0;

	for (int i = 0; i < n; i++) {
		add[i] = c[i].seeded ? 2 * CALIBRATE : CALIBRATE;
		add[i] = trials < add[i] ? trials : add[i];
		total += add[i];
	}
	return total;
}

/* The next batch's share into ad->add: its trials, 0 when there is nothing to run. */
static int batch_plan(struct adapt *ad)
{
	int n = ad->rs->nr_pairs, cap, open = 0, need = 0;
	double end = replay_run_deadline(ad->o);
	struct adapt_time t = { end - vm_now(), ad->trial_s, ad->fixed_s };

	if (!ad->batches)
		return adapt_calibrate(ad->c, n, ad->o->trials, ad->add);
	cells_update(ad);
	for (int i = 0; i < n; i++) {
		open += ad->c[i].open;
		need += ad->c[i].open ? ad->o->trials - ad->c[i].ran : 0;
	}
	cap = end ? adapt_batch_size(&t, need, open, ad->batches) : need;	/* 0: no budget */
	ad->sized |= cap < need;
	return adapt_share(ad->c, n, cap, ad->o->trials, ad->add);
}

/*
 * The order of a batch's trials, cell i's add[i] of them: into cell_of[]
 * and trial_of[] (0 to add[i] - 1), the count.  Every trial of the cells
 * with signal or of a seeded race first, so a race shows in the first
 * minutes rather than after a round of every cell; then the others.  Each
 * group runs in rounds by the trials its cells ran so far (a cell at
 * ran + t takes its turn in round ran + t), so that when the budget cuts a
 * batch short, the shares of equals stay within one trial of each other,
 * batch after batch.
 */
int adapt_order(const struct adapt_cell *c, int n, const int *add, int *cell_of, int *trial_of)
{
	int k = 0, lo = 1 << 30, hi = 0;

	for (int i = 0; i < n; i++) {
		lo = c[i].ran < lo ? c[i].ran : lo;
		hi = c[i].ran + add[i] > hi ? c[i].ran + add[i] : hi;
	}
	for (int heavy = 1; heavy >= 0; heavy--) {
		for (int level = lo; level < hi; level++) {
			for (int i = 0; i < n; i++) {
				int t = level - c[i].ran;

				if (t < 0 || t >= add[i] || (weight(&c[i]) > 1) != heavy)
					continue;
				cell_of[k] = i;
				trial_of[k++] = t;
			}
		}
	}
	return k;
}

/* The planned trials of each cell into b, in adapt_order()'s order. */
static void batch_runs(struct adapt *ad, struct rrun_set *b)
{
	const struct rrun_set *rs = ad->rs;

	b->nr_runs = adapt_order(ad->c, rs->nr_pairs, ad->add, ad->cell_of, ad->trial_of);
	for (int k = 0; k < b->nr_runs; k++) {
		int i = ad->cell_of[k];

		b->runs[k] = rs->runs[(ad->out->cell_ran[i] + ad->trial_of[k]) * rs->nr_pairs + i];
	}
}

/* One trial and a batch's fixed cost, from the ends of its runs. */
static void measure(struct adapt *ad, const struct replay_outcome *b, double t0, double t1)
{
	double lo = 1e30, hi = -1;
	int n = b->nr_ran;

	for (int j = 0; j < n; j++) {
		double a = b->res[j].after_s;

		if (a >= 0) {
			lo = a < lo ? a : lo;
			hi = a > hi ? a : hi;
		}
	}
	ad->trial_s = n >= 2 && hi > lo ? (hi - lo) / (n - 1) : (t1 - t0) / (n ? n : 1);
	ad->fixed_s = t1 - t0 - n * ad->trial_s;
	ad->fixed_s = ad->fixed_s > 0 ? ad->fixed_s : 0;
}

/* -1 (not known) if either is, else their sum */
static int add_known(int a, int b)
{
	return a < 0 || b < 0 ? -1 : a + b;
}

/*
 * A batch's guest into the explore's: the first one's kernel and coverage,
 * the times and leftovers of all (a perturber one batch's guest left is
 * still one), the first failure's status.
 */
static void guest_fold(struct replay_outcome *out, const struct replay_outcome *b)
{
	struct replay_guest *acc = &out->guest;
	const struct replay_guest *g = &b->guest;

	if (!b->guest_ok)
		return;
	if (!out->guest_ok) {
		*acc = *g;
		acc->cmd_end_s -= acc->cmd_start_s;	/* a length, as merge reads it */
		acc->cmd_start_s = 0;
		acc->boots = 1;
		out->guest_ok = 1;
		return;
	}
	acc->init_s += g->init_s;
	acc->cmd_end_s += g->cmd_end_s - g->cmd_start_s;
	acc->wall_s += g->wall_s;
	acc->leftover_perturbers = add_known(acc->leftover_perturbers, g->leftover_perturbers);
	acc->leftover_cgroups = add_known(acc->leftover_cgroups, g->leftover_cgroups);
	if (!acc->status)
		acc->status = g->status;
	acc->boots++;
}

/* Batch b's runs into the explore's outcome, at their cells' next trials. */
static void fold(struct adapt *ad, struct replay_outcome *b)
{
	struct replay_outcome *out = ad->out;
	int np = ad->rs->nr_pairs;

	for (int j = 0; j < b->nr_ran; j++) {
		int i = ad->cell_of[j], r = out->cell_ran[i]++ * np + i;

		out->res[r] = b->res[j];
		out->rc[r] = b->rc[j];
	}
	out->nr_ran += b->nr_ran;
	if (!ad->batches)	/* each batch detects every kind of the explore's cells */
		out->caps = b->caps;
	if (!ad->batches || (out->deterministic && !b->deterministic)) {	/* the first why not */
		memcpy(out->determinism, b->determinism, sizeof(out->determinism));
		out->deterministic = b->deterministic;
	}
	out->unchecked |= b->unchecked;
	out->interrupted |= b->interrupted;
	guest_fold(out, b);
	memcpy(out->console, b->console, sizeof(out->console));
	if (out->last)
		checker_free(out->last);
	out->last = b->last;
	b->last = NULL;
}

/* A cell that could have run more and ran fewer than --min-trials (or --trials). */
static int short_cells(const struct adapt *ad)
{
	int min = ad->o->min_trials && ad->o->min_trials < ad->o->trials ? ad->o->min_trials :
		  ad->o->trials;

	for (int i = 0; i < ad->rs->nr_pairs; i++)
		if (ad->c[i].open && ad->c[i].ran < min)
			return 1;
	return 0;
}

/* Batch number ad->batches + 1: its session, its results folded in; 0, or -1 to stop. */
static int batch_one(struct adapt *ad, const struct rplan *p, struct rrun_set *b)
{
	struct replay_opts bo = *ad->o;
	struct replay_outcome bout;
	char out[4200];
	double t0 = vm_now();
	int ret;

	if (ad->batches) {	/* the first batch's replay trace is -o, the next ones -o.N */
		snprintf(out, sizeof(out), "%s.%d", ad->o->out, ad->batches + 1);
		bo.out = out;
	}
	bo.batch.cells = ad->rs->nr_pairs;
	bo.batch.runs_done = ad->out->nr_ran;
	bo.batch.findings = ad->reported ? 0 : -1;
	for (int i = 0; i < ad->rs->nr_pairs; i++) {
		bo.batch.cells_done += ad->batches && !ad->c[i].open;
		bo.batch.findings += ad->reported ? ad->c[i].k : 0;
	}
	batch_runs(ad, b);
	replay_session(&bo, p, b, &bout);
	ret = bout.report ? 0 : -1;
	if (!ret) {
		measure(ad, &bout, t0, vm_now());
		fold(ad, &bout);
		ret = bout.incomplete ? -1 : 0;
		ad->reported++;
	}
	/* a guest killed by a second signal, or while it booted: the earlier batches stand */
	ad->failed |= bout.report ? bout.status == 2 : !(ad->o->stop && *ad->o->stop);
	ad->batches++;
	replay_outcome_free(&bout);
	return ret;
}

static int explore_batches(struct adapt *ad, const struct rplan *p)
{
	static struct rrun_set b;	/* a batch: rs's cells, some of their trials */
	int stop = 0;

	b = *ad->rs;
	b.runs = calloc(ad->rs->nr_runs + 1, sizeof(*b.runs));
	if (!b.runs)
		return -1;
	while (!stop && !(ad->o->stop && *ad->o->stop) && batch_plan(ad) > 0)
		stop = batch_one(ad, p, &b);
	cells_update(ad);
	free(b.runs);
	return 0;
}

/*
 * A cell of the races the seeds name: reclaim's rmap walk
 * (folio_referenced_one, try_to_unmap_one) against munlock or munmap, and
 * against the mlock before them (the walk must find VM_LOCKED set, then
 * lose the race to the munlock: Butt's race, a check outside the PTE
 * lock), mlock against migration, a fault against mprotect or munmap
 * (per-VMA locks).
 */
int adapt_seeded(const struct rplan *p, const struct rpair *c)
{
	const struct rop *a = &p->ops[c->a], *b = c->perturb ? NULL : &p->ops[c->b];

	if (c->perturb == PERTURB_RECLAIM)
		return a->nr == NR_MUNLOCK || a->nr == NR_MUNMAP || a->nr == NR_MUNLOCKALL ||
		       a->nr == NR_MLOCK || a->nr == NR_MLOCK2 || a->nr == NR_MLOCKALL;
	if (c->perturb == PERTURB_MIGRATE)
		return a->nr == NR_MLOCK || a->nr == NR_MLOCK2 || a->nr == NR_MLOCKALL;
	if (c->perturb || (a->type == ROP_TOUCH) == (b->type == ROP_TOUCH))
		return 0;
	if (a->type == ROP_TOUCH)
		a = b;
	return a->type == ROP_SYSCALL && (a->nr == NR_MPROTECT || a->nr == NR_MUNMAP);
}

/* The explore's outcome before its first batch: every cell's trials, none ran. */
static int outcome_init(const struct rrun_set *rs, struct replay_outcome *out)
{
	memset(out, 0, sizeof(*out));
	out->status = 2;
	out->nr_runs = rs->nr_runs;
	out->res = calloc(rs->nr_runs + 1, sizeof(*out->res));
	out->rc = calloc(rs->nr_runs + 1, sizeof(*out->rc));
	out->cell_ran = calloc(rs->nr_pairs + 1, sizeof(*out->cell_ran));
	return out->res && out->rc && out->cell_ran ? 0 : -1;
}

static void determinism_note(const struct adapt *ad, struct replay_outcome *out)
{
	size_t len = strlen(out->determinism);

	if (!ad->sized || !out->deterministic)
		return;
	out->deterministic = 0;
	snprintf(out->determinism + len, sizeof(out->determinism) - len, "; but the budget sized "
		 "the batches, so how many trials each cell ran depends on the host's speed");
}

int replay_explore(const struct replay_opts *o, const struct rplan *p, const struct rrun_set *rs,
		   struct replay_outcome *out)
{
	struct adapt ad = { o, rs, out };

	if (!o->explore || o->pair_a >= 0 || !rs->nr_runs)
		return replay_session(o, p, rs, out);
	ad.c = calloc(rs->nr_pairs + 1, sizeof(*ad.c));
	for (int i = 0; ad.c && i < rs->nr_pairs; i++)
		ad.c[i].seeded = adapt_seeded(p, &rs->pairs[i]);
	ad.add = calloc(rs->nr_pairs + 1, sizeof(*ad.add));
	ad.cell_of = calloc(rs->nr_runs + 1, sizeof(*ad.cell_of));
	ad.trial_of = calloc(rs->nr_runs + 1, sizeof(*ad.trial_of));
	if (outcome_init(rs, out) || !ad.c || !ad.add || !ad.cell_of || !ad.trial_of ||
	    explore_batches(&ad, p)) {
		replay_say(o, SAY_ERROR, "replay: out of memory");
		goto out;
	}
	out->report = ad.reported > 0;
	out->interrupted |= o->stop && *o->stop;
	out->incomplete = out->interrupted || short_cells(&ad);
	determinism_note(&ad, out);
	out->status = ad.failed || !out->report ? 2 : replay_outcome_status(o, out);
out:
	free(ad.c);
	free(ad.add);
	free(ad.cell_of);
	free(ad.trial_of);
	return out->status;
}
