// SPDX-License-Identifier: GPL-2.0
/*
 * The replay's scratch directories, made and removed for the local replay
 * (cmd_replay.c) and the QEMU one (replay_vm.c) alike.
 */
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli/replay_cli.h"
#include "cli/util.h"

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
	mmr_err("replay: cannot create a scratch directory in %s: %s", parent, strerror(errno));
	dir[0] = 0;
	return -1;
}
