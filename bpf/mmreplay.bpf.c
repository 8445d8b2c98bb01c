// SPDX-License-Identifier: GPL-2.0
/*
 * mmreplay recorder: follows a task tree in the kernel and streams its mm
 * syscalls, faults and mm internals into one ring buffer.
 *
 * Programs that must load under lockdown=confidentiality (tp_btf and
 * tracepoint) read kernel memory only through BTF pointers or their
 * tracepoint record, never with bpf_probe_read_kernel().  Internals are
 * attached with fentry or kprobe, chosen by userspace before load.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "events.h"
#include "mmhash.h"
#include "core_fixes.bpf.h"

char LICENSE[] SEC("license") = "GPL";

/* Set by userspace before load. */
const volatile __u64 hash_k0;
const volatile __u64 hash_k1;
const volatile __u32 cfg_flags;
const volatile __u32 recorder_tgid;
const volatile __u64 kind_mask;	/* 1 << kind for each kind to record */

/* Learned at run time (see tp_lru_insertion). */
__u64 vmemmap_base;
__u64 page_struct_size;
__u32 lru_by_btf;	/* set by userspace once vmemmap_base is known (tb_mm_lru_insertion) */
/*
 * record --snapshot: SIGSTOPs sent, each with its sys_exit record.  The
 * recorder compares it with the stopped records it has read, so that its
 * safety SIGCONT never resumes a stop whose record is still in the ring.
 */
__u64 stops_sent;


struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 16 << 20);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);	/* tgid */
	__type(value, __u32);
} traced SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);	/* struct mm_struct * (never leaves the kernel) */
	__type(value, __u64);	/* keyed hash */
} traced_mms SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);	/* kmem:rss_stat mm_id */
	__type(value, __u64);	/* keyed hash */
} rss_mm_ids SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);	/* struct mm_struct * (never leaves the kernel) */
	__type(value, __u32);	/* its rss_stat mm_id, to forget at exit_mmap */
} mm_rss_ids SEC(".maps");

/*
 * The (mm_id, mm) pair a CPU's rss_stat met last: learned in the LRU maps,
 * which an update on every fault's rss_stat cost more than the record
 * (bench/record-overhead).  Their two lookups a fault still cost about 70
 * ns of tp_rss_stat's 220 (bpf_stats, 6 runs each way).  A hit skips them
 * but for every 64th, which keeps both entries recently used; an
 * exit_mmap (which forgets its mm's entries) makes every memo stale
 * (rss_gen).
 */
struct rss_memo {
	__u64 ptr, mm;
	__u32 id, gen, uses;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct rss_memo);
} rss_memo SEC(".maps");

__u32 rss_gen;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 512);
	__type(key, __u32);
	__type(value, __u32);
} sys_cfg SEC(".maps");

/*
 * [0] records the ring buffer had no room for; [1] PFNs ledger_pfns could not
 * take; [2] remote rss_stat changes with mm_id 0, which no mm can be told by
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 3);
	__type(key, __u32);
	__type(value, __u64);
} drops SEC(".maps");

/*
 * record --snapshot: 1 while a recorder will resume what it stops.  The
 * recorder's watchdog clears it when the recorder is gone, before it
 * sends SIGCONT (record/watchdog.c).
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} hold_ok SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);	/* tid */
	__type(value, __u64);	/* fault address, for the kretprobe */
} fault_addr SEC(".maps");

/* Threads inside a replay's helper bracket (MMR_MARK_HELPER): no snapshot there. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);	/* tid */
	__type(value, __u8);
} helper_tids SEC(".maps");

#define NR_PRCTL_ 157	/* x86_64 */

static void note_helper(struct pt_regs *regs, long nr)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	__u8 one = 1;

	if (nr != NR_PRCTL_ || regs->di != MMR_MARK_HELPER)
		return;
	if (regs->si)
		bpf_map_update_elem(&helper_tids, &tid, &one, BPF_ANY);
	else
		bpf_map_delete_elem(&helper_tids, &tid);
}

static int in_helper(void)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();

	return bpf_map_lookup_elem(&helper_tids, &tid) != NULL;
}

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);	/* tid */
	__type(value, __u64);	/* mm hash of an unmap_page_range in progress */
} zap_open SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} scratch SEC(".maps");

/*
 * The PFNs whose past the checker's mlock ledger acts on (check/ledger.c):
 * those traced tasks mlocked, and those migration mapped back in.  A free
 * of one is recorded (kmem:mm_page_free), and ends the ledger's entry: the
 * PFN is another page next time.  Kept only when mm_page_free is recorded,
 * which the recorder asks for only where the mlock hooks attach.
 * Preallocated (4 MiB): an update cannot fail for want of memory inside a
 * hook, as it did 2 to 8 times a recording without.  A PFN the full map
 * cannot take is counted (pfns_unfollowed) and keeps its past.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1 << 16);
	__type(key, __u64);	/* head PFN */
	__type(value, __u8);
} ledger_pfns SEC(".maps");

/*
 * The value of a BTF pointer as a plain number.  The verifier allows no
 * arithmetic on a trusted pointer, even cast; a round trip through map
 * memory (allowed for CAP_PERFMON) turns it into a scalar.
 */
static __always_inline __u64 ptr_value(const void *p)
{
	__u32 zero = 0;
	__u64 *slot = bpf_map_lookup_elem(&scratch, &zero);

	if (!slot)
		return 0;
	*(const void *volatile *)slot = p;
	return *(volatile __u64 *)slot;
}

/*
 * The last mm hashed on this CPU: a fault's records (page_fault_user,
 * rss_stat, mm_lru_insertion) name one mm, and SipHash-2-4 for each cost
 * about as much as a map lookup or two (bench/record-overhead).  @tag
 * (ptr ^ hash) rejects an entry a nested program half overwrote.
 */
struct hash_memo {
	__u64 ptr, hash, tag;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct hash_memo);
} mm_hash_memo SEC(".maps");

static __always_inline __u64 mm_hash(const void *mm)
{
	__u64 p = ptr_value(mm), h;
	__u32 zero = 0;
	struct hash_memo *c = bpf_map_lookup_elem(&mm_hash_memo, &zero);

	if (c && p && c->ptr == p && c->tag == (c->ptr ^ c->hash))
		return c->hash;
	h = mmr_keyed_hash(hash_k0, hash_k1, p);
	if (c) {
		c->ptr = p;
		c->hash = h;
		c->tag = p ^ h;
	}
	return h;
}

static __always_inline int tgid_traced(__u32 tgid)
{
	if (cfg_flags & MMR_CFG_TRACE_ALL)
		return tgid != recorder_tgid;
	return bpf_map_lookup_elem(&traced, &tgid) != NULL;
}

static __always_inline void count_in(__u32 slot)
{
	__u64 *d = bpf_map_lookup_elem(&drops, &slot);

	if (d)
		__sync_fetch_and_add(d, 1);
}

static __always_inline void count_drop(void)
{
	count_in(0);
}

