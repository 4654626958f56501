#!/usr/bin/env python3
"""The paper authors' released experts.json on the 54B layout: export, compare, load.

Builds a tiny-width NllbMoe with the real NLLB-MoE 54B layout (the config.json of
tests/fixtures/nllb-moe-54b-config with d_model 16, FFN 32, 2 heads and the fixture's 2,204-id
vocabulary; 24+24 layers, a sparse layer every 4, 128 experts: 12 MoE layers), saved as the hub
stores the 54B (NllbMoeModel keys, torch .bin shards, model_type nllb_moe) at f32. Then:

1. `secateur-cli export --experts EXPERTS.json --pair eng_Latn-fra_Latn --dtype f16`;
2. the authors' load-then-prune (naver/nllb-pruning's `prune`: model.half(), each sparse layer
   keeps its experts' modules in ascending id and the router rows in that order; written here
   from its description) on the same weights: the export holds exactly those tensors, bytes
   equal, under the renumbered names (expert_i = the i-th kept expert);
3. loads the export with AutoModelForSeq2SeqLM.from_pretrained(trust_remote_code=True) with no
   missing, unexpected or mismatched weight and no warning, and checks that it generates
   (greedy and 4 beams) the same tokens as the authors' pruned model and the same text as
   `secateur-cli translate` on the export.

The authors' file is another project's data: it is not in this repository. Get it with
`git clone https://github.com/naver/nllb-pruning` (experts.json, 202 languages x 288 ids).

    tools/.venv/bin/python tools/check_authors_export.py --experts PATH/experts.json
"""
import argparse
import collections
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile

import torch
from transformers import NllbMoeConfig, NllbMoeForConditionalGeneration, NllbTokenizer

import refcommon as rc
import make_export_goldens as meg
import make_fixtures as mf

SEED = 20241203
PAIR = ("eng_Latn", "fra_Latn")
TEXTS = [
    "All human beings are born free and equal in dignity and rights.",
    "Everyone has the right to life, liberty and security of person.",
    "No one shall be held in slavery or servitude.",
]
MAX_LENGTH = 24


def build_54b_layout():
    cfg = json.load(open(os.path.join(rc.FIXTURES, "nllb-moe-54b-config", "config.json")))
    for k in ("_name_or_path", "architectures", "model_type", "transformers_version", "torch_dtype"):
        cfg.pop(k, None)
    cfg.update(d_model=16, encoder_ffn_dim=32, decoder_ffn_dim=32, encoder_attention_heads=2,
               decoder_attention_heads=2, vocab_size=2204)
    torch.manual_seed(SEED)
    model = NllbMoeForConditionalGeneration(NllbMoeConfig(**cfg))
    mf.init_weights(model, SEED)
    return model.eval()


def authors_ids(index, src, tgt):
    """Their get_expert_ids for a per-language index: the source's encoder ids, the target's
    decoder ids (global id = moe_layer * 128 + expert, 768 = 6 encoder MoE layers)."""
    return [i for i in index[src] if i < 768] + [i for i in index[tgt] if i >= 768]


