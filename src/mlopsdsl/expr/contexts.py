"""Which names each place in a spec may use, and what it must evaluate to.

The semantic checker picks the context of each value it checks (a step's
`when` is `step_when`) and passes its key to `typecheck.check`. A name is
allowed when it matches one of the context's patterns (`*` = one name part).
Names that exist but are allowed elsewhere get MLD504 with the allowed list;
unknown roots get MLD503 with a suggestion among this context's roots.

`serving.*`, `drift.score` and `secrets.NAME` are typed here (`BUILTINS`):
they mean the same in every spec. Everything else is resolved by the Scope
the checker supplies, because it depends on the spec.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from mlopsdsl.expr import types as t

ROOTS = ("params", "data", "metadata", "model", "env", "steps", "inputs", "outputs", "item",
         "secrets", "serving", "drift")

BUILTINS: dict[tuple[str, ...], t.Type] = {
    **{("serving", "latency", q): t.DURATION for q in ("p50", "p90", "p95", "p99")},
    ("serving", "error_rate"): t.PERCENT,
    ("serving", "rps"): t.FLOAT,
    ("serving", "replicas"): t.INT,
    ("drift", "score"): t.FLOAT,
}
# What each built-in name measures, for people (hover and completion in the language server).
MEANINGS: dict[tuple[str, ...], str] = {
    **{("serving", "latency", q): f"{q[1:]}th percentile of request latency" for q in ("p90", "p95", "p99")},
    ("serving", "latency", "p50"): "median request latency",
    ("serving", "error_rate"): "share of requests answered with a server error (5xx)",
    ("serving", "rps"): "requests per second",
    ("serving", "replicas"): "replicas available to serve",
    ("drift", "score"): "the drift statistic of the served inputs against the reference, highest over features",
    ("drift", "score", "*"): "the drift statistic of one feature against the reference",
    ("secrets", "*"): "a secret by name, delivered at run time and never written into any output",
    ("secrets", "*", "*"): "one key of a Kubernetes Secret, delivered at run time and never written into any output",
}
# Roots whose names this module resolves itself; `drift.score.FEATURE` goes to
# the Scope, which knows the spec's drift features.
BUILTIN_ROOTS = ("serving", "secrets")


@dataclass(frozen=True, slots=True)
class Context:
    key: str
    what: str  # "a step's `when`": the place, in messages
    patterns: tuple[str, ...]  # dotted, `*` = any one part
    allowed: str  # the patterns as a reader wants them listed
    expect: t.Type | None = None  # what a whole-value expression must be
    whole: bool = True  # True: exactly one `${{ }}`; False: text with `${{ }}` in it
    scalar: bool = False  # a whole-value expression must be a scalar (or a secret, where allowed)
    _split: tuple[tuple[str, ...], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_split", tuple(tuple(p.split(".")) for p in self.patterns))

    @property
    def roots(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(p.split(".", 1)[0] for p in self.patterns))

    def admits(self, parts: tuple[str, ...]) -> bool:
        return any(_matches(p, parts) for p in self._split)


def _matches(pattern: tuple[str, ...], parts: tuple[str, ...]) -> bool:
    return len(pattern) == len(parts) and all(p == "*" or p == x for p, x in zip(pattern, parts))


_ITEM = ("item", "item.*")
_SECRETS = ("secrets.*", "secrets.*.*")  # a Secret's key NAME, or the key KEY of Secret NAME
_MONITORING = ("serving.*", "serving.latency.*", "drift.score", "drift.score.*")
_MONITORING_TEXT = "serving.latency.p50|p90|p95|p99, serving.error_rate, serving.rps, serving.replicas, drift.score, drift.score.FEATURE"

CONTEXTS: dict[str, Context] = {c.key: c for c in (
    Context("step_when", "a step's `when`",
            ("params.*", "env.*", *_ITEM, "steps.*.outputs.*", "steps.*.outputs.*.*"),
            "params, env, item, steps.S.outputs.O.F (metrics fields)", expect=t.BOOL),
    Context("for_each", "a step's `for_each`", ("params.*", "env.*", "steps.*.outputs.*"),
            "params, env, steps.S.outputs.O (a list output), or a literal list", expect=t.list_of(t.UNKNOWN)),
    Context("run_arg", "a step's `run`",
            ("params.*", "data.*", "data.*.uri", "metadata.*", "model.*", "env.*", "inputs.*", "inputs.*.path",
             "inputs.*.uri", "outputs.*.path", "outputs.*.uri", *_ITEM),
            "params, data.X.uri, metadata, model, env, inputs.X, inputs.X.path|uri, outputs.X.path|uri, item",
            whole=False, scalar=True),
    Context("step_input", "a step's `inputs`", ("steps.*.outputs.*", "data.*", "params.*", *_ITEM),
            "steps.S.outputs.O, data.X, params, item", whole=False),
    Context("step_env", "a step's `env`",
            ("params.*", "metadata.*", "model.*", *_SECRETS, "env.*", *_ITEM),
            "params, metadata, model, secrets.NAME[.KEY], env, item", whole=False, scalar=True),
    Context("source_env", "a data source's `env`", ("metadata.*", *_SECRETS), "metadata, secrets.NAME[.KEY]",
            whole=False, scalar=True),
    Context("secret_ref", "a secret field", _SECRETS, "secrets.NAME, secrets.NAME.KEY", expect=t.SECRET),
    # A GitHub secret is one value: it has no keys to pick from.
    Context("ci_env", "a CI command's `env`", ("metadata.*", "secrets.*"),
            "metadata, secrets.NAME (a GitHub secret has no keys)", whole=False, scalar=True),
    Context("alert_when", "an alert's `when`", _MONITORING, _MONITORING_TEXT, expect=t.BOOL),
    Context("rollout_analysis", "a rollout's `analysis`", _MONITORING, _MONITORING_TEXT, expect=t.BOOL),
    Context("serving_model", "`serving.model`", ("steps.*.outputs.*",), "steps.S.outputs.O (a Model)",
            expect=t.MODEL),
    Context("drift_reference", "a drift `reference`", ("data.*",), "data.X", expect=t.DATASET),
    Context("drift_current", "a drift `current`", ("data.*",), "data.X", expect=t.DATASET),
    Context("text", "this text", ("metadata.*", "params.*", "env.*", "model.*"), "metadata, params, env, model",
            whole=False, scalar=True),
)}


def get(context: str | Context) -> Context:
    return context if isinstance(context, Context) else CONTEXTS[context]


def builtin(parts: tuple[str, ...]) -> t.Type | None:
    if len(parts) in (2, 3) and parts[0] == "secrets":
        return t.SECRET
    return BUILTINS.get(parts)


def builtin_names(root: str) -> list[str]:
    return [".".join(k) for k in BUILTINS if k[0] == root]
