// SPDX-License-Identifier: GPL-2.0
/*
 * The report of `mmreplay replay`, from the session's outcome
 * (replay/session.h): a plain replay against the recording and the check
 * of its trace, or explore's cells; with --kernel, the guest's summary.
 * Each part printed as text or through the JSON writer.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "check/check.h"
#include "cmds.h"
#include "replay_cli.h"
#include "replay_fidelity.h"
#include "replay_shard.h"
#include "util.h"
#include "vm/vm.h"

/* ---- the guest ----------------------------------------------------------- */

/* The guest's facts as one JSON object, on one line; caller frees. */
static char *guest_json(const struct replay_opts *o, const struct replay_outcome *out)
{
	const struct replay_guest *g = &out->guest;
	const char *keys[] = { "kernel_image", "kernel", "accel", "nodes", "swap",
			       "kinds_unavailable", "console" };
	const char *vals[] = { o->kernel, g->kernel, g->accel, g->nodes, g->swap, g->missing,
			       out->console };
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	json_writer_t *w = f ? jsonw_new(f) : NULL;

	if (!w) {
		if (f)
			fclose(f);
		free(buf);
		return NULL;
	}
	jsonw_start_object(w);
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		jsonw_string_field(w, keys[i], vals[i]);
	jsonw_bool_field(w, "icount", g->icount);
	jsonw_int_field(w, "cpus", g->cpus);
	jsonw_name(w, "boot_s");
	jsonw_printf(w, "%.2f", g->init_s);
	jsonw_name(w, "replay_s");
	jsonw_printf(w, "%.2f", g->cmd_end_s - g->cmd_start_s);
	jsonw_name(w, "qemu_wall_s");
	jsonw_printf(w, "%.2f", g->wall_s);
	jsonw_int_field(w, "kinds_ok", g->kinds_ok);
	jsonw_int_field(w, "kinds", g->kinds);
	jsonw_int_field(w, "leftover_perturbers", g->leftover_perturbers);
	jsonw_int_field(w, "leftover_cgroups", g->leftover_cgroups);
	jsonw_int_field(w, "boots", g->boots > 1 ? g->boots : 1);
	jsonw_end_object(w);
	jsonw_destroy(&w);
	fclose(f);
	if (len && buf[len - 1] == '\n')	/* the writer ends a document with one */
		buf[len - 1] = 0;
	return buf;
}

/* The guest's summary, before a plain report. */
static void print_guest_plain(const struct replay_opts *o, const struct replay_outcome *out)
{
	const struct replay_guest *g = &out->guest;

	/* under -icount, the guest's times repeat and QEMU's wall time does not (-v says it) */
	printf("guest: kernel %s (%s) under %s%s, %d CPUs, NUMA nodes %s, swap %s; boot %.1f s, "
	       "replay %.1f s", g->kernel, o->kernel, g->accel, g->icount ? " -icount" : "",
	       g->cpus, g->nodes, g->swap, g->init_s, g->cmd_end_s - g->cmd_start_s);
	if (!g->icount)
		printf(", qemu %.1f s", g->wall_s);
	if (g->boots > 1)
		printf(" (%d guests, one per batch: the times are their sums)", g->boots);
	printf("; console in %s\n", out->console);
	printf("guest probe coverage: %d of %d kinds%s%s\n", g->kinds_ok, g->kinds,
	       g->missing[0] ? "; not available there: " : "", g->missing);
}

/* Merged parts: their guests (replay_report_guests()) */
static const struct shard_part *guest_parts;
static int nr_guest_parts;

void replay_report_guests(const struct shard_part *sp, int n)
{
	guest_parts = sp, nr_guest_parts = n;
}

/* Part i's guest as a session's outcome has it, for the printers above */
static int part_guest(int i, struct replay_outcome *g)
{
	if (!guest_parts[i].guest_ok)
		return 0;
	memset(g, 0, sizeof(*g));
	g->guest = guest_parts[i].guest;
	snprintf(g->console, sizeof(g->console), "%s", guest_parts[i].console);
	return 1;
}

static void print_guests_plain(const struct replay_opts *o)
{
	static struct replay_outcome g;

	for (int i = 0; i < nr_guest_parts; i++)
		if (part_guest(i, &g)) {
			printf("shard %d/%d: ", guest_parts[i].shard, guest_parts[i].shards);
			print_guest_plain(o, &g);
		}
}

