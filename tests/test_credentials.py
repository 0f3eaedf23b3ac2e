"""Credentials end to end (issue 16): every `${{ secrets.NAME[.KEY] }}` a spec may write reaches the
place that reads it as a reference to a Secret (never as text), in every target that can carry it,
and each target's SETUP note names every Secret and key its output reads.

The compiled outputs are judged by what reads them: the kfp-kubernetes platform spec (`secretAsEnv`,
the shape kfp.kubernetes.use_secret_as_env writes), container `valueFrom.secretKeyRef`, and the
Secrets listed in SETUP.md.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from conftest import EXAMPLES

from mlopsdsl import compiler
from mlopsdsl.diagnostics import codes
from mlopsdsl.driver import build_ir, check_file

WHL = "https://wheels.example/mlopsdsl-0.1.0-py3-none-any.whl#sha256=" + "0" * 64

# A secret in every place the language takes one, each under its own name.
EVERYWHERE = f"""\
apiVersion: mlopsdsl/v1
kind: Project
metadata: {{name: churn, version: 1.0.0}}
model: {{name: churn, framework: sklearn}}
tracking:
  mlflow: {{uri: http://mlflow:5000, experiment: churn, token: "${{{{ secrets.mlflow_auth.token }}}}"}}
  wandb: {{project: churn, api_key: "${{{{ secrets.wandb_key }}}}"}}
data:
  reference:
    dvc:
      repo: https://github.com/acme/data
      path: churn/reference.parquet
      rev: v1
      env:
        AWS_ACCESS_KEY_ID: "${{{{ secrets.dvc_remote.access_key }}}}"
        AWS_SECRET_ACCESS_KEY: "${{{{ secrets.dvc_remote['secret-key'] }}}}"
        AWS_DEFAULT_REGION: eu-west-1
    schema: {{tenure: float}}
defaults:
  image: ghcr.io/acme/churn:1.0.0
  env:
    DEFAULT_TOKEN: "${{{{ secrets.default_creds }}}}"
    LOG_LEVEL: info
pipeline:
  steps:
    train:
      run: [python, -m, churn.train, "${{{{ inputs.data.path }}}}"]
      inputs: {{data: "${{{{ data.reference }}}}"}}
      env: {{API_TOKEN: "${{{{ secrets.api_creds.token }}}}"}}
      outputs: {{model: Model}}
    ddp:
      run: [torchrun, train.py]
      after: [train]
      distributed: {{framework: pytorch, workers: 2}}
      env: {{HF_TOKEN: "${{{{ secrets.hf.token }}}}"}}
  on_exit:
    run: [python, -m, churn.notify]
serving:
  name: churn
  model: "${{{{ steps.train.outputs.model }}}}"
  storage_uri: s3://models/churn
  storage_secret: churn-s3
  transformer:
    image: ghcr.io/acme/churn-transformer:1.0.0
    env: {{FEATURE_TOKEN: "${{{{ secrets.feature_store.token }}}}"}}
monitoring:
  drift:
    reference: "${{{{ data.reference }}}}"
    features: [tenure]
    image: ghcr.io/acme/drift
    credentials: [drift-logs]
    request_log: {{uri: s3://logs/churn, storage_key: logs}}
ci:
  github:
    mlopsdsl: "{WHL}"
    install: [pip install -r requirements.txt]
    test: [pytest -q]
    env: {{DVC_TOKEN: "${{{{ secrets.dvc_ci }}}}"}}
environments:
  staging: {{namespace: ml-staging}}
"""
SPEC_SECRETS = ("mlflow_auth", "wandb_key", "dvc_remote", "default_creds", "api_creds", "hf", "feature_store",
                "dvc_ci")


def build(tmp_path: Path, text: str, env: str | None = None, name: str = "spec.yaml"):
    spec = tmp_path / name
    spec.write_text(text, encoding="utf-8")
    result = build_ir(str(spec), env=env)
    assert result.ir is not None, [str(d) for d in result.diagnostics]
    return result.ir


def compiled(project, targets=None) -> dict[str, bytes]:
    output = compiler.compile_project(project, targets)
    assert output.ok, [str(d) for d in output.diagnostics]
    return output.files


def pipeline(files: dict[str, bytes]) -> tuple[dict, dict]:
    spec, platform = yaml.safe_load_all(files["kubeflow/pipeline.yaml"])
    return spec, platform["platforms"]["kubernetes"]["deploymentSpec"]["executors"]


def of_kind(data: bytes, kind: str) -> dict:
    return next(d for d in yaml.safe_load_all(data) if d and d.get("kind") == kind)


def secret_env(platform: dict, executor: str) -> dict[str, tuple[str, str]]:
    """env var -> (Secret, key) of one executor's `secretAsEnv`."""
    return {pair["envVar"]: (entry["secretName"], pair["secretKey"])
            for entry in platform.get(executor, {}).get("secretAsEnv", ()) for pair in entry["keyToEnv"]}


def diagnostics(tmp_path: Path, text: str) -> list:
    spec = tmp_path / "spec.yaml"
    spec.write_text(text, encoding="utf-8")
    return check_file(str(spec)).diagnostics


BRIEF = """\
apiVersion: mlopsdsl/v1
kind: Project
metadata: {name: demo}
tracking: {mlflow: {uri: http://mlflow:5000, experiment: x}}
defaults:
  env:
    AWS_ACCESS_KEY_ID: ${{ secrets.aws_creds }}
pipeline:
  steps:
    a: {image: python:3.12, run: [python, -c, "print(1)"], env: {TOKEN: "${{ secrets.api_creds }}"}}
    b: {image: python:3.12, run: [python, -c, "print(2)"], after: [a]}
  on_exit: {image: python:3.12, run: [python, -c, "print(3)"]}
"""


def test_a_defaults_env_secret_reaches_every_step_as_secret_as_env(tmp_path):
    spec, platform = pipeline(compiled(build(tmp_path, BRIEF), ["kubeflow"]))
    for executor, container in spec["deploymentSpec"]["executors"].items():
        env = {e["name"]: e["value"] for e in container["container"].get("env", ())}
        assert "AWS_ACCESS_KEY_ID" not in env, (executor, env)  # never a plain value
        assert secret_env(platform, executor)["AWS_ACCESS_KEY_ID"] == ("aws-creds", "aws_creds"), executor
    assert secret_env(platform, "exec-a")["TOKEN"] == ("api-creds", "api_creds")
    assert len(spec["deploymentSpec"]["executors"]) == 3


def test_what_a_step_takes_from_its_component_is_checked_and_resolved(tmp_path):
    (tmp_path / "comp.yaml").write_text(
        "apiVersion: mlopsdsl/v1\nkind: Component\nmetadata: {name: comp}\n"
        "image: 'python:${{ metadata.version }}'\n"
        "env: {CTOKEN: '${{ secrets.comp_creds.token }}', WHO: 'v-${{ metadata.name }}'}\n"
        "run: [python, -c, 'print(1)']\n", encoding="utf-8")
    text = "apiVersion: mlopsdsl/v1\nkind: Project\nmetadata: {name: demo, version: 1.2.3}\n" \
           "pipeline: {steps: {b: {uses: ./comp.yaml}}}\n"
    spec, platform = pipeline(compiled(build(tmp_path, text), ["kubeflow"]))
    container = spec["deploymentSpec"]["executors"]["exec-b"]["container"]
    assert container["image"] == "python:1.2.3"
    assert container["env"] == [{"name": "WHO", "value": "v-demo"}]
    assert secret_env(platform, "exec-b") == {"CTOKEN": ("comp-creds", "token")}
    # and a mistake there is reported in the component's file, where it is written
    (tmp_path / "comp.yaml").write_text((tmp_path / "comp.yaml").read_text().replace("secrets.", "secret."))
    found = diagnostics(tmp_path, text)
    assert [(d.code, Path(d.span.file).name, d.span.line) for d in found] == [(codes.EXPR_UNKNOWN_NAME, "comp.yaml", 5)]


def test_an_expression_the_checker_never_saw_is_an_internal_error_not_output(tmp_path, monkeypatch):
    from mlopsdsl.check import exprs
    from mlopsdsl.ir.lower import UncheckedExpression

    monkeypatch.setattr(exprs, "_alias_defaults", lambda symbols, table: None)  # the bug this guard stops
    spec = tmp_path / "spec.yaml"
    spec.write_text(BRIEF, encoding="utf-8")
    with pytest.raises(UncheckedExpression, match="pipeline.steps.a.env.AWS_ACCESS_KEY_ID"):
        build_ir(str(spec))


def test_a_key_of_a_secret_reaches_each_kubernetes_target(tmp_path):
    files = compiled(build(tmp_path, EVERYWHERE, env="staging"))
    spec, platform = pipeline(files)
    train = secret_env(platform, "exec-train")
    assert train["API_TOKEN"] == ("api-creds", "token")
    assert train["MLFLOW_TRACKING_TOKEN"] == ("mlflow-auth", "token")
    assert train["WANDB_API_KEY"] == ("wandb-key", "wandb_key")
    assert train["DEFAULT_TOKEN"] == ("default-creds", "default_creds")
    # the fetch step of the DVC source gets the remote's credentials, and only those
    fetch = secret_env(platform, "exec-fetch-reference")
    assert fetch == {"AWS_ACCESS_KEY_ID": ("dvc-remote", "access_key"),
                     "AWS_SECRET_ACCESS_KEY": ("dvc-remote", "secret-key")}
    assert spec["deploymentSpec"]["executors"]["exec-fetch-reference"]["container"]["env"] == [
        {"name": "AWS_DEFAULT_REGION", "value": "eu-west-1"}]
    # the distributed step's workers read theirs inside the TrainJob its launcher creates
    launched = json.dumps(spec["deploymentSpec"]["executors"])
    assert '{\\"name\\":\\"HF_TOKEN\\",\\"valueFrom\\":{\\"secretKeyRef\\":{\\"key\\":\\"token\\",\\"name\\":\\"hf\\"}}}' \
        in launched.replace(" ", "")
    # the transformer: a Secret name is a DNS name (`feature_store` could never be one)
    isvc = of_kind(files["kserve/churn.yaml"], "InferenceService")
    env = isvc["spec"]["transformer"]["containers"][0]["env"]
    assert {"name": "FEATURE_TOKEN", "valueFrom": {"secretKeyRef": {"name": "feature-store", "key": "token"}}} in env
    # the drift job reads the DVC reference with the same credentials the fetch step has
    cronjob = of_kind(files["monitoring/drift-cronjob.yaml"], "CronJob")
    container = cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]
    assert {"name": "AWS_SECRET_ACCESS_KEY",
            "valueFrom": {"secretKeyRef": {"name": "dvc-remote", "key": "secret-key"}}} in container["env"]
    assert {"secretRef": {"name": "drift-logs"}} in container["envFrom"]


def test_tracking_credentials_reach_every_step(tmp_path):
    text = BRIEF.replace("experiment: x}", "experiment: x, username: '${{ secrets.mlflow.user }}', "
                                           "password: '${{ secrets.mlflow.password }}'}")
    spec, platform = pipeline(compiled(build(tmp_path, text), ["kubeflow"]))
    for executor in spec["deploymentSpec"]["executors"]:
        env = secret_env(platform, executor)
        assert env["MLFLOW_TRACKING_USERNAME"] == ("mlflow", "user")
        assert env["MLFLOW_TRACKING_PASSWORD"] == ("mlflow", "password")


@pytest.mark.parametrize("mlflow,code,line", [
    ("token: '${{ secrets.m.t }}', username: '${{ secrets.m.u }}', password: '${{ secrets.m.p }}'",
     codes.MLFLOW_CREDENTIALS, 4),
    ("username: '${{ secrets.m.u }}'", codes.SCHEMA_MISSING_KEY, 4),
    ("token: '${{ secrets.m_.t }}'", codes.SECRET_REFERENCE, 4),
    ("token: '${{ secrets.m[\"a b\"] }}'", codes.SECRET_REFERENCE, 4),
])
def test_mlflow_credentials_that_cannot_work_are_refused(tmp_path, mlflow, code, line):
    text = BRIEF.replace("experiment: x}", f"experiment: x, {mlflow}}}")
    found = [d for d in diagnostics(tmp_path, text) if d.is_error]
    assert found and found[0].span.line == line, [str(d) for d in found]
    if code is not None:
        assert found[0].code == code


def test_a_github_secret_has_no_keys(tmp_path):
    text = EVERYWHERE.replace("secrets.dvc_ci", "secrets.dvc_ci.token")
    found = [d for d in diagnostics(tmp_path, text) if d.is_error]
    line = next(i for i, t in enumerate(text.splitlines(), 1) if "secrets.dvc_ci" in t)
    assert [(d.code, d.span.line) for d in found] == [(codes.EXPR_NAME_NOT_ALLOWED, line)], [str(d) for d in found]
    assert "a GitHub secret has no keys" in found[0].message


SPEC_FORM = re.compile(r"secrets\s*(\.|\[)\s*['\"]?(" + "|".join(SPEC_SECRETS) + r")\b")


def _examples() -> list[tuple[Path, str | None]]:
    out = []
    for path in sorted(EXAMPLES.glob("*/*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        if data.get("kind") == "Project":
            out += [(path, None)] + [(path, env) for env in data.get("environments") or {}]
    return out


@pytest.mark.parametrize("spec,env", [(None, None), (None, "staging"), *_examples()],
                         ids=lambda v: v.name if isinstance(v, Path) else str(v))
def test_no_secret_reference_reaches_any_output_as_text(tmp_path, spec, env):
    """Every target, every example and environment, and the spec with a secret in every place: the
    spec's `secrets.X` never appears in an output, and no Kubernetes output holds `${{` at all."""
    project = build(tmp_path, EVERYWHERE, env) if spec is None else build_ir(str(spec), env=env).ir
    assert project is not None
    output = compiler.compile_project(project)
    assert output.files, [str(d) for d in output.diagnostics]
    for path, data in output.files.items():
        text = data.decode("utf-8")
        assert not SPEC_FORM.search(text), (path, SPEC_FORM.search(text).group(0))
        if not path.startswith("github/") and path.endswith((".yaml", ".json")):
            assert "${{" not in text, (path, text[text.index("${{") - 200:text.index("${{") + 80])
    if spec is None:  # the GitHub form of the CI secret, upper case, in the install/test steps' env
        assert "${{ secrets.DVC_CI }}" in "".join(d.decode() for p, d in output.files.items() if p.startswith("github/"))


# -- SETUP notes: every Secret and key an output reads, in that target's note -------------------------

def _secret_refs(node, found: set[tuple[str, str | None]]) -> None:
    """(Secret, key or None for all keys / files) for each reference a Kubernetes document makes."""
    if isinstance(node, dict):
        ref = node.get("secretKeyRef")
        if isinstance(ref, dict):
            found.add((ref["name"], ref["key"]))
        if isinstance(node.get("secretRef"), dict):
            found.add((node["secretRef"]["name"], None))
        for entry in node.get("secretAsEnv") or ():
            found.update((entry["secretName"], pair["secretKey"]) for pair in entry["keyToEnv"])
        for value in node.values():
            _secret_refs(value, found)
    elif isinstance(node, list):
        for value in node:
            _secret_refs(value, found)
    elif isinstance(node, str) and node.startswith("{") and "secret" in node.lower():
        try:  # a launched job's manifest travels as JSON text
            _secret_refs(json.loads(node), found)
        except ValueError:
            pass


@pytest.mark.parametrize("target", ["kubeflow", "kserve", "monitoring"])
def test_each_setup_note_names_every_secret_and_key_its_output_reads(tmp_path, target):
    files = compiled(build(tmp_path, EVERYWHERE, env="staging"), [target])
    refs: set[tuple[str, str | None]] = set()
    for path, data in files.items():
        if path.startswith(f"{target}/") and path.endswith(".yaml"):
            for document in yaml.safe_load_all(data):
                _secret_refs(document, refs)
    assert refs, target
    note = files[f"{target}/SETUP.md"].decode()
    for name, key in sorted(refs, key=str):
        lines = [line for line in note.splitlines() if f"`{name}`" in line]
        assert lines, (target, name, note)
        if key is not None:
            assert any(f"`{key}`" in line for line in lines), (target, name, key, lines)


def test_the_monitoring_note_says_who_may_apply_each_kind_it_writes(tmp_path):
    files = compiled(build(tmp_path, EVERYWHERE, env="staging"), ["monitoring"])
    note = files["monitoring/SETUP.md"].decode()
    applied = [line for line in note.splitlines() if line.startswith("- [ ] Apply ")]
    assert len(applied) == 1, note
    for path, data in files.items():
        if path.endswith(".yaml") and "/tests/" not in path:
            for document in yaml.safe_load_all(data):
                namespace = (document.get("metadata") or {}).get("namespace") if isinstance(document, dict) else None
                if namespace:
                    assert document["kind"] in applied[0] and f"`{namespace}`" in applied[0], (path, applied[0])
                    assert f"`{path.split('/', 1)[1]}`" in applied[0]
