#!/usr/bin/env python3
"""Train Secateur's demo model: Hugging Face NllbMoeForConditionalGeneration on the gettext corpus (CPU, or CUDA with --device cuda).

    OMP_WAIT_POLICY=PASSIVE tools/.venv/bin/python tools/train/train.py \
        [--corpus /work/demo/corpus] [--tok /work/demo/tok] [--ckpt /work/demo/ckpt] \
        [--export /work/demo/export] [--deadline 22:12] [--threads 2]
    tools/.venv/bin/python tools/train/train.py --export-only      # export the latest checkpoint now

English-centric, both directions, exactly NLLB's format: input_ids [src_lang] pieces [</s>],
labels [tgt_lang] pieces [</s>], decoder_input_ids [</s>, tgt_lang, pieces].
Token-bucketed batches, label smoothing 0.1, AdamW (lr 1e-3, warmup 1000, inverse sqrt), grad clip 1.0,
per-layer load-balancing loss (router_aux_loss_coef; see README), temperature language sampling (T=2).
No token dropping in training: every router's expert_capacity is set above the token count before each
forward (HF keeps a stale capacity otherwise); at eval HF uses capacity = all tokens (no dropping).

Resumable: OUT ckpt/last.pt (model, optimizer, step, data position, RNG) every --ckpt-every seconds,
written atomically. Every --export-every seconds (and at the deadline) an HF directory is exported to
EXPORT (atomically: EXPORT.tmp then rename) with f16 safetensors, tokenizer files, generation_config
and a model card with a small held-out chrF/chrF++ evaluation.
"""
import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ.setdefault("OMP_NUM_THREADS", "2")

import argparse  # noqa: E402
import contextlib  # noqa: E402
import datetime as dt  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import random  # noqa: E402
import shutil  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import torch  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import LANGS_NLLB_ORDER, layout, spm_size  # noqa: E402

MAX_LEN = 200  # pieces per side (positions stay < max_position_embeddings 256)


def log(*a):
    print(dt.datetime.utcnow().strftime("%H:%M:%S"), *a, flush=True)


def make_config(vocab_size, ffn=512, aux=0.01):
    from transformers import NllbMoeConfig
    return NllbMoeConfig(
        vocab_size=vocab_size, d_model=256, encoder_layers=4, decoder_layers=4,
        encoder_attention_heads=4, decoder_attention_heads=4,
        encoder_ffn_dim=ffn, decoder_ffn_dim=ffn,
        num_experts=16, expert_capacity=64, encoder_sparse_step=2, decoder_sparse_step=2,
        router_z_loss_coef=0.001, router_aux_loss_coef=aux, router_dtype="float32",
        router_ignore_padding_tokens=False, second_expert_policy="all",
        normalize_router_prob_before_dropping=False, batch_prioritized_routing=False,
        moe_eval_capacity_token_fraction=1.0, moe_token_dropout=0.2,
        max_position_embeddings=256, scale_embedding=True, activation_function="relu",
        dropout=0.1, attention_dropout=0.1, activation_dropout=0.0,
        encoder_layerdrop=0.0, decoder_layerdrop=0.0, init_std=0.02,
        pad_token_id=1, bos_token_id=0, eos_token_id=2, decoder_start_token_id=2,
        use_cache=True, is_encoder_decoder=True, tie_word_embeddings=True, output_router_logits=False,
        architectures=["NllbMoeForConditionalGeneration"],
    )


# ---------------------------------------------------------------------------------------------- data

def load_data(corpus, tok, cache):
    """Encode the training corpus once (cached): per language, arrays of (eng ids, xx ids)."""
    if os.path.exists(cache):
        return torch.load(cache)
    import sentencepiece as spm
    sp = spm.SentencePieceProcessor()
    sp.Load(os.path.join(tok, "sentencepiece.bpe.model"))
    rows = {}
    with open(os.path.join(corpus, "train.tsv"), encoding="utf-8") as f:
        for line in f:
            lang, en, tr = line.rstrip("\n").split("\t")[:3]
            rows.setdefault(lang, []).append((en, tr))
    data = {}
    for lang in sorted(rows):
        ens = sp.EncodeAsIds([r[0] for r in rows[lang]])
        trs = sp.EncodeAsIds([r[1] for r in rows[lang]])
        data[lang] = [([i + 1 for i in e[:MAX_LEN]], [i + 1 for i in t[:MAX_LEN]]) for e, t in zip(ens, trs)]
        log(f"encoded {lang}: {len(data[lang])} pairs")
    torch.save(data, cache + ".tmp")
    os.replace(cache + ".tmp", cache)
    return data


