#!/usr/bin/env python3
"""Goldens for engine/eval/sc-metrics.c, computed by sacreBLEU itself.

Writes tests/goldens/metrics.json: corpus- and sentence-level chrF, chrF++, BLEU
(13a) and spBLEU (flores200-style: ' '.join(spm.EncodeAsPieces(line)), with the
fixture model tests/fixtures/spm/sentencepiece.bpe.model in place of the
downloaded flores200 model), on UDHR sentences in eight languages with
perturbations (word drops, swaps, typos) and on hand-written edge cases.

    tools/.venv/bin/python tools/make_metric_goldens.py
"""
import os
import random
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import sacrebleu  # noqa: E402
import sentencepiece as spm  # noqa: E402
from sacrebleu.metrics import BLEU, CHRF  # noqa: E402
from sacrebleu.tokenizers.tokenizer_spm import TokenizerSPM  # noqa: E402
from sacrebleu.utils import sum_of_lists  # noqa: E402

import refcommon as rc  # noqa: E402

SPM_REL = "tests/fixtures/spm/sentencepiece.bpe.model"
SPM_MODEL = os.path.join(rc.ROOT, SPM_REL)


class FixtureFlores200(TokenizerSPM):
    """sacreBLEU's flores200 tokenizer, with the fixture model (no download)."""

    def __init__(self):  # noqa: super().__init__ would download the real model
        self.name = "flores200"
        self.sp = spm.SentencePieceProcessor()
        self.sp.Load(SPM_MODEL)


def make_metric(name, sentence=False, **kw):
    if name == "chrf":
        return CHRF(**kw)
    if name == "chrf++":
        return CHRF(word_order=2, **kw)
    # sentence level: sacrebleu.sentence_bleu's defaults (effective order on)
    if sentence:
        kw.setdefault("effective_order", True)
    if name == "bleu":
        return BLEU(**kw)
    if name == "spbleu":
        m = BLEU(tokenize="none", **kw)
        m.tokenizer = FixtureFlores200()
        m.tokenizer_signature = m.tokenizer.signature()
        return m
    raise ValueError(name)


def stats_list(stats):
    return [int(x) for x in stats]


def score_set(name, hyps, refs, **kw):
    m = make_metric(name, **kw)
    corpus = m.corpus_score(hyps, refs)
    cstats = sum_of_lists(m._extract_corpus_statistics(hyps, refs))
    out = {
        "corpus_score": corpus.score,
        "corpus_stats": stats_list(cstats),
        "signature": str(m.get_signature()),
        "name": corpus.name,
        "sentence_scores": [],
        "sentence_stats": [],
    }
    for i, h in enumerate(hyps):
        seg_refs = [r[i] for r in refs]
        sm = make_metric(name, sentence=True, **kw)
        s = sm.sentence_score(h, seg_refs)
        st = sm._extract_corpus_statistics([h], [[r] for r in seg_refs])[0]
        out["sentence_scores"].append(s.score)
        out["sentence_stats"].append(stats_list(st))
        out["sentence_signature"] = str(sm.get_signature())
    return out


def perturb(text, rng, spaced):
    """A deterministic damaged copy: drops, swaps and typos."""
    units = text.split(" ") if spaced else list(text)
    ops = rng.randint(1, 3)
    for _ in range(ops):
        op = rng.choice(["drop", "swap", "typo"])
        if len(units) < 3:
            break
        i = rng.randrange(len(units) - 1)
        if op == "drop":
            del units[i]
        elif op == "swap":
            units[i], units[i + 1] = units[i + 1], units[i]
        else:
            w = units[i]
            if len(w) > 1:
                j = rng.randrange(len(w))
                k = rng.randrange(len(w))
                units[i] = w[:j] + w[k] + w[j + 1:]
            else:
                units[i] = w + w
    return (" " if spaced else "").join(units)


def udhr_sets():
    sets = []
    rng = random.Random(20261122)
    for _, lang in rc.UDHR_LANGS:
        arts = rc.udhr_by_article(lang)
        refs = [rc.first_sentence(arts[str(a)][0]) for a in range(1, 9) if str(a) in arts]
        spaced = lang != "zho_Hans"
        hyps = [perturb(r, rng, spaced) for r in refs]
        hyps[0] = refs[0]  # one identical segment
        sets.append({"name": f"udhr-{lang}", "hyps": hyps, "refs": [refs]})
    return sets


