/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The schema of a trace's tracepoint kinds: where each field the engines
 * read lies in a record, resolved once when the trace is opened from the
 * format text it carries (the layouts differ between kernels), and typed
 * accessors over it.  Struct kinds are read through their structs in
 * bpf/events.h.  Nothing above traces/ computes a field offset or reads a
 * tracepoint record's bytes itself.
 */
#ifndef MMR_FIELDS_H
#define MMR_FIELDS_H

#include "trace.h"

/* A field of a tracepoint kind, named as in the kind's format. */
enum mmr_field {
	F_ADDRESS,	/* page_fault_user: the faulting address */
	F_ERROR_CODE,	/* page_fault_user: x86 error code (1 protection, 2 write) */
	F_MEMBER,	/* rss_stat: which counter (MMR_RSS_*) */
	F_SIZE,		/* rss_stat: its value, in bytes */
	F_PFN,		/* mm_lru_insertion, mm_page_free */
	F_LRU,		/* mm_lru_insertion: enum lru_list */
	F_ADDR,		/* set_migration_pte, remove_migration_pte */
	F_PTE,		/* remove_migration_pte: the pte installed */
	F_ORDER,	/* set_migration_pte, mm_page_free: folio order */
	F_WRITE,	/* mmap_lock_*: a write lock */
	F_SUCCESS,	/* mmap_lock_acquire_returned */
	F_NR
};

struct mmr_field_loc {
	unsigned short off, size;	/* size 0: the kind has no such field */
	unsigned char declared;		/* from the trace's format, not a default */
};

struct mmr_schema {
	struct mmr_field_loc loc[MMR_K_NR][F_NR];
};

/* Fills s from kinds (indexed by kind id, MMR_MAX_KINDS of them): the reader does. */
void mmr_schema_resolve(struct mmr_schema *s, const struct mmr_kind_info *kinds);
/* 1 if the trace's format for kind declares field f. */
int mmr_schema_has(const struct mmr_schema *s, int kind, enum mmr_field f);
/*
 * Offset and size of field NAME in a kind's format text; -1 if absent or
 * beyond what a record can hold (64 KiB), so off + size cannot overflow.
 */
int mmr_format_field(const char *fmt, const char *name, unsigned *off, unsigned *size);

/*
 * Field f of an event of its own kind: zero- or sign-extended from its
 * size; 0 if the kind has no such field or it lies past the record.
 */
__u64 mmr_ev_u64(const struct mmr_event *ev, enum mmr_field f);
__s64 mmr_ev_s64(const struct mmr_event *ev, enum mmr_field f);

/* ---- kmem:rss_stat ---------------------------------------------------- */

/* rss_stat's member: the kernel's mm counters (enum in include/linux/mm_types_task.h) */
enum { MMR_RSS_FILE, MMR_RSS_ANON, MMR_RSS_SWAP, MMR_RSS_SHMEM, MMR_NR_RSS };

/* "MM_FILEPAGES", "MM_ANONPAGES", "MM_SWAPENTS", "MM_SHMEMPAGES"; "?" for another */
const char *mmr_rss_name(int member);

/* An rss_stat event: counter member of its mm is now pages. */
struct mmr_rss {
	int member;
	__s64 pages;
};

/*
 * 0 and *r; -1 if ev is no rss_stat, its trace's format lacks member or
 * size, or member is not one of the four counters.
 */
int mmr_ev_rss(const struct mmr_event *ev, long page_size, struct mmr_rss *r);
/* 1 if the trace's rss_stat format has what mmr_ev_rss() reads. */
int mmr_rss_readable(const struct mmr_schema *s);

/* The rss counters of one mm, in pages, as its rss_stat events set them. */
struct mmr_rss_counters {
	__s64 pages[MMR_NR_RSS];
	__u8 seen[MMR_NR_RSS];
};

/* What an rss_stat event did to its counter. */
struct mmr_rss_change {
	int member;
	__s64 old, now;		/* old: 0 if the counter was never set */
	int seen;		/* it had a value before */
};

/* Applies rss_stat ev to c; 0 and *ch, or -1 as mmr_ev_rss() (c untouched). */
int mmr_rss_update(struct mmr_rss_counters *c, const struct mmr_event *ev, long page_size,
		   struct mmr_rss_change *ch);

/*
 * Whether a kernel of this release (uname -r) counts rss exactly where
 * rss_stat reports it: since 6.2 (f1a7941243c1 "mm: convert mm's rss stats
 * into percpu_counter").  Before, SPLIT_RSS_COUNTING let each thread cache
 * the changes of its own faults (up to 64 faults, until a zap or its exit)
 * and report them later, in a batch.  0 for an unknown release.
 */
int mmr_kernel_rss_exact(const char *release);

/*
 * Whether /proc/PID/status of this release gives the same exact sums:
 * since 6.16 ("mm: fix the inaccurate memory statistics issue for users",
 * Fixes: f1a7941243c1), task_mem() sums the per-CPU counters.  From 6.2 to
 * 6.15 it reads only their shared part (percpu_counter_read_positive()),
 * which misses up to a batch (32 pages or more) per CPU even for a
 * single-threaded process.  0 for an unknown release.
 */
int mmr_kernel_status_exact(const char *release);

#endif /* MMR_FIELDS_H */
