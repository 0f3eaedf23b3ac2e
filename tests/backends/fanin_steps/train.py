"""One item of the sweep: a stand-in score from its hyperparameters, as a metrics JSON and an output value."""
import argparse, json, os
p = argparse.ArgumentParser()
p.add_argument("--lr", type=float); p.add_argument("--depth", type=int)
p.add_argument("--metrics"); p.add_argument("--score")
a = p.parse_args()
auc = round(0.9 - abs(a.lr - 0.05) - 0.01 * abs(a.depth - 5), 4)
os.makedirs(os.path.dirname(a.metrics), exist_ok=True)
json.dump({"auc": auc}, open(a.metrics, "w"))
os.makedirs(os.path.dirname(a.score), exist_ok=True)
open(a.score, "w").write(str(auc))
