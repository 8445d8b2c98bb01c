/* SPDX-License-Identifier: GPL-2.0 */
/*
 * record/: the recorder as a library.  It picks the attach point this
 * kernel allows for each event kind (probes.c), loads and attaches the BPF
 * programs and follows a task tree (recorder.c), reads the ring buffer into
 * a trace file with kernel pointers scrubbed (record_io.c), and for
 * --snapshot reads stopped processes' memory state from /proc (snapshot.c)
 * under a watchdog that resumes them should the recorder die (watchdog.c).
 * With --flight-recorder it holds the last events in memory (flight.c) and
 * writes a trace on a trigger, a kernel log line among them (kmsg.c).
 *
 * It may include traces/ and bpf/ headers and the generated BPF skeleton,
 * never cli/ nor the other engines.  It returns errors, with a message for
 * recorder_error(); it never exits and prints no report: the caller prints
 * the summary from recorder_result().  The only things it writes to stderr
 * are libbpf's messages (through the caller's libbpf_set_print()) and the
 * forked command's own "cannot run" line.
 *
 * Lifecycle, after retsnoop's mass_attacher:
 *
 *   r = recorder_new(&opts);
 *   recorder_prepare(r);	start the command (held before exec), read the
 *				-p targets' command lines, probe selection,
 *				scrub plans
 *   recorder_load(r);		open and load the BPF object
 *   recorder_attach(r);	watchdog, programs, syscall table, ring buffer,
 *				the trace file's header and baseline snapshot,
 *				trace the -p targets (an error if all are gone)
 *   recorder_run(r);		trace the command, release it, read
 *				events until the tasks are gone or recorder_stop()
 *   recorder_result(r);	what was recorded
 *   recorder_free(r);		detach, resume what is stopped, reap
 *
 * Each step returns 0, or -1 with recorder_error() saying why; then only
 * recorder_free() is left to call.
 */
#ifndef MMR_RECORD_H
#define MMR_RECORD_H

#include <linux/types.h>
#include "bpf/events.h"
#include "probes.h"

struct record_result;

/* One trace written by the flight recorder. */
struct flight_written {
	const char *path;
	const char *trigger;	/* "SIGUSR1", "workload signal 11", "kmsg: LINE" */
	__u64 events;		/* records in it */
	__u64 overwritten;	/* records dropped from the front before its first */
	__u64 first_ns, last_ns;	/* its events' timestamps, CLOCK_MONOTONIC */
	const char *error;	/* NULL, or why it could not be written */
};

struct recorder_opts {
	const char *out;		/* the trace file */
	char **cmd;			/* the command to run and trace (NULL-terminated), or NULL */
	const int *pids;		/* running processes to trace, and their future children */
	int nr_pids;
	const char *only;		/* comma-separated kinds to record, NULL: all */
	int allow_missing;		/* a kind in only that cannot be attached: warn, not fail */
	const char *exclude;		/* comma-separated kinds not to record */
	int buffer_mb;			/* ring buffer size in MiB, a power of two */
	int snapshot;			/* stop after snapshot syscalls and read /proc */
	long snapshot_max;		/* snapshot the first N calls only; 0: no limit */
	int no_coalesce;		/* each hot event its own ring record (no stages) */
	int reclaim_pass;		/* with snapshot: record/reclaim.h */
	/*
	 * Flight recorder: hold the last flight_bytes bytes of records in
	 * memory (0: write every record to out as it comes) and write them
	 * only on a trigger: recorder_trigger(), the command's death by a
	 * signal record did not pass on, or a kernel log line matching one of
	 * kmsg_patterns (none: kmsg_default_patterns, kmsg.h).  The first
	 * trigger writes out, the next out.1, out.2 ...
	 */
	size_t flight_bytes;
	const char *const *kmsg_patterns;
	int nr_kmsg_patterns;
	/* a flight recorder trace was written (or failed: error set); NULL: none */
	void (*triggered)(const struct flight_written *fw, void *ctx);
	void *triggered_ctx;
	char **argv;			/* the recorder's own command line, for the header */
	/* a problem that does not end the recording; NULL: ignored */
	void (*warn)(const char *msg);
	/* called about once a second while recorder_run() records; NULL: none */
	void (*progress)(const struct record_result *res, void *ctx);
	void *progress_ctx;
};

