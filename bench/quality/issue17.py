#!/usr/bin/env python3
"""Issue 17's benchmark: output-aware selection, per-layer budgets and expert
merging against importance (the paper's method) on the demo model.

Per language (a direction keeps its source language's encoder experts and its
target language's decoder experts), enc:dec 1:1 and 3:1, several ratios; beam 4
on N test strings per direction (the test split of tools/corpus/make_gettext.py);
statistics and the router-input capture from the calibration split only. Every
setting (capture size, calibration size, seed) is fixed here, before any test
string is scored; nothing is tuned on the test strings.

    nice -n 19 python3 bench/quality/issue17.py --corpus /work/demo/corpus \\
        --out bench/results/demo-issue17 [--n 100] [--jobs 2]

Drives build/app/secateur-cli only. Every step is cached in OUT (re-running
skips what is done); `--report` only prints the markdown of what is there.
"""
import argparse
import glob
import hashlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

LANGS = "arb_Arab deu_Latn fra_Latn hin_Deva ita_Latn jpn_Jpan pol_Latn por_Latn rus_Cyrl spa_Latn zho_Hans".split()
X2E = [f"{l}-eng_Latn" for l in LANGS]
E2X = [f"eng_Latn-{l}" for l in LANGS]
PAIRS = X2E + E2X
SUBSETS = 5  # test strings i, i + 5, ... form subset i % 5: the spread of a change over them

# method -> (select arguments, merge at evaluation)
METHODS = {
    "importance": ([], False),
    "reconstruct": (["--algo", "reconstruct"], False),
    "reconstruct+sens": (["--algo", "reconstruct", "--layer-budgets", "sensitivity"], False),
    "importance+merge": ([], True),
    "reconstruct+sens+merge": (["--algo", "reconstruct", "--layer-budgets", "sensitivity"], True),
}
LABELS = {
    "importance": "importance (the paper's)",
    "reconstruct": "reconstruct",
    "reconstruct+sens": "reconstruct + sensitivity budgets",
    "importance+merge": "importance + merging",
    "reconstruct+sens+merge": "reconstruct + sensitivity + merging",
}


# the plot's legend has little room
SHORT = {"importance": "importance", "reconstruct": "reconstruct", "reconstruct+sens": "rec.+sens.",
         "importance+merge": "importance+merge", "reconstruct+sens+merge": "rec.+sens.+merge"}


def cli(a, *args, log=None, timed=None):
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1")
    cmd = [a.cli, *args]
    if timed:
        cmd = ["/usr/bin/time", "-f", "%e s %M KiB", "-o", timed] + cmd
    r = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{r.stderr[-2000:]}")
    if log:
        with open(log, "w") as f:
            f.write(" ".join(cmd) + "\n" + r.stdout + r.stderr)
    return r


def calibrate(a):
    out = os.path.join(a.out, "stats", "calib.json")
    if not os.path.exists(a.capture_path):
        os.makedirs(os.path.dirname(out), exist_ok=True)
        cli(a, "calibrate", "-m", a.model, "--pairs", ",".join(PAIRS), "--corpus",
            f"bitext:{a.corpus}/calib.tsv", "--sampling", "uniform", "--size", str(a.calib_size),
            "--seed", "1", "--capture", str(a.capture), "-o", out, "-q", log=out + ".log",
            timed=out + ".time")
    return out


def evaluate(a, name, experts=None, merge=False):
    """Per-direction scores and translations; directions split over --jobs processes; cached."""
    out = os.path.join(a.out, "eval", name + ".json")
    if os.path.exists(out):
        with open(out) as f:
            return json.load(f)
    os.makedirs(os.path.dirname(out), exist_ok=True)
    twin = same_as(a, experts, merge) if experts else None
    if twin is not None:
        res = dict(twin, name=name, experts=experts, same_as=twin["name"])
        with open(out, "w") as f:
            json.dump(res, f, indent=1, ensure_ascii=False)
        print(f"  {name}: the same index as {twin['name']}", file=sys.stderr, flush=True)
        return res
    chunks = [PAIRS[i::a.jobs] for i in range(a.jobs)]

    def run(i):
        part = f"{out}.part{i}"
        args = ["evaluate", "-m", a.model, "--pairs", ",".join(chunks[i]), "--corpus",
                f"bitext:{a.corpus}/test.tsv", "--split", "all", "--limit", str(a.n),
                "--beam", str(a.beam), "--max-len", str(a.max_len), "-o", part]
        if experts:
            args += ["--experts", experts, "--pruned-only"]
        if merge:
            args += ["--merge", "--capture", a.capture_path]
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
                                   "n": r["sentences"], "translations": side["translations"]}
    res = {"name": name, "seconds": round(time.time() - t0, 1), "experts": experts,
           "merge": merge, "directions": res}
    with open(out, "w") as f:
        json.dump(res, f, indent=1, ensure_ascii=False)
    print(f"  {name}: {res['seconds']} s", file=sys.stderr, flush=True)
    return res


