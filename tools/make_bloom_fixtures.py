#!/usr/bin/env python3
"""BLOOM fixtures and goldens for Secateur's byte-level BPE tokenizer and BloomForCausalLM.

    tools/.venv/bin/python tools/make_bloom_fixtures.py

Writes
  tests/fixtures/bloom-tiny/       BloomForCausalLM, hidden 64, 2 layers, 4 heads, f32 safetensors
                                   (HF names: "transformer." prefix, tied lm_head not stored)
  tests/fixtures/bloom-tiny-f16/   the same weights in float16 (safetensors)
  tests/fixtures/bloom-tiny-bf16/  the same weights in bfloat16 (safetensors)
  tests/fixtures/bloom-tiny-3h/    hidden 48, 2 layers, 3 heads (non-power-of-two ALiBi slopes),
                                   apply_residual_connection_post_layernorm=True, f32 pytorch_model.bin
                                   with bigscience's un-prefixed names ("h.0....", "word_embeddings...")
  each with tokenizer.json (byte-level BPE, ~2000 tokens, trained with HF `tokenizers` on the UDHR
  paragraphs of 20 ROOTS languages and saved in bigscience/bloom's tokenizer.json structure),
  tokenizer_config.json, special_tokens_map.json, config.json;
  tests/goldens/bloom-tokenizer.json  encode/decode of multilingual strings, decode of raw id lists,
                                      ALiBi slopes of HF's build_alibi_tensor for many head counts;
  tests/goldens/bloom-tiny*.json      per model: logits slices + checksums of 3 prompts, greedy
                                      generation (20 new tokens), per-token NLL of UDHR texts.
Deterministic (fixed seeds, single-threaded tokenizer training).
"""

import json
import math
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import refcommon as rc  # noqa: E402

import torch  # noqa: E402
import transformers  # noqa: E402
from safetensors.torch import save_file  # noqa: E402
from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, processors, trainers  # noqa: E402
from transformers import BloomConfig, BloomForCausalLM, BloomTokenizerFast  # noqa: E402
from transformers.models.bloom.modeling_bloom import build_alibi_tensor  # noqa: E402

transformers.logging.set_verbosity_error()
os.environ["RAYON_NUM_THREADS"] = "1"
torch.set_num_threads(1)

# bigscience/bloom's pre-tokenizer split pattern (tokenizer.json, "pre_tokenizer"): an optional
# space and a run of characters that are not whitespace, '(', ')', '|' nor the listed punctuation.
BLOOM_SPLIT = " ?[^(\\s|[.,!?…。，、।۔،])]+"

# 20 ROOTS languages (the MBS paper's BLOOM calibration languages), as resources/udhr files.
LANGS = ["eng_Latn", "zho_Hans", "fra_Latn", "spa_Latn", "por_Latn", "arb_Arab", "vie_Latn",
         "hin_Deva", "ind_Latn", "ben_Beng", "tam_Taml", "tel_Telu", "urd_Arab", "npi_Deva",
         "mar_Deva", "guj_Gujr", "zho_Hant", "swh_Latn", "yor_Latn", "ibo_Latn"]
UDHR_TSV = os.path.join(rc.ROOT, "resources", "udhr")
HELD_OUT_ARTICLES = {"29", "30"}  # used for the NLL goldens, not for training
SPECIALS = ["<unk>", "<s>", "</s>", "<pad>"]


def udhr_lines(lang):
    out = []
    with open(os.path.join(UDHR_TSV, lang + ".tsv"), encoding="utf-8") as f:
        for line in f:
            art, _par, text = line.rstrip("\n").split("\t", 2)
            out.append((art, text))
    return out


