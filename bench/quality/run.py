#!/usr/bin/env python3
"""Quality benchmarks of the demo model (issue: the demo model, section 5).

Drives secateur-cli only (no PyTorch): the full model per direction (beam 4),
expert pruning at several ratios for each metric x granularity x
encoder:decoder budget, and calibration sampled three ways (MBS-proportional,
English-only, per pair). Results land in OUT (JSON per run, TSV tables, PNG
plots drawn by Secateur's own Cairo charts via build/bench/sc-plot) and are
summarised in markdown on stdout for bench/RESULTS.md.

    python3 bench/quality/run.py --corpus /work/demo/corpus --out bench/results/demo \
        [--model resources/models/demo] [--n-full 100] [--n-grid 20] [--jobs 2]

The test and calibration splits come from tools/corpus/make_gettext.py
(LANG<TAB>English<TAB>translation, read by the engine's `bitext:` corpus).
Every step is cached in OUT: re-running skips what is done.
"""
import argparse
import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

LANGS = "arb_Arab deu_Latn fra_Latn hin_Deva ita_Latn jpn_Jpan pol_Latn por_Latn rus_Cyrl spa_Latn zho_Hans".split()
X2E = [f"{l}-eng_Latn" for l in LANGS]
E2X = [f"eng_Latn-{l}" for l in LANGS]
PAIRS = X2E + E2X


def cli(a, *args, log=None):
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1")
    cmd = [a.cli, *args]
    r = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{r.stderr[-2000:]}")
    if log:
        with open(log, "w") as f:
            f.write(r.stderr)
    return r


def evaluate(a, name, pairs, n, beam, max_len, experts=None):
    """Per-direction scores, directions split over --jobs processes; cached."""
    out = os.path.join(a.out, "eval", name + ".json")
    if os.path.exists(out):
        with open(out) as f:
            return json.load(f)
    os.makedirs(os.path.dirname(out), exist_ok=True)
    chunks = [pairs[i::a.jobs] for i in range(a.jobs)]

    def run(i):
        part = f"{out}.part{i}"
        args = ["evaluate", "-m", a.model, "--pairs", ",".join(chunks[i]), "--corpus",
                f"bitext:{a.corpus}/test.tsv", "--split", "all", "--limit", str(n),
                "--beam", str(beam), "--max-len", str(max_len), "-o", part]
        if experts:
            args += ["--experts", experts]
        cli(a, *args)
        with open(part) as f:
            d = json.load(f)
        os.remove(part)
        return d

    t0 = time.time()
    with ThreadPoolExecutor(a.jobs) as ex:
        parts = list(ex.map(run, range(a.jobs)))
    res = {}
    for d in parts:
        for r in d["directions"]:
            side = r["pruned"] if experts else r["full"]
            res[r["direction"]] = {"chrf++": side["chrf++"], "spbleu": side["spbleu"],
                                   "n": r["sentences"]}
    res = {"name": name, "seconds": round(time.time() - t0, 1), "directions": res}
    with open(out, "w") as f:
        json.dump(res, f, indent=1)
    print(f"  {name}: {res['seconds']} s", file=sys.stderr)
    return res


def calibrate(a, name, pairs, sampling, size):
    out = os.path.join(a.out, "stats", name + ".json")
    if not os.path.exists(out):
        os.makedirs(os.path.dirname(out), exist_ok=True)
        cli(a, "calibrate", "-m", a.model, "--pairs", ",".join(pairs), "--corpus",
            f"bitext:{a.corpus}/calib.tsv", "--sampling", sampling, "--size", str(size),
            "--seed", "1", "-o", out, "-q", log=out + ".log")
    return out


def select(a, stats, metric, gran, ratio, encdec):
    name = f"{os.path.basename(stats)[:-5]}-{metric}-{gran}-{int(ratio * 100)}-{encdec.replace(':', 'to')}"
    out = os.path.join(a.out, "index", name + ".json")
    if not os.path.exists(out):
        os.makedirs(os.path.dirname(out), exist_ok=True)
        args = ["select", "--stats", stats, "--ratio", str(ratio), "--metric", metric,
                "--granularity", gran, "--enc-dec", encdec, "-o", out]
        if gran != "global":
            args += ["--pairs", ",".join(PAIRS)]
        cli(a, *args)
    return name, out


def pruned(a, stats, metric, gran, ratio, encdec):
    """Greedy scores on the grid's sentences after pruning by (metric, granularity, ratio, budget)."""
    name, idx = select(a, stats, metric, gran, ratio, encdec)
    return evaluate(a, f"greedy-n{a.n_grid}-{name}", PAIRS, a.n_grid, 1, a.max_len, idx)


def unpruned(a):
    return evaluate(a, f"greedy-full-n{a.n_grid}", PAIRS, a.n_grid, 1, a.max_len)


