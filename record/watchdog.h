/* SPDX-License-Identifier: GPL-2.0 */
/*
 * record --snapshot's watchdog: a process that resumes everything the
 * recorder may have stopped, once the recorder is gone (watchdog.c).
 *
 * The forked watchdog execs /proc/self/exe as "mmreplay __watchdog", so
 * that it is not a copy of the recorder (pkill -f "mmreplay record" spares
 * it): the program must answer that command line with watchdog_main().
 */
#ifndef MMR_WATCHDOG_H
#define MMR_WATCHDOG_H

#include <sys/types.h>

struct watchdog {
	pid_t pid;	/* 0: none */
	int fd;		/* write end of its pipe, held by the recorder only */
	int sibling;	/* forked as our parent's child (a shell job) */
	int pidfd;	/* then, to wait for it */
};

/*
 * Fork the watchdog over the traced and hold_ok maps, then set hold_ok:
 * stops are allowed from then on.  Call before attaching any program.
 * Returns 0, or -1 with errno set.
 */
int watchdog_start(struct watchdog *w, int traced_fd, int hold_fd);
/* Start its course, as the recorder's exit would: hold_ok off, SIGCONTs. */
void watchdog_release(struct watchdog *w);
/* Release it, then reap it, or wait for it to end if it is our sibling. */
void watchdog_stop(struct watchdog *w);
/* SIGCONT every process in the traced map. */
void resume_traced_map(int traced_fd);
/*
 * The watchdog process's body, on the fds it was started with (3 its pipe,
 * 4 the traced map, 5 hold_ok).  Returns 0 once it is done, or -1 at once
 * if those fds are not there (not started by a recorder).
 */
int watchdog_main(void);

#endif