class Batches:
    """Deterministic stream of token-bucketed batches; position = (pool, index)."""

    def __init__(self, data, lang_ids, max_tokens, temperature, seed, pool_size=20000):
        self.data, self.lang_ids, self.max_tokens = data, lang_ids, max_tokens
        self.langs = sorted(data)
        n = [len(data[l]) for l in self.langs]
        w = [x ** (1.0 / temperature) for x in n]
        s = sum(w)
        self.probs = [x / s for x in w]
        self.seed, self.pool_size = seed, pool_size
        self.pool, self.index, self.batches = 0, 0, None

    def _make_pool(self):
        rng = random.Random(self.seed * 1000003 + self.pool)
        eng = self.lang_ids["eng_Latn"]
        ex = []
        for _ in range(self.pool_size):
            lang = rng.choices(self.langs, self.probs)[0]
            en, tr = self.data[lang][rng.randrange(len(self.data[lang]))]
            if rng.random() < 0.5:
                ex.append((eng, en, self.lang_ids[lang], tr))
            else:
                ex.append((self.lang_ids[lang], tr, eng, en))
        ex.sort(key=lambda e: (len(e[1]), len(e[3]), rng.random()))
        batches, cur, ms, mt = [], [], 0, 0
        for e in ex:
            s2, t2 = max(ms, len(e[1]) + 2), max(mt, len(e[3]) + 2)
            if cur and (len(cur) + 1) * (s2 + t2) > self.max_tokens:
                batches.append(cur)
                cur, s2, t2 = [], len(e[1]) + 2, len(e[3]) + 2
            cur.append(e)
            ms, mt = s2, t2
        if cur:
            batches.append(cur)
        rng.shuffle(batches)
        self.batches = batches

    def position(self):
        return {"pool": self.pool, "index": self.index}

    def seek(self, pos):
        self.pool, self.index, self.batches = pos["pool"], pos["index"], None

    def next(self):
        if self.batches is None:
            self._make_pool()
        if self.index >= len(self.batches):
            self.pool, self.index = self.pool + 1, 0
            self._make_pool()
        b = self.batches[self.index]
        self.index += 1
        return collate(b)


def collate(b):
    B = len(b)
    S = max(len(e[1]) for e in b) + 2
    T = max(len(e[3]) for e in b) + 2
    inp = torch.full((B, S), 1, dtype=torch.long)
    att = torch.zeros((B, S), dtype=torch.long)
    dec = torch.full((B, T), 1, dtype=torch.long)
    lab = torch.full((B, T), -100, dtype=torch.long)
    for i, (sl, s, tl, t) in enumerate(b):
        src = [sl] + s + [2]
        inp[i, :len(src)] = torch.tensor(src)
        att[i, :len(src)] = 1
        y = [tl] + t + [2]
        lab[i, :len(y)] = torch.tensor(y)
        d = [2, tl] + t
        dec[i, :len(d)] = torch.tensor(d)
    ntok = int(att.sum()) + int((lab != -100).sum())
    return inp, att, dec, lab, ntok


# ---------------------------------------------------------------------------------------------- speed

