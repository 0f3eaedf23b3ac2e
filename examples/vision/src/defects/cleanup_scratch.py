"""The exit handler: delete this run's scratch files (older than a day) from the scratch bucket.

It runs whether the pipeline succeeded or failed, so it reads no step's output.
"""

from __future__ import annotations

import argparse
import os
import time


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="defects.cleanup_scratch", description=__doc__.split("\n\n")[0])
    ap.add_argument("--bucket", required=True, help="folder URI of scratch files")
    ap.add_argument("--older-than-hours", type=float, default=24)
    return ap


def main(argv: list[str] | None = None) -> None:
    args = parser().parse_args(argv)
    cutoff = time.time() - args.older_than_hours * 3600
    from defects import storage

    if storage.is_local(args.bucket):
        root = storage.local_path(args.bucket)
        old = [os.path.join(d, f) for d, _, files in os.walk(root) for f in files
               if os.path.getmtime(os.path.join(d, f)) < cutoff]
        for path in old:
            os.remove(path)
    else:
        import fsspec

        fs, root = fsspec.core.url_to_fs(args.bucket)
        old = [p for p, info in fs.find(root, detail=True).items()
               if _modified(info) is not None and _modified(info) < cutoff]
        if old:
            fs.rm(old)
    print(f"cleanup_scratch: removed {len(old)} file(s) from {args.bucket}")


def _modified(info: dict) -> float | None:
    """fsspec's listing names the modification time differently per store (gcsfs `updated`, s3fs `LastModified`)."""
    value = info.get("mtime") or info.get("updated") or info.get("LastModified")
    if value is None:
        return None
    if isinstance(value, (int, float)):
        return float(value)
    from datetime import datetime

    return (value if not isinstance(value, str) else datetime.fromisoformat(value.replace("Z", "+00:00"))).timestamp()


if __name__ == "__main__":
    main()
