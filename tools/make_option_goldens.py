#!/usr/bin/env python3
"""Writes tests/goldens/options/cases.json: transformers' generate() on the tiny fixtures under
model and generation options (config.json / generation_config.json keys), so that Secateur can be
checked token-identical with the same files, or checked to refuse them.

    tools/.venv/bin/python tools/make_option_goldens.py

Each case is a fixture directory whose config.json is updated with `config` (keys in
`config_remove` deleted) and whose generation_config.json is replaced by `generation_config`
(absent when null); transformers loads that directory with from_pretrained, as a user would, and
runs generate(input_ids, attention_mask, forced_bos_token_id=<target language>) with nothing else
passed, so every setting comes from the files.  Runs: one sentence (batch 1) and a padded batch
of three.  Cases with `refused` hold the message Secateur must give instead; their `runs` show
what transformers does with the option.  differs_from_baseline: whether any output differs from
those of the case named `baseline` (the same settings without the option, or read as Secateur
did before it followed transformers), i.e. whether the case can catch the option being ignored.
Deterministic; a few seconds.
"""

import copy
import json
import os
import re
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import refcommon as rc  # noqa: E402

import torch  # noqa: E402
import transformers  # noqa: E402
from transformers import (  # noqa: E402
    M2M100ForConditionalGeneration,
    NllbMoeForConditionalGeneration,
    NllbTokenizer,
)

transformers.logging.set_verbosity_error()

# (name, directory from the repository root, class, cases (name prefixes; None: all)); the
# shipped demo model is trained, so its beams end with </s> early, where early_stopping "never"
# changes results (on the random-weight fixtures it does not)
FIXTURES = [("nllb-moe-tiny", "tests/fixtures/nllb-moe-tiny", NllbMoeForConditionalGeneration, None),
            ("m2m-tiny", "tests/fixtures/m2m-tiny", M2M100ForConditionalGeneration, None),
            ("demo", "resources/models/demo", NllbMoeForConditionalGeneration,
             ("plain", "early-stopping-false-lp2", "early-stopping-never-lp2",
              "config-only-length-penalty", "generation-length-penalty"))]

# the plain generation files: what make_fixtures.py writes, with a short max_length
PLAIN_GEN = {"bos_token_id": 0, "decoder_start_token_id": 2, "eos_token_id": 2, "pad_token_id": 1,
             "max_length": 24}


def inputs(fixture):
    """(name, src, tgt, texts): batch 1 and a padded batch of 3.  The fixtures: UDHR sentences
    (12, 27, 22 tokens); the demo model: held-out messages of its own domain."""
    if fixture == "demo":
        with open(os.path.join(rc.ROOT, "resources/models/demo/heldout.tsv"), encoding="utf-8") as f:
            eng = [line.split("\t")[1] for line in f if line.startswith("fra_Latn\t")]
        return [("single", "eng_Latn", "fra_Latn", [eng[0]]),
                ("padded", "eng_Latn", "fra_Latn", [eng[0], eng[1], eng[5]])]
    with open(os.path.join(rc.GOLDENS, "nllb-moe-tiny", "cases.json"), encoding="utf-8") as f:
        cases = {c["name"]: c for c in json.load(f)["cases"]}
    fe = cases["fra-eng-batch3"]
    return [("single", "fra_Latn", "eng_Latn", [fe["texts"][1]]),
            ("padded", "fra_Latn", "eng_Latn", fe["texts"])]


