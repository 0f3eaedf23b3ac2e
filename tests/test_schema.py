"""The JSON Schema itself: generated and committed in sync, well-formed, documented, fast."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path

import jsonschema_rs
import pytest
from conftest import CASES, EXAMPLES, REPO, run_cli

from mlopsdsl import resources, schema
from mlopsdsl.loader import load_file, load_text

SCHEMA_FILE = REPO / "schemas" / "mlopsdsl.schema.json"
LANGUAGE_DOC = REPO / "docs" / "language.md"


def _walk(node, path=()):
    """Every subschema with the path of keywords that leads to it."""
    if isinstance(node, dict):
        yield path, node
        for key, value in node.items():
            yield from _walk(value, path + (key,))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _walk(value, path + (i,))


def _properties():
    """(where, name, schema) for every property the schema defines."""
    for path, node in _walk(resources.schema()):
        if path[-1:] == ("properties",) and "if" not in path:
            for name, sub in node.items():
                yield "/".join(map(str, path)), name, sub


def test_committed_schema_is_the_generated_one():
    from mlopsdsl.schemagen import render

    assert SCHEMA_FILE.read_text(encoding="utf-8") == render(), \
        "schemas/mlopsdsl.schema.json is stale: run `python -m mlopsdsl.schemagen` and commit the result"


def test_packaged_schema_is_the_committed_file():
    assert resources.schema_text() == SCHEMA_FILE.read_text(encoding="utf-8")


def test_schema_is_valid_draft_2020_12():
    from jsonschema import Draft202012Validator

    Draft202012Validator.check_schema(resources.schema())
    jsonschema_rs.validator_for(resources.schema())
    assert resources.schema()["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def test_schema_text_is_deterministic():
    text = SCHEMA_FILE.read_text(encoding="utf-8")
    assert text == json.dumps(json.loads(text), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    code, out, _ = run_cli("schema")
    assert code == 0 and out == text


def test_every_property_has_both_descriptions():
    undocumented = [f"{where}/{name}" for where, name, sub in _properties()
                    if not sub.get("description") or not sub.get("markdownDescription")]
    assert not undocumented


def test_every_definition_has_a_title():
    assert not [name for name, sub in resources.schema()["$defs"].items() if "title" not in sub]


def test_fixed_key_mappings_are_closed():
    open_objects = [path for path, node in _walk(resources.schema())
                    if "properties" in node and path and "if" not in path and node.get("additionalProperties") is not False]
    assert not open_objects


def test_no_dangling_refs():
    defs = resources.schema()["$defs"]
    refs = {node["$ref"] for _, node in _walk(resources.schema()) if isinstance(node.get("$ref"), str)}
    assert not [r for r in refs if r.rsplit("/", 1)[-1] not in defs]


def _spec_files() -> list[Path]:
    files = sorted(EXAMPLES.rglob("*.yaml")) + sorted((CASES / "valid").rglob("*.yaml"))
    return [f for f in files if f.is_file()]


@pytest.mark.parametrize("path", _spec_files(), ids=lambda p: str(p.relative_to(REPO)))
def test_examples_and_valid_cases_validate(path: Path):
    document, problems = load_file(str(path))
    assert document is not None, problems
    assert [f"{d.span}: {d.code} {d.message}" for d in schema.validate(document)] == []


def _format(name: str):
    defs = resources.schema()["$defs"]
    return jsonschema_rs.validator_for({"$defs": defs, "$ref": f"#/$defs/{name}"})


FORMATS = {
    "cpu": (["500m", "2", 2, 0.5, "0.25", "1500m"], ["500 m", "2 cores", "m", 0, -1, "1.5m"]),
    "memory": (["512Mi", "8Gi", "1G", "1.5Gi", 1073741824], ["8GB", "8 Gi", "gi", "-1Gi", 0]),
    "duration": (["250ms", "30s", "5m", "2h", "1d", "1h30m", "1.5h"], ["30", "2 hours", "1.5 h", "h", "30S", "1h 30m"]),
    "percent": (["10%", "12.5%", "100%", "0%"], ["10", "101%", "10 %", "%", "1000%"]),
    "cron": (["0 * * * *", "0 3 * * 1", "*/5 0-6 * * MON-FRI", "@daily"],
             ["0 3 * *", "every hour", "* * * * * *", "@often"]),
    "semver": (["1.4.0", "0.1.0", "2.0.0-rc.1", "1.0.0+build.7"], ["1.4", "v1.4.0", "01.2.3", "1.2.3.4"]),
    "dns_label": (["churn", "churn-2", "a"], ["Churn", "churn_model", "-churn", "churn-", "a" * 64]),
    "dns1035_label": (["churn-api"], ["2churn", "churn.api"]),
    "step_name": (["train", "train_model", "prep-data"], ["Train", "2nd", "_x", "a" * 41]),
    "identifier": (["learning_rate", "_x", "x1"], ["learningRate", "1x", "x-y"]),
    "expr": (["${{ params.x }}", "${{ steps.a.outputs.b >= 1 }}"], ["params.x", "${{ x }} tail", "{{ x }}"]),
    "secret_ref": (["${{ secrets.wandb_key }}"], ["${{ params.key }}", "sk-123"]),
    "image": (["ghcr.io/acme/churn:1.4.0", "python:3.11", "ghcr.io/acme/x:${{ metadata.version }}"],
              ["ghcr.io/acme/churn 1.4.0", ""]),
    "label_key": (["team", "acme.example/team", "node.kubernetes.io/instance-type"], ["-team", "a/b/c", ""]),
}


@pytest.mark.parametrize("name", sorted(FORMATS))
def test_value_formats(name: str):
    validator = _format(name)
    good, bad = FORMATS[name]
    assert [v for v in good if not validator.is_valid(v)] == []
    assert [v for v in bad if validator.is_valid(v)] == []


def test_valid_path_never_imports_python_jsonschema():
    code = (
        "import sys\n"
        "from mlopsdsl.loader import load_file\nfrom mlopsdsl import schema\n"
        f"doc, _ = load_file({str(EXAMPLES / 'churn' / 'churn.yaml')!r})\n"
        "assert schema.validate(doc) == []\n"
        "print('jsonschema' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_validators_are_built_once():
    assert schema._fast_validator() is schema._fast_validator()
    assert schema._explaining_validator() is schema._explaining_validator()


def big_spec(steps: int) -> str:
    lines = ["apiVersion: mlopsdsl/v1", "kind: Project", "metadata: {name: big, version: 1.0.0}",
             "defaults: {image: 'ghcr.io/acme/big:1.0.0', resources: {cpu: 500m, memory: 1Gi}}",
             "pipeline:", "  steps:"]
    for i in range(steps):
        lines += [f"    s{i}:",
                  f"      run: [python, -m, big.step, --i, '{i}', --out, '${{{{ outputs.o.path }}}}']",
                  "      outputs: {o: Dataset, m: {type: Metrics, fields: {acc: float}}}",
                  "      resources: {cpu: '1', memory: 2Gi, gpu: 1}",
                  "      retries: {count: 3, backoff: 30s}",
                  "      timeout: 1h"]
        if i:
            lines += [f"      inputs: {{x: '${{{{ steps.s{i - 1}.outputs.o }}}}'}}", f"      after: [s{i - 1}]"]
    return "\n".join(lines) + "\n"


def test_thousand_step_spec_validates_fast():
    document, problems = load_text(big_spec(1000), "big.yaml")
    assert document is not None, problems
    assert schema.validate(document) == []  # compiles the validator on first use
    start = time.perf_counter()
    for _ in range(5):
        assert schema.validate(document) == []
    per_call = (time.perf_counter() - start) / 5
    assert per_call < 0.1, f"validating 1,000 steps took {per_call * 1000:.1f} ms"


def _documented_names() -> set[str]:
    """Every word written as code (`name`, or inside `{count, backoff: duration}`)."""
    spans = re.findall(r"`([^`\n]+)`", LANGUAGE_DOC.read_text(encoding="utf-8"))
    return {word for span in spans for word in re.findall(r"[A-Za-z_][A-Za-z0-9_]*", span)}


def test_language_doc_mentions_every_section_and_property():
    if not LANGUAGE_DOC.is_file():
        pytest.fail("docs/language.md is missing")
    names = _documented_names()
    sections = set(resources.schema()["$defs"]["project"]["properties"]) - {"apiVersion", "kind"}
    missing_sections = [s for s in sorted(sections) if f"## `{s}`" not in LANGUAGE_DOC.read_text(encoding="utf-8")]
    assert not missing_sections, "docs/language.md has no '## `section`' heading for these"
    missing = sorted({name for _, name, _ in _properties()} - names)
    assert not missing, "docs/language.md does not mention these properties (as `name`)"
