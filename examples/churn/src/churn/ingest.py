"""Read the nightly export (every *.csv under --src, a directory or file:// URI) into one table."""

from __future__ import annotations

import argparse
from pathlib import Path
from urllib.parse import urlparse

import numpy as np

from churn import table


def local_path(uri: str) -> Path:
    parsed = urlparse(uri)
    if parsed.scheme in ("", "file"):
        return Path(parsed.path if parsed.scheme else uri)
    raise SystemExit(f"ingest: {uri}: this build reads local paths and file:// URIs; "
                     f"an {parsed.scheme}:// export needs the image's object-store client")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--src", required=True)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    src = local_path(args.src)
    files = sorted(src.glob("*.csv")) if src.is_dir() else [src]
    if not files or not files[0].exists():
        raise SystemExit(f"ingest: no CSV files at {args.src}")
    parts = []
    for f in files:
        part = table.read(f)
        part[table.EXPORT_DATE] = np.full(len(part["customer_id"]), f.stem.removeprefix("day-"))
        parts.append(part)
    merged = table.concat(parts)
    table.write(merged, args.out)
    print(f"ingest: {len(merged['customer_id'])} rows from {len(files)} file(s) -> {args.out}")


if __name__ == "__main__":
    main()
