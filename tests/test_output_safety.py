"""`compile --out` never loses a file (issue 13): each data-loss case is refused with a clear message.

The cases compile the shipped minimal example through the real command line into
directories laid out the way users lay them out (the spec beside its output, a
components folder, `--out .`), and assert what is left on disk afterwards.
"""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

import pytest
from conftest import EXAMPLES

from mlopsdsl import cli, writer
from mlopsdsl.diagnostics import codes

MINIMAL = EXAMPLES / "minimal" / "minimal.yaml"


def tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def compile_(capsys, *args: str) -> tuple[int, str]:
    code = cli.main(["compile", *map(str, args)])
    captured = capsys.readouterr()
    output = captured.out + captured.err
    assert "MLD901" not in output and "Traceback" not in output, output
    return code, output


@pytest.fixture
def project(tmp_path, monkeypatch) -> Path:
    """A project folder: the spec, a component beside it; the test runs from elsewhere."""
    root = tmp_path / "project"
    shutil.copytree(EXAMPLES / "churn", root)
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    return root


@pytest.mark.parametrize("force", [False, True])
@pytest.mark.parametrize("out", [".", "components", ".."], ids=["spec-folder", "component-folder", "parent"])
def test_an_output_that_holds_an_input_is_never_replaced(capsys, project, out, force):
    before = tree(project.parent)
    code, output = compile_(capsys, project / "churn.yaml", "--out", project / out, *["--force"] * force)
    assert code == 2 and "MLD705" in output, output
    assert "an input of this compile" in output and "--force does not override this" in output
    assert tree(project.parent) == before


def test_the_output_may_not_be_the_spec_itself(capsys, project):
    code, output = compile_(capsys, project / "churn.yaml", "--out", project / "churn.yaml", "--force")
    assert code == 2 and "MLD705" in output and (project / "churn.yaml").is_file()


@pytest.mark.parametrize("where", ["home", "above-home", "root"])
def test_home_its_parents_and_the_root_are_never_replaced(capsys, tmp_path, monkeypatch, where):
    home = tmp_path / "users" / "me"
    (home / "work").mkdir(parents=True)
    (home / ".bashrc").write_text("mine")
    monkeypatch.setenv("HOME", str(home))
    out = {"home": home, "above-home": home.parent, "root": Path("/")}[where]
    code, output = compile_(capsys, MINIMAL, "--out", out, "--force")
    assert code == 2 and "MLD705" in output and "does not override" in output, output
    assert (home / ".bashrc").read_text() == "mine"


def test_a_subset_of_targets_replaces_only_its_own_files(capsys, tmp_path):
    out = tmp_path / "out"
    assert compile_(capsys, MINIMAL, "--out", out)[0] == 0
    full = tree(out)
    assert {"kubeflow/pipeline.yaml", "monitoring/prometheus-rules.yaml"} <= set(full)
    (out / "kserve" / "old-name.yaml").write_bytes(b"left by an earlier kserve compile\n")
    listed = set(writer.outdir.listed_files(out)) | {"kserve/old-name.yaml"}
    (out / writer.MARKER).write_bytes(writer.marker_bytes(listed))
    code, output = compile_(capsys, MINIMAL, "--out", out, "--target", "kserve")
    assert code == 0, output
    after = tree(out)
    assert "kserve/old-name.yaml" not in after  # the kserve folder is replaced as a whole
    assert {p: b for p, b in after.items() if p != writer.MARKER} == \
        {p: b for p, b in full.items() if p != writer.MARKER}
    assert after[writer.MARKER] == full[writer.MARKER]  # the marker still lists every target's files
    assert compile_(capsys, MINIMAL, "--out", out, "--check", "--target", "kserve")[0] == 0
    assert compile_(capsys, MINIMAL, "--out", out, "--check")[0] == 0


def test_a_subset_does_not_need_force_for_other_targets_files_added_by_hand(capsys, tmp_path):
    out = tmp_path / "out"
    compile_(capsys, MINIMAL, "--out", out)
    (out / "monitoring" / "mine.yaml").write_text("kept")
    assert compile_(capsys, MINIMAL, "--out", out, "--target", "kserve")[0] == 0
    assert (out / "monitoring" / "mine.yaml").read_text() == "kept"
    code, output = compile_(capsys, MINIMAL, "--out", out)
    assert code == 2 and "monitoring/mine.yaml" in output and "did not write" in output
    assert (out / "monitoring" / "mine.yaml").read_text() == "kept"


def test_staging_folders_of_killed_runs_are_removed_by_the_next_compile(capsys, tmp_path):
    out = tmp_path / "out"
    compile_(capsys, MINIMAL, "--out", out)
    for name in (".out.new-abcd1234", ".out.old-k2j3h4g5"):
        (tmp_path / name / "kserve").mkdir(parents=True)
        (tmp_path / name / "kserve" / "x.yaml").write_text("half")
    (tmp_path / ".other.new-abcd1234").mkdir()  # another output's: not ours to remove
    (tmp_path / ".out.new-notours").mkdir()  # not a staging name mkdtemp makes
    assert compile_(capsys, MINIMAL, "--out", out)[0] == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == [".other.new-abcd1234", ".out.new-notours", "out"]


