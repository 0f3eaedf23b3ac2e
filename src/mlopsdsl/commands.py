"""What each command does, once the options are parsed."""

from __future__ import annotations

import argparse
import sys

from mlopsdsl.cli import EXIT_ERRORS, EXIT_OK, EXIT_USAGE, use_color
from mlopsdsl.diagnostics import Diagnostic, has_errors, codes
from mlopsdsl.source import SourceFile


def _emit(args: argparse.Namespace, diagnostics: list[Diagnostic], sources: dict[str, SourceFile]) -> None:
    from mlopsdsl.diagnostics.render import render

    text = render(args.format, diagnostics, sources, color=use_color(args.color, sys.stdout))
    if text:
        sys.stdout.write(text)


def _io_only(diagnostics: list[Diagnostic]) -> bool:
    """A missing file is a usage problem (exit 2), not a spec with errors."""
    return bool(diagnostics) and all(d.code is codes.FILE_NOT_FOUND for d in diagnostics)


def validate(args: argparse.Namespace) -> int:
    from mlopsdsl.driver import front_end

    diagnostics: list[Diagnostic] = []
    sources: dict[str, SourceFile] = {}
    missing = False
    for spec in args.specs:
        result = front_end(spec)
        diagnostics += result.diagnostics
        sources.update(result.sources)
        missing |= _io_only(result.diagnostics)
    _emit(args, diagnostics, sources)
    if missing:
        return EXIT_USAGE
    return EXIT_ERRORS if has_errors(diagnostics) else EXIT_OK


def compile(args: argparse.Namespace) -> int:  # noqa: A001 - the command's name
    from mlopsdsl.driver import front_end

    result = front_end(args.spec)
    _emit(args, result.diagnostics, result.sources)
    if _io_only(result.diagnostics):
        return EXIT_USAGE
    if not result.ok:
        return EXIT_ERRORS
    print("mlopsdsl: no compile targets are installed yet; nothing was written", file=sys.stderr)
    return EXIT_USAGE


def schema(args: argparse.Namespace) -> int:
    from mlopsdsl.resources import schema_text

    text = schema_text()
    if args.out:
        with open(args.out, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
    else:
        sys.stdout.write(text)
    return EXIT_OK


def graph(args: argparse.Namespace) -> int:
    from mlopsdsl.driver import front_end

    result = front_end(args.spec)
    if not result.ok or result.document is None:
        args.format = "text"
        _emit(args, result.diagnostics, result.sources)
        return EXIT_USAGE if _io_only(result.diagnostics) else EXIT_ERRORS
    print("mlopsdsl: graph needs the pipeline checker, which is not available yet", file=sys.stderr)
    return EXIT_USAGE
