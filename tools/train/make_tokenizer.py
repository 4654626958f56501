#!/usr/bin/env python3
"""Train the demo model's SentencePiece model and write the NLLB-style tokenizer files.

    tools/.venv/bin/python tools/train/make_tokenizer.py [--corpus /work/demo/corpus] [--out /work/demo/tok]
        [--vocab 16000]

Sample: English (unique training strings) plus, per language, a temperature-balanced sample of the
training translations (T=5 over pair counts, small languages repeated), shuffled with a fixed seed.
spm_train unigram, byte_fallback, character_coverage 0.9995, ids unk=0 bos=1 eos=2 pad=-1
(the NLLB/fairseq layout: model id = spm id + 1 with <s>=0 <pad>=1 </s>=2 <unk>=3, then the
language codes in NLLB-200 order, then <mask>).

Writes OUT/sentencepiece.bpe.model, tokenizer_config.json, special_tokens_map.json, langs.json
and checks that Hugging Face's NllbTokenizer gives the expected ids.
"""
import argparse
import json
import os
import random
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import LANGS_NLLB_ORDER, write_tokenizer_files  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--corpus", default="/work/demo/corpus")
    ap.add_argument("--out", default="/work/demo/tok")
    ap.add_argument("--vocab", type=int, default=16000)
    ap.add_argument("--lines", type=int, default=600000)
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    by = {}
    eng = set()
    with open(os.path.join(a.corpus, "train.tsv"), encoding="utf-8") as f:
        for line in f:
            lang, en, tr = line.rstrip("\n").split("\t")[:3]
            by.setdefault(lang, []).append(tr)
            eng.add(en)
    rng = random.Random(1234)
    eng = sorted(eng)
    tot = sum(len(v) for v in by.values())
    w = {k: (len(v) / tot) ** (1 / 5.0) for k, v in by.items()}
    ws = sum(w.values()) + (1 / 5.0) ** 0  # English gets a full share
    budget = a.lines
    sample = list(eng) if len(eng) < budget // 6 else rng.sample(eng, budget // 6)
    rest = budget - len(sample)
    for k in sorted(by):
        n = int(rest * w[k] / (ws - 1))
        v = by[k]
        sample += [v[rng.randrange(len(v))] for _ in range(n)]
    rng.shuffle(sample)
    txt = os.path.join(a.out, "spm_sample.txt")
    with open(txt, "w", encoding="utf-8") as f:
        for s in sample:
            f.write(s + "\n")
    prefix = os.path.join(a.out, "spm")
    subprocess.run(["spm_train", f"--input={txt}", f"--model_prefix={prefix}", f"--vocab_size={a.vocab}",
                    "--model_type=unigram", "--byte_fallback=true", "--character_coverage=0.9995",
                    "--unk_id=0", "--bos_id=1", "--eos_id=2", "--pad_id=-1",
                    f"--input_sentence_size={len(sample)}", "--shuffle_input_sentence=true",
                    "--num_threads=2", "--max_sentence_length=4096", "--train_extremely_large_corpus=false"],
                   check=True, stdout=subprocess.DEVNULL)
    os.replace(prefix + ".model", os.path.join(a.out, "sentencepiece.bpe.model"))
    info = write_tokenizer_files(a.out)
    print(json.dumps(info, indent=1))


if __name__ == "__main__":
    main()
