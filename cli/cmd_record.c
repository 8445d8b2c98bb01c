// SPDX-License-Identifier: GPL-2.0
/*
 * mmreplay record: load the recorder (open -> set rodata/autoload -> load ->
 * attach), follow a task tree, and stream its events into a trace file.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/utsname.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <linux/sched.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "mmreplay.skel.h"
#include "cmds.h"
#include "traces/kinds.h"
#include "record/probes.h"
#include "record.h"
#include "traces/trace.h"
#include "util.h"
#include "bpf/mmhash.h"

const char usage_record[] =
	"usage: mmreplay record [-o FILE] [-p PID ...] [-e KINDS] [-b MB] [-s] [-- CMD ARGS...]\n\n"
	"Record the mm activity of CMD and every task it forks, or of running\n"
	"processes (-p, repeatable), until they exit or Ctrl-C / SIGTERM.\n\n"
	"  -o, --output FILE     trace file (default mmreplay.trace)\n"
	"  -p, --pid PID         trace a running process and its future children\n"
	"  -e, --events KINDS    comma-separated kinds to record (default: all that\n"
	"                        this kernel allows; see mmreplay probes)\n"
	"  -x, --exclude KINDS   comma-separated kinds not to record\n"
	"  -b, --buffer-mb MB    ring buffer size in MiB (default 16)\n"
	"  -s, --snapshot        after each mlock, munlock, munmap, mremap, madvise,\n"
	"                        fallocate and truncate call, stop the process and\n"
	"                        record its memory state from /proc for `check`\n"
	"                        (slow: for tests and reproductions, not production)\n"
	"  -S, --snapshot-max N  --snapshot for the first N calls only, then events\n"
	"                        alone (bounds the cost of a call-heavy workload)\n"
	"  -q, --quiet           no summary\n\n"
	"examples:\n"
	"  mmreplay record -- ./workload arg\n"
	"  mmreplay record -o db.trace -p 4242\n"
	"  mmreplay record -x mmap_lock_start_locking,mmap_lock_acquire_returned,mmap_lock_released -- make\n";

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	stop = 1;
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (mmr_verbose < 2 && (level == LIBBPF_DEBUG || mmr_verbose < 1))
		return 0;
	return vfprintf(stderr, fmt, ap);
}

struct rec_opts {
	const char *out;
	int pids[64];
	int nr_pids;
	char *only, *exclude;
	int buffer_mb;
	int quiet;
	int snapshot;
	long snapshot_max;	/* 0: no limit */
	char **cmd;
};

static int parse_opts(int argc, char **argv, struct rec_opts *o)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "pid", required_argument, NULL, 'p' },
		{ "events", required_argument, NULL, 'e' },
		{ "exclude", required_argument, NULL, 'x' },
		{ "buffer-mb", required_argument, NULL, 'b' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "snapshot", no_argument, NULL, 's' },
		{ "snapshot-max", required_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	char *end;
	int c;

	o->out = "mmreplay.trace";
	o->buffer_mb = 16;
	while ((c = mmr_getopt("record", argc, argv, "o:p:e:x:b:qsS:h", opts)) != -1) {
		switch (c) {
		case 'o': o->out = optarg; break;
		case 'e': o->only = optarg; break;
		case 'x': o->exclude = optarg; break;
		case 'q': o->quiet = 1; break;
		case 's': o->snapshot = 1; break;
		case 'S':
			o->snapshot = 1;
			o->snapshot_max = strtol(optarg, &end, 10);
			if (*end || o->snapshot_max < 1) {
				mmr_err("record: --snapshot-max must be a positive number");
				return -1;
			}
			break;
		case 'h': cmd_help("record"); return 1;
		case 'p':
			if (o->nr_pids == 64) {
				mmr_err("record: at most 64 -p options");
				return -1;
			}
			o->pids[o->nr_pids] = strtol(optarg, &end, 10);
			if (*end || o->pids[o->nr_pids] <= 0 || kill(o->pids[o->nr_pids], 0)) {
				mmr_err("record: no such process '%s'", optarg);
				return -1;
			}
			o->nr_pids++;
			break;
		case 'b':
			o->buffer_mb = strtol(optarg, &end, 10);
			if (*end || o->buffer_mb < 1 || o->buffer_mb > 4096 ||
			    (o->buffer_mb & (o->buffer_mb - 1))) {
				mmr_err("record: --buffer-mb must be a power of two from 1 to 4096");
				return -1;
			}
			break;
		default: return -1;
		}
	}
	if (optind < argc)
		o->cmd = argv + optind;
	if (!o->cmd && !o->nr_pids) {
		mmr_err("record: nothing to trace: give -p PID or -- CMD (see mmreplay record --help)");
		return -1;
	}
	return 0;
}

