#!/usr/bin/env python3
"""Exports that transformers loads: check and goldens.

Exports NLLB-MoE fixtures with secateur-cli in both forms: the same number
of experts kept in every MoE layer (a plain NllbMoe checkpoint) and different
numbers per layer (NllbMoe with a count per layer: the export's own
configuration_/modeling_nllb_moe_pruned.py, loaded with trust_remote_code).
Loads each export with AutoModelForSeq2SeqLM.from_pretrained, refuses any
missing, unexpected or mismatched weight (and any loading warning), then
generates greedy and beam on the inputs of tests/goldens/nllb-moe-tiny and
writes tests/goldens/export-uniform/cases.json and
tests/goldens/export-per-layer/cases.json: per export the fixture, the kept
experts, the CLI arguments, every written tensor (dtype, shape, SHA-256),
the .py files' SHA-256 (per-layer form) and Hugging Face's outputs.
tests/test-export.c exports the same selections with the engine, checks that
it writes exactly those files and tensors, and that Secateur generates
exactly those outputs on the export, without PyTorch.

    tools/.venv/bin/python tools/make_export_goldens.py [--cli build/app/secateur-cli]
"""
import argparse
import contextlib
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

# Different counts per layer (1 to 5 of 8), as the paper's 3:1 budget and the
# global threshold give: the per-layer form.
KEEP_UNEVEN = [[0, 2, 5, 6, 7], [1, 3, 6], [0, 4], [5]]
KEEP_UNEVEN2 = [[5], [2, 6], [1, 4, 6], [0, 3, 5, 7]]
EXPORTS_PER_LAYER = [
    ("f32", "nllb-moe-tiny", KEEP_UNEVEN, 0, None),
    ("f16-sharded", "nllb-moe-tiny-f16", KEEP_UNEVEN, 1, None),
    ("bin-sharded", "nllb-moe-tiny-bin-sharded", KEEP_UNEVEN, 1, None),
    ("bf16", "nllb-moe-tiny-bf16", KEEP_UNEVEN, 0, None),
    ("54b-style", "nllb-moe-tiny-54b-style", KEEP_UNEVEN, 0, None),
    ("f32-other", "nllb-moe-tiny", KEEP_UNEVEN2, 0, None),
    ("f32-as-f16", "nllb-moe-tiny", KEEP_UNEVEN, 0, "f16"),
    ("bin-as-bf16", "nllb-moe-tiny-bin-sharded", KEEP_UNEVEN, 1, "bf16"),
]
REMOTE_CODE = ["configuration_nllb_moe_pruned.py", "modeling_nllb_moe_pruned.py"]

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


def complaints(d, remote=False):
    """What transformers says when loading d: (model, {missing/unexpected/mismatched}, log)."""
    buf = io.StringIO()
    handler = logging.StreamHandler(buf)
    log = transformers.logging.get_logger("transformers.modeling_utils")
    log.addHandler(handler)
    try:
        kw = {"trust_remote_code": True} if remote else {}
        model, info = AutoModelForSeq2SeqLM.from_pretrained(d, output_loading_info=True, **kw)
    finally:
        log.removeHandler(handler)
    return model, {k: v for k, v in info.items() if v}, buf.getvalue().strip()


def load_strict(d, remote=False):
    """The export in transformers, refusing every loading complaint."""
    model, problems, log = complaints(d, remote)
    if problems or log:
        sys.exit("%s: transformers complained: %s %s" % (d, problems, log))
    return model.eval()


def control(cli, tmp):
    """Different counts per layer without trust_remote_code: stock transformers must refuse
    it (its model_type is the export's own), never build a plain NllbMoe around it."""
    kf = os.path.join(tmp, "uneven.json")
    json.dump([[0, 2, 5, 7], [1, 2, 3], [0, 1, 4, 6], [2, 3, 5, 7]], open(kf, "w"))
    out = os.path.join(tmp, "uneven")
    subprocess.run([cli, "export", "-m", os.path.join(rc.FIXTURES, "nllb-moe-tiny"), "--keep", kf,
                    "-o", out], check=True, stdout=subprocess.DEVNULL)
    try:
        with contextlib.redirect_stdout(io.StringIO()):  # transformers' [y/N] prompt
            complaints(out)
        said = None
    except Exception as e:  # refused outright
        said = "refused: " + str(e).strip().splitlines()[-1][:120]
    assert said, "a per-layer export loaded without trust_remote_code"
    print("control: per-layer export without trust_remote_code: transformers %s" % said)


def prune_like_authors(model, keep):
    """The authors' load-then-prune on a loaded NllbMoe (naver/nllb-pruning's `prune`, written
    here from its description): each sparse layer keeps its experts' modules in ascending id
    and the router rows in that order. The reference the per-layer export must equal."""
    sparse = [l for stack in (model.model.encoder, model.model.decoder)
              for l in stack.layers if l.is_sparse]
    for layer, ids in zip(sparse, keep):
        ffn = layer.ffn
        ffn.experts = torch.nn.ModuleDict({"expert_%d" % i: ffn.experts["expert_%d" % i] for i in ids})
        old = ffn.router.classifier
        ffn.router.classifier = torch.nn.Linear(old.in_features, len(ids), bias=False)
        ffn.router.classifier.weight.data[:] = old.weight.data[ids]
        ffn.router.num_experts = len(ids)
        ffn.num_experts = len(ids)
    return model


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


