#!/usr/bin/env python3
"""Build Secateur's English-centric demo corpus from gettext catalogues (.mo files).

    python3 tools/corpus/make_gettext.py [--roots DIR ...] [--out /work/demo/corpus]
    python3 tools/corpus/make_gettext.py --check [--out /work/demo/corpus]

Reads English msgid -> translated msgstr pairs from every `<root>/<lang>/LC_MESSAGES/*.mo`
(default root: /usr/share/locale, plus any extra roots, e.g. packages unpacked with
`apt-get download P && dpkg-deb -x P.deb DIR` -> DIR/usr/share/locale) for the languages in LANGS,
cleans them and writes under OUT:

    train.tsv   lang<TAB>english<TAB>translation<TAB>package<TAB>domain
    calib.tsv   same columns (~300 pairs per language)
    test.tsv    same columns (500 pairs per language, or as many as exist)
    stats.json  counts per language and split, sources

Cleaning: the .mo header and entries with empty msgstr are skipped (msgfmt already drops fuzzy
entries unless built with --use-fuzzy); context is removed, plural entries give their singular;
accelerator marks (`_File`, `&File`, `(_F)`, `(&F)`) are removed; whitespace is collapsed;
pairs whose translation equals the English, bare file names, strings without letters and strings
longer than 400 characters are dropped; duplicates (lang, english, translation) are removed.

Split: unique English strings are ordered by SHA-1 of the English text. For each language the
first 500 pairs in that order go to test and the next 300 to calibration. Every English string
used in any language's test (calibration) split is removed from training (and from calibration)
in ALL languages, so no test English string occurs in training anywhere. `--check` verifies it.

Deterministic: the same catalogues give byte-identical output. Standard library only.
"""

import argparse
import glob
import hashlib
import json
import os
import re
import struct
import sys

# locale directory name(s) -> NLLB-200 code
LANGS = [
    (("fr",), "fra_Latn"),
    (("de",), "deu_Latn"),
    (("es",), "spa_Latn"),
    (("pt_BR", "pt"), "por_Latn"),
    (("it",), "ita_Latn"),
    (("ru",), "rus_Cyrl"),
    (("pl",), "pol_Latn"),
    (("zh_CN",), "zho_Hans"),
    (("ja",), "jpn_Jpan"),
    (("ar",), "arb_Arab"),
    (("hi",), "hin_Deva"),
]
N_TEST = 500
N_CALIB = 300
MAX_CHARS = 400