/* Remember a traced mm so that rmap walks from other tasks can be matched. */
static __always_inline __u64 note_mm(const void *mm)
{
	__u64 key = ptr_value(mm), h;

	if (!key)
		return 0;
	h = mmr_keyed_hash(hash_k0, hash_k1, key);
	bpf_map_update_elem(&traced_mms, &key, &h, BPF_ANY);
	return h;
}

static __always_inline void follow_pfn(__u64 pfn)
{
	__u8 one = 1;

	if (!(kind_mask & (1ULL << MMR_K_PAGE_FREE)) || pfn == ~0ULL)
		return;
	if (bpf_map_update_elem(&ledger_pfns, &pfn, &one, BPF_ANY))
		count_in(1);
}

#define WAKEUP_BYTES (256 << 10)

/* Wake the reader only once a batch of records has piled up; it also polls. */
static __always_inline long wake_flags(void)
{
	return bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) >= WAKEUP_BYTES ?
	       BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP;
}

/* ---- staged hot events (MMR_CFG_COALESCE; struct mmr_stage) ---------- */

/*
 * One stage per CPU, shared with the recorder (mmap), which empties the
 * stages that sat a few ms.  Whoever holds busy (set by compare-and-swap)
 * may touch it: a program on its CPU, one nested in it (an interrupt),
 * or the recorder.  A program that finds it held records directly.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1);		/* set to the possible CPUs before load */
	__type(key, __u32);
	__type(value, struct mmr_stage);
} stages SEC(".maps");

static __always_inline struct mmr_stage *stage_hold(void)
{
	__u32 cpu = bpf_get_smp_processor_id();
	struct mmr_stage *s;

	if (!(cfg_flags & MMR_CFG_COALESCE))
		return NULL;
	s = bpf_map_lookup_elem(&stages, &cpu);
	if (!s || __sync_val_compare_and_swap(&s->busy, 0, 1) != 0)
		return NULL;
	return s;
}

static __always_inline void stage_release(struct mmr_stage *s)
{
	__sync_fetch_and_sub(&s->busy, 1);	/* atomic: the stage's writes are seen first */
}

/* Send what the stage holds as one record; a failure drops each item. */
static __always_inline void stage_flush(struct mmr_stage *s)
{
	__u32 n = s->b.nr, slot = 0;
	__u64 *d;

	if (!n)
		return;
	if (n > MMR_BATCH_MAX)
		n = MMR_BATCH_MAX;
	s->h.len = sizeof(s->b) + n * sizeof(s->items[0]);
	if (bpf_ringbuf_output(&events, &s->h, sizeof(s->h) + sizeof(s->b) +
			       n * sizeof(s->items[0]), wake_flags())) {
		d = bpf_map_lookup_elem(&drops, &slot);
		if (d)
			__sync_fetch_and_add(d, n);
	}
	s->b.nr = 0;
}

/* Any other record of this CPU sends its stage first: the stage never sits behind one. */
static __always_inline void stage_flush_here(void)
{
	__u32 cpu = bpf_get_smp_processor_id();
	struct mmr_stage *s;

	if (!(cfg_flags & MMR_CFG_COALESCE))
		return;
	s = bpf_map_lookup_elem(&stages, &cpu);
	if (!s || !s->b.nr || __sync_val_compare_and_swap(&s->busy, 0, 1) != 0)
		return;
	stage_flush(s);
	stage_release(s);
}

/*
 * Stage an item of @kind for current, of mm @mm; 0, or -1 when it must be
 * recorded directly (coalescing off, or the stage held).
 */
static __always_inline int stage_add(__u16 kind, __u32 item, __u64 word, __u32 info, __u64 mm)
{
	__u64 id, ts;
	struct mmr_stage *s;
	__u32 n;

	if (!(kind_mask & (1ULL << kind)))
		return 0;
	s = stage_hold();
	if (!s)
		return -1;
	id = bpf_get_current_pid_tgid();
	ts = bpf_ktime_get_ns();
	n = s->b.nr;
	if (n && (s->b.c.pid != (__u32)id || s->h.mm != mm || ts - s->h.ts > 0xffffffffULL ||
		  n >= MMR_BATCH_MAX)) {
		stage_flush(s);
		n = 0;
	}
	if (!n) {
		s->h.ts = ts;
		s->h.mm = mm;
		s->h.tgid = id >> 32;
		s->h.cpu = bpf_get_smp_processor_id();
		s->b.c.type = MMR_RB_BATCH;
		s->b.c.flags = 0;
		s->b.c.preempt_count = 0;
		s->b.c.pid = (__u32)id;
		s->b.pad = 0;
	}
	if (n < MMR_BATCH_MAX) {
		s->items[n].word = (__u64)item << MMR_ITEM_SHIFT | (word & MMR_ITEM_MASK);
		s->items[n].dt = ts - s->h.ts;
		s->items[n].info = info;
		s->b.nr = ++n;
	}
	if (n >= MMR_BATCH_MAX)
		stage_flush(s);
	stage_release(s);
	return 0;
}

/* Reserve a record of @size payload bytes and fill both headers. */
static __always_inline void *reserve(__u32 size, __u16 kind, __u64 mm)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct mmr_hdr *h;
	struct mmr_common *c;

	if (!(kind_mask & (1ULL << kind)))
		return NULL;
	stage_flush_here();
	h = bpf_ringbuf_reserve(&events, sizeof(*h) + size, 0);
	if (!h) {
		count_drop();
		return NULL;
	}
	h->ts = bpf_ktime_get_ns();
	h->mm = mm;
	h->tgid = id >> 32;
	h->cpu = bpf_get_smp_processor_id();
	h->len = size;
	c = (void *)(h + 1);
	c->type = kind;
	c->flags = 0;
	c->preempt_count = 0;
	c->pid = (__u32)id;
	return c;
}

/*
 * Submit a record by its payload pointer (the one reserve() returned).
 * Waking the reader for every record costs more than recording it: wake it
 * only once a batch has piled up; it also polls on a short timeout.
 */
#define SIGSTOP_NR 19

static __always_inline void submit(void *payload)
{
	bpf_ringbuf_submit((struct mmr_hdr *)payload - 1, wake_flags());
}

static __always_inline __u64 current_mm_hash(void)
{
	struct task_struct *t = bpf_get_current_task_btf();

	return mm_hash(t->mm);
}

static __always_inline int may_hold(void)
{
	__u32 zero = 0, *ok = bpf_map_lookup_elem(&hold_ok, &zero);

	return ok && *ok;
}

/* ---- files ---------------------------------------------------------- */

static __always_inline void inode_id(struct inode *inode, struct mmr_file_id *id)
{
	if (!inode)
		return;
	id->ino = inode->i_ino;
	id->size = inode->i_size;
	id->dev = inode->i_sb->s_dev;
	id->valid = 1;
}

static __always_inline void fd_file_id(int fd, struct mmr_file_id *id)
{
	struct task_struct *t = bpf_get_current_task_btf();
	struct files_struct *files = t->files;
	struct file *f = NULL;

	if (!files || fd < 0 || fd >= MMR_FD_ARRAY_LEN)
		return;
	if (ptr_value(files->fdt) != ptr_value(&files->fdtab))
		return;
#pragma unroll
	for (int i = 0; i < MMR_FD_ARRAY_LEN; i++) {
		if (i == fd) {
			f = files->fd_array[i];
			break;
		}
	}
	if (f)
		inode_id(f->f_inode, id);
}

