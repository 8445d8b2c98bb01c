// SPDX-License-Identifier: GPL-2.0
/*
 * What can be known about a kernel image before booting it: its release
 * (from the bzImage header), its config and modules when they lie next to
 * it (tests/kernels/build.sh and Debian packages put them there), and,
 * from a vmlinux with libelf, which functions exist (not inlined) and
 * whether it carries BTF.
 */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "traces/grow.h"
#include "vm.h"

/* Documentation/arch/x86/boot.rst: kernel_version at 0x20e, relative to 0x200 */
static void image_release(const char *image, char *rel, size_t len)
{
	unsigned char hdr[0x210];
	char buf[128];
	int fd = open(image, O_RDONLY);
	unsigned off;

	rel[0] = 0;
	if (fd < 0)
		return;
	if (pread(fd, hdr, sizeof(hdr), 0) == sizeof(hdr) && !memcmp(hdr + 0x202, "HdrS", 4)) {
		off = hdr[0x20e] | hdr[0x20f] << 8;
		if (off && pread(fd, buf, sizeof(buf) - 1, off + 0x200) > 0) {
			buf[sizeof(buf) - 1] = 0;
			buf[strcspn(buf, " ")] = 0;
			snprintf(rel, len, "%s", buf);
		}
	}
	close(fd);
}

static int is_dir(const char *p)
{
	struct stat st;

	return !stat(p, &st) && S_ISDIR(st.st_mode);
}

static int is_file(const char *p)
{
	struct stat st;

	return !stat(p, &st) && S_ISREG(st.st_mode);
}

/* DIR is lib/modules/<rel> itself, or a root holding lib/modules/<rel>, or lib/modules. */
static int find_moddir(struct kimage *k, const char *dir)
{
	char p[4096];

	snprintf(p, sizeof(p), "%s/kernel", dir);
	if (is_dir(p)) {
		snprintf(k->moddir, sizeof(k->moddir), "%s", dir);
		return 0;
	}
	snprintf(p, sizeof(p), "%s/lib/modules/%s", dir, k->release);
	if (!is_dir(p))
		snprintf(p, sizeof(p), "%s/%s", dir, k->release);
	if (k->release[0] && is_dir(p)) {
		snprintf(k->moddir, sizeof(k->moddir), "%s", p);
		return 0;
	}
	return -1;
}

int kimage_inspect(struct kimage *k, const char *image, const char *modules,
		   const char *vmlinux, char *err, size_t errlen)
{
	char copy[4096], *dir;

	memset(k, 0, sizeof(*k));
	if (!is_file(image)) {
		snprintf(err, errlen, "kernel image %s: %s", image,
			 access(image, F_OK) ? strerror(errno) : "not a regular file");
		return -1;
	}
	image_release(image, k->release, sizeof(k->release));
	if (!k->release[0]) {
		snprintf(err, errlen, "%s is not an x86 bzImage (no HdrS boot header)", image);
		return -1;
	}
	snprintf(copy, sizeof(copy), "%s", image);
	dir = dirname(copy);
	if (modules && find_moddir(k, modules)) {
		snprintf(err, errlen, "--modules %s: no modules for %s in it", modules, k->release);
		return -1;
	}
	if (!modules)
		find_moddir(k, dir);
	if (vmlinux && !is_file(vmlinux)) {
		snprintf(err, errlen, "--vmlinux %s: no such file", vmlinux);
		return -1;
	}
	snprintf(k->vmlinux, sizeof(k->vmlinux), "%s/vmlinux", dir);
	if (vmlinux)
		snprintf(k->vmlinux, sizeof(k->vmlinux), "%s", vmlinux);
	else if (!is_file(k->vmlinux))
		k->vmlinux[0] = 0;
	snprintf(k->config, sizeof(k->config), "%s/config", dir);
	if (!is_file(k->config))
		k->config[0] = 0;
	return 0;
}

int kimage_config(const struct kimage *k, const char *name)
{
	char line[512], key[128];
	FILE *f = k->config[0] ? fopen(k->config, "r") : NULL;
	size_t kl;
	int r = 'n';

	if (!f)
		return 0;
	kl = snprintf(key, sizeof(key), "CONFIG_%s=", name);
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, key, kl)) {
			r = line[kl];
			break;
		}
	}
	fclose(f);
	return r;
}

/* ---- vmlinux symbols ------------------------------------------------- */

struct ksyms {
	char **funcs;	/* sorted */
	size_t nr;
	int btf;
};

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void read_symtab(struct ksyms *s, Elf *elf, Elf_Scn *scn, GElf_Shdr *sh)
{
	Elf_Data *d = elf_getdata(scn, NULL);
	size_t n = sh->sh_entsize ? sh->sh_size / sh->sh_entsize : 0, cap = 0;
	GElf_Sym sym;

	for (size_t i = 0; d && i < n; i++) {
		if (!gelf_getsym(d, i, &sym) || GELF_ST_TYPE(sym.st_info) != STT_FUNC)
			continue;
		char **f = mmr_grow(s->funcs, &cap, s->nr + 1, sizeof(*s->funcs), 65536);

		if (!f)
			break;	/* a shorter list: more functions read as missing */
		s->funcs = f;
		s->funcs[s->nr++] = strdup(elf_strptr(elf, sh->sh_link, sym.st_name) ?: "");
	}
}

struct ksyms *ksyms_open(const char *vmlinux, char *err, size_t errlen)
{
	struct ksyms *s = calloc(1, sizeof(*s));
	int fd = open(vmlinux, O_RDONLY);
	Elf_Scn *scn = NULL;
	size_t shstrndx;
	GElf_Shdr sh;
	Elf *elf;

	if (fd < 0 || elf_version(EV_CURRENT) == EV_NONE) {
		snprintf(err, errlen, "%s: %s", vmlinux, strerror(errno));
		goto fail;
	}
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!elf || elf_kind(elf) != ELF_K_ELF || elf_getshdrstrndx(elf, &shstrndx)) {
		snprintf(err, errlen, "%s: not an ELF file (%s)", vmlinux, elf_errmsg(-1));
		if (elf)
			elf_end(elf);
		goto fail;
	}
	while ((scn = elf_nextscn(elf, scn))) {
		const char *name;

		if (!gelf_getshdr(scn, &sh))
			continue;
		name = elf_strptr(elf, shstrndx, sh.sh_name);
		if (name && !strcmp(name, ".BTF"))
			s->btf = 1;
		if (sh.sh_type == SHT_SYMTAB)
			read_symtab(s, elf, scn, &sh);
	}
	elf_end(elf);
	close(fd);
	qsort(s->funcs, s->nr, sizeof(*s->funcs), cmp_str);
	return s;
fail:
	if (fd >= 0)
		close(fd);
	free(s);
	return NULL;
}

int ksyms_has_func(const struct ksyms *s, const char *name)
{
	return bsearch(&name, s->funcs, s->nr, sizeof(*s->funcs), cmp_str) != NULL;
}

int ksyms_has_btf(const struct ksyms *s)
{
	return s->btf;
}

void ksyms_close(struct ksyms *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->nr; i++)
		free(s->funcs[i]);
	free(s->funcs);
	free(s);
}
