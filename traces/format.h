/* SPDX-License-Identifier: GPL-2.0 */
/* The check of a trace's format text before libtraceevent parses it. */
#ifndef MMR_FORMAT_H
#define MMR_FORMAT_H

#include <stddef.h>

/*
 * 0 if @text is a format file of the shapes mmreplay knows (traces/format.c
 * lists them), else -1 with why it was refused in @why.
 */
int mmr_format_check(const char *text, char *why, size_t len);

#endif
