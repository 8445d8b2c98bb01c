#!/usr/bin/env python3
"""Host-side verdicts on the recordings made on the fixture kernels (tests/test_fixtures).

usage: fixtures.py OUTDIR MMREPLAY KERNEL...
Each KERNEL's recordings of every workload are checked with `mmreplay check
--json`, from events alone (NAME) and from snapshots (snap_NAME): the set of
verdict kinds must be exactly the one EXPECT gives (none on the clean kernel,
none where the patch's bug is not on the workload's path), so a verdict that
goes missing and one that appears unasked both fail.  The workloads that need
swap must really have swapped (guest swap on, pswpout rising, the pages
swapped per pagemap, MM_SWAPENTS rising in the trace): without swap they
would be clean for nothing.  The kernel's own mlock selftests run as
workloads too (st_*): their exit status is theirs, 0 on every kernel, while
check must find each bug kernel's verdict.  A kernel that could not be built is a failure;
only one whose source cannot be had here (OUTDIR/K.skip) is a skip.  Prints
one line per check and "Summary: N passed, N failed, N skipped".
"""
import json
import os
import subprocess
import sys

from checklib import check, skip, summary

out, mmreplay, kernels = sys.argv[1], sys.argv[2], sys.argv[3:]
WORKLOADS = ("cow", "punch", "memfd", "rules", "fork")
# the kernel's own mlock selftests (tests/selftests/build.sh), where they could be built
SELFTESTS = ("st_mlock2", "st_random")
SWAPPING = ("cow", "punch")     # MADV_PAGEOUT of COWed pages: need swap
MM_SWAPENTS = 2
# kernel -> {workload: the exact set of verdict kinds it must give}; a workload
# not listed must be clean.  The same set from events alone and from snapshots.
EXPECT = {
    "clean": {},
    "zap-skip-swap": {"cow": {"skipped-swap-entry"}},
    "punch-drops-cow-swap": {"punch": {"dropped-cow-swap-entry"}},
    # fork_mlock lets mlock() populate half its pages: those are not mlocked.
    # mlock_rules faults a page after mlock2(MLOCK_ONFAULT): not mlocked either.
    # The selftests mlock fresh pages too; they check VM_LOCKED and Rss in smaps,
    # not PG_mlocked, so they pass on both bug kernels, where check must not.
    "no-mlock-new-page": {"fork": {"lost-mlock"}, "rules": {"lost-mlock"},
                          "st_mlock2": {"lost-mlock"}, "st_random": {"lost-mlock"}},
    # every workload that munlocks what it mlocked: memfd, rules, fork, the selftests
    "munlock-keeps-mlock": {"memfd": {"stranded-mlock"}, "rules": {"stranded-mlock"},
                            "fork": {"stranded-mlock"}, "st_mlock2": {"stranded-mlock"},
                            "st_random": {"stranded-mlock"}},
}

# why an expected verdict is known to be missed by check: while check finds
# nothing there the case is skipped with this reason (never passed); once
# check finds anything there it fails until this entry goes
KNOWN = {}


def verdicts(kdir, trace):
    path = f"{kdir}/{trace}.trace"
    if not os.path.exists(path):
        return None, "no trace (record failed?)"
    r = subprocess.run([mmreplay, "check", "--json", path], capture_output=True, text=True)
    if r.returncode not in (0, 1) or not r.stdout.strip():
        return None, f"check exit {r.returncode}: {r.stderr.strip()}"
    j = json.loads(r.stdout)
    if (r.returncode == 1) != bool(j["findings"]):
        return None, f"check exit {r.returncode} with {len(j['findings'])} findings"
    return j, ""


def read(path, default=""):
    return open(path, errors="replace").read().strip() if os.path.exists(path) else default


def report(kdir, trace):
    kv = {}
    for line in read(f"{kdir}/{trace}.report").splitlines():
        k, _, v = line.partition("=")
        kv[k] = int(v, 0)
    return kv


def stats(kdir, trace):
    """The recorder's counters (key=value lines of mmreplay info)."""
    r = subprocess.run([mmreplay, "info", f"{kdir}/{trace}.trace"], capture_output=True, text=True)
    kv = {}
    for line in r.stdout.splitlines():
        k, eq, v = line.partition("=")
        if eq and " " not in k:
            kv[k] = v
    return kv


def reclaim_checks(k, kdir, trace):
    """record --reclaim-pass: the command had a group of its own, and every pass
    mlocked again each page left unmlocked in a VM_LOCKED VMA (check's rule that
    reclaim must have scanned a private anonymous page relies on it)."""
    st = stats(kdir, trace)
    passes = int(st.get("reclaim_passes", "-1"))
    before = int(st.get("reclaim_pass_unmlocked_before", "0"))
    after = int(st.get("reclaim_pass_unmlocked_after", "-1"))
    check(f"{k}: {trace}: a reclaim pass could run", "reclaim_passes" in st and
          not st.get("reclaim_pass_why") and not st.get("reclaim_pass_no_swap"),
          f"{st.get('reclaim_pass_why', 'no reclaim_passes in the stats')}")
    if k == "no-mlock-new-page" and trace == "snap_fork":
        check(f"{k}: {trace}: the bug's unmlocked pages were reclaimed for",
              passes > 0 and before > 0, f"{passes} passes, {before} pages before")
    check(f"{k}: {trace}: reclaim mlocked every page it found unmlocked",
          passes == 0 or after == 0, f"{passes} passes: {before} pages unmlocked before, "
          f"{after} after ({st.get('reclaim_pass_ms')} ms)")