static void print_guests_json(const struct replay_opts *o, json_writer_t *w)
{
	static struct replay_outcome g;
	int any = 0;
	char *js;

	for (int i = 0; i < nr_guest_parts; i++)
		any |= guest_parts[i].guest_ok;
	if (!any)	/* not under --kernel */
		return;
	jsonw_name(w, "guests");
	jsonw_start_array(w);
	for (int i = 0; i < nr_guest_parts; i++)
		if (part_guest(i, &g) && (js = guest_json(o, &g))) {
			jsonw_printf(w, "%s", js);
			free(js);
		}
	jsonw_end_array(w);
	jsonw_break(w, 1);
}

/* ---- a plain replay ------------------------------------------------------ */

static __u64 recorded_ns(const struct rplan *p)
{
	__u64 end = 0;

	for (size_t i = 0; i < p->nr_ops; i++)
		if (p->ops[i].ts + p->ops[i].dur > end)
			end = p->ops[i].ts + p->ops[i].dur;
	return p->nr_ops ? end - p->ops[0].ts : 0;
}

static void print_plain_run(const struct replay_opts *o, const struct rplan *p,
			    const struct run_result *r, const struct replay_fidelity *fd)
{
	const struct rstats *s = &r->st;

	printf("replay of %s: %d tasks, %zu operations, order %s\n", o->trace, p->nr_tasks,
	       p->nr_ops, o->order == ORDER_FREE ? "free" : "recorded");
	if (r->err[0])
		printf("  error: %s\n", r->err);
	printf("  operations: %llu replayed, %llu skipped (range or fd never mapped here)\n",
	       (unsigned long long)(s->ops - s->skipped), (unsigned long long)s->skipped);
	/* reaching every op's mark is not replaying faithfully: the fidelity verdict says that */
	printf("  tasks: %d of %d reached every operation's mark\n", fd->tasks_complete,
	       p->nr_tasks);
	printf("  syscalls: %llu, %llu issued as recorded, %llu brk as anonymous mappings; %llu "
	       "results differ from the recording (%llu of them raced another task's call when "
	       "recorded)\n", (unsigned long long)fd->syscalls,
	       (unsigned long long)fd->syscalls_seen, (unsigned long long)fd->brks,
	       (unsigned long long)s->diverged, (unsigned long long)s->diverged_raced);
	for (int i = 0; i < 3 && s->first_divergence[i][0]; i++)
		printf("    %s\n", s->first_divergence[i]);
	printf("  touches: %llu, %llu faulted on the same (relocated) page, %llu outside replayed "
	       "mappings, %llu hit SIGSEGV/SIGBUS\n", (unsigned long long)s->touches,
	       (unsigned long long)fd->touches_faulted, (unsigned long long)s->touch_outside,
	       (unsigned long long)s->touch_fault);
	printf("  swap-outs: %llu pages recorded, %llu in the replay (%llu paged out as recorded "
	       "reclaim%s%s)\n", (unsigned long long)p->swapouts, (unsigned long long)fd->swapouts,
	       (unsigned long long)s->pageouts, p->swapouts_unplaced ?
	       "; reclaim not placed: try_to_unmap_one was not recorded" : "",
	       fd->reclaim_passes ? "; and by check's reclaim passes after snapshots" : "");
	if (p->unreplayable)
		printf("  not replayable: %llu process_madvise calls (their iovec is not recorded)\n",
		       (unsigned long long)p->unreplayable);
	printf("  time: %.3f s (recorded %.3f s)\n", s->elapsed_ns / 1e9, recorded_ns(p) / 1e9);
	printf("check of the replay (%s):\n", o->out);
}

