"""The command line as a user meets it: exit codes, formats, colour, and failures without tracebacks."""

from __future__ import annotations

import gc
import importlib.metadata
import json
import os
import pty
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import MINIMAL_SPEC, REPO, run_cli, validate_sarif

from mlopsdsl import __version__, cli, commands

DUPLICATE = "apiVersion: mlopsdsl/v1\nkind: Project\nkind: Project\nmetadata: {name: x}\n"
ANSI = "\x1b["


@pytest.fixture(autouse=True)
def _keep_gc():
    """cli.main switches the garbage collector off for its short run; in-process calls must not leak that."""
    enabled = gc.isenabled()
    yield
    if enabled:
        gc.enable()


@pytest.fixture
def bad(write_spec) -> Path:
    return write_spec(DUPLICATE, "bad.yaml")


@pytest.fixture
def good(write_spec) -> Path:
    return write_spec(MINIMAL_SPEC, "good.yaml")


def test_version_names_the_installed_targets():
    rc, out, _ = run_cli("--version")
    lines = out.splitlines()
    assert rc == 0 and lines[0] == f"mlopsdsl {__version__}"
    assert lines[1].startswith("targets: ") and "kubeflow" in lines[1]


def test_help_shows_examples():
    rc, out, _ = run_cli("--help")
    assert rc == 0 and "examples:" in out and "mlopsdsl validate" in out and "--format github" in out


@pytest.mark.parametrize("args", [(), ("frobnicate",), ("validate",), ("validate", "x.yaml", "--format", "xml"),
                                  ("compile", "x.yaml"), ("--no-such-flag",)])
def test_usage_errors_exit_2(args):
    rc, out, err = run_cli(*args)
    assert rc == 2 and "usage:" in err and "Traceback" not in err


def test_validate_clean_spec_prints_nothing(good):
    assert run_cli("validate", good) == (0, "", "")


def test_validate_several_files_reports_all_and_exits_1_if_any_has_errors(good, bad, write_spec):
    other = write_spec("a: !Ref x\n", "other.yaml")
    rc, out, err = run_cli("validate", good, bad, other, "--format", "concise")
    assert rc == 1, err
    assert [line.split(": ")[0] for line in out.splitlines()] == [f"{bad}:3:1", f"{other}:1:4"]
    rc, out, _ = run_cli("validate", good, bad)
    assert rc == 1 and out.endswith("error: 1 error in 1 file\n")


def test_missing_file_among_others_is_exit_2(good, tmp_path):
    rc, out, _ = run_cli("validate", good, tmp_path / "missing.yaml")
    assert rc == 2 and "MLD101" in out


def test_format_json(bad):
    rc, out, _ = run_cli("validate", bad, "--format", "json")
    data = json.loads(out)
    assert rc == 1 and [(d["code"], d["line"], d["col"]) for d in data] == [("MLD109", 3, 1)]
    assert data[0]["related"][0]["line"] == 2


def test_format_sarif_validates_against_the_schema(bad):
    rc, out, _ = run_cli("validate", bad, "--format", "sarif")
    assert rc == 1
    log = json.loads(out)
    validate_sarif(log)
    assert log["runs"][0]["results"][0]["ruleId"] == "MLD109"


def test_format_github(bad, good):
    rc, out, _ = run_cli("validate", good, bad, "--format", "github")
    lines = out.splitlines()
    assert rc == 1 and len(lines) == 1
    assert re.fullmatch(r"::error file=[^,]+,line=3,col=1,endLine=3,endColumn=5,title=MLD109::duplicate key .*", lines[0])


def test_format_concise_and_text_agree_on_position(bad):
    _, concise, _ = run_cli("validate", bad, "--format", "concise")
    _, text, _ = run_cli("validate", bad)
    assert concise.startswith(f"{bad}:3:1: error[MLD109]")
    assert f"--> {bad}:3:1\n" in text and "3 | kind: Project\n  | ^^^^\n" in text


