"""Mapping tables from mlopsdsl's vocabulary to KFP's, and the few conversions KFP needs.

Kept as data so the rest of the backend reads like sqlglot's dialects: tables
plus small functions. Values mirror what kfp 2.17's own compiler writes, so a
pipeline we emit and the same pipeline written with kfp's DSL agree (see
tests/backends/test_kubeflow_diff.py).
"""

from __future__ import annotations

import json
from typing import Any

from mlopsdsl.backends.base import MLOPSDSL_VERSION as __version__

SCHEMA_VERSION = "2.1.0"
SDK_VERSION = f"mlopsdsl-{__version__}"

ARTIFACT_SCHEMA = {
    "Dataset": "system.Dataset",
    "Model": "system.Model",
    "Metrics": "system.Metrics",
    "ClassificationMetrics": "system.ClassificationMetrics",
    "HTML": "system.HTML",
    "Markdown": "system.Markdown",
    "Artifact": "system.Artifact",
}

PARAMETER_TYPE = {
    "int": "NUMBER_INTEGER",
    "float": "NUMBER_DOUBLE",
    "bool": "BOOLEAN",
    "str": "STRING",
    # expression types that reach KFP as plain values (base units, see ir/expr.py)
    "duration": "NUMBER_DOUBLE",
    "percent": "NUMBER_DOUBLE",
    "cpu": "NUMBER_DOUBLE",
    "memory": "NUMBER_DOUBLE",
}

# The image of the generated `dvc get` step for `data.X.dvc` sources (has git and dvc).
DVC_IMAGE = "iterativeai/cml:0-dvc3-base1"

# kfp's defaults when only a retry count is given (PipelineTask.set_retry).
RETRY_DEFAULTS = {"backoff": 0.0, "factor": 2.0, "max_backoff": 3600.0}


def artifact_type(type_name: str) -> dict[str, str]:
    return {"schemaTitle": ARTIFACT_SCHEMA[type_name], "schemaVersion": "0.0.1"}


def parameter_type(type_name: str) -> str:
    if type_name.startswith("list"):
        return "LIST"
    if type_name.startswith(("dict", "struct")):
        return "STRUCT"
    return PARAMETER_TYPE.get(type_name, "STRING")


def raw_items(items: list[Any]) -> str:
    """`parameterIterator.items.raw`: the JSON text kfp writes (keys sorted)."""
    return json.dumps(items, sort_keys=True)


def constant(value: Any, type_name: str) -> Any:
    """A parameter constant in the JSON form its parameterType expects (ints are numbers)."""
    if type_name == "float" and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


def duration(seconds: float) -> str:
    """Protobuf Duration text, as kfp writes it ("30s", "0s", "1.5s")."""
    return f"{int(seconds)}s" if float(seconds).is_integer() else f"{seconds}s"


def dns_name(name: str) -> str:
    """A spec identifier as a KFP task / K8s name part (underscores are not allowed there)."""
    return name.replace("_", "-").lower()
