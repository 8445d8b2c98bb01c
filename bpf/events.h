/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Event records shared by the BPF programs and userspace.
 *
 * Every record in the ring buffer (and in a trace file) is a struct mmr_hdr
 * followed by hdr.len bytes of payload.  The payload always starts with a
 * struct mmr_common laid out like the ftrace common header, so that the
 * stored format descriptions decode it with libtraceevent: for events copied
 * from a tracepoint the payload is the kernel's raw record (common_type
 * rewritten to our kind id); for our own events it is one of the structs
 * below, described by a format generated from the same struct (traces/kinds.c).
 */
#ifndef MMR_EVENTS_H
#define MMR_EVENTS_H

enum mmr_kind {
	MMR_K_NONE = 0,
	/* syscalls and task lifetime (tp_btf raw_syscalls/sched) */
	MMR_K_SYS_ENTER,
	MMR_K_SYS_EXIT,
	MMR_K_SYS_PATH,
	MMR_K_TASK_FORK,
	MMR_K_TASK_EXIT,
	MMR_K_TASK_EXEC,
	/* tracepoints copied raw */
	MMR_K_PAGE_FAULT_USER,
	MMR_K_RSS_STAT,
	MMR_K_LRU_INSERTION,
	MMR_K_SET_MIGRATION_PTE,
	MMR_K_REMOVE_MIGRATION_PTE,
	MMR_K_MMAP_LOCK_START,
	MMR_K_MMAP_LOCK_ACQUIRED,
	MMR_K_MMAP_LOCK_RELEASED,
	MMR_K_EXIT_MMAP,
	/* kernel internals (fentry, else kprobe) */
	MMR_K_TRY_TO_UNMAP_ONE,
	MMR_K_FOLIO_REFERENCED_ONE,
	MMR_K_TRY_TO_MIGRATE_ONE,
	MMR_K_MLOCK_FOLIO,
	MMR_K_MUNLOCK_FOLIO,
	MMR_K_MLOCK_NEW_FOLIO,
	MMR_K_UNMAP_PAGE_RANGE,
	MMR_K_ZAP_PAGE_RANGE_SINGLE,
	MMR_K_UNMAP_MAPPING_PAGES,
	MMR_K_UNMAP_MAPPING_RANGE,
	MMR_K_FREE_SWAP_AND_CACHE,
	MMR_K_DO_SWAP_PAGE,
	MMR_K_FAULT_DONE,
	/* state snapshots, written by the recorder from /proc (record --snapshot) */
	MMR_K_SNAP,
	MMR_K_SNAP_VMA,
	MMR_K_SNAP_PAGES,
	MMR_K_SNAP_END,
	/* appended after the snapshot kinds so that older traces keep their ids */
	MMR_K_ZAP_DONE,		/* unmap_page_range returned (fexit or kretprobe) */
	MMR_K_PAGE_FAULT_KERNEL,	/* a fault the kernel took on a user address */
	MMR_K_PAGE_FREE,	/* kmem:mm_page_free of a PFN the mlock ledger follows */
	MMR_K_NEW_ANON_RMAP,	/* a new anonymous folio mapped into a VM_LOCKED vma (struct mmr_rmap) */
	MMR_K_NR,
};

/* Ring-buffer / trace record header: 24 bytes. */
struct mmr_hdr {
	__u64 ts;	/* bpf_ktime_get_ns(), CLOCK_MONOTONIC */
	__u64 mm;	/* keyed hash of the mm (0: none); see mmhash.h */
	__u32 tgid;
	__u16 cpu;
	__u16 len;	/* payload bytes that follow */
};

/* ftrace-compatible common header: 8 bytes. */
#define MMR_CF_STOPPED 0x1	/* sys_exit: SIGSTOP sent for a snapshot (record --snapshot) */

/*
 * A replay's helper bracket: prctl(MMR_MARK_HELPER, 1) before the calls a
 * replay makes so that its kernel reports as the recording's did
 * (replay/xkernel.c), prctl(MMR_MARK_HELPER, 0, pages) after (marks in
 * traces/marks.h).  They are not the workload's: record --snapshot takes
 * no snapshot after a call inside one.
 */
#define MMR_MARK_HELPER 0x4d4d5248
struct mmr_common {
	__u16 type;	/* enum mmr_kind */
	__u8 flags;	/* MMR_CF_* */
	__u8 preempt_count;
	__s32 pid;	/* thread id */
};

struct mmr_file_id {
	__u64 ino;
	__u64 size;	/* i_size in bytes */
	__u32 dev;	/* s_dev, kernel encoding (MAJOR << 20 | MINOR) */
	__u32 valid;	/* 1 if the fields above were resolved */
};

