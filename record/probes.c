// SPDX-License-Identifier: GPL-2.0
/*
 * Feature detection, in one place (as retsnoop does): for every event kind,
 * the attach point this kernel allows, tried in order fentry, kprobe, then
 * tracepoint, or the reason it cannot be had.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/capability.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "probes.h"

static const char *tracefs_dirs[] = { "/sys/kernel/tracing", "/sys/kernel/debug/tracing" };
static const char *tracefs;
static char tracefs_why[192];	/* why there is none */

const char *tracefs_dir(void)
{
	return tracefs;
}

/*
 * Why tracefs is not usable: a mounted one this user may not read (its
 * root is 0700 by default), or none mounted and mount(2) refused.
 */
static void tracefs_explain(int mount_err)
{
	struct stat st;
	char path[256];

	snprintf(path, sizeof(path), "%s/events", tracefs_dirs[0]);
	if (!stat(tracefs_dirs[0], &st) && access(path, R_OK) && errno == EACCES) {
		snprintf(tracefs_why, sizeof(tracefs_why),
			 "tracefs %s is mode %04o, owner uid %u: not readable by uid %u "
			 "(run as root)", tracefs_dirs[0], st.st_mode & 07777, st.st_uid, getuid());
		return;
	}
	snprintf(tracefs_why, sizeof(tracefs_why), "tracefs not mounted at %s and cannot be "
		 "mounted (%s)", tracefs_dirs[0], strerror(mount_err));
}

int ensure_tracefs(void)
{
	char path[256];

	for (size_t i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "%s/events", tracefs_dirs[i]);
		if (!access(path, R_OK)) {
			tracefs = tracefs_dirs[i];
			return 0;
		}
	}
	if (mount("tracefs", tracefs_dirs[0], "tracefs", 0, NULL) == 0) {
		tracefs = tracefs_dirs[0];
		return 0;
	}
	tracefs_explain(errno);
	return -1;
}

/* Is @cap in this process's effective set (/proc/self/status CapEff)? */
static int has_cap(int cap)
{
	FILE *f = fopen("/proc/self/status", "r");
	unsigned long long eff = 0;
	char line[256];

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "CapEff: %llx", &eff) == 1)
			break;
	if (f)
		fclose(f);
	return (eff >> cap) & 1;
}

/*
 * Why this process may not load tracing BPF programs: they need CAP_BPF
 * and CAP_PERFMON (or CAP_SYS_ADMIN).  Empty if it may.
 */
static void bpf_denied_why(char *why, size_t len)
{
	int bpf = has_cap(CAP_BPF), perfmon = has_cap(CAP_PERFMON);

	why[0] = 0;
	if (has_cap(CAP_SYS_ADMIN) || (bpf && perfmon))
		return;
	snprintf(why, len, "no %s%s%s (uid %u): cannot load BPF programs; run as root",
		 bpf ? "" : "CAP_BPF", bpf || perfmon ? "" : " / ", perfmon ? "" : "CAP_PERFMON",
		 getuid());
}

static int tp_exists(const char *cat, const char *name)
{
	char path[512];

	if (!tracefs)
		return 0;
	snprintf(path, sizeof(path), "%s/events/%s/%s/format", tracefs, cat, name);
	return access(path, R_OK) == 0;
}

static int kprobes_supported(void)
{
	char path[256];

	if (!access("/sys/bus/event_source/devices/kprobe/type", R_OK))
		return 1;
	snprintf(path, sizeof(path), "%s/kprobe_events", tracefs ? tracefs : "/sys/kernel/tracing");
	return !access(path, W_OK);
}

/*
 * Is @func in /proc/kallsyms, as text (@text: a symbol kprobes can find;
 * inlined functions are not) or as any symbol?
 */
static int kallsyms_find(const char *func, int text)
{
	static char *syms;
	char *p, needle[160];
	size_t n;

	if (!syms) {
		FILE *f = fopen("/proc/kallsyms", "r");
		size_t cap = 0, len = 0;
		char buf[1 << 16];

		if (!f)
			return 0;
		while ((n = fread(buf, 1, sizeof(buf), f)) > 0) {
			char *grown = mmr_grow(syms, &cap, len + n + 1, 1, sizeof(buf));

			if (!grown) {
				free(syms);
				syms = NULL;
				fclose(f);
				return 0;
			}
			syms = grown;
			memcpy(syms + len, buf, n);
			len += n;
		}
		fclose(f);
		if (!syms)
			return 0;
		syms[len] = 0;
	}
	snprintf(needle, sizeof(needle), " %s\n", func);
	for (p = syms; (p = strstr(p, needle)); p++) {
		char type = p[-1];

		if (!text || type == 't' || type == 'T')
			return 1;
	}
	return 0;
}

