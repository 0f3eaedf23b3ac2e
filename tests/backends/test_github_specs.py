"""The workflows compiled from real specs through the CLI: what must not depend on where or for which
environment `compile` ran, and what must never be installed from where (issue 16)."""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml

from conftest import run_cli

from .test_github_projects import REPO, judge

CHURN = REPO / "examples/churn/churn.yaml"
VISION = REPO / "examples/vision/defects.yaml"


def compile_to(spec: Path, out: Path, *args: str, cwd: Path | None = None) -> dict[str, bytes]:
    code, stdout, stderr = run_cli("compile", spec, "--target", "github", "--out", out, *args, cwd=cwd)
    assert code == 0, stdout + stderr
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


def workflow(files: dict[str, bytes], name: str) -> dict:
    return yaml.safe_load(files[f"github/workflows/{name}.yml"])


def test_the_output_is_the_same_for_every_env_and_carries_each_environments_values(tmp_path):
    outputs = [compile_to(VISION, tmp_path / (env or "none"), *(["--env", env] if env else []))
               for env in (None, "staging", "production")]
    assert outputs[0] == outputs[1] == outputs[2]
    jobs = workflow(outputs[0], "surface-defects-deploy")["jobs"]
    staging, production = jobs["deploy-staging"], jobs["deploy-production"]
    # production sets `serving.rollout.interval: 1h`; staging keeps 15m
    assert production["steps"][-1]["env"]["STEP_WAIT"] == "3600" and staging["steps"][-1]["env"]["STEP_WAIT"] == "900"
    assert production["timeout-minutes"] > staging["timeout-minutes"] + 60
    judge(tmp_path / "none")


def test_dispatch_defaults_are_the_training_environments(tmp_path, write_spec):
    text = CHURN.read_text().replace("train: {on_branch: main, environment: staging}",
                                     "train: {on_branch: main, environment: production}")
    spec = write_spec(text, "churn.yaml")
    (spec.parent / "components").mkdir()
    shutil.copy(REPO / "examples/churn/components/register.yaml", spec.parent / "components")
    files = compile_to(spec, tmp_path / "out", "--env", "staging")
    inputs = workflow(files, "churn-train")["on"]["workflow_dispatch"]["inputs"]
    assert inputs["min_accuracy"]["default"] == 0.87  # production's `params.min_accuracy.default`, not 0.85


def test_the_spec_path_is_relative_to_the_repository_root_from_any_directory(tmp_path):
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    shutil.copytree(CHURN.parent, repo / "ml" / "churn")
    spec = repo / "ml" / "churn" / "churn.yaml"
    from_root = compile_to(Path("ml/churn/churn.yaml"), tmp_path / "a", cwd=repo)
    from_elsewhere = compile_to(spec, tmp_path / "b", cwd=REPO)
    assert from_root == from_elsewhere
    validate = workflow(from_root, "churn-ci")["jobs"]["validate"]["steps"][-1]
    assert validate["env"]["MLOPSDSL_SPEC"] == "ml/churn/churn.yaml"
    # and --check agrees from a third directory
    code, out, err = run_cli("compile", spec, "--target", "github", "--out", tmp_path / "a", "--check",
                             cwd=repo / "ml")
    assert code == 0, out + err


def test_two_projects_in_one_repository_never_share_a_file_a_group_or_an_event(tmp_path, write_spec):
    other = write_spec(CHURN.read_text().replace("name: churn ", "name: churn-b "), "b/churn.yaml")
    shutil.copytree(REPO / "examples/churn/components", other.parent / "components")
    # (the example's own patch names its file and a group of its own: the copy renames both)
    other.write_text(other.read_text().replace("github/workflows/churn-deploy.yml", "github/workflows/churn-b-deploy.yml")
                     .replace("group: churn-deploy,", "group: churn-b-deploy,"))
    a, b = compile_to(CHURN, tmp_path / "out-a"), compile_to(other, tmp_path / "out-b")
    names = {p for p in a if p.startswith("github/workflows/")}
    assert names.isdisjoint(p for p in b if p.startswith("github/workflows/"))

    def keys(files):
        found = set()
        for path in files:
            if path.startswith("github/workflows/"):
                doc = yaml.safe_load(files[path])
                found.add(str((doc.get("concurrency") or {}).get("group")))
                found |= {str((j.get("concurrency") or {}).get("group")) for j in doc["jobs"].values()}
                found |= set((doc["on"].get("repository_dispatch") or {}).get("types", []))
        return found - {"None"}

    assert keys(a) and keys(a).isdisjoint(keys(b))


def test_the_tool_runs_on_its_own_python_and_never_comes_from_the_public_index_by_name(tmp_path):
    files = compile_to(CHURN, tmp_path / "out")
    for name, data in files.items():
        if name.endswith(".yml"):
            assert b"pip install mlopsdsl" not in data and b"mlopsdsl==" not in data
    ci = workflow(files, "churn-ci")["jobs"]
    assert ci["test"]["steps"][1]["with"]["python-version"] == "3.11"  # ci.github.python: the project's tests
    assert ci["validate"]["steps"][1]["with"]["python-version"] == "3.12"  # mlopsdsl's own steps
    install = ci["validate"]["steps"][2]
    assert install["env"]["MLOPSDSL_REQUIREMENT"].startswith("mlopsdsl @ git+https://github.com/acme/mlopsdsl@")


def test_without_an_install_source_the_github_target_refuses(tmp_path, write_spec):
    text = "\n".join(line for line in VISION.read_text().splitlines() if "mlopsdsl: git+" not in line) + "\n"
    spec = write_spec(text, "defects.yaml")
    code, out, err = run_cli("compile", spec, "--target", "github", "--out", tmp_path / "out")
    assert code == 1 and "MLD685" in out + err
    assert not (tmp_path / "out").exists()