/* Is @cmd something execvp() can run?  Checked before anything is loaded. */
static int runnable(const char *cmd)
{
	char path[4096];
	const char *dirs = getenv("PATH");

	if (strchr(cmd, '/'))
		return access(cmd, X_OK) == 0;
	for (const char *p = dirs ? dirs : "/usr/bin:/bin"; *p;) {
		size_t l = strcspn(p, ":");

		snprintf(path, sizeof(path), "%.*s/%s", (int)l, p, cmd);
		if (!access(path, X_OK))
			return 1;
		p += l + (p[l] == ':');
	}
	return 0;
}

static int in_list(const char *list, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = list; p && *p;) {
		size_t l = strcspn(p, ",");

		if (l == n && !strncmp(p, name, n))
			return 1;
		p += l + (p[l] == ',');
	}
	return 0;
}

/* Every name in a kinds list must be a kind. */
static int check_list(const char *list)
{
	char name[64];

	for (const char *p = list; p && *p;) {
		size_t l = strcspn(p, ",");

		snprintf(name, sizeof(name), "%.*s", (int)l, p);
		if (!kind_def_by_name(name)) {
			mmr_err("record: unknown event kind '%s' (see mmreplay probes)", name);
			return -1;
		}
		p += l + (p[l] == ',');
	}
	return 0;
}

/* Turn off kinds the user did not ask for. */
static void select_kinds(struct probe_plan *plans, const struct rec_opts *o)
{
	for (int i = 0; i < mmr_nr_kinds; i++) {
		struct probe_plan *p = &plans[i];
		const char *name = p->kind->name;
		int off = (o->only && !in_list(o->only, name)) || in_list(o->exclude, name);

		if (p->how == ATTACH_PROC && !o->snapshot) {
			p->how = ATTACH_NONE;
			snprintf(p->status, sizeof(p->status), "not requested (record --snapshot)");
			continue;
		}
		if (p->how == ATTACH_NONE || p->how == ATTACH_PROC || !off)
			continue;
		p->emit = 0;
		snprintf(p->status, sizeof(p->status), "not requested");
		if (p->kind->id == MMR_K_TASK_FORK || p->kind->id == MMR_K_TASK_EXIT)
			continue;	/* still attached: they follow the task tree */
		p->how = ATTACH_NONE;
		snprintf(p->attach, sizeof(p->attach), "-");
	}
}

static int prog_wanted(const struct probe_plan *plans, const char *name)
{
	for (int i = 0; i < mmr_nr_kinds; i++) {
		const char *progs[3];

		plan_progs(&plans[i], progs);
		for (int j = 0; progs[j]; j++)
			if (!strcmp(progs[j], name))
				return 1;
	}
	return 0;
}

static int load_skel(struct recorder *r, int buffer_mb)
{
	struct bpf_program *prog;
	int err;

	r->skel = mmreplay_bpf__open();
	if (!r->skel) {
		mmr_err("record: cannot open BPF object: %s", strerror(errno));
		return -1;
	}
	r->skel->rodata->hash_k0 = r->k0;
	r->skel->rodata->hash_k1 = r->k1;
	r->skel->rodata->recorder_tgid = getpid();
	for (int i = 0; i < mmr_nr_kinds; i++)
		if (r->plans[i].how != ATTACH_NONE && r->plans[i].emit)
			r->skel->rodata->kind_mask |= 1ULL << r->plans[i].kind->id;
	bpf_map__set_max_entries(r->skel->maps.events, (__u32)buffer_mb << 20);
	bpf_object__for_each_program(prog, r->skel->obj)
		bpf_program__set_autoload(prog, prog_wanted(r->plans, bpf_program__name(prog)));
	err = mmreplay_bpf__load(r->skel);
	if (err) {
		mmr_err("record: cannot load BPF programs: %s%s", strerror(-err),
			geteuid() ? " (run as root, or with CAP_BPF and CAP_PERFMON)" :
			" (run with -v -v for the verifier log)");
		return -1;
	}
	return 0;
}

