"""The registry of diagnostic codes.

Every diagnostic mlopsdsl can emit has a code here, and `docs/diagnostics.md` is
generated from this table (`python -m mlopsdsl.diagnostics.docs`); a test fails
when the two drift. Ranges:

    1xx  YAML and I/O           5xx  expressions and types
    2xx  schema and structure   6xx  serving, monitoring and CI rules
    3xx  names and references   7xx  target support
    4xx  the pipeline graph     9xx  internal

A code, once published, keeps its meaning; retire a code rather than reuse it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Severity(str, Enum):
    ERROR = "error"
    WARNING = "warning"
    NOTE = "note"


@dataclass(frozen=True, slots=True)
class Code:
    code: str  # "MLD201"
    name: str  # "unknown-key": stable, kebab-case, used in SARIF rule ids and docs
    severity: Severity
    summary: str  # one line for the docs table

    def __str__(self) -> str:
        return self.code


RANGES: dict[str, str] = {
    "1": "YAML and I/O",
    "2": "Schema and structure",
    "3": "Names and references",
    "4": "The pipeline graph",
    "5": "Expressions and types",
    "6": "Serving, monitoring and CI rules",
    "7": "Target support",
    "9": "Internal",
}

REGISTRY: dict[str, Code] = {}


def _code(code: str, name: str, summary: str, severity: Severity = Severity.ERROR) -> Code:
    assert code not in REGISTRY, f"duplicate diagnostic code {code}"
    assert code[3] in RANGES, f"{code} is outside the known ranges"
    entry = Code(code, name, severity, summary)
    REGISTRY[code] = entry
    return entry


E, W, N = Severity.ERROR, Severity.WARNING, Severity.NOTE

# --- 1xx YAML and I/O -------------------------------------------------------------
FILE_NOT_FOUND = _code("MLD101", "file-not-found", "The spec file does not exist or cannot be read.")
FILE_TOO_LARGE = _code("MLD102", "file-too-large", "The file is larger than the size limit (checked before parsing).")
EMPTY_FILE = _code("MLD103", "empty-file", "The file is empty or holds only comments.")
NOT_UTF8 = _code("MLD104", "not-utf8", "The file holds bytes that are not UTF-8; the byte offset is named.")
FOREIGN_BOM = _code("MLD105", "foreign-bom", "The file starts with a UTF-16 or UTF-32 byte order mark; save it as UTF-8.")
YAML_SYNTAX = _code("MLD106", "yaml-syntax", "The text is not well-formed YAML.")
MULTIPLE_DOCUMENTS = _code("MLD107", "multiple-documents", "The file holds more than one YAML document (`---`).")
TOP_NOT_MAPPING = _code("MLD108", "top-level-not-mapping", "The top level of a spec must be a mapping of sections.")
DUPLICATE_KEY = _code("MLD109", "duplicate-key", "A mapping holds the same key twice; both places are shown.")
EXPLICIT_TAG = _code("MLD110", "explicit-tag", "Explicit YAML tags (`!!python/object`, `!custom`) are refused.")
ALIAS_BUDGET = _code("MLD111", "alias-budget", "Anchors and aliases expand beyond the budget (billion-laughs guard).")
TOO_DEEP = _code("MLD112", "nesting-too-deep", "Collections are nested deeper than the limit.")
COMPLEX_KEY = _code("MLD113", "complex-key", "A mapping key is a list or mapping; keys must be plain scalars.")
CONTROL_CHARACTER = _code("MLD114", "control-character", "The file holds a control character YAML does not allow.")

# --- 2xx schema and structure -------------------------------------------------------
SCHEMA_UNKNOWN_KEY = _code("MLD201", "unknown-key", "A key that the language does not define at this place.")
SCHEMA_MISSING_KEY = _code("MLD202", "missing-key", "A required key is missing.")
SCHEMA_TYPE = _code("MLD203", "wrong-type", "A value has the wrong type (for example a list where a mapping is expected).")
SCHEMA_ENUM = _code("MLD204", "not-allowed-value", "A value is not one of the allowed values; they are listed.")
SCHEMA_PATTERN = _code("MLD205", "bad-format", "A value does not have the required format (name, semver, quantity, duration...).")
SCHEMA_RANGE = _code("MLD206", "out-of-range", "A number, list or text is outside its allowed bounds.")
SCHEMA_SHAPE = _code("MLD207", "bad-shape", "A value matches none of the forms allowed at this place.")
SCHEMA_API_VERSION = _code("MLD208", "unknown-api-version", "`apiVersion`/`kind` is not one this version of mlopsdsl reads.")

# --- 60x serving (rules from src/mlopsdsl/support.py, the KServe support matrix) -------
SERVING_UNSERVABLE = _code("MLD601", "unservable-framework", "No KServe runtime serves the framework, or the named runtime cannot serve it (`custom` needs `runtime:`).")
SERVING_PROTOCOL = _code("MLD602", "protocol-not-supported", "The runtime (named or auto-selected) does not speak the serving protocol; ONNX and Triton need v2.")
ROLLOUT_NEEDS_KNATIVE = _code("MLD603", "rollout-needs-serverless", "Canary and blue/green rollouts split traffic between Knative revisions: raw deployment mode cannot.")
VARIANT_WEIGHTS = _code("MLD604", "variant-weights", "A/B variant weights must be whole percents above 0 that add up to less than 100% (the primary gets the rest).")
CANARY_STEPS = _code("MLD605", "canary-steps", "Canary steps must be whole percents, strictly increasing, ending at 100%.")
SERVING_AUTOSCALE_METRIC = _code("MLD606", "autoscale-metric", "The autoscaling metric or target does not fit the deployment mode (rps/concurrency need serverless; cpu is 1-100%).")

# --- 7xx target support ----------------------------------------------------------
UNSUPPORTED = _code("MLD701", "unsupported-construct", "The target cannot express a construct of the spec; nothing is silently dropped.")
TARGET_LIMIT = _code("MLD702", "target-limit", "The output approaches or exceeds a limit of the target (object size, name length).", W)
PATCH_NO_MATCH = _code("MLD703", "patch-matches-nothing", "A `patches` selector matches no generated file or object.")
PATCH_FAILED = _code("MLD704", "patch-failed", "A `patches` operation cannot be applied to the generated document.")
OUTPUT_CONFLICT = _code("MLD705", "output-directory-conflict", "`--out` holds files mlopsdsl did not write; use --force or another directory.")
OUTPUT_DIFFERS = _code("MLD706", "output-differs", "`compile --check`: the output directory is not what the spec compiles to.")

# --- 5xx expressions and types (src/mlopsdsl/expr/) --------------------------------
EXPR_SYNTAX = _code("MLD501", "expression-syntax", "The text inside `${{ }}` is not a valid expression; what was expected is named.")
EXPR_UNCLOSED = _code("MLD502", "unclosed-expression", "A `${{` has no matching `}}` (write `$${{` for a literal `${{`).")
EXPR_UNKNOWN_NAME = _code("MLD503", "unknown-name", "An expression uses a name that does not exist; close names are suggested.")
EXPR_NAME_NOT_ALLOWED = _code("MLD504", "name-not-allowed-here", "A name that exists but cannot be used in this place (e.g. `serving.*` in a step's `when`).")
EXPR_TYPE_MISMATCH = _code("MLD505", "type-mismatch", "Operand or value types do not fit (comparing a str with an int, `and` on a number...).")
EXPR_UNIT_MISMATCH = _code("MLD506", "unit-mismatch", "A number meets a duration, percentage or quantity; the literal with its unit is suggested.")
EXPR_NOT_SCALAR = _code("MLD507", "non-scalar-interpolation", "A value spliced into text is an artifact, list or secret, not a scalar.")
EXPR_NOT_BOOL = _code("MLD508", "condition-not-bool", "A condition (`when`, `analysis`) is not a boolean expression.")
EXPR_WHOLE_REQUIRED = _code("MLD509", "expression-required", "This field takes exactly one `${{ ... }}` and nothing around it.")

# --- 9xx internal -----------------------------------------------------------------
INTERNAL = _code("MLD901", "internal-error", "mlopsdsl itself failed; please report it with the spec that caused it.")
