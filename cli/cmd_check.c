// SPDX-License-Identifier: GPL-2.0
/* mmreplay check: verdicts from a trace, as a report or as JSON. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "check/check.h"
#include "cmds.h"
#include "traces/trace.h"
#include "util.h"

const char usage_check[] =
	"usage: mmreplay check FILE [--json]\n\n"
	"Judge a recording: lost-mlock, stranded-mlock, skipped-swap-entry,\n"
	"dropped-cow-swap-entry and rss-counter-mismatch.  Snapshots (record\n"
	"--snapshot) give page-exact verdicts; without them, what the events\n"
	"show is checked.  The report says which verdict came from which.\n\n"
	"A finding is one verdict's pages for one mm at one point (a snapshot, or\n"
	"one operation seen in events): its first page, how many, and the evidence\n"
	"of the first; the report names the first few pages, --json all of them.\n\n"
	"  -j, --json   {\"findings\": [{kind, pid, tid, mm, ts, address, pages, pfn,\n"
	"               snapshot, op, evidence, page_list: [{address, pfn}],\n"
	"               pages_not_listed}], \"findings_total\" (findings),\n"
	"               \"finding_pages_total\" (their pages), \"coverage\": {...}}\n\n"
	"Exit status: 0 clean (every verdict checked, no findings), 1 findings,\n"
	"2 error (a truncated or corrupt trace is checked up to its last complete\n"
	"chunk, then reported as an error), 3 no findings but some verdicts not\n"
	"checked (no snapshots, and an event kind they need was not recorded).\n\n"
	"examples:\n"
	"  mmreplay record --snapshot -o w.trace -- ./workload\n"
	"  mmreplay check w.trace\n"
	"  mmreplay check --json w.trace | jq '.findings[].kind'\n";

static int parse_check(int argc, char **argv, const char **file, int *json)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	int c;

	for (;;) {
		c = mmr_getopt("check", argc, argv, "jh", opts);
		if (c == -1 && optind < argc && !*file) {
			*file = argv[optind++];
			continue;
		}
		if (c == -1)
			break;
		if (c == 'j')
			*json = 1;
		else if (c == 'h')
			return cmd_help("check") ? -1 : 1;
		else
			return -1;
	}
	if (!*file) {
		mmr_err("check: no trace file given (see mmreplay check --help)");
		return -1;
	}
	if (optind < argc) {
		mmr_err("check: unexpected argument '%s'", argv[optind]);
		return -1;
	}
	return 0;
}

static int check_unchecked(const struct checker *c, enum verdict v)
{
	const struct coverage *cov = checker_coverage(c, v);

	return !cov->by_snapshots && !cov->by_events;
}

#define PAGES_SHOWN 4	/* pages of a finding the plain report names; --json lists all */

static void print_page_plain(const struct finding_page *p)
{
	if (p->addr)
		printf("0x%llx", (unsigned long long)p->addr);
	if (p->pfn != ~0ULL)
		printf("%spfn 0x%llx", p->addr ? " " : "", (unsigned long long)p->pfn);
}

/* "pages: A pfn P, ... (N more; --json lists them)" */
static void print_pages_plain(const struct finding *f)
{
	__u64 shown = f->nr_listed < PAGES_SHOWN ? f->nr_listed : PAGES_SHOWN;

	printf("  pages: ");
	for (__u64 i = 0; i < shown; i++) {
		printf("%s", i ? ", " : "");
		print_page_plain(&f->pages[i]);
	}
	if (f->nr_listed > shown)
		printf(", ... (%llu more; --json lists them)",
		       (unsigned long long)(f->nr_listed - shown));
	if (f->nr_pages > f->nr_listed)
		printf("%s%llu not listed (past %u listed pages)", shown ? "; " : "",
		       (unsigned long long)(f->nr_pages - f->nr_listed), LISTED_MAX);
	printf("\n");
}

static void print_finding_plain(const struct finding *f)
{
	printf("%s: pid %d", verdict_name(f->kind), f->pid);
	if (f->tid)
		printf(" tid %d", f->tid);
	if (f->address)
		printf(" at 0x%llx", (unsigned long long)f->address);
	if (f->pfn != ~0ULL)
		printf(" pfn 0x%llx", (unsigned long long)f->pfn);
	if (f->nr_pages > 1)
		printf(" +%llu pages", (unsigned long long)f->nr_pages - 1);
	printf("\n");
	if (f->group && f->nr_pages > 1)
		print_pages_plain(f);
	printf("  op: %s\n", f->op);
	for (int i = 0; i < f->nr_evidence; i++)
		printf("  evidence: %s\n", f->evidence[i]);
}

