// SPDX-License-Identifier: GPL-2.0
/*
 * record --snapshot's watchdog: whatever ends the recorder, SIGKILL at
 * any moment included, the processes it traced are resumed.
 *
 * The BPF side stops a traced process at the exit of a snapshot syscall,
 * and the recorder sends SIGCONT once it has read /proc.  A recorder that
 * dies in between would leave the process stopped for good, and its
 * parent waiting.  So record forks this watchdog before it attaches any
 * program.  The watchdog keeps the fds of the traced and hold_ok maps and
 * the read end of a pipe whose write end only the recorder holds, and
 * blocks reading it.  The kernel closes that end when the recorder exits,
 * however it exits; on EOF the watchdog
 *
 *   1. clears hold_ok: from then on, no BPF program starts a stop;
 *   2. sends SIGCONT to every traced process, every ROUND_MS for
 *      DRAIN_MS, then exits.
 *
 * Step 2 resumes the stops that were on their way when hold_ok was
 * cleared: a program that read hold_ok = 1 queues its SIGSTOP right after
 * (bpf_send_signal() sends it at once, or from an irq_work on the same
 * CPU when called with preemption off), and the task stops on its way
 * back to user mode, which may take a while on a loaded machine.  A SIGCONT sent after
 * a SIGSTOP is queued cancels it or ends the stop; one sent before is
 * lost, hence rounds rather than one SIGCONT.  hold_ok, not the links,
 * is what ends the stops: a SIGKILLed recorder took about 0.5 s to be
 * reaped here, and its programs may still run after its pipe closed.
 *
 * A killed recorder must not get its command killed either.  When the
 * recorder runs as a shell job (its parent in another process group of
 * the same session), its death orphans its process group, which holds
 * the command: were a process of the group stopped at that moment, the
 * kernel would send the group SIGHUP, then SIGCONT (POSIX job control),
 * and SIGHUP kills a command that does not handle it.  The recorder can
 * finish dying before the watchdog's first round: with a sibling
 * watchdog disabled, test_record_snapshot_sigkill saw the SIGHUP within
 * its first few kills for each of 6 seeds.  So then
 * the watchdog is forked with CLONE_PARENT: a sibling of the recorder,
 * whose parent, outside the group, keeps the group from being orphaned
 * until the watchdog has resumed everything and exits.  That parent is
 * a shell, which reaps children it does not know; otherwise the
 * watchdog stays our own child, for the recorder to reap.
 *
 * The watchdog cannot be stranded or left behind: it keeps only those
 * three fds (not the recorder's terminal or pipes, nor the command's "go"
 * pipe), ignores the signals a terminal sends a job, runs as `mmreplay
 * __watchdog` (named mmr-watchdog) rather than as a copy of the recorder
 * that kills aimed at the recorder would match, and exits DRAIN_MS after
 * the recorder.  Forked before any program is attached, by a
 * recorder that is not traced, it never enters the traced set or the
 * trace.  A recorder that exits normally does the same as a killed one,
 * then waits for it to end.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "watchdog.h"

#define ROUND_MS 5
#define DRAIN_MS 200

void resume_traced_map(int traced_fd)
{
	__u32 key, next;

	for (int more = !bpf_map_get_next_key(traced_fd, NULL, &key); more;
	     more = !bpf_map_get_next_key(traced_fd, &key, &next), key = next)
		kill(key, SIGCONT);
}

/* Keep @fds[0..n) as fds 3.., stdio on /dev/null, nothing else open. */
static int keep_fds(int *fds, int n)
{
	int null;

	for (int i = 0; i < n; i++) {
		fds[i] = fcntl(fds[i], F_DUPFD, 3 + n);
		if (fds[i] < 0)
			return -1;
	}
	for (int i = 0; i < n; i++)
		if (dup2(fds[i], 3 + i) < 0)
			return -1;
	close_range(3 + n, ~0U, 0);
	null = open("/dev/null", O_RDWR);
	if (null < 0)
		return -1;
	for (int i = 0; i < 3; i++)
		dup2(null, i);
	close(null);
	return 0;
}