static int prog_attached(const struct recorder *r, const struct bpf_program *prog)
{
	for (int i = 0; i < r->nr_links; i++)
		if (r->link_progs[i] == prog)
			return 1;
	return 0;
}

static void attach_all(struct recorder *r)
{
	for (int i = 0; i < mmr_nr_kinds; i++) {
		struct probe_plan *p = &r->plans[i];
		const char *progs[3];

		plan_progs(p, progs);
		for (int j = 0; progs[j]; j++) {
			struct bpf_program *prog =
				bpf_object__find_program_by_name(r->skel->obj, progs[j]);
			struct bpf_link *link;

			if (prog_attached(r, prog))
				continue;	/* e.g. sys_enter serves two kinds */
			link = prog ? bpf_program__attach(prog) : NULL;
			if (!link) {
				snprintf(p->status, sizeof(p->status), "attach %s failed: %s",
					 p->attach, strerror(errno));
				p->how = ATTACH_NONE;
				break;
			}
			r->links[r->nr_links] = link;
			r->link_progs[r->nr_links++] = prog;
		}
	}
}

/* @hold: stop the process after snapshot syscalls (record --snapshot) */
static int fill_sys_cfg(struct recorder *r, int hold)
{
	int fd = bpf_map__fd(r->skel->maps.sys_cfg);
	const struct syscall_def *d;

	for (int i = 0; (d = syscall_def_at(i)); i++) {
		__u32 key = d->nr, val = MMR_SYS_TRACE;

		val |= d->flags & SYS_RESULT_FD ? MMR_SYS_RET_FD : 0;
		val |= d->flags & SYS_RESULT_ADDR ? MMR_SYS_RET_ADDR : 0;
		val |= d->flags & SYS_PATH_AT_ENTRY ? MMR_SYS_PATH_ENTER : 0;
		val |= d->fd_arg >= 0 ? MMR_SYS_FD_ARG(d->fd_arg) : 0;
		val |= d->path_arg >= 0 ? MMR_SYS_PATH_ARG(d->path_arg) : 0;
		val |= hold && (d->flags & SYS_SNAPSHOT) ? MMR_SYS_SNAPSHOT : 0;
		val |= d->flags & SYS_NO_EXIT ? MMR_SYS_NO_EXIT : 0;
		if (bpf_map_update_elem(fd, &key, &val, BPF_ANY))
			return -1;
	}
	return 0;
}

static int trace_pid(struct recorder *r, int pid)
{
	__u32 key = pid, one = 1;

	return bpf_map_update_elem(bpf_map__fd(r->skel->maps.traced), &key, &one, BPF_ANY);
}

static int traced_empty(struct recorder *r)
{
	__u32 key;

	return bpf_map_get_next_key(bpf_map__fd(r->skel->maps.traced), NULL, &key) != 0;
}

/* The command, waiting on @go before it execs; runs in the final child. */
static void __attribute__((noreturn)) run_cmd_child(int go, char **cmd)
{
	char c;

	if (read(go, &c, 1) != 1)
		_exit(127);
	close(go);
	execvp(cmd[0], cmd);
	fprintf(stderr, "mmreplay: record: cannot run %s: %s\n", cmd[0], strerror(errno));
	_exit(127);
}

/*
 * Fork CMD stopped on a pipe, so that it is traced before it execs.
 *
 * The BPF side resolves fds through the fd table embedded in files_struct,
 * which a task uses only while its table never grew past 64 fds.  An
 * inherited high fd (bash keeps fd 255) grows it for good, and exec does
 * not shrink it.  So an intermediate child closes every inherited fd and
 * forks the command with CLONE_PARENT: fork sizes the new table by the
 * fds still open, and the command stays our child for waitpid().
 */