def _run_on_tty(*args: str, no_color: bool) -> str:
    """Runs the CLI with stdout on a pseudo-terminal, where `--color auto` would colour."""
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    if no_color:
        env["NO_COLOR"] = "1"
    main, child = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "mlopsdsl", *args], stdout=child, stderr=subprocess.PIPE,
                            cwd=REPO, env=env)
    os.close(child)
    chunks = []
    while True:
        try:
            chunk = os.read(main, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(main)
    proc.wait(timeout=60)
    return b"".join(chunks).decode("utf-8", "replace")


@pytest.mark.skipif(not hasattr(os, "openpty"), reason="needs a pseudo-terminal")
def test_color_on_a_terminal_unless_no_color(bad):
    assert ANSI in _run_on_tty("validate", str(bad), no_color=False)
    assert ANSI not in _run_on_tty("validate", str(bad), no_color=True)
    assert ANSI not in _run_on_tty("validate", str(bad), "--color", "never", no_color=False)


def test_no_color_when_not_a_terminal(bad):
    _, out, _ = run_cli("validate", bad, no_color=False)  # a pipe, NO_COLOR unset
    assert "error[MLD109]" in out and ANSI not in out
    _, out, _ = run_cli("validate", bad, "--color", "always")
    assert ANSI in out


def test_internal_error_is_one_line_without_traceback(monkeypatch, capsys, good):
    def explode(args):
        raise RuntimeError("boom")

    monkeypatch.setattr(commands, "validate", explode)
    assert cli.main(["validate", str(good)]) == 2
    err = capsys.readouterr().err
    assert err.splitlines()[0] == "mlopsdsl: internal error [MLD901]: RuntimeError: boom"
    assert "Traceback" not in err and "--debug" in err
    with pytest.raises(RuntimeError, match="boom"):
        cli.main(["--debug", "validate", str(good)])


BROKEN_COMMAND = """
import sys
from mlopsdsl import cli, commands
def explode(args):
    raise RuntimeError("boom")
commands.validate = explode
sys.exit(cli.main(sys.argv[1:]))
"""


@pytest.mark.parametrize("debug", [False, True])
def test_debug_shows_the_traceback_in_a_real_process(debug, good):
    args = ["--debug"] * debug + ["validate", str(good)]
    proc = subprocess.run([sys.executable, "-c", BROKEN_COMMAND, *args], capture_output=True, text=True, cwd=REPO)
    assert proc.returncode == (1 if debug else 2)  # with --debug the exception escapes: Python's exit 1
    assert ("Traceback" in proc.stderr) is debug and "boom" in proc.stderr


def test_a_directory_is_reported_not_raised(good):
    rc, out, err = run_cli("--debug", "validate", good.parent)
    assert rc == 2 and "MLD101" in out and "Traceback" not in err


def _no_backends(monkeypatch):
    real = importlib.metadata.entry_points

    def entry_points(**kw):
        if kw.get("group") == "mlopsdsl.backends":
            return importlib.metadata.EntryPoints(())
        return real(**kw)

    monkeypatch.setattr(importlib.metadata, "entry_points", entry_points)


def test_compile_without_backends_exits_2_and_writes_nothing(monkeypatch, capsys, good, tmp_path):
    _no_backends(monkeypatch)
    out = tmp_path / "build"
    assert cli.main(["compile", str(good), "--out", str(out)]) == 2
    assert not out.exists() or not any(out.iterdir())
    assert "Traceback" not in capsys.readouterr().err


def test_compile_of_a_spec_with_errors_exits_1_and_writes_nothing(bad, tmp_path):
    out = tmp_path / "build"
    rc, stdout, _ = run_cli("compile", bad, "--out", out)
    assert rc == 1 and "error[MLD109]" in stdout
    assert not out.exists() or not any(out.iterdir())


def test_schema_prints_json_and_out_writes_it(tmp_path):
    rc, out, _ = run_cli("schema")
    assert rc == 0 and isinstance(json.loads(out), dict)
    target = tmp_path / "mlopsdsl.schema.json"
    rc, printed, _ = run_cli("schema", "--out", target)
    assert rc == 0 and printed == ""
    assert target.read_text(encoding="utf-8") == out == (REPO / "schemas/mlopsdsl.schema.json").read_text(encoding="utf-8")


def test_the_console_script_exits_fast_without_losing_output(tmp_path, capsys):
    """`run` leaves through os._exit: the report must still arrive whole, through a pipe, with its code."""
    sys.path.insert(0, str(REPO / "bench"))
    import gen_spec

    spec = tmp_path / "wide.yaml"
    spec.write_text(gen_spec.generate(300, "mixed"), encoding="utf-8")
    expected_code = cli.main(["validate", str(spec)])
    expected = capsys.readouterr().out
    assert expected.count("warning[MLD403]") > 50  # a report large enough to need several pipe buffers
    buffered = {"PYTHONUNBUFFERED": None}  # as users run it: a short report stays in the buffer until exit
    rc, out, _ = run_cli("validate", str(spec), env=buffered)
    assert (rc, out) == (expected_code, expected)
    rc, out, _ = run_cli("validate", str(tmp_path / "missing.yaml"), env=buffered)
    assert rc == 2 and "MLD101" in out
