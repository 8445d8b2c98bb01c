// SPDX-License-Identifier: GPL-2.0
/*
 * The two small files between the host and the guest's /init
 * (guest-init.sh), beside the script that reads and writes them: the
 * command, /mmreplay/args, an argument a line (`while IFS= read -r a`);
 * and the guest's facts, /out/guest, "key=value" a line (its `fact`).
 */
#include <stdio.h>
#include <string.h>
#include "vm.h"

int vm_args_write(char *buf, size_t len, const char *const *argv)
{
	size_t n = 0;

	for (; *argv; argv++) {
		size_t l = strlen(*argv);

		if (strchr(*argv, '\n') || n + l + 2 > len)
			return -1;
		memcpy(buf + n, *argv, l);
		buf[n + l] = '\n';
		n += l + 1;
	}
	if (len)
		buf[n] = 0;
	return n;
}

int vm_facts_read(const char *outdir, vm_fact_fn fact, void *ctx)
{
	char path[4400], line[256], *eq;
	FILE *f;

	snprintf(path, sizeof(path), "%s/guest", outdir);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = 0;
		eq = strchr(line, '=');
		if (!eq)
			continue;
		*eq++ = 0;
		fact(ctx, line, eq);
	}
	fclose(f);
	return 0;
}