struct mmr_sys_enter {
	struct mmr_common c;
	__u32 nr;
	__u32 pad;
	__u64 args[6];
	struct mmr_file_id file;	/* file behind a fd argument */
};

struct mmr_sys_exit {
	struct mmr_common c;
	__u32 nr;
	__u32 pad;
	__s64 ret;
	struct mmr_file_id file;	/* file behind a returned fd or new mapping */
};

#define MMR_PATH_MAX 128
struct mmr_sys_path {
	struct mmr_common c;
	__u32 nr;
	__u32 arg;	/* which argument the string came from */
	char path[MMR_PATH_MAX];
};

struct mmr_task_fork {
	struct mmr_common c;
	__s32 parent_tid;
	__s32 parent_tgid;
	__s32 child_tid;
	__s32 child_tgid;
	__u64 child_mm;		/* keyed hash; equal to hdr.mm when CLONE_VM */
};

struct mmr_task_exit {
	struct mmr_common c;
	__s32 tid;
	__s32 exit_code;
	__u32 group_dead;
	__u32 pad;
};

struct mmr_task_exec {
	struct mmr_common c;
	__s32 old_tid;
	__u32 pad;
	char comm[16];
};

/* try_to_unmap_one, folio_referenced_one, try_to_migrate_one */
struct mmr_rmap {
	struct mmr_common c;
	__u64 pfn;		/* ~0: unknown */
	__u64 address;
	__u64 vm_start;
	__u64 vm_end;
	__u64 vm_flags;
	__u32 nr_pages;
	__u32 pad;
};

/* mlock_folio, munlock_folio, mlock_new_folio (and 6.1 page variants) */
struct mmr_mlock {
	struct mmr_common c;
	__u64 pfn;
	__u64 folio_flags;
	__u32 nr_pages;		/* 1, or 0 for a large folio (its size is not read) */
	__u32 mlock_count;
};

/*
 * unmap_page_range, zap_page_range_single, and zap_done when
 * unmap_page_range returns (from kretprobe only hdr.mm is known: the
 * other fields are 0).
 */
struct mmr_zap {
	struct mmr_common c;
	__u64 vm_start;
	__u64 vm_end;
	__u64 start;
	__u64 end;
	__u64 vm_flags;
	__u32 has_details;
	__u32 even_cows;
};

/* unmap_mapping_pages (start/nr in pages), unmap_mapping_range (bytes) */
struct mmr_unmap_mapping {
	struct mmr_common c;
	__u64 start;
	__u64 len;
	__u64 ino;
	__u32 dev;
	__u32 even_cows;
};

struct mmr_free_swap {
	struct mmr_common c;
	__u64 entry;
	__u32 nr;
	__u32 pad;
};

struct mmr_swap_fault {
	struct mmr_common c;
	__u64 address;
	__u64 orig_pte;
	__u32 flags;
	__u32 pad;
};

struct mmr_fault_done {
	struct mmr_common c;
	__u64 address;
	__u32 flags;
	__u32 ret;		/* vm_fault_t */
};

/*
 * Snapshots.  One snapshot is a SNAP record, then for each VMA a SNAP_VMA
 * record followed by SNAP_PAGES records for its present or swapped pages,
 * then a SNAP_END record; all carry the same seq, in time order.  A global
 * snapshot (counters only: at start, after a process exited, at the end)
 * has pid 0 and no VMAs.  Values are pages unless named otherwise; -1 is
 * unknown.
 */
#define MMR_SNAP_REASON_BASELINE 0x10000	/* before the workload starts */
#define MMR_SNAP_REASON_EXIT	 0x10001	/* after a traced process exited */
#define MMR_SNAP_REASON_END	 0x10002	/* when the recording ends */
#define MMR_SNAP_REASON_RECLAIM	 0x10003	/* after the reclaim pass of a held snapshot */

#define MMR_SNAPF_HELD		0x1	/* every thread was stopped while it was read */
#define MMR_SNAPF_DRAINED	0x2	/* per-CPU LRU and mlock batches were drained first */
#define MMR_SNAPF_STABLE	0x4	/* (SNAP_END) status counters equal before and after */
#define MMR_SNAPF_GONE		0x8	/* (SNAP_END) it was killed or exited while it was read */
/*
 * Taken right after the snapshot before it, still held, once a reclaim of
 * the process's cgroup (record --reclaim-pass) had run: it tells what
 * reclaim made of pages that snapshot found unmlocked in VM_LOCKED VMAs.
 */