static long vma_file_cb(struct task_struct *task, struct vm_area_struct *vma,
			void *data)
{
	struct mmr_file_id *id = data;
	struct file *f = vma->vm_file;

	if (f)
		inode_id(f->f_inode, id);
	return 0;
}

static __always_inline void addr_file_id(__u64 addr, struct mmr_file_id *id)
{
	struct task_struct *t = bpf_get_current_task_btf();
	struct mmr_file_id tmp = {};

	bpf_find_vma(t, addr, vma_file_cb, &tmp, 0);	/* callback data must be on the stack */
	*id = tmp;
}

/* ---- syscalls ------------------------------------------------------- */

static __always_inline __u32 sys_flags(long nr)
{
	__u32 key = nr, *v;

	if (nr < 0 || nr >= 512)
		return 0;
	v = bpf_map_lookup_elem(&sys_cfg, &key);
	return v ? *v : 0;
}

static __always_inline __u64 reg_arg(struct pt_regs *regs, int i)
{
	switch (i) {
	case 0: return regs->di;
	case 1: return regs->si;
	case 2: return regs->dx;
	case 3: return regs->r10;
	case 4: return regs->r8;
	default: return regs->r9;
	}
}

static __always_inline void emit_path(long nr, __u32 arg, __u64 uptr, __u64 mm)
{
	struct mmr_sys_path *p = reserve(sizeof(*p), MMR_K_SYS_PATH, mm);

	if (!p)
		return;
	p->nr = nr;
	p->arg = arg;
	if (bpf_probe_read_user_str(p->path, sizeof(p->path), (void *)uptr) < 0)
		p->path[0] = 0;
	submit(p);
}

SEC("tp_btf/sys_enter")
int BPF_PROG(sys_enter, struct pt_regs *regs, long nr)
{
	__u32 fl = sys_flags(nr), fdarg, patharg;
	struct task_struct *t;
	struct mmr_sys_enter *e;
	__u64 mm;

	if (!(fl & MMR_SYS_TRACE) || !tgid_traced(bpf_get_current_pid_tgid() >> 32))
		return 0;
	note_helper(regs, nr);
	t = bpf_get_current_task_btf();
	mm = note_mm(t->mm);
	patharg = MMR_SYS_PATH_ARG_OF(fl);
	if ((fl & MMR_SYS_PATH_ENTER) && patharg >= 1 && patharg <= 6)
		emit_path(nr, patharg - 1, reg_arg(regs, patharg - 1), mm);
	e = reserve(sizeof(*e), MMR_K_SYS_ENTER, mm);
	if (!e)
		return 0;
	e->nr = nr;
	e->pad = 0;
	e->args[0] = regs->di;
	e->args[1] = regs->si;
	e->args[2] = regs->dx;
	e->args[3] = regs->r10;
	e->args[4] = regs->r8;
	e->args[5] = regs->r9;
	__builtin_memset(&e->file, 0, sizeof(e->file));
	fdarg = MMR_SYS_FD_ARG_OF(fl);
	if (fdarg >= 1 && fdarg <= 6)
		fd_file_id((int)reg_arg(regs, fdarg - 1), &e->file);
	submit(e);
	return 0;
}

SEC("tp_btf/sys_exit")
int BPF_PROG(sys_exit, struct pt_regs *regs, long ret)
{
	long nr = regs->orig_ax;
	__u32 fl = sys_flags(nr), patharg = MMR_SYS_PATH_ARG_OF(fl);
	struct mmr_sys_exit *e;
	__u64 mm;

	if (!(fl & MMR_SYS_TRACE) || (fl & MMR_SYS_NO_EXIT) ||
	    !tgid_traced(bpf_get_current_pid_tgid() >> 32))
		return 0;
	mm = current_mm_hash();
	/*
	 * Read a path after the syscall: the kernel has faulted its page in by
	 * then, and bpf_probe_read_user() cannot fault.  The argument
	 * registers still hold the caller's values.
	 */
	if (!(fl & MMR_SYS_PATH_ENTER) && patharg >= 1 && patharg <= 6)
		emit_path(nr, patharg - 1, reg_arg(regs, patharg - 1), mm);
	e = reserve(sizeof(*e), MMR_K_SYS_EXIT, mm);
	if (!e)
		return 0;
	e->nr = nr;
	e->pad = 0;
	e->ret = ret;
	__builtin_memset(&e->file, 0, sizeof(e->file));
	if ((fl & MMR_SYS_RET_FD) && ret >= 0)
		fd_file_id((int)ret, &e->file);
	else if ((fl & MMR_SYS_RET_ADDR) && ret >= 0 && (__u64)ret < 0xffff800000000000ULL)
		addr_file_id(ret, &e->file);
	if (!(fl & MMR_SYS_SNAPSHOT) || in_helper()) {
		submit(e);
		return 0;
	}
	/*
	 * record --snapshot: stop the whole process before it returns to user
	 * mode, and wake the recorder now; it reads /proc, then sends SIGCONT.
	 * Only while hold_ok says someone will: once the recorder is gone, its
	 * watchdog clears it, then resumes what was stopped.
	 */
	if (may_hold() && !bpf_send_signal(SIGSTOP_NR)) {
		e->c.flags |= MMR_CF_STOPPED;
		__sync_fetch_and_add(&stops_sent, 1);
	}
	bpf_ringbuf_submit((struct mmr_hdr *)e - 1, BPF_RB_FORCE_WAKEUP);
	return 0;
}

/* ---- task tree ------------------------------------------------------ */

