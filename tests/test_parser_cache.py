"""The expression parser caches its tables only where nobody else can plant a file (issue 13).

lark's `cache=True` unpickles `$TMPDIR/.lark_cache_<user>_<hash>_<py>.tmp`, a name anyone can
compute: the pickle planted there ran code as whoever validated next. These tests run the
parser in a fresh process (its cache is built once per process) against planted files.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from mlopsdsl.cache import private_file

PARSE = "from mlopsdsl.expr.parser import parse_expression as p; assert p('a + 1 > 2 and not b') is not None"
PLANT = """
import lark, os, pickle, sys
class Boom:
    def __reduce__(self):
        return (os.system, ("touch " + sys.argv[1],))
with open(sys.argv[2], "wb") as f:
    f.write(b"whatever\\n")
    pickle.dump(Boom(), f)
"""


def _run(code: str, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code, *args], env={**os.environ, **env}, capture_output=True,
                          text=True, timeout=120)


@pytest.fixture
def home(tmp_path) -> dict[str, str]:
    (tmp_path / "home").mkdir()
    (tmp_path / "tmp").mkdir()
    return {"HOME": str(tmp_path / "home"), "XDG_CACHE_HOME": "", "TMPDIR": str(tmp_path / "tmp"),
            "MLOPSDSL_NO_CACHE": ""}


# The name lark's own cache (cache=True, as the parser was built before) gives the tables.
LARK_NAME = """
import os, tempfile, lark
from mlopsdsl.expr.parser import _Builder, grammar
lark.Lark(grammar(), parser="lalr", propagate_positions=True, maybe_placeholders=True,
          transformer=_Builder(), cache=True)
print(*[n for n in os.listdir(tempfile.gettempdir()) if n.startswith(".lark_cache")])
"""


def test_nothing_is_read_or_written_in_the_shared_temp_directory(tmp_path, home):
    import lark

    (tmp_path / "probe").mkdir()
    name = _run(LARK_NAME, env={**home, "TMPDIR": str(tmp_path / "probe")}).stdout.strip()
    assert name.startswith(".lark_cache_"), name
    tmp = home["TMPDIR"]
    ran = tmp_path / "pwned"
    planted = Path(tmp) / name  # where the old parser looked: it unpickled this and ran `touch`
    assert _run(PLANT, str(ran), str(planted), env=home).returncode == 0
    result = _run(PARSE, env=home)
    assert result.returncode == 0, result.stderr
    assert not ran.exists()
    assert sorted(p.name for p in Path(tmp).iterdir()) == [planted.name]  # nothing new in the shared place
    cached = Path(home["HOME"]) / ".cache" / "mlopsdsl"
    assert stat.S_IMODE(cached.stat().st_mode) == 0o700
    assert [p.name for p in cached.iterdir()] == [f"expressions-lark{lark.__version__}-py"
                                                  f"{sys.version_info[0]}{sys.version_info[1]}.cache"]
    assert _run(PARSE, env=home).returncode == 0  # and the next process loads it


@pytest.mark.parametrize("unsafe", ["group-writable", "world-writable-parent", "symlinked-dir", "symlinked-file",
                                    "other-owner"])
def test_an_unsafe_cache_place_is_not_used(tmp_path, home, unsafe):
    base = Path(home["HOME"]) / ".cache"
    folder = base / "mlopsdsl"
    folder.mkdir(parents=True, mode=0o700)
    os.chmod(folder, 0o700)
    if unsafe == "group-writable":
        os.chmod(folder, 0o770)
    elif unsafe == "world-writable-parent":
        os.chmod(base, 0o777)
    elif unsafe == "symlinked-dir":
        folder.rmdir()
        (tmp_path / "elsewhere").mkdir(mode=0o700)
        folder.symlink_to(tmp_path / "elsewhere")
    elif unsafe == "symlinked-file":
        (tmp_path / "target").write_bytes(b"")
        (folder / "x.cache").symlink_to(tmp_path / "target")
    else:
        if os.geteuid() != 0:
            pytest.skip("only root can give a directory to another user")  # the owner check is unit-tested
        os.chown(folder, 65534, 65534)
    env_home = {"HOME": home["HOME"]}
    old = {k: os.environ.get(k) for k in ("HOME", "XDG_CACHE_HOME", "MLOPSDSL_NO_CACHE")}
    try:
        os.environ.update(env_home)
        os.environ.pop("XDG_CACHE_HOME", None)
        os.environ.pop("MLOPSDSL_NO_CACHE", None)
        assert private_file("x.cache") is None
    finally:
        for key, value in old.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def test_a_planted_file_in_a_safe_place_of_someone_else_is_refused(tmp_path, monkeypatch):
    folder = tmp_path / "cache" / "mlopsdsl"
    folder.mkdir(parents=True, mode=0o700)
    os.chmod(folder, 0o700)
    planted = folder / "x.cache"
    planted.write_bytes(b"")
    os.chmod(planted, 0o666)  # writable by anyone: someone may have replaced its content
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("MLOPSDSL_NO_CACHE", raising=False)
    assert private_file("x.cache") is None
    os.chmod(planted, 0o644)
    assert private_file("x.cache") == str(planted)
    monkeypatch.setenv("MLOPSDSL_NO_CACHE", "1")
    assert private_file("x.cache") is None
