"""Export the trained checkpoint to ONNX, the served artifact: `<out>/model.onnx`, input `image`
(N x 3 x S x S float32, normalized as in training), output `logits` (N x 2), the batch dimension
dynamic. torch.onnx's exporter (torch.export-based since PyTorch 2.9; it needs onnxscript)."""

from __future__ import annotations

import argparse
import os

MODEL_FILE = "model.onnx"


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="defects.export_onnx", description=__doc__.split("\n")[0])
    ap.add_argument("--checkpoint", required=True)
    ap.add_argument("--image-size", type=int, required=True)
    ap.add_argument("--opset", type=int, default=18)
    ap.add_argument("--out", required=True, help="a folder: model.onnx is written in it")
    return ap


def main(argv: list[str] | None = None) -> None:
    import torch

    from defects import storage
    from defects.model import build

    args = parser().parse_args(argv)
    with storage.open_uri(args.checkpoint, "rb") as fh:
        saved = torch.load(fh, map_location="cpu", weights_only=True)
    model = build(saved["backbone"], pretrained=False)
    model.load_state_dict(saved["model"])
    model.eval()
    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, MODEL_FILE)
    example = torch.zeros(2, 3, args.image_size, args.image_size)
    torch.onnx.export(model, (example,), path, dynamo=True, opset_version=args.opset, input_names=["image"],
                      output_names=["logits"], dynamic_axes={"image": {0: "batch"}, "logits": {0: "batch"}})
    print(f"export_onnx: {saved['backbone']} after epoch {saved['epoch'] + 1} "
          f"(val accuracy {saved['val_accuracy']:.4f}) -> {path}")


if __name__ == "__main__":
    main()