static int kallsyms_has(const char *func)
{
	return kallsyms_find(func, 1);
}

/* Load (not attach) an empty program of @type: 0 or -errno. */
static int try_load(enum bpf_prog_type type, enum bpf_attach_type attach, int btf_id)
{
	struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	LIBBPF_OPTS(bpf_prog_load_opts, opts, .expected_attach_type = attach,
		    .attach_btf_id = btf_id);
	int fd = bpf_prog_load(type, "mmr_probe", "GPL", insns, 2, &opts);

	if (fd < 0)
		return -errno;
	close(fd);
	return 0;
}

/* Load (not attach) an empty fentry/fexit program on @func: 0 or -errno. */
static int try_fentry(struct btf *btf, const char *func, int fexit)
{
	int id = btf__find_by_name_kind(btf, func, BTF_KIND_FUNC);

	if (id < 0)
		return -ENOENT;
	return try_load(BPF_PROG_TYPE_TRACING, fexit ? BPF_TRACE_FEXIT : BPF_TRACE_FENTRY, id);
}

static void plan_tp_btf(struct probe_plan *p, struct btf *btf)
{
	char tname[128];
	int id = -1, err = 0;

	snprintf(tname, sizeof(tname), "btf_trace_%s", p->kind->tp_name);
	if (btf)
		id = btf__find_by_name_kind(btf, tname, BTF_KIND_TYPEDEF);
	if (id >= 0)
		err = try_load(BPF_PROG_TYPE_TRACING, BPF_TRACE_RAW_TP, id);
	if (!btf) {
		snprintf(p->status, sizeof(p->status), "no kernel BTF (/sys/kernel/btf/vmlinux)");
	} else if (id < 0) {
		snprintf(p->status, sizeof(p->status), "tracepoint %s not in this kernel",
			 p->kind->tp_name);
	} else if (err) {
		snprintf(p->status, sizeof(p->status), "tp_btf program denied (%s)", strerror(-err));
	} else {
		p->how = ATTACH_TP_BTF;
		snprintf(p->attach, sizeof(p->attach), "tp_btf:%s", p->kind->tp_name);
		snprintf(p->status, sizeof(p->status), "ok");
	}
}

/*
 * The hot tracepoints' typed programs (bpf/mmreplay.bpf.c, "tp_btf"):
 * each builds the classic record from the arguments, which it takes as
 * the kernel's btf_trace_<name> declares them (@nargs, past the first).
 * @needs: kernel functions and variables the program uses.
 */
static const struct typed_tp {
	int kind, nargs;
	const char *prog, *needs[2];
} typed_tps[] = {
	{ MMR_K_PAGE_FAULT_USER, 3, "tb_page_fault_user", { NULL } },
	{ MMR_K_RSS_STAT, 3, "tb_rss_stat_count", { NULL } },	/* 6.1 */
	{ MMR_K_RSS_STAT, 2, "tb_rss_stat", { "bpf_rdonly_cast", NULL } },
	{ MMR_K_LRU_INSERTION, 1, "tb_mm_lru_insertion", { NULL } },
};

/* The arguments btf_trace_<name> takes after its first (void *), or -1. */
static int tp_nargs(const struct btf *btf, const char *name, int *id)
{
	char tname[128];
	const struct btf_type *t;

	snprintf(tname, sizeof(tname), "btf_trace_%s", name);
	*id = btf ? btf__find_by_name_kind(btf, tname, BTF_KIND_TYPEDEF) : -1;
	if (*id < 0)
		return -1;
	t = btf__type_by_id(btf, *id);
	while (t && (btf_is_typedef(t) || btf_is_ptr(t)))
		t = btf__type_by_id(btf, t->type);
	return t && btf_is_func_proto(t) ? btf_vlen(t) - 1 : -1;
}

/*
 * A kfunc is found by its BTF; a variable (a typed ksym) also by the
 * kernel's kallsyms_lookup_name(), which knows data symbols only with
 * CONFIG_KALLSYMS_ALL.
 */
static int btf_has(const struct btf *btf, const char *name)
{
	return btf__find_by_name_kind(btf, name, BTF_KIND_FUNC) >= 0 ||
	       (btf__find_by_name_kind(btf, name, BTF_KIND_VAR) >= 0 && kallsyms_find(name, 0));
}

