"""Targets by name, found through the `mlopsdsl.backends` entry-point group.

Built-in targets register exactly as an outside plugin does (see pyproject.toml).
Listing reads package metadata only: no backend module (and so no kfp) is
imported until a target is selected, which keeps `--version`, `targets` and
`validate` fast. Every failure here is a usage problem (exit 2) and is
reported as one line, never a traceback: a broken plugin is not a broken spec.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from importlib import metadata
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mlopsdsl.backends.base import Backend

__all__ = ["GROUP", "Installed", "RegistryError", "get", "installed", "load", "names", "select", "version_text"]

GROUP = "mlopsdsl.backends"


CORE_DISTRIBUTION = "mlopsdsl"


class RegistryError(Exception):
    """A target cannot be used: unknown name, failed import, wrong IR version."""


@dataclass(frozen=True)
class Installed:
    name: str
    distribution: str
    version: str
    value: str  # "module:Class", what the entry point names


def _entry_points() -> list[metadata.EntryPoint]:
    """The seam tests replace to register fake backends in-process."""
    return list(metadata.entry_points(group=GROUP))


def _found() -> dict[str, tuple[metadata.EntryPoint, Installed]]:
    found: dict[str, tuple[metadata.EntryPoint, Installed]] = {}
    # Sorted so that, when two distributions claim one name, the choice is stable.
    for ep in sorted(_entry_points(), key=lambda e: (e.name, e.dist.name if e.dist else "", e.value)):
        if ep.name in found:
            continue
        dist = ep.dist
        found[ep.name] = (ep, Installed(ep.name, dist.name if dist else "?", dist.version if dist else "?", ep.value))
    return found


def names() -> list[str]:
    return sorted(_found())


def installed() -> list[tuple[str, str, str]]:
    """(target name, distribution, version) of every installed target, by name."""
    return [(i.name, i.distribution, i.version) for _, i in sorted(_found().values(), key=lambda f: f[1].name)]


def _unknown(name: str, available: list[str]) -> RegistryError:
    close = difflib.get_close_matches(name, available, n=1, cutoff=0.6)
    guess = f"did you mean '{close[0]}'? " if close else ""
    listed = ", ".join(available) if available else "none"
    return RegistryError(f"unknown target '{name}': {guess}(installed: {listed})")


def core() -> list[str]:
    """The targets mlopsdsl itself ships: what `compile` runs when `--target` is not given.

    A plugin runs only when named, so installing one never changes (or breaks) what an
    existing `mlopsdsl compile` command writes.
    """
    return sorted(name for name, (_, info) in _found().items() if info.distribution == CORE_DISTRIBUTION)


def select(spec: str | None) -> list[str]:
    """`--target a,b` -> validated names in the order given; None -> the core targets."""
    available = names()
    if spec is None:
        default = core()
        if not default:
            raise RegistryError(f"no compile targets are installed (entry-point group '{GROUP}' has no "
                                f"mlopsdsl targets)")
        return default
    chosen: list[str] = []
    for raw in spec.split(","):
        name = raw.strip()
        if not name:
            continue
        if name not in available:
            raise _unknown(name, available)
        if name not in chosen:
            chosen.append(name)
    if not chosen:
        raise RegistryError("--target names no target (installed: " + ", ".join(available) + ")")
    return chosen


def _ir_major() -> int:
    from mlopsdsl.ir import IR_VERSION

    return int(IR_VERSION.split(".")[0])


def load(name: str) -> type[Backend]:
    """Import one target's class, checking that it is a Backend that reads this IR."""
    found = _found()
    if name not in found:
        raise _unknown(name, sorted(found))
    ep, info = found[name]
    plugin = f"'{name}' ({info.value} from {info.distribution} {info.version})"
    try:
        cls = ep.load()
    except Exception as exc:  # noqa: BLE001 - any import failure of a plugin is reported the same way
        raise RegistryError(f"target {plugin} failed to load: {type(exc).__name__}: {exc}") from None
    from mlopsdsl.backends.base import Backend

    if not (isinstance(cls, type) and issubclass(cls, Backend)):
        raise RegistryError(f"target {plugin} is not a mlopsdsl Backend class")
    major = getattr(cls, "ir_major", None)
    if major != _ir_major():
        from mlopsdsl.ir import IR_VERSION

        raise RegistryError(
            f"target {plugin} reads IR major version {major}, but this mlopsdsl produces IR {IR_VERSION}; "
            f"install a version of {info.distribution} built for mlopsdsl IR {_ir_major()}")
    return cls


def get(name: str) -> Backend:
    """A fresh instance of the target `name` (diagnostics are per instance)."""
    cls = load(name)
    try:
        return cls()
    except Exception as exc:  # noqa: BLE001 - a plugin constructor is outside our control
        raise RegistryError(f"target '{name}' could not be created: {type(exc).__name__}: {exc}") from None


def version_text() -> str:
    """`mlopsdsl --version`: our version and the installed targets, from metadata only."""
    from mlopsdsl import __version__

    lines = [f"mlopsdsl {__version__}"]
    targets = installed()
    if targets:
        lines.append("targets: " + ", ".join(
            name if dist == "mlopsdsl" else f"{name} ({dist} {version})" for name, dist, version in targets))
    else:
        lines.append("targets: none installed")
    return "\n".join(lines) + "\n"
