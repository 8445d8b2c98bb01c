// SPDX-License-Identifier: GPL-2.0
/*
 * Kind table.  Struct kinds get a format file generated from the C struct in
 * bpf/events.h (offsetof/sizeof), so the trace describes them exactly as it
 * describes kernel tracepoints, and libtraceevent decodes both.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "kinds.h"

#define FLD(st, m, ct, sgn, pr) { ct, #m, offsetof(st, m), sizeof(((st *)0)->m), sgn, pr }
#define FLDN(st, m, nm, ct, sgn, pr) { ct, nm, offsetof(st, m), sizeof(((st *)0)->m), sgn, pr }
#define NF(a) (int)(sizeof(a) / sizeof((a)[0]))

#define FILE_FIELDS(st)                                                  \
	FLDN(st, file.ino, "file_ino", "u64", 0, "%llu"),                \
	FLDN(st, file.size, "file_size", "u64", 0, "%llu"),              \
	FLDN(st, file.dev, "file_dev", "u32", 0, "0x%x"),                \
	FLDN(st, file.valid, "file_valid", "u32", 0, "%u")

static const struct field_def f_sys_enter[] = {
	FLD(struct mmr_sys_enter, nr, "u32", 0, "%u"),
	FLDN(struct mmr_sys_enter, args[0], "arg0", "u64", 0, "0x%llx"),
	FLDN(struct mmr_sys_enter, args[1], "arg1", "u64", 0, "0x%llx"),
	FLDN(struct mmr_sys_enter, args[2], "arg2", "u64", 0, "0x%llx"),
	FLDN(struct mmr_sys_enter, args[3], "arg3", "u64", 0, "0x%llx"),
	FLDN(struct mmr_sys_enter, args[4], "arg4", "u64", 0, "0x%llx"),
	FLDN(struct mmr_sys_enter, args[5], "arg5", "u64", 0, "0x%llx"),
	FILE_FIELDS(struct mmr_sys_enter),
};

static const struct field_def f_sys_exit[] = {
	FLD(struct mmr_sys_exit, nr, "u32", 0, "%u"),
	FLD(struct mmr_sys_exit, ret, "s64", 1, "%lld"),
	FILE_FIELDS(struct mmr_sys_exit),
};

static const struct field_def f_sys_path[] = {
	FLD(struct mmr_sys_path, nr, "u32", 0, "%u"),
	FLD(struct mmr_sys_path, arg, "u32", 0, "%u"),
	FLDN(struct mmr_sys_path, path, "path[128]", "char", 0, "%s"),
};

static const struct field_def f_fork[] = {
	FLD(struct mmr_task_fork, parent_tid, "s32", 1, "%d"),
	FLD(struct mmr_task_fork, parent_tgid, "s32", 1, "%d"),
	FLD(struct mmr_task_fork, child_tid, "s32", 1, "%d"),
	FLD(struct mmr_task_fork, child_tgid, "s32", 1, "%d"),
	FLD(struct mmr_task_fork, child_mm, "u64", 0, "0x%llx"),
};

static const struct field_def f_exit[] = {
	FLD(struct mmr_task_exit, tid, "s32", 1, "%d"),
	FLD(struct mmr_task_exit, exit_code, "s32", 1, "%d"),
	FLD(struct mmr_task_exit, group_dead, "u32", 0, "%u"),
};

static const struct field_def f_exec[] = {
	FLD(struct mmr_task_exec, old_tid, "s32", 1, "%d"),
	FLDN(struct mmr_task_exec, comm, "comm[16]", "char", 0, "%s"),
};

static const struct field_def f_rmap[] = {
	FLD(struct mmr_rmap, pfn, "u64", 0, "0x%llx"),
	FLD(struct mmr_rmap, address, "u64", 0, "0x%llx"),
	FLD(struct mmr_rmap, vm_start, "u64", 0, "0x%llx"),
	FLD(struct mmr_rmap, vm_end, "u64", 0, "0x%llx"),
	FLD(struct mmr_rmap, vm_flags, "u64", 0, "0x%llx"),
	FLD(struct mmr_rmap, nr_pages, "u32", 0, "%u"),
};

static const struct field_def f_mlock[] = {
	FLD(struct mmr_mlock, pfn, "u64", 0, "0x%llx"),
	FLD(struct mmr_mlock, folio_flags, "u64", 0, "0x%llx"),
	FLD(struct mmr_mlock, nr_pages, "u32", 0, "%u"),
	FLD(struct mmr_mlock, mlock_count, "u32", 0, "%u"),
};

static const struct field_def f_zap[] = {
	FLD(struct mmr_zap, vm_start, "u64", 0, "0x%llx"),
	FLD(struct mmr_zap, vm_end, "u64", 0, "0x%llx"),
	FLD(struct mmr_zap, start, "u64", 0, "0x%llx"),
	FLD(struct mmr_zap, end, "u64", 0, "0x%llx"),
	FLD(struct mmr_zap, vm_flags, "u64", 0, "0x%llx"),
	FLD(struct mmr_zap, has_details, "u32", 0, "%u"),
	FLD(struct mmr_zap, even_cows, "u32", 0, "%u"),
};

static const struct field_def f_unmap_mapping[] = {
	FLD(struct mmr_unmap_mapping, start, "u64", 0, "%llu"),
	FLD(struct mmr_unmap_mapping, len, "u64", 0, "%llu"),
	FLD(struct mmr_unmap_mapping, ino, "u64", 0, "%llu"),
	FLD(struct mmr_unmap_mapping, dev, "u32", 0, "0x%x"),
	FLD(struct mmr_unmap_mapping, even_cows, "u32", 0, "%u"),
};

static const struct field_def f_free_swap[] = {
	FLD(struct mmr_free_swap, entry, "u64", 0, "0x%llx"),
	FLD(struct mmr_free_swap, nr, "u32", 0, "%u"),
};

static const struct field_def f_swap_fault[] = {
	FLD(struct mmr_swap_fault, address, "u64", 0, "0x%llx"),
	FLD(struct mmr_swap_fault, orig_pte, "u64", 0, "0x%llx"),
	FLD(struct mmr_swap_fault, flags, "u32", 0, "0x%x"),
};

static const struct field_def f_snap[] = {
	FLD(struct mmr_snap, seq, "u32", 0, "%u"),
	FLD(struct mmr_snap, reason, "u32", 0, "%u"),
	FLD(struct mmr_snap, flags, "u32", 0, "0x%x"),
	FLDN(struct mmr_snap, st.rss_anon, "rss_anon", "s64", 1, "%lld"),
	FLDN(struct mmr_snap, st.rss_file, "rss_file", "s64", 1, "%lld"),
	FLDN(struct mmr_snap, st.rss_shmem, "rss_shmem", "s64", 1, "%lld"),
	FLDN(struct mmr_snap, st.vm_swap, "vm_swap", "s64", 1, "%lld"),
	FLDN(struct mmr_snap, st.vm_lck, "vm_lck", "s64", 1, "%lld"),
	FLD(struct mmr_snap, mlocked, "s64", 1, "%lld"),
	FLD(struct mmr_snap, unevictable, "s64", 1, "%lld"),
	FLD(struct mmr_snap, swap_free, "s64", 1, "%lld"),
	FLD(struct mmr_snap, pgs_mlocked, "s64", 1, "%lld"),
	FLD(struct mmr_snap, pgs_munlocked, "s64", 1, "%lld"),
	FLD(struct mmr_snap, pgs_cleared, "s64", 1, "%lld"),
	FLD(struct mmr_snap, pgs_stranded, "s64", 1, "%lld"),
	FLD(struct mmr_snap, pgs_rescued, "s64", 1, "%lld"),
};

static const struct field_def f_snap_vma[] = {
	FLD(struct mmr_snap_vma, seq, "u32", 0, "%u"),
	FLD(struct mmr_snap_vma, flags, "u32", 0, "0x%x"),
	FLD(struct mmr_snap_vma, start, "u64", 0, "0x%llx"),
	FLD(struct mmr_snap_vma, end, "u64", 0, "0x%llx"),
	FLD(struct mmr_snap_vma, pgoff, "u64", 0, "0x%llx"),
	FLD(struct mmr_snap_vma, ino, "u64", 0, "%llu"),
	FLD(struct mmr_snap_vma, dev, "u32", 0, "0x%x"),
	FLDN(struct mmr_snap_vma, name, "name[64]", "char", 0, "%s"),
};

/* The page array that follows is described in bpf/events.h, not here. */
static const struct field_def f_snap_pages[] = {
	FLD(struct mmr_snap_pages, seq, "u32", 0, "%u"),
	FLD(struct mmr_snap_pages, nr, "u32", 0, "%u"),
};

