"""The writer: all-or-nothing swap, the marker, refusal without it, --check differences, modes."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from mlopsdsl import writer
from mlopsdsl.diagnostics import codes

FILES = {"kserve/isvc.yaml": b"kind: InferenceService\n", "pipeline.yaml": b"a: 1\n", "deep/er/x.json": b"{}\n"}


def tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def siblings(root: Path) -> list[str]:
    return sorted(p.name for p in root.parent.iterdir() if p.name != root.name)


def test_fresh_write_has_the_files_the_marker_and_fixed_modes(tmp_path):
    out = tmp_path / "build"
    old_umask = os.umask(0o077)  # the output must not depend on the caller's umask
    try:
        assert writer.write(out, FILES) == []
    finally:
        os.umask(old_umask)
    written = tree(out)
    assert json.loads(written.pop(writer.MARKER)) == sorted(FILES)
    assert written == FILES
    for path in out.rglob("*"):
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode == (0o755 if path.is_dir() else 0o644), path
    assert stat.S_IMODE(out.stat().st_mode) == 0o755
    assert siblings(out) == []  # no staging or old directory left behind


def test_marker_is_stable_sorted_json_without_timestamps():
    assert writer.marker_bytes(["b/x", "a"]) == b'[\n  "a",\n  "b/x"\n]\n'


def test_rewrite_replaces_the_whole_directory(tmp_path):
    out = tmp_path / "build"
    writer.write(out, FILES)
    assert writer.write(out, {"only.yaml": b"x: 1\n"}) == []
    assert set(tree(out)) == {"only.yaml", writer.MARKER}
    assert siblings(out) == []


def test_a_file_added_by_hand_is_named_and_kept_unless_forced(tmp_path):
    # Issue 13: files added to the output by hand vanished without a word at the next compile.
    out = tmp_path / "build"
    writer.write(out, FILES)
    (out / "stale.yaml").write_text("mine")
    (out / "kserve" / "notes.txt").write_text("mine too")
    before = tree(out)
    (diagnostic,) = writer.write(out, {"only.yaml": b"x: 1\n"})
    assert diagnostic.code is codes.OUTPUT_CONFLICT
    assert "did not write" in diagnostic.message and "kserve/notes.txt, stale.yaml" in diagnostic.message
    assert "--force" in diagnostic.hint
    assert tree(out) == before and siblings(out) == []
    assert writer.write(out, {"only.yaml": b"x: 1\n"}, force=True) == []
    assert set(tree(out)) == {"only.yaml", writer.MARKER}


def test_two_rename_fallback_when_exchange_is_unavailable(tmp_path, monkeypatch):
    out = tmp_path / "build"
    writer.write(out, FILES)
    monkeypatch.setattr(writer, "_exchange", lambda a, b: False)
    assert writer.write(out, {"new.yaml": b"n: 1\n"}) == []
    assert set(tree(out)) == {"new.yaml", writer.MARKER}
    assert siblings(out) == []


def test_failure_while_writing_leaves_the_old_output_intact(tmp_path, monkeypatch):
    out = tmp_path / "build"
    writer.write(out, FILES)
    before = tree(out)
    real_write, calls = os.write, []

    def failing_write(fd, data):
        calls.append(fd)
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        return real_write(fd, data)

    monkeypatch.setattr(writer.os, "write", failing_write)
    with pytest.raises(writer.OutputError, match="No space left on device; the previous output is unchanged"):
        writer.write(out, {"a.yaml": b"a\n", "b.yaml": b"b\n", "c.yaml": b"c\n"})
    assert tree(out) == before
    assert siblings(out) == []


def test_failure_during_the_swap_restores_the_old_output(tmp_path, monkeypatch):
    out = tmp_path / "build"
    writer.write(out, FILES)
    before = tree(out)
    monkeypatch.setattr(writer, "_exchange", lambda a, b: False)
    real_rename = os.rename

    def rename(src, dst):
        if Path(dst) == out and ".new-" in Path(src).name:  # new -> out fails after old was moved aside
            raise OSError(5, "Input/output error")
        return real_rename(src, dst)

    monkeypatch.setattr(writer.os, "rename", rename)
    with pytest.raises(writer.OutputError):
        writer.write(out, {"x.yaml": b"x\n"})
    assert tree(out) == before
    assert all(".new-" not in name for name in siblings(out))


def test_refuses_a_foreign_non_empty_directory_unless_forced(tmp_path):
    out = tmp_path / "src"
    out.mkdir()
    (out / "main.py").write_text("print('mine')\n")
    (diagnostic,) = writer.write(out, FILES)
    assert diagnostic.code is codes.OUTPUT_CONFLICT and "no .mlopsdsl-output" in diagnostic.message
    assert tree(out) == {"main.py": b"print('mine')\n"}
    assert writer.write(out, FILES, force=True) == []
    assert "main.py" not in tree(out)


def test_empty_existing_directory_and_missing_parents_are_fine(tmp_path):
    (tmp_path / "empty").mkdir()
    assert writer.write(tmp_path / "empty", FILES) == []
    assert writer.write(tmp_path / "a" / "b" / "out", FILES) == []


def test_refuses_a_file_the_cwd_and_its_ancestors_even_with_force(tmp_path, monkeypatch):
    (tmp_path / "file").write_text("x")
    (diagnostic,) = writer.write(tmp_path / "file", FILES, force=True)
    assert "is not a directory" in diagnostic.message
    work = tmp_path / "work"
    (work / "sub").mkdir(parents=True)
    monkeypatch.chdir(work / "sub")
    for target in (".", "..", str(work)):
        (diagnostic,) = writer.write(target, FILES, force=True)
        assert diagnostic.code is codes.OUTPUT_CONFLICT and "working directory" in diagnostic.message


def test_a_symlinked_output_keeps_its_link(tmp_path):
    real = tmp_path / "real"
    writer.write(real, FILES)
    link = tmp_path / "link"
    link.symlink_to(real)
    assert writer.write(link, {"n.yaml": b"n\n"}) == []
    assert link.is_symlink() and set(tree(real)) == {"n.yaml", writer.MARKER}


def test_check_reports_added_removed_changed(tmp_path):
    out = tmp_path / "build"
    assert [(d.path, d.status) for d in writer.check(out, FILES)] == [
        (writer.MARKER, "added"), ("deep/er/x.json", "added"), ("kserve/isvc.yaml", "added"),
        ("pipeline.yaml", "added")]
    writer.write(out, FILES)
    assert writer.check(out, FILES) == []
    (out / "extra.txt").write_text("x")
    changed = {**FILES, "pipeline.yaml": b"a: 2\n"}
    del changed["deep/er/x.json"]
    assert [(d.path, d.status) for d in writer.check(out, changed)] == [
        (writer.MARKER, "changed"), ("deep/er/x.json", "removed"), ("extra.txt", "removed"),
        ("pipeline.yaml", "changed")]


@pytest.mark.parametrize("bad", ["/abs.yaml", "../up.yaml", "a\\b.yaml", "", writer.MARKER])
def test_paths_outside_the_output_are_refused(tmp_path, bad):
    with pytest.raises(ValueError):
        writer.write(tmp_path / "out", {bad: b""})
    assert not (tmp_path / "out").exists()
