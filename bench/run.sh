#!/bin/sh
# Speed and memory of Secateur against Hugging Face transformers on the same
# weights, in the same run, as ratios. Needs tools/.venv (tools/setup-venv.sh)
# and a build in build/. Usage: bench/run.sh [OUT.md]
set -eu
cd "$(dirname "$0")/.."
out=${1:-bench/out/results.md}
mkdir -p bench/out
py=tools/.venv/bin/python
export OMP_WAIT_POLICY=PASSIVE   # torch and OpenBLAS share 2 cores politely

case ${MODELS:-synthetic} in *synthetic*)
  [ -d bench/out/synthetic-moe-512 ] ||
    $py tools/make_fixtures.py --bench bench/out/synthetic-moe-512 >&2 ;;
esac

# 16 English sentences (UDHR articles, paraphrased short)
sentences=bench/out/sentences.txt
$py - <<'PY' > "$sentences"
base = ["All human beings are born free and equal in dignity and rights.",
        "Everyone has the right to life, liberty and security of person.",
        "No one shall be held in slavery or servitude.",
        "Everyone has the right to recognition everywhere as a person before the law.",
        "All are equal before the law and are entitled without any discrimination to equal protection.",
        "No one shall be subjected to arbitrary arrest, detention or exile.",
        "Everyone has the right to freedom of movement and residence within the borders of each State.",
        "Everyone has the right to a nationality.",
        "Everyone has the right to own property alone as well as in association with others.",
        "Everyone has the right to freedom of thought, conscience and religion.",
        "Everyone has the right to freedom of opinion and expression.",
        "Everyone has the right to freedom of peaceful assembly and association.",
        "Everyone has the right to work, to free choice of employment.",
        "Everyone has the right to rest and leisure.",
        "Everyone has the right to education.",
        "Everyone has duties to the community."]
print("\n".join(base))
PY

{
  echo "| model | batch | impl | load s | encode tok/s | decode tok/s | peak RSS MB |"
  echo "|---|---|---|---|---|---|---|"
} > bench/out/table.md
# MODELS overrides the list, e.g. MODELS=resources/models/demo bench/run.sh
models=${MODELS:-"tests/fixtures/nllb-moe-tiny resources/models/demo bench/out/synthetic-moe-512"}
for model in $models; do
  [ -f "$model/config.json" ] || continue
  for batch in 1 16; do
    sc=$(build/bench/bench-engine "$model" "$sentences" "$batch" 32)
    hf=$($py bench/bench_hf.py "$model" "$sentences" "$batch" 32 2>/dev/null)
    $py - "$model" "$batch" "$sc" "$hf" >> bench/out/table.md <<'PY'
import json, sys, os
model, batch, sc, hf = sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), json.loads(sys.argv[4])
name = os.path.basename(model)
for r in (sc, hf):
    print(f"| {name} | {batch} | {r['impl']} | {r['load_s']:.3f} | {r['encode_tok_s']:.0f} | {r['decode_tok_s']:.0f} | {r['peak_rss_mb']:.0f} |")
print(f"| {name} | {batch} | **ratio secateur/transformers** | {sc['load_s']/hf['load_s']:.2f}x | "
      f"{sc['encode_tok_s']/hf['encode_tok_s']:.2f}x | {sc['decode_tok_s']/hf['decode_tok_s']:.2f}x | "
      f"{sc['peak_rss_mb']/hf['peak_rss_mb']:.2f}x |")
PY
  done
done
cp bench/out/table.md "$out"
cat "$out"
