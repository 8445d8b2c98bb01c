// SPDX-License-Identifier: GPL-2.0
/*
 * An initramfs written directly as a newc cpio archive (the format the
 * kernel unpacks, Documentation/driver-api/early-userspace/buffer-format.rst),
 * uncompressed: writing it is faster than gzip, and the kernel unpacks it
 * in a blink.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "vm.h"

#define MAX_NAMES 512

struct cpio {
	FILE *f;
	int ino, failed;
	int nr_names;
	char *names[MAX_NAMES];	/* paths already in the archive */
};

struct cpio *cpio_create(const char *path)
{
	struct cpio *c = calloc(1, sizeof(*c));

	if (c)
		c->f = fopen(path, "w");
	if (c && c->f)
		return c;
	free(c);
	return NULL;
}

static int seen(struct cpio *c, const char *name)
{
	for (int i = 0; i < c->nr_names; i++)
		if (!strcmp(c->names[i], name))
			return 1;
	if (c->nr_names < MAX_NAMES)
		c->names[c->nr_names++] = strdup(name);
	return 0;
}

static void pad4(struct cpio *c)
{
	static const char zero[4];
	long pos = ftell(c->f);

	if (pos & 3)
		fwrite(zero, 1, 4 - (pos & 3), c->f);
}

/* One entry: header, name (without the leading '/'), data. */
static void entry(struct cpio *c, const char *name, unsigned mode, const void *data, size_t len)
{
	while (*name == '/')
		name++;
	fprintf(c->f, "070701%08X%08X%08X%08X%08X%08X%08zX%08X%08X%08X%08X%08zX%08X",
		++c->ino, mode, 0, 0, 1, 0, len, 0, 0, 0, 0, strlen(name) + 1, 0);
	fwrite(name, 1, strlen(name) + 1, c->f);
	pad4(c);
	if (len && fwrite(data, 1, len, c->f) != len)
		c->failed = 1;
	pad4(c);
}

int cpio_mkdir(struct cpio *c, const char *dir)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s", dir);
	for (char *p = path + 1; ; p++) {
		if (*p != '/' && *p)
			continue;
		char save = *p;

		*p = 0;
		if (!seen(c, path))
			entry(c, path, S_IFDIR | 0755, NULL, 0);
		if (!save)
			break;
		*p = save;
	}
	return c->failed ? -1 : 0;
}

static void mkparent(struct cpio *c, const char *guest)
{
	char dir[4096];
	char *slash;

	snprintf(dir, sizeof(dir), "%s", guest);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = 0;
		cpio_mkdir(c, dir);
	}
}

int cpio_add_data(struct cpio *c, const char *guest, const void *buf, size_t len, unsigned mode)
{
	mkparent(c, guest);
	if (!seen(c, guest))
		entry(c, guest, S_IFREG | mode, buf, len);
	return c->failed ? -1 : 0;
}

int cpio_symlink(struct cpio *c, const char *guest, const char *target)
{
	mkparent(c, guest);
	if (!seen(c, guest))
		entry(c, guest, S_IFLNK | 0777, target, strlen(target));
	return c->failed ? -1 : 0;
}

static char *slurp(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY);
	struct stat st;
	char *buf = NULL;

	if (fd < 0 || fstat(fd, &st))
		goto out;
	buf = malloc(st.st_size + 1);
	if (buf && read(fd, buf, st.st_size) != st.st_size) {
		free(buf);
		buf = NULL;
	}
	*len = st.st_size;
out:
	if (fd >= 0)
		close(fd);
	return buf;
}

int cpio_add_file(struct cpio *c, const char *guest, const char *host, unsigned mode)
{
	size_t len;
	char *buf = slurp(host, &len);
	int r;

	if (!buf)
		return -1;
	r = cpio_add_data(c, guest, buf, len, mode);
	free(buf);
	return r;
}

/* "libx.so.1 => /lib/x86_64-linux-gnu/libx.so.1 (0x...)" or "/lib64/ld-linux... (0x...)" */
static const char *ldd_path(char *line)
{
	char *p = strstr(line, "=> ");

	p = p ? p + 3 : line + strspn(line, " \t");
	if (*p != '/')
		return NULL;
	p[strcspn(p, " \n")] = 0;
	return p;
}

int cpio_add_elf(struct cpio *c, const char *guest, const char *host, char *err, size_t errlen)
{
	char cmd[4200], line[1024];
	const char *lib;
	FILE *p;

	if (cpio_add_file(c, guest, host, 0755)) {
		snprintf(err, errlen, "cannot read %s: %s", host, strerror(errno));
		return -1;
	}
	snprintf(cmd, sizeof(cmd), "ldd '%s' 2>&1", host);
	p = popen(cmd, "r");
	while (p && fgets(line, sizeof(line), p)) {
		if (strstr(line, "not found")) {
			line[strcspn(line, "\n")] = 0;
			snprintf(err, errlen, "%s needs a library ldd cannot find (%s)", host, line);
			pclose(p);
			return -1;
		}
		lib = ldd_path(line);
		if (lib && cpio_add_file(c, lib, lib, 0755)) {
			snprintf(err, errlen, "cannot read %s: %s", lib, strerror(errno));
			pclose(p);
			return -1;
		}
	}
	if (p)
		pclose(p);
	return 0;
}

int cpio_finish(struct cpio *c)
{
	int failed;

	entry(c, "TRAILER!!!", 0, NULL, 0);
	failed = c->failed | ferror(c->f);
	failed |= fclose(c->f) != 0;
	for (int i = 0; i < c->nr_names; i++)
		free(c->names[i]);
	free(c);
	return failed ? -1 : 0;
}
