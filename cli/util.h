/* SPDX-License-Identifier: GPL-2.0 */
/* Small helpers shared by the subcommands: errors, JSON strings, options. */
#ifndef MMR_UTIL_H
#define MMR_UTIL_H

#include <getopt.h>
#include <stdio.h>
#include "traces/json_writer.h"

#define MMR_EXIT_ERROR 2
#define MMR_EXIT_UNCHECKED 3	/* check: no findings, but some verdicts not checked */

/* Prints "mmreplay: <msg>" on one line to stderr. */
void mmr_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void mmr_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
extern int mmr_verbose;

/*
 * getopt_long wrapper: returns the option, or -1 at the end; on an unknown
 * option or a missing argument prints one error line and returns '?'.
 */
int mmr_getopt(const char *cmd, int argc, char **argv, const char *shortopts,
	       const struct option *longopts);

/*
 * --json: the command's JSON goes through one writer on stdout, made on
 * first use.  mmr_json_mode(1) (main, when the command line asks for JSON)
 * makes mmr_err also keep its first message; mmr_json_end(status) then
 * puts it into the output as {"error": "message"} (or as the open report's
 * "error" member) when the command failed (status MMR_EXIT_ERROR), closes
 * the output and returns status unchanged.
 */
json_writer_t *mmr_json(void);
void mmr_json_mode(int on);
int mmr_json_end(int status);

/*
 * @path opened for writing, gzip-compressed when its name ends in ".gz";
 * fclose() finishes the gzip stream and says whether writing failed.
 */
FILE *mmr_fopen_out(const char *path);

#endif
