// SPDX-License-Identifier: GPL-2.0
/*
 * The report of `mmreplay replay`: each run of the replay trace is checked
 * on its own (runs are delimited by the replay's run marks), and a plain
 * replay is compared with the recording: the operations each task replayed,
 * the faults on the same (relocated) pages, and the swap-outs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "cmds.h"
#include "replay_cli.h"
#include "util.h"

/* ---- the results file -------------------------------------------------- */

static void clean_text(char *s)
{
	for (; *s; s++)
		if (*s == '\t' || *s == '\n')
			*s = ' ';
}

int results_write(FILE *f, const struct run_result *r)
{
	const struct rstats *s = &r->st;
	char err[256], div[3][160];

	snprintf(err, sizeof(err), "%s", r->err);
	clean_text(err);
	fprintf(f, "%ld\t%ld\t%llu\t%d\t%d\t%lld\t%llu\t%llu\t", r->run.a, r->run.b,
		(unsigned long long)r->run.seed, r->run.perturb, s->perturbed,
		(long long)s->perturb_at_ns, (unsigned long long)s->perturb_ns,
		(unsigned long long)s->op_ns);
	fprintf(f, "%llu\t%llu\t%llu\t%llu\t%llu\t%llu\t%llu\t%llu\t%llu\t%llu\t%d\t%s",
		(unsigned long long)s->ops,
		(unsigned long long)s->skipped, (unsigned long long)s->touches,
		(unsigned long long)s->touch_outside, (unsigned long long)s->touch_fault,
		(unsigned long long)s->diverged, (unsigned long long)s->pageouts,
		(unsigned long long)s->migrations, (unsigned long long)s->elapsed_ns,
		(unsigned long long)s->diverged_raced, s->stuck, err);
	for (int i = 0; i < 3; i++) {
		snprintf(div[i], sizeof(div[i]), "%s", s->first_divergence[i]);
		clean_text(div[i]);
		fprintf(f, "\t%s", div[i]);
	}
	return fprintf(f, "\n") < 0 ? -1 : 0;
}

void results_caps_write(FILE *f, const struct perturb_caps *c)
{
	for (int k = 1; k < PERTURB_NR; k++)
		fprintf(f, "#perturb\t%s\t%d\t%s\n", perturb_name(k), !!(c->ok & 1u << k),
			c->how[k][0] ? c->how[k] : c->why[k]);
}

void results_caps_read(const char *path, struct perturb_caps *c)
{
	char line[512], name[32], text[400];
	FILE *f = fopen(path, "r");
	int ok, k;

	memset(c, 0, sizeof(*c));
	while (f && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "#perturb\t%31[^\t]\t%d\t%399[^\n]", name, &ok, text) < 2)
			continue;
		k = perturb_kind(name);
		if (k < 0)
			continue;
		c->ok |= ok ? 1u << k : 0;
		snprintf(ok ? c->how[k] : c->why[k], sizeof(c->how[k]), "%.150s", text);
	}
	if (f)
		fclose(f);
}

static void field_copy(char **p, char *dst, size_t len)
{
	char *tab = strchr(*p, '\t');
	size_t n = tab ? (size_t)(tab - *p) : strlen(*p);

	snprintf(dst, len, "%.*s", (int)n, *p);
	*p += n + (tab ? 1 : 0);
}

int results_read(const char *path, struct run_result *res, int max)
{
	FILE *f = fopen(path, "r");
	char line[2048];
	int n = 0;

	while (f && n < max && fgets(line, sizeof(line), f)) {
		struct run_result *r = &res[n];
		struct rstats *s = &r->st;
		unsigned long long v[10], seed, pns, ons;
		long long at;
		int used = 0, head = 0;
		char *p;

		if (line[0] == '#')
			continue;
		line[strcspn(line, "\n")] = 0;
		if (sscanf(line, "%ld\t%ld\t%llu\t%d\t%d\t%lld\t%llu\t%llu\t%n", &r->run.a, &r->run.b,
			   &seed, &r->run.perturb, &s->perturbed, &at, &pns, &ons, &head) < 8)
			break;
		if (sscanf(line + head, "%llu\t%llu\t%llu\t%llu\t%llu\t%llu\t%llu\t%llu\t%llu\t%llu\t%d%n",
			   &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7], &v[8], &v[9],
			   &s->stuck, &used) < 11 || line[head + used] != '\t')
			break;
		used += head;
		r->run.seed = seed;
		s->perturb_at_ns = at, s->perturb_ns = pns, s->op_ns = ons;
		s->ops = v[0], s->skipped = v[1], s->touches = v[2], s->touch_outside = v[3];
		s->touch_fault = v[4], s->diverged = v[5], s->pageouts = v[6], s->migrations = v[7];
		s->elapsed_ns = v[8], s->diverged_raced = v[9];
		p = line + used + 1;	/* text fields may be empty: split on single tabs */
		field_copy(&p, r->err, sizeof(r->err));
		for (int i = 0; i < 3; i++)
			field_copy(&p, s->first_divergence[i], sizeof(s->first_divergence[i]));
		n++;
	}
	if (f)
		fclose(f);
	return n;
}

