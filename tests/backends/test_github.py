"""The GitHub Actions backend: workflow shape, security invariants, and GitHub's own judges."""

from __future__ import annotations

import os
import re

import pytest
import yaml

from backends.test_github_projects import (PRODUCTION, REPO, STAGING, TOOL, churn, compile_project, judge, runs,
                                           with_rollout, workflows)
from mlopsdsl.backends.github import GitHubBackend
from mlopsdsl.backends.github.pins import PINS
from mlopsdsl.ir import EnvVar, GitHubCI, Project

GOLDEN = REPO / "tests" / "golden" / "github"


def minimal() -> Project:
    return Project(name="minimal", version="0.1.0", spec_path="minimal.yaml",
                   ci=GitHubCI(on={"pull_request": None}, test=("pytest -q",), mlopsdsl=TOOL))


# --- judged by GitHub's tools -----------------------------------------------------------------
def test_churn_passes_the_github_judges(tmp_path):
    backend, files = compile_project(churn(), tmp_path)
    assert backend.diagnostics == []
    # the project's name in every file name: two projects can share one .github/workflows/
    assert sorted(files) == ["github/SETUP.md", "github/workflows/churn-ci.yml", "github/workflows/churn-deploy.yml",
                             "github/workflows/churn-retrain.yml", "github/workflows/churn-train.yml"]
    out = judge(tmp_path)
    assert out.count("PASS") == 4


@pytest.mark.parametrize("rollout", [
    dict(strategy="blue_green", interval=300.0),
    dict(strategy="direct"),
    dict(strategy="canary", steps=(25.0, 100.0), interval=60.0),  # no analysis: time-gated only
])
def test_every_strategy_passes_the_judges(tmp_path, rollout):
    backend, _ = compile_project(with_rollout(churn(), **rollout), tmp_path)
    assert backend.diagnostics == []
    judge(tmp_path)


def test_ci_only_project_passes_the_judges(tmp_path):
    backend, files = compile_project(minimal(), tmp_path)
    assert backend.diagnostics == []
    assert sorted(files) == ["github/SETUP.md", "github/workflows/minimal-ci.yml"]
    assert workflows(files)["ci"]["on"] == {"pull_request": {}}  # null trigger -> mapping (schema)
    judge(tmp_path)


@pytest.mark.parametrize("on,cached", [
    ({"push": {"tags": ["v*"]}, "pull_request": {}}, False),
    ({"push": {}}, False),  # an unfiltered push includes tags
    ({"push": {"branches": ["release/*"]}}, False),  # zizmor: a release branch publishes
    ({"push": {"branches": ["main"]}, "pull_request": {}}, True),
])
def test_pip_cache_only_where_no_release_build_restores_it(tmp_path, on, cached):
    ci = GitHubCI(on=on, install=("pip install -r requirements-ci.txt",), test=("pytest -q",), mlopsdsl=TOOL)
    _, files = compile_project(minimal().model_copy(update={"ci": ci}), tmp_path)
    setup = workflows(files)["ci"]["jobs"]["test"]["steps"][1]
    assert ("cache" in setup["with"]) is cached
    if cached:  # the key hashes the file the install command names
        assert setup["with"]["cache-dependency-path"] == "requirements-ci.txt"
    judge(tmp_path)  # zizmor's cache-poisoning audit agrees


def test_no_pip_cache_without_a_dependency_file(tmp_path):
    # setup-python's pip cache fails the job when no requirements file matches: `pip install -e .` names none
    ci = GitHubCI(on={"push": {"branches": ["main"]}}, install=("pip install -e .",), test=("pytest",), mlopsdsl=TOOL)
    _, files = compile_project(minimal().model_copy(update={"ci": ci}), tmp_path)
    assert "cache" not in workflows(files)["ci"]["jobs"]["test"]["steps"][1]["with"]


def test_churn_example_compiles_through_the_cli_with_its_github_patch(tmp_path):
    # churn patches workflows/*.yml: the workflows must stay documents the patch stage can edit
    from conftest import run_cli
    code, out, err = run_cli("compile", str(REPO / "examples/churn/churn.yaml"), "--env", "staging",
                             "--target", "github", "--out", str(tmp_path / "out"))
    if code == 2 and "target" in err:
        pytest.skip(err.strip())
    assert code == 0, out + err
    deploy = yaml.safe_load((tmp_path / "out/github/workflows/churn-deploy.yml").read_text())
    assert deploy["concurrency"] == {"group": "churn-deploy", "cancel-in-progress": False}
    judge(tmp_path / "out")


