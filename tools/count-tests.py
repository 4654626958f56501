#!/usr/bin/env python3
"""Counts test cases from meson's testlog.json files (TAP output of GTest
programs) and prints the summary line `N passed, N failed`.

A program that fails without reporting a failing case (a crash, a timeout,
a sanitizer report) counts as one failure of its own. Skips are reported
separately and never counted as passes. Exit status 1 when anything failed.
"""
import json
import re
import sys

passed = failed = skipped = 0
failures = []
for path in sys.argv[1:]:
    suite = path.split("/")[0]
    try:
        lines = open(path, encoding="utf-8").read().splitlines()
    except OSError as e:
        print(f"{path}: {e}")
        failed += 1
        continue
    for line in lines:
        if not line.strip():
            continue
        t = json.loads(line)
        out = t.get("stdout", "") or ""
        not_ok = 0
        for l in out.splitlines():
            m = re.match(r"^(not ok|ok)\b(.*)$", l)
            if not m:
                continue
            if "# SKIP" in m.group(2):
                skipped += 1
            elif m.group(1) == "ok":
                passed += 1
            else:
                failed += 1
                not_ok += 1
                failures.append(f"{suite}: {t['name']}:{m.group(2)}")
        if t.get("result") in ("FAIL", "TIMEOUT", "ERROR", "UNEXPECTEDPASS") and not_ok == 0:
            failed += 1
            failures.append(f"{suite}: {t['name']} ({t.get('result')}, exit {t.get('returncode')})")
        elif t.get("result") == "SKIP" and not out:
            skipped += 1

for f in failures:
    print("FAILED", f)
print(f"{skipped} skipped")
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
