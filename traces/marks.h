/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The replay's marks, written by the replay executor and read back from a
 * replay trace by check, diff and the replay report.
 *
 * The executor calls prctl(MMR_MARK_OP, op id, task, replay address,
 * count) before each operation, or once for a run of count touches with
 * consecutive ids relocated by one offset, and prctl(MMR_MARK_RUN, run,
 * pair op a, pair op b) before each run; a perturber announces itself with
 * prctl(MMR_MARK_PERTURB, kind, target op).  They fail with EINVAL and cost
 * one syscall; `record` traces prctl, so a replay trace ties its events to
 * the operations.
 */
#ifndef MMR_MARKS_H
#define MMR_MARKS_H

#include "trace.h"

#define MMR_MARK_OP 0x4d4d5250	/* "PRMM" */
#define MMR_MARK_RUN 0x4d4d5252
#define MMR_MARK_PERTURB 0x4d4d5254
/*
 * prctl(MMR_MARK_RSS_SYNC, address), once per replay process on a kernel
 * whose threads cache their rss changes (mmr_kernel_rss_exact() says no):
 * before each op mark a thread calls madvise(address, page, MADV_DONTNEED)
 * on that page of its own, left empty with its page table in place.  The
 * zap flushes the thread's cache (add_mm_rss_vec() calls sync_mm_rss()),
 * so the rss changes of the op that ends there are reported in it, as a
 * kernel that counts exactly reports them; it changes no counter itself.
 */
#define MMR_MARK_RSS_SYNC 0x4d4d5253
/*
 * prctl(MMR_MARK_ZERO_FILL), once per replay process where the recording's
 * kernel gave a read fault on fresh anonymous memory a page of its own and
 * this kernel maps the zero page (META anon_read_fault): after such a read
 * touch the executor calls madvise(page, MADV_POPULATE_WRITE) on the page
 * if pagemap shows the zero page there, so that the page is the process's
 * own, as recorded (the populate faults in the kernel, not in user mode:
 * no page_fault_user).  Its rss change counts for the touch's op.
 */
#define MMR_MARK_ZERO_FILL 0x4d4d525a

/*
 * What an op mark's op is, in the sixth register (prctl ignores it; the
 * recorder stores all six): a magic, the syscall number and the rop type,
 * so that a replay trace names its ops without the recording.
 */
#define MMR_MARK_WHAT(type, nr) (0x4d4dULL << 48 | (__u64)(nr) << 8 | (type))
/* 0 and the op's type and syscall number, or -1 for a mark without them. */
int mark_what(__u64 arg5, int *type, int *nr);

/* The sys_enter of a mark prctl(which, ...), or NULL if ev is none. */
const struct mmr_sys_enter *mark_of(const struct mmr_event *ev, __u64 which);

#endif /* MMR_MARKS_H */