def test_examples_compile_and_pass_the_judges(tmp_path):
    from mlopsdsl.driver import build_ir

    for spec in sorted((REPO / "examples").glob("*/*.yaml")):
        result = build_ir(str(spec))
        if result.ir is None or result.ir.ci is None:
            continue
        backend, _ = compile_project(result.ir, tmp_path / spec.stem)
        assert [d for d in backend.diagnostics if d.severity.value == "error"] == [], spec
        judge(tmp_path / spec.stem)


# --- secure by construction -------------------------------------------------------------------
def test_every_uses_is_a_pinned_sha_listed_with_its_version(tmp_path):
    _, files = compile_project(churn(), tmp_path)
    known = {(p.repo, p.sha, p.version) for p in PINS.values()}
    seen = set()
    for path, text in files.items():
        if not path.endswith(".yml"):
            continue
        for line in text.splitlines():
            if line.lstrip("- ").startswith("uses:"):
                m = re.fullmatch(r"\s*(?:- )?uses: ([\w.-]+/[\w.-]+)@([0-9a-f]{40}) # (\S+)", line)
                assert m, f"{path}: {line!r}"
                assert m.groups() in known, f"{path}: {line!r} is not the table's pin with its tag"
                seen.add(m.group(1))
    assert seen == {"actions/checkout", "actions/setup-python", "Azure/setup-kubectl"}


def test_an_unpinned_uses_is_refused():
    from mlopsdsl.backends.github.pins import check_pinned
    with pytest.raises(ValueError, match="unpinned"):
        check_pinned({"jobs": {"a": {"steps": [{"uses": "actions/checkout@v4"}]}}})


def test_permissions_timeouts_and_checkout(tmp_path):
    _, files = compile_project(churn(), tmp_path)
    for name, doc in workflows(files).items():
        assert doc["permissions"] == {}, name
        for job_id, job in doc["jobs"].items():
            assert job["permissions"] == {"contents": "read"}, (name, job_id)  # no OIDC: no id-token
            assert 0 < job["timeout-minutes"] <= 360
            checkout = job["steps"][0]
            assert checkout["uses"].startswith("actions/checkout@")
            assert checkout["with"] == {"persist-credentials": False}


def test_no_expression_in_any_run_and_secrets_only_in_env(tmp_path):
    _, files = compile_project(churn(), tmp_path)
    for name, doc in workflows(files).items():
        for _, step in runs(doc):
            assert "${{" not in step["run"], (name, step["name"])
            for value in step.get("env", {}).values():
                if "secrets." in str(value):
                    assert re.fullmatch(r"\$\{\{ secrets\.[A-Z_]+ \}\}", value)
    # only the caching CI job restores a cache; jobs that submit or deploy never do
    docs = workflows(files)
    for name in ("train", "deploy", "retrain"):
        for job in docs[name]["jobs"].values():
            assert all("cache" not in s.get("with", {}) for s in job["steps"])


def test_deploy_jobs_chain_environments_and_never_race(tmp_path):
    _, files = compile_project(churn(), tmp_path)
    jobs = workflows(files)["deploy"]["jobs"]
    assert list(jobs) == ["deploy-staging", "deploy-production"]
    staging, production = jobs["deploy-staging"], jobs["deploy-production"]
    assert "needs" not in staging and production["needs"] == ["deploy-staging"]
    assert production["environment"] == {"name": "production", "url": PRODUCTION.url}
    for job, env in ((staging, STAGING), (production, PRODUCTION)):
        assert job["concurrency"] == {"group": f"churn-deploy-{env.name}", "cancel-in-progress": False}
        step = job["steps"][-1]
        assert step["env"]["NAMESPACE"] == env.namespace
        assert step["env"]["STRATEGY"] == "canary" and step["env"]["ROLLOUT_STEPS"] == "10 50 100"
        assert step["env"]["STEP_WAIT"] == "600"
        # the analysis gate is PromQL for this environment's namespace, not the compiled one
        query = step["env"]["GATE_HEALTHY"]
        assert f'k8s_namespace_name="{env.namespace}"' in query and "< 0.01" in query and "< 0.25" in query
        # per revision: the new one's name replaces the placeholder at run time
        assert 'kn_revision_name="__REVISION__"' in query and step["env"]["GATE_PER_REVISION"] == "true"
        assert step["env"]["GATE_TRAFFIC"].endswith(">= 10") and step["env"]["NO_TRAFFIC"] == "rollback"
        compile_step = job["steps"][3]
        assert compile_step["env"]["MLOPSDSL_ENV"] == env.name
        assert compile_step["env"]["MLOPSDSL_TARGET"] == "kserve"
    # canary: 3 stages x 10 min + readiness waits fit in the timeout
    assert staging["timeout-minutes"] >= 30 + 40


