#!/usr/bin/env python3
"""Creates the small random-weight checkpoints under tests/fixtures/ with the real Hugging Face classes.

    tools/.venv/bin/python tools/make_fixtures.py            # all fixtures (a few seconds)
    tools/.venv/bin/python tools/make_fixtures.py --bench DIR  # also a large synthetic NllbMoe in DIR

Everything is deterministic: the SentencePiece model is trained single-threaded on a fixed,
unshuffled text, and the weights come from a seeded torch.Generator.  See tools/README.md.
"""

import argparse
import copy
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import refcommon as rc  # noqa: E402

import torch  # noqa: E402
import transformers  # noqa: E402
from transformers import (  # noqa: E402
    GenerationConfig,
    M2M100Config,
    M2M100ForConditionalGeneration,
    NllbMoeConfig,
    NllbMoeForConditionalGeneration,
    NllbMoeModel,
    NllbTokenizer,
)
from transformers.models.nllb.tokenization_nllb import FAIRSEQ_LANGUAGE_CODES  # noqa: E402
from transformers.tokenization_utils import AddedToken  # noqa: E402

transformers.logging.set_verbosity_error()

SPM_VOCAB = 2000
MOE_SEED = 20240601
M2M_SEED = 20240602
BENCH_SEED = 20240603

# Initialisation (see init_weights).  Chosen (by a small search, see tools/README.md) so that
# routing is spread over the experts, the source steers the decoder, greedy outputs are not
# one token repeated, and greedy/beam outputs end with </s> for some inputs and run to max_length
# for others (summarise() prints the evidence).
EMB_STD = 0.15       # shared embedding N(0, EMB_STD^2); x sqrt(d_model) = 8 at d_model 64
EOS_ROW_SCALE = 2.2  # row 2 (</s>) of the shared embedding is multiplied by this
ROUTER_GAIN = 1.5    # router classifier N(0, ROUTER_GAIN^2 / d): logits std ~ ROUTER_GAIN
QK_GAIN = 1.5        # q_proj/k_proj N(0, QK_GAIN^2 / fan_in): input-dependent attention;
                     # sharper gains amplify f32 rounding past the goldens' 1e-4 (tools/README.md)
CROSS_GAIN = 1.5     # decoder cross-attention out_proj, so the source matters
OUT_GAIN = 1.0       # other attention out_proj and FFN/expert fc2
LINEAR_GAIN = 1.0    # every other Linear weight: N(0, LINEAR_GAIN^2 / fan_in)
BIAS_STD = 0.05      # every Linear bias N(0, BIAS_STD^2) (HF would zero them)
LN_STD = 0.1         # LayerNorm weight 1 + N(0, LN_STD^2), bias N(0, LN_STD^2)
# The decoder's final LayerNorm weight is zero-mean instead: with tied embeddings a positive
# weight makes logit(t) ~ |E[t]|^2 for the input token t, and random models then repeat their
# input token forever.  Its spread sets the logit scale (~ FINAL_LN_STD * EMB_STD * d_model).
FINAL_LN_MEAN = 0.0
FINAL_LN_STD = 1.5


# --------------------------------------------------------------------------------------------
# SentencePiece + NllbTokenizer

ASCII_LINE = " ".join("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") + " 0 1 2 3 4 5 6 7 8 9 ! ? ' \" ( ) [ ] { } < > @ # $ % & * + = / \\ | ^ _ ` ~ - , . : ;"


