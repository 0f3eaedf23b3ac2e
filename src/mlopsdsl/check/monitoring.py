"""Monitoring rules the schema cannot say: drift features exist, names are unique, the serving
metrics source fits the deployment mode, a no-traffic probe can be sent."""

from __future__ import annotations

import re

from mlopsdsl.check.context import CheckContext, did_you_mean, known
from mlopsdsl.diagnostics import codes

_DATA_REF = re.compile(r"^\s*\$\{\{\s*data\.([A-Za-z_][A-Za-z0-9_-]*)\s*\}\}\s*$")


def check_drift(ctx: CheckContext) -> None:
    drift = ctx.section("monitoring").get("drift")
    if not isinstance(drift, dict):
        return
    reference = drift.get("reference")
    match = _DATA_REF.match(reference) if isinstance(reference, str) else None
    if match is None:
        return  # not `${{ data.X }}`: the expression checker reports it
    name = match.group(1)
    source = ctx.section("data").get(name)
    if not isinstance(source, dict):
        return  # unknown data source: reported by the expression checker
    schema = source.get("schema")
    features = drift.get("features") or []
    if not isinstance(schema, dict) or not schema:
        ctx.error(codes.DRIFT_REFERENCE_NO_SCHEMA,
                  f"data source '{name}' declares no schema, so drift features cannot be checked",
                  ("monitoring", "drift", "reference"),
                  hint=f"add `schema: {{column: type, ...}}` to data.{name}")
        return
    for i, feature in enumerate(features):
        if isinstance(feature, str) and feature not in schema:
            ctx.error(codes.DRIFT_FEATURE_UNKNOWN,
                      f"drift feature '{feature}' is not a column of data.{name}.schema",
                      ("monitoring", "drift", "features", i),
                      hint=did_you_mean(feature, schema) or f"columns: {known(schema)}")


NUMERIC_ONLY = ("ks", "wasserstein")
CATEGORICAL = ("str", "bool", "category")


def check_drift_job(ctx: CheckContext) -> None:
    """What the drift job needs: one current sample, statistics that fit the features."""
    drift = ctx.section("monitoring").get("drift")
    if not isinstance(drift, dict):
        return
    path = ("monitoring", "drift")
    sources = [k for k in ("current", "request_log") if k in drift]
    if len(sources) != 1:
        ctx.error(codes.DRIFT_NEEDS_CURRENT, "the drift job needs one current sample, "
                  + ("not both `current` and `request_log`" if sources else "and has none"),
                  path + ((sources[-1],) if sources else ()), key=not sources,
                  hint="`request_log: {uri: s3://bucket/prefix, storage_key: KEY}` (the served model's requests are "
                       "logged there), or `current: ${{ data.NAME }}`")
    if drift.get("method", "psi") in NUMERIC_ONLY:
        match = _DATA_REF.match(drift.get("reference") or "") if isinstance(drift.get("reference"), str) else None
        source = ctx.section("data").get(match.group(1)) if match else None
        schema = source.get("schema") if isinstance(source, dict) else None
        for i, feature in enumerate(drift.get("features") or []):
            if isinstance(schema, dict) and schema.get(feature) in CATEGORICAL:
                ctx.error(codes.DRIFT_METHOD_FEATURE, f"`{drift['method']}` cannot compare the {schema[feature]} "
                          f"feature '{feature}'", path + ("features", i), hint="use `method: psi` or `chi2`")


def check_unique_names(ctx: CheckContext) -> None:
    for section, key, items in (("monitoring", "alerts", ctx.section("monitoring").get("alerts")),
                                ("serving", "variants", ctx.section("serving").get("variants"))):
        seen: dict[str, int] = {}
        for i, item in enumerate(items or []):
            name = item.get("name") if isinstance(item, dict) else None
            if not isinstance(name, str):
                continue
            if name in seen:
                ctx.error(codes.DUPLICATE_NAME, f"{key[:-1]} name '{name}' is used twice (first at "
                          f"{section}.{key}[{seen[name]}])", (section, key, i, "name"),
                          hint="names become rule and service names; make them unique")
            seen.setdefault(name, i)


def check_no_traffic(ctx: CheckContext) -> None:
    serving = ctx.section("serving")
    rollout = serving.get("rollout") if isinstance(serving.get("rollout"), dict) else {}
    policy = rollout.get("no_traffic")
    if not isinstance(policy, dict):
        return
    path = ("serving", "rollout", "no_traffic")
    probe = policy.get("probe")
    if policy.get("action") == "probe":
        if not isinstance(probe, dict) or not probe.get("body"):
            ctx.error(codes.NO_TRAFFIC_PROBE, "`action: probe` has no request body to send", path + ("action",),
                      hint="add `probe: {body: path/to/request.json}` (a JSON body for the predict endpoint)")
    elif probe is not None:
        ctx.error(codes.NO_TRAFFIC_PROBE, "`probe` is set but `action` is not `probe`: it would never be sent",
                  path + ("probe",), hint="set `action: probe`, or remove `probe`")
