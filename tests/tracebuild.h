/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Build traces by hand with the trace library: the synthetic event
 * sequences that the checker's tests (and bench/check-throughput) feed it.
 * Records are laid out exactly as the recorder writes them.
 */
#ifndef MMR_TRACEBUILD_H
#define MMR_TRACEBUILD_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "traces/kinds.h"
#include "traces/trace.h"

/* The four fields every format starts with, as the kernel lays them out. */
#define TB_COMMON_FIELDS							\
	"\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n"	\
	"\tfield:unsigned char common_flags;\toffset:2;\tsize:1;\tsigned:0;\n"	\
	"\tfield:unsigned char common_preempt_count;\toffset:3;\tsize:1;\tsigned:0;\n" \
	"\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;\n\n"

/* The kernel's kmem:rss_stat format (6.18, x86_64), as a trace stores it. */
static const char tb_rss_format[] =
	"name: rss_stat\nID: 646\nformat:\n"
	TB_COMMON_FIELDS
	"\tfield:unsigned int mm_id;\toffset:8;\tsize:4;\tsigned:0;\n"
	"\tfield:unsigned int curr;\toffset:12;\tsize:4;\tsigned:0;\n"
	"\tfield:int member;\toffset:16;\tsize:4;\tsigned:1;\n"
	"\tfield:long size;\toffset:24;\tsize:8;\tsigned:1;\n\n"
	"print fmt: \"mm_id=%u curr=%d member=%d size=%ldB\", REC->mm_id, REC->curr, "
	"REC->member, REC->size\n";

/* pagemap:mm_lru_insertion as a trace stores it (6.1 and 6.18 agree on these fields). */
static const char tb_lru_format[] =
	"name: mm_lru_insertion\nID: 500\nformat:\n"
	TB_COMMON_FIELDS
	"\tfield:struct folio * folio;\toffset:8;\tsize:8;\tsigned:0;\n"
	"\tfield:unsigned long pfn;\toffset:16;\tsize:8;\tsigned:0;\n"
	"\tfield:enum lru_list lru;\toffset:24;\tsize:4;\tsigned:0;\n"
	"\tfield:unsigned long flags;\toffset:32;\tsize:8;\tsigned:0;\n\n"
	"print fmt: \"pfn=0x%lx lru=%d\", REC->pfn, REC->lru\n";

/* kmem:mm_page_free, as the recorder stores it (its own print fmt). */
static const char tb_page_free_format[] =
	"name: mm_page_free\nID: 501\nformat:\n"
	TB_COMMON_FIELDS
	"\tfield:unsigned long pfn;\toffset:8;\tsize:8;\tsigned:0;\n"
	"\tfield:unsigned int order;\toffset:16;\tsize:4;\tsigned:0;\n\n"
	"print fmt: \"pfn=0x%lx order=%d\", REC->pfn, REC->order\n";

/* exceptions:page_fault_user and migrate:set_migration_pte (6.18, x86_64). */
static const char tb_fault_format[] =
	"name: page_fault_user\nID: 190\nformat:\n"
	TB_COMMON_FIELDS
	"\tfield:unsigned long address;\toffset:8;\tsize:8;\tsigned:0;\n"
	"\tfield:unsigned long ip;\toffset:16;\tsize:8;\tsigned:0;\n"
	"\tfield:unsigned long error_code;\toffset:24;\tsize:8;\tsigned:0;\n\n"
	"print fmt: \"address=%lx error_code=0x%lx\", REC->address, REC->error_code\n";

static const char tb_migration_format[] =
	"name: set_migration_pte\nID: 711\nformat:\n"
	TB_COMMON_FIELDS
	"\tfield:unsigned long addr;\toffset:8;\tsize:8;\tsigned:0;\n"
	"\tfield:unsigned long pte;\toffset:16;\tsize:8;\tsigned:0;\n"
	"\tfield:int order;\toffset:24;\tsize:4;\tsigned:1;\n\n"
	"print fmt: \"addr=%lx, pte=%lx order=%d\", REC->addr, REC->pte, REC->order\n";

static const char tb_migration_back_format[] =
	"name: remove_migration_pte\nID: 712\nformat:\n"
	TB_COMMON_FIELDS
	"\tfield:unsigned long addr;\toffset:8;\tsize:8;\tsigned:0;\n"
	"\tfield:unsigned long pte;\toffset:16;\tsize:8;\tsigned:0;\n"
	"\tfield:int order;\toffset:24;\tsize:4;\tsigned:1;\n\n"
	"print fmt: \"addr=%lx, pte=%lx order=%d\", REC->addr, REC->pte, REC->order\n";

