#!/usr/bin/env python3
"""Hugging Face side of the speed/memory benchmark (the reference).

    bench_hf.py MODEL_DIR SENTENCES_FILE BATCH MAX_LEN

Same measurements as bench-engine, on the same weights, printed as one JSON
object. Runs in tools/.venv (transformers on PyTorch, CPU, f32).
"""
import json
import resource
import sys
import time

import torch
from transformers import AutoModelForSeq2SeqLM, NllbTokenizer


def main():
    model_dir, sentences, batch, max_len = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    lines = open(sentences, encoding="utf-8").read().strip().split("\n")[:batch]
    torch.set_grad_enabled(False)

    t0 = time.monotonic()
    model = AutoModelForSeq2SeqLM.from_pretrained(model_dir).eval()
    tok = NllbTokenizer.from_pretrained(model_dir, src_lang="eng_Latn")
    load_s = time.monotonic() - t0

    enc = tok(lines, return_tensors="pt", padding=True)
    real_tokens = int(enc["attention_mask"].sum())
    encoder = model.get_encoder()
    reps, t0 = 0, time.monotonic()
    while True:
        encoder(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"])
        reps += 1
        if time.monotonic() - t0 >= 1.0:
            break
    encode_tps = real_tokens * reps / (time.monotonic() - t0)

    fra = tok.convert_tokens_to_ids("fra_Latn")
    generated, t0 = 0, time.monotonic()
    while True:
        out = model.generate(**enc, forced_bos_token_id=fra, num_beams=1, do_sample=False,
                             max_length=max_len)
        # tokens produced per row: up to and including </s>, not the start token
        for row in out.tolist():
            n = len(row) - 1
            while n > 0 and row[n] == tok.pad_token_id:
                n -= 1
            generated += n
        if time.monotonic() - t0 >= 2.0:
            break
    decode_tps = generated / (time.monotonic() - t0)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print(json.dumps({"impl": "transformers", "batch": len(lines), "load_s": round(load_s, 4),
                      "encode_tok_s": round(encode_tps, 1), "decode_tok_s": round(decode_tps, 1),
                      "peak_rss_mb": round(rss, 1)}))


if __name__ == "__main__":
    main()
