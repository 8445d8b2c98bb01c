// SPDX-License-Identifier: GPL-2.0
/* mmreplay diff: where two recordings of one workload made the kernel behave differently. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cmds.h"
#include "diff/diff.h"
#include "traces/kinds.h"
#include "util.h"

#define PLAIN_OPS 40		/* differing ops printed in full; --json lists all */
#define PLAIN_KEYS 12		/* "only in" keys printed per op and side */
#define PLAIN_LINES 40		/* event sequence lines printed per op */

const char usage_diff[] =
	"usage: mmreplay diff A B [--json] [--context N]\n\n"
	"Compare two traces of one workload (before and after a patch, a\n"
	"recording and its replay, two replays on two kernels) operation by\n"
	"operation: tasks matched by fork order, each task's operations aligned\n"
	"(a replay's by their op ids; the page touches after an operation count\n"
	"with it), and the kernel events each operation caused compared as\n"
	"multisets and as sequences of keys: event kind, address relocated to the\n"
	"mapping an operation created, page role; rss_stat as the net change of\n"
	"each counter.  PFNs, mm hashes, timestamps and CPUs are ignored, and so\n"
	"are a replay's own setup and marks.  Only kinds both traces recorded are\n"
	"compared (the others are named); LRU additions, mmap_lock events, read\n"
	"faults on file pages and file/shmem rss changes are counted, not compared\n"
	"(they follow per-CPU batches, lock fast paths and the page cache).\n\n"
	"  -j, --json         the same report as one JSON object\n"
	"  -C, --context N    events of context around each difference (default 3)\n\n"
	"The report starts with verdicts (\"A frees 36 swap entries on ftruncate\n"
	"(op 41, task 0); B frees 0\"), then each operation that differs with the\n"
	"events only in A, only in B and their sequence, then counts by kind.\n\n"
	"Exit status: 0 equivalent, 1 different, 2 error (unreadable or truncated\n"
	"trace, traces of different workloads).\n\n"
	"examples:\n"
	"  mmreplay replay w.trace -o r.trace; mmreplay diff w.trace r.trace\n"
	"  mmreplay diff before.trace after.trace --context 5\n"
	"  mmreplay diff --json a.trace b.trace | jq '.verdicts'\n";

struct diff_opts {
	const char *file[2];
	int json, context;
};

static int parse_diff(int argc, char **argv, struct diff_opts *o)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "context", required_argument, NULL, 'C' },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	int c, n = 0;
	char *end;

	o->context = 3;
	for (;;) {
		c = mmr_getopt("diff", argc, argv, "jC:h", opts);
		if (c == -1 && optind < argc && n < 2) {
			o->file[n++] = argv[optind++];	/* files may come before options */
			continue;
		}
		if (c == -1)
			break;
		switch (c) {
		case 'j': o->json = 1; break;
		case 'h': return cmd_help("diff") ? -1 : 1;
		case 'C':
			o->context = strtol(optarg, &end, 10);
			if (*end || o->context < 0 || o->context > 1000) {
				mmr_err("diff: bad --context '%s' (0 to 1000 events)", optarg);
				return -1;
			}
			break;
		default: return -1;
		}
	}
	if (n < 2) {
		mmr_err("diff: two trace files are needed (see mmreplay diff --help)");
		return -1;
	}
	if (optind < argc) {
		mmr_err("diff: unexpected argument '%s'", argv[optind]);
		return -1;
	}
	return 0;
}

/* ---- the event sequence of an op pair, as unified-diff lines ------------- */

typedef void (*line_fn)(void *ctx, char sign, const char *text, unsigned times);

