#!/usr/bin/env python3
"""check-layers.py SOURCE_ROOT BUILD_ROOT LAYER:DEPS...: the engine's layers
see only the headers of the layers they declare.

Each LAYER:DEPS names a folder of engine/ and the layers it may use directly
(comma-separated; DEPS' own dependencies are allowed too). For each layer,
one of its C files is compiled again with the exact command meson gives it
(compile_commands.json), on a probe that asks __has_include for every
header of engine/: a header of the layer or a layer below must be found, a
header of any other layer must not. Prints TAP."""

import json
import os
import shlex
import subprocess
import sys
import tempfile

src_root, build_root = sys.argv[1], sys.argv[2]
declared = {}
for arg in sys.argv[3:]:
    layer, _, deps = arg.partition(":")
    declared[layer] = [d for d in deps.split(",") if d]


def closure(layer, seen=None):
    seen = set() if seen is None else seen
    if layer not in seen:
        seen.add(layer)
        for dep in declared[layer]:
            closure(dep, seen)
    return seen


engine = os.path.join(src_root, "engine")
headers = {}  # layer -> header names in its folder (sub-folders are its own layers)
for layer in declared:
    folder = os.path.join(engine, layer)
    headers[layer] = sorted(n for n in os.listdir(folder) if n.endswith(".h"))

with open(os.path.join(build_root, "compile_commands.json"), encoding="utf-8") as f:
    commands = json.load(f)


def command_for(layer):
    """The compile command of one of `layer`'s C files, as meson runs it."""
    folder = os.path.realpath(os.path.join(engine, layer))
    for entry in commands:
        path = os.path.realpath(os.path.join(entry["directory"], entry["file"]))
        if os.path.dirname(path) == folder and path.endswith(".c"):
            args = entry.get("arguments") or shlex.split(entry["command"])
            return entry["directory"], entry["file"], args
    return None


def probe_args(args, source, probe):
    """`args` compiling `probe` for syntax only: no object, no depfile."""
    out = []
    skip = False
    for a in args:
        if skip:
            skip = False
            continue
        if a in ("-o", "-MF", "-MQ", "-MT"):
            skip = True
            continue
        if a in ("-c", "-MD", "-MMD") or a == source:
            continue
        out.append(a)
    return out + ["-fsyntax-only", "-fdiagnostics-color=never", probe]


print(f"1..{len(declared)}")
failed = 0
with tempfile.TemporaryDirectory() as tmp:
    for n, layer in enumerate(declared, 1):
        found = command_for(layer)
        if found is None:
            print(f"not ok {n} - {layer}: no compile command for a C file of engine/{layer}")
            failed += 1
            continue
        directory, source, args = found
        allowed = closure(layer)
        lines = []
        for other in declared:
            for h in headers[other]:
                if other in allowed:
                    lines += [f'#if !__has_include("{h}")',
                              f'#error "{layer} should see {other}/{h}"', "#endif"]
                else:
                    lines += [f'#if __has_include("{h}")',
                              f'#error "{layer} sees {other}/{h}, a layer it does not declare"',
                              "#endif"]
        probe = os.path.join(tmp, f"probe-{layer}.c")
        with open(probe, "w", encoding="utf-8") as f:
            f.write("\n".join(lines) + "\nint sc_probe;\n")
        run = subprocess.run(probe_args(args, source, probe), cwd=directory,
                             capture_output=True, text=True)
        if run.returncode == 0:
            print(f"ok {n} - {layer} sees {', '.join(sorted(allowed))} and nothing else")
        else:
            failed += 1
            print(f"not ok {n} - {layer}: headers outside its declared layers")
            for line in run.stderr.splitlines():
                if "#error" in line or "error:" in line:
                    print(f"# {line.strip()}")
sys.exit(1 if failed else 0)