static void ignore_job_signals(void)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGTSTP, SIGTTIN,
				    SIGTTOU, SIGPIPE, SIGUSR1, SIGUSR2 };
	sigset_t all;

	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		signal(sigs[i], SIG_IGN);
	sigemptyset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
}

/* The watchdog proper, on the fds keep_fds() left: 3 pipe, 4 traced, 5 hold_ok. */
static void watch(void)
{
	struct timespec round = { 0, ROUND_MS * 1000000L }, t0, t;
	__u32 zero = 0;
	ssize_t n;
	char c;

	prctl(PR_SET_NAME, "mmr-watchdog");
	while ((n = read(3, &c, 1)) > 0 || (n < 0 && errno == EINTR))
		;
	bpf_map_update_elem(5, &zero, &zero, BPF_ANY);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		resume_traced_map(4);
		nanosleep(&round, NULL);
		clock_gettime(CLOCK_MONOTONIC, &t);
	} while ((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000 < DRAIN_MS);
}

int watchdog_main(void)
{
	if (fcntl(3, F_GETFD) < 0 || fcntl(4, F_GETFD) < 0 || fcntl(5, F_GETFD) < 0)
		return -1;	/* not started by a recorder */
	watch();
	return 0;
}

/*
 * In the forked child.  It execs this binary as `mmreplay __watchdog`:
 * that drops the recorder's memory, and gives the watchdog a command
 * line of its own, so that `pkill -f "mmreplay record"` does not kill it
 * with the recorder it is there for.  If the exec fails, it watches as is.
 */
static void __attribute__((noreturn)) start_child(int pipe_fd, int traced_fd, int hold_fd)
{
	char *argv[] = { "mmreplay", "__watchdog", NULL };
	int fds[3] = { pipe_fd, traced_fd, hold_fd };

	ignore_job_signals();	/* ignored signals stay ignored across exec */
	if (keep_fds(fds, 3))
		_exit(1);	/* then the recorder runs without a watchdog */
	execv("/proc/self/exe", argv);
	watch();
	_exit(0);
}

/* Would our death orphan our process group?  Then SIGHUP can follow. */
static int shell_job(void)
{
	pid_t parent = getppid();

	return getpgid(parent) != getpgrp() && getsid(parent) == getsid(0);
}

int watchdog_start(struct watchdog *w, int traced_fd, int hold_fd)
{
	__u32 zero = 0, one = 1;
	sigset_t all, old;
	int p[2], err;

	w->pid = 0;
	w->fd = w->pidfd = -1;
	w->sibling = shell_job();
	if (pipe2(p, O_CLOEXEC))
		return -1;
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, &old);	/* no Ctrl-C before it ignores it */
	w->pid = syscall(SYS_clone, (w->sibling ? CLONE_PARENT : 0) | SIGCHLD, 0, NULL, NULL, 0);
	if (w->pid == 0)
		start_child(p[0], traced_fd, hold_fd);
	err = errno;
	sigprocmask(SIG_SETMASK, &old, NULL);
	close(p[0]);
	if (w->pid < 0) {
		close(p[1]);
		w->pid = 0;
		errno = err;
		return -1;
	}
	w->fd = p[1];
	w->pidfd = w->sibling ? syscall(SYS_pidfd_open, w->pid, 0) : -1;
	if (bpf_map_update_elem(hold_fd, &zero, &one, BPF_ANY)) {
		err = errno;
		watchdog_stop(w);
		errno = err;
		return -1;
	}
	return 0;
}

void watchdog_release(struct watchdog *w)
{
	if (w->fd >= 0)
		close(w->fd);
	w->fd = -1;
}

void watchdog_stop(struct watchdog *w)
{
	struct pollfd pfd = { .fd = w->pidfd, .events = POLLIN };

	watchdog_release(w);
	if (w->sibling) {	/* our parent reaps it */
		while (w->pidfd >= 0 && poll(&pfd, 1, -1) < 0 && errno == EINTR)
			;
		if (w->pidfd >= 0)
			close(w->pidfd);
		w->pidfd = -1;
	} else {
		while (w->pid > 0 && waitpid(w->pid, NULL, 0) < 0 && errno == EINTR)
			;
	}
	w->pid = 0;
}