/* The replay's own part of the JSON report: "guest" and "replay", in the open object. */
static void print_json_run(const struct replay_opts *o, const struct rplan *p,
			   const struct run_result *r, const struct replay_fidelity *fd,
			   const char *guest, json_writer_t *w)
{
	const struct rstats *s = &r->st;

	if (guest) {
		jsonw_name(w, "guest");
		jsonw_printf(w, "%s", guest);	/* made by the writer, one line */
	}
	jsonw_name(w, "replay");
	jsonw_start_object(w);
	jsonw_string_field(w, "trace", o->trace);
	jsonw_string_field(w, "output", o->out);
	jsonw_string_field(w, "order", o->order == ORDER_FREE ? "free" : "recorded");
	jsonw_int_field(w, "tasks", p->nr_tasks);
	jsonw_int_field(w, "tasks_complete", fd->tasks_complete);
	jsonw_uint_field(w, "ops", p->nr_ops);
	jsonw_u64_field(w, "replayed", s->ops - s->skipped);
	jsonw_u64_field(w, "skipped", s->skipped);
	jsonw_u64_field(w, "diverged", s->diverged);
	jsonw_u64_field(w, "diverged_raced", s->diverged_raced);
	jsonw_u64_field(w, "syscalls", fd->syscalls);
	jsonw_u64_field(w, "syscalls_seen", fd->syscalls_seen);
	jsonw_u64_field(w, "brks", fd->brks);
	jsonw_u64_field(w, "touches", s->touches);
	jsonw_u64_field(w, "touches_faulted", fd->touches_faulted);
	jsonw_u64_field(w, "touch_outside", s->touch_outside);
	jsonw_u64_field(w, "touch_fault", s->touch_fault);
	jsonw_u64_field(w, "swapouts_recorded", p->swapouts);
	jsonw_u64_field(w, "swapouts_replay", fd->swapouts);
	jsonw_u64_field(w, "reclaim_passes", fd->reclaim_passes);
	jsonw_u64_field(w, "pageouts", s->pageouts);
	jsonw_u64_field(w, "migrations", s->migrations);
	jsonw_u64_field(w, "elapsed_ns", s->elapsed_ns);
	jsonw_u64_field(w, "recorded_ns", recorded_ns(p));
	if (r->err[0])
		jsonw_string_field(w, "error", r->err);
	else
		jsonw_null_field(w, "error");
	jsonw_name(w, "divergences");
	jsonw_start_array(w);
	for (int i = 0; i < 3 && s->first_divergence[i][0]; i++)
		jsonw_string(w, s->first_divergence[i]);
	jsonw_end_array(w);
	jsonw_end_object(w);
}

static void json_verdicts(json_writer_t *w, const __u64 *per)
{
	jsonw_name(w, "verdicts");
	jsonw_start_object(w);
	for (int v = 0; v < V_NR; v++)
		if (per[v])
			jsonw_u64_field(w, verdict_name(v), per[v]);
	jsonw_end_object(w);
}

/* What ended an incomplete explore early */
static const char *stopped_by(const struct replay_outcome *out)
{
	return out->interrupted ? "it was interrupted" : "the budget ended";
}

/* A cell the budget ended once it had run --min-trials, short of --trials */
static int budget_share(const struct replay_opts *o, const struct cell_tally *n)
{
	return !n->stopped && n->n < o->trials && o->min_trials && n->n >= o->min_trials;
}

/*
 * "done", "stopped" (its --stop-after'th reproduction), "budget" (its
 * --min-trials, not --trials, when the budget ended), "unfinished", "not
 * run", or "unavailable" (a perturbation this kernel cannot do: said apart)
 */
static const char *cell_state(const struct replay_opts *o, const struct replay_outcome *out,
			      const struct rpair *pr, const struct cell_tally *n)
{
	if (pr->perturb && !(out->caps.ok & 1u << pr->perturb))
		return "unavailable";
	if (n->stopped)
		return "stopped";
	if (budget_share(o, n))
		return "budget";
	return !n->n ? "not run" : n->n < o->trials ? "unfinished" : "done";
}

/* ", 3 of 40 trials with findings (95 % interval 2.6-20.4 %)" and the cell's state */
static void print_rate_plain(const struct replay_opts *o, const struct replay_outcome *out,
			     const struct cell_tally *n)
{
	printf("%d of %d trials with findings", n->k, n->n);
	if (n->k)
		printf(" (95 %% interval %.1f-%.1f %%)", n->lo * 100, n->hi * 100);
	if (n->stopped)
		printf(", counted up to its %d%s reproduction", n->k, n->k == 1 ? "st" :
		       n->k == 2 ? "nd" : n->k == 3 ? "rd" : "th");
	else if (budget_share(o, n))
		printf(", %d of up to %d trials: its share of the budget", n->n, o->trials);
	else if (n->n < o->trials)
		printf(", %d of %d trials ran before %s", n->n, o->trials, stopped_by(out));
}

/* The counts in the order they always had, then the cell's state and its interval */
static void json_rate(const struct replay_opts *o, const struct replay_outcome *out,
		      const struct rpair *pr, const struct cell_tally *n, json_writer_t *w)
{
	jsonw_int_field(w, "trials", n->n);
	if (pr->perturb) {
		jsonw_int_field(w, "perturbed", n->perturbed);
		jsonw_int_field(w, "near_misses", n->near);
	}
	jsonw_int_field(w, "with_findings", n->k);
	jsonw_int_field(w, "errors", n->errors);
	jsonw_string_field(w, "state", cell_state(o, out, pr, n));
	jsonw_int_field(w, "trials_planned", o->trials);
	jsonw_name(w, "rate_95");
	jsonw_start_array(w);
	jsonw_float(w, n->lo);
	jsonw_float(w, n->hi);
	jsonw_end_array(w);
}

