// SPDX-License-Identifier: GPL-2.0
/*
 * Syscall arguments by name, as strace prints them.  The values are x86_64
 * Linux's, spelt here rather than taken from this machine's headers, which
 * may be older than the kernel that was traced.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "syscalls.h"
#include "sysdecode.h"

struct sym {
	unsigned long long val;
	const char *name;
};

#define END { 0, NULL }

static const struct sym prot_syms[] = {
	{ 0x1, "PROT_READ" }, { 0x2, "PROT_WRITE" }, { 0x4, "PROT_EXEC" }, { 0x8, "PROT_SEM" },
	{ 0x01000000, "PROT_GROWSDOWN" }, { 0x02000000, "PROT_GROWSUP" }, END
};

static const struct sym map_type_syms[] = {
	{ 0x1, "MAP_SHARED" }, { 0x2, "MAP_PRIVATE" }, { 0x3, "MAP_SHARED_VALIDATE" }, END
};

static const struct sym map_syms[] = {
	{ 0x10, "MAP_FIXED" }, { 0x20, "MAP_ANONYMOUS" }, { 0x40, "MAP_32BIT" },
	{ 0x100, "MAP_GROWSDOWN" }, { 0x800, "MAP_DENYWRITE" }, { 0x1000, "MAP_EXECUTABLE" },
	{ 0x2000, "MAP_LOCKED" }, { 0x4000, "MAP_NORESERVE" }, { 0x8000, "MAP_POPULATE" },
	{ 0x10000, "MAP_NONBLOCK" }, { 0x20000, "MAP_STACK" }, { 0x40000, "MAP_HUGETLB" },
	{ 0x80000, "MAP_SYNC" }, { 0x100000, "MAP_FIXED_NOREPLACE" },
	{ 0x4000000, "MAP_UNINITIALIZED" }, END
};

static const struct sym madv_syms[] = {
	{ 0, "MADV_NORMAL" }, { 1, "MADV_RANDOM" }, { 2, "MADV_SEQUENTIAL" },
	{ 3, "MADV_WILLNEED" }, { 4, "MADV_DONTNEED" }, { 8, "MADV_FREE" }, { 9, "MADV_REMOVE" },
	{ 10, "MADV_DONTFORK" }, { 11, "MADV_DOFORK" }, { 12, "MADV_MERGEABLE" },
	{ 13, "MADV_UNMERGEABLE" }, { 14, "MADV_HUGEPAGE" }, { 15, "MADV_NOHUGEPAGE" },
	{ 16, "MADV_DONTDUMP" }, { 17, "MADV_DODUMP" }, { 18, "MADV_WIPEONFORK" },
	{ 19, "MADV_KEEPONFORK" }, { 20, "MADV_COLD" }, { 21, "MADV_PAGEOUT" },
	{ 22, "MADV_POPULATE_READ" }, { 23, "MADV_POPULATE_WRITE" },
	{ 24, "MADV_DONTNEED_LOCKED" }, { 25, "MADV_COLLAPSE" }, { 100, "MADV_HWPOISON" },
	{ 101, "MADV_SOFT_OFFLINE" }, { 102, "MADV_GUARD_INSTALL" }, { 103, "MADV_GUARD_REMOVE" },
	END
};

#define MREMAP_FIXED_ 0x2

static const struct sym mremap_syms[] = {
	{ 0x1, "MREMAP_MAYMOVE" }, { MREMAP_FIXED_, "MREMAP_FIXED" }, { 0x4, "MREMAP_DONTUNMAP" }, END
};

static const struct sym msync_syms[] = {
	{ 0x1, "MS_ASYNC" }, { 0x2, "MS_INVALIDATE" }, { 0x4, "MS_SYNC" }, END
};

static const struct sym mlock2_syms[] = { { 0x1, "MLOCK_ONFAULT" }, END };

static const struct sym mcl_syms[] = {
	{ 0x1, "MCL_CURRENT" }, { 0x2, "MCL_FUTURE" }, { 0x4, "MCL_ONFAULT" }, END
};

static const struct sym falloc_syms[] = {
	{ 0x1, "FALLOC_FL_KEEP_SIZE" }, { 0x2, "FALLOC_FL_PUNCH_HOLE" },
	{ 0x4, "FALLOC_FL_NO_HIDE_STALE" }, { 0x8, "FALLOC_FL_COLLAPSE_RANGE" },
	{ 0x10, "FALLOC_FL_ZERO_RANGE" }, { 0x20, "FALLOC_FL_INSERT_RANGE" },
	{ 0x40, "FALLOC_FL_UNSHARE_RANGE" }, { 0x80, "FALLOC_FL_WRITE_ZEROES" }, END
};

static const struct sym open_acc_syms[] = {
	{ 0, "O_RDONLY" }, { 1, "O_WRONLY" }, { 2, "O_RDWR" }, END
};

#define O_CREAT_ 0100
#define O_TMPFILE_BIT 020000000

static const struct sym open_syms[] = {	/* composite flags first */
	{ 020200000, "O_TMPFILE" }, { 04010000, "O_SYNC" }, { O_CREAT_, "O_CREAT" },
	{ 0200, "O_EXCL" }, { 0400, "O_NOCTTY" }, { 01000, "O_TRUNC" }, { 02000, "O_APPEND" },
	{ 04000, "O_NONBLOCK" }, { 010000, "O_DSYNC" }, { 020000, "O_ASYNC" },
	{ 040000, "O_DIRECT" }, { 0100000, "O_LARGEFILE" }, { 0200000, "O_DIRECTORY" },
	{ 0400000, "O_NOFOLLOW" }, { 01000000, "O_NOATIME" }, { 02000000, "O_CLOEXEC" },
	{ 010000000, "O_PATH" }, END
};