static const struct field_def f_snap_end[] = {
	FLD(struct mmr_snap_end, seq, "u32", 0, "%u"),
	FLD(struct mmr_snap_end, flags, "u32", 0, "0x%x"),
	FLD(struct mmr_snap_end, nr_vmas, "u32", 0, "%u"),
	FLD(struct mmr_snap_end, nr_pages, "u32", 0, "%u"),
	FLDN(struct mmr_snap_end, st.rss_anon, "rss_anon", "s64", 1, "%lld"),
	FLDN(struct mmr_snap_end, st.rss_file, "rss_file", "s64", 1, "%lld"),
	FLDN(struct mmr_snap_end, st.rss_shmem, "rss_shmem", "s64", 1, "%lld"),
	FLDN(struct mmr_snap_end, st.vm_swap, "vm_swap", "s64", 1, "%lld"),
	FLDN(struct mmr_snap_end, st.vm_lck, "vm_lck", "s64", 1, "%lld"),
};

static const struct field_def f_fault_done[] = {
	FLD(struct mmr_fault_done, address, "u64", 0, "0x%llx"),
	FLD(struct mmr_fault_done, flags, "u32", 0, "0x%x"),
	FLD(struct mmr_fault_done, ret, "u32", 0, "0x%x"),
};

#define STRUCT_KIND(kid, nm, tp, pg, f, dtext) \
	{ .id = kid, .name = nm, .system = "mmreplay", .src = MMR_SRC_STRUCT, \
	  .tp_name = tp, .prog = pg, .fields = f, .nr_fields = NF(f), .default_on = 1, .doc = dtext }
