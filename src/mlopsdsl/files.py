"""Reading and writing single files so that no path can hang or exhaust the process.

Every byte mlopsdsl reads from a path (a spec, a component, a file in `--out`
for `--check`) comes through `read_regular`: the file is opened without
blocking (a FIFO would otherwise wait forever for a writer), must be a regular
file (not `/dev/zero`, a directory, a socket), and is read up to a limit (a
file that grows while it is read cannot get past it either). A single file
named by the user for output (`schema --out`) is written by `write_text`, which
does not wait for a FIFO's reader either. (`compile --out` is `writer.py`'s.)
"""

from __future__ import annotations

import errno
import os
import stat

__all__ = ["NotRegularFile", "TooLarge", "kind_of", "read_regular", "write_text"]


class NotRegularFile(OSError):
    """The path exists but is a directory, FIFO, device or socket."""

    def __init__(self, path: str, kind: str) -> None:
        super().__init__(f"'{path}' is {kind}, not a regular file")
        self.kind = kind


class TooLarge(OSError):
    def __init__(self, path: str, size: int, limit: int) -> None:
        super().__init__(f"'{path}' is {size:,} bytes or more, over the limit of {limit:,} bytes")
        self.size, self.limit = size, limit


_KINDS = ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))


def kind_of(mode: int) -> str:
    return next((kind for test, kind in _KINDS if test(mode)), "not a regular file")


_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)


def read_regular(path: str | os.PathLike[str], limit: int, *, follow: bool = True) -> bytes:
    """The bytes of a regular file, at most `limit`; raises OSError (NotRegularFile, TooLarge...).

    `follow=False` refuses a symbolic link itself (`--check` compares what is in a directory).
    """
    flags = _FLAGS if follow else _FLAGS | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(path, flags)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise NotRegularFile(os.fsdecode(path), kind_of(info.st_mode))
        if info.st_size > limit:
            raise TooLarge(os.fsdecode(path), info.st_size, limit)
        chunks, total = [], 0
        while total <= limit:
            chunk = os.read(fd, min(1 << 20, limit + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
        if total > limit:
            raise TooLarge(os.fsdecode(path), total, limit)
        return b"".join(chunks)
    finally:
        os.close(fd)


class NoReader(OSError):
    def __init__(self, path: str) -> None:
        super().__init__(f"'{path}' is a FIFO (named pipe) that no process is reading")


def write_text(path: str | os.PathLike[str], text: str) -> None:
    """Write `text` (UTF-8, LF) to `path`: a regular file, a terminal or a pipe someone reads.

    Opened without blocking, so a FIFO with no reader fails at once (ENXIO) instead of
    waiting forever; the writes themselves block as usual.
    """
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0) \
        | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags, 0o644)
    except OSError as exc:
        if exc.errno == errno.ENXIO:
            raise NoReader(os.fsdecode(path)) from exc
        raise
    with os.fdopen(fd, "wb") as handle:
        os.set_blocking(fd, True)
        handle.write(text.encode("utf-8"))