static const struct sym at_syms[] = {
	{ 0x100, "AT_SYMLINK_NOFOLLOW" }, { 0x400, "AT_SYMLINK_FOLLOW" },
	{ 0x800, "AT_NO_AUTOMOUNT" }, { 0x1000, "AT_EMPTY_PATH" }, END
};

static const struct sym mfd_syms[] = {
	{ 0x1, "MFD_CLOEXEC" }, { 0x2, "MFD_ALLOW_SEALING" }, { 0x4, "MFD_HUGETLB" },
	{ 0x8, "MFD_NOEXEC_SEAL" }, { 0x10, "MFD_EXEC" }, END
};

static const struct sym clone_syms[] = {
	{ 0x100, "CLONE_VM" }, { 0x200, "CLONE_FS" }, { 0x400, "CLONE_FILES" },
	{ 0x800, "CLONE_SIGHAND" }, { 0x1000, "CLONE_PIDFD" }, { 0x2000, "CLONE_PTRACE" },
	{ 0x4000, "CLONE_VFORK" }, { 0x8000, "CLONE_PARENT" }, { 0x10000, "CLONE_THREAD" },
	{ 0x20000, "CLONE_NEWNS" }, { 0x40000, "CLONE_SYSVSEM" }, { 0x80000, "CLONE_SETTLS" },
	{ 0x100000, "CLONE_PARENT_SETTID" }, { 0x200000, "CLONE_CHILD_CLEARTID" },
	{ 0x400000, "CLONE_DETACHED" }, { 0x800000, "CLONE_UNTRACED" },
	{ 0x1000000, "CLONE_CHILD_SETTID" }, { 0x2000000, "CLONE_NEWCGROUP" },
	{ 0x4000000, "CLONE_NEWUTS" }, { 0x8000000, "CLONE_NEWIPC" },
	{ 0x10000000, "CLONE_NEWUSER" }, { 0x20000000, "CLONE_NEWPID" },
	{ 0x40000000, "CLONE_NEWNET" }, { 0x80000000ULL, "CLONE_IO" }, END
};

static const struct sym shmget_syms[] = {
	{ 01000, "IPC_CREAT" }, { 02000, "IPC_EXCL" }, { 04000, "SHM_HUGETLB" },
	{ 010000, "SHM_NORESERVE" }, END
};

static const struct sym shmat_syms[] = {
	{ 010000, "SHM_RDONLY" }, { 020000, "SHM_RND" }, { 040000, "SHM_REMAP" },
	{ 0100000, "SHM_EXEC" }, END
};

static const struct sym shmctl_syms[] = {
	{ 0, "IPC_RMID" }, { 1, "IPC_SET" }, { 2, "IPC_STAT" }, { 3, "IPC_INFO" },
	{ 11, "SHM_LOCK" }, { 12, "SHM_UNLOCK" }, { 13, "SHM_STAT" }, { 14, "SHM_INFO" },
	{ 15, "SHM_STAT_ANY" }, END
};

static const struct sym prctl_syms[] = {
	{ 1, "PR_SET_PDEATHSIG" }, { 4, "PR_SET_DUMPABLE" }, { 15, "PR_SET_NAME" },
	{ 16, "PR_GET_NAME" }, { 29, "PR_SET_TIMERSLACK" }, { 35, "PR_SET_MM" },
	{ 36, "PR_SET_CHILD_SUBREAPER" }, { 38, "PR_SET_NO_NEW_PRIVS" },
	{ 41, "PR_SET_THP_DISABLE" }, { 42, "PR_GET_THP_DISABLE" },
	{ 67, "PR_SET_MEMORY_MERGE" }, { 68, "PR_GET_MEMORY_MERGE" },
	{ 0x53564d41, "PR_SET_VMA" }, END
};

