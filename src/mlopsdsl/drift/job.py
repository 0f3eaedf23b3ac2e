"""The drift job: read the two samples, score each feature, push the scores, dispatch a retrain.

Configuration is the environment the generated ConfigMap and Secrets give the CronJob
(backends/monitoring/drift.py writes it; flags of `python -m mlopsdsl.drift` override):

    PROJECT NAMESPACE SERVICE ENVIRONMENT   whose traffic, and where it ran
    METHOD THRESHOLD                        psi | ks | wasserstein | chi2, and the score that is drift
    FEATURES                                comma-separated columns to score
    FEATURE_TYPES                           `name=type,...` (int, float, str, bool, category, datetime)
    COLUMNS                                 the reference schema's columns in order (positional bodies)
    REFERENCE_URI [REFERENCE_FORMAT]        or REFERENCE_DVC_REPO, REFERENCE_DVC_PATH, REFERENCE_DVC_REV
    CURRENT_URI [CURRENT_FORMAT]            a declared `current:` source (or CURRENT_DVC_*), or
    REQUEST_LOG_URI REQUEST_LOG_WINDOW      KServe's request log prefix, and how far back to read (seconds)
    MIN_ROWS                                fewer current rows than this: no verdict (nothing pushed)
    PUSHGATEWAY_URL PUSHGATEWAY_JOB METRIC_NAME
    ON_DRIFT DISPATCH_EVENT_TYPE            retrain | alert; the repository_dispatch type
    GITHUB_TOKEN GITHUB_REPOSITORY          (Secret) for the dispatch; GITHUB_API_URL for GitHub Enterprise

It prints one JSON report on stdout. Exit 0 when it judged (drift or not) or had too few
rows to judge, 1 when a sample or the configuration cannot be read (the CronJob's Job
then fails and keeps its log).
"""

from __future__ import annotations

import json
import math
import os
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Mapping

from mlopsdsl.backends.events import RETRAIN_ENVIRONMENT_KEY
from mlopsdsl.drift import data, stats

TIMEOUT = 30  # seconds for each HTTP call


@dataclass(frozen=True)
class Source:
    uri: str | None = None
    fmt: str | None = None
    dvc: tuple[str, str, str | None] | None = None  # repo, path, rev

    @classmethod
    def from_env(cls, env: Mapping[str, str], prefix: str) -> "Source | None":
        if env.get(f"{prefix}_URI"):
            return cls(uri=env[f"{prefix}_URI"], fmt=env.get(f"{prefix}_FORMAT") or None)
        if env.get(f"{prefix}_DVC_REPO") and env.get(f"{prefix}_DVC_PATH"):
            return cls(dvc=(env[f"{prefix}_DVC_REPO"], env[f"{prefix}_DVC_PATH"], env.get(f"{prefix}_DVC_REV")),
                       fmt=env.get(f"{prefix}_FORMAT") or None)
        return None

    def rows(self) -> list[dict]:
        uri = data.dvc_get(*self.dvc) if self.dvc else self.uri
        assert uri is not None
        return data.read_table(uri, self.fmt)


@dataclass(frozen=True)
class Config:
    project: str
    method: str
    threshold: float
    features: tuple[str, ...]
    reference: Source
    current: Source | None = None
    request_log: str | None = None
    request_log_window: float = 86400.0
    types: dict[str, str] = field(default_factory=dict)
    columns: tuple[str, ...] = ()
    namespace: str = ""
    service: str = ""
    environment: str = ""
    min_rows: int = 50
    pushgateway: str = ""
    push_job: str = "mlopsdsl-drift"
    metric: str = "mlopsdsl_drift_score"
    on_drift: str = "alert"
    event_type: str = ""

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> "Config":
        missing = [k for k in ("PROJECT", "METHOD", "THRESHOLD", "FEATURES") if not env.get(k)]
        reference = Source.from_env(env, "REFERENCE")
        if reference is None:
            missing.append("REFERENCE_URI or REFERENCE_DVC_REPO/_PATH")
        current, log = Source.from_env(env, "CURRENT"), env.get("REQUEST_LOG_URI") or None
        if current is None and log is None:
            missing.append("CURRENT_URI, CURRENT_DVC_REPO/_PATH or REQUEST_LOG_URI")
        if missing:
            raise data.DataError(f"the drift job is missing {', '.join(missing)}")
        if env["METHOD"] not in stats.METHODS:
            raise data.DataError(f"METHOD={env['METHOD']}: one of {', '.join(stats.METHODS)}")
        features = tuple(f for f in env["FEATURES"].split(",") if f)
        types = dict(pair.split("=", 1) for pair in env.get("FEATURE_TYPES", "").split(",") if "=" in pair)
        return cls(project=env["PROJECT"], method=env["METHOD"], threshold=float(env["THRESHOLD"]),
                   features=features, reference=reference, current=current, request_log=log,
                   request_log_window=float(env.get("REQUEST_LOG_WINDOW") or 86400),
                   types=types, columns=tuple(c for c in env.get("COLUMNS", "").split(",") if c) or features,
                   namespace=env.get("NAMESPACE", ""), service=env.get("SERVICE", ""),
                   environment=env.get("ENVIRONMENT", ""), min_rows=int(env.get("MIN_ROWS") or 50),
                   pushgateway=env.get("PUSHGATEWAY_URL", ""), push_job=env.get("PUSHGATEWAY_JOB") or "mlopsdsl-drift",
                   metric=env.get("METRIC_NAME") or "mlopsdsl_drift_score", on_drift=env.get("ON_DRIFT") or "alert",
                   event_type=env.get("DISPATCH_EVENT_TYPE", ""))


