#!/usr/bin/env python3
"""Writes tests/goldens/ from the fixtures in tests/fixtures/ with the real Hugging Face classes.

    tools/.venv/bin/python tools/make_goldens.py

Per distinct weight set a directory tests/goldens/<name>/ with cases.json (ids, routing,
generation outputs) and tensors.safetensors (encoder outputs and teacher-forced logits, f32);
plus tests/goldens/tokenizer.json and tests/goldens/tokenizer-fast.json.  Run tools/make_fixtures.py
first.  See tools/README.md for
the schema.
"""

import argparse
import copy
import glob
import json
import os
import random
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import refcommon as rc  # noqa: E402

import torch  # noqa: E402
import transformers  # noqa: E402
from safetensors.torch import save_file  # noqa: E402
from transformers import (  # noqa: E402
    AutoTokenizer,
    M2M100ForConditionalGeneration,
    NllbMoeForConditionalGeneration,
    NllbMoeModel,
    NllbTokenizer,
)

transformers.logging.set_verbosity_error()

# (golden name, fixture dirs sharing its weights (the first is loaded), model class, stored dtype)
GOLDEN_SETS = [
    ("nllb-moe-tiny", ["nllb-moe-tiny", "nllb-moe-tiny-bin-sharded", "nllb-moe-tiny-54b-style"],
     NllbMoeForConditionalGeneration, "float32"),
    ("nllb-moe-tiny-f16", ["nllb-moe-tiny-f16"], NllbMoeForConditionalGeneration, "float16"),
    ("nllb-moe-tiny-bf16", ["nllb-moe-tiny-bf16"], NllbMoeForConditionalGeneration, "bfloat16"),
    ("m2m-tiny", ["m2m-tiny", "m2m-tiny-bin"], M2M100ForConditionalGeneration, "float32"),
    # the shipped demo model (resources/models/demo, f16), made only when it exists
    ("demo", ["../../resources/models/demo"], NllbMoeForConditionalGeneration, "float16-trained"),
]

# name, src, tgt, UDHR articles (first sentence of the first paragraph, or the whole paragraph
# with "!"), teacher-forcing length cap T (decoder_input_ids are [2, tgt] + target pieces,
# cut to the shortest target in the batch and to T, so no decoder padding and no decoder mask).
CASES = [
    ("eng-fra-single", "eng_Latn", "fra_Latn", ["1"], 12),
    ("fra-eng-batch3", "fra_Latn", "eng_Latn", ["26", "3", "4"], 12),
    ("rus-zho-batch2", "rus_Cyrl", "zho_Hans", ["19", "26"], 12),
    ("deu-spa-long", "deu_Latn", "spa_Latn", ["12"], 20),
    ("hin-arb-pad", "hin_Deva", "arb_Arab", ["4!", "26"], 12),
]

# The demo model is also checked on held-out sentences of its own domain: 20 strings of the
# gettext test split (tools/corpus/make_gettext.py), one per case, 11 English->X then 9
# X->English, whole sentences teacher-forced (up to 64 tokens) and decoded greedily to 64 tokens.
DEMO_CORPUS = os.environ.get("SECATEUR_DEMO_CORPUS", "/work/demo/corpus")
DEMO_GETTEXT_N = 20
DEMO_GETTEXT_LEN = 64


