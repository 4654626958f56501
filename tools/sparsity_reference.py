#!/usr/bin/env python3
"""PyTorch reference for weight pruning (magnitude, Wanda, SparseGPT) and its goldens.

Written from the papers' algorithm descriptions:
  - Wanda (Sun, Liu, Bair, Kolter 2023, "A Simple and Effective Pruning Approach for LLMs"):
    score |W_ij| * ||X_j||_2, compared within each output row (per-output comparison group);
  - SparseGPT (Frantar & Alistarh 2023, Algorithm 1): H = 2 X^T X / n + lambda I with lambda = 1% of
    the mean diagonal, the upper Cholesky factor of H^-1, columns processed in blocks of 128 with the
    OBS error compensation inside the block and one lazy batched update of the later columns, masks
    chosen adaptively per block (unstructured: lowest w^2 / [H^-1]_jj^2 of the block) or per group
    of M columns (N:M);
  - magnitude: |W| over the whole matrix (unstructured) or within each group of M (N:M).
Ties go to the lower index (stable sorts) so that masks are reproducible. N:M keeps N weights per
group of M input columns. Layers are pruned in forward order (encoder layers, then decoder layers),
each block's linear inputs captured with forward pre-hooks while the earlier blocks are already
pruned, as Wanda and SparseGPT do; expert layers see only the tokens routed to them. BLOOM
(BloomForCausalLM) is pruned the same way, block after block, on plain token segments.

    tools/.venv/bin/python tools/sparsity_reference.py          # goldens
    tools/.venv/bin/python tools/sparsity_reference.py bloom    # the BLOOM goldens only
    tools/.venv/bin/python tools/sparsity_reference.py bench N  # SparseGPT timing on one N x N layer

writes tests/goldens/sparsity/{layers.safetensors, m2m-tiny.json, m2m-tiny.safetensors,
nllb-moe-tiny.json, nllb-moe-tiny.safetensors, bloom-tiny.json, bloom-tiny.safetensors}. Masks are stored packed: bit b of int32 word w is
element 32 w + b of the row-major matrix, 1 = pruned.
"""
import json
import os
import sys
import time

import torch
from safetensors.torch import save_file
from transformers import AutoModelForCausalLM, AutoModelForSeq2SeqLM

import refcommon as rc

OUT = os.path.join(rc.GOLDENS, "sparsity")
BLOCK = 128
PERCDAMP = 0.01
MAX_ESCALATIONS = 6

# (name, ratio, n, m): unstructured ratio or N:M (N kept of M)
PATTERNS = {"50": (0.5, 0, 0), "2_4": (0.0, 2, 4), "4_8": (0.0, 4, 8)}


# ---- selection -------------------------------------------------------------------------------


def lowest(scores, k):
    """Indices of the k lowest scores of a 1-D tensor (ties: lower index)."""
    return torch.argsort(scores, stable=True)[:k]


def nm_mask(score, n, m):
    """N:M mask of a [rows, cols] score: the m - n lowest of every group of m in each row."""
    rows, cols = score.shape
    mask = torch.zeros(rows, cols, dtype=torch.bool)
    for g in range(0, cols, m):
        order = torch.argsort(score[:, g : g + m], dim=1, stable=True)[:, : m - n]
        mask[:, g : g + m].scatter_(1, order, True)
    return mask


def magnitude_mask(W, ratio, n, m):
    score = W.double().abs()
    if m:
        return nm_mask(score, n, m)
    mask = torch.zeros(W.numel(), dtype=torch.bool)
    mask[lowest(score.flatten(), int(W.numel() * ratio))] = True
    return mask.view_as(W)


def wanda_mask(W, sq, ratio, n, m):
    """sq: sum over calibration tokens of x_j^2 (float64)."""
    score = W.double().abs() * sq.sqrt().unsqueeze(0)
    if m:
        return nm_mask(score, n, m)
    mask = torch.zeros_like(W, dtype=torch.bool)
    k = int(W.shape[1] * ratio)
    for r in range(W.shape[0]):
        mask[r, lowest(score[r], k)] = True
    return mask


def hessian(X):
    """2/n X^T X for X [n, in] (float32); zeros without rows."""
    X = X.float()
    if X.shape[0] == 0:
        return torch.zeros(X.shape[1], X.shape[1])
    return (2.0 / X.shape[0]) * (X.t() @ X)


def inverse_cholesky(H):
    """Upper factor U of (H)^-1 = U^T U, or None when H is not positive definite."""
    L, info = torch.linalg.cholesky_ex(H)
    if info != 0:
        return None
    Hinv = torch.cholesky_inverse(L)
    U, info = torch.linalg.cholesky_ex(Hinv, upper=True)
    if info != 0 or not torch.isfinite(U).all():
        return None
    return U