/*
 * "first_after_s": when run @repro, a cell's first reproduction, ended,
 * in seconds from the command's start (in a guest: when its console said
 * so, every 5 s of its clock); null if none or not known.
 */
static void json_after(json_writer_t *w, const struct replay_outcome *out, int repro)
{
	if (repro >= 0 && out->res[repro].after_s >= 0)
		jsonw_float_field(w, "first_after_s", out->res[repro].after_s);
	else
		jsonw_null_field(w, "first_after_s");
}

/* The trial of run @r */
static int repro_trial(const struct rrun_set *rs, int r)
{
	int trial;

	rrun_cell(rs, r, &trial);
	return trial;
}

/* ", 12 s into the explore" for a plain line, or "" */
static const char *after_plain(const struct replay_outcome *out, int repro, char *buf, size_t len)
{
	buf[0] = 0;
	if (repro >= 0 && out->res[repro].after_s >= 0)
		snprintf(buf, len, ", %.0f s into the explore", out->res[repro].after_s);
	return buf;
}

static void print_pair_json(const struct replay_opts *o, const struct rplan *p,
			    const struct rrun_set *rs, const struct replay_outcome *out, int i,
			    json_writer_t *w)
{
	const struct rpair *pr = &rs->pairs[i];
	const struct rop *a = &p->ops[pr->a], *b = &p->ops[pr->b];
	struct cell_tally n = cell_tally(o, rs, out, i);

	jsonw_start_object(w);
	jsonw_int_field(w, "pair", rs->cell_id[i] + 1);
	jsonw_uint_field(w, "a", pr->a);
	jsonw_uint_field(w, "b", pr->b);
	jsonw_string_field(w, "op_a", rop_name(a));
	jsonw_string_field(w, "op_b", rop_name(b));
	jsonw_uint_field(w, "task_a", a->task);
	jsonw_uint_field(w, "task_b", b->task);
	json_rate(o, out, pr, &n, w);
	json_verdicts(w, n.per);
	if (n.repro >= 0)
		jsonw_u64_field(w, "seed", out->res[n.repro].run.seed);
	else
		jsonw_null_field(w, "seed");
	json_after(w, out, n.repro);
	jsonw_end_object(w);
}

static void print_pair_plain(const struct replay_opts *o, const struct rplan *p,
			     const struct rrun_set *rs, const struct replay_outcome *out, int i)
{
	const struct rpair *pr = &rs->pairs[i];
	const struct rop *a = &p->ops[pr->a], *b = &p->ops[pr->b];
	struct cell_tally n = cell_tally(o, rs, out, i);
	char after[64];

	if (!n.n)
		return;		/* named among the cells that did not run */
	printf("  pair %d: op %u %s (task %u) x op %u %s (task %u): ", rs->cell_id[i] + 1, pr->a,
	       rop_name(a), a->task, pr->b, rop_name(b), b->task);
	print_rate_plain(o, out, &n);
	for (int v = 0; v < V_NR; v++)
		if (n.per[v])
			printf(", %s in %llu", verdict_name(v), (unsigned long long)n.per[v]);
	if (n.errors)
		printf(", %d trials failed (%s)", n.errors, out->res[i].err[0] ?
		       out->res[i].err : "see the replay trace");
	printf("\n");
	if (n.repro >= 0)
		printf("    first at trial %d%s\n    reproduce: mmreplay replay %s%s%s --pair %u,%u "
		       "--seed %llu\n", repro_trial(rs, n.repro),
		       after_plain(out, n.repro, after, sizeof(after)), o->trace,
		       o->kernel ? " --kernel " : "", o->kernel ?: "", pr->a, pr->b,
		       (unsigned long long)out->res[n.repro].run.seed);
}

/* "during, 12.3 us into the munlock (it took 40.1 us)" */
static void timing(const struct rstats *s, const char *op, char *buf, size_t len)
{
	double at = s->perturb_at_ns / 1e3, op_us = s->op_ns / 1e3;

	if (s->perturb_at_ns < 0)
		snprintf(buf, len, "before: started %.1f us before the %s", -at, op);
	else if (s->perturb_at_ns <= (__s64)s->op_ns)
		snprintf(buf, len, "during: started %.1f us into the %s (it took %.1f us)", at, op,
			 op_us);
	else
		snprintf(buf, len, "after: started %.1f us after the %s began (it took %.1f us)", at,
			 op, op_us);
}