struct tb {
	struct mmr_writer *w;
	__u64 ts;
	__u32 seq;
	int tgid, tid;
	__u16 cpu;		/* of the records put from now on */
	__u64 mm;
	struct mmr_snap_pages *pages;
	__u32 end_flags;	/* more MMR_SNAPF_* for tb_snap_end() (MMR_SNAPF_PMD_KNOWN) */
};

static inline void tb_kind(struct mmr_writer *w, int id, const char *src, const char *fmt)
{
	const struct kind_def *k = kind_def(id);
	char *text = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&text, &len);

	fprintf(m, "id=%d\nname=%s\nsystem=%s\nsource=%s\nattach=test\nstatus=ok\nformat:\n%s",
		id, k->name, k->system, src, fmt);
	fclose(m);
	mmr_writer_chunk(w, MMR_CHUNK_KIND, text, len);
	free(text);
}

/* KIND chunks for every kind whose format mmreplay generates itself. */
static inline void tb_put_kinds(struct mmr_writer *w)
{
	for (int i = 0; i < mmr_nr_kinds; i++) {
		const struct kind_def *k = &mmr_kinds[i];
		char *fmt;

		if (k->src == MMR_SRC_TRACEPOINT)
			continue;	/* those formats come from the kernel */
		fmt = kind_format(k);
		tb_kind(w, k->id, kind_source_name(k->src), fmt);
		free(fmt);
	}
}

/* A trace of process @tgid (mm @mm) recorded on kernel @release. */
static inline int tb_open(struct tb *b, const char *path, const char *release, int tgid, __u64 mm)
{
	char err[256], meta[256];

	memset(b, 0, sizeof(*b));
	b->w = mmr_writer_open(path, err, sizeof(err));
	if (!b->w)
		return -1;
	b->ts = 1000000000ULL;
	b->tgid = b->tid = tgid;
	b->mm = mm;
	snprintf(meta, sizeof(meta), "format_version=1\nkernel_release=%s\nmachine=x86_64\n"
		 "page_size=4096\ncommand=./workload\n", release);
	mmr_writer_chunk(b->w, MMR_CHUNK_META, meta, strlen(meta));
	tb_put_kinds(b->w);
	tb_kind(b->w, MMR_K_RSS_STAT, "tracepoint", tb_rss_format);
	tb_kind(b->w, MMR_K_LRU_INSERTION, "tracepoint", tb_lru_format);
	b->pages = calloc(1, sizeof(*b->pages) + MMR_SNAP_PAGES_MAX * sizeof(struct mmr_snap_page));
	return b->pages ? 0 : -1;
}

static inline int tb_close_stats(struct tb *b, const char *stats)
{
	free(b->pages);
	return mmr_writer_close(b->w, stats);
}

static inline int tb_close(struct tb *b)
{
	return tb_close_stats(b, "events=0\ndrops=0\n");
}

static inline void tb_put(struct tb *b, int kind, void *rec, size_t len)
{
	struct mmr_hdr h = { .ts = b->ts, .mm = b->mm, .tgid = b->tgid, .cpu = b->cpu, .len = len };
	struct mmr_common *c = rec;

	b->ts += 1000;
	c->type = kind;
	c->pid = b->tid;
	mmr_writer_event(b->w, &h, rec);
}

/* A completed syscall: enter (with @file as the fd's file) and exit. */
static inline void tb_sys(struct tb *b, int nr, __u64 a0, __u64 a1, __u64 a2, __u64 a3,
			  long ret, const struct mmr_file_id *file)
{
	struct mmr_sys_enter e = { .nr = nr, .args = { a0, a1, a2, a3 } };
	struct mmr_sys_exit x = { .nr = nr, .ret = ret };

	if (file)
		e.file = *file;
	tb_put(b, MMR_K_SYS_ENTER, &e, sizeof(e));
	tb_put(b, MMR_K_SYS_EXIT, &x, sizeof(x));
}

/* kmem:rss_stat: counter @member is now @pages. */
static inline void tb_rss(struct tb *b, int member, long pages)
{
	unsigned char rec[32] = { 0 };

	memcpy(rec + 16, &member, 4);
	pages *= 4096;
	memcpy(rec + 24, &pages, 8);
	tb_put(b, MMR_K_RSS_STAT, rec, sizeof(rec));
}

/* Only a syscall's entry (its exit comes later, with tb_sys_exit). */
static inline void tb_sys_enter(struct tb *b, int nr, __u64 a0, __u64 a1, __u64 a2)
{
	struct mmr_sys_enter e = { .nr = nr, .args = { a0, a1, a2 } };

	tb_put(b, MMR_K_SYS_ENTER, &e, sizeof(e));
}