def gettext_cases(n=DEMO_GETTEXT_N):
    by_lang = {}
    with open(os.path.join(DEMO_CORPUS, "test.tsv"), encoding="utf-8") as f:
        for line in f:
            lang, en, tr = line.rstrip("\n").split("\t")[:3]
            # sentences rather than single UI words, short enough for a test
            if 20 <= len(en) <= 120 and " " in en:
                by_lang.setdefault(lang, []).append((en, tr))
    langs = sorted(by_lang)
    cases = []
    for k in range(n):
        lang = langs[k % len(langs)]
        en, tr = by_lang[lang][k // len(langs)]
        if k < len(langs):
            src, tgt, pair = "eng_Latn", lang, (en, tr)
        else:
            src, tgt, pair = lang, "eng_Latn", (tr, en)
        cases.append(("gettext-%02d-%s-%s" % (k, src[:3], tgt[:3]), src, tgt, [pair],
                      DEMO_GETTEXT_LEN))
    return cases


GREEDY = [dict(max_length=24)]
BEAM = [
    dict(num_beams=4, length_penalty=1.0, early_stopping=False, max_length=24),
    dict(num_beams=4, length_penalty=0.6, early_stopping=False, max_length=24),
    dict(num_beams=4, length_penalty=2.0, early_stopping=False, max_length=24),
    dict(num_beams=4, length_penalty=1.0, early_stopping=True, max_length=24),
    dict(num_beams=4, length_penalty=2.0, early_stopping=True, max_length=24),
]

# Generation settings recorded with every greedy/beam entry: their values as in effect for the
# call (model.generation_config updated with the call's arguments, as generate() does).
GEN_KEYS = [
    "max_length", "max_new_tokens", "min_length", "min_new_tokens", "do_sample", "num_beams",
    "num_beam_groups", "length_penalty", "early_stopping", "num_return_sequences",
    "no_repeat_ngram_size", "encoder_no_repeat_ngram_size", "repetition_penalty",
    "encoder_repetition_penalty", "bad_words_ids", "forced_bos_token_id", "forced_eos_token_id",
    "forced_decoder_ids", "suppress_tokens", "begin_suppress_tokens", "remove_invalid_values",
    "renormalize_logits", "exponential_decay_length_penalty", "diversity_penalty",
    "temperature", "top_k", "top_p", "use_cache", "pad_token_id", "bos_token_id", "eos_token_id",
    "decoder_start_token_id",
]


def text_for(lang, art):
    whole = art.endswith("!")
    art = art.rstrip("!")
    para = rc.udhr_by_article(lang)[art][0]
    return para if whole else rc.first_sentence(para)


def effective_generation(model, kwargs):
    gc = copy.deepcopy(model.generation_config)
    gc.update(**kwargs)
    return {k: getattr(gc, k) for k in GEN_KEYS}


class RouterRecorder:
    """Captures what NllbMoeTop2Router computes, via forward hooks on every router."""

    def __init__(self, model):
        self.records = []
        self.hooks = []
        for name, mod in model.named_modules():
            if name.endswith("ffn.router"):
                side = "encoder" if ".encoder." in name else "decoder"
                layer = int(name.split(".layers.")[1].split(".")[0])
                self.hooks.append(mod.register_forward_hook(self._hook(side, layer)))

    def _hook(self, side, layer):
        def hook(mod, inputs, output):
            hidden = inputs[0]
            top1_mask, gates = output  # [N, E] one-hot (zero row = routed nowhere), [N, E] weights
            h = hidden.reshape(-1, hidden.shape[-1]).to(mod.dtype)
            logits = mod.classifier(h)  # the same fp32 matmul route_tokens() used
            routed = top1_mask.sum(-1) > 0
            top1 = top1_mask.argmax(-1)
            # route_tokens(): top-2 = argmax of the logits with the top-1 entry set to -inf
            top2 = logits.masked_fill(torch.nn.functional.one_hot(top1, logits.shape[-1]).bool(),
                                      float("-inf")).argmax(-1)
            w1 = gates.gather(1, top1[:, None])[:, 0]
            w2 = gates.gather(1, top2[:, None])[:, 0]
            # consistency with HF's gates: exactly {top1, top2} carry weight on routed tokens
            nz = (gates != 0).sum(-1)
            assert bool(((nz == 2) | ~routed).all()) and bool((nz[~routed] == 0).all())
            assert torch.allclose(w1 + w2, routed.float(), atol=1e-6)
            srt = logits.sort(-1, descending=True).values
            gap12 = (srt[:, 0] - srt[:, 1])[routed]
            gap23 = (srt[:, 1] - srt[:, 2])[routed]
            neg = torch.full_like(top1, -1)
            self.records.append(dict(
                side=side, layer=layer,
                top1=torch.where(routed, top1, neg).tolist(),
                top2=torch.where(routed, top2, neg).tolist(),
                w1=torch.where(routed, w1, torch.zeros_like(w1)).tolist(),
                w2=torch.where(routed, w2, torch.zeros_like(w2)).tolist(),
                min_gap12=float(gap12.min()) if gap12.numel() else None,
                min_gap23=float(gap23.min()) if gap23.numel() else None,
                logits=logits.detach().float().clone(),
            ))
        return hook

    def take(self):
        r, self.records = self.records, []
        return r

    def remove(self):
        for h in self.hooks:
            h.remove()


def assert_same_weights(ref_sd, other_sd, what):
    missing = set(ref_sd) ^ set(other_sd)
    assert not missing, "%s: key sets differ: %s" % (what, sorted(missing)[:8])
    for k, v in ref_sd.items():
        assert torch.equal(v, other_sd[k]), "%s: %s differs" % (what, k)


def load_set(name, dirs, cls, stored_dtype):
    path = os.path.join(rc.FIXTURES, dirs[0])
    model = cls.from_pretrained(path)  # no torch_dtype: HF builds an f32 model and upcasts
    loaded_dtype = str(next(model.parameters()).dtype).replace("torch.", "")
    model = model.float().eval()
    ref = model.state_dict()
    for other in dirs[1:]:
        opath = os.path.join(rc.FIXTURES, other)
        m2 = cls.from_pretrained(opath).float().eval()
        assert_same_weights(ref, m2.state_dict(), other)
        if other.endswith("54b-style"):
            base = NllbMoeModel.from_pretrained(opath).float().eval()
            assert_same_weights(model.model.state_dict(), base.state_dict(), other + " (NllbMoeModel)")
        print("  %s: same weights as %s" % (other, dirs[0]))
    if stored_dtype not in ("float32", "float16-trained"):
        # the f16/bf16 fixtures hold the nllb-moe-tiny weights rounded to that dtype
        base = cls.from_pretrained(os.path.join(rc.FIXTURES, "nllb-moe-tiny")).state_dict()
        dt = getattr(torch, stored_dtype)
        for k, v in ref.items():
            assert torch.equal(v, base[k].to(dt).float()), k
        print("  %s: nllb-moe-tiny weights rounded to %s, computed in float32" % (dirs[0], stored_dtype))
    return model, loaded_dtype


@torch.no_grad()
def greedy_margin(model, gen_out):
    """Smallest gap between the chosen token's score and the runner-up over all greedy steps
    (unfinished rows only, forced steps excluded)."""
    m = None
    seqs = gen_out.sequences
    for step, scores in enumerate(gen_out.scores):
        live = torch.ones(seqs.shape[0], dtype=torch.bool)
        if step > 0:
            live = ~(seqs[:, 1:step + 1] == 2).any(-1)
        top = scores.topk(2, dim=-1).values
        ok = torch.isfinite(top[:, 1]) & live
        if ok.any():
            g = float((top[ok, 0] - top[ok, 1]).min())
            m = g if m is None else min(m, g)
    return m


@torch.no_grad()
def run_case(model, tok, case, is_moe, recorder, tensors):
    name, src, tgt, arts, tcap = case
    literal = isinstance(arts[0], tuple)  # (source text, reference) instead of UDHR articles
    texts = [a[0] if literal else text_for(src, a) for a in arts]
    targets = [a[1] if literal else text_for(tgt, a) for a in arts]
    tok.src_lang = src
    enc = tok(texts, return_tensors="pt", padding=True)
    tgt_id = tok.convert_tokens_to_ids(tgt)
    pieces = [tok(t, add_special_tokens=False).input_ids for t in targets]
    T = min(tcap, min(2 + len(p) for p in pieces))
    dec = torch.tensor([([2, tgt_id] + p)[:T] for p in pieces], dtype=torch.long)

    if recorder:
        recorder.take()
    out = model(input_ids=enc.input_ids, attention_mask=enc.attention_mask, decoder_input_ids=dec,
                return_dict=True)
    entry = dict(
        name=name, src_lang=src, tgt_lang=tgt,
        src_lang_id=tok.convert_tokens_to_ids(src), tgt_lang_id=tgt_id,
        udhr_articles=[] if literal else [a.rstrip("!") for a in arts],
        texts=texts, target_texts=targets,
        input_ids=enc.input_ids.tolist(), attention_mask=enc.attention_mask.tolist(),
        decoder_input_ids=dec.tolist(), decoder_attention_mask=None,
    )
    tensors[name + ".input_ids"] = enc.input_ids.clone()
    tensors[name + ".attention_mask"] = enc.attention_mask.clone()
    tensors[name + ".decoder_input_ids"] = dec.clone()
    tensors[name + ".encoder_out"] = out.encoder_last_hidden_state.float().contiguous()
    tensors[name + ".logits"] = out.logits.float().contiguous()

    if recorder:
        router = {"encoder": [], "decoder": []}
        for r in recorder.take():
            logits = r.pop("logits")
            side = r.pop("side")
            tensors["%s.router.%s.%d.logits" % (name, side, r["layer"])] = logits.contiguous()
            router[side].append(r)
        for side in router:
            router[side].sort(key=lambda r: r["layer"])
        entry["router"] = router

    entry["greedy"] = []
    for g in ([dict(max_length=tcap)] if literal else GREEDY):
        kw = dict(g, num_beams=1, do_sample=False, forced_bos_token_id=tgt_id)
        res = model.generate(input_ids=enc.input_ids, attention_mask=enc.attention_mask,
                             output_scores=True, return_dict_in_generate=True, **kw)
        e = effective_generation(model, kw)
        e["ids"] = res.sequences.tolist()
        e["min_score_margin"] = greedy_margin(model, res)
        entry["greedy"].append(e)
    entry["beam"] = []
    for b in ([] if literal else BEAM):
        kw = dict(b, do_sample=False, forced_bos_token_id=tgt_id)
        res = model.generate(input_ids=enc.input_ids, attention_mask=enc.attention_mask,
                             output_scores=True, return_dict_in_generate=True, **kw)
        e = effective_generation(model, kw)
        e["ids"] = res.sequences.tolist()
        e["scores"] = res.sequences_scores.tolist()
        entry["beam"].append(e)
    if recorder:
        recorder.take()  # drop the generation-time routing
    return entry


def summarize_case(entry):
    def ended(row):
        return 2 in row[1:]

    g = entry["greedy"][0]["ids"]
    parts = ["greedy ends: %s" % ["eos@%d" % (r.index(2, 1) + 1) if ended(r) else "max" for r in g]]
    for b in entry["beam"]:
        same = b["ids"] == g
        parts.append("beam lp=%s es=%s: %s%s" % (
            b["length_penalty"], b["early_stopping"],
            ["eos@%d" % (r.index(2, 1) + 1) if ended(r) else "max" for r in b["ids"]],
            " (= greedy)" if same else ""))
    if "router" in entry:
        for side in ("encoder", "decoder"):
            for r in entry["router"][side]:
                used = sorted(set(x for x in r["top1"] + r["top2"] if x >= 0))
                parts.append("%s L%d experts used %s, min logit gaps 1-2 %.2g, 2-3 %.2g"
                             % (side, r["layer"], used, r["min_gap12"], r["min_gap23"]))
    return parts


def make_set(name, dirs, cls, stored_dtype):
    print("%s (%s)" % (name, ", ".join(dirs)))
    model, loaded_dtype = load_set(name, dirs, cls, stored_dtype)
    tok = NllbTokenizer.from_pretrained(os.path.join(rc.FIXTURES, dirs[0]))
    is_moe = cls is NllbMoeForConditionalGeneration
    recorder = RouterRecorder(model) if is_moe else None
    tensors = {}
    cases = []
    for case in CASES + (gettext_cases() if stored_dtype == "float16-trained" else []):
        entry = run_case(model, tok, case, is_moe, recorder, tensors)
        cases.append(entry)
        print("  " + entry["name"] + ": " + "\n      ".join(summarize_case(entry)))
    if recorder:
        recorder.remove()
    cfg = model.config
    doc = dict(
        transformers=transformers.__version__,
        torch=torch.__version__,
        golden=name,
        fixtures=dirs,
        model_class=cls.__name__,
        model_type=cfg.model_type,
        weights_dtype=stored_dtype,
        loaded_dtype=loaded_dtype,
        compute_dtype="float32",
        attn_implementation=getattr(cfg, "_attn_implementation", None),
        vocab_size=cfg.vocab_size,
        d_model=cfg.d_model,
        pad_token_id=cfg.pad_token_id,
        eos_token_id=cfg.eos_token_id,
        decoder_start_token_id=cfg.decoder_start_token_id,
        model_generation_config=model.generation_config.to_diff_dict(),
        notes=[
            "Teacher-forced forward: model(input_ids, attention_mask, decoder_input_ids) with no "
            "decoder_attention_mask; decoder_input_ids rows have equal length (no decoder padding).",
            "encoder_out at padded source positions is what HF computes there (pads attend to the "
            "non-pad keys); compare non-pad positions unless you reproduce that.",
            "router.*: per sparse layer, flattened over batch*seq row-major; top1/top2 = -1 and "
            "w1 = w2 = 0 for padding tokens (HF routes them to no expert, MoE output 0).  "
            "min_gap12 / min_gap23 = smallest router-logit gap between the 1st and 2nd / 2nd and 3rd "
            "expert over routed tokens (tie risk: a 1-2 swap only relabels top1/top2, the MoE output "
            "is unchanged; a 2-3 swap changes it).",
            "greedy/beam ids are generate() sequences: start with decoder_start 2, then the forced "
            "tgt_lang id; finished rows are padded with pad 1 (beam: hypothesis + one eos + pads).",
            "beam scores = sequences_scores: sum of log-probs / (generated_len ** length_penalty), "
            "generated_len = tokens after the decoder start token, eos included.",
            "greedy min_score_margin: smallest top-1 minus top-2 log-prob over unforced steps of "
            "unfinished rows.",
        ],
        tensors="tensors.safetensors",
        cases=cases,
    )
    outdir = os.path.join(rc.GOLDENS, name)
    os.makedirs(outdir, exist_ok=True)
    rc.write_json(os.path.join(outdir, "cases.json"), doc)
    # one metadata key only: safetensors writes the metadata map in hash order, so several keys
    # would make the file bytes differ from run to run
    save_file(tensors, os.path.join(outdir, "tensors.safetensors"),
              metadata={"source": "tools/make_goldens.py golden=%s transformers=%s torch=%s"
                        % (name, transformers.__version__, torch.__version__)})
    return cases


# --------------------------------------------------------------------------------------------
# Tokenizer goldens


def tokenizer_strings():
    first = {l: rc.first_sentence(rc.udhr_by_article(l)["1"][0]) for l in
             ("eng_Latn", "fra_Latn", "deu_Latn", "spa_Latn", "rus_Cyrl", "zho_Hans", "arb_Arab", "hin_Deva")}
    preamble = " ".join(rc.udhr_by_article("eng_Latn")["0"])
    S = [
        ("", "eng_Latn"),
        (" ", "eng_Latn"),
        ("  \t \n ", "fra_Latn"),
        ("Hello world!", "eng_Latn"),
        ("   leading and trailing spaces   ", "eng_Latn"),
        ("multiple    internal     spaces", "eng_Latn"),
        ("a", "eng_Latn"),
        ("!!!???...", "eng_Latn"),
        (first["eng_Latn"], "eng_Latn"),
        (first["fra_Latn"], "fra_Latn"),
        ("Bonjour ! Comment ça va ? « Très bien », merci ; et toi : ça roule ?", "fra_Latn"),
        (first["deu_Latn"], "deu_Latn"),
        ("Die Würde des Menschen ist unantastbar. Straße, Größe, Äpfel.", "deu_Latn"),
        ("¿Dónde está la biblioteca? ¡Olé!", "spa_Latn"),
        (first["rus_Cyrl"], "rus_Cyrl"),
        (first["zho_Hans"], "zho_Hans"),
        (first["arb_Arab"], "arb_Arab"),
        (first["hin_Deva"], "hin_Deva"),
        ("In 1948, 48 of 58 states voted; 0.5% abstained: 3,141.59 items, १२३ ٤٥٦.", "eng_Latn"),
        ("Hello, world... (really?) [yes] {no} \"quoted\" 'single' - dash \u2013 en \u2014 em / \\ @ # $ % ^ & * _ + = ~ `", "eng_Latn"),
        ("I love \U0001F355 and \U0001F30D! \u2764\ufe0f", "eng_Latn"),
        ("\u038c\u03bb\u03bf\u03b9 \u03bf\u03b9 \u03ac\u03bd\u03b8\u03c1\u03c9\u03c0\u03bf\u03b9", "ell_Grek"),
        ("\uc548\ub155\ud558\uc138\uc694 \uc138\uacc4, \u3053\u3093\u306b\u3061\u306f\u4e16\u754c", "kor_Hang"),
        ("\uff21\uff22\uff23\uff11\uff12\uff13 \ufb01ne \u2460 caf\u0065\u0301 a\u00a0b x\u200by \u2163", "eng_Latn"),
        ("English \u0438 \u0440\u0443\u0441\u0441\u043a\u0438\u0439 \u4e2d\u6587 \u0627\u0644\u0639\u0631\u0628\u064a\u0629 \u0939\u093f\u0928\u094d\u0926\u0940", "eng_Latn"),
        ("line one\nline two\r\nline\tthree", "eng_Latn"),
        ("It's a dog's life, isn't it? They're here, we've won, I'm done.", "eng_Latn"),
        (first["eng_Latn"], "zul_Latn"),
        (first["eng_Latn"], "ace_Arab"),
        (" ".join([preamble] * 2), "eng_Latn"),
        ("Hello <mask> world", "eng_Latn"),
        ("eng_Latn fra_Latn </s> text", "eng_Latn"),
    ]
    return S


def make_tokenizer_goldens():
    path = os.path.join(rc.FIXTURES, "nllb-moe-tiny")
    tok = NllbTokenizer.from_pretrained(path)
    tok_legacy = NllbTokenizer.from_pretrained(path, legacy_behaviour=True)
    specials = set(tok.all_special_tokens)
    enc = []
    for text, lang in tokenizer_strings():
        tok.src_lang = lang
        tok_legacy.src_lang = lang
        ids = tok(text).input_ids
        ids_legacy = tok_legacy(text).input_ids
        pieces = tok.tokenize(text)
        e = dict(text=text, src_lang=lang, ids=ids, ids_legacy=ids_legacy, pieces=pieces)
        if any(p in specials for p in pieces):
            e["note"] = ("text contains special-token strings; the slow tokenizer splits them out "
                         "before SentencePiece (<mask> has lstrip=True)")
        enc.append(e)
    lang = lambda c: tok.convert_tokens_to_ids(c)  # noqa: E731
    mask = tok.convert_tokens_to_ids("<mask>")
    by_text = {(e["text"], e["src_lang"]): e["ids"] for e in enc}
    S = tokenizer_strings()
    dec_ids = [
        [],
        [2],
        [2, lang("fra_Latn"), 2],
        by_text[S[8]],
        by_text[S[9]],
        by_text[S[10]],
        by_text[S[15]],
        by_text[S[17]],
        by_text[S[18]],
        by_text[S[20]],
        by_text[S[26]],
        [2, lang("eng_Latn")] + by_text[S[3]][1:-1] + [2, 1, 1, 1],
        [lang("deu_Latn")] + by_text[S[11]][1:4] + [3, 0, mask] + by_text[S[11]][4:],
        [3, 3, 3],
        [mask, lang("zul_Latn"), lang("ace_Arab"), 0, 1, 2, 3],
        by_text[S[3]][1:-1] + [lang("spa_Latn")] + by_text[S[13]][1:-1],
    ]
    dec = []
    for ids in dec_ids:
        dec.append(dict(
            ids=ids,
            text=tok.decode(ids, skip_special_tokens=True),
            text_no_cleanup=tok.decode(ids, skip_special_tokens=True, clean_up_tokenization_spaces=False),
            text_keep_special=tok.decode(ids, skip_special_tokens=False),
        ))
    doc = dict(
        transformers=transformers.__version__,
        tokenizer_class=type(tok).__name__,
        tokenizer_dir="tests/fixtures/nllb-moe-tiny",
        spm_pieces=len(tok.sp_model),
        vocab_size=len(tok),
        lang_code_first_id=tok.convert_tokens_to_ids("ace_Arab"),
        mask_id=mask,
        clean_up_tokenization_spaces=tok.clean_up_tokenization_spaces,
        notes=[
            "ids: default (non-legacy) [src_lang] pieces [</s>]; ids_legacy: legacy_behaviour=True, "
            "pieces [</s>, src_lang].  pieces = tokenizer.tokenize(text) (spm pieces, specials split).",
            "decode: text = decode(ids, skip_special_tokens=True) with the tokenizer's default "
            "clean_up_tokenization_spaces (see that key); text_no_cleanup = same with cleanup off; "
            "text_keep_special = skip_special_tokens=False (default cleanup).",
        ],
        encode=enc,
        decode=dec,
    )
    rc.write_json(os.path.join(rc.GOLDENS, "tokenizer.json"), doc)
    print("tokenizer.json: %d encode cases, %d decode cases" % (len(enc), len(dec)))


# Where NllbTokenizerFast (what AutoTokenizer returns) and NllbTokenizer (SentencePiece) segment
# differently: unigram ties on the demo model's spm (equal-score segmentations such as "...."
# as "." "..." against "..." "."), its byte fallback, and tokenizers' per-grapheme normaliser.
FAST_DIR = os.path.join(rc.ROOT, "resources", "models", "demo")
TIE_SEED = 13
TIE_RANDOM = 20000
TIE_MAX_RANDOM = 40
TIE_MAX_BYTE_FALLBACK = 6
TIE_ALPHABET = (list("abcdefghijklmnopqrstuvwxyz ..,,!?;:'\"-()0123456789 ") + list("\u00e9\u00e8\u2026\u2013\u2014\u00ab\u00bb\u00bf\u00a1")
                + ["  ", " . ", "...", "..", "\u2019", "\u00df", "\u00fc", "\u044f", "\u0436", "\u4e2d", "\u6587",
                   "\u0627", "\u0644", "\u0928", "\u093f", "\t", "\u3002", "\uff0c", "!?"])
# A character the normaliser maps, then combining marks, within one grapheme cluster under 6
# bytes: tokenizers keeps the mapped character only.
NORMALISER_TEXTS = [
    "d\u00a0\u093f17upan",           # no-break space + Devanagari vowel sign I
    "caf\u00a0\u0301 au lait",       # no-break space + combining acute
    "\uff21\u0301\uff22\u0323",      # full-width letters + combining marks
    "\ufe8d\u064b\ufee0\u0650",      # Arabic presentation forms + harakat
    "Vie\u0323\u0302t Nam",          # decomposed Vietnamese: e + dot below (a key) + circumflex
    "ho\u0323\u0302i",
    "a\u00a0\u0300b",
    "\ufb2a\u05b8",                  # Hebrew presentation form + qamats
    "x\u2460\u0308y",                # circled digit + diaeresis
    "\u00a0\u093f\u00a0\u093f",
]


def tie_candidates():
    """Real lines (resources/udhr, every paragraph) first, then seeded random strings."""
    for path in sorted(glob.glob(os.path.join(rc.ROOT, "resources", "udhr", "*.tsv"))):
        with open(path, encoding="utf-8") as f:
            for line in f:
                parts = line.rstrip("\n").split("\t")
                if len(parts) >= 3 and parts[2].strip():
                    yield "udhr:" + os.path.basename(path), parts[2]
    r = random.Random(TIE_SEED)
    for _ in range(TIE_RANDOM):
        yield "random", "".join(r.choice(TIE_ALPHABET) for _ in range(r.randint(1, 40)))


class FastAndSlow:
    """AutoTokenizer's NllbTokenizerFast, the same with byte fallback honoured (transformers 4.40's
    converter drops the spm file's; tokenizers' Unigram has it) and NllbTokenizer, for one dir."""

    def __init__(self, path):
        from tokenizers import Tokenizer
        self.dir = os.path.relpath(path, rc.ROOT)
        self.fast = AutoTokenizer.from_pretrained(path)  # converted from the spm file (needs protobuf)
        assert type(self.fast).__name__ == "NllbTokenizerFast", type(self.fast)
        self.slow = NllbTokenizer.from_pretrained(path)
        self.fast_bf = AutoTokenizer.from_pretrained(path)
        spec = json.loads(self.fast_bf.backend_tokenizer.to_str())
        spec["model"]["byte_fallback"] = True
        self.fast_bf._tokenizer = Tokenizer.from_str(json.dumps(spec))

    def case(self, text, source):
        f = self.fast(text).input_ids
        s = self.slow(text).input_ids
        c = dict(text=text, source=source, tokenizer_dir=self.dir, src_lang="eng_Latn", ids=f,
                 ids_sentencepiece=s, pieces=self.fast.convert_ids_to_tokens(f),
                 pieces_sentencepiece=self.slow.convert_ids_to_tokens(s))
        bf = self.fast_bf(text).input_ids
        if bf != f:
            c["ids_byte_fallback"] = bf
        return c

    def normalisers_agree(self, text):
        backend = self.fast.backend_tokenizer
        pre = backend.pre_tokenizer.pre_tokenize_str(backend.normalizer.normalize_str(text))
        return "".join(w for w, _ in pre) == self.slow.sp_model.normalize(text)

    def byte_fallback(self, text):
        return any(p.startswith("<0x") for p in self.slow.sp_model.encode(text, out_type=str))


def make_fast_goldens():
    demo = FastAndSlow(FAST_DIR)
    fixture = FastAndSlow(os.path.join(rc.FIXTURES, "nllb-moe-tiny"))
    ties, byte_fallback = [], []
    n_random = n_quirk = n_seen = 0
    seen = set()
    for source, text in tie_candidates():
        if text in seen:
            continue
        seen.add(text)
        n_seen += 1
        case = demo.case(text, source)
        if case["ids"] == case["ids_sentencepiece"]:
            continue
        if not demo.normalisers_agree(text):
            n_quirk += 1  # normaliser cases come from NORMALISER_TEXTS
            continue
        if demo.byte_fallback(text):
            if len(byte_fallback) < TIE_MAX_BYTE_FALLBACK and len(text) < 80:
                byte_fallback.append(case)
            continue
        if source == "random":
            if n_random >= TIE_MAX_RANDOM:
                continue
            n_random += 1
        ties.append(case)
    normaliser = []
    for tok in (demo, fixture):
        for text in NORMALISER_TEXTS:
            case = tok.case(text, "normaliser")
            if case["ids"] != case["ids_sentencepiece"]:
                normaliser.append(case)
    import sentencepiece
    import tokenizers
    doc = dict(
        transformers=transformers.__version__,
        tokenizers=tokenizers.__version__,
        sentencepiece=sentencepiece.__version__,
        tokenizer_class=type(demo.fast).__name__,
        tokenizer_dir=demo.dir,
        searched=dict(lines=n_seen, seed=TIE_SEED, random=TIE_RANDOM, normaliser_differences_skipped=n_quirk),
        notes=[
            "ids: AutoTokenizer.from_pretrained(tokenizer_dir) (NllbTokenizerFast, converted from "
            "sentencepiece.bpe.model), default placement [src_lang] pieces [</s>]; ids_sentencepiece: "
            "NllbTokenizer (SentencePiece); ids_byte_fallback (where it differs from ids): the fast "
            "tokenizer with its Unigram's byte_fallback set, as the spm file asks (transformers' "
            "converter drops it and gives <unk>).",
            "ties: every real (resources/udhr) line and the first random strings where fast and slow "
            "differ on the demo spm and neither byte fallback nor normalisation is involved: "
            "equal-score segmentations; tokenizers keeps the one it finds first (double sums, word by "
            "word), SentencePiece's float sums pick either.",
            "byte_fallback: lines with characters outside the demo's pieces.",
            "normaliser: texts where a mapped character and combining marks share a grapheme cluster "
            "under 6 bytes; tokenizers' Precompiled normalizer keeps the shortest mapped prefix only.  "
            "On the demo (unigram) and the fixture (BPE) spm, where fast and slow differ.",
        ],
        ties=ties,
        byte_fallback=byte_fallback,
        normaliser=normaliser,
    )
    rc.write_json(os.path.join(rc.GOLDENS, "tokenizer-fast.json"), doc)
    print("tokenizer-fast.json: %d ties (%d random), %d byte-fallback cases, %d normaliser cases, "
          "%d lines searched" % (len(ties), n_random, len(byte_fallback), len(normaliser), n_seen))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", help="comma-separated golden names (default: all)")
    args = ap.parse_args()
    torch.set_num_threads(min(2, torch.get_num_threads()))
    os.makedirs(rc.GOLDENS, exist_ok=True)
    only = set(args.only.split(",")) if args.only else None
    if only is None or "tokenizer" in only:
        make_tokenizer_goldens()
        make_fast_goldens()
    for name, dirs, cls, dt in GOLDEN_SETS:
        if not os.path.isdir(os.path.join(rc.FIXTURES, dirs[0])):
            print("%s: %s is absent, skipped" % (name, dirs[0]))
            continue
        if only is None or name in only:
            make_set(name, dirs, cls, dt)


if __name__ == "__main__":
    main()