/* Steps within context of an edit, runs of one line folded ("x36"). */
static void sequence(const struct ddiff *x, const struct dpair *p, int context, line_fn emit,
		     void *ctx)
{
	size_t na, nb;
	__u32 *ka = ddiff_op_keys(x, 0, p->a, &na), *kb = ddiff_op_keys(x, 1, p->b, &nb);
	long last_edit = -1000000, next_edit = -1, shown = -1;
	char cur[320] = "", text[320], sign = 0;
	unsigned times = 0;

	for (long s = 0; s < p->nr_seq; s++) {
		const struct dstep *st = &p->seq[s];
		char sg = st->i < 0 ? '+' : st->j < 0 ? '-' : ' ';

		if (sg != ' ')
			last_edit = s;
		if (next_edit < s)
			for (next_edit = s; next_edit < p->nr_seq && p->seq[next_edit].i >= 0 &&
			     p->seq[next_edit].j >= 0; next_edit++)
				;
		if (s - last_edit > context && (next_edit == p->nr_seq || next_edit - s > context))
			continue;
		if (shown >= 0 && s != shown + 1 && times)
			emit(ctx, sign, cur, times), times = 0, emit(ctx, '.', "...", 1);
		shown = s;
		ddiff_key_text(x, st->i >= 0 ? ka[st->i] : kb[st->j], text, sizeof(text));
		if (times && sg == sign && !strcmp(text, cur)) {
			times++;
			continue;
		}
		if (times)
			emit(ctx, sign, cur, times);
		snprintf(cur, sizeof(cur), "%s", text);
		sign = sg, times = 1;
	}
	if (times)
		emit(ctx, sign, cur, times);
	free(ka);
	free(kb);
}

/* How many more times one side (0: A, 1: B) has a key than the other. */
static __u32 excess(const struct dcount *c, int side)
{
	__u32 mine = side ? c->b : c->a, other = side ? c->a : c->b;

	return mine > other ? mine - other : 0;
}

/* ---- plain --------------------------------------------------------------- */

struct plain_ctx {
	int lines;
};

static void plain_line(void *ctx, char sign, const char *text, unsigned times)
{
	struct plain_ctx *c = ctx;

	if (c->lines++ == PLAIN_LINES)
		printf("      ... (--json shows the whole sequence)\n");
	if (c->lines > PLAIN_LINES)
		return;
	if (sign == '.')
		printf("      ...\n");
	else if (times > 1)
		printf("    %c %s (x%u)\n", sign, text, times);
	else
		printf("    %c %s\n", sign, text);
}

static void plain_only(const struct ddiff *x, const struct dpair *p, int side)
{
	char text[320];
	int n = 0;

	printf("  only in %c:", side ? 'B' : 'A');
	for (size_t k = 0; k < p->nr_only; k++) {
		const struct dcount *c = &p->only[k];
		__u32 more = excess(c, side);

		if (!more)
			continue;
		if (n++ == PLAIN_KEYS) {
			printf("\n    ...");
			break;
		}
		ddiff_key_text(x, c->key, text, sizeof(text));
		printf("\n    %u x %s", more, text);
	}
	printf("%s\n", n ? "" : " -");
}

static void op_title(const struct ddiff *x, const struct dpair *p, char *buf, size_t len)
{
	const struct dop *a = p->a != DOP_NONE ? &x->A->ops[p->a] : NULL;
	const struct dop *b = p->b != DOP_NONE ? &x->B->ops[p->b] : NULL;
	const struct dop *o = a ? a : b;

	if (o->type >= DOP_START)
		snprintf(buf, len, "%s of task %u", dop_name(o), o->task);
	else if (a && b && a->id != b->id)
		snprintf(buf, len, "op %u (B op %u) %s, task %u", a->id, b->id, dop_name(o), o->task);
	else
		snprintf(buf, len, "%sop %u %s, task %u%s", a ? "" : "B ", o->id, dop_name(o),
			 o->task, !a ? " (only in B)" : !b ? " (only in A)" : "");
}

