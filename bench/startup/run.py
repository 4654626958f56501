#!/usr/bin/env python3
"""Start-up time of the Secateur application against a bare libadwaita window.

    python3 bench/startup/run.py [--build build] [--model resources/models/demo] [--runs 7]

Both programs run under one private Xvfb (1366x768, the smallest screen the
application is designed for) and print "ready" once their first frame is
painted; the application only after the model's overview is shown
(SECATEUR_QUIT_WHEN_READY). Time is measured from spawn to that line, the
first run of each discarded (cold caches), and the ratio application /
reference is the figure to read.
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time


def start_xvfb():
    r, w = os.pipe()
    xvfb = subprocess.Popen(["Xvfb", "-displayfd", str(w), "-screen", "0", "1366x768x24", "-nolisten", "tcp"],
                            pass_fds=(w,), stderr=subprocess.DEVNULL)
    os.close(w)
    display = os.read(r, 64).decode().strip()
    os.close(r)
    return xvfb, ":" + display


def time_ready(cmd, env):
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    for line in p.stdout:
        if line.strip() == "ready":
            dt = time.monotonic() - t0
            break
    else:
        p.wait()
        sys.exit(f"{cmd[0]} exited ({p.returncode}) without painting a ready frame")
    p.wait(timeout=60)
    return dt


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--model", default="resources/models/demo")
    ap.add_argument("--runs", type=int, default=7)
    a = ap.parse_args()
    app = os.path.join(a.build, "app", "secateur")
    ref = os.path.join(a.build, "bench", "bench-startup-ref")
    for p in (app, ref):
        if not os.access(p, os.X_OK):
            sys.exit(f"{p} is missing: build with -Dgui=enabled")
    xvfb, display = start_xvfb()
    try:
        with tempfile.TemporaryDirectory() as home:
            env = dict(os.environ, DISPLAY=display, GDK_BACKEND="x11", NO_AT_BRIDGE="1",
                       GSETTINGS_BACKEND="memory", XDG_CONFIG_HOME=home, XDG_DATA_HOME=home,
                       XDG_CACHE_HOME=home, GSETTINGS_SCHEMA_DIR=os.path.join(a.build, "resources"),
                       SECATEUR_QUIT_WHEN_READY="1")
            env.pop("WAYLAND_DISPLAY", None)
            times = {"reference": [], "secateur": []}
            for i in range(a.runs + 1):
                r = time_ready([ref], env)
                s = time_ready([app, a.model], env)
                if i > 0:
                    times["reference"].append(r)
                    times["secateur"].append(s)
    finally:
        xvfb.terminate()
        xvfb.wait()
    med = {k: statistics.median(v) for k, v in times.items()}
    print(f"runs: {a.runs} each (after one discarded), model {a.model}")
    print("| program | median s | min s | max s |\n|---|---|---|---|")
    for k, v in times.items():
        print(f"| {k} | {med[k]:.3f} | {min(v):.3f} | {max(v):.3f} |")
    print(f"\nsecateur / reference (median): {med['secateur'] / med['reference']:.2f}x; "
          f"secateur to a shown model: {med['secateur']:.3f} s")


if __name__ == "__main__":
    main()
