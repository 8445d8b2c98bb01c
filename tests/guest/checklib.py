"""Pass/fail lines and the closing summary shared by the host-side guest checks,
and the fixture kernels they boot."""
import os
import subprocess
import sys

counts = {"passed": 0, "failed": 0, "skipped": 0}


def check(name, cond, detail=""):
    """One line: ok or FAIL (with @detail); counted for summary(). Returns @cond."""
    counts["passed" if cond else "failed"] += 1
    print(f"  ok   {name}" if cond else f"  FAIL {name} {detail}")
    return bool(cond)


def skip(name, why):
    counts["skipped"] += 1
    print(f"  SKIP {name}: {why}")


def last_line(s):
    lines = [x for x in (s or "").strip().splitlines() if x.strip()]
    return lines[-1] if lines else ""


def fixture_kernel(top, patch=None):
    """(bzImage path, "", False) of a fixture kernel (built once, cached), or
    (None, why, missing): missing (build.sh exit 3) when the source cannot be had
    here, a skip; otherwise a patch that does not apply or a broken build, a failure."""
    cmd = [os.path.join(top, "tests/kernels/build.sh")]
    if patch:
        cmd += ["--patch", os.path.join(top, "tests/kernels/patches", patch + ".patch")]
    r = subprocess.run(cmd, capture_output=True, text=True)
    kdir = last_line(r.stdout)
    if r.returncode == 3:
        return None, f"cannot get the kernel source here: {last_line(r.stderr)}", True
    if r.returncode or not os.path.isfile(os.path.join(kdir, "bzImage")):
        return None, f"build.sh exit {r.returncode}, no bzImage: {last_line(r.stderr)}", False
    return os.path.join(kdir, "bzImage"), "", False


def summary():
    """Print "Summary: N passed, N failed, N skipped" and exit 1 on a failure."""
    print(f"Summary: {counts['passed']} passed, {counts['failed']} failed, "
          f"{counts['skipped']} skipped")
    sys.exit(1 if counts["failed"] else 0)
