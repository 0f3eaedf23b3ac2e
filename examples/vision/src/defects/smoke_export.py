"""CI's smoke test of the export path: a freshly built model exports to ONNX and onnxruntime
gives the same logits as PyTorch (no data, no GPU needed with --cpu)."""

from __future__ import annotations

import argparse
import tempfile


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="defects.smoke_export", description=__doc__.split("\n")[0])
    ap.add_argument("--cpu", action="store_true", help="stay on the CPU even when a GPU is present")
    ap.add_argument("--backbone", default="tiny")
    ap.add_argument("--image-size", type=int, default=64)
    return ap


def main(argv: list[str] | None = None) -> None:
    import numpy as np
    import onnxruntime
    import torch

    from defects.export_onnx import MODEL_FILE
    from defects.model import build

    args = parser().parse_args(argv)
    torch.manual_seed(0)
    model = build(args.backbone, pretrained=False).eval()
    device = "cuda" if torch.cuda.is_available() and not args.cpu else "cpu"
    images = torch.randn(3, 3, args.image_size, args.image_size)
    with torch.no_grad():
        expected = model.to(device)(images.to(device)).cpu().numpy()
    with tempfile.TemporaryDirectory() as out:
        path = f"{out}/{MODEL_FILE}"
        torch.onnx.export(model.cpu(), (images[:2],), path, dynamo=True, input_names=["image"],
                          output_names=["logits"], dynamic_axes={"image": {0: "batch"}, "logits": {0: "batch"}})
        got = onnxruntime.InferenceSession(path).run(["logits"], {"image": images.numpy()})[0]
    np.testing.assert_allclose(got, expected, rtol=1e-3, atol=1e-4)
    print(f"smoke_export: {args.backbone} exports and matches on a batch of {len(images)}")


if __name__ == "__main__":
    main()