def test_a_failed_move_aside_leaves_no_empty_folder(tmp_path, monkeypatch):
    out = tmp_path / "out"
    writer.write(out, {"a.yaml": b"a\n"})
    monkeypatch.setattr(writer, "_exchange", lambda a, b: False)
    real_rename = os.rename

    def rename(src, dst):
        if Path(src) == out:
            raise OSError(16, "Device or resource busy")
        return real_rename(src, dst)

    monkeypatch.setattr(writer.os, "rename", rename)
    with pytest.raises(writer.OutputError, match="the previous output is unchanged"):
        writer.write(out, {"b.yaml": b"b\n"})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
    assert tree(out) == {"a.yaml": b"a\n", writer.MARKER: writer.marker_bytes(["a.yaml"])}


@pytest.mark.parametrize("exchange", [True, False], ids=["exchange", "two-renames"])
def test_when_the_old_output_cannot_be_removed_the_message_says_the_new_one_is_in_place(
        tmp_path, monkeypatch, exchange):
    out = tmp_path / "out"
    writer.write(out, {"a.yaml": b"a\n"})
    if not exchange:
        monkeypatch.setattr(writer, "_exchange", lambda a, b: False)
    real_rmtree = shutil.rmtree

    def rmtree(path, *args, **kwargs):
        if Path(path).parent == tmp_path and Path(path).name.startswith(".out."):
            raise PermissionError(13, "Permission denied")
        return real_rmtree(path, *args, **kwargs)

    monkeypatch.setattr(writer.shutil, "rmtree", rmtree)
    (note,) = writer.write(out, {"b.yaml": b"b\n"})
    assert note.code is codes.OUTPUT_LEFTOVER and not note.is_error
    assert "the new output is in place" in note.message and "Permission denied" in note.message
    assert set(tree(out)) == {"b.yaml", writer.MARKER}
    leftover = Path(note.span.file)
    assert leftover.parent == tmp_path and tree(leftover) == {"a.yaml": b"a\n",
                                                              writer.MARKER: writer.marker_bytes(["a.yaml"])}
    monkeypatch.setattr(writer.shutil, "rmtree", real_rmtree)
    assert writer.write(out, {"b.yaml": b"b\n"}) == []  # the next compile removes what was left
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_check_prints_a_bounded_unified_diff(capsys, tmp_path):
    out = tmp_path / "out"
    compile_(capsys, MINIMAL, "--out", out)
    rules = out / "monitoring" / "prometheus-rules.yaml"
    rules.write_text(rules.read_text().replace('for: "10m"', 'for: "15m"'))
    pipeline = out / "kubeflow" / "pipeline.yaml"
    pipeline.write_text("\n".join(f"line {i}" for i in range(5000)))
    code, output = compile_(capsys, MINIMAL, "--out", out, "--check")
    assert code == 1 and output.count("MLD706") == 2
    lines = output.splitlines()
    assert any(line.startswith("-") and 'for: "15m"' in line for line in lines)
    assert any(line.startswith("+") and 'for: "10m"' in line for line in lines)
    assert "+++ monitoring/prometheus-rules.yaml (compiled)" in output
    assert "more diff lines" in output and len(output.splitlines()) < 300


@pytest.mark.parametrize("make", ["fifo", "unreadable", "symlink", "directory"])
def test_check_reports_odd_files_in_the_output_without_hanging(capsys, tmp_path, monkeypatch, make):
    out = tmp_path / "out"
    compile_(capsys, MINIMAL, "--out", out)
    target = out / "kubeflow" / "pipeline.yaml"
    target.unlink()
    if make == "fifo":
        os.mkfifo(target)
    elif make == "unreadable":
        target.write_text("x")
        target.chmod(0)
        real_read = writer.read_regular  # as root, mode 0 stops nobody: fail the read as EACCES does

        def read_regular(path, *args, **kwargs):
            if Path(path) == target:
                raise PermissionError(13, "Permission denied")
            return real_read(path, *args, **kwargs)

        monkeypatch.setattr(writer, "read_regular", read_regular)
    elif make == "symlink":
        target.symlink_to("/dev/zero")
    else:
        target.mkdir()
    code, output = compile_(capsys, MINIMAL, "--out", out, "--check")
    assert code == 1 and "MLD706" in output and "kubeflow/pipeline.yaml" in output, output
    if make == "unreadable":
        assert "cannot be read: Permission denied" in output


def test_out_as_a_link_loop_or_a_name_too_long_is_an_io_error(capsys, tmp_path):
    loop = tmp_path / "loop"
    loop.symlink_to(loop)
    for out in (loop, tmp_path / ("x" * 256)):
        for check in ([], ["--check"]):
            code, output = compile_(capsys, MINIMAL, "--out", out, *check)
            assert code == 2 and "mlopsdsl: error: cannot" in output, output
    long = tmp_path / ("y" * 250)  # a legal name: its staging folder's name is cut short to fit
    assert compile_(capsys, MINIMAL, "--out", long)[0] == 0
    assert compile_(capsys, MINIMAL, "--out", long)[0] == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["loop", long.name]


def test_out_on_a_device_is_refused_without_suggesting_force(capsys):
    code, output = compile_(capsys, MINIMAL, "--out", "/dev/zero")
    assert code == 2 and "MLD705" in output and "not a directory" in output and "does not override" in output


def test_schema_out_to_a_directory_is_an_io_error(capsys, tmp_path):
    assert cli.main(["schema", "--out", str(tmp_path)]) == 2
    assert "cannot write" in capsys.readouterr().err


def test_output_modes_do_not_follow_the_kept_files(capsys, tmp_path):
    out = tmp_path / "out"
    compile_(capsys, MINIMAL, "--out", out)
    compile_(capsys, MINIMAL, "--out", out, "--target", "github")
    for path in out.rglob("*"):
        assert stat.S_IMODE(path.lstat().st_mode) == (0o755 if path.is_dir() else 0o644), path
