"""The CRM export's columns and the CSV reading and writing every step shares."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import numpy as np

NUMERIC = ("tenure", "monthly_charges", "total_charges", "support_calls")
CONTRACTS = ("month-to-month", "one-year", "two-year")
COLUMNS = ("customer_id", *NUMERIC, "contract", "signup_date", "churned")
LABEL = "churned"
EXPORT_DATE = "export_date"  # added by ingest: which nightly file a row came from


def read(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """One CSV file -> column name -> array (numbers as float, text as str)."""
    with open(path, newline="") as fh:
        rows = list(csv.DictReader(fh))
    if not rows:
        raise SystemExit(f"{path}: no rows")
    missing = [c for c in COLUMNS if c not in rows[0]]
    if missing:
        raise SystemExit(f"{path}: missing columns {missing}")
    table = {}
    for column in (*COLUMNS, *([EXPORT_DATE] if EXPORT_DATE in rows[0] else [])):
        values = [row[column] for row in rows]
        if column in NUMERIC or column == LABEL:
            try:
                table[column] = np.array([float(v) if v != "" else np.nan for v in values])
            except ValueError as exc:
                raise SystemExit(f"{path}: column {column!r}: {exc}") from None
        else:
            table[column] = np.array(values)
    return table


def write(table: dict[str, np.ndarray], path: str | os.PathLike) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    names = list(table)
    with open(path, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(names)
        for i in range(len(table[names[0]])):
            writer.writerow([_cell(table[n][i]) for n in names])


def _cell(value) -> str:
    if isinstance(value, (float, np.floating)):
        return "" if np.isnan(value) else f"{value:.6g}"
    return str(value)


def concat(tables: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    return {c: np.concatenate([t[c] for t in tables]) for c in tables[0]}


def take(table: dict[str, np.ndarray], rows: np.ndarray) -> dict[str, np.ndarray]:
    return {c: v[rows] for c, v in table.items()}


def matrix(table: dict[str, np.ndarray]) -> tuple[np.ndarray, list[str]]:
    """The model's features: the numeric columns and the contract one-hot encoded."""
    columns = [table[c].astype(float) for c in NUMERIC]
    columns += [(table["contract"] == kind).astype(float) for kind in CONTRACTS]
    return np.column_stack(columns), [*NUMERIC, *(f"contract={k}" for k in CONTRACTS)]
