#!/usr/bin/env python3
"""Host-side checks of the recordings made in a 6.1 guest (tests/test_guest).

usage: check.py OUTDIR MMREPLAY
Prints one line per check and "Summary: N passed, N failed, 0 skipped".
"""
import json
import os
import subprocess
import sys

from checklib import check, skip, summary

out, mmreplay = sys.argv[1], sys.argv[2]


def events(trace):
    r = subprocess.run([mmreplay, "show", "--json", f"{out}/{trace}.trace"],
                       capture_output=True, text=True)
    check(f"{trace}: show exits 0 on the guest trace", r.returncode == 0, r.stderr.strip())
    return json.loads(r.stdout) if r.stdout.strip() else []


def num(v):
    """A field of show --json: 64-bit unsigned ones are hex strings, the rest numbers."""
    return int(v, 0) if isinstance(v, str) else v


def report(name):
    kv = {}
    for line in open(f"{out}/{name}.report"):
        k, _, v = line.strip().partition("=")
        kv[k] = int(v, 0)
    return kv


def pswpout_rose(trace):
    try:
        before, after = open(f"{out}/{trace}.pswpout").read().split()
        return int(after) > int(before), f"pswpout {before} -> {after}"
    except (OSError, ValueError) as e:
        return False, str(e)


uname = open(f"{out}/uname").read().strip()
check("guest runs a 6.1 kernel", uname.startswith("6.1."), uname)
swap = open(f"{out}/swap").read().strip() if os.path.exists(f"{out}/swap") else "no /out/swap"
check("swap on zram in the guest", swap.splitlines()[-1:] == ["zram0 on"], swap)
probes = {p["kind"]: p for p in json.load(open(f"{out}/probes.json"))}
for kind in ("try_to_unmap_one", "mlock_folio", "munlock_folio", "mlock_new_folio",
             "unmap_page_range", "zap_page_range_single", "unmap_mapping_range",
             "free_swap_and_cache", "do_swap_page", "fault_done"):
    p = probes[kind]
    check(f"probes: {kind} attachable on 6.1 ({p['attach']})",
          p["available"] and p["attach"].split(":")[0] in ("fentry", "fexit", "kprobe"),
          p["status"])
check("probes: mm_page_free attached where the mlock hooks are",
      probes["mm_page_free"]["attach"] == "tracepoint:kmem:mm_page_free",
      probes["mm_page_free"]["status"])
check("probes: new_anon_rmap attached where mlock_new_folio is, by its 6.1 name",
      probes["new_anon_rmap"]["attach"].split(":")[0] in ("fentry", "kprobe") and
      probes["new_anon_rmap"]["attach"].endswith(":page_add_new_anon_rmap"),
      probes["new_anon_rmap"]["attach"] + " " + probes["new_anon_rmap"]["status"])
check("probes: 6.1 names chosen (munlock_page)", probes["munlock_folio"]["attach"].endswith("munlock_page"))
check("probes: 6.1 names chosen (free_swap_and_cache)",
      probes["free_swap_and_cache"]["attach"].endswith(":free_swap_and_cache"))

# mlock of a shared memfd mapped twice: mlock/munlock internals with real PFNs
ev = events("mlock_memfd")
rep = report("mlock_memfd")
mlocks = [e for e in ev if e["kind"] == "mlock_folio"]
munlocks = [e for e in ev if e["kind"] == "munlock_folio"]
lru_pfns = {num(e["fields"]["pfn"]) for e in ev if e["kind"] == "mm_lru_insertion"}
check("mlock_memfd: mlock_folio events", len(mlocks) >= rep["pages"], f"{len(mlocks)}")
check("mlock_memfd: munlock_folio (munlock_page) events", len(munlocks) >= rep["pages"], f"{len(munlocks)}")
check("mlock_memfd: PFNs resolved (memmap base learned)",
      mlocks and all(num(e["fields"]["pfn"]) != 2**64 - 1 for e in mlocks))
check("mlock_memfd: mlocked PFNs are real pages (seen on an LRU)",
      mlocks and any(num(e["fields"]["pfn"]) in lru_pfns for e in mlocks))
check("mlock_memfd: per-fault completion (fault_done)",
      any(e["kind"] == "fault_done" for e in ev))
check("mlock_memfd: munmap zaps recorded (unmap_page_range)",
      any(e["kind"] == "unmap_page_range" and num(e["fields"]["vm_start"]) == rep["addr_a"] for e in ev))