#define TP_KIND(kid, cat, nm, on, dtext) \
	{ .id = kid, .name = nm, .system = cat, .src = MMR_SRC_TRACEPOINT, \
	  .tp_cat = cat, .tp_name = nm, .prog = "tp_" nm, .default_on = on, .doc = dtext }
#define ALT(fn) { fn, "fe_" fn, "kp_" fn, NULL }
#define FUNC_KIND(kid, nm, f, a0, a1, dtext) \
	{ .id = kid, .name = nm, .system = "mmreplay", .src = MMR_SRC_FUNC, \
	  .alts = { a0, a1 }, .fields = f, .nr_fields = NF(f), .default_on = 1, .doc = dtext }
#define NOALT { NULL, NULL, NULL, NULL }
#define SNAP_KIND(kid, nm, f, dtext) \
	{ .id = kid, .name = nm, .system = "mmreplay", .src = MMR_SRC_RECORDER, \
	  .fields = f, .nr_fields = NF(f), .default_on = 0, .doc = dtext }

const struct kind_def mmr_kinds[] = {
	STRUCT_KIND(MMR_K_SYS_ENTER, "sys_enter", "sys_enter", "sys_enter", f_sys_enter,
		    "mm syscall entry with arguments and the file behind a fd argument"),
	STRUCT_KIND(MMR_K_SYS_EXIT, "sys_exit", "sys_exit", "sys_exit", f_sys_exit,
		    "mm syscall result and the file behind a returned fd or mapping"),
	STRUCT_KIND(MMR_K_SYS_PATH, "sys_path", "sys_enter", "sys_enter", f_sys_path,
		    "path or name argument of open/truncate/memfd_create/execve"),
	STRUCT_KIND(MMR_K_TASK_FORK, "task_fork", "sched_process_fork", "task_fork", f_fork,
		    "fork/clone of a traced task; the child is traced from then on"),
	STRUCT_KIND(MMR_K_TASK_EXIT, "task_exit", "sched_process_exit", "task_exit", f_exit,
		    "exit of a traced task (after its mm was released)"),
	STRUCT_KIND(MMR_K_TASK_EXEC, "task_exec", "sched_process_exec", "task_exec", f_exec,
		    "execve of a traced task; hdr.mm is the new mm"),
	TP_KIND(MMR_K_PAGE_FAULT_USER, "exceptions", "page_fault_user", 1,
		"user page fault: address, ip, x86 error code"),
	TP_KIND(MMR_K_PAGE_FAULT_KERNEL, "exceptions", "page_fault_kernel", 1,
		"kernel-mode fault on a user address (read() into fresh memory...): "
		"address, x86 error code (ip, kernel text, zeroed)"),
	TP_KIND(MMR_K_RSS_STAT, "kmem", "rss_stat", 1,
		"rss counter change (MM_FILEPAGES, MM_ANONPAGES, MM_SWAPENTS, MM_SHMEMPAGES)"),
	TP_KIND(MMR_K_LRU_INSERTION, "pagemap", "mm_lru_insertion", 1,
		"folio added to an LRU list, with pfn and mlocked/unevictable flags"),
	TP_KIND(MMR_K_SET_MIGRATION_PTE, "migrate", "set_migration_pte", 1,
		"migration entry installed"),
	TP_KIND(MMR_K_REMOVE_MIGRATION_PTE, "migrate", "remove_migration_pte", 1,
		"migration entry replaced by the new page"),
	TP_KIND(MMR_K_MMAP_LOCK_START, "mmap_lock", "mmap_lock_start_locking", 1,
		"mmap_lock acquisition starts"),
	TP_KIND(MMR_K_MMAP_LOCK_ACQUIRED, "mmap_lock", "mmap_lock_acquire_returned", 1,
		"mmap_lock acquisition returned"),
	TP_KIND(MMR_K_MMAP_LOCK_RELEASED, "mmap_lock", "mmap_lock_released", 1,
		"mmap_lock released"),
	TP_KIND(MMR_K_EXIT_MMAP, "mmap", "exit_mmap", 1,
		"the mm is torn down at exit"),
	/* its print fmt computes a struct page address from vmemmap_base: not stored */
	{ .id = MMR_K_PAGE_FREE, .name = "mm_page_free", .system = "kmem",
	  .src = MMR_SRC_TRACEPOINT, .tp_cat = "kmem", .tp_name = "mm_page_free",
	  .prog = "tp_mm_page_free", .default_on = 1,
	  .doc = "page freed: only a PFN the mlock ledger follows, where the mlock hooks attach",
	  .tp_print = "print fmt: \"pfn=0x%lx order=%d\", REC->pfn, REC->order\n" },
	FUNC_KIND(MMR_K_TRY_TO_UNMAP_ONE, "try_to_unmap_one", f_rmap,
		  ALT("try_to_unmap_one"), NOALT, "rmap walk: unmap one mapping of a folio (reclaim)"),
	FUNC_KIND(MMR_K_FOLIO_REFERENCED_ONE, "folio_referenced_one", f_rmap,
		  ALT("folio_referenced_one"), NOALT, "rmap walk: test/clear young bits (reclaim)"),
	FUNC_KIND(MMR_K_TRY_TO_MIGRATE_ONE, "try_to_migrate_one", f_rmap,
		  ALT("try_to_migrate_one"), NOALT, "rmap walk: install migration entries"),
	FUNC_KIND(MMR_K_MLOCK_FOLIO, "mlock_folio", f_mlock,
		  ALT("mlock_folio"), NOALT, "folio mlocked (mlock_count raised)"),
	FUNC_KIND(MMR_K_MUNLOCK_FOLIO, "munlock_folio", f_mlock,
		  ALT("munlock_folio"), ALT("munlock_page"), "folio munlocked (6.1: munlock_page)"),
	FUNC_KIND(MMR_K_MLOCK_NEW_FOLIO, "mlock_new_folio", f_mlock,
		  ALT("mlock_new_folio"), ALT("mlock_new_page"),
		  "new folio mlocked at fault (6.1: mlock_new_page)"),
	FUNC_KIND(MMR_K_NEW_ANON_RMAP, "new_anon_rmap", f_rmap,
		  ALT("folio_add_new_anon_rmap"), ALT("page_add_new_anon_rmap"),
		  "new anonymous folio mapped into a VM_LOCKED vma, by a traced task (6.1: "
		  "page_add_new_anon_rmap)"),
	FUNC_KIND(MMR_K_UNMAP_PAGE_RANGE, "unmap_page_range", f_zap,
		  ALT("unmap_page_range"), NOALT, "zap of a VMA range (munmap, exit, MADV_DONTNEED)"),
	FUNC_KIND(MMR_K_ZAP_PAGE_RANGE_SINGLE, "zap_page_range_single", f_zap,
		  ALT("zap_page_range_single"), NOALT, "zap of a range of one VMA (truncate, punch)"),
	FUNC_KIND(MMR_K_UNMAP_MAPPING_PAGES, "unmap_mapping_pages", f_unmap_mapping,
		  ALT("unmap_mapping_pages"), NOALT, "unmap file pages from all mappings; even_cows"),
	FUNC_KIND(MMR_K_UNMAP_MAPPING_RANGE, "unmap_mapping_range", f_unmap_mapping,
		  ALT("unmap_mapping_range"), NOALT, "unmap a byte range of a file; even_cows"),
	FUNC_KIND(MMR_K_FREE_SWAP_AND_CACHE, "free_swap_and_cache", f_free_swap,
		  ALT("free_swap_and_cache_nr"), ALT("free_swap_and_cache"),
		  "swap entries freed by a zap"),
	FUNC_KIND(MMR_K_DO_SWAP_PAGE, "do_swap_page", f_swap_fault,
		  ALT("do_swap_page"), NOALT, "fault on a swap PTE (swap-in)"),
	{ .id = MMR_K_FAULT_DONE, .name = "fault_done", .system = "mmreplay",
	  .src = MMR_SRC_FUNC, .fields = f_fault_done, .nr_fields = NF(f_fault_done),
	  .alts = { { "handle_mm_fault", "fx_handle_mm_fault", "kp_handle_mm_fault",
		      "kr_handle_mm_fault" } },
	  .default_on = 1,
	  .doc = "user fault completion: handle_mm_fault result (VM_FAULT_*)" },
	{ .id = MMR_K_ZAP_DONE, .name = "zap_done", .system = "mmreplay",
	  .src = MMR_SRC_FUNC, .fields = f_zap, .nr_fields = NF(f_zap),
	  .alts = { { "unmap_page_range", "fx_unmap_page_range", NULL, "kr_unmap_page_range" } },
	  .default_on = 1,
	  .doc = "unmap_page_range returned (kretprobe: only hdr.mm)" },
	SNAP_KIND(MMR_K_SNAP, "snapshot", f_snap,
		  "state snapshot: /proc/PID/status, meminfo and vmstat counters"),
	SNAP_KIND(MMR_K_SNAP_VMA, "snapshot_vma", f_snap_vma,
		  "state snapshot: one VMA from /proc/PID/smaps"),
	SNAP_KIND(MMR_K_SNAP_PAGES, "snapshot_pages", f_snap_pages,
		  "state snapshot: pagemap, kpageflags, kpagecount of present or swapped pages"),
	SNAP_KIND(MMR_K_SNAP_END, "snapshot_end", f_snap_end,
		  "state snapshot: status counters re-read after the pages"),
};

