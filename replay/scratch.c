// SPDX-License-Identifier: GPL-2.0
/*
 * The bottom of the replay session: its messages, and the scratch
 * directories made and removed for the local replay (session_local.c) and the
 * QEMU one (session_vm.c) alike.
 */
#include <errno.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "session_int.h"

void replay_say(const struct replay_opts *o, enum replay_say level, const char *fmt, ...)
{
	char msg[4096];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (o->say)
		o->say(level, msg);
	else
		fprintf(stderr, "%s%s\n", level == SAY_NOTE ? "" : level == SAY_WARN ?
			"mmreplay: warning: " : "mmreplay: ", msg);
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

void replay_rmdir(char *dir)
{
	if (dir[0])
		nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	dir[0] = 0;
}

int replay_mkdir(const struct replay_opts *o, const char *prefix, char *dir, size_t len)
{
	const char *parent = o->scratch_parent ?: getenv("TMPDIR") ?: "/var/tmp";

	snprintf(dir, len, "%s/%s-XXXXXX", parent, prefix);
	if (mkdtemp(dir))
		return 0;
	replay_say(o, SAY_ERROR, "replay: cannot create a scratch directory in %s: %s", parent,
		   strerror(errno));
	dir[0] = 0;
	return -1;
}
