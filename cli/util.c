// SPDX-License-Identifier: GPL-2.0
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "util.h"

int mmr_verbose;

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

void json_strn(FILE *f, const char *s, size_t n)
{
	fputc('"', f);
	for (size_t i = 0; i < n && s[i]; i++) {
		unsigned char c = s[i];

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c == '\n')
			fputs("\\n", f);
		else if (c == '\t')
			fputs("\\t", f);
		else if (c < 0x20 || c >= 0x7f)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

void json_str(FILE *f, const char *s)
{
	json_strn(f, s ? s : "", (size_t)-1);
}