def fast_sparse_mlp_forward(self, hidden_states, padding_mask=False):
    """Drop-in for NllbMoeSparseMLP.forward: same router, same parameters, same arithmetic per token.

    HF's version writes every expert's output into a dense [experts, tokens, d] tensor through
    `masked_hidden_states[idx, token_indices] = ...`; the backward of that select/index_put allocates and
    adds a full [experts, tokens, d] zero tensor per expert (O(E^2 S d)) and made training ~5x slower on
    2 cores. Here each expert's weighted output is index_add-ed into one [tokens, d] tensor instead.
    """
    batch_size, sequence_length, hidden_dim = hidden_states.shape
    top_1_mask, router_probs = self.router(hidden_states, padding_mask)
    router_mask = router_probs.bool()
    hs = hidden_states.reshape(batch_size * sequence_length, hidden_dim)
    out = torch.zeros_like(hs)
    for idx, expert in enumerate(self.experts.values()):
        token_indices = router_mask[:, idx].nonzero(as_tuple=True)[0]
        if token_indices.numel() == 0:
            continue
        combining_weights = router_probs[token_indices, idx]
        expert_output = expert(hs[token_indices])
        if self.moe_token_dropout > 0:
            if self.training:
                expert_output = self.token_dropout(expert_output)
            else:
                expert_output = expert_output * (1 - self.moe_token_dropout)
        weighted = combining_weights.unsqueeze(-1).to(expert_output.dtype) * expert_output
        out = out.index_add(0, token_indices, weighted.to(out.dtype))  # bf16 under autocast
    top_1_expert_index = torch.argmax(top_1_mask, dim=-1)
    return out.reshape(batch_size, sequence_length, hidden_dim), (router_probs, top_1_expert_index)


def patch_fast_moe(model, check_batch=None):
    """Patch HF's sparse MLP with the fast equivalent; if check_batch, verify equal logits in eval mode."""
    from transformers.models.nllb_moe import modeling_nllb_moe as M
    orig = M.NllbMoeSparseMLP.forward
    ref = None
    if check_batch is not None:
        was = model.training
        model.eval()
        with torch.no_grad():
            inp, att, dec = check_batch
            ref = model(input_ids=inp, attention_mask=att, decoder_input_ids=dec).logits
    M.NllbMoeSparseMLP.forward = fast_sparse_mlp_forward
    if check_batch is not None:
        with torch.no_grad():
            new = model(input_ids=inp, attention_mask=att, decoder_input_ids=dec).logits
        diff = float((new - ref).abs().max())
        log(f"fast MoE forward vs Hugging Face forward: max |logit diff| {diff:.2e}")
        assert diff < 1e-4, diff
        if was:
            model.train()
    return orig


# ---------------------------------------------------------------------------------------------- train

def set_capacity(model, value):
    for m in model.modules():
        if m.__class__.__name__ == "NllbMoeTop2Router":
            m.expert_capacity = value


class RouterTap:
    """Collects every router's raw logits [tokens, experts] in forward order (forward hooks)."""

    def __init__(self, model):
        self.logits = []
        for name, m in model.named_modules():
            if m.__class__.__name__ == "NllbMoeTop2Router":
                side = "encoder" if ".encoder." in "." + name else "decoder"
                m.classifier.register_forward_hook(
                    lambda mod, inp, out, side=side: self.logits.append((side, out)))

    def clear(self):
        self.logits = []


def router_probs(tap, enc_mask, dec_mask):
    """(side, softmax probabilities [non-padding tokens, experts], token mask) for every MoE layer, in
    forward order; computed once per step for both router losses."""
    out = []
    for side, lg in tap.logits:
        mask = enc_mask if side == "encoder" else dec_mask
        out.append((side, torch.softmax(lg[mask].float(), dim=-1), mask))
    return out


def entropy(p):
    return -(p * torch.log(p + 1e-9)).sum()


def balance_loss(probs, n_experts):
    """GShard/fairseq top-2 balancing loss, summed over MoE layers: E * sum_e mean(p_e) * frac_top1_e
    over non-padding tokens (1.0 per layer when balanced). HF 4.40's load_balancing_loss_func, fed by
    NllbMoe's concatenated router outputs, pairs layer 1's probabilities with both layers' counts and
    gives the other layer no balancing gradient, so it is not used."""
    tot, maxfrac = 0.0, 0.0
    for _side, p, _mask in probs:
        f = torch.nn.functional.one_hot(p.argmax(-1), n_experts).float().mean(0)
        tot = tot + n_experts * (f * p.mean(0)).sum()
        maxfrac = max(maxfrac, float(f.max()))
    return tot, maxfrac