/* op a x a perturbation kind: trials with findings, and the first one's timing and seed */
static void print_perturb_json(const struct replay_opts *o, const struct rplan *p,
			       const struct rrun_set *rs, const struct replay_outcome *out, int i,
			       json_writer_t *w)
{
	/* numbered among every shard's perturbation cells, which follow the racing pairs */
	int nth = rs->cell_id[i] - rs->nr_racing;
	const struct rpair *pr = &rs->pairs[i];
	const struct rop *a = &p->ops[pr->a];
	struct cell_tally n = cell_tally(o, rs, out, i);
	char when[160] = "";
	int trial;

	jsonw_start_object(w);
	jsonw_int_field(w, "cell", nth + 1);
	jsonw_uint_field(w, "op", pr->a);
	jsonw_string_field(w, "op_name", rop_name(a));
	jsonw_uint_field(w, "task", a->task);
	jsonw_string_field(w, "perturb", perturb_name(pr->perturb));
	json_rate(o, out, pr, &n, w);
	json_verdicts(w, n.per);
	if (n.repro >= 0) {
		timing(&out->res[n.repro].st, rop_name(a), when, sizeof(when));
		rrun_cell(rs, n.repro, &trial);
		jsonw_name(w, "first");
		jsonw_start_object(w);
		jsonw_int_field(w, "trial", trial);
		jsonw_u64_field(w, "seed", out->res[n.repro].run.seed);
		jsonw_string_field(w, "timing", when);
		jsonw_string_field(w, "finding", out->rc[n.repro].first);
		json_after(w, out, n.repro);
		jsonw_end_object(w);
	} else {
		jsonw_null_field(w, "first");
	}
	jsonw_end_object(w);
}

static void print_perturb_plain(const struct replay_opts *o, const struct rplan *p,
				const struct rrun_set *rs, const struct replay_outcome *out, int i)
{
	const struct rpair *pr = &rs->pairs[i];
	const struct rop *a = &p->ops[pr->a];
	const char *kind = perturb_name(pr->perturb);
	struct cell_tally n = cell_tally(o, rs, out, i);
	char when[160] = "", after[64];
	int trial;

	if (!n.perturbed && !n.errors)
		return;		/* not run, or not available here: said below */
	printf("  op %u %s (task %u) x %s: ", pr->a, rop_name(a), a->task, kind);
	print_rate_plain(o, out, &n);
	for (int v = 0; v < V_NR; v++)
		if (n.per[v])
			printf(", %s in %llu", verdict_name(v), (unsigned long long)n.per[v]);
	if (n.near)
		printf(", %s overlapped the op in %d", kind, n.near);
	if (n.errors)
		printf(", %d trials failed (%s)", n.errors, out->res[i].err);
	printf("\n");
	if (n.repro < 0)
		return;
	timing(&out->res[n.repro].st, rop_name(a), when, sizeof(when));
	rrun_cell(rs, n.repro, &trial);
	printf("    first at trial %d%s, %s %s\n      %s\n    reproduce: mmreplay replay %s%s%s "
	       "--pair %u,%s --seed %llu\n", trial, after_plain(out, n.repro, after, sizeof(after)),
	       kind, when, out->rc[n.repro].first, o->trace,
	       o->kernel ? " --kernel " : "", o->kernel ?: "", pr->a, kind,
	       (unsigned long long)out->res[n.repro].run.seed);
}

/* "pair 3" or "op 12 munlock x reclaim" */
static void cell_name(const struct rplan *p, const struct rrun_set *rs, int i, char *buf,
		      size_t len)
{
	const struct rpair *pr = &rs->pairs[i];

	if (pr->perturb)
		snprintf(buf, len, "op %u %s x %s", pr->a, rop_name(&p->ops[pr->a]),
			 perturb_name(pr->perturb));
	else
		snprintf(buf, len, "pair %d", rs->cell_id[i] + 1);
}

/* The budget ended: the cells in @state ("not run", "unfinished"), in a line. */
static void print_cells_in_plain(const struct replay_opts *o, const struct rplan *p,
				 const struct rrun_set *rs, const struct replay_outcome *out,
				 const char *state, const char *title)
{
	char name[160];
	int n = 0;

	for (int i = 0; i < rs->nr_pairs; i++) {
		struct cell_tally t = cell_tally(o, rs, out, i);

		if (strcmp(cell_state(o, out, &rs->pairs[i], &t), state))
			continue;
		cell_name(p, rs, i, name, sizeof(name));
		printf("%s%s", n++ ? ", " : title, name);
	}
	if (n)
		printf("\n");
}

