"""Monitoring rules the schema cannot say: drift features exist, names are unique."""

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
