// SPDX-License-Identifier: GPL-2.0
/*
 * `mmreplay replay` on this machine's kernel, as root: every workload in
 * tests/workloads is recorded, replayed and compared with its recording;
 * --explore is deterministic for a seed; bad input fails with one line and
 * leaves nothing behind.  Skipped, with the reason, where BPF cannot load.
 */
#include <ctype.h>
#include <dirent.h>
#include <signal.h>
#include <time.h>
#include "test.h"
#include "testlib.h"
#include "reclib.h"
#include "traces/trace.h"
#include "tracebuild.h"
#include "replay/replay.h"
#include "replay/session.h"

#define WORKLOADS ".output/workloads"

/* The number after "key": in a JSON report; -1 if absent. */
static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

static long long json_num(const char *js, const char *key)
{
	char pat[96];
	const char *p;

	snprintf(pat, sizeof(pat), "\"%s\": ", key);
	p = js ? strstr(js, pat) : NULL;
	return p ? strtoll(p + strlen(pat), NULL, 0) : -1;
}

/* "key": true / false in a JSON report: 1, 0; -1 if absent. */
static int json_bool(const char *js, const char *key)
{
	char pat[96];
	const char *p;

	snprintf(pat, sizeof(pat), "\"%s\": ", key);
	p = js ? strstr(js, pat) : NULL;
	if (!p)
		return -1;
	p += strlen(pat);
	return !strncmp(p, "true", 4) ? 1 : !strncmp(p, "false", 5) ? 0 : -1;
}

static int dir_empty(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	int n = 0;

	while (d && (e = readdir(d)))
		n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
	if (d)
		closedir(d);
	return d && !n;
}

/*
 * Calls per syscall nr.  In a replay trace, only the first call after each
 * op mark of a thread: the replay's own calls (setup, glibc freeing the
 * stacks of its threads) are not counted.
 */
static void count_calls(const char *trace, long counts[512], int replay)
{
	int marked[256], nr_marked = 0, open[256], helper[256] = { 0 };
	struct mmr_trace *t;
	struct mmr_event ev;
	char err[256];

	memset(counts, 0, 512 * sizeof(long));
	t = mmr_trace_open(trace, err, sizeof(err));
	if (!ASSERT_OK_PTR(t, "open trace"))
		return;
	while (mmr_trace_next(t, &ev) == 1) {
		const struct mmr_sys_enter *e = ev.data;
		int known = !replay;

		if (e->c.type != MMR_K_SYS_ENTER || e->nr >= 512)
			continue;
		if (replay && e->nr == NR_PRCTL && e->args[0] == MMR_MARK_OP) {
			int i;

			for (i = 0; i < nr_marked && marked[i] != e->c.pid; i++)
				;
			if (i == nr_marked && nr_marked < 256)
				marked[nr_marked++] = e->c.pid;
			open[i] = 1;
			continue;
		}
		/* the replay's helper calls (replay/xkernel.c) are not the workload's */
		for (int i = 0; replay && e->nr == NR_PRCTL && e->args[0] == MMR_MARK_HELPER &&
				i < nr_marked; i++)
			if (marked[i] == e->c.pid)
				helper[i] = !!e->args[1];
		for (int i = 0; i < nr_marked && !known; i++) {
			if (marked[i] == e->c.pid && helper[i])
				break;
			if (marked[i] == e->c.pid && open[i]) {
				known = 1;
				open[i] = 0;
			}
		}
		counts[e->nr] += known;
	}
	mmr_trace_close(t);
}

static char *record(const char *trace_path, const char *cmd)
{
	char trace[512];

	snprintf(trace, sizeof(trace), "%s", trace_path);
	{
	const char *err = tmp_path("record.err");

	if (run_cmd(NULL, err, "%s record -q -o %s -- %s", mmreplay_bin(), trace, cmd))
		return slurp(err);
	return NULL;
	}
}

/* Replays a recording; returns the JSON report (caller frees), rc in *rc. */
static char *replay_json(const char *trace_path, const char *out_path, const char *args, int *rc)
{
	char trace[512], out[512], js[512], err[512];

	/* tmp_path() hands out a few rotating buffers: copy before making more */
	snprintf(trace, sizeof(trace), "%s", trace_path);
	snprintf(out, sizeof(out), "%s", out_path);
	snprintf(js, sizeof(js), "%s", tmp_path("replay.json"));
	snprintf(err, sizeof(err), "%s", tmp_path("replay.err"));

	*rc = run_cmd(js, err, "%s replay --json -o %s %s %s", mmreplay_bin(), out, args, trace);
	if (*rc) {
		char *e = slurp(err);

		printf("  replay stderr: %s", e);
		free(e);
	}
	return slurp(js);
}

/*
 * Replay one workload and compare with its recording: every task replayed
 * all of its operations, every syscall was issued as recorded, each touch
 * inside a replayed mapping faulted on its relocated page, the swap-outs
 * match, no result differs, and the replay is clean.
 */
static int record_workload(const char *name, const char *args)
{
	char cmd[512], *err;

	snprintf(cmd, sizeof(cmd), "%s/%s %s", WORKLOADS, name, args);
	err = record(tmp_path("rt.trace"), cmd);
	if (!ASSERT_TRUE(!err, "record")) {
		printf("  %s: %s", name, err);
		free(err);
		return -1;
	}
	return 0;
}

/*
 * The fidelity verdict of a round trip: faithful and clean (exit 0), every
 * operation compared equivalent.  A racy workload's calls that overlapped
 * when recorded may come out otherwise in the serial order, and the faults
 * of its threads' touches on shared pages with them (a touch race is no
 * syscall race, so an op's fault count can differ without its call having
 * raced): such a replay is honestly not faithful (exit 4), and at most a
 * fifth of its compared ops may differ (seen: 3 of 45, 5 of 43).
 */
static void fidelity_compare(const char *js, int rc, int raced)
{
	ASSERT_EQ(json_bool(js, "checked"), 1, "fidelity checked");
	ASSERT_GE(json_num(js, "equivalent"), 10, "operations compared equivalent");
	if (raced && rc == 4) {
		ASSERT_EQ(json_bool(js, "faithful"), 0, "exit 4: not faithful");
		ASSERT_GE(json_num(js, "differ"), 1, "exit 4 names a difference");
		ASSERT_GE(json_num(js, "equivalent"), 4 * json_num(js, "differ"),
			  "at most a fifth of the compared ops differ (racy workload)");
		return;
	}
	ASSERT_EQ(rc, 0, "replay exit status (faithful and clean)");
	ASSERT_EQ(json_bool(js, "faithful"), 1, "faithful");
	ASSERT_EQ(json_num(js, "differ"), 0, "no operation differs from the recording");
	ASSERT_EQ(json_num(js, "touches_signalled"), 0, "no touch hit SIGSEGV/SIGBUS");
	ASSERT_EQ(json_num(js, "touches_missed"), 0, "no touch missed a replayed mapping");
}

static void replay_compare(const char *name, int raced)
{
	char trace[512], out[512], *js;
	long rec[512], rep[512];
	/* not mprotect: ld.so's calls on the program image are outside the
	 * replayed mappings, and skipped */
	static const int nrs[] = { NR_MADVISE, NR_MLOCK, NR_MUNLOCK, NR_MLOCKALL, NR_MUNLOCKALL,
				   NR_FALLOCATE, NR_MEMFD_CREATE, NR_MLOCK2, NR_MSYNC, NR_MREMAP,
				   NR_SHMGET, NR_SHMAT, NR_SHMDT };
	int rc;

	snprintf(trace, sizeof(trace), "%s", tmp_path("rt.trace"));
	snprintf(out, sizeof(out), "%s", tmp_path("rt-replay.trace"));
	js = replay_json(trace, out, "", &rc);
	printf("  %s: %s", name, js);
	fidelity_compare(js, rc, raced);
	ASSERT_EQ(json_num(js, "tasks_complete"), json_num(js, "tasks"), "every task replayed all its ops");
	ASSERT_EQ(json_num(js, "syscalls_seen") + json_num(js, "brks") + json_num(js, "skipped"),
		  json_num(js, "syscalls"), "each syscall issued as recorded (brk emulated, unknown fds skipped)");
	ASSERT_GE(json_num(js, "syscalls_seen"), 10, "syscalls issued");
	if (raced) {
		/* calls that overlapped when recorded may come out otherwise in the
		 * serial order (MADV_PAGEOUT fails with EINVAL on a locked VMA),
		 * and the faults after them with them */
		/* seen on this host: 68 to 100 % over 11 runs (68 % once, in a
		 * full suite run beside the others; 73 % the lowest alone) */
		ASSERT_GE(json_num(js, "touches_faulted") * 10,
			  (json_num(js, "touches") - json_num(js, "touch_outside")) * 6,
			  "touches fault on the same pages (60%, racy workload)");
	} else {
		ASSERT_EQ(json_num(js, "touches_faulted"),
			  json_num(js, "touches") - json_num(js, "touch_outside"),
			  "touches fault on the same pages");
	}
	ASSERT_GE(json_num(js, "touches_faulted"), 8, "touches replayed");
	ASSERT_EQ(json_num(js, "swapouts_replay"), json_num(js, "swapouts_recorded"), "same swap-outs");
	ASSERT_EQ(json_num(js, "diverged"), json_num(js, "diverged_raced"),
		  "no result differs from the recording, except of calls that raced when recorded");
	if (!raced)
		ASSERT_EQ(json_num(js, "diverged"), 0, "no result differs from the recording");
	ASSERT_EQ(json_num(js, "findings_total"), 0, "no findings");
	count_calls(trace, rec, 0);
	count_calls(out, rep, 1);
	for (size_t i = 0; i < sizeof(nrs) / sizeof(nrs[0]); i++)
		if (!ASSERT_EQ(rep[nrs[i]], rec[nrs[i]], "same number of calls of each mm syscall"))
			printf("  syscall %d\n", nrs[i]);
	free(js);
}

static void round_trip(const char *name, const char *args, int raced)
{
	if (record_workload(name, args) == 0)
		replay_compare(name, raced);
}

static void test_replay_round_trip_mlock_memfd(void)
{
	if (need_bpf())
		round_trip("mlock_memfd", "", 0);
}

static void test_replay_round_trip_mlock_rules(void)
{
	if (need_bpf())
		round_trip("mlock_rules", "", 0);
}

static void test_replay_round_trip_fork_mlock(void)
{
	if (need_bpf())
		round_trip("fork_mlock", "", 0);
}

static void test_replay_round_trip_mixed_maps(void)
{
	if (need_bpf())
		round_trip("mixed_maps", "", 0);
}

static void test_replay_round_trip_threads(void)
{
	if (need_bpf())
		round_trip("threads_mlock_pageout", "5", 1);
}

/*
 * Replay-trace prctl marks whose first argument is @which; 0: the calls
 * after which the BPF side stopped the process for a snapshot (what it
 * decided, not how many snapshots the recorder then took: two stops of
 * one process pending at once are read once, snapshots_coalesced).
 */
static long count_marks(const char *trace, __u64 which)
{
	struct mmr_trace *t;
	struct mmr_event ev;
	char err[256];
	long n = 0;

	t = mmr_trace_open(trace, err, sizeof(err));
	if (!ASSERT_OK_PTR(t, "open trace"))
		return -1;
	while (mmr_trace_next(t, &ev) == 1) {
		const struct mmr_common *c = ev.data;

		n += which ? mark_of(&ev, which) != NULL :
			     c->type == MMR_K_SYS_EXIT && (c->flags & MMR_CF_STOPPED);
	}
	mmr_trace_close(t);
	return n;
}