/* ---- fidelity: the replay trace against the plan ---------------------- */

struct fidelity {
	__u64 syscalls, syscalls_seen, brks, touches, touches_faulted, swapouts;
	__u64 *marks;		/* per task */
	struct { int tid; __u32 op, n, cursor; __u64 rep; int open; } pend[256];
	int nr_pend;
	struct swap_count swap;
};

static int pend_of(struct fidelity *fd, int tid)
{
	for (int i = 0; i < fd->nr_pend; i++)
		if (fd->pend[i].tid == tid)
			return i;
	if (fd->nr_pend == 256)
		return -1;
	fd->pend[fd->nr_pend].tid = tid;
	fd->pend[fd->nr_pend].open = 0;
	return fd->nr_pend++;
}

/*
 * A fault after a touch mark: on the page of the next touch of the run
 * (the mark's replay address is the first's; the run shares its offset).
 */
static void fid_touch(struct fidelity *fd, const struct rplan *p, int i, __u64 page)
{
	typeof(fd->pend[0]) *pd = &fd->pend[i];
	__u64 delta = pd->rep - p->ops[pd->op].a[0];

	if (!pd->rep)
		return;
	for (__u32 k = pd->cursor; k < pd->n; k++) {
		if (p->ops[pd->op + k].a[0] + delta == page) {
			fd->touches_faulted++;
			pd->cursor = k + 1;
			pd->open = pd->cursor < pd->n;
			return;
		}
	}
}

static void fid_event(struct fidelity *fd, const struct rplan *p, const struct mmr_event *ev,
		      const struct rfields *f)
{
	const struct mmr_common *c = ev->data;
	int i;

	if (c->type == MMR_K_RSS_STAT) {
		fd->swapouts += swap_rise(&fd->swap, f, ev, p->page_size);
	} else if (c->type == MMR_K_SYS_ENTER) {
		const struct mmr_sys_enter *e = ev->data;

		if ((i = pend_of(fd, c->pid)) < 0)
			return;
		if (mark_of(ev, MMR_MARK_OP) && e->args[1] < p->nr_ops) {
			const struct rop *o = &p->ops[e->args[1]];
			__u32 n = e->args[4] > 1 && e->args[1] + e->args[4] <= p->nr_ops ? e->args[4] : 1;

			fd->pend[i] = (typeof(fd->pend[0])){ c->pid, e->args[1], n, 0, e->args[3], 1 };
			fd->marks[o->task] += n;
			fd->syscalls += o->type == ROP_SYSCALL;
			fd->brks += o->type == ROP_SYSCALL && o->nr == NR_BRK;
			fd->touches += o->type == ROP_TOUCH ? n : 0;
		} else if (fd->pend[i].open && p->ops[fd->pend[i].op].type == ROP_SYSCALL) {
			const struct rop *o = &p->ops[fd->pend[i].op];

			fd->syscalls_seen += o->nr == e->nr;
			if (o->nr != e->nr && mmr_verbose)
				fprintf(stderr, "replay: op %u %s: the replay's first syscall was %u\n",
					fd->pend[i].op, rop_name(o), e->nr);
			fd->pend[i].open = 0;
		}
	} else if (c->type == MMR_K_PAGE_FAULT_USER) {
		__u64 page = rfield(ev, f->fault_addr, 8) & ~(__u64)(p->page_size - 1);

		if ((i = pend_of(fd, c->pid)) < 0 || !fd->pend[i].open)
			return;
		if (p->ops[fd->pend[i].op].type == ROP_TOUCH)
			fid_touch(fd, p, i, page);
	}
}

/* ---- checking each run ------------------------------------------------- */

struct run_check {
	__u64 findings;
	__u64 per_verdict[V_NR];
	char first[480];	/* the first finding, in a line */
};

