// SPDX-License-Identifier: GPL-2.0
/*
 * Two traces compared: the ops of each task aligned (task by fork order, op
 * by its place in the task's stream, Myers' diff over the op names so that
 * an op only one side ran does not shift the rest), then the events of each
 * pair of ops, as multisets and as sequences of keys.  A key names a region
 * by the op that created it, so both sides speak of the same mapping
 * wherever it was placed.  Only kinds both traces recorded are compared.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "diff.h"
#include "traces/fields.h"
#include "traces/kinds.h"

#define MAX_OP_EDITS 4000	/* ops inserted or deleted before two tasks are unrelated */
#define MAX_EVENT_EDITS 2000	/* events, before an op's sequence is not shown */
#define MAX_VERDICTS 64
#define B_REGION 0x80000000U	/* a key's region is an op only B ran */

/* One line per kind: what a trace "does" n times, for the verdicts. */
/* One line per kind: what a trace "does" n times, for the verdicts; internals first. */
static const struct { int kind; const char *verb, *noun; } phrases[] = {
	{ MMR_K_FREE_SWAP_AND_CACHE, "frees", "swap entries" },
	{ MMR_K_MLOCK_FOLIO, "mlocks", "folios" },
	{ MMR_K_MUNLOCK_FOLIO, "munlocks", "folios" },
	{ MMR_K_MLOCK_NEW_FOLIO, "mlocks", "new folios" },
	{ MMR_K_TRY_TO_UNMAP_ONE, "unmaps", "pages for reclaim" },
	{ MMR_K_FOLIO_REFERENCED_ONE, "checks", "page references" },
	{ MMR_K_TRY_TO_MIGRATE_ONE, "unmaps", "pages for migration" },
	{ MMR_K_UNMAP_PAGE_RANGE, "zaps", "page ranges" },
	{ MMR_K_ZAP_DONE, "finishes", "zaps" },
	{ MMR_K_ZAP_PAGE_RANGE_SINGLE, "zaps", "single ranges" },
	{ MMR_K_UNMAP_MAPPING_PAGES, "unmaps", "file page ranges" },
	{ MMR_K_UNMAP_MAPPING_RANGE, "unmaps", "file ranges" },
	{ MMR_K_DO_SWAP_PAGE, "swaps in", "pages" },
	{ MMR_K_SET_MIGRATION_PTE, "sets", "migration entries" },
	{ MMR_K_REMOVE_MIGRATION_PTE, "removes", "migration entries" },
	{ MMR_K_EXIT_MMAP, "tears down", "mms" },
	{ MMR_K_PAGE_FAULT_USER, "takes", "page faults" },
	{ MMR_K_PAGE_FAULT_KERNEL, "takes", "kernel-mode page faults" },
	{ MMR_K_FAULT_DONE, "completes", "faults" },
};

static const char *const roles[R_NR] = { "", "anon", "shmem", "file", "file-shared", "swap",
					 "unevictable" };

static const char *kind_text(int kind)
{
	const struct kind_def *k = kind_def(kind);

	return k ? k->name : "?";
}

/* ---- keys ---------------------------------------------------------------- */

static __u64 key_hash(const struct dkey *k)
{
	const unsigned char *p = (const void *)k;
	__u64 h = 1469598103934665603ULL;

	for (size_t i = 0; i < sizeof(*k); i++)
		h = (h ^ p[i]) * 1099511628211ULL;
	return h;
}

static int rehash(struct ddiff *x)
{
	size_t cap = x->hash_cap ? x->hash_cap * 2 : 1024;
	__u32 *hash = calloc(cap, sizeof(*hash));

	if (!hash)
		return -1;
	free(x->hash);
	x->hash = hash;
	x->hash_cap = cap;
	for (size_t id = 0; id < x->nr_keys; id++) {
		size_t h = key_hash(&x->keys[id]) & (x->hash_cap - 1);

		while (x->hash[h])
			h = (h + 1) & (x->hash_cap - 1);
		x->hash[h] = id + 1;
	}
	return 0;
}

/* The id of key k, added if new; DOP_NONE (and x->oom) if out of memory. */
static __u32 intern(struct ddiff *x, const struct dkey *k)
{
	size_t h;

	if ((x->nr_keys + 1) * 2 > x->hash_cap && rehash(x)) {
		x->oom = 1;
		return DOP_NONE;
	}
	h = key_hash(k) & (x->hash_cap - 1);
	for (; x->hash[h]; h = (h + 1) & (x->hash_cap - 1))
		if (!memcmp(&x->keys[x->hash[h] - 1], k, sizeof(*k)))
			return x->hash[h] - 1;
	if (GROW(x->keys, x->cap_keys, x->nr_keys + 1)) {
		x->oom = 1;
		return DOP_NONE;
	}
	x->keys[x->nr_keys] = *k;
	x->hash[h] = ++x->nr_keys;
	return x->nr_keys - 1;
}

/* ---- aligning ops -------------------------------------------------------- */

