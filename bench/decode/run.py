#!/usr/bin/env python3
"""Decoding speed: Secateur against CTranslate2 and Hugging Face transformers.

    tools/.venv/bin/python bench/decode/run.py [--shapes dense600m,demo,synthetic]
        [--configs greedy:1,greedy:16,beam4:1,beam4:16] [--sentences 32] [--runs 3]
        [--max-len 64] [--out bench/decode/out] [--resume]

Every engine decodes the same English sentences (UDHR, shipped in
resources/udhr) into French from the same Hugging Face checkpoint, in its own
process (so peak RSS is its own), RUNS times; the table gives generated tokens
per second (median and spread over the runs), the ratio to CTranslate2 f32 in
the same run, the memory-bandwidth bound and peak RSS.

Shapes:
  dense600m  random M2M100 with NLLB-200-distilled-600M's shape (d_model 1024,
             12+12 layers, FFN 4096, 16 heads, NLLB's 256,206-token vocabulary),
             written once to bench/out/dense-600m (f32) and dense-600m-f16;
             CTranslate2 converts it with its own converter (f32 and int8)
  demo       the shipped demo NllbMoe (resources/models/demo)
  synthetic  the 234 M synthetic NllbMoe of bench/run.sh (bench/out/synthetic-moe-512)
--openblas-coretype NAME adds Secateur's rows again with OPENBLAS_CORETYPE=NAME (its
encoder and other many-row products are OpenBLAS's sgemm, whose kernels that chooses).
CTranslate2 has no NllbMoe support: its columns are empty for MoE shapes.

Bandwidth bound: bytes of weights a decoding step must read (decoder self
attention, cross-attention query and output, feed-forward or the two routed
experts, routers, output projection; cross-attention keys and values are
computed once per sentence and not counted), divided into the copy bandwidth
bench-decode measures (bytes read plus written per second by memcpy), times
the rows that share the step. Needs tools/.venv (tools/setup-venv.sh) plus
`pip install ctranslate2`, and a build in build/ (bench/bench-decode).
Not a test: timings depend on the machine and its load.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TGT = "fra_Latn"


def sentences(n):
    path = os.path.join(ROOT, "resources", "udhr", "eng_Latn.tsv")
    lines = [l.rstrip("\n").split("\t", 2)[2] for l in open(path, encoding="utf-8") if l.strip()]
    # UDHR paragraphs run long; whole sentences of at most 40 words
    out = []
    for line in lines:
        for s in line.replace("; ", ". ").split(". "):
            words = s.split()
            if 4 <= len(words) <= 40:
                out.append(" ".join(words).rstrip(".,;:") + ".")
    return out[:n]


def peak_rss_mb():
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


# ---- workers: one engine, one configuration, in a process of its own ----

def worker_hf(model_dir, text_file, batch, beams, max_len, runs):
    import torch
    from transformers import AutoModelForSeq2SeqLM, AutoTokenizer
    torch.set_num_threads(os.cpu_count() or 1)
    torch.set_grad_enabled(False)
    lines = open(text_file, encoding="utf-8").read().strip().split("\n")
    t0 = time.monotonic()
    model = AutoModelForSeq2SeqLM.from_pretrained(model_dir).eval()
    tok = AutoTokenizer.from_pretrained(model_dir, src_lang="eng_Latn")
    load_s = time.monotonic() - t0
    tgt = tok.convert_tokens_to_ids(TGT)
    runs_s, ids = [], []
    for r in range(runs):
        tokens, ids = 0, []
        t0 = time.monotonic()
        for i in range(0, len(lines), batch):
            enc = tok(lines[i:i + batch], return_tensors="pt", padding=True)
            out = model.generate(**enc, forced_bos_token_id=tgt, num_beams=beams, do_sample=False,
                                 max_length=max_len, early_stopping=True)
            for row in out.tolist():
                row = row[1:]
                while row and row[-1] == tok.pad_token_id:
                    row.pop()
                tokens += len(row)
                ids.append(row)
        runs_s.append(time.monotonic() - t0)
    return {"impl": "transformers", "load_s": load_s, "runs_s": runs_s, "tokens": tokens,
            "peak_rss_mb": peak_rss_mb(), "ids": ids}


def worker_ct2(model_dir, ct2_dir, compute_type, text_file, batch, beams, max_len, runs):
    import ctranslate2
    from transformers import AutoTokenizer
    lines = open(text_file, encoding="utf-8").read().strip().split("\n")
    tok = AutoTokenizer.from_pretrained(model_dir, src_lang="eng_Latn")
    t0 = time.monotonic()
    tr = ctranslate2.Translator(ct2_dir, device="cpu", compute_type=compute_type,
                                inter_threads=1, intra_threads=os.cpu_count() or 1)
    load_s = time.monotonic() - t0
    src = [tok.convert_ids_to_tokens(tok(l)["input_ids"]) for l in lines]
    # Output tokens back to ids through CTranslate2's own vocabulary: a random
    # model emits ids past the small test tokenizer's pieces, which the
    # converter names "madeupwordN" and the tokenizer would read as <unk>.
    with open(os.path.join(ct2_dir, "shared_vocabulary.json"), encoding="utf-8") as f:
        vocab = {t: i for i, t in enumerate(json.load(f))}
    runs_s, ids = [], []
    for r in range(runs):
        tokens, ids = 0, []
        t0 = time.monotonic()
        for i in range(0, len(src), batch):
            part = src[i:i + batch]
            # max_length counts the decoder's start token in transformers
            res = tr.translate_batch(part, target_prefix=[[TGT]] * len(part), beam_size=beams,
                                     max_decoding_length=max_len - 1, return_end_token=True,
                                     max_batch_size=batch)
            for hyp in res:
                row = [vocab[t] for t in hyp.hypotheses[0]]
                tokens += len(row)
                ids.append(row)
        runs_s.append(time.monotonic() - t0)
    return {"impl": "ctranslate2-" + compute_type, "load_s": load_s, "runs_s": runs_s,
            "tokens": tokens, "peak_rss_mb": peak_rss_mb(), "ids": ids}


def run_worker(args):
    if args[0] == "hf":
        res = worker_hf(args[1], args[2], int(args[3]), int(args[4]), int(args[5]), int(args[6]))
    else:
        res = worker_ct2(args[1], args[2], args[3], args[4], int(args[5]), int(args[6]),
                         int(args[7]), int(args[8]))
    print(json.dumps(res))


# ---- models ----

def make_dense600m(out):
    """Random weights in NLLB-200-distilled-600M's shape, the tiny fixture's tokenizer."""
    import torch
    from transformers import AutoTokenizer, M2M100Config, M2M100ForConditionalGeneration
    f32, f16 = os.path.join(out, "dense-600m"), os.path.join(out, "dense-600m-f16")
    if os.path.exists(os.path.join(f16, "config.json")):
        return f32, f16
    fixture = os.path.join(ROOT, "tests", "fixtures", "m2m-tiny")
    tok = AutoTokenizer.from_pretrained(fixture)
    cfg = M2M100Config(vocab_size=256206, d_model=1024, encoder_layers=12, decoder_layers=12,
                       encoder_attention_heads=16, decoder_attention_heads=16,
                       encoder_ffn_dim=4096, decoder_ffn_dim=4096, scale_embedding=True,
                       max_position_embeddings=1024, activation_function="relu",
                       dropout=0.1, attention_dropout=0.1, activation_dropout=0.0,
                       tie_word_embeddings=True, pad_token_id=1, bos_token_id=0, eos_token_id=2,
                       decoder_start_token_id=2)
    torch.manual_seed(600)
    model = M2M100ForConditionalGeneration(cfg).eval()
    with torch.no_grad():
        # larger than init_std so that outputs are not all one token
        for p in model.parameters():
            if p.dim() == 2:
                p.normal_(0.0, 0.05)
    model.save_pretrained(f32, safe_serialization=True)
    tok.save_pretrained(f32)
    model.half().save_pretrained(f16, safe_serialization=True)
    tok.save_pretrained(f16)
    return f32, f16


def ct2_convert(model_dir, quantization):
    import ctranslate2
    out = model_dir + "-ct2-" + quantization
    class Converter(ctranslate2.converters.TransformersConverter):
        # CTranslate2 4.8 passes `dtype`, which transformers before 4.56 calls `torch_dtype`
        def load_model(self, model_class, model_name_or_path, **kwargs):
            if "dtype" in kwargs:
                kwargs["torch_dtype"] = kwargs.pop("dtype")
            return model_class.from_pretrained(model_name_or_path, **kwargs)

    if not os.path.exists(os.path.join(out, "model.bin")):
        Converter(model_dir).convert(out, quantization=quantization, force=True)
    return out


def weight_bytes_per_step(model_dir):
    """Bytes of weights one decoding step reads (see the module's docstring)."""
    cfg = json.load(open(os.path.join(model_dir, "config.json")))
    d, V = cfg["d_model"], cfg["vocab_size"]
    ffn = cfg.get("decoder_ffn_dim", 4 * d)
    layers = cfg["decoder_layers"]
    elt = {"float32": 4, "float16": 2, "bfloat16": 2}.get(cfg.get("torch_dtype", "float32"), 4)
    per_layer_attn = 6 * d * d  # self q, k, v, o; cross q, o
    total = 0
    step = cfg.get("decoder_sparse_step", 0) if cfg.get("model_type", "").startswith("nllb") else 0
    E = cfg.get("num_experts", 0)
    for l in range(layers):
        total += per_layer_attn
        sparse = step > 0 and (l + 1) % step == 0
        if sparse:
            total += d * E + 2 * (2 * d * ffn)  # router, two routed experts
        else:
            total += 2 * d * ffn
    total += V * d  # output projection
    return total * elt


# ---- the run ----

def run_json(cmd, env=None):
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        raise RuntimeError("%s failed:\n%s" % (" ".join(cmd), proc.stderr[-2000:]))
    return json.loads(proc.stdout.strip().split("\n")[-1])


def agree(a, b):
    """Share of sentences whose output ids are identical."""
    if not a or not b or len(a) != len(b):
        return None
    same = sum(1 for x, y in zip(a, b) if list(x) == list(y))
    return same / len(a)


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        run_worker(sys.argv[2:])
        return
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shapes", default="dense600m,demo,synthetic")
    ap.add_argument("--configs", default="greedy:1,greedy:16,beam4:1,beam4:16")
    ap.add_argument("--sentences", type=int, default=32)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--max-len", type=int, default=64)
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--out", default=os.path.join(ROOT, "bench", "decode", "out"))
    ap.add_argument("--no-transformers", action="store_true")
    ap.add_argument("--resume", action="store_true",
                    help="keep the rows of OUT/results.json and run only the configurations it lacks")
    ap.add_argument("--openblas-coretype", metavar="NAME",
                    help="also run Secateur with OPENBLAS_CORETYPE=NAME (rows named secateur-...@NAME): "
                         "the setting `secateur-cli info` advises where OpenBLAS runs SSE3 kernels on an AVX2 CPU")
    args = ap.parse_args()

    os.makedirs(args.out, exist_ok=True)
    text = os.path.join(args.out, "sentences.txt")
    with open(text, "w", encoding="utf-8") as f:
        f.write("\n".join(sentences(args.sentences)) + "\n")
    bench_decode = os.path.join(args.build, "bench", "bench-decode")
    me = os.path.abspath(__file__)
    py = sys.executable
    models_out = os.path.join(ROOT, "bench", "out")

    rows = []
    results_path = os.path.join(args.out, "results.json")
    if args.resume and os.path.exists(results_path):
        rows = json.load(open(results_path))["rows"]
    done = {(r["shape"], r["config"]) for r in rows}

    def save():
        # after every configuration, so that an interrupted run keeps what it measured
        with open(results_path, "w") as f:
            json.dump({"args": vars(args), "cpus": os.cpu_count(), "load": os.getloadavg(),
                       "rows": rows}, f, indent=1)

    for shape in args.shapes.split(","):
        if shape == "dense600m":
            f32, f16 = make_dense600m(models_out)
            engines = [("secateur-f32", f32, None), ("secateur-f16", f16, None),
                       ("ctranslate2-float32", f32, ct2_convert(f32, "float32")),
                       ("ctranslate2-int8", f32, ct2_convert(f32, "int8"))]
            hf_dir = f32
        elif shape == "demo":
            demo = os.path.join(ROOT, "resources", "models", "demo")
            engines = [("secateur", demo, None)]
            hf_dir = demo
        elif shape == "synthetic":
            syn = os.path.join(models_out, "synthetic-moe-512")
            if not os.path.exists(os.path.join(syn, "config.json")):
                subprocess.run([py, os.path.join(ROOT, "tools", "make_fixtures.py"), "--bench", syn,
                                "--bench-only", "--no-summary"], check=True)
            engines = [("secateur", syn, None)]
            hf_dir = syn
        else:
            sys.exit("unknown shape " + shape)
        if args.openblas_coretype:
            engines += [(n + "@" + args.openblas_coretype, m, x) for n, m, x in engines
                        if n.startswith("secateur")]
        if not args.no_transformers:
            engines.append(("transformers", hf_dir, "hf"))

        for conf in args.configs.split(","):
            if (shape, conf) in done:
                continue
            kind, batch = conf.split(":")
            beams = 1 if kind == "greedy" else int(kind[4:])
            batch = int(batch)
            results = {}
            for name, mdir, extra in engines:
                if name.startswith("secateur"):
                    cmd = [bench_decode, mdir, text, str(batch), str(beams), str(args.max_len),
                           str(args.runs), TGT]
                elif extra == "hf":
                    cmd = [py, me, "--worker", "hf", mdir, text, str(batch), str(beams),
                           str(args.max_len), str(args.runs)]
                else:
                    cmd = [py, me, "--worker", "ct2", mdir, extra, name.split("-", 1)[1], text,
                           str(batch), str(beams), str(args.max_len), str(args.runs)]
                env = None
                if "@" in name:
                    env = dict(os.environ, OPENBLAS_CORETYPE=name.split("@", 1)[1])
                res = run_json(cmd, env)
                results[name] = res
                print("%s %s %s: %s s" % (shape, conf, name, res["runs_s"]), file=sys.stderr)
            ref = results.get("ctranslate2-float32")
            bw = next((r["copy_bytes_s"] for r in results.values() if "copy_bytes_s" in r), None)
            for name, res in results.items():
                mdir = next(m for n, m, _ in engines if n == name)
                tps = [res["tokens"] / s for s in res["runs_s"]]
                med = statistics.median(tps)
                bound = None
                if bw:
                    bound = bw / weight_bytes_per_step(mdir) * batch
                    if name.startswith("ctranslate2-int8"):
                        bound *= 4  # int8 weights: a quarter of f32's bytes
                rows.append({
                    "shape": shape, "config": conf, "impl": name, "tokens": res["tokens"],
                    "tok_s": med, "tok_s_min": min(tps), "tok_s_max": max(tps),
                    "ratio_ct2": med / statistics.median([ref["tokens"] / s for s in ref["runs_s"]])
                    if ref else None,
                    "bound_tok_s": bound, "of_bound": med / bound if bound else None,
                    "peak_rss_mb": res["peak_rss_mb"],
                    "same_ids_as_ct2": agree(res["ids"], ref["ids"]) if ref else None,
                    "same_ids_as_transformers": agree(res["ids"], results["transformers"]["ids"])
                    if "transformers" in results else None,
                })
            save()
    print("| shape | config | engine | tokens | tok/s (min-max) | vs CT2 f32 | bound tok/s | "
          "of bound | peak RSS MB | same ids as HF |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    fmt = lambda v, p="%.2f": "" if v is None else p % v
    for r in rows:
        print("| %s | %s | %s | %d | %.1f (%.1f-%.1f) | %s | %s | %s | %.0f | %s |" % (
            r["shape"], r["config"], r["impl"], r["tokens"], r["tok_s"], r["tok_s_min"],
            r["tok_s_max"], fmt(r["ratio_ct2"]), fmt(r["bound_tok_s"], "%.0f"),
            fmt(r["of_bound"]), r["peak_rss_mb"], fmt(r["same_ids_as_transformers"])))


if __name__ == "__main__":
    main()
