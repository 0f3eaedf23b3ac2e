"""What KServe and Knative would refuse or get wrong although every schema passes (issue 16).

Each fact is traced to the upstream source at the version we target:
- KServe v0.20 `GetPredictorEndpoint` (pkg/controller/v1beta1/inferenceservice/utils/utils.go): the
  InferenceGraph calls `/v2/models/NAME/infer` only when the transformer's `PROTOCOL` env var says v2
  (`CustomTransformer.GetProtocol`, default v1);
- Knative Serving 1.21 config/core/configmaps/features.yaml: `kubernetes.podspec-nodeselector:
  "disabled"` by default;
- KServe's gRPC examples (Triton: `--grpc-port=9000` in the kserve-tritonserver runtime): the gRPC port
  is declared as `h2c` for Knative, `grpc-port` in raw mode.
"""

from __future__ import annotations

import yaml

from conftest import run_cli
from mlopsdsl import driver
from mlopsdsl.backends.kserve import KServeBackend
from mlopsdsl.serialize import to_bytes

from .test_kserve import REPO, judge


def compiled(spec, env=None) -> tuple[dict[str, dict], list]:
    result = driver.build_ir(str(spec), env=env)
    assert result.ok, [f"{d.code} {d.message}" for d in result.diagnostics]
    backend = KServeBackend()
    files = {a.path: to_bytes(a) for a in backend.compile(result.ir)}
    return {p: yaml.safe_load(b) for p, b in files.items() if p.endswith(".yaml")}, backend.diagnostics, files


def test_a_spec_without_storage_uri_is_refused_and_nothing_is_written(tmp_path, write_spec):
    text = (REPO / "examples/minimal/minimal.yaml").read_text()
    spec = write_spec("\n".join(l for l in text.splitlines() if not l.strip().startswith("storage_uri:")) + "\n")
    code, out, err = run_cli("compile", spec, "--target", "kserve", "--out", tmp_path / "out")
    assert code == 1, out + err
    assert "MLD614" in out + err
    assert not (tmp_path / "out").exists()


def test_the_minimal_example_serves_a_real_storage_uri(tmp_path):
    docs, diagnostics, files = compiled(REPO / "examples/minimal/minimal.yaml")
    assert diagnostics == []
    uri = docs["kserve/house-prices-api.yaml"]["spec"]["predictor"]["model"]["storageUri"]
    assert uri == "s3://acme-ml/house-prices/0.1.0/"
    judge(files, tmp_path)


def test_the_graph_calls_v2_paths_the_variant_carries_its_own_version(tmp_path):
    docs, diagnostics, files = compiled(REPO / "examples/churn/churn.yaml", "production")
    assert diagnostics == []
    primary, variant = docs["kserve/churn-api.yaml"], docs["kserve/churn-api-challenger.yaml"]
    for isvc in (primary, variant):  # both sit behind the Splitter, both with the transformer
        (container,) = isvc["spec"]["transformer"]["containers"]
        assert {"name": "PROTOCOL", "value": "v2"} in container["env"]
    assert primary["metadata"]["labels"]["app.kubernetes.io/version"] == "1.4.0"
    assert variant["metadata"]["labels"]["app.kubernetes.io/version"] == "1.0.0"
    judge(files, tmp_path)


def test_grpc_on_triton_declares_the_h2c_port(tmp_path, write_spec):
    text = (REPO / "examples/vision/defects.yaml").read_text().replace("protocol: v2 ", "protocol: grpc-v2 ")
    spec = write_spec(text, "defects.yaml")
    docs, diagnostics, files = compiled(spec)
    assert diagnostics == []
    model = docs["kserve/defects-api.yaml"]["spec"]["predictor"]["model"]
    assert model["ports"] == [{"name": "h2c", "containerPort": 9000, "protocol": "TCP"}]
    judge(files, tmp_path)
    raw = write_spec(text.replace("deployment_mode: serverless", "deployment_mode: raw")
                     .replace("strategy: blue_green", "strategy: direct").replace("metric: concurrency", "metric: cpu"),
                     "raw.yaml")
    docs, diagnostics, _ = compiled(raw)
    assert docs["kserve/defects-api.yaml"]["spec"]["predictor"]["model"]["ports"][0]["name"] == "grpc-port"


def test_a_declared_cluster_flag_lets_a_gpu_type_through(write_spec):
    text = (REPO / "tests/cases/valid/serving_cluster_features.yaml").read_text()
    docs, diagnostics, _ = compiled(write_spec(text))
    assert diagnostics == []
    predictor = docs["kserve/churn-api.yaml"]["spec"]["predictor"]
    assert predictor["nodeSelector"] == {"cloud.google.com/gke-accelerator": "nvidia-tesla-t4"}
    assert predictor["model"]["ports"] == [{"name": "h2c", "containerPort": 8081, "protocol": "TCP"}]


def test_the_pod_monitor_scrapes_the_variant_pods_too():
    from mlopsdsl.backends.monitoring import MonitoringBackend

    project = driver.build_ir(str(REPO / "examples/churn/churn.yaml"), env="production").ir
    artifacts = {a.path: a for a in MonitoringBackend().compile(project)}
    (monitor,) = artifacts["monitoring/podmonitor.yaml"].documents
    selected = monitor["spec"]["selector"]["matchExpressions"]
    assert selected == [{"key": "serving.kserve.io/inferenceservice", "operator": "In",
                         "values": ["churn-api", "churn-api-challenger"]}]