def test_train_inputs_are_typed_from_params(tmp_path):
    _, files = compile_project(churn(), tmp_path)
    train = workflows(files)["train"]
    assert train["on"]["push"] == {"branches": ["main"]}
    inputs = train["on"]["workflow_dispatch"]["inputs"]
    assert {k: v["type"] for k, v in inputs.items()} == {
        "learning_rate": "number", "max_depth": "number", "use_gpu": "boolean", "objective": "choice",
        "note": "string"}
    assert inputs["objective"]["options"] == ["binary", "hinge"] and inputs["objective"]["default"] == "binary"
    assert inputs["learning_rate"]["default"] == 0.05 and inputs["use_gpu"]["default"] is False
    submit = train["jobs"]["train"]["steps"][-1]
    assert submit["shell"] == "python"
    assert submit["env"]["MLOPSDSL_PARAM_MAX_DEPTH"] == "${{ inputs.max_depth }}"
    assert submit["env"]["KFP_TOKEN"] == "${{ secrets.KFP_TOKEN }}"
    assert submit["env"]["KFP_HOST"] == STAGING.kfp_host
    # the KFP token's own environment: never a deploy environment's reviewers, no deploy URL
    assert train["jobs"]["train"]["environment"] == {"name": "staging-training"}
    # no training on a commit whose CI fails: the same jobs run first
    assert train["jobs"]["train"]["needs"] == ["test", "validate"]
    assert list(train["jobs"]) == ["test", "validate", "train"]


def test_retrain_runs_on_schedule_dispatch_and_drift_in_the_drifted_environment(tmp_path):
    _, files = compile_project(churn(), tmp_path)
    retrain = workflows(files)["retrain"]
    assert retrain["on"] == {"schedule": [{"cron": "0 3 * * 1"}], "workflow_dispatch": {},
                             "repository_dispatch": {"types": ["mlopsdsl-retrain-churn"]}}
    jobs = retrain["jobs"]
    assert list(jobs) == ["test", "validate", "retrain-staging", "retrain-production"]
    production, staging = jobs["retrain-production"], jobs["retrain-staging"]
    # a schedule or a manual run trains in the retrain environment; a drift dispatch where it drifted
    assert production["if"] == ("${{ github.event_name != 'repository_dispatch' || (github.event_name == "
                                "'repository_dispatch' && github.event.client_payload.environment == 'production') }}")
    assert staging["if"] == ("${{ github.event_name == 'repository_dispatch' && "
                             "github.event.client_payload.environment == 'staging' }}")
    # production has `approval: true`: a retrain binds the training environment and never waits for a reviewer
    assert production["environment"] == {"name": "production-training"}
    assert production["needs"] == staging["needs"] == ["test", "validate"]
    env = production["steps"][-1]["env"]
    assert env["KFP_HOST"] == PRODUCTION.kfp_host and staging["steps"][-1]["env"]["KFP_HOST"] == STAGING.kfp_host
    assert not any(k.startswith("MLOPSDSL_PARAM_") and k != "MLOPSDSL_PARAM_TYPES" for k in env)


def test_dangerous_triggers_are_refused(tmp_path):
    project = churn(ci=churn().ci.model_copy(update={"on": {"pull_request_target": {}, "push": {}}}))
    backend, files = compile_project(project, tmp_path)
    assert [d.code.code for d in backend.diagnostics] == ["MLD701"]
    assert "pull_request_target" in backend.diagnostics[0].message
    assert list(workflows(files)["ci"]["on"]) == ["push"]


