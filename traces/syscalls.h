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
#define SYS_RESULT_HEX 0x20	/* its result prints in hex (brk's end of the heap) */

/*
 * X(NAME, name, number, fd argument, path argument, flags, (argument types)):
 * -1: no such argument; the types (enum sys_arg below) are the arguments the
 * syscall has, in order, as `show` prints them (traces/sysdecode.h).
 */
/* How an argument prints: a number, an address, or flags/an enum by name. */
enum sys_arg {
	A_NONE,		/* past the last argument */
	A_ADDR,		/* address: hex, 0 as NULL */
	A_HEX,		/* hex */
	A_SIZE,		/* unsigned decimal */
	A_LONG,		/* signed decimal (an offset, a length) */
	A_INT,		/* signed 32-bit decimal (a pid, an id, a status) */
	A_FD,		/* a fd */
	A_DIRFD,	/* a fd or AT_FDCWD */
	A_PATH,		/* a pointer to a string (the string is a sys_path event) */
	A_PROT,		/* PROT_* */
	A_MAP,		/* MAP_* */
	A_MADV,		/* MADV_* */
	A_MREMAP,	/* MREMAP_* */
	A_MSYNC,	/* MS_* */
	A_MLOCK2,	/* MLOCK_* */
	A_MCL,		/* MCL_* */
	A_FALLOC,	/* FALLOC_FL_* */
	A_OPEN,		/* O_* */
	A_MODE,		/* a file mode, octal; only with O_CREAT or O_TMPFILE */
	A_AT,		/* AT_* */
	A_MFD,		/* MFD_* */
	A_CLONE,	/* CLONE_* and the exit signal */
	A_IPC_KEY,	/* a SysV key, or IPC_PRIVATE */
	A_SHMGET,	/* IPC_CREAT, SHM_HUGETLB... and the mode */
	A_SHMAT,	/* SHM_RDONLY... */
	A_SHMCTL,	/* IPC_RMID, SHM_LOCK... */
	A_PRCTL,	/* PR_* */
	A_MPOL_MF,	/* MPOL_MF_* */
};

