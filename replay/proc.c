// SPDX-License-Identifier: GPL-2.0
/*
 * One replayed process: its relocation table (recorded range -> replay
 * address), its fd table (recorded fd -> replay fd), its program break, its
 * threads; and the replay of each mm syscall against them.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include "exec_int.h"

void proc_init(const char *scratch)
{
	pthread_mutex_init(&P.lock, NULL);
	P.nr_reg = P.nr_fds = P.nr_thr = 0;
	atomic_fetch_add(&P.gen, 1);
	P.brk = 0;
	P.hold = -1;
	P.scratch = scratch;
}

void proc_add_thread(pthread_t th)
{
	pthread_mutex_lock(&P.lock);
	if (GROW(P.thr, P.cap_thr, P.nr_thr + 1))
		run_oom();	/* not joined: the run is over anyway */
	else
		P.thr[P.nr_thr++] = th;
	pthread_mutex_unlock(&P.lock);
}

void proc_finish(void)
{
	for (size_t i = 0;; i++) {
		pthread_t th;

		pthread_mutex_lock(&P.lock);
		if (i >= P.nr_thr) {
			pthread_mutex_unlock(&P.lock);
			break;
		}
		th = P.thr[i];
		pthread_mutex_unlock(&P.lock);
		pthread_join(th, NULL);
	}
	_exit(0);
}

static __u64 page_up(__u64 v)
{
	return (v + PL->page_size - 1) & ~(__u64)(PL->page_size - 1);
}

/* ---- relocation ------------------------------------------------------- */

