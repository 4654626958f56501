#!/usr/bin/env python3
"""Goldens for masked expert pruning (router restricted to kept experts).

The reference is what the paper's authors do (naver/nllb-pruning `prune`):
a new NllbMoe model whose routers keep only the rows of the kept experts, in
ascending id order, and whose experts are the kept ones renumbered 0..k-1.
Hugging Face runs that smaller model; Secateur must give the same numbers by
masking the full fixture's router. Same inputs as tests/goldens/nllb-moe-tiny.

    tools/.venv/bin/python tools/make_pruned_goldens.py
writes tests/goldens/nllb-moe-tiny-pruned/{cases.json,tensors.safetensors}
(four experts kept per layer) and tests/goldens/nllb-moe-tiny-pruned1/ (one
expert per layer: Hugging Face's top-2 then picks it twice).
"""
import json
import os

import torch
from safetensors.torch import save_file
from transformers import NllbMoeConfig, NllbMoeForConditionalGeneration

import refcommon as rc

# Kept experts per sparse layer (layers 1 and 3 on each side of the fixture),
# four of eight each, different per layer so that renumbering is exercised.
KEPT = {
    "encoder": {1: [0, 2, 5, 7], 3: [1, 2, 3, 6]},
    "decoder": {1: [0, 1, 4, 6], 3: [2, 3, 5, 7]},
}
KEPT1 = {
    "encoder": {1: [5], 3: [2]},
    "decoder": {1: [4], 3: [7]},
}


def pruned_model(full, KEPT):
    cfg = NllbMoeConfig.from_dict(full.config.to_dict())
    cfg.num_experts = len(KEPT["encoder"][1])
    small = NllbMoeForConditionalGeneration(cfg).eval()
    sd = full.state_dict()
    out = {}
    for name, t in sd.items():
        parts = name.split(".")
        if ".ffn.experts.expert_" in name:
            side, layer = parts[1], int(parts[3])
            e = int(parts[6].split("_")[1])
            kept = KEPT[side][layer]
            if e not in kept:
                continue
            parts[6] = "expert_%d" % kept.index(e)
            out[".".join(parts)] = t
        elif name.endswith("ffn.router.classifier.weight"):
            side, layer = parts[1], int(parts[3])
            out[name] = t[KEPT[side][layer]].clone()
        else:
            out[name] = t
    missing, unexpected = small.load_state_dict(out, strict=False)
    assert not unexpected and all("lm_head" in m or "embed_tokens" in m for m in missing), (missing, unexpected)
    small.tie_weights()
    return small


def main():
    torch.set_grad_enabled(False)
    src = os.path.join(rc.FIXTURES, "nllb-moe-tiny")
    full = NllbMoeForConditionalGeneration.from_pretrained(src).eval()
    write(full, KEPT, "nllb-moe-tiny-pruned")
    write(full, KEPT1, "nllb-moe-tiny-pruned1")


def write(full, KEPT, name):
    small = pruned_model(full, KEPT)
    base = json.load(open(os.path.join(rc.GOLDENS, "nllb-moe-tiny", "cases.json")))
    outdir = os.path.join(rc.GOLDENS, name)
    os.makedirs(outdir, exist_ok=True)

    tensors, cases = {}, []
    for c in base["cases"]:
        ids = torch.tensor(c["input_ids"])
        mask = torch.tensor(c["attention_mask"])
        dec = torch.tensor(c["decoder_input_ids"])
        logits = small(input_ids=ids, attention_mask=mask, decoder_input_ids=dec).logits
        tensors[c["name"] + ".logits"] = logits.contiguous()
        greedy = small.generate(input_ids=ids, attention_mask=mask, forced_bos_token_id=int(c["tgt_lang_id"]),
                                num_beams=1, do_sample=False, max_length=24)
        beam = small.generate(input_ids=ids, attention_mask=mask, forced_bos_token_id=int(c["tgt_lang_id"]),
                              num_beams=4, do_sample=False, max_length=24)
        cases.append({
            "name": c["name"], "src_lang": c["src_lang"], "tgt_lang": c["tgt_lang"],
            "input_ids": c["input_ids"], "attention_mask": c["attention_mask"],
            "decoder_input_ids": c["decoder_input_ids"],
            "greedy": [{"max_length": 24, "num_beams": 1, "ids": greedy.tolist()}],
            "beam": [{"max_length": 24, "num_beams": 4, "length_penalty": 1.0, "early_stopping": False,
                      "ids": beam.tolist()}],
        })
    import transformers
    doc = {
        "transformers": transformers.__version__, "torch": torch.__version__,
        "fixture": "nllb-moe-tiny",
        "kept": {side: {str(k): v for k, v in layers.items()} for side, layers in KEPT.items()},
        "notes": ["Reference: the fixture with each router sliced to the kept rows (ascending ids) and the kept "
                  "experts renumbered, run by Hugging Face in f32 (naver/nllb-pruning's prune())."],
        "cases": cases,
    }
    with open(os.path.join(outdir, "cases.json"), "w", encoding="utf-8") as f:
        json.dump(doc, f, ensure_ascii=False, indent=1)
        f.write("\n")
    save_file(tensors, os.path.join(outdir, "tensors.safetensors"), metadata={"format": "pt"})
    print("wrote", outdir, len(cases), "cases")


if __name__ == "__main__":
    main()
