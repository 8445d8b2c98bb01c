// SPDX-License-Identifier: GPL-2.0
/* The kernel log watch of record --flight-recorder (kmsg.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "kmsg.h"

const char *const kmsg_default_patterns[] = {
	"Bad rss-counter state", "BUG:", "WARNING:.*mm/", NULL,
};

int kmsg_compile(struct kmsg_watch *k, const char *const *patterns, int n, char *err,
		 size_t len)
{
	k->fd = -1;
	k->nr = 0;
	if (!n) {
		patterns = (const char *const *)kmsg_default_patterns;
		while (patterns[n])
			n++;
	}
	if (n > KMSG_MAX_PATTERNS) {
		snprintf(err, len, "at most %d --trigger-kmsg patterns", KMSG_MAX_PATTERNS);
		return -1;
	}
	for (int i = 0; i < n; i++) {
		char why[128];
		int rc = regcomp(&k->re[i], patterns[i], REG_EXTENDED | REG_NOSUB);

		if (rc) {
			regerror(rc, &k->re[i], why, sizeof(why));
			snprintf(err, len, "--trigger-kmsg '%s': %s", patterns[i], why);
			kmsg_close(k);
			return -1;
		}
		k->nr++;
	}
	return 0;
}

int kmsg_open(struct kmsg_watch *k)
{
	k->fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (k->fd < 0)
		return -1;
	/* only what is logged from now on: the log before is not this run's */
	if (lseek(k->fd, 0, SEEK_END) < 0) {
		close(k->fd);
		k->fd = -1;
		return -1;
	}
	return 0;
}

/* "pri,seq,usec,flags[,...];message\n" then " KEY=value" lines: the message alone. */
static int matches(struct kmsg_watch *k, char *rec, char *line, size_t len)
{
	char *msg = strchr(rec, ';');

	if (!msg)
		return 0;
	msg++;
	msg[strcspn(msg, "\n")] = 0;
	for (int i = 0; i < k->nr; i++) {
		if (!regexec(&k->re[i], msg, 0, NULL, 0)) {
			snprintf(line, len, "%s", msg);
			return 1;
		}
	}
	return 0;
}

int kmsg_poll(struct kmsg_watch *k, char *line, size_t len)
{
	char rec[8192];

	while (k->fd >= 0) {
		ssize_t n = read(k->fd, rec, sizeof(rec) - 1);

		if (n < 0 && errno == EPIPE)
			continue;	/* overwritten before we read it: go on */
		if (n <= 0)
			return 0;	/* EAGAIN: nothing more for now */
		rec[n] = 0;
		if (matches(k, rec, line, len))
			return 1;
	}
	return 0;
}

void kmsg_close(struct kmsg_watch *k)
{
	if (k->fd >= 0)
		close(k->fd);
	k->fd = -1;
	for (int i = 0; i < k->nr; i++)
		regfree(&k->re[i]);
	k->nr = 0;
}
