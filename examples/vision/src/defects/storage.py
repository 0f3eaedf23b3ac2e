"""Paths and URIs alike: a local path (what kfp.local passes) or `file://` is opened directly;
any other scheme (`gs://`, `s3://`: what a cluster's artifact store passes, and what the
distributed workers read, being pods of their own) through fsspec, which the image provides
with its filesystem (gcsfs, s3fs)."""

from __future__ import annotations

import os
from typing import IO
from urllib.parse import urlparse


def is_local(uri: str) -> bool:
    return urlparse(uri).scheme in ("", "file")


def local_path(uri: str) -> str:
    return urlparse(uri).path if uri.startswith("file://") else uri


def open_uri(uri: str, mode: str = "rb") -> IO:
    if is_local(uri):
        path = local_path(uri)
        if "w" in mode and os.path.dirname(path):
            os.makedirs(os.path.dirname(path), exist_ok=True)
        return open(path, mode)
    import fsspec

    return fsspec.open(uri, mode).open()


def exists(uri: str) -> bool:
    if is_local(uri):
        return os.path.exists(local_path(uri))
    import fsspec

    fs, path = fsspec.core.url_to_fs(uri)
    return fs.exists(path)


def list_files(uri: str, suffixes: tuple[str, ...]) -> list[str]:
    """The files under a folder URI whose names end with one of SUFFIXES, sorted."""
    if is_local(uri):
        root = local_path(uri)
        return sorted(os.path.join(d, f) for d, _, files in os.walk(root) for f in files if f.endswith(suffixes))
    import fsspec

    fs, path = fsspec.core.url_to_fs(uri)
    protocol = uri.split("://", 1)[0]
    return sorted(f"{protocol}://{p}" for p in fs.find(path) if p.endswith(suffixes))


def copy_tree(src: str, dst: str) -> list[str]:
    """Copy every file under the local folder (or file) SRC to the folder URI DST; the URIs written."""
    files = [src] if os.path.isfile(src) else sorted(
        os.path.join(d, f) for d, _, names in os.walk(src) for f in names)
    written = []
    for path in files:
        target = dst.rstrip("/") + "/" + (os.path.basename(path) if path == src else os.path.relpath(path, src))
        with open(path, "rb") as fh, open_uri(target, "wb") as out:
            out.write(fh.read())
        written.append(target)
    return written
