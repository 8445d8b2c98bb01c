/* SPDX-License-Identifier: GPL-2.0 */
/* Helpers for the tests that record on this machine's kernel: BPF and swap. */
#ifndef MMR_RECLIB_H
#define MMR_RECLIB_H

#include <errno.h>
#include <linux/bpf.h>
#include <sys/syscall.h>
#include "test.h"
#include "testlib.h"

static char no_bpf_reason[512];
static char record_broken[512];
static int bpf_checked;

/*
 * What recording needs from the machine, each looked at on its own: root,
 * the kernel's BTF, and a bpf() syscall that creates a map.  "" if all are
 * there, else what is missing.
 */
static inline void missing_capability(char *why, size_t len)
{
	union bpf_attr attr;
	int fd;

	why[0] = 0;
	if (geteuid() != 0) {
		snprintf(why, len, "needs root to load BPF");
		return;
	}
	if (access("/sys/kernel/btf/vmlinux", R_OK)) {
		snprintf(why, len, "no kernel BTF (/sys/kernel/btf/vmlinux): CO-RE cannot load");
		return;
	}
	memset(&attr, 0, sizeof(attr));
	attr.map_type = BPF_MAP_TYPE_ARRAY;
	attr.key_size = 4;
	attr.value_size = 4;
	attr.max_entries = 1;
	fd = syscall(__NR_bpf, BPF_MAP_CREATE, &attr, sizeof(attr));
	if (fd < 0) {
		snprintf(why, len, "the kernel refuses bpf(BPF_MAP_CREATE): %s", strerror(errno));
		return;
	}
	close(fd);
}

/*
 * Can this machine record?  A machine that lacks a capability recording
 * needs skips the test, saying which; on one that has them all, a recorder
 * that cannot record `true` fails the test: that is a bug, not a reason.
 */
static inline int need_bpf(void)
{
	const char *err = tmp_path("probe.err");
	int rc;

	if (!bpf_checked) {
		bpf_checked = 1;
		missing_capability(no_bpf_reason, sizeof(no_bpf_reason));
		rc = no_bpf_reason[0] ? 0 : run_cmd(NULL, err, "%s record -q -o %s -- true",
						    mmreplay_bin(), tmp_path("probe.trace"));
		if (rc) {
			char *e = slurp(err);

			snprintf(record_broken, sizeof(record_broken), "exit %d: %.400s", rc, e);
			record_broken[strcspn(record_broken, "\n")] = 0;
			free(e);
		}
	}
	if (no_bpf_reason[0])
		test_skip("%s", no_bpf_reason);
	else if (record_broken[0])
		ASSERT_FAIL_("record -- true", "the recorder fails where BPF works: %s", record_broken);
	return !no_bpf_reason[0] && !record_broken[0];
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

/* Swap on for a test: 0, with *file for swap_off() after; -1 after a skip saying why. */
static inline int swap_or_skip(const char **file)
{
	int ok;

	*file = swap_on(&ok);
	if (ok)
		return 0;
	test_skip("no swap, and swapon of a file failed");
	swap_off(*file);
	return -1;
}

/*
 * A build cached outside the checkout (tests/kernels/build.sh,
 * tests/selftests/build.sh): the folder its last line names, into dir;
 * -1 after a skip where the script's exit 3 says what it needs cannot be
 * had here, or after a failure for anything else (a broken build).
 */
static inline int cached_build(const char *script, const char *what, char *dir, size_t len)
{
	char line[4096];
	FILE *f;
	int rc = run_cmd(tmp_path("build.out"), tmp_path("build.err"), "%s", script);

	if (rc) {
		char *e = slurp(tmp_path("build.err"));

		e[strcspn(e, "\n")] = 0;
		if (rc == 3)
			test_skip("cannot build %s here: %.300s", what, e);
		else
			ASSERT_FAIL_(script, "exit %d: %.300s", rc, e);
		free(e);
		return -1;
	}
	dir[0] = 0;
	f = fopen(tmp_path("build.out"), "r");
	while (f && fgets(line, sizeof(line), f))
		if (line[0] != '\n')
			snprintf(dir, len, "%.*s", (int)strcspn(line, "\n"), line);
	if (f)
		fclose(f);
	return 0;
}

#endif