SEC("tp_btf/sched_process_fork")
int BPF_PROG(task_fork, struct task_struct *parent, struct task_struct *child)
{
	__u32 ptgid = parent->tgid, ctgid = child->tgid, one = 1;
	struct mmr_task_fork *e;
	__u64 pmm;

	if (!tgid_traced(ptgid))
		return 0;
	if (ctgid != ptgid)
		bpf_map_update_elem(&traced, &ctgid, &one, BPF_ANY);
	pmm = note_mm(parent->mm);
	e = reserve(sizeof(*e), MMR_K_TASK_FORK, pmm);
	if (!e)
		return 0;
	e->parent_tid = parent->pid;
	e->parent_tgid = ptgid;
	e->child_tid = child->pid;
	e->child_tgid = ctgid;
	e->child_mm = note_mm(child->mm);
	submit(e);
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(task_exit, struct task_struct *task)
{
	__u32 tgid = task->tgid;
	struct mmr_task_exit *e;

	if (!tgid_traced(tgid))
		return 0;
	/* exit_mm() already ran: the task has no mm any more. */
	e = reserve(sizeof(*e), MMR_K_TASK_EXIT, 0);
	if (e) {
		e->tid = task->pid;
		e->exit_code = task->exit_code;
		e->group_dead = task_group_dead(task);
		e->pad = 0;
		submit(e);
	}
	if (task_group_dead(task) && !(cfg_flags & MMR_CFG_TRACE_ALL))
		bpf_map_delete_elem(&traced, &tgid);
	return 0;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(task_exec, struct task_struct *p, pid_t old_pid)
{
	struct mmr_task_exec *e;

	if (!tgid_traced(p->tgid))
		return 0;
	e = reserve(sizeof(*e), MMR_K_TASK_EXEC, note_mm(p->mm));
	if (!e)
		return 0;
	e->old_tid = old_pid;
	e->pad = 0;
	__builtin_memcpy(e->comm, p->comm, sizeof(e->comm));
	submit(e);
	return 0;
}

/* ---- tracepoints copied raw ---------------------------------------- */

/*
 * Copy a tracepoint record up to the end of its last field (@end bytes, at
 * most MMR_RAW_MAX) with constant-offset loads from ctx, and overwrite
 * common_type with our kind.  Reading past the last field would make the
 * kernel refuse to attach (perf_event_set_bpf_prog: max_ctx_offset).
 * Pointers in the record are scrubbed by userspace before they are written.
 */
static __always_inline int emit_raw(void *ctx, __u32 end, __u16 kind, __u64 mm)
{
	__u8 *dst, *src = ctx;
	struct mmr_common *c;

	if (end > MMR_RAW_MAX)
		end = MMR_RAW_MAX;
	c = reserve((end + 7) & ~7U, kind, mm);
	if (!c)
		return 0;
	dst = (__u8 *)c;
#pragma unroll
	for (int i = 1; i < MMR_RAW_MAX / 8; i++) {
		if (i * 8 + 8 <= end) {
			*(__u64 *)(dst + i * 8) = *(__u64 *)(src + i * 8);
		} else if (i * 8 < end) {
			*(__u64 *)(dst + i * 8) = 0;
#pragma unroll
			for (int j = 0; j < 8; j++)
				if (i * 8 + j < end)
					dst[i * 8 + j] = src[i * 8 + j];
		}
	}
	submit(c);
	return 0;
}

#define RAW_END(rec, last) \
	(bpf_core_field_offset(struct rec, last) + bpf_core_field_size(struct rec, last))

#define RAW_TP(cat, name, kind, rec, last)                                 \
SEC("tracepoint/" #cat "/" #name)                                          \
int tp_##name(void *ctx)                                                   \
{                                                                          \
	if (!tgid_traced(bpf_get_current_pid_tgid() >> 32))                \
		return 0;                                                  \
	return emit_raw(ctx, RAW_END(rec, last), kind, current_mm_hash()); \
}

SEC("tracepoint/exceptions/page_fault_user")
int tp_page_fault_user(void *ctx)
{
	if (!tgid_traced(bpf_get_current_pid_tgid() >> 32))
		return 0;
	return emit_raw(ctx, PAGE_FAULT_RECORD_END(), MMR_K_PAGE_FAULT_USER, current_mm_hash());
}

/*
 * A fault the kernel takes on a user address (copy_to_user in read() into
 * memory just mapped, ...) makes pages as a user fault does; replay must
 * see where.  Faults on kernel addresses (the upper half) are not the
 * task's memory.  The record starts with the 8-byte trace_entry.
 */
SEC("tracepoint/exceptions/page_fault_kernel")
int tp_page_fault_kernel(void *ctx)
{
	__u64 addr = *(__u64 *)(ctx + 8);

	if (addr >> 63 || !tgid_traced(bpf_get_current_pid_tgid() >> 32))
		return 0;
	return emit_raw(ctx, PAGE_FAULT_RECORD_END(), MMR_K_PAGE_FAULT_KERNEL, current_mm_hash());
}

RAW_TP(migrate, set_migration_pte, MMR_K_SET_MIGRATION_PTE, trace_event_raw_migration_pte, order)

#define PTE_PRESENT_ 0x1ULL
#define PTE_PFN_MASK_ 0x000ffffffffff000ULL	/* x86_64 */

SEC("tracepoint/migrate/remove_migration_pte")
int tp_remove_migration_pte(struct trace_event_raw_migration_pte *ctx)
{
	__u64 pte;

	if (!tgid_traced(bpf_get_current_pid_tgid() >> 32))
		return 0;
	if (bpf_core_field_exists(ctx->pte)) {
		pte = BPF_CORE_READ(ctx, pte);
		if (pte & PTE_PRESENT_)
			follow_pfn((pte & PTE_PFN_MASK_) >> 12);
	}
	return emit_raw(ctx, RAW_END(trace_event_raw_migration_pte, order),
			MMR_K_REMOVE_MIGRATION_PTE, current_mm_hash());
}
RAW_TP(mmap_lock, mmap_lock_start_locking, MMR_K_MMAP_LOCK_START, trace_event_raw_mmap_lock, write)
RAW_TP(mmap_lock, mmap_lock_acquire_returned, MMR_K_MMAP_LOCK_ACQUIRED,
       trace_event_raw_mmap_lock_acquire_returned, success)
RAW_TP(mmap_lock, mmap_lock_released, MMR_K_MMAP_LOCK_RELEASED, trace_event_raw_mmap_lock, write)

/*
 * exit_mmap runs after the task left the traced set (6.18 fires
 * sched_process_exit before exit_mm()) or, at exec, for the old mm while
 * current->mm is already the new one: match the mm argument itself.
 */
SEC("tracepoint/mmap/exit_mmap")
int tp_exit_mmap(struct trace_event_raw_exit_mmap *ctx)
{
	__u64 key = (__u64)ctx->mm, *h = bpf_map_lookup_elem(&traced_mms, &key);
	__u32 *id;

	if (!h)
		return 0;
	emit_raw(ctx, RAW_END(trace_event_raw_exit_mmap, mt), MMR_K_EXIT_MMAP, *h);
	/*
	 * The mm is freed next, and another process's mm may take its address
	 * and rss_stat mm_id: forget both, or its rss_stat would be ours.
	 */
	id = bpf_map_lookup_elem(&mm_rss_ids, &key);
	if (id)
		bpf_map_delete_elem(&rss_mm_ids, id);
	bpf_map_delete_elem(&mm_rss_ids, &key);
	bpf_map_delete_elem(&traced_mms, &key);
	__sync_fetch_and_add(&rss_gen, 1);	/* every CPU's rss_memo is stale */
	return 0;
}

/*
 * rss_stat fires in the mm owner's context (curr=1) or, for reclaim and
 * other remote updates, in another task's (curr=0).  The latter are
 * matched by the kernel's mm_id, learned from the former.  The id is
 * 0 for every mm while hashed pointers cannot be had (ptr_to_hashval()
 * fails until the CRNG is ready, early in boot): 0 is never learned, and
 * a remote change with it is counted, as it may be a traced mm's.
 */
static __always_inline int rss_memo_hit(__u32 id, __u64 ptr, __u64 mm)
{
	__u32 zero = 0;
	struct rss_memo *m = bpf_map_lookup_elem(&rss_memo, &zero);
	__u32 gen = rss_gen;

	if (!m)
		return 0;
	if (m->id == id && m->ptr == ptr && m->mm == mm && m->gen == gen && (++m->uses & 63))
		return 1;
	m->id = id;
	m->ptr = ptr;
	m->mm = mm;
	m->gen = gen;
	m->uses = 1;
	return 0;
}

/* Learned once per mm: the lookups mark both entries used. */
static __always_inline void rss_learn(__u32 id, __u64 ptr, __u64 mm)
{
	__u64 *known = bpf_map_lookup_elem(&rss_mm_ids, &id);

	if (!known || *known != mm || !bpf_map_lookup_elem(&mm_rss_ids, &ptr)) {
		bpf_map_update_elem(&rss_mm_ids, &id, &mm, BPF_ANY);
		bpf_map_update_elem(&mm_rss_ids, &ptr, &id, BPF_ANY);
	}
}

SEC("tracepoint/kmem/rss_stat")
int tp_rss_stat(struct trace_event_raw_rss_stat *ctx)
{
	__u32 id = ctx->mm_id;
	__u64 mm, *known;

	if (ctx->curr && tgid_traced(bpf_get_current_pid_tgid() >> 32)) {
		__u64 ptr = ptr_value(bpf_get_current_task_btf()->mm);

		mm = current_mm_hash();
		if (id && !rss_memo_hit(id, ptr, mm))
			rss_learn(id, ptr, mm);
		/* the task's own counter stages, as the typed programs' do */
		if (!stage_add(MMR_K_RSS_STAT, MMR_ITEM_RSS, ctx->size >> 12, ctx->member, mm))
			return 0;
	} else {
		if (!id) {
			if (!ctx->curr && (kind_mask & (1ULL << MMR_K_RSS_STAT)))
				count_in(2);
			return 0;
		}
		known = bpf_map_lookup_elem(&rss_mm_ids, &id);
		if (!known)
			return 0;
		mm = *known;
	}
	return emit_raw(ctx, RAW_END(trace_event_raw_rss_stat, size), MMR_K_RSS_STAT, mm);
}

/*
 * LRU insertions carry both the folio pointer and its PFN; the first one
 * seen gives the memmap base that fentry/kprobe handlers need to turn a
 * folio pointer into a PFN (vmemmap_base is not in BTF).
 */
SEC("tracepoint/pagemap/mm_lru_insertion")
int tp_mm_lru_insertion(struct trace_event_raw_mm_lru_insertion *ctx)
{
	if (!vmemmap_base) {
		page_struct_size = bpf_core_type_size(struct page);
		vmemmap_base = (__u64)ctx->folio - ctx->pfn * page_struct_size;
	}
	if (lru_by_btf || !tgid_traced(bpf_get_current_pid_tgid() >> 32))
		return 0;
	return emit_raw(ctx, RAW_END(trace_event_raw_mm_lru_insertion, flags),
			MMR_K_LRU_INSERTION, current_mm_hash());
}

/*
 * A page freed: recorded only for a PFN the ledger follows, whoever frees
 * it (kswapd, another process), and forgotten here until it is met again.
 * 6.1 and 6.18 both fire it in free_pages_prepare() for every free.
 */
SEC("tracepoint/kmem/mm_page_free")
int tp_mm_page_free(struct trace_event_raw_mm_page_free *ctx)
{
	__u64 pfn = ctx->pfn;

	if (!bpf_map_lookup_elem(&ledger_pfns, &pfn))
		return 0;
	bpf_map_delete_elem(&ledger_pfns, &pfn);
	return emit_raw(ctx, RAW_END(trace_event_raw_mm_page_free, order), MMR_K_PAGE_FREE, 0);
}

/* ---- the hot tracepoints, typed (tp_btf) ----------------------------- */

/*
 * A classic tracepoint program costs what perf_trace_<event>() does before
 * it runs: the record built in a perf buffer and, for rss_stat since 6.2,
 * percpu_counter_sum_positive() under the counter's lock and a siphash of
 * the mm.  These build the same record (the layout the tracefs format
 * gives, by CO-RE offsets of trace_event_raw_*) straight from the typed
 * arguments, so the trace and its readers do not change.  Userspace picks
 * them where the kernel allows (record/probes.c), else the ones above.
 */
extern void *bpf_rdonly_cast(const void *obj, __u32 btf_id) __ksym __weak;

const volatile __u32 nr_cpus;	/* possible CPUs, for rss_stat's per-CPU sum */

#define RSS_MAX_CPUS 512

static __always_inline void *raw_reserve(__u32 end, __u16 kind, __u64 mm)
{
	__u64 *d = reserve((end + 7) & ~7U, kind, mm);

#pragma unroll
	for (int i = 1; i < MMR_RAW_MAX / 8; i++)
		if (d && i * 8 < end)
			d[i] = 0;
	return d;
}

#define RAW_PUT(rec, p, field, v) \
	(*(typeof(((struct rec *)0)->field) *)((void *)(p) + bpf_core_field_offset(struct rec, field)) = (v))

SEC("tp_btf/page_fault_user")
int BPF_PROG(tb_page_fault_user, unsigned long address, struct pt_regs *regs,
	     unsigned long error_code)
{
	void *r;

	if (!tgid_traced(bpf_get_current_pid_tgid() >> 32))
		return 0;
	if (!stage_add(MMR_K_PAGE_FAULT_USER, MMR_ITEM_FAULT, address, error_code,
		       current_mm_hash()))
		return 0;
	r = raw_reserve(PAGE_FAULT_RECORD_END(), MMR_K_PAGE_FAULT_USER, current_mm_hash());
	if (!r)
		return 0;
	if (bpf_core_type_exists(struct trace_event_raw_exceptions)) {
		RAW_PUT(trace_event_raw_exceptions, r, address, address);
		RAW_PUT(trace_event_raw_exceptions, r, ip, regs->ip);
		RAW_PUT(trace_event_raw_exceptions, r, error_code, error_code);
	} else {
		RAW_PUT(trace_event_raw_x86_exceptions, r, address, address);
		RAW_PUT(trace_event_raw_x86_exceptions, r, ip, regs->ip);
		RAW_PUT(trace_event_raw_x86_exceptions, r, error_code, error_code);
	}
	submit(r);
	return 0;
}

/* The traced mm an rss change is of: current's, or one met before (reclaim, exit). */
static __always_inline __u64 rss_mm(struct mm_struct *mm, unsigned int *curr)
{
	struct task_struct *t = bpf_get_current_task_btf();
	__u64 key, *h;

	*curr = t->mm == mm;
	if (*curr && tgid_traced(bpf_get_current_pid_tgid() >> 32))
		return mm_hash(mm);
	key = ptr_value(mm);
	h = bpf_map_lookup_elem(&traced_mms, &key);
	return h ? *h : 0;
}

static __always_inline int rss_emit(struct mm_struct *mm, int member, long pages)
{
	unsigned int curr;
	__u64 h = rss_mm(mm, &curr);
	void *r;

	if (!h)
		return 0;
	/* the task's own counters stage; another's (reclaim, exit) go at once */
	if (curr && !stage_add(MMR_K_RSS_STAT, MMR_ITEM_RSS, pages, member, h))
		return 0;
	r = raw_reserve(RAW_END(trace_event_raw_rss_stat, size), MMR_K_RSS_STAT, h);
	if (!r)
		return 0;
	RAW_PUT(trace_event_raw_rss_stat, r, mm_id, (unsigned int)h);
	RAW_PUT(trace_event_raw_rss_stat, r, curr, curr);
	RAW_PUT(trace_event_raw_rss_stat, r, member, member);
	RAW_PUT(trace_event_raw_rss_stat, r, size, pages << 12);
	submit(r);
	return 0;
}

/* 6.1: rss_stat(mm, member, count) passes the counter (in pages) itself. */
SEC("tp_btf/rss_stat")
int BPF_PROG(tb_rss_stat_count, struct mm_struct *mm, int member, long count)
{
	return rss_emit(mm, member, count);
}

struct percpu_counter___new {
	s64 count;
	s32 *counters;
} __attribute__((preserve_access_index));

struct mm_struct___new {
	struct percpu_counter___new rss_stat[4];
} __attribute__((preserve_access_index));

/*
 * Each CPU's per-CPU offset (__per_cpu_offset[cpu]) without a data ksym
 * such as this_cpu_off (kallsyms has those only with CONFIG_KALLSYMS_ALL):
 * a per-CPU array's element lives at pptrs[0] plus that offset on every
 * CPU (kernel/bpf/arraymap.c, per_cpu_ptr()), and
 * bpf_map_lookup_percpu_elem() gives each CPU's address.  Learned once;
 * ~0 for a CPU that gives none.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} pcpu_anchor SEC(".maps");

__u64 cpu_offs[RSS_MAX_CPUS];
__u32 cpu_offs_known;

static __always_inline void learn_cpu_offs(void)
{
	__u64 at = ptr_value(&pcpu_anchor) + bpf_core_field_offset(struct bpf_array, pptrs);
	struct callback_head *pp;	/* a struct (as the cast needs) led by a pointer */
	__u32 zero = 0;
	__u64 base;

	pp = bpf_rdonly_cast((void *)at, bpf_core_type_id_kernel(struct callback_head));
	base = ptr_value(pp->next);
	for (int cpu = 0; cpu < RSS_MAX_CPUS && cpu < nr_cpus; cpu++) {
		void *v = bpf_map_lookup_percpu_elem(&pcpu_anchor, &zero, cpu);

		cpu_offs[cpu] = v ? ptr_value(v) - base : ~0ULL;
	}
	cpu_offs_known = 1;
}

/*
 * 6.2+ (f1a7941243c1, "mm: convert mm's rss stats into percpu_counter"):
 * rss_stat(mm, member); the counter is a percpu_counter, read here as
 * percpu_counter_sum_positive() does (its count and every CPU's delta;
 * an offline CPU's delta is 0) but without its lock: a fold racing on
 * another CPU of a multi-threaded mm may show a sum off by up to its batch.
 * Each CPU's s32 is reached through its offset above and bpf_rdonly_cast(),
 * as lockdown denies bpf_probe_read_kernel(); the cast takes a struct only
 * (or, on newer kernels, void; never a typedef such as atomic_t).
 */
static __always_inline long rss_sum(struct percpu_counter___new *pc)
{
	__u64 base = (__u64)pc->counters;
	long sum = pc->count;

	if (!cpu_offs_known)
		learn_cpu_offs();
	for (int cpu = 0; cpu < RSS_MAX_CPUS && cpu < nr_cpus; cpu++) {
		struct refcount_struct *a;	/* a struct of one int */

		if (cpu_offs[cpu] == ~0ULL)
			continue;
		a = bpf_rdonly_cast((void *)(base + cpu_offs[cpu]),
				    bpf_core_type_id_kernel(struct refcount_struct));
		sum += a->refs.counter;
	}
	return sum < 0 ? 0 : sum;
}

SEC("tp_btf/rss_stat")
int BPF_PROG(tb_rss_stat, struct mm_struct *mm, int member)
{
	struct mm_struct___new *m = (void *)mm;
	long pages;

	switch (member) {	/* the verifier wants a constant offset into mm */
	case 0: pages = rss_sum(&m->rss_stat[0]); break;
	case 1: pages = rss_sum(&m->rss_stat[1]); break;
	case 2: pages = rss_sum(&m->rss_stat[2]); break;
	case 3: pages = rss_sum(&m->rss_stat[3]); break;
	default: return 0;
	}
	return rss_emit(mm, member, pages);
}

/*
 * trace_pagemap_flags() of include/trace/events/pagemap.h, for `show`;
 * the engines read only pfn and lru.
 */
static __always_inline __u64 lru_flags(struct folio *f, __u64 w)
{
	__u64 anon = ptr_value(f->mapping) & 1, fl;	/* FOLIO_MAPPING_ANON */

	fl = anon ? 0x2 : 0x4;
	if (!(w & (1ULL << bpf_core_enum_value(enum pageflags, PG_head))))
		fl |= f->_mapcount.counter >= 0 ? 0x1 : 0;
	if (w & (1ULL << bpf_core_enum_value(enum pageflags, PG_swapbacked))) {
		fl |= 0x10;
		if (w & (1ULL << bpf_core_enum_value(enum pageflags, PG_swapcache)))
			fl |= 0x8;
	}
	if (w & (1ULL << bpf_core_enum_value(enum pageflags, PG_mappedtodisk)))
		fl |= 0x20;
	if (w & (1ULL << bpf_core_enum_value(enum pageflags, PG_private)))
		fl |= 0x40;
	return fl;
}

/* folio_lru_list() */
static __always_inline int lru_list_of(__u64 w)
{
	int lru;

	if (w & (1ULL << bpf_core_enum_value(enum pageflags, PG_unevictable)))
		return bpf_core_enum_value(enum lru_list, LRU_UNEVICTABLE);
	lru = w & (1ULL << bpf_core_enum_value(enum pageflags, PG_swapbacked)) ?
	      bpf_core_enum_value(enum lru_list, LRU_INACTIVE_ANON) :
	      bpf_core_enum_value(enum lru_list, LRU_INACTIVE_FILE);
	if (w & (1ULL << bpf_core_enum_value(enum pageflags, PG_active)))
		lru += bpf_core_enum_value(enum lru_list, LRU_ACTIVE_ANON) -
		       bpf_core_enum_value(enum lru_list, LRU_INACTIVE_ANON);
	return lru;
}

/*
 * The PFN needs vmemmap_base, which the classic program learns from its
 * record: userspace attaches both, makes an insertion of its own, then sets
 * lru_by_btf and detaches the classic one before any task is traced.
 */
SEC("tp_btf/mm_lru_insertion")
int BPF_PROG(tb_mm_lru_insertion, struct folio *folio)
{
	__u64 w, ptr;
	void *r;

	if (!lru_by_btf || !vmemmap_base || !page_struct_size ||
	    !tgid_traced(bpf_get_current_pid_tgid() >> 32))
		return 0;
	w = folio_flags_direct(folio);
	ptr = ptr_value(folio);
	if (!stage_add(MMR_K_LRU_INSERTION, MMR_ITEM_LRU, (ptr - vmemmap_base) / page_struct_size,
		       lru_list_of(w) | lru_flags(folio, w) << 8, current_mm_hash()))
		return 0;
	r = raw_reserve(RAW_END(trace_event_raw_mm_lru_insertion, flags), MMR_K_LRU_INSERTION,
			current_mm_hash());
	if (!r)
		return 0;
	RAW_PUT(trace_event_raw_mm_lru_insertion, r, folio, (void *)ptr);
	RAW_PUT(trace_event_raw_mm_lru_insertion, r, pfn, (ptr - vmemmap_base) / page_struct_size);
	RAW_PUT(trace_event_raw_mm_lru_insertion, r, lru, lru_list_of(w));
	RAW_PUT(trace_event_raw_mm_lru_insertion, r, flags, lru_flags(folio, w));
	submit(r);
	return 0;
}

/* A task switched out takes its staged events with it: its CPU's stage is sent. */
SEC("tp_btf/sched_switch")
int BPF_PROG(stage_switch)
{
	stage_flush_here();
	return 0;
}

/* ---- internals: fentry or kprobe ------------------------------------ */

static __always_inline __u64 ptr_pfn(const void *page)
{
	if (!vmemmap_base || !page_struct_size)
		return ~0ULL;
	return (ptr_value(page) - vmemmap_base) / page_struct_size;
}

static __always_inline __u64 vma_mm_hash(struct vm_area_struct *vma, int *traced_mm)
{
	__u64 mm = (__u64)BPF_CORE_READ(vma, vm_mm);
	__u64 *h = bpf_map_lookup_elem(&traced_mms, &mm);

	*traced_mm = h != NULL;
	return h ? *h : 0;
}

static __always_inline int emit_rmap(__u16 kind, void *folio,
				     struct vm_area_struct *vma, __u64 address)
{
	struct mmr_rmap *e;
	int traced_mm;
	__u64 mm = vma_mm_hash(vma, &traced_mm);

	if (!traced_mm)
		return 0;
	e = reserve(sizeof(*e), kind, mm);
	if (!e)
		return 0;
	e->pfn = ptr_pfn(folio);
	e->address = address;
	e->vm_start = BPF_CORE_READ(vma, vm_start);
	e->vm_end = BPF_CORE_READ(vma, vm_end);
	e->vm_flags = BPF_CORE_READ(vma, vm_flags);
	e->nr_pages = 1;
	e->pad = 0;
	submit(e);
	return 0;
}

/*
 * A traced task's new anonymous folio in a VM_LOCKED vma: the kernel must
 * hand it to mlock_new_folio right after (6.1 mm/swap.c
 * lru_cache_add_inactive_or_unevictable, 6.18 folio_add_lru_vma, both
 * under (vm_flags & (VM_LOCKED | VM_SPECIAL)) == VM_LOCKED).  Only those:
 * other faults pay the flags test alone.
 */
#define VM_LOCKED_FLAG 0x2000ULL
#define VM_SPECIAL_FLAGS (0x4000ULL | 0x40000ULL | 0x400ULL | 0x10000000ULL)	/* IO DONTEXPAND PFNMAP MIXEDMAP */
static __always_inline int emit_new_rmap(void *folio, struct vm_area_struct *vma, __u64 a)
{
	__u64 fl = BPF_CORE_READ(vma, vm_flags);

	if ((fl & (VM_LOCKED_FLAG | VM_SPECIAL_FLAGS)) != VM_LOCKED_FLAG ||
	    !tgid_traced(bpf_get_current_pid_tgid() >> 32))
		return 0;
	return emit_rmap(MMR_K_NEW_ANON_RMAP, folio, vma, a);
}

static __always_inline int emit_mlock(__u16 kind, void *folio)
{
	struct mmr_mlock *e;

	if (!tgid_traced(bpf_get_current_pid_tgid() >> 32))
		return 0;
	e = reserve(sizeof(*e), kind, current_mm_hash());
	if (!e)
		return 0;
	e->pfn = ptr_pfn(folio);
	if (kind != MMR_K_MUNLOCK_FOLIO)
		follow_pfn(e->pfn);
	e->folio_flags = folio_flags_word(folio);
	e->nr_pages = e->folio_flags & (1ULL << bpf_core_enum_value(enum pageflags, PG_head)) ?
		      0 : 1;
	e->mlock_count = 0;
	submit(e);
	return 0;
}

/* Returns the mm hash when the vma's mm is traced, else 0. */
static __always_inline __u64 emit_zap(__u16 kind, struct vm_area_struct *vma,
				      __u64 start, __u64 end, struct zap_details *d)
{
	struct mmr_zap *e;
	int traced_mm;
	__u64 mm = vma_mm_hash(vma, &traced_mm);

	if (!traced_mm)
		return 0;
	e = reserve(sizeof(*e), kind, mm);
	if (!e)
		return mm;
	e->vm_start = BPF_CORE_READ(vma, vm_start);
	e->vm_end = BPF_CORE_READ(vma, vm_end);
	e->vm_flags = BPF_CORE_READ(vma, vm_flags);
	e->start = start;
	e->end = end;
	e->has_details = d != NULL;
	e->even_cows = d ? BPF_CORE_READ(d, even_cows) : 0;
	submit(e);
	return mm;
}

static __always_inline int emit_unmap_mapping(__u16 kind, struct address_space *m,
					      __u64 start, __u64 len, int even_cows)
{
	struct mmr_unmap_mapping *e;
	struct inode *inode;

	if (!tgid_traced(bpf_get_current_pid_tgid() >> 32))
		return 0;
	e = reserve(sizeof(*e), kind, current_mm_hash());
	if (!e)
		return 0;
	inode = BPF_CORE_READ(m, host);
	e->start = start;
	e->len = len;
	e->ino = BPF_CORE_READ(inode, i_ino);
	e->dev = BPF_CORE_READ(inode, i_sb, s_dev);
	e->even_cows = even_cows;
	submit(e);
	return 0;
}

/*
 * Inside a zap of a traced mm the frees are that mm's, whoever runs it:
 * exit_mmap() runs in the task that drops the last reference, which may
 * be an untraced reader of /proc/PID (seen: the recorder's own snapshot).
 */
static __always_inline int emit_free_swap(__u64 entry, int nr)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid(), mm;
	__u32 tid = (__u32)pid_tgid;
	__u64 *zap = bpf_map_lookup_elem(&zap_open, &tid);
	struct mmr_free_swap *e;

	if (zap)
		mm = *zap;
	else if (tgid_traced(pid_tgid >> 32))
		mm = current_mm_hash();
	else
		return 0;
	e = reserve(sizeof(*e), MMR_K_FREE_SWAP_AND_CACHE, mm);
	if (!e)
		return 0;
	e->entry = entry;
	e->nr = nr;
	e->pad = 0;
	submit(e);
	return 0;
}

static __always_inline int emit_swap_fault(struct vm_fault *vmf)
{
	struct mmr_swap_fault *e;

	if (!tgid_traced(bpf_get_current_pid_tgid() >> 32))
		return 0;
	e = reserve(sizeof(*e), MMR_K_DO_SWAP_PAGE, current_mm_hash());
	if (!e)
		return 0;
	e->address = BPF_CORE_READ(vmf, address);
	bpf_core_read(&e->orig_pte, sizeof(e->orig_pte), &vmf->orig_pte);
	e->flags = BPF_CORE_READ(vmf, flags);
	e->pad = 0;
	submit(e);
	return 0;
}

static __always_inline int emit_fault_done(__u64 address, __u32 flags, __u32 ret)
{
	struct mmr_fault_done *e = reserve(sizeof(*e), MMR_K_FAULT_DONE, current_mm_hash());

	if (!e)
		return 0;
	e->address = address;
	e->flags = flags;
	e->ret = ret;
	submit(e);
	return 0;
}

/*
 * Each internal hook has a fentry and a kprobe twin with the same arguments;
 * userspace autoloads one of them (record/probes.c).
 */
#define TWIN(fn, call, ...)                                                    \
SEC("fentry/" #fn) int BPF_PROG(fe_##fn, __VA_ARGS__) { return call; }        \
SEC("kprobe/" #fn) int BPF_KPROBE(kp_##fn, __VA_ARGS__) { return call; }

#define RMAP_ARGS void *folio, struct vm_area_struct *vma, unsigned long a
TWIN(try_to_unmap_one, emit_rmap(MMR_K_TRY_TO_UNMAP_ONE, folio, vma, a), RMAP_ARGS)
TWIN(folio_referenced_one, emit_rmap(MMR_K_FOLIO_REFERENCED_ONE, folio, vma, a), RMAP_ARGS)
TWIN(try_to_migrate_one, emit_rmap(MMR_K_TRY_TO_MIGRATE_ONE, folio, vma, a), RMAP_ARGS)

TWIN(mlock_folio, emit_mlock(MMR_K_MLOCK_FOLIO, folio), void *folio)
TWIN(munlock_folio, emit_mlock(MMR_K_MUNLOCK_FOLIO, folio), void *folio)
TWIN(mlock_new_folio, emit_mlock(MMR_K_MLOCK_NEW_FOLIO, folio), void *folio)
/* 6.1 names of the last two (struct page *) */
TWIN(munlock_page, emit_mlock(MMR_K_MUNLOCK_FOLIO, page), void *page)
TWIN(mlock_new_page, emit_mlock(MMR_K_MLOCK_NEW_FOLIO, page), void *page)
/* 6.2+ folio_add_new_anon_rmap (its 4th argument, rmap_t flags, unused); 6.1's page variant */
TWIN(folio_add_new_anon_rmap, emit_new_rmap(folio, vma, a), RMAP_ARGS)
TWIN(page_add_new_anon_rmap, emit_new_rmap(page, vma, a), void *page,
     struct vm_area_struct *vma, unsigned long a)

#define ZAP_ARGS void *tlb, struct vm_area_struct *vma, unsigned long addr, \
	unsigned long end, struct zap_details *d
/*
 * unmap_page_range brackets a zap: its entry and return delimit the
 * free_swap_and_cache calls the checker counts against its swap ledger.
 */
SEC("fentry/unmap_page_range")
int BPF_PROG(fe_unmap_page_range, ZAP_ARGS)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	__u64 mm = emit_zap(MMR_K_UNMAP_PAGE_RANGE, vma, addr, end, d);

	if (mm)
		bpf_map_update_elem(&zap_open, &tid, &mm, BPF_ANY);
	return 0;
}

SEC("fexit/unmap_page_range")
int BPF_PROG(fx_unmap_page_range, ZAP_ARGS)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();

	emit_zap(MMR_K_ZAP_DONE, vma, addr, end, d);
	bpf_map_delete_elem(&zap_open, &tid);
	return 0;
}

SEC("kprobe/unmap_page_range")
int BPF_KPROBE(kp_unmap_page_range, ZAP_ARGS)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	__u64 mm = emit_zap(MMR_K_UNMAP_PAGE_RANGE, vma, addr, end, d);

	if (mm)
		bpf_map_update_elem(&zap_open, &tid, &mm, BPF_ANY);
	return 0;
}

