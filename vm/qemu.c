// SPDX-License-Identifier: GPL-2.0
/*
 * Boot a guest with qemu-system-x86_64 and bring back its /out.
 *
 * The guest's /init (vm/guest-init.sh) writes /out as a stream of
 * "MMRFILE <size> <name>\n<bytes>" records closed by "MMREND\n" to the
 * first medium it finds: ivshmem shared memory (vm/send.c), an NVMe or
 * virtio-blk disk, else the second serial port in raw mode.  The host
 * reads whichever holds a complete stream (vm_unpack(), in vm/send.c).  The console is only for people.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include "vm.h"

#define RESULT_DISK_MB 4096
#define KVM_PROBE_S 10
#define ICOUNT_PROBE_S 40	/* a TCG boot takes 2-5 s; QEMU 7.2 never finishes */
#define IVSHMEM_MB 512

double vm_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

const char *vm_end_name(enum vm_end e)
{
	static const char *const names[] = { "done", "kernel panic", "kernel oops", "timeout",
					     "no result", "qemu failed", "interrupted" };

	return names[e];
}

/*
 * Whether to kill the child now that *stop is set: at once without
 * o->on_stop or when it says 0; else once its time is up (*until: then,
 * -1: kill at once, 0: not asked yet) or *stop says a second signal came.
 */
static int stop_now(volatile sig_atomic_t *stop, const struct vm_opts *o, double *until)
{
	double grace;

	if (!stop || !*stop)
		return 0;
	if (!*until) {
		grace = o && o->on_stop ? o->on_stop(o->tick_ctx) : 0;
		*until = grace > 0 ? vm_now() + grace : -1;
	}
	return *until < 0 || *stop >= 2 || vm_now() >= *until;
}

/*
 * Runs argv with output to @log; kills it after @timeout_s (returns -1) or
 * when *stop is set (returns -3; see stop_now()).  o: its tick, if any,
 * while it runs.
 */
static int run_limited(char **argv, const char *log, int timeout_s,
		       volatile sig_atomic_t *stop, double *wall, const struct vm_opts *o)
{
	double t0 = vm_now(), until = 0;
	int status, fd;
	pid_t pid = fork();

	if (pid == 0) {
		fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		dup2(open("/dev/null", O_RDONLY), 0);
		dup2(fd, 1);
		dup2(fd, 2);
		setpgid(0, 0);
		execvp(argv[0], argv);
		dprintf(2, "cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	if (pid < 0)
		return -2;
	for (;;) {
		pid_t r = waitpid(pid, &status, WNOHANG);

		if (r == pid)
			break;
		if (r < 0 && errno != EINTR)
			return -2;
		if (vm_now() - t0 > timeout_s || stop_now(stop, o, &until)) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			*wall = vm_now() - t0;
			return stop && *stop ? -3 : -1;
		}
		if (o && o->tick)
			o->tick(o->tick_ctx);
		usleep(20000);
	}
	*wall = vm_now() - t0;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* ---- accelerator ------------------------------------------------------ */

static void cache_dir(char *buf, size_t len)
{
	const char *c = getenv("MMREPLAY_CACHE");

	if (c)
		snprintf(buf, len, "%s", c);
	else
		snprintf(buf, len, "%s/.cache/mmreplay", getenv("HOME") ?: "/root");
}

/* "<host release> <qemu version>": a new kernel or QEMU probes again */
static void probe_key(char *key, size_t len)
{
	struct utsname u;
	char line[256] = "", *v;
	FILE *p = popen("qemu-system-x86_64 --version 2>/dev/null", "r");

	if (p) {
		if (!fgets(line, sizeof(line), p))
			line[0] = 0;
		pclose(p);
	}
	v = strstr(line, "version ");
	uname(&u);
	snprintf(key, len, "%s %.*s", u.release, v ? (int)strcspn(v + 8, " \n") : 1,
		 v ? v + 8 : "?");
}

/* The value cached in @path for @key ("<key> <value>" lines; the last wins), or NULL */
static const char *cached(const char *path, const char *key)
{
	static char val[8];
	char line[512];
	size_t kl = strlen(key);
	FILE *f = fopen(path, "r");

	val[0] = 0;
	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, key, kl) && line[kl] == ' ')
			snprintf(val, sizeof(val), "%.*s", (int)strcspn(line + kl + 1, "\n"),
				 line + kl + 1);
	if (f)
		fclose(f);
	return val[0] ? val : NULL;
}

