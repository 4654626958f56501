#!/usr/bin/env python3
"""Seeds for fuzz-bpe: small tokenizer.json files in BLOOM's structure, cut from
tests/fixtures/bloom-tiny/tokenizer.json (byte alphabet + the first merges), and variants.

    python3 tests/fuzz/make-bpe-seeds.py
"""
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
OUT = os.path.join(HERE, "corpus", "bpe")

full = json.load(open(os.path.join(ROOT, "tests", "fixtures", "bloom-tiny", "tokenizer.json"),
                      encoding="utf-8"))


def cut(n_merges, merges_as_lists=False, ignore_merges=False):
    j = json.loads(json.dumps(full))
    m = j["model"]
    merges = m["merges"][:n_merges]
    keep = {t for t, i in m["vocab"].items() if i < 260}
    for x in merges:
        a, b = x.split(" ")
        keep |= {a, b, a + b}
    m["vocab"] = {t: i for i, t in enumerate(sorted(keep, key=lambda t: m["vocab"][t]))}
    m["merges"] = [x.split(" ") for x in merges] if merges_as_lists else merges
    m["ignore_merges"] = ignore_merges
    return j


os.makedirs(OUT, exist_ok=True)
for name, j in [("bloom-8-merges.json", cut(8)), ("bloom-40-merges.json", cut(40)),
                ("bloom-list-merges.json", cut(20, merges_as_lists=True)),
                ("bloom-ignore-merges.json", cut(20, ignore_merges=True))]:
    with open(os.path.join(OUT, name), "w", encoding="utf-8") as f:
        json.dump(j, f, ensure_ascii=False, separators=(",", ":"))
