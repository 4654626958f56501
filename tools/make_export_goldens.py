#!/usr/bin/env python3
"""Exports that stock transformers loads: check and goldens.

Exports NLLB-MoE fixtures with secateur-cli (the same number of experts kept
in every MoE layer, so the export is a plain NllbMoe checkpoint), loads each
export with AutoModelForSeq2SeqLM.from_pretrained, refuses any missing,
unexpected or mismatched weight (and any loading warning), then generates
greedy and beam on the inputs of tests/goldens/nllb-moe-tiny and writes
tests/goldens/export-uniform/cases.json: per export the fixture, the kept
experts, the CLI arguments, every written tensor (dtype, shape, SHA-256) and
Hugging Face's outputs. tests/test-export.c exports the same selections with
the engine, checks that it writes exactly those tensors, and that Secateur
generates exactly those outputs on the export, without PyTorch.

    tools/.venv/bin/python tools/make_export_goldens.py [--cli build/app/secateur-cli]
"""
import argparse
import hashlib
import io
import json
import logging
import os
import subprocess
import sys
import tempfile

import torch
import transformers
from safetensors import safe_open
from transformers import AutoModelForSeq2SeqLM

import refcommon as rc

# Kept experts per MoE layer (encoder MoE layers first; the fixture's sparse
# layers are 1 and 3 of each side), ascending original ids, different per
# layer so that renumbering matters. KEEP4 is tests/goldens/nllb-moe-tiny-pruned's.
KEEP4 = [[0, 2, 5, 7], [1, 2, 3, 6], [0, 1, 4, 6], [2, 3, 5, 7]]
KEEP1 = [[5], [2], [4], [7]]

EXPORTS = [
    # name, fixture, keep, shard MiB (0: one file), --dtype (None: as stored)
    ("f32", "nllb-moe-tiny", KEEP4, 0, None),
    ("f16-sharded", "nllb-moe-tiny-f16", KEEP4, 1, None),
    ("bin-sharded", "nllb-moe-tiny-bin-sharded", KEEP4, 1, None),
    ("bf16", "nllb-moe-tiny-bf16", KEEP4, 0, None),
    ("54b-style", "nllb-moe-tiny-54b-style", KEEP4, 0, None),
    ("f32-one-expert", "nllb-moe-tiny", KEEP1, 0, None),
    ("f32-as-f16", "nllb-moe-tiny", KEEP4, 0, "f16"),
    ("bin-as-bf16", "nllb-moe-tiny-bin-sharded", KEEP4, 1, "bf16"),
]
# Converted on export, the same bytes as the fixtures torch rounded (.half(), .bfloat16()).
SAME_AS = {"f32-as-f16": "f16-sharded", "bin-as-bf16": "bf16"}

MAX_LENGTH = 24


def tensors_of(d):
    """name -> [dtype, shape, sha256] over every safetensors file of d."""
    out = {}
    for f in sorted(os.listdir(d)):
        if not f.endswith(".safetensors"):
            continue
        with open(os.path.join(d, f), "rb") as fh:
            raw = fh.read()
        n = int.from_bytes(raw[:8], "little")
        header = json.loads(raw[8:8 + n])
        base = 8 + n
        for name, info in header.items():
            if name == "__metadata__":
                continue
            b, e = info["data_offsets"]
            out[name] = [info["dtype"], info["shape"], hashlib.sha256(raw[base + b:base + e]).hexdigest()]
    return out


def complaints(d):
    """What transformers says when loading d: (model, {missing/unexpected/mismatched}, log)."""
    buf = io.StringIO()
    handler = logging.StreamHandler(buf)
    log = transformers.logging.get_logger("transformers.modeling_utils")
    log.addHandler(handler)
    try:
        model, info = AutoModelForSeq2SeqLM.from_pretrained(d, output_loading_info=True)
    finally:
        log.removeHandler(handler)
    return model, {k: v for k, v in info.items() if v}, buf.getvalue().strip()


def load_strict(d):
    """The export in transformers, refusing every loading complaint."""
    model, problems, log = complaints(d)
    if problems or log:
        sys.exit("%s: transformers complained: %s %s" % (d, problems, log))
    return model.eval()


def control(cli, tmp):
    """Different counts per layer (Secateur's own form): transformers cannot load it as a
    plain NllbMoe, and the check above sees that."""
    kf = os.path.join(tmp, "uneven.json")
    json.dump([[0, 2, 5, 7], [1, 2, 3], [0, 1, 4, 6], [2, 3, 5, 7]], open(kf, "w"))
    out = os.path.join(tmp, "uneven")
    subprocess.run([cli, "export", "-m", os.path.join(rc.FIXTURES, "nllb-moe-tiny"), "--keep", kf,
                    "-o", out], check=True, stdout=subprocess.DEVNULL)
    try:
        _, problems, log = complaints(out)
        said = "; ".join("%d %s" % (len(v), k) for k, v in problems.items()) or log.splitlines()[0]
    except Exception as e:  # refused outright
        said = "refused: " + str(e).splitlines()[0][:120]
    assert said, "a non-uniform export loaded silently"
    print("control: non-uniform export (3 experts in one layer): transformers %s" % said)


