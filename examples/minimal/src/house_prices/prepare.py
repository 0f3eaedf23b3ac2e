"""Write the training table: a small, seeded housing data set as CSV.

A real project would read its data source here; the example generates one so that it runs
anywhere without a download. Prices follow a known formula plus noise, so a good model is
measurably better than a poor one.
"""

import argparse
import csv
import os

import numpy as np

COLUMNS = ("area_m2", "rooms", "age_years", "distance_km", "price_k")


def generate(rows: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    area = rng.uniform(30, 250, rows)
    rooms = np.clip(np.round(area / 30 + rng.normal(0, 0.7, rows)), 1, 9)
    age = rng.uniform(0, 80, rows)
    distance = rng.gamma(2.0, 4.0, rows)
    price = 40 + 3.1 * area + 12 * rooms - 0.9 * age - 6.5 * distance + rng.normal(0, 25, rows)
    return np.column_stack([area, rooms, age, distance, np.maximum(price, 20)])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", required=True, help="where to write the CSV table")
    ap.add_argument("--rows", type=int, default=1500)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    table = generate(args.rows, args.seed)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(COLUMNS)
        writer.writerows([f"{v:.3f}" for v in row] for row in table)
    print(f"prepare: wrote {len(table)} rows to {args.out}")


if __name__ == "__main__":
    main()
