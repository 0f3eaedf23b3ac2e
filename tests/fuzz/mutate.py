"""Structure-aware mutations of specs and expressions, and the oracle that judges one case.

A mutation works on the spec as data (what the loader read), not on its bytes: it
deletes, duplicates, grafts and retypes fields, swaps values between places, and
rewrites the expressions inside `${{ }}`, so most mutants are still YAML, still
nearly valid, and reach the later stages (checks, lowering, every target) where
the crashes live. Everything is driven by a `random.Random`, so a case is its seed.

`judge(text)` runs one mutant the way a user would meet it (validate, then compile
for every built-in target in every environment) and says what happened:
`rejected` (diagnostics, fine), `compiled`, `validate-clean-compile-fails` (a bug:
validate must report what compile refuses), or `internal-error` (an exception).
"""

from __future__ import annotations

import copy
import os
import random
import shutil
import tempfile
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"
SEEDS = sorted(p for p in EXAMPLES.rglob("*.yaml") if "components" not in p.parts)
BUILTIN_TARGETS = ["kubeflow", "kserve", "github", "monitoring"]


def load(path: Path) -> dict[str, Any]:
    from mlopsdsl.loader import load_file

    document, diagnostics = load_file(str(path))
    assert document is not None, diagnostics
    return document.data


# --- what mutations draw from -----------------------------------------------------------------

INTERESTING = [
    0, 1, -1, 2, 100, 2**31, 2**63 - 1, 2**63, -2**63 - 1, 10**30, 0.0, -0.5, 1e300, 1e-300, True, False, None,
    "", " ", "x", "0", "010", "on", "null", "-", "a" * 300, "10m", "0s", "1h30m", "999999999d", "100%", "0%",
    "150%", "8Gi", "500m", "-1", "1e3", "s3://bucket/key/", "gs://b/k", "https://example.com/x", "UPPER",
    "Name With Spaces", "name-with-dash", "_under", "日本語", "a\tb", "a\nb", "'", '"', "#", "{{", "}}",
    "${{", "}}${{", "$${{ x }}", "*", "&", "@x", "`x`", "a:b", "a: b", "- x", "?", "|", [], {}, [1, 2], {"a": 1},
    ["x"], [[1]], {"": 1}, "0 * * * *", "@daily", "* * * * * *", "61 * * * *",
]

OPERATORS = ["==", "!=", "<", "<=", ">", ">=", "+", "-", "*", "/", "and", "or"]
EXPR_LITERALS = ["1", "0", "-1", "2.5", "1e3", "true", "false", "'x'", '"y"', "250ms", "5m", "1d", "1%", "99.9%",
                 "8Gi", "[]", "[1, 2]", "['a', 'b']", "9223372036854775807", "9223372036854775808", "1 / 0",
                 "0 / 0", "''", "'}}'", "'\\u0041'"]
ROOTS = ["params", "data", "metadata", "model", "env", "steps", "inputs", "outputs", "item", "serving", "drift",
         "secrets", "unknown"]


def names_in(data: Any, prefix: tuple = ()) -> list[str]:
    """Dotted names an expression could use in this spec: params, steps' outputs, data sources, builtins."""
    found = ["metadata.name", "metadata.version", "model.name", "model.framework", "serving.error_rate",
             "serving.latency.p95", "serving.latency.p50", "serving.requests", "drift.score", "item", "item.x",
             "secrets.token", "env.name", "inputs.model", "inputs.model.path", "outputs.model.path"]
    if isinstance(data, dict):
        for name in (data.get("params") or {}):
            found.append(f"params.{name}")
        for name in (data.get("data") or {}):
            found += [f"data.{name}", f"data.{name}.uri"]
        steps = (data.get("pipeline") or {}).get("steps") if isinstance(data.get("pipeline"), dict) else None
        for name, step in (steps or {}).items() if isinstance(steps, dict) else ():
            outputs = step.get("outputs") if isinstance(step, dict) else None
            for out, spec in (outputs or {}).items() if isinstance(outputs, dict) else ():
                found.append(f"steps.{name}.outputs.{out}")
                fields = spec.get("fields") if isinstance(spec, dict) else None
                for f in (fields or {}) if isinstance(fields, dict) else ():
                    found.append(f"steps.{name}.outputs.{out}.{f}")
    return found