/* The verdicts that count the pages they judged (struct coverage). */
static int judges_pages(int v)
{
	return v == V_LOST_MLOCK || v == V_STRANDED_MLOCK;
}

/* ", 3 pages deferred (2 migrated back in during ..., 1 ...; a reclaim pass ...)" */
static void print_deferred_plain(const struct coverage *cov)
{
	const char *sep = "";

	printf(", %llu pages deferred (", (unsigned long long)cov->deferred);
	for (int r = 0; r < D_NR; r++) {
		if (!cov->deferred_by[r])
			continue;
		printf("%s%llu %s", sep, (unsigned long long)cov->deferred_by[r], defer_rule_text(r));
		sep = ", ";
	}
	printf("%s%s)", cov->reclaim_note[0] ? "; " : "", cov->reclaim_note);
}

static void print_unchecked_plain(const struct checker *c)
{
	const char *sep = "";

	if (!checker_unchecked(c))
		return;
	printf("not checked: ");
	for (int v = 0; v < V_NR; v++)
		if (check_unchecked(c, v)) {
			printf("%s%s", sep, verdict_name(v));
			sep = ", ";
		}
	printf(" (no snapshots, and an event kind each needs was not recorded: record --snapshot)\n");
}

void check_print_plain(const struct checker *c)
{
	const struct finding *f;
	int nr;

	f = checker_findings(c, &nr);
	for (int i = 0; i < nr; i++)
		print_finding_plain(&f[i]);
	if (checker_findings_not_stored(c))
		printf("%llu findings not stored (over %d)\n",
		       (unsigned long long)checker_findings_not_stored(c), FINDINGS_MAX);
	if (checker_findings_total(c))
		printf("%llu findings, %llu pages\n", (unsigned long long)checker_findings_total(c),
		       (unsigned long long)checker_finding_pages_total(c));
	printf("%scoverage (%llu events, %llu snapshots):\n", nr ? "\n" : "",
	       (unsigned long long)checker_events(c), (unsigned long long)checker_snapshots(c));
	for (int v = 0; v < V_NR; v++) {
		const struct coverage *cov = checker_coverage(c, v);

		printf("  %-23s snapshots: %llu checked, %llu skipped", verdict_name(v),
		       (unsigned long long)cov->snap_checked, (unsigned long long)cov->snap_skipped);
		if (judges_pages(v))
			printf(", %llu pages judged", (unsigned long long)cov->pages_judged);
		if (cov->deferred)
			print_deferred_plain(cov);
		if (cov->repeated)
			printf(", %llu pages already reported at an earlier snapshot",
			       (unsigned long long)cov->repeated);
		printf("%s%s\n", cov->snap_note[0] ? "; " : "", cov->snap_note);
		printf("  %-23s events: %s\n", "", cov->event_note);
	}
	print_unchecked_plain(c);
	printf("%s\n", checker_findings_total(c) ? "FINDINGS" : checker_unchecked(c) ?
	       "no findings, but not clean: some verdicts were not checked" : "clean: no findings");
}

/* What the reclaim passes made of the deferred pages (record --reclaim-pass). */
static void print_reclaim_json(const struct coverage *cov, json_writer_t *w)
{
	jsonw_name(w, "reclaim_pass");
	jsonw_start_object(w);
	jsonw_u64_field(w, "mlocked_again", cov->reclaim_remlocked);
	jsonw_u64_field(w, "lost", cov->reclaim_lost);
	jsonw_u64_field(w, "not_reached", cov->reclaim_unreached);
	jsonw_u64_field(w, "no_pass", cov->reclaim_none);
	jsonw_string_field(w, "note", cov->reclaim_note);
	jsonw_end_object(w);
}

static void print_finding_json(const struct finding *f, json_writer_t *w)
{
	jsonw_start_object(w);
	jsonw_string_field(w, "kind", verdict_name(f->kind));
	jsonw_int_field(w, "pid", f->pid);
	jsonw_int_field(w, "tid", f->tid);
	jsonw_hex_field(w, "mm", f->mm);
	jsonw_u64_field(w, "ts", f->ts);
	jsonw_hex_field(w, "address", f->address);
	jsonw_u64_field(w, "pages", f->nr_pages);
	if (f->pfn == ~0ULL)
		jsonw_null_field(w, "pfn");
	else
		jsonw_u64_field(w, "pfn", f->pfn);
	jsonw_uint_field(w, "snapshot", f->snapshot);
	jsonw_string_field(w, "op", f->op);
	jsonw_name(w, "evidence");
	jsonw_start_array(w);
	for (int i = 0; i < f->nr_evidence; i++)
		jsonw_string(w, f->evidence[i]);
	jsonw_end_array(w);
	jsonw_name(w, "page_list");
	jsonw_start_array(w);
	for (__u64 i = 0; i < f->nr_listed; i++) {
		jsonw_start_object(w);
		jsonw_hex_field(w, "address", f->pages[i].addr);
		if (f->pages[i].pfn == ~0ULL)
			jsonw_null_field(w, "pfn");
		else
			jsonw_u64_field(w, "pfn", f->pages[i].pfn);
		jsonw_end_object(w);
	}
	jsonw_end_array(w);
	/* a count (VmSwap, a zap), or pages past LISTED_MAX */
	jsonw_u64_field(w, "pages_not_listed", f->nr_pages - f->nr_listed);
	jsonw_end_object(w);
}