static void print_how_plain(const struct perturb_caps *c)
{
	for (int k = 1; k < PERTURB_NR; k++)
		if (c->ok & 1u << k)
			printf("  %s: %s\n", perturb_name(k), c->how[k]);
}

static void print_how_json(const struct perturb_caps *c, json_writer_t *w)
{
	jsonw_name(w, "perturb_how");
	jsonw_start_object(w);
	for (int k = 1; k < PERTURB_NR; k++)
		if (c->ok & 1u << k)
			jsonw_string_field(w, perturb_name(k), c->how[k]);
	jsonw_end_object(w);
}

static int unavailable(const struct replay_opts *o, const struct perturb_caps *c, int k)
{
	return (o->perturb & 1u << k) && !(c->ok & 1u << k);
}

static void print_unavailable_plain(const struct replay_opts *o, const struct perturb_caps *c)
{
	for (int k = 1; k < PERTURB_NR; k++)
		if (unavailable(o, c, k))
			printf("  %s could not run here: %s\n", perturb_name(k), c->why[k]);
}

static void print_unavailable_json(const struct replay_opts *o, const struct perturb_caps *c,
				   json_writer_t *w)
{
	jsonw_name(w, "perturb_unavailable");
	jsonw_start_array(w);
	for (int k = 1; k < PERTURB_NR; k++) {
		if (!unavailable(o, c, k))
			continue;
		jsonw_start_object(w);
		jsonw_string_field(w, "perturb", perturb_name(k));
		jsonw_string_field(w, "why", c->why[k]);
		jsonw_end_object(w);
	}
	jsonw_end_array(w);
}

/* The fewest trials a cell that could run ran (-1: none could), for what they rule out */
static int fewest_trials(const struct replay_opts *o, const struct rrun_set *rs,
			 const struct replay_outcome *out)
{
	int fewest = -1;

	for (int i = 0; i < rs->nr_pairs; i++) {
		struct cell_tally t = cell_tally(o, rs, out, i);

		if (strcmp(cell_state(o, out, &rs->pairs[i], &t), "unavailable") &&
		    (fewest < 0 || t.n < fewest))
			fewest = t.n;
	}
	return fewest;
}

/*
 * "; with 3 trials, the fewest of a cell, a race that shows in up to 56 % of
 * trials can go unseen (95 %)", or ""
 */
static const char *missed_plain(const struct replay_opts *o, const struct rrun_set *rs,
				const struct replay_outcome *out, char *buf, size_t len)
{
	int n = fewest_trials(o, rs, out);
	double lo, hi;

	buf[0] = 0;
	wilson95(0, n, &lo, &hi);
	if (n > 0)
		snprintf(buf, len, "; with %d trials, the fewest of a cell, a race that shows in up "
			 "to %.0f %% of trials can go unseen (95 %%)", n, hi * 100);
	return buf;
}

static void report_explore_json(const struct replay_opts *o, const struct rplan *p,
				const struct rrun_set *rs, const struct replay_outcome *out,
				const char *guest, json_writer_t *w)
{
	const struct rpair *pairs = rs->pairs;
	int nr_pairs = rs->nr_pairs;

	jsonw_start_object(w);
	if (guest) {
		jsonw_name(w, "guest");
		jsonw_printf(w, "%s", guest);	/* made by the writer, one line */
		jsonw_break(w, 1);
	}
	print_guests_json(o, w);
	jsonw_name(w, "explore");
	jsonw_start_object(w);
	jsonw_string_field(w, "trace", o->trace);
	jsonw_u64_field(w, "seed", o->seed);
	jsonw_int_field(w, "trials", o->trials);
	jsonw_int_field(w, "min_trials", o->min_trials);
	jsonw_int_field(w, "stop_after", o->stop_after);
	jsonw_int_field(w, "budget_s", o->budget_s);
	/* false: the budget ended first, or a signal; each cell's "state" says how far it got */
	jsonw_bool_field(w, "complete", !out->incomplete);
	jsonw_bool_field(w, "interrupted", out->interrupted);
	/* the fewest trials of a cell that could run: a rarer race may have gone unseen */
	jsonw_int_field(w, "fewest_trials", fewest_trials(o, rs, out));
	jsonw_int_field(w, "runs", out->nr_runs);
	jsonw_int_field(w, "runs_ran", out->nr_ran);
	jsonw_bool_field(w, "deterministic", out->deterministic);
	jsonw_string_field(w, "determinism", out->determinism);
	jsonw_name(w, "pairs");
	jsonw_start_array(w);
	jsonw_lines(w, 2, -1);
	for (int i = 0; i < nr_pairs; i++)
		if (!pairs[i].perturb)
			print_pair_json(o, p, rs, out, i, w);
	if (nr_pairs)
		jsonw_break(w, 0);
	jsonw_end_array(w);
	jsonw_name(w, "perturbations");
	jsonw_start_array(w);
	jsonw_lines(w, 2, -1);
	for (int i = 0; i < nr_pairs; i++)
		if (pairs[i].perturb)
			print_perturb_json(o, p, rs, out, i, w);
	jsonw_end_array(w);
	print_unavailable_json(o, &out->caps, w);
	print_how_json(&out->caps, w);
	jsonw_end_object(w);
	if (o->shards)		/* a partial report, for merge */
		replay_shard_write(o, rs, p, out, w);
	jsonw_end_object(w);
}