struct align {
	__u32 *partner_a, *partner_b;	/* op -> the other side's op, DOP_NONE */
	struct dstep *order;		/* every op of both, as aligned */
	size_t nr_order, cap_order;
	size_t matched;			/* real ops (not start/exit) */
};

static __u32 *op_tokens(const struct dtrace *d, int t, size_t *n)
{
	size_t o0 = t < d->nr_tasks ? d->task_op0[t] : 0;
	__u32 *tok;

	*n = t < d->nr_tasks ? d->task_op0[t + 1] - o0 : 0;
	tok = calloc(*n + 1, sizeof(*tok));
	for (size_t i = 0; tok && i < *n; i++)
		tok[i] = (__u32)d->ops[o0 + i].type << 16 | d->ops[o0 + i].nr;
	return tok;
}

static int align_task(struct align *al, const struct dtrace *A, const struct dtrace *B, int t)
{
	size_t na, nb, a0 = t < A->nr_tasks ? A->task_op0[t] : 0;
	size_t b0 = t < B->nr_tasks ? B->task_op0[t] : 0;
	__u32 *ta = op_tokens(A, t, &na), *tb = op_tokens(B, t, &nb);
	struct dstep *st = NULL;
	long n = ta && tb ? dalign(ta, na, tb, nb, MAX_OP_EDITS, &st) : -1;

	for (long i = 0; i < n; i++) {
		long a = st[i].i >= 0 ? (long)a0 + st[i].i : -1;
		long b = st[i].j >= 0 ? (long)b0 + st[i].j : -1;

		if (GROW(al->order, al->cap_order, al->nr_order + 1)) {
			n = -2;
			break;
		}
		al->order[al->nr_order++] = (struct dstep){ a, b };
		if (a < 0 || b < 0)
			continue;
		al->partner_a[a] = b;
		al->partner_b[b] = a;
		al->matched += A->ops[a].type < DOP_START;
	}
	free(ta);
	free(tb);
	free(st);
	return !ta || !tb || n == -2 ? -2 : n < 0 ? -1 : 0;
}

static size_t real_ops(const struct dtrace *d)
{
	return d->nr_ops - 2 * d->nr_tasks;
}

static int align_all(struct align *al, const struct dtrace *A, const struct dtrace *B,
		     char *err, size_t errlen)
{
	int nt = A->nr_tasks > B->nr_tasks ? A->nr_tasks : B->nr_tasks;
	size_t most = real_ops(A) > real_ops(B) ? real_ops(A) : real_ops(B);

	al->partner_a = malloc((A->nr_ops + 1) * sizeof(__u32));
	al->partner_b = malloc((B->nr_ops + 1) * sizeof(__u32));
	if (!al->partner_a || !al->partner_b) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	memset(al->partner_a, 0xff, (A->nr_ops + 1) * sizeof(__u32));
	memset(al->partner_b, 0xff, (B->nr_ops + 1) * sizeof(__u32));
	for (int t = 0; t < nt; t++) {
		int r = align_task(al, A, B, t);

		if (r == 0)
			continue;
		if (r == -2) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		snprintf(err, errlen, "A and B do not record the same workload: the operations of "
			 "task %d differ by more than %d (A: %s; B: %s)", t, MAX_OP_EDITS, A->what,
			 B->what);
		return -1;
	}
	if (al->matched * 2 < most || (!al->matched && most)) {
		snprintf(err, errlen, "A and B do not record the same workload: only %zu of %zu "
			 "operations line up (A: %s; B: %s)", al->matched, most, A->what, B->what);
		return -1;
	}
	return 0;
}

/* ---- one workload? -------------------------------------------------------- */

static int op_differs(const struct dop *a, const struct dop *b)
{
	return a->task != b->task || a->type != b->type || a->nr != b->nr || a->id != b->id;
}

/* The first op of a replay that is not the recording's op of the same id; *plan: that op. */
static const struct dop *not_in_plan(const struct dtrace *rec, const struct dtrace *rep,
				     const struct rop **plan)
{
	for (size_t i = 0; i < rep->nr_ops; i++) {
		const struct dop *o = &rep->ops[i];

		*plan = o->id < rec->plan.nr_ops ? &rec->plan.ops[o->id] : NULL;
		if (o->type >= DOP_START)
			continue;
		if (!*plan || (*plan)->task != o->task || (*plan)->type != o->type ||
		    (*plan)->nr != o->nr)
			return o;
	}
	return NULL;
}

/* The first op two replays do not share (an op, or the end of one of them). */
static size_t first_other(const struct dtrace *A, const struct dtrace *B)
{
	size_t i = 0;

	while (i < A->nr_ops && i < B->nr_ops && !op_differs(&A->ops[i], &B->ops[i]))
		i++;
	return i;
}

static int not_same(char *err, size_t errlen, const struct dtrace *A, const struct dtrace *B,
		    const char *why)
{
	snprintf(err, errlen, "A and B do not record the same workload: %s (A: %s; B: %s)", why,
		 A->what, B->what);
	return -1;
}