def train_tokenizer(path):
    texts = []
    for lang in LANGS:
        texts += [t for a, t in udhr_lines(lang) if a not in HELD_OUT_ARTICLES]
    # UDHR has few digits and no ASCII symbols: one line with every printable ASCII character
    texts.append("".join(chr(c) for c in range(32, 127)) + " 0123456789 2024 3.14 (a|b)")
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(BLOOM_SPLIT), behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
    ])
    tok.decoder = decoders.ByteLevel()
    tok.post_processor = processors.ByteLevel(trim_offsets=False)
    trainer = trainers.BpeTrainer(vocab_size=2000, special_tokens=SPECIALS, show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(texts, trainer)
    j = json.loads(tok.to_str())
    # bigscience/bloom's exact settings for everything around the BPE model
    j["normalizer"] = None
    j["pre_tokenizer"] = {"type": "Sequence", "pretokenizers": [
        {"type": "Split", "pattern": {"Regex": BLOOM_SPLIT}, "behavior": "Isolated",
         "invert": False},
        {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": False},
    ]}
    j["post_processor"] = {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": False,
                           "use_regex": False}
    j["decoder"] = {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True,
                    "use_regex": False}
    m = j["model"]
    m.update(dropout=None, unk_token=None, continuing_subword_prefix=None,
             end_of_word_suffix=None, fuse_unk=False)
    # bloom stores merges as "a b" strings
    m["merges"] = [" ".join(x) if isinstance(x, list) else x for x in m["merges"]]
    with open(path, "w", encoding="utf-8") as f:
        json.dump(j, f, ensure_ascii=False, indent=2)
        f.write("\n")
    return Tokenizer.from_file(path)


def tokenizer_files(d, tok_json):
    shutil.copyfile(tok_json, os.path.join(d, "tokenizer.json"))
    rc.write_json(os.path.join(d, "tokenizer_config.json"), {
        "unk_token": "<unk>", "bos_token": "<s>", "eos_token": "</s>", "pad_token": "<pad>",
        "add_prefix_space": False, "padding_side": "left", "model_max_length": 1000000000000000019884624838656,
        "tokenizer_class": "BloomTokenizerFast", "clean_up_tokenization_spaces": False})
    rc.write_json(os.path.join(d, "special_tokens_map.json"), {
        "bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>", "pad_token": "<pad>"})


def randomise(model, seed):
    """Weights far from HF's init (std 0.02, LayerNorm 1/0) so every parameter matters."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "layernorm" in name or "ln_f" in name:
                base = 1.0 if name.endswith("weight") else 0.0
                p.copy_(base + 0.2 * torch.randn(p.shape, generator=g))
            elif name.endswith("bias"):
                p.copy_(0.05 * torch.randn(p.shape, generator=g))
            else:
                p.copy_(0.15 * torch.randn(p.shape, generator=g))


def make_model(vocab, hidden, heads, post_ln, seed):
    cfg = BloomConfig(vocab_size=vocab, hidden_size=hidden, n_layer=2, n_head=heads,
                      layer_norm_epsilon=1e-5, apply_residual_connection_post_layernorm=post_ln,
                      bos_token_id=1, eos_token_id=2, pad_token_id=3, tie_word_embeddings=True)
    torch.manual_seed(seed)
    model = BloomForCausalLM(cfg).eval()
    randomise(model, seed)
    return model


PROMPTS = [
    "All human beings are born free and equal in dignity and rights.",
    "人人生而自由，在尊严和权利上一律平等。",
    "सभी मनुष्यों को गौरव और अधिकारों के मामले में जन्मजात स्वतन्त्रता प्राप्त है।",
]

TOK_CASES = [
    "Hello world",
    "Hello, world! How are you?",
    "  leading spaces and   inner runs   ",
    "tabs\tand\nnewlines\r\n\n end",
    "numbers 0 12 345 6789 3.14159 1,000,000 2024-11-22",
    "Tous les êtres humains naissent libres et égaux en dignité et en droits.",
    "Todos los seres humanos nacen libres e iguales en dignidad y derechos.",
    "Todos os seres humanos nascem livres e iguais em dignidade e em direitos.",
    "人人生而自由，在尊严和权利上一律平等。他们赋有理性和良心。",
    "人人生而自由，在尊嚴和權利上一律平等。",
    "يولد جميع الناس أحرارًا متساوين في الكرامة والحقوق، وهم قد وهبوا عقلاً وضميرًا.",
    "سبھی انسان آزاد اور حقوق و عزت کے اعتبار سے برابر پیدا ہوئے ہیں۔",
    "सभी मनुष्यों को गौरव और अधिकारों के मामले में जन्मजात स्वतन्त्रता प्राप्त है।",
    "সমস্ত মানুষ স্বাধীনভাবে সমান মর্যাদা এবং অধিকার নিয়ে জন্মগ্রহণ করে।",
    "பிறப்பினால் எல்லோரும் சுதந்திரமானவர்கள்.",
    "Tất cả mọi người sinh ra đều được tự do và bình đẳng về nhân phẩm và quyền.",
    "Watu wote wamezaliwa huru, hadhi na haki zao ni sawa.",
    "Gbogbo ènìyàn ni a bí ní òmìnira; iyì àti ẹ̀tọ́ kọ̀ọ̀kan sì dọ́gba.",
    "emoji 😀👍🏽 and 👨‍👩‍👧 family 🇫🇷",
    "Ελληνικά και русский текст и 한국어 and 日本語のテキスト",
    "special <s>tokens</s> inside <pad> text <unk>",
    "<s></s><s>",
    "f(x) = a|b (c) [d] {e}",
    "wait… what?! ... !!! ،؟ ۔ । 。，、",
    "non\u00a0breaking\u00a0space and\u3000ideographic\u3000space \u2003em",
    "zero\u200bwidth joiner\u200d and soft\u00adhyphen",
    "combining e\u0301 vs \u00e9, n\u0303",
    "control \x01\x02\x7f chars \x1b[0m",
    " ",
    "",
    "A" * 120 + " " + "ab" * 40,
    "https://example.org/path?q=1&r=2#frag email@example.com",
    "line\u2028separator\u2029para\x85nel\x0bvt\x0cff \u180emongolian \u205fmath\u202fnarrow",
    "((nested)) || pipes|| ,,.. ?? !!",
    "人人生而自由在尊严和权利上一律平等他们赋有理性和良心并应以兄弟关系的精神相对待" * 3,
    "é" * 50 + " " + "😀" * 10,
]


def write_tokenizer_goldens(tok_json):
    tok = Tokenizer.from_file(tok_json)
    fast = BloomTokenizerFast(tokenizer_file=tok_json)
    cases = []
    for s in TOK_CASES:
        enc = tok.encode(s)
        ids = enc.ids
        assert ids == fast(s)["input_ids"], s
        cases.append({
            "text": s,
            "ids": ids,
            "tokens": enc.tokens,
            "decoded": tok.decode(ids, skip_special_tokens=False),
            "decoded_skip_special": tok.decode(ids, skip_special_tokens=True),
        })
    # raw id lists: single bytes of multi-byte characters (invalid UTF-8 -> U+FFFD, as Rust's
    # from_utf8_lossy), special tokens mixed with text
    vocab = tok.get_vocab()
    b2u = byte_to_unicode()
    byte_id = {b: vocab[b2u[b]] for b in range(256)}
    decode_cases = [
        [byte_id[0xE4]],
        [byte_id[0xE4], byte_id[0xBD]],
        [byte_id[0xE4], byte_id[0xBD], byte_id[0xA0]],
        [byte_id[0xF0], byte_id[0x9F], byte_id[0x98], byte_id[ord("a")]],
        [byte_id[0xC0], byte_id[0xAF], byte_id[0xED], byte_id[0xA0], byte_id[0x80]],
        [byte_id[0xFF], byte_id[ord("x")], byte_id[0x80]],
        [1, byte_id[ord("h")], byte_id[ord("i")], 2, 3, 0],
        list(range(4, 40)),
        list(range(1990, 2000)),
    ]
    dcases = [{"ids": ids,
               "decoded": tok.decode(ids, skip_special_tokens=False),
               "decoded_skip_special": tok.decode(ids, skip_special_tokens=True)}
              for ids in decode_cases]
    slopes = {}
    for n in [1, 2, 3, 4, 5, 6, 7, 8, 12, 16, 24, 32, 40, 112]:
        a = build_alibi_tensor(torch.ones(1, 2, dtype=torch.long), n, torch.float32)
        slopes[str(n)] = a.reshape(n, 2)[:, 1].tolist()  # position 1: the slope itself
    rc.write_json(os.path.join(rc.GOLDENS, "bloom-tokenizer.json"), {
        "generator": "tools/make_bloom_fixtures.py (tokenizers %s, transformers %s)"
                     % (__import__("tokenizers").__version__, transformers.__version__),
        "vocab_size": tok.get_vocab_size(),
        "encode": cases, "decode": dcases, "alibi_slopes": slopes})


def byte_to_unicode():
    bs = list(range(33, 127)) + list(range(161, 173)) + list(range(174, 256))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {b: chr(c) for b, c in zip(bs, cs)}


def nll_texts():
    out = []
    for lang in ["eng_Latn", "fra_Latn", "zho_Hans", "arb_Arab", "hin_Deva", "yor_Latn"]:
        paras = [t for a, t in udhr_lines(lang) if a in HELD_OUT_ARTICLES]
        out.append((lang, paras[0]))
    return out


def write_model_goldens(name, model, tok, ref_model=None):
    """Goldens from `model` run in float32 (an f16 fixture's weights are rounded to f16 and
    widened: the same numbers Secateur computes with)."""
    model = model.float().eval()
    V = model.config.vocab_size
    cases = []
    with torch.no_grad():
        for p in PROMPTS:
            ids = tok.encode(p).ids
            x = torch.tensor([ids])
            logits = model(x).logits[0]  # [T, V]
            gen = model.generate(x, max_new_tokens=20, do_sample=False, num_beams=1,
                                 eos_token_id=2, pad_token_id=3)[0].tolist()
            cases.append({
                "prompt": p, "ids": ids,
                "logits_first16": logits[:, :16].tolist(),
                "logits_last16": logits[:, V - 16:].tolist(),
                "logits_row_sum": logits.double().sum(-1).tolist(),
                "logits_row_abs_sum": logits.double().abs().sum(-1).tolist(),
                "argmax": logits.argmax(-1).tolist(),
                "greedy": gen[len(ids):],
            })
        nll = []
        for lang, text in nll_texts():
            ids = tok.encode(text).ids
            x = torch.tensor([ids])
            out = model(x, labels=x)
            lp = torch.log_softmax(out.logits[0, :-1].double(), -1)
            tok_nll = (-lp.gather(1, x[0, 1:, None])).squeeze(1)
            nll.append({"lang": lang, "text": text, "ids": ids,
                        "token_nll": tok_nll.tolist(), "mean_nll": out.loss.item(),
                        "perplexity": math.exp(out.loss.item())})
    rc.write_json(os.path.join(rc.GOLDENS, name + ".json"), {
        "generator": "tools/make_bloom_fixtures.py (transformers %s, torch %s), float32 forward"
                     % (transformers.__version__, torch.__version__),
        "config": {"hidden_size": model.config.hidden_size, "n_head": model.config.n_head,
                   "n_layer": model.config.n_layer, "vocab_size": V,
                   "apply_residual_connection_post_layernorm":
                       model.config.apply_residual_connection_post_layernorm},
        "cases": cases, "nll": nll})


def main():
    os.makedirs(rc.GOLDENS, exist_ok=True)
    tmp = os.path.join(rc.FIXTURES, "bloom-tokenizer.json.tmp")
    tok = train_tokenizer(tmp)
    V = tok.get_vocab_size()
    print("tokenizer: %d tokens" % V)

    # a. f32 safetensors, HF names
    m4 = make_model(V, 64, 4, False, 1234)
    d = os.path.join(rc.FIXTURES, "bloom-tiny")
    shutil.rmtree(d, ignore_errors=True)
    m4.save_pretrained(d, safe_serialization=True)
    tokenizer_files(d, tmp)
    # b. the same weights at f16
    d16 = os.path.join(rc.FIXTURES, "bloom-tiny-f16")
    shutil.rmtree(d16, ignore_errors=True)
    m16 = make_model(V, 64, 4, False, 1234).half()
    m16.load_state_dict(m4.state_dict())
    m16.save_pretrained(d16, safe_serialization=True)
    tokenizer_files(d16, tmp)
    # b2. and at bf16
    dbf = os.path.join(rc.FIXTURES, "bloom-tiny-bf16")
    shutil.rmtree(dbf, ignore_errors=True)
    mbf = make_model(V, 64, 4, False, 1234).to(torch.bfloat16)
    mbf.load_state_dict(m4.state_dict())
    mbf.save_pretrained(dbf, safe_serialization=True)
    tokenizer_files(dbf, tmp)
    # c. 3 heads, post-LN residuals, torch .bin with bigscience's un-prefixed names
    m3 = make_model(V, 48, 3, True, 99)
    d3 = os.path.join(rc.FIXTURES, "bloom-tiny-3h")
    shutil.rmtree(d3, ignore_errors=True)
    os.makedirs(d3)
    m3.config.save_pretrained(d3)
    sd = {k[len("transformer."):]: v.clone() for k, v in m3.state_dict().items()
          if k.startswith("transformer.")}
    torch.save(sd, os.path.join(d3, "pytorch_model.bin"))
    tokenizer_files(d3, tmp)

    write_tokenizer_goldens(tmp)
    write_model_goldens("bloom-tiny", m4, tok)
    m16r = BloomForCausalLM.from_pretrained(d16, torch_dtype=torch.float16)
    write_model_goldens("bloom-tiny-f16", m16r, tok)
    mbfr = BloomForCausalLM.from_pretrained(dbf, torch_dtype=torch.bfloat16)
    write_model_goldens("bloom-tiny-bf16", mbfr, tok)
    m3r = BloomForCausalLM.from_pretrained(d3)
    assert torch.equal(m3r.lm_head.weight, m3.lm_head.weight)
    write_model_goldens("bloom-tiny-3h", m3r, tok)
    os.remove(tmp)
    for x in (d, d16, dbf, d3):
        print(x, sorted(os.listdir(x)), sum(os.path.getsize(os.path.join(x, f))
                                             for f in os.listdir(x)))


if __name__ == "__main__":
    main()
