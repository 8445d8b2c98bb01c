// SPDX-License-Identifier: GPL-2.0
/*
 * The findings list and how findings are spelt: verdict and rss counter
 * names, timestamps.  The checker's rules (check.c, ledger.c, verdicts.c)
 * add to it; it knows nothing of them.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "findings.h"

static const char *const verdict_names[V_NR] = {
	"lost-mlock", "stranded-mlock", "skipped-swap-entry", "dropped-cow-swap-entry",
	"rss-counter-mismatch",
};

const char *verdict_name(enum verdict v)
{
	return v < V_NR ? verdict_names[v] : "?";
}

static const char *const defer_rules[D_NR][2] = {
	[D_SHARED_FOREIGN_UNLOCK] = { "shared_foreign_unlock",
				      "shared page after another mm's munlock or unmap" },
	[D_OTHER_RANGE_UNLOCKED] = { "other_range_unlocked",
				     "shared or file page after a munlock of another range" },
	[D_MAPPED_BACK_IN_MLOCK] = { "mapped_back_in_mlock",
				     "migrated back in during an mlock of its range" },
	[D_MIGRATION_UNFOLLOWED] = { "migration_unfollowed",
				     "a migration the trace cannot follow to pages" },
	[D_MIGRATING_NOW] = { "migrating_now", "a migration of this process in flight" },
	[D_MUNLOCK_BATCH_ELSEWHERE] = { "munlock_batch_elsewhere",
					"its munlock moved CPU: queued in another CPU's batch" },
	[D_UNLOCK_RACED_RECLAIM] = { "unlock_raced_reclaim",
				     "reclaim visited it during its range's munlock" },
	[D_LOCK_FAILED] = { "lock_failed", "swapped, the last mlock of its range failed" },
};

const char *defer_rule_key(enum defer_rule r)
{
	return r < D_NR ? defer_rules[r][0] : "?";
}

const char *defer_rule_text(enum defer_rule r)
{
	return r < D_NR ? defer_rules[r][1] : "?";
}

/* A new slot, zeroed; NULL (counted as not stored) if there is none. */
static struct finding *finding_slot(struct findings *fs, __u64 nr)
{
	struct finding *f;

	fs->total++;
	fs->pages += nr;
	if (fs->nr >= FINDINGS_MAX ||
	    !(f = mmr_grow(fs->v, &fs->cap, fs->nr + 1, sizeof(*f), 64))) {
		fs->not_stored++;
		fs->pages_not_stored += nr;
		return NULL;
	}
	fs->v = f;
	f = &fs->v[fs->nr++];
	memset(f, 0, sizeof(*f));
	f->nr_pages = nr;
	return f;
}

static void finding_fill(struct finding *f, enum verdict v, int pid, __u64 mm, int tid, __u64 ts,
			 __u64 addr, __u64 pfn, const char *op)
{
	f->kind = v;
	f->pid = pid;
	f->tid = tid;
	f->mm = mm;
	f->ts = ts;
	f->address = addr;
	f->pfn = pfn;
	snprintf(f->op, sizeof(f->op), "%s", op);
}

struct finding *findings_add(struct findings *fs, enum verdict v, int pid, __u64 mm, int tid,
			     __u64 ts, __u64 addr, __u64 pfn, __u64 nr, const char *op)
{
	struct finding *f = finding_slot(fs, nr);

	if (f)
		finding_fill(f, v, pid, mm, tid, ts, addr, pfn, op);
	return f;
}

void finding_evidence(struct finding *f, const char *fmt, ...)
{
	va_list ap;

	if (!f || f->nr_evidence == FINDING_EVIDENCE)
		return;
	va_start(ap, fmt);
	vsnprintf(f->evidence[f->nr_evidence++], sizeof(f->evidence[0]), fmt, ap);
	va_end(ap);
}

static __u64 mix(__u64 x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	return x ^ (x >> 33);
}

static int seen_grow(struct findings *fs)
{
	size_t cap = fs->seen_cap ? fs->seen_cap * 2 : 1024;
	__u64 *old = fs->seen, *v = calloc(cap, sizeof(*v));

	if (!v)
		return -1;
	for (size_t i = 0; i < fs->seen_cap; i++)
		for (size_t k = old[i] & (cap - 1); old[i]; k = (k + 1) & (cap - 1))
			if (!v[k]) {
				v[k] = old[i];
				break;
			}
	free(old);
	fs->seen = v;
	fs->seen_cap = cap;
	return 0;
}