def read_mo(path):
    """Yield (msgid, msgstr) from a GNU .mo file (own parser, both byte orders)."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 28:
        return
    magic = struct.unpack("<I", data[:4])[0]
    if magic == 0x950412DE:
        end = "<"
    elif magic == 0xDE120495:
        end = ">"
    else:
        return
    _rev, n, oo, ot = struct.unpack(end + "4I", data[4:20])
    charset = "utf-8"
    entries = []
    for i in range(n):
        ol, oof = struct.unpack(end + "2I", data[oo + 8 * i: oo + 8 * i + 8])
        tl, tof = struct.unpack(end + "2I", data[ot + 8 * i: ot + 8 * i + 8])
        entries.append((data[oof: oof + ol], data[tof: tof + tl]))
    for k, v in entries:
        if k == b"":
            m = re.search(rb"charset=([-\w]+)", v)
            if m:
                charset = m.group(1).decode("ascii", "replace")
    for k, v in entries:
        if k == b"":
            continue
        try:
            ks = k.decode("utf-8")
            vs = v.decode(charset if charset.lower() not in ("charset", "") else "utf-8")
        except (UnicodeDecodeError, LookupError):
            continue
        if "\x04" in ks:
            ks = ks.split("\x04", 1)[1]
        ks = ks.split("\x00")[0]
        vs = vs.split("\x00")[0]
        yield ks, vs


ACCEL_PAREN = re.compile(r"\s*[(（][_&][A-Za-z0-9][)）]")
ACCEL_US = re.compile(r"(?:(?<=^)|(?<=[\s\"'(\[«„“]))_(?=\w)")
ACCEL_US2 = re.compile(r"(?<=[^\W\d_])_(?=[^\W\d_])")  # "Fi_le" mid-word in a single word
ACCEL_AMP = re.compile(r"&(?=[^\W\d_])(?![a-zA-Z]+;|#\d+;)")
WS = re.compile(r"\s+")
FILENAME = re.compile(r"^[\w./-]+\.[A-Za-z0-9]{1,5}$")
LETTER = re.compile(r"[^\W\d_]")


def clean(s):
    s = ACCEL_PAREN.sub("", s)
    s = ACCEL_US.sub("", s)
    s = ACCEL_AMP.sub("", s)
    s = WS.sub(" ", s).strip()
    return s


def clean_pair(en, tr):
    # mid-word underscore accelerators ("Fi_le", "Сохранить _как") only when the string has no other
    # underscore-y identifiers: apply only to strings of at most 4 words without '%' or '/'
    en, tr = clean(en), clean(tr)
    for_side = []
    for s in (en, tr):
        if s.count("_") == 1 and len(s.split()) <= 4 and "%" not in s and "/" not in s:
            s = ACCEL_US2.sub("", s)
        for_side.append(s)
    en, tr = for_side
    if not en or not tr or en == tr:
        return None
    if len(en) > MAX_CHARS or len(tr) > MAX_CHARS:
        return None
    if not LETTER.search(en) or not LETTER.search(tr):
        return None
    if FILENAME.match(en):
        return None
    return en, tr


def package_map():
    """Map installed file path -> Debian package, from dpkg's file lists (LC_MESSAGES only)."""
    m = {}
    for lst in sorted(glob.glob("/var/lib/dpkg/info/*.list")):
        pkg = os.path.basename(lst)[:-5].split(":")[0]
        try:
            with open(lst, encoding="utf-8", errors="replace") as f:
                for line in f:
                    if "/LC_MESSAGES/" in line and line.endswith(".mo\n"):
                        m[line.rstrip("\n")] = pkg
        except OSError:
            pass
    return m


def collect(roots, pkgmap):
    pairs = {}  # (lang, en, tr) -> (package, domain); first in sorted order wins
    sources = []
    for root in roots:
        for dirs, code in LANGS:
            for d in dirs:
                for mo in sorted(glob.glob(os.path.join(root, d, "LC_MESSAGES", "*.mo"))):
                    domain = os.path.basename(mo)[:-3]
                    real = os.path.realpath(mo)
                    pkg = pkgmap.get(mo) or pkgmap.get(real)
                    if pkg is None:
                        # unpacked packages: <dir>/<package>/usr/share/locale/...
                        parts = os.path.abspath(mo).split(os.sep)
                        pkg = parts[parts.index("usr") - 1] if "usr" in parts else "unknown"
                    n = 0
                    for en, tr in read_mo(mo):
                        c = clean_pair(en, tr)
                        if c is None:
                            continue
                        key = (code, c[0], c[1])
                        if key not in pairs:
                            pairs[key] = (pkg, domain)
                            n += 1
                    sources.append((code, pkg, domain, n))
    return pairs, sources


def h(s):
    return hashlib.sha1(s.encode("utf-8")).hexdigest()


def split(pairs):
    by_lang = {}
    for (code, en, tr), (pkg, dom) in pairs.items():
        by_lang.setdefault(code, {}).setdefault(en, []).append((tr, pkg, dom))
    for code in by_lang:
        for en in by_lang[code]:
            by_lang[code][en].sort()
    english = sorted({en for d in by_lang.values() for en in d}, key=lambda e: (h(e), e))
    test, calib = [], []
    test_en = set()
    for _dirs, code in LANGS:  # pass 1: test
        d = by_lang.get(code, {})
        nt = 0
        for en in english:
            if nt >= N_TEST:
                break
            if en in d:
                tr, pkg, dom = d[en][0]  # one reference per English string in held-out splits
                test.append((code, en, tr, pkg, dom))
                test_en.add(en)
                nt += 1
    calib_en = set()
    for _dirs, code in LANGS:  # pass 2: calibration, disjoint from every language's test English
        d = by_lang.get(code, {})
        nc = 0
        for en in english:
            if nc >= N_CALIB:
                break
            if en in d and en not in test_en:
                tr, pkg, dom = d[en][0]
                calib.append((code, en, tr, pkg, dom))
                calib_en.add(en)
                nc += 1
    train = []
    for _dirs, code in LANGS:
        d = by_lang.get(code, {})
        for en in sorted(d):
            if en in test_en or en in calib_en:
                continue
            for tr, pkg, dom in d[en]:
                train.append((code, en, tr, pkg, dom))
    return train, calib, test


