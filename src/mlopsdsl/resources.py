"""Packaged data files: the JSON Schema and the expression grammar.

Both exist once in the repository (`schemas/`, `grammar/`) and reach the package
through symlinks that the wheel build resolves into files.
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources

SCHEMA_FILE = "mlopsdsl.schema.json"
GRAMMAR_FILE = "expressions.lark"


def read_text(name: str) -> str:
    return resources.files("mlopsdsl.data").joinpath(name).read_text(encoding="utf-8")


@lru_cache(maxsize=None)
def schema_text() -> str:
    return read_text(SCHEMA_FILE)


@lru_cache(maxsize=None)
def schema() -> dict:
    return json.loads(schema_text())


@lru_cache(maxsize=None)
def grammar_text() -> str:
    return read_text(GRAMMAR_FILE)
