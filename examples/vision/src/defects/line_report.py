"""One product line's evaluation as an HTML page, so a regression on one line is not averaged
away by the others."""

from __future__ import annotations

import argparse
import html


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="defects.line_report", description=__doc__.split("\n")[0])
    ap.add_argument("--product-line", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--test", required=True)
    ap.add_argument("--report", required=True)
    return ap


def main(argv: list[str] | None = None) -> None:
    from defects import data, scoring, storage

    args = parser().parse_args(argv)
    test = data.load(args.test)
    mine = test["lines"] == args.product_line
    line = html.escape(args.product_line)
    if not mine.any():
        body = f"<p>No test images of product line {line}.</p>"
        result = None
    else:
        result = scoring.metrics(test["labels"][mine], scoring.predict(args.model, test["images"][mine]))
        (tn, fp), (fn, tp) = result["confusion"]
        body = (f"<p>{int(mine.sum())} test images.</p><table>"
                f"<tr><th>recall</th><td>{result['recall']:.3f}</td></tr>"
                f"<tr><th>precision</th><td>{result['precision']:.3f}</td></tr>"
                f"<tr><th>F1</th><td>{result['f1']:.3f}</td></tr></table>"
                f"<table><tr><th></th><th>predicted ok</th><th>predicted defect</th></tr>"
                f"<tr><th>ok</th><td>{tn}</td><td>{fp}</td></tr>"
                f"<tr><th>defect</th><td>{fn}</td><td>{tp}</td></tr></table>")
    with storage.open_uri(args.report, "w") as fh:
        fh.write(f"<!doctype html><title>Defects: {line}</title><h1>Product line {line}</h1>{body}\n")
    print(f"line_report: {args.product_line}: " + (f"recall {result['recall']:.3f}" if result else "no images"))


if __name__ == "__main__":
    main()
