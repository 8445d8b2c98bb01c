// SPDX-License-Identifier: GPL-2.0
/*
 * Boot a guest with qemu-system-x86_64 and bring back its /out.
 *
 * The guest's /init (vm/guest-init.sh) writes /out as a stream of
 * "MMRFILE <size> <name>\n<bytes>" records closed by "MMREND\n" to the
 * first disk it finds: NVMe, then virtio-blk, else the second serial
 * port in raw mode.  All three are attached; the host reads whichever
 * holds a complete stream.  The console is only for people.
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
 * Runs argv with output to @log; kills it after @timeout_s (returns -1) or
 * when *stop is set (returns -3).
 */
static int run_limited(char **argv, const char *log, int timeout_s,
		       volatile sig_atomic_t *stop, double *wall)
{
	double t0 = vm_now();
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
		if (vm_now() - t0 > timeout_s || (stop && *stop)) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			*wall = vm_now() - t0;
			return stop && *stop ? -3 : -1;
		}
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

static const char *cached_accel(const char *path, const char *key)
{
	static char accel[8];
	char line[512];
	size_t kl = strlen(key);
	FILE *f = fopen(path, "r");

	accel[0] = 0;
	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, key, kl) && line[kl] == ' ')
			snprintf(accel, sizeof(accel), "%.*s", (int)strcspn(line + kl + 1, "\n"),
				 line + kl + 1);
	if (f)
		fclose(f);
	return accel[0] ? accel : NULL;
}

/* Boots @kernel under KVM with an initramfs that only says hello. */
static int kvm_boots(const char *kernel, const char *busybox, const char *tmpdir)
{
	static const char init[] = "#!/bin/busybox sh\n/bin/busybox echo MMREPLAY-KVM-PROBE-OK\n"
				   "/bin/busybox reboot -f\n";
	char rd[4200], con[4200], log[4200], chardev[4300], line[256];
	char *argv[] = { "qemu-system-x86_64", "-accel", "kvm", "-cpu", "host", "-m", "256",
			 "-nodefaults", "-nographic", "-no-reboot", "-monitor", "none",
			 "-chardev", chardev, "-serial", "chardev:c0", "-kernel", (char *)kernel,
			 "-initrd", rd, "-append", "console=ttyS0 panic=-1", NULL };
	struct cpio *c;
	double wall;
	int ok = 0;
	FILE *f;

	snprintf(rd, sizeof(rd), "%s/kvm-probe.cpio", tmpdir);
	snprintf(con, sizeof(con), "%s/kvm-probe.console", tmpdir);
	snprintf(log, sizeof(log), "%s/kvm-probe.log", tmpdir);
	snprintf(chardev, sizeof(chardev), "file,id=c0,path=%s", con);
	c = cpio_create(rd);
	if (!c)
		return 0;
	cpio_add_file(c, "/bin/busybox", busybox, 0755);
	cpio_add_data(c, "/init", init, sizeof(init) - 1, 0755);
	if (cpio_finish(c))
		return 0;
	run_limited(argv, log, KVM_PROBE_S, NULL, &wall);
	f = fopen(con, "r");
	while (f && !ok && fgets(line, sizeof(line), f))
		ok = strstr(line, "MMREPLAY-KVM-PROBE-OK") != NULL;
	if (f)
		fclose(f);
	return ok;
}

const char *vm_accel(const char *kernel, const char *busybox, const char *tmpdir)
{
	char dir[4096], path[4200], key[512];
	const char *a;
	FILE *f;

	if (access("/dev/kvm", R_OK | W_OK))
		return "tcg";
	cache_dir(dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/accel-probe", dir);
	probe_key(key, sizeof(key));
	a = cached_accel(path, key);
	if (a)
		return !strcmp(a, "kvm") ? "kvm" : "tcg";
	a = kvm_boots(kernel, busybox, tmpdir) ? "kvm" : "tcg";
	mkdir(dir, 0755);
	f = fopen(path, "a");
	if (f) {
		fprintf(f, "%s %s\n", key, a);
		fclose(f);
	}
	return a;
}

/* ---- results ------------------------------------------------------------ */

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
static int unpack(const char *img, const char *outdir)
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
	char buf[16][4400];
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

static void build_args(struct qargs *q, const struct vm_opts *o, const char *accel,
		       const char *tmp)
{
	const char *transport = getenv("MMREPLAY_VM_TRANSPORT");

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
	qs(q, "console=ttyS0 panic=-1 rdinit=/init quiet loglevel=4");
	/* testing knob: MMREPLAY_VM_TRANSPORT=virtio or serial leaves the faster disks out */
	if (!transport || !strcmp(transport, "nvme")) {
		qs(q, "-drive");
		qa(q, "file=%s/nvme.img,if=none,format=raw,id=resn", tmp);
		qs(q, "-device");
		qs(q, "nvme,serial=mmreplay-out,drive=resn");
	}
	if (!transport || !strcmp(transport, "virtio")) {
		qs(q, "-drive");
		qa(q, "file=%s/virtio.img,if=virtio,format=raw", tmp);
	}
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

int vm_run(const struct vm_opts *o, const char *outdir, struct vm_result *r)
{
	static const char *const media[] = { "nvme.img", "virtio.img", "serial.bin" };
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
	build_args(&q, o, o->accel, tmp);
	rc = run_limited(q.v, log, o->timeout_s, o->stop, &r->wall_s);
	if (rc == -3) {
		r->end = VM_STOPPED;
		return -1;
	}
	r->end = console_end(o->console, r->line, sizeof(r->line));
	for (int i = 0; i < 3; i++) {
		snprintf(img, sizeof(img), "%s/%s", tmp, media[i]);
		if (!unpack(img, outdir))
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
