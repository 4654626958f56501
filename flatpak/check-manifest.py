#!/usr/bin/env python3
"""Checks the Flatpak manifest against the meson project it builds.

check-manifest.py MANIFEST APP_ID MESON_OPTIONS_TXT

The manifest cannot be built here (the GNOME runtime is not reachable), so
this asserts what can go wrong without a build: strict JSON, the app id and
command, sandbox permissions limited to display and GPU, the native modules
pinned by tag and commit, and secateur's -D options existing in
meson_options.txt with values of the right type. Exits 1 with one line per
problem.
"""

import json
import re
import sys

PINNED = {
    "sentencepiece": ("v0.2.0", "17d7580d6407802f85855d2cc9190634e2c95624"),
    "openblas": ("v0.3.28", "5ef8b1964658f9cb6a6324a06f6a1a022609b0c5"),
}
# Display, GPU rendering and X11 shared memory; model folders come through
# the file chooser portal, so no --filesystem and no network.
ALLOWED_FINISH_ARGS = {"--socket=wayland", "--socket=fallback-x11", "--share=ipc", "--device=dri"}
REQUIRED_FINISH_ARGS = {"--socket=wayland", "--socket=fallback-x11", "--device=dri"}
VALUES = {
    "feature": {"enabled", "disabled", "auto"},
    "boolean": {"true", "false"},
}


def meson_options(path):
    """Name -> type of each option() in meson_options.txt."""
    text = open(path, encoding="utf-8").read()
    found = re.findall(r"option\(\s*'([^']+)'\s*,\s*type\s*:\s*'([^']+)'", text)
    return dict(found)


def check(manifest_path, app_id, options_path):
    problems = []
    try:
        with open(manifest_path, encoding="utf-8") as f:
            manifest = json.load(f)
    except (OSError, ValueError) as e:
        return [f"{manifest_path}: not valid JSON: {e}"]
    if not isinstance(manifest, dict):
        return [f"{manifest_path}: top level is not an object"]

    if manifest.get("id") != app_id:
        problems.append(f"id is {manifest.get('id')!r}, meson says {app_id!r}")
    if manifest.get("command") != "secateur":
        problems.append(f"command is {manifest.get('command')!r}, expected 'secateur'")
    if manifest.get("runtime") != "org.gnome.Platform" or manifest.get("sdk") != "org.gnome.Sdk":
        problems.append("runtime/sdk must be org.gnome.Platform / org.gnome.Sdk")
    if not str(manifest.get("runtime-version", "")).isdigit():
        problems.append("runtime-version must be a GNOME release number")

    args = manifest.get("finish-args", [])
    for a in args:
        if a not in ALLOWED_FINISH_ARGS:
            problems.append(f"finish-arg {a} is not needed (allowed: {sorted(ALLOWED_FINISH_ARGS)})")
    for a in sorted(REQUIRED_FINISH_ARGS - set(args)):
        problems.append(f"finish-arg {a} is missing")

    modules = manifest.get("modules", [])
    names = [m.get("name") if isinstance(m, dict) else m for m in modules]
    if not names or names[-1] != "secateur":
        problems.append(f"the last module must be secateur, modules are {names}")
    for name, (tag, commit) in PINNED.items():
        if name not in names:
            problems.append(f"module {name} is missing")
            continue
        module = modules[names.index(name)]
        sources = [s for s in module.get("sources", []) if s.get("type") == "git"]
        if len(sources) != 1:
            problems.append(f"module {name} needs exactly one git source")
            continue
        src = sources[0]
        if src.get("tag") != tag:
            problems.append(f"module {name}: tag {src.get('tag')!r}, expected {tag!r}")
        if src.get("commit") != commit:
            problems.append(f"module {name}: commit {src.get('commit')!r}, expected {commit}")
    if "openblas" in names:
        commands = " ".join(modules[names.index("openblas")].get("build-commands", []))
        for flag in ("DYNAMIC_ARCH=1", "NO_LAPACKE=0", "PREFIX=/app"):
            if flag not in commands:
                problems.append(f"module openblas: build commands lack {flag}")

    if names and names[-1] == "secateur":
        app = modules[-1]
        if app.get("buildsystem") != "meson":
            problems.append("module secateur must use buildsystem meson")
        types = meson_options(options_path)
        seen = {}
        for opt in app.get("config-opts", []):
            m = re.fullmatch(r"-D([A-Za-z0-9_.-]+)=(.*)", opt)
            if not m:
                problems.append(f"module secateur: config-opt {opt!r} is not -Dname=value")
                continue
            key, value = m.groups()
            seen[key] = value
            if key not in types:
                problems.append(f"module secateur: -D{key} is not in meson_options.txt")
            elif types[key] in VALUES and value not in VALUES[types[key]]:
                problems.append(f"module secateur: -D{key}={value} is not a {types[key]} value")
        if seen.get("cuda") != "disabled":
            problems.append("module secateur: the Flatpak builds with -Dcuda=disabled by default")
        if seen.get("gui") != "enabled":
            problems.append("module secateur: the Flatpak needs -Dgui=enabled")
    return problems


def main():
    if len(sys.argv) != 4:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    problems = check(*sys.argv[1:])
    for p in problems:
        print(p)
    if not problems:
        print(f"{sys.argv[1]}: ok")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
