/* SPDX-License-Identifier: GPL-2.0 */
/* Helpers for the tests that record on this machine's kernel: BPF and swap. */
#ifndef MMR_RECLIB_H
#define MMR_RECLIB_H

#include "test.h"
#include "testlib.h"

static char no_bpf_reason[512];
static int bpf_checked;

/* Can this machine record at all?  If not, every test here is skipped. */
static inline int need_bpf(void)
{
	const char *err = tmp_path("probe.err");

	if (!bpf_checked) {
		bpf_checked = 1;
		if (geteuid() != 0) {
			snprintf(no_bpf_reason, sizeof(no_bpf_reason), "needs root to load BPF");
		} else if (run_cmd(NULL, err, "%s record -q -o %s -- true", mmreplay_bin(),
				   tmp_path("probe.trace"))) {
			char *e = slurp(err);

			snprintf(no_bpf_reason, sizeof(no_bpf_reason), "cannot record here: %.400s", e);
			no_bpf_reason[strcspn(no_bpf_reason, "\n")] = 0;
			free(e);
		}
	}
	if (no_bpf_reason[0])
		test_skip("%s", no_bpf_reason);
	return !no_bpf_reason[0];
}

/* Turn swap on for a test if there is none; returns the file to remove, or NULL. */
static inline const char *swap_on(int *ok)
{
	static char path[] = "/var/tmp/mmr-test.swap";

	*ok = run_cmd(NULL, NULL, "test -n \"$(swapon --noheadings --show)\"") == 0;
	if (*ok)
		return NULL;
	*ok = run_cmd(NULL, NULL, "rm -f %s && dd if=/dev/zero of=%s bs=1M count=64 && "
		      "chmod 600 %s && mkswap %s && swapon %s", path, path, path, path, path) == 0;
	return path;
}

static inline void swap_off(const char *path)
{
	if (path)
		run_cmd(NULL, NULL, "swapoff %s; rm -f %s", path, path);
}

#endif
