"""Split the validated table into train and test sets (stratified on the label, seeded)."""

from __future__ import annotations

import argparse

import numpy as np

from churn import table


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--data", required=True)
    ap.add_argument("--train", required=True)
    ap.add_argument("--test", required=True)
    ap.add_argument("--test-fraction", type=float, default=0.2)
    args = ap.parse_args()
    data = table.read(args.data)
    rng = np.random.default_rng(0)
    test = np.zeros(len(data[table.LABEL]), dtype=bool)
    for label in (0.0, 1.0):
        rows = np.flatnonzero(data[table.LABEL] == label)
        test[rng.choice(rows, size=int(round(len(rows) * args.test_fraction)), replace=False)] = True
    table.write(table.take(data, ~test), args.train)
    table.write(table.take(data, test), args.test)
    print(f"features: {int((~test).sum())} train rows, {int(test.sum())} test rows")


if __name__ == "__main__":
    main()