/*
 * As on a kernel before 6.2 (MMR_TEST_RSS_FLUSH=1): each thread flushes
 * its rss cache after every touch and op, in helper brackets.  Here the
 * flush finds nothing cached, so what the bracket counts must leave the
 * replay exactly as faithful as without it: the diff's handling of the
 * brackets, tried on this kernel (the 6.1 guest runs it for real).
 */
static void test_replay_round_trip_rss_flush(void)
{
	long helpers;

	long snaps;

	if (!need_bpf() || record_workload("mlock_rules", ""))
		return;
	replay_compare("mlock_rules", 0);
	snaps = count_marks(tmp_path("rt-replay.trace"), 0);
	setenv("MMR_TEST_RSS_FLUSH", "1", 1);
	replay_compare("mlock_rules, rss flushed", 0);
	unsetenv("MMR_TEST_RSS_FLUSH");
	ASSERT_EQ(count_marks(tmp_path("rt-replay.trace"), 0), snaps,
		  "no stop for a snapshot after a helper's madvise (the BPF side skips them)");
	helpers = count_marks(tmp_path("rt-replay.trace"), MMR_MARK_HELPER);
	ASSERT_EQ(count_marks(tmp_path("rt-replay.trace"), MMR_MARK_RSS_SYNC), 1,
		  "the replay says it flushes");
	ASSERT_GE(helpers, 2 * 8, "a helper bracket after each touch and op");
	ASSERT_EQ(helpers % 2, 0, "brackets closed");
}

/*
 * read() into freshly mapped memory, as sort and python do: the kernel's
 * copy_to_user makes the pages (page_fault_kernel, no user fault), and
 * write() from untouched memory reads them in kernel mode.  The replay
 * takes the same faults from the kernel, so every op is equivalent.
 */
static void test_replay_round_trip_read_into_mmap(void)
{
	char *text;

	if (!need_bpf() || record_workload("read_into_mmap", ""))
		return;
	run_cmd(tmp_path("kfaults.txt"), NULL, "%s show -k page_fault_kernel %s", mmreplay_bin(),
		tmp_path("rt.trace"));
	text = slurp(tmp_path("kfaults.txt"));
	ASSERT_TRUE(text && strstr(text, "error_code=0x2"), "the recording has kernel-mode write faults");
	free(text);
	replay_compare("read_into_mmap", 0);
	run_cmd(tmp_path("kfaults.txt"), NULL, "%s show -k page_fault_kernel %s", mmreplay_bin(),
		tmp_path("rt-replay.trace"));
	text = slurp(tmp_path("kfaults.txt"));
	ASSERT_TRUE(text && strstr(text, "error_code=0x2") && strstr(text, "error_code=0x0"),
		    "the replay takes kernel-mode write and read faults too");
	free(text);
}

/*
 * A bash script exec'ing another (pyenv's shims do): after bash moves the
 * script to fd 255, the fd table read at a call's entry names a pipe of
 * size 0 for each of ld.so's mmaps in the second bash.  The replay maps
 * the file the VMA names, at its size, so ld.so's copy-on-write faults
 * take pages instead of SIGBUS on an empty stand-in.
 */
static void test_replay_round_trip_script_exec(void)
{
	char a[512], b[512], cmd[2048], *js;
	FILE *f;
	int rc;

	if (!need_bpf())
		return;
	snprintf(a, sizeof(a), "%s", tmp_path("first.sh"));
	snprintf(b, sizeof(b), "%s", tmp_path("second.sh"));
	f = fopen(a, "w");
	if (!ASSERT_TRUE(f, "write the first script"))
		return;
	fprintf(f, "#!/usr/bin/env bash\nexec %s\n", b);
	fclose(f);
	f = fopen(b, "w");
	if (!ASSERT_TRUE(f, "write the second script"))
		return;
	fprintf(f, "#!/usr/bin/env bash\nexit 0\n");
	fclose(f);
	snprintf(cmd, sizeof(cmd), "sh -c 'chmod +x %s %s && exec %s'", a, b, a);
	js = record(tmp_path("rt.trace"), cmd);
	if (!ASSERT_TRUE(!js, "record"))
		return;
	js = replay_json(tmp_path("rt.trace"), tmp_path("rt-replay.trace"), "", &rc);
	printf("  script_exec: %s", js);
	fidelity_compare(js, rc, 0);
	free(js);
}

/*
 * A vfork child (posix_spawn's CLONE_VM) writes pages of its parent's mm
 * before it execs; the parent's munmap frees them.  Replayed by a fork, the
 * child wrote its own copy and the munmaps freed nothing (make -j2: NOT
 * FAITHFUL); it runs as a thread of the parent until its exec.
 */
static void test_replay_round_trip_vfork(void)
{
	if (need_bpf())
		round_trip("vfork_touch", "4 1", 0);	/* 4 children, each with one of its own */
}

/*
 * exit_group while a thread still works (xz -T2): recorded, the killed
 * thread drops the mm last and tears it down; replayed, the caller of
 * exit_group may.  The teardown counts for the exit either way.
 */
static void test_replay_round_trip_exit_while_busy(void)
{
	char *js;
	int rc;

	if (!need_bpf() || record_workload("exit_while_busy", ""))
		return;
	js = replay_json(tmp_path("rt.trace"), tmp_path("rt-replay.trace"), "", &rc);
	printf("  exit_while_busy: %s", js);
	fidelity_compare(js, rc, 0);
	free(js);
}

/*
 * cow_pageout_truncate swaps: recorded with swap on, replayed with none, so
 * the replay must set up (and remove) a temporary swap file itself.
 */
static void test_replay_round_trip_cow_swap(void)
{
	const char *swapfile;
	char *before, *after;

	if (!need_bpf())
		return;
	if (swap_or_skip(&swapfile))
		return;
	run_cmd(tmp_path("swaps.before"), NULL, "swapon --noheadings --show=NAME");
	before = slurp(tmp_path("swaps.before"));
	if (record_workload("cow_pageout_truncate", "") == 0) {
		replay_compare("cow_pageout_truncate", 0);
		run_cmd(NULL, NULL, "swapoff -a");
		replay_compare("cow_pageout_truncate", 0);
	}
	ASSERT_STRCONTAINS(slurp(tmp_path("replay.err")), "temporary", "replay set up swap");
	run_cmd(tmp_path("swaps.after"), NULL, "swapon --noheadings --show=NAME");
	after = slurp(tmp_path("swaps.after"));
	ASSERT_EQ(strlen(after), 0, "the temporary swap file is gone");
	for (char *l = strtok(before, "\n"); l; l = strtok(NULL, "\n"))
		run_cmd(NULL, NULL, "swapon %s", l);
	swap_off(swapfile);
	free(after);
}

static void test_replay_order_free(void)
{
	char *js, *err;
	int rc;

	if (!need_bpf())
		return;
	err = record(tmp_path("free.trace"), WORKLOADS "/threads_mlock_pageout 5");
	if (!ASSERT_TRUE(!err, "record"))
		return;
	js = replay_json(tmp_path("free.trace"), tmp_path("free-replay.trace"), "--order free", &rc);
	/* each task's own order only: the recorded interleaving is not promised */
	ASSERT_TRUE(rc == 0 || rc == 4, "replay --order free exit status (faithful or not)");
	ASSERT_EQ(json_bool(js, "faithful"), rc == 0, "the verdict matches the exit status");
	ASSERT_STRCONTAINS(js, "\"order\": \"free\"", "order reported");
	ASSERT_EQ(json_num(js, "tasks_complete"), 3, "all three tasks ran every op");
	free(js);
}

/* Two runs of --explore with one seed give the same report. */
static void test_replay_explore_deterministic(void)
{
	char trace[512], *err, *a, *b, repro[128];
	long long pa, pb, seed;
	int rc;

	if (!need_bpf())
		return;
	snprintf(trace, sizeof(trace), "%s", tmp_path("race.trace"));
	err = record(trace, WORKLOADS "/threads_mlock_pageout 3");
	if (!ASSERT_TRUE(!err, "record"))
		return;
	/* a wide window: which calls overlap must not depend on how busy the machine
	 * was while recording; task pairs only (perturbations have their own test) */
	a = replay_json(trace, tmp_path("x1.trace"),
			"--explore --trials 20 --seed 1 --window 100000 --perturb none", &rc);
	ASSERT_EQ(rc, 0, "explore exit status (clean kernel)");
	b = replay_json(trace, tmp_path("x2.trace"),
			"--explore --trials 20 --seed 1 --window 100000 --perturb none", &rc);
	ASSERT_EQ(rc, 0, "second explore exit status");
	printf("  %s", a);
	ASSERT_TRUE(!strcmp(a, b), "identical reports");
	/* which calls overlap depends on the recording's timing: some (m|mun)lock
	 * and madvise of the two threads always do */
	ASSERT_TRUE(strstr(a, "lock\", \"op_b\": \"madvise\"") ||
		    strstr(a, "\"op_a\": \"madvise\", \"op_b\": \"munlock") ||
		    strstr(a, "\"op_a\": \"madvise\", \"op_b\": \"mlock"),
		    "an mlock or munlock x MADV_PAGEOUT race is a pair");
	ASSERT_EQ(json_num(a, "trials"), 20, "20 trials per pair");
	pa = json_num(a, "a"), pb = json_num(a, "b");
	seed = (long long)trial_seed(1, 0, 0);
	snprintf(repro, sizeof(repro), "--pair %lld,%lld --seed %llu", pa, pb,
		 (unsigned long long)seed);
	free(b);
	b = replay_json(trace, tmp_path("x3.trace"), repro, &rc);
	ASSERT_EQ(rc, 0, "one trial of the first pair by its seed (fidelity does not count)");
	ASSERT_EQ(json_bool(b, "sets_exit_status"), 0, "its fidelity is reported only");
	ASSERT_EQ(json_num(b, "tasks_complete"), 3, "the trial ran every op");
	free(a);
	free(b);
}

/* Whether the kernel that recorded @trace attached every kind in @names. */
static int kinds_ok(const char *trace, const char *const *names)
{
	char err[256];
	struct mmr_trace *t = mmr_trace_open(trace, err, sizeof(err));
	int ok = t != NULL;

	for (; ok && *names; names++) {
		const struct mmr_kind_info *k = mmr_trace_kind_by_name(t, *names);

		ok = k && k->status && !strncmp(k->status, "ok", 2);
	}
	if (t)
		mmr_trace_close(t);
	return ok;
}

/*
 * An explore without snapshots on a kernel without the event ledgers' hooks
 * judges little: it never says clean (exit 3); with the hooks it may.
 */
static void test_replay_explore_unchecked(void)
{
	static const char *const hooks[] = { "mlock_folio", "munlock_folio", "try_to_unmap_one",
					     "unmap_page_range", NULL };
	char trace[512], out[512], *text;
	int rc;

	if (!need_bpf())
		return;
	snprintf(trace, sizeof(trace), "%s", tmp_path("race-u.trace"));
	snprintf(out, sizeof(out), "%s", tmp_path("race-u.out"));
	text = record(trace, WORKLOADS "/threads_mlock_pageout 3");
	if (!ASSERT_TRUE(!text, "record"))
		return;
	rc = run_cmd(out, NULL, "%s replay %s -o %s --explore --trials 2 --pairs 1 --seed 1 "
		     "--window 100000 --perturb none --no-snapshot", mmreplay_bin(), trace,
		     tmp_path("race-u.replay"));
	text = slurp(out);
	if (kinds_ok(trace, hooks)) {
		ASSERT_EQ(rc, 0, "the hooks judge every verdict: exit 0");
	} else {
		ASSERT_EQ(rc, 3, "no snapshots, no hooks: exit 3");
		ASSERT_STRCONTAINS(text, "no trial had findings, but not clean", "says so");
		ASSERT_TRUE(strstr(text, "clean: no trial had findings") == NULL, "never clean");
	}
	free(text);
}