static void summarize(struct checker *c, struct run_check *rc)
{
	const struct finding *f;
	int nr;

	checker_finish(c);
	f = checker_findings(c, &nr);
	rc->findings = checker_findings_total(c);
	for (int i = 0; i < nr; i++)
		rc->per_verdict[f[i].kind]++;
	if (nr)
		snprintf(rc->first, sizeof(rc->first), "%s, pid %d, 0x%llx +%llu pages, %s: %.200s",
			 verdict_name(f[0].kind), f[0].pid, (unsigned long long)f[0].address,
			 (unsigned long long)f[0].nr_pages, f[0].op,
			 f[0].nr_evidence ? f[0].evidence[0] : "");
	if (rc->findings && !nr)
		rc->per_verdict[V_RSS_MISMATCH]++;
}

static int is_run_mark(const struct mmr_event *ev, long *run)
{
	const struct mmr_sys_enter *e = mark_of(ev, MMR_MARK_RUN);

	if (!e)
		return 0;
	*run = e->args[1];
	return 1;
}

/*
 * One pass over the replay trace: a checker per run; the last run's checker
 * is kept (for a plain replay it is the whole report).
 */
static int check_runs(struct mmr_trace *t, const struct rplan *p, struct run_check *rc, int nr_runs,
		      struct fidelity *fd, struct checker **last)
{
	struct checker *c;
	struct mmr_event ev;
	struct rfields f;
	char err[256];
	long run = 0, next;

	rfields_of(t, &f);
	c = checker_new(t, err, sizeof(err));
	if (!c) {
		mmr_err("replay: %s", err);
		return -1;
	}
	while (mmr_trace_next(t, &ev) == 1) {
		if (is_run_mark(&ev, &next) && next != run && next < nr_runs) {
			summarize(c, &rc[run]);
			checker_free(c);
			c = checker_new(t, err, sizeof(err));
			if (!c)
				return -1;
			run = next;
		}
		checker_event(c, &ev);
		if (fd)
			fid_event(fd, p, &ev, &f);
	}
	summarize(c, &rc[run]);
	*last = c;
	return 0;
}

/* ---- printing ---------------------------------------------------------- */

static __u64 recorded_ns(const struct rplan *p)
{
	__u64 end = 0;

	for (size_t i = 0; i < p->nr_ops; i++)
		if (p->ops[i].ts + p->ops[i].dur > end)
			end = p->ops[i].ts + p->ops[i].dur;
	return p->nr_ops ? end - p->ops[0].ts : 0;
}

static int tasks_complete(const struct rplan *p, const struct fidelity *fd)
{
	int n = 0;

	for (int t = 0; t < p->nr_tasks; t++)
		n += fd->marks[t] == p->tasks[t].nr_ops;
	return n;
}