def current_rows(config: Config, now: datetime) -> list[dict]:
    if config.current is not None:
        return config.current.rows()
    assert config.request_log is not None
    since = now - timedelta(seconds=config.request_log_window)
    return data.read_request_log(config.request_log, list(config.columns), since=since)


def score(config: Config, reference: list[dict], current: list[dict]) -> dict[str, float]:
    method = stats.METHODS[config.method]
    ref, cur = data.columns_of(reference, config.features), data.columns_of(current, config.features)
    out = {}
    for feature in config.features:
        kind = config.types.get(feature, "float")
        values = [ref[feature], cur[feature]]
        if kind == "datetime":
            values = [[_timestamp(v) for v in side] for side in values]
        try:
            out[feature] = method(*values, categorical=kind in stats.CATEGORICAL_TYPES)
        except stats.StatsError as exc:
            raise data.DataError(f"feature '{feature}': {exc}") from None
    return out


def _timestamp(value) -> float:
    if isinstance(value, datetime):
        return value.timestamp()
    return datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp()


def run(config: Config, now: datetime | None = None) -> dict:
    """Judge once; the report says what was found and what was sent."""
    now = now or datetime.now(timezone.utc)
    reference = config.reference.rows()
    current = current_rows(config, now)
    report: dict = {"project": config.project, "environment": config.environment, "method": config.method,
                    "threshold": config.threshold, "rows": {"reference": len(reference), "current": len(current)}}
    if len(current) < config.min_rows:
        report.update(verdict="too few current rows to judge", scores={}, drifted=[])
        return report
    scores = score(config, reference, current)
    drifted = sorted(f for f, s in scores.items() if s > config.threshold)
    report.update(verdict="drift" if drifted else "no drift", scores=scores, drifted=drifted)
    if config.pushgateway:
        push(config, scores, now)
        report["pushed"] = config.pushgateway
    if drifted and config.on_drift == "retrain":
        report["dispatched"] = dispatch(config, scores)
    return report


# -- what it sends --------------------------------------------------------------------------------

def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def exposition(config: Config, scores: dict[str, float], now: datetime) -> str:
    """The Prometheus text format the Pushgateway takes."""
    lines = [f"# TYPE {config.metric} gauge"]
    lines += [f'{config.metric}{{feature="{_label(f)}",method="{config.method}"}} {s!r}'
              for f, s in sorted(scores.items()) if math.isfinite(s)]
    lines += ["# TYPE mlopsdsl_drift_last_run_timestamp_seconds gauge",
              f"mlopsdsl_drift_last_run_timestamp_seconds {now.timestamp()!r}"]
    return "\n".join(lines) + "\n"


def push_url(config: Config) -> str:
    quote = urllib.parse.quote
    return (f"{config.pushgateway.rstrip('/')}/metrics/job/{quote(config.push_job, safe='')}"
            f"/namespace/{quote(config.namespace, safe='')}/project/{quote(config.project, safe='')}")


def push(config: Config, scores: dict[str, float], now: datetime) -> None:
    # PUT replaces the group: a feature dropped from the spec disappears with the next run.
    request = urllib.request.Request(push_url(config), data=exposition(config, scores, now).encode(), method="PUT",
                                     headers={"Content-Type": "text/plain; version=0.0.4"})
    with urllib.request.urlopen(request, timeout=TIMEOUT):  # noqa: S310 - a configured http(s) URL
        pass


def dispatch(config: Config, scores: dict[str, float]) -> str:
    token, repository = os.environ.get("GITHUB_TOKEN", ""), os.environ.get("GITHUB_REPOSITORY", "")
    if not token or not repository or not config.event_type:
        raise data.DataError("on_drift: retrain needs GITHUB_TOKEN, GITHUB_REPOSITORY (the dispatch Secret) "
                             "and DISPATCH_EVENT_TYPE")
    api = os.environ.get("GITHUB_API_URL", "https://api.github.com").rstrip("/")
    body = {"event_type": config.event_type,
            "client_payload": {RETRAIN_ENVIRONMENT_KEY: config.environment, "project": config.project,
                               "namespace": config.namespace, "scores": scores}}
    request = urllib.request.Request(f"{api}/repos/{repository}/dispatches", data=json.dumps(body).encode(),
                                     method="POST", headers={"Authorization": f"Bearer {token}",
                                                             "Accept": "application/vnd.github+json",
                                                             "X-GitHub-Api-Version": "2022-11-28",
                                                             "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=TIMEOUT):  # noqa: S310 - the GitHub API
        pass
    return config.event_type