/* The typed program for @p's tracepoint this kernel takes, or NULL. */
static const char *typed_prog(const struct probe_plan *p, const struct btf *btf)
{
	int id, n = tp_nargs(btf, p->kind->tp_name, &id);

	if (n < 0 || getenv("MMREPLAY_NO_TP_BTF") || libbpf_num_possible_cpus() > 512)
		return NULL;	/* 512: tb_rss_stat's RSS_MAX_CPUS */
	for (size_t i = 0; i < sizeof(typed_tps) / sizeof(typed_tps[0]); i++) {
		const struct typed_tp *t = &typed_tps[i];

		if (t->kind != p->kind->id || t->nargs != n ||
		    (t->needs[0] && !btf_has(btf, t->needs[0])) ||
		    (t->needs[1] && !btf_has(btf, t->needs[1])))
			continue;
		return try_load(BPF_PROG_TYPE_TRACING, BPF_TRACE_RAW_TP, id) ? NULL : t->prog;
	}
	return NULL;
}

static void plan_tracepoint(struct probe_plan *p, const struct btf *btf)
{
	const struct kind_def *k = p->kind;

	if (!tracefs) {
		snprintf(p->status, sizeof(p->status), "%s", tracefs_why);
	} else if (!tp_exists(k->tp_cat, k->tp_name)) {
		snprintf(p->status, sizeof(p->status), "tracepoint %s:%s not in this kernel",
			 k->tp_cat, k->tp_name);
	} else if ((p->typed = typed_prog(p, btf))) {
		p->how = ATTACH_TP_BTF;
		snprintf(p->attach, sizeof(p->attach), "tp_btf:%s", k->tp_name);
		snprintf(p->status, sizeof(p->status), "ok");
	} else {
		p->how = ATTACH_TRACEPOINT;
		snprintf(p->attach, sizeof(p->attach), "tracepoint:%s:%s", k->tp_cat, k->tp_name);
		snprintf(p->status, sizeof(p->status), "ok");
	}
}

void probes_untype(struct probe_plan *p)
{
	const struct kind_def *k = p->kind;

	if (!p->typed)
		return;
	p->typed = NULL;
	p->how = ATTACH_TRACEPOINT;
	snprintf(p->attach, sizeof(p->attach), "tracepoint:%s:%s", k->tp_cat, k->tp_name);
}

static void plan_func(struct probe_plan *p, struct btf *btf, int kprobes)
{
	const struct kind_def *k = p->kind;
	char why[256] = "";
	int err = -ENOENT, denied = 0, found = 0;
	/* testing knob: take the kprobe path even where fentry works */
	int no_fentry = getenv("MMREPLAY_NO_FENTRY") != NULL;

	for (int i = 0; i < 2 && k->alts[i].func; i++) {
		const struct func_alt *a = &k->alts[i];
		int fexit = a->kretprobe != NULL;

		if (btf)
			err = no_fentry ? -EPERM : try_fentry(btf, a->func, fexit);
		if (!err) {
			p->how = ATTACH_FENTRY;
			p->alt = a;
			snprintf(p->attach, sizeof(p->attach), "%s:%s", fexit ? "fexit" : "fentry", a->func);
			break;
		}
		if (kprobes && kallsyms_has(a->func)) {
			p->how = ATTACH_KPROBE;
			p->alt = a;
			snprintf(p->attach, sizeof(p->attach), "kprobe:%s", a->func);
			break;
		}
		if (err != -ENOENT || kallsyms_has(a->func))
			found = 1;
		if (err != -ENOENT && !denied)
			denied = err;
	}
	if (p->how != ATTACH_NONE) {
		snprintf(p->status, sizeof(p->status), "ok");
		return;
	}
	if (!found)
		snprintf(why, sizeof(why), "%s not in this kernel (inlined or absent)",
			 k->alts[0].func);
	else
		snprintf(why, sizeof(why), "%s denied (%s); %s",
			 k->alts[0].kretprobe ? "fexit" : "fentry", strerror(-(denied ?: err)),
			 kprobes ? "no kprobe-able symbol" : "kprobes not supported by this kernel");
	snprintf(p->status, sizeof(p->status), "%s", why);
}