def random_expression(rng: random.Random, names: list[str], depth: int = 0) -> str:
    """An expression from the grammar's shapes, sometimes deep, sometimes wrong."""
    roll = rng.random()
    if depth > rng.choice([2, 3, 4, 8]) or roll < 0.3:
        return rng.choice(names) if rng.random() < 0.6 else rng.choice(EXPR_LITERALS)
    if roll < 0.75:
        op = rng.choice(OPERATORS)
        return f"{random_expression(rng, names, depth + 1)} {op} {random_expression(rng, names, depth + 1)}"
    if roll < 0.85:
        return f"not {random_expression(rng, names, depth + 1)}"
    if roll < 0.92:
        return f"({random_expression(rng, names, depth + 1)})"
    if roll < 0.97:
        return "[" + ", ".join(random_expression(rng, names, depth + 1) for _ in range(rng.randint(0, 3))) + "]"
    return "-" + random_expression(rng, names, depth + 1)


_METRICS = (("serving.error_rate", ["1%", "0.5%", "99.9%", "0%", "1% * 3", "10% / 4", "1% + 2%"]),
            ("serving.latency.p95", ["250ms", "1s", "5m / 2", "100ms + 50ms", "0ms", "2h"]),
            ("serving.latency.p50", ["10ms", "1s * 2"]),
            ("serving.rps", ["1", "0", "1000", "2.5", "10 * 3", "1 / 2"]),
            ("serving.replicas", ["1", "3"]),
            ("drift.score", ["0.2", "0.1 + 0.05", "1"]))


def metric_condition(rng: random.Random, depth: int = 0) -> str:
    """A well-typed condition over live metrics, as alerts and rollout analyses take."""
    roll = rng.random()
    if depth < 3 and roll < 0.3:
        return f"{metric_condition(rng, depth + 1)} {rng.choice(['and', 'or'])} {metric_condition(rng, depth + 1)}"
    if depth < 3 and roll < 0.4:
        return f"not ({metric_condition(rng, depth + 1)})"
    metric, literals = rng.choice(_METRICS)
    left, right = metric, rng.choice(literals)
    if rng.random() < 0.2:
        left, right = right, left
    return f"{left} {rng.choice(['<', '<=', '>', '>=', '==', '!='])} {right}"


def typed_expression(rng: random.Random, where: tuple, names: list[str]) -> str:
    """An expression that fits the field it goes to, more often than not: it reaches the targets."""
    if where[-1] in ("analysis",) or where[:2] == ("monitoring", "alerts"):
        return metric_condition(rng)
    params = [n for n in names if n.startswith("params.")] or ["1"]
    fields = [n for n in names if n.startswith("steps.") and n.count(".") == 4] or params
    if where[-1] == "when":
        return f"{rng.choice(fields)} {rng.choice(['<', '>=', '==', '!='])} {rng.choice(EXPR_LITERALS[:5])}"
    return rng.choice([rng.choice(params), rng.choice(names), f"{rng.choice(EXPR_LITERALS[:5])} + 1",
                       "5m + 30s", "'text'", "[1, 2]", "not true"])


def mutate_expression(rng: random.Random, text: str, names: list[str]) -> str:
    """A small edit of an expression's text: a name, an operator, a literal, a wrap, a cut."""
    choice = rng.randrange(8)
    words = text.split()
    if choice == 0 and words:
        words[rng.randrange(len(words))] = rng.choice(names)
        return " ".join(words)
    if choice == 1 and words:
        words[rng.randrange(len(words))] = rng.choice(OPERATORS)
        return " ".join(words)
    if choice == 2 and words:
        words[rng.randrange(len(words))] = rng.choice(EXPR_LITERALS)
        return " ".join(words)
    if choice == 3:
        return f"not ({text})"
    if choice == 4:
        return f"{text} {rng.choice(['and', 'or'])} {random_expression(rng, names)}"
    if choice == 5 and text:
        cut = rng.randrange(len(text))
        return text[:cut] + text[cut + 1:]
    if choice == 6:
        return random_expression(rng, names)
    return text + rng.choice([" ", ")", "(", ".", "[", "'", "}}", " +"])


