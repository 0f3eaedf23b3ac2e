"""`tune:` in the kubeflow target: a Katib Experiment launched by `S-search`, then S refit on the best values.

The Experiment is taken from the launcher's argv in pipeline.yaml and judged by the Katib judge
(swagger + ported webhook), its TrainJob trial by the Trainer judge, its batch Job trial by the
conformance kit (kubernetes-validate); the pipeline itself by KFP's loader.
"""

from __future__ import annotations

import json
import subprocess

import pytest
import yaml

from conftest import SHARED
from judges import judge
from judges.katib import trial_spec
from mlopsdsl.backends.kubeflow import KubeflowBackend, tuning
from mlopsdsl.driver import build_ir
from mlopsdsl.ir import Distributed, EarlyStopping, SearchParam, Tune
from mlopsdsl.serialize import to_bytes

SPEC = """\
apiVersion: mlopsdsl/v1
kind: Project
metadata: {name: churn, version: 1.0.0}
params:
  learning_rate: {type: float, default: 0.1}
  max_depth: {type: int, default: 6}
  booster: {type: str, default: gbtree}
  rounds: {type: int, default: 200}
pipeline:
  steps:
    prepare:
      image: ghcr.io/acme/churn:1.0.0
      run: [python, -m, churn.prepare, --out, "${{ outputs.train.path }}"]
      outputs: {train: Dataset}
    train:
      image: ghcr.io/acme/churn:1.0.0
      run: [python, -m, churn.train, --data, "${{ inputs.train.uri }}", --lr, "${{ params.learning_rate }}",
            --depth, "${{ params.max_depth }}", --booster, "${{ params.booster }}", --rounds, "${{ params.rounds }}",
            --model, "${{ outputs.model.path }}", --metrics, "${{ outputs.metrics.path }}"]
      inputs: {train: "${{ steps.prepare.outputs.train }}"}
      outputs:
        model: Model
        metrics: {type: Metrics, fields: {auc: float, logloss: float}}
      resources: {cpu: "2", memory: 4Gi}
      env: {TOKEN: "${{ secrets.api_token }}"}
    register:
      image: ghcr.io/acme/churn:1.0.0
      run: [python, -m, churn.register, --model, "${{ inputs.model.path }}"]
      inputs: {model: "${{ steps.train.outputs.model }}"}
"""

TUNE = Tune(params=(SearchParam(name="learning_rate", kind="loguniform", low=1e-4, high=0.3),
                    SearchParam(name="max_depth", kind="int", low=3, high=10),
                    SearchParam(name="booster", kind="choice", values=("gbtree", "dart"))),
            output="metrics", field="auc", goal="maximize", algorithm="tpe", trials=20, parallel=4,
            max_failed=3, early_stopping=EarlyStopping(min_trials=5, start_step=2))


def tuned_project(tmp_path, tune=TUNE, distributed=None):
    spec = tmp_path / "churn.yaml"
    spec.write_text(SPEC, encoding="utf-8")
    result = build_ir(str(spec))
    assert result.ir is not None, [str(d) for d in result.diagnostics]
    project = result.ir
    steps = tuple(s.model_copy(update={"tune": tune, "distributed": distributed}) if s.name == "train" else s
                  for s in project.pipeline.steps)
    return project.model_copy(update={"pipeline": project.pipeline.model_copy(update={"steps": steps})})


def compile_(project):
    backend = KubeflowBackend()
    artifacts = {a.path: a for a in backend.compile(project)}
    assert not backend.diagnostics, [str(d) for d in backend.diagnostics]
    return artifacts


def experiment_of(pipeline) -> tuple[dict, list[str]]:
    command = pipeline["deploymentSpec"]["executors"]["exec-train-search"]["container"]["command"]
    exp = json.loads(command[command.index("--manifest") + 1])
    exp["metadata"]["name"] = exp["metadata"].pop("generateName") + "x7k2p"
    return exp, command


def test_experiment_passes_the_katib_judge_and_maps_the_search_space(tmp_path):
    pipeline = compile_(tuned_project(tmp_path))["kubeflow/pipeline.yaml"].documents[0]
    exp, command = experiment_of(pipeline)
    assert judge([exp]) == []
    spec = exp["spec"]
    assert spec["algorithm"] == {"algorithmName": "tpe"}
    assert (spec["maxTrialCount"], spec["parallelTrialCount"], spec["maxFailedTrialCount"]) == (20, 4, 3)
    assert spec["objective"] == {"type": "maximize", "objectiveMetricName": "auc", "additionalMetricNames": ["logloss"]}
    assert spec["parameters"] == [
        {"name": "learning_rate", "parameterType": "double",
         "feasibleSpace": {"min": "0.0001", "max": "0.3", "distribution": "logUniform"}},
        {"name": "max_depth", "parameterType": "int", "feasibleSpace": {"min": "3", "max": "10"}},
        {"name": "booster", "parameterType": "categorical", "feasibleSpace": {"list": ["gbtree", "dart"]}}]
    assert spec["earlyStopping"]["algorithmName"] == "medianstop"
    trial = json.dumps(spec["trialTemplate"]["trialSpec"])
    assert "${trialParameters.learning_rate}" in trial and "{{$.inputs.parameters['rounds']}}" in trial
    assert "{{$.inputs.artifacts['train'].uri}}" in trial
    assert "{{$.outputs" not in trial  # trial outputs are local to the trial pod
    assert "secretKeyRef" in trial and "api-token" in trial
    # the launcher writes the best values into the search task's outputs
    results = [command[i + 1] for i, a in enumerate(command) if a == "--result"]
    assert results == ["auc={{$.outputs.parameters['best_auc'].output_file}}",
                       "booster={{$.outputs.parameters['best_booster'].output_file}}",
                       "learning_rate={{$.outputs.parameters['best_learning_rate'].output_file}}",
                       "max_depth={{$.outputs.parameters['best_max_depth'].output_file}}"]


