"""Shared helpers for the reference generators in tools/ (make_fixtures.py, make_goldens.py).

Only the generators import this; nothing here is part of Secateur itself.
"""

import html.parser
import json
import os

TOOLS = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(TOOLS)
FIXTURES = os.path.join(ROOT, "tests", "fixtures")
GOLDENS = os.path.join(ROOT, "tests", "goldens")
UDHR = os.environ.get("SECATEUR_UDHR", "/work/shared/data/udhr")

# UDHR file code -> NLLB-200 language code. Eight languages, six scripts.
UDHR_LANGS = [
    ("eng", "eng_Latn"),
    ("fra", "fra_Latn"),
    ("deu_1996", "deu_Latn"),
    ("spa", "spa_Latn"),
    ("rus", "rus_Cyrl"),
    ("cmn_hans", "zho_Hans"),
    ("arb", "arb_Arab"),
    ("hin", "hin_Deva"),
]
NLLB_TO_UDHR = {nllb: udhr for udhr, nllb in UDHR_LANGS}


class _UdhrParser(html.parser.HTMLParser):
    """Collects (article, paragraph text) from one declaration/<code>.html.

    Article "0" is the preamble (<header>). Whitespace inside a paragraph is collapsed.
    """

    def __init__(self):
        super().__init__()
        self.article = None
        self.buf = None
        self.depth = 0
        self.paragraphs = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "header":
            self.article = "0"
        elif tag == "article":
            self.article = attrs.get("data-number")
        elif tag in ("p", "li"):
            if self.buf is None:
                self.buf = []
                self.depth = 0
            self.depth += 1

    def handle_endtag(self, tag):
        if tag in ("p", "li") and self.buf is not None:
            self.depth -= 1
            if self.depth == 0:
                text = " ".join("".join(self.buf).split())
                if text:
                    self.paragraphs.append((self.article, text))
                self.buf = None

    def handle_data(self, data):
        if self.buf is not None:
            self.buf.append(data)


def udhr_paragraphs(udhr_code):
    """[(article, text)] in document order for one UDHR variety."""
    path = os.path.join(UDHR, "declaration", udhr_code + ".html")
    p = _UdhrParser()
    with open(path, encoding="utf-8") as f:
        p.feed(f.read())
    return p.paragraphs


def udhr_by_article(nllb_code):
    """{article: [paragraph texts]} for an NLLB language code from UDHR_LANGS."""
    out = {}
    for art, text in udhr_paragraphs(NLLB_TO_UDHR[nllb_code]):
        out.setdefault(art, []).append(text)
    return out


_SENT_END = ".!?;。！？।؟"


def first_sentence(text):
    """The text up to and including its first sentence-final mark (or the whole text)."""
    for i, ch in enumerate(text):
        if ch in _SENT_END and (i + 1 == len(text) or text[i + 1] == " " or ch in "。！？"):
            return text[: i + 1]
    return text


def write_json(path, obj):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, ensure_ascii=False, indent=1)
        f.write("\n")