def mean(res, pairs):
    v = [res["directions"][p]["chrf++"] for p in pairs]
    return sum(v) / len(v)


def summary(res):
    return mean(res, X2E), mean(res, E2X), mean(res, PAIRS)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="resources/models/demo")
    ap.add_argument("--corpus", default="/work/demo/corpus")
    ap.add_argument("--out", default="bench/results/demo")
    ap.add_argument("--cli", default="build/app/secateur-cli")
    ap.add_argument("--plot", default="build/bench/sc-plot")
    ap.add_argument("--n-full", type=int, default=100)
    ap.add_argument("--n-grid", type=int, default=20)
    ap.add_argument("--calib-size", type=int, default=660)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--max-len", type=int, default=96)
    ap.add_argument("--only", default="", help="comma list of steps: full,grid,lang,calib,spec")
    a = ap.parse_args()
    steps = set(a.only.split(",")) if a.only else {"full", "grid", "lang", "calib", "spec"}
    os.makedirs(a.out, exist_ok=True)
    md = []

    if "full" in steps:
        full = evaluate(a, "full-beam4", PAIRS, a.n_full, 4, a.max_len)
        md.append(f"### Full demo model, beam 4, {a.n_full} test sentences per direction\n")
        md.append("| direction | chrF++ | spBLEU |\n|---|---|---|")
        for p in PAIRS:
            d = full["directions"][p]
            md.append(f"| {p} | {d['chrf++']:.1f} | {d['spbleu']:.1f} |")
        x, e, al = summary(full)
        lo = min(full["directions"][p]["chrf++"] for p in PAIRS)
        md.append(f"| **mean X→eng / eng→X / all (min)** | **{x:.1f} / {e:.1f} / {al:.1f}** ({lo:.1f}) | |\n")

    pair_stats = calibrate(a, "pair", PAIRS, "uniform", a.calib_size)
    ratios_main = [0.25, 0.5, 0.75, 0.8, 0.9]
    ratios_side = [0.5, 0.75, 0.9]
    if "grid" in steps:
        base = unpruned(a)
        b = summary(base)[2]
        rows = []  # (metric, gran, encdec, ratio, mean chrF++, delta)

        def run(metric, gran, encdec, ratio, stats=pair_stats):
            m = summary(pruned(a, stats, metric, gran, ratio, encdec))
            rows.append((os.path.basename(stats)[:-5], metric, gran, encdec, ratio, m[0], m[1], m[2], m[2] - b))
            return m[2]

        for metric in ["importance", "random"]:
            for r in ratios_main:
                run(metric, "pair", "3:1", r)
        for metric in ["activity", "frequency", "reap"]:
            for r in ratios_side:
                run(metric, "pair", "3:1", r)
        for gran in ["global", "lang"]:
            for r in ratios_side:
                run("importance", gran, "3:1", r)
        for r in ratios_side:
            run("importance", "pair", "1:1", r)
        with open(os.path.join(a.out, "grid.tsv"), "w") as f:
            f.write("calibration\tmetric\tgranularity\tenc:dec\tratio\tX->eng\teng->X\tall\tdelta\n")
            for row in rows:
                f.write("\t".join(str(round(v, 2)) if isinstance(v, float) else str(v) for v in row) + "\n")
        md.append(f"### Expert pruning (greedy, {a.n_grid} test sentences per direction, 22 directions; "
                  f"calibration: {a.calib_size} sentences of the calibration split, uniform over directions)\n")
        md.append(f"Unpruned, same setting: mean chrF++ {b:.2f}.\n")
        md.append("| metric | granularity | enc:dec | pruned | X→eng | eng→X | all | Δ all |\n|---|---|---|---|---|---|---|---|")
        for row in rows:
            md.append(f"| {row[1]} | {row[2]} | {row[3]} | {int(row[4] * 100)}% | {row[5]:.1f} | {row[6]:.1f} | {row[7]:.1f} | {row[8]:+.1f} |")
        # curve: metric x ratio at pair granularity, 3:1
        series = ["importance", "random", "activity", "frequency", "reap"]
        with open(os.path.join(a.out, "quality-vs-ratio.tsv"), "w") as f:
            f.write("x\t" + "\t".join(series) + "\n")
            f.write("0\t" + "\t".join(f"{b:.2f}" for _ in series) + "\n")
            for r in ratios_main:
                vals = []
                for s in series:
                    v = [row[7] for row in rows if row[1] == s and row[2] == "pair" and row[3] == "3:1" and row[4] == r]
                    vals.append(f"{v[0]:.2f}" if v else "")
                f.write(f"{int(r * 100)}\t" + "\t".join(vals) + "\n")
        if os.path.exists(a.plot):
            subprocess.run([a.plot, "curve", os.path.join(a.out, "quality-vs-ratio.tsv"),
                            os.path.join(a.out, "quality-vs-ratio.png"), "--title",
                            "Demo model: chrF++ after expert pruning (per pair, enc:dec 3:1)",
                            "--x-label", "experts pruned (%)", "--y-label", "chrF++"], check=False)

    if "lang" in steps:
        # The acceptance comparison: per language (a direction keeps its source language's encoder
        # experts and its target language's decoder experts), importance against the random floor.
        base = summary(unpruned(a))[2]
        md.append(f"\n### Per-language expert pruning: importance against random (greedy, {a.n_grid} sentences "
                  f"per direction; unpruned {base:.2f})\n")
        md.append("| pruned | enc:dec | importance Δ | random Δ | importance / random |\n|---|---|---|---|---|")
        rows = []
        for ratio in [0.5, 0.75]:
            for encdec in ["1:1", "3:1"]:
                d = {}
                for metric in ["importance", "random"]:
                    d[metric] = summary(pruned(a, pair_stats, metric, "lang", ratio, encdec))[2] - base
                q = d["importance"] / d["random"] if d["random"] < 0 else float("nan")
                rows.append({"ratio": ratio, "enc_dec": encdec, **d, "importance_over_random": q})
                md.append(f"| {int(ratio * 100)}% | {encdec} | {d['importance']:+.2f} | {d['random']:+.2f} | {q:.2f} |")
        with open(os.path.join(a.out, "lang-importance-vs-random.json"), "w") as f:
            json.dump({"unpruned": base, "rows": rows}, f, indent=1)
        # every metric at every ratio, per language with the 1:1 budget
        metrics = ["importance", "random", "activity", "frequency", "reap"]
        md.append(f"\nEvery metric per language, enc:dec 1:1 (mean chrF++; unpruned {base:.2f}):\n")
        md.append("| metric | " + " | ".join(f"{int(r * 100)}%" for r in ratios_main) + " |\n|---|"
                  + "---|" * len(ratios_main))
        with open(os.path.join(a.out, "lang-1to1.tsv"), "w") as f:
            f.write("x\t" + "\t".join(metrics) + "\n0\t" + "\t".join(f"{base:.2f}" for _ in metrics) + "\n")
            table = {m: [] for m in metrics}
            for metric in metrics:
                for ratio in ratios_main:
                    table[metric].append(summary(pruned(a, pair_stats, metric, "lang", ratio, "1:1"))[2])
                md.append(f"| {metric} | " + " | ".join(f"{v:.1f}" for v in table[metric]) + " |")
            for i, ratio in enumerate(ratios_main):
                f.write(f"{int(ratio * 100)}\t" + "\t".join(f"{table[m][i]:.2f}" for m in metrics) + "\n")
        if os.path.exists(a.plot):
            subprocess.run([a.plot, "curve", os.path.join(a.out, "lang-1to1.tsv"),
                            os.path.join(a.out, "lang-1to1.png"), "--title",
                            "Demo model: chrF++ after expert pruning (per language, enc:dec 1:1)",
                            "--x-label", "experts pruned (%)", "--y-label", "chrF++"], check=False)

    if "calib" in steps:
        md.append(f"\n### Calibration sampling (importance, one global expert set, greedy, {a.n_grid} sentences per direction)\n")
        md.append("| calibration | pruned | X→eng | eng→X | all |\n|---|---|---|---|---|")
        mbs = calibrate(a, "mbs", PAIRS, "proportional", a.calib_size)
        eng = calibrate(a, "english", E2X, "uniform", a.calib_size)
        for label, st in [("MBS proportional (22 directions)", mbs), ("English-only (eng→X)", eng),
                          ("uniform per pair (22 directions)", pair_stats)]:
            for r in [0.5, 0.75]:
                x, e, al = summary(pruned(a, st, "importance", "global", r, "3:1"))
                md.append(f"| {label} | {int(r * 100)}% | {x:.1f} | {e:.1f} | {al:.1f} |")

    if "spec" in steps:
        spec_dir = os.path.join(a.out, "specialisation")
        r = cli(a, "stats", "specialisation", pair_stats, "--tsv-dir", spec_dir)
        with open(os.path.join(spec_dir, "specialisation.txt"), "w") as f:
            f.write(r.stdout)
        md.append("\n### Specialisation (calibration split, uniform over the 22 directions)\n\n```\n" + r.stdout + "```")
        if os.path.exists(a.plot):
            for side in ["encoder", "decoder"]:
                subprocess.run([a.plot, "matrix", os.path.join(spec_dir, f"similarity-{side}.tsv"),
                                os.path.join(a.out, f"similarity-{side}.png"), "--title",
                                f"Language similarity of expert use, {side} MoE layers"], check=False)

    print("\n".join(md))


if __name__ == "__main__":
    main()
