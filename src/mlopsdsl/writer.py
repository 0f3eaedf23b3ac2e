"""The one place that writes generated files: all or nothing, and byte-for-byte stable.

Every file is rendered in memory before this module is called. `write` builds
the complete new output in a temporary directory *beside* `--out` (same
filesystem, so renames are atomic), fsyncs it, then swaps it in: with Linux
`renameat2(RENAME_EXCHANGE)` the two directories trade places in one step;
elsewhere the old one is renamed aside and the new one renamed in (a reader can
then see a missing directory for an instant, never a half-written one). The old
output is deleted only after the swap. Any failure before the swap leaves the
previous output untouched; a process killed at any point leaves the old output
or the new one, and staging folders that the next run into the same `--out`
removes (runs into one parent directory take turns, under a lock).

A directory made by mlopsdsl holds a marker, `.mlopsdsl-output`, listing the
files written (sorted JSON, no timestamps). What may be replaced is decided in
`outdir.py`: never an input's folder, home or root; without `force`, nothing
holding files the previous compile did not write. With `scope` (a subset of the
targets), only those targets' folders and the files they write now are
replaced; the rest of the old output is kept as it was.
"""

from __future__ import annotations

import contextlib
import ctypes
import difflib
import json
import os
import shutil
import stat
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Collection, Iterable, Iterator

from mlopsdsl import outdir
from mlopsdsl.diagnostics import Diagnostic, codes
from mlopsdsl.files import read_regular
from mlopsdsl.outdir import MARKER, Refusal
from mlopsdsl.source import Span

__all__ = ["MARKER", "Difference", "OutputError", "check", "marker_bytes", "write"]

FILE_MODE, DIR_MODE = 0o644, 0o755
DIFF_LINES = 40  # lines of unified diff kept per changed file for `--check`
_COMPARE_LIMIT = 8 * 1024 * 1024  # a file in `--out` larger than this is "changed" without a diff


class OutputError(Exception):
    """The output could not be written (permissions, disk full): an I/O error, exit 2."""


@dataclass(frozen=True, order=True)
class Difference:
    path: str
    status: str  # "added" | "removed" | "changed", from the point of view of a compile
    detail: str = field(default="", compare=False)  # a bounded unified diff, or why the file was not compared