def sparsegpt(W, H, ratio, n, m):
    """Returns (pruned W, mask, escalations)."""
    W = W.clone().float()
    H = H.clone().float()
    rows, cols = W.shape
    dead = torch.diag(H) == 0
    # Channels never active: a unit diagonal makes H invertible. Their weights are kept unless the
    # mask takes them (the authors' code zeroes them all, which would overshoot the sparsity).
    H[dead, dead] = 1.0
    damp = PERCDAMP * torch.mean(torch.diag(H)).item()
    damp = float(torch.tensor(damp, dtype=torch.float32))
    esc = 0
    while True:
        U = inverse_cholesky(H + damp * torch.eye(cols))
        if U is not None:
            break
        if esc == MAX_ESCALATIONS:
            raise ValueError("Hessian not positive definite")
        damp *= 10.0
        esc += 1
    mask = torch.zeros(rows, cols, dtype=torch.bool)
    block = max(m, BLOCK // m * m) if m else BLOCK
    dinv = torch.diag(U)
    for i1 in range(0, cols, block):
        i2 = min(i1 + block, cols)
        count = i2 - i1
        W1 = W[:, i1:i2].clone()
        Q1 = torch.zeros_like(W1)
        Err1 = torch.zeros_like(W1)
        U1 = U[i1:i2, i1:i2]
        d1 = dinv[i1:i2]
        if m == 0:
            score = (W1 * W1) / (d1 * d1).unsqueeze(0)
            bm = torch.zeros(rows * count, dtype=torch.bool)
            bm[lowest(score.flatten().double(), int(rows * count * ratio))] = True
            bm = bm.view(rows, count)
        else:
            bm = torch.zeros(rows, count, dtype=torch.bool)
        for i in range(count):
            if m and i % m == 0:
                s = (W1[:, i : i + m] * W1[:, i : i + m]) / (d1[i : i + m] * d1[i : i + m]).unsqueeze(0)
                order = torch.argsort(s.double(), dim=1, stable=True)[:, : m - n]
                bm[:, i : i + m].scatter_(1, order, True)
            w = W1[:, i]
            q = w.clone()
            q[bm[:, i]] = 0.0
            err = (w - q) / U1[i, i]
            Q1[:, i] = q
            Err1[:, i] = err
            W1[:, i + 1 :] -= err.unsqueeze(1) * U1[i, i + 1 :].unsqueeze(0)
        W[:, i1:i2] = Q1
        mask[:, i1:i2] = bm
        W[:, i2:] -= Err1 @ U[i1:i2, i2:]
    assert torch.isfinite(W).all()
    return W, mask, esc


def prune(method, W, X, pat):
    ratio, n, m = PATTERNS[pat]
    if method == "magnitude":
        mask = magnitude_mask(W, ratio, n, m)
        return W.masked_fill(mask, 0.0), mask
    if method == "wanda":
        sq = (X.double() ** 2).sum(0)
        mask = wanda_mask(W, sq, ratio, n, m)
        return W.masked_fill(mask, 0.0), mask
    Wp, mask, _ = sparsegpt(W, hessian(X), ratio, n, m)
    return Wp, mask


def pack(mask):
    """Bool tensor -> int32 words, bit b of word w = element 32 w + b."""
    flat = mask.flatten().to(torch.int64)
    pad = (-flat.numel()) % 32
    flat = torch.cat([flat, torch.zeros(pad, dtype=torch.int64)]).view(-1, 32)
    words = (flat << torch.arange(32, dtype=torch.int64)).sum(1)
    words = torch.where(words >= 2**31, words - 2**32, words)
    return words.to(torch.int32)


# ---- sequential pruning over a model ------------------------------------------------------------


def blocks(model):
    """[(prefix, layer module)] in forward order."""
    if hasattr(model, "transformer"):  # BLOOM
        return [("transformer.h.%d." % i, l) for i, l in enumerate(model.transformer.h)]
    base = model.model
    out = [("model.encoder.layers.%d." % i, l) for i, l in enumerate(base.encoder.layers)]
    out += [("model.decoder.layers.%d." % i, l) for i, l in enumerate(base.decoder.layers)]
    return out


def linears(prefix, layer):
    """{weight tensor name: nn.Linear} of one block, routers left out."""
    return {
        prefix + name + ".weight": mod
        for name, mod in layer.named_modules()
        if isinstance(mod, torch.nn.Linear) and "router" not in name
    }


def run_all(model, samples):
    with torch.no_grad():
        for src, tgt in samples:
            if tgt is None:  # decoder-only: the segment itself
                model(input_ids=torch.tensor([src]))
            else:
                model(input_ids=torch.tensor([src]), decoder_input_ids=torch.tensor([tgt]))


def capture(model, lins, samples):
    """{name: X [n_tokens, in]} for the given linears over all samples."""
    xs = {name: [] for name in lins}
    hooks = []
    for name, mod in lins.items():
        def hook(mod, inp, name=name):
            x = inp[0].detach()
            xs[name].append(x.reshape(-1, x.shape[-1]).float())
        hooks.append(mod.register_forward_pre_hook(hook))
    run_all(model, samples)
    for h in hooks:
        h.remove()
    return {name: torch.cat(v) if v else torch.zeros(0, lins[name].in_features) for name, v in xs.items()}


def sparsify(model, samples, method, pat, watch=None):
    """Prunes model in place; returns ({name: mask}, {watched name: X before its pruning})."""
    masks, seen = {}, {}
    for prefix, layer in blocks(model):
        lins = linears(prefix, layer)
        X = capture(model, lins, samples)
        for name, mod in lins.items():
            if watch and name in watch:
                seen[name] = X[name]
            # No calibration token reached it (an unused expert): magnitude, not a wipe.
            meth = method if X[name].shape[0] > 0 else "magnitude"
            Wp, mask = prune(meth, mod.weight.data.float(), X[name], pat)
            ratio, n, m = PATTERNS[pat]
            expect = mod.weight.numel() // 2  # 50%, 2:4 and 4:8 all prune half
            assert int(mask.sum()) == expect, (name, int(mask.sum()), expect)
            mod.weight.data = Wp.to(mod.weight.dtype)
            masks[name] = mask
    return masks, seen


def load(name):
    auto = AutoModelForCausalLM if name.startswith("bloom") else AutoModelForSeq2SeqLM
    model = auto.from_pretrained(os.path.join(rc.FIXTURES, name), torch_dtype=torch.float32)
    return model.eval()


def segment_ids(seed, n_samples, vocab_lo=4, vocab_hi=2000):
    """Fixed plain-text segments for a decoder-only model (no language token)."""
    g = torch.Generator().manual_seed(seed)
    out = []
    for i in range(n_samples):
        n = 12 + int(torch.randint(0, 8, (1,), generator=g))
        out.append((torch.randint(vocab_lo, vocab_hi, (n,), generator=g).tolist(), None))
    return out


def calibration_ids(seed, n_samples, vocab_lo=4, vocab_hi=1000):
    """Fixed samples: src [lang, pieces, </s>], tgt [</s>, lang, pieces] (NLLB conventions)."""
    g = torch.Generator().manual_seed(seed)
    eng, fra = 2047, 2057  # language tokens of the fixtures' tokenizer (checked below)
    out = []
    for i in range(n_samples):
        ns = 8 + int(torch.randint(0, 6, (1,), generator=g))
        nt = 6 + int(torch.randint(0, 6, (1,), generator=g))
        src = [eng] + torch.randint(vocab_lo, vocab_hi, (ns,), generator=g).tolist() + [2]
        tgt = [2, fra] + torch.randint(vocab_lo, vocab_hi, (nt,), generator=g).tolist()
        out.append((src, tgt))
    return out


def model_golden(fixture, runs, samples, watch, keep_weights):
    tensors, meta = {}, {"fixture": fixture, "samples": [{"src": s, "tgt": t} for s, t in samples], "runs": []}
    full = load(fixture)
    X0 = capture(full, linears(*blocks(full)[1]), samples)
    for w in watch:
        if w in X0:
            tensors["full_sq/" + w] = (X0[w].double() ** 2).sum(0).float()
    for method, pat in runs:
        model = load(fixture)
        masks, seen = sparsify(model, samples, method, pat, watch)
        key = "%s.%s" % (method, pat)
        meta["runs"].append(key)
        for name, mask in masks.items():
            tensors["%s/mask/%s" % (key, name)] = pack(mask)
        for name, X in seen.items():
            tensors["%s/sq/%s" % (key, name)] = (X.double() ** 2).sum(0).float()
            tensors["%s/rows/%s" % (key, name)] = torch.tensor([X.shape[0]], dtype=torch.int32)
        if method == "sparsegpt":
            sd = model.state_dict()
            for name in keep_weights:
                tensors["%s/weight/%s" % (key, name)] = sd[name].float().contiguous()
    meta["watch"] = watch
    meta["weights"] = keep_weights
    return meta, tensors


def layer_cases():
    """Single-matrix cases: real inputs captured from the fixtures plus a synthetic 3-block layer."""
    cases = {}
    samples = calibration_ids(7, 4)
    m2m = load("m2m-tiny")
    X = capture(m2m, linears(*blocks(m2m)[0]), samples)
    name = "model.encoder.layers.0.fc1.weight"
    cases["m2m_enc0_fc1"] = (m2m.state_dict()[name].float(), X[name])
    name = "model.encoder.layers.0.fc2.weight"
    cases["m2m_enc0_fc2"] = (m2m.state_dict()[name].float(), X[name])
    moe = load("nllb-moe-tiny")
    pre, layer = blocks(moe)[5]  # decoder layer 1, sparse
    X = capture(moe, linears(pre, layer), samples)
    name = pre + "ffn.experts.expert_3.fc1.weight"
    cases["moe_dec1_expert3_fc1"] = (moe.state_dict()[name].float(), X[name])
    # Three column blocks (128, 128, 64) and correlated inputs: the lazy updates matter.
    g = torch.Generator().manual_seed(11)
    W = torch.randn(16, 320, generator=g)
    mix = torch.randn(320, 320, generator=g) / 320**0.5 + torch.eye(320)
    Xs = torch.randn(200, 320, generator=g) @ mix
    cases["synthetic_320"] = (W, Xs)
    return cases


def bloom_goldens():
    """bloom-tiny (2 blocks): block 1's inputs must come from the pruned block 0."""
    samples = segment_ids(5, 6)
    watch = ["transformer.h.1.self_attention.query_key_value.weight", "transformer.h.1.mlp.dense_h_to_4h.weight"]
    runs = [("magnitude", "50"), ("wanda", "50"), ("wanda", "2_4"), ("sparsegpt", "50"), ("sparsegpt", "2_4")]
    meta, t = model_golden("bloom-tiny", runs, samples, watch,
                           ["transformer.h.0.mlp.dense_4h_to_h.weight", "transformer.h.1.mlp.dense_4h_to_h.weight",
                            "transformer.h.1.self_attention.query_key_value.weight"])
    save_file(t, os.path.join(OUT, "bloom-tiny.safetensors"))
    rc.write_json(os.path.join(OUT, "bloom-tiny.json"), meta)


def main():
    torch.set_num_threads(1)
    os.makedirs(OUT, exist_ok=True)
    tok_cfg = json.load(open(os.path.join(rc.FIXTURES, "m2m-tiny", "added_tokens.json")))
    assert tok_cfg["eng_Latn"] == 2047 and tok_cfg["fra_Latn"] == 2057, "language ids changed"

    tensors = {}
    index = {"cases": {}}
    for cname, (W, X) in layer_cases().items():
        tensors[cname + "/W"] = W.contiguous()
        tensors[cname + "/X"] = X.contiguous()
        pats = ["50", "2_4"] + (["4_8"] if cname == "synthetic_320" else [])
        index["cases"][cname] = {"shape": list(W.shape), "rows": X.shape[0], "patterns": pats}
        for method in ("magnitude", "wanda", "sparsegpt"):
            for pat in pats:
                Wp, mask = prune(method, W, X, pat)
                tensors["%s/%s.%s/mask" % (cname, method, pat)] = pack(mask)
                if method == "sparsegpt":
                    tensors["%s/%s.%s/W" % (cname, method, pat)] = Wp.contiguous()
    save_file(tensors, os.path.join(OUT, "layers.safetensors"))
    rc.write_json(os.path.join(OUT, "layers.json"), index)

    samples = calibration_ids(3, 4)
    watch = ["model.encoder.layers.1.self_attn.q_proj.weight", "model.encoder.layers.1.fc1.weight"]
    runs = [(m, p) for m in ("magnitude", "wanda", "sparsegpt") for p in ("50", "2_4")]
    meta, t = model_golden("m2m-tiny", runs, samples, watch, ["model.encoder.layers.3.fc2.weight", "model.decoder.layers.0.fc1.weight"])
    save_file(t, os.path.join(OUT, "m2m-tiny.safetensors"))
    rc.write_json(os.path.join(OUT, "m2m-tiny.json"), meta)

    runs = [("wanda", "50"), ("sparsegpt", "50"), ("sparsegpt", "2_4")]
    meta, t = model_golden("nllb-moe-tiny", runs, samples, [],
                           ["model.encoder.layers.3.ffn.experts.expert_%d.fc2.weight" % e for e in range(8)])
    save_file(t, os.path.join(OUT, "nllb-moe-tiny.safetensors"))
    rc.write_json(os.path.join(OUT, "nllb-moe-tiny.json"), meta)
    bloom_goldens()


def bench(n):
    """Seconds for SparseGPT 50% on one n x n layer with 2048 calibration tokens (CPU)."""
    g = torch.Generator().manual_seed(0)
    W = torch.randn(n, n, generator=g)
    X = torch.randn(2048, n, generator=g)
    t0 = time.perf_counter()
    H = hessian(X)
    t1 = time.perf_counter()
    sparsegpt(W, H, 0.5, 0, 0)
    t2 = time.perf_counter()
    print(json.dumps({"n": n, "hessian_s": t1 - t0, "prune_s": t2 - t1, "threads": torch.get_num_threads()}))


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "bench":
        bench(int(sys.argv[2]))
    elif len(sys.argv) > 1 and sys.argv[1] == "bloom":
        torch.set_num_threads(1)
        bloom_goldens()
    else:
        main()