static inline void tb_sys_exit(struct tb *b, int nr, long ret)
{
	struct mmr_sys_exit x = { .nr = nr, .ret = ret };

	tb_put(b, MMR_K_SYS_EXIT, &x, sizeof(x));
}

/* exceptions:page_fault_user at @addr (@write: error_code 0x6, else 0x4) */
static inline void tb_fault(struct tb *b, __u64 addr, int write)
{
	unsigned char rec[32] = { 0 };
	__u64 err = write ? 6 : 4;

	memcpy(rec + 8, &addr, 8);
	memcpy(rec + 24, &err, 8);
	tb_put(b, MMR_K_PAGE_FAULT_USER, rec, sizeof(rec));
}

/* migrate:set_migration_pte at @addr */
static inline void tb_migration(struct tb *b, __u64 addr)
{
	unsigned char rec[32] = { 0 };

	memcpy(rec + 8, &addr, 8);
	tb_put(b, MMR_K_SET_MIGRATION_PTE, rec, sizeof(rec));
}

/* migrate:remove_migration_pte: @pfn mapped back in at @addr (needs its format) */
static inline void tb_migrated_back(struct tb *b, __u64 addr, __u64 pfn)
{
	unsigned char rec[32] = { 0 };
	__u64 pte = pfn << 12 | 0x1;	/* present */

	memcpy(rec + 8, &addr, 8);
	memcpy(rec + 16, &pte, 8);
	tb_put(b, MMR_K_REMOVE_MIGRATION_PTE, rec, sizeof(rec));
}

/* try_to_unmap_one (or try_to_migrate_one) of @pfn at @addr in a vma ending at @vm_end */
static inline void tb_rmap(struct tb *b, int kind, __u64 pfn, __u64 addr, __u64 vm_end)
{
	struct mmr_rmap r = { .pfn = pfn, .address = addr, .vm_start = addr, .vm_end = vm_end,
			      .nr_pages = 1 };

	tb_put(b, kind, &r, sizeof(r));
}

/* unmap_page_range (kind MMR_K_UNMAP_PAGE_RANGE) or its return (MMR_K_ZAP_DONE) */
static inline void tb_zap(struct tb *b, int kind, __u64 start, __u64 end, int details,
			  int even_cows)
{
	struct mmr_zap z = { .vm_start = start, .vm_end = end, .start = start, .end = end,
			     .has_details = details, .even_cows = even_cows };

	tb_put(b, kind, &z, sizeof(z));
}

static inline void tb_free_swap(struct tb *b, __u64 entry)
{
	struct mmr_free_swap f = { .entry = entry, .nr = 1 };

	tb_put(b, MMR_K_FREE_SWAP_AND_CACHE, &f, sizeof(f));
}

static inline void tb_swapin(struct tb *b, __u64 addr)
{
	struct mmr_swap_fault f = { .address = addr };

	tb_put(b, MMR_K_DO_SWAP_PAGE, &f, sizeof(f));
}

/* mlock_folio, mlock_new_folio or munlock_folio of @pfn (@nr 0: a large folio) */
static inline void tb_mlock(struct tb *b, int kind, __u64 pfn, __u32 nr)
{
	struct mmr_mlock m = { .pfn = pfn, .nr_pages = nr };

	tb_put(b, kind, &m, sizeof(m));
}

/* pagemap:mm_lru_insertion of @pfn onto list @lru (4: unevictable) */
static inline void tb_lru(struct tb *b, __u64 pfn, __u32 lru)
{
	unsigned char rec[40] = { 0 };

	memcpy(rec + 16, &pfn, 8);
	memcpy(rec + 24, &lru, 4);
	tb_put(b, MMR_K_LRU_INSERTION, rec, sizeof(rec));
}

/* Declares kmem:mm_page_free, as a recorder whose mlock hooks attached does. */
static inline void tb_page_free_kind(struct tb *b)
{
	tb_kind(b->w, MMR_K_PAGE_FREE, "tracepoint", tb_page_free_format);
}

/* kmem:mm_page_free of @pfn, a folio of order @order */
static inline void tb_page_free(struct tb *b, __u64 pfn, __u32 order)
{
	unsigned char rec[24] = { 0 };

	memcpy(rec + 8, &pfn, 8);
	memcpy(rec + 16, &order, 4);
	tb_put(b, MMR_K_PAGE_FREE, rec, sizeof(rec));
}

static inline void tb_exit_mmap(struct tb *b)
{
	unsigned char rec[24] = { 0 };

	tb_put(b, MMR_K_EXIT_MMAP, rec, sizeof(rec));
}