def test_the_refit_reads_the_best_values_and_downstream_reads_the_refit(tmp_path):
    pipeline = compile_(tuned_project(tmp_path))["kubeflow/pipeline.yaml"].documents[0]
    tasks = pipeline["root"]["dag"]["tasks"]
    train = tasks["train"]
    assert "train-search" in train["dependentTasks"]
    lr = train["inputs"]["parameters"]["train-search__best_learning_rate"]
    assert lr == {"taskOutputParameter": {"outputParameterKey": "best_learning_rate", "producerTask": "train-search"}}
    assert train["inputs"]["parameters"]["rounds"] == {"componentInputParameter": "rounds"}
    assert tasks["register"]["inputs"]["artifacts"]["model"]["taskOutputArtifact"]["producerTask"] == "train"


@pytest.mark.parametrize("algorithm, katib", [("random", "random"), ("grid", "grid"), ("bayesian", "bayesianoptimization"),
                                              ("multivariate_tpe", "multivariate-tpe"), ("cmaes", "cmaes")])
def test_algorithm_names_are_katibs(tmp_path, algorithm, katib):
    params = (SearchParam(name="learning_rate", kind="uniform", low=0.01, high=0.3, step=0.01),
              SearchParam(name="max_depth", kind="int", low=3, high=10))
    tune = TUNE.model_copy(update={"algorithm": algorithm, "params": params, "early_stopping": None})
    pipeline = compile_(tuned_project(tmp_path, tune))["kubeflow/pipeline.yaml"].documents[0]
    exp, _ = experiment_of(pipeline)
    assert exp["spec"]["algorithm"]["algorithmName"] == katib
    assert judge([exp]) == []


def test_a_distributed_tuned_step_has_trainjob_trials_and_its_refit_is_refused_cleanly(tmp_path):
    project = tuned_project(tmp_path, distributed=Distributed(framework="pytorch", workers=2))
    backend = KubeflowBackend()
    artifacts = {a.path: a for a in backend.compile(project)}
    # trials print the metrics to Katib, but the refit's metrics `fields` would need the workers' files
    (error,) = backend.diagnostics
    assert "outputs.model.path" in error.message and error.span is not None
    steps = tuple(s.model_copy(update={"distributed": None}) if s.name != "train" else s
                  for s in project.pipeline.steps)
    search = tuning.expand(project.model_copy(update={"pipeline": project.pipeline.model_copy(
        update={"steps": steps})})).step("train-search")
    command = ["python", "-m", "churn.train", "--lr=${trialParameters.learning_rate}",
               "--depth=${trialParameters.max_depth}", "--booster=${trialParameters.booster}"]
    trial, primary = tuning.trial_spec(project, search, command, [], {})
    exp = tuning.experiment(project, search, trial, primary, ["auc"])
    exp["metadata"]["name"] = exp["metadata"].pop("generateName") + "x7k2p"
    assert trial["kind"] == "TrainJob" and primary == "node"
    assert judge([exp]) == []
    assert not artifacts or "kubeflow/pipeline.yaml" in artifacts


def test_the_job_trial_and_the_output_pass_the_conformance_kit(tmp_path):
    if SHARED is None or not (SHARED / "conformance" / "check-output").exists():
        pytest.skip("shared conformance kit is not present")
    artifacts = compile_(tuned_project(tmp_path))
    exp, _ = experiment_of(artifacts["kubeflow/pipeline.yaml"].documents[0])
    out = tmp_path / "out"
    for artifact in artifacts.values():
        (out / artifact.path).parent.mkdir(parents=True, exist_ok=True)
        (out / artifact.path).write_bytes(to_bytes(artifact))
    (out / "trial-job.yaml").write_text(yaml.safe_dump(trial_spec(exp)), encoding="utf-8")
    done = subprocess.run([str(SHARED / "conformance" / "check-output"), str(out)], capture_output=True, text=True)
    if done.returncode == 2:
        pytest.skip(done.stderr.strip())
    assert done.returncode == 0, done.stdout
    assert any(line.startswith("PASS") and "trial-job.yaml" in line for line in done.stdout.splitlines())


@pytest.mark.parametrize("path, value, reason", [
    (("spec", "algorithm", "algorithmName"), "bayesian", "no Suggestion config"),
    (("spec", "objective", "goal_type"), "max", "'goal_type' was unexpected"),
    (("spec", "parallelTrialCount"), 50, "less than or equal to spec.maxTrialCount"),
    (("spec", "trialTemplate", "trialParameters"), [], "not found in trialParameters"),
])
def test_the_judge_fails_our_experiment_when_one_field_is_wrong(tmp_path, path, value, reason):
    exp, _ = experiment_of(compile_(tuned_project(tmp_path))["kubeflow/pipeline.yaml"].documents[0])
    node = exp
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    assert any(reason in error for _, error in judge([exp]))