/* Explore's perturbers: their own calls are not compared, their effects are. */
static void print_perturbs(const struct dtrace *d, char side)
{
	for (int i = 0; i < d->nr_perturbs; i++)
		printf("%c: perturbed: %s of op %u's pages by a perturber of its own (pid %d); its "
		       "calls are not compared, what it did to the op's pages is\n", side,
		       perturb_name(d->perturbs[i].kind), d->perturbs[i].op, d->perturbs[i].pid);
}

static void print_plain(const struct ddiff *x, const struct diff_opts *o)
{
	char notes[DIFF_NOTES_MAX][DIFF_NOTE_LEN];
	int nr_notes;
	int left = 0, counted = 0;
	char title[200];

	for (int s = 0; s < 2; s++)
		printf("%c: %s (%s; kernel %s)\n", 'A' + s, o->file[s], s ? x->B->what : x->A->what,
		       s ? x->B->kernel : x->A->kernel);
	if (ddiff_equivalent(x))
		printf("equivalent: %zu operations of %d task%s line up, %llu events compared\n",
		       x->aligned, x->A->nr_tasks, x->A->nr_tasks == 1 ? "" : "s",
		       (unsigned long long)x->events);
	else
		printf("different: %zu operation%s differ%s (%zu line up, %zu only in A, %zu only "
		       "in B)\n", x->nr_pairs, x->nr_pairs == 1 ? "" : "s", x->nr_pairs == 1 ? "s" : "",
		       x->aligned, x->only_a, x->only_b);
	for (size_t i = 0; i < x->nr_verdicts; i++)
		printf("  %s\n", x->verdicts[i].text);
	if (x->rss_moved)
		printf("normalised: %zu operation%s of threads of one mm differ%s only in which "
		       "thread's rss_stat reported a change (a race of the per-thread or per-CPU rss "
		       "counters); each counter's net change over them agrees\n", x->rss_moved,
		       x->rss_moved == 1 ? "" : "s", x->rss_moved == 1 ? "s" : "");
	if (x->rss_late)
		printf("normalised: %zu operation%s differ%s only in rss changes that a kernel "
		       "before 6.2 reported late (a thread's cache of its faults' changes, "
		       "flushed at its next zap, 64th fault or exit); the lag fits that cache\n",
		       x->rss_late, x->rss_late == 1 ? "" : "s", x->rss_late == 1 ? "s" : "");
	if (x->nr_verdicts && x->verdicts[x->nr_verdicts - 1].pair + 1 < x->nr_pairs)
		printf("  (more in the operations below)\n");
	nr_notes = ddiff_notes(x, notes, DIFF_NOTES_MAX);
	for (int i = 0; i < nr_notes; i++)
		printf("note: %s\n", notes[i]);
	for (int k = 1; k < MMR_K_NR; k++) {
		if (!x->kinds[k].left_out)
			continue;
		printf("%s %s (%c)", left++ ? "," : "left out (recorded by one trace only):",
		       kind_def(k)->name, x->kinds[k].left_out == 1 ? 'A' : 'B');
	}
	printf("%s", left ? "\n" : "");
	if (x->skipped)
		printf("not compared: %zu operations the replay did not issue (their range or fd "
		       "was never mapped there)\n", x->skipped);
	print_perturbs(x->A, 'A');
	print_perturbs(x->B, 'B');
	for (size_t i = 0; i < x->nr_pairs && i < PLAIN_OPS; i++) {
		const struct dpair *p = &x->pairs[i];
		struct plain_ctx c = { 0 };

		op_title(x, p, title, sizeof(title));
		printf("\n%s:\n", title);
		plain_only(x, p, 0);
		plain_only(x, p, 1);
		if (p->nr_seq < 0) {
			printf("  events: too different to align\n");
			continue;
		}
		printf("  events (-A +B, %d of context):\n", o->context);
		sequence(x, p, o->context, plain_line, &c);
	}
	if (x->nr_pairs > PLAIN_OPS)
		printf("\n(%zu more operations differ; --json lists them all)\n",
		       x->nr_pairs - PLAIN_OPS);
	printf("\nsummary by event kind (events compared):\n  %-28s %10s %10s\n", "KIND", "A", "B");
	for (int k = 1; k < MMR_K_NR; k++) {
		counted |= x->kinds[k].per_trace && (x->kinds[k].a || x->kinds[k].b);
		if (x->kinds[k].a || x->kinds[k].b)
			printf("  %-28s %10llu %10llu%s\n", k == MMR_K_SYS_EXIT ? "(results)" :
			       k == MMR_K_RSS_STAT ? "rss_stat (net, per op)" : kind_def(k)->name, (unsigned long long)x->kinds[k].a,
			       (unsigned long long)x->kinds[k].b, x->kinds[k].per_trace ?
			       "  (counted, not compared)" : x->kinds[k].a != x->kinds[k].b ? "  *" : "");
	}
	for (int k = 1; k < MMR_K_NR; k++) {
		if (!x->kinds[k].cached[0] && !x->kinds[k].cached[1])
			continue;
		printf("  %-28s %10llu %10llu  (counted, not compared)\n",
		       k == MMR_K_RSS_STAT ? "rss_stat file, shmem (net)" :
		       k == MMR_K_PAGE_FAULT_KERNEL ? "page_fault_kernel file reads" :
		       "page_fault_user file reads", (unsigned long long)x->kinds[k].cached[0],
		       (unsigned long long)x->kinds[k].cached[1]);
		counted = 1;
	}
	if (counted)
		printf("(counted, not compared: LRU additions are drained from per-CPU batches by "
	       "whichever call comes next; whether mmap_lock is taken depends on the per-VMA "
	       "lock fast path; whether a read of a file page faults, and how many file and shmem "
	       "pages are mapped, on fault-around and the page cache)\n");
}

