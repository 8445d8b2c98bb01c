#!/usr/bin/env python3
"""Host-side verdicts on the recordings made on the fixture kernels (tests/test_fixtures).

usage: fixtures.py OUTDIR MMREPLAY KERNEL...
Each KERNEL's recordings are checked with `mmreplay check --json`: on the
clean kernel every trace must be clean; on a patched kernel the workload the
patch breaks must give the patch's verdict, both from events alone (NAME)
and from snapshots (snap_NAME).  A kernel that could not be built is a
failure; only one whose source cannot be had here (OUTDIR/K.skip) is a skip.  Prints one line per check and
"Summary: N passed, N failed, N skipped".
"""
import json
import os
import subprocess
import sys

from checklib import check, skip, summary

out, mmreplay, kernels = sys.argv[1], sys.argv[2], sys.argv[3:]
WORKLOADS = ("cow", "punch", "memfd", "rules", "fork")
# kernel -> {workload: verdict it must give}
EXPECT = {
    "clean": {},
    "zap-skip-swap": {"cow": "skipped-swap-entry"},
    "punch-drops-cow-swap": {"punch": "dropped-cow-swap-entry"},
    "no-mlock-new-page": {"fork": "lost-mlock"},
    "munlock-keeps-mlock": {"memfd": "stranded-mlock", "rules": "stranded-mlock"},
}

def verdicts(kdir, trace):
    path = f"{kdir}/{trace}.trace"
    if not os.path.exists(path):
        return None, "no trace (record failed?)"
    r = subprocess.run([mmreplay, "check", "--json", path], capture_output=True, text=True)
    if r.returncode not in (0, 1) or not r.stdout.strip():
        return None, f"check exit {r.returncode}: {r.stderr.strip()}"
    return json.loads(r.stdout), ""


for k in kernels:
    kdir = f"{out}/{k}"
    if os.path.exists(f"{out}/{k}.skip"):
        skip(k, open(f"{out}/{k}.skip").read().strip())
        continue
    if os.path.exists(f"{out}/{k}.build-failed"):
        check(f"{k}: fixture kernel built", False, open(f"{out}/{k}.build-failed").read().strip())
        continue
    rc = open(f"{kdir}/guest-exit").read().strip()
    uname = open(f"{kdir}/uname").read().strip() if os.path.exists(f"{kdir}/uname") else "?"
    check(f"{k}: guest ran the fixture kernel ({uname})", rc == "0" and uname.startswith("6.1."),
          f"guest exit {rc}; " + open(f"{kdir}/guest.log").read()[-400:])
    for w in WORKLOADS:
        want = EXPECT[k].get(w)
        if k != "clean" and not want:
            continue
        for trace in (w, f"snap_{w}"):
            j, why = verdicts(kdir, trace)
            if j is None:
                check(f"{k}: {trace}: checked", False, why)
                continue
            kinds = sorted({f["kind"] for f in j["findings"]})
            if want:
                check(f"{k}: {trace}: {want}", want in kinds, f"found {kinds}")
            else:
                check(f"{k}: {trace}: clean", not kinds,
                      "; ".join(f"{f['kind']}: {f['evidence'][:2]}" for f in j["findings"][:3]))
    if k == "punch-drops-cow-swap" and os.path.exists(f"{kdir}/punch.report"):
        rep = open(f"{kdir}/punch.report").read()
        check(f"{k}: the workload itself lost its COW data", "cow_intact=0" in rep, rep)

summary()