static int start_cmd(struct recorder *r, char **cmd)
{
	int go[2], pid[2], st;
	pid_t mid, child = -1;

	if (pipe(go) || pipe(pid))
		return -1;
	mid = fork();
	if (mid < 0)
		return -1;
	if (mid == 0) {
		close(go[1]);
		close(pid[0]);
		if (dup2(go[0], 3) < 0 || dup2(pid[1], 4) < 0)
			_exit(127);
		close_range(5, ~0U, 0);
		child = syscall(SYS_clone, CLONE_PARENT | SIGCHLD, 0, NULL, NULL, 0);
		if (child == 0) {
			close(4);
			run_cmd_child(3, cmd);
		}
		_exit(write(4, &child, sizeof(child)) == sizeof(child) && child > 0 ? 0 : 127);
	}
	close(go[0]);
	close(pid[1]);
	if (read(pid[0], &child, sizeof(child)) != sizeof(child) || child <= 0)
		child = -1;
	close(pid[0]);
	waitpid(mid, &st, 0);
	if (child < 0) {
		close(go[1]);
		errno = ECHILD;
		return -1;
	}
	r->child = child;
	r->go_fd = go[1];
	return 0;
}

/*
 * Make the kernel emit one LRU insertion now: the BPF side learns the
 * memmap base from it.  mlock() drains the per-CPU LRU batches, which is
 * also what later snapshot code relies on.
 */