/*
 * A replay names its ops by the recording's op ids: against that recording,
 * or another replay of it, every op must be the same.  Two recordings must
 * run the same program.
 */
static int same_workload(const struct dtrace *A, const struct dtrace *B, char *err, size_t errlen)
{
	const struct dtrace *rec = A->replay ? B : A, *rep = A->replay ? A : B;
	char why[200];

	if (!A->replay && !B->replay) {
		if (!A->comm[0] || !B->comm[0] || !strcmp(A->comm, B->comm))
			return 0;
		snprintf(why, sizeof(why), "A runs %s, B runs %s", A->comm, B->comm);
		return not_same(err, errlen, A, B, why);
	}
	if (A->replay != B->replay) {
		const struct rop *plan;
		const struct dop *o = not_in_plan(rec, rep, &plan);

		if (!o)
			return 0;
		snprintf(why, sizeof(why), "%s's op %u (task %u) is %s, %s's is %s", rep == A ? "A" : "B",
			 o->id, o->task, dop_name(o), rec == A ? "A" : "B",
			 plan ? rop_name(plan) : "missing");
		return not_same(err, errlen, A, B, why);
	}
	{
		size_t i = first_other(A, B);

		if (i == A->nr_ops && i == B->nr_ops)
			return 0;
		if (i < A->nr_ops && i < B->nr_ops)
			snprintf(why, sizeof(why), "A's op %u (task %u) is %s, B's op %u is %s",
				 A->ops[i].id, A->ops[i].task, dop_name(&A->ops[i]), B->ops[i].id,
				 dop_name(&B->ops[i]));
		else
			snprintf(why, sizeof(why), "%s replays more ops",
				 i < A->nr_ops ? "A" : "B");
		return not_same(err, errlen, A, B, why);
	}
}

/* ---- comparing events ---------------------------------------------------- */

/*
 * Key ids of every event of d; DOP_NONE for kinds not both recorded, and for
 * those counted per trace (counted here).  A region names A's op: B's own
 * op's partner, or B's op | B_REGION if A has none.
 */
static __u32 *intern_all(struct ddiff *x, const struct dtrace *d, const struct dtrace *other,
			 const __u32 *partner, int is_b)
{
	__u32 *ids = calloc(d->nr_evs + 1, sizeof(*ids));

	for (size_t i = 0; ids && i < d->nr_evs; i++) {
		struct dkey k = d->evs[i].k;
		int both = k.kind == MMR_K_SYS_EXIT || (d->recorded[k.kind] && other->recorded[k.kind]);

		if (!both || dkey_per_trace(&k)) {
			if (both && dkind_per_trace(k.kind))
				x->kinds[k.kind].a += !is_b, x->kinds[k.kind].b += is_b;
			else if (both)
				x->kinds[k.kind].cached[is_b]++;
			ids[i] = DOP_NONE;
			continue;
		}
		if (k.region != DOP_NONE && is_b)
			k.region = partner[k.region] != DOP_NONE ? partner[k.region] :
				   k.region | B_REGION;
		ids[i] = intern(x, &k);
		if (ids[i] == DOP_NONE) {
			free(ids);
			return NULL;
		}
	}
	if (x->oom) {
		free(ids);
		return NULL;
	}
	return ids;
}

__u32 *ddiff_op_keys(const struct ddiff *x, int side, __u32 op, size_t *n)
{
	const struct dtrace *d = side ? x->B : x->A;
	const __u32 *ids = side ? x->kb : x->ka;
	const struct dop *o = op != DOP_NONE ? &d->ops[op] : NULL;
	__u32 *k = calloc((o ? o->nev : 0) + 1, sizeof(*k));

	*n = 0;
	for (__u32 i = 0; o && k && i < o->nev; i++)
		if (ids[o->ev0 + i] != DOP_NONE)
			k[(*n)++] = ids[o->ev0 + i];
	return k;
}

static int cmp_u32(const void *x, const void *y)
{
	__u32 a = *(const __u32 *)x, b = *(const __u32 *)y;

	return a < b ? -1 : a > b;
}

/* The keys whose counts differ between two sorted arrays. */
/* The keys whose counts differ; -1 if out of memory. */
static int multiset(struct dpair *p, __u32 *a, size_t na, __u32 *b, size_t nb)
{
	size_t i = 0, j = 0, cap = 0;

	qsort(a, na, sizeof(*a), cmp_u32);
	qsort(b, nb, sizeof(*b), cmp_u32);
	while (i < na || j < nb) {
		__u32 key = j >= nb || (i < na && a[i] < b[j]) ? a[i] : b[j];
		struct dcount c = { key, 0, 0 };

		while (i < na && a[i] == key)
			i++, c.a++;
		while (j < nb && b[j] == key)
			j++, c.b++;
		if (c.a == c.b)
			continue;
		if (GROW(p->only, cap, p->nr_only + 1))
			return -1;
		p->only[p->nr_only++] = c;
	}
	return 0;
}

