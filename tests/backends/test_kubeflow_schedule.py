"""`pipeline.schedule` -> a KFP recurring run, judged by kfp's own REST client types
(kfp_server_api, which `kfp.Client.create_recurring_run` sends) and KFP's PipelineSpec."""

from __future__ import annotations

import pytest
import yaml

from mlopsdsl import driver
from mlopsdsl.backends.kubeflow import KubeflowBackend
from mlopsdsl.serialize import to_bytes

SPEC = """\
apiVersion: mlopsdsl/v1
kind: Project
metadata: {name: nightly, version: 1.2.0}
params:
  lr: {type: float, default: 0.1}
pipeline:
  schedule: "30 2 * * 1-5"
  steps:
    train:
      image: ghcr.io/acme/t:1
      run: [python, -m, t.train, "${{ params.lr }}", "${{ outputs.model.path }}"]
      outputs: {model: Model}
      env: {TOKEN: "${{ secrets.hub_token }}"}
"""


def compile_text(tmp_path, text: str):
    spec = tmp_path / "spec.yaml"
    spec.write_text(text)
    result = driver.build_ir(str(spec))
    assert result.ir is not None, [d.message for d in result.diagnostics]
    backend = KubeflowBackend()
    return {a.path: a for a in backend.compile(result.ir)}, backend


def test_a_schedule_is_a_recurring_run_kfp_accepts(tmp_path) -> None:
    server_api = pytest.importorskip("kfp_server_api", reason="kfp's REST client types (mlopsdsl[run]) judge this")
    from google.protobuf import json_format
    from kfp.pipeline_spec import pipeline_spec_pb2

    artifacts, backend = compile_text(tmp_path, SPEC)
    assert [d for d in backend.diagnostics if d.is_error] == []
    text = to_bytes(artifacts["kubeflow/recurring-run.yaml"]).decode()
    assert "kfp recurring-run create" in text and "--cron-expression '0 30 2 * * 1-5'" in text
    [body] = yaml.safe_load_all(text)
    client = server_api.ApiClient()
    run = client._ApiClient__deserialize(body, "V2beta1RecurringRun")  # kfp_server_api's own typed reading
    assert client.sanitize_for_serialization(run) == body  # nothing unknown, nothing mistyped
    assert run.trigger.cron_schedule.cron == "0 30 2 * * 1-5"  # robfig/cron: seconds first
    assert (run.mode, run.max_concurrency, run.no_catchup) == ("ENABLE", "1", True)
    # the pipeline inside is the compiled one, with its platform spec, as kfp's client sends them
    pipeline = artifacts["kubeflow/pipeline.yaml"].documents
    assert body["pipeline_spec"] == {"pipeline_spec": yaml.safe_load(yaml.safe_dump(pipeline[0])),
                                     "platform_spec": yaml.safe_load(yaml.safe_dump(pipeline[1]))}
    json_format.ParseDict(body["pipeline_spec"]["pipeline_spec"], pipeline_spec_pb2.PipelineSpec())
    json_format.ParseDict(body["pipeline_spec"]["platform_spec"], pipeline_spec_pb2.PlatformSpec())


def test_no_schedule_no_recurring_run(tmp_path) -> None:
    artifacts, _ = compile_text(tmp_path, SPEC.replace('  schedule: "30 2 * * 1-5"\n', ""))
    assert "kubeflow/recurring-run.yaml" not in artifacts


def test_a_scheduled_pipeline_needs_defaults(tmp_path) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text(SPEC.replace("{type: float, default: 0.1}", "{type: float}"))
    found = driver.check_file(str(spec)).diagnostics
    errors = [d for d in found if d.is_error]
    assert [str(d.code) for d in errors] == ["MLD670"] and "`pipeline.schedule`" in errors[0].message
