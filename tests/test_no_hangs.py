"""No path a user can name makes mlopsdsl hang or crash (issue 13): each is a diagnostic, exit 1 or 2.

Every case runs the real command in a subprocess with a timeout, because the failure
this guards against is a process that never returns (a FIFO with no writer, a read of
`/dev/zero`, a FIFO with no reader): in-process, such a test would hang the suite
instead of failing. A case passes only if the command ends in time, with the exit code
and the message a user needs, and without an internal error.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import EXAMPLES, REPO, run_cli

MINIMAL = EXAMPLES / "minimal" / "minimal.yaml"
TIMEOUT = 60  # seconds: far above any of these commands on a loaded machine; a hang never ends

pytestmark = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs (POSIX)")


def mlopsdsl(*args) -> tuple[int, str]:
    code, out, err = run_cli(*args, timeout=TIMEOUT)
    assert "MLD901" not in out + err and "Traceback" not in out + err, out + err
    return code, out + err


@pytest.fixture
def fifo(tmp_path) -> Path:
    path = tmp_path / "pipe.yaml"
    os.mkfifo(path)
    return path


@pytest.mark.parametrize("command", ["validate", "compile"])
def test_a_spec_that_is_a_fifo_or_a_device_is_refused_without_reading_it(tmp_path, fifo, command):
    link = tmp_path / "link.yaml"
    link.symlink_to(fifo)
    for spec, kind in ((fifo, "a FIFO"), (link, "a FIFO"), ("/dev/zero", "a character device")):
        extra = ["--out", tmp_path / "out"] if command == "compile" else []
        code, output = mlopsdsl(command, spec, *extra)
        assert code == 2 and "MLD101" in output and f"{kind}" in output and "not a regular file" in output, output
    assert not (tmp_path / "out").exists()


def test_a_component_that_is_a_fifo_is_refused_where_it_is_used(tmp_path):
    project = tmp_path / "churn"
    shutil.copytree(EXAMPLES / "churn", project)
    component = project / "components" / "register.yaml"
    component.unlink()
    os.mkfifo(component)
    code, output = mlopsdsl("compile", project / "churn.yaml", "--out", tmp_path / "out")
    assert code in (1, 2) and "register.yaml" in output and "a FIFO" in output, output
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("check", [[], ["--check"]], ids=["compile", "check"])
def test_out_that_is_a_device_or_a_fifo_is_a_usage_error(fifo, check):
    for out in ("/dev/zero", fifo):
        code, output = mlopsdsl("compile", MINIMAL, "--out", out, *check)
        assert code == 2 and "is not a directory" in output, output
        assert "compile would add" not in output  # --check compares nothing with a device
    assert fifo.exists() and not fifo.is_dir()


def test_check_through_a_fifo_in_the_output_reports_it(tmp_path):
    out = tmp_path / "out"
    assert mlopsdsl("compile", MINIMAL, "--out", out)[0] == 0
    target = out / "kubeflow" / "pipeline.yaml"
    target.unlink()
    os.mkfifo(target)
    code, output = mlopsdsl("compile", MINIMAL, "--out", out, "--check")
    assert code == 1 and "MLD706" in output and "kubeflow/pipeline.yaml differs" in output, output


@pytest.mark.parametrize("check", [[], ["--check"]], ids=["compile", "check"])
def test_out_as_a_link_loop_or_a_name_too_long_is_a_usage_error(tmp_path, check):
    loop = tmp_path / "loop"
    loop.symlink_to(loop)
    for out, reason in ((loop, "Too many levels of symbolic links"), (tmp_path / ("x" * 256), "File name too long")):
        code, output = mlopsdsl("compile", MINIMAL, "--out", out, *check)
        assert code == 2 and "mlopsdsl: error: cannot" in output and reason in output, output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["loop"]


def test_schema_out_to_a_directory_or_a_fifo_nobody_reads_is_a_usage_error(tmp_path, fifo):
    for out, reason in ((tmp_path, "Is a directory"), (fifo, "FIFO (named pipe) that no process is reading")):
        code, output = mlopsdsl("schema", "--out", out)
        assert code == 2 and "cannot write" in output and reason in output, output


def test_schema_out_to_a_fifo_someone_reads_is_written(fifo):
    reader = subprocess.Popen(["cat", str(fifo)], stdout=subprocess.PIPE)
    try:
        code, output = mlopsdsl("schema", "--out", fifo)
        text = reader.communicate(timeout=TIMEOUT)[0]
    finally:
        reader.kill()
    assert code == 0 and text.startswith(b"{") and b'"mlopsdsl/v1"' in text, output


# Run as a user permission bits stop, the command meets EACCES from the kernel; as root (whom
# they do not stop) the same errno is raised by os.open for that one path, in the same process.
_DENY = """
import errno, os, runpy, sys
denied, real_open = os.path.abspath(sys.argv.pop(1)), os.open
def deny(path, *args, **kwargs):
    if os.path.abspath(os.fsdecode(path)) == denied:
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), path)
    return real_open(path, *args, **kwargs)
os.open = deny
sys.argv[0] = "mlopsdsl"
runpy.run_module("mlopsdsl", run_name="__main__")
"""


def test_check_with_an_unreadable_file_in_the_output_reports_it(tmp_path):
    out = tmp_path / "out"
    assert mlopsdsl("compile", MINIMAL, "--out", out)[0] == 0
    target = out / "kubeflow" / "pipeline.yaml"
    target.chmod(0)
    proc = subprocess.run([sys.executable, "-c", _DENY, str(target), "compile", str(MINIMAL), "--out", str(out),
                           "--check"], capture_output=True, text=True, timeout=TIMEOUT, cwd=REPO,
                          env={**os.environ, "NO_COLOR": "1"})
    output = proc.stdout + proc.stderr
    assert "MLD901" not in output and "Traceback" not in output, output
    assert proc.returncode == 1 and "kubeflow/pipeline.yaml differs" in output, output
    assert "cannot be read: Permission denied" in output, output
