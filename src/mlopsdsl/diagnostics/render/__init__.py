"""Renderers: one small module per output format, all over the same Diagnostic type.

Each module exposes ``render(diagnostics, sources, *, color=False) -> str``.
"""

from __future__ import annotations

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