static void count_kinds(struct ddiff *x, const __u32 *k, size_t n, int side)
{
	for (size_t i = 0; i < n; i++) {
		if (side)
			x->kinds[x->keys[k[i]].kind].b++;
		else
			x->kinds[x->keys[k[i]].kind].a++;
	}
	x->events += n;
}

/* Two aligned ops (a or b -1: only in the other); a pair if their events differ. */
static void compare_pair(struct ddiff *x, long a, long b)
{
	size_t na, nb;
	__u32 *ka = ddiff_op_keys(x, 0, a < 0 ? DOP_NONE : a, &na);
	__u32 *kb = ddiff_op_keys(x, 1, b < 0 ? DOP_NONE : b, &nb);
	struct dpair p = { a < 0 ? DOP_NONE : a, b < 0 ? DOP_NONE : b, NULL, 0, NULL, 0 };
	const struct dop *o = a >= 0 ? &x->A->ops[a] : &x->B->ops[b];

	if (!ka || !kb) {
		x->oom = 1;
		goto out;
	}
	if ((a >= 0 && x->A->ops[a].skipped) || (b >= 0 && x->B->ops[b].skipped)) {
		x->skipped += a >= 0 && b >= 0;	/* a replay did not issue it */
		goto out;
	}
	count_kinds(x, ka, na, 0);
	count_kinds(x, kb, nb, 1);
	if (a >= 0 && b >= 0 && na == nb && !memcmp(ka, kb, na * sizeof(*ka)))
		goto out;
	if ((a < 0 || b < 0) && o->type >= DOP_START && !na && !nb)
		goto out;	/* the empty start or exit of a task only one side has */
	p.nr_seq = dalign(ka, na, kb, nb, MAX_EVENT_EDITS, &p.seq);
	if (p.nr_seq == -2 || multiset(&p, ka, na, kb, nb) || GROW(x->pairs, x->cap_pairs, x->nr_pairs + 1)) {
		x->oom = 1;
		free(p.seq);
		free(p.only);
		goto out;
	}
	x->pairs[x->nr_pairs++] = p;
out:
	free(ka);
	free(kb);
}

/* ---- verdicts ------------------------------------------------------------ */

static void op_where(const struct ddiff *x, const struct dpair *p, char *buf, size_t len)
{
	const struct dop *o = p->a != DOP_NONE ? &x->A->ops[p->a] : &x->B->ops[p->b];
	int raced = (p->a != DOP_NONE && x->A->ops[p->a].raced) ||
		    (p->b != DOP_NONE && x->B->ops[p->b].raced);

	if (o->type == DOP_START)
		snprintf(buf, len, "at the start of task %u", o->task);
	else if (o->type == DOP_EXIT)
		snprintf(buf, len, "at the exit of task %u", o->task);
	else
		snprintf(buf, len, "on %s (%sop %u, task %u%s)", dop_name(o),
			 p->a == DOP_NONE ? "B " : "", o->id, o->task,
			 raced ? ", which raced another task's call when recorded" : "");
}

static void add_verdict(struct ddiff *x, size_t pair, const char *text)
{
	if (x->nr_verdicts >= MAX_VERDICTS)
		return;
	x->verdicts[x->nr_verdicts].pair = pair;
	snprintf(x->verdicts[x->nr_verdicts++].text, sizeof(x->verdicts[0].text), "%s", text);
}

static void result_verdict(struct ddiff *x, size_t i, const char *where)
{
	const struct dpair *p = &x->pairs[i];
	long r[2] = { 0, 0 };
	int has[2] = { 0, 0 };
	char t[256];

	for (size_t k = 0; k < p->nr_only; k++) {
		const struct dkey *key = &x->keys[p->only[k].key];

		if (key->kind != MMR_K_SYS_EXIT)
			continue;
		for (int s = 0; s < 2; s++) {
			if (s ? p->only[k].b : p->only[k].a)
				has[s] = 1, r[s] = key->val;
		}
	}
	if (has[0] && has[1])
		snprintf(t, sizeof(t), "the call %s returns %ld in A, %ld in B", where + 3, r[0], r[1]);
	else
		snprintf(t, sizeof(t), "the call %s returns %ld in %c and has no result in %c",
			 where + 3, r[!has[0]], has[0] ? 'A' : 'B', has[0] ? 'B' : 'A');
	add_verdict(x, i, t);
}

/* Compared events of one kind in one op of one side; rss_stat: the net change of counter m. */
static __s64 kind_sum(const struct ddiff *x, int side, __u32 op, int kind, int m)
{
	size_t n;
	__u32 *k = ddiff_op_keys(x, side, op, &n);
	__s64 sum = 0;

	for (size_t i = 0; k && i < n; i++) {
		const struct dkey *key = &x->keys[k[i]];

		if (key->kind == kind && kind != MMR_K_RSS_STAT)
			sum++;
		else if (key->kind == kind && (key->flag & 3) == m)
			sum += key->val;
	}
	free(k);
	return sum;
}

/* "+3", "-36", "0" */
static const char *signed_text(__s64 v, char buf[24])
{
	snprintf(buf, 24, v ? "%+lld" : "0", (long long)v);
	return buf;
}

