#!/usr/bin/env python3
"""Writes the demo model's language-shares.tsv: each language's share of the
text the model was trained on, for proportional (Multilingual Brain Surgeon)
calibration sampling. Training is English-centric and samples the non-English
language of each example with temperature T (p_l ~ n_l^(1/T), n_l = training
pairs), so English is half of all text and language l is p_l / 2.

    python3 tools/train/make_shares.py [--corpus /work/demo/corpus] [--temperature 2] OUT.tsv
"""
import argparse
import json
import os


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--corpus", default="/work/demo/corpus")
    ap.add_argument("--temperature", type=float, default=2.0)
    a = ap.parse_args()
    with open(os.path.join(a.corpus, "stats.json"), encoding="utf-8") as f:
        langs = dict(json.load(f)["languages"])
    w = {l: v["train"] ** (1.0 / a.temperature) for l, v in langs.items()}
    z = sum(w.values())
    shares = {"eng_Latn": 0.5}
    shares.update({l: 0.5 * x / z for l, x in w.items()})
    with open(a.out, "w", encoding="utf-8") as f:
        f.write("# Share of each language in the demo model's training text (tools/train/make_shares.py):\n"
                f"# English-centric pairs, the other language sampled with temperature T={a.temperature:g}\n"
                "# over the training pairs per language, so English is half of all text.\n")
        for l in sorted(shares):
            f.write(f"{l}\t{shares[l]:.6f}\n")


if __name__ == "__main__":
    main()