static void cache_put(const char *name, const char *key, const char *val)
{
	char dir[4096], path[4200];
	FILE *f;

	cache_dir(dir, sizeof(dir));
	mkdir(dir, 0755);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "a");
	if (f) {
		fprintf(f, "%s %s\n", key, val);
		fclose(f);
	}
}

static const char *cache_get(const char *name, const char *key)
{
	char dir[4096], path[4200];

	cache_dir(dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return cached(path, key);
}

/*
 * Boots @kernel with @accel_args (NULL-terminated) and an initramfs that
 * only says how many CPUs came up; 1 if it says so within @limit_s, 0 if
 * not, -1 if *stop was set first (QEMU killed: no answer to cache).
 */
static int probe_boots(const char *kernel, const char *busybox, const char *tmpdir,
		       const char *const *accel_args, int limit_s, volatile sig_atomic_t *stop)
{
	static const char init[] = "#!/bin/busybox sh\n/bin/busybox echo MMREPLAY-PROBE-OK "
				   "$(/bin/busybox nproc)\n/bin/busybox reboot -f\n";
	char rd[4200], con[4200], log[4200], chardev[4300], line[256];
	char *argv[32];
	struct cpio *c;
	double wall;
	int n = 0, ok = 0;
	FILE *f;

	snprintf(rd, sizeof(rd), "%s/probe.cpio", tmpdir);
	snprintf(con, sizeof(con), "%s/probe.console", tmpdir);
	snprintf(log, sizeof(log), "%s/probe.log", tmpdir);
	snprintf(chardev, sizeof(chardev), "file,id=c0,path=%s", con);
	argv[n++] = "qemu-system-x86_64";
	while (*accel_args && n < 16)
		argv[n++] = (char *)*accel_args++;
	for (const char *const *a = (const char *const[]){ "-m", "256", "-nodefaults",
			"-nographic", "-no-reboot", "-monitor", "none", "-chardev", chardev,
			"-serial", "chardev:c0", "-kernel", kernel, "-initrd", rd, "-append",
			"console=ttyS0 panic=-1", NULL }; *a; a++)
		argv[n++] = (char *)*a;
	argv[n] = NULL;
	c = cpio_create(rd);
	if (!c)
		return 0;
	cpio_add_file(c, "/bin/busybox", busybox, 0755);
	cpio_add_data(c, "/init", init, sizeof(init) - 1, 0755);
	if (cpio_finish(c))
		return 0;
	unlink(con);
	if (run_limited(argv, log, limit_s, stop, &wall, NULL) == -3)
		return -1;
	f = fopen(con, "r");
	while (f && !ok && fgets(line, sizeof(line), f))
		ok = strstr(line, "MMREPLAY-PROBE-OK") != NULL;
	if (f)
		fclose(f);
	return ok;
}

const char *vm_accel(const char *kernel, const char *busybox, const char *tmpdir,
		   volatile sig_atomic_t *stop)
{
	static const char *const kvm[] = { "-accel", "kvm", "-cpu", "host", NULL };
	char key[512];
	const char *a;
	int ok;

	if (access("/dev/kvm", R_OK | W_OK))
		return "tcg";
	probe_key(key, sizeof(key));
	a = cache_get("accel-probe", key);
	if (a)
		return !strcmp(a, "kvm") ? "kvm" : "tcg";
	ok = probe_boots(kernel, busybox, tmpdir, kvm, KVM_PROBE_S, stop);
	if (ok < 0)
		return "tcg";
	a = ok ? "kvm" : "tcg";
	cache_put("accel-probe", key, a);
	return a;
}

int vm_icount_works(const char *kernel, const char *busybox, const char *tmpdir, int cpus,
		    volatile sig_atomic_t *stop)
{
	char key[512], smp[16];
	const char *args[] = { "-accel", "tcg", "-icount", "shift=4,sleep=off", "-smp", smp,
			       NULL };
	const char *v;
	int ok;

	probe_key(key, sizeof(key));
	snprintf(key + strlen(key), sizeof(key) - strlen(key), " smp%d", cpus);
	v = cache_get("icount-probe", key);
	if (v)
		return !strcmp(v, "ok");
	snprintf(smp, sizeof(smp), "%d", cpus);
	ok = probe_boots(kernel, busybox, tmpdir, args, ICOUNT_PROBE_S, stop);
	if (ok < 0)
		return 0;
	cache_put("icount-probe", key, ok ? "ok" : "hangs");
	return ok;
}

/* ---- the console -------------------------------------------------------- */

/* Kernel lines that mean the kernel broke (not the replay's own output). */
static enum vm_end console_end(const char *console, char *what, size_t len)
{
	static const struct { const char *s; enum vm_end e; } marks[] = {
		{ "Kernel panic - not syncing", VM_PANIC }, { "Oops:", VM_OOPS },
		{ "kernel BUG at", VM_OOPS }, { "BUG: ", VM_OOPS },
		{ "general protection fault", VM_OOPS }, { "Unable to handle kernel", VM_OOPS },
		{ "unable to handle page fault", VM_OOPS },
	};
	enum vm_end end = VM_DONE;
	char line[1024];
	FILE *f = fopen(console, "r");

	while (f && end != VM_PANIC && fgets(line, sizeof(line), f)) {
		for (size_t i = 0; i < sizeof(marks) / sizeof(marks[0]); i++) {
			char *p = strstr(line, marks[i].s);

			if (!p || (end == VM_OOPS && marks[i].e == VM_OOPS))
				continue;
			end = marks[i].e;
			snprintf(what, len, "%.*s", (int)strcspn(p, "\r\n"), p);
			break;
		}
	}
	if (f)
		fclose(f);
	return end;
}

/* Drops terminal escapes (SeaBIOS clears the screen) and control bytes. */
static void printable(char *s)
{
	char *d = s;

	for (; *s; s++) {
		if (*s == 0x1b) {	/* ESC [ params letter, or ESC letter */
			s += s[1] == '[' ? 2 + strspn(s + 2, "0123456789;?") : 1;
			if (!*s)
				break;
			continue;
		}
		if ((unsigned char)*s >= 0x20 || *s == '\t')
			*d++ = *s;
	}
	*d = 0;
}

/* Prints lines of @path to stderr: the last @n, or @n from the first holding @from. */
static void print_lines(const char *path, int n, const char *prefix, const char *from)
{
	char *buf = NULL, *p, *hit;
	size_t cap = 0, len;
	FILE *f = fopen(path, "r");
	int lines = 0;

	if (!f)
		return;
	len = getdelim(&buf, &cap, 0, f);	/* the whole file: it has no NUL */
	fclose(f);
	if (len == (size_t)-1) {
		free(buf);
		return;
	}
	hit = from && from[0] ? strstr(buf, from) : NULL;
	if (hit) {
		for (p = hit; p > buf && p[-1] != '\n'; p--)
			;
	} else {
		for (p = buf + len; p > buf && lines <= n; p--)
			lines += p[-1] == '\n';
		p += lines > n;
	}
	lines = 0;
	for (char *l = strtok(p, "\r\n"); l && lines++ < n; l = strtok(NULL, "\r\n")) {
		printable(l);
		fprintf(stderr, "%s%s\n", prefix, l);
	}
	free(buf);
}

void vm_print_tail(const char *path, int n, const char *prefix)
{
	print_lines(path, n, prefix, NULL);
}

void vm_console_tail(const char *console, int n, const char *from)
{
	/* @from is a line console_end() found in this console */
	const char *what = from && from[0] ? "from the first report" : "last";

	fprintf(stderr, "---- guest console, %s %d lines (%s) ----\n", what, n, console);
	print_lines(console, n, "", from);
	fprintf(stderr, "----\n");
}

/* ---- booting ------------------------------------------------------------ */

struct qargs {
	char *v[96];
	int n;
	char buf[24][4400];
	int nb;
};

static void qa(struct qargs *q, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void qa(struct qargs *q, const char *fmt, ...)
{
	va_list ap;
	char *s = q->buf[q->nb++];

	va_start(ap, fmt);
	vsnprintf(s, sizeof(q->buf[0]), fmt, ap);
	va_end(ap);
	q->v[q->n++] = s;
}

static void qs(struct qargs *q, const char *s)
{
	q->v[q->n++] = (char *)s;
}

/* One socket per node, so no core's siblings straddle two nodes. */
static void numa_args(struct qargs *q, const struct vm_opts *o)
{
	int per = o->mem_mb / o->numa;

	qs(q, "-smp");
	if (o->cpus % o->numa)	/* uneven: a socket per CPU */
		qa(q, "%d,sockets=%d,cores=1,threads=1", o->cpus, o->cpus);
	else
		qa(q, "%d,sockets=%d,cores=%d,threads=1", o->cpus, o->numa, o->cpus / o->numa);
	for (int i = 0; i < o->numa; i++) {
		int sz = i == o->numa - 1 ? o->mem_mb - per * i : per;
		int lo = i * o->cpus / o->numa, hi = (i + 1) * o->cpus / o->numa - 1;

		qs(q, "-object");
		qa(q, "memory-backend-ram,id=ram%d,size=%dM", i, sz);
		qs(q, "-numa");
		qa(q, "node,nodeid=%d,memdev=ram%d,cpus=%d-%d", i, i, lo, hi);
	}
}

/*
 * Where /out comes back: ivshmem; NVMe and virtio-blk as well, unless the
 * run is deterministic (QEMU completes disk requests at host-timed moments).
 * The second serial port is always there.  Testing knob:
 * MMREPLAY_VM_TRANSPORT=nvme, virtio or serial attaches only that one.
 */
static void transport_args(struct qargs *q, const struct vm_opts *o, const char *tmp)
{
	const char *t = getenv("MMREPLAY_VM_TRANSPORT");

	if (!t || !strcmp(t, "ivshmem")) {
		qs(q, "-object");
		qa(q, "memory-backend-file,id=mmrout,mem-path=%s/ivshmem.img,size=%dM,share=on",
		   tmp, IVSHMEM_MB);
		qs(q, "-device");
		qs(q, "ivshmem-plain,memdev=mmrout");
	}
	if ((!t && o->icount < 0) || (t && !strcmp(t, "nvme"))) {
		qs(q, "-drive");
		qa(q, "file=%s/nvme.img,if=none,format=raw,id=resn", tmp);
		qs(q, "-device");
		qs(q, "nvme,serial=mmreplay-out,drive=resn");
	}
	if ((!t && o->icount < 0) || (t && !strcmp(t, "virtio"))) {
		qs(q, "-drive");
		qa(q, "file=%s/virtio.img,if=virtio,format=raw", tmp);
	}
}

/*
 * A deterministic guest: time counted in instructions (2^shift ns each,
 * idle time skipped), vCPUs run in turn on one host thread, a fixed RTC
 * and a seeded RDRAND.  The same inputs then give the same run.
 */
static void icount_args(struct qargs *q, const struct vm_opts *o)
{
	qs(q, "-icount");
	qa(q, "shift=%d,sleep=off", o->icount);
	qs(q, "-rtc");
	qs(q, "base=2020-01-01T00:00:00,clock=vm");
	qs(q, "-seed");
	qa(q, "%llu", o->seed % 0x7fffffffffffffffULL);
}

static void build_args(struct qargs *q, const struct vm_opts *o, const char *accel,
		       const char *tmp)
{

	qs(q, "qemu-system-x86_64");
	qs(q, "-accel");
	qs(q, accel);
	qs(q, "-cpu");
	/* TCG's "max" would turn on LA57 (5-level paging), which real hosts rarely have */
	qs(q, !strcmp(accel, "kvm") ? "host" : "max,la57=off");
	qs(q, "-m");
	qa(q, "%dM", o->mem_mb);
	qs(q, "-nodefaults");
	qs(q, "-nographic");
	qs(q, "-no-reboot");
	qs(q, "-monitor");
	qs(q, "none");
	qs(q, "-chardev");
	qa(q, "file,id=con0,path=%s", o->console);
	qs(q, "-serial");
	qs(q, "chardev:con0");
	qs(q, "-chardev");
	qa(q, "file,id=res0,path=%s/serial.bin", tmp);
	qs(q, "-serial");
	qs(q, "chardev:res0");
	qs(q, "-kernel");
	qs(q, o->kernel);
	qs(q, "-initrd");
	qs(q, o->initrd);
	qs(q, "-append");
	/*
	 * random.trust_cpu=on: the CRNG is ready at boot from RDRAND (TCG's
	 * "max" has it; under -icount, -seed makes it repeat).  Without it a
	 * TCG guest ran over 7 s with no CRNG, and until then kmem:rss_stat
	 * gives every mm the id 0 (ptr_to_hashval() fails), so rss changes
	 * made from another task's context were put on the wrong mm.
	 */
	qs(q, "console=ttyS0 panic=-1 rdinit=/init quiet loglevel=4 random.trust_cpu=on");
	transport_args(q, o, tmp);
	if (o->icount >= 0)
		icount_args(q, o);
	if (o->numa > 1) {
		numa_args(q, o);
	} else {
		qs(q, "-smp");
		qa(q, "%d", o->cpus);
	}
	q->v[q->n] = NULL;
}

static int make_disk(const char *tmp, const char *name)
{
	char path[4200];
	int fd, r;

	snprintf(path, sizeof(path), "%s/%s", tmp, name);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		return -1;
	r = ftruncate(fd, (off_t)RESULT_DISK_MB << 20);
	close(fd);
	return r;
}

/* qemu's own complaint, e.g. "could not load kernel" */
static void first_line(const char *log, int rc, char *line, size_t len)
{
	FILE *f = fopen(log, "r");

	snprintf(line, len, "qemu-system-x86_64 exited with %d", rc);
	if (f && fgets(line, len, f))
		line[strcspn(line, "\n")] = 0;
	if (f)
		fclose(f);
}

static void tmp_dir_of(const char *initrd, char *tmp, size_t len)
{
	snprintf(tmp, len, "%s", initrd);
	*strrchr(tmp, '/') = 0;
}

int vm_ask_stop(const struct vm_opts *o)
{
	char tmp[4096], path[4200];
	int fd, ok;

	tmp_dir_of(o->initrd, tmp, sizeof(tmp));
	snprintf(path, sizeof(path), "%s/ivshmem.img", tmp);
	fd = open(path, O_WRONLY);
	if (fd < 0)
		return -1;
	ok = pwrite(fd, VM_STOP_WORD, sizeof(VM_STOP_WORD) - 1,
		    ((off_t)IVSHMEM_MB << 20) - VM_STOP_PAGE) == sizeof(VM_STOP_WORD) - 1;
	close(fd);
	return ok ? 0 : -1;
}

int vm_run(const struct vm_opts *o, const char *outdir, struct vm_result *r)
{
	static const char *const media[] = { "ivshmem.img", "nvme.img", "virtio.img",
					     "serial.bin" };
	char tmp[4096], log[4200], img[4200];
	struct qargs q = {};
	int rc;

	memset(r, 0, sizeof(*r));
	tmp_dir_of(o->initrd, tmp, sizeof(tmp));
	snprintf(r->accel, sizeof(r->accel), "%s", o->accel);
	snprintf(log, sizeof(log), "%s/qemu.log", tmp);
	if (make_disk(tmp, "nvme.img") || make_disk(tmp, "virtio.img")) {
		r->end = VM_FAILED;
		snprintf(r->line, sizeof(r->line), "cannot create the result disks: %s",
			 strerror(errno));
		return -1;
	}
	/* the console of an earlier guest (the same -o) is not this one's: ticks read it at once */
	unlink(o->console);
	build_args(&q, o, o->accel, tmp);
	rc = run_limited(q.v, log, o->timeout_s, o->stop, &r->wall_s, o);
	if (rc == -3) {
		r->end = VM_STOPPED;
		return -1;
	}
	r->end = console_end(o->console, r->line, sizeof(r->line));
	for (int i = 0; i < 4; i++) {
		snprintf(img, sizeof(img), "%s/%s", tmp, media[i]);
		if (!vm_unpack(img, outdir))
			return r->end == VM_DONE ? 0 : -1;
	}
	if (r->end != VM_DONE)
		return -1;
	r->end = rc == -1 ? VM_TIMEOUT : rc ? VM_FAILED : VM_NO_RESULT;
	if (rc == -1)
		snprintf(r->line, sizeof(r->line), "the guest did not finish within %d s",
			 o->timeout_s);
	else if (!rc)
		snprintf(r->line, sizeof(r->line), "the guest powered off without sending results");
	else
		first_line(log, rc, r->line, sizeof(r->line));
	return -1;
}