def language_entropy(probs, enc_lang, dec_lang):
    """Routing concentration per language, summed over MoE layers: for every language in the batch, the
    entropy of its tokens' mean router distribution (encoder tokens belong to the source language, decoder
    tokens to the target language), averaged over the languages present (English, half of each side's
    tokens, counts once). Minimising it, against the load-balancing term, gives each language its own few
    experts, as NLLB-200 learned at scale; the architecture and its semantics are untouched.
    Also returns exp(entropy) per language and for all tokens together, averaged over layers: how many
    experts a language, and the whole batch, effectively use."""
    tot, eff_lang, eff_all = 0.0, 0.0, 0.0
    for side, p, mask in probs:
        lang = (enc_lang if side == "encoder" else dec_lang)[mask]
        layer = torch.stack([entropy(p[lang == l].mean(0)) for l in torch.unique(lang)]).mean()
        tot = tot + layer
        eff_lang += math.exp(float(layer))
        eff_all += math.exp(float(entropy(p.mean(0))))
    n = max(len(probs), 1)
    return tot, eff_lang / n, eff_all / n


def lr_at(step, peak, warmup):
    step = max(step, 1)
    if step < warmup:
        return peak * step / warmup
    return peak * math.sqrt(warmup / step)


def save_ckpt(path, model, opt, step, batches, stats):
    tmp = path + ".tmp"
    torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "step": step,
                "data": batches.position(), "stats": stats,
                "rng_torch": torch.get_rng_state(), "rng_py": random.getstate()}, tmp)
    os.replace(tmp, path)


def read_test(corpus, n):
    out = {}
    with open(os.path.join(corpus, "test.tsv"), encoding="utf-8") as f:
        for line in f:
            lang, en, tr = line.rstrip("\n").split("\t")[:3]
            out.setdefault(lang, [])
            if len(out[lang]) < n:
                out[lang].append((en, tr))
    return out


@torch.no_grad()
def evaluate(model, tok_dir, corpus, n, batch=25, max_new=96):
    """Greedy, HF generate, n held-out sentences per direction; returns chrF and chrF++ per direction."""
    import sacrebleu
    from transformers import NllbTokenizer
    t = NllbTokenizer.from_pretrained(tok_dir)
    test = read_test(corpus, n)
    was = model.training
    model.eval()
    res = {}
    for lang in sorted(test):
        for src_l, tgt_l, idx in ((lang, "eng_Latn", 1), ("eng_Latn", lang, 0)):
            srcs = [p[idx] for p in test[lang]]
            refs = [p[1 - idx] for p in test[lang]]
            hyps = []
            t.src_lang = src_l
            for i in range(0, len(srcs), batch):
                enc = t(srcs[i:i + batch], return_tensors="pt", padding=True, truncation=True, max_length=MAX_LEN)
                enc = {k: v.to(model.device) for k, v in enc.items()}
                out = model.generate(**enc, forced_bos_token_id=t.convert_tokens_to_ids(tgt_l), num_beams=1,
                                     do_sample=False, max_new_tokens=max_new)
                hyps += t.batch_decode(out, skip_special_tokens=True)
            chrf = sacrebleu.corpus_chrf(hyps, [refs]).score
            chrfpp = sacrebleu.corpus_chrf(hyps, [refs], word_order=2).score
            res[f"{src_l}-{tgt_l}"] = {"chrF": round(chrf, 2), "chrF++": round(chrfpp, 2), "n": len(srcs),
                                       "example": [srcs[0], hyps[0], refs[0]]}
    if was:
        model.train()
    set_capacity(model, 1 << 30)
    return res


def summarize(res):
    def mean(keys, m):
        v = [res[k][m] for k in keys]
        return round(sum(v) / len(v), 2) if v else None
    xe = [k for k in res if k.endswith("-eng_Latn")]
    ex = [k for k in res if k.startswith("eng_Latn-")]
    return {m: {"all": mean(list(res), m), "X->eng": mean(xe, m), "eng->X": mean(ex, m),
                "min": min(res[k][m] for k in res)} for m in ("chrF", "chrF++")}


