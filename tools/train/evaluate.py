#!/usr/bin/env python3
"""Evaluate an exported demo-model directory with plain Hugging Face classes (no patches).

    OMP_WAIT_POLICY=PASSIVE tools/.venv/bin/python tools/train/evaluate.py /work/demo/export \
        [--corpus /work/demo/corpus] [--n 100] [--threads 2] [--json OUT.json] [--update-card]

Greedy decoding (HF generate, max 96 new tokens), the first N test pairs per language, both directions
(eng->X and X->eng); sacreBLEU chrF and chrF++ per direction and means. The model is loaded in float32
from the f16 safetensors. --update-card rewrites the Evaluation section of DIR/README.md.
Cost: about 10 sentences/s on 2 cores, so N=100 x 22 directions takes a few minutes.
"""
import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
import argparse  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import torch  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import train  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("--corpus", default="/work/demo/corpus")
    ap.add_argument("--n", type=int, default=100)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--json", default=None)
    ap.add_argument("--update-card", action="store_true")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    from transformers import NllbMoeForConditionalGeneration
    m = NllbMoeForConditionalGeneration.from_pretrained(a.model, torch_dtype=torch.float32).eval()
    t0 = time.time()
    res = train.evaluate(m, a.model, a.corpus, a.n)
    s = train.summarize(res)
    for k, v in sorted(res.items()):
        print(f"{k:20s} chrF {v['chrF']:6.2f}  chrF++ {v['chrF++']:6.2f}")
    print(json.dumps(s), f"({time.time() - t0:.0f}s)")
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"n": a.n, "eval": res, "summary": s}, f, indent=1, ensure_ascii=False)
    if a.update_card:
        card = os.path.join(a.model, "README.md")
        text = open(card).read()
        head = text.split("## Evaluation")[0]
        tail = "## Licence" + text.split("## Licence", 1)[1] if "## Licence" in text else ""
        ev = ["## Evaluation",
              f"Greedy decoding (Hugging Face generate), first {a.n} test sentences per direction, "
              "sacreBLEU chrF / chrF++ (tools/train/evaluate.py):", "",
              f"- mean chrF {s['chrF']['all']} (X->eng {s['chrF']['X->eng']}, eng->X {s['chrF']['eng->X']}); "
              f"mean chrF++ {s['chrF++']['all']} (X->eng {s['chrF++']['X->eng']}, eng->X {s['chrF++']['eng->X']})",
              "", "| direction | chrF | chrF++ |", "|---|---|---|"]
        ev += [f"| {k} | {v['chrF']} | {v['chrF++']} |" for k, v in sorted(res.items())]
        with open(card, "w") as f:
            f.write(head + "\n".join(ev) + "\n\n" + tail)


if __name__ == "__main__":
    main()