SEC("kretprobe/unmap_page_range")
int BPF_KRETPROBE(kr_unmap_page_range)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	__u64 *mm = bpf_map_lookup_elem(&zap_open, &tid);
	struct mmr_zap *e;

	if (!mm)
		return 0;
	e = reserve(sizeof(*e), MMR_K_ZAP_DONE, *mm);
	bpf_map_delete_elem(&zap_open, &tid);
	if (!e)
		return 0;
	__builtin_memset((char *)e + sizeof(e->c), 0, sizeof(*e) - sizeof(e->c));
	submit(e);
	return 0;
}
TWIN(zap_page_range_single, (emit_zap(MMR_K_ZAP_PAGE_RANGE_SINGLE, vma, addr, addr + size, d), 0),
     struct vm_area_struct *vma, unsigned long addr, unsigned long size, struct zap_details *d)
TWIN(unmap_mapping_pages, emit_unmap_mapping(MMR_K_UNMAP_MAPPING_PAGES, m, start, nr, even_cows),
     struct address_space *m, unsigned long start, unsigned long nr, bool even_cows)
TWIN(unmap_mapping_range, emit_unmap_mapping(MMR_K_UNMAP_MAPPING_RANGE, m, begin, len, even_cows),
     struct address_space *m, long long begin, long long len, int even_cows)

