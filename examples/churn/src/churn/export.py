"""Write a CRM export like the nightly one the pipeline ingests: one CSV file per day.

The example has no CRM, so this makes one: customers on month-to-month contracts with short
tenure and many support calls churn more often, which is what the model has to learn.
`--shift` moves the distribution (higher charges, shorter tenure) to show drift.

    python -m churn.export data/raw --days 3
"""

from __future__ import annotations

import argparse
from datetime import date, timedelta
from pathlib import Path

import numpy as np

from churn import table


def customers(rows: int, seed: int, shift: float = 0.0, start: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    contract = rng.choice(table.CONTRACTS, size=rows, p=[0.55, 0.25, 0.20])
    tenure = np.round(rng.gamma(2.0, 14.0 * (1 - 0.5 * shift), rows))
    monthly = np.round(rng.normal(65 + 25 * shift, 20, rows).clip(15, 150), 2)
    calls = rng.poisson(1.5 + 2 * shift, rows).astype(float)
    total = np.round(monthly * np.maximum(tenure, 1), 2)
    logit = 3.0 * (-1.2 + 1.6 * (contract == "month-to-month") - 0.05 * tenure + 0.45 * calls
             + 0.015 * (monthly - 65) - 0.9 * (contract == "two-year"))
    churned = (rng.random(rows) < 1 / (1 + np.exp(-logit))).astype(float)
    signup = [str(date(2024, 1, 1) - timedelta(days=int(30 * t))) for t in tenure]
    return {"customer_id": np.array([f"c{start + i:06d}" for i in range(rows)]), "tenure": tenure,
            "monthly_charges": monthly, "total_charges": total, "support_calls": calls,
            "contract": contract, "signup_date": np.array(signup), "churned": churned}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out", help="directory to write day-YYYY-MM-DD.csv files into")
    ap.add_argument("--days", type=int, default=3)
    ap.add_argument("--rows", type=int, default=800, help="customers per day")
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--shift", type=float, default=0.0, help="0 = the training distribution, 1 = drifted")
    args = ap.parse_args()
    out = Path(args.out)
    for day in range(args.days):
        name = out / f"day-{date(2024, 6, 1) + timedelta(days=day)}.csv"
        table.write(customers(args.rows, args.seed + day, args.shift, start=day * args.rows), name)
        print(f"export: wrote {args.rows} customers to {name}")


if __name__ == "__main__":
    main()