def export(model, tok_dir, corpus, out, stats, eval_n):
    from transformers import GenerationConfig
    tmp = out.rstrip("/") + ".tmp"
    if os.path.exists(tmp):
        shutil.rmtree(tmp)
    t0 = time.time()
    res = evaluate(model, tok_dir, corpus, eval_n) if eval_n > 0 else {}
    t_eval = time.time() - t0
    import copy
    m16 = copy.deepcopy(model).half().eval()
    m16.config.torch_dtype = torch.float16
    m16.config.output_router_logits = False
    m16.save_pretrained(tmp, safe_serialization=True)
    del m16
    for fn in ("sentencepiece.bpe.model", "tokenizer_config.json", "special_tokens_map.json"):
        shutil.copy(os.path.join(tok_dir, fn), os.path.join(tmp, fn))
    gc = GenerationConfig(bos_token_id=0, decoder_start_token_id=2, eos_token_id=2, pad_token_id=1,
                          max_length=200, num_beams=4)
    gc.save_pretrained(tmp)
    # save_pretrained may have written a generation_config from the model config: ours overwrites it
    with open(os.path.join(tmp, "eval.json"), "w") as f:
        json.dump({"stats": stats, "eval": res, "summary": summarize(res) if res else None}, f, indent=1,
                  ensure_ascii=False)
    write_card(tmp, model, stats, res, eval_n)
    if os.path.exists(out):
        old = out.rstrip("/") + ".old"
        if os.path.exists(old):
            shutil.rmtree(old)
        os.replace(out, old)
        os.replace(tmp, out)
        shutil.rmtree(old)
    else:
        os.replace(tmp, out)
    size = sum(os.path.getsize(os.path.join(out, f)) for f in os.listdir(out))
    log(f"exported {out} ({size / 1e6:.1f} MB, eval {t_eval:.0f}s)", json.dumps(summarize(res)) if res else "")
    return res


def param_counts(model):
    total = sum(p.numel() for p in model.parameters())
    experts = sum(p.numel() for n, p in model.named_parameters() if ".experts." in n)
    cfg = model.config
    n_moe = cfg.encoder_layers // cfg.encoder_sparse_step + cfg.decoder_layers // cfg.decoder_sparse_step
    per_expert = experts // (n_moe * cfg.num_experts) if n_moe else 0
    active = total - experts + n_moe * 2 * per_expert
    return total, active, experts


def stretch_lines(stats):
    """The card's lines on how the options changed between resumes (stats["stretches"]), and on the
    per-language routing entropy when any stretch used it; none for a run with one set of options."""
    st = stats.get("stretches", [])
    lines = []
    if len(st) > 1:
        lines += ["- options per stretch of training (each stretch runs to the next one's first step):", "",
                  "| from step | lr | warmup | load balancing | per-language routing entropy |", "|---|---|---|---|---|"]
        lines += [f"| {x['from_step']} | {x['lr']:g} | {x['warmup']} | {x['aux']:g} | {x['lang_entropy']:g} |" for x in st]
        lines += [""]
    if any(x["lang_entropy"] > 0 for x in st):
        weight = "weights in the table" if len(st) > 1 else f"weight {st[0]['lang_entropy']:g}"
        lines += [f"- per-language routing entropy ({weight}): the entropy of each language's mean router distribution (encoder "
                  "tokens by source and decoder tokens by target language), averaged over the languages in a batch "
                  "and summed over MoE layers, so that each language settles on a few experts of its own; a training "
                  "loss only: the architecture and inference are NLLB-MoE's unchanged"]
    return lines