const int mmr_nr_kinds = NF(mmr_kinds);

const char *kind_source_name(enum mmr_kind_source s)
{
	static const char *const names[] = { "struct", "tracepoint", "func", "recorder" };

	return s <= MMR_SRC_RECORDER ? names[s] : "?";
}

const struct kind_def *kind_def(int id)
{
	for (int i = 0; i < mmr_nr_kinds; i++)
		if (mmr_kinds[i].id == id)
			return &mmr_kinds[i];
	return NULL;
}

const struct kind_def *kind_def_by_name(const char *name)
{
	for (int i = 0; i < mmr_nr_kinds; i++)
		if (!strcmp(mmr_kinds[i].name, name))
			return &mmr_kinds[i];
	return NULL;
}

char *kind_tp_format(const struct kind_def *k, const char *raw)
{
	const char *id = strstr(raw, "\nID: "), *eol, *pr;
	char *out = NULL;
	size_t len = 0;
	FILE *m;

	if (!id)
		return NULL;
	eol = strchr(id + 1, '\n');
	eol = eol ? eol : id + strlen(id);
	pr = k->tp_print ? strstr(eol, "\nprint fmt: ") : NULL;
	m = open_memstream(&out, &len);
	if (!m)
		return NULL;
	fprintf(m, "%.*s\nID: %d%.*s%s", (int)(id - raw), raw, k->id,
		pr ? (int)(pr + 1 - eol) : (int)strlen(eol), eol, pr ? k->tp_print : "");
	fclose(m);
	return out;
}