static int count_str(const char *hay, const char *needle);

static int near(double a, double b)
{
	return a - b < 5e-4 && b - a < 5e-4;
}

/* The 95 % Wilson interval, against values worked out by hand (z = 1.96). */
static void test_replay_wilson(void)
{
	double lo, hi;

	wilson95(3, 40, &lo, &hi);
	ASSERT_TRUE(near(lo, 0.0258) && near(hi, 0.1986), "3 of 40: 2.6 to 19.9 %");
	printf("  3 of 40: %.4f %.4f\n", lo, hi);
	wilson95(0, 10, &lo, &hi);
	ASSERT_TRUE(lo == 0 && near(hi, 0.2775), "0 of 10: 0 to 27.8 %");
	wilson95(10, 10, &lo, &hi);
	ASSERT_TRUE(near(lo, 0.7225) && hi == 1, "10 of 10: 72.2 to 100 %");
	wilson95(0, 0, &lo, &hi);
	ASSERT_TRUE(lo == 0 && hi == 1, "no trials: nothing known");
}

/*
 * A cell counts its trials up to its --stop-after'th reproduction, in the
 * order the rounds ran them, and only those that ran before the budget ended.
 */
static void test_replay_stop_after(void)
{
	static struct rrun_set rs = { .nr_pairs = 2 };
	struct run_check rc[20] = { 0 };
	struct run_result res[20] = { 0 };
	struct replay_opts o = { .trials = 10, .stop_after = 3 };
	struct replay_outcome out = { .rc = rc, .res = res, .nr_runs = 20, .nr_ran = 15 };
	struct cell_tally t;
	int trial;

	/* cell 0 reproduces in its trials 1, 3, 5 and 7: runs 2, 6, 10, 14 */
	for (int r = 2; r <= 14; r += 4)
		rc[r].findings = 1, rc[r].per_verdict[0] = 1;
	ASSERT_TRUE(rrun_cell(&rs, 13, &trial) == 1 && trial == 6, "run 13: cell 1, trial 6");
	t = cell_tally(&o, &rs, &out, 0);
	ASSERT_TRUE(t.n == 6 && t.k == 3 && t.stopped && t.repro == 2,
		    "stopped at its 3rd reproduction, in trial 5 of 10");
	t = cell_tally(&o, &rs, &out, 1);
	ASSERT_TRUE(t.n == 7 && t.k == 0 && !t.stopped && t.repro == -1,
		    "cell 1: 7 trials ran before the budget ended");
	o.stop_after = 0;
	t = cell_tally(&o, &rs, &out, 0);
	ASSERT_TRUE(t.n == 8 && t.k == 4 && !t.stopped, "--stop-after 0 counts every trial");
}

/*
 * The next batch's share: all that is left when it fits; else the capacity
 * by weight (findings 4, a near miss 2, else 1), at least one trial to
 * each open cell while they last, none to a closed cell or past --trials.
 */
static void test_replay_adapt_share(void)
{
	struct adapt_cell c[4] = {
		{ .ran = 3, .open = 1 }, { .ran = 3, .k = 1, .open = 1 },
		{ .ran = 3, .near = 2, .open = 1 }, { .ran = 3, .k = 3, .open = 0 },
	};
	int add[4], n;

	n = adapt_share(c, 4, 1000, 10, add);
	ASSERT_TRUE(n == 21 && add[0] == 7 && add[1] == 7 && add[2] == 7 && add[3] == 0,
		    "it fits: every open cell to --trials, none to the stopped one");
	n = adapt_share(c, 4, 14, 100, add);
	ASSERT_TRUE(n == 14 && add[0] == 2 && add[1] == 8 && add[2] == 4 && add[3] == 0,
		    "14 shared 1:4:2 among the open cells");
	n = adapt_share(c, 4, 2, 100, add);
	ASSERT_TRUE(n == 2 && add[1] == 1 && add[2] == 1 && add[0] == 0,
		    "2 left: one each, the heaviest cells first");
	n = adapt_share(c, 4, 30, 8, add);
	ASSERT_TRUE(n == 15 && add[0] == 5 && add[1] == 5 && add[2] == 5,
		    "no cell past --trials, what it leaves goes to no one");
	c[0].ran = 5;
	n = adapt_share(c, 4, 6, 6, add);
	ASSERT_TRUE(n == 6 && add[0] == 1 && add[1] == 3 && add[2] == 2,
		    "what a full cell cannot take goes to the others");
	c[0] = (struct adapt_cell){ .ran = 5, .open = 1 };
	c[2] = (struct adapt_cell){ .ran = 4, .open = 1 };
	n = adapt_share(c, 4, 2, 100, add);
	ASSERT_TRUE(n == 2 && add[1] == 1 && add[2] == 1 && add[0] == 0,
		    "among equals, the cells with the fewest trials first");
	c[1] = (struct adapt_cell){ .ran = 3, .seeded = 1, .open = 1 };
	c[0] = (struct adapt_cell){ .ran = 3, .open = 1 };
	c[2].open = 0;
	n = adapt_share(c, 4, 6, 100, add);
	ASSERT_TRUE(n == 6 && add[0] == 2 && add[1] == 4, "a seeded race: a double share");
	n = adapt_share(c, 4, 0, 100, add);
	ASSERT_TRUE(n == 0 && !add[0] && !add[1] && !add[2], "no capacity: nothing");
}

/* The first batch: 3 trials a cell, 6 to a seeded race's, never past --trials. */
static void test_replay_adapt_calibrate(void)
{
	struct adapt_cell c[3] = { { .open = 1 }, { .seeded = 1, .open = 1 }, { .near = 1, .open = 1 } };
	int add[3], n;

	n = adapt_calibrate(c, 3, 100, add);
	ASSERT_TRUE(n == 12 && add[0] == 3 && add[1] == 6 && add[2] == 3,
		    "3 each, 6 to the seeded cell");
	n = adapt_calibrate(c, 3, 4, add);
	ASSERT_TRUE(n == 10 && add[0] == 3 && add[1] == 4 && add[2] == 3, "--trials 4 caps the seeded cell");
	n = adapt_calibrate(c, 3, 1, add);
	ASSERT_TRUE(n == 3 && add[0] == 1 && add[1] == 1 && add[2] == 1, "--trials 1: one each");
}

/*
 * A batch's order: every trial of the cells with signal or of a seeded
 * race before any other cell's, each group in rounds.
 */
static void test_replay_adapt_order(void)
{
	struct adapt_cell c[3] = { { .open = 1 }, { .seeded = 1, .open = 1 },
				   { .near = 1, .open = 1 } };
	int add[3] = { 2, 2, 1 }, cell[6], trial[6], n;
	static const int want_cell[5] = { 1, 2, 1, 0, 0 }, want_trial[5] = { 0, 0, 1, 0, 1 };

	n = adapt_order(c, 3, add, cell, trial);
	ASSERT_EQ(n, 5, "every planned trial");
	ASSERT_TRUE(!memcmp(cell, want_cell, sizeof(want_cell)) && !memcmp(trial, want_trial, sizeof(want_trial)),
		    "the seeded and near-miss cells' trials first, in rounds; then the plain cell's");
	add[1] = 0;
	n = adapt_order(c, 3, add, cell, trial);
	ASSERT_TRUE(n == 3 && cell[0] == 2 && cell[1] == 0 && cell[2] == 0, "a cell given none: absent");
	/* equals that ran 4, 3, 3: the two behind catch up first, so a cut stays even */
	for (int i = 0; i < 3; i++)
		c[i] = (struct adapt_cell){ .ran = i ? 3 : 4, .open = 1 }, add[i] = 2;
	n = adapt_order(c, 3, add, cell, trial);
	ASSERT_TRUE(n == 6 && cell[0] == 1 && cell[1] == 2 && cell[2] == 0 && cell[3] == 1 &&
		    trial[2] == 0 && trial[3] == 1, "rounds by the trials each cell ran so far");
}

/*
 * The races the seeds name: reclaim against munlock, munmap and the mlock
 * that opens the locked window; migration against mlock; a fault against
 * mprotect or munmap of another task.  Not reclaim against mprotect.
 */
static void test_replay_adapt_seeded(void)
{
	struct rop ops[3] = { { .type = ROP_SYSCALL, .nr = NR_MLOCK },
			      { .type = ROP_SYSCALL, .nr = NR_MPROTECT },
			      { .type = ROP_TOUCH, .task = 1 } };
	struct rplan p = { .ops = ops, .nr_ops = 3 };

	ASSERT_TRUE(adapt_seeded(&p, &(struct rpair){ 0, 0, PERTURB_RECLAIM }), "mlock x reclaim");
	ASSERT_TRUE(adapt_seeded(&p, &(struct rpair){ 0, 0, PERTURB_MIGRATE }), "mlock x migrate");
	ASSERT_TRUE(!adapt_seeded(&p, &(struct rpair){ 0, 0, PERTURB_COMPACT }), "not mlock x compact");
	ASSERT_TRUE(!adapt_seeded(&p, &(struct rpair){ 1, 0, PERTURB_RECLAIM }), "not mprotect x reclaim");
	ASSERT_TRUE(adapt_seeded(&p, &(struct rpair){ 1, 2, 0 }), "mprotect x another task's fault");
	ops[0].nr = NR_MUNLOCK;
	ASSERT_TRUE(adapt_seeded(&p, &(struct rpair){ 0, 0, PERTURB_RECLAIM }), "munlock x reclaim");
}

/*
 * A batch after the first: all the trials wanted if they fit in the time
 * left (less a batch's own cost, a trial as measured and 15 % more);
 * else half of what fits, twice at most and while six batch costs are
 * left; else what fits; none once the time is gone.
 */
static void test_replay_adapt_batch_size(void)
{
	struct adapt_time t = { .left_s = 100, .trial_s = 1, .fixed_s = 5 };

	ASSERT_EQ(adapt_batch_size(&t, 50, 10, 1), 50, "50 trials fit in 95 s: all of them");
	ASSERT_EQ(adapt_batch_size(&t, 500, 10, 1), 41, "82 fit of 500: half, for another look");
	ASSERT_EQ(adapt_batch_size(&t, 500, 10, 3), 82, "after two halvings: all that fits");
	ASSERT_EQ(adapt_batch_size(&t, 500, 50, 1), 82, "half would not give each open cell one");
	t.fixed_s = 20;
	ASSERT_EQ(adapt_batch_size(&t, 500, 10, 1), 69, "80 s left, under six batch costs: all");
	t.left_s = 15;
	ASSERT_EQ(adapt_batch_size(&t, 500, 10, 1), 0, "no time left past a batch's cost: none");
}

/* The sum of every "key": N in a JSON report. */
static long long json_sum(const char *js, const char *key)
{
	char pat[64];
	long long sum = 0;
	const char *p = js;

	snprintf(pat, sizeof(pat), "\"%s\": ", key);
	while (p && (p = strstr(p, pat))) {
		p += strlen(pat);
		sum += atoll(p);
	}
	return sum;
}

/*
 * An explore far longer than its --budget: it stops starting trials, says
 * which cells ran how far and which did not, and exits 5; progress lines
 * on a non-TTY stderr (their interval shortened for the test), none with -q.
 */
