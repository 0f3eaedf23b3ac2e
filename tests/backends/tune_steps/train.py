"""Polynomial ridge regression, fitted by the normal equations; validated on a held-out fifth.

Writes the model (its coefficients, JSON) and the validation metrics ({"r2": ..., "rmse": ...}).
"""
import argparse
import json
import math
import os


def features(x, degree):
    return [x ** k for k in range(degree + 1)]


def solve(a, b):
    n = len(b)
    m = [row[:] + [b[i]] for i, row in enumerate(a)]
    for col in range(n):
        pivot = max(range(col, n), key=lambda r: abs(m[r][col]))
        m[col], m[pivot] = m[pivot], m[col]
        for r in range(n):
            if r != col:
                f = m[r][col] / m[col][col]
                m[r] = [vr - f * vc for vr, vc in zip(m[r], m[col])]
    return [m[i][n] / m[i][i] for i in range(n)]


def fit(rows, degree, alpha):
    xs = [features(x, degree) for x, _ in rows]
    n = degree + 1
    a = [[sum(f[i] * f[j] for f in xs) + (alpha if i == j and i > 0 else 0.0) for j in range(n)] for i in range(n)]
    b = [sum(f[i] * y for f, (_, y) in zip(xs, rows)) for i in range(n)]
    return solve(a, b)


def predict(coef, x):
    return sum(c * v for c, v in zip(coef, features(x, len(coef) - 1)))


parser = argparse.ArgumentParser()
parser.add_argument("--data", required=True)
parser.add_argument("--alpha", type=float, required=True)
parser.add_argument("--degree", type=int, required=True)
parser.add_argument("--model", required=True)
parser.add_argument("--metrics", required=True)
args = parser.parse_args()
rows = [tuple(map(float, line.split(","))) for line in open(args.data) if line.strip()]
train, valid = rows[:160], rows[160:]
coef = fit(train, args.degree, args.alpha)
errors = [(y - predict(coef, x)) ** 2 for x, y in valid]
mean = sum(y for _, y in valid) / len(valid)
r2 = 1 - sum(errors) / sum((y - mean) ** 2 for _, y in valid)
for path in (args.model, args.metrics):
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
json.dump({"degree": args.degree, "alpha": args.alpha, "coef": coef}, open(args.model, "w"))
json.dump({"r2": round(r2, 6), "rmse": round(math.sqrt(sum(errors) / len(errors)), 6)}, open(args.metrics, "w"))
print(f"degree={args.degree} alpha={args.alpha} r2={r2:.4f}")
