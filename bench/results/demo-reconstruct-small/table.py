import json, os, sys
B = sys.argv[1]
rows = []
print("| removed | method | mean chrF++ change | worst direction | mean spBLEU change |")
print("|---|---|---|---|---|")
for r in (50, 75, 90):
    for how, name in (("imp", "importance"), ("rec", "reconstruct"), ("sens", "reconstruct + sensitivity budgets")):
        p = os.path.join(B, f"eval-{how}-{r}.json")
        if not os.path.exists(p):
            continue
        d = json.load(open(p))["directions"]
        dc = [x["pruned"]["chrf++"] - x["full"]["chrf++"] for x in d]
        ds = [x["pruned"]["spbleu"] - x["full"]["spbleu"] for x in d]
        worst = min(zip(dc, [x["direction"] for x in d]))
        print(f"| {r} % | {name} | {sum(dc)/len(dc):+.2f} | {worst[0]:+.2f} ({worst[1]}) | {sum(ds)/len(ds):+.2f} |")
