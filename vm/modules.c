// SPDX-License-Identifier: GPL-2.0
/*
 * Kernel modules into the initramfs: the named ones and the modules their
 * .modinfo "depends=" names, decompressed, listed in insmod order
 * (dependencies first), so the guest needs neither modprobe nor depmod,
 * and the module tree needs no modules.dep (an unpacked Debian package
 * has none).
 */
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "traces/grow.h"
#include "vm.h"

struct mod {
	char name[64];
	char *path;	/* relative to the module dir */
	int added;
};

struct modset {
	struct mod *m;
	int nr;
	size_t cap;
};

/* "kernel/mm/zsmalloc.ko.xz" -> "zsmalloc"; '-' and '_' are the same in module names */
static void mod_name(const char *path, char *name, size_t len)
{
	const char *base = strrchr(path, '/');

	snprintf(name, len, "%.*s", (int)strcspn(base ? base + 1 : path, "."), base ? base + 1 : path);
	for (char *p = name; *p; p++)
		if (*p == '-')
			*p = '_';
}

static struct modset *walking;
static size_t walk_root;

static int walk_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	struct modset *s = walking;

	if (flag != FTW_F || !strstr(path + ftw->base, ".ko"))
		return 0;
	struct mod *m = mmr_grow(s->m, &s->cap, s->nr + 1, sizeof(*s->m), 64);

	if (!m)
		return -1;	/* ends the walk; read_tree fails */
	s->m = m;
	memset(&s->m[s->nr], 0, sizeof(s->m[0]));
	mod_name(path, s->m[s->nr].name, sizeof(s->m[0].name));
	s->m[s->nr++].path = strdup(path + walk_root);
	return 0;
}

static int read_tree(struct modset *s, const char *moddir)
{
	walking = s;
	walk_root = strlen(moddir) + 1;
	return nftw(moddir, walk_one, 16, FTW_PHYS);
}

static struct mod *find(struct modset *s, const char *name)
{
	char want[64];

	mod_name(name, want, sizeof(want));
	for (int i = 0; i < s->nr; i++)
		if (!strcmp(s->m[i].name, want))
			return &s->m[i];
	return NULL;
}

/* The "depends=a,b" string of the module's .modinfo, or "". */
static void mod_depends(const char *buf, size_t len, char *deps, size_t dlen)
{
	const char *p = memmem(buf, len, "depends=", 8);

	deps[0] = 0;
	if (p)
		snprintf(deps, dlen, "%.*s", (int)strnlen(p + 8, buf + len - p - 8), p + 8);
}

static char *decompressed(const char *path, size_t *len)
{
	static const char *const tools[][2] = { { ".xz", "xz -dc" }, { ".zst", "zstd -qdc" },
						{ ".gz", "gzip -dc" } };
	char cmd[4300];
	size_t l = strlen(path), cap = 0;
	char *buf = NULL, *grown;
	FILE *p = NULL;
	int piped;

	*len = 0;
	for (size_t i = 0; i < 3 && !p; i++) {
		size_t sl = strlen(tools[i][0]);

		if (l > sl && !strcmp(path + l - sl, tools[i][0])) {
			snprintf(cmd, sizeof(cmd), "%s '%s'", tools[i][1], path);
			p = popen(cmd, "r");
		}
	}
	piped = p != NULL;
	if (!p)
		p = fopen(path, "r");
	while (p) {
		size_t n;

		if (!(grown = mmr_grow(buf, &cap, *len + 1, 1, 1 << 20))) {
			*len = 0;	/* out of memory: no file */
			break;
		}
		buf = grown;
		if (!(n = fread(buf + *len, 1, cap - *len, p)))
			break;
		*len += n;
	}
	if (p && piped)
		pclose(p);
	else if (p)
		fclose(p);
	if (!*len) {
		free(buf);
		return NULL;
	}
	return buf;
}

static int add_mod(struct cpio *c, struct modset *s, struct mod *m, const char *moddir,
		   char *order, size_t orderlen, char *err, size_t errlen)
{
	char host[4200], guest[4200], deps[512], *save = NULL;
	struct mod *d;
	size_t len;
	char *buf;
	int n = 0;

	if (m->added)
		return 0;
	m->added = 1;
	snprintf(host, sizeof(host), "%s/%s", moddir, m->path);
	buf = decompressed(host, &len);
	if (!buf) {
		snprintf(err, errlen, "cannot read module %s", host);
		return 0;
	}
	mod_depends(buf, len, deps, sizeof(deps));
	for (char *tok = strtok_r(deps, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		d = find(s, tok);
		if (d)
			n += add_mod(c, s, d, moddir, order, orderlen, err, errlen);
	}
	snprintf(guest, sizeof(guest), "/lib/modules/%s", m->path);
	guest[strstr(guest, ".ko") - guest + 3] = 0;
	cpio_add_data(c, guest, buf, len, 0644);
	free(buf);
	snprintf(order + strlen(order), orderlen - strlen(order), "%s\n", guest);
	return n + 1;
}

int modules_add(struct cpio *c, const char *moddir, const char *const *names, char *order,
		size_t orderlen, char *err, size_t errlen)
{
	struct modset s = {};
	struct mod *m;
	int n = 0;

	order[0] = 0;
	if (read_tree(&s, moddir)) {
		snprintf(err, errlen, "%s: cannot read the module tree", moddir);
		return -1;
	}
	for (int i = 0; names[i]; i++) {
		m = find(&s, names[i]);
		if (m)
			n += add_mod(c, &s, m, moddir, order, orderlen, err, errlen);
	}
	for (int i = 0; i < s.nr; i++)
		free(s.m[i].path);
	free(s.m);
	return n;
}
