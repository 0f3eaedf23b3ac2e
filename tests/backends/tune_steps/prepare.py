"""A small regression data set: y = sin(3x) + noise, 200 points, fixed seed (CSV)."""
import argparse
import math
import os
import random

parser = argparse.ArgumentParser()
parser.add_argument("--out", required=True)
args = parser.parse_args()
rng = random.Random(7)
os.makedirs(os.path.dirname(args.out) or ".", exist_ok=True)
with open(args.out, "w") as fh:
    for _ in range(200):
        x = rng.uniform(-1, 1)
        fh.write(f"{x},{math.sin(3 * x) + rng.gauss(0, 0.1)}\n")