static void report_explore_plain(const struct replay_opts *o, const struct rplan *p,
				 const struct rrun_set *rs, const struct replay_outcome *out)
{
	const struct rpair *pairs = rs->pairs;
	int cells = 0, nr_pairs = rs->nr_pairs, any = 0;
	int unchecked = out->unchecked;
	char missed[160];

	for (int i = 0; i < nr_pairs; i++)
		cells += pairs[i].perturb != 0;
	for (int r = 0; r < replay_outcome_span(out); r++)
		any |= out->rc[r].findings != 0;
	printf("explore %s: %d racing pairs, %d ops x perturbations, up to %d trials each (%d "
	       "enough if the budget ends first; a cell stops at %d reproductions), seed %llu, "
	       "budget %d s\n  %s\n",
	       o->trace, nr_pairs - cells, cells, o->trials,
	       o->min_trials && o->min_trials < o->trials ? o->min_trials : o->trials,
	       o->stop_after, (unsigned long long)o->seed, o->budget_s, out->determinism);
	if (cells)
		print_how_plain(&out->caps);
	for (int i = 0; i < nr_pairs; i++)
		if (!pairs[i].perturb)
			print_pair_plain(o, p, rs, out, i);
	for (int i = 0; i < nr_pairs; i++)
		if (pairs[i].perturb)
			print_perturb_plain(o, p, rs, out, i);
	print_unavailable_plain(o, &out->caps);
	if (out->incomplete) {
		printf("  %s after %d of %d trials\n", out->interrupted ? "interrupted" :
		       "the budget ended", out->nr_ran, out->nr_runs);
		print_cells_in_plain(o, p, rs, out, "unfinished", "  did not finish: ");
		print_cells_in_plain(o, p, rs, out, "not run", "  did not run: ");
	}
	printf("%s%s\n", any ? "FINDINGS" : out->incomplete ? "INCOMPLETE: no findings in the "
	       "trials that ran" : !nr_pairs ? "no racing pairs to explore" : unchecked ?
	       "no trial had findings, but not clean: some verdicts were not checked in the "
	       "trials (no snapshots, and this kernel lacks their hooks)" :
	       "clean: no trial had findings", any && out->incomplete ? out->interrupted ?
	       " (interrupted before every trial ran)" : " (the budget ended before every trial ran)"
	       : any || out->incomplete ? "" : missed_plain(o, rs, out, missed, sizeof(missed)));
}

/* ---- progress ------------------------------------------------------------ */

/* Seconds between progress lines: 1 on a TTY (one line, rewritten), else 10. */
static double progress_every(int tty)
{
	const char *env = getenv("MMREPLAY_PROGRESS_S");	/* for tests */

	return env ? atof(env) : tty ? 1 : 10;
}

/* A plain replay says nothing unless it runs this long (the same as the rate in tests). */
static double progress_after(void)
{
	const char *env = getenv("MMREPLAY_PROGRESS_S");

	return env ? atof(env) : 2;
}

static const char *phase_text(const struct replay_progress *pr)
{
	static const char *const text[][3] = {	/* phase, plain, explore */
		{ "replay", "replaying", "explore" },
		{ "boot", "booting the guest", "booting the guest" },
		{ "guest", "replaying in the guest", "guest" },
		{ "check", "checking the replay", "check" },
	};

	for (size_t i = 0; i < sizeof(text) / sizeof(text[0]); i++)
		if (!strcmp(pr->phase, text[i][0]))
			return text[i][pr->explore ? 2 : 1];
	return pr->phase;
}

static int line_open;	/* a TTY's progress line waits for its newline */