/* ---- json ---------------------------------------------------------------- */

static void json_line(void *ctx, char sign, const char *text, unsigned times)
{
	json_writer_t *w = ctx;
	char line[400];

	if (times > 1)
		snprintf(line, sizeof(line), "%c %s (x%u)", sign, text, times);
	else
		snprintf(line, sizeof(line), "%c %s", sign, text);
	jsonw_string(w, sign == '.' ? "..." : line);
}

static void json_only(const struct ddiff *x, const struct dpair *p, int side, json_writer_t *w)
{
	char text[320];

	jsonw_name(w, side ? "only_b" : "only_a");
	jsonw_start_array(w);
	for (size_t k = 0; k < p->nr_only; k++) {
		const struct dcount *c = &p->only[k];
		__u32 more = excess(c, side);

		if (!more)
			continue;
		ddiff_key_text(x, c->key, text, sizeof(text));
		jsonw_start_object(w);
		jsonw_string_field(w, "event", text);
		jsonw_string_field(w, "kind", kind_def(x->keys[c->key].kind)->name);
		jsonw_uint_field(w, "count", more);
		jsonw_end_object(w);
	}
	jsonw_end_array(w);
}

static void json_op(const char *name, const struct dop *o, json_writer_t *w)
{
	if (o && o->id != DOP_NONE)
		jsonw_uint_field(w, name, o->id);
	else
		jsonw_null_field(w, name);
}

static void json_pair(const struct ddiff *x, const struct dpair *p, int context, json_writer_t *w)
{
	const struct dop *a = p->a != DOP_NONE ? &x->A->ops[p->a] : NULL;
	const struct dop *b = p->b != DOP_NONE ? &x->B->ops[p->b] : NULL;

	jsonw_start_object(w);
	jsonw_uint_field(w, "task", (a ? a : b)->task);
	json_op("op", a, w);
	json_op("op_b", b, w);
	jsonw_string_field(w, "name", dop_name(a ? a : b));
	jsonw_bool_field(w, "in_a", a);
	jsonw_bool_field(w, "in_b", b);
	json_only(x, p, 0, w);
	json_only(x, p, 1, w);
	if (p->nr_seq < 0) {
		jsonw_null_field(w, "sequence");
	} else {
		jsonw_name(w, "sequence");
		jsonw_start_array(w);
		sequence(x, p, context, json_line, w);
		jsonw_end_array(w);
	}
	jsonw_end_object(w);
}

