// SPDX-License-Identifier: GPL-2.0
/*
 * The recording's lifecycle (record.h): select the kinds, load the BPF
 * object (open -> set rodata/autoload -> load -> attach), follow a task
 * tree, and stream its events into a trace file.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <linux/sched.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "mmreplay.skel.h"
#include "traces/kinds.h"
#include "record_int.h"

static int fail(struct recorder *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(struct recorder *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->err, sizeof(r->err), fmt, ap);
	va_end(ap);
	return -1;
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

int recorder_kind_wanted(const struct recorder_opts *o, const char *name)
{
	return !(o->only && !in_list(o->only, name)) && !in_list(o->exclude, name);
}

/* Turn off kinds the user did not ask for. */
static void select_kinds(struct recorder *r)
{
	const struct recorder_opts *o = &r->o;

	for (int i = 0; i < mmr_nr_kinds; i++) {
		struct probe_plan *p = &r->plans[i];
		const char *name = p->kind->name;
		int off = !recorder_kind_wanted(o, name);

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

/*
 * Every kind asked for by name (opts.only) must be recorded: one that this
 * kernel cannot attach fails the recording, naming why, or with
 * allow_missing is a warning.
 */
static int check_asked(struct recorder *r)
{
	char msg[512];

	for (int i = 0; r->o.only && i < mmr_nr_kinds; i++) {
		const struct probe_plan *p = &r->plans[i];

		if (p->how != ATTACH_NONE || !in_list(r->o.only, p->kind->name) ||
		    r->missing_told[i])
			continue;
		r->missing_told[i] = 1;
		snprintf(msg, sizeof(msg), "-e %s: cannot be recorded here: %s",
			 p->kind->name, p->status);
		if (!r->o.allow_missing)
			return fail(r, "%s (--allow-missing records the other kinds)", msg);
		if (r->o.warn)
			r->o.warn(msg);
	}
	return 0;
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

/* Exited: no such process, or a zombie nobody reaped (its exit is past). */
static int pid_gone(int pid)
{
	char path[64], buf[256], *paren;
	ssize_t n = 0;
	int fd;

	if (kill(pid, 0) && errno == ESRCH)
		return 1;
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	fd = open(path, O_RDONLY);
	if (fd >= 0) {
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
	}
	buf[n > 0 ? n : 0] = 0;
	paren = strrchr(buf, ')');	/* "pid (comm) S ...": comm may hold spaces */
	return paren && (paren[2] == 'Z' || paren[2] == 'X');
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

/* Found by execvp() in @dir (of length @l; 0: the current directory)? */
static int try_dir(const char *dir, size_t l, const char *name, char *path, size_t len,
		   int *eacces)
{
	struct stat st;
	int n = snprintf(path, len, "%.*s%s%s", (int)l, dir, l ? "/" : "", name);

	if (n < 0 || (size_t)n >= len)
		return 0;
	if (stat(path, &st) || !S_ISREG(st.st_mode))
		return 0;
	if (!access(path, X_OK))
		return 1;
	*eacces = 1;
	return 0;
}

int recorder_find_cmd(const char *name, char *path, size_t len)
{
	const char *dirs = getenv("PATH");
	char def[256];
	int eacces = 0;

	if (strchr(name, '/')) {
		if (snprintf(path, len, "%s", name) >= (int)len)
			return errno = ENAMETOOLONG, -1;
		return access(path, X_OK);	/* errno as execve would say it */
	}
	if (!dirs && confstr(_CS_PATH, def, sizeof(def)))
		dirs = def;
	for (const char *p = dirs ? dirs : "/bin:/usr/bin";;) {
		size_t l = strcspn(p, ":");

		if (*name && try_dir(p, l, name, path, len, &eacces))
			return 0;
		if (!p[l])
			break;
		p += l + 1;
	}
	errno = eacces ? EACCES : ENOENT;
	return -1;
}

/* execv, and as execvp does, a file without an exec format is a script for sh. */
static void exec_path(const char *path, char **cmd)
{
	int n = 0;
	char **sh;

	execv(path, cmd);
	if (errno != ENOEXEC)
		return;
	while (cmd[n])
		n++;
	sh = calloc(n + 2, sizeof(*sh));
	if (!sh)
		return;
	sh[0] = "sh";
	sh[1] = (char *)path;
	memcpy(sh + 2, cmd + 1, n * sizeof(*sh));	/* the rest and the NULL */
	execv("/bin/sh", sh);
	errno = ENOEXEC;
}

/* The command, waiting on @go before it execs; runs in the final child. */
static void __attribute__((noreturn)) run_cmd_child(int go, const char *path, char **cmd)
{
	char c;

	if (read(go, &c, 1) != 1)
		_exit(127);
	close(go);
	exec_path(path, cmd);
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
			run_cmd_child(3, r->cmd_path, cmd);
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

/* Never leave a traced process stopped for a snapshot nobody will take. */
static void resume_traced(struct recorder *r)
{
	resume_traced_map(bpf_map__fd(r->skel->maps.traced));
}

/*
 * Once a second, after reading the ring: SIGCONT what is stopped, for a
 * stop that no snapshot will end.  Not while a stop's record is unread (it
 * is still in the ring, and its snapshot must find the process where the
 * call left it), unless no stop came in the last second: a record read
 * since then that was never counted is lost.
 */
static void resume_stale_stops(struct recorder *r)
{
	__u64 sent = __atomic_load_n(&r->skel->bss->stops_sent, __ATOMIC_ACQUIRE);
	int unread = sent != r->holds_read, lost = unread && sent == r->holds_sent_tick;

	r->holds_sent_tick = sent;
	if (!r->nr_pending && (!unread || lost))
		resume_traced(r);
}

/* Send @sig to the command's tree: every traced process (never with -p). */
static void signal_traced(struct recorder *r, int sig, int exited)
{
	int fd = bpf_map__fd(r->skel->maps.traced);
	__u32 key, next;

	if (!exited)
		kill(r->child, sig);	/* traced or not yet */
	for (int more = !bpf_map_get_next_key(fd, NULL, &key); more;
	     more = !bpf_map_get_next_key(fd, &key, &next), key = next)
		kill(key, sig);
}

/*
 * A traced process that is gone without its exit seen (a -p target that
 * exited before it was traced) would keep the recording waiting forever.
 */
static void sweep_traced(struct recorder *r)
{
	int fd = bpf_map__fd(r->skel->maps.traced);
	__u32 key, next, gone[64];
	int n = 0;

	for (int more = !bpf_map_get_next_key(fd, NULL, &key); more && n < 64;
	     more = !bpf_map_get_next_key(fd, &key, &next), key = next)
		if (pid_gone(key))
			gone[n++] = key;
	for (int i = 0; i < n; i++)
		bpf_map_delete_elem(fd, &gone[i]);
}

/*
 * recorder_stop() was called: end now with -p only; else pass the signal
 * on, then SIGKILL at a second call or after the grace period.  Returns
 * 1 when the run should end at once.
 */
static int forward_stop(struct recorder *r, int exited, time_t now)
{
	int stops = r->stop;

	if (!r->child)
		return 1;
	if (!r->stops_seen) {
		r->res.forwarded_signal = r->stop_sig;
		r->stop_at = now;
		signal_traced(r, r->stop_sig, exited);
	} else if (!r->killed && (stops > 1 || now - r->stop_at >= RECORDER_STOP_GRACE_S)) {
		r->killed = 1;
		signal_traced(r, SIGKILL, exited);
	}
	r->stops_seen = stops;
	return 0;
}

/*
 * Flight recorder: SIGUSR1 (recorder_trigger()) or a kernel log line: write
 * what is held.  One that comes while a trace is still being written waits
 * for it (the signal is counted, the line stays in the kernel log), so
 * that the recording never stops for a write: its trace holds what came
 * up to then.
 */
static void flight_triggers(struct recorder *r)
{
	char line[512], trigger[600];
	int n = r->trigger;

	if (r->fj.running)
		return;
	if (n != r->triggers_done) {
		r->triggers_done = n;
		ring_buffer__consume(r->rb);	/* the events up to the trigger */
		record_sweep_stages(r, 0);
		record_flight_write(r, "SIGUSR1");
	}
	if (!r->fj.running && kmsg_poll(&r->kmsg, line, sizeof(line))) {
		ring_buffer__consume(r->rb);
		record_sweep_stages(r, 0);
		snprintf(trigger, sizeof(trigger), "kmsg: %s", line);
		record_flight_write(r, trigger);
	}
}

/*
 * Flight recorder: the command died of a signal, not one record passed on
 * to it (a Ctrl-C, and the SIGKILL after it, are no crash).
 */
static void flight_at_end(struct recorder *r)
{
	int st = r->res.child_status, sig = WTERMSIG(st);
	char trigger[64];

	if (!r->res.child_reaped || !WIFSIGNALED(st))
		return;
	if (r->res.forwarded_signal && (sig == r->res.forwarded_signal ||
					(r->killed && sig == SIGKILL)))
		return;
	snprintf(trigger, sizeof(trigger), "workload signal %d", sig);
	record_flight_write(r, trigger);
}

#define STAGE_AGE_NS 2000000ULL

/* The queued snapshots, events older than them first; --snapshot-max counted. */
static void take_snapshots(struct recorder *r)
{
	record_take_snapshots(r, 1);
	if (r->o.snapshot_max && r->snaps.held >= (__u64)r->o.snapshot_max && !r->snaps_capped) {
		r->snaps_capped = 1;	/* stops already sent are still taken */
		fill_sys_cfg(r, 0);
	}
}

static void record_loop(struct recorder *r)
{
	struct timespec last, now;
	int exited = !r->child;

	clock_gettime(CLOCK_MONOTONIC, &last);
	while (!r->write_error) {
		int status;

		/* coalescing: a stage that sat 2 ms is emptied here (its CPU made no record since) */
		ring_buffer__poll(r->rb, r->stages ? 2 : 20);
		record_sweep_stages(r, STAGE_AGE_NS);
		if (r->nr_pending)
			take_snapshots(r);
		if (r->child && !exited && waitpid(r->child, &status, WNOHANG) == r->child) {
			exited = 1;
			r->res.child_reaped = 1;
			r->res.child_status = status;
			r->res.child_reaped = 1;
		}
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (r->o.flight_bytes) {
			record_flight_reap(r, 0);
			flight_triggers(r);
		}
		if (r->stop && forward_stop(r, exited, now.tv_sec))
			break;
		if (exited && traced_empty(r))
			break;
		if (now.tv_sec > last.tv_sec) {
			ring_buffer__consume(r->rb);	/* records that woke no one: counted now */
			if (r->o.snapshot) {
				if (r->nr_pending)
					take_snapshots(r);
				resume_stale_stops(r);
			}
			sweep_traced(r);
			if (r->w)
				record_write_stats(r, MMR_CHUNK_STATS);
			record_progress(r);
			last = now;
		}
	}
	ring_buffer__consume(r->rb);
	record_sweep_stages(r, 0);
	if (r->o.snapshot) {
		record_take_snapshots(r, 1);
		snapshot_take(&r->snaps, 0, 0, 0, MMR_SNAP_REASON_END, 0);
	}
	if (r->o.flight_bytes) {
		record_flight_reap(r, 1);
		flight_triggers(r);	/* one that came as the workload ended */
		flight_at_end(r);
		record_flight_reap(r, 1);
	}
}

/*
 * The watchdog resumes what we stop if we die (watchdog.c).  Forked
 * before any program is attached, so that it is never traced.
 */
static int start_watchdog(struct recorder *r)
{
	if (!r->o.snapshot)
		return 0;
	return watchdog_start(&r->dog, bpf_map__fd(r->skel->maps.traced),
			      bpf_map__fd(r->skel->maps.hold_ok));
}

/* Watch the kernel log from now on; without it, the other triggers still work. */
static void start_kmsg(struct recorder *r)
{
	char msg[160];

	if (!kmsg_open(&r->kmsg)) {
		r->res.kmsg_watched = 1;
		return;
	}
	snprintf(msg, sizeof(msg), "--flight-recorder: cannot read /dev/kmsg (%s): no kernel "
		 "log trigger", strerror(errno));
	if (r->o.warn)
		r->o.warn(msg);
}

/* Start the trace file: what was attached, and the state before any event. */
static int start_trace(struct recorder *r)
{
	char err[256];

	if (record_build_header(r))
		return fail(r, "cannot build the trace header: %s", strerror(errno));
	if (r->o.flight_bytes) {	/* the file is written at a trigger */
		start_kmsg(r);
		calibrate();
		return 0;
	}
	r->w = mmr_writer_open(r->o.out, err, sizeof(err));
	if (!r->w)
		return fail(r, "%s", err);
	if (record_write_header(r, NULL))
		return fail(r, "cannot write %s: %s", r->o.out, strerror(errno));
	calibrate();
	if (r->o.snapshot && (snapshots_open(&r->snaps, r->w) ||
			      snapshot_take(&r->snaps, 0, 0, 0, MMR_SNAP_REASON_BASELINE, 0)))
		return fail(r, "--snapshot: cannot read /proc/kpageflags: %s", strerror(errno));
	r->snaps.reclaim = r->o.reclaim_pass;
	snprintf(r->snaps.rp.why, sizeof(r->snaps.rp.why), "%s", r->cg_why);
	return 0;
}

/* Let the command exec, now that it is traced. */
static void release_cmd(struct recorder *r)
{
	if (r->go_fd <= 0)
		return;
	if (write(r->go_fd, "g", 1) != 1 && r->o.warn)
		r->o.warn("cannot release the command");
	close(r->go_fd);
	r->go_fd = -1;
}

struct recorder *recorder_new(const struct recorder_opts *opts)
{
	struct recorder *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->o = *opts;
	r->snaps.kflags_fd = r->snaps.kcount_fd = -1;
	r->dog.fd = r->dog.pidfd = -1;
	r->kmsg.fd = -1;
	return r;
}

/* --flight-recorder: its ring and kernel log patterns, before anything is started. */
static int flight_prepare(struct recorder *r)
{
	char err[300];

	if (r->o.snapshot)
		return fail(r, "--snapshot cannot be used with --flight-recorder: a snapshot "
			    "stops the workload at each call, and check needs the baseline "
			    "snapshot, which the ring would overwrite");
	if (r->o.flight_bytes < FLIGHT_MIN)
		return fail(r, "--flight-recorder: at least %uK", FLIGHT_MIN >> 10);
	if (kmsg_compile(&r->kmsg, r->o.kmsg_patterns, r->o.nr_kmsg_patterns, err, sizeof(err)))
		return fail(r, "%s", err);
	if (flight_init(&r->fl, r->o.flight_bytes))
		return fail(r, "--flight-recorder: %s", strerror(errno));
	return 0;
}

/*
 * Coalescing, unless --no-coalesce: the hot kinds recorded by their typed
 * programs (and rss_stat by its classic one) stage their events
 * (bpf/events.h), which the recorder turns back into records by the
 * layout their formats give.  Off if none does, or a format lacks a field
 * (a warning).
 */
static void plan_coalesce(struct recorder *r)
{
	static const int hot[] = { MMR_K_PAGE_FAULT_USER, MMR_K_RSS_STAT, MMR_K_LRU_INSERTION };
	char *formats[MMR_K_NR] = { NULL }, why[160], msg[256];
	int typed = 0;

	r->coalesce = 0;
	if (r->o.no_coalesce)
		return;
	for (size_t i = 0; i < sizeof(hot) / sizeof(hot[0]); i++) {
		const struct probe_plan *p = &r->plans[kind_def(hot[i]) - mmr_kinds];

		/* classic programs never stage, but for rss_stat's (see tp_rss_stat) */
		if (!p->emit || (p->how != ATTACH_TP_BTF &&
				 !(p->how == ATTACH_TRACEPOINT && hot[i] == MMR_K_RSS_STAT)))
			continue;
		formats[hot[i]] = r->tp_format[hot[i]];
		typed++;
	}
	if (!typed)
		return;
	if (batch_layout_init(&r->batch, formats, why, sizeof(why))) {
		snprintf(msg, sizeof(msg), "not coalescing the hot events: %s", why);
		if (r->o.warn)
			r->o.warn(msg);
		return;
	}
	r->coalesce = 1;
}

int recorder_prepare(struct recorder *r)
{
	char err[256];

	if (r->o.cmd && r->o.nr_pids)
		return fail(r, "a command and -p targets cannot be recorded together");
	if (r->o.reclaim_pass && !r->o.snapshot)
		return fail(r, "--reclaim-pass needs --snapshot: it follows a held snapshot");
	if (r->o.flight_bytes && flight_prepare(r))
		return -1;
	if (r->o.cmd && recorder_find_cmd(r->o.cmd[0], r->cmd_path, sizeof(r->cmd_path)))
		return fail(r, "cannot run %s: %s", r->o.cmd[0], strerror(errno));
	if (r->o.cmd && start_cmd(r, r->o.cmd))
		return fail(r, "cannot start %s: %s", r->o.cmd[0], strerror(errno));
	/* none: the trace's stats and record's summary say why (reclaim_pass_why) */
	if (r->o.reclaim_pass && r->o.cmd)
		mmr_cgroup_own(&r->cg, r->child, NULL, r->cg_why, sizeof(r->cg_why));
	for (int i = 0; i < r->o.nr_pids; i++)
		if (pid_gone(r->o.pids[i]))
			return fail(r, "-p %d: no such process", r->o.pids[i]);
	if (r->o.nr_pids && record_read_pid_cmdlines(r))
		return fail(r, "cannot read the -p targets' command lines: %s", strerror(errno));
	if (getrandom(&r->k0, sizeof(r->k0), 0) != sizeof(r->k0) ||
	    getrandom(&r->k1, sizeof(r->k1), 0) != sizeof(r->k1))
		return fail(r, "cannot draw a hash key: %s", strerror(errno));
	probes_detect(r->plans, err, sizeof(err));
	select_kinds(r);
	probes_drop_unneeded(r->plans);
	if (check_asked(r))
		return -1;
	record_read_formats(r);
	plan_coalesce(r);
	return 0;
}

static int load_once(struct recorder *r)
{
	struct bpf_program *prog;

	r->skel = mmreplay_bpf__open();
	if (!r->skel)
		return -errno;
	r->skel->rodata->hash_k0 = r->k0;
	r->skel->rodata->hash_k1 = r->k1;
	r->skel->rodata->recorder_tgid = getpid();
	r->skel->rodata->nr_cpus = libbpf_num_possible_cpus();
	for (int i = 0; i < mmr_nr_kinds; i++)
		if (r->plans[i].how != ATTACH_NONE && r->plans[i].emit)
			r->skel->rodata->kind_mask |= 1ULL << r->plans[i].kind->id;
	bpf_map__set_max_entries(r->skel->maps.events, (__u32)r->o.buffer_mb << 20);
	bpf_object__for_each_program(prog, r->skel->obj)
		bpf_program__set_autoload(prog, prog_wanted(r->plans, bpf_program__name(prog)));
	r->skel->rodata->cfg_flags |= r->coalesce ? MMR_CFG_COALESCE : 0;
	bpf_map__set_max_entries(r->skel->maps.stages, libbpf_num_possible_cpus());
	bpf_program__set_autoload(r->skel->progs.stage_switch, r->coalesce);
	return mmreplay_bpf__load(r->skel);
}

/* Every CPU's stage, mapped for record_sweep_stages(); 0 or -errno. */
static int map_stages(struct recorder *r)
{
	const struct bpf_map *m = r->skel->maps.stages;
	size_t page = sysconf(_SC_PAGESIZE);
	void *p;

	if (!r->coalesce)
		return 0;
	r->nr_stages = bpf_map__max_entries(m);
	r->stage_size = (bpf_map__value_size(m) + 7) & ~(size_t)7;
	r->stages_len = (r->stage_size * r->nr_stages + page - 1) / page * page;
	p = mmap(NULL, r->stages_len, PROT_READ | PROT_WRITE, MAP_SHARED, bpf_map__fd(m), 0);
	if (p == MAP_FAILED)
		return -errno;
	r->stages = p;
	return 0;
}

/* Back to the classic tracepoint programs: whether any kind had a typed one. */
static int untype_all(struct recorder *r)
{
	int any = 0;

	for (int i = 0; i < mmr_nr_kinds; i++) {
		any |= r->plans[i].typed != NULL;
		probes_untype(&r->plans[i]);
	}
	return any;
}

/*
 * A kernel may refuse a typed program where an empty one loaded (a kfunc
 * it lacks, a verifier limit): then the classic programs, as the trace's
 * kinds say (attach=tracepoint:...).
 */
int recorder_load(struct recorder *r)
{
	int err = load_once(r);

	if (err && untype_all(r)) {
		mmreplay_bpf__destroy(r->skel);
		r->coalesce = 0;	/* what the kernel refused may have been the stages */
		err = load_once(r);
		if (!err && r->o.warn)
			r->o.warn("this kernel refused the typed programs of the hot tracepoints: "
				  "recording with the classic ones, uncoalesced, which costs more "
				  "(-v -v shows the verifier's reason)");
	}
	if (err)
		return fail(r, "cannot load BPF programs: %s%s", strerror(-err),
			    geteuid() ? " (run as root, or with CAP_BPF and CAP_PERFMON)" :
			    " (run with -v -v for the verifier log)");
	err = map_stages(r);
	if (err)
		return fail(r, "cannot map the BPF stages of the hot events: %s (record with "
			    "--no-coalesce)", strerror(-err));
	return 0;
}

/*
 * The -p targets into the traced map.  One gone before it is there was
 * not traced at all (its exit is not in the trace): said, and an error
 * when no target is left.
 */
static int trace_pids(struct recorder *r)
{
	char msg[128];
	int gone = 0;

	for (int i = 0; i < r->o.nr_pids; i++) {
		if (pid_gone(r->o.pids[i])) {
			gone++;
			snprintf(msg, sizeof(msg), "-p %d exited before it could be traced: "
				 "nothing of it is in the trace", r->o.pids[i]);
			if (r->o.warn && gone < r->o.nr_pids)
				r->o.warn(msg);
			continue;
		}
		trace_pid(r, r->o.pids[i]);
	}
	if (gone && gone == r->o.nr_pids)
		return fail(r, "%s", r->o.nr_pids > 1 ? "every -p target exited before it could "
			    "be traced: nothing was recorded" : msg);
	return 0;
}

static void drop_link(struct recorder *r, const struct bpf_program *prog)
{
	for (int i = 0; i < r->nr_links; i++) {
		if (r->link_progs[i] != prog)
			continue;
		bpf_link__destroy(r->links[i]);
		r->links[i] = r->links[--r->nr_links];
		r->link_progs[i] = r->link_progs[r->nr_links];
		return;
	}
}

/*
 * tb_mm_lru_insertion turns a folio into a PFN with vmemmap_base, which
 * tp_mm_lru_insertion learns from its record (a PFN and a folio pointer).
 * Make LRU insertions of our own until it has (the recorder's are not
 * recorded), then hand over to the typed program and drop the classic
 * one, all before any task is traced.  If it never learns (1 s), keep the
 * classic one.
 */
static void lru_hand_over(struct recorder *r)
{
	struct probe_plan *p = &r->plans[kind_def(MMR_K_LRU_INSERTION) - mmr_kinds];
	size_t len = 256 << 12;

	if (!p->typed || p->how != ATTACH_TP_BTF)
		return;
	for (int i = 0; i < 100 && !r->skel->bss->vmemmap_base; i++) {
		char *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		for (size_t off = 0; m != MAP_FAILED && off < len; off += 4096)
			m[off] = 1;
		if (m != MAP_FAILED)
			munmap(m, len);
		usleep(10000);
	}
	if (r->skel->bss->vmemmap_base) {
		__atomic_store_n(&r->skel->bss->lru_by_btf, 1, __ATOMIC_SEQ_CST);
		drop_link(r, r->skel->progs.tp_mm_lru_insertion);
		return;
	}
	drop_link(r, r->skel->progs.tb_mm_lru_insertion);
	probes_untype(p);
}

static int attach_stage_switch(struct recorder *r)
{
	struct bpf_link *link = bpf_program__attach(r->skel->progs.stage_switch);

	if (!link)
		return -1;
	r->links[r->nr_links] = link;
	r->link_progs[r->nr_links++] = r->skel->progs.stage_switch;
	return 0;
}

int recorder_attach(struct recorder *r)
{
	if (start_watchdog(r))
		return fail(r, "--snapshot: cannot start the watchdog: %s", strerror(errno));
	attach_all(r);
	if (r->coalesce && attach_stage_switch(r))
		return fail(r, "cannot attach tp_btf:sched_switch, which sends a switched-out "
			    "task's staged events: %s (record with --no-coalesce)", strerror(errno));
	lru_hand_over(r);
	if (check_asked(r))
		return -1;
	if (fill_sys_cfg(r, r->o.snapshot))
		return fail(r, "cannot fill the syscall table: %s", strerror(errno));
	r->rb = ring_buffer__new(bpf_map__fd(r->skel->maps.events), record_handle_event, r, NULL);
	if (!r->rb)
		return fail(r, "cannot open the ring buffer: %s", strerror(errno));
	return start_trace(r) || trace_pids(r) ? -1 : 0;
}

int recorder_run(struct recorder *r)
{
	if (r->child && trace_pid(r, r->child))
		return fail(r, "cannot trace %s: %s", r->o.cmd[0], strerror(errno));
	release_cmd(r);
	record_loop(r);
	if (record_finish(r))
		return fail(r, "cannot write %s: %s", r->o.out, strerror(errno));
	return 0;
}

void recorder_trigger(struct recorder *r)
{
	r->trigger++;
}

void recorder_stop(struct recorder *r, int sig)
{
	if (!r->stop)
		r->stop_sig = sig;
	r->stop++;
}

/*
 * No new stops, no programs, then SIGCONT what is still stopped; the
 * watchdog's rounds catch a SIGSTOP that lands after our SIGCONT.  They
 * run while we detach the programs, which can take a while.
 */
void recorder_free(struct recorder *r)
{
	__u32 zero = 0;

	if (!r)
		return;
	if (r->w && !r->finished)
		mmr_writer_close(r->w, "status=error\n");
	if (r->o.snapshot && r->skel)
		bpf_map_update_elem(bpf_map__fd(r->skel->maps.hold_ok), &zero, &zero, BPF_ANY);
	watchdog_release(&r->dog);
	for (int i = 0; i < r->nr_links; i++)
		bpf_link__destroy(r->links[i]);
	r->nr_links = 0;
	if (r->o.snapshot && r->skel)
		resume_traced(r);
	watchdog_stop(&r->dog);
	snapshots_close(&r->snaps);
	mmr_cgroup_release(&r->cg, 0);
	if (r->go_fd > 0 && r->child > 0) {	/* never released: do not run it untraced */
		kill(r->child, SIGKILL);
		waitpid(r->child, NULL, 0);
	}
	ring_buffer__free(r->rb);
	if (r->stages)
		munmap(r->stages, r->stages_len);
	mmreplay_bpf__destroy(r->skel);
	for (int k = 0; k < MMR_K_NR; k++)
		free(r->tp_format[k]);
	free(r->pid_cmdlines);
	free(r->meta_text);
	record_flight_reap(r, 1);
	flight_free(&r->fl);
	kmsg_close(&r->kmsg);
	free(r);
}

const char *recorder_error(const struct recorder *r)
{
	return r->err;
}

int recorder_child(const struct recorder *r)
{
	return r->child;
}

const struct record_result *recorder_result(const struct recorder *r)
{
	return &r->res;
}

const struct probe_plan *recorder_plans(const struct recorder *r)
{
	return r->plans;
}