static size_t reg_lower(__u64 addr)	/* first region ending above addr */
{
	size_t lo = 0, hi = P.nr_reg;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (P.reg[mid].end <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static void reg_insert(size_t at, struct region r)
{
	atomic_fetch_add(&P.gen, 1);
	if (GROW(P.reg, P.cap_reg, P.nr_reg + 1)) {
		run_oom();
		return;
	}
	memmove(&P.reg[at + 1], &P.reg[at], (P.nr_reg - at) * sizeof(*P.reg));
	P.reg[at] = r;
	P.nr_reg++;
}

/* Forget [rec, end): trims, splits or drops the regions over it. */
static void reg_cut(__u64 rec, __u64 end)
{
	size_t i = reg_lower(rec);

	atomic_fetch_add(&P.gen, 1);
	while (i < P.nr_reg && P.reg[i].rec < end) {
		struct region *r = &P.reg[i];

		if (r->rec < rec && r->end > end) {
			struct region tail = { end, r->end, r->rep + (end - r->rec) };

			r->end = rec;
			reg_insert(i + 1, tail);
			return;
		}
		if (r->rec < rec) {
			r->end = rec;
			i++;
		} else if (r->end > end) {
			r->rep += end - r->rec;
			r->rec = end;
			return;
		} else {
			memmove(r, r + 1, (P.nr_reg - i - 1) * sizeof(*r));
			P.nr_reg--;
		}
	}
}

static void reg_add(__u64 rec, __u64 len, __u64 rep)
{
	pthread_mutex_lock(&P.lock);
	reg_cut(rec, rec + len);
	reg_insert(reg_lower(rec), (struct region){ rec, rec + len, rep });
	pthread_mutex_unlock(&P.lock);
}

static void reg_forget(__u64 rec, __u64 len)
{
	pthread_mutex_lock(&P.lock);
	reg_cut(rec, rec + len);
	pthread_mutex_unlock(&P.lock);
}

/* The last region a thread hit, valid while the table's generation is unchanged. */
static __thread struct { unsigned gen; struct region r; } hit;

__u64 xlate(__u64 rec)
{
	__u64 rep = 0;
	size_t i;

	if (hit.gen == atomic_load(&P.gen) && hit.r.rec <= rec && rec < hit.r.end)
		return hit.r.rep + (rec - hit.r.rec);
	pthread_mutex_lock(&P.lock);
	i = reg_lower(rec);
	if (i < P.nr_reg && P.reg[i].rec <= rec) {
		rep = P.reg[i].rep + (rec - P.reg[i].rec);
		hit.gen = atomic_load(&P.gen);
		hit.r = P.reg[i];
	}
	pthread_mutex_unlock(&P.lock);
	return rep;
}

/* The replay pieces of a recorded range; parts never mapped here are left out. */
int pieces(__u64 rec, __u64 len, struct piece *out, int max)
{
	__u64 end = rec + len;
	int n = 0;

	pthread_mutex_lock(&P.lock);
	for (size_t i = reg_lower(rec); i < P.nr_reg && P.reg[i].rec < end && n < max; i++) {
		__u64 lo = P.reg[i].rec > rec ? P.reg[i].rec : rec;
		__u64 hi = P.reg[i].end < end ? P.reg[i].end : end;

		out[n++] = (struct piece){ P.reg[i].rep + (lo - P.reg[i].rec), hi - lo };
	}
	pthread_mutex_unlock(&P.lock);
	return n;
}

/* exec: the old mm and everything mapped in it are gone. */
void proc_reset_mm(void)
{
	pthread_mutex_lock(&P.lock);
	for (size_t i = 0; i < P.nr_reg; i++)
		munmap((void *)P.reg[i].rep, P.reg[i].end - P.reg[i].rec);
	P.nr_reg = 0;
	P.brk = 0;
	atomic_fetch_add(&P.gen, 1);
	pthread_mutex_unlock(&P.lock);
}

/* ---- files ------------------------------------------------------------ */

static void standin_path(__u32 file, char *buf, size_t len)
{
	const struct rfile *f = &PL->files[file - 1];

	snprintf(buf, len, "%s/f%u-%llu", P.scratch, f->dev, (unsigned long long)f->ino);
}

/* Grows a stand-in to the recorded size; one that stays short shows up as diverging ops. */
static void grow_file(int fd, __u64 size)
{
	struct stat st;

	if (size && !fstat(fd, &st) && (__u64)st.st_size < size && ftruncate(fd, size))
		return;
}

/* Opens the stand-in of a recorded file, grown to at least size bytes. */
static int standin_open(__u32 file, int acc, __u64 size)
{
	char path[4096];
	int fd;

	standin_path(file, path, sizeof(path));
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	grow_file(fd, size);
	if (acc == O_RDWR)
		return fd;
	close(fd);
	return open(path, acc | O_CLOEXEC);
}

static int fd_find(long rec)
{
	for (size_t i = 0; i < P.nr_fds; i++)
		if (P.fds[i].rec == rec)
			return i;
	return -1;
}

static void fd_put(long rec, int rep, __u32 file)
{
	int i;

	pthread_mutex_lock(&P.lock);
	i = fd_find(rec);
	if (i >= 0) {
		close(P.fds[i].rep);
	} else if (GROW(P.fds, P.cap_fds, P.nr_fds + 1)) {
		run_oom();
		close(rep);
		pthread_mutex_unlock(&P.lock);
		return;
	} else {
		i = P.nr_fds++;
	}
	P.fds[i].rec = rec;
	P.fds[i].rep = rep;
	P.fds[i].file = file;
	pthread_mutex_unlock(&P.lock);
}

/*
 * The replay fd for a recorded fd; a file never opened here opens its
 * stand-in, and for an mmap (mapped: its file is the VMA's, which outranks
 * the open's fd-table read, replay/plan.c) so does one its open named
 * otherwise.
 */
static int fd_of(long rec, __u32 file, __u64 size, int mapped)
{
	int i, rep;

	pthread_mutex_lock(&P.lock);
	i = fd_find(rec);
	rep = i >= 0 ? P.fds[i].rep : -1;
	if (i >= 0 && mapped && file && P.fds[i].file && P.fds[i].file != file)
		rep = -1;
	else if (i >= 0 && P.fds[i].file)
		grow_file(rep, size);
	pthread_mutex_unlock(&P.lock);
	if (rep >= 0 || !file)
		return rep;
	rep = standin_open(file, O_RDWR, size);
	if (rep >= 0)
		fd_put(rec, rep, file);
	return rep;
}

/* ---- syscalls --------------------------------------------------------- */

static long sys(long nr, __u64 a, __u64 b, __u64 c, __u64 d, __u64 e, __u64 f)
{
	long r = syscall(nr, a, b, c, d, e, f);

	return r == -1 ? -errno : r;
}

/* A range syscall (mlock, mprotect, madvise...) on each replay piece of the range. */
static int range_call(__u32 id, const struct rop *o, __u64 a2, __u64 a3)
{
	struct piece pc[64];
	int n = pieces(o->a[0], page_up(o->a[0] + o->a[1]) - o->a[0], pc, 64);
	long r = 0;

	if (!n)
		return -1;
	for (int i = 0; i < n; i++) {
		long ri = sys(o->nr, pc[i].rep, pc[i].len, a2, a3, 0, 0);

		if (ri < 0 && r == 0)
			r = ri;
	}
	note_result(id, o, r);
	return 0;
}

static long map_at(__u64 want, const struct rop *o, int flags, int fd)
{
	__u64 len = page_up(o->a[1]);
	struct piece pc[2];
	long r;

	if ((o->a[3] & MAP_FIXED) && pieces(want, len, pc, 2) == 1 && pc[0].len == len)
		return sys(SYS_mmap, pc[0].rep, len, o->a[2], flags | MAP_FIXED, fd, o->a[5]);
	r = sys(SYS_mmap, want, len, o->a[2], flags | MAP_FIXED_NOREPLACE, fd, o->a[5]);
	if (r < 0)
		r = sys(SYS_mmap, 0, len, o->a[2], flags, fd, o->a[5]);
	return r;
}

static int do_mmap(__u32 id, const struct rop *o)
{
	int flags = o->a[3] & ~(MAP_FIXED | MAP_FIXED_NOREPLACE), fd = -1;
	long r;

	if (o->ret < 0)
		return -1;	/* failed when recorded: nothing to rebuild */
	if (!(o->a[3] & MAP_ANONYMOUS)) {
		fd = fd_of((int)o->a[4], o->file, o->fsize, 1);
		if (fd < 0)
			return -1;
	}
	r = map_at(o->ret, o, flags, fd);
	if (r >= 0)
		reg_add(o->ret, page_up(o->a[1]), r);
	note_result(id, o, r);
	return 0;
}

static int do_munmap(__u32 id, const struct rop *o)
{
	struct piece pc[64];
	__u64 len = page_up(o->a[1]);
	int n = pieces(o->a[0], len, pc, 64);
	long r = 0;

	if (!n)
		return -1;
	for (int i = 0; i < n; i++)
		if (munmap((void *)pc[i].rep, pc[i].len))
			r = -errno;
	reg_forget(o->a[0], len);
	note_result(id, o, r);
	return 0;
}

static int do_mremap(__u32 id, const struct rop *o)
{
	__u64 old = o->a[0], old_len = page_up(o->a[1]), new_len = page_up(o->a[2]);
	int flags = o->a[3], keep = flags & MREMAP_DONTUNMAP;
	__u64 rep_old = xlate(old);
	long r, hold = P.hold;	/* reserved by replay_prepare() */

	P.hold = -1;
	if (o->ret < 0 || !rep_old) {
		if (hold >= 0)
			munmap((void *)hold, new_len);
		return -1;
	}
	if ((__u64)o->ret == old) {
		r = sys(SYS_mremap, rep_old, old_len, new_len, flags & ~MREMAP_FIXED, 0, 0);
		if (r < 0 && !(flags & MREMAP_MAYMOVE))
			r = sys(SYS_mremap, rep_old, old_len, new_len, MREMAP_MAYMOVE, 0, 0);
	} else {
		if (hold >= 0)
			r = sys(SYS_mremap, rep_old, old_len, new_len,
				MREMAP_MAYMOVE | MREMAP_FIXED | keep, hold, 0);
		else
			r = sys(SYS_mremap, rep_old, old_len, new_len, MREMAP_MAYMOVE | keep, 0, 0);
		if (r < 0 && hold >= 0)
			munmap((void *)hold, new_len);
	}
	if (r >= 0) {
		if (!keep)
			reg_forget(old, old_len);
		reg_add(o->ret, new_len, r);
	}
	note_result(id, o, r);
	return 0;
}

/* brk: the heap is replayed as anonymous memory over the recorded break range. */
static int do_brk(__u32 id, const struct rop *o)
{
	__u64 lo, hi;

	if (o->a[0] == 0 || !P.brk) {
		if (o->ret > 0)
			P.brk = o->ret;
		return 0;
	}
	lo = page_up(P.brk), hi = page_up(o->ret);
	if (hi > lo) {
		long r = sys(SYS_mmap, lo, hi - lo, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);

		if (r < 0)
			r = sys(SYS_mmap, 0, hi - lo, PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (r >= 0)
			reg_add(lo, hi - lo, r);
	} else if (hi < lo) {
		struct piece pc[16];
		int n = pieces(hi, lo - hi, pc, 16);

		for (int i = 0; i < n; i++)
			munmap((void *)pc[i].rep, pc[i].len);
		reg_forget(hi, lo - hi);
	}
	P.brk = o->ret;
	return 0;
}

static int open_flags(const struct rop *o)
{
	int f = o->nr == NR_OPEN ? o->a[1] : o->nr == NR_OPENAT ? o->a[2] : O_RDWR;

	return f & O_ACCMODE;
}

static int do_open(__u32 id, const struct rop *o)
{
	int fd;

	if (!o->file)
		return -1;
	fd = standin_open(o->file, open_flags(o), o->fsize);
	if (fd >= 0)
		fd_put(o->ret, fd, o->file);
	note_result(id, o, fd < 0 ? -errno : fd);
	return 0;
}

static int do_close(__u32 id, const struct rop *o)
{
	int i, rep = -1;

	pthread_mutex_lock(&P.lock);
	i = fd_find((int)o->a[0]);
	if (i >= 0) {
		rep = P.fds[i].rep;
		P.fds[i] = P.fds[--P.nr_fds];
	}
	pthread_mutex_unlock(&P.lock);
	if (rep < 0)
		return -1;
	note_result(id, o, close(rep) ? -errno : 0);
	return 0;
}

static int do_fd_call(__u32 id, const struct rop *o)
{
	int fd = fd_of((int)o->a[0], o->file, 0, 0);

	if (fd < 0)
		return -1;
	note_result(id, o, sys(o->nr, fd, o->a[1], o->a[2], o->a[3], 0, 0));
	return 0;
}

static int do_truncate(__u32 id, const struct rop *o)
{
	char path[4096];

	if (!o->file)
		return -1;
	standin_path(o->file, path, sizeof(path));
	note_result(id, o, truncate(path, o->a[1]) ? -errno : 0);
	return 0;
}

/* ---- SysV shm: ids are system-wide, so the table lives in shared memory ---- */

static int shm_find(__s64 rec)
{
	for (int i = 0; i < SH->nr_shm; i++)
		if (SH->shm[i].rec == rec)
			return i;
	return -1;
}

static int do_shmget(__u32 id, const struct rop *o)
{
	long r = 0;

	if (o->ret < 0)
		return -1;
	while (atomic_flag_test_and_set(&SH->shm_lock))
		;
	if (shm_find(o->ret) < 0 && SH->nr_shm < MAX_SHM) {
		r = shmget(IPC_PRIVATE, o->a[1], (o->a[2] & 0777) | IPC_CREAT);
		if (r >= 0)
			SH->shm[SH->nr_shm++] = (typeof(SH->shm[0])){ o->ret, r, o->a[1] };
		else
			r = -errno;
	}
	atomic_flag_clear(&SH->shm_lock);
	note_result(id, o, r);
	return 0;
}

static int do_shmat(__u32 id, const struct rop *o)
{
	int i = shm_find((int)o->a[0]);
	int flg = o->a[2] & SHM_RDONLY;
	void *r;

	if (i < 0 || o->ret < 0)
		return -1;
	r = shmat(SH->shm[i].rep, (void *)o->ret, flg);
	if (r == (void *)-1)
		r = shmat(SH->shm[i].rep, NULL, flg);
	if (r != (void *)-1)
		reg_add(o->ret, page_up(SH->shm[i].size), (__u64)r);
	note_result(id, o, r == (void *)-1 ? -errno : 0);
	return 0;
}

static int do_shmdt(__u32 id, const struct rop *o)
{
	__u64 rep = xlate(o->a[0]);
	size_t i;

	if (!rep)
		return -1;
	note_result(id, o, shmdt((void *)rep) ? -errno : 0);
	pthread_mutex_lock(&P.lock);
	i = reg_lower(o->a[0]);
	if (i < P.nr_reg)
		reg_cut(P.reg[i].rec, P.reg[i].end);
	pthread_mutex_unlock(&P.lock);
	return 0;
}

static int do_shmctl(__u32 id, const struct rop *o)
{
	int i = shm_find((int)o->a[0]);

	if (i < 0)
		return -1;
	if (o->a[1] == IPC_RMID)
		note_result(id, o, shmctl(SH->shm[i].rep, IPC_RMID, NULL) ? -errno : 0);
	return 0;
}

void shm_cleanup(void)
{
	for (int i = 0; i < SH->nr_shm; i++)
		shmctl(SH->shm[i].rep, IPC_RMID, NULL);
	SH->nr_shm = 0;
}

/*
 * What an op needs before its mark, so that its own syscall comes first
 * after it: a stand-in file opened or grown, or the recorded target of a
 * moving mremap reserved.
 */
void replay_prepare(const struct rop *o)
{
	P.hold = -1;
	if (o->nr == NR_MREMAP && o->ret >= 0 && (__u64)o->ret != o->a[0])
		P.hold = sys(SYS_mmap, o->ret, page_up(o->a[2]), PROT_NONE,
			     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	else if (o->nr == NR_MMAP && !(o->a[3] & MAP_ANONYMOUS) && o->ret >= 0)
		fd_of((int)o->a[4], o->file, o->fsize, 1);
	else if (o->nr == NR_FTRUNCATE || o->nr == NR_FALLOCATE)
		fd_of((int)o->a[0], o->file, 0, 0);
}

int replay_syscall(__u32 id, const struct rop *o)
{
	switch (o->nr) {
	case NR_MMAP:
		return do_mmap(id, o);
	case NR_MUNMAP:
		return do_munmap(id, o);
	case NR_BRK:
		return do_brk(id, o);
	case NR_MREMAP:
		return do_mremap(id, o);
	case NR_MPROTECT: case NR_MSYNC: case NR_MLOCK: case NR_MUNLOCK: case NR_MLOCK2:
		return range_call(id, o, o->a[2], 0);
	case NR_MADVISE:	/* never poison or offline pages here */
		return o->a[2] == MADV_HWPOISON || o->a[2] == MADV_SOFT_OFFLINE ? -1 :
		       range_call(id, o, o->a[2], 0);
	case NR_MLOCKALL: case NR_MUNLOCKALL:
		note_result(id, o, sys(o->nr, o->a[0], 0, 0, 0, 0, 0));
		return 0;
	case NR_OPEN: case NR_OPENAT: case NR_OPENAT2:
		return do_open(id, o);
	case NR_CLOSE:
		return do_close(id, o);
	case NR_MEMFD_CREATE: {
		long fd = sys(SYS_memfd_create, (__u64)(PL->strs + o->extra), o->a[1], 0, 0, 0, 0);

		if (fd >= 0 && o->ret >= 0)
			fd_put(o->ret, fd, 0);
		note_result(id, o, fd);
		return 0;
	}
	case NR_FTRUNCATE: case NR_FALLOCATE:
		return do_fd_call(id, o);
	case NR_TRUNCATE:
		return do_truncate(id, o);
	case NR_SHMGET:
		return do_shmget(id, o);
	case NR_SHMAT:
		return do_shmat(id, o);
	case NR_SHMDT:
		return do_shmdt(id, o);
	case NR_SHMCTL:
		return do_shmctl(id, o);
	}
	return -1;
}