/* "A's MM_SWAPENTS changes by -36 on ftruncate (op 41, task 0); B's by 0" */
static void rss_verdicts(struct ddiff *x, size_t i, const char *where)
{
	const struct dpair *p = &x->pairs[i];
	char t[256], sa[24], sb[24];

	for (int m = 0; m < MMR_NR_RSS; m++) {
		int differs = 0;

		for (size_t k = 0; k < p->nr_only && !differs; k++)
			differs = x->keys[p->only[k].key].kind == MMR_K_RSS_STAT &&
				   (x->keys[p->only[k].key].flag & 3) == m;
		if (!differs)
			continue;
		__s64 na = kind_sum(x, 0, p->a, MMR_K_RSS_STAT, m);
		__s64 nb = kind_sum(x, 1, p->b, MMR_K_RSS_STAT, m);

		snprintf(t, sizeof(t), "A's %s changes by %s %s; B's by %s", mmr_rss_name(m),
			 signed_text(na, sa), where, signed_text(nb, sb));
		add_verdict(x, i, t);
	}
}

/* "A frees 36 swap entries on ftruncate (op 41, task 0); B frees 0" */
static void kind_verdicts(struct ddiff *x, size_t i, const char *where)
{
	const struct dpair *p = &x->pairs[i];
	char t[256];

	for (size_t n = 0; n < sizeof(phrases) / sizeof(phrases[0]); n++) {
		int kind = phrases[n].kind, differs = 0;
		__u64 ca, cb;

		for (size_t k = 0; k < p->nr_only; k++)
			differs |= x->keys[p->only[k].key].kind == kind;
		if (!differs)
			continue;
		ca = kind_sum(x, 0, p->a, kind, 0), cb = kind_sum(x, 1, p->b, kind, 0);
		if (ca != cb)
			snprintf(t, sizeof(t), "A %s %llu %s %s; B %s %llu", phrases[n].verb,
				 (unsigned long long)ca, phrases[n].noun, where, phrases[n].verb,
				 (unsigned long long)cb);
		else
			snprintf(t, sizeof(t), "A and B %s %llu %s %s, but not the same ones",
				 phrases[n].verb, (unsigned long long)ca, phrases[n].noun, where);
		add_verdict(x, i, t);
	}
}

/* ---- rss changes that moved between threads -------------------------------- */

/* The task owning the mm task t runs on: t, or the parent it is a thread of; -1 unknown. */
static int mm_owner(const struct ddiff *x, __u32 t)
{
	const struct rplan *p = x->A->plan.nr_tasks == x->A->nr_tasks ? &x->A->plan :
				x->B->plan.nr_tasks == x->B->nr_tasks ? &x->B->plan : NULL;

	if (!p || (int)t >= p->nr_tasks)
		return -1;
	for (int hops = 0; p->tasks[t].thread && p->tasks[t].parent >= 0 && hops < p->nr_tasks;
	     hops++)
		t = p->tasks[t].parent;
	return t;
}

/* A pair of ops both sides ran whose only difference is rss_stat changes. */
static int rss_only(const struct ddiff *x, const struct dpair *p)
{
	if (p->a == DOP_NONE || p->b == DOP_NONE || !p->nr_only)
		return 0;
	for (size_t k = 0; k < p->nr_only; k++)
		if (x->keys[p->only[k].key].kind != MMR_K_RSS_STAT)
			return 0;
	return 1;
}

/* Pairs [0, n) of mm owner @own that differ only in rss: same net change on both sides? */
static int rss_sums_agree(const struct ddiff *x, const int *owner, int own)
{
	for (int m = 0; m < MMR_NR_RSS; m++) {
		__s64 sum = 0;

		for (size_t i = 0; i < x->nr_pairs; i++)
			if (owner[i] == own)
				sum += kind_sum(x, 0, x->pairs[i].a, MMR_K_RSS_STAT, m) -
				       kind_sum(x, 1, x->pairs[i].b, MMR_K_RSS_STAT, m);
		if (sum)
			return 0;
	}
	return 1;
}

/* Drops the pairs whose owner[] is @own, counting each in *@count. */
static void drop_pairs(struct ddiff *x, const int *owner, int own, size_t *count)
{
	size_t k = 0;

	for (size_t i = 0; i < x->nr_pairs; i++) {
		if (owner[i] != own) {
			x->pairs[k++] = x->pairs[i];
			continue;
		}
		free(x->pairs[i].only);
		free(x->pairs[i].seq);
		(*count)++;
	}
	x->nr_pairs = k;
}

/*
 * Which thread's rss_stat reports a change of its mm's counters is a race:
 * since 6.2 (f1a7941243c1) they are per-CPU counters, which threads on
 * other CPUs keep changing while one thread's event reads them; before,
 * each thread cached its changes (SPLIT_RSS_COUNTING) and reported them in
 * batches.  So two threads of one mm can each see the other's pages.  The ops of an mm's
 * threads that differ only in rss changes are equivalent when, over those
 * ops of at least two of its tasks, each counter's net change is the same.
 */