# --- mutations of the data tree ------------------------------------------------------------------

def _places(data: Any, path: tuple = ()) -> list[tuple[tuple, Any]]:
    """Every (path, value) below `data`."""
    out = [(path, data)]
    if isinstance(data, dict):
        for key, value in data.items():
            out += _places(value, path + (key,))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            out += _places(value, path + (i,))
    return out


def _parent(data: Any, path: tuple) -> Any:
    for part in path[:-1]:
        data = data[part]
    return data


def _set(data: Any, path: tuple, value: Any) -> None:
    _parent(data, path)[path[-1]] = value


@dataclass
class Vocabulary:
    """Keys and values seen at each kind of place in every example: what grafting draws from."""

    by_key: dict[str, list[Any]] = field(default_factory=dict)

    @classmethod
    def of(cls, specs: list[dict[str, Any]]) -> "Vocabulary":
        vocabulary = cls()
        for spec in specs:
            for path, value in _places(spec):
                if path and isinstance(path[-1], str):
                    vocabulary.by_key.setdefault(path[-1], []).append(value)
        return vocabulary


def mutate(rng: random.Random, data: dict[str, Any], vocabulary: Vocabulary) -> dict[str, Any]:
    data = copy.deepcopy(data)
    names = names_in(data)
    for _ in range(rng.choice([1, 1, 2, 3, 5])):
        places = [p for p in _places(data) if p[0]]
        if not places:
            break
        path, value = rng.choice(places)
        kind = rng.randrange(10)
        if kind == 0:  # delete
            parent = _parent(data, path)
            if isinstance(parent, dict):
                del parent[path[-1]]
            elif isinstance(parent, list):
                del parent[path[-1]]
        elif kind == 1:  # an interesting value
            _set(data, path, copy.deepcopy(rng.choice(INTERESTING)))
        elif kind == 2:  # a value seen under another key
            key = rng.choice(sorted(vocabulary.by_key))
            _set(data, path, copy.deepcopy(rng.choice(vocabulary.by_key[key])))
        elif kind == 3 and isinstance(value, dict):  # graft a known key with a value seen under it
            key = rng.choice(sorted(vocabulary.by_key))
            value[key] = copy.deepcopy(rng.choice(vocabulary.by_key[key]))
        elif kind == 4 and isinstance(_parent(data, path), dict):  # duplicate under a new name
            parent = _parent(data, path)
            parent[f"{path[-1]}-copy" if isinstance(path[-1], str) else "copy"] = copy.deepcopy(value)
        elif kind == 5:  # retype
            _set(data, path, [value] if not isinstance(value, list) else (value[0] if value else {}))
        elif kind in (6, 7):  # an expression
            strings = [p for p in _places(data) if isinstance(p[1], str) and "${{" in p[1]]
            if strings:
                where, text = rng.choice(strings)
                inner = text.split("${{", 1)[1].rsplit("}}", 1)[0]
                _set(data, where, "${{ " + mutate_expression(rng, inner, names) + " }}")
            else:
                _set(data, path, "${{ " + random_expression(rng, names) + " }}")
        elif kind == 8:  # a fresh expression where a value was
            _set(data, path, "${{ " + random_expression(rng, names) + " }}")
        else:  # swap two values
            other, other_value = rng.choice(places)
            if other[:len(path)] != path and path[:len(other)] != other:
                _set(data, path, copy.deepcopy(other_value))
                _set(data, other, copy.deepcopy(value))
    return data


def dump(data: Any) -> str:
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=1000)


# --- the oracle ------------------------------------------------------------------------------------