void check_print_json(const struct checker *c, json_writer_t *w)
{
	const struct finding *f;
	int nr;

	f = checker_findings(c, &nr);
	jsonw_start_object(w);
	jsonw_lines(w, 2, 0);
	jsonw_name(w, "findings");
	jsonw_start_array(w);
	jsonw_lines(w, 4, 2);
	for (int i = 0; i < nr; i++)
		print_finding_json(&f[i], w);
	jsonw_end_array(w);
	jsonw_u64_field(w, "findings_total", checker_findings_total(c));
	jsonw_u64_field(w, "finding_pages_total", checker_finding_pages_total(c));
	jsonw_u64_field(w, "findings_not_stored", checker_findings_not_stored(c));
	jsonw_u64_field(w, "events", checker_events(c));
	jsonw_u64_field(w, "snapshots", checker_snapshots(c));
	jsonw_string_field(w, "result", checker_findings_total(c) ? "findings" :
			   checker_unchecked(c) ? "not-checked" : "clean");
	jsonw_name(w, "coverage");
	jsonw_start_object(w);
	jsonw_lines(w, 4, 2);
	for (int v = 0; v < V_NR; v++) {
		const struct coverage *cov = checker_coverage(c, v);

		jsonw_name(w, verdict_name(v));
		jsonw_start_object(w);
		jsonw_bool_field(w, "checked", !check_unchecked(c, v));
		jsonw_u64_field(w, "snapshots_checked", cov->snap_checked);
		jsonw_u64_field(w, "snapshots_skipped", cov->snap_skipped);
		if (judges_pages(v))
			jsonw_u64_field(w, "pages_judged", cov->pages_judged);
		jsonw_u64_field(w, "deferred_pages", cov->deferred);
		jsonw_name(w, "deferred_by");
		jsonw_start_object(w);
		for (int r = 0; r < D_NR; r++)
			jsonw_u64_field(w, defer_rule_key(r), cov->deferred_by[r]);
		jsonw_end_object(w);
		if (v == V_LOST_MLOCK)
			print_reclaim_json(cov, w);
		jsonw_u64_field(w, "repeated_pages", cov->repeated);
		jsonw_string_field(w, "snapshot_note", cov->snap_note);
		jsonw_u64_field(w, "events_checked", cov->event_checked);
		jsonw_string_field(w, "event_note", cov->event_note);
		jsonw_end_object(w);
	}
	jsonw_end_object(w);
	jsonw_end_object(w);
}

int check_status(const struct checker *c)
{
	return checker_findings_total(c) ? 1 : checker_unchecked(c) ? MMR_EXIT_UNCHECKED : 0;
}

int cmd_check(int argc, char **argv)
{
	const char *file = NULL;
	struct mmr_trace *t;
	struct checker *c;
	struct mmr_event ev;
	char err[256];
	int json = 0, r, ret;

	r = parse_check(argc, argv, &file, &json);
	if (r)
		return r > 0 ? 0 : MMR_EXIT_ERROR;
	t = mmr_trace_open(file, err, sizeof(err));
	if (!t) {
		mmr_err("check: %s", err);
		return MMR_EXIT_ERROR;
	}
	c = checker_new(t, err, sizeof(err));
	if (!c) {
		mmr_err("check: %s", err);
		mmr_trace_close(t);
		return MMR_EXIT_ERROR;
	}
	while (mmr_trace_next(t, &ev) == 1)
		checker_event(c, &ev);
	checker_finish(c);
	if (json)
		check_print_json(c, mmr_json());
	else
		check_print_plain(c);
	ret = check_status(c);
	if (checker_problem(c)) {
		mmr_err("check: %s: %s", file, checker_problem(c));
		ret = MMR_EXIT_ERROR;
	}
	if (mmr_trace_problem(t)) {
		mmr_err("check: %s: %s", file, mmr_trace_problem(t));
		ret = MMR_EXIT_ERROR;
	}
	checker_free(c);
	mmr_trace_close(t);
	return ret;
}