def train_spm(workdir):
    """Trains the BPE model on UDHR text of the 8 languages; returns the .model path."""
    txt = os.path.join(workdir, "udhr-train.txt")
    n = 0
    with open(txt, "w", encoding="utf-8") as f:
        for udhr_code, _ in rc.UDHR_LANGS:
            for _, text in rc.udhr_paragraphs(udhr_code):
                f.write(text + "\n")
                n += 1
        # The UDHR paragraphs have no digits, '!', '?', ASCII quotes and some other ASCII
        # symbols; one extra line puts every printable ASCII character into the vocabulary
        # (unseen characters would all become <unk>).
        f.write(ASCII_LINE + "\n")
    prefix = os.path.join(workdir, "sentencepiece.bpe")
    cmd = [
        "spm_train",
        "--input=udhr-train.txt",  # relative: the trainer spec inside the model records them
        "--model_prefix=sentencepiece.bpe",
        "--model_type=bpe",
        "--vocab_size=%d" % SPM_VOCAB,
        "--character_coverage=1.0",
        "--input_sentence_size=0",
        "--shuffle_input_sentence=false",
        "--num_threads=1",
        "--random_seed=1",
        "--max_sentence_length=8192",
        "--unk_id=0",
        "--bos_id=1",
        "--eos_id=2",
        "--pad_id=-1",
        "--minloglevel=1",
    ]
    subprocess.run(cmd, check=True, cwd=workdir, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    print("spm: trained %d-piece BPE model on %d UDHR paragraphs + 1 ASCII line" % (SPM_VOCAB, n))
    return prefix + ".model"


def make_tokenizer(spm_model):
    """The slow NllbTokenizer with the fairseq id layout.

    transformers 4.40.2 places <mask> FIRST (id spm_size+1) and shifts every language code by one
    when an NllbTokenizer is built from a bare vocab file (its base class adds the special tokens
    in SPECIAL_TOKENS_ATTRIBUTES order).  The real checkpoints have lang code i at
    spm_size + 1 + i and <mask> last, so we pass that layout explicitly as added_tokens_decoder;
    save_pretrained then records it in tokenizer_config.json.
    """
    import sentencepiece as spm

    n = spm.SentencePieceProcessor(model_file=spm_model).get_piece_size()
    special = dict(normalized=False, lstrip=False, rstrip=False, single_word=False, special=True)
    added = {
        0: AddedToken("<s>", **special),
        1: AddedToken("<pad>", **special),
        2: AddedToken("</s>", **special),
        3: AddedToken("<unk>", **special),
    }
    for i, code in enumerate(FAIRSEQ_LANGUAGE_CODES):
        added[n + 1 + i] = AddedToken(code, **special)
    added[n + 1 + len(FAIRSEQ_LANGUAGE_CODES)] = AddedToken(
        "<mask>", normalized=True, lstrip=True, rstrip=False, single_word=False, special=True
    )
    tok = NllbTokenizer(
        vocab_file=spm_model,
        added_tokens_decoder=added,
        model_max_length=1024,
        src_lang="eng_Latn",
    )
    # The layout the C side relies on.
    assert len(tok) == n + 1 + len(FAIRSEQ_LANGUAGE_CODES) + 1
    for i, code in enumerate(FAIRSEQ_LANGUAGE_CODES):
        assert tok.convert_tokens_to_ids(code) == n + 1 + i, code
    assert tok.convert_tokens_to_ids("<mask>") == len(tok) - 1
    assert [tok.convert_tokens_to_ids(t) for t in ("<s>", "<pad>", "</s>", "<unk>")] == [0, 1, 2, 3]
    return tok


def save_tokenizer(tok, spm_model, outdir):
    tok.save_pretrained(outdir)
    # save_pretrained copies the vocab file; make sure it is byte-identical to the trained one.
    shutil.copyfile(spm_model, os.path.join(outdir, "sentencepiece.bpe.model"))
    # Round trip: the saved directory must give the same layout.
    tok2 = NllbTokenizer.from_pretrained(outdir)
    assert len(tok2) == len(tok)
    assert tok2.convert_tokens_to_ids("eng_Latn") == tok.convert_tokens_to_ids("eng_Latn")
    assert tok2.convert_tokens_to_ids("<mask>") == len(tok) - 1


# --------------------------------------------------------------------------------------------
# Models


def moe_config(vocab_size, **over):
    kw = dict(
        vocab_size=vocab_size,
        d_model=64,
        encoder_layers=4,
        decoder_layers=4,
        encoder_attention_heads=4,
        decoder_attention_heads=4,
        encoder_ffn_dim=128,
        decoder_ffn_dim=128,
        num_experts=8,
        encoder_sparse_step=2,
        decoder_sparse_step=2,
        expert_capacity=64,
        moe_token_dropout=0.2,
        router_bias=False,
        router_dtype="float32",
        router_ignore_padding_tokens=False,
        second_expert_policy="all",
        normalize_router_prob_before_dropping=False,
        batch_prioritized_routing=False,
        moe_eval_capacity_token_fraction=1.0,
        router_z_loss_coef=0.001,
        router_aux_loss_coef=0.001,
        scale_embedding=True,
        max_position_embeddings=128,
        activation_function="relu",
        dropout=0.1,
        attention_dropout=0.1,
        activation_dropout=0.0,
        encoder_layerdrop=0.0,
        decoder_layerdrop=0.0,
        init_std=0.02,
        use_cache=True,
        is_encoder_decoder=True,
        tie_word_embeddings=True,
        pad_token_id=1,
        bos_token_id=0,
        eos_token_id=2,
        decoder_start_token_id=2,
    )
    kw.update(over)
    return NllbMoeConfig(**kw)


def m2m_config(vocab_size):
    return M2M100Config(
        vocab_size=vocab_size,
        d_model=64,
        encoder_layers=4,
        decoder_layers=4,
        encoder_attention_heads=4,
        decoder_attention_heads=4,
        encoder_ffn_dim=128,
        decoder_ffn_dim=128,
        scale_embedding=True,
        max_position_embeddings=128,
        activation_function="relu",
        dropout=0.1,
        attention_dropout=0.1,
        activation_dropout=0.0,
        encoder_layerdrop=0.0,
        decoder_layerdrop=0.0,
        init_std=0.02,
        use_cache=True,
        is_encoder_decoder=True,
        tie_word_embeddings=True,
        pad_token_id=1,
        bos_token_id=0,
        eos_token_id=2,
        decoder_start_token_id=2,
    )


@torch.no_grad()
def init_weights(model, seed, pad_id=1, eos_id=2):
    """Re-initialises every parameter from one seeded generator (module registration order).

    Unlike HF's _init_weights (zero biases, unit LayerNorms, std 0.02) every tensor gets values
    that matter, so a C implementation that ignores a bias or a LayerNorm fails the goldens.
    """
    g = torch.Generator().manual_seed(seed)
    # keep the tiny models' statistics at other widths: sqrt(d) * emb_std and the logit spread
    emb_std = EMB_STD * (64.0 / model.config.d_model) ** 0.5
    for name, p in model.named_parameters():  # tied parameters appear once
        shape = p.shape
        if name.endswith("shared.weight"):
            w = torch.randn(shape, generator=g) * emb_std
            w[pad_id].zero_()  # like the real checkpoints (padding_idx row)
            w[eos_id] *= EOS_ROW_SCALE
        elif "layer_norm" in name and name.endswith(".weight"):
            w = 1.0 + torch.randn(shape, generator=g) * LN_STD
            if name.endswith("decoder.layer_norm.weight"):
                w = FINAL_LN_MEAN + (w - 1.0) * (FINAL_LN_STD / LN_STD)
        elif "layer_norm" in name and name.endswith(".bias"):
            w = torch.randn(shape, generator=g) * LN_STD
        elif name.endswith("router.classifier.weight"):
            w = torch.randn(shape, generator=g) * (ROUTER_GAIN / shape[1] ** 0.5)
        elif name.endswith(".weight") and len(shape) == 2:
            gain = LINEAR_GAIN
            if name.endswith(("out_proj.weight", "fc2.weight")):
                gain = OUT_GAIN
            if name.endswith(("q_proj.weight", "k_proj.weight")):
                gain = QK_GAIN
            if ("cross_attention.out_proj" in name) or ("encoder_attn.out_proj" in name):
                gain = CROSS_GAIN
            w = torch.randn(shape, generator=g) * (gain / shape[1] ** 0.5)
        elif name.endswith(".bias"):
            w = torch.randn(shape, generator=g) * BIAS_STD
        else:
            raise ValueError("no init rule for " + name)
        p.copy_(w)
    model.tie_weights()


def build_moe(vocab_size):
    torch.manual_seed(MOE_SEED)
    model = NllbMoeForConditionalGeneration(moe_config(vocab_size))
    init_weights(model, MOE_SEED)
    return model.eval()


def build_m2m(vocab_size):
    torch.manual_seed(M2M_SEED)
    model = M2M100ForConditionalGeneration(m2m_config(vocab_size))
    init_weights(model, M2M_SEED)
    return model.eval()


def fresh_dir(path):
    if os.path.isdir(path):
        shutil.rmtree(path)
    os.makedirs(path)


def patch_config(path, **changes):
    cfg_path = os.path.join(path, "config.json")
    with open(cfg_path, encoding="utf-8") as f:
        cfg = json.load(f)
    cfg.update(changes)
    with open(cfg_path, "w", encoding="utf-8") as f:
        f.write(json.dumps(cfg, indent=2, sort_keys=True) + "\n")


def save_54b_style(model, outdir):
    """Saves like facebook/nllb-moe-54b: NllbMoeModel keys (no "model." prefix, no lm_head),
    torch .bin shards + pytorch_model.bin.index.json, config model_type "nllb_moe"."""
    cfg = copy.deepcopy(model.config)
    base = NllbMoeModel(cfg).eval()
    base.load_state_dict(model.model.state_dict())
    base.save_pretrained(outdir, safe_serialization=False, max_shard_size="1MB")
    patch_config(outdir, model_type="nllb_moe", architectures=["NllbMoeModel"])
    # The hub's final generation_config.json for facebook/nllb-moe-54b (NLLB-FACTS 1.3).
    GenerationConfig(bos_token_id=0, decoder_start_token_id=2, eos_token_id=2, pad_token_id=1,
                     max_new_tokens=200, num_beams=4).save_pretrained(outdir)


def list_dir(path):
    files = sorted(os.listdir(path))
    total = sum(os.path.getsize(os.path.join(path, f)) for f in files)
    return files, total


# --------------------------------------------------------------------------------------------
# Sanity summary: routing spread, eos behaviour, input dependence.


@torch.no_grad()
def summarise(name, model, tok, max_length=24):
    pairs = [("eng_Latn", "fra_Latn"), ("fra_Latn", "eng_Latn"), ("rus_Cyrl", "zho_Hans"),
             ("deu_Latn", "spa_Latn"), ("arb_Arab", "hin_Deva"), ("hin_Deva", "eng_Latn")]
    outs = []
    early = 0
    full = 0
    counts = {}
    hooks = []
    if hasattr(model.config, "num_experts"):
        for lname, mod in model.named_modules():
            if lname.endswith("ffn.router"):
                def hook(mod, inp, out, lname=lname):
                    top1 = out[0].argmax(-1)[out[0].sum(-1) > 0]
                    c = counts.setdefault(lname, torch.zeros(model.config.num_experts, dtype=torch.long))
                    c += torch.bincount(top1, minlength=model.config.num_experts)
                hooks.append(mod.register_forward_hook(hook))
    for src, tgt in pairs:
        arts = rc.udhr_by_article(src)
        texts = [rc.first_sentence(arts[str(a)][0]) for a in (1, 3, 5, 9, 13, 19)]
        tok.src_lang = src
        enc = tok(texts, return_tensors="pt", padding=True)
        gen = model.generate(**enc, forced_bos_token_id=tok.convert_tokens_to_ids(tgt),
                             max_length=max_length, num_beams=1, do_sample=False)
        for row in gen.tolist():
            outs.append(tuple(row))
            if 2 in row[1:]:
                early += 1
            else:
                full += 1
    for h in hooks:
        h.remove()
    print("%s: %d greedy outputs, %d distinct, %d end with </s> before max_length %d, %d run to it"
          % (name, len(outs), len(set(outs)), early, max_length, full))
    for lname, c in counts.items():
        print("   %-36s top-1 counts per expert %s" % (lname, c.tolist()))
    return len(set(outs)), early, full


# --------------------------------------------------------------------------------------------


def make_bench(outdir, tok, spm_model, sparse_step, dtype):
    cfg = moe_config(
        len(tok), d_model=512, encoder_layers=6, decoder_layers=6, encoder_attention_heads=8,
        decoder_attention_heads=8, encoder_ffn_dim=2048, decoder_ffn_dim=2048, num_experts=16,
        encoder_sparse_step=sparse_step, decoder_sparse_step=sparse_step, max_position_embeddings=1024,
    )
    torch.manual_seed(BENCH_SEED)
    model = NllbMoeForConditionalGeneration(cfg)
    init_weights(model, BENCH_SEED)
    model = model.to({"f32": torch.float32, "f16": torch.float16, "bf16": torch.bfloat16}[dtype])
    fresh_dir(outdir)
    model.save_pretrained(outdir, safe_serialization=True, max_shard_size="500MB")
    save_tokenizer(tok, spm_model, outdir)
    files, total = list_dir(outdir)
    nparams = sum(p.numel() for p in model.parameters())
    print("bench: %s  %.1f M params, %s, %d files, %.1f MiB" % (outdir, nparams / 1e6, dtype, len(files), total / 2**20))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=rc.FIXTURES, help="fixture root (default tests/fixtures)")
    ap.add_argument("--bench", metavar="DIR", help="also write a large synthetic NllbMoe to DIR (never committed)")
    ap.add_argument("--bench-only", action="store_true", help="with --bench: skip the small fixtures")
    ap.add_argument("--bench-sparse-step", type=int, default=2, choices=(2, 3, 4))
    ap.add_argument("--bench-dtype", default="f32", choices=("f32", "f16", "bf16"))
    ap.add_argument("--no-summary", action="store_true", help="skip the generation sanity summary")
    args = ap.parse_args()
    torch.set_num_threads(min(2, torch.get_num_threads()))

    with tempfile.TemporaryDirectory() as work:
        spm_model = train_spm(work)
        tok = make_tokenizer(spm_model)
        print("tokenizer: spm %d pieces, len(tokenizer) = vocab_size = %d, eng_Latn=%d, <mask>=%d"
              % (len(tok.sp_model), len(tok), tok.convert_tokens_to_ids("eng_Latn"),
                 tok.convert_tokens_to_ids("<mask>")))

        if args.bench:
            make_bench(args.bench, tok, spm_model, args.bench_sparse_step, args.bench_dtype)
            if args.bench_only:
                return

        out = args.out
        os.makedirs(out, exist_ok=True)
        fresh_dir(os.path.join(out, "spm"))
        shutil.copyfile(spm_model, os.path.join(out, "spm", "sentencepiece.bpe.model"))
        shutil.copyfile(spm_model[:-len(".model")] + ".vocab", os.path.join(out, "spm", "sentencepiece.bpe.vocab"))

        V = len(tok)
        moe = build_moe(V)
        m2m = build_m2m(V)

        dirs = {}

        def d(name):
            p = os.path.join(out, name)
            fresh_dir(p)
            dirs[name] = p
            return p

        # a. single safetensors
        moe.save_pretrained(d("nllb-moe-tiny"), safe_serialization=True)
        # b. same weights, torch .bin shards + index
        moe.save_pretrained(d("nllb-moe-tiny-bin-sharded"), safe_serialization=False, max_shard_size="1MB")
        # c. same weights, laid out like facebook/nllb-moe-54b
        save_54b_style(moe, d("nllb-moe-tiny-54b-style"))
        # d. float16, sharded safetensors + index
        copy.deepcopy(moe).half().save_pretrained(d("nllb-moe-tiny-f16"), safe_serialization=True,
                                                  max_shard_size="600KB")
        # e. bfloat16, single safetensors
        copy.deepcopy(moe).to(torch.bfloat16).save_pretrained(d("nllb-moe-tiny-bf16"), safe_serialization=True)
        # f. dense M2M100, single safetensors
        m2m.save_pretrained(d("m2m-tiny"), safe_serialization=True)
        # g. same weights, single pytorch_model.bin
        m2m.save_pretrained(d("m2m-tiny-bin"), safe_serialization=False)

        for name, p in dirs.items():
            save_tokenizer(tok, spm_model, p)

    grand = 0
    for name in ["spm"] + list(dirs):
        files, total = list_dir(os.path.join(out, name))
        grand += total
        weights = [f for f in files if f.endswith((".safetensors", ".bin"))]
        print("%-28s %7.1f KiB  %s" % (name, total / 1024, " ".join(weights)))
    print("fixtures total %.2f MiB (the tokenizer model is the same file in every dir)" % (grand / 2**20))
    print("params: nllb-moe-tiny %d, m2m-tiny %d"
          % (sum(p.numel() for p in moe.parameters()), sum(p.numel() for p in m2m.parameters())))

    if not args.no_summary:
        summarise("nllb-moe-tiny", moe, tok)
        summarise("m2m-tiny", m2m, tok)


if __name__ == "__main__":
    main()
