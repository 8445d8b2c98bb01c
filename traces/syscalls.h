/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The x86_64 syscalls mmreplay records, spelt once: number, name, which
 * argument is a fd or a path, and what the result is.  `record` fills the
 * BPF syscall table from it; check, replay, diff and show name and match
 * syscalls through it (NR_MMAP, syscall_name(), ...).
 */
#ifndef MMR_SYSCALLS_H
#define MMR_SYSCALLS_H

#define SYS_RESULT_FD 0x1	/* the result is a new fd */
#define SYS_RESULT_ADDR 0x2	/* the result is a mapping address */
#define SYS_PATH_AT_ENTRY 0x4	/* read the path at entry (exec replaces the mm) */
#define SYS_SNAPSHOT 0x8	/* record --snapshot takes a snapshot after it */
#define SYS_NO_EXIT 0x10	/* its result is not recorded (replay's marks: half the cost) */

/* X(NAME, name, number, fd argument, path argument, flags); -1: no such argument */
#define MMR_SYSCALLS(X)                                                        \
	X(OPEN, open, 2, -1, 0, SYS_RESULT_FD)                                 \
	X(CLOSE, close, 3, 0, -1, 0)                                           \
	X(MMAP, mmap, 9, 4, -1, SYS_RESULT_ADDR)                               \
	X(MPROTECT, mprotect, 10, -1, -1, 0)                                   \
	X(MUNMAP, munmap, 11, -1, -1, SYS_SNAPSHOT)                            \
	X(BRK, brk, 12, -1, -1, 0)                                             \
	X(MREMAP, mremap, 25, -1, -1, SYS_RESULT_ADDR | SYS_SNAPSHOT)          \
	X(MSYNC, msync, 26, -1, -1, 0)                                         \
	X(MADVISE, madvise, 28, -1, -1, SYS_SNAPSHOT)                          \
	X(SHMGET, shmget, 29, -1, -1, 0)                                       \
	X(SHMAT, shmat, 30, -1, -1, SYS_RESULT_ADDR)                           \
	X(SHMCTL, shmctl, 31, -1, -1, 0)                                       \
	X(CLONE, clone, 56, -1, -1, 0)                                         \
	X(FORK, fork, 57, -1, -1, 0)                                           \
	X(VFORK, vfork, 58, -1, -1, 0)                                         \
	X(EXECVE, execve, 59, -1, 0, SYS_PATH_AT_ENTRY)                        \
	X(EXIT, exit, 60, -1, -1, 0)                                           \
	X(SHMDT, shmdt, 67, -1, -1, SYS_SNAPSHOT)                              \
	X(TRUNCATE, truncate, 76, -1, 0, SYS_SNAPSHOT)                         \
	X(FTRUNCATE, ftruncate, 77, 0, -1, SYS_SNAPSHOT)                       \
	X(MLOCK, mlock, 149, -1, -1, SYS_SNAPSHOT)                             \
	X(MUNLOCK, munlock, 150, -1, -1, SYS_SNAPSHOT)                         \
	X(MLOCKALL, mlockall, 151, -1, -1, SYS_SNAPSHOT)                       \
	X(PRCTL, prctl, 157, -1, -1, SYS_NO_EXIT)                              \
	X(MUNLOCKALL, munlockall, 152, -1, -1, SYS_SNAPSHOT)                   \
	X(EXIT_GROUP, exit_group, 231, -1, -1, 0)                              \
	X(MIGRATE_PAGES, migrate_pages, 256, -1, -1, 0)                        \
	X(OPENAT, openat, 257, -1, 1, SYS_RESULT_FD)                           \
	X(MOVE_PAGES, move_pages, 279, -1, -1, 0)                              \
	X(FALLOCATE, fallocate, 285, 0, -1, SYS_SNAPSHOT)                      \
	X(MEMFD_CREATE, memfd_create, 319, -1, 0, SYS_RESULT_FD)               \
	X(EXECVEAT, execveat, 322, -1, 1, SYS_PATH_AT_ENTRY)                   \
	X(MLOCK2, mlock2, 325, -1, -1, SYS_SNAPSHOT)                           \
	X(CLONE3, clone3, 435, -1, -1, 0)                                      \
	X(OPENAT2, openat2, 437, -1, 1, SYS_RESULT_FD)                         \
	X(PROCESS_MADVISE, process_madvise, 440, -1, -1, SYS_SNAPSHOT)

enum mmr_syscall_nr {
#define MMR_SYSCALL_NR_(NAME, name, nr, fd, path, flags) NR_##NAME = nr,
	MMR_SYSCALLS(MMR_SYSCALL_NR_)
#undef MMR_SYSCALL_NR_
};

struct syscall_def {
	int nr;
	const char *name;
	int fd_arg;	/* index of a fd argument, or -1 */
	int path_arg;	/* index of a path/name argument, or -1 */
	unsigned int flags;
};

const struct syscall_def *syscall_def(int nr);
const struct syscall_def *syscall_def_at(int i);	/* NULL past the end */
const char *syscall_name(int nr);
int syscall_nr(const char *name);

#endif /* MMR_SYSCALLS_H */