@dataclass
class Outcome:
    verdict: str  # rejected | compiled | validate-clean-compile-fails | internal-error
    detail: str = ""


def judge(text: str, seed: Path) -> Outcome:
    """Validate `text` as the seed's file (its components beside it); if clean, compile it every way."""
    with tempfile.TemporaryDirectory(prefix="mlopsdsl-fuzz-") as folder:
        copy_dir = Path(folder) / "spec"
        shutil.copytree(seed.parent, copy_dir)
        path = copy_dir / seed.name
        path.write_text(text, encoding="utf-8")
        try:
            return _judge(str(path))
        except Exception:  # noqa: BLE001 - the finding
            return Outcome("internal-error", traceback.format_exc(limit=-8))


def _judge(path: str) -> Outcome:
    from mlopsdsl.compiler import compile_project
    from mlopsdsl.diagnostics.render import FORMATS, render
    from mlopsdsl.driver import build_ir, validate_file

    result = validate_file(path)
    for fmt in FORMATS:
        render(fmt, result.diagnostics, result.sources)
    if not result.ok:
        if any(d.code.code == "MLD901" for d in result.diagnostics):
            return Outcome("internal-error", "MLD901 diagnostic")
        return Outcome("rejected", ",".join(sorted({d.code.code for d in result.diagnostics if d.is_error})))
    data = result.document.data if result.document else {}
    if data.get("kind") == "Component":
        return Outcome("rejected", "component")
    environments = data.get("environments") if isinstance(data.get("environments"), dict) else {}
    for env in [None, *environments]:
        built = build_ir(path, env=env)
        if built.ir is None or not built.ok:
            codes = sorted({d.code.code for d in built.diagnostics if d.is_error})
            return Outcome("validate-clean-compile-fails", f"lowering (env={env}): {','.join(codes)}")
        output = compile_project(built.ir, BUILTIN_TARGETS)
        if not output.ok:
            errors = [d for d in output.diagnostics if d.is_error]
            codes = sorted({d.code.code for d in errors})
            return Outcome("validate-clean-compile-fails", f"compile (env={env}): {','.join(codes)}: "
                           + "; ".join(d.message for d in errors[:2]))
    return Outcome("compiled")


_ORIGINALS: dict[Path, dict[str, Any]] = {}


def _originals() -> dict[Path, dict[str, Any]]:
    if not _ORIGINALS:
        _ORIGINALS.update({path: load(path) for path in SEEDS})
    return _ORIGINALS


def spec_case(rng: random.Random) -> tuple[Path, str]:
    """A mutated example: (the example it came from, its text)."""
    originals = _originals()
    vocabulary = Vocabulary.of(list(originals.values()))
    path = rng.choice(SEEDS)
    return path, dump(mutate(rng, originals[path], vocabulary))


def expression_case(rng: random.Random) -> tuple[Path, str]:
    """An example with one expression field replaced by a generated or mutated expression."""
    originals = _originals()
    path = rng.choice(SEEDS)
    data = copy.deepcopy(originals[path])
    strings = [p for p in _places(data) if isinstance(p[1], str) and "${{" in p[1]]
    where, text = rng.choice(strings)
    names = names_in(data)
    roll = rng.random()
    if roll < 0.4:
        expression = typed_expression(rng, where, names)
    elif roll < 0.7:
        expression = random_expression(rng, names)
    else:
        expression = mutate_expression(rng, text.split("${{", 1)[1].rsplit("}}", 1)[0], names)
    _set(data, where, "${{ " + expression + " }}")
    return path, dump(data)


def case(kind: str, seed: int, number: int) -> tuple[Path, str]:
    """Case `number` of a campaign: the same (kind, seed, number) always gives the same text."""
    rng = random.Random(f"{kind}:{seed}:{number}")
    return spec_case(rng) if kind == "spec" else expression_case(rng)


def count_from_env(name: str, default: int) -> int:
    raw = os.environ.get(name, "")
    return int(raw) if raw.isdigit() else default
