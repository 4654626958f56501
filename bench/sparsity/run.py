#!/usr/bin/env python3
"""Weight-pruning benchmarks (not tests).

speed:   SparseGPT 50% on one N x N layer (2048 calibration tokens), Secateur
         (build/bench/bench-sparsegpt) vs the PyTorch reference
         (tools/sparsity_reference.py bench N), wall seconds and peak RSS, same machine.
quality: the demo model (resources/models/demo) pruned 50% with Wanda and SparseGPT, calibrated
         on English only (eng_Latn) or with MBS sampling, then chrF++ per direction on the first
         --limit sentences per language of the demo's test split (greedy), vs the full model.

    python3 bench/sparsity/run.py speed   [--build build] [--n 1024]
    python3 bench/sparsity/run.py quality [--build build] [--test /work/demo/corpus/test.tsv]
                                          [--limit 20] [--samples 128] [--seqlen 64]
Prints Markdown tables; raw numbers go to bench/out/sparsity-*.json.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "bench", "out")


def timed(cmd, env=None):
    """(stdout, peak RSS in MiB) of cmd run under /usr/bin/time -v."""
    p = subprocess.run(["/usr/bin/time", "-v"] + cmd, capture_output=True, text=True, env=env, check=True)
    rss = 0.0
    for line in p.stderr.splitlines():
        if "Maximum resident set size" in line:
            rss = int(line.split(":")[1]) / 1024.0
    return p.stdout, rss


def speed(args):
    rows = []
    for n in args.n:
        c_out, c_rss = timed([os.path.join(args.build, "bench", "bench-sparsegpt"), str(n)])
        py = os.path.join(ROOT, "tools", ".venv", "bin", "python")
        p_out, p_rss = timed([py, os.path.join(ROOT, "tools", "sparsity_reference.py"), "bench", str(n)])
        c, p = json.loads(c_out.strip().splitlines()[-1]), json.loads(p_out.strip().splitlines()[-1])
        rows.append({"n": n, "secateur": c, "pytorch": p, "secateur_rss_mib": c_rss, "pytorch_rss_mib": p_rss})
    os.makedirs(OUT, exist_ok=True)
    json.dump(rows, open(os.path.join(OUT, "sparsity-speed.json"), "w"), indent=1)
    print("| layer | Hessian (s) Secateur / PyTorch | prune (s) Secateur / PyTorch | ratio (prune) | peak RSS MiB Secateur / PyTorch |")
    print("|---|---|---|---|---|")
    for r in rows:
        c, p = r["secateur"], r["pytorch"]
        print("| %dx%d | %.3f / %.3f | %.3f / %.3f | %.2fx | %.0f / %.0f |" % (
            r["n"], r["n"], c["hessian_s"], p["hessian_s"], c["prune_s"], p["prune_s"],
            p["prune_s"] / c["prune_s"], r["secateur_rss_mib"], r["pytorch_rss_mib"]))


def cli(args, *a):
    return subprocess.run([os.path.join(args.build, "app", "secateur-cli")] + list(a),
                          capture_output=True, text=True, check=True).stdout


def quality(args):
    model = os.path.join(ROOT, "resources", "models", "demo")
    by_lang = {}
    with open(args.test, encoding="utf-8") as f:
        for line in f:
            cols = line.rstrip("\n").split("\t")
            if len(by_lang.setdefault(cols[0], [])) < args.limit:
                by_lang[cols[0]].append((cols[1], cols[2]))
    tmp = tempfile.mkdtemp(prefix="sc-bench-sparsity-")
    files = {}
    for lang, pairs in sorted(by_lang.items()):
        for src, tgt, idx in (("eng_Latn", lang, (0, 1)), (lang, "eng_Latn", (1, 0))):
            path = os.path.join(tmp, "%s-%s.tsv" % (src, tgt))
            with open(path, "w", encoding="utf-8") as f:
                for p in pairs:
                    f.write("%s\t%s\n" % (p[idx[0]], p[idx[1]]))
            files["%s-%s" % (src, tgt)] = path

    models = {"full": model}
    calib_out = {}
    for method in ("wanda", "sparsegpt"):
        for calib in ("eng_Latn", "mbs"):
            out = os.path.join(tmp, "%s-%s" % (method, calib))
            log = cli(args, "sparsify", "-m", model, "--method", method, "--sparsity", "0.5", "--calib", calib,
                      "--samples", str(args.samples), "--seqlen", str(args.seqlen), "-o", out)
            calib_out[calib] = log.split("layer ")[0]
            models["%s/%s" % (method, "english" if calib == "eng_Latn" else "mbs")] = out
    scores = {}
    for name, path in models.items():
        for pair, tsv in files.items():
            rep = os.path.join(tmp, "rep.json")
            cli(args, "evaluate", "-m", path, "--pairs", pair, "--corpus", "tsv:" + tsv, "--limit",
                str(args.limit), "--beam", "1", "-o", rep)
            d = json.load(open(rep))["directions"][0]
            scores.setdefault(name, {})[pair] = d["full"]["chrf++"]
    os.makedirs(OUT, exist_ok=True)
    json.dump({"scores": scores, "calibration": calib_out}, open(os.path.join(OUT, "sparsity-quality.json"), "w"),
              indent=1)

    shares = {}
    for line in open(os.path.join(ROOT, "resources", "language-shares", "nllb-200.tsv")):
        if line.strip() and not line.startswith("#"):
            k, v = line.split()
            shares[k] = float(v)
    names = [n for n in models if n != "full"]
    print("calibration (per-language counts):\n```\n%s\n%s```" % (calib_out["eng_Latn"], calib_out["mbs"]))
    print("| direction | full | " + " | ".join(names) + " |")
    print("|---|---|" + "---|" * len(names))
    langs = sorted(by_lang, key=lambda l: (-shares.get(l, 0), l))
    for lang in langs:
        for pair in ("eng_Latn-%s" % lang, "%s-eng_Latn" % lang):
            f = scores["full"][pair]
            print("| %s | %.1f | %s |" % (pair, f, " | ".join("%.1f (%+.1f)" % (scores[n][pair], scores[n][pair] - f)
                                                             for n in names)))
    for n in ["full"] + names:
        print("mean chrF++ %s: %.2f" % (n, sum(scores[n].values()) / len(scores[n])))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("what", choices=["speed", "quality"])
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--n", type=int, nargs="+", default=[1024])
    ap.add_argument("--test", default="/work/demo/corpus/test.tsv")
    ap.add_argument("--limit", type=int, default=20)
    ap.add_argument("--samples", type=int, default=128)
    ap.add_argument("--seqlen", type=int, default=64)
    args = ap.parse_args()
    speed(args) if args.what == "speed" else quality(args)


if __name__ == "__main__":
    sys.exit(main())