#define MMR_SYSCALLS(X)                                                        \
	X(OPEN, open, 2, -1, 0, SYS_RESULT_FD,                         \
	  (A_PATH, A_OPEN, A_MODE))                                    \
	X(CLOSE, close, 3, 0, -1, 0,                                   \
	  (A_FD))                                                      \
	X(MMAP, mmap, 9, 4, -1, SYS_RESULT_ADDR,                       \
	  (A_ADDR, A_SIZE, A_PROT, A_MAP, A_FD, A_LONG))               \
	X(MPROTECT, mprotect, 10, -1, -1, 0,                           \
	  (A_ADDR, A_SIZE, A_PROT))                                    \
	X(MUNMAP, munmap, 11, -1, -1, SYS_SNAPSHOT,                    \
	  (A_ADDR, A_SIZE))                                            \
	X(BRK, brk, 12, -1, -1, SYS_RESULT_HEX,                               \
	  (A_ADDR))                                                    \
	X(MREMAP, mremap, 25, -1, -1, SYS_RESULT_ADDR | SYS_SNAPSHOT,  \
	  (A_ADDR, A_SIZE, A_SIZE, A_MREMAP, A_ADDR))                  \
	X(MSYNC, msync, 26, -1, -1, 0,                                 \
	  (A_ADDR, A_SIZE, A_MSYNC))                                   \
	X(MADVISE, madvise, 28, -1, -1, SYS_SNAPSHOT,                  \
	  (A_ADDR, A_SIZE, A_MADV))                                    \
	X(SHMGET, shmget, 29, -1, -1, 0,                               \
	  (A_IPC_KEY, A_SIZE, A_SHMGET))                               \
	X(SHMAT, shmat, 30, -1, -1, SYS_RESULT_ADDR,                   \
	  (A_INT, A_ADDR, A_SHMAT))                                    \
	X(SHMCTL, shmctl, 31, -1, -1, 0,                               \
	  (A_INT, A_SHMCTL, A_ADDR))                                   \
	X(CLONE, clone, 56, -1, -1, 0,                                 \
	  (A_CLONE, A_ADDR, A_ADDR, A_ADDR, A_HEX))                    \
	X(FORK, fork, 57, -1, -1, 0,                                   \
	  ())                                                          \
	X(VFORK, vfork, 58, -1, -1, 0,                                 \
	  ())                                                          \
	X(EXECVE, execve, 59, -1, 0, SYS_PATH_AT_ENTRY,                \
	  (A_PATH, A_ADDR, A_ADDR))                                    \
	X(EXIT, exit, 60, -1, -1, 0,                                   \
	  (A_INT))                                                     \
	X(SHMDT, shmdt, 67, -1, -1, SYS_SNAPSHOT,                      \
	  (A_ADDR))                                                    \
	X(TRUNCATE, truncate, 76, -1, 0, SYS_SNAPSHOT,                 \
	  (A_PATH, A_LONG))                                            \
	X(FTRUNCATE, ftruncate, 77, 0, -1, SYS_SNAPSHOT,               \
	  (A_FD, A_LONG))                                              \
	X(MLOCK, mlock, 149, -1, -1, SYS_SNAPSHOT,                     \
	  (A_ADDR, A_SIZE))                                            \
	X(MUNLOCK, munlock, 150, -1, -1, SYS_SNAPSHOT,                 \
	  (A_ADDR, A_SIZE))                                            \
	X(MLOCKALL, mlockall, 151, -1, -1, SYS_SNAPSHOT,               \
	  (A_MCL))                                                     \
	X(PRCTL, prctl, 157, -1, -1, SYS_NO_EXIT,                      \
	  (A_PRCTL, A_HEX, A_HEX, A_HEX, A_HEX))                       \
	X(MUNLOCKALL, munlockall, 152, -1, -1, SYS_SNAPSHOT,           \
	  ())                                                          \
	X(EXIT_GROUP, exit_group, 231, -1, -1, 0,                      \
	  (A_INT))                                                     \
	X(MIGRATE_PAGES, migrate_pages, 256, -1, -1, 0,                \
	  (A_INT, A_SIZE, A_ADDR, A_ADDR))                             \
	X(OPENAT, openat, 257, -1, 1, SYS_RESULT_FD,                   \
	  (A_DIRFD, A_PATH, A_OPEN, A_MODE))                           \
	X(MOVE_PAGES, move_pages, 279, -1, -1, 0,                      \
	  (A_INT, A_SIZE, A_ADDR, A_ADDR, A_ADDR, A_MPOL_MF))          \
	X(FALLOCATE, fallocate, 285, 0, -1, SYS_SNAPSHOT,              \
	  (A_FD, A_FALLOC, A_LONG, A_LONG))                            \
	X(MEMFD_CREATE, memfd_create, 319, -1, 0, SYS_RESULT_FD,       \
	  (A_PATH, A_MFD))                                             \
	X(EXECVEAT, execveat, 322, -1, 1, SYS_PATH_AT_ENTRY,           \
	  (A_DIRFD, A_PATH, A_ADDR, A_ADDR, A_AT))                     \
	X(MLOCK2, mlock2, 325, -1, -1, SYS_SNAPSHOT,                   \
	  (A_ADDR, A_SIZE, A_MLOCK2))                                  \
	X(CLONE3, clone3, 435, -1, -1, 0,                              \
	  (A_ADDR, A_SIZE))                                            \
	X(OPENAT2, openat2, 437, -1, 1, SYS_RESULT_FD,                 \
	  (A_DIRFD, A_PATH, A_ADDR, A_SIZE))                           \
	X(PROCESS_MADVISE, process_madvise, 440, -1, -1, SYS_SNAPSHOT,              \
	  (A_FD, A_ADDR, A_SIZE, A_MADV, A_HEX))

enum mmr_syscall_nr {
#define MMR_SYSCALL_NR_(NAME, name, nr, fd, path, flags, args) NR_##NAME = nr,
	MMR_SYSCALLS(MMR_SYSCALL_NR_)
#undef MMR_SYSCALL_NR_
};

struct syscall_def {
	int nr;
	const char *name;
	int fd_arg;	/* index of a fd argument, or -1 */
	int path_arg;	/* index of a path/name argument, or -1 */
	unsigned int flags;
	unsigned char args[6];	/* enum sys_arg, A_NONE past the last */
};

const struct syscall_def *syscall_def(int nr);
const struct syscall_def *syscall_def_at(int i);	/* NULL past the end */
const char *syscall_name(int nr);
int syscall_nr(const char *name);

#endif /* MMR_SYSCALLS_H */