static void test_replay_explore_budget(void)
{
	const char *args = "--explore --trials 500 --min-trials 500 --seed 1 --window 100000 "
			   "--perturb none";
	char trace[512], cmd[1024], *js, *err;
	long long ran, pairs;
	int rc;

	if (!need_bpf())
		return;
	snprintf(trace, sizeof(trace), "%s", tmp_path("budget.trace"));
	if (!ASSERT_TRUE(!record(trace, WORKLOADS "/threads_mlock_pageout 3"), "record"))
		return;
	setenv("MMREPLAY_PROGRESS_S", "0.5", 1);
	snprintf(cmd, sizeof(cmd), "%s --budget 6s", args);
	js = replay_json(trace, tmp_path("budget-replay.trace"), cmd, &rc);
	err = slurp(tmp_path("replay.err"));
	unsetenv("MMREPLAY_PROGRESS_S");
	ASSERT_EQ(rc, 5, "the budget ended: exit 5 (incomplete)");
	ASSERT_STRCONTAINS(js, "\"complete\": false", "the JSON says it is incomplete");
	ran = json_num(js, "runs_ran");
	pairs = count_str(js, "\"pair\": ");
	ASSERT_TRUE(ran > 0 && ran < json_num(js, "runs"), "some trials ran, not all");
	ASSERT_EQ(json_sum(js, "trials") - 500, ran, "the cells' trials add up to those that ran");
	ASSERT_EQ(count_str(js, "\"state\": \"unfinished\"") +
		  count_str(js, "\"state\": \"not run\""), pairs, "every cell is unfinished");
	ASSERT_STRCONTAINS(err, "replay: explore, cells 0 of", "a progress line on stderr");
	ASSERT_STRCONTAINS(err, "s left of the budget", "with the time left");
	ASSERT_STRCONTAINS(err, "findings: counted after the first batch",
			   "findings are not counted before a batch is checked");
	free(js);
	free(err);

	/* a budget that is all reserve: no trial starts; plain report, -q */
	snprintf(cmd, sizeof(cmd), "%s replay -q -o %s --budget 1s %s %s", mmreplay_bin(),
		 tmp_path("budget1.trace"), args, trace);
	rc = run_cmd(tmp_path("budget1.txt"), tmp_path("budget1.err"), "%s", cmd);
	js = slurp(tmp_path("budget1.txt"));
	err = slurp(tmp_path("budget1.err"));
	ASSERT_EQ(rc, 5, "nothing ran: exit 5, not an error");
	printf("%s", js);
	ASSERT_STRCONTAINS(js, "the budget ended after 0 of", "says how many trials ran");
	ASSERT_STRCONTAINS(js, "did not run: pair 1, pair 2", "names the cells that did not run");
	ASSERT_STRCONTAINS(js, "INCOMPLETE: no findings in the trials that ran", "the verdict");
	ASSERT_TRUE(!strstr(err, "replay: explore"), "-q: no progress lines");
	free(js);
	free(err);
}

/*
 * An explore whose --trials do not fit its budget is complete once every
 * cell ran its --min-trials: the batches after the first are sized to the
 * budget, so it ends within it (exit 0, each cell "budget"), its cells
 * with about as many trials each, more than the first batch's 3.
 */
static void test_replay_explore_budget_share(void)
{
	char trace[512], *js, *p;
	double took;
	int rc, cells = 0, lo[2] = { 1 << 30, 1 << 30 }, hi[2] = { 0, 0 };

	if (!need_bpf())
		return;
	snprintf(trace, sizeof(trace), "%s", tmp_path("share.trace"));
	if (!ASSERT_TRUE(!record(trace, WORKLOADS "/threads_mlock_pageout 3"), "record"))
		return;
	took = now_s();
	js = replay_json(trace, tmp_path("share-replay.trace"), "--explore --trials 5000 "
			 "--min-trials 4 --seed 1 --window 100000 --perturb none --budget 30s "
			 "--jobs 1", &rc);
	took = now_s() - took;
	ASSERT_TRUE(rc == 0 || rc == 3, "every cell ran its --min-trials: complete, no finding");
	ASSERT_STRCONTAINS(js, "\"complete\": true", "the JSON says it is complete");
	ASSERT_TRUE(took < 30, "it ended within its budget");
	for (p = js; (p = strstr(p, "\"state\": \"budget\"")); p++)
		cells++;
	ASSERT_TRUE(cells > 0 && cells == count_str(js, "\"pair\": "),
		    "every cell ran its share of the budget");
	/* [0]: the other pairs, [1]: a fault against munmap or mprotect (a seeded race) */
	for (p = js; (p = strstr(p, "{\"pair\": ")); p++) {
		char *end = strchr(p, '}'), c = end ? *end : 0;
		int n = json_num(p, "trials"), seeded;

		if (end)
			*end = 0;
		seeded = strstr(p, "\"touch\"") && (strstr(p, "\"munmap\"") ||
						     strstr(p, "\"mprotect\""));
		if (end)
			*end = c;
		lo[seeded] = n < lo[seeded] ? n : lo[seeded];
		hi[seeded] = n > hi[seeded] ? n : hi[seeded];
	}
	ASSERT_TRUE(lo[0] > 3 && lo[1] > 3, "more trials than the first batch's");
	snprintf(trace, sizeof(trace), "%s.2", tmp_path("share-replay.trace"));
	ASSERT_EQ(access(trace, F_OK), 0, "a second batch, sized to the budget left");
	ASSERT_TRUE(hi[0] - lo[0] <= 1 && (!hi[1] || hi[1] - lo[1] <= 1),
		    "no signal: equal shares among equals");
	if (hi[1] && hi[0])	/* the first batch's 3 each, then 2:1 */
		ASSERT_TRUE(lo[1] >= hi[0], "a seeded race: no fewer trials than the others");
	free(js);
}

/*
 * A JSON explore report without what a real kernel's timing changes from
 * run to run: each cell's "perturbed" and "near_misses" counts, and "perturb_how" (the
 * calibrated windows) to the end.  What is left: the cells, their trials,
 * findings and states, the runs that ran.
 */
static char *explore_cells(const char *js)
{
	static const char *const timed[] = { "\"perturbed\": ", "\"near_misses\": " };
	char *s = strdup(js ? js : ""), *p, *end;

	for (size_t i = 0; i < sizeof(timed) / sizeof(timed[0]); i++)
		while ((p = strstr(s, timed[i]))) {
			end = strchr(p, ',');
			if (!end)
				break;
			memmove(p, end + 2, strlen(end + 2) + 1);
		}
	p = strstr(s, "\"perturb_how\"");
	if (p)
		*p = 0;
	return s;
}

static int have_parallel(void)
{
	return run_cmd(NULL, NULL, "parallel --version") == 0;
}

/*
 * --explore --shard I/N, three shards run side by side by GNU parallel and
 * merged, is the explore of one run: the same cells, trials per cell and
 * findings (on this clean kernel none), with racing pairs and
 * perturbations alike; plain and JSON, with the same exit status.
 */
static void test_replay_explore_shards(void)
{
	const char *args = "--explore --trials 3 --seed 5 --stop-after 0 --window 100000 --pairs 3";
	char trace[512], dir[512], *one, *merged, *a, *b, *text;
	int rc, rc1;

	if (!need_bpf())
		return;
	if (!have_parallel()) {
		test_skip("GNU parallel is not installed (make deps installs it)");
		return;
	}
	snprintf(trace, sizeof(trace), "%s", tmp_path("shard.trace"));
	snprintf(dir, sizeof(dir), "%s", tmp_path("shards"));
	mkdir(dir, 0700);
	if (!ASSERT_TRUE(!record(trace, WORKLOADS "/threads_mlock_pageout 3"), "record"))
		return;
	one = replay_json(trace, tmp_path("shard-one.trace"), args, &rc1);
	ASSERT_TRUE(rc1 == 0 || rc1 == 3, "one run: clean (or not all verdicts checked)");
	rc = run_cmd(tmp_path("parallel.out"), tmp_path("parallel.err"),
		     "parallel %s replay -q -o %s/s{}.trace %s --shard {}/3 %s '>' %s/part{}.json "
		     "::: 1 2 3", mmreplay_bin(), dir, args, trace, dir);
	ASSERT_TRUE(rc == rc1, "each shard exits as the one run did");
	rc = run_cmd(tmp_path("merged.json"), NULL, "%s merge --json %s/part1.json %s/part3.json "
		     "%s/part2.json", mmreplay_bin(), dir, dir, dir);
	ASSERT_EQ(rc, rc1, "merge exits as the one run did");
	merged = slurp(tmp_path("merged.json"));
	a = explore_cells(one), b = explore_cells(merged);
	printf("  %s\n", b);
	ASSERT_TRUE(count_str(a, "\"pair\": ") >= 2 && count_str(a, "\"cell\": ") >= 2,
		    "racing pairs and perturbations to compare");
	ASSERT_EQ(json_num(merged, "runs_ran"), json_num(one, "runs_ran"), "as many trials ran");
	ASSERT_TRUE(!strcmp(a, b), "the same cells, trials per cell and findings");
	ASSERT_EQ(json_sum(merged, "with_findings"), 0, "no findings on this kernel");
	rc = run_cmd(tmp_path("merged.txt"), NULL, "%s merge %s/part2.json %s/part1.json "
		     "%s/part3.json", mmreplay_bin(), dir, dir, dir);
	text = slurp(tmp_path("merged.txt"));
	ASSERT_EQ(rc, rc1, "plain: the same exit status");
	ASSERT_STRCONTAINS(text, "3 racing pairs", "plain: every racing pair");
	ASSERT_STRCONTAINS(text, "pair 3: op", "plain: numbered among all cells");
	free(one), free(merged), free(a), free(b), free(text);
	/* more shards than cells: the last is empty, and says so without running anything */
	rc = run_cmd(tmp_path("empty.json"), NULL, "%s replay -q -o %s/empty.trace %s --shard "
		     "500/500 %s", mmreplay_bin(), dir, args, trace);
	text = slurp(tmp_path("empty.json"));
	ASSERT_EQ(rc, 0, "an empty shard: exit 0");
	ASSERT_STRCONTAINS(text, "\"shard\"", "an empty shard: still a partial report");
	ASSERT_EQ(json_num(text, "runs"), 0, "an empty shard: no trial");
	free(text);
}

/* merge refuses @parts (in dir) with one line naming @what, exit 2, nothing on stdout. */
static void assert_merge_refused(const char *dir, const char *parts, const char *what)
{
	char cmd[8192], bin[4096], *err, *out;
	int rc;

	if (!realpath(mmreplay_bin(), bin))
		snprintf(bin, sizeof(bin), "%s", mmreplay_bin());
	snprintf(cmd, sizeof(cmd), "cd %s && %s merge %s", dir, bin, parts);
	rc = run_cmd(tmp_path("merge.out"), tmp_path("merge.err"), "%s", cmd);
	err = slurp(tmp_path("merge.err"));
	out = slurp(tmp_path("merge.out"));
	printf("  merge %s: %s", parts, err);
	ASSERT_EQ(rc, 2, "exit status 2");
	ASSERT_EQ(count_str(err, "\n"), 1, "one error line");
	ASSERT_STRCONTAINS(err, what, "says why");
	ASSERT_TRUE(out && !out[0], "no report");
	free(err);
	free(out);
}

