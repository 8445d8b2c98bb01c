/* SPDX-License-Identifier: GPL-2.0 */
/*
 * record --flight-recorder: watch the kernel log (/dev/kmsg) for a line
 * that matches one of a few POSIX extended regexes.  Only lines logged
 * after kmsg_open() are read.
 */
#ifndef MMR_KMSG_H
#define MMR_KMSG_H

#include <regex.h>
#include <stddef.h>

#define KMSG_MAX_PATTERNS 16

struct kmsg_watch {
	int fd;			/* -1: not watching */
	int nr;
	regex_t re[KMSG_MAX_PATTERNS];
};

/* The patterns used when none is given. */
extern const char *const kmsg_default_patterns[];

/*
 * Compile @patterns (@n of them; 0: the defaults).  -1 with @err set if
 * one is not a valid regex.
 */
int kmsg_compile(struct kmsg_watch *k, const char *const *patterns, int n, char *err,
		 size_t len);
/* Open /dev/kmsg at its end, non-blocking.  -1: errno set, nothing watched. */
int kmsg_open(struct kmsg_watch *k);
/* Read what was logged since; 1 with the first matching message in @line. */
int kmsg_poll(struct kmsg_watch *k, char *line, size_t len);
void kmsg_close(struct kmsg_watch *k);

#endif