static void json_side(const struct dtrace *d, const char *file, json_writer_t *w)
{
	jsonw_start_object(w);
	jsonw_string_field(w, "trace", file);
	jsonw_string_field(w, "what", d->what);
	jsonw_string_field(w, "kernel", d->kernel);
	jsonw_string_field(w, "thp_enabled", d->thp);
	jsonw_bool_field(w, "rss_exact", d->rss_exact);
	jsonw_bool_field(w, "rss_flushed_per_op", d->rss_synced);
	jsonw_bool_field(w, "replay", d->replay);
	jsonw_int_field(w, "tasks", d->nr_tasks);
	jsonw_uint_field(w, "ops", d->nr_ops - 2 * d->nr_tasks);
	jsonw_name(w, "perturbations");
	jsonw_start_array(w);
	for (int i = 0; i < d->nr_perturbs; i++) {
		jsonw_start_object(w);
		jsonw_string_field(w, "perturb", perturb_name(d->perturbs[i].kind));
		jsonw_uint_field(w, "op", d->perturbs[i].op);
		jsonw_int_field(w, "pid", d->perturbs[i].pid);
		jsonw_end_object(w);
	}
	jsonw_end_array(w);
	jsonw_end_object(w);
}

static void json_summary(json_writer_t *w, const char *kind, __u64 a, __u64 b, int compared)
{
	jsonw_start_object(w);
	jsonw_string_field(w, "kind", kind);
	jsonw_u64_field(w, "a", a);
	jsonw_u64_field(w, "b", b);
	jsonw_bool_field(w, "compared", compared);
	jsonw_end_object(w);
}

static void print_json(const struct ddiff *x, const struct diff_opts *o, json_writer_t *w)
{
	char recorded_by[2] = "", notes[DIFF_NOTES_MAX][DIFF_NOTE_LEN];
	int nr_notes = ddiff_notes(x, notes, DIFF_NOTES_MAX);

	jsonw_start_object(w);
	jsonw_name(w, "a");
	json_side(x->A, o->file[0], w);
	jsonw_break(w, 1);
	jsonw_name(w, "b");
	json_side(x->B, o->file[1], w);
	jsonw_break(w, 1);
	jsonw_bool_field(w, "equivalent", ddiff_equivalent(x));
	jsonw_break(w, 1);
	jsonw_name(w, "verdicts");
	jsonw_start_array(w);
	for (size_t i = 0; i < x->nr_verdicts; i++)
		jsonw_string(w, x->verdicts[i].text);
	jsonw_end_array(w);
	jsonw_break(w, 1);
	jsonw_name(w, "notes");
	jsonw_start_array(w);
	for (int i = 0; i < nr_notes; i++)
		jsonw_string(w, notes[i]);
	jsonw_end_array(w);
	jsonw_break(w, 1);
	jsonw_name(w, "left_out");
	jsonw_start_array(w);
	for (int k = 1; k < MMR_K_NR; k++) {
		if (!x->kinds[k].left_out)
			continue;
		jsonw_start_object(w);
		jsonw_string_field(w, "kind", kind_def(k)->name);
		recorded_by[0] = x->kinds[k].left_out == 1 ? 'A' : 'B';
		jsonw_string_field(w, "recorded_by", recorded_by);
		jsonw_end_object(w);
	}
	jsonw_end_array(w);
	jsonw_break(w, 1);
	jsonw_name(w, "ops");
	jsonw_start_object(w);
	jsonw_uint_field(w, "aligned", x->aligned);
	jsonw_uint_field(w, "only_a", x->only_a);
	jsonw_uint_field(w, "only_b", x->only_b);
	jsonw_uint_field(w, "differ", x->nr_pairs);
	jsonw_uint_field(w, "not_compared", x->skipped);
	jsonw_uint_field(w, "normalised_thread_rss", x->rss_moved);
	jsonw_uint_field(w, "normalised_late_rss", x->rss_late);
	jsonw_end_object(w);
	jsonw_break(w, 1);
	jsonw_u64_field(w, "events", x->events);
	jsonw_break(w, 1);
	jsonw_name(w, "differences");
	jsonw_start_array(w);
	jsonw_lines(w, 2, 1);
	for (size_t i = 0; i < x->nr_pairs; i++)
		json_pair(x, &x->pairs[i], o->context, w);
	jsonw_end_array(w);
	jsonw_break(w, 1);
	jsonw_name(w, "summary");
	jsonw_start_array(w);
	jsonw_lines(w, 2, 1);
	for (int k = 1; k < MMR_K_NR; k++)
		if (x->kinds[k].a || x->kinds[k].b)
			json_summary(w, k == MMR_K_SYS_EXIT ? "results" :
				     k == MMR_K_RSS_STAT ? "rss_stat net changes" : kind_def(k)->name,
				     x->kinds[k].a, x->kinds[k].b, !x->kinds[k].per_trace);
	for (int k = 1; k < MMR_K_NR; k++)
		if (x->kinds[k].cached[0] || x->kinds[k].cached[1])
			json_summary(w, k == MMR_K_RSS_STAT ? "rss_stat file, shmem" :
				     k == MMR_K_PAGE_FAULT_KERNEL ? "page_fault_kernel file reads" :
				     "page_fault_user file reads", x->kinds[k].cached[0],
				     x->kinds[k].cached[1], 0);
	jsonw_end_array(w);
	jsonw_end_object(w);
}

