"""What each command does, once the options are parsed."""

from __future__ import annotations

import argparse
import os
import sys

from mlopsdsl.exits import EXIT_ERRORS, EXIT_OK, EXIT_USAGE
from mlopsdsl.diagnostics import Diagnostic, has_errors, codes
from mlopsdsl.source import SourceFile


def use_color(choice: str, stream) -> bool:
    if choice == "always":
        return True
    if choice == "never" or os.environ.get("NO_COLOR"):
        return False
    return hasattr(stream, "isatty") and stream.isatty()


def _emit(args: argparse.Namespace, diagnostics: list[Diagnostic], sources: dict[str, SourceFile]) -> None:
    from mlopsdsl.diagnostics.render import render

    text = render(args.format, diagnostics, sources, color=use_color(args.color, sys.stdout))
    if text:
        sys.stdout.write(text)


def ir_json(project) -> str:
    """The IR as canonical JSON: sorted keys, stable across runs and machines."""
    import json

    # allow_nan=False: NaN and Infinity are not JSON; the loader refuses them (MLD115), so one here is a bug.
    return json.dumps(project.model_dump(mode="json"), indent=2, sort_keys=True, ensure_ascii=False,
                      allow_nan=False) + "\n"


def _usage_problem(result) -> bool:
    """A missing file or an unknown `--env` is a usage problem (exit 2), not a spec with errors."""
    diagnostics = result.diagnostics
    return result.usage or (bool(diagnostics) and all(d.code is codes.FILE_NOT_FOUND for d in diagnostics))


def validate(args: argparse.Namespace) -> int:
    from mlopsdsl.driver import validate_file

    diagnostics: list[Diagnostic] = []
    sources: dict[str, SourceFile] = {}
    missing = False
    if args.emit_ir and (len(args.specs) != 1):
        print("mlopsdsl: --emit-ir takes exactly one SPEC", file=sys.stderr)
        return EXIT_USAGE
    for spec in args.specs:
        result = validate_file(spec, env=args.env)
        diagnostics += result.diagnostics
        if args.emit_ir and result.ok and result.ir is not None:  # the IR the checks ran on: one front end
            sys.stdout.write(ir_json(result.ir))
        sources.update(result.sources)
        missing |= _usage_problem(result)
    _emit(args, diagnostics, sources)
    if missing:
        return EXIT_USAGE
    return EXIT_ERRORS if has_errors(diagnostics) else EXIT_OK


