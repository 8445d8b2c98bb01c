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
 * Where this kernel reports memory unlike the recording's, the executor
 * makes it report as recorded (replay/xkernel.c) and says so, once per run:
 * prctl(MMR_MARK_RSS_SYNC, page) where threads cache their rss changes
 * (before 6.2: each thread flushes its cache after every touch and op,
 * madvise(MADV_DONTNEED) of that empty page of its own), and
 * prctl(MMR_MARK_ZERO_FILL) where it maps the zero page on a read fault
 * that the recording's kernel gave a page of its own (it writes such pages
 * through /proc/self/mem).  Each such call of a thread is bracketed by
 * prctl(MMR_MARK_HELPER, 1, 0) and prctl(MMR_MARK_HELPER, 0, pages
 * written): its rss changes count for the touch or op before it, as they
 * would have there, and nothing else of it counts.
 */
#define MMR_MARK_RSS_SYNC 0x4d4d5253
#define MMR_MARK_ZERO_FILL 0x4d4d525a
/* MMR_MARK_HELPER: in bpf/events.h, the recorder takes no snapshot inside one */

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
