"""Shared pieces of the demo-model tools: language list, tokenizer files, data loading."""
import json
import os

# The 11 demo languages + English, in NLLB-200's FAIRSEQ_LANGUAGE_CODES order.
LANGS_NLLB_ORDER = ["arb_Arab", "deu_Latn", "eng_Latn", "fra_Latn", "hin_Deva", "ita_Latn", "jpn_Jpan",
                    "pol_Latn", "por_Latn", "rus_Cyrl", "spa_Latn", "zho_Hans"]


def spm_size(d):
    import sentencepiece as spm
    sp = spm.SentencePieceProcessor()
    sp.Load(os.path.join(d, "sentencepiece.bpe.model"))
    return len(sp)


def layout(n_spm):
    """NLLB id layout: <s>0 <pad>1 </s>2 <unk>3, spm piece i>=3 -> i+1, languages, <mask>."""
    lang_ids = {c: n_spm + 1 + i for i, c in enumerate(LANGS_NLLB_ORDER)}
    mask_id = n_spm + 1 + len(LANGS_NLLB_ORDER)
    return lang_ids, mask_id, mask_id + 1


def write_tokenizer_files(d):
    n = spm_size(d)
    lang_ids, mask_id, vocab_size = layout(n)

    def tok(content, lstrip=False, normalized=False):
        return {"content": content, "lstrip": lstrip, "normalized": normalized, "rstrip": False,
                "single_word": False, "special": True}
    added = {"0": tok("<s>"), "1": tok("<pad>"), "2": tok("</s>"), "3": tok("<unk>")}
    for c, i in lang_ids.items():
        added[str(i)] = tok(c)
    added[str(mask_id)] = tok("<mask>", lstrip=True, normalized=True)
    cfg = {
        "added_tokens_decoder": added,
        "additional_special_tokens": list(LANGS_NLLB_ORDER),
        "bos_token": "<s>", "cls_token": "<s>", "eos_token": "</s>", "mask_token": "<mask>",
        "pad_token": "<pad>", "sep_token": "</s>", "unk_token": "<unk>",
        "clean_up_tokenization_spaces": True, "legacy_behaviour": False,
        "model_max_length": 1024, "sp_model_kwargs": {}, "src_lang": "eng_Latn", "tgt_lang": None,
        "tokenizer_class": "NllbTokenizer",
    }
    with open(os.path.join(d, "tokenizer_config.json"), "w") as f:
        json.dump(cfg, f, indent=2, ensure_ascii=False)
    stm = {"additional_special_tokens": list(LANGS_NLLB_ORDER), "bos_token": "<s>", "cls_token": "<s>",
           "eos_token": "</s>", "mask_token": {"content": "<mask>", "lstrip": True, "normalized": True,
                                                "rstrip": False, "single_word": False},
           "pad_token": "<pad>", "sep_token": "</s>", "unk_token": "<unk>"}
    with open(os.path.join(d, "special_tokens_map.json"), "w") as f:
        json.dump(stm, f, indent=2)
    info = {"spm_size": n, "vocab_size": vocab_size, "lang_ids": lang_ids, "mask_id": mask_id}
    check_hf_tokenizer(d, info)
    with open(os.path.join(d, "langs.json"), "w") as f:
        json.dump(info, f, indent=1)
    return info


def check_hf_tokenizer(d, info):
    import sentencepiece as spm
    from transformers import NllbTokenizer
    t = NllbTokenizer.from_pretrained(d, src_lang="fra_Latn", tgt_lang="eng_Latn")
    sp = spm.SentencePieceProcessor()
    sp.Load(os.path.join(d, "sentencepiece.bpe.model"))
    for c, i in info["lang_ids"].items():
        assert t.convert_tokens_to_ids(c) == i, (c, t.convert_tokens_to_ids(c), i)
    assert t.convert_tokens_to_ids("<mask>") == info["mask_id"], t.convert_tokens_to_ids("<mask>")
    assert len(t) == info["vocab_size"], (len(t), info["vocab_size"])
    s = "Ouvrir le fichier %s ?"
    ids = t(s).input_ids
    want = [info["lang_ids"]["fra_Latn"]] + [p + 1 for p in sp.EncodeAsIds(s)] + [2]
    assert ids == want, (ids, want)
    assert t.decode(ids, skip_special_tokens=True, clean_up_tokenization_spaces=False) == s
    lab = t(text_target="Open file %s?").input_ids
    assert lab[0] == info["lang_ids"]["eng_Latn"] and lab[-1] == 2, lab


def encode(sp, s):
    return [p + 1 for p in sp.EncodeAsIds(s)]