def export_all(cli, table, remote, base, pruned, tmp):
    """Exports every row of `table` with secateur-cli, loads it in transformers and runs it."""
    exports = []
    for name, fixture, keep, shard_mb, dtype in table:
        kf = os.path.join(tmp, "keep-%s.json" % name)
        json.dump(keep, open(kf, "w"))
        out = os.path.join(tmp, name)
        argv = ["export", "-m", os.path.join("tests", "fixtures", fixture), "--keep", "KEEP.json",
                "-o", "OUT"] + (["--shard-mb", str(shard_mb)] if shard_mb else []) + \
            (["--dtype", dtype] if dtype else [])
        real = [cli] + [os.path.join(rc.ROOT, a) if a.startswith("tests/") else a for a in argv]
        real[real.index("KEEP.json")] = kf
        real[real.index("OUT")] = out
        subprocess.run(real, check=True, stdout=subprocess.DEVNULL)
        cfg = json.load(open(os.path.join(out, "config.json")))
        counts = [len(k) for k in keep]
        assert cfg["secateur_kept_experts"] == keep
        assert cfg["num_experts"] == max(counts), cfg["num_experts"]
        if remote:
            assert cfg["model_type"] == "nllb-moe-pruned" and cfg["num_experts_per_layer"] == counts
            assert all(os.path.exists(os.path.join(out, f)) for f in REMOTE_CODE)
        else:
            assert cfg["model_type"] == "nllb-moe" and "auto_map" not in cfg
        model = load_strict(out, remote)
        ffns = [l.ffn for stack in (model.model.encoder, model.model.decoder)
                for l in stack.layers if l.is_sparse]
        assert [len(f.experts) for f in ffns] == counts
        assert [f.router.classifier.weight.shape[0] for f in ffns] == counts
        cases = run_cases(model, base)
        if fixture == "nllb-moe-tiny" and not remote:
            # Same weights as the physically pruned reference (f32 fixture):
            # the export's outputs are that model's.
            ref = {c["name"]: c for c in pruned[len(keep[0])]["cases"]}
            for c in cases:
                assert c["greedy"]["ids"] == ref[c["name"]]["greedy"][0]["ids"], (name, c["name"])
        if fixture == "nllb-moe-tiny" and remote and dtype is None:
            # The authors' load-then-prune of the full model generates the same tokens.
            full = AutoModelForSeq2SeqLM.from_pretrained(os.path.join(rc.FIXTURES, fixture)).eval()
            theirs = {c["name"]: c for c in run_cases(prune_like_authors(full, keep), base)}
            for c in cases:
                for k in ("greedy", "beam"):
                    assert c[k]["ids"] == theirs[c["name"]][k]["ids"], (name, c["name"], k)
        files = sorted(f for f in os.listdir(out) if f.endswith((".safetensors", ".json", ".py")))
        tensors = tensors_of(out)
        if name in SAME_AS:
            other = next(e for e in exports if e["name"] == SAME_AS[name])
            strip = lambda n: n[6:] if n.startswith("model.") else n
            mine = {strip(n): v for n, v in tensors.items()}
            theirs = {strip(n): v for n, v in other["tensors"].items()}
            # (the .bin fixture also stores the tied embedding copies)
            assert all(mine.get(n) == v for n, v in theirs.items()), \
                "%s: not the bytes of %s" % (name, other["name"])
        entry = {
            "name": name, "fixture": fixture, "kept": keep, "shard_mb": shard_mb, "dtype": dtype,
            "cli": ["secateur-cli"] + argv, "files": files,
            "num_experts": cfg["num_experts"],
        }
        if remote:
            entry["num_experts_per_layer"] = counts
            entry["remote_code"] = {
                f: hashlib.sha256(open(os.path.join(out, f), "rb").read()).hexdigest()
                for f in REMOTE_CODE}
        entry["tensors"] = tensors
        entry["cases"] = cases
        exports.append(entry)
        print("%-15s %-26s k=%-9s %d files, %d tensors%s: loads in transformers%s with no warning; "
              "%d cases greedy+beam" % (name, fixture, ",".join(map(str, counts)) if remote
                                         else str(counts[0]), len(files), len(tensors),
                                         " (= %s's bytes)" % SAME_AS[name] if name in SAME_AS else "",
                                         " (trust_remote_code)" if remote else "", len(cases)))
    return exports


def write_goldens(exports, remote, outname):
    how = ("AutoModelForSeq2SeqLM.from_pretrained(EXPORT, trust_remote_code=True) (the export's "
           "configuration_/modeling_nllb_moe_pruned.py; `remote_code`: their SHA-256)"
           if remote else "AutoModelForSeq2SeqLM.from_pretrained")
    doc = {
        "transformers": transformers.__version__, "torch": torch.__version__,
        "command": "tools/.venv/bin/python tools/make_export_goldens.py",
        "notes": ["Each export was written by secateur-cli with `cli` (KEEP.json = `kept`), loaded by "
                  "%s with no missing, unexpected or mismatched weight "
                  "and no warning, and run in float32 (f16/bf16 weights upcast). `tensors`: every tensor "
                  "written, [dtype, shape, sha256 of its bytes]." % how],
        "exports": exports,
    }
    outdir = os.path.join(rc.GOLDENS, outname)
    os.makedirs(outdir, exist_ok=True)
    with open(os.path.join(outdir, "cases.json"), "w", encoding="utf-8") as f:
        json.dump(doc, f, ensure_ascii=False, indent=1)
        f.write("\n")
    print("wrote", outdir)


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
    with tempfile.TemporaryDirectory() as tmp:
        write_goldens(export_all(args.cli, EXPORTS, False, base, pruned, tmp), False,
                      "export-uniform")
    with tempfile.TemporaryDirectory() as tmp:
        write_goldens(export_all(args.cli, EXPORTS_PER_LAYER, True, base, pruned, tmp), True,
                      "export-per-layer")
    with tempfile.TemporaryDirectory() as tmp:
        control(args.cli, tmp)


if __name__ == "__main__":
    main()
