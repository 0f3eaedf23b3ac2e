"""A step's shape beyond the schema: `run` or `uses`, and a component's call site."""

from __future__ import annotations

from mlopsdsl.check.context import CheckContext, did_you_mean, known
from mlopsdsl.check.exprs import ExprTable, literal_type
from mlopsdsl.check.symbols import StepDecl, Symbols
from mlopsdsl.diagnostics import codes
from mlopsdsl.expr import types as t


def check_steps(ctx: CheckContext, symbols: Symbols, exprs: ExprTable) -> None:
    for step in symbols.all_steps():
        raw = step.data
        has_uses = isinstance(raw.get("uses"), str)
        if has_uses and step.component is None:
            continue  # the component failed to load; reported there
        if not has_uses and "run" not in raw:
            ctx.error(codes.STEP_NEEDS_RUN, f"step '{step.name}' has neither `run` nor `uses`", step.path,
                      key=True, hint="add `run: [command, args...]`, or `uses: ./components/x.yaml`")
        elif not has_uses and not raw.get("image") and not ctx.unknown("defaults", "image"):
            ctx.error(codes.STEP_NEEDS_RUN, f"step '{step.name}' has no image", step.path, key=True,
                      hint="set `image:` on the step or in `defaults:`")
        if "params" in raw and not has_uses:
            ctx.error(codes.COMPONENT_INPUT_UNKNOWN, "`params` binds a component's inputs; this step uses no component",
                      step.path + ("params",), key=True, hint="pass values in `inputs`, or add `uses:`")
        if step.component is not None:
            _check_call(ctx, step, exprs)


def _check_call(ctx: CheckContext, step: StepDecl, exprs: ExprTable) -> None:
    declared = step.component.inputs
    given = dict(step.data.get("inputs") or {})
    given.update(step.data.get("params") or {})
    for name in given:
        if name not in declared:
            where = "inputs" if name in (step.data.get("inputs") or {}) else "params"
            ctx.error(codes.COMPONENT_INPUT_UNKNOWN,
                      f"component '{step.data['uses']}' has no input '{name}'", step.path + (where, name),
                      key=True, hint=did_you_mean(name, declared) or f"its inputs: {known(declared)}")
    for name, decl in declared.items():
        if name not in given and not decl.optional:
            ctx.error(codes.COMPONENT_INPUT_MISSING,
                      f"step '{step.name}' does not give required input '{name}' ({decl.type}) of "
                      f"component '{step.data['uses']}'", step.path + ("uses",),
                      hint="add it under `inputs:` (artifacts, upstream values) or `params:` (constants)")
        elif name in given:
            where = "inputs" if name in (step.data.get("inputs") or {}) else "params"
            checked = exprs.get(step.path + (where, name))
            found = checked.type if checked is not None else literal_type(given[name])
            wanted = t.from_name(decl.type) or t.UNKNOWN
            if not t.assignable(found, wanted):
                code = codes.ARTIFACT_TYPE_MISMATCH if found.is_artifact or wanted.is_artifact else \
                    codes.EXPR_TYPE_MISMATCH
                ctx.error(code, f"input '{name}' of component '{step.data['uses']}' takes {_a(wanted)}, "
                          f"but gets {_a(found)}", step.path + (where, name),
                          hint="wire an output of the right type" if wanted.is_artifact else None)



def _a(kind) -> str:
    """`a float`, `an int`, `an Artifact`: types read as words in messages."""
    text = str(kind)
    return f"{'an' if text[:1].lower() in 'aeiou' else 'a'} {text}"
