/* SPDX-License-Identifier: GPL-2.0 */
/* State of one recording, shared by cmd_record.c and record_io.c. */
#ifndef MMR_RECORD_H
#define MMR_RECORD_H

#include <sys/types.h>
#include "record/probes.h"
#include "record/snapshot.h"
#include "traces/trace.h"
#include "watchdog.h"

#define MMR_MAX_SCRUB 8

/* Fields of a raw tracepoint record that must not reach the file as is. */
struct scrub {
	int nr;
	/* how: 'p' pointer -> keyed hash, 'h' 32-bit kernel hash of a pointer
	 * -> keyed hash, 'z' __data_loc -> zero (its data is not copied) */
	struct { unsigned short off, size; char how; } f[MMR_MAX_SCRUB];
};

struct recorder {
	struct mmreplay_bpf *skel;
	struct ring_buffer *rb;
	struct mmr_writer *w;
	const char *out;
	struct probe_plan plans[MMR_K_NR];
	struct scrub scrub[MMR_K_NR];
	struct bpf_link *links[64];
	const struct bpf_program *link_progs[64];
	int nr_links;
	__u64 k0, k1;
	pid_t child;
	int child_status;
	int go_fd;
	int argc;
	char **argv;
	__u64 nr_events, per_kind[MMR_K_NR], bad_records;
	int write_error, finished;
	/* record --snapshot: snapshots wait until the ring buffer is drained */
	int snapshot;
	long snapshot_max;	/* --snapshot-max, 0: none */
	int snaps_capped;	/* reached it: no more stops */
	struct snapshots snaps;
	struct watchdog dog;	/* resumes what we stopped, should we die */
	struct { pid_t tgid, tid; __u64 mm; __u32 reason; int stopped; } pending[64];
	int nr_pending;
};

int record_handle_event(void *ctx, void *data, size_t size);
int record_write_header(struct recorder *r, char **cmd, const int *pids, int nr_pids);
int record_write_stats(struct recorder *r, int chunk_type);
int record_finish(struct recorder *r, int quiet);
/* Take the snapshots queued by record_handle_event(). */
int record_take_snapshots(struct recorder *r);

#endif
