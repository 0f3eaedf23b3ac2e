"""Renderers: one small module per output format, all over the same Diagnostic type.

Each module exposes ``render(diagnostics, sources, *, color=False) -> str``.
"""

from __future__ import annotations

import os
from importlib import import_module
from typing import Iterable

from mlopsdsl.diagnostics import Diagnostic
from mlopsdsl.source import SourceFile

FORMATS = ("text", "concise", "json", "sarif", "github")


def render(fmt: str, diagnostics: Iterable[Diagnostic], sources: dict[str, SourceFile], *, color: bool = False) -> str:
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}")
    module = import_module(f"mlopsdsl.diagnostics.render.{fmt}")
    return module.render(list(diagnostics), sources, color=color)


def relative_path(file: str) -> str:
    """`file` as a forward-slash path relative to the current directory when it lies below it.

    SARIF viewers and GitHub annotations resolve paths against the repository
    root, where CI runs; an absolute path or `..` would not match any file there.
    """
    if os.path.isabs(file):
        relative = os.path.relpath(file)
        if not relative.startswith(os.pardir):
            file = relative
    return file.replace(os.sep, "/")