int findings_seen(struct findings *fs, enum verdict v, __u64 mm, __u64 addr, __u64 pfn)
{
	__u64 h = mix(mix(mix(mm ^ v) ^ addr) ^ pfn) | 1;	/* 0: an empty slot */
	size_t k;

	if (fs->seen_nr >= SEEN_MAX)
		return 0;
	if (fs->seen_nr * 2 >= fs->seen_cap && seen_grow(fs))
		return 0;
	for (k = h & (fs->seen_cap - 1); fs->seen[k]; k = (k + 1) & (fs->seen_cap - 1))
		if (fs->seen[k] == h)
			return 1;
	fs->seen[k] = h;
	fs->seen_nr++;
	return 0;
}

/* ---- groups of pages ----------------------------------------------- */

static __u64 str_hash(const char *s)
{
	__u64 h = 0xcbf29ce484222325ULL;	/* FNV-1a */

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
	return h;
}

static __u64 group_key(const struct finding_at *at)
{
	return mix(mix(mix(mix(at->kind ^ at->mm) ^ at->snapshot) ^ at->op_ts) ^ str_hash(at->op)) | 1;
}

static int group_is(const struct finding *f, const struct finding_at *at)
{
	return f->group && f->kind == at->kind && f->mm == at->mm && f->snapshot == at->snapshot &&
	       f->op_ts == at->op_ts && !strcmp(f->op, at->op);
}

/* The index slot of @key: its group's, or the empty one to put it in (-1: no index). */
static long group_slot(struct findings *fs, __u64 key, const struct finding_at *at, int *found)
{
	size_t k;

	*found = 0;
	if (!fs->groups && !(fs->groups = calloc(GROUPS_CAP, sizeof(*fs->groups))))
		return -1;
	for (k = key & (GROUPS_CAP - 1); fs->groups[k].key; k = (k + 1) & (GROUPS_CAP - 1))
		if (fs->groups[k].key == key && fs->groups[k].i < fs->nr &&
		    group_is(&fs->v[fs->groups[k].i], at)) {
			*found = 1;
			break;
		}
	return k;
}

static void group_list(struct findings *fs, struct finding *f, __u64 addr, __u64 pfn)
{
	struct finding_page *p;

	if (fs->listed >= LISTED_MAX)
		return;		/* counted in nr_pages, printed as not listed */
	if (!(p = mmr_grow(f->pages, &f->cap_listed, f->nr_listed + 1, sizeof(*p), 8)))
		return;
	f->pages = p;
	f->pages[f->nr_listed].addr = addr;
	f->pages[f->nr_listed++].pfn = pfn;
	fs->listed++;
}

struct finding *findings_page(struct findings *fs, const struct finding_at *at, __u64 addr,
			      __u64 pfn)
{
	__u64 key = group_key(at);
	struct finding *f;
	long slot;
	int found;

	slot = group_slot(fs, key, at, &found);
	if (found) {
		f = &fs->v[fs->groups[slot].i];
		f->nr_pages++;
		fs->pages++;
		group_list(fs, f, addr, pfn);
		return NULL;
	}
	if (key == fs->unstored_key) {	/* a page of a finding not stored */
		fs->pages++;
		fs->pages_not_stored++;
		return NULL;
	}
	f = finding_slot(fs, 1);
	if (!f) {
		fs->unstored_key = key;
		return NULL;
	}
	finding_fill(f, at->kind, at->pid, at->mm, at->tid, at->ts, addr, pfn, at->op);
	f->snapshot = at->snapshot;
	f->op_ts = at->op_ts;
	f->from_ledger = at->from_ledger;
	f->group = 1;
	group_list(fs, f, addr, pfn);
	if (slot >= 0) {
		fs->groups[slot].key = key;
		fs->groups[slot].i = f - fs->v;
	}
	return f;
}

__u64 findings_drop_ledger(struct findings *fs, __u64 not_stored, __u64 pages_not_stored)
{
	__u64 dropped = not_stored;
	int keep = 0;

	for (int i = 0; i < fs->nr; i++) {
		struct finding *f = &fs->v[i];

		if (!f->from_ledger) {
			fs->v[keep++] = *f;
			continue;
		}
		dropped++;
		fs->total--;
		fs->pages -= f->nr_pages;
		fs->listed -= f->nr_listed;
		free(f->pages);
	}
	fs->nr = keep;
	fs->total -= not_stored;
	fs->not_stored -= not_stored;
	fs->pages -= pages_not_stored;
	fs->pages_not_stored -= pages_not_stored;
	free(fs->groups);	/* indices moved; no finding is added after this */
	fs->groups = NULL;
	return dropped;
}

void findings_free(struct findings *fs)
{
	for (int i = 0; i < fs->nr; i++)
		free(fs->v[i].pages);
	free(fs->groups);
	free(fs->seen);
	free(fs->v);
	memset(fs, 0, sizeof(*fs));
}

const char *ts_str(__u64 ts, char *buf, size_t len)
{
	snprintf(buf, len, "%llu.%06llu", (unsigned long long)ts / 1000000000ULL,
		 (unsigned long long)ts % 1000000000ULL / 1000);
	return buf;
}
