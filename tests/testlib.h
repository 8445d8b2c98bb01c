/* SPDX-License-Identifier: GPL-2.0 */
/* Helpers for the tests: running mmreplay, temp files, reading output. */
#ifndef MMR_TESTLIB_H
#define MMR_TESTLIB_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char tmp_dir[256];

static inline const char *tmp_path(const char *name)
{
	static char bufs[8][512];
	static int next;
	char *b = bufs[next++ % 8];

	if (!tmp_dir[0]) {
		snprintf(tmp_dir, sizeof(tmp_dir), "/tmp/mmr-test-XXXXXX");
		if (!mkdtemp(tmp_dir)) {
			perror("mkdtemp");
			exit(2);
		}
	}
	snprintf(b, 512, "%s/%s", tmp_dir, name);
	return b;
}

static inline void tmp_cleanup(void)
{
	char cmd[600];

	if (tmp_dir[0] && !getenv("MMR_KEEP_TMP")) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp_dir);
		if (system(cmd))
			fprintf(stderr, "cannot remove %s\n", tmp_dir);
	}
}

static inline char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long n;

	if (!f)
		return strdup("");
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = calloc(1, n + 1);
	if (fread(buf, 1, n, f) != (size_t)n)
		buf[0] = 0;
	fclose(f);
	return buf;
}

static inline const char *mmreplay_bin(void)
{
	const char *b = getenv("MMREPLAY");

	return b ? b : "./mmreplay";
}

/*
 * Run a shell command line with stdout and stderr to out/err (may be NULL);
 * returns the exit status, or 128+signal.
 */
static inline int run_cmd(const char *out, const char *err, const char *fmt, ...)
{
	char cmd[4096], full[5200];
	va_list ap;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	snprintf(full, sizeof(full), "{ %s ; } >%s 2>%s", cmd, out ? out : "/dev/null",
		 err ? err : "/dev/null");
	st = system(full);
	if (st == -1)
		return -1;
	if (WIFSIGNALED(st))
		return 128 + WTERMSIG(st);
	return WEXITSTATUS(st);
}

static inline int count_lines(const char *s)
{
	int n = 0;

	for (; s && *s; s++)
		n += *s == '\n';
	return n;
}

static inline long file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) ? -1 : st.st_size;
}

#endif
