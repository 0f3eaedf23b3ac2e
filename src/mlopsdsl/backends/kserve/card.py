"""The model card: `model-card.md`, text rendered by a sandboxed Jinja2 from plain data.

The template sees only dicts, lists and strings built here from the IR (never IR objects),
runs in an (immutable) `SandboxedEnvironment` with `StrictUndefined` (a misspelt name fails the build instead
of printing nothing), and every piece of user text goes through `md` (prose and table cells)
or `code` (inline code): Markdown autoescaping does not exist, and HTML autoescaping would not
stop a `|` from splitting a table row or a `[link](...)` from being injected.
"""

from __future__ import annotations

import re
from urllib.parse import quote
from functools import lru_cache
from typing import Any, Optional

from jinja2 import PackageLoader, StrictUndefined
from jinja2.sandbox import ImmutableSandboxedEnvironment

from mlopsdsl.ir import DataSource, Expr, Lit, Project, Resources, render

_MD_SPECIAL = re.compile(r"([\\`*_\[\]{}()#+!|~])")
_HTML = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
# Characters a URL keeps as they are; everything else (spaces, `<>|"`, non-ASCII) is percent-encoded.
_URL_SAFE = ":/?#[]@!$&'()*+,;=%-._~"


def md(value: Any) -> str:
    """User text as inert Markdown: one line, HTML and Markdown punctuation escaped."""
    text = " ".join(str(value).split())
    text = "".join(_HTML.get(ch, ch) for ch in text)
    return _MD_SPECIAL.sub(r"\\\1", text)


def code(value: Any) -> str:
    """User text as an inline code span that cannot close early or split a table row."""
    text = " ".join(str(value).split()).replace("|", "\\|")
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def link(value: Any) -> str:
    """A runbook URL as a Markdown link target; anything but http(s) is shown as text, not linked."""
    url = str(value).strip()
    if not url.lower().startswith(("https://", "http://")):
        return md(url)
    return f"[runbook](<{quote(url, safe=_URL_SAFE)}>)"


def duration(seconds: Optional[float]) -> str:
    """Seconds as the language writes them: 600 -> 10m, 90 -> 90s, 7200 -> 2h."""
    if seconds is None:
        return "-"
    for unit, size in (("h", 3600), ("m", 60), ("s", 1)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"


def percent(value: float) -> str:
    return f"{value:g}%"


@lru_cache(maxsize=1)
def environment() -> ImmutableSandboxedEnvironment:
    # Immutable: the template may not even modify the lists it is handed.
    env = ImmutableSandboxedEnvironment(
        loader=PackageLoader("mlopsdsl.backends.kserve", "templates"),
        undefined=StrictUndefined,
        autoescape=False,  # Markdown, not HTML: escaping is explicit through `md` and `code`
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(md=md, code=code, link=link, duration=duration, percent=percent)
    return env


def _resources(res: Resources) -> str:
    parts = [f"{name} {value}" for name, value in (("cpu", res.cpu), ("memory", res.memory)) if value]
    limits = [f"{name} {value}" for name, value in (("cpu", res.cpu_limit), ("memory", res.memory_limit)) if value]
    if limits:
        parts.append("limits " + ", ".join(limits))
    if res.gpu:
        parts.append(f"{res.gpu} GPU" + (f" ({res.gpu_type})" if res.gpu_type else ""))
    return "; ".join(parts) or "cluster defaults"


def _source(source: DataSource) -> str:
    if source.dvc:
        return f"dvc {source.dvc.repo} {source.dvc.path}@{source.dvc.rev}"
    return source.uri or ""


def _value(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _expr(expr: Optional[Expr]) -> Optional[str]:
    if expr is None or (isinstance(expr, Lit) and expr.value is True):
        return None
    return render(expr)


def context(project: Project) -> dict[str, Any]:
    """Everything the template may show, as plain data in a fixed order."""
    assert project.model is not None
    metrics = [
        {"step": step.name, "output": out.name, "type": out.type,
         "fields": [{"name": k, "type": v} for k, v in out.fields.items()]}
        for step in (project.pipeline.steps if project.pipeline else ()) for out in step.outputs if out.fields
    ]
    serving = None
    if project.serving is not None:
        s = project.serving
        serving = {
            "name": s.name, "namespace": s.namespace, "framework": s.framework, "runtime": s.runtime,
            "protocol": s.protocol, "mode": s.deployment_mode, "storage_uri": s.storage_uri,
            "replicas": f"{s.min_replicas}-{s.max_replicas}" if s.min_replicas != s.max_replicas
            else str(s.min_replicas),
            "autoscaling": f"{s.autoscale_metric} target {s.autoscale_target:g}"
            if s.autoscale_metric and s.autoscale_target is not None else (s.autoscale_metric or "none"),
            "resources": _resources(s.resources),
            "transformer": s.transformer.image if s.transformer else None,
            "primary_weight": s.primary_weight,
            "variants": [{"name": v.name, "weight": v.weight, "framework": v.framework, "storage_uri": v.storage_uri}
                         for v in s.variants],
            "rollout": {"strategy": s.rollout.strategy, "steps": [percent(x) for x in s.rollout.steps],
                        "interval": s.rollout.interval, "analysis": _expr(s.rollout.analysis)},
        }
    monitoring = project.monitoring
    return {
        "project": {"name": project.name, "version": project.version, "description": project.description,
                    "owners": list(project.owners), "spec": project.spec_path,
                    "environment": project.environment.name if project.environment else None},
        "model": {"name": project.model.name, "task": project.model.task, "framework": project.model.framework,
                  "description": project.model.description},
        "data": [{"name": d.name, "source": _source(d), "format": d.format or "-", "description": d.description,
                  "columns": ", ".join(f"{k}: {v}" for k, v in d.columns.items())} for d in project.data],
        "params": [{"name": p.name, "type": p.type, "default": _value(p.default),
                    "range": f"{_value(p.min)} .. {_value(p.max)}" if p.min is not None or p.max is not None
                    else ", ".join(_value(c) for c in p.choices) or "-",
                    "description": p.description} for p in project.params],
        "metrics": metrics,
        "serving": serving,
        "alerts": [{"name": a.name, "severity": a.severity, "when": render(a.when), "for": a.for_duration,
                    "summary": a.summary, "runbook": a.runbook_url} for a in (monitoring.alerts if monitoring else ())],
        "drift": None if not (monitoring and monitoring.drift) else {
            "method": monitoring.drift.method, "threshold": monitoring.drift.threshold,
            "features": list(monitoring.drift.features), "schedule": monitoring.drift.schedule,
            "reference": monitoring.drift.reference, "on_drift": monitoring.drift.on_drift},
    }


def render_card(project: Project) -> str:
    return environment().get_template("model-card.md.j2").render(**context(project))