#define MMR_SNAPF_RECLAIM	0x10
/* (SNAP_END) its pages say which are mapped by a PMD (MMR_PF_PMD): PAGEMAP_SCAN, 6.7+ */
#define MMR_SNAPF_PMD_KNOWN	0x20

struct mmr_snap_counters {
	__s64 rss_anon, rss_file, rss_shmem, vm_swap, vm_lck;	/* /proc/PID/status */
};

struct mmr_snap {
	struct mmr_common c;	/* pid: thread whose syscall triggered it */
	__u32 seq;
	__u32 reason;		/* syscall nr, or MMR_SNAP_REASON_* */
	__u32 flags;		/* MMR_SNAPF_* */
	__u32 reclaim_us;	/* MMR_SNAPF_RECLAIM: how long the reclaim pass took */
	struct mmr_snap_counters st;
	/* /proc/meminfo and /proc/vmstat */
	__s64 mlocked, unevictable, swap_free;
	__s64 pgs_mlocked, pgs_munlocked, pgs_cleared, pgs_stranded, pgs_rescued;
};

/* VmFlags of /proc/PID/smaps */
#define MMR_VMA_READ	0x1
#define MMR_VMA_WRITE	0x2
#define MMR_VMA_EXEC	0x4
#define MMR_VMA_SHARED	0x8	/* sh */
#define MMR_VMA_LOCKED	0x10	/* lo: VM_LOCKED */
#define MMR_VMA_IO	0x20	/* io or pf: no struct pages */
#define MMR_VMA_HUGETLB	0x40	/* ht */
#define MMR_VMA_MERGEABLE 0x80	/* mg: KSM may merge its pages */
#define MMR_VMA_ANON	0x100	/* no file behind it */

#define MMR_SNAP_NAME 64
struct mmr_snap_vma {
	struct mmr_common c;
	__u32 seq;
	__u32 flags;		/* MMR_VMA_* */
	__u64 start, end;
	__u64 pgoff;		/* file offset of start, bytes */
	__u64 ino;
	__u32 dev;		/* kernel encoding, like mmr_file_id.dev */
	__u32 pad;
	char name[MMR_SNAP_NAME];	/* path or [heap]/[stack]..., truncated */
};

/* Page flags, from /proc/kpageflags */
#define MMR_PF_MLOCKED		0x1	/* KPF_MLOCKED */
#define MMR_PF_UNEVICTABLE	0x2	/* KPF_UNEVICTABLE */
#define MMR_PF_LARGE		0x4	/* KPF_COMPOUND_HEAD or _TAIL */
#define MMR_PF_THP		0x8	/* KPF_THP */
#define MMR_PF_KSM		0x10	/* KPF_KSM */
#define MMR_PF_ZERO		0x20	/* KPF_ZERO_PAGE */
#define MMR_PF_ANON		0x40	/* KPF_ANON */
#define MMR_PF_NOPAGE		0x80	/* KPF_NOPAGE */
#define MMR_PF_SWAPCACHE	0x100	/* KPF_SWAPCACHE */
#define MMR_PF_LRU		0x200	/* KPF_LRU */
#define MMR_PF_HUGE		0x400	/* KPF_HUGE (hugetlb) */
/*
 * Not from kpageflags: the page's pagemap entry changed while the snapshot
 * read its flags, and still did after the last read again (migration went
 * on); its flags may be another page's, so they are not judged.
 */
#define MMR_PF_MOVED		0x800
/*
 * Not from kpageflags: a page of a VM_LOCKED VMA mapped by a PMD (a
 * PMD-mapped THP: PAGEMAP_SCAN's PAGE_IS_HUGE, in two scans around the
 * read); only where the snapshot has MMR_SNAPF_PMD_KNOWN.
 */
#define MMR_PF_PMD		0x1000

struct mmr_snap_page {
	__u64 addr;
	__u64 pagemap;		/* the /proc/PID/pagemap entry, as read */
	__u32 kflags;		/* MMR_PF_*; 0 when not present */
	__u32 mapcount;		/* /proc/kpagecount */
	__u32 folio_idx;	/* page index in its folio (large folios) */
	__u32 folio_nr;		/* pages in the folio, 1 for small ones */
};

#define MMR_SNAP_PAGES_MAX 2000	/* keeps a record under 64 KiB */
struct mmr_snap_pages {
	struct mmr_common c;
	__u32 seq;
	__u32 nr;
	struct mmr_snap_page p[];
};