# the same workload with kprobes instead of fentry (MMREPLAY_NO_FENTRY)
ev = events("kprobe")
r = subprocess.run([mmreplay, "info", "--json", f"{out}/kprobe.trace"], capture_output=True, text=True)
cov = {c["kind"]: c for c in json.loads(r.stdout)["coverage"]}
check("kprobe: internals attached by kprobe", cov["mlock_folio"]["attach"] == "kprobe:mlock_folio"
      and cov["fault_done"]["attach"] == "kprobe:handle_mm_fault", str(cov["mlock_folio"]))
check("kprobe: mlock_folio events with PFNs", any(
    e["kind"] == "mlock_folio" and num(e["fields"]["pfn"]) != 2**64 - 1 for e in ev))
check("kprobe: fault_done from the kretprobe", any(e["kind"] == "fault_done" for e in ev))

# 6.1 takes the typed programs for the hot tracepoints (rss_stat's with its count argument)
r = subprocess.run([mmreplay, "info", "--json", f"{out}/mlock_memfd.trace"], capture_output=True, text=True)
cov = {c["kind"]: c for c in json.loads(r.stdout)["coverage"]}
check("hot tracepoints by tp_btf on 6.1",
      all(cov[k]["attach"] == "tp_btf:" + k for k in ("page_fault_user", "rss_stat", "mm_lru_insertion")),
      str([cov[k]["attach"] for k in ("page_fault_user", "rss_stat", "mm_lru_insertion")]))
# and stages their events in the kernel (record's default), none of them late
counters = json.loads(r.stdout)["counters"]
check("hot events staged on 6.1 (coalesced), none late",
      counters.get("staged_events", 0) > 0 and counters.get("staged_batches", 0) > 0 and
      not counters.get("late_events"), str({k: v for k, v in counters.items()
                                            if k.startswith(("staged", "late"))}))

# fork of an mlocked process
ev = events("fork_mlock")
rep = report("fork_mlock")
check("fork_mlock: child followed",
      any(e["kind"] == "task_fork" and num(e["fields"]["child_tgid"]) == rep["child"] for e in ev)
      and any(e["pid"] == rep["child"] and e["kind"] == "page_fault_user" for e in ev))

# COW + MADV_PAGEOUT + ftruncate: the zap with even_cows frees the swap entries
ev = events("cow_pageout_truncate")
rep = report("cow_pageout_truncate")
check("cow: pages swapped out in the guest (zram)", rep["swapped_pages"] == rep["cow_pages"],
      f"{rep['swapped_pages']} of {rep['cow_pages']}")
for t in ("cow_pageout_truncate", "snap_cow_pageout_truncate"):
    check(f"{t}: the guest's pswpout rose during the recording", *pswpout_rose(t))
check("cow: try_to_unmap_one on the COWed pages",
      sum(1 for e in ev if e["kind"] == "try_to_unmap_one") >= rep["swapped_pages"])
phase, zaps, freed = 0, [], 0
for e in ev:
    if e.get("syscall") == "ftruncate":
        phase = 1 if e["kind"] == "sys_enter" else 2
    elif phase == 1 and e["kind"] in ("unmap_mapping_range", "unmap_mapping_pages"):
        zaps.append(e)
    elif phase == 1 and e["kind"] == "free_swap_and_cache":
        freed += num(e["fields"]["nr"])
check("cow: ftruncate unmaps the file with even_cows=1",
      any(num(z["fields"]["even_cows"]) == 1 for z in zaps), str([z["fields"] for z in zaps]))
check("cow: ftruncate frees every swap entry of the COWed pages",
      rep["swapped_pages"] > 0 and freed >= rep["swapped_pages"],
      f"freed {freed} of {rep['swapped_pages']}")


# mmreplay check on every guest trace: a correct 6.1 kernel gives no finding,
# and the event ledgers (which need kprobes or fentry) really judged something
def verdicts(trace):
    r = subprocess.run([mmreplay, "check", "--json", f"{out}/{trace}.trace"],
                       capture_output=True, text=True)
    j = json.loads(r.stdout) if r.stdout.strip() else {"findings": [], "coverage": {}}
    check(f"check {trace}: clean on 6.1 (exit {r.returncode})",
          r.returncode == 0 and not j["findings"],
          "; ".join(f"{f['kind']}: {f['evidence']}" for f in j["findings"][:3]) + r.stderr)
    return j["coverage"]



