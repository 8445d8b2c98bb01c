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
#include "check/check.h"
#include "cmds.h"
#include "replay_cli.h"
#include "replay_fidelity.h"
#include "util.h"

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
	jsonw_bool_field(w, "icount", out->deterministic);
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
	       "replay %.1f s", g->kernel, o->kernel, g->accel, out->deterministic ? " -icount" : "",
	       g->cpus, g->nodes, g->swap, g->init_s, g->cmd_end_s - g->cmd_start_s);
	if (!out->deterministic)
		printf(", qemu %.1f s", g->wall_s);
	printf("; console in %s\n", out->console);
	printf("guest probe coverage: %d of %d kinds%s%s\n", g->kinds_ok, g->kinds,
	       g->missing[0] ? "; not available there: " : "", g->missing);
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
	       "reclaim%s)\n", (unsigned long long)p->swapouts, (unsigned long long)fd->swapouts,
	       (unsigned long long)s->pageouts, p->swapouts_unplaced ?
	       "; reclaim not placed: try_to_unmap_one was not recorded" : "");
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

/* The trials of one cell: how many had findings, failed, were perturbed; the first finding. */
struct tally {
	int k, errors, perturbed, repro;
	__u64 per[V_NR];	/* trials with each verdict */
};

static struct tally tally(const struct replay_opts *o, const struct run_check *rc,
			  const struct run_result *res, int first_run)
{
	struct tally n = { .repro = -1 };

	for (int r = first_run; r < first_run + o->trials; r++) {
		n.perturbed += res[r].st.perturbed > 0;
		n.errors += res[r].err[0] != 0;
		if (!rc[r].findings)
			continue;
		n.k++;
		if (n.repro < 0)
			n.repro = r;
		for (int v = 0; v < V_NR; v++)
			n.per[v] += rc[r].per_verdict[v] != 0;
	}
	return n;
}

static void print_pair_json(const struct replay_opts *o, const struct rplan *p, int i,
			    const struct rpair *pr, const struct run_check *rc,
			    const struct run_result *res, int first_run, json_writer_t *w)
{
	const struct rop *a = &p->ops[pr->a], *b = &p->ops[pr->b];
	struct tally n = tally(o, rc, res, first_run);

	jsonw_start_object(w);
	jsonw_int_field(w, "pair", i + 1);
	jsonw_uint_field(w, "a", pr->a);
	jsonw_uint_field(w, "b", pr->b);
	jsonw_string_field(w, "op_a", rop_name(a));
	jsonw_string_field(w, "op_b", rop_name(b));
	jsonw_uint_field(w, "task_a", a->task);
	jsonw_uint_field(w, "task_b", b->task);
	jsonw_int_field(w, "trials", o->trials);
	jsonw_int_field(w, "with_findings", n.k);
	jsonw_int_field(w, "errors", n.errors);
	json_verdicts(w, n.per);
	if (n.repro >= 0)
		jsonw_u64_field(w, "seed", res[n.repro].run.seed);
	else
		jsonw_null_field(w, "seed");
	jsonw_end_object(w);
}