static inline struct mmr_snap_counters tb_counters(long anon, long file, long swap)
{
	struct mmr_snap_counters st = { .rss_anon = anon, .rss_file = file, .rss_shmem = 0,
					.vm_swap = swap, .vm_lck = 0 };
	return st;
}

/* Opens a snapshot of the process after syscall @reason (held, drained). */
static inline void tb_snap(struct tb *b, __u32 reason, struct mmr_snap_counters st)
{
	struct mmr_snap s = { .seq = ++b->seq, .reason = reason,
			      .flags = MMR_SNAPF_HELD | MMR_SNAPF_DRAINED, .st = st };

	tb_put(b, MMR_K_SNAP, &s, sizeof(s));
}

/*
 * A snapshot's pages belong to the VMA record before them, as the recorder
 * writes them: the pages given so far go out before the next VMA starts.
 */
static inline void tb_flush_pages(struct tb *b)
{
	if (b->pages->nr) {
		b->pages->seq = b->seq;
		tb_put(b, MMR_K_SNAP_PAGES, b->pages,
		       sizeof(*b->pages) + b->pages->nr * sizeof(struct mmr_snap_page));
		b->pages->nr = 0;
	}
}

static inline void tb_vma(struct tb *b, __u64 start, __u64 end, __u32 flags, __u64 ino,
			  __u64 pgoff, const char *name)
{
	struct mmr_snap_vma v = { .seq = b->seq, .flags = flags, .start = start, .end = end,
				  .pgoff = pgoff, .ino = ino, .dev = ino ? 0x800001 : 0 };

	tb_flush_pages(b);
	snprintf(v.name, sizeof(v.name), "%s", name);
	tb_put(b, MMR_K_SNAP_VMA, &v, sizeof(v));
}

/* Page flags for tb_page() */
#define TB_PRESENT(pfn) (MMR_PM_PRESENT | (pfn))
#define TB_SWAP(type, off) (MMR_PM_SWAP | (type) | ((__u64)(off) << 5))

static inline void tb_page(struct tb *b, __u64 addr, __u64 pagemap, __u32 kflags, __u32 mapcount)
{
	struct mmr_snap_page *p = &b->pages->p[b->pages->nr++];

	memset(p, 0, sizeof(*p));
	p->addr = addr;
	p->pagemap = pagemap;
	p->kflags = kflags;
	p->mapcount = mapcount;
	p->folio_nr = 1;
	if (b->pages->nr == MMR_SNAP_PAGES_MAX)
		tb_flush_pages(b);
}

static inline void tb_snap_end(struct tb *b, struct mmr_snap_counters st)
{
	struct mmr_snap_end e = { .seq = b->seq, .st = st,
				  .flags = MMR_SNAPF_HELD | MMR_SNAPF_DRAINED | MMR_SNAPF_STABLE |
					   b->end_flags };

	tb_flush_pages(b);
	tb_put(b, MMR_K_SNAP_END, &e, sizeof(e));
}

/* Opens the snapshot after a reclaim pass of @us (record --reclaim-pass); tb_reclaim_end closes it. */
static inline void tb_reclaim_snap(struct tb *b, __u32 us, struct mmr_snap_counters st)
{
	struct mmr_snap s = { .seq = ++b->seq, .reason = MMR_SNAP_REASON_RECLAIM,
			      .flags = MMR_SNAPF_HELD | MMR_SNAPF_DRAINED | MMR_SNAPF_RECLAIM,
			      .reclaim_us = us, .st = st };

	tb_put(b, MMR_K_SNAP, &s, sizeof(s));
}

static inline void tb_reclaim_end(struct tb *b, struct mmr_snap_counters st)
{
	struct mmr_snap_end e = { .seq = b->seq, .st = st,
				  .flags = MMR_SNAPF_HELD | MMR_SNAPF_DRAINED | MMR_SNAPF_RECLAIM };

	tb_flush_pages(b);
	tb_put(b, MMR_K_SNAP_END, &e, sizeof(e));
}

/* A global snapshot: Mlocked and the unevictable counters. */
static inline void tb_global(struct tb *b, __u32 reason, long mlocked, long cleared, long stranded)
{
	struct mmr_snap s = { .seq = ++b->seq, .reason = reason, .flags = MMR_SNAPF_DRAINED,
			      .mlocked = mlocked, .pgs_cleared = cleared, .pgs_stranded = stranded };
	int tgid = b->tgid;
	__u64 mm = b->mm;

	memset(&s.st, 0xff, sizeof(s.st));
	b->tgid = 0;
	b->mm = 0;
	tb_put(b, MMR_K_SNAP, &s, sizeof(s));
	b->tgid = tgid;
	b->mm = mm;
}

#endif