def per_layer(ids):
    keep = [[] for _ in range(12)]
    for i in ids:
        keep[i // 128].append(i % 128)
    return [sorted(k) for k in keep]


def renumbered_state(model, keep):
    """The pruned model's tensors under the export's names (expert_<rank>), as f16 bytes."""
    out = {}
    sparse = [("%s.layers.%d" % (side, i))
              for side, stack in (("encoder", model.model.encoder), ("decoder", model.model.decoder))
              for i, l in enumerate(stack.layers) if l.is_sparse]
    rank = {}
    for prefix, ids in zip(sparse, keep):
        for r, e in enumerate(ids):
            rank["%s.ffn.experts.expert_%d." % (prefix, e)] = "%s.ffn.experts.expert_%d." % (prefix, r)
    for name, t in model.model.state_dict().items():
        for old, new in rank.items():
            if old in name:
                name = name.replace(old, new)
                break
        out[name] = t.detach().contiguous().numpy().tobytes()
    return out


def export_tensors(d):
    from safetensors.numpy import load_file
    out = {}
    for f in sorted(os.listdir(d)):
        if f.endswith(".safetensors"):
            for name, a in load_file(os.path.join(d, f)).items():
                assert a.dtype.name == "float16", (name, a.dtype)
                out[name[6:] if name.startswith("model.") else name] = a.tobytes()
    return out


def generate(model, batch, tok):
    # max_new_tokens: the hub's generation_config.json (copied into the export) sets it, and it
    # would take precedence over max_length
    kw = dict(**batch, forced_bos_token_id=tok.convert_tokens_to_ids(PAIR[1]), do_sample=False,
              max_new_tokens=MAX_LENGTH - 1)
    return {"greedy": model.generate(num_beams=1, **kw).tolist(),
            "beam": model.generate(num_beams=4, length_penalty=1.0, early_stopping=False, **kw).tolist()}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--experts", required=True, help="the authors' experts.json")
    ap.add_argument("--cli", default=os.path.join(rc.ROOT, "build", "app", "secateur-cli"))
    args = ap.parse_args()
    torch.set_grad_enabled(False)
    index = json.load(open(args.experts))
    sizes = collections.Counter(len(v) for v in index.values())
    print("experts.json: %d languages, ids per language %s" % (len(index), dict(sizes)))
    keep = per_layer(authors_ids(index, *PAIR))
    counts = [len(k) for k in keep]
    print("%s-%s keeps %d experts, per MoE layer %s" % (PAIR + (sum(counts), counts)))

    with tempfile.TemporaryDirectory() as tmp:
        src, out = os.path.join(tmp, "nllb-moe-54b-layout"), os.path.join(tmp, "export")
        model = build_54b_layout()
        mf.save_54b_style(model, src)
        for f in ("sentencepiece.bpe.model", "tokenizer_config.json", "special_tokens_map.json",
                  "added_tokens.json"):
            shutil.copy(os.path.join(rc.FIXTURES, "nllb-moe-tiny", f), src)
        n_bin = len([f for f in os.listdir(src) if f.endswith(".bin")])
        print("54B layout: 24+24 layers, 12 MoE layers x 128 experts, d_model 16; %d .bin shards, "
              "%d parameters" % (n_bin, sum(p.numel() for p in model.parameters())))
        run = subprocess.run([args.cli, "export", "-m", src, "--experts", args.experts, "--pair",
                              "-".join(PAIR), "--dtype", "f16", "-o", out],
                             check=True, capture_output=True, text=True)
        print("secateur-cli export: " + " / ".join(run.stdout.strip().splitlines()[:2]))

        # 2. the authors' load-then-prune on the same weights: same tensors, same bytes
        theirs = meg.prune_like_authors(model, keep).half()
        want = renumbered_state(theirs, keep)
        got = export_tensors(out)
        tied = {"encoder.embed_tokens.weight", "decoder.embed_tokens.weight"}
        assert set(got) - tied == set(want) - tied, sorted(set(got) ^ set(want))[:6]
        assert all(got[n] == want[n] for n in got), [n for n in got if got[n] != want[n]][:6]
        n_exp = sum(1 for n in got if ".experts." in n)
        print("tensors: %d written = the authors' pruned model's at f16, bytes equal (%d expert "
              "tensors, 12 routers of %s rows)" % (len(got), n_exp, "/".join(map(str, counts))))
        cfg = json.load(open(os.path.join(out, "config.json")))
        assert cfg["num_experts_per_layer"] == counts and cfg["secateur_kept_experts"] == keep
        assert cfg["torch_dtype"] == "float16"

        # 3. transformers with trust_remote_code; outputs
        exported = meg.load_strict(out, remote=True)
        assert [l.ffn.router.classifier.weight.shape[0]
                for s in (exported.model.encoder, exported.model.decoder)
                for l in s.layers if l.is_sparse] == counts
        print("transformers: AutoModelForSeq2SeqLM.from_pretrained(trust_remote_code=True) -> %s, "
              "no missing/unexpected/mismatched weight, no warning" % type(exported).__name__)
        tok = NllbTokenizer.from_pretrained(out, src_lang=PAIR[0])
        batch = tok(TEXTS, return_tensors="pt", padding=True)
        a = generate(exported, batch, tok)
        b = generate(theirs.float(), batch, tok)
        assert a == b, "the export and the authors' pruned model generate differently"
        inp = os.path.join(tmp, "src.txt")
        open(inp, "w").write("\n".join(TEXTS) + "\n")
        for mode, beams in (("greedy", 1), ("beam", 4)):
            sec = subprocess.run([args.cli, "translate", "-m", out, "-s", PAIR[0], "-t", PAIR[1],
                                  "--beam", str(beams), "--max-len", str(MAX_LENGTH), "-i", inp, "-q"],
                                 check=True, capture_output=True, text=True).stdout.splitlines()
            hf = tok.batch_decode(a[mode], skip_special_tokens=True)
            assert sec == hf, (mode, sec, hf)
        print("outputs: %d sentences, greedy and 4 beams: the export in transformers = the authors' "
              "pruned model (token ids) = secateur-cli translate on the export (text); greedy "
              "lengths %s, beam lengths %s (tokens, pads included)"
              % (len(TEXTS), [len(r) for r in a["greedy"]], [len(r) for r in a["beam"]]))
        for r in a["greedy"]:
            print("  greedy ids:", r)


if __name__ == "__main__":
    main()
