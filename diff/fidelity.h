/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The fidelity of a replay: its trace compared with the recording by the
 * diff machinery, operation by operation, and what the replay did not do.
 *
 * A replay rebuilds what the recorded operations mapped (mmap, mremap,
 * brk, shmat) and replays the calls and touches on it; the memory exec
 * made (program images, stacks, the loader's first mappings) is not
 * rebuilt, and diff does not compare events there.  An op or touch on
 * such memory is counted as "outside what replay rebuilds", named in the
 * verdict, and does not make the replay unfaithful.  Everything else does:
 * an operation that differs, an op not issued on memory a recorded op
 * mapped, a refused or unknown op, a touch that hit SIGSEGV/SIGBUS or fell
 * outside the replayed mappings on memory a recorded op mapped, an error.
 */
#ifndef MMR_FIDELITY_H
#define MMR_FIDELITY_H

#include "diff/diff.h"

/* Why the replay did not issue an op (the recording's op, classified). */
enum fskip {
	FS_FAILED,	/* failed when recorded: nothing to rebuild (no effect) */
	FS_CLOSE,	/* close of an fd the replay never opened: no effect on memory */
	FS_QUERY,	/* brk(0): no effect on memory */
	FS_OPEN,	/* an open whose file the recording does not name: no effect on memory */
	FS_OUTSIDE,	/* on memory no recorded op mapped (exec's): not rebuilt */
	FS_RANGE,	/* on memory a recorded op mapped, not mapped here */
	FS_FD,		/* an fd that is not a file the replay knows (inherited, pipe...) */
	FS_REFUSED,	/* replay never does it (MADV_HWPOISON, MADV_SOFT_OFFLINE) */
	FS_OTHER,	/* a call replay does not rebuild */
	FS_NR
};

#define FIDELITY_FIRST 3	/* differences named */

struct fverdict {
	int faithful;
	size_t ops;			/* the recording's ops (pseudo ops not counted) */
	size_t equivalent, differ;	/* aligned ops compared equal; ops that differ */
	size_t differ_raced;		/* of them, ops that raced another task's call when recorded */
	size_t normalised;		/* equivalent once rss changes moved between threads count */
	size_t normalised_late;		/* equivalent once rss changes reported late (< 6.2) count */
	size_t only_rec, only_rep;	/* ops in one trace only */
	size_t skipped[FS_NR];		/* ops the replay did not issue, by reason */
	__u64 touches;			/* the recording's touches */
	__u64 touches_outside_scope;	/* of them on memory no recorded op mapped */
	__u64 touches_missed;		/* outside the replayed mappings, on memory a recorded op mapped */
	__u64 touches_faulted;		/* hit SIGSEGV/SIGBUS in the replay */
	__u64 unreplayable;		/* process_madvise calls: their iovec is not recorded */
	int no_common;			/* too few ops line up to compare */
	char first[FIDELITY_FIRST][256];	/* the first differences, in diff's words */
	int nr_first;
	char why[256];			/* unfaithful: the first reason, in a line */
	char notes[DIFF_NOTES_MAX][DIFF_NOTE_LEN];	/* ddiff_notes() */
	int nr_notes;
};

/*
 * Compares a replay's trace (a plain run) with its recording; st: what the
 * replay process counted, error: its error ("" if none).  0, or -1 with err
 * set: a trace could not be read, so nothing is known about fidelity.
 */
int fidelity_check(struct fverdict *f, const char *recording, const char *replay,
		   const struct rstats *st, const char *error, char *err, size_t errlen);
/* "failed when recorded: nothing to rebuild"... */
const char *fskip_text(int reason);
/* "failed_when_recorded"...: the JSON name of a reason */
const char *fskip_name(int reason);
/* Reasons that leave the replay faithful (they have no effect, or are outside its scope). */
int fskip_benign(int reason);

#endif