def pfn_lifetimes(trace, note):
    """mm_page_free: recorded for the PFNs traced tasks mlocked (and no other), each one's."""
    ev = events(trace)
    locked, freed, stray = set(), set(), []
    for e in ev:
        if e["kind"] in ("mlock_folio", "mlock_new_folio"):
            locked.add(num(e["fields"]["pfn"]))
        elif e["kind"] == "mm_page_free":
            p = num(e["fields"]["pfn"])
            (freed.add if p in locked else stray.append)(p)
    r = subprocess.run([mmreplay, "info", f"{out}/{trace}.trace"], capture_output=True, text=True)
    check(f"{trace}: the free of every mlocked PFN recorded, and only theirs",
          locked and freed == locked and not stray and "pfns_unfollowed" not in r.stdout,
          f"{len(freed)} of {len(locked)} freed; {len(stray)} others; "
          f"{[l for l in r.stdout.splitlines() if 'unfollowed' in l]}")
    n = sum(1 for e in ev if e["kind"] == "mm_page_free")
    check(f"check {trace}: the mlock ledger ends a PFN's entry at each free",
          n > 0 and f"a PFN is a new page after its free ({n} frees)" in note, note)

def new_locked_pages(trace, note):
    """new_anon_rmap: each new page of a locked vma, and its mlock_new_folio right after."""
    ev = [e for e in events(trace) if e["kind"] != "rss_stat"]
    new = [(i, e) for i, e in enumerate(ev) if e["kind"] == "new_anon_rmap"]
    def next_of(i):    # the task's next event after ev[i]
        return next((x for x in ev[i + 1:] if x["tid"] == ev[i]["tid"]), {})
    followed = sum(1 for i, e in new if next_of(i).get("kind") == "mlock_new_folio" and
                   next_of(i)["fields"]["pfn"] == e["fields"]["pfn"])
    check(f"{trace}: new pages of its locked vmas recorded (new_anon_rmap), each mlocked "
          f"by mlock_new_folio right after", new and followed == len(new),
          f"{followed} of {len(new)}")
    check(f"check {trace}: the mlock ledger judged each new page of a locked vma",
          f"{len(new)} new pages of VM_LOCKED vmas checked" in note, note)


for t in ("mlock_memfd", "fork_mlock", "kprobe", "cow_pageout_truncate", "snap_mlock_rules",
          "snap_cow_pageout_truncate"):
    cov = verdicts(t)
    if t in ("mlock_memfd", "kprobe"):
        check(f"check {t}: mlock ledger judged munlocked pages",
              cov["lost-mlock"]["events_checked"] >= 16, cov["lost-mlock"]["event_note"])
        check(f"check {t}: mlock ledger judged the mlock calls at munlock",
              cov["stranded-mlock"]["events_checked"] >= 8, cov["stranded-mlock"]["event_note"])
    if t in ("mlock_memfd", "fork_mlock", "kprobe", "snap_mlock_rules"):
        pfn_lifetimes(t, cov["lost-mlock"]["event_note"])
    if t in ("fork_mlock", "snap_mlock_rules"):
        new_locked_pages(t, cov["lost-mlock"]["event_note"])
    if t.endswith("cow_pageout_truncate"):
        note = cov["skipped-swap-entry"]["event_note"]
        check(f"check {t}: swap ledger judged the truncate over swapped COW pages",
              "1 over swapped pages" in note and "0 resets" in note, note)
    if t.startswith("snap_"):
        check(f"check {t}: snapshots judged in the guest",
              cov["lost-mlock"]["snapshots_checked"] > 0
              and cov["skipped-swap-entry"]["snapshots_checked"] > 0,
              str({k: v["snapshots_checked"] for k, v in cov.items()}))


# the kernel's own mlock selftests: they pass, and check judges them, clean
def selftests():
    if os.path.exists(f"{out}/selftests.skip"):
        skip("the kernel's mlock selftests", open(f"{out}/selftests.skip").read().strip())
        return
    if os.path.exists(f"{out}/selftests.build-failed"):
        check("the kernel's mlock selftests built", False,
              open(f"{out}/selftests.build-failed").read().strip())
        return
    for t in ("mlock2-tests", "mlock-random-test"):
        for trace in (f"st_{t}", f"snap_st_{t}"):
            rc = open(f"{out}/{trace}.record-exit").read().strip() \
                if os.path.exists(f"{out}/{trace}.record-exit") else "?"
            check(f"{trace}: the selftest passes under record (exit {rc})", rc == "0",
                  open(f"{out}/{trace}.record.err", errors="replace").read()[-300:]
                  if os.path.exists(f"{out}/{trace}.record.err") else "not run")
            if rc != "0":
                continue
            cov = verdicts(trace)
            if trace.startswith("snap_"):
                n = [cov[v]["pages_judged"] for v in ("lost-mlock", "stranded-mlock")]
                check(f"check {trace}: pages judged from snapshots", min(n) > 0, str(n))
            else:
                check(f"check {trace}: mlock ledger judged its munlocks and mlock calls",
                      cov["lost-mlock"]["events_checked"] > 0 and
                      cov["stranded-mlock"]["events_checked"] > 0,
                      cov["lost-mlock"]["event_note"] + " / " + cov["stranded-mlock"]["event_note"])


selftests()
summary()