def marker_bytes(paths: Iterable[str]) -> bytes:
    return (json.dumps(sorted(paths), indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def _checked(files: dict[str, bytes]) -> dict[str, bytes]:
    for path in files:
        if path == MARKER or path.startswith("/") or "\\" in path or ".." in path.split("/") or not path:
            raise ValueError(f"not a path inside the output directory: {path!r}")
    return files


def _in_scope(path: str, scope: Collection[str] | None, files: dict[str, bytes]) -> bool:
    return scope is None or path in files or path.split("/", 1)[0] in scope


@dataclass
class _Plan:
    files: dict[str, bytes]  # written from memory, the marker included
    kept: dict[str, Path]  # copied from the previous output (other targets' files under --target)


def _plan(out: Path, files: dict[str, bytes], scope: Collection[str] | None, force: bool) -> _Plan:
    """What the new output holds; raises Refusal when `out` must not be replaced (see outdir)."""
    if not out.exists() and not out.is_symlink():
        return _Plan({**files, MARKER: marker_bytes(files)}, {})
    if not out.is_dir():
        raise Refusal(f"'{out}' exists and is not a directory")
    present = outdir.present_files(out)
    listed = outdir.listed_files(out)
    replaced = {p: info for p, info in present.items() if _in_scope(p, scope, files)}
    foreign = outdir.foreign_files(replaced, listed)
    kept = {p: out / p for p, info in present.items() if p != MARKER and p not in replaced}
    odd = sorted(p for p, info in present.items() if p in kept and not stat.S_ISREG(info.st_mode))
    if not force and foreign:
        if listed is None:
            raise Refusal(f"'{out}' is not empty and was not written by mlopsdsl (no {MARKER} file)", forceable=True)
        raise Refusal(f"'{out}' holds files the previous compile did not write, which this compile would "
                      f"remove: {outdir.describe(foreign)}", forceable=True)
    if odd:  # a link or FIFO beside the targets' folders: it cannot be copied as a file
        raise Refusal(f"'{out}' holds entries that are not regular files outside the targets compiled now: "
                      f"{outdir.describe(odd)}", forceable=False)
    listing = set(files) | {p for p in kept if listed is not None and p in listed}
    return _Plan({**files, MARKER: marker_bytes(listing)}, kept)


def write(out_dir: str | os.PathLike[str], files: dict[str, bytes], *, force: bool = False,
          inputs: Iterable[str] = (), scope: Collection[str] | None = None) -> list[Diagnostic]:
    """Replace `out_dir` with `files` (+ the marker). Returns MLD705 when refused, warnings otherwise.

    `inputs` are the files this compile read (the spec, its components): a
    directory holding one is never replaced. Raises `OutputError` when the
    file system fails; the previous output is then intact.
    """
    files = _checked(files)
    out = _target(out_dir)
    refusal = outdir.absolute_refusal(out, inputs)
    if refusal:
        return [_refused(out_dir, refusal, forceable=False)]
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot create '{out.parent}': {exc.strerror or exc}") from exc
    with _turn(out.parent):
        notes = _remove_stale(out)
        try:
            plan = _plan(out, files, scope, force)
        except Refusal as exc:
            return notes + [_refused(out_dir, str(exc), forceable=exc.forceable)]
        except OSError as exc:
            raise OutputError(f"cannot read '{out}': {exc.strerror or exc}; nothing was written") from exc
        try:
            staging = Path(tempfile.mkdtemp(prefix=outdir.staging_prefix(out, "new"), dir=out.parent))
        except OSError as exc:
            raise OutputError(f"cannot create a directory beside '{out}': {exc.strerror or exc}") from exc
        try:
            _populate(staging, plan)
            return notes + _swap(staging, out)
        except OSError as exc:
            shutil.rmtree(staging, ignore_errors=True)
            raise OutputError(f"cannot write '{out}': {exc.strerror or exc}; the previous output is unchanged") \
                from exc


def _target(out_dir: str | os.PathLike[str]) -> Path:
    """The directory to replace: `out_dir`, or where it points if it is a symbolic link (the link stays)."""
    try:
        if os.path.islink(out_dir):
            try:
                return Path(os.path.realpath(out_dir, strict=True))
            except FileNotFoundError:  # a dangling link: the directory it names will be made
                pass
        return Path(os.path.realpath(out_dir))
    except OSError as exc:  # a loop of links, a name too long
        raise OutputError(f"cannot use '{os.fspath(out_dir)}': {exc.strerror or exc}") from exc
    except ValueError as exc:  # a NUL byte
        raise OutputError(f"cannot use {os.fspath(out_dir)!r}: {exc}") from exc


def _refused(out_dir: str | os.PathLike[str], message: str, *, forceable: bool) -> Diagnostic:
    hint = ("move those files elsewhere, choose another directory, or pass --force to replace it" if forceable
            else "choose another directory (--force does not override this)")
    return Diagnostic(codes.OUTPUT_CONFLICT, message, Span.point(os.fspath(out_dir)), hint=hint)


@contextlib.contextmanager
def _turn(directory: Path) -> Iterator[None]:
    """Runs into the same parent directory take turns: one's staging is never another's stale folder."""
    try:
        import fcntl
    except ImportError:  # no flock here (Windows): runs do not overlap in practice
        yield
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


def _remove_stale(out: Path) -> list[Diagnostic]:
    notes = []
    for folder in outdir.stale_staging(out):
        try:
            shutil.rmtree(folder)
        except OSError as exc:
            notes.append(_leftover(folder, exc, "a staging folder of an earlier, interrupted run"))
    return notes


def _leftover(folder: Path, exc: OSError, what: str) -> Diagnostic:
    return Diagnostic(codes.OUTPUT_LEFTOVER, f"could not remove '{folder}', {what}: {exc.strerror or exc}",
                      Span.point(str(folder)), hint="remove it by hand; the next compile into this directory "
                                                    "tries again")


def _populate(root: Path, plan: _Plan) -> None:
    os.chmod(root, DIR_MODE)  # mkdtemp makes 0700
    made: set[Path] = {root}
    sources: dict[str, bytes | Path] = {**plan.files, **plan.kept}
    for rel in sorted(sources):
        target = root / rel
        for directory in reversed(target.parents):
            if directory not in made and root in directory.parents:
                directory.mkdir(exist_ok=True)
                os.chmod(directory, DIR_MODE)  # explicit: the umask must not change the output
                made.add(directory)
        source = sources[rel]
        _write_file(target, source if isinstance(source, bytes) else _read_kept(source))
    for directory in sorted(made, key=lambda p: len(p.parts), reverse=True):
        _fsync_dir(directory)


def _read_kept(path: Path) -> bytes:
    return read_regular(path, 1 << 30, follow=False)  # a file the previous compile wrote: small


def _write_file(target: Path, data: bytes) -> None:
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    try:
        os.fchmod(fd, FILE_MODE)
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _swap(staging: Path, out: Path) -> list[Diagnostic]:
    """Puts `staging` in place of `out`; raises OSError only while the previous output is still in place."""
    if not out.exists():
        os.rename(staging, out)
        previous = None
    elif _exchange(staging, out):
        previous = staging  # now holds the previous output
    else:
        previous = Path(tempfile.mkdtemp(prefix=outdir.staging_prefix(out, "old"), dir=out.parent))
        try:
            os.rename(out, previous)  # onto an empty directory: POSIX replaces it
        except OSError:
            os.rmdir(previous)
            raise
        try:
            os.rename(staging, out)
        except OSError:
            os.rename(previous, out)
            raise
    # From here on the new output is in place: a failure is a leftover to report, not an error.
    with contextlib.suppress(OSError):
        _fsync_dir(out.parent)
    if previous is None:
        return []
    try:
        shutil.rmtree(previous)
    except OSError as exc:
        return [_leftover(previous, exc, "the previous output (the new output is in place)")]
    return []


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


# --- compile --check ---------------------------------------------------------------------------

def check(out_dir: str | os.PathLike[str], files: dict[str, bytes], *,
          scope: Collection[str] | None = None) -> list[Difference]:
    """What `write(out_dir, files, scope=scope)` would change, sorted by path; empty when identical.

    Raises `OutputError` when `out_dir` cannot be read at all.
    """
    files = _checked(files)
    out = _target(out_dir)
    try:
        if out.exists() and not out.is_dir():  # compile would refuse it (MLD705): nothing to compare
            raise OutputError(f"'{out}' exists and is not a directory, so no compile can write it")
        present = outdir.present_files(out) if out.is_dir() else {}
        listed = outdir.listed_files(out) if present else None
    except OSError as exc:
        raise OutputError(f"cannot read '{out}': {exc.strerror or exc}") from exc
    replaced = {p for p in present if p == MARKER or _in_scope(p, scope, files)}
    kept = {p for p in present if p not in replaced and listed is not None and p in listed}
    expected = {**files, MARKER: marker_bytes(set(files) | kept)}
    diffs = [Difference(p, "removed") for p in sorted(replaced) if p not in expected]
    for path, data in expected.items():
        if path not in present:
            diffs.append(Difference(path, "added"))
        else:
            same, detail = _compare(out / path, path, data)
            if not same:
                diffs.append(Difference(path, "changed", detail))
    return sorted(diffs)


def _compare(path: Path, rel: str, expected: bytes) -> tuple[bool, str]:
    try:
        size = os.lstat(path).st_size
        if size > max(_COMPARE_LIMIT, len(expected)):
            return False, f"({size:,} bytes, not compared)"
        present = read_regular(path, max(_COMPARE_LIMIT, len(expected)), follow=False)
    except OSError as exc:
        return False, f"(cannot be read: {exc.strerror or exc})"
    if present == expected:
        return True, ""
    try:
        old, new = present.decode("utf-8"), expected.decode("utf-8")
    except UnicodeDecodeError:
        return False, "(binary content differs)"
    lines = list(difflib.unified_diff(old.splitlines(), new.splitlines(), f"{rel} (in --out)",
                                      f"{rel} (compiled)", lineterm="", n=2))
    if len(lines) > DIFF_LINES:
        lines = lines[:DIFF_LINES] + [f"... {len(lines) - DIFF_LINES} more diff lines"]
    return False, "\n".join(lines)