/* Snapshots read pagemap PFNs and kpageflags: root (CAP_SYS_ADMIN) only. */
static void plan_proc(struct probe_plan *p)
{
	if (access("/proc/kpageflags", R_OK) || access("/proc/kpagecount", R_OK)) {
		snprintf(p->status, sizeof(p->status), "cannot read /proc/kpageflags (%s): needs "
			 "CAP_SYS_ADMIN; run as root", strerror(errno));
		return;
	}
	p->how = ATTACH_PROC;
	snprintf(p->attach, sizeof(p->attach), "proc:smaps,pagemap,kpageflags");
	snprintf(p->status, sizeof(p->status), "ok (record --snapshot)");
}

static int plan_on(const struct probe_plan *plans, int kind)
{
	const struct probe_plan *p = &plans[kind_def(kind) - mmr_kinds];

	return p->how != ATTACH_NONE && p->emit;
}

static void drop(struct probe_plan *plans, int kind, const char *why)
{
	struct probe_plan *p = &plans[kind_def(kind) - mmr_kinds];

	if (p->how == ATTACH_NONE)
		return;
	p->how = ATTACH_NONE;
	snprintf(p->attach, sizeof(p->attach), "-");
	snprintf(p->status, sizeof(p->status), "not needed: %s", why);
}

void probes_drop_unneeded(struct probe_plan *plans)
{
	if (!plan_on(plans, MMR_K_MLOCK_FOLIO) || !plan_on(plans, MMR_K_MLOCK_NEW_FOLIO) ||
	    !plan_on(plans, MMR_K_MUNLOCK_FOLIO))
		drop(plans, MMR_K_PAGE_FREE, "it serves the mlock ledger, and mlock_folio, "
		     "mlock_new_folio or munlock_folio is not recorded");
	if (!plan_on(plans, MMR_K_MLOCK_NEW_FOLIO))
		drop(plans, MMR_K_NEW_ANON_RMAP, "the mlock ledger checks it against "
		     "mlock_new_folio, which is not recorded");
}

int probes_detect(struct probe_plan *plans, char *err, size_t errlen)
{
	struct btf *btf;
	int kprobes;
	char denied[160];

	ensure_tracefs();
	bpf_denied_why(denied, sizeof(denied));
	btf = btf__load_vmlinux_btf();
	if (!btf)
		btf = NULL;
	kprobes = kprobes_supported();
	for (int i = 0; i < mmr_nr_kinds; i++) {
		struct probe_plan *p = &plans[i];

		memset(p, 0, sizeof(*p));
		p->kind = &mmr_kinds[i];
		p->emit = 1;
		snprintf(p->attach, sizeof(p->attach), "-");
		if (denied[0] && p->kind->src != MMR_SRC_RECORDER) {
			snprintf(p->status, sizeof(p->status), "%s%s%s", denied,
				 tracefs || p->kind->src != MMR_SRC_TRACEPOINT ? "" : "; ",
				 tracefs || p->kind->src != MMR_SRC_TRACEPOINT ? "" : tracefs_why);
			continue;
		}
		switch (p->kind->src) {
		case MMR_SRC_STRUCT:
			plan_tp_btf(p, btf);
			break;
		case MMR_SRC_TRACEPOINT:
			plan_tracepoint(p, btf);
			break;
		case MMR_SRC_FUNC:
			plan_func(p, btf, kprobes);
			break;
		case MMR_SRC_RECORDER:
			plan_proc(p);
			break;
		}
	}
	btf__free(btf);
	probes_drop_unneeded(plans);
	(void)err;
	(void)errlen;
	return 0;
}

void plan_progs(const struct probe_plan *p, const char *progs[3])
{
	progs[0] = progs[1] = progs[2] = NULL;
	switch (p->how) {
	case ATTACH_NONE:
	case ATTACH_PROC:
		break;
	case ATTACH_TP_BTF:
		/* mm_lru_insertion's classic program learns vmemmap_base for the typed one */
		progs[0] = p->typed ? p->typed : p->kind->prog;
		progs[1] = p->typed && p->kind->id == MMR_K_LRU_INSERTION ? p->kind->prog : NULL;
		break;
	case ATTACH_TRACEPOINT:
		progs[0] = p->kind->prog;
		break;
	case ATTACH_FENTRY:
		progs[0] = p->alt->fentry;
		break;
	case ATTACH_KPROBE:
		progs[0] = p->alt->kprobe ? p->alt->kprobe : p->alt->kretprobe;
		progs[1] = p->alt->kprobe ? p->alt->kretprobe : NULL;
		break;
	}
}
