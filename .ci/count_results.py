#!/usr/bin/env python3
"""Prints "N passed, N failed" over every test case of every meson test.

Catch2 suites report their own test-case counts; any other test counts once.
A suite that failed without a parseable summary counts as one failure."""
import json
import re
import sys

log, status = sys.argv[1], int(sys.argv[2])
passed = failed = 0
try:
    entries = [json.loads(line) for line in open(log) if line.strip()]
except OSError:
    entries = []
for e in entries:
    out = e.get("stdout", "") or ""
    ok = e.get("result") in ("OK", "EXPECTEDFAIL", "SKIP")
    m = re.findall(r"All tests passed \(\d+ assertions? in (\d+) test cases?\)", out)
    f = re.findall(r"test cases:\s+(\d+) \|\s+(\d+) passed \|\s+(\d+) failed", out)
    if m and ok:
        passed += int(m[-1])
    elif f:
        passed += int(f[-1][1])
        failed += max(int(f[-1][2]), 0 if ok else 1)
    elif ok:
        passed += 1
    else:
        failed += 1
if not entries or (status != 0 and failed == 0):
    failed += 1
print(f"{passed} passed, {failed} failed")
sys.exit(0 if failed == 0 else 1)
