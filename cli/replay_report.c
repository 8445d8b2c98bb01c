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
#include "check/check.h"
#include "cmds.h"
#include "replay_cli.h"
#include "replay_fidelity.h"	/* issue 19: the fidelity verdict */
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
	/* issue 19: reaching an op's mark is not replaying it faithfully (see fidelity below) */
	printf("  tasks: %d of %d reached every operation's mark\n", tasks_complete(p, fd),
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
			   const struct run_result *r, const struct fidelity *fd, json_writer_t *w)
{
	const struct rstats *s = &r->st;

	if (o->guest_json) {
		jsonw_name(w, "guest");
		jsonw_printf(w, "%s", o->guest_json);	/* made by the writer, one line */
	}
	jsonw_name(w, "replay");
	jsonw_start_object(w);
	jsonw_string_field(w, "trace", o->trace);
	jsonw_string_field(w, "output", o->out);
	jsonw_string_field(w, "order", o->order == ORDER_FREE ? "free" : "recorded");
	jsonw_int_field(w, "tasks", p->nr_tasks);
	jsonw_int_field(w, "tasks_complete", tasks_complete(p, fd));
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

static void print_how_plain(const struct replay_opts *o)
{
	for (int k = 1; k < PERTURB_NR; k++)
		if (o->caps && (o->caps->ok & 1u << k))
			printf("  %s: %s\n", perturb_name(k), o->caps->how[k]);
}

static void print_how_json(const struct replay_opts *o, json_writer_t *w)
{
	jsonw_name(w, "perturb_how");
	jsonw_start_object(w);
	for (int k = 1; k < PERTURB_NR; k++)
		if (o->caps && (o->caps->ok & 1u << k))
			jsonw_string_field(w, perturb_name(k), o->caps->how[k]);
	jsonw_end_object(w);
}

static int unavailable(const struct replay_opts *o, int k)
{
	return (o->perturb & 1u << k) && o->caps && !(o->caps->ok & 1u << k);
}

static void print_unavailable_plain(const struct replay_opts *o)
{
	for (int k = 1; k < PERTURB_NR; k++)
		if (unavailable(o, k))
			printf("  %s could not run here: %s\n", perturb_name(k), o->caps->why[k]);
}

static void print_unavailable_json(const struct replay_opts *o, json_writer_t *w)
{
	jsonw_name(w, "perturb_unavailable");
	jsonw_start_array(w);
	for (int k = 1; k < PERTURB_NR; k++) {
		if (!unavailable(o, k))
			continue;
		jsonw_start_object(w);
		jsonw_string_field(w, "perturb", perturb_name(k));
		jsonw_string_field(w, "why", o->caps->why[k]);
		jsonw_end_object(w);
	}
	jsonw_end_array(w);
}

static void report_explore_json(const struct replay_opts *o, const struct rplan *p,
				const struct rpair *pairs, int nr_pairs,
				const struct run_check *rc, const struct run_result *res,
				json_writer_t *w)
{
	jsonw_start_object(w);
	if (o->guest_json) {
		jsonw_name(w, "guest");
		jsonw_printf(w, "%s", o->guest_json);	/* made by the writer, one line */
		jsonw_break(w, 1);
	}
	jsonw_name(w, "explore");
	jsonw_start_object(w);
	jsonw_string_field(w, "trace", o->trace);
	jsonw_u64_field(w, "seed", o->seed);
	jsonw_int_field(w, "trials", o->trials);
	jsonw_bool_field(w, "deterministic", o->deterministic);
	jsonw_string_field(w, "determinism", o->determinism ?: "");
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
	print_unavailable_json(o, w);
	print_how_json(o, w);
	jsonw_end_object(w);
	jsonw_end_object(w);
}

static void report_explore_plain(const struct replay_opts *o, const struct rplan *p,
				 const struct rpair *pairs, int nr_pairs,
				 const struct run_check *rc, const struct run_result *res, int any)
{
	int cells = 0;

	for (int i = 0; i < nr_pairs; i++)
		cells += pairs[i].perturb != 0;
	printf("explore %s: %d racing pairs, %d ops x perturbations, %d trials each, seed "
	       "%llu\n  %s\n", o->trace, nr_pairs - cells, cells, o->trials,
	       (unsigned long long)o->seed, o->determinism ?: "");
	if (cells)
		print_how_plain(o);
	for (int i = 0; i < nr_pairs; i++)
		if (!pairs[i].perturb)
			print_pair_plain(o, p, i, &pairs[i], rc, res, i * o->trials);
	for (int i = 0; i < nr_pairs; i++)
		if (pairs[i].perturb)
			print_perturb_plain(o, p, &pairs[i], rc, res, i * o->trials);
	print_unavailable_plain(o);
	printf("%s\n", any ? "FINDINGS" : nr_pairs ? "clean: no trial had findings" :
	       "clean: no racing pairs to explore");
}

static int report_explore(const struct replay_opts *o, const struct rplan *p,
			  const struct rpair *pairs, int nr_pairs, const struct run_check *rc,
			  const struct run_result *res)
{
	int any = 0, errors = 0;

	for (int r = 0; r < nr_pairs * o->trials; r++) {
		any |= rc[r].findings != 0;
		errors |= res[r].err[0] != 0;
	}
	if (o->json)
		report_explore_json(o, p, pairs, nr_pairs, rc, res, mmr_json());
	else
		report_explore_plain(o, p, pairs, nr_pairs, rc, res, any);
	return errors ? MMR_EXIT_ERROR : any;
}

int replay_report(const struct replay_opts *o, const struct rplan *p, const struct rpair *pairs,
		  int nr_pairs, struct run_result *res, int nr_runs)
{
	struct fidelity fd = { 0 };
	struct replay_fidelity fid;	/* issue 19 */
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
	replay_fidelity_check(&fid, o, &res[0]);	/* issue 19: fidelity verdict */
	if (o->json) {
		json_writer_t *w = mmr_json();

		jsonw_start_object(w);
		jsonw_lines(w, 0, 0);
		print_json_run(o, p, &res[0], &fd, w);
		replay_fidelity_json(&fid, w);	/* issue 19 */
		jsonw_name(w, "check");
		check_print_json(last, w);
		jsonw_end_object(w);
	} else {
		print_plain_run(o, p, &res[0], &fd);
		check_print_plain(last, t);
		replay_fidelity_plain(&fid);	/* issue 19 */
	}
	ret = res[0].err[0] ? MMR_EXIT_ERROR : rc[0].findings ? 1 : 0;
	ret = replay_fidelity_status(&fid, ret);	/* issue 19: 2 unchecked, 4 unfaithful */
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
