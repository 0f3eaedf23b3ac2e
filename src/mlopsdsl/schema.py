"""JSON Schema validation -> diagnostics (interim: fast validator only; see issue 3)."""

from __future__ import annotations

from mlopsdsl.diagnostics import Diagnostic, codes
from mlopsdsl.loader import Document


def validate(document: Document) -> list[Diagnostic]:
    import jsonschema_rs

    from mlopsdsl.resources import schema

    validator = jsonschema_rs.validator_for(schema())
    out = []
    for error in validator.iter_errors(document.data):
        path = tuple(error.instance_path)
        out.append(Diagnostic(codes.SCHEMA_SHAPE, error.message, document.index.span(path), path))
    return out
