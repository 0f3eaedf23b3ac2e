"""The one place that writes generated files: all or nothing, and byte-for-byte stable.

Every file is rendered in memory before this module is called. `write` builds
the complete new output in a temporary directory *beside* `--out` (same
filesystem, so renames are atomic), fsyncs it, then swaps it in: with Linux
`renameat2(RENAME_EXCHANGE)` the two directories trade places in one step;
elsewhere the old one is renamed aside and the new one renamed in (a reader can
then see a missing directory for an instant, never a half-written one). The old
output is deleted only after the swap. Any failure before the swap leaves the
previous output untouched.

A directory made by mlopsdsl holds a marker, `.mlopsdsl-output`, listing the
files written (sorted JSON, no timestamps). Replacing a non-empty directory
without that marker is refused unless `force=True`: it may be a source folder.
"""

from __future__ import annotations

import ctypes
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from mlopsdsl.diagnostics import Diagnostic, codes
from mlopsdsl.source import Span

__all__ = ["MARKER", "Difference", "OutputError", "check", "marker_bytes", "write"]

MARKER = ".mlopsdsl-output"
FILE_MODE, DIR_MODE = 0o644, 0o755


class OutputError(Exception):
    """The output could not be written (permissions, disk full): an I/O error, exit 2."""


@dataclass(frozen=True, order=True)
class Difference:
    path: str
    status: str  # "added" | "removed" | "changed", from the point of view of a compile


def marker_bytes(paths) -> bytes:
    return (json.dumps(sorted(paths), indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def _with_marker(files: dict[str, bytes]) -> dict[str, bytes]:
    for path in files:
        if path == MARKER or path.startswith("/") or "\\" in path or ".." in path.split("/") or not path:
            raise ValueError(f"not a path inside the output directory: {path!r}")
    return {**files, MARKER: marker_bytes(files)}


def _existing(out: Path) -> dict[str, Path]:
    found: dict[str, Path] = {}
    for root, dirs, names in os.walk(out):
        dirs.sort()
        for name in names:
            full = Path(root, name)
            found[full.relative_to(out).as_posix()] = full
    return found


def check(out_dir: str | os.PathLike[str], files: dict[str, bytes]) -> list[Difference]:
    """What `write(out_dir, files)` would change, sorted by path; empty when identical."""
    expected = _with_marker(files)
    out = Path(out_dir)
    present = _existing(out) if out.is_dir() else {}
    diffs = [Difference(p, "removed") for p in present if p not in expected]
    for path, data in expected.items():
        if path not in present:
            diffs.append(Difference(path, "added"))
        elif present[path].read_bytes() != data:
            diffs.append(Difference(path, "changed"))
    return sorted(diffs)


def _refusal(out: Path, force: bool) -> str | None:
    resolved = out.resolve()
    if resolved == Path(resolved.anchor) or resolved == Path.home().resolve() or \
            Path.cwd().resolve().is_relative_to(resolved):
        return f"refusing to replace '{out}': it is the filesystem root, the home directory or holds the working directory"
    if out.exists() and not out.is_dir():
        return f"'{out}' exists and is not a directory"
    if force or not out.is_dir() or (out / MARKER).is_file() or not any(out.iterdir()):
        return None
    return f"'{out}' is not empty and was not written by mlopsdsl (no {MARKER} file)"


def write(out_dir: str | os.PathLike[str], files: dict[str, bytes], *, force: bool = False) -> list[Diagnostic]:
    """Replace `out_dir` with exactly `files` (+ the marker). Returns MLD705 when refused.

    Raises `OutputError` when the filesystem fails; the previous output is then intact.
    """
    everything = _with_marker(files)
    out = Path(out_dir)
    if out.is_symlink():  # swap the directory the link points at, keep the user's link
        out = Path(os.path.realpath(out))
    refusal = _refusal(out, force)
    if refusal:
        return [Diagnostic(codes.OUTPUT_CONFLICT, refusal, Span.point(str(out_dir)),
                           hint="choose an empty or new directory, or pass --force to replace it")]
    parent = out.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.new-", dir=parent))
    except OSError as exc:
        raise OutputError(f"cannot create a directory beside '{out}': {exc.strerror or exc}") from exc
    try:
        _populate(staging, everything)
        _swap(staging, out)
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise OutputError(f"cannot write '{out}': {exc.strerror or exc}; the previous output is unchanged") from exc
    return []


def _populate(root: Path, files: dict[str, bytes]) -> None:
    os.chmod(root, DIR_MODE)  # mkdtemp makes 0700
    made: set[Path] = {root}
    for rel in sorted(files):
        target = root / rel
        for directory in reversed(target.parents):
            if directory not in made and root in directory.parents:
                directory.mkdir(exist_ok=True)
                os.chmod(directory, DIR_MODE)  # explicit: the umask must not change the output
                made.add(directory)
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
        try:
            os.fchmod(fd, FILE_MODE)
            view = memoryview(files[rel])
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
        finally:
            os.close(fd)
    for directory in sorted(made, key=lambda p: len(p.parts), reverse=True):
        _fsync_dir(directory)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _swap(staging: Path, out: Path) -> None:
    if not out.exists():
        os.rename(staging, out)
    elif _exchange(staging, out):
        shutil.rmtree(staging)  # now holds the previous output
    else:
        aside = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
        os.rename(out, aside)  # onto an empty directory: POSIX replaces it
        try:
            os.rename(staging, out)
        except OSError:
            os.rename(aside, out)
            raise
        shutil.rmtree(aside, ignore_errors=True)
    _fsync_dir(out.parent)


_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _exchange(a: Path, b: Path) -> bool:
    """Atomically trade two paths (Linux renameat2); False where the system cannot."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)  # the C library the interpreter runs on
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    result = renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    return result == 0
