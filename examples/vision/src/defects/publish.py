"""Publish the ONNX export that passed the gate to the bucket serving.storage_uri names, and register
it as a new version of the model in MLflow where the step has a tracking store."""

from __future__ import annotations

import argparse


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="defects.publish", description=__doc__)
    ap.add_argument("--model", required=True, help="the export's folder")
    ap.add_argument("--to", required=True, help="folder URI (gs://..., or a local folder)")
    ap.add_argument("--name", required=True, help="the registered model's name (the spec's model.name)")
    return ap


def main(argv: list[str] | None = None) -> None:
    from defects import storage, tracking

    args = parser().parse_args(argv)
    written = storage.copy_tree(args.model, args.to)
    print(f"publish: {len(written)} file(s) to {args.to}")
    if tracking.enabled():
        print(f"publish: {args.name} version {tracking.register(args.model, args.name)} in MLflow")


if __name__ == "__main__":
    main()