def select(a, method, ratio, encdec):
    extra, _ = METHODS[method]
    key = method.replace("+merge", "")
    name = f"{key}-{int(ratio * 100)}-{encdec.replace(':', 'to')}"
    out = os.path.join(a.out, "index", name + ".json")
    if not os.path.exists(out):
        os.makedirs(os.path.dirname(out), exist_ok=True)
        args = ["select", "--stats", a.stats, "--ratio", str(ratio), "--metric", "importance",
                "--granularity", "lang", "--pairs", ",".join(PAIRS), "--enc-dec", encdec,
                "-o", out] + extra
        if extra or "merge" in method:
            args += ["-m", a.model, "--capture", a.capture_path]
        if "merge" in method:
            args += ["--merge"]
        cli(a, *args, log=out[:-5] + ".txt", timed=out[:-5] + ".time")
    return out


def references(a):
    refs = {}
    with open(os.path.join(a.corpus, "test.tsv")) as f:
        for line in f:
            lang, en, xx = line.rstrip("\n").split("\t")[:3]
            refs.setdefault(f"{lang}-eng_Latn", []).append(en)
            refs.setdefault(f"eng_Latn-{lang}", []).append(xx)
    return refs


def subset_scores(a, res, refs):
    """chrF++ of each direction on each test-string subset (cached beside the evaluation)."""
    path = os.path.join(a.out, "eval", res["name"] + ".subsets.json")
    if os.path.exists(path):
        with open(path) as f:
            return json.load(f)
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        for p in PAIRS:
            hyps = res["directions"][p]["translations"]
            out[p] = []
            for s in range(SUBSETS):
                rf, hf = os.path.join(tmp, "r"), os.path.join(tmp, "h")
                with open(rf, "w") as f:
                    f.write("".join(refs[p][i].replace("\n", " ") + "\n" for i in range(s, len(hyps), SUBSETS)))
                with open(hf, "w") as f:
                    f.write("".join(hyps[i].replace("\n", " ") + "\n" for i in range(s, len(hyps), SUBSETS)))
                r = cli(a, "score", "--metric", "chrf++", "-r", rf, "-i", hf)
                out[p].append(float(r.stdout.split()[-1]))
    with open(path, "w") as f:
        json.dump(out, f)
    return out


def cells(a):
    """(method, ratio, enc:dec) in the order they run: the most telling first
    (1:1: the paper's method, the best selection and merging at every ratio;
    then the rest; 3:1 last)."""
    order = []
    main = ["importance", "reconstruct+sens", "importance+merge"]
    rest = [m for m in METHODS if m not in main]
    for ratios, methods in (([0.5], list(METHODS)), ([0.75, 0.9], main), ([0.75, 0.9], rest),
                            ([0.25, 0.8], main), ([0.25, 0.8], rest)):
        for r in ratios:
            for m in methods:
                order.append((m, r, "1:1"))
    for ratios, methods in (([0.5, 0.75, 0.9], main), ([0.25, 0.8], main),
                            ([0.5, 0.75, 0.9, 0.25, 0.8], rest)):
        for r in ratios:
            for m in methods:
                order.append((m, r, "3:1"))
    return order


def same_as(a, experts, merge):
    """An evaluation already made of the same expert index (byte for byte) and merging:
    at 90 % with 16 experts every layer keeps one, so sensitivity has nothing to move."""
    with open(experts, "rb") as f:
        want = hashlib.sha1(f.read()).hexdigest()
    for path in sorted(glob.glob(os.path.join(a.out, "eval", "*.json"))):
        if path.endswith(".subsets.json"):
            continue
        with open(path) as f:
            d = json.load(f)
        if d.get("experts") and d.get("merge") == merge and os.path.exists(d["experts"]):
            with open(d["experts"], "rb") as f:
                if hashlib.sha1(f.read()).hexdigest() == want:
                    return d
    return None


