"""A cache directory only the current user can write, or none.

lark's `cache=True` keeps the analysed LALR tables in a pickle named predictably
in the shared temp directory, and unpickles whatever it finds there: another
user who plants that file runs code as the next person who validates a spec.
The expression parser therefore caches only here, in `$XDG_CACHE_HOME/mlopsdsl`
(default `~/.cache/mlopsdsl`), and only when the file system says nobody else
can put a file there: the directory is a real directory owned by this user with
no group or other write permission, its parent cannot be renamed under it by
someone else, and the cache file, if present, is a regular file owned by this
user; every directory above it cannot be renamed by anyone else either. Anything
else, and the parser is built in memory (75 ms instead of 5).
`MLOPSDSL_NO_CACHE=1` turns the cache off.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

__all__ = ["private_file"]

_OTHERS_WRITE = stat.S_IWGRP | stat.S_IWOTH


def _base() -> Path | None:
    configured = os.environ.get("XDG_CACHE_HOME")
    if configured and os.path.isabs(configured):
        return Path(configured)
    try:
        return Path.home() / ".cache"
    except (RuntimeError, KeyError, OSError):
        return None


def _safe_dir(info: os.stat_result, uid: int) -> bool:
    return stat.S_ISDIR(info.st_mode) and info.st_uid == uid and not info.st_mode & _OTHERS_WRITE


def _safe_parent(info: os.stat_result, uid: int) -> bool:
    """Nobody else can rename our directory away and put theirs in its place."""
    if not stat.S_ISDIR(info.st_mode) or info.st_uid not in (uid, 0):
        return False
    return not info.st_mode & _OTHERS_WRITE or bool(info.st_mode & stat.S_ISVTX)


def private_file(name: str) -> str | None:
    """The path of `name` in the private cache directory (made 0700 if missing); None when unsafe or impossible."""
    if not hasattr(os, "geteuid") or os.environ.get("MLOPSDSL_NO_CACHE"):
        return None
    base = _base()
    if base is None:
        return None
    folder = base / "mlopsdsl"
    uid = os.geteuid()
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        if not _safe_dir(os.lstat(folder), uid):
            return None
        if not all(_safe_parent(os.lstat(parent), uid) for parent in folder.resolve().parents):
            return None
        path = folder / name
        try:
            info = os.lstat(path)
        except FileNotFoundError:
            return str(path)
        if stat.S_ISREG(info.st_mode) and info.st_uid == uid and not info.st_mode & _OTHERS_WRITE:
            return str(path)
    except OSError:  # a read-only home, no permission: no cache
        pass
    return None
