"""One secret scanner sees every string a compile can emit (issue 13).

Each credential shape is placed in each kind of place a value reaches the output
from: a step's `run`, free text, a `patches:` value and a label key a patch adds,
a `uses:` component's `run` and `env`, and split by an expression that folds
away. `validate` must report it (MLD645, in the file where it is written) and
`compile` must write nothing. Look-alikes that are not credentials stay quiet,
and so do the shipped examples.
"""

from __future__ import annotations

import re
import shutil

import pytest
from conftest import EXAMPLES

from mlopsdsl import cli
from mlopsdsl.check.secrets import credential_shape
from mlopsdsl.driver import check_file

SHAPES = {  # the shape -> a fake credential of that shape (none of these is real)
    "aws-access-key": "AKIAIOSFODNN7EXAMPLE",
    "aws-secret-key": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    "pgp-block": "-----BEGIN PGP PRIVATE KEY BLOCK-----",
    "ssh-key": "-----BEGIN OPENSSH PRIVATE KEY-----",
    "stripe": "sk_live_4eC39HqLyjWDarjtT1zdp7dc",
    "redis-password": "redis://:hunter2@cache.internal:6379/0",
    "google-api-key": "AIzaSyA1b2C3d4E5f6G7h8I9j0KlMnOpQrStUvW",
    "gitlab": "glpat-Ab3dEf6hIj9kLm2nOp5q",
    "npm": "npm_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8",
    "azure-account-key": "DefaultEndpointsProtocol=https;AccountName=acme;AccountKey=Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MA==",
    "basic-auth": "Authorization: Basic dXNlcjpodW50ZXIy",
    "github": "ghp_" + "A" * 36,
    "slack": "xoxb-1234567890-abcdefghij",
    "jwt": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.signature",
    "hugging-face": "hf_" + "b" * 34,
}

PROJECT = """\
apiVersion: mlopsdsl/v1
kind: Project
metadata: {{name: churn, version: 1.0.0, description: "{description}"}}
model: {{name: churn, task: regression, framework: sklearn}}
defaults: {{image: "ghcr.io/acme/churn:1.0.0"}}
pipeline:
  steps:
    train:
      run: [python, train.py, --note, "{run}", --model, "${{{{ outputs.model.path }}}}"]
      outputs: {{model: Model}}
    register:
      uses: ./components/register.yaml
      inputs: {{model: "${{{{ steps.train.outputs.model }}}}"}}
serving:
  name: churn-api
  model: "${{{{ steps.train.outputs.model }}}}"
  storage_uri: s3://acme/models/churn/
  rollout: {{strategy: direct}}
patches:
  - target: kserve
    select: {{kind: InferenceService}}
    merge:
      metadata:
        annotations: {{note: "{patch_value}"}}
        labels: {{"{patch_key}": "x"}}
"""

COMPONENT = """\
apiVersion: mlopsdsl/v1
kind: Component
metadata: {{name: register, version: 0.1.0}}
image: ghcr.io/acme/tools:0.1.0
run: [python, register.py, --model, "${{{{ inputs.model.path }}}}", --note, "{component_run}"]
inputs: {{model: Model}}
env: {{NOTE: "{component_env}"}}
"""

PLACES = ("run", "description", "patch_value", "patch_key", "component_run", "component_env", "folded")
PLAIN = {"run": "plain", "description": "plain", "patch_value": "plain", "patch_key": "team",
         "component_run": "plain", "component_env": "plain"}


def _write(tmp_path, place: str, secret: str):
    values = dict(PLAIN)
    quoted = secret.replace("\\", "\\\\").replace('"', '\\"')
    if place == "folded":  # split by an expression that folds to nothing: the compile writes it whole
        cut = len(quoted) // 2
        values["run"] = quoted[:cut] + "${{ '' }}" + quoted[cut:]
    else:
        values[place] = quoted
    (tmp_path / "components").mkdir(exist_ok=True)
    (tmp_path / "components" / "register.yaml").write_text(COMPONENT.format(**values), encoding="utf-8")
    spec = tmp_path / "spec.yaml"
    spec.write_text(PROJECT.format(**values), encoding="utf-8")
    return spec


def test_the_project_without_a_secret_is_clean(tmp_path):
    result = check_file(str(_write(tmp_path, "run", "plain")))
    assert result.diagnostics == []


@pytest.mark.parametrize("place", PLACES)
@pytest.mark.parametrize("shape", SHAPES)
def test_every_shape_is_caught_in_every_place(tmp_path, capsys, shape, place):
    spec = _write(tmp_path, place, SHAPES[shape])
    result = check_file(str(spec))
    found = [d for d in result.diagnostics if d.code.code == "MLD645"]
    assert found, [str(d) for d in result.diagnostics]
    in_file = "components/register.yaml" if place.startswith("component") else "spec.yaml"
    assert all(d.span.file.endswith(in_file) for d in found), found
    out = tmp_path / "out"
    assert cli.main(["compile", str(spec), "--out", str(out)]) == 1
    assert "MLD645" in capsys.readouterr().out and not out.exists()