def compile(args: argparse.Namespace) -> int:  # noqa: A001 - the command's name
    """Front end -> IR -> backends -> patches -> bytes in memory; then write all, or check, or nothing."""
    from mlopsdsl import compiler, driver, writer
    from mlopsdsl.backends import registry
    from mlopsdsl.backends.registry import RegistryError

    try:  # a wrong --target is a usage error, found before any work
        targets = registry.select(args.target)
    except RegistryError as exc:
        print(f"mlopsdsl: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    result = driver.build_ir(args.spec, env=args.env)
    diagnostics, sources = list(result.diagnostics), dict(result.sources)
    if _usage_problem(result):
        _emit(args, diagnostics, sources)
        return EXIT_USAGE
    if args.model and result.ir is not None and not has_errors(diagnostics):
        from mlopsdsl import served_model

        served, problems = served_model.bind(result.ir, args.model)
        if problems:  # the spec is fine; the model named on the command line is not
            _emit(args, diagnostics + problems, sources)
            print(f"mlopsdsl: nothing written to {args.out}", file=sys.stderr)
            return EXIT_USAGE
        result.ir = served
    output = None
    if result.ir is not None and not has_errors(diagnostics):
        try:
            output = compiler.compile_project(result.ir, targets)
        except RegistryError as exc:
            _emit(args, diagnostics, sources)
            print(f"mlopsdsl: error: {exc}", file=sys.stderr)
            return EXIT_USAGE
        diagnostics += output.diagnostics
    if output is None or has_errors(diagnostics):
        _emit(args, diagnostics, sources)
        if not has_errors(diagnostics):  # no IR and no reason: a bug, reported as the internal error it is
            raise RuntimeError("the front end produced neither an IR nor a diagnostic")
        print(f"mlopsdsl: nothing written to {args.out}: the spec has errors", file=sys.stderr)
        return EXIT_ERRORS
    scope = targets if args.target else None  # a subset replaces only its own targets' files
    if args.check:
        try:
            differences = writer.check(args.out, output.files, scope=scope)
        except writer.OutputError as exc:
            _emit(args, diagnostics, sources)
            print(f"mlopsdsl: error: {exc}", file=sys.stderr)
            return EXIT_USAGE
        diagnostics += compiler.differences(args.out, differences)
        _emit(args, diagnostics, sources)
        if has_errors(diagnostics):
            sys.stderr.write(compiler.diff_text(differences))
            return EXIT_ERRORS
        print(compiler.summary(output, args.out, checked=True), file=sys.stderr)
        return EXIT_OK
    try:
        found = writer.write(args.out, output.files, force=args.force, inputs=[args.spec, *sources], scope=scope)
    except writer.OutputError as exc:
        _emit(args, diagnostics, sources)
        print(f"mlopsdsl: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    _emit(args, diagnostics + found, sources)
    if has_errors(found):  # MLD705: the spec is fine, the chosen --out is not (a usage error)
        print(f"mlopsdsl: nothing written to {args.out}", file=sys.stderr)
        return EXIT_USAGE
    print(compiler.summary(output, args.out), file=sys.stderr)
    for target, steps in output.next_steps.items():
        print(f"\nbefore the {target} output works:", file=sys.stderr)
        for step in steps:
            print(f"  [ ] {step}", file=sys.stderr)
    return EXIT_OK


def targets(args: argparse.Namespace) -> int:
    """List installed targets from package metadata; `--verbose` imports each to show its description."""
    from mlopsdsl.backends import registry

    rows = registry.installed()
    if not rows:
        print("no targets installed", file=sys.stderr)
        return EXIT_OK
    width = max(len(name) for name, _, _ in rows)
    for name, dist, version in rows:
        line = f"{name:<{width}}  {dist} {version}"
        if args.verbose:
            try:
                line += f"  {registry.load(name).description}"
            except registry.RegistryError as exc:
                line += f"  (cannot load: {exc})"
        print(line.rstrip())
    return EXIT_OK


def schema(args: argparse.Namespace) -> int:
    from mlopsdsl.files import write_text
    from mlopsdsl.resources import schema_text

    text = schema_text()
    if args.out:
        try:
            write_text(args.out, text)
        except (OSError, ValueError) as exc:  # a directory, no permission, a NUL byte in the name
            print(f"mlopsdsl: error: cannot write '{args.out}': {getattr(exc, 'strerror', None) or exc}",
                  file=sys.stderr)
            return EXIT_USAGE
    else:
        sys.stdout.write(text)
    return EXIT_OK


def graph(args: argparse.Namespace) -> int:
    from mlopsdsl.driver import build_ir
    from mlopsdsl.graph import dot, mermaid

    result = build_ir(args.spec, env=args.env)
    if result.ir is None:
        args.format = "text"
        _emit(args, result.diagnostics, result.sources)
        return EXIT_USAGE if _usage_problem(result) else EXIT_ERRORS
    if result.ir.pipeline is None:
        print("mlopsdsl: the spec has no pipeline to draw", file=sys.stderr)
        return EXIT_ERRORS
    sys.stdout.write((mermaid if args.format == "mermaid" else dot)(result.ir.pipeline))
    return EXIT_OK


def lsp(args: argparse.Namespace) -> int:
    from mlopsdsl.lsp.server import serve

    return serve()


def run(args: argparse.Namespace) -> int:
    """Compile for kubeflow in memory and run it here with kfp.local (src/mlopsdsl/run/)."""
    from pathlib import Path

    from mlopsdsl import compiler, driver
    from mlopsdsl import run as runner

    result = driver.build_ir(args.spec, env=args.env)
    diagnostics, sources = list(result.diagnostics), dict(result.sources)
    if _usage_problem(result):
        _emit(args, diagnostics, sources)
        return EXIT_USAGE
    if result.ir is None or has_errors(diagnostics):
        _emit(args, diagnostics, sources)
        return EXIT_ERRORS
    request = runner.Request(spec=args.spec, env=args.env, params=args.param or [], runs_dir=Path(args.runs_dir),
                             cache=not args.no_cache, containers=args.containers, only=args.only,
                             start=getattr(args, "from"), plain=args.plain,
                             jobs=args.jobs)
    found, code = runner.run(result.ir, request)
    _emit(args, diagnostics + found, sources)
    return code


def runs(args: argparse.Namespace) -> int:
    from pathlib import Path

    from mlopsdsl.run.record import list_runs, table

    sys.stdout.write(table(list_runs(Path(args.runs_dir))))
    return EXIT_OK
