"""The model card: what it shows, how user text is escaped, and that the template runs sandboxed."""

from __future__ import annotations

import re
import tomllib
from importlib import resources

import pytest
from jinja2 import UndefinedError
from jinja2.sandbox import SandboxedEnvironment, SecurityError

from mlopsdsl import ir
from mlopsdsl.backends.kserve import KServeBackend, card

from .test_kserve import REPO, churn, project, serving


def card_of(p: ir.Project) -> str:
    (artifact,) = [a for a in KServeBackend().compile(p) if a.path == "model-card.md"]
    assert artifact.format == "text"
    return artifact.text


def table_cells(line: str) -> int:
    """Cells of a Markdown table row: pipes that are not escaped, minus the outer two."""
    return len(re.findall(r"(?<!\\)\|", line)) - 1


def test_card_shows_model_data_params_metrics_serving_rollout_alerts():
    text = card_of(churn())
    for expected in (
        "# Model card: churn-classifier", "| Task | classification |", "| Framework | xgboost |",
        "| Owners | ml-platform@acme.example |",
        "| raw | `s3://acme-ml/churn/raw/` | parquet |",
        "| learning\\_rate | float | `0.05` | 0.0001 .. 1.0 |",
        "| evaluate | metrics | auc | float |",
        "| Runtime | auto-selected by KServe, protocol v2 |",
        "10%, 50%, 100%, waiting 10m at each step",
        "`(serving.error_rate < 1%) and (serving.latency.p95 < 250ms)`",
        "| challenger | 20% | lightgbm |", "| churn-api (primary) | 80% | xgboost |",
        "| HighLatency | warning | `serving.latency.p95 > 250ms` | 5m |",
        "([runbook](<https://runbooks.acme.example/ml/churn-api#latency>))",
    ):
        assert expected in text, expected


def test_rollout_sentences():
    blue_green = card_of(project(serving(rollout=ir.Rollout(strategy="blue_green", interval=900.0))))
    assert "tested on its `latest-` URL for 15m, then takes all traffic at once" in blue_green
    assert "Direct: the new version replaces the old one at once." in card_of(project())


def test_card_without_serving_or_monitoring():
    text = card_of(project(serving=None, model=ir.ModelInfo(name="m", task="other", framework="custom")))
    assert "The model is not served by this spec." in text
    assert "No alerts are declared." in text and "The pipeline takes no parameters." in text


HOSTILE = "x | y\n<script>alert(1)</script> [click](javascript:alert(1)) **bold** `tick`"


def test_hostile_text_cannot_break_tables_or_inject_html():
    p = project(
        description=HOSTILE, owners=(HOSTILE,),
        params=(ir.Param(name="p", type="str", default="a|b`c", description=HOSTILE),),
        model=ir.ModelInfo(name="m", task="other", framework="xgboost", description=HOSTILE))
    text = card_of(p)
    assert "<script>" not in text and "&lt;script&gt;" in text
    assert "](javascript:" not in text
    for line in text.splitlines():
        if line.startswith("| Owners"):
            assert table_cells(line) == 2
        if line.startswith("| p |"):
            assert table_cells(line) == 5
            assert "``a\\|b`c``" in line


def test_filters():
    assert card.md("a|b") == "a\\|b"
    assert card.md("line\nbreak  <b>") == "line break &lt;b&gt;"
    assert card.md("_x_ [y](z)") == "\\_x\\_ \\[y\\]\\(z\\)"
    assert card.code("plain") == "`plain`"
    assert card.code("a`b") == "``a`b``"
    assert card.code("`edge") == "`` `edge ``"
    assert card.link("javascript:alert(1)") == "javascript:alert\\(1\\)"
    assert card.link("https://x.example/a b>c|d") == "[runbook](<https://x.example/a%20b%3Ec%7Cd>)"
    assert [card.duration(s) for s in (600, 90, 7200, 0.5, None)] == ["10m", "90s", "2h", "0.5s", "-"]


def test_environment_is_sandboxed_and_strict():
    env = card.environment()
    assert isinstance(env, SandboxedEnvironment)
    with pytest.raises(UndefinedError):
        env.from_string("{{ nope }}").render()
    with pytest.raises((SecurityError, UndefinedError)):
        env.from_string("{{ ''.__class__.__mro__[1].__subclasses__() }}").render()
    with pytest.raises(SecurityError):
        env.from_string("{{ x.append(1) }}").render(x=[])


def test_template_ships_in_the_package():
    assert resources.files("mlopsdsl.backends.kserve").joinpath("templates/model-card.md.j2").is_file()
    config = tomllib.loads((REPO / "pyproject.toml").read_text())
    assert "templates/*.j2" in config["tool"]["setuptools"]["package-data"]["mlopsdsl.backends.kserve"]
