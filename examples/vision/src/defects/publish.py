"""Publish the ONNX export that passed the gate to the bucket serving.storage_uri names."""

from __future__ import annotations

import argparse


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="defects.publish", description=__doc__)
    ap.add_argument("--model", required=True, help="the export's folder")
    ap.add_argument("--to", required=True, help="folder URI (gs://..., or a local folder)")
    return ap


def main(argv: list[str] | None = None) -> None:
    from defects import storage

    args = parser().parse_args(argv)
    written = storage.copy_tree(args.model, args.to)
    print(f"publish: {len(written)} file(s) to {args.to}")


if __name__ == "__main__":
    main()