static void normalise_thread_rss(struct ddiff *x)
{
	int *owner = malloc((x->nr_pairs + 1) * sizeof(*owner));

	if (!owner)
		return;
	for (size_t i = 0; i < x->nr_pairs; i++)
		owner[i] = rss_only(x, &x->pairs[i]) ? mm_owner(x, x->A->ops[x->pairs[i].a].task) : -1;
	for (size_t i = 0; i < x->nr_pairs; i++) {
		int own = owner[i], tasks = 0;

		if (own < 0)
			continue;
		for (size_t j = i + 1; j < x->nr_pairs && !tasks; j++)
			tasks = owner[j] == own &&
				x->A->ops[x->pairs[j].a].task != x->A->ops[x->pairs[i].a].task;
		if (tasks && rss_sums_agree(x, owner, own)) {
			drop_pairs(x, owner, own, &x->rss_moved);
			free(owner);
			normalise_thread_rss(x);	/* the indices moved: again, for other mms */
			return;
		}
		for (size_t j = i; j < x->nr_pairs; j++)
			owner[j] = owner[j] == own ? -1 : owner[j];	/* judged: not again */
	}
	free(owner);
}

/* ---- rss changes a kernel before 6.2 reported late ----------------------- */

/* A trace whose threads' fault-path rss changes show late: before 6.2, not flushed per op. */
static int lags(const struct dtrace *d)
{
	return !d->rss_exact && !d->rss_synced;
}

/*
 * An op's compared faults and net MM_ANONPAGES and MM_SWAPENTS changes,
 * added to *@faults and @rss[2] (side 0: A, 1: B), in one pass over its keys.
 */
static void op_tally(const struct ddiff *x, int side, __u32 op, __s64 *faults, __s64 rss[2])
{
	const struct dop *o = &(side ? x->B : x->A)->ops[op];
	const __u32 *ids = side ? x->kb : x->ka;

	for (__u32 i = 0; i < o->nev; i++) {
		const struct dkey *k;

		if (ids[o->ev0 + i] == DOP_NONE)
			continue;
		k = &x->keys[ids[o->ev0 + i]];
		if (k->kind == MMR_K_PAGE_FAULT_USER || k->kind == MMR_K_PAGE_FAULT_KERNEL)
			(*faults)++;
		else if (k->kind == MMR_K_RSS_STAT && (k->flag & 3) == MMR_RSS_ANON)
			rss[0] += k->val;
		else if (k->kind == MMR_K_RSS_STAT && (k->flag & 3) == MMR_RSS_SWAP)
			rss[1] += k->val;
	}
}

/*
 * Task @t's ops, walked in order with their partners: does what differs
 * in their rss changes fit a lagging side's cache?  The lag of each
 * counter (A's running sum minus B's) never exceeds the faults the lagging
 * sides took since the two last agreed (a fault changes MM_ANONPAGES or
 * MM_SWAPENTS by one page; a huge page is counted at once), and after an
 * op in which every lagging side's counters fell (a zap, which flushes the
 * cache first: add_mm_rss_vec()) it is within that op's own faults.
 */
static int late_rss_fits(const struct ddiff *x, const __u32 *partner_a, int t, int la, int lb)
{
	__s64 lag[2] = { 0, 0 }, since = 0;

	for (size_t i = x->A->task_op0[t]; i < x->A->task_op0[t + 1]; i++) {
		__u32 j = partner_a[i];
		__s64 f[2] = { 0, 0 }, a[2] = { 0, 0 }, b[2] = { 0, 0 };
		int flushed = 1, agree = 1;

		if (j == DOP_NONE)
			continue;
		op_tally(x, 0, i, &f[0], a);
		op_tally(x, 1, j, &f[1], b);
		flushed &= !la || x->A->ops[i].rss_fell;
		flushed &= !lb || x->B->ops[j].rss_fell;
		since = (flushed ? 0 : since) + (la ? f[0] : 0) + (lb ? f[1] : 0);
		for (int k = 0; k < 2; k++) {
			lag[k] += a[k] - b[k];
			if (lag[k] > since || -lag[k] > since)
				return 0;
			agree &= !lag[k];
		}
		since = agree ? 0 : since;
	}
	return 1;
}

/*
 * Before 6.2 a thread caches the rss changes of its own faults and reports
 * them at its next zap, its 64th fault or its exit.  In a trace that did
 * not flush them per op (a recording on such a kernel), a thread's ops
 * that differ from the other trace's only in rss changes are equivalent
 * when the differences fit that cache (late_rss_fits()).
 */
static void normalise_late_rss(struct ddiff *x, const __u32 *partner_a)
{
	int la = lags(x->A), lb = lags(x->B);
	int *owner;

	if ((!la && !lb) || !(owner = malloc((x->nr_pairs + 1) * sizeof(*owner))))
		return;
	for (int t = 0; t < x->A->nr_tasks; t++) {
		int any = 0;

		for (size_t i = 0; i < x->nr_pairs; i++) {
			const struct dpair *p = &x->pairs[i];

			owner[i] = rss_only(x, p) && x->A->ops[p->a].task == (__u32)t ? t : -1;
			any |= owner[i] == t;
		}
		if (any && late_rss_fits(x, partner_a, t, la, lb))
			drop_pairs(x, owner, t, &x->rss_late);
	}
	free(owner);
}

