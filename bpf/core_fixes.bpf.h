/* SPDX-License-Identifier: GPL-2.0 */
/*
 * CO-RE fixes for kernel fields that were renamed or retyped between the
 * kernels mmreplay runs on (6.1 .. 6.18).  Each fix names the kernel change.
 * Only helpers used by programs that may run under lockdown (tp_btf,
 * tracepoint) read memory directly; the fentry/kprobe helpers use
 * BPF_CORE_READ, which is fine where kprobes exist (no lockdown there).
 */
#ifndef MMR_CORE_FIXES_BPF_H
#define MMR_CORE_FIXES_BPF_H

#include <bpf/bpf_core_read.h>

/*
 * folio->flags: a plain unsigned long up to 6.17; a memdesc_flags_t
 * (struct { unsigned long f; }) since "mm: introduce memdesc_flags_t"
 * (v6.18).  Both are one word at the same place, so read the word.
 */
struct folio___old {
	unsigned long flags;
} __attribute__((preserve_access_index));

static __always_inline __u64 folio_flags_word(void *folio)
{
	__u64 v = 0;

	if (bpf_core_type_exists(memdesc_flags_t)) {
		struct folio *f = folio;

		bpf_core_read(&v, sizeof(v), &f->flags);
	} else {
		struct folio___old *f = folio;

		bpf_core_read(&v, sizeof(v), &f->flags);
	}
	return v;
}

/* The same word read directly, for programs that run under lockdown (tp_btf). */
static __always_inline __u64 folio_flags_direct(struct folio *folio)
{
	if (bpf_core_type_exists(memdesc_flags_t))
		return folio->flags.f;
	return ((struct folio___old *)folio)->flags;
}

/*
 * 6.1 has no munlock_folio/mlock_new_folio: they were munlock_page and
 * mlock_new_page taking a struct page until "mm: mlock: update the
 * interface to use folios" (v6.3).  Userspace attaches whichever name the
 * kernel has; both take a pointer into the memmap, so one handler serves.
 */

/*
 * sched_process_exit takes (task) on 6.1 and (task, group_dead) on 6.18.
 * Touch only the first argument and read signal->live instead: do_exit()
 * has already decremented it when the tracepoint fires, so it is 0 exactly
 * when the whole thread group is dead.
 */
static __always_inline __u32 task_group_dead(struct task_struct *t)
{
	struct signal_struct *sig = t->signal;

	if (!sig)
		return 0;
	return sig->live.counter == 0;
}

/*
 * kmem:rss_stat lost its `count` argument in v6.2 (commit f1a7941243c1,
 * "mm: convert mm's rss stats into percpu_counter"): the classic
 * tracepoint's record keeps the same `size` field on both; the typed one
 * has tb_rss_stat_count for 6.1 and tb_rss_stat (which sums the
 * percpu_counter, struct percpu_counter___new) after, chosen by the
 * arity of btf_trace_rss_stat (record/probes.c).
 */

/*
 * The fd table: files->fd_array[] holds the first BITS_PER_LONG files for
 * as long as files->fdt points at the embedded files->fdtab (true on every
 * kernel since 2.6).  Reading it needs no bpf_probe_read_kernel(), which
 * lockdown=confidentiality denies.
 */
#define MMR_FD_ARRAY_LEN 64

/*
 * exceptions:page_fault_user's record is struct
 * trace_event_raw_x86_exceptions on 6.1 and trace_event_raw_exceptions on
 * 6.18 (the x86 event class was renamed); the fields are the same.
 */
struct trace_event_raw_x86_exceptions {
	struct trace_entry ent;
	unsigned long address;
	unsigned long ip;
	unsigned long error_code;
} __attribute__((preserve_access_index));

#define PAGE_FAULT_RECORD_END()                                                     \
	(bpf_core_type_exists(struct trace_event_raw_exceptions) ?                  \
	 bpf_core_field_offset(struct trace_event_raw_exceptions, error_code) + 8 : \
	 bpf_core_field_offset(struct trace_event_raw_x86_exceptions, error_code) + 8)

#endif /* MMR_CORE_FIXES_BPF_H */