static const struct sym mpol_mf_syms[] = {
	{ 0x1, "MPOL_MF_STRICT" }, { 0x2, "MPOL_MF_MOVE" }, { 0x4, "MPOL_MF_MOVE_ALL" }, END
};

/* Text appended to a buffer, cut at its end. */
struct txt {
	char *s;
	size_t len, n;
};

static void put(struct txt *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct txt *t, const char *fmt, ...)
{
	va_list ap;
	int r;

	if (t->n >= t->len)
		return;
	va_start(ap, fmt);
	r = vsnprintf(t->s + t->n, t->len - t->n, fmt, ap);
	va_end(ap);
	t->n = r < 0 ? t->len : t->n + r;
}

static const char *sym_name(const struct sym *s, unsigned long long v)
{
	for (; s->name; s++)
		if (s->val == v)
			return s->name;
	return NULL;
}

/* An enum: its name, or the number. */
static void put_enum(struct txt *t, const struct sym *s, unsigned long long v)
{
	const char *name = sym_name(s, v);

	if (name)
		put(t, "%s", name);
	else
		put(t, "%lld", (long long)v);
}

/* Flags: names joined by '|', unknown bits in hex; @zero when there are none. */
static void put_flags(struct txt *t, const struct sym *s, unsigned long long v, const char *zero)
{
	size_t start = t->n;

	for (; s->name; s++)
		if (s->val && (v & s->val) == s->val) {
			put(t, "%s%s", t->n > start ? "|" : "", s->name);
			v &= ~s->val;
		}
	if (v)
		put(t, "%s%#llx", t->n > start ? "|" : "", v);
	else if (t->n == start)
		put(t, "%s", zero);
}

/* MAP_*: the mapping type, the flags, and with MAP_HUGETLB the page size (bits 26-31). */
static void put_map(struct txt *t, unsigned long long v)
{
	unsigned int huge = v & 0x40000 ? (v >> 26) & 0x3f : 0;

	put_enum(t, map_type_syms, v & 0xf);
	if (huge)
		v &= ~(0x3fULL << 26);
	if (v & ~0xfULL) {
		put(t, "|");
		put_flags(t, map_syms, v & ~0xfULL, "");
	}
	if (huge == 21 || huge == 30)
		put(t, "|MAP_HUGE_%s", huge == 21 ? "2MB" : "1GB");
	else if (huge)
		put(t, "|%u<<MAP_HUGE_SHIFT", huge);
}

static void put_open(struct txt *t, unsigned long long v)
{
	put_enum(t, open_acc_syms, v & 3);
	if (v & ~3ULL) {
		put(t, "|");
		put_flags(t, open_syms, v & ~3ULL, "");
	}
}

/* CLONE_* and the exit signal in the low byte (SIGCHLD). */
static void put_clone(struct txt *t, unsigned long long v)
{
	unsigned int sig = v & 0xff;
	const char *abbrev = sig ? sigabbrev_np(sig) : NULL;

	put_flags(t, clone_syms, v & ~0xffULL, sig ? "" : "0");
	if (sig)
		put(t, "%s%s%s", v & ~0xffULL ? "|" : "", abbrev ? "SIG" : "", abbrev ?: "");
	if (sig && !abbrev)
		put(t, "%u", sig);
}

/* IPC_CREAT... and the permission bits, as strace prints shmget's flags. */
static void put_shmget(struct txt *t, unsigned long long v)
{
	put_flags(t, shmget_syms, v & ~0777ULL, "");
	put(t, "%s%#llo", v & ~0777ULL ? "|" : "", v & 0777);
}

static void put_shmctl(struct txt *t, unsigned long long v)
{
	if (v & 0x100)
		put(t, "IPC_64|");
	put_enum(t, shmctl_syms, v & ~0x100ULL);
}