/* Parts that are not of one explore: another seed, a shard missing or twice, garbage. */
static void test_replay_merge_bad_input(void)
{
	const char *args = "--explore --trials 1 --stop-after 0 --window 100000 --pairs 2 "
			   "--perturb none";
	char trace[512], dir[512];
	int rc = 0;

	if (!need_bpf())
		return;
	snprintf(trace, sizeof(trace), "%s", tmp_path("merge.trace"));
	snprintf(dir, sizeof(dir), "%s", tmp_path("merge-parts"));
	mkdir(dir, 0700);
	if (!ASSERT_TRUE(!record(trace, WORKLOADS "/threads_mlock_pageout 3"), "record"))
		return;
	for (int i = 1; i <= 2; i++)
		rc |= run_cmd(NULL, NULL, "%s replay -q -o %s/r.trace %s --seed 1 --shard %d/2 %s "
			      "> %s/p%d.json", mmreplay_bin(), dir, args, i, trace, dir, i);
	rc |= run_cmd(NULL, NULL, "%s replay -q -o %s/r.trace %s --seed 2 --shard 2/2 %s > "
		      "%s/seed2.json", mmreplay_bin(), dir, args, trace, dir);
	rc |= run_cmd(NULL, NULL, "%s replay -q -o %s/r.trace %s --seed 1 --shard 2/3 %s > "
		      "%s/of3.json", mmreplay_bin(), dir, args, trace, dir);
	rc |= run_cmd(NULL, NULL, "echo '{\"explore\": {}, \"shard\": [' > %s/garbage.json; "
		      "echo '{\"explore\": {}, \"shard\": {\"index\": 1}}' > %s/damaged.json; "
		      "head -c 200 %s/p2.json > %s/cut.json", dir, dir, dir, dir);
	if (!ASSERT_EQ(rc, 0, "the parts were made"))
		return;
	ASSERT_EQ(run_cmd(NULL, NULL, "%s merge %s/p1.json %s/p2.json > /dev/null", mmreplay_bin(),
			  dir, dir), 0, "the two shards merge");
	assert_merge_refused(dir, "p1.json seed2.json", "seed2.json: another --seed (2, not 1)");
	assert_merge_refused(dir, "p1.json of3.json", "of3.json: a shard of another N (3, not 2)");
	assert_merge_refused(dir, "p2.json", "merge: shard 1 of 2 missing");
	assert_merge_refused(dir, "p1.json p2.json p1.json", "shard 1/2 given twice");
	assert_merge_refused(dir, "p1.json garbage.json", "garbage.json: not a partial explore");
	assert_merge_refused(dir, "cut.json p1.json", "cut.json: not a partial explore");
	assert_merge_refused(dir, "p1.json damaged.json", "damaged.json: a damaged partial report: "
			     "no number \"of\"");
	assert_merge_refused(dir, "p1.json /etc/passwd", "/etc/passwd: not a partial explore");
}

/*
 * A finding in one shard's trial (planted in its part: this kernel has
 * none) comes out of merge where one run would print it: its cell, its
 * rate, the seed of that trial, FINDINGS and exit 1.
 */
static void test_replay_merge_findings(void)
{
	const char *args = "--explore --trials 2 --stop-after 0 --window 100000 --pairs 2 "
			   "--perturb none --seed 4";
	char trace[512], dir[512], want[256], *text, *js;
	int rc = 0;

	if (!need_bpf())
		return;
	snprintf(trace, sizeof(trace), "%s", tmp_path("mfind.trace"));
	snprintf(dir, sizeof(dir), "%s", tmp_path("mfind-parts"));
	mkdir(dir, 0700);
	if (!ASSERT_TRUE(!record(trace, WORKLOADS "/threads_mlock_pageout 3"), "record"))
		return;
	for (int i = 1; i <= 2; i++)
		rc |= run_cmd(NULL, NULL, "%s replay -q -o %s/r.trace %s --shard %d/2 %s > %s/p%d.json",
			      mmreplay_bin(), dir, args, i, trace, dir, i);
	/* shard 2 has cell 1 (pair 2): its second trial found one finding of verdict 0 */
	rc |= run_cmd(NULL, NULL, "perl -pi -e 's/\"findings\": 0, \"verdicts\": \\[0/++$n == 2 ? "
		      "\"\\\"findings\\\": 1, \\\"verdicts\\\": [1\" : $&/ge' %s/p2.json", dir);
	if (!ASSERT_EQ(rc, 0, "the parts were made") ||
	    !ASSERT_EQ(run_cmd(NULL, NULL, "grep -c '\"findings\": 1' %s/p2.json", dir), 0,
		       "a finding planted"))
		return;
	rc = run_cmd(tmp_path("mfind.txt"), NULL, "%s merge %s/p1.json %s/p2.json", mmreplay_bin(),
		     dir, dir);
	text = slurp(tmp_path("mfind.txt"));
	printf("%s", text);
	ASSERT_EQ(rc, 1, "findings: exit 1");
	snprintf(want, sizeof(want), "1 of 2 trials with findings (95 %% interval");
	ASSERT_STRCONTAINS(text, want, "the cell's rate");
	ASSERT_STRCONTAINS(strstr(text, "pair 2: ") ?: "", want, "in pair 2");
	snprintf(want, sizeof(want), "--seed %llu\n", (unsigned long long)trial_seed(4, 1, 1));
	ASSERT_STRCONTAINS(text, want, "the seed of cell 1's trial 1");
	ASSERT_STRCONTAINS(text, "\nFINDINGS\n", "the verdict");
	rc = run_cmd(tmp_path("mfind.json"), NULL, "%s merge --json %s/p2.json %s/p1.json",
		     mmreplay_bin(), dir, dir);
	js = slurp(tmp_path("mfind.json"));
	ASSERT_EQ(rc, 1, "JSON: exit 1");
	ASSERT_EQ(json_sum(js, "with_findings"), 1, "JSON: one trial with findings");
	snprintf(want, sizeof(want), "\"verdicts\": {\"%s\": 1}, \"seed\": %llu, "
		 "\"first_after_s\": ", verdict_name(0), (unsigned long long)trial_seed(4, 1, 1));
	ASSERT_STRCONTAINS(js, want, "JSON: its verdict and seed");
	ASSERT_TRUE(strstr(js, want) && isdigit(strstr(js, want)[strlen(want)]),
		    "JSON: when its trial ended, from the part");
	free(text);
	free(js);
}