def test_fractional_canary_step_is_reported(tmp_path):
    backend, _ = compile_project(with_rollout(churn(), strategy="canary", steps=(12.5, 100.0), interval=60.0),
                                 tmp_path)
    assert any("12.5%" in d.message for d in backend.diagnostics)


def test_no_ci_section_no_output():
    assert GitHubBackend().compile(Project(name="x", version="1.0.0", spec_path="x.yaml")) == []


# --- the setup checklist ----------------------------------------------------------------------
def test_checklist_names_every_secret_environment_and_reviewer(tmp_path):
    items = GitHubBackend().checklist(churn())
    text = "\n".join(items)
    for needle in ("Environment 'staging-training' (training in 'staging'): secret `KFP_TOKEN`",
                   "Environment 'production-training' (training in 'production'): secret `KFP_TOKEN`",
                   "Environment 'production': secret `KUBECONFIG`", "no required reviewers",
                   "required reviewers under Settings", "`PROMETHEUS_URL`", "mlopsdsl-retrain-churn",
                   "Read repository contents", "examples/churn/churn.yaml"):
        assert needle in text
    assert "Deployment protection" not in " ".join(i for i in items if "'staging'" in i)  # staging: no approval
    _, files = compile_project(churn(), tmp_path)
    assert all(f"- [ ] {item}" in files["github/SETUP.md"] for item in items)


def test_ci_commands_get_the_secrets_of_ci_env_and_no_other_step_does(tmp_path):
    # `dvc pull` in `install:` needs the remote's credentials (issue 16): the install and test steps
    # get them as env, by the GitHub secret's name; checkout, setup-python and mlopsdsl's steps do not
    env = (EnvVar(name="AWS_SECRET_ACCESS_KEY", secret="dvc_secret_key"), EnvVar(name="DVC_REMOTE", value="s3://acme"))
    project = churn(ci=churn().ci.model_copy(update={"env": env}))
    backend, files = compile_project(project, tmp_path)
    assert backend.diagnostics == []
    wanted = {"AWS_SECRET_ACCESS_KEY": "${{ secrets.DVC_SECRET_KEY }}", "DVC_REMOTE": "s3://acme"}
    for kind in ("ci", "train", "retrain"):
        steps = workflows(files)[kind]["jobs"]["test"]["steps"]
        commands = [s for s in steps if s["name"].startswith(("Install: ", "Test: "))]
        assert [s["run"] for s in commands] == ["pip install -r requirements.txt", "pip install -e .", "pytest -q"]
        assert all(s["env"] == wanted for s in commands)
        assert all("env" not in s for s in steps if s not in commands)
        assert "DVC_SECRET_KEY" not in yaml.safe_dump(workflows(files)[kind]["jobs"]["validate"])
    assert "Repository secret `DVC_SECRET_KEY`: the install and test commands read it as `AWS_SECRET_ACCESS_KEY`" \
        in files["github/SETUP.md"]
    judge(tmp_path)


# --- determinism and golden files -------------------------------------------------------------
def test_output_is_deterministic(tmp_path):
    _, first = compile_project(churn(), tmp_path / "a")
    _, second = compile_project(churn(), tmp_path / "b")
    assert first == second


def test_golden_churn(tmp_path):
    _, files = compile_project(churn(), tmp_path)
    root = GOLDEN / "churn"
    if os.environ.get("MLOPSDSL_REGEN_GOLDEN") == "1" and not os.environ.get("CI"):
        for path, text in files.items():
            (root / path).parent.mkdir(parents=True, exist_ok=True)
            (root / path).write_text(text)
    expected = {str(p.relative_to(root)): p.read_text() for p in sorted(root.rglob("*")) if p.is_file()}
    # the pinned compiler version is the one moving part: compare with it normalised
    norm = {k: re.sub(r"mlopsdsl==[\w.+-]+", "mlopsdsl==X", v) for k, v in files.items()}
    assert norm == {k: re.sub(r"mlopsdsl==[\w.+-]+", "mlopsdsl==X", v) for k, v in expected.items()}
    for path, text in files.items():
        if path.endswith(".yml"):
            assert yaml.safe_load(text)["jobs"]  # golden files are valid YAML
