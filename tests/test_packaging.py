"""The wheel carries the schema and the grammar as real files, and an installed wheel reads its own copies.

`src/mlopsdsl/data/` holds symlinks to the single copies in `schemas/` and
`grammar/`; a wheel must contain the bytes, not the links.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from conftest import REPO

pytestmark = pytest.mark.slow

DATA = {  # path inside the wheel -> path in the repository
    "mlopsdsl/data/mlopsdsl.schema.json": "schemas/mlopsdsl.schema.json",
    "mlopsdsl/data/expressions.lark": "grammar/expressions.lark",
}
TREE = ("pyproject.toml", "README.md", "LICENSE", "src", "schemas", "grammar")


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[Path, Path]:
    """(a snapshot of the source tree, the wheel built from it).

    Building from a copy keeps setuptools' build/ and egg-info out of the shared
    working tree and compares the wheel with the very bytes it was built from.
    """
    root = tmp_path_factory.mktemp("pkg")
    source, dist = root / "source", root / "dist"
    for name in TREE:
        if (REPO / name).is_dir():
            shutil.copytree(REPO / name, source / name, symlinks=True,
                            ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
        elif (REPO / name).is_file():
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, source / name)
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
                           "-w", str(dist), str(source)], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    wheels = list(dist.glob("mlopsdsl-*.whl"))
    assert len(wheels) == 1, wheels
    return source, wheels[0]


@pytest.mark.parametrize("member", DATA)
def test_wheel_holds_data_as_real_files(built, member):
    source, wheel = built
    original = source / DATA[member]
    with zipfile.ZipFile(wheel) as archive:
        info = archive.getinfo(member)
        # a symlink stored as such would carry S_IFLNK in the high bits of external_attr
        assert (info.external_attr >> 16) & 0o170000 != 0o120000, f"{member} is a symlink in the wheel"
        assert archive.read(member) == original.read_bytes()


def test_installed_wheel_reads_its_own_data(built, tmp_path):
    source, wheel = built
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True, timeout=300)
    python = venv / ("Scripts/python.exe" if sys.platform == "win32" else "bin/python")
    proc = subprocess.run([str(python), "-m", "pip", "install", "--no-deps", "--no-index", "--force-reinstall",
                           "--quiet", str(wheel)], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    probe = ("import mlopsdsl, sys; from mlopsdsl.resources import schema_text, grammar_text\n"
             "print(mlopsdsl.__file__); sys.stdout.flush()\n"
             "sys.stdout.buffer.write(schema_text().encode('utf-8'))\n")
    proc = subprocess.run([str(python), "-c", probe], capture_output=True, cwd=tmp_path, timeout=120)
    assert proc.returncode == 0, proc.stderr.decode()
    first, _, schema = proc.stdout.partition(b"\n")
    location = Path(first.decode().strip()).resolve()
    assert location.is_relative_to(venv.resolve()), f"imported {location}, not the wheel installed in {venv}"
    assert schema == (source / DATA["mlopsdsl/data/mlopsdsl.schema.json"]).read_bytes()
    grammar = source / DATA["mlopsdsl/data/expressions.lark"]
    proc = subprocess.run([str(python), "-c", "import sys; from mlopsdsl.resources import grammar_text; "
                           "sys.stdout.buffer.write(grammar_text().encode('utf-8'))"],
                          capture_output=True, cwd=tmp_path, timeout=120)
    assert proc.returncode == 0 and proc.stdout == grammar.read_bytes(), proc.stderr.decode()