/* free_swap_and_cache(entry) up to 6.9, free_swap_and_cache_nr(entry, nr) after */
TWIN(free_swap_and_cache_nr, emit_free_swap(entry, nr), __u64 entry, int nr)
TWIN(free_swap_and_cache, emit_free_swap(entry, 1), __u64 entry)
TWIN(do_swap_page, emit_swap_fault(vmf), struct vm_fault *vmf)

/* Fault completion: fexit, else a kprobe/kretprobe pair. */
SEC("fexit/handle_mm_fault")
int BPF_PROG(fx_handle_mm_fault, struct vm_area_struct *vma, unsigned long address,
	     unsigned int flags, struct pt_regs *regs, unsigned int ret)
{
	if (!(flags & 0x40 /* FAULT_FLAG_USER */) ||
	    !tgid_traced(bpf_get_current_pid_tgid() >> 32))
		return 0;
	return emit_fault_done(address, flags, ret);
}

SEC("kprobe/handle_mm_fault")
int BPF_KPROBE(kp_handle_mm_fault, struct vm_area_struct *vma, unsigned long address,
	       unsigned int flags)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	__u64 v = address | ((__u64)(flags & 0xfff));

	if (!(flags & 0x40) || !tgid_traced(bpf_get_current_pid_tgid() >> 32))
		return 0;
	bpf_map_update_elem(&fault_addr, &tid, &v, BPF_ANY);
	return 0;
}

SEC("kretprobe/handle_mm_fault")
int BPF_KRETPROBE(kr_handle_mm_fault, unsigned int ret)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	__u64 *v = bpf_map_lookup_elem(&fault_addr, &tid);
	__u64 a;

	if (!v)
		return 0;
	a = *v;
	bpf_map_delete_elem(&fault_addr, &tid);
	return emit_fault_done(a & ~0xfffULL, a & 0xfff, ret);
}
