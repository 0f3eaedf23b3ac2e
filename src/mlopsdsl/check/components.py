"""Reusable components: `uses: ./components/x.yaml` loads a `kind: Component` file.

A component file goes through the same loader and schema as a spec; its
diagnostics point into the component file. Paths are relative to the file that
names them, and a chain of `uses` that comes back to a file already being
loaded is refused with the chain printed.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from mlopsdsl.check.context import CheckContext
from mlopsdsl.check.symbols import InputDecl, OutputDecl, input_decls, output_decls
from mlopsdsl.diagnostics import Diagnostic, codes
from mlopsdsl.loader import Document, Limits, display_source, load_bytes, read_input
from mlopsdsl.source import Path


@dataclass
class Component:
    path: str  # as resolved on disk, relative to the current directory
    document: Document
    inputs: dict[str, InputDecl] = field(default_factory=dict)
    outputs: dict[str, OutputDecl] = field(default_factory=dict)

    @property
    def data(self) -> dict[str, Any]:
        return self.document.data


def load_components(ctx: CheckContext) -> dict[str, Component | None]:
    """Load every component the pipeline's steps name, once each."""
    pipeline = ctx.section("pipeline")
    steps = pipeline.get("steps") if isinstance(pipeline.get("steps"), dict) else {}
    uses: list[tuple[str, Path]] = []
    for name, step in steps.items():
        if isinstance(step, dict) and isinstance(step.get("uses"), str):
            uses.append((step["uses"], ("pipeline", "steps", name, "uses")))
    on_exit = pipeline.get("on_exit")
    if isinstance(on_exit, dict) and isinstance(on_exit.get("uses"), str):
        uses.append((on_exit["uses"], ("pipeline", "on_exit", "uses")))
    loaded: dict[str, Component | None] = {}
    # A variant checked after its base takes the files the base loaded (loading one again reports
    # nothing new); one that failed is loaded again, to be reported where this variant uses it.
    previous = ctx.base.components if ctx.base is not None else {}
    for ref, path in uses:
        if ref not in loaded and previous.get(ref) is not None:
            loaded[ref] = previous[ref]
        elif ref not in loaded:
            loaded[ref] = _load(ctx, ref, path, ctx.spec_dir, chain=(ctx.source.path,))
    return loaded


def _load(ctx: CheckContext, ref: str, at: Path, base_dir: str, chain: tuple[str, ...]) -> Component | None:
    from mlopsdsl import schema

    resolved = os.path.normpath(os.path.join(base_dir, ref))
    if resolved in chain or os.path.abspath(resolved) in map(os.path.abspath, chain):
        cycle = " -> ".join(chain + (resolved,))
        ctx.error(codes.COMPONENT_CYCLE, f"components use each other in a cycle: {cycle}", at,
                  hint="a component cannot use itself, directly or through others")
        return None
    if not (os.path.exists(resolved) or (ctx.buffers and os.path.abspath(resolved) in ctx.buffers)):
        ctx.error(codes.COMPONENT_NOT_FOUND, f"component file '{ref}' not found (looked for {resolved})", at,
                  hint="`uses:` paths are relative to the file that contains them")
        return None
    limits = Limits.from_env()
    raw, problem = read_input(resolved, limits, ctx.buffers)
    if problem is not None:
        ctx.error(codes.COMPONENT_NOT_FOUND, f"component file '{ref}': {problem.message}", at, hint=problem.hint)
        return None
    document, diagnostics = load_bytes(raw, resolved, limits)
    ctx.diagnostics.extend(diagnostics)
    if document is None:
        source = display_source(resolved, raw)
        if source is not None:
            ctx.sources[resolved] = source
        return None
    ctx.sources[resolved] = document.source
    if document.data.get("kind") != "Component":
        ctx.error(codes.COMPONENT_NOT_FOUND,
                  f"'{ref}' is a `kind: {document.data.get('kind')}` file, not a `kind: Component`", at,
                  hint="`uses:` names a component file (apiVersion: mlopsdsl/v1, kind: Component)")
        return None
    problems = schema.validate(document)
    ctx.diagnostics.extend(problems)
    if any(d.is_error for d in problems):
        return None
    component = Component(resolved, document, input_decls(document.data.get("inputs")),
                          output_decls(document.data.get("outputs"), ("outputs",)))
    nested = document.data.get("uses")
    if isinstance(nested, str):  # a component that extends another
        base = _load(ctx, nested, at, os.path.dirname(resolved), chain + (resolved,))
        if base is not None:
            _inherit(component, base)
    return component


def _inherit(component: Component, base: Component) -> None:
    for key, value in base.data.items():
        if key not in ("apiVersion", "kind", "metadata", "uses"):
            component.data.setdefault(key, value)
    for name, decl in base.inputs.items():
        component.inputs.setdefault(name, decl)
    for name, out in base.outputs.items():
        component.outputs.setdefault(name, out)


def component_diagnostic(component: Component, code: codes.Code, message: str, path: Path,
                         hint: str | None = None) -> Diagnostic:
    """A diagnostic about a mistake inside the component file itself."""
    return Diagnostic(code, message, component.document.index.span(path), path, hint=hint)
