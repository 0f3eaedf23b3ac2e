"""Small constructors for JSON Schema fragments, and the shared value formats.

Every property goes through `field()`, which is what guarantees the two
descriptions editors need: `markdownDescription` (rendered in VS Code's hover
and completion) and `description` (plain text for every other tool). Writing
the schema as Python keeps those pairs, the `$ref`s and the format table in one
place; `schemas/mlopsdsl.schema.json` is generated from it.

Formats carry `patternErrorMessage` (yaml-language-server shows it instead of
"String does not match the pattern") and `mlopsdsl.schema` builds its MLD205
message from the same text, so the editor and the CLI say the same thing.
"""

from __future__ import annotations

from typing import Any

Schema = dict[str, Any]

EXPR_PATTERN = r"^\$\{\{[\s\S]*\}\}$"


def plain(markdown: str) -> str:
    """Markdown -> plain text for `description` (editors escape markdown there)."""
    return markdown.replace("`", "").replace("**", "")


def field(schema: Schema, markdown: str, **extra: Any) -> Schema:
    """A property: its shape plus both descriptions (and examples, defaults, snippets...)."""
    return {**schema, **extra, "description": plain(markdown), "markdownDescription": markdown}


def ref(name: str) -> Schema:
    return {"$ref": f"#/$defs/{name}"}


def obj(properties: dict[str, Schema], *, required: tuple[str, ...] = (), title: str | None = None,
        **extra: Any) -> Schema:
    """A mapping with a fixed set of keys: anything else is a typo (MLD201)."""
    out: Schema = {"type": "object", "additionalProperties": False, "properties": properties}
    if required:
        out["required"] = list(required)
    if title:
        out["title"] = title
    out.update(extra)
    return out


def map_of(values: Schema, keys: Schema | None = None, **extra: Any) -> Schema:
    """A mapping whose keys the user chooses (step names, env vars, labels)."""
    out: Schema = {"type": "object", "additionalProperties": values}
    if keys:
        out["propertyNames"] = keys
    out.update(extra)
    return out


def list_of(items: Schema, **extra: Any) -> Schema:
    return {"type": "array", "items": items, **extra}


def enum(values: dict[str, str], **extra: Any) -> Schema:
    """A closed set; each value documented for completion (`markdownEnumDescriptions`)."""
    return {"type": "string", "enum": list(values), "markdownEnumDescriptions": list(values.values()), **extra}


def fmt(pattern: str, what: str, example: str, *, type_: str | list[str] = "string", **extra: Any) -> Schema:
    """A string format: `what` names it ("a memory quantity"), `example` shows one."""
    return {"type": type_, "pattern": pattern, "patternErrorMessage": f"not {what}; use e.g. {example}", **extra}


STRING = {"type": "string"}
TEXT = {"type": "string", "minLength": 1}
BOOL = {"type": "boolean"}
NUMBER = {"type": "number"}

# The value formats shared across sections: name -> (schema, short doc for $defs).
_LABEL = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
FORMATS: dict[str, Schema] = {
    "expr": fmt(EXPR_PATTERN, "a whole-value expression", "\"${{ params.threshold }}\" (quoted)",
                title="Expression", examples=["${{ params.learning_rate }}"], **{"x-noun": "an expression ${{ ... }}"}),
    "secret_ref": fmt(r"^\$\{\{\s*secrets\.[A-Za-z_][A-Za-z0-9_]*\s*\}\}$", "a secret reference",
                      "\"${{ secrets.wandb_api_key }}\"", title="Secret reference",
                      examples=["${{ secrets.wandb_api_key }}"]),
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
    "cpu": fmt(r"^([0-9]+m|[0-9]+(\.[0-9]+)?)$", "a cpu quantity", "500m or 2", type_=["string", "number"],
               exclusiveMinimum=0, title="CPU quantity", examples=["500m", "2"]),
    "memory": fmt(r"^[0-9]+(\.[0-9]+)?(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$", "a memory quantity", "8Gi or 512Mi",
                  type_=["string", "integer"], minimum=1, title="Memory quantity", examples=["512Mi", "8Gi"]),
    "duration": fmt(r"^([0-9]+(ms|s|m|h|d))+$", "a duration", "30s, 5m, 2h or 1h30m", title="Duration",
                    examples=["30s", "5m", "2h"]),
    "percent": fmt(r"^(100(\.0+)?|[0-9]{1,2}(\.[0-9]+)?)%$", "a percentage", "10% or 12.5%",
                   title="Percentage", examples=["10%"]),
    "cron": fmt(r"^(@(yearly|annually|monthly|weekly|daily|hourly)|"
                r"\s*[0-9*,/?A-Za-z-]+(\s+[0-9*,/?A-Za-z-]+){4}\s*)$",
                "a cron schedule with 5 fields", "\"0 3 * * 1\"", title="Cron schedule", examples=["0 * * * *"]),
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


def labels(markdown: str) -> Schema:
    return field(map_of(ref("label_value"), ref("label_key")), markdown, examples=[{"team": "growth"}])