/* Counts occurrences of @needle in @hay. */
static int count_str(const char *hay, const char *needle)
{
	int n = 0;

	for (const char *p = hay; p && (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

/* shmem_enabled set to never or deny: MADV_COLLAPSE of shmem fails with EINVAL */
static int shmem_thp_off(void)
{
	return run_cmd(NULL, NULL, "grep -Eq '\\[(never|deny)\\]' "
		       "/sys/kernel/mm/transparent_hugepage/shmem_enabled") == 0;
}

/*
 * --explore with kernel-side perturbations on this kernel (one NUMA node,
 * no memory controller in cgroup v2): a workload that loops mlock and
 * munlock on a shared memfd (with MADV_PAGEOUT from a second thread), its
 * first mlock run 50 times against reclaim, compaction and THP collapse
 * of its pages, from perturber processes of their own, recorded in the
 * replay trace; migration is said to be unavailable, with why, and not
 * run.  A clean kernel gives no finding; no perturber is left.
 */
static void test_replay_explore_perturb(void)
{
	char trace[512], out[512], args[64], *js;
	long long op;
	int rc;

	if (!need_bpf())
		return;
	snprintf(trace, sizeof(trace), "%s", tmp_path("perturb.trace"));
	snprintf(out, sizeof(out), "%s", tmp_path("perturb-replay.trace"));
	if (!ASSERT_TRUE(!record(trace, WORKLOADS "/threads_mlock_pageout 3"), "record"))
		return;
	/* --jobs 1: one replay trace to look into (--jobs N writes one per shard) */
	js = replay_json(trace, out, "--explore --pairs 1 --trials 50 --seed 3 --jobs 1", &rc);
	printf("  %s", js);
	ASSERT_EQ(rc, 0, "explore exit status (clean kernel)");
	ASSERT_EQ(count_str(js, "\"op_name\": \"mlock\""), 4, "the first mlock x 4 kinds");
	/*
	 * perturbed: the trials whose perturber says the kernel took its act.
	 * Compaction always runs; MADV_PAGEOUT is refused (EINVAL) while the
	 * op's range is VM_LOCKED, so only some reclaim trials act; collapse
	 * of shmem pages needs shmem THP, refused where shmem_enabled is never.
	 */
	ASSERT_EQ(count_str(js, "\"perturb\": \"compact\", \"trials\": 50, \"perturbed\": 50,"), 1,
		  "every compaction trial perturbed");
	ASSERT_GE(json_num(strstr(js, "\"perturb\": \"reclaim\""), "perturbed"), 1,
		  "reclaim perturbed some trials");
	ASSERT_TRUE(json_num(strstr(js, "\"perturb\": \"reclaim\""), "perturbed") <= 50,
		    "no more reclaim trials perturbed than run");
	/*
	 * near misses, the signal adaptive allocation follows: trials whose
	 * perturbation overlapped the op (seen: 34 of 47 reclaim, 26 of 50
	 * compaction); none where nothing was perturbed
	 */
	for (int i = 0; i < 2; i++) {
		const char *at = strstr(js, i ? "\"perturb\": \"compact\"" : "\"perturb\": \"reclaim\"");
		long long near = json_num(at, "near_misses");

		ASSERT_TRUE(near >= 1 && near <= json_num(at, "perturbed"),
			    "near misses counted, no more than the trials perturbed");
	}
	ASSERT_EQ(json_num(strstr(js, "\"perturb\": \"migrate\""), "near_misses"), 0,
		  "no near miss where nothing was perturbed");
	if (shmem_thp_off())
		ASSERT_EQ(count_str(js, "\"perturb\": \"collapse\", \"trials\": 50, \"perturbed\": 0,"), 1,
			  "shmem THP off here: no collapse took (not counted as perturbed)");
	else
		ASSERT_GE(json_num(strstr(js, "\"perturb\": \"collapse\""), "perturbed"), 1,
			  "collapse perturbed some trials");
	/*
	 * the first batch (3 trials a cell, 6 to a seeded race's: mlock
	 * against migration is one) finds it unavailable: no trial after
	 */
	ASSERT_EQ(count_str(js, "\"perturb\": \"migrate\", \"trials\": 6, \"perturbed\": 0"), 1,
		  "migration never ran, and had only the first batch's trials");
	ASSERT_EQ(count_str(js, "\"with_findings\": 0"), 5, "no finding on a clean kernel");
	ASSERT_STRCONTAINS(js, "{\"perturb\": \"migrate\", \"why\": \"one NUMA node\"}",
			   "migration unavailable, and why");
	/* the first batch's replay trace is -o, the second's -o.2 */
	ASSERT_EQ(run_cmd(NULL, NULL, "test $( (%s show %s --kind sys_enter; "
			  "%s show %s.2 --kind sys_enter) | grep ' process_madvise(' | "
			  "awk '{print $3}' | sort -u | wc -l) -ge 100",
			  mmreplay_bin(), out, mmreplay_bin(), out), 0,
		  "the perturbers' process_madvise calls, from tasks of their own");
	/* pgrep: 1 is "none"; 127 (no pgrep) or 2 must not pass for it */
	ASSERT_EQ(run_cmd(NULL, NULL, "pgrep -x mmr-perturb"), 1, "no perturber left");
	op = json_num(strstr(js, "\"perturbations\""), "op");
	free(js);
	/* one trial again, and diff shows its perturber beside the recording */
	snprintf(args, sizeof(args), "--pair %lld,compact --seed 5", op);
	js = replay_json(trace, out, args, &rc);
	ASSERT_EQ(rc, 0, "--pair OP,compact runs one perturbed trial");
	/* equivalent or not (the threads race, and compaction may move the op's
	 * pages: diff then shows it), but lined up, not refused */
	rc = run_cmd(tmp_path("pdiff"), NULL, "%s diff %s %s", mmreplay_bin(), trace, out);
	ASSERT_TRUE(rc == 0 || rc == 1, "diff lines the perturbed replay up with its recording");
	ASSERT_EQ(run_cmd(NULL, NULL, "grep -q '^B: perturbed: compact of op %lld' %s", op,
			  tmp_path("pdiff")), 0, "diff names the perturbation");
	free(js);
}

/*
 * Reclaim and migration the recording shows but no traced call asked for
 * (kswapd's try_to_unmap_one, compaction's migration entries) are replayed
 * as operations: MADV_PAGEOUT of exactly those pages, and a migration
 * (compaction on a one-node machine).  The recording is built by hand, as
 * this host cannot hook try_to_unmap_one; the replay runs on the kernel.
 */
/* mmap 4 anon pages, touch them; kswapd takes 2 to swap, compaction migrates 1 */
static int build_reclaim_trace(const char *path)
{
	const __u64 base = 0x7f1234560000ULL;
	struct tb b;

	if (tb_open(&b, path, "6.18.0", 100, 0xaaa))
		return -1;
	tb_kind(b.w, MMR_K_PAGE_FAULT_USER, "tracepoint", tb_fault_format);
	tb_kind(b.w, MMR_K_SET_MIGRATION_PTE, "tracepoint", tb_migration_format);
	tb_rss(&b, 1, 0);					/* MM_ANONPAGES before */
	tb_rss(&b, 2, 0);					/* MM_SWAPENTS before */
	tb_sys(&b, 9, 0, 4 * 4096, 3, 0x22, base, NULL);	/* mmap 4 anon pages */
	for (int i = 0; i < 4; i++) {
		tb_fault(&b, base + i * 4096, 1);
		tb_rss(&b, 1, i + 1);
	}
	b.tid = b.tgid = 55;					/* kswapd */
	tb_rmap(&b, MMR_K_TRY_TO_UNMAP_ONE, 1000, base, base + 4 * 4096);
	tb_rss(&b, 1, 3);
	tb_rss(&b, 2, 1);
	tb_rmap(&b, MMR_K_TRY_TO_UNMAP_ONE, 1001, base + 4096, base + 4 * 4096);
	tb_rss(&b, 1, 2);
	tb_rss(&b, 2, 2);
	tb_migration(&b, base + 3 * 4096);
	b.tid = b.tgid = 100;
	tb_fault(&b, base, 0);					/* swap-in */
	tb_rss(&b, 1, 3);
	tb_rss(&b, 2, 1);
	tb_sys_enter(&b, 231, 0, 0, 0);
	tb_close(&b);
	return 0;
}

/*
 * MADV_PAGEOUT and a migration (compaction with one node) stand in for
 * kswapd and compaction: swap entries may be counted after the op, and
 * compaction may move other pages.  Where they do, the replay is honestly
 * not faithful (exit 4) and says where; it never fails or finds a bug.
 */
static void reclaim_fidelity(const char *js, int rc)
{
	ASSERT_TRUE(rc == 0 || rc == 4, "replay exit status: faithful (0) or not (4)");
	ASSERT_EQ(json_bool(js, "faithful"), rc == 0, "the verdict matches the exit status");
	ASSERT_EQ(json_num(js, "operations"), 3, "mmap, pageout and migrate compared");
}

static void test_replay_reclaim_and_migration(void)
{
	char path[512], *js;
	int rc;

	if (!need_bpf())
		return;
	snprintf(path, sizeof(path), "%s", tmp_path("reclaim.trace"));
	if (!ASSERT_EQ(build_reclaim_trace(path), 0, "write trace"))
		return;
	js = replay_json(path, tmp_path("reclaim-replay.trace"), "", &rc);
	printf("  %s", js);
	reclaim_fidelity(js, rc);
	ASSERT_EQ(json_num(js, "pageouts"), 2, "two pages paged out where kswapd took them");
	ASSERT_EQ(json_num(js, "swapouts_replay"), 2, "and they went to swap");
	ASSERT_GE(json_num(js, "migrations"), 1, "the migration replayed (compaction with one node)");
	ASSERT_EQ(json_num(js, "touches_faulted"), 5, "4 first touches and the swap-in fault");
	free(js);
}

/*
 * Not faithful: recordings this kernel cannot replay as recorded, built by
 * hand (a real one would need an unprivileged recording or a file that is
 * gone).  The replay runs, its check is clean, and the report says what
 * differed, with exit status 4, never "faithful".
 *   result: an mlock that failed when recorded (EPERM: no CAP_IPC_LOCK and
 *     RLIMIT_MEMLOCK 0) succeeds in the replay, as root;
 *   file: a shared mapping of an fd the trace knows no file of (opened
 *     before the recording, its file since gone): no stand-in can be
 *     opened, the mmap is not issued and the touches on it miss.
 */
static int build_unfaithful_trace(const char *path, int file)
{
	const __u64 base = 0x7f1234560000ULL;
	struct tb b;

	if (tb_open(&b, path, "6.18.0", 100, 0xaaa))
		return -1;
	tb_kind(b.w, MMR_K_PAGE_FAULT_USER, "tracepoint", tb_fault_format);
	tb_rss(&b, file ? 0 : 1, 0);		/* the counter before: a baseline */
	tb_sys(&b, 9, 0, 4 * 4096, 3, file ? 0x01 : 0x22, base, NULL);	/* mmap, fd 0 if file */
	for (int i = 0; i < 4; i++) {
		tb_fault(&b, base + i * 4096, 1);
		tb_rss(&b, file ? 0 : 1, i + 1);	/* MM_FILEPAGES or MM_ANONPAGES */
	}
	if (!file)
		tb_sys(&b, 149, base, 4 * 4096, 0, 0, -1, NULL);	/* mlock: -EPERM */
	tb_sys_enter(&b, 231, 0, 0, 0);
	tb_close(&b);
	return 0;
}

static char *replay_unfaithful(int file, int *rc)
{
	char path[512], plain[512];
	char *js, *text;

	snprintf(path, sizeof(path), "%s", tmp_path(file ? "gone.trace" : "eperm.trace"));
	if (!ASSERT_EQ(build_unfaithful_trace(path, file), 0, "write trace"))
		return NULL;
	js = replay_json(path, tmp_path("unfaithful-replay.trace"), "", rc);
	printf("  %s", js);
	ASSERT_EQ(*rc, 4, "exit status 4: ran, but not faithful");
	ASSERT_EQ(json_num(js, "findings_total"), 0, "no findings (4 is not hidden by 1)");
	ASSERT_EQ(json_bool(js, "checked"), 1, "fidelity checked");
	ASSERT_EQ(json_bool(js, "faithful"), 0, "not faithful");
	snprintf(plain, sizeof(plain), "%s", tmp_path("unfaithful.txt"));
	ASSERT_EQ(run_cmd(plain, NULL, "%s replay -o %s %s", mmreplay_bin(),
			  tmp_path("unfaithful-replay.trace"), path), 4, "plain report: exit 4");
	text = slurp(plain);
	ASSERT_STRCONTAINS(text, "\nNOT FAITHFUL: ", "the plain report says so");
	ASSERT_TRUE(text && !strstr(text, "\nfaithful") && !strstr(text, "replayed every operation"),
		    "and never claims it");
	free(text);
	return js;
}

static void test_replay_unfaithful_result(void)
{
	char *js;
	int rc;

	if (!need_bpf() || !(js = replay_unfaithful(0, &rc)))
		return;
	ASSERT_EQ(json_num(js, "differ"), 1, "one operation differs");
	ASSERT_STRCONTAINS(js, "\"why\": \"1 operations differ from the recording\"", "why");
	ASSERT_STRCONTAINS(js, "\"the call mlock (op 5, task 0) returns -1 in A, 0 in B\"",
			   "the difference names the mlock, in diff's words");
	free(js);
}

static void test_replay_unfaithful_file_gone(void)
{
	char *js;
	int rc;

	if (!need_bpf() || !(js = replay_unfaithful(1, &rc)))
		return;
	ASSERT_EQ(json_num(js, "fd_unknown"), 1, "the mmap was not issued: no file for its fd");
	ASSERT_STRCONTAINS(js, "1 operations not issued: on an fd that is no file", "why");
	ASSERT_EQ(json_num(js, "touches_missed"), 4, "its 4 touches missed the mapping");
	free(js);
}

/* A faithful replay says so, with what it compared, and exits 0. */
static void test_replay_faithful_plain(void)
{
	char *text;

	if (!need_bpf() || record_workload("mixed_maps", ""))
		return;
	ASSERT_EQ(run_cmd(tmp_path("faithful.txt"), NULL, "%s replay -o %s %s", mmreplay_bin(),
			  tmp_path("rt-replay.trace"), tmp_path("rt.trace")), 0, "exit status 0");
	text = slurp(tmp_path("faithful.txt"));
	printf("%s", text);
	ASSERT_STRCONTAINS(text, "\nfidelity to the recording", "the verdict is stated");
	ASSERT_STRCONTAINS(text, " compared equivalent, 0 differ", "what was compared");
	ASSERT_STRCONTAINS(text, "\nfaithful: every operation compared is equivalent", "faithful");
	ASSERT_TRUE(text && !strstr(text, "replayed every operation"), "no unchecked claim");
	free(text);

	/* progress: said from the start with $MMREPLAY_PROGRESS_S=0, never with -q */
	setenv("MMREPLAY_PROGRESS_S", "0", 1);
	run_cmd(NULL, tmp_path("progress.err"), "%s replay -o %s %s", mmreplay_bin(),
		tmp_path("rt-replay.trace"), tmp_path("rt.trace"));
	run_cmd(NULL, tmp_path("quiet.err"), "%s replay -q -o %s %s", mmreplay_bin(),
		tmp_path("rt-replay.trace"), tmp_path("rt.trace"));
	unsetenv("MMREPLAY_PROGRESS_S");
	text = slurp(tmp_path("progress.err"));
	ASSERT_STRCONTAINS(text, "replay: replaying, ", "the replay's progress on stderr");
	ASSERT_STRCONTAINS(text, "replay: checking the replay, ", "then the check's");
	free(text);
	text = slurp(tmp_path("quiet.err"));
	ASSERT_TRUE(text && !strstr(text, "replay: "), "-q: no progress lines");
	free(text);
}

/* The clean fixture kernel (tests/kernels/build.sh, cached); NULL with a skip where
 * QEMU is missing, with a failure where the kernel does not build. */
static const char *guest_kernel(void)
{
	static char image[4200];
	char dir[4096];

	if (run_cmd(NULL, NULL, "command -v qemu-system-x86_64 && command -v busybox")) {
		test_skip("qemu-system-x86_64 or busybox not installed");
		return NULL;
	}
	/*
	 * a kernel that does not build is a failure of the test, not a skip;
	 * build.sh's exit 3 is a missing capability (no source or tools to be had)
	 */
	if (cached_build("tests/kernels/build.sh", "the clean fixture kernel", dir, sizeof(dir)))
		return NULL;
	snprintf(image, sizeof(image), "%s/bzImage", dir);
	return image;
}

/*
 * The same recording replayed in a QEMU guest with two NUMA nodes: the
 * kernel's migration becomes move_pages to the other node, and the guest
 * kernel really migrates the page (its set_migration_pte in the replay trace).
 */
static void test_replay_migration_two_nodes_guest(void)
{
	char path[512], out[512], args[4400], *js, *err;
	const char *image;
	int rc;

	if (!need_bpf() || !(image = guest_kernel()))
		return;
	snprintf(path, sizeof(path), "%s", tmp_path("numa.trace"));
	snprintf(out, sizeof(out), "%s", tmp_path("numa-replay.trace"));
	if (!ASSERT_EQ(build_reclaim_trace(path), 0, "write trace"))
		return;
	snprintf(args, sizeof(args), "--kernel %s", image);
	setenv("MMREPLAY_PROGRESS_S", "0.2", 1);
	js = replay_json(path, out, args, &rc);
	unsetenv("MMREPLAY_PROGRESS_S");
	printf("  %s", js);
	reclaim_fidelity(js, rc);
	err = slurp(tmp_path("replay.err"));
	ASSERT_STRCONTAINS(err, "replay: booting the guest, ", "progress: the guest's boot");
	ASSERT_STRCONTAINS(err, "replay: replaying in the guest, ", "then the replay in it");
	ASSERT_STRCONTAINS(err, "replay: checking the replay, ", "then the check");
	free(err);
	ASSERT_STRCONTAINS(js, "\"nodes\": \"0-1\"", "the guest has two NUMA nodes");
	ASSERT_EQ(json_num(js, "migrations"), 1, "the migrated page moved");
	ASSERT_EQ(run_cmd(tmp_path("mp"), NULL, "%s show %s --kind sys_enter | grep -c ' move_pages('",
			  mmreplay_bin(), out), 0, "move_pages issued in the guest");
	ASSERT_EQ(run_cmd(NULL, NULL, "%s show %s --kind set_migration_pte | grep -q .",
			  mmreplay_bin(), out), 0, "the guest kernel migrated it");
	ASSERT_EQ(json_num(js, "pageouts"), 2, "the reclaimed pages paged out there too");
	ASSERT_EQ(json_num(js, "swapouts_replay"), 2, "to the guest's zram swap");
	free(js);
}

/* An error: exit 2, one line on stderr, no output trace, nothing in the scratch parent. */
static void assert_refused(const char *args, const char *trace, const char *what)
{
	char out[512], err[512], scratch[512], *e;
	int rc;

	snprintf(out, sizeof(out), "%s", tmp_path("bad-replay.trace"));
	snprintf(err, sizeof(err), "%s", tmp_path("bad.err"));
	snprintf(scratch, sizeof(scratch), "%s", tmp_path("scratch"));
	unlink(out);
	mkdir(scratch, 0700);
	rc = run_cmd(NULL, err, "%s replay -o %s --scratch %s %s %s", mmreplay_bin(), out, scratch,
		     args, trace);
	e = slurp(err);
	ASSERT_EQ(rc, 2, "exit status");
	ASSERT_EQ(count_lines(e), 1, "one error line");
	ASSERT_STRCONTAINS(e, what, "says why");
	ASSERT_EQ(file_size(out), -1, "no replay trace written");
	ASSERT_TRUE(dir_empty(scratch), "scratch directory removed");
	free(e);
}

static void foreign_trace(const char *path)
{
	struct mmr_writer *w;
	char err[256];
	const char *meta = "format_version=1\nkernel_release=6.1.0\nmachine=aarch64\n"
			   "page_size=4096\n";

	w = mmr_writer_open(path, err, sizeof(err));
	if (!w)
		return;
	mmr_writer_chunk(w, MMR_CHUNK_META, meta, strlen(meta));
	tb_put_kinds(w);
	mmr_writer_close(w, "events=0\ndrops=0\n");
}

static void test_replay_bad_input(void)
{
	char trace[512], arm[512], ok[512];

	if (!need_bpf())
		return;
	snprintf(trace, sizeof(trace), "%s", tmp_path("nosys.trace"));
	snprintf(arm, sizeof(arm), "%s", tmp_path("arm.trace"));
	snprintf(ok, sizeof(ok), "%s", tmp_path("ok.trace"));
	ASSERT_EQ(run_cmd(NULL, NULL, "%s record -q -x sys_enter,sys_exit -o %s -- %s/mlock_memfd",
			  mmreplay_bin(), trace, WORKLOADS), 0, "record without syscall events");
	assert_refused("", trace, "lacks events replay needs to rebuild the workload: sys_enter");
	foreign_trace(arm);
	assert_refused("", arm, "recorded on aarch64");
	assert_refused("", "/nonexistent.trace", "/nonexistent.trace");
	assert_refused("", "/etc/passwd", "not an mmreplay trace");
	assert_refused("--frobnicate", arm, "frobnicate");
	run_cmd(NULL, NULL, "%s record -q -o %s -- %s/mlock_memfd", mmreplay_bin(), ok, WORKLOADS);
	assert_refused("--scratch /proc/no/such/dir", ok,
		       "cannot create a scratch directory in /proc/no/such/dir");
	assert_refused("--pair 5,999999", ok, "the plan has ops 0 to");
}

/*
 * Each trial says when it ended, in seconds from the command's start (the
 * report's "first_after_s" of a cell is its first reproduction's): in a
 * partial report, every run's after_s is after the start, before the
 * command's end, and later than the trial run before it.
 */
static void test_replay_explore_after(void)
{
	char trace[512], out[512], cmd[1200];
	struct timespec a, b;
	double wall;
	int rc;

	if (!need_bpf())
		return;
	snprintf(trace, sizeof(trace), "%s", tmp_path("after.trace"));
	snprintf(out, sizeof(out), "%s", tmp_path("after.json"));
	if (!ASSERT_TRUE(!record(trace, WORKLOADS "/threads_mlock_pageout 3"), "record"))
		return;
	clock_gettime(CLOCK_MONOTONIC, &a);
	rc = run_cmd(out, NULL, "%s replay --json -o %s --explore --trials 2 --seed 5 "
		     "--stop-after 0 --window 100000 --pairs 3 --shard 1/1 %s", mmreplay_bin(),
		     tmp_path("after.replay"), trace);
	clock_gettime(CLOCK_MONOTONIC, &b);
	wall = (b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9;
	ASSERT_TRUE(rc == 0 || rc == 3, "explore: clean (or not all verdicts checked)");
	/*
	 * adapt_order(): the seeded cells' trials first, then the others', each
	 * group in rounds (trial 0 of each of its cells before trial 1 of any);
	 * each after the start, none after the end.  s: the seeded cells, those
	 * whose trial 1 ran before some cell's trial 0.
	 */
	snprintf(cmd, sizeof(cmd), "python3 -c 'import json, sys; c = json.load(open(sys.argv[1]))"
		 "[\"shard\"][\"cells\"]; r = [[x[\"runs\"][k][\"after_s\"] for x in c] "
		 "for k in range(2)]; print(r); n = range(len(c)); "
		 "s = [i for i in n if r[1][i] < max(r[0])]; o = [i for i in n if i not in s]; "
		 "g = lambda G: not G or max(r[0][i] for i in G) < min(r[1][i] for i in G); "
		 "sys.exit(not (len(c) >= 2 and 0 < min(r[0]) and g(s) and g(o) and "
		 "(not s or not o or max(r[1][i] for i in s) < min(r[0][i] for i in o)) and "
		 "max(r[1]) <= float(sys.argv[2])))' %s %f", out, wall);
	rc = run_cmd(tmp_path("after.check"), tmp_path("after.check"), "%s", cmd);
	if (!ASSERT_EQ(rc, 0, "each run's after_s: from the start, in the order the runs ran, "
		       "before the end"))
		printf("  %s (the command took %.3f s)\n", slurp(tmp_path("after.check")), wall);
}

/*
 * --jobs 2 runs the explore as two shards at once and merges them: the same
 * cells, trials per cell and findings as --jobs 1 with the same seed, plain
 * and JSON, the same exit status; one progress line for both, each shard's
 * replay trace beside -o's name.
 */
static void test_replay_explore_jobs(void)
{
	const char *args = "--explore --trials 3 --seed 5 --stop-after 0 --window 100000 --pairs 3";
	char trace[512], cmd[600], out[512], *one, *two, *a, *b, *err, *text;
	int rc1, rc2;

	if (!need_bpf())
		return;
	snprintf(trace, sizeof(trace), "%s", tmp_path("jobs.trace"));
	snprintf(out, sizeof(out), "%s", tmp_path("jobs2.trace"));
	if (!ASSERT_TRUE(!record(trace, WORKLOADS "/threads_mlock_pageout 3"), "record"))
		return;
	snprintf(cmd, sizeof(cmd), "%s --jobs 1", args);
	one = replay_json(trace, tmp_path("jobs1.trace"), cmd, &rc1);
	ASSERT_TRUE(rc1 == 0 || rc1 == 3, "--jobs 1: clean (or not all verdicts checked)");
	setenv("MMREPLAY_PROGRESS_S", "0.2", 1);
	snprintf(cmd, sizeof(cmd), "%s --jobs 2", args);
	two = replay_json(trace, out, cmd, &rc2);
	err = slurp(tmp_path("replay.err"));
	unsetenv("MMREPLAY_PROGRESS_S");
	ASSERT_EQ(rc2, rc1, "--jobs 2 exits as --jobs 1 did");
	a = explore_cells(one), b = explore_cells(two);
	printf("  %s\n", b);
	ASSERT_TRUE(count_str(a, "\"pair\": ") >= 2 && count_str(a, "\"cell\": ") >= 2,
		    "racing pairs and perturbations to compare");
	ASSERT_EQ(json_num(two, "runs_ran"), json_num(one, "runs_ran"), "as many trials ran");
	if (!ASSERT_TRUE(!strcmp(a, b), "the same cells, trials per cell and findings"))
		printf("  --jobs 1: %s\n", a);
	ASSERT_EQ(json_sum(two, "with_findings"), json_sum(one, "with_findings"), "findings alike");
	ASSERT_TRUE(!strstr(two, "\"shard\""), "one report, not a partial one");
	ASSERT_EQ(count_str(err, "replay: check, "), 1, "one progress line for both shards");
	ASSERT_STRCONTAINS(err, "trials 45 of 45 run", "it counts the trials of both");
	snprintf(cmd, sizeof(cmd), "%s.1", out);
	ASSERT_TRUE(file_size(cmd) > 0, "shard 1's replay trace");
	snprintf(cmd, sizeof(cmd), "%s.2", out);
	ASSERT_TRUE(file_size(cmd) > 0, "shard 2's replay trace");
	rc2 = run_cmd(tmp_path("jobs.txt"), NULL, "%s replay -q -o %s %s --jobs 2 %s", mmreplay_bin(),
		      out, args, trace);
	text = slurp(tmp_path("jobs.txt"));
	ASSERT_EQ(rc2, rc1, "plain: the same exit status");
	ASSERT_STRCONTAINS(text, "3 racing pairs", "plain: every racing pair");
	ASSERT_STRCONTAINS(text, "pair 3: op", "plain: numbered among all cells");
	free(one), free(two), free(a), free(b), free(err), free(text);
}

/* --jobs that is not a number of at least 1, or with --shard: one line, exit 2. */
static void test_replay_jobs_bad_input(void)
{
	char trace[512];

	if (!need_bpf())
		return;
	snprintf(trace, sizeof(trace), "%s", tmp_path("jobsbad.trace"));
	if (!ASSERT_TRUE(!record(trace, WORKLOADS "/mlock_memfd"), "record"))
		return;
	assert_refused("--explore --jobs 0", trace, "--jobs needs a number of at least 1, not '0'");
	assert_refused("--explore --jobs x", trace, "--jobs needs a number of at least 1, not 'x'");
	assert_refused("--explore --jobs 2x", trace, "not '2x'");
	assert_refused("--jobs 2", trace, "--jobs has no effect without --explore");
	assert_refused("--explore --jobs 2 --shard 1/2", trace, "--jobs runs the shards of one "
		       "explore at once, --shard one of them");
}

/*
 * A shard that fails (its replay trace cannot be written: a directory is in
 * the way of -o's .2) fails the whole --jobs explore: one line naming it,
 * exit 2, no report, the other shard stopped, nothing left behind.
 */
static void test_replay_jobs_shard_fails(void)
{
	char trace[512], out[512], in_way[600], scratch[512], *err, *rep;
	int rc;

	if (!need_bpf())
		return;
	snprintf(trace, sizeof(trace), "%s", tmp_path("jfail.trace"));
	snprintf(out, sizeof(out), "%s", tmp_path("jfail-replay.trace"));
	snprintf(scratch, sizeof(scratch), "%s", tmp_path("jfail-scratch"));
	snprintf(in_way, sizeof(in_way), "%s.2", out);
	if (!ASSERT_TRUE(!record(trace, WORKLOADS "/threads_mlock_pageout 3"), "record"))
		return;
	mkdir(scratch, 0700);
	mkdir(in_way, 0700);
	rc = run_cmd(tmp_path("jfail.out"), tmp_path("jfail.err"), "%s replay -q -o %s --scratch %s "
		     "--explore --trials 200 --jobs 2 %s", mmreplay_bin(), out, scratch, trace);
	err = slurp(tmp_path("jfail.err"));
	rep = slurp(tmp_path("jfail.out"));
	printf("  %s", err);
	ASSERT_EQ(rc, 2, "exit 2");
	ASSERT_EQ(count_lines(err), 1, "one line");
	ASSERT_STRCONTAINS(err, "replay: --jobs: shard 2/2 failed", "names the shard");
	ASSERT_TRUE(rep && !rep[0], "no report");
	ASSERT_TRUE(dir_empty(scratch), "every shard's scratch directory removed");
	ASSERT_EQ(run_cmd(NULL, NULL, "sleep 0.5; pgrep -f '[_]_replay-run --scratch %s'", scratch), 1,
		  "no replay process left");
	rmdir(in_way);
	free(err);
	free(rep);
}

/*
 * Shell: wait (up to 30 s) until a trial's results are in the scratch
 * directory (%s), so that the signal after it comes with trials run: the
 * recorder's start alone takes 1 to 3 s here.
 */
#define AFTER_A_TRIAL \
	"n=0; until [ -n \"$(find %s -name results -size +0c)\" ] || [ $n -ge 300 ]; " \
	"do sleep 0.1; n=$((n + 1)); done"

/*
 * An interrupted explore's report (plain, in rep): the trials that ran, the
 * cells that did not finish, exit 5 (1 with findings); nothing left behind.
 */
static void assert_interrupted_report(int rc, const char *rep, const char *scratch)
{
	ASSERT_TRUE(rc == 5 || rc == 1, "interrupted: exit 5 (1 with findings)");
	ASSERT_STRCONTAINS(rep, "  interrupted after ", "the report says so");
	ASSERT_STRCONTAINS(rep, "  did not finish: ", "and names the cells that did not finish");
	ASSERT_TRUE(strstr(rep, rc == 1 ? "FINDINGS (interrupted before every trial ran)" :
			   "INCOMPLETE: no findings in the trials that ran"), "its last line");
	ASSERT_TRUE(dir_empty(scratch), "every scratch directory removed");
	ASSERT_EQ(run_cmd(NULL, NULL, "sleep 0.5; pgrep -f '[_]_replay-run --scratch %s'", scratch), 1,
		  "no replay process left");
}

/*
 * Ctrl-C (to the process group) or SIGINT to mmreplay alone (it passes it
 * on) in the middle of a one-job exploration: the report of the trials
 * that ran.  Not stopped within 20 s, it is killed (exit 137).
 */
static void test_replay_interrupt(void)
{
	static const char *const how[] = { "kill -INT -$pid", "kill -INT $pid" };
	char trace[512], scratch[512], *rep;
	int rc;

	if (!need_bpf())
		return;
	snprintf(trace, sizeof(trace), "%s", tmp_path("int.trace"));
	snprintf(scratch, sizeof(scratch), "%s", tmp_path("int-scratch"));
	if (!ASSERT_TRUE(!record(trace, WORKLOADS "/threads_mlock_pageout 3"), "record"))
		return;
	mkdir(scratch, 0700);
	for (int i = 0; i < 2; i++) {
		rc = run_cmd(tmp_path("int.out"), tmp_path("int.err"),
			     "sh -c 'setsid %s replay -o %s --scratch %s --explore --trials 500 "
			     "--jobs 1 %s & pid=$!; " AFTER_A_TRIAL "; %s; (sleep 20; kill -KILL -$pid) & "
			     "k=$!; wait $pid; rc=$?; kill $k; exit $rc'", mmreplay_bin(),
			     tmp_path("int-replay.trace"), scratch, trace, scratch, how[i]);
		rep = slurp(tmp_path("int.out"));
		printf("  %s: exit %d\n", how[i], rc);
		assert_interrupted_report(rc, rep, scratch);
		free(rep);
	}
}

/*
 * Ctrl-C (to the command's process group, which the shards are not in) or
 * SIGTERM (to the command alone) during a --jobs 2 explore: every shard
 * stops and writes the partial report of its trials that ran; the command
 * merges them, as when the budget ends (exit 5, 1 with findings); no
 * shard, record or replay process left.
 */
static void test_replay_jobs_interrupt(void)
{
	static const char *const how[] = { "kill -INT -$pid", "kill -TERM $pid" };
	char trace[512], scratch[512], out[512], *err, *rep;
	int rc;

	if (!need_bpf())
		return;
	snprintf(trace, sizeof(trace), "%s", tmp_path("jint.trace"));
	snprintf(scratch, sizeof(scratch), "%s", tmp_path("jint-scratch"));
	snprintf(out, sizeof(out), "%s", tmp_path("jint-replay.trace"));
	if (!ASSERT_TRUE(!record(trace, WORKLOADS "/threads_mlock_pageout 3"), "record"))
		return;
	mkdir(scratch, 0700);
	for (int i = 0; i < 2; i++) {
		rc = run_cmd(tmp_path("jint.out"), tmp_path("jint.err"),
			     "sh -c 'setsid %s replay -q -o %s --scratch %s --explore --trials 500 "
			     "--jobs 2 %s & pid=$!; sleep 4; %s; wait $pid'", mmreplay_bin(), out,
			     scratch, trace, how[i]);
		err = slurp(tmp_path("jint.err"));
		rep = slurp(tmp_path("jint.out"));
		printf("  %s: exit %d, %s", how[i], rc, err);
		assert_interrupted_report(rc, rep, scratch);
		ASSERT_TRUE(!strstr(err, "mmreplay: replay: interrupted"), "no error line");
		ASSERT_TRUE(!strstr(rep, "\"shard\""), "one report, not a partial one");
		ASSERT_EQ(run_cmd(NULL, NULL, "pgrep -f '[r]eplay -q -o %s'", out), 1,
			  "no shard left");
		ASSERT_EQ(run_cmd(NULL, NULL, "pgrep -f '[r]ecord .*-o %s'", out), 1,
			  "no record left");
		free(err);
		free(rep);
	}
}

/*
 * --jobs 2 interrupted while shard 2 has not started a trial: its replay
 * trace (OUT.2) is a FIFO nobody reads, so its recorder waits in open()
 * while shard 1 runs trials.  The report merges shard 1's trials with
 * shard 2's cells as not run; shard 2's own "interrupted" error is not
 * repeated beside the warning that stands in for it.
 */
static void test_replay_jobs_stand_in(void)
{
	char trace[512], out[512], fifo[600], scratch[512], *err, *rep;
	int rc;

	if (!need_bpf())
		return;
	snprintf(trace, sizeof(trace), "%s", tmp_path("jstand.trace"));
	snprintf(out, sizeof(out), "%s", tmp_path("jstand-replay.trace"));
	snprintf(scratch, sizeof(scratch), "%s", tmp_path("jstand-scratch"));
	snprintf(fifo, sizeof(fifo), "%s.2", out);
	if (!ASSERT_TRUE(!record(trace, WORKLOADS "/threads_mlock_pageout 3"), "record"))
		return;
	mkdir(scratch, 0700);
	unlink(fifo);
	if (!ASSERT_EQ(mkfifo(fifo, 0600), 0, "a FIFO where shard 2 writes"))
		return;
	rc = run_cmd(tmp_path("jstand.out"), tmp_path("jstand.err"),
		     "sh -c 'setsid %s replay -q -o %s --scratch %s --explore --trials 500 --jobs 2 "
		     "%s & pid=$!; " AFTER_A_TRIAL "; sleep 1; kill -INT -$pid; wait $pid'",
		     mmreplay_bin(), out, scratch, trace, scratch);
	err = slurp(tmp_path("jstand.err"));
	rep = slurp(tmp_path("jstand.out"));
	printf("  exit %d, %s", rc, err);
	ASSERT_TRUE(rc == 5 || rc == 1, "interrupted: exit 5 (1 with findings)");
	ASSERT_STRCONTAINS(err, "shard 2/2 stopped before it had a report; its cells count as not "
			   "run", "a warning stands in for shard 2");
	ASSERT_TRUE(!strstr(err, "mmreplay: replay: interrupted"), "its own error is not repeated");
	ASSERT_EQ(count_lines(err), 1, "one line");
	ASSERT_STRCONTAINS(rep, "  interrupted after ", "the report says so");
	ASSERT_STRCONTAINS(rep, "  did not run: ", "and names shard 2's cells");
	ASSERT_TRUE(dir_empty(scratch), "every scratch directory removed");
	ASSERT_EQ(run_cmd(NULL, NULL, "pgrep -f '[r]eplay -q -o %s'", out), 1, "no shard left");
	unlink(fifo);
	free(err);
	free(rep);
}

int main(int argc, char **argv)
{
	static const struct test_case tests[] = {
		TEST(test_replay_round_trip_mlock_memfd),
		TEST(test_replay_round_trip_mlock_rules),
		TEST(test_replay_round_trip_fork_mlock),
		TEST(test_replay_round_trip_mixed_maps),
		TEST(test_replay_round_trip_threads),
		TEST(test_replay_round_trip_rss_flush),
		TEST(test_replay_round_trip_cow_swap),
		TEST(test_replay_round_trip_read_into_mmap),
		TEST(test_replay_round_trip_script_exec),
		TEST(test_replay_round_trip_vfork),
		TEST(test_replay_round_trip_exit_while_busy),
		TEST(test_replay_order_free),
		TEST(test_replay_explore_deterministic),
		TEST(test_replay_explore_unchecked),
		TEST(test_replay_reclaim_and_migration),
		TEST(test_replay_unfaithful_result),
		TEST(test_replay_unfaithful_file_gone),
		TEST(test_replay_faithful_plain),
		TEST(test_replay_migration_two_nodes_guest),
		TEST(test_replay_bad_input),
		TEST(test_replay_explore_perturb),
		TEST(test_replay_interrupt),
		TEST(test_replay_jobs_interrupt),
		TEST(test_replay_jobs_bad_input),
		TEST(test_replay_jobs_shard_fails),
		TEST(test_replay_jobs_stand_in),
		TEST(test_replay_wilson),
		TEST(test_replay_stop_after),
		TEST(test_replay_adapt_share),
		TEST(test_replay_adapt_calibrate),
		TEST(test_replay_adapt_order),
		TEST(test_replay_adapt_seeded),
		TEST(test_replay_adapt_batch_size),
		TEST(test_replay_explore_budget_share),
		TEST(test_replay_explore_budget),
		TEST(test_replay_explore_shards),
		TEST(test_replay_merge_bad_input),
		TEST(test_replay_merge_findings),
		TEST(test_replay_explore_after),
		TEST(test_replay_explore_jobs),
	};
	int ret = run_tests(tests, sizeof(tests) / sizeof(tests[0]), argc, argv);

	tmp_cleanup();
	return ret;
}
