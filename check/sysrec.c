// SPDX-License-Identifier: GPL-2.0
/*
 * Each traced thread's last mm syscall: an open hash on tid, looked up by
 * the event side (check.c), the ledgers (ledger.c) and the snapshot rules
 * (verdicts.c), and how a syscall is spelt in a finding.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "check_int.h"

/* The slot of @tid (open addressing), or the first free one; NULL if full. */
static struct syscall_rec **sys_probe(const struct checker *c, int tid, unsigned *home)
{
	struct syscall_rec **sys = (struct syscall_rec **)c->sys;	/* the caller's to change */
	unsigned n = sizeof(c->sys) / sizeof(c->sys[0]), h = (unsigned)tid * 2654435761u % n;

	*home = h;
	for (unsigned i = 0; i < n; i++) {
		struct syscall_rec **s = &sys[(h + i) % n];

		if (!*s || (*s)->tid == tid)
			return s;
	}
	return NULL;
}

struct syscall_rec *checker_sys(const struct checker *c, int tid)
{
	unsigned h;
	struct syscall_rec **s = sys_probe(c, tid, &h);

	return s ? *s : NULL;
}

struct syscall_rec *checker_sys_slot(struct checker *c, int tid)
{
	unsigned h;
	struct syscall_rec **s = sys_probe(c, tid, &h);

	if (!s) {			/* full: reuse the home slot */
		memset(c->sys[h], 0, sizeof(*c->sys[h]));
		c->sys[h]->tid = tid;
		return c->sys[h];
	}
	if (!*s && (*s = calloc(1, sizeof(**s))))
		(*s)->tid = tid;
	return *s;
}

int migration_in_flight(const struct checker *c)
{
	if (!c->migrations_open)
		return 0;
	for (size_t i = 0; i < sizeof(c->sys) / sizeof(c->sys[0]); i++) {
		const struct syscall_rec *r = c->sys[i];

		if (r && !r->done && is_migration_call(r->nr))
			return 1;
	}
	return 0;
}

/* Is a thread of @m's process inside an mlock-family call? */
int mm_locking(const struct checker *c, const struct mm_state *m)
{
	for (size_t i = 0; i < sizeof(c->sys) / sizeof(c->sys[0]); i++) {
		const struct syscall_rec *r = c->sys[i];

		if (r && !r->done && r->tgid == m->tgid &&
		    (r->nr == NR_MLOCK || r->nr == NR_MLOCK2 || r->nr == NR_MLOCKALL))
			return 1;
	}
	return 0;
}

/* Is @pid (a pid a migration names, 0 its caller's) a thread of process @tgid, as far as seen? */
static int pid_of(const struct checker *c, const struct syscall_rec *r, int pid, int tgid)
{
	const struct syscall_rec *t;

	if (!pid || pid == r->tid)
		return r->tgid == tgid;
	if (pid == tgid)
		return 1;
	if ((t = checker_sys(c, pid)))
		return t->tgid == tgid;
	for (size_t i = 0; i < sizeof(c->mms) / sizeof(c->mms[0]); i++)
		for (const struct mm_state *m = c->mms[i]; m; m = m->next)
			if (m->tgid == pid)
				return 0;	/* another traced process */
	return 1;	/* never seen: it may be one of @tgid's threads */
}

int migration_in_flight_of(const struct checker *c, int tgid)
{
	for (size_t i = 0; i < sizeof(c->sys) / sizeof(c->sys[0]); i++) {
		const struct syscall_rec *r = c->sys[i];

		if (r && !r->done && is_migration_call(r->nr) &&
		    pid_of(c, r, (int)r->args[0], tgid))
			return 1;
	}
	return 0;
}

void describe_syscall(const struct syscall_rec *r, char *buf, size_t len)
{
	const char *name = r ? syscall_name(r->nr) : NULL;

	if (!r) {
		snprintf(buf, len, "-");
		return;
	}
	if (!name)
		snprintf(buf, len, "syscall %u", r->nr);
	else
		snprintf(buf, len, "%s(0x%llx, 0x%llx, 0x%llx%s) = %lld", name,
			 (unsigned long long)r->args[0], (unsigned long long)r->args[1],
			 (unsigned long long)r->args[2], r->nr == NR_FALLOCATE ? ", ..." : "",
			 (long long)r->ret);
}
