#!/usr/bin/env python3
"""Writes the fuzzers' seed corpus (tests/fuzz/corpus/{safetensors,pickle,zip}).

The seeds are committed; re-run only to refresh them. Needs torch and
safetensors (the tools/ venv has both):

    tools/.venv/bin/python tests/fuzz/make-corpus.py

Seeds are small on purpose (a few KiB): valid files from the real writers,
plus near-valid variants that stop just short of the interesting checks.
"""
import collections
import io
import json
import os
import struct
import zipfile

import torch
from safetensors.torch import save as st_save

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "corpus")
FIXTURES = os.path.join(HERE, "..", "fixtures")


def out(kind, name, data):
    os.makedirs(os.path.join(CORPUS, kind), exist_ok=True)
    with open(os.path.join(CORPUS, kind, name), "wb") as f:
        f.write(data)


def state_dicts():
    w = torch.arange(6, dtype=torch.float32).reshape(2, 3)
    a = collections.OrderedDict()
    a["a.weight"] = w
    a["a.bias"] = torch.tensor([1.5, -2.0], dtype=torch.float16)
    a["tied"] = w
    a["b"] = torch.arange(10, dtype=torch.bfloat16)[2:5]
    a["i"] = torch.tensor([1, 2, 3], dtype=torch.int64)
    a["j"] = torch.tensor([7], dtype=torch.int32)
    a["scalar"] = torch.tensor(3.25)
    a["empty"] = torch.zeros(0, 4)
    a._metadata = {"": {"version": 1}, "a": {"version": 2}}
    yield "mixed", a

    b = collections.OrderedDict()
    b["p"] = torch.nn.Parameter(torch.ones(2, 2))
    b["enc.layers.0.ffn.experts.expert_0.fc1.weight"] = torch.randn(4, 3)
    b["row"] = torch.arange(12, dtype=torch.float32).reshape(3, 4)[1:2]
    yield "param", b

    yield "plain-dict", {"x": torch.ones(3, dtype=torch.float16)}


def main():
    for name, sd in state_dicts():
        for proto in (2, 4):
            buf = io.BytesIO()
            torch.save(sd, buf, pickle_protocol=proto)
            data = buf.getvalue()
            out("zip", "%s-p%d.zip" % (name, proto), data)
            with zipfile.ZipFile(io.BytesIO(data)) as z:
                pkl = [n for n in z.namelist() if n.endswith("/data.pkl")][0]
                out("pickle", "%s-p%d.pkl" % (name, proto), z.read(pkl))

        tensors = {k: v.detach().contiguous().clone() for k, v in sd.items()}
        # safetensors refuses shared storage; the clones above break it
        data = st_save(tensors, metadata={"format": "pt"})
        out("safetensors", "%s.safetensors" % name, data)

    # Legacy (non-zip) torch.save, to reach the legacy check
    buf = io.BytesIO()
    torch.save({"x": torch.ones(2)}, buf, _use_new_zipfile_serialization=False)
    out("zip", "legacy.pt", buf.getvalue()[:512])

    # Near-valid safetensors: overlapping, out of range, odd dtypes
    def st(header, data_len):
        h = json.dumps(header).encode()
        return struct.pack("<Q", len(h)) + h + bytes(range(256))[:data_len] * 1
    out("safetensors", "overlap.safetensors",
        st({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
            "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}}, 12))
    out("safetensors", "past-end.safetensors",
        st({"a": {"dtype": "BF16", "shape": [2, 3], "data_offsets": [0, 12]}}, 8))
    out("safetensors", "metadata.safetensors",
        st({"__metadata__": {"format": "pt", "k": "v"},
            "a": {"dtype": "I64", "shape": [], "data_offsets": [0, 8]}}, 8))

    # One real shard's pickle from the fixtures, when present
    shard = os.path.join(FIXTURES, "nllb-moe-tiny-bin-sharded", "pytorch_model-00004-of-00004.bin")
    if os.path.exists(shard):
        with zipfile.ZipFile(shard) as z:
            pkl = [n for n in z.namelist() if n.endswith("/data.pkl")][0]
            out("pickle", "fixture-shard.pkl", z.read(pkl))


if __name__ == "__main__":
    main()
