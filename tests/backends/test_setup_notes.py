"""The SETUP note of the kserve and kubeflow targets: every Secret, key and cluster flag the output
needs, named where it is needed (issue 16: "a post-compile checklist for every target").

A note that forgets a Secret is found late: the step's pod never starts, or the revision never
becomes Ready. So the Kubeflow note is read off the compiled pods (platform spec and launched jobs)
and each test here compares it with what those pods ask for.
"""

from __future__ import annotations

import json
import subprocess
import sys

from conftest import REPO
from mlopsdsl.backends.kserve import KServeBackend
from mlopsdsl.backends.kubeflow import KubeflowBackend
from mlopsdsl.driver import build_ir

SPEC = """\
apiVersion: mlopsdsl/v1
kind: Project
metadata: {name: churn, version: 1.0.0}
tracking:
  wandb: {project: churn, api_key: "${{ secrets.wandb_api_key }}"}
defaults:
  image: ghcr.io/acme/churn:1.0.0
pipeline:
  steps:
    prepare:
      run: [python, -m, churn.prepare]
      env: {DB_PASSWORD: "${{ secrets.db_password }}"}
    ddp:
      run: [torchrun, train.py]
      after: [prepare]
      distributed: {framework: pytorch, workers: 2}
      env: {HF_TOKEN: "${{ secrets.hf_token }}"}
      volumes:
        /secrets/gcs: {secret: gcs_key}
environments:
  staging: {namespace: ml-staging}
"""


def build(tmp_path, text: str, env: str | None = "staging"):
    spec = tmp_path / "spec.yaml"
    spec.write_text(text, encoding="utf-8")
    result = build_ir(str(spec), env=env)
    assert result.ir is not None, [str(d) for d in result.diagnostics]
    return result.ir


def test_the_kubeflow_note_names_each_secret_and_key_the_pods_read(tmp_path):
    project = build(tmp_path, SPEC)
    backend = KubeflowBackend()
    artifacts = {a.path: a for a in backend.compile(project)}
    note = artifacts["kubeflow/SETUP.md"].text
    secrets = [line for line in note.splitlines() if line.startswith("- [ ] Secret")]
    assert secrets == [
        "- [ ] Secret `db-password` in namespace `ml-staging` (where the pipeline's pods run): key `db_password` "
        "(read as environment variables). A missing Secret or key keeps the step's pod from starting.",
        "- [ ] Secret `gcs-key` in namespace `ml-staging` (where the pipeline's pods run): mounted as files at "
        "`/secrets/gcs`. A missing Secret or key keeps the step's pod from starting.",
        # only inside the TrainJob the launcher creates: the note reads the launched manifests too
        "- [ ] Secret `hf-token` in namespace `ml-staging` (where the pipeline's pods run): key `hf_token` "
        "(read as environment variables). A missing Secret or key keeps the step's pod from starting.",
        "- [ ] Secret `wandb-api-key` in namespace `ml-staging` (where the pipeline's pods run): key "
        "`wandb_api_key` (read as environment variables). A missing Secret or key keeps the step's pod from starting.",
    ]
    # what compile prints is the same list, the cluster's own needs first
    steps = backend.next_steps(project)
    assert steps[0].startswith("The cluster runs Kubeflow Trainer") and [f"- [ ] {s}" for s in steps[1:]] == secrets
    # and every Secret the compiled pods reference is in it
    text = json.dumps([d for a in artifacts.values() for d in a.documents])
    assert '"secretName": "db-password"' in text  # the platform spec of the plain step
    assert '\\"secretName\\":\\"gcs-key\\"' in text  # inside the --manifest JSON of the launched job
    assert '\\"name\\":\\"hf-token\\"' in text


def test_a_pipeline_that_reads_no_secret_gets_no_note(tmp_path):
    text = SPEC.replace('      env: {DB_PASSWORD: "${{ secrets.db_password }}"}\n', "")
    text = text.split("    ddp:")[0].replace("tracking:\n  wandb: {project: churn, api_key: \"${{ secrets.wandb_api_key }}\"}\n",
                                               "") + "environments:\n  staging: {namespace: ml-staging}\n"
    paths = [a.path for a in KubeflowBackend().compile(build(tmp_path, text))]
    assert paths == ["kubeflow/pipeline.yaml"]


def run_compile(example: str, out, env: str = "staging") -> subprocess.CompletedProcess:
    spec = next((REPO / "examples" / example).glob("*.yaml"))
    return subprocess.run([sys.executable, "-m", "mlopsdsl", "compile", str(spec.relative_to(REPO)), "--env", env,
                           "--target", "kserve", "--out", str(out)], cwd=REPO, capture_output=True, text=True)


def test_the_kserve_note_names_the_storage_secret_its_keys_and_the_service_account(tmp_path):
    result = run_compile("churn", tmp_path / "out")
    assert result.returncode == 0, result.stderr
    note = (tmp_path / "out" / "kserve" / "SETUP.md").read_text()
    assert "namespace `ml-staging`" in note and "deployment mode `Knative`" in note
    (secret,) = [line for line in note.splitlines() if "Secret `s3-model-reader`" in line]
    # the keys and annotations KServe's credential builder reads for s3:// (kserve v0.20 pkg/credentials/s3)
    for needle in ("`AWS_ACCESS_KEY_ID`", "`AWS_SECRET_ACCESS_KEY`", "`serving.kserve.io/s3-endpoint`",
                   "`serving.kserve.io/s3-usehttps`", "in namespace `ml-staging`", "ServiceAccount `churn-api-sa`"):
        assert needle in secret
    isvc = (tmp_path / "out" / "kserve" / "churn-api.yaml").read_text()
    assert "serviceAccountName: churn-api-sa" in isvc  # the account the note names is the one the pods use
    # compile prints the same items
    assert "Secret `s3-model-reader` in namespace `ml-staging`" in result.stdout + result.stderr


def test_the_kserve_note_names_the_gcs_key_and_the_knative_flag_the_predictor_needs(tmp_path):
    result = run_compile("vision", tmp_path / "out")
    assert result.returncode == 0, result.stderr
    note = (tmp_path / "out" / "kserve" / "SETUP.md").read_text()
    assert "Secret `gcs-model-reader` in namespace `vision-staging`" in note
    assert "key `gcloud-application-credentials.json`" in note
    assert "`kubernetes.podspec-nodeselector: enabled`" in note
    assert "nodeSelector" in (tmp_path / "out" / "kserve" / "defects-api.yaml").read_text()


def test_without_a_storage_secret_the_note_says_who_downloads_the_model(tmp_path):
    result = build_ir(str(REPO / "examples/churn/churn.yaml"), env="staging")
    project = result.ir
    project = project.model_copy(update={"serving": project.serving.model_copy(update={"storage_secret": None})})
    (note,) = [a.text for a in KServeBackend().compile(project) if a.path == "kserve/SETUP.md"]
    assert "No `serving.storage_secret`" in note and "`default` ServiceAccount" in note
    assert "Secret `" not in note and "ServiceAccounts" not in note
