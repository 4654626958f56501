#!/usr/bin/env python3
"""check-potfiles.py SOURCE_ROOT: POTFILES.in must list every source and UI
file that has translatable strings (gettext calls in C, translatable="yes"
in GtkBuilder files), and only files that exist. Prints TAP."""

import os
import re
import sys

root = sys.argv[1]
C_CALL = re.compile(r'(?<![A-Za-z0-9_])(_|N_|C_|NC_|g_dngettext|g_dpgettext2)\s*\(\s*"')
SCAN = ["app", "ui", "engine"]

listed = []
with open(os.path.join(root, "po", "POTFILES.in"), encoding="utf-8") as f:
    for line in f:
        line = line.strip()
        if line and not line.startswith("#"):
            listed.append(line)

found = []
for top in SCAN:
    for dirpath, _, files in os.walk(os.path.join(root, top)):
        for name in sorted(files):
            path = os.path.join(dirpath, name)
            rel = os.path.relpath(path, root)
            if name.endswith(".c"):
                text = open(path, encoding="utf-8", errors="replace").read()
                if C_CALL.search(text):
                    found.append(rel)
            elif name.endswith(".ui"):
                if 'translatable="yes"' in open(path, encoding="utf-8").read():
                    found.append(rel)

missing = sorted(set(found) - set(listed))
absent = [p for p in listed if not os.path.exists(os.path.join(root, p))]
print("1..2")
print(("ok" if not missing else "not ok") + " 1 - every file with translatable strings is in POTFILES.in")
for p in missing:
    print(f"# not listed: {p}")
print(("ok" if not absent else "not ok") + " 2 - every file in POTFILES.in exists")
for p in absent:
    print(f"# missing file: {p}")