def report(a):
    refs = references(a)
    full_path = os.path.join(a.out, "eval", "full.json")
    if not os.path.exists(full_path):
        return "(nothing measured yet)"
    full = evaluate(a, "full")
    fsub = subset_scores(a, full, refs)
    fmean = statistics.mean(full["directions"][p]["chrf++"] for p in PAIRS)
    fbleu = statistics.mean(full["directions"][p]["spbleu"] for p in PAIRS)
    md = [f"Unpruned: mean chrF++ {fmean:.2f}, mean spBLEU {fbleu:.2f} "
          f"({len(PAIRS)} directions, {a.n} test strings each, beam {a.beam}).\n",
          "| enc:dec | removed | method | mean chrF++ change | sd over subsets | vs importance (sd over subsets) "
          "| worst direction | mean spBLEU change |",
          "|---|---|---|---|---|---|---|---|"]
    rows = []
    tsv = ["enc_dec\tratio\tmethod\tmean_chrf_delta\tsubset_sd\tvs_importance\tvs_importance_sd\t"
           "worst_delta\tworst_direction\tmean_spbleu_delta"]
    by_cell = {}
    table_order = [(m, r, ed) for ed in ["1:1", "3:1"] for r in [0.25, 0.5, 0.75, 0.8, 0.9] for m in METHODS]
    for m, r, ed in table_order:
        name = f"{m}-{int(r * 100)}-{ed.replace(':', 'to')}"
        if not os.path.exists(os.path.join(a.out, "eval", name + ".json")):
            continue
        res = evaluate(a, name)
        sub = subset_scores(a, res, refs)
        d = {p: res["directions"][p]["chrf++"] - full["directions"][p]["chrf++"] for p in PAIRS}
        mean = statistics.mean(d.values())
        worst = min(d, key=d.get)
        bleu = statistics.mean(res["directions"][p]["spbleu"] - full["directions"][p]["spbleu"] for p in PAIRS)
        # the mean change on each subset of the test strings
        per_sub = [statistics.mean(sub[p][s] - fsub[p][s] for p in PAIRS) for s in range(SUBSETS)]
        by_cell[(m, r, ed)] = (mean, per_sub)
        vs, vs_sd = "", ""
        base = by_cell.get(("importance", r, ed))
        if m != "importance" and base is not None:
            # the difference of the 100-string means; its spread over the subsets
            diff = [x - y for x, y in zip(per_sub, base[1])]
            vs = f"{mean - base[0]:+.2f}"
            vs_sd = f"{statistics.stdev(diff):.2f}"
        rows.append((ed, r, m))
        md.append(f"| {ed} | {int(r * 100)} % | {LABELS[m]} | {mean:+.2f} | {statistics.stdev(per_sub):.2f} | "
                  f"{vs}{' (' + vs_sd + ')' if vs else ''} | {d[worst]:+.2f} ({worst}) | {bleu:+.2f} |")
        tsv.append(f"{ed}\t{r}\t{m}\t{mean:.3f}\t{statistics.stdev(per_sub):.3f}\t{vs}\t{vs_sd}\t"
                   f"{d[worst]:.3f}\t{worst}\t{bleu:.3f}")
    with open(os.path.join(a.out, "table.tsv"), "w") as f:
        f.write("\n".join(tsv) + "\n")
    # curves: mean chrF++ after pruning, per language, one plot per enc:dec budget
    series = [m for m in METHODS]
    for ed in ["1:1", "3:1"]:
        tag = ed.replace(":", "to")
        tsv_path = os.path.join(a.out, f"lang-{tag}.tsv")
        with open(tsv_path, "w") as f:
            f.write("x\t" + "\t".join(SHORT[m] for m in series) + "\n")
            f.write("0\t" + "\t".join(f"{fmean:.2f}" for _ in series) + "\n")
            for r in [0.25, 0.5, 0.75, 0.8, 0.9]:
                vals = []
                for m in series:
                    p = os.path.join(a.out, "eval", f"{m}-{int(r * 100)}-{tag}.json")
                    if os.path.exists(p):
                        with open(p) as g:
                            res = json.load(g)
                        vals.append(f"{statistics.mean(res['directions'][q]['chrf++'] for q in PAIRS):.2f}")
                    else:
                        vals.append("")
                f.write(f"{int(r * 100)}\t" + "\t".join(vals) + "\n")
        if os.path.exists(a.plot):
            subprocess.run([a.plot, "curve", tsv_path, os.path.join(a.out, f"lang-{tag}.png"), "--title",
                            f"Demo model: chrF++ after expert pruning (per language, enc:dec {ed}, beam 4)",
                            "--x-label", "experts removed (%)", "--y-label", "mean chrF++"], check=False)
    return "\n".join(md)


