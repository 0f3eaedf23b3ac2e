"""`kill -9` at any point of writing leaves the old output or the new one, never a mix (issue 13).

The writer is the only code that touches `--out`, so the points that matter are its
file-system calls. A forked child runs `writer.write` with every such call counted
and sends itself SIGKILL at call N (the child dies as a killed compile does: no
`finally`, no cleanup). The parent then looks at `--out`: it must hold exactly the
old files or exactly the new ones; and after the next, uninterrupted compile there
must be the new output and nothing else beside it.

20 points are drawn (seeded) from all the calls one write makes; `MLOPSDSL_KILL_POINTS=all`
kills at every one of them.
"""

from __future__ import annotations

import os
import random
import signal
from pathlib import Path

import pytest
from conftest import EXAMPLES

from mlopsdsl import compiler, writer
from mlopsdsl.driver import build_ir

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork() to kill a writer mid-way")

# Every call by which the writer (and shutil.rmtree under it) changes the file system.
CALLS = ("open", "write", "fsync", "fchmod", "chmod", "mkdir", "rename", "rmdir", "unlink", "close")


def _outputs() -> tuple[dict[str, bytes], dict[str, bytes]]:
    spec = EXAMPLES / "churn" / "churn.yaml"
    project = build_ir(str(spec)).ir
    old = compiler.compile_project(project).files
    new = dict(old)
    new["kserve/churn-api.yaml"] = old["kserve/churn-api.yaml"] + b"# changed\n"
    del new["monitoring/rules.yaml"]
    new["monitoring/extra.yaml"] = b"kind: Extra\n"
    return old, new


OLD, NEW = _outputs()


def _tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _expected(files: dict[str, bytes]) -> dict[str, bytes]:
    return {**files, writer.MARKER: writer.marker_bytes(files)}


def _write_counting(out: Path, kill_at: int | None) -> tuple[int, int]:
    """writer.write(out, NEW) with its file-system calls counted; SIGKILL at call `kill_at`.

    Returns the number of calls and the number of the exchange call.
    """
    count = exchanged = 0
    originals = {name: getattr(os, name) for name in CALLS}

    def counted(name):
        original = originals[name]

        def call(*args, **kwargs):
            nonlocal count
            count += 1
            if count == kill_at:
                os.kill(os.getpid(), signal.SIGKILL)
            return original(*args, **kwargs)
        return call

    real_exchange = writer._exchange

    def exchange(a, b):
        nonlocal count, exchanged
        count += 1
        exchanged = count
        if count == kill_at:
            os.kill(os.getpid(), signal.SIGKILL)
        return real_exchange(a, b)

    try:
        for name in CALLS:
            setattr(os, name, counted(name))
        writer._exchange = exchange
        assert writer.write(out, NEW) == []
    finally:
        for name, original in originals.items():
            setattr(os, name, original)
        writer._exchange = real_exchange
    return count, exchanged


def _killed_at(out: Path, point: int) -> int:
    pid = os.fork()
    if pid == 0:  # the child: write, and die at `point`
        try:
            _write_counting(out, point)
        finally:
            os._exit(0)  # reached only if `point` was past the last call
    _, status = os.waitpid(pid, 0)
    return status


def _points() -> list[int]:
    """20 calls drawn with a fixed seed, plus the exchange itself and the call after it."""
    total, exchanged = _count_calls()
    if os.environ.get("MLOPSDSL_KILL_POINTS") == "all":
        return list(range(1, total + 1))
    return sorted(set(random.Random(13).sample(range(1, total + 1), 20)) | {exchanged, exchanged + 1})


def _count_calls() -> tuple[int, int]:
    import tempfile

    with tempfile.TemporaryDirectory(dir="/dev/shm" if os.access("/dev/shm", os.W_OK) else None) as folder:
        out = Path(folder) / "out"
        writer.write(out, OLD)
        return _write_counting(out, None)


@pytest.fixture
def tmp_path(tmp_path_factory):
    """On tmpfs where there is one: fsync is then free, and 40 writes take a second, not twenty."""
    import tempfile

    shm = Path("/dev/shm")
    if shm.is_dir() and os.access(shm, os.W_OK):
        with tempfile.TemporaryDirectory(dir=shm) as folder:
            yield Path(folder)
    else:
        yield tmp_path_factory.mktemp("kill")


@pytest.mark.parametrize("point", _points())
def test_kill_9_leaves_the_old_or_the_new_output_and_the_next_compile_cleans_up(tmp_path, point):
    out = tmp_path / "out"
    writer.write(out, OLD)
    status = _killed_at(out, point)
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL
    assert _tree(out) in (_expected(OLD), _expected(NEW)), sorted(p.name for p in tmp_path.iterdir())
    # what the kill left beside `out` is the next compile's to remove
    assert writer.write(out, NEW) == []
    assert _tree(out) == _expected(NEW)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_killed_after_the_exchange_the_new_output_is_in_place(tmp_path):
    total, exchanged = _count_calls()
    assert exchanged > total // 2  # staging comes first: most calls happen before the swap
    out = tmp_path / "out"
    writer.write(out, OLD)
    _killed_at(out, exchanged + 1)
    assert _tree(out) == _expected(NEW)
    assert any(".out.new-" in p.name for p in tmp_path.iterdir())  # the old output, now stale staging