static void print_plain_run(const struct replay_opts *o, const struct rplan *p,
			    const struct run_result *r, const struct fidelity *fd)
{
	const struct rstats *s = &r->st;

	printf("replay of %s: %d tasks, %zu operations, order %s\n", o->trace, p->nr_tasks,
	       p->nr_ops, o->order == ORDER_FREE ? "free" : "recorded");
	if (r->err[0])
		printf("  error: %s\n", r->err);
	printf("  operations: %llu replayed, %llu skipped (range or fd never mapped here)\n",
	       (unsigned long long)(s->ops - s->skipped), (unsigned long long)s->skipped);
	printf("  tasks: %d of %d replayed every operation\n", tasks_complete(p, fd), p->nr_tasks);
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

static void print_json_run(const struct replay_opts *o, const struct rplan *p,
			   const struct run_result *r, const struct fidelity *fd)
{
	const struct rstats *s = &r->st;

	printf("{\n");
	if (o->guest_json)
		printf("\"guest\": %s,\n", o->guest_json);
	printf("\"replay\": {\"trace\": ");
	json_str(stdout, o->trace);
	printf(", \"output\": ");
	json_str(stdout, o->out);
	printf(", \"order\": \"%s\", \"tasks\": %d, \"tasks_complete\": %d, \"ops\": %zu, "
	       "\"replayed\": %llu, \"skipped\": %llu, \"diverged\": %llu, \"diverged_raced\": %llu, "
	       "\"syscalls\": %llu, "
	       "\"syscalls_seen\": %llu, \"brks\": %llu, \"touches\": %llu, \"touches_faulted\": %llu, "
	       "\"touch_outside\": %llu, \"touch_fault\": %llu, \"swapouts_recorded\": %llu, "
	       "\"swapouts_replay\": %llu, \"pageouts\": %llu, \"migrations\": %llu, "
	       "\"elapsed_ns\": %llu, \"recorded_ns\": %llu, \"error\": ",
	       o->order == ORDER_FREE ? "free" : "recorded", p->nr_tasks, tasks_complete(p, fd),
	       p->nr_ops, (unsigned long long)(s->ops - s->skipped), (unsigned long long)s->skipped,
	       (unsigned long long)s->diverged, (unsigned long long)s->diverged_raced,
	       (unsigned long long)fd->syscalls,
	       (unsigned long long)fd->syscalls_seen, (unsigned long long)fd->brks,
	       (unsigned long long)s->touches,
	       (unsigned long long)fd->touches_faulted, (unsigned long long)s->touch_outside,
	       (unsigned long long)s->touch_fault, (unsigned long long)p->swapouts,
	       (unsigned long long)fd->swapouts, (unsigned long long)s->pageouts,
	       (unsigned long long)s->migrations, (unsigned long long)s->elapsed_ns,
	       (unsigned long long)recorded_ns(p));
	if (r->err[0])
		json_str(stdout, r->err);
	else
		printf("null");
	printf(", \"divergences\": [");
	for (int i = 0; i < 3 && s->first_divergence[i][0]; i++) {
		printf("%s", i ? ", " : "");
		json_str(stdout, s->first_divergence[i]);
	}
	printf("]},\n\"check\": ");
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

static void print_pair(const struct replay_opts *o, const struct rplan *p, int i,
		       const struct rpair *pr, const struct run_check *rc,
		       const struct run_result *res, int first_run)
{
	const struct rop *a = &p->ops[pr->a], *b = &p->ops[pr->b];
	struct tally n = tally(o, rc, res, first_run);
	int k = n.k, errors = n.errors, repro = n.repro;
	const __u64 *per = n.per;
	if (o->json) {
		printf("%s\n  {\"pair\": %d, \"a\": %u, \"b\": %u, \"op_a\": \"%s\", \"op_b\": \"%s\", "
		       "\"task_a\": %u, \"task_b\": %u, \"trials\": %d, \"with_findings\": %d, "
		       "\"errors\": %d, \"verdicts\": {", i ? "," : "", i + 1, pr->a, pr->b,
		       rop_name(a), rop_name(b), a->task, b->task, o->trials, k, errors);
		for (int v = 0, n = 0; v < V_NR; v++)
			if (per[v])
				printf("%s\"%s\": %llu", n++ ? ", " : "", verdict_name(v),
				       (unsigned long long)per[v]);
		printf("}, \"seed\": ");
		if (repro >= 0)
			printf("%llu}", (unsigned long long)res[repro].run.seed);
		else
			printf("null}");
		return;
	}
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
static void print_perturb(const struct replay_opts *o, const struct rplan *p, int i,
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
	if (o->json) {
		printf("%s\n  {\"cell\": %d, \"op\": %u, \"op_name\": \"%s\", \"task\": %u, "
		       "\"perturb\": \"%s\", \"trials\": %d, \"perturbed\": %d, \"with_findings\": %d, "
		       "\"errors\": %d, \"verdicts\": {", i ? "," : "", i + 1, pr->a, rop_name(a),
		       a->task, kind, o->trials, ran, k, errors);
		for (int v = 0, n = 0; v < V_NR; v++)
			if (per[v])
				printf("%s\"%s\": %llu", n++ ? ", " : "", verdict_name(v),
				       (unsigned long long)per[v]);
		printf("}, \"first\": ");
		if (repro >= 0) {
			printf("{\"trial\": %d, \"seed\": %llu, \"timing\": ", repro - first_run,
			       (unsigned long long)res[repro].run.seed);
			json_str(stdout, when);
			printf(", \"finding\": ");
			json_str(stdout, rc[repro].first);
			printf("}}");
		} else {
			printf("null}");
		}
		return;
	}
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

static void print_how(const struct replay_opts *o)
{
	for (int k = 1, n = 0; k < PERTURB_NR; k++) {
		if (!o->caps || !(o->caps->ok & 1u << k))
			continue;
		if (!o->json) {
			printf("  %s: %s\n", perturb_name(k), o->caps->how[k]);
			continue;
		}
		printf("%s\"%s\": ", n++ ? ", " : "", perturb_name(k));
		json_str(stdout, o->caps->how[k]);
	}
}

static void print_unavailable(const struct replay_opts *o)
{
	int n = 0;

	for (int k = 1; k < PERTURB_NR; k++) {
		if (!(o->perturb & 1u << k) || !o->caps || (o->caps->ok & 1u << k))
			continue;
		if (o->json) {
			printf("%s{\"perturb\": \"%s\", \"why\": ", n++ ? ", " : "", perturb_name(k));
			json_str(stdout, o->caps->why[k]);
			printf("}");
		} else {
			printf("  %s could not run here: %s\n", perturb_name(k), o->caps->why[k]);
		}
	}
}

static int report_explore(const struct replay_opts *o, const struct rplan *p,
			  const struct rpair *pairs, int nr_pairs, const struct run_check *rc,
			  const struct run_result *res)
{
	int any = 0, errors = 0, cells = 0;

	for (int i = 0; i < nr_pairs; i++)
		cells += pairs[i].perturb != 0;
	for (int r = 0; r < nr_pairs * o->trials; r++) {
		any |= rc[r].findings != 0;
		errors |= res[r].err[0] != 0;
	}
	if (o->json && o->guest_json)
		printf("{\"guest\": %s,\n ", o->guest_json);
	else if (o->json)
		printf("{");
	if (o->json) {
		printf("\"explore\": {\"trace\": \"%s\", \"seed\": %llu, \"trials\": %d, "
		       "\"deterministic\": %s, \"determinism\": ", o->trace,
		       (unsigned long long)o->seed, o->trials, o->deterministic ? "true" : "false");
		json_str(stdout, o->determinism ?: "");
		printf(", \"pairs\": [");
	} else {
		printf("explore %s: %d racing pairs, %d ops x perturbations, %d trials each, seed "
		       "%llu\n  %s\n", o->trace, nr_pairs - cells, cells, o->trials,
		       (unsigned long long)o->seed, o->determinism ?: "");
	}
	if (cells && !o->json)
		print_how(o);
	for (int i = 0; i < nr_pairs; i++)
		if (!pairs[i].perturb)
			print_pair(o, p, i, &pairs[i], rc, res, i * o->trials);
	if (o->json)
		printf("%s], \"perturbations\": [", nr_pairs ? "\n" : "");
	for (int i = 0, n = 0; i < nr_pairs; i++)
		if (pairs[i].perturb)
			print_perturb(o, p, n++, &pairs[i], rc, res, i * o->trials);
	if (o->json)
		printf("], \"perturb_unavailable\": [");
	print_unavailable(o);
	if (o->json) {
		printf("], \"perturb_how\": {");
		print_how(o);
		printf("}}}\n");
	}
	else
		printf("%s\n", any ? "FINDINGS" : nr_pairs ? "clean: no trial had findings" :
		       "clean: no racing pairs to explore");
	return errors ? MMR_EXIT_ERROR : any;
}

int replay_report(const struct replay_opts *o, const struct rplan *p, const struct rpair *pairs,
		  int nr_pairs, struct run_result *res, int nr_runs)
{
	struct fidelity fd = { 0 };
	struct run_check *rc = calloc(nr_runs + 1, sizeof(*rc));
	struct checker *last = NULL;
	struct mmr_trace *t = NULL;
	char err[256];
	int ret = MMR_EXIT_ERROR, plain = !o->explore;

	fd.marks = calloc(p->nr_tasks + 1, sizeof(*fd.marks));
	if (nr_runs) {
		t = mmr_trace_open(o->out, err, sizeof(err));
		if (!t) {
			mmr_err("replay: %s", err);
			goto out;
		}
		if (check_runs(t, p, rc, nr_runs, plain ? &fd : NULL, &last))
			goto out;
	}
	if (!plain) {
		ret = report_explore(o, p, pairs, nr_pairs, rc, res);
		goto out;
	}
	if (o->json) {
		print_json_run(o, p, &res[0], &fd);
		check_print_json(last);
		printf("}\n");
	} else {
		print_plain_run(o, p, &res[0], &fd);
		check_print_plain(last, t);
	}
	ret = res[0].err[0] ? MMR_EXIT_ERROR : rc[0].findings ? 1 : 0;
	if (res[0].err[0])
		mmr_err("replay: %s", res[0].err);
out:
	if (last)
		checker_free(last);
	if (t)
		mmr_trace_close(t);
	free(rc);
	free(fd.marks);
	free(fd.swap.mms);
	return ret;
}