void replay_progress_break(void)
{
	if (line_open)
		fputc('\n', stderr);
	line_open = 0;
}

/*
 * A plain replay: what it is doing and for how long, once it has taken
 * progress_after() seconds; the check's line always ends with a newline.
 */
static void progress_plain(const struct replay_progress *pr, int tty)
{
	static double start, last;
	double now = vm_now();

	if (!start)
		start = now;
	if (now - start < progress_after() ||
	    (last && now - last < progress_every(tty) && strcmp(pr->phase, "check")))
		return;
	last = now;
	fprintf(stderr, "%sreplay: %s, %.0f s%s", tty ? "\r\033[K" : "", phase_text(pr),
		now - start, tty && strcmp(pr->phase, "check") ? "" : "\n");
	line_open = tty && strcmp(pr->phase, "check");
}

void replay_progress_print(const struct replay_progress *pr)
{
	static double last;
	static int tty = -1;
	double now = vm_now();

	if (tty < 0)
		tty = isatty(2);
	if (!pr->explore) {
		progress_plain(pr, tty);
		return;
	}
	if (last && now - last < progress_every(tty) && strcmp(pr->phase, "check"))
		return;
	last = now;
	fprintf(stderr, "%sreplay: %s", tty ? "\r\033[K" : "", phase_text(pr));
	if (pr->runs_done >= 0)
		fprintf(stderr, ", cells %d of %d done, trials %d of %d run", pr->cells_done,
			pr->cells, pr->runs_done, pr->runs);
	else	/* the guest booting, or its console not saying yet */
		fprintf(stderr, ", %d cells, %d trials", pr->cells, pr->runs);
	if (pr->findings >= 0)
		fprintf(stderr, ", %d trials with findings so far", pr->findings);
	else if (strcmp(pr->phase, "check"))
		fprintf(stderr, ", findings: counted after the first batch");
	if (pr->left_s)
		fprintf(stderr, ", %.0f s left of the budget", pr->left_s > 0 ? pr->left_s : 0);
	line_open = tty && strcmp(pr->phase, "check");
	fprintf(stderr, "%s", line_open ? "" : "\n");
}

/*
 * In a guest, where the host reads it back from the console: "mmreplay: D
 * of N trials run", every 5 s of the guest's clock.
 */
void replay_progress_console(const struct replay_progress *pr)
{
	static double last;
	FILE *f;

	if (last && vm_now() - last < 5)
		return;
	last = vm_now();
	f = fopen("/dev/console", "w");
	if (!f)
		return;
	fprintf(f, "mmreplay: %d of %d trials run\n", pr->runs_done, pr->runs);
	fclose(f);
}

/* ---- the report ---------------------------------------------------------- */

static void report_plain(const struct replay_opts *o, const struct rplan *p,
			 const struct rrun_set *rs, const struct replay_outcome *out,
			 const struct fidelity_report *fr)
{
	if (out->guest_ok) {
		print_guest_plain(o, out);
		fflush(stdout);
	}
	if (o->explore)
		print_guests_plain(o);
	if (!out->report)
		return;
	if (o->explore) {
		report_explore_plain(o, p, rs, out);
		return;
	}
	print_plain_run(o, p, &out->res[0], &out->fid);
	check_print_plain(out->last);
	if (fr)
		replay_fidelity_plain(fr);
}

static void report_json(const struct replay_opts *o, const struct rplan *p,
			const struct rrun_set *rs, const struct replay_outcome *out,
			const struct fidelity_report *fr)
{
	char *guest = out->guest_ok ? guest_json(o, out) : NULL;
	json_writer_t *w;

	if (!out->report)
		goto out;
	w = mmr_json();
	if (o->explore) {
		report_explore_json(o, p, rs, out, guest, w);
		goto out;
	}
	jsonw_start_object(w);
	jsonw_lines(w, 0, 0);
	print_json_run(o, p, &out->res[0], &out->fid, guest, w);
	if (fr)
		replay_fidelity_json(fr, w);
	jsonw_name(w, "check");
	check_print_json(out->last, w);
	jsonw_end_object(w);
out:
	free(guest);
}

void replay_report(const struct replay_opts *o, const struct rplan *p, const struct rrun_set *rs,
		   const struct replay_outcome *out, const struct fidelity_report *fr)
{
	if (o->json)
		report_json(o, p, rs, out, fr);
	else
		report_plain(o, p, rs, out, fr);
	if (out->report && !o->explore && out->res[0].err[0])
		mmr_err("replay: %s", out->res[0].err);
}
