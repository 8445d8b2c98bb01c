// SPDX-License-Identifier: GPL-2.0
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include "util.h"

int mmr_verbose;

static json_writer_t *json_out;
static int json_mode;
static char json_err[1024];

static void vmsg(const char *prefix, const char *fmt, va_list ap)
{
	fprintf(stderr, "mmreplay: %s", prefix);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void mmr_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg("", fmt, ap);
	va_end(ap);
	if (json_mode && !json_err[0]) {
		va_start(ap, fmt);
		vsnprintf(json_err, sizeof(json_err), fmt, ap);
		va_end(ap);
	}
}

void mmr_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg("warning: ", fmt, ap);
	va_end(ap);
}

int mmr_getopt(const char *cmd, int argc, char **argv, const char *shortopts,
	       const struct option *longopts)
{
	char opts[128];
	int c;

	/* Leading ':' reports a missing argument as ':' instead of '?'. */
	snprintf(opts, sizeof(opts), "+:%s", shortopts);
	opterr = 0;
	/* -v/--verbose is global: taken after the subcommand too, as perf does */
	while ((c = getopt_long(argc, argv, opts, longopts, NULL)) == '?' &&
	       !strchr(shortopts, 'v') &&
	       (optopt == 'v' || (!optopt && !strcmp(argv[optind - 1], "--verbose"))))
		mmr_verbose++;
	if (c == '?') {
		if (optopt)
			mmr_err("%s: unknown option '-%c' (see mmreplay %s --help)", cmd, optopt, cmd);
		else
			mmr_err("%s: unknown option '%s' (see mmreplay %s --help)", cmd,
				argv[optind - 1], cmd);
	} else if (c == ':') {
		mmr_err("%s: option '%s' needs an argument", cmd, argv[optind - 1]);
		c = '?';
	}
	return c;
}

json_writer_t *mmr_json(void)
{
	if (!json_out) {
		json_out = jsonw_new(stdout);
		if (!json_out) {
			fputs("mmreplay: out of memory\n", stderr);
			exit(MMR_EXIT_ERROR);
		}
		jsonw_hold_top(json_out);	/* an error after the report goes inside it */
	}
	return json_out;
}

void mmr_json_mode(int on)
{
	json_mode = on;
}

int mmr_json_end(int status)
{
	/* 1 is a verdict (findings, traces that differ), not a failure */
	if (status == MMR_EXIT_ERROR && json_mode && json_err[0])
		jsonw_error(mmr_json(), json_err);
	jsonw_destroy(&json_out);
	return status;
}

static ssize_t gz_write(void *gz, const char *buf, size_t n)
{
	int r = n ? gzwrite(gz, buf, (unsigned int)n) : 0;

	return r > 0 || !n ? r : -1;
}

static int gz_close(void *gz)
{
	return gzclose(gz) == Z_OK ? 0 : -1;
}

FILE *mmr_fopen_out(const char *path)
{
	static const cookie_io_functions_t io = { .write = gz_write, .close = gz_close };
	size_t len = strlen(path);
	gzFile gz;
	FILE *f;

	if (len < 3 || strcmp(path + len - 3, ".gz"))
		return fopen(path, "w");
	gz = gzopen(path, "wb");
	if (!gz)
		return NULL;
	f = fopencookie(gz, "w", io);
	if (!f)
		gzclose(gz);
	return f;
}
