"""IR -> bytes of every output file, in memory: backends, then patches, then serialization.

Nothing here touches the output directory; `writer` does, once, and only when
this stage produced no errors. `compile_project` is the seam the tests and
other tools use with a hand-built `ir.Project`; `build` runs the front end.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from mlopsdsl import patches as patching
from mlopsdsl.backends import registry
from mlopsdsl.check.secrets import scan_emitted
from mlopsdsl.diagnostics import Diagnostic, codes, has_errors
from mlopsdsl.ir import Project, Span
from mlopsdsl.serialize import to_bytes
from mlopsdsl.writer import MARKER, Difference

__all__ = ["BackendFailure", "Output", "build", "compile_project", "diff_text", "differences", "summary"]


class BackendFailure(Exception):
    """A backend crashed or returned something that is not an artifact: a bug, reported with its name."""


@dataclass
class Output:
    targets: list[str]
    files: dict[str, bytes] = field(default_factory=dict)  # relative path -> bytes, sorted by path
    counts: dict[str, int] = field(default_factory=dict)  # target -> files it wrote
    diagnostics: list[Diagnostic] = field(default_factory=list)
    next_steps: dict[str, list[str]] = field(default_factory=dict)  # target -> what a person must do next

    @property
    def ok(self) -> bool:
        return not has_errors(self.diagnostics)


def _unknown_patch_targets(project: Project, installed: list[str]) -> list[Diagnostic]:
    import difflib

    found = []
    for number, patch in enumerate(project.patches):
        if patch.target in installed:
            continue
        close = difflib.get_close_matches(patch.target, installed, n=1)
        found.append(Diagnostic(
            codes.PATCH_NO_MATCH, f"patch names target '{patch.target}', which is not installed",
            patch.span or Span.point(project.spec_path), ("patches", number, "target"),
            hint=(f"did you mean '{close[0]}'? " if close else "") + "installed: " + ", ".join(installed)))
    return found


def compile_project(project: Project, targets: list[str] | None = None) -> Output:
    """Check and run `targets` (default: the built-in ones) over `project`, apply its patches, serialize.

    Raises `registry.RegistryError` for an unusable target and `BackendFailure`
    for a backend bug; everything about the spec comes back as diagnostics.
    """
    names = registry.select(",".join(targets) if targets else None)
    output = Output(names)
    artifacts = []
    target_of: dict[str, str] = {}
    for name in names:
        backend = registry.get(name)
        try:
            refused = has_errors(backend.run_check(project))
            # A target builds only what its check accepted (a refused IR could break its builders).
            produced = [] if refused else backend.run_compile(project)
        except Exception as exc:  # noqa: BLE001 - named and re-raised: the CLI reports internal errors
            raise BackendFailure(f"target '{name}' failed: {type(exc).__name__}: {exc}") from exc
        output.diagnostics += backend.diagnostics
        for artifact in produced:
            owner = target_of.get(artifact.path)
            if owner is not None or artifact.path == MARKER:
                raise BackendFailure(f"target '{name}' writes '{artifact.path}', which "
                                     + (f"target '{owner}' also writes" if owner else "is mlopsdsl's marker file"))
            target_of[artifact.path] = name
        artifacts += produced
        output.counts[name] = len(produced)
        steps = backend.next_steps(project)
        if steps:
            output.next_steps[name] = list(steps)
    output.diagnostics += _unknown_patch_targets(project, registry.names())
    artifacts, found = patching.apply(artifacts, project.patches, target_of, compiled=names,
                                      spec_path=project.spec_path)
    output.diagnostics += found
    if output.ok:  # what reaches the files: the front end's scan could not see values targets build
        output.diagnostics += scan_emitted(artifacts, project.spec_path)
    if not output.ok:
        return output
    for artifact in sorted(artifacts, key=lambda a: a.path):
        try:
            output.files[artifact.path] = to_bytes(artifact)
        except (TypeError, ValueError) as exc:
            raise BackendFailure(f"target '{target_of[artifact.path]}' produced '{artifact.path}', "
                                 f"which cannot be serialized: {exc}") from exc
    return output


def differences(out_dir: str, diffs: list[Difference]) -> list[Diagnostic]:
    """`--check`: one MLD706 per file that a compile would add, remove or change."""
    verb = {"added": "is missing (compile would add it)", "removed": "is not generated (compile would remove it)",
            "changed": "differs from what the spec compiles to"}
    return [Diagnostic(codes.OUTPUT_DIFFERS, f"{d.path} {verb[d.status]}", Span.point(out_dir),
                       hint="run `mlopsdsl compile` without --check and commit the result")
            for d in diffs]


DIFF_TOTAL = 200  # lines of `--check` diff printed in all; the diagnostics list every file anyway


def diff_text(diffs: list[Difference]) -> str:
    """`--check`: how the changed files differ, as unified diffs, at most DIFF_TOTAL lines."""
    lines: list[str] = []
    for d in diffs:
        if d.status == "changed" and d.detail:
            lines += d.detail.splitlines()
    if len(lines) > DIFF_TOTAL:
        lines = lines[:DIFF_TOTAL] + [f"... {len(lines) - DIFF_TOTAL} more diff lines not shown"]
    return "".join(line + "\n" for line in lines)


def summary(output: Output, out_dir: str, *, checked: bool = False) -> str:
    shown = out_dir if out_dir.endswith(("/", os.sep)) else out_dir + "/"
    count = len(output.files)
    noun = "file" if count == 1 else "files"
    per_target = ", ".join(f"{name} {n}" for name, n in output.counts.items())
    if checked:
        return f"{shown} is up to date ({count} {noun}: {per_target})"
    return f"wrote {count} {noun} to {shown} ({per_target})"
