"""Join the images with their labels, resize, and split into train / val / test.

The split is by a hash of the image id (stable across reruns and new images: an image never
moves from test to train), 70 / 15 / 15.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import os

import numpy as np

from defects import data, storage


def split_of(image_id: str) -> str:
    bucket = int(hashlib.sha256(image_id.encode()).hexdigest()[:8], 16) % 100
    return "train" if bucket < 70 else "val" if bucket < 85 else "test"


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="defects.prepare", description=__doc__.split("\n\n")[0])
    ap.add_argument("--images", required=True, help="folder (path or URI) of <image_id>.png/.jpg files")
    ap.add_argument("--labels", required=True, help="CSV: image_id, product_line, defect, captured_at")
    ap.add_argument("--image-size", type=int, required=True)
    ap.add_argument("--train", required=True)
    ap.add_argument("--val", required=True)
    ap.add_argument("--test", required=True)
    ap.add_argument("--count", required=True, help="file to write the number of images to")
    return ap


def main(argv: list[str] | None = None) -> None:
    from PIL import Image

    args = parser().parse_args(argv)
    with storage.open_uri(args.labels, "rb") as fh:
        labels = {row["image_id"]: row for row in csv.DictReader(io.TextIOWrapper(fh, encoding="utf-8"))}
    splits: dict[str, tuple[list, list, list]] = {name: ([], [], []) for name in ("train", "val", "test")}
    for uri in storage.list_files(args.images, (".png", ".jpg", ".jpeg")):
        image_id = os.path.splitext(os.path.basename(uri))[0]
        row = labels.get(image_id)
        if row is None:
            continue  # not labelled yet
        with storage.open_uri(uri, "rb") as fh:
            image = Image.open(fh).convert("RGB").resize((args.image_size, args.image_size), Image.BILINEAR)
        images, targets, lines = splits[split_of(image_id)]
        images.append(np.asarray(image).transpose(2, 0, 1))
        targets.append(1 if row["defect"].strip().lower() in ("true", "1", "yes") else 0)
        lines.append(row["product_line"])
    count = sum(len(images) for images, _, _ in splits.values())
    if not all(images for images, _, _ in splits.values()):
        raise SystemExit(f"prepare: {count} labelled images are too few for three splits")
    for name, (images, targets, lines) in splits.items():
        data.save(getattr(args, name), np.stack(images), np.array(targets, np.int64), np.array(lines))
    with storage.open_uri(args.count, "w") as fh:
        fh.write(str(count))
    print("prepare: " + ", ".join(f"{name} {len(s[0])} ({sum(s[1])} defects)" for name, s in splits.items()))


if __name__ == "__main__":
    main()
