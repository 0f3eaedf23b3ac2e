"""The one way through: load -> schema -> check -> IR.

Each stage returns its result and its diagnostics; a stage runs only when the
previous one produced something it can trust (a file that is not YAML has no
schema errors worth showing). The CLI and the tests call these functions; no
stage reaches back into an earlier one's input.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

from mlopsdsl.diagnostics import Diagnostic, has_errors, sort_key
from mlopsdsl.loader import Document, Limits, display_source, load_bytes, read_input
from mlopsdsl.source import SourceFile


@dataclass
class Result:
    path: str
    diagnostics: list[Diagnostic] = field(default_factory=list)
    sources: dict[str, SourceFile] = field(default_factory=dict)
    document: Document | None = None
    checked: Any = None  # the CheckedSpec of the base spec (or of `--env`)
    # every CheckedSpec made so far, by environment (None: the base spec); `_lower` reuses them
    variants: dict[str | None, Any] = field(default_factory=dict)
    ir: Any = None
    usage: bool = False  # the command line is wrong (an unknown `--env`), not the spec: exit 2
    buffers: Mapping[str, str] | None = None  # editor buffers read before the disk (see `front_end`)

    @property
    def ok(self) -> bool:
        return not has_errors(self.diagnostics)

    def add(self, diagnostics: list[Diagnostic]) -> None:
        self.diagnostics.extend(diagnostics)


def front_end(path: str, *, limits: Limits | None = None, buffers: Mapping[str, str] | None = None) -> Result:
    """Load and schema-validate one spec file.

    `buffers` holds the text of files open in an editor (absolute path -> text): the
    spec and the components it uses are read from there before the disk.
    """
    from mlopsdsl import schema

    result = Result(path)
    limits = limits or Limits.from_env()
    result.buffers = buffers
    raw, problem = read_input(path, limits, buffers)
    if problem is not None:
        result.add([problem])
        return _done(result)
    document, diagnostics = load_bytes(raw, path, limits)
    result.add(diagnostics)
    if document is None:  # the renderer shows snippets of the refused text (it never reads files itself)
        source = display_source(path, raw)
        if source is not None:
            result.sources[path] = source
        return _done(result)
    result.document = document
    result.sources[path] = document.source
    result.add(schema.validate(document))
    return _done(result)


def check_file(path: str, *, env: str | None = None, limits: Limits | None = None,
               buffers: Mapping[str, str] | None = None, targets: Sequence[str] | None = None) -> Result:
    """Everything `validate` runs: load, schema, the semantic checks, and the checks of `targets`
    (default: the built-in targets; `()`: none) on the spec lowered to the IR (`result.ir`).

    With `env`, the spec is checked with that environment's `set:` overlay
    applied. Without it, the base spec is checked and then every environment
    that overrides something, so a broken override is found before anyone
    deploys to that environment; a mistake seen in several runs is reported once.
    The targets check the spec as lowered for no environment and for each one,
    so `validate` never passes what `compile` of a built-in target refuses.
    """
    result = _semantic(path, env, limits, buffers)
    if result.ok and result.checked is not None and _is_project(result):
        _lower(result, env)
        if result.ir is not None and targets != ():
            from mlopsdsl.backends import registry

            _target_checks(result, registry.core() if targets is None else list(targets))
    return _done(result)


def _semantic(path: str, env: str | None, limits: Limits | None, buffers: Mapping[str, str] | None) -> Result:
    result = front_end(path, limits=limits, buffers=buffers)
    if result.document is None:
        return result
    if not result.ok:  # the semantic checks read the well-formed parts only; the secret scan reads all
        _check_around_holes(result)
        return _done(result)
    if env is not None and env not in _environments(result.document.data):
        return _unknown_environment(result, env)
    names = [env] if env else [None] + _overriding_environments(result.document.data)
    seen = {_identity(d) for d in result.diagnostics}
    for name in names:
        # Variants after the base spec reuse its results where they cannot differ (CheckContext.base).
        checked, diagnostics = _check_variant(result, name, base=None if env else result.checked)
        result.variants[name] = checked
        if name is None or name == env:
            result.checked = checked
        _add_new(result, diagnostics, seen)
    return _done(result)


def validate_file(path: str, *, env: str | None = None, limits: Limits | None = None) -> Result:
    """What `validate` reports: `check_file`, and for a spec with `patches:` what they do to the output.

    Whether a patch selects anything, and applies, is known only from the documents the
    targets generate: so they are generated (in memory, every built-in target) and the
    patches applied, as `compile` would, and their diagnostics (MLD703, MLD704) kept.
    """
    result = check_file(path, env=env, limits=limits)
    data = result.document.data if result.document is not None else {}
    if not result.ok or not data.get("patches") or data.get("kind") == "Component":
        return result
    from mlopsdsl.backends import registry
    from mlopsdsl.compiler import compile_project
    from mlopsdsl.diagnostics import codes

    built = build_ir(path, env=env, limits=limits)
    if built.ir is not None:
        output = compile_project(built.ir, registry.core())
        result.add([d for d in output.diagnostics if d.code in (codes.PATCH_NO_MATCH, codes.PATCH_FAILED)])
    return _done(result)


def build_ir(path: str, *, env: str | None = None, limits: Limits | None = None) -> Result:
    """Check one spec for one environment (or none) and lower it to the IR (`result.ir`), for a
    compile: the targets' own checks run there, for the targets it names (`Backend.check`)."""
    result = check_file(path, env=env, limits=limits, targets=())
    if result.ok and result.document is not None and not _is_project(result):
        return _not_a_project(result)
    return result