struct mmr_snap_end {
	struct mmr_common c;
	__u32 seq;
	__u32 flags;		/* MMR_SNAPF_* */
	__u32 nr_vmas;
	__u32 nr_pages;
	struct mmr_snap_counters st;	/* re-read after the pages */
};

/* pagemap entry bits (Documentation/admin-guide/mm/pagemap.rst) */
#define MMR_PM_PRESENT		(1ULL << 63)
#define MMR_PM_SWAP		(1ULL << 62)
#define MMR_PM_FILE		(1ULL << 61)	/* file page or shared anon */
#define MMR_PM_GUARD		(1ULL << 58)
#define MMR_PM_PFN_MASK		((1ULL << 55) - 1)
#define MMR_PM_SWAP_TYPE(e)	((e) & 0x1f)
#define MMR_PM_SWAP_OFFSET(e)	(((e) & MMR_PM_PFN_MASK) >> 5)

/* Largest raw tracepoint record we copy (bytes, incl. common header). */
#define MMR_RAW_MAX 64

struct mmr_raw {
	struct mmr_common c;
	__u8 data[MMR_RAW_MAX - sizeof(struct mmr_common)];
};

/*
 * Values of the BPF syscall table (map sys_cfg, keyed by syscall number),
 * filled by `record` from traces/syscalls.h's table.
 */
#define MMR_SYS_TRACE		0x1	/* record this syscall */
#define MMR_SYS_RET_FD		0x2	/* resolve the file of the returned fd */
#define MMR_SYS_RET_ADDR	0x4	/* resolve the file mapped at the returned address */
#define MMR_SYS_PATH_ENTER	0x8	/* read the path at entry (exec replaces the mm) */
#define MMR_SYS_SNAPSHOT	0x10	/* stop the process at exit for a snapshot */
#define MMR_SYS_NO_EXIT		0x20	/* no sys_exit record (replay's prctl marks) */
#define MMR_SYS_FD_ARG(i)	(((i) + 1) << 8)	/* argument i is a fd */
#define MMR_SYS_PATH_ARG(i)	(((i) + 1) << 16)	/* argument i is a path */
#define MMR_SYS_FD_ARG_OF(v)	(((v) >> 8) & 0xff)	/* 1 + index, 0: none */
#define MMR_SYS_PATH_ARG_OF(v)	(((v) >> 16) & 0xff)	/* 1 + index, 0: none */

/* Config flags in the BPF object's .rodata. */
#define MMR_CFG_TRACE_ALL 0x1	/* no task filter */
#define MMR_CFG_COALESCE 0x2	/* stage the hot events in batches (struct mmr_batch) */

/*
 * The hot events of a fault (page_fault_user, the task's own rss_stat
 * changes, mm_lru_insertion), staged per CPU by the typed programs and
 * sent as one ring-buffer record of up to MMR_BATCH_MAX items: one task,
 * one mm, in the order they came.  A batch goes out when it is full, when
 * any other record is made on its CPU, when its task is switched out, and
 * when the recorder asks each CPU (every few ms).  The recorder turns each
 * item back into the record the typed program would have made
 * (record/batch.c), so a trace never holds one.  16 bytes an item.
 */
#define MMR_RB_BATCH 0x7f01	/* mmr_common.type of a batch: never a kind of a trace */
#define MMR_BATCH_MAX 60

enum mmr_item_kind {
	MMR_ITEM_FAULT = 1,	/* word: address; info: error_code */
	MMR_ITEM_RSS,		/* word: the counter in pages; info: member */
	MMR_ITEM_LRU,		/* word: pfn; info: lru | flags << 8 */
};
#define MMR_ITEM_SHIFT 60	/* the item's kind in word's top 4 bits */
#define MMR_ITEM_MASK ((1ULL << MMR_ITEM_SHIFT) - 1)

struct mmr_item {
	__u64 word;
	__u32 dt;		/* ns after the batch's first item (its hdr.ts) */
	__u32 info;
};

struct mmr_batch {
	struct mmr_common c;	/* type MMR_RB_BATCH, pid: the task */
	__u32 nr;		/* struct mmr_item that follow */
	__u32 pad;
};

/* A CPU's stage (BPF map "stages", one per CPU, mmap'd by the recorder). */
struct mmr_stage {
	__u32 busy;		/* 1 while held: see bpf/mmreplay.bpf.c, stage_hold() */
	__u32 pad;
	struct mmr_hdr h;	/* the batch's record as it goes out: h, b, b.nr items */
	struct mmr_batch b;
	struct mmr_item items[MMR_BATCH_MAX];
};

#endif /* MMR_EVENTS_H */