def write_tsv(path, rows):
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        for r in rows:
            f.write("\t".join(x.replace("\t", " ") for x in r) + "\n")
    os.replace(tmp, path)


def read_tsv(path):
    with open(path, encoding="utf-8") as f:
        return [line.rstrip("\n").split("\t") for line in f]


def check(out):
    train = read_tsv(os.path.join(out, "train.tsv"))
    calib = read_tsv(os.path.join(out, "calib.tsv"))
    test = read_tsv(os.path.join(out, "test.tsv"))
    tr_en = {r[1] for r in train}
    te_en = {r[1] for r in test}
    ca_en = {r[1] for r in calib}
    bad_tt = te_en & tr_en
    bad_tc = te_en & ca_en
    bad_ct = ca_en & tr_en
    # translations of test sources must not appear as training sources/targets either
    tr_tgt = {r[2] for r in train}
    leak_tgt = sum(1 for r in test if r[2] in tr_tgt)
    print(f"train {len(train)} calib {len(calib)} test {len(test)}")
    print(f"test English in train: {len(bad_tt)}; test in calib: {len(bad_tc)}; calib in train: {len(bad_ct)}")
    print(f"(info) test translations that also occur as some training translation: {leak_tgt}")
    ok = not bad_tt and not bad_tc and not bad_ct
    print("OK" if ok else "LEAK")
    return 0 if ok else 1


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--roots", nargs="*", default=[], help="extra locale roots (…/usr/share/locale)")
    ap.add_argument("--unpacked", default=None,
                    help="directory of packages unpacked with dpkg-deb -x (DIR/<pkg>/usr/share/locale)")
    ap.add_argument("--out", default="/work/demo/corpus")
    ap.add_argument("--check", action="store_true")
    a = ap.parse_args()
    if a.check:
        sys.exit(check(a.out))
    roots = ["/usr/share/locale"] + list(a.roots)
    if a.unpacked:
        roots += sorted(glob.glob(os.path.join(a.unpacked, "*", "usr", "share", "locale")))
        # LibreOffice keeps its catalogues in program/resource/<lang>/LC_MESSAGES
        roots += sorted(glob.glob(os.path.join(a.unpacked, "*", "usr", "lib", "libreoffice", "program", "resource")))
    os.makedirs(a.out, exist_ok=True)
    pairs, sources = collect(roots, package_map())
    train, calib, test = split(pairs)
    write_tsv(os.path.join(a.out, "train.tsv"), train)
    write_tsv(os.path.join(a.out, "calib.tsv"), calib)
    write_tsv(os.path.join(a.out, "test.tsv"), test)
    stats = {"languages": {}, "roots": roots,
             "domains": sorted({(s[1], s[2]) for s in sources})}
    for _d, code in LANGS:
        stats["languages"][code] = {
            "train": sum(1 for r in train if r[0] == code),
            "calib": sum(1 for r in calib if r[0] == code),
            "test": sum(1 for r in test if r[0] == code),
            "train_chars": sum(len(r[1]) + len(r[2]) for r in train if r[0] == code),
        }
    stats["total"] = {"train": len(train), "calib": len(calib), "test": len(test),
                      "unique_english_train": len({r[1] for r in train})}
    with open(os.path.join(a.out, "stats.json.tmp"), "w") as f:
        json.dump(stats, f, indent=1, ensure_ascii=False)
    os.replace(os.path.join(a.out, "stats.json.tmp"), os.path.join(a.out, "stats.json"))
    for code, s in stats["languages"].items():
        print(code, s)
    print(stats["total"])
    sys.exit(check(a.out))


if __name__ == "__main__":
    main()
