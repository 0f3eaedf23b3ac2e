"""Generated camera images, so the pipeline runs without the factory's: four product lines with
their own texture, and a dark scratch on the defective ones.

    python -m defects.generate data/ --count 240 --size 64
writes data/images/<image_id>.png and data/labels.csv (the columns of the spec's `labels` source).
"""

from __future__ import annotations

import argparse
import csv
import os
from datetime import datetime, timedelta, timezone

import numpy as np

LINES = ("pcb", "casting", "textile", "glass")
BASES = {"pcb": (40, 110, 60), "casting": (120, 120, 125), "textile": (150, 90, 70), "glass": (200, 205, 210)}


def texture(line: str, size: int, rng: np.random.Generator) -> np.ndarray:
    image = np.empty((size, size, 3), np.float32)
    image[:] = BASES[line]
    y, x = np.mgrid[:size, :size]
    if line == "pcb":
        image[(x % 8 == 0) | (y % 8 == 0)] += 60  # traces
    elif line == "textile":
        image += 25 * np.sin(x / 2.0)[..., None]  # weave
    return image + rng.normal(0, 12 if line == "casting" else 5, image.shape)


def scratch(image: np.ndarray, rng: np.random.Generator) -> None:
    size = image.shape[0]
    y0, x0 = rng.uniform(0.2, 0.8, 2) * size
    angle = rng.uniform(0, np.pi)
    for t in np.linspace(-0.25, 0.25, 4 * size) * size:
        y, x = int(y0 + t * np.sin(angle)), int(x0 + t * np.cos(angle))
        image[max(y - 1, 0):y + 2, max(x - 1, 0):x + 2] *= 0.25


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="defects.generate", description=__doc__.split("\n\n")[0])
    ap.add_argument("out")
    ap.add_argument("--count", type=int, default=240)
    ap.add_argument("--size", type=int, default=64)
    ap.add_argument("--defect-rate", type=float, default=0.4)
    ap.add_argument("--seed", type=int, default=0)
    return ap


def main(argv: list[str] | None = None) -> None:
    from PIL import Image

    args = parser().parse_args(argv)
    rng = np.random.default_rng(args.seed)
    os.makedirs(os.path.join(args.out, "images"), exist_ok=True)
    start = datetime(2026, 1, 5, tzinfo=timezone.utc)
    with open(os.path.join(args.out, "labels.csv"), "w", newline="", encoding="utf-8") as fh:
        rows = csv.writer(fh)
        rows.writerow(["image_id", "product_line", "defect", "captured_at"])
        for i in range(args.count):
            line, defect = LINES[i % len(LINES)], bool(rng.random() < args.defect_rate)
            image = texture(line, args.size, rng)
            if defect:
                scratch(image, rng)
            image_id = f"img-{i:05d}"
            Image.fromarray(np.clip(image, 0, 255).astype(np.uint8)).save(
                os.path.join(args.out, "images", image_id + ".png"))
            rows.writerow([image_id, line, str(defect).lower(), (start + timedelta(minutes=i)).isoformat()])
    print(f"generate: {args.count} images of {args.size}px in {args.out}")


if __name__ == "__main__":
    main()