static void print_pair_plain(const struct replay_opts *o, const struct rplan *p, int i,
			     const struct rpair *pr, const struct run_check *rc,
			     const struct run_result *res, int first_run)
{
	const struct rop *a = &p->ops[pr->a], *b = &p->ops[pr->b];
	struct tally n = tally(o, rc, res, first_run);
	int k = n.k, errors = n.errors, repro = n.repro;
	const __u64 *per = n.per;

	printf("  pair %d: op %u %s (task %u) x op %u %s (task %u): %d of %d trials with findings",
	       i + 1, pr->a, rop_name(a), a->task, pr->b, rop_name(b), b->task, k, o->trials);
	for (int v = 0; v < V_NR; v++)
		if (per[v])
			printf(", %s in %llu", verdict_name(v), (unsigned long long)per[v]);
	if (errors)
		printf(", %d trials failed (%s)", errors, res[first_run].err[0] ?
		       res[first_run].err : "see the replay trace");
	printf("\n");
	if (repro >= 0)
		printf("    reproduce: mmreplay replay %s%s%s --pair %u,%u --seed %llu\n", o->trace,
		       o->kernel ? " --kernel " : "", o->kernel ?: "", pr->a, pr->b,
		       (unsigned long long)res[repro].run.seed);
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
static void print_perturb_json(const struct replay_opts *o, const struct rplan *p, int i,
			       const struct rpair *pr, const struct run_check *rc,
			       const struct run_result *res, int first_run, json_writer_t *w)
{
	const struct rop *a = &p->ops[pr->a];
	struct tally n = tally(o, rc, res, first_run);
	char when[160] = "";

	jsonw_start_object(w);
	jsonw_int_field(w, "cell", i + 1);
	jsonw_uint_field(w, "op", pr->a);
	jsonw_string_field(w, "op_name", rop_name(a));
	jsonw_uint_field(w, "task", a->task);
	jsonw_string_field(w, "perturb", perturb_name(pr->perturb));
	jsonw_int_field(w, "trials", o->trials);
	jsonw_int_field(w, "perturbed", n.perturbed);
	jsonw_int_field(w, "with_findings", n.k);
	jsonw_int_field(w, "errors", n.errors);
	json_verdicts(w, n.per);
	if (n.repro >= 0) {
		timing(&res[n.repro].st, rop_name(a), when, sizeof(when));
		jsonw_name(w, "first");
		jsonw_start_object(w);
		jsonw_int_field(w, "trial", n.repro - first_run);
		jsonw_u64_field(w, "seed", res[n.repro].run.seed);
		jsonw_string_field(w, "timing", when);
		jsonw_string_field(w, "finding", rc[n.repro].first);
		jsonw_end_object(w);
	} else {
		jsonw_null_field(w, "first");
	}
	jsonw_end_object(w);
}

static void print_perturb_plain(const struct replay_opts *o, const struct rplan *p,
				const struct rpair *pr, const struct run_check *rc,
				const struct run_result *res, int first_run)
{
	const struct rop *a = &p->ops[pr->a];
	const char *kind = perturb_name(pr->perturb);
	struct tally n = tally(o, rc, res, first_run);
	int k = n.k, errors = n.errors, repro = n.repro, ran = n.perturbed;
	const __u64 *per = n.per;
	char when[160] = "";

	if (repro >= 0)
		timing(&res[repro].st, rop_name(a), when, sizeof(when));
	if (!ran && !errors)
		return;		/* not available here: said once, below */
	printf("  op %u %s (task %u) x %s: %d of %d trials with findings", pr->a, rop_name(a),
	       a->task, kind, k, o->trials);
	for (int v = 0; v < V_NR; v++)
		if (per[v])
			printf(", %s in %llu", verdict_name(v), (unsigned long long)per[v]);
	if (errors)
		printf(", %d trials failed (%s)", errors, res[first_run].err);
	printf("\n");
	if (repro >= 0)
		printf("    first at trial %d, %s %s\n      %s\n    reproduce: mmreplay replay %s%s%s "
		       "--pair %u,%s --seed %llu\n", repro - first_run, kind, when, rc[repro].first,
		       o->trace, o->kernel ? " --kernel " : "", o->kernel ?: "", pr->a, kind,
		       (unsigned long long)res[repro].run.seed);
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

static void report_explore_json(const struct replay_opts *o, const struct rplan *p,
				const struct rrun_set *rs, const struct replay_outcome *out,
				const char *guest, json_writer_t *w)
{
	const struct rpair *pairs = rs->pairs;
	const struct run_check *rc = out->rc;
	const struct run_result *res = out->res;
	int nr_pairs = rs->nr_pairs;

	jsonw_start_object(w);
	if (guest) {
		jsonw_name(w, "guest");
		jsonw_printf(w, "%s", guest);	/* made by the writer, one line */
		jsonw_break(w, 1);
	}
	jsonw_name(w, "explore");
	jsonw_start_object(w);
	jsonw_string_field(w, "trace", o->trace);
	jsonw_u64_field(w, "seed", o->seed);
	jsonw_int_field(w, "trials", o->trials);
	jsonw_bool_field(w, "deterministic", out->deterministic);
	jsonw_string_field(w, "determinism", out->determinism);
	jsonw_name(w, "pairs");
	jsonw_start_array(w);
	jsonw_lines(w, 2, -1);
	for (int i = 0; i < nr_pairs; i++)
		if (!pairs[i].perturb)
			print_pair_json(o, p, i, &pairs[i], rc, res, i * o->trials, w);
	if (nr_pairs)
		jsonw_break(w, 0);
	jsonw_end_array(w);
	jsonw_name(w, "perturbations");
	jsonw_start_array(w);
	jsonw_lines(w, 2, -1);
	for (int i = 0, n = 0; i < nr_pairs; i++)
		if (pairs[i].perturb)
			print_perturb_json(o, p, n++, &pairs[i], rc, res, i * o->trials, w);
	jsonw_end_array(w);
	print_unavailable_json(o, &out->caps, w);
	print_how_json(&out->caps, w);
	jsonw_end_object(w);
	jsonw_end_object(w);
}

static void report_explore_plain(const struct replay_opts *o, const struct rplan *p,
				 const struct rrun_set *rs, const struct replay_outcome *out)
{
	const struct rpair *pairs = rs->pairs;
	int cells = 0, nr_pairs = rs->nr_pairs, any = 0;

	for (int i = 0; i < nr_pairs; i++)
		cells += pairs[i].perturb != 0;
	for (int r = 0; r < out->nr_runs; r++)
		any |= out->rc[r].findings != 0;
	printf("explore %s: %d racing pairs, %d ops x perturbations, %d trials each, seed "
	       "%llu\n  %s\n", o->trace, nr_pairs - cells, cells, o->trials,
	       (unsigned long long)o->seed, out->determinism);
	if (cells)
		print_how_plain(&out->caps);
	for (int i = 0; i < nr_pairs; i++)
		if (!pairs[i].perturb)
			print_pair_plain(o, p, i, &pairs[i], out->rc, out->res, i * o->trials);
	for (int i = 0; i < nr_pairs; i++)
		if (pairs[i].perturb)
			print_perturb_plain(o, p, &pairs[i], out->rc, out->res, i * o->trials);
	print_unavailable_plain(o, &out->caps);
	printf("%s\n", any ? "FINDINGS" : nr_pairs ? "clean: no trial had findings" :
	       "clean: no racing pairs to explore");
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
	if (!out->report)
		return;
	if (o->explore) {
		report_explore_plain(o, p, rs, out);
		return;
	}
	print_plain_run(o, p, &out->res[0], &out->fid);
	check_print_plain(out->last, out->trace);
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