@pytest.mark.parametrize("text", [
    "0123456789abcdef0123456789abcdef01234567",        # a git SHA: lowercase hex
    "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    "a basic preprocessing step", "Basic usage: see README", "s3://acme-ml/models/churn/1.4.0/",
    "https://mlflow.acme.example:5000/#/experiments", "sk-learn", "AIza", "npm_install",
    "ghcr.io/acme/churn:1.4.0", "ThisIsNotAKeyButItHasFortyCharacters1234"[:39],
    "urn:uuid:123e4567-e89b-12d3-a456-426614174000", "python -m churn.train --lr 0.1",
])
def test_look_alikes_are_not_credentials(text):
    assert credential_shape(text) is None


def test_the_shipped_examples_and_their_compiled_output_are_clean(tmp_path, capsys):
    specs = sorted(p for p in EXAMPLES.rglob("*.yaml"))
    assert cli.main(["validate", *map(str, specs)]) == 0, capsys.readouterr().out
    for spec in (p for p in specs if "components" not in p.parts):
        assert cli.main(["compile", str(spec), "--out", str(tmp_path / spec.stem)]) == 0, capsys.readouterr()


def test_compile_catches_what_reaches_the_output_another_way(tmp_path, capsys):
    # A patch's value made of two halves: each half is harmless, the target writes them whole.
    shutil.copytree(EXAMPLES / "churn", tmp_path / "churn")
    spec = tmp_path / "churn" / "churn.yaml"
    text = spec.read_text(encoding="utf-8")
    text = text.replace("annotations: {sidecar.istio.io/inject: \"true\"}",
                        "annotations: {sidecar.istio.io/inject: \"true\"}\n"
                        "        labels: {a: b}\n  - target: kserve\n    select: {kind: InferenceService,"
                        " name: churn-api}\n    json_patch:\n      - {op: copy, from: /metadata/name,"
                        " path: /metadata/annotations/x}")
    spec.write_text(text, encoding="utf-8")
    assert cli.main(["compile", str(spec), "--out", str(tmp_path / "out")]) == 0  # control: no secret here
    from mlopsdsl.check.secrets import scan_emitted
    from mlopsdsl.backends.base import Artifact

    found = scan_emitted([Artifact("kserve/x.yaml", "yaml", ({"a": "AKIAIOSFODNN7" + "EXAMPLE", "b": "\u202e"},))],
                         "spec.yaml")
    assert sorted(d.code.code for d in found) == ["MLD116", "MLD645"]
    assert all(re.match(r"kserve/x\.yaml would hold", d.message) for d in found)



def _planted(data, shapes):
    """`data` with every string value and mapping key replaced by a numbered credential (the shapes in
    turn). Returns it and {(path in the new document, at the key): shape}."""
    names, planted = list(shapes), {}

    def plant(path: tuple, key: bool) -> str:
        shape = names[len(planted) % len(names)]
        text = f"{len(planted)} {shapes[shape]}"  # numbered: the keys of one mapping stay distinct
        planted[(path + (text,) if key else path, key)] = shape
        return text

    def walk(value, path):
        if isinstance(value, dict):
            out = {}
            for item in value.values():
                key = plant(path, key=True)
                out[key] = walk(item, path + (key,))
            return out
        if isinstance(value, list):
            return [walk(item, path + (i,)) for i, item in enumerate(value)]
        return plant(path, key=False) if isinstance(value, str) else value

    return walk(data, ()), planted


@pytest.mark.parametrize("file", ["churn/churn.yaml", "churn/components/register.yaml"])
def test_every_shape_is_caught_in_every_field_and_key_of_a_shipped_spec(tmp_path, file):
    # Every string value and every key of a shipped file holds a credential. The schema refuses most
    # of the result (a credential is no task, no step name): the scan must still name each place.
    import yaml

    original = yaml.safe_load((EXAMPLES / file).read_text(encoding="utf-8"))
    data, planted = _planted(original, SHAPES)
    spec = tmp_path / "spec.yaml"
    spec.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    found = {(tuple(d.path), d.message.startswith("this key")) for d in check_file(str(spec)).diagnostics
             if d.code.code == "MLD645"}
    assert set(planted.values()) == set(SHAPES) and sum(key for _, key in planted) > 20
    missed = sorted(f"{shape} at {'the key ' if key else ''}{'.'.join(map(str, path))}"
                    for (path, key), shape in planted.items() if (path, key) not in found)
    assert missed == [], f"{len(missed)} of {len(planted)} places not reported"