static void field_line(FILE *f, const char *ctype, const char *name, unsigned off,
		       unsigned size, int sgn)
{
	fprintf(f, "\tfield:%s %s;\toffset:%u;\tsize:%u;\tsigned:%d;\n",
		ctype, name, off, size, sgn);
}

/* The bare field name, without an array suffix. */
static void bare_name(const char *name, char *buf, size_t len)
{
	snprintf(buf, len, "%.*s", (int)strcspn(name, "["), name);
}

char *kind_format(const struct kind_def *k)
{
	char *out = NULL, bare[64];
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	if (!f)
		return NULL;
	fprintf(f, "name: %s\nID: %d\nformat:\n", k->name, k->id);
	field_line(f, "unsigned short", "common_type", 0, 2, 0);
	field_line(f, "unsigned char", "common_flags", 2, 1, 0);
	field_line(f, "unsigned char", "common_preempt_count", 3, 1, 0);
	field_line(f, "int", "common_pid", 4, 4, 1);
	fputc('\n', f);
	for (int i = 0; i < k->nr_fields; i++) {
		const struct field_def *d = &k->fields[i];

		field_line(f, d->ctype, d->name, d->offset, d->size, d->is_signed);
	}
	fputs("\nprint fmt: \"", f);
	for (int i = 0; i < k->nr_fields; i++) {
		bare_name(k->fields[i].name, bare, sizeof(bare));
		fprintf(f, "%s%s=%s", i ? " " : "", bare, k->fields[i].print);
	}
	fputc('"', f);
	for (int i = 0; i < k->nr_fields; i++) {
		bare_name(k->fields[i].name, bare, sizeof(bare));
		fprintf(f, ", REC->%s", bare);
	}
	fputc('\n', f);
	fclose(f);
	return out;
}
