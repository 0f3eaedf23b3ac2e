"""The spec's `patches:`: last-mile edits to generated documents, after every backend.

A patch is the escape hatch for what the language cannot say yet (an extra
annotation, a sidecar). It selects documents by target, file glob and
`kind`/`metadata.name`, then applies RFC 6902 operations (`json_patch`, through
the `jsonpatch` library) or an RFC 7386 merge patch (`merge`). Patches apply in
the order written, each to the result of the ones before it. A selector that
matches nothing is an error (MLD703), not a silent no-op: a renamed resource
would otherwise quietly drop the user's edit.
"""

from __future__ import annotations

import dataclasses
from fnmatch import fnmatchcase
from typing import Any, Collection, Iterable

import jsonpatch
import jsonpointer

from mlopsdsl.backends.base import Artifact
from mlopsdsl.diagnostics import Diagnostic, codes
from mlopsdsl.ir import Patch, Span

__all__ = ["apply", "merge_patch"]


def _reason(exc: Exception) -> str:
    """The library's reason, without the whole document it quotes (`member 'x' not found in {...}`)."""
    text = str(exc)
    return text if len(text) <= 160 else text[:120].rstrip() + " ..."


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386: objects merge key by key, `null` deletes a key, anything else replaces."""
    if not isinstance(patch, dict):
        return _plain(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def _plain(value: Any) -> Any:
    """A deep copy with tuples as lists, so JSON pointers can edit any sequence."""
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    return value


def _selects(document: Any, patch: Patch) -> bool:
    if patch.kind is None and patch.name is None:
        return True
    if not isinstance(document, dict):
        return False
    metadata = document.get("metadata")
    name = metadata.get("name") if isinstance(metadata, dict) else None
    return (patch.kind is None or document.get("kind") == patch.kind) and \
        (patch.name is None or name == patch.name)


def _file_matches(path: str, patch: Patch) -> bool:
    """The glob is tried against the path in the output (`kserve/*.yaml`) and, since a patch
    names its target already, against the path inside the target's folder (`*.yaml`)."""
    glob = patch.file or "*"
    inner = path[len(patch.target) + 1:] if path.startswith(patch.target + "/") else None
    return fnmatchcase(path, glob) or (inner is not None and fnmatchcase(inner, glob))


def _describe(patch: Patch) -> str:
    parts = [f"target '{patch.target}'"]
    parts += [f"{label} '{value}'" for label, value in
              (("file", patch.file), ("kind", patch.kind), ("name", patch.name)) if value is not None]
    return ", ".join(parts)


def _where(path: str, index: int, document: Any) -> str:
    where = f"{path}, document {index + 1}"
    if isinstance(document, dict) and "kind" in document:
        metadata = document.get("metadata")
        name = metadata.get("name") if isinstance(metadata, dict) else None
        where += f" ({document['kind']}{' ' + str(name) if name else ''})"
    return where


def _apply_one(document: Any, patch: Patch) -> Any:
    if patch.merge is not None:
        return merge_patch(document, patch.merge)
    copy = _plain(document)
    return jsonpatch.JsonPatch(_plain(list(patch.json_patch or ()))).apply(copy, in_place=True)


def _hint_files(paths: Iterable[str]) -> str | None:
    paths = sorted(paths)
    if not paths:
        return None
    shown = ", ".join(paths[:8]) + (", ..." if len(paths) > 8 else "")
    return f"this target writes: {shown}"


def apply(artifacts: list[Artifact], patches: tuple[Patch, ...], target_of: dict[str, str], *,
          compiled: Collection[str] | None = None, spec_path: str = "") -> tuple[list[Artifact], list[Diagnostic]]:
    """Apply `patches` in order. `target_of` maps each artifact path to the backend that made it.

    Patches for a target that was not compiled in this run (`--target` left it
    out) are skipped; `compiled` defaults to the targets named in `target_of`.
    """
    active = set(target_of.values()) if compiled is None else set(compiled)
    result = list(artifacts)
    diagnostics: list[Diagnostic] = []
    for number, patch in enumerate(patches):
        if patch.target not in active:
            continue
        span = patch.span or Span.point(spec_path)  # a patch built by hand points at the spec
        at = ("patches", number)

        def fail(message: str, hint: str | None = None) -> None:
            diagnostics.append(Diagnostic(codes.PATCH_FAILED, message, span, at, hint=hint))

        own = [i for i, a in enumerate(result) if target_of.get(a.path) == patch.target]
        files = [i for i in own if patch.file is None or _file_matches(result[i].path, patch)]
        matched = 0
        for i in files:
            artifact = result[i]
            if artifact.format == "text":
                if patch.kind is None and patch.name is None:
                    matched += 1
                    fail(f"patch ({_describe(patch)}) selects '{artifact.path}', a text file",
                         hint="only YAML and JSON documents can be patched; narrow `file`, or change the spec")
                continue
            documents = list(artifact.documents)
            for index, document in enumerate(documents):
                if not _selects(document, patch):
                    continue
                matched += 1
                try:
                    documents[index] = _apply_one(document, patch)
                except (jsonpatch.JsonPatchException, jsonpointer.JsonPointerException) as exc:
                    fail(f"patch ({_describe(patch)}) cannot be applied to {_where(artifact.path, index, document)}: "
                         f"{_reason(exc)}", hint="check the JSON pointer paths against the generated file")
            result[i] = dataclasses.replace(artifact, documents=tuple(documents))
        if not matched:
            diagnostics.append(Diagnostic(
                codes.PATCH_NO_MATCH, f"patch ({_describe(patch)}) matches no generated document", span, at,
                hint=_hint_files(result[i].path for i in own) or f"target '{patch.target}' wrote no files"))
    return result, diagnostics
