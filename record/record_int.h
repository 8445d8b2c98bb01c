/* SPDX-License-Identifier: GPL-2.0 */
/* State of one recording, shared by recorder.c and record_io.c. */
#ifndef MMR_RECORD_INT_H
#define MMR_RECORD_INT_H

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>
#include <sys/types.h>
#include <time.h>
#include "record.h"
#include "probes.h"
#include "snapshot.h"
#include "cgroup.h"
#include "watchdog.h"
#include "flight.h"
#include "kmsg.h"
#include "batch.h"
#include "traces/trace.h"

#define MMR_MAX_SCRUB 8

/* Fields of a raw tracepoint record that must not reach the file as is. */
struct scrub {
	int nr;
	/* how: 'p' pointer -> keyed hash, 'h' 32-bit kernel hash of a pointer
	 * -> keyed hash, 'z' __data_loc -> zero (its data is not copied) */
	struct { unsigned short off, size; char how; } f[MMR_MAX_SCRUB];
};

/* A flight recorder trace being written in the background (record_io.c). */
struct flight_job {
	pthread_t thread;
	int running;		/* a thread writes it: record_flight_reap() ends it */
	atomic_int done;	/* the thread has finished */
	struct flight ring;	/* the records handed to it (flight_move()) */
	const struct flight *src;	/* what it writes: &ring, or the recorder's own */
	struct mmr_writer *w;
	char *end;		/* the END chunk's stats, as of the trigger */
	struct flight_written fw;
	/* from here on, not cleared for the next write */
	char path[4200], trigger[600], err[4352];
};

struct recorder {
	struct recorder_opts o;
	struct mmreplay_bpf *skel;
	struct ring_buffer *rb;
	struct mmr_writer *w;
	struct probe_plan plans[MMR_K_NR];
	struct scrub scrub[MMR_K_NR];
	char *tp_format[MMR_K_NR];	/* tracepoint kinds' formats, by kind id */
	struct bpf_link *links[64];
	const struct bpf_program *link_progs[64];
	int nr_links;
	char missing_told[MMR_K_NR];	/* by plan index: warned that it cannot be recorded */
	__u64 k0, k1;
	pid_t child;
	char cmd_path[4096];	/* the command, as found in PATH */
	char *pid_cmdlines;	/* -p: their command lines, read before the BPF load */
	int go_fd;
	int write_error, finished;
	int snaps_capped;	/* reached --snapshot-max: no more stops */
	struct snapshots snaps;
	struct mmr_cgroup cg;	/* --reclaim-pass: the command's own group */
	char cg_why[256];	/* why it has none */
	struct watchdog dog;	/* resumes what we stopped, should we die */
	struct { pid_t tgid, tid; __u64 mm; __u32 reason; int stopped; } pending[64];
	int nr_pending;
	__u64 holds_read;		/* sys_exit records with MMR_CF_STOPPED read */
	__u64 holds_sent_tick;		/* the BPF side's stops_sent at the last second's tick */
	struct record_result res;
	volatile sig_atomic_t stop;	/* recorder_stop() calls */
	volatile sig_atomic_t stop_sig;	/* the signal of the first */
	int stops_seen;			/* calls already acted on */
	time_t stop_at;			/* CLOCK_MONOTONIC second of the first */
	int killed;			/* the workload got SIGKILL */
	/* --flight-recorder */
	struct flight fl;
	struct kmsg_watch kmsg;
	char *meta_text;		/* the header's meta chunk, written at each trigger */
	volatile sig_atomic_t trigger;	/* recorder_trigger() calls */
	int triggers_done;
	struct flight_job fj;
	int flight_started;		/* writes begun: names the next file */
	__u64 flight_moved;		/* records handed to the writes */
	__u64 flight_overwritten_past;	/* overwritten in the rings handed over */
	/* the hot events staged in the kernel (MMR_CFG_COALESCE): off when coalesce is 0 */
	int coalesce;
	struct batch_layout batch;
	struct mmr_stage *stages;	/* every CPU's stage, mmap'd; NULL: not coalescing */
	size_t stages_len, stage_size;
	int nr_stages;
	__u64 last_ts;			/* the latest record's time, to count late ones */
	char err[4352];
};

/* Read each tracepoint kind's format and plan what to scrub in its records. */
void record_read_formats(struct recorder *r);
int record_handle_event(void *ctx, void *data, size_t size);
/* -p: each target's command line from /proc, "; " between them, into r->pid_cmdlines. */
int record_read_pid_cmdlines(struct recorder *r);
/* The header's meta text, into r->meta_text, at the recording's start.  -1: errno set. */
int record_build_header(struct recorder *r);
/* The meta chunk (@extra appended: NULL, or key=value lines) and one kind chunk per kind. */
int record_write_header(struct recorder *r, const char *extra);
/*
 * Flight recorder: write what is held into the next file, in the
 * background where it can (recording goes on into an empty ring); -1 if a
 * write done here failed (r->o.triggered says why).
 */
int record_flight_write(struct recorder *r, const char *trigger);
/* The background write, if it has finished (or @wait: once it has): reported; -1 if it failed. */
int record_flight_reap(struct recorder *r, int wait);
int record_write_stats(struct recorder *r, int chunk_type);
/* Bring the run's counters up to date and pass them to opts.progress. */
void record_progress(struct recorder *r);
/* Close the trace with its END chunk, and complete r->res.  -1: errno set. */
int record_finish(struct recorder *r);
/*
 * Take the snapshots queued by record_handle_event().  With @consume (not
 * from inside the ring's callback), first wait for the processes held to
 * stop, and read the ring and every CPU's stage again: what their other
 * threads did before they stopped is written before the snapshot that sees it.
 */
int record_take_snapshots(struct recorder *r, int consume);
/*
 * Coalescing: the stages whose first item is at least @min_age_ns old
 * (0: all), emptied here and their items handled as the ring's are.
 */
void record_sweep_stages(struct recorder *r, __u64 min_age_ns);


#endif