static void calibrate(void)
{
	long psz = sysconf(_SC_PAGESIZE);
	char *p = mmap(NULL, psz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return;
	p[0] = 1;
	mlock(p, psz);
	munlock(p, psz);
	munmap(p, psz);
}

static void setup_signals(void)
{
	struct sigaction sa = { .sa_handler = on_signal };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

static void resume_traced(struct recorder *r);

static void record_loop(struct recorder *r)
{
	struct timespec last, now;
	int exited = !r->child;

	clock_gettime(CLOCK_MONOTONIC, &last);
	while (!stop && !r->write_error) {
		int status;

		ring_buffer__poll(r->rb, 20);
		if (r->nr_pending) {
			ring_buffer__consume(r->rb);	/* events older than the snapshot first */
			record_take_snapshots(r);
			if (r->snapshot_max && r->snaps.held >= (__u64)r->snapshot_max &&
			    !r->snaps_capped) {
				r->snaps_capped = 1;	/* stops already sent are still taken */
				fill_sys_cfg(r, 0);
			}
		}
		if (r->child && !exited && waitpid(r->child, &status, WNOHANG) == r->child) {
			exited = 1;
			r->child_status = status;
		}
		if (exited && traced_empty(r))
			break;
		if (!r->child && traced_empty(r))
			break;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec > last.tv_sec) {
			/* a stop whose sys_exit record was lost must not hang the process */
			if (r->snapshot && !r->nr_pending)
				resume_traced(r);
			record_write_stats(r, MMR_CHUNK_STATS);
			last = now;
		}
	}
	ring_buffer__consume(r->rb);
	if (r->snapshot) {
		record_take_snapshots(r);
		snapshot_take(&r->snaps, 0, 0, 0, MMR_SNAP_REASON_END, 0);
	}
}

/* Never leave a traced process stopped for a snapshot nobody will take. */
static void resume_traced(struct recorder *r)
{
	resume_traced_map(bpf_map__fd(r->skel->maps.traced));
}

/*
 * The watchdog resumes what we stop if we die (cli/watchdog.c).  Forked
 * before any program is attached, so that it is never traced.
 */
static int start_watchdog(struct recorder *r)
{
	if (!r->snapshot)
		return 0;
	return watchdog_start(&r->dog, bpf_map__fd(r->skel->maps.traced),
			      bpf_map__fd(r->skel->maps.hold_ok));
}

/*
 * No new stops, no programs, then SIGCONT what is still stopped; the
 * watchdog's rounds catch a SIGSTOP that lands after our SIGCONT.  They
 * run while we detach the programs, which can take a while.
 */
static void cleanup(struct recorder *r)
{
	__u32 zero = 0;

	if (r->snapshot && r->skel)
		bpf_map_update_elem(bpf_map__fd(r->skel->maps.hold_ok), &zero, &zero, BPF_ANY);
	watchdog_release(&r->dog);
	for (int i = 0; i < r->nr_links; i++)
		bpf_link__destroy(r->links[i]);
	r->nr_links = 0;
	if (r->snapshot && r->skel)
		resume_traced(r);
	watchdog_stop(&r->dog);
	snapshots_close(&r->snaps);
	if (r->go_fd > 0 && r->child > 0) {	/* never released: do not run it untraced */
		kill(r->child, SIGKILL);
		waitpid(r->child, NULL, 0);
	}
	ring_buffer__free(r->rb);
	mmreplay_bpf__destroy(r->skel);
}

int cmd_record(int argc, char **argv)
{
	struct recorder r = { .argc = argc, .argv = argv };
	struct rec_opts o = {};
	char err[256];
	int ret = MMR_EXIT_ERROR, pr;

	pr = parse_opts(argc, argv, &o);
	if (pr)
		return pr > 0 ? 0 : MMR_EXIT_ERROR;
	if (check_list(o.only) || check_list(o.exclude))
		return MMR_EXIT_ERROR;
	if (o.cmd && !runnable(o.cmd[0])) {
		mmr_err("record: cannot run %s: %s", o.cmd[0], strerror(errno ?: ENOENT));
		return MMR_EXIT_ERROR;
	}
	if (o.cmd && start_cmd(&r, o.cmd)) {
		mmr_err("record: cannot start %s: %s", o.cmd[0], strerror(errno));
		return MMR_EXIT_ERROR;
	}
	libbpf_set_print(libbpf_print);
	if (getrandom(&r.k0, sizeof(r.k0), 0) != sizeof(r.k0) ||
	    getrandom(&r.k1, sizeof(r.k1), 0) != sizeof(r.k1)) {
		mmr_err("record: cannot draw a hash key: %s", strerror(errno));
		return MMR_EXIT_ERROR;
	}
	r.snapshot = o.snapshot;
	r.snapshot_max = o.snapshot_max;
	r.snaps.kflags_fd = r.snaps.kcount_fd = -1;
	r.dog.fd = r.dog.pidfd = -1;
	probes_detect(r.plans, err, sizeof(err));
	select_kinds(r.plans, &o);
	if (load_skel(&r, o.buffer_mb))
		goto cleanup;
	if (start_watchdog(&r)) {
		mmr_err("record: --snapshot: cannot start the watchdog: %s", strerror(errno));
		goto cleanup;
	}
	attach_all(&r);
	if (fill_sys_cfg(&r, r.snapshot)) {
		mmr_err("record: cannot fill the syscall table: %s", strerror(errno));
		goto cleanup;
	}
	r.rb = ring_buffer__new(bpf_map__fd(r.skel->maps.events), record_handle_event, &r, NULL);
	if (!r.rb) {
		mmr_err("record: cannot open the ring buffer: %s", strerror(errno));
		goto cleanup;
	}
	r.w = mmr_writer_open(o.out, err, sizeof(err));
	if (!r.w) {
		mmr_err("record: %s", err);
		goto cleanup;
	}
	r.out = o.out;
	if (record_write_header(&r, o.cmd, o.pids, o.nr_pids))
		goto cleanup;
	calibrate();
	if (r.snapshot && (snapshots_open(&r.snaps, r.w) ||
			   snapshot_take(&r.snaps, 0, 0, 0, MMR_SNAP_REASON_BASELINE, 0))) {
		mmr_err("record: --snapshot: cannot read /proc/kpageflags: %s", strerror(errno));
		goto cleanup;
	}
	setup_signals();
	for (int i = 0; i < o.nr_pids; i++)
		trace_pid(&r, o.pids[i]);
	if (r.child && trace_pid(&r, r.child)) {
		mmr_err("record: cannot trace %s: %s", o.cmd[0], strerror(errno));
		goto cleanup;
	}
	if (r.go_fd > 0) {
		if (write(r.go_fd, "g", 1) != 1)
			mmr_warn("record: cannot release the command");
		close(r.go_fd);
		r.go_fd = -1;
	}
	record_loop(&r);
	ret = record_finish(&r, o.quiet) ? MMR_EXIT_ERROR : 0;
cleanup:
	if (r.w && ret == MMR_EXIT_ERROR && !r.finished)
		mmr_writer_close(r.w, "status=error\n");
	cleanup(&r);
	return ret;
}
