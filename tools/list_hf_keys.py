#!/usr/bin/env python3
"""Writes tools/hf-keys.json: every configuration key that the pinned transformers' NllbMoe,
M2M100 and generate() read, from the classes themselves.

    tools/.venv/bin/python tools/list_hf_keys.py

A default instance's to_dict() holds every attribute its __init__ sets (the model configs include
PretrainedConfig's, and with them the legacy generation keys).  tests/test-options.c checks that
engine/model/sc-config-keys.c says for each whether Secateur honours it, refuses it, notes it on
stderr or why it cannot change an inference output.
"""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import refcommon as rc  # noqa: E402

import transformers  # noqa: E402
from transformers import GenerationConfig, M2M100Config, NllbMoeConfig  # noqa: E402


def main():
    doc = dict(
        transformers=transformers.__version__,
        source="default instances' to_dict() keys (tools/list_hf_keys.py)",
        nllb_moe=sorted(NllbMoeConfig().to_dict()),
        m2m_100=sorted(M2M100Config().to_dict()),
        generation=sorted(GenerationConfig().to_dict()),
    )
    rc.write_json(os.path.join(rc.TOOLS, "hf-keys.json"), doc)
    print("hf-keys.json: %d nllb_moe, %d m2m_100, %d generation keys"
          % (len(doc["nllb_moe"]), len(doc["m2m_100"]), len(doc["generation"])))


if __name__ == "__main__":
    main()
