"""`mlopsdsl run` and a distributed step: refused where the spec says `distributed:` (MLD805)."""

from __future__ import annotations

from conftest import EXAMPLES, run_cli

VISION = EXAMPLES / "vision/defects.yaml"


def line_of(text: str, after: str) -> int:
    """The 1-based line of the first `text` after the line holding `after`, in the vision spec."""
    lines = VISION.read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if after in line)
    return next(i for i in range(start, len(lines)) if lines[i].strip().startswith(text)) + 1


def test_mlopsdsl_run_refuses_the_distributed_step_at_its_field(tmp_path) -> None:
    code, out, err = run_cli("run", str(VISION), cwd=tmp_path)
    assert code == 1 and "MLD805" in out
    assert f"defects.yaml:{line_of('distributed:', '    train:')}:" in out, out
