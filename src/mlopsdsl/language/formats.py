"""The value formats fields share (`duration`, `cpu`, `dns_label`...): one `$defs` entry each.

Formats carry `patternErrorMessage` (yaml-language-server shows it instead of
"String does not match the pattern") and `mlopsdsl.schema` builds its MLD205
message from the same text, so the editor and the CLI say the same thing. The
syntax of values with units is `mlopsdsl.expr.units`', the one definition the
expression grammar and the value checks read too.
"""

from __future__ import annotations

from typing import Any

from mlopsdsl.expr.units import CPU_SYNTAX, CRON_SYNTAX, DURATION_SYNTAX, MEMORY_SYNTAX, PERCENT_0_100_SYNTAX

EXPR_PATTERN = r"^\$\{\{[\s\S]*\}\}$"


def fmt(pattern: str, what: str, example: str, *, type_: str | list[str] = "string", **extra: Any) -> dict[str, Any]:
    """A string format: `what` names it ("a memory quantity"), `example` shows one."""
    return {"type": type_, "pattern": pattern, "patternErrorMessage": f"not {what}; use e.g. {example}", **extra}


def _whole(syntax: str) -> str:
    return f"^(?:{syntax})$"


_LABEL = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
FORMATS: dict[str, dict[str, Any]] = {
    "expr": fmt(EXPR_PATTERN, "a whole-value expression", "\"${{ params.threshold }}\" (quoted)",
                title="Expression", examples=["${{ params.learning_rate }}"], **{"x-noun": "an expression ${{ ... }}"}),
    # The shape only: the type checker judges the name and the key (MLD610).
    "secret_ref": fmt(r"^\$\{\{\s*secrets\.[A-Za-z_][A-Za-z0-9_]*(\.[-A-Za-z0-9_]+|\[[^\]]+\])?\s*\}\}$",
                      "a secret reference", "\"${{ secrets.wandb_api_key }}\"", title="Secret reference",
                      examples=["${{ secrets.wandb_api_key }}", "${{ secrets.mlflow.token }}"]),
    "secret_name": fmt(r"^[A-Za-z_][A-Za-z0-9_]*$", "a secret name (letters, digits, '_')", "slack_webhook",
                       title="Secret name", examples=["slack_webhook"]),
    "dns_label": fmt(r"^" + _LABEL + r"$", "a DNS-1123 label (lowercase letters, digits, '-')", "churn-model",
                     title="DNS-1123 label", maxLength=63, examples=["churn"]),
    "dns1035_label": fmt(r"^[a-z]([-a-z0-9]*[a-z0-9])?$",
                         "a DNS-1035 label (lowercase letters, digits, '-'; starts with a letter)", "churn-api",
                         title="DNS-1035 label", maxLength=63, examples=["churn-api"]),
    "identifier": fmt(r"^[a-z_][a-z0-9_]*$", "an identifier (lowercase letters, digits, '_')", "learning_rate",
                      title="Identifier", maxLength=63),
    "step_name": fmt(r"^[a-z][a-z0-9_-]*$", "a step name (lowercase letters, digits, '_', '-')", "train_model",
                     title="Step name", maxLength=40),
    "env_name": fmt(r"^[A-Za-z_][A-Za-z0-9_]*$", "an environment variable name", "LOG_LEVEL",
                    title="Environment variable name"),
    "semver": fmt(r"^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)"
                  r"(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?(\+[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?$",
                  "a semantic version", "1.4.0 or 2.0.0-rc.1", title="Semantic version", examples=["1.0.0"]),
    "cpu": fmt(_whole(CPU_SYNTAX), "a cpu quantity", "500m or 2", type_=["string", "number"],
               exclusiveMinimum=0, title="CPU quantity", examples=["500m", "2"]),
    "memory": fmt(_whole(MEMORY_SYNTAX), "a memory quantity", "8Gi or 512Mi",
                  type_=["string", "integer"], minimum=1, title="Memory quantity", examples=["512Mi", "8Gi"]),
    "duration": fmt(_whole(DURATION_SYNTAX), "a duration", "30s, 5m, 2h or 1h30m", title="Duration",
                    examples=["30s", "5m", "2h"]),
    "percent": fmt(_whole(PERCENT_0_100_SYNTAX), "a percentage", "10% or 12.5%",
                   title="Percentage", examples=["10%"]),
    "cron": fmt(_whole(CRON_SYNTAX), "a cron schedule with 5 fields", "\"0 3 * * 1\"", title="Cron schedule", examples=["0 * * * *"]),
    "url": fmt(r"^https?://[^\s]+$", "an http(s) URL", "https://kfp.acme.example", title="URL"),
    "image": fmt(r"^([^\s]+|.*\$\{\{.*\}\}.*)$", "a container image reference", "ghcr.io/acme/churn:1.4.0",
                 title="Container image", examples=["ghcr.io/acme/churn:1.0.0"]),
    "storage_uri": fmt(r"^([a-z][a-z0-9+.-]*://.+|\$\{\{[\s\S]*\}\}.*)$", "a storage URI",
                       "s3://bucket/models/churn/", title="Storage URI", examples=["s3://bucket/models/churn/"]),
    "label_key": fmt(r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?"
                     r"[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$",
                     "a Kubernetes label key", "team or acme.example/team", title="Label key", maxLength=316),
    "label_value": fmt(r"^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$", "a Kubernetes label value", "growth",
                       title="Label value", maxLength=63),
}

# How the docs' type column names a value of each format.
FORMAT_WORDS = {
    "expr": "expr", "secret_ref": "`${{ secrets.NAME[.KEY] }}`", "secret_name": "secret name", "dns_label": "DNS-1123 label",
    "dns1035_label": "DNS-1035 label", "identifier": "identifier", "step_name": "step name",
    "env_name": "env var name", "semver": "semver", "cpu": "cpu", "memory": "memory", "duration": "duration",
    "percent": "percent", "cron": "cron", "url": "URL", "image": "image reference", "storage_uri": "storage URI",
    "label_key": "label key", "label_value": "label value",
}