def write_card(d, model, stats, res, eval_n):
    total, active, _ = param_counts(model)
    cfg = model.config
    lines = [
        "---", "license: other", "language: [ar, de, en, fr, hi, it, ja, pl, pt, ru, es, zh]",
        "tags: [translation, nllb-moe, mixture-of-experts, secateur-demo]", "---", "",
        "# Secateur demo model (NLLB-MoE architecture, trained from scratch)", "",
        "A small English-centric translation model with the exact NLLB-MoE architecture, tensor names and "
        "tokenizer conventions (Hugging Face `NllbMoeForConditionalGeneration`, `model_type` `nllb-moe`), "
        "trained by Secateur's `tools/train/train.py`. It is a demo for expert pruning, not a "
        "production translator.", "",
        "## Model",
        f"- d_model {cfg.d_model}, {cfg.encoder_layers}+{cfg.decoder_layers} layers, {cfg.encoder_attention_heads} heads, "
        f"FFN {cfg.encoder_ffn_dim} (dense and experts), {cfg.num_experts} experts top-2 in every "
        f"{cfg.encoder_sparse_step}nd layer (encoder layers 1,3 and decoder layers 1,3, 0-based)",
        f"- parameters: {total:,} total, about {active:,} active per token; weights stored in float16",
        f"- vocabulary {cfg.vocab_size}: SentencePiece unigram ({stats.get('spm_size')} pieces, byte fallback) "
        "in the NLLB/fairseq id layout, then the language codes "
        + ", ".join(LANGS_NLLB_ORDER) + ", then `<mask>`", "",
        "## Data",
        "English msgid -> msgstr pairs from Debian gettext catalogues (`tools/corpus/make_gettext.py`): "
        "installed packages plus gnome/libreoffice translation packages; the catalogues carry their "
        "packages' licences (mostly GPL/LGPL). Test (500 per language) and calibration (300) splits by "
        "a hash of the English string; no test English string occurs in training in any language.", "",
        "## Training",
        f"- steps {stats.get('step')}, tokens seen {stats.get('tokens', 0):,} (source+target, non-padding), "
        f"wall time {stats.get('train_seconds', 0) / 60:.1f} min on {stats.get('hardware', '2 CPU cores')}, "
        f"{stats.get('tokens_per_s', 0):.0f} tokens/s",
        f"- AdamW lr {stats.get('lr', 1e-3):g}, warmup {stats.get('warmup', 1000)} steps, inverse square root; "
        f"batches of at most {stats.get('max_tokens', 4500)} padded tokens; label smoothing 0.1; "
        f"load-balancing loss {cfg.router_aux_loss_coef:g}; dropout 0.1; expert-output masking 0.2; temperature T=2 language sampling;"
        " both directions"] + stretch_lines(stats) + [
        f"- last training loss (smoothed) {stats.get('loss_ema', 0):.3f}", "",
        "## Evaluation",
    ]
    if res:
        s = summarize(res)
        lines += [f"Greedy decoding (Hugging Face generate), first {eval_n} test sentences per direction, "
                  "sacreBLEU chrF / chrF++:", "",
                  f"- mean chrF {s['chrF']['all']} (X->eng {s['chrF']['X->eng']}, eng->X {s['chrF']['eng->X']}); "
                  f"mean chrF++ {s['chrF++']['all']} (X->eng {s['chrF++']['X->eng']}, eng->X {s['chrF++']['eng->X']})",
                  "", "| direction | chrF | chrF++ |", "|---|---|---|"]
        lines += [f"| {k} | {v['chrF']} | {v['chrF++']} |" for k, v in sorted(res.items())]
    else:
        lines += ["Not evaluated in this export; run `tools/train/evaluate.py`."]
    lines += ["", "## Licence",
              "Trained on translations from GPL/LGPL-licensed (and other free) Debian packages; treat the "
              "weights as a derivative of those catalogues.", ""]
    with open(os.path.join(d, "README.md"), "w") as f:
        f.write("\n".join(lines))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--corpus", default="/work/demo/corpus")
    ap.add_argument("--tok", default="/work/demo/tok")
    ap.add_argument("--ckpt", default="/work/demo/ckpt")
    ap.add_argument("--export", default="/work/demo/export")
    ap.add_argument("--deadline", default="22:12", help="UTC HH:MM today: final checkpoint+export, then stop")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--max-tokens", type=int, default=4500, help="padded src+tgt tokens per batch")
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--warmup", type=int, default=1000)
    ap.add_argument("--temperature", type=float, default=2.0)
    ap.add_argument("--ffn", type=int, default=512)
    ap.add_argument("--ckpt-every", type=float, default=300)
    ap.add_argument("--export-every", type=float, default=600)
    ap.add_argument("--eval-n", type=int, default=20, help="test sentences per direction in each export")
    ap.add_argument("--final-eval-n", type=int, default=50)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--export-only", action="store_true")
    ap.add_argument("--max-steps", type=int, default=0)
    ap.add_argument("--minutes", type=float, default=0, help="train this long from now (instead of --deadline)")
    ap.add_argument("--aux", type=float, default=0.01, help="load-balancing loss coefficient")
    ap.add_argument("--lang-entropy", type=float, default=0.0,
                    help="weight of the per-language routing entropy (see language_entropy); 0 = off")
    ap.add_argument("--device", default="cpu", help="cpu or cuda (bf16 autocast on cuda)")
    ap.add_argument("--data-cache", default="", help="encoded corpus cache (default CKPT/data_cache.pt)")
    a = ap.parse_args()

    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    random.seed(a.seed)
    from transformers import NllbMoeForConditionalGeneration
    n_spm = spm_size(a.tok)
    lang_ids, mask_id, vocab_size = layout(n_spm)
    cfg = make_config(vocab_size, a.ffn, a.aux)
    model = NllbMoeForConditionalGeneration(cfg).to(a.device)
    dev = torch.device(a.device)
    total, active, experts = param_counts(model)
    log(f"params total {total:,} active {active:,} experts {experts:,} vocab {vocab_size}")
    opt = torch.optim.AdamW(model.parameters(), lr=a.lr, betas=(0.9, 0.98), eps=1e-8, weight_decay=0.0)
    os.makedirs(a.ckpt, exist_ok=True)
    ck = os.path.join(a.ckpt, "last.pt")
    data = load_data(a.corpus, a.tok, a.data_cache or os.path.join(a.ckpt, "data_cache.pt"))
    batches = Batches(data, lang_ids, a.max_tokens, a.temperature, a.seed)
    step = 0
    stats = {"step": 0, "tokens": 0, "train_seconds": 0.0, "loss_ema": None, "spm_size": n_spm,
             "params_total": total, "params_active": active}
    if os.path.exists(ck):
        st = torch.load(ck, map_location=dev)
        model.load_state_dict(st["model"])
        opt.load_state_dict(st["opt"])
        step = st["step"]
        batches.seek(st["data"])
        stats.update(st["stats"])
        torch.set_rng_state(st["rng_torch"])
        random.setstate(st["rng_py"])
        log(f"resumed from {ck} at step {step}, data {st['data']}")
    stats.update(lr=a.lr, warmup=a.warmup, max_tokens=a.max_tokens,
                 hardware=torch.cuda.get_device_name(dev) if dev.type == "cuda" else f"{a.threads} CPU cores")
    inp, att, dec, _lab, _n = collate([(lang_ids["fra_Latn"], data["fra_Latn"][i][1], lang_ids["eng_Latn"],
                                         data["fra_Latn"][i][0]) for i in range(8)])
    patch_fast_moe(model, (inp.to(dev), att.to(dev), dec.to(dev)))
    if a.export_only:
        export(model, a.tok, a.corpus, a.export, stats, a.final_eval_n)
        return

    # the options of each stretch of training between resumes, for the model card (not on --export-only)
    recipe = {"lr": a.lr, "warmup": a.warmup, "aux": a.aux, "lang_entropy": a.lang_entropy}
    stretches = stats.setdefault("stretches", [])
    if not stretches or {k: stretches[-1].get(k) for k in recipe} != recipe:
        stretches.append({"from_step": step + 1, **recipe})

    hh, mm = map(int, a.deadline.split(":"))
    now = dt.datetime.utcnow()
    deadline = now.replace(hour=hh, minute=mm, second=0, microsecond=0)
    if deadline < now - dt.timedelta(hours=1):
        deadline += dt.timedelta(days=1)
    if a.minutes > 0:
        deadline = now + dt.timedelta(minutes=a.minutes)
    log(f"deadline {deadline.isoformat()} UTC; step {step}")

    model.train()
    set_capacity(model, 1 << 30)
    tap = RouterTap(model)
    ls_loss = torch.nn.CrossEntropyLoss(ignore_index=-100, label_smoothing=0.1)
    t_ck = t_ex = time.time()
    t_log, tok_log = time.time(), 0
    while True:
        if dt.datetime.utcnow() >= deadline or (a.max_steps and step >= a.max_steps):
            log("deadline reached: final checkpoint and export")
            save_ckpt(ck, model, opt, step, batches, stats)
            export(model, a.tok, a.corpus, a.export, stats, a.final_eval_n)
            log("done")
            return
        t0 = time.time()
        inp, att, dec, lab, ntok = batches.next()
        inp, att, dec, lab = (x.to(dev, non_blocking=True) for x in (inp, att, dec, lab))
        lr = lr_at(step + 1, a.lr, a.warmup)
        for g in opt.param_groups:
            g["lr"] = lr
        set_capacity(model, 1 << 30)
        # labels=None: HF would compute an unsmoothed CE too. Load balancing: our own per-layer loss on
        # the routers' raw logits (see balance_loss; HF's load_balancing_loss_func mixes the layers up)
        tap.clear()
        with torch.autocast("cuda", dtype=torch.bfloat16) if dev.type == "cuda" else contextlib.nullcontext():
            out = model(input_ids=inp, attention_mask=att, decoder_input_ids=dec, return_dict=True)
        ce = ls_loss(out.logits.float().view(-1, out.logits.size(-1)), lab.view(-1))
        probs = router_probs(tap, att.view(-1).bool(), (lab != -100).view(-1))
        aux, maxfrac = balance_loss(probs, cfg.num_experts)
        loss = ce + cfg.router_aux_loss_coef * aux
        eff = eff_all = 0.0
        if a.lang_entropy > 0:
            # every token belongs to its row's language: input_ids[:, 0] / labels[:, 0] are the codes
            enc_lang = inp[:, :1].expand_as(inp).reshape(-1)
            dec_lang = lab[:, :1].expand_as(lab).reshape(-1)
            went, eff, eff_all = language_entropy(probs, enc_lang, dec_lang)
            loss = loss + a.lang_entropy * went
        opt.zero_grad(set_to_none=True)
        loss.backward()
        gn = torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        step += 1
        dtm = time.time() - t0
        stats["step"] = step
        stats["tokens"] += ntok
        stats["train_seconds"] += dtm
        stats["tokens_per_s"] = stats["tokens"] / max(stats["train_seconds"], 1e-9)
        l = float(ce)
        stats["loss_ema"] = l if stats["loss_ema"] is None else 0.98 * stats["loss_ema"] + 0.02 * l
        tok_log += ntok
        if step % 20 == 0 or step <= 5:
            el = time.time() - t_log
            log(f"step {step} lr {lr:.2e} loss {l:.3f} ema {stats['loss_ema']:.3f} "
                f"bal {float(aux) / max(len(tap.logits), 1):.3f} maxfrac {maxfrac:.2f} experts/lang {eff:.1f} all {eff_all:.1f} gnorm {float(gn):.2f} tok/s {tok_log / el:.0f} (avg {stats['tokens_per_s']:.0f}) "
                f"tokens {stats['tokens']:,} batch {inp.shape[0]}x{inp.shape[1]}+{dec.shape[1]}")
            t_log, tok_log = time.time(), 0
        if time.time() - t_ck >= a.ckpt_every:
            save_ckpt(ck, model, opt, step, batches, stats)
            log(f"checkpoint step {step}")
            t_ck = time.time()
        if time.time() - t_ex >= a.export_every:
            export(model, a.tok, a.corpus, a.export, stats, a.eval_n)
            model.train()
            set_capacity(model, 1 << 30)
            t_ex = time.time()
            t_log, tok_log = time.time(), 0


if __name__ == "__main__":
    main()