def projection(config_path, n_tokens=256, ratio=0.75, f_bytes=4):
    """What each method costs for a model, from its config.json (per direction for
    merging, per statistics key for the output-aware selection)."""
    with open(config_path) as f:
        c = json.load(f)
    d, E = c["d_model"], c["num_experts"]
    ffn = c["encoder_ffn_dim"]
    n_moe = sum(1 for i in range(c["encoder_layers"]) if (i + 1) % c["encoder_sparse_step"] == 0) + \
        sum(1 for i in range(c["decoder_layers"]) if (i + 1) % c["decoder_sparse_step"] == 0)
    pruned = round(E * ratio)
    flop_expert = 2 * 2 * d * ffn  # fc1 and fc2, a multiply-add each, one token
    return {
        "d_model": d, "ffn": ffn, "experts": E, "moe_layers": n_moe,
        "capture_mib_per_direction": n_tokens * d * 4 * n_moe / 2**20,
        "reconstruct_expert_evals_per_layer": n_tokens * E,
        "reconstruct_tflop_per_key": n_tokens * E * flop_expert * n_moe / 1e12,
        "reconstruct_gib_read_per_key": E * n_moe * 2 * d * ffn * f_bytes / 2**30,
        "merge_assignments_per_direction": pruned * n_moe,
        "merge_ops_per_pruned_expert": n_tokens * ffn**2 + (2 * d + 1) * ffn**2 + ffn**3,
        "merge_ops_per_direction": pruned * n_moe * (n_tokens * ffn**2 + (2 * d + 1) * ffn**2 + ffn**3),
    }


def costs(a):
    """Measured calibration and selection costs (the .time files /usr/bin/time wrote)."""
    md = ["| step | wall time | peak memory | command |", "|---|---|---|---|"]
    rows = [("calibrate, 660 sentences, --capture 256", os.path.join(a.out, "stats", "calib.json.time"),
             "calibrate ... --capture 256 (stats/calib.json.log)"),
            ("the same, again (byte-identical output)", os.path.join(a.out, "cost", "calibrate-capture-again.time"),
             "the same command, to /tmp"),
            ("calibrate without capture", os.path.join(a.out, "cost", "calibrate-no-capture.time"),
             "the same command without --capture"),
            ("select importance, 75 %, 22 directions", os.path.join(a.out, "index", "importance-75-1to1.time"),
             "index/importance-75-1to1.txt"),
            ("select --algo reconstruct, 75 %", os.path.join(a.out, "index", "reconstruct-75-1to1.time"),
             "index/reconstruct-75-1to1.txt"),
            ("select --algo reconstruct --layer-budgets sensitivity, 75 %",
             os.path.join(a.out, "index", "reconstruct+sens-75-1to1.time"), "index/reconstruct+sens-75-1to1.txt"),
            ("export --pair eng_Latn-fra_Latn, 50 %", os.path.join(a.out, "cost", "export-eng-fra-50-plain.time"),
             "export -m demo --experts index/importance-50-1to1.json --pair eng_Latn-fra_Latn"),
            ("the same with --merge (merging one direction)",
             os.path.join(a.out, "cost", "export-eng-fra-50-merge.time"), "... --merge --capture stats/calib.capture")]
    for label, path, cmd in rows:
        if os.path.exists(path):
            with open(path) as f:
                t, _, kib, _ = f.read().split()[:4]
            md.append(f"| {label} | {float(t):.2f} s | {int(kib) / 1024:.0f} MiB | {cmd} |")
    return "\n".join(md)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="resources/models/demo")
    ap.add_argument("--corpus", default="/work/demo/corpus")
    ap.add_argument("--out", default="bench/results/demo-issue17")
    ap.add_argument("--cli", default="build/app/secateur-cli")
    ap.add_argument("--plot", default="build/bench/sc-plot")
    ap.add_argument("--n", type=int, default=100)
    ap.add_argument("--beam", type=int, default=4)
    ap.add_argument("--max-len", type=int, default=96)
    ap.add_argument("--calib-size", type=int, default=660)
    ap.add_argument("--capture", type=int, default=256)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--report", action="store_true", help="only print the table of what is measured")
    ap.add_argument("--no-merge", action="store_true", help="skip the merging cells (for a CLI without evaluate --merge)")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    a.stats = os.path.join(a.out, "stats", "calib.json")
    a.capture_path = a.stats[:-5] + ".capture"
    if not a.report:
        calibrate(a)
        evaluate(a, "full")
        helps = subprocess.run([a.cli, "evaluate", "--help"], capture_output=True, text=True).stdout
        if "--pruned-only" not in helps:
            sys.exit("this secateur-cli has no evaluate --pruned-only: stopping after the full model")
        for m, r, ed in cells(a):
            if a.no_merge and METHODS[m][1]:
                continue
            idx = select(a, m, r, ed)
            evaluate(a, f"{m}-{int(r * 100)}-{ed.replace(':', 'to')}", idx, METHODS[m][1])
    print(report(a))
    print()
    print(costs(a))
    for cfg in ["resources/models/demo/config.json", "tests/fixtures/nllb-moe-54b-config/config.json"]:
        print(cfg, json.dumps(projection(cfg)))


if __name__ == "__main__":
    main()