/* ---- the command --------------------------------------------------------- */

/* Opens and loads traces (one for export, two for diff); 0, or an error printed. */
int load_traces(const char *cmd, const char *const *file, int n, struct mmr_trace **t,
		struct dtrace *d)
{
	char err[512];
	int bad;

	for (int i = 0; i < n; i++) {
		t[i] = mmr_trace_open(file[i], err, sizeof(err));
		if (!t[i]) {
			mmr_err("%s: %s", cmd, err);
			return -1;
		}
	}
	for (int i = 0; i < n; i++) {	/* every damage is known at open */
		if (mmr_trace_problem(t[i])) {
			mmr_err("%s: %s: %s", cmd, file[i], mmr_trace_problem(t[i]));
			return -1;
		}
	}
	bad = dtrace_load_all(d, t, n, err, sizeof(err));
	if (bad) {
		mmr_err("%s: %s: %s", cmd, file[bad - 1], err);
		return -1;
	}
	return 0;
}

void close_traces(struct mmr_trace **t, struct dtrace *d, int n)
{
	for (int i = 0; i < n; i++) {
		dtrace_free(&d[i]);
		if (t[i])
			mmr_trace_close(t[i]);
	}
}

int cmd_diff(int argc, char **argv)
{
	struct diff_opts o = {};
	struct mmr_trace *t[2] = { NULL, NULL };
	struct dtrace d[2];
	struct ddiff x;
	char err[512];
	int r = parse_diff(argc, argv, &o), ret = MMR_EXIT_ERROR;

	if (r)
		return r > 0 ? 0 : MMR_EXIT_ERROR;
	memset(d, 0, sizeof(d));
	if (load_traces("diff", o.file, 2, t, d))
		goto out;
	if (ddiff_run(&x, &d[0], &d[1], err, sizeof(err))) {
		mmr_err("diff: %s", err);
		goto out;
	}
	if (o.json)
		print_json(&x, &o, mmr_json());
	else
		print_plain(&x, &o);
	ret = ddiff_equivalent(&x) ? 0 : 1;
	ddiff_free(&x);
out:
	close_traces(t, d, 2);
	return ret;
}
