"""The types of expression values.

Scalars: int, float, bool, str, and the unit types duration, percent, cpu,
memory (a number with a unit is not a number: `serving.latency.p95 < 250` is an
error). `secret` is the type of `secrets.NAME`: a value delivered by name that
can only stand alone. Lists carry their element type. Artifacts are Dataset,
Model, Metrics, ClassificationMetrics, HTML, Markdown and their supertype
Artifact; a Metrics artifact may declare typed fields. `unknown` is what an
erroneous sub-expression has, so one mistake yields one diagnostic, not a
cascade: it fits everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass

from mlopsdsl.language.steps import ARTIFACT_TYPES, VALUE_TYPES


@dataclass(frozen=True, slots=True)
class Type:
    name: str  # "int", "duration", "list", "Model", "unknown"...
    elem: "Type | None" = None  # element type of a list
    fields: tuple[tuple[str, "Type"], ...] = ()  # declared fields of a Metrics artifact

    def __str__(self) -> str:
        if self.name == "list":
            return f"list[{self.elem}]"
        return self.name

    def field(self, name: str) -> "Type | None":
        return dict(self.fields).get(name)

    @property
    def is_artifact(self) -> bool:
        return self.name in ARTIFACT_NAMES

    @property
    def is_scalar(self) -> bool:
        """What may be spliced into text: not artifacts, lists or secrets."""
        return self.name in SCALAR_NAMES or self.name == "unknown"

    @property
    def is_numeric(self) -> bool:
        return self.name in ("int", "float")

    @property
    def unit(self) -> bool:
        return self.name in UNIT_NAMES


INT, FLOAT, BOOL, STR = Type("int"), Type("float"), Type("bool"), Type("str")
DURATION, PERCENT, CPU, MEMORY = Type("duration"), Type("percent"), Type("cpu"), Type("memory")
SECRET, UNKNOWN = Type("secret"), Type("unknown")
UNIT_NAMES = frozenset({"duration", "percent", "cpu", "memory"})
SCALAR_NAMES = frozenset(VALUE_TYPES) | UNIT_NAMES
ARTIFACT_NAMES = tuple(ARTIFACT_TYPES)
DATASET, MODEL, METRICS, CLASSIFICATION_METRICS, HTML, MARKDOWN, ARTIFACT = (Type(n) for n in ARTIFACT_NAMES)
_BY_NAME = {t.name: t for t in (INT, FLOAT, BOOL, STR, DURATION, PERCENT, CPU, MEMORY, SECRET, UNKNOWN,
                                DATASET, MODEL, METRICS, CLASSIFICATION_METRICS, HTML, MARKDOWN, ARTIFACT)}


def list_of(elem: Type) -> Type:
    return Type("list", elem=elem)


def collected(elem: Type) -> Type:
    """The outputs of every item of a loop: a list, whose declared metrics fields are lists too
    (`steps.S.outputs.metrics.auc` is a list[float] when S runs `for_each`)."""
    return Type("list", elem=elem, fields=tuple((name, list_of(kind)) for name, kind in elem.fields))


def record(fields: dict[str, Type]) -> Type:
    """A mapping item of a literal `for_each` list: `item.lr` reads its field."""
    return Type("dict", fields=tuple(sorted(fields.items())))


def is_value_list(found: Type) -> bool:
    """A list of scalars: written into a command as JSON text (how KFP renders a LIST parameter)."""
    return found.name == "list" and found.elem is not None and found.elem.is_scalar and not found.fields


def metrics(fields: dict[str, Type]) -> Type:
    """A Metrics artifact with declared fields: `{type: Metrics, fields: {accuracy: float}}`."""
    return Type("Metrics", fields=tuple(sorted(fields.items())))


def from_name(name: str) -> Type | None:
    """A type as a spec writes it (`Dataset`, `float`, `list[str]`); None if unknown."""
    name = name.strip()
    if name.startswith("list[") and name.endswith("]"):
        elem = from_name(name[5:-1])
        return list_of(elem) if elem else None
    return _BY_NAME.get(name)


def assignable(value: Type, target: Type) -> bool:
    """May a value of type `value` go where `target` is expected?

    int widens to float; every artifact is an Artifact; a Metrics artifact with
    fields is a Metrics; lists are covariant (their values are immutable).
    """
    if UNKNOWN in (value, target) or value == target:
        return True
    if value == INT and target == FLOAT:
        return True
    if value.is_artifact and target.is_artifact:
        return target == ARTIFACT or (value.name == target.name and not target.fields)
    if value.name == "list" and target.name == "list":
        return assignable(value.elem or UNKNOWN, target.elem or UNKNOWN)
    return False


def unify(a: Type, b: Type) -> Type | None:
    """The least type both fit (list elements, the two sides of `==`); None if none."""
    if a == UNKNOWN or b == UNKNOWN:
        return b if a == UNKNOWN else a
    if assignable(a, b):
        return b
    if assignable(b, a):
        return a
    if a.is_artifact and b.is_artifact:
        return ARTIFACT
    return None
