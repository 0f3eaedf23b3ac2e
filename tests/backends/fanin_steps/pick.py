"""Fan-in step: reads the list of every item's score (a JSON list, as KFP renders a LIST) and picks the best."""
import argparse, json, os
p = argparse.ArgumentParser()
p.add_argument("--scores"); p.add_argument("--best")
a = p.parse_args()
scores = json.loads(a.scores)
print("scores", scores)
assert len(scores) == 3, f"expected every item's score, got {scores}"
best = max(range(len(scores)), key=scores.__getitem__)
os.makedirs(os.path.dirname(a.best), exist_ok=True)
open(a.best, "w").write(str(best))
print("best", best)