def option_cases(plain_tokens, first):
    """The cases; `plain_tokens` are the tokens of the plain greedy outputs, most frequent
    first, and `first` those right after the language code, to pick tokens that matter."""
    t = plain_tokens
    C = []

    def gen(name, **kw):
        g = dict(PLAIN_GEN, **kw)
        C.append(dict(name=name + "-greedy", config={}, generation_config=g, baseline="plain"))
        C.append(dict(name=name + "-beam", config={}, generation_config=dict(g, num_beams=4),
                      baseline="plain-beam"))

    C.append(dict(name="plain-beam", config={}, generation_config=dict(PLAIN_GEN, num_beams=4)))

    gen("no-repeat-ngram-2", no_repeat_ngram_size=2)
    gen("no-repeat-ngram-3", no_repeat_ngram_size=3)
    gen("repetition-penalty-1.5", repetition_penalty=1.5)
    gen("repetition-penalty-0.7", repetition_penalty=0.7)
    gen("min-length-16", min_length=16)
    gen("min-new-tokens-12", min_new_tokens=12)
    gen("suppress-tokens", suppress_tokens=t[:3])
    gen("begin-suppress-tokens", begin_suppress_tokens=first)
    gen("bad-words-ids", bad_words_ids=[[t[0]], [t[1], t[2]], [t[2], t[1]], [2]])
    gen("forced-decoder-ids", forced_decoder_ids=[[2, t[3]], [4, t[0]]])
    gen("forced-decoder-ids-begin-suppress", forced_decoder_ids=[[2, t[3]]],
        begin_suppress_tokens=t[:2])
    gen("forced-eos", forced_eos_token_id=2, max_length=12)
    gen("exponential-decay", exponential_decay_length_penalty=[4, 1.6])
    gen("max-new-tokens", max_new_tokens=9, max_length=None)
    gen("remove-invalid-values", remove_invalid_values=True, min_length=10)
    gen("renormalize-logits", renormalize_logits=True, repetition_penalty=1.3)
    gen("combined", no_repeat_ngram_size=3, repetition_penalty=1.2, min_length=8,
        suppress_tokens=[t[4]], bad_words_ids=[[t[0], t[0]]])
    for lp in (2.0, 0.5, -1.0):
        for es in (False, "never"):
            C.append(dict(name="early-stopping-%s-lp%g-beam" % (str(es).lower(), lp), config={},
                          generation_config=dict(PLAIN_GEN, num_beams=4, length_penalty=lp,
                                                 early_stopping=es, max_length=48),
                          baseline="early-stopping-false-lp%g-beam" % lp if es else None))
    # defaults and precedence
    nomax = {k: v for k, v in PLAIN_GEN.items() if k != "max_length"}
    C.append(dict(name="default-max-length", config={}, generation_config=nomax, baseline="plain",
                  note="no max_length anywhere: transformers uses 20 (Secateur 200 unless "
                       "--hf-defaults)"))
    C.append(dict(name="generation-length-penalty", config={},
                  generation_config=dict(PLAIN_GEN, num_beams=4, max_length=20,
                                         length_penalty=2.0)))
    C.append(dict(name="config-only-length-penalty", config={"length_penalty": 2.0},
                  baseline="generation-length-penalty",
                  generation_config=dict(PLAIN_GEN, num_beams=4, max_length=20),
                  note="length_penalty only in config.json is not used: generation_config.json "
                       "is not marked _from_model_config"))
    C.append(dict(name="no-generation-config", config={"num_beams": 4, "length_penalty": 2.0,
                                                       "max_length": 20, "no_repeat_ngram_size": 3},
                  generation_config=None, baseline="plain",
                  note="no generation_config.json: transformers builds it from config.json"))
    C.append(dict(name="from-model-config-as-file", config={},
                  generation_config=dict(PLAIN_GEN, num_beams=4, max_length=30)))
    C.append(dict(name="from-model-config-rebuilt", baseline="from-model-config-as-file",
                  config={"max_length": 22, "no_repeat_ngram_size": 2},
                  generation_config=dict(PLAIN_GEN, _from_model_config=True, num_beams=4,
                                         max_length=30),
                  note="a generation_config.json marked _from_model_config is rebuilt from "
                       "config.json, which sets generation keys: greedy, max_length 22"))
    C.append(dict(name="from-model-config-kept", config={},
                  generation_config=dict(PLAIN_GEN, _from_model_config=True, num_beams=4),
                  baseline="plain-beam",
                  note="marked _from_model_config, but config.json sets no generation key: "
                       "the file is used"))
    # refused
    R = []

    def ref(name, message, config=None, generation=None):
        R.append(dict(name=name, config=config or {},
                      generation_config=dict(PLAIN_GEN, **(generation or {})), refused=message))

    ref("capacity-0.5", "config.json: moe_eval_capacity_token_fraction = 0.5 is not supported: "
        "transformers then drops tokens beyond a per-expert capacity that depends on the batch "
        "(ceil(fraction x tokens in the batch)); Secateur routes every token (fraction >= 1)",
        config={"moe_eval_capacity_token_fraction": 0.5})
    ref("capacity-0", "config.json: moe_eval_capacity_token_fraction = 0 is not supported: "
        "transformers then drops tokens beyond a per-expert capacity that depends on the batch "
        "(expert_capacity tokens per batch); Secateur routes every token (fraction >= 1)",
        config={"moe_eval_capacity_token_fraction": 0.0, "expert_capacity": 4})
    for dt in ("bfloat16", "float16"):
        ref("router-dtype-" + dt, "config.json: router_dtype = \"%s\" is not supported: "
            "transformers then computes the router in that dtype; Secateur routes in float32 only"
            % dt, config={"router_dtype": dt})
    ref("encoder-no-repeat-ngram", "generation_config.json: encoder_no_repeat_ngram_size = 2 is "
        "not supported: n-grams of the source are not banned by Secateur's decoder",
        generation={"encoder_no_repeat_ngram_size": 2})
    ref("num-return-sequences", "generation_config.json: num_return_sequences = 2 is not "
        "supported: Secateur returns one translation per sentence",
        generation={"num_return_sequences": 2, "num_beams": 4})
    ref("diverse-beam", "generation_config.json: num_beam_groups = 2 is not supported: diverse "
        "(group) beam search is not implemented",
        generation={"num_beam_groups": 2, "diversity_penalty": 0.5, "num_beams": 4})
    return C, R


