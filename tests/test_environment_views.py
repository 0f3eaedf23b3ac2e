"""Each environment is checked, lowered and target-checked at the cost of what it overrides.

The driver lowers the base spec once; an environment's IR takes the base's steps (and its
pipeline) wherever the overlay changed nothing they are made of, and the targets' checks skip
what they checked already. None of that may change what any environment compiles to or what
`validate` reports: an environment's own refusal is still found, at its `set:` entry.
"""

from __future__ import annotations

from conftest import example_with

from mlopsdsl.compiler import compile_project
from mlopsdsl.diagnostics import codes
from mlopsdsl.driver import build_ir, check_file, validate_file

LR = ("  version: 0.1.0\n", "  version: 0.1.0\nparams:\n  lr: {type: float, default: 0.1}\n"
                            "  tag: {type: str, default: '1.0'}\n")
ENVIRONMENTS = ("""  local:                             # `--env local`: this machine, MLflow in a SQLite file beside the spec
    set: {tracking.mlflow.uri: "sqlite:///mlflow.db"}
""", """  staging: {{namespace: ml-staging}}
  production:
    namespace: ml-prod
    set:
{production}
  local:
    set: {{tracking.mlflow.uri: "sqlite:///mlflow.db"}}
""")


def _spec(tmp_path, production: str, *more: tuple[str, str]) -> str:
    old, new = ENVIRONMENTS
    return example_with(tmp_path, LR, *more, (old, new.format(production=production)))


def _line_of(path: str, text: str) -> int:
    lines = open(path, encoding="utf-8").read().splitlines()
    (line,) = [n for n, content in enumerate(lines, 1) if text in content]
    return line


def test_a_refusal_of_one_environments_override_is_reported_at_its_set_entry(tmp_path):
    spec = _spec(tmp_path, '      pipeline.steps.train.env.LR: "${{ params.lr }}"')
    found = [d for d in validate_file(spec).diagnostics if d.is_error]
    assert [(d.code, d.span.line) for d in found] == [(codes.UNSUPPORTED, _line_of(spec, "env.LR"))], found
    assert "target 'kubeflow'" in found[0].message and "'LR'" in found[0].message
    by_env = check_file(spec, env="production")
    assert [(d.code, d.span.line) for d in by_env.diagnostics if d.is_error] == [(found[0].code, found[0].span.line)]
    built = build_ir(spec, env="production")  # and compile refuses it, as validate said
    assert built.ok and not compile_project(built.ir, ["kubeflow"]).ok


def test_a_run_argument_only_one_environment_sets_is_refused_there(tmp_path):
    spec = _spec(tmp_path, '      pipeline.steps.evaluate.run.1: "${{ params.lr * 2 }}"')
    found = [d for d in validate_file(spec).diagnostics if d.is_error]
    assert [(d.code, d.span.line) for d in found] == [(codes.UNSUPPORTED, _line_of(spec, "run.1"))], found
    assert "in `run`" in found[0].message


def test_a_step_refused_in_the_base_spec_and_in_an_environment_is_reported_once(tmp_path):
    spec = _spec(tmp_path, "      serving.name: house-prices-prod",
                 ("      outputs: {table: Dataset}      # a file the next steps can consume",
                  '      outputs: {table: Dataset}\n      env: {LR: "${{ params.lr }}"}'))
    found = [d for d in validate_file(spec).diagnostics if d.is_error]
    assert [d.code for d in found] == [codes.UNSUPPORTED], found  # production shares the step: one report