static void verdicts(struct ddiff *x)
{
	x->verdicts = calloc(MAX_VERDICTS, sizeof(*x->verdicts));
	for (size_t i = 0; x->verdicts && i < x->nr_pairs; i++) {
		const struct dpair *p = &x->pairs[i];
		char where[160], t[256];
		int result = 0;

		op_where(x, p, where, sizeof(where));
		if (p->a == DOP_NONE || p->b == DOP_NONE) {
			snprintf(t, sizeof(t), "only %c runs %s", p->a == DOP_NONE ? 'B' : 'A',
				 where + 3);
			add_verdict(x, i, t);
			continue;
		}
		for (size_t k = 0; k < p->nr_only; k++)
			result |= x->keys[p->only[k].key].kind == MMR_K_SYS_EXIT;
		if (result)
			result_verdict(x, i, where);
		kind_verdicts(x, i, where);
		rss_verdicts(x, i, where);
		if (!p->nr_only) {
			snprintf(t, sizeof(t), "A and B cause the same events %s, in another order",
				 where);
			add_verdict(x, i, t);
		}
	}
}

/* ---- the whole comparison ------------------------------------------------ */

int ddiff_run(struct ddiff *x, const struct dtrace *A, const struct dtrace *B, char *err,
	      size_t errlen)
{
	struct align al = { 0 };
	int r = -1;

	memset(x, 0, sizeof(*x));
	x->A = A, x->B = B;
	for (int k = 1; k < MMR_K_NR; k++) {
		x->kinds[k].left_out = A->recorded[k] == B->recorded[k] ? 0 : A->recorded[k] ? 1 : 2;
		x->kinds[k].per_trace = dkind_per_trace(k);
	}
	if (same_workload(A, B, err, errlen) || align_all(&al, A, B, err, errlen))
		goto out;
	x->ka = intern_all(x, A, B, al.partner_a, 0);
	x->kb = intern_all(x, B, A, al.partner_b, 1);
	if (!x->ka || !x->kb) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < al.nr_order && !x->oom; i++)
		compare_pair(x, al.order[i].i, al.order[i].j);
	if (x->oom) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	x->aligned = al.matched;
	x->only_a = real_ops(A) - al.matched;
	x->only_b = real_ops(B) - al.matched;
	normalise_late_rss(x, al.partner_a);
	normalise_thread_rss(x);
	verdicts(x);
	r = 0;
out:
	free(al.partner_a);
	free(al.partner_b);
	free(al.order);
	return r;
}

void ddiff_free(struct ddiff *x)
{
	for (size_t i = 0; i < x->nr_pairs; i++) {
		free(x->pairs[i].only);
		free(x->pairs[i].seq);
	}
	free(x->pairs);
	free(x->keys);
	free(x->hash);
	free(x->ka);
	free(x->kb);
	free(x->verdicts);
	memset(x, 0, sizeof(*x));
}

int dkind_per_trace(int kind)
{
	return kind == MMR_K_LRU_INSERTION || kind == MMR_K_MMAP_LOCK_START ||
	       kind == MMR_K_MMAP_LOCK_ACQUIRED || kind == MMR_K_MMAP_LOCK_RELEASED;
}

int dkey_per_trace(const struct dkey *k)
{
	return dkind_per_trace(k->kind) || ((k->kind == MMR_K_PAGE_FAULT_USER ||
					     k->kind == MMR_K_PAGE_FAULT_KERNEL ||
					     k->kind == MMR_K_RSS_STAT) && k->flag & DK_CACHE);
}

int ddiff_equivalent(const struct ddiff *x)
{
	return !x->nr_pairs;
}

/* How trace @d (side 'A' or 'B') reports its rss changes, if not as they happen. */
static int rss_note(const struct dtrace *d, char side, char *buf, size_t len)
{
	if (d->rss_exact)
		return 0;
	if (d->rss_synced)
		snprintf(buf, len, "%c's kernel (%s) caches each thread's rss changes (before 6.2): "
			 "its replay flushed the cache after every touch and operation, so each "
			 "operation reports its own", side, d->kernel);
	else
		snprintf(buf, len, "%c's kernel (%s) caches each thread's rss changes (before 6.2) "
			 "and reports them in batches: a change can show in a later operation of "
			 "the same thread, as far as that cache explains", side, d->kernel);
	return 1;
}

