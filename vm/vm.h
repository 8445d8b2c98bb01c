/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vm: boot a kernel image in QEMU with a generated initramfs, run one
 * command there, and bring its /out directory back.  Used by
 * `mmreplay replay --kernel`.
 *
 * vm/ is a bottom layer: it includes nothing of mmreplay's but its own.
 */
#ifndef MMR_VM_H
#define MMR_VM_H

#include <signal.h>
#include <stddef.h>

/* ---- initramfs (newc cpio, uncompressed) ---- */
struct cpio;

struct cpio *cpio_create(const char *path);
/* Adds directories up to and including @dir (mkdir -p). */
int cpio_mkdir(struct cpio *c, const char *dir);
int cpio_add_data(struct cpio *c, const char *guest, const void *buf, size_t len, unsigned mode);
int cpio_add_file(struct cpio *c, const char *guest, const char *host, unsigned mode);
int cpio_symlink(struct cpio *c, const char *guest, const char *target);
/* Copies an ELF executable and the shared libraries ldd lists for it. */
int cpio_add_elf(struct cpio *c, const char *guest, const char *host, char *err, size_t errlen);
/* Writes the trailer and closes; 0 or -1 (an earlier write failed). */
int cpio_finish(struct cpio *c);

/* ---- kernel image facts, read before booting ---- */
struct kimage {
	char release[128];	/* from the bzImage header, or "" */
	char moddir[4096];	/* lib/modules/<release> to take modules from, or "" */
	char vmlinux[4096];	/* ELF image with symbols, or "" */
	char config[4096];	/* the kernel's .config, or "" */
};

/* Fills @k from IMAGE and what lies next to it (or the given paths). */
int kimage_inspect(struct kimage *k, const char *image, const char *modules,
		   const char *vmlinux, char *err, size_t errlen);
/* 'y', 'm' or 'n': CONFIG_@name in the image's config; 0 if there is no config. */
int kimage_config(const struct kimage *k, const char *name);

/* vmlinux symbols: opened once with libelf, looked up by name. */
struct ksyms;
struct ksyms *ksyms_open(const char *vmlinux, char *err, size_t errlen);
int ksyms_has_func(const struct ksyms *s, const char *name);
int ksyms_has_btf(const struct ksyms *s);
void ksyms_close(struct ksyms *s);

/*
 * Modules for swap on zram (and what they need), copied into the
 * initramfs under /lib/modules; @order gets their guest paths, one per
 * line, dependencies first, for insmod.  Returns the number added.
 */
int modules_add(struct cpio *c, const char *moddir, const char *const *names, char *order,
		size_t orderlen, char *err, size_t errlen);

/* ---- QEMU ---- */
enum vm_end { VM_DONE, VM_PANIC, VM_OOPS, VM_TIMEOUT, VM_NO_RESULT, VM_FAILED, VM_STOPPED };

struct vm_opts {
	const char *kernel, *initrd, *console, *accel;	/* accel: kvm or tcg */
	int mem_mb, cpus, numa, timeout_s;
	int icount;		/* TCG -icount shift (deterministic run), or -1 */
	unsigned long long seed;	/* with icount: QEMU's -seed (guest RDRAND) */
	/* set (a signal): kill the guest now, unless on_stop gives it time; 2: a second signal */
	volatile sig_atomic_t *stop;
	void (*tick)(void *ctx);	/* called every 20 ms while QEMU runs (NULL: none) */
	/*
	 * Once *stop is set while QEMU runs: the seconds the guest may take to
	 * end by itself (it was asked to stop, vm_ask_stop()), 0 to kill it
	 * now; called once (NULL: 0).  A second signal (*stop >= 2) or the
	 * time running out kills it then (VM_STOPPED).
	 */
	double (*on_stop)(void *ctx);
	void *tick_ctx;		/* for tick and on_stop */
};

struct vm_result {
	enum vm_end end;
	char accel[8];
	char line[512];		/* the panic/oops line, or why it failed */
	double wall_s;		/* QEMU's wall time */
};

/* Boots the guest; the results are unpacked into @outdir. */
int vm_run(const struct vm_opts *o, const char *outdir, struct vm_result *r);
/*
 * "kvm" if a KVM guest really boots here (probed once, cached), else "tcg".
 * The probe's QEMU is killed once *stop is set (NULL: never); nothing is
 * cached then.
 */
const char *vm_accel(const char *kernel, const char *busybox, const char *tmpdir,
		     volatile sig_atomic_t *stop);
/*
 * Whether this QEMU boots @cpus CPUs under TCG -icount (probed once,
 * cached): QEMU 7.2 hangs bringing up the second CPU.  1 or 0; *stop as
 * for vm_accel() (0 then, not cached).
 */
int vm_icount_works(const char *kernel, const char *busybox, const char *tmpdir, int cpus,
		    volatile sig_atomic_t *stop);
/* In the guest: /out (@dir) into the ivshmem device's memory; 0 or -1 and @err. */
int vm_send(const char *dir, char *err, size_t errlen);
/*
 * The host asks a running guest to stop (an explore's budget ended, or a
 * signal came): a
 * word in the last page of the ivshmem memory, which vm_send() leaves
 * alone.  vm_ask_stop() on the host (0, or -1 without ivshmem);
 * vm_stop_asked() in the guest: 1 once asked.  Under -icount, when the
 * guest sees it is up to the host's timing.
 */
int vm_ask_stop(const struct vm_opts *o);
#define VM_STOP_PAGE 4096
#define VM_STOP_WORD "MMRSTOP\n"
int vm_stop_asked(void);
/* On the host: a complete MMRFILE stream in file @img into @outdir; 0, or -1 if there is none. */
int vm_unpack(const char *img, const char *outdir);
/* Prints the last @n lines of a file to stderr, each after @prefix. */
void vm_print_tail(const char *path, int n, const char *prefix);
/* The console between rulers: @n lines from the first holding @from, else the last @n. */
void vm_console_tail(const char *console, int n, const char *from);
const char *vm_end_name(enum vm_end e);
/* CLOCK_MONOTONIC in seconds */
double vm_now(void);

/* ---- the guest's command and facts (guest.c), as guest-init.sh has them ---- */
/*
 * The command for /mmreplay/args: @argv (NULL-terminated) an argument a
 * line into @buf; its length, or -1 if it does not fit or an argument
 * holds a newline.
 */
int vm_args_write(char *buf, size_t len, const char *const *argv);
/* Each "key=value" line of @outdir/guest to @fact; 0, or -1 if there is no such file. */
typedef void (*vm_fact_fn)(void *ctx, const char *key, const char *value);
int vm_facts_read(const char *outdir, vm_fact_fn fact, void *ctx);

/* The guest's /init (vm/guest-init.sh, linked in). */
extern const char vm_guest_init[];
extern const unsigned int vm_guest_init_len;

#endif
