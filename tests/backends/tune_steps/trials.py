"""The fan-in over a search: reads every trial (JSON) and prints a leaderboard."""
import argparse
import json

parser = argparse.ArgumentParser()
parser.add_argument("--trials", required=True)
args = parser.parse_args()
trials = json.loads(args.trials)
done = [t for t in trials if t["state"] == "COMPLETE"]
print(f"trials: {len(trials)}, complete: {len(done)}")
for t in sorted(done, key=lambda t: -t["value"])[:3]:
    print(f"  r2={t['value']:.4f} {t['params']}")