def run_cases(model, base):
    cases = []
    for c in base["cases"]:
        ids = torch.tensor(c["input_ids"])
        mask = torch.tensor(c["attention_mask"])
        # max_new_tokens, not max_length: the 54B-style fixture's generation_config sets
        # max_new_tokens 200, which would take precedence over max_length.
        kw = dict(input_ids=ids, attention_mask=mask, forced_bos_token_id=int(c["tgt_lang_id"]),
                  do_sample=False, max_new_tokens=MAX_LENGTH - 1)
        greedy = model.generate(num_beams=1, **kw)
        beam = model.generate(num_beams=4, length_penalty=1.0, early_stopping=False, **kw)
        cases.append({
            "name": c["name"], "src_lang": c["src_lang"], "tgt_lang": c["tgt_lang"],
            "input_ids": c["input_ids"], "attention_mask": c["attention_mask"],
            "greedy": {"max_length": MAX_LENGTH, "num_beams": 1, "ids": greedy.tolist()},
            "beam": {"max_length": MAX_LENGTH, "num_beams": 4, "length_penalty": 1.0,
                     "early_stopping": False, "ids": beam.tolist()},
        })
    return cases


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cli", default=os.path.join(rc.ROOT, "build", "app", "secateur-cli"))
    args = ap.parse_args()
    torch.set_grad_enabled(False)
    base = json.load(open(os.path.join(rc.GOLDENS, "nllb-moe-tiny", "cases.json")))
    pruned = {
        4: json.load(open(os.path.join(rc.GOLDENS, "nllb-moe-tiny-pruned", "cases.json"))),
        1: json.load(open(os.path.join(rc.GOLDENS, "nllb-moe-tiny-pruned1", "cases.json"))),
    }
    exports = []
    with tempfile.TemporaryDirectory() as tmp:
        keep_files = {}
        for name, fixture, keep, shard_mb, dtype in EXPORTS:
            kf = keep_files.setdefault(len(keep[0]), os.path.join(tmp, "keep%d.json" % len(keep[0])))
            json.dump(keep, open(kf, "w"))
            out = os.path.join(tmp, name)
            argv = ["export", "-m", os.path.join("tests", "fixtures", fixture), "--keep", "KEEP.json",
                    "-o", "OUT"] + (["--shard-mb", str(shard_mb)] if shard_mb else []) + \
                (["--dtype", dtype] if dtype else [])
            real = [args.cli] + [os.path.join(rc.ROOT, a) if a.startswith("tests/") else a for a in argv]
            real[real.index("KEEP.json")] = kf
            real[real.index("OUT")] = out
            subprocess.run(real, check=True, stdout=subprocess.DEVNULL)
            cfg = json.load(open(os.path.join(out, "config.json")))
            assert cfg["num_experts"] == len(keep[0]), cfg["num_experts"]
            assert cfg["secateur_kept_experts"] == keep
            model = load_strict(out)
            assert model.config.num_experts == len(keep[0])
            cases = run_cases(model, base)
            # Same weights as the physically pruned reference (f32 fixture):
            # the export's outputs are that model's.
            if fixture == "nllb-moe-tiny":
                ref = {c["name"]: c for c in pruned[len(keep[0])]["cases"]}
                for c in cases:
                    assert c["greedy"]["ids"] == ref[c["name"]]["greedy"][0]["ids"], (name, c["name"])
            files = sorted(f for f in os.listdir(out) if f.endswith(".safetensors") or f.endswith(".json"))
            tensors = tensors_of(out)
            if name in SAME_AS:
                other = next(e for e in exports if e["name"] == SAME_AS[name])
                strip = lambda n: n[6:] if n.startswith("model.") else n
                mine = {strip(n): v for n, v in tensors.items()}
                theirs = {strip(n): v for n, v in other["tensors"].items()}
                # (the .bin fixture also stores the tied embedding copies)
                assert all(mine.get(n) == v for n, v in theirs.items()), \
                    "%s: not the bytes of %s" % (name, other["name"])
            exports.append({
                "name": name, "fixture": fixture, "kept": keep, "shard_mb": shard_mb, "dtype": dtype,
                "cli": ["secateur-cli"] + argv, "files": files,
                "num_experts": cfg["num_experts"],
                "tensors": tensors, "cases": cases,
            })
            print("%-15s %-26s k=%d  %d files, %d tensors%s: loads in transformers with no warning; "
                  "%d cases greedy+beam" % (name, fixture, len(keep[0]), len(files), len(tensors),
                                             " (= %s's bytes)" % SAME_AS[name] if name in SAME_AS else "",
                                             len(cases)))
    doc = {
        "transformers": transformers.__version__, "torch": torch.__version__,
        "command": "tools/.venv/bin/python tools/make_export_goldens.py",
        "notes": ["Each export was written by secateur-cli with `cli` (KEEP.json = `kept`), loaded by "
                  "AutoModelForSeq2SeqLM.from_pretrained with no missing, unexpected or mismatched weight "
                  "and no warning, and run in float32 (f16/bf16 weights upcast). `tensors`: every tensor "
                  "written, [dtype, shape, sha256 of its bytes]."],
        "exports": exports,
    }
    outdir = os.path.join(rc.GOLDENS, "export-uniform")
    os.makedirs(outdir, exist_ok=True)
    with open(os.path.join(outdir, "cases.json"), "w", encoding="utf-8") as f:
        json.dump(doc, f, ensure_ascii=False, indent=1)
        f.write("\n")
    print("wrote", outdir)
    with tempfile.TemporaryDirectory() as tmp:
        control(args.cli, tmp)


if __name__ == "__main__":
    main()