def swap_checks(k, kdir, trace):
    """The recording really swapped: pagemap, the guest's pswpout, MM_SWAPENTS in the trace."""
    rep = report(kdir, trace)
    check(f"{k}: {trace}: every COWed page swapped out (pagemap)",
          rep.get("cow_pages", 0) > 0 and rep.get("swapped_pages") == rep["cow_pages"],
          f"{rep.get('swapped_pages')} of {rep.get('cow_pages')}")
    before, _, after = read(f"{kdir}/{trace}.pswpout", "? ?").partition(" ")
    check(f"{k}: {trace}: the guest's pswpout rose during the recording",
          before.isdigit() and after.isdigit() and int(after) > int(before),
          f"pswpout {before} -> {after}")
    r = subprocess.run([mmreplay, "show", "--json", f"{kdir}/{trace}.trace"],
                       capture_output=True, text=True)
    ev = json.loads(r.stdout) if r.returncode == 0 and r.stdout.strip() else []
    madvise, most = False, 0
    for e in ev:
        if e.get("syscall") == "madvise":
            madvise = e["kind"] == "sys_enter"
        elif madvise and e["kind"] == "rss_stat" and e["fields"]["member"] == MM_SWAPENTS:
            most = max(most, e["fields"]["size"])
    want = rep.get("swapped_pages", 0) * rep.get("page_size", 0)
    check(f"{k}: {trace}: MM_SWAPENTS rises during MADV_PAGEOUT in the trace",
          want > 0 and most >= want, f"at most {most} bytes, want {want}; show exit {r.returncode}")


workloads = WORKLOADS
if os.path.exists(f"{out}/selftests.skip"):
    skip("the kernel's mlock selftests", read(f"{out}/selftests.skip"))
elif os.path.exists(f"{out}/selftests.build-failed"):
    check("the kernel's mlock selftests built", False, read(f"{out}/selftests.build-failed"))
else:
    workloads = WORKLOADS + SELFTESTS

for k in kernels:
    kdir = f"{out}/{k}"
    if os.path.exists(f"{out}/{k}.skip"):
        skip(k, read(f"{out}/{k}.skip"))
        continue
    if os.path.exists(f"{out}/{k}.build-failed"):
        check(f"{k}: fixture kernel built", False, read(f"{out}/{k}.build-failed"))
        continue
    rc = read(f"{kdir}/guest-exit", "?")
    uname = read(f"{kdir}/uname", "?")
    check(f"{k}: guest ran the fixture kernel ({uname})", rc == "0" and uname.startswith("6.1."),
          f"guest exit {rc}; " + read(f"{kdir}/guest.log")[-400:])
    swap = read(f"{kdir}/swap", "no /out/swap: zram-swap.sh did not run")
    check(f"{k}: swap on zram in the guest", swap.splitlines()[-1:] == ["zram0 on"], swap)
    for w in workloads:
        want = EXPECT[k].get(w, set())
        for trace in (w, f"snap_{w}"):
            rc = read(f"{kdir}/{trace}.record-exit", "?")
            # record's exit status is the workload's: a selftest's own verdict
            check(f"{k}: {trace}: recorded (exit {rc})", rc == "0",
                  read(f"{kdir}/{trace}.record.err")[-300:])
            j, why = verdicts(kdir, trace)
            if j is None:
                check(f"{k}: {trace}: checked", False, why)
                continue
            kinds = {f["kind"] for f in j["findings"]}
            name = f"{k}: {trace}: exactly {sorted(want) or 'no findings'}"
            if (k, w) in KNOWN:     # a known miss: skipped while check misses it, never passed
                if kinds == set():
                    skip(name, KNOWN[(k, w)])
                else:
                    check(name + " (a known false negative: mend KNOWN)", False,
                          f"found {sorted(kinds)}; KNOWN says check finds nothing here")
                if w in SWAPPING:
                    swap_checks(k, kdir, trace)
                continue
            check(name, kinds == want,
                  f"found {sorted(kinds)} {KNOWN.get((k, w), '')}: " +
                  "; ".join(f"{f['kind']}: {str(f['evidence'])[:120]}" for f in j["findings"][:3]))
            if w in SWAPPING:
                swap_checks(k, kdir, trace)
            if trace.startswith("snap_"):
                reclaim_checks(k, kdir, trace)
    if k == "punch-drops-cow-swap" and os.path.exists(f"{kdir}/punch.report"):
        rep = read(f"{kdir}/punch.report")
        check(f"{k}: the workload itself lost its COW data", "cow_intact=0" in rep, rep)
    if k == "clean":
        for trace in ("punch", "snap_punch"):
            rep = read(f"{kdir}/{trace}.report")
            check(f"{k}: {trace}: the COW data survived the hole punch", "cow_intact=1" in rep, rep)

summary()