/*
 * What recorder_run() recorded; complete once it has returned 0.  During
 * the run (opts.progress) events, drops, bytes and snapshots are current.
 */
struct record_result {
	/* records in the trace: the kernel's events and the snapshots' records */
	__u64 events;
	__u64 per_kind[MMR_K_NR];	/* by kind id */
	__u64 bad_records;		/* ring records too short or of no known kind */
	__u64 drops;			/* events lost to a full ring buffer */
	__u64 snapshots;		/* of a process (what check judges) */
	__u64 snapshots_global;		/* of the global counters alone (exits, end) */
	__u64 snapshots_not_held, snapshots_coalesced;
	int snapshots_capped;		/* --snapshot-max reached */
	__u64 bytes;			/* written to the trace file so far */
	int child_reaped;		/* the command ran and child_status is its wait status */
	int child_status;		/* the command's wait status (waitpid); 0 if not reaped */
	int forwarded_signal;		/* the signal recorder_stop() passed to the command, or 0 */
	/* flight recorder: traces written, and what it held at the end */
	int flight_written;
	__u64 flight_held, flight_held_bytes, flight_overwritten;
	__u64 flight_moved;		/* records handed to the traces written */
	int kmsg_watched;		/* /dev/kmsg could be read */
	/* coalescing: events that came staged, in how many batches (swept ones included) */
	__u64 staged, batches;
	/* events that came over MMR_REORDER_WINDOW_NS after a later record (a reader may misorder) */
	__u64 late;
	/* reclaim_pass: passes run, held snapshots that wanted one and had none, and why */
	__u64 reclaim_passes, reclaim_not_run;
	char reclaim_why[320];
};

/* Copies @opts (not the strings and arrays it points to). NULL: errno set. */
struct recorder *recorder_new(const struct recorder_opts *opts);
int recorder_prepare(struct recorder *r);
int recorder_load(struct recorder *r);
int recorder_attach(struct recorder *r);
int recorder_run(struct recorder *r);
/*
 * Ask recorder_run() to finish; safe in a signal handler.  With -p targets
 * only, it returns at once.  A command it started gets @sig, as do the
 * processes it forked that are still traced (the workload, not -p
 * targets), and the run goes on until they have exited, so that the trace
 * holds their end; a second call, or RECORDER_STOP_GRACE_S seconds without
 * an end, sends SIGKILL instead.
 */
void recorder_stop(struct recorder *r, int sig);
#define RECORDER_STOP_GRACE_S 5
/* Flight recorder: write what is held, and go on; safe in a signal handler. */
void recorder_trigger(struct recorder *r);
void recorder_free(struct recorder *r);

const char *recorder_error(const struct recorder *r);
/* The command's pid once recorder_prepare() started it, else 0. */
int recorder_child(const struct recorder *r);
/*
 * Where execvp() would find @name: itself if it holds a '/' (and can be
 * executed), else the first executable regular file of that name in $PATH
 * (an empty entry is the current directory; no PATH: confstr's default).
 * The recorder execs that path, so that no failed exec of a PATH search is
 * in the trace.
 * Returns 0, or -1 with errno ENOENT, EACCES (found, none executable) or
 * ENAMETOOLONG.
 */
int recorder_find_cmd(const char *name, char *path, size_t len);
/* Whether -e (o->only) and -x (o->exclude) leave kind @name to be recorded. */
int recorder_kind_wanted(const struct recorder_opts *o, const char *name);
const struct record_result *recorder_result(const struct recorder *r);
/* The plan of each of mmr_nr_kinds kinds: how it is attached, or why not. */
const struct probe_plan *recorder_plans(const struct recorder *r);

#endif