def _is_project(result: Result) -> bool:
    return result.document is not None and result.document.data.get("kind") != "Component"


def _target_checks(result: Result, names: list[str]) -> None:
    from mlopsdsl.backends import registry

    ir = result.ir
    projects = [ir.base or ir, *[view for view in ir.by_environment.values() if view is not ir.base]]
    seen = {_identity(d) for d in result.diagnostics}
    for name in names:
        backend = registry.get(name)  # one instance for every view: a built-in target skips what it checked
        for project in projects:
            _add_new(result, backend.run_check(project), seen)


def _lower(result: Result, env: str | None) -> None:
    """`result.ir`: the spec lowered for `env`, carrying itself lowered for every declared
    environment and for none (`Project.by_environment`, `Project.base`), so a target serving all
    environments at once writes the same output whatever `env` is. An environment that does not
    check is an error here (`validate` checked them all already; `compile --env` checks the rest).

    Each environment is lowered after the base spec and shares the base's IR wherever its
    overrides left the spec alone (`lower_environments`), so the targets' checks can skip it."""
    if result.checked.order is None:
        return
    path = result.path
    from mlopsdsl.ir.lower import lower_environments

    checked = result.variants
    names = list(result.document.data.get("environments") or {})
    seen = {_identity(d) for d in result.diagnostics}
    for name in [None, *names]:
        if name in checked:
            continue
        if name is not None and name not in _overriding_environments(result.document.data):
            continue  # nothing to overlay: the base spec's check is this environment's
        variant, diagnostics = _check_variant(result, name, base=checked.get(None))
        _add_new(result, diagnostics, seen)
        checked[name] = variant
    if not result.ok or any(c is None or c.order is None for c in checked.values()):
        return
    base, views = lower_environments(checked, path, names)
    top = views[env] if env is not None else base
    result.ir = top.model_copy(update={"by_environment": views, "base": base})


def _not_a_project(result: Result) -> Result:
    from mlopsdsl.diagnostics import codes

    result.add([Diagnostic(codes.SCHEMA_API_VERSION, "a `kind: Component` file is built only as a step of a "
                           "Project that `uses:` it", result.document.index.span(("kind",)), ("kind",),
                           hint="compile the Project; `validate` checks a component on its own")])
    result.usage = True
    return _done(result)


