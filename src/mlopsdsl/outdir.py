"""Which directory `--out` may replace, and what an earlier run left beside it.

The writer (`writer.py`) replaces a whole directory. Before it does, this module
decides whether that directory may go at all: never a directory that holds (or
is) an input of the compile, the home directory, the file system root or the
working directory, `--force` or not; never, without `--force`, a directory with
files mlopsdsl did not write. It also finds the staging folders of runs that were
killed (`.NAME.new-XXXXXXXX`, `.NAME.old-XXXXXXXX`) so the next run removes them.
"""

from __future__ import annotations

import errno
import json
import os
import re
import stat
from pathlib import Path
from typing import Iterable

from mlopsdsl.files import read_regular

__all__ = ["MARKER", "Refusal", "absolute_refusal", "listed_files", "present_files", "stale_staging",
           "staging_prefix"]

MARKER = ".mlopsdsl-output"
MAX_SHOWN = 10  # file names listed in a refusal
_MARKER_LIMIT = 16 * 1024 * 1024


class Refusal(Exception):
    """`--out` must not be replaced. `forceable`: `--force` overrides it (files mlopsdsl did not write)."""

    def __init__(self, message: str, *, forceable: bool = False) -> None:
        super().__init__(message)
        self.forceable = forceable


def _within(path: Path, directory: Path) -> bool:
    return path == directory or directory in path.parents


def _home() -> Path | None:
    try:
        return Path.home().resolve()
    except (RuntimeError, KeyError, OSError):  # no HOME and no passwd entry
        return None


def absolute_refusal(out: Path, inputs: Iterable[str]) -> str | None:
    """Why `out` (resolved) may never be replaced, `--force` or not; None when it may."""
    if out == Path(out.anchor):
        return f"refusing to replace '{out}': it is the file system root"
    home = _home()
    if home is not None and _within(home, out):
        return f"refusing to replace '{out}': it " + ("is" if home == out else "holds") + " the home directory"
    for name in inputs:
        try:
            source = Path(name).resolve()
        except (OSError, RuntimeError):
            continue
        if _within(source, out):
            return f"refusing to replace '{out}': it " + ("is" if source == out else "holds") + \
                f" '{name}', an input of this compile"
    if _within(Path.cwd().resolve(), out):
        return f"refusing to replace '{out}': it is or holds the working directory"
    return None


def present_files(out: Path) -> dict[str, os.stat_result]:
    """Every entry under `out` that is not a directory (files, links, FIFOs...), by relative POSIX path."""
    found: dict[str, os.stat_result] = {}

    def fail(exc: OSError) -> None:
        raise exc

    for root, dirs, names in os.walk(out, onerror=fail):  # does not follow links to directories
        dirs.sort()
        for name in names + [d for d in dirs if os.path.islink(os.path.join(root, d))]:
            full = os.path.join(root, name)
            found[Path(full).relative_to(out).as_posix()] = os.lstat(full)
    return found


def listed_files(out: Path) -> set[str] | None:
    """The files the marker says an earlier compile wrote; None when there is no marker."""
    try:
        raw = read_regular(out / MARKER, _MARKER_LIMIT, follow=False)
    except FileNotFoundError:
        return None
    except OSError as exc:
        if exc.errno in (errno.ENOENT, errno.ENOTDIR):
            return None
        raw = b""  # a marker that is not a readable file lists nothing
    try:
        listed = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return set()
    return {p for p in listed if isinstance(p, str)} if isinstance(listed, list) else set()


def foreign_files(present: dict[str, os.stat_result], listed: set[str] | None) -> list[str]:
    """Files in `--out` that no earlier compile wrote (all of them when there is no marker)."""
    return sorted(p for p, info in present.items()
                  if p != MARKER and (listed is None or p not in listed or not stat.S_ISREG(info.st_mode)))


def describe(paths: list[str]) -> str:
    shown = ", ".join(paths[:MAX_SHOWN])
    return shown + (f" and {len(paths) - MAX_SHOWN} more" if len(paths) > MAX_SHOWN else "")


# A file name is at most 255 bytes on the file systems we meet; the staging names add 14.
_NAME_ROOM = 200


def staging_prefix(out: Path, kind: str) -> str:
    """`.NAME.new-` or `.NAME.old-` (NAME cut short when long): beside `out`, hidden, recognisable."""
    return f".{out.name[:_NAME_ROOM]}.{kind}-"


def stale_staging(out: Path) -> list[Path]:
    """Staging folders of earlier runs into `out` that were killed before they cleaned up."""
    pattern = re.compile(re.escape(f".{out.name[:_NAME_ROOM]}.") + r"(new|old)-[a-z0-9_]{8}")
    found = []
    try:
        entries = list(os.scandir(out.parent))
    except OSError:
        return []
    uid = os.getuid() if hasattr(os, "getuid") else None
    for entry in entries:
        if pattern.fullmatch(entry.name) and entry.is_dir(follow_symlinks=False) and \
                (uid is None or entry.stat(follow_symlinks=False).st_uid == uid):  # made by mkdtemp: ours
            found.append(Path(entry.path))
    return sorted(found)
