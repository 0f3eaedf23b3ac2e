"""Strict JSON Schemas from vendored OpenAPI v3 schemas (CRDs and Katib's swagger), plus their CEL rules.

The conversion follows what the API server does with a structural schema under strict field
validation (kubectl's default since 1.27): an object that lists `properties` and does not say
`additionalProperties` or `x-kubernetes-preserve-unknown-fields` rejects any other key, so a
misspelt field is an error instead of being pruned in silence. `x-kubernetes-int-or-string`
allows both types, `nullable` allows null. Two things a JSON Schema validator cannot say are
checked here by walking the document beside its schema:

- `x-kubernetes-validations`: each CEL rule is evaluated with cel-python on the value it is
  attached to (`self`), as the API server does. Transition rules (those reading `oldSelf`)
  only apply to updates and are skipped: we judge creation.
- `x-kubernetes-list-type: map`: list items must be unique by their `x-kubernetes-list-map-keys`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import celpy
import jsonschema

SCHEMAS = Path(__file__).parent / "schemas"

OBJECT_META = {  # metadata as the API server accepts it in a manifest we write
    "type": "object", "additionalProperties": False,
    "properties": {"name": {"type": "string"}, "generateName": {"type": "string"},
                   "namespace": {"type": "string"},
                   "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                   "annotations": {"type": "object", "additionalProperties": {"type": "string"}}},
}
_KEYS = {"default", "enum", "format", "maxItems", "maxLength", "maxProperties", "maximum", "minItems",
         "minLength", "minProperties", "minimum", "multipleOf", "pattern", "required", "uniqueItems"}


def strict(node: dict[str, Any], ref_prefix: str = "#/$defs/") -> dict[str, Any]:
    """One OpenAPI v3.0 schema node -> a strict JSON Schema (draft 2020-12) node."""
    if "$ref" in node:
        return {"$ref": ref_prefix + node["$ref"].rsplit("/", 1)[-1]}
    out: dict[str, Any] = {key: node[key] for key in _KEYS & node.keys()}
    if node.get("x-kubernetes-int-or-string"):
        out["type"] = ["integer", "string"]
    elif "type" in node:
        out["type"] = [node["type"], "null"] if node.get("nullable") else node["type"]
    if "pattern" in out:
        re.compile(out["pattern"])  # an RE2-only pattern would judge wrongly: fail loudly instead
    for exclusive, bound in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
        if node.get(exclusive) is True:
            out[exclusive] = out.pop(bound)
    if "properties" in node:
        out["properties"] = {k: strict(v, ref_prefix) for k, v in node["properties"].items()}
    if isinstance(node.get("items"), dict):
        out["items"] = strict(node["items"], ref_prefix)
    if isinstance(node.get("additionalProperties"), dict):
        out["additionalProperties"] = strict(node["additionalProperties"], ref_prefix)
    elif "additionalProperties" in node:
        out["additionalProperties"] = bool(node["additionalProperties"])
    elif "properties" in node and not node.get("x-kubernetes-preserve-unknown-fields"):
        out["additionalProperties"] = False
    for key in ("allOf", "anyOf", "oneOf"):
        if key in node and not node.get("x-kubernetes-int-or-string"):
            out[key] = [strict(branch, ref_prefix) for branch in node[key]]
    return out


@dataclass(frozen=True)
class Schema:
    """A vendored kind: its JSON Schema validator and its raw OpenAPI tree (for CEL and list maps)."""

    api_version: str
    kind: str
    validator: jsonschema.protocols.Validator
    tree: dict[str, Any]
    named: dict[str, Any] = field(default_factory=dict)  # Katib's swagger: name -> definition

    def errors(self, doc: dict[str, Any]) -> list[str]:
        found = [f"{_path(e.absolute_path)}: {e.message}" for e in
                 sorted(self.validator.iter_errors(doc), key=lambda e: list(map(str, e.absolute_path)))]
        found += _walk(self.tree, doc, "", self.named)
        return found


@cache
def crd(filename: str) -> Schema:
    data = json.loads((SCHEMAS / filename).read_text(encoding="utf-8"))
    root = dict(data["openAPIV3Schema"])
    api_version = f"{data['group']}/{data['version']}"
    schema = strict(root)
    schema["properties"] = {**schema["properties"], "apiVersion": {"const": api_version},
                            "kind": {"const": data["kind"]}, "metadata": OBJECT_META}
    schema["required"] = sorted({*schema.get("required", ()), "apiVersion", "kind", "metadata"})
    return Schema(api_version, data["kind"], jsonschema.Draft202012Validator(schema), root)


@cache
def swagger(filename: str, api_version: str, kind: str) -> Schema:
    data = json.loads((SCHEMAS / filename).read_text(encoding="utf-8"))
    defs = {name: strict(node) for name, node in data["schemas"].items()}
    schema = {"$defs": defs, "allOf": [{"$ref": "#/$defs/" + data["root"]}],
              "properties": {"apiVersion": {"const": api_version}, "kind": {"const": kind}},
              "required": ["apiVersion", "kind", "metadata", "spec"]}
    return Schema(api_version, kind, jsonschema.Draft202012Validator(schema),
                  data["schemas"][data["root"]], data["schemas"])


def _path(parts) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in parts) or "."


_CEL = celpy.Environment()


@cache
def _program(rule: str):
    return _CEL.program(_CEL.compile(rule))


def _walk(node: dict[str, Any], value: Any, path: str, named: dict[str, Any]) -> list[str]:
    """CEL rules and list-map uniqueness over the document, guided by the schema tree."""
    if "$ref" in node:
        return _walk(named[node["$ref"].rsplit("/", 1)[-1]], value, path, named)
    found: list[str] = []
    for branch in node.get("allOf", ()):
        found += _walk(branch, value, path, named)
    for rule in node.get("x-kubernetes-validations", ()):
        if "oldSelf" in rule["rule"]:
            continue
        result = _program(rule["rule"]).evaluate({"self": celpy.json_to_cel(value)})
        if not (isinstance(result, celpy.celtypes.BoolType) and result):  # false, or an evaluation error
            found.append(f"{path or '.'}: {rule.get('message', rule['rule'])} (CEL: {rule['rule']})")
    if isinstance(value, dict):
        for key, child in value.items():
            sub = node.get("properties", {}).get(key)
            if sub is None and isinstance(node.get("additionalProperties"), dict):
                sub = node["additionalProperties"]
            if sub is not None:
                found += _walk(sub, child, f"{path}.{key}", named)
    elif isinstance(value, list) and isinstance(node.get("items"), dict):
        keys = node.get("x-kubernetes-list-map-keys")
        if node.get("x-kubernetes-list-type") == "map" and keys:
            seen: set[tuple] = set()
            for index, item in enumerate(value):
                ident = tuple(json.dumps(item.get(k), sort_keys=True) for k in keys) if isinstance(item, dict) else ()
                if ident in seen:
                    found.append(f"{path}[{index}]: duplicate entry for list-map keys {keys}")
                seen.add(ident)
        for index, item in enumerate(value):
            found += _walk(node["items"], item, f"{path}[{index}]", named)
    return found