def test_every_environments_ir_is_what_lowering_it_alone_gives(tmp_path):
    """Sharing the base's IR never changes a view: each equals the spec lowered for that environment
    alone (`--env`), where nothing is shared."""
    spec = _spec(tmp_path, "      params.tag.default: '2.0'\n      pipeline.steps.evaluate.env.N: '3'",
                 ("      run: [python, -m, house_prices.prepare,",
                  '      image: "ghcr.io/acme/house-prices:${{ params.tag }}"\n'
                  "      run: [python, -m, house_prices.prepare,"),
                 ("house_prices.train, --data,", 'house_prices.train, --ns, "${{ env.namespace }}", --data,'))
    ir = check_file(spec).ir
    assert ir is not None
    views = ir.by_environment
    for name, view in views.items():
        alone = build_ir(spec, env=name).ir
        assert view.model_dump() == alone.model_dump(exclude={"by_environment", "base"}) | {"by_environment": {}, "base": None}, name
    base = {s.name: s for s in ir.base.pipeline.steps}
    production = {s.name: s for s in views["production"].pipeline.steps}
    assert production["prepare"].image == "ghcr.io/acme/house-prices:2.0" != base["prepare"].image  # a default read
    assert production["evaluate"] is not base["evaluate"]  # overridden
    assert production["train"] is not base["train"]  # reads env.namespace
    # staging overrides nothing a step is made of but its namespace, which only train reads
    staging = {s.name: s for s in views["staging"].pipeline.steps}
    assert staging["prepare"] is base["prepare"] and staging["evaluate"] is base["evaluate"]
    assert staging["train"] is not base["train"] and "ml-staging" in str(staging["train"].command)


def test_an_environment_that_changes_no_step_shares_the_base_pipeline(tmp_path):
    spec = _spec(tmp_path, "      serving.name: house-prices-prod")
    ir = check_file(spec).ir
    assert ir.by_environment["production"].pipeline is ir.base.pipeline
    assert ir.by_environment["local"].pipeline is ir.base.pipeline  # tracking is not part of a step


def test_an_override_of_a_request_is_checked_against_the_limit_it_left_alone(tmp_path):
    """The variant's value checks walk only what its overlay copied, but read each field beside the
    mapping holding it: a request raised over an untouched limit is found."""
    spec = _spec(tmp_path, '      pipeline.steps.train.resources.cpu: "4"',
                 ("      outputs: {model: Model}\n",
                  '      outputs: {model: Model}\n      resources: {cpu: "1", limits: {cpu: "2"}}\n'))
    found = [d for d in validate_file(spec).diagnostics if d.is_error]
    assert [d.code.code for d in found] == ["MLD640"] and "below the request 4" in found[0].message, found


def test_an_output_only_one_environment_adds_is_reported_unused(tmp_path):
    """The graph's checks are the base's only when every step is the base's as written."""
    spec = _spec(tmp_path, "      pipeline.steps.prepare.outputs.extra: Dataset")
    unused = [d for d in validate_file(spec).diagnostics if d.code.code == "MLD403"]
    assert [d.span.line for d in unused] == [_line_of(spec, "outputs.extra")], unused


def test_environments_that_change_defaults_params_or_data_lower_as_they_would_alone(tmp_path):
    spec = _spec(tmp_path, "      defaults.image: ghcr.io/acme/other:2\n      params.lr.type: str\n"
                           "      params.lr.default: fast\n  other:\n    set: {data.raw.uri: 's3://acme/other/'}",
                 ("  version: 0.1.0\n", "  version: 0.1.0\ndata:\n  raw: {uri: s3://acme/raw/}\n"),
                 ("house_prices.prepare, --out,", 'house_prices.prepare, --src, "${{ data.raw.uri }}", --lr, '
                                                  '"${{ params.lr }}", --out,'))
    result = check_file(spec)
    assert result.ok, result.diagnostics
    for name, view in result.ir.by_environment.items():
        alone = build_ir(spec, env=name).ir
        assert view.model_dump() == alone.model_dump(exclude={"by_environment", "base"}) | {
            "by_environment": {}, "base": None}, name
    production = {s.name: s for s in result.ir.by_environment["production"].pipeline.steps}
    assert production["train"].image == "ghcr.io/acme/other:2"
    assert "s3://acme/other/" in str(result.ir.by_environment["other"].pipeline.steps[0].command)


def test_an_edge_or_a_condition_only_one_environment_adds_is_checked_in_the_graph(tmp_path):
    """A step changed by an override keeps the base's graph only when its edges, outputs and condition
    are the base's: an `after` making a cycle, or a condition that never holds, is found."""
    cycle = _spec(tmp_path, "      pipeline.steps.prepare.after: [evaluate]")
    assert [d.code.code for d in validate_file(cycle).diagnostics if d.is_error] == ["MLD401"]
    never = _spec(tmp_path, '      pipeline.steps.evaluate.when: "${{ 1 > 2 }}"')
    unreachable = [d for d in validate_file(never).diagnostics if d.code.code == "MLD404"]
    assert [d.span.line for d in unreachable] == [_line_of(never, "evaluate.when")], unreachable
