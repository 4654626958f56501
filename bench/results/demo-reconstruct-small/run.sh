#!/bin/sh
# Small measurement (demo model, 8 directions, 20 held-out strings each, greedy)
cd "$(dirname "$0")/../../.."  # the repository root
B=${B:-/tmp/reco-bench} M=resources/models/demo CLI=build/app/secateur-cli
P=eng_Latn-fra_Latn,fra_Latn-eng_Latn,eng_Latn-deu_Latn,deu_Latn-eng_Latn,eng_Latn-rus_Cyrl,rus_Cyrl-eng_Latn,eng_Latn-zho_Hans,zho_Hans-eng_Latn
for r in 50 75 90; do
  for how in imp rec sens; do
    case $how in
      imp) extra="" ;;
      rec) extra="--algo reconstruct" ;;
      sens) extra="--algo reconstruct --layer-budgets sensitivity" ;;
    esac
    [ -f $B/$how-$r.json ] || $CLI select --stats $B/s.json --ratio 0.$r --enc-dec 1:1 $extra -m $M -o $B/$how-$r.json > $B/select-$how-$r.txt 2>&1
    [ -f $B/eval-$how-$r.json ] || $CLI evaluate -m $M --pairs $P --limit 20 --beam 1 --experts $B/$how-$r.json -o $B/eval-$how-$r.json > $B/eval-$how-$r.txt 2>&1
  done
done
echo finished > $B/done