EDGE = [
    # identical strings
    ("identical", ["The cat sat on the mat.", "Ein kleiner Test, bitte!"],
     [["The cat sat on the mat.", "Ein kleiner Test, bitte!"]]),
    # empty hypotheses
    ("empty-hyp", ["", "", ""], [["A reference sentence here.", "Another one.", "x"]]),
    ("empty-hyp-one", ["", "Some words match here ."], [["Nothing", "Some words match here."]]),
    ("empty-both", [""], [[""]]),
    ("empty-ref", ["hypothesis without reference"], [[""]]),
    # one character / one word hypotheses (effective order)
    ("single-char", ["a", "b"], [["a", "ab"]]),
    ("single-word", ["hello"], [["hello there"]]),
    ("short-bp", ["the cat"], [["the cat is on the mat"]]),
    ("long-hyp", ["the the the the the the the"], [["the cat"]]),
    # punctuation splitting for chrF++ (issue #124 style: '(hi)' -> '(hi' ')')
    ("punct", ["(hi) there, 'friend'... \"ok\" -x- !!", "word. ,word ( )"],
     [["(hi) there, friend... \"ok\" -x-", "word , word ( )"]]),
    # 13a specifics: entities, <skipped>, digits with . , -, hyphen-newline
    ("tok13a", ["It costs 3.14 or 1,000 &amp;lt; 5-6 e-mail &quot;x&quot; <skipped>end.",
                "a.b,c 1.a a.1 2-x"],
     [["It costs 3.14 or 1,000 < 5 - 6 e-mail \"x\" end .", "a . b , c 1 . a a . 1 2 - x"]]),
    # whitespace variety: tabs, NBSP, ideographic space, trailing spaces
    ("whitespace", ["  many   spaces\there \u00a0nbsp\u3000ideo  ", "trail   "],
     [["many spaces here nbsp ideo", "trail"]]),
    # two references per segment
    ("multi-ref", ["The cat is on the mat.", "There is a cat on the mat."],
     [["The cat is on the mat.", "A cat is on the mat."],
      ["There is a cat on the mat.", "The mat has a cat."]]),
    # case differences
    ("case", ["THE Cat Sat", "Ünïcödé ÇASE"], [["the cat sat", "ünïcödé çase"]]),
    # scripts and characters the fixture SPM lacks (unknown pieces)
    ("mixed-scripts", ["Καλημέρα κόσμε 안녕하세요 😀 test", "日本語のテキスト、です。"],
     [["Καλημέρα κόσμος 안녕 😀 test", "日本語のテキストです。"]]),
    # no overlap at all
    ("no-overlap", ["xyz qqq", "zzz"], [["abc def", "www"]]),
]

VARIANTS = [
    ("chrf", {"whitespace": True}),
    ("chrf", {"lowercase": True}),
    ("chrf", {"eps_smoothing": True}),
    ("chrf++", {"eps_smoothing": True}),
    ("chrf", {"char_order": 4, "beta": 1}),
    ("bleu", {"smooth_method": "floor"}),
    ("bleu", {"smooth_method": "floor", "smooth_value": 0.2}),
    ("bleu", {"smooth_method": "none"}),
    ("bleu", {"smooth_method": "add-k"}),
    ("bleu", {"lowercase": True}),
    ("bleu", {"effective_order": True}),
    ("bleu", {"tokenize": "none"}),
]


def main():
    sets = udhr_sets() + [{"name": n, "hyps": h, "refs": r} for n, h, r in EDGE]
    for s in sets:
        s["metrics"] = {m: score_set(m, s["hyps"], s["refs"])
                        for m in ("chrf", "chrf++", "bleu", "spbleu")}
    variants = []
    for vset in ("udhr-eng_Latn", "udhr-rus_Cyrl", "case", "punct", "no-overlap", "single-word"):
        s = next(x for x in sets if x["name"] == vset)
        for metric, kw in VARIANTS:
            r = score_set(metric, s["hyps"], s["refs"], **kw)
            variants.append({"set": vset, "metric": metric, "options": kw, **r})
    rc.write_json(os.path.join(rc.GOLDENS, "metrics.json"), {
        "sacrebleu_version": sacrebleu.__version__,
        "sentencepiece_version": spm.__version__,
        "spm_model": SPM_REL,
        "notes": "corpus_stats: chrF [hyp, ref, match] per order (chars then words); "
                 "BLEU [sys_len, ref_len, correct 1-4, total 1-4]. Sentence level uses "
                 "sacrebleu.sentence_bleu defaults (effective order) for BLEU.",
        "sets": sets,
        "variants": variants,
    })
    print(f"sacrebleu {sacrebleu.__version__}: {len(sets)} sets, {len(variants)} variants")
    for s in sets:
        print(s["name"], {m: round(v["corpus_score"], 2) for m, v in s["metrics"].items()})


if __name__ == "__main__":
    main()