def _environments(data: dict[str, Any]) -> dict[str, Any]:
    environments = data.get("environments")
    return environments if isinstance(environments, dict) else {}


def _overriding_environments(data: dict[str, Any]) -> list[str]:
    return [name for name, env in _environments(data).items() if isinstance(env, dict) and env.get("set")]


def _unknown_environment(result: Result, env: str) -> Result:
    from mlopsdsl.check.context import did_you_mean
    from mlopsdsl.diagnostics import codes
    from mlopsdsl.source import Span

    names = sorted(_environments(result.document.data))
    hint = (did_you_mean(env, names) or "") + (" " if names else "")
    hint += f"environments in this spec: {', '.join(names)}" if names else "this spec defines no environments"
    # At the `environments:` key when there is one: that is where the names are.
    span = result.document.index.span(("environments",), key=True) if names else Span.point(result.path)
    result.add([Diagnostic(codes.UNKNOWN_ENVIRONMENT, f"unknown environment '{env}' (--env)", span, hint=hint)])
    result.usage = True
    return _done(result)


def _identity(d: Diagnostic) -> tuple:
    return (d.code.code, d.span, d.message)


def _check_around_holes(result: Result) -> None:
    """The semantic checks of a spec the schema refused, on its well-formed parts (`check.holes`):
    their errors are reported with the schema's, in one run. Nothing is lowered."""
    from mlopsdsl.check import check_spec
    from mlopsdsl.check.context import CheckContext
    from mlopsdsl.check.holes import holes_of, without_holes

    found = _secrets_only(result)
    document = result.document
    holes = holes_of(document.data, result.diagnostics)
    if holes is not None:
        ctx = CheckContext(without_holes(document.data, holes), document.index, document.source, holes=holes,
                           buffers=result.buffers)
        check_spec(ctx)
        result.sources.update(ctx.sources)
        found += ctx.diagnostics
    _add_new(result, found, {_identity(d) for d in result.diagnostics})


def _add_new(result: Result, diagnostics: list[Diagnostic], seen: set[tuple]) -> None:
    """A mistake seen in several variants (or by several targets) is reported once."""
    for diagnostic in diagnostics:
        if _identity(diagnostic) not in seen:
            seen.add(_identity(diagnostic))
            result.diagnostics.append(diagnostic)


def _secrets_only(result: Result) -> list[Diagnostic]:
    """Credentials in a spec the schema refused: one is a leak whatever the shape of the file around it."""
    from mlopsdsl.check.context import CheckContext
    from mlopsdsl.check.secrets import check_literal_secrets

    document = result.document
    ctx = CheckContext(document.data, document.index, document.source, buffers=result.buffers)
    check_literal_secrets(ctx)
    return ctx.diagnostics


def _check_variant(result: Result, env: str | None, base: Any = None):
    from mlopsdsl import schema
    from mlopsdsl.check import check_spec
    from mlopsdsl.check.context import CheckContext, OverlayIndex
    from mlopsdsl.check.envs import apply_overlay
    from mlopsdsl.loader import Document

    document = result.document
    diagnostics: list[Diagnostic] = []
    if env is not None:
        data, overrides, problems = apply_overlay(document.data, document.index, env)
        diagnostics += problems
        index = OverlayIndex(document.index, overrides)
        overlaid = Document(document.source, data, index)  # type: ignore[arg-type]
        diagnostics += schema.validate(overlaid)
        if has_errors(diagnostics):
            return None, diagnostics
        ctx = CheckContext(data, index, document.source, env_name=env, overridden=tuple(overrides), base=base,
                           buffers=result.buffers)
    else:
        ctx = CheckContext(document.data, document.index, document.source, buffers=result.buffers)
    checked = check_spec(ctx)
    result.sources.update(ctx.sources)
    return checked, diagnostics + ctx.diagnostics


def _done(result: Result) -> Result:
    result.diagnostics.sort(key=sort_key)
    return result
