"""Pass/fail lines and the closing summary shared by the host-side guest checks."""
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


def summary():
    """Print "Summary: N passed, N failed, N skipped" and exit 1 on a failure."""
    print(f"Summary: {counts['passed']} passed, {counts['failed']} failed, "
          f"{counts['skipped']} skipped")
    sys.exit(1 if counts["failed"] else 0)