static void put_flags_arg(struct txt *t, int type, unsigned long long v)
{
	switch (type) {
	case A_PROT: put_flags(t, prot_syms, v, "PROT_NONE"); break;
	case A_MAP: put_map(t, v); break;
	case A_MADV: put_enum(t, madv_syms, v); break;
	case A_MREMAP: put_flags(t, mremap_syms, v, "0"); break;
	case A_MSYNC: put_flags(t, msync_syms, v, "0"); break;
	case A_MLOCK2: put_flags(t, mlock2_syms, v, "0"); break;
	case A_MCL: put_flags(t, mcl_syms, v, "0"); break;
	case A_FALLOC: put_flags(t, falloc_syms, v, "0"); break;
	case A_OPEN: put_open(t, v); break;
	case A_AT: put_flags(t, at_syms, v, "0"); break;
	case A_MFD: put_flags(t, mfd_syms, v, "0"); break;
	case A_CLONE: put_clone(t, v); break;
	case A_SHMGET: put_shmget(t, v); break;
	case A_SHMAT: put_flags(t, shmat_syms, v, "0"); break;
	case A_SHMCTL: put_shmctl(t, v); break;
	case A_PRCTL: put_enum(t, prctl_syms, v); break;
	case A_IPC_KEY: put(t, "%#llx", v); break;
	case A_MPOL_MF: put_flags(t, mpol_mf_syms, v, "0"); break;
	default: put(t, "%#llx", v); break;
	}
}

/* A number: an address (NULL for 0), a size, a fd... */
static int put_number(struct txt *t, int type, unsigned long long v)
{
	switch (type) {
	case A_ADDR:
	case A_PATH:
		if (v)
			put(t, "%#llx", v);
		else
			put(t, "NULL");
		return 1;
	case A_HEX: put(t, "%#llx", v); return 1;
	case A_SIZE: put(t, "%llu", v); return 1;
	case A_LONG: put(t, "%lld", (long long)v); return 1;
	case A_INT:
	case A_FD: put(t, "%d", (int)v); return 1;
	case A_MODE: put(t, "%#llo", v); return 1;
	}
	return 0;
}

static void put_arg(struct txt *t, int type, unsigned long long v)
{
	if (put_number(t, type, v))
		return;
	if (type == A_DIRFD && (int)v == -100)
		put(t, "AT_FDCWD");
	else if (type == A_DIRFD)
		put(t, "%d", (int)v);
	else if (type == A_IPC_KEY && !v)
		put(t, "IPC_PRIVATE");
	else
		put_flags_arg(t, type, v);
}

/* The syscall's argument types; NULL for one not in the table. */
static const unsigned char *arg_types(int nr)
{
	const struct syscall_def *d = syscall_def(nr);

	return d ? d->args : NULL;
}

int sys_arg_count(int nr, const __u64 args[6])
{
	const unsigned char *types = arg_types(nr);
	int n = 0;

	if (!types)
		return 6;
	while (n < 6 && types[n] != A_NONE)
		n++;
	if (n >= 2 && types[n - 1] == A_MODE && types[n - 2] == A_OPEN &&
	    !(args[n - 2] & (O_CREAT_ | O_TMPFILE_BIT)))
		n--;	/* the mode is read only when a file may be created */
	if (n >= 2 && types[n - 2] == A_MREMAP && !(args[n - 2] & MREMAP_FIXED_))
		n--;	/* the new address, only with MREMAP_FIXED */
	return n;
}

void sys_arg_text(int nr, const __u64 args[6], int i, char *buf, size_t len)
{
	const unsigned char *types = arg_types(nr);
	struct txt t = { buf, len, 0 };

	if (!len)
		return;
	buf[0] = 0;
	if (i < 0 || i >= 6)
		return;
	put_arg(&t, types ? types[i] : A_HEX, args[i]);
}

void sys_call_text(int nr, const __u64 args[6], char *buf, size_t len)
{
	const char *name = syscall_name(nr);
	int n = sys_arg_count(nr, args);
	struct txt t = { buf, len, 0 };
	char arg[256];

	if (!len)
		return;
	buf[0] = 0;
	if (name)
		put(&t, "%s(", name);
	else
		put(&t, "syscall_%d(", nr);
	for (int i = 0; i < n; i++) {
		sys_arg_text(nr, args, i, arg, sizeof(arg));
		put(&t, "%s%s", i ? ", " : "", arg);
	}
	put(&t, ")");
}

const char *sys_errno_name(int err)
{
	return err > 0 && err < 4096 ? strerrorname_np(err) : NULL;
}

void sys_ret_text(int nr, long long ret, char *buf, size_t len)
{
	const struct syscall_def *d = syscall_def(nr);
	const char *name = ret < 0 && ret > -4096 ? sys_errno_name((int)-ret) : NULL;

	if (name)
		snprintf(buf, len, "-%s", name);
	else if (ret >= 0 && d && (d->flags & (SYS_RESULT_ADDR | SYS_RESULT_HEX)))
		snprintf(buf, len, "%#llx", (unsigned long long)ret);
	else
		snprintf(buf, len, "%lld", ret);
}