def load(path, cls, case, tmp):
    d = os.path.join(tmp, case["name"])
    src = os.path.join(rc.ROOT, path)
    os.makedirs(d)
    for f in os.listdir(src):
        if f not in ("config.json", "generation_config.json"):
            os.symlink(os.path.join(src, f), os.path.join(d, f))
    with open(os.path.join(src, "config.json"), encoding="utf-8") as f:
        cfg = json.load(f)
    cfg.update(case["config"])
    for k in case.get("config_remove", []):
        cfg.pop(k, None)
    rc.write_json(os.path.join(d, "config.json"), cfg)
    if case["generation_config"] is not None:
        g = {k: v for k, v in case["generation_config"].items() if v is not None}
        rc.write_json(os.path.join(d, "generation_config.json"), g)
    return cls.from_pretrained(d).float().eval(), d


def encode(tok, name, src, tgt, texts):
    tok.src_lang = src
    enc = tok(texts, padding=True)
    return dict(name=name, src_lang=src, tgt_lang=tgt, texts=texts,
                tgt_lang_id=tok.convert_tokens_to_ids(tgt), input_ids=enc.input_ids,
                attention_mask=enc.attention_mask)


@torch.no_grad()
def run(model, inp):
    out = model.generate(input_ids=torch.tensor(inp["input_ids"]),
                         attention_mask=torch.tensor(inp["attention_mask"]),
                         forced_bos_token_id=inp["tgt_lang_id"])
    return dict(input=inp["name"], ids=out.tolist())


def write_compact(path, obj):
    """JSON with one line per list of numbers (the goldens stay small and readable)."""
    text = json.dumps(obj, ensure_ascii=False, indent=1)
    text = re.sub(r"\[[-0-9.,\s]*\]", lambda m: re.sub(r"\s+", "", m.group(0)).replace(",", ", "),
                  text)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text + "\n")


def main():
    torch.set_num_threads(min(2, torch.get_num_threads()))
    doc = dict(transformers=transformers.__version__, torch=torch.__version__,
               notes=["every setting comes from the files: generate(input_ids, attention_mask, "
                      "forced_bos_token_id=tgt_lang_id) and nothing else",
                      "ids: generate() sequences, finished rows padded with 1; runs[].input names one of "
                      "the fixture's inputs (tokenizer(texts, padding=True))"],
               fixtures=[])
    with tempfile.TemporaryDirectory() as tmp:
        for fixture, path, cls, only in FIXTURES:
            if not os.path.isdir(os.path.join(rc.ROOT, path)):
                print("%s: %s is absent, skipped" % (fixture, path))
                continue
            tok = NllbTokenizer.from_pretrained(os.path.join(rc.ROOT, path))
            plain = dict(name="plain", config={}, generation_config=dict(PLAIN_GEN))
            model, _ = load(path, cls, plain, os.path.join(tmp, fixture))
            inps = [encode(tok, *i) for i in inputs(fixture)]
            plain["runs"] = [run(model, i) for i in inps]
            counts = {}
            for r in plain["runs"]:
                for row in r["ids"]:
                    for x in row[2:]:
                        if x > 3:
                            counts[x] = counts.get(x, 0) + 1
            frequent = sorted(counts, key=lambda x: (-counts[x], x))
            first = sorted(set(row[2] for r in plain["runs"] for row in r["ids"] if row[2] > 3))
            C, R = option_cases(frequent, first)
            cases = [plain]
            for case in C + R:
                if fixture.startswith("m2m") and case["name"].startswith(("capacity", "router")):
                    continue
                if only is not None and not case["name"].startswith(only):
                    continue
                try:
                    model, _ = load(path, cls, case, os.path.join(tmp, fixture))
                    case["runs"] = [run(model, i) for i in inps]
                except Exception as e:  # transformers itself refuses it
                    assert "refused" in case, (case["name"], e)
                    case["runs"] = []
                    case["hf_error"] = "%s: %s" % (type(e).__name__, e)
                base = next(c for c in cases if c["name"] == (case.get("baseline") or "plain"))
                case["baseline"] = base["name"]
                same = [r["ids"] == p["ids"] for r, p in zip(case["runs"], base["runs"])]
                case["differs_from_baseline"] = not all(same) if same else None
                cases.append(case)
                print("  %s %s: %s %s" % (fixture, case["name"],
                                          "refused, HF: " + case.get("hf_error", "")
                                          if "refused" in case else "",
                                          "differs from " + base["name"]
                                          if case["differs_from_baseline"]
                                          else "SAME AS " + base["name"]))
            doc["fixtures"].append(dict(fixture=fixture, path=path, model_class=cls.__name__,
                                        frequent_tokens=frequent[:8], inputs=inps, cases=cases))
    write_compact(os.path.join(rc.GOLDENS, "options", "cases.json"), doc)


if __name__ == "__main__":
    main()
