// SPDX-License-Identifier: GPL-2.0
/*
 * The MMRFILE stream that brings the guest's /out back: "MMRFILE <size>
 * <name>\n<bytes>" records closed by "MMREND\n".  The writer (in the
 * guest; guest-init.sh writes the same to a disk or a serial port) and the
 * host's reader, side by side.
 *
 * In the guest, vm_send() writes it into the shared memory of QEMU's
 * ivshmem-plain device, whose backing file the host reads after the guest
 * powers off.  Plain memory stores, so unlike a disk (whose requests QEMU
 * completes on host threads, at host-timed moments) it leaves a guest run
 * under -icount deterministic; it is also the fastest way out.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include "vm.h"

#define IVSHMEM_VENDOR 0x1af4
#define IVSHMEM_DEVICE 0x1110

static unsigned read_hex(const char *dev, const char *attr)
{
	char path[512];
	unsigned v = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/%s", dev, attr);
	f = fopen(path, "r");
	if (f && fscanf(f, "%x", &v) != 1)
		v = 0;
	if (f)
		fclose(f);
	return v;
}

/* The ivshmem device's shared-memory BAR (resource2), or "" */
static void find_bar(char *path, size_t len)
{
	DIR *d = opendir("/sys/bus/pci/devices");
	struct dirent *e;

	path[0] = 0;
	while (d && (e = readdir(d)))
		if (read_hex(e->d_name, "vendor") == IVSHMEM_VENDOR &&
		    read_hex(e->d_name, "device") == IVSHMEM_DEVICE)
			snprintf(path, len, "/sys/bus/pci/devices/%s/resource2", e->d_name);
	if (d)
		closedir(d);
}

int vm_stop_asked(void)
{
	static const char *page;
	static int tried;
	char bar[512];
	struct stat st;
	void *m;
	int fd;

	if (!tried) {
		tried = 1;
		find_bar(bar, sizeof(bar));
		fd = bar[0] ? open(bar, O_RDONLY | O_SYNC) : -1;
		if (fd >= 0 && !fstat(fd, &st) && st.st_size > VM_STOP_PAGE) {
			m = mmap(NULL, VM_STOP_PAGE, PROT_READ, MAP_SHARED, fd,
				 st.st_size - VM_STOP_PAGE);
			page = m == MAP_FAILED ? NULL : m;
		}
		if (fd >= 0)
			close(fd);
	}
	return page && !memcmp((const void *)page, VM_STOP_WORD, sizeof(VM_STOP_WORD) - 1);
}

static int put(char *mem, size_t size, size_t *at, const void *buf, size_t n)
{
	if (n > size - *at)
		return -1;
	memcpy(mem + *at, buf, n);
	*at += n;
	return 0;
}

static int put_file(char *mem, size_t size, size_t *at, const char *dir, const char *name)
{
	char path[4400], head[512];
	struct stat st;
	ssize_t n = 0;
	int fd, ok;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_RDONLY);
	if (fd < 0 || fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		if (fd >= 0)
			close(fd);
		return 0;	/* not a regular file: not sent */
	}
	snprintf(head, sizeof(head), "MMRFILE %lld %s\n", (long long)st.st_size, name);
	ok = !put(mem, size, at, head, strlen(head)) && (size_t)st.st_size <= size - *at;
	while (ok && (n = read(fd, mem + *at, size - *at)) > 0)
		*at += n;
	close(fd);
	return ok && n == 0 ? 0 : -1;
}

int vm_send(const char *dir, char *err, size_t errlen)
{
	char bar[512];
	struct dirent *e;
	struct stat st;
	size_t at = 0;
	char *mem;
	DIR *d;
	int fd, ret = 0;

	find_bar(bar, sizeof(bar));
	fd = bar[0] ? open(bar, O_RDWR | O_SYNC) : -1;
	if (fd < 0 || fstat(fd, &st)) {
		snprintf(err, errlen, "no ivshmem device%s%s", bar[0] ? ": " : "",
			 bar[0] ? strerror(errno) : "");
		return -1;
	}
	mem = mmap(NULL, st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	d = opendir(dir);
	if (mem == MAP_FAILED || !d) {
		snprintf(err, errlen, "%s: %s", mem == MAP_FAILED ? bar : dir, strerror(errno));
		if (d)
			closedir(d);
		return -1;
	}
	st.st_size -= VM_STOP_PAGE;	/* the host's stop word */
	while (!ret && (e = readdir(d)))
		if (e->d_name[0] != '.')
			ret = put_file(mem, st.st_size, &at, dir, e->d_name);
	closedir(d);
	if (!ret)
		ret = put(mem, st.st_size, &at, "MMREND\n", 7);
	st.st_size += VM_STOP_PAGE;	/* all of it unmapped */
	if (ret)
		snprintf(err, errlen, "%s does not fit in the %lld MiB of shared memory", dir,
			 (long long)st.st_size >> 20);
	munmap(mem, st.st_size);
	return ret ? -1 : 0;
}

/* ---- the host's reader ---------------------------------------------- */

static int copy_out(FILE *in, const char *path, long long size)
{
	char buf[65536];
	FILE *out = fopen(path, "w");

	while (out && size > 0) {
		size_t n = fread(buf, 1, size < (long long)sizeof(buf) ? (size_t)size : sizeof(buf), in);

		if (!n || fwrite(buf, 1, n, out) != n)
			break;
		size -= n;
	}
	if (out)
		fclose(out);
	return out && !size ? 0 : -1;
}

/* Unpacks a complete MMRFILE stream; 0, or -1 if there is none. */
int vm_unpack(const char *img, const char *outdir)
{
	char line[512], name[256], path[4400];
	long long size;
	FILE *f = fopen(img, "r");
	int ok = -1;

	while (f && fgets(line, sizeof(line), f)) {
		if (!strcmp(line, "MMREND\n")) {
			ok = 0;
			break;
		}
		if (sscanf(line, "MMRFILE %lld %255s", &size, name) != 2 || strchr(name, '/'))
			break;
		snprintf(path, sizeof(path), "%s/%s", outdir, name);
		if (copy_out(f, path, size))
			break;
	}
	if (f)
		fclose(f);
	return ok;
}