int ddiff_notes(const struct ddiff *x, char notes[][DIFF_NOTE_LEN], int max)
{
	int n = 0;

	if (n < max)
		n += rss_note(x->A, 'A', notes[n], DIFF_NOTE_LEN);
	if (n < max)
		n += rss_note(x->B, 'B', notes[n], DIFF_NOTE_LEN);
	for (int s = 0; s < 2 && n < max; s++) {
		const struct dtrace *d = s ? x->B : x->A, *o = s ? x->A : x->B;

		if (!strcmp(d->read_fault, "zero_page") && !strcmp(o->read_fault, "page") &&
		    !d->zero_filled && !o->zero_filled)
			snprintf(notes[n++], DIFF_NOTE_LEN, "%c's kernel maps the zero page on a read "
				 "fault of fresh anonymous memory, %c's a page of its own: such a "
				 "page counts in %c's rss at the read, in %c's at a later write "
				 "(not normalised)", 'A' + s, 'A' + !s, 'A' + !s, 'A' + s);
		else if (d->zero_filled)
			snprintf(notes[n++], DIFF_NOTE_LEN, "%c's kernel maps the zero page where "
				 "a read fault's recording got a page of its own: its replay "
				 "wrote those %llu pages through (/proc/self/mem)", 'A' + s,
				 (unsigned long long)d->zero_filled);
	}
	if (n < max && x->A->thp[0] && x->B->thp[0] && strcmp(x->A->thp, x->B->thp))
		snprintf(notes[n++], DIFF_NOTE_LEN, "transparent hugepages: A ran with \"%s\", B "
			 "with \"%s\": one fault maps a huge page under one and a page under the "
			 "other", x->A->thp, x->B->thp);
	return n;
}

static const char *lru_name(int lru)
{
	static const char *const n[] = { "inactive_anon", "active_anon", "inactive_file",
					 "active_file", "unevictable" };

	return lru >= 0 && lru < 5 ? n[lru] : "?";
}

/* The kind-specific part of a key. */
static void key_detail(const struct dkey *k, char *buf, size_t len)
{
	buf[0] = 0;
	switch (k->kind) {
	case MMR_K_SYS_EXIT:
		snprintf(buf, len, " = %d", k->val);
		break;
	case MMR_K_PAGE_FAULT_USER:
	case MMR_K_PAGE_FAULT_KERNEL:
		snprintf(buf, len, " %s%s", k->flag & 1 ? "write" : "read",
			 k->flag & 2 ? " protection" : "");
		break;
	case MMR_K_RSS_STAT:
		snprintf(buf, len, " %s %+d", mmr_rss_name(k->flag & 3), k->val);
		break;
	case MMR_K_LRU_INSERTION:
		snprintf(buf, len, " %s", lru_name(k->flag));
		break;
	case MMR_K_MMAP_LOCK_START:
	case MMR_K_MMAP_LOCK_ACQUIRED:
	case MMR_K_MMAP_LOCK_RELEASED:
		snprintf(buf, len, " %s%s", k->flag & 1 ? "write" : "read",
			 k->kind == MMR_K_MMAP_LOCK_ACQUIRED ? (k->flag & 2 ? " ok" : " failed") : "");
		break;
	case MMR_K_UNMAP_PAGE_RANGE:
	case MMR_K_ZAP_PAGE_RANGE_SINGLE:
		snprintf(buf, len, " %d pages%s%s", k->val, k->flag & 1 ? " details" : "",
			 k->flag & 2 ? " even_cows" : "");
		break;
	case MMR_K_UNMAP_MAPPING_PAGES:
	case MMR_K_UNMAP_MAPPING_RANGE:
		snprintf(buf, len, " file page %u, %d pages%s", k->page, k->val,
			 k->flag ? " even_cows" : "");
		break;
	case MMR_K_FAULT_DONE:
		snprintf(buf, len, " ret 0x%x", k->val);
		break;
	case MMR_K_MLOCK_FOLIO:
	case MMR_K_MUNLOCK_FOLIO:
	case MMR_K_MLOCK_NEW_FOLIO:
		snprintf(buf, len, " %s", k->val ? "small" : "large");
		break;
	}
}

void ddiff_key_text(const struct ddiff *x, __u32 key, char *buf, size_t len)
{
	const struct dkey *k = &x->keys[key];
	char detail[96], at[64] = "";
	const struct dop *o;

	int role = k->kind == MMR_K_RSS_STAT || k->kind == MMR_K_LRU_INSERTION || k->role >= R_NR ?
		   R_NONE : k->role;

	key_detail(k, detail, sizeof(detail));
	if (k->region != DOP_NONE && k->kind != MMR_K_UNMAP_MAPPING_PAGES &&
	    k->kind != MMR_K_UNMAP_MAPPING_RANGE) {
		o = k->region & B_REGION ? &x->B->ops[k->region & ~B_REGION] : &x->A->ops[k->region];
		if (o->type >= DOP_START)
			snprintf(at, sizeof(at), " at page %u of a mapping of task %u", k->page,
				 o->task);
		else
			snprintf(at, sizeof(at), " at page %u of %sop %u's %s", k->page,
				 k->region & B_REGION ? "B " : "", o->id, dop_name(o));
	}
	snprintf(buf, len, "%s%s%s%s%s", kind_text(k->kind), detail, role ? " " : "", roles[role],
		 at);
}
