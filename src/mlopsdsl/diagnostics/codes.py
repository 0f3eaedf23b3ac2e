"""The registry of diagnostic codes.

Every diagnostic mlopsdsl can emit has a code here, and `docs/diagnostics.md` is
generated from this table (`python -m mlopsdsl.diagnostics.docs`); a test fails
when the two drift. Ranges:

    1xx  YAML and I/O           5xx  expressions and types
    2xx  schema and structure   6xx  serving, monitoring and CI rules
    3xx  names and references   7xx  target support
    4xx  the pipeline graph     8xx  running pipelines (`mlopsdsl run`)
                                9xx  internal

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
    "8": "Running pipelines (`mlopsdsl run`)",
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
FILE_NOT_FOUND = _code("MLD101", "file-not-found", "The spec file does not exist or cannot be read (a directory, FIFO or device is not read).")
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
NUMBER_TOO_LARGE = _code("MLD115", "number-too-large", "A number no target can hold: beyond a 64-bit integer, or not finite (`.inf`, `.nan`, `1e400`).")
UNSAFE_CHARACTER = _code("MLD116", "unsafe-character", "Text holds a control character (written as an escape) or a bidirectional override/mark, which would reach generated files and hide or reorder what a reader sees.")

# --- 2xx schema and structure -------------------------------------------------------
SCHEMA_UNKNOWN_KEY = _code("MLD201", "unknown-key", "A key that the language does not define at this place.")
SCHEMA_MISSING_KEY = _code("MLD202", "missing-key", "A required key is missing.")
SCHEMA_TYPE = _code("MLD203", "wrong-type", "A value has the wrong type (for example a list where a mapping is expected).")
SCHEMA_ENUM = _code("MLD204", "not-allowed-value", "A value is not one of the allowed values; they are listed.")
SCHEMA_PATTERN = _code("MLD205", "bad-format", "A value does not have the required format (name, semver, quantity, duration...).")
SCHEMA_RANGE = _code("MLD206", "out-of-range", "A number, list or text is outside its allowed bounds.")
SCHEMA_SHAPE = _code("MLD207", "bad-shape", "A value matches none of the forms allowed at this place.")
SCHEMA_API_VERSION = _code("MLD208", "unknown-api-version", "`apiVersion`/`kind` is not one this version of mlopsdsl reads.")

# --- 3xx names and references ------------------------------------------------------
UNKNOWN_STEP = _code("MLD301", "unknown-step", "A reference names a step the pipeline does not define.")
UNKNOWN_OUTPUT = _code("MLD302", "unknown-output", "A reference names an output the step does not declare.")
UNKNOWN_FIELD = _code("MLD303", "unknown-metrics-field", "A reference names a metrics field the output does not declare.")
UNKNOWN_PARAM = _code("MLD304", "unknown-param", "A reference names a parameter `params` does not define.")
UNKNOWN_DATA = _code("MLD305", "unknown-data", "A reference names a data source `data` does not define.")
UNKNOWN_ENVIRONMENT = _code("MLD306", "unknown-environment", "An environment name that `environments` does not define.")
UNKNOWN_STEP_IO = _code("MLD307", "unknown-step-io", "`inputs.X`/`outputs.X` inside a step names something the step does not declare.")
INVALID_NAME = _code("MLD308", "invalid-k8s-name", "A name that becomes a Kubernetes or pipeline name is not a valid DNS label.")
NAME_TOO_LONG = _code("MLD309", "generated-name-too-long", "A name generated from the spec would exceed a Kubernetes length limit.")
COMPONENT_NOT_FOUND = _code("MLD310", "component-not-found", "A `uses:` file does not exist or is not a `kind: Component`.")
COMPONENT_CYCLE = _code("MLD311", "component-cycle", "Components use each other in a cycle.")
COMPONENT_INPUT_MISSING = _code("MLD312", "component-input-missing", "A required input of a component is not given at the call site.")
COMPONENT_INPUT_UNKNOWN = _code("MLD313", "component-input-unknown", "The call site gives an input the component does not declare.")
STEP_NEEDS_RUN = _code("MLD314", "step-needs-run", "A step needs either `run` (with an image) or `uses`, not both and not neither.")
ARTIFACT_TYPE_MISMATCH = _code("MLD315", "artifact-type-mismatch", "An artifact of one type is wired where another type is expected.")

# --- 4xx the pipeline graph -----------------------------------------------------------
CYCLE = _code("MLD401", "dependency-cycle", "Steps depend on each other in a cycle; the cycle is printed.")
CONDITIONAL_DEPENDENCY = _code("MLD402", "conditional-dependency", "A step consumes the output of a conditionally run step without the same condition.")
UNUSED_OUTPUT = _code("MLD403", "unused-output", "A step's data output is consumed by nothing.", W)
UNREACHABLE_STEP = _code("MLD404", "unreachable-step", "A step can never run: its condition is always false, or it needs such a step.", W)
SELF_DEPENDENCY = _code("MLD405", "self-dependency", "A step lists itself in `after` or consumes its own output.")

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
EXPR_TOO_DEEP = _code("MLD510", "expression-too-deep", "An expression nests operators or brackets deeper than the limit (100 levels); every later stage walks it recursively.")
EXPR_NUMBER_TOO_LARGE = _code("MLD511", "expression-number-too-large", "A number in an expression is beyond a 64-bit integer, or a unit literal beyond its range (durations: Go's ~292 years).")
EXPR_NO_VALUE = _code("MLD512", "constant-without-value", "A part of an expression made of literals has no value: a division by zero, or a result beyond what targets hold.")

# --- 64x values, secrets, monitoring and environments -------------------------------------
BAD_QUANTITY = _code("MLD640", "invalid-quantity", "A CPU or memory value is not a valid Kubernetes quantity, or a limit is below its request.")
BAD_DURATION = _code("MLD641", "invalid-duration", "A duration is malformed or out of range.")
BAD_CRON = _code("MLD642", "invalid-cron", "A schedule is not a valid 5-field cron expression.")
PARAM_DEFAULT_TYPE = _code("MLD643", "param-default-type", "A parameter's default, min, max or choices do not fit its type.")
PARAM_DEFAULT_RANGE = _code("MLD644", "param-default-range", "A parameter's default lies outside min/max or its choices, or min > max.")
LITERAL_SECRET = _code("MLD645", "literal-secret", "A value looks like a credential written in plain text; use `${{ secrets.NAME }}`.")
DRIFT_FEATURE_UNKNOWN = _code("MLD646", "drift-feature-unknown", "A drift feature is not a column of the reference data's schema.")
DRIFT_REFERENCE_NO_SCHEMA = _code("MLD647", "drift-reference-no-schema", "The drift reference data source declares no `schema` to check features against.")
SET_PATH_INVALID = _code("MLD648", "set-path-invalid", "An environment's `set` path does not name a field of the spec.")
SERVING_MODEL_NOT_MODEL = _code("MLD649", "serving-model-not-model", "`serving.model` must refer to a step output of type Model.")
DUPLICATE_NAME = _code("MLD650", "duplicate-name", "Two alerts or variants share a name.")
CI_ENVIRONMENT_NEEDS_HOST = _code("MLD651", "environment-needs-kfp-host", "A workflow trains in an environment that has no `kfp_host`.")
CONDITION_WITHOUT_METRIC = _code("MLD652", "condition-without-metric", "An alert's `when` or a rollout's `analysis` is not made of comparisons of a serving or drift metric (`true`, `1 > 2`): it would always or never hold.")
FIELD_NOT_APPLICABLE = _code("MLD653", "field-not-applicable", "A field that means something only beside another value of its neighbour: `fields` on an output that is not `Metrics`, `default` on a component input that is an artifact, `value` on a toleration with `operator: Exists`.")
DRIFT_NEEDS_CURRENT = _code("MLD680", "drift-needs-current", "The drift job has no current sample: give `current: ${{ data.NAME }}` or `request_log` (exactly one).")
DRIFT_NEEDS_IMAGE = _code("MLD681", "drift-needs-image", "The drift job has no image: `monitoring.drift.image` names where CI pushes the one built from the generated Dockerfile, or your own.")
DRIFT_METHOD_FEATURE = _code("MLD682", "drift-method-feature", "`ks` and `wasserstein` compare numbers: a categorical feature (str, bool, category) needs `psi` or `chi2`.")
DRIFT_REQUEST_LOG = _code("MLD683", "drift-request-log", "`request_log` needs a served model that speaks REST: KServe logs the predictor's requests, and gRPC bodies are not JSON rows.")

# --- 62x distributed training and hyperparameter search (src/mlopsdsl/check/training.py) ----
TUNE_PARAM_UNKNOWN = _code("MLD620", "tune-param-unknown", "`tune.params` names a parameter that `params` does not declare.")
TUNE_SPACE = _code("MLD621", "tune-search-space", "A search dimension does not fit its parameter: the kind does not match the type, the range is empty, or `loguniform` starts at or below 0.")
TUNE_OBJECTIVE = _code("MLD622", "tune-objective", "`tune.objective.metric` is not `OUTPUT.FIELD` of a numeric metrics field the step declares.")
TUNE_COUNTS = _code("MLD623", "tune-counts", "`parallel` or `max_failed` is more than `trials` (Katib's webhook refuses it).")
TUNE_GRID = _code("MLD624", "tune-grid", "Grid search needs a `step` for every float dimension, and no more `trials` than combinations.")
TUNE_PARAM_UNUSED = _code("MLD625", "tune-param-unused", "`tune` varies a parameter the step's `run` never reads: every trial would run the same command.", W)
DISTRIBUTED_OPTION = _code("MLD626", "distributed-option", "A `distributed:` option that the chosen framework does not take.")
TORCHRUN_MISSING = _code("MLD627", "pytorch-without-torchrun", "A `framework: pytorch` step runs `python` directly: Kubeflow Trainer configures torchrun (its `PET_*` variables), so each worker would train alone.", W)

# --- 67x, 80x-82x pipelines that run (issue 15): checks of what a run needs, `mlopsdsl run` ---------
PARAM_NEEDS_DEFAULT = _code("MLD670", "param-needs-default", "A parameter has no default, but an automatic trigger (push, schedule, drift retrain) starts the pipeline with no value for it.")
SERVED_MODEL_UNNAMED = _code("MLD671", "served-model-unnamed", "`compile --model URI` gives the URI of the model `serving.model` names, and the spec has no `serving.model`.")
SERVED_MODEL_URI = _code("MLD672", "served-model-uri", "The served model's URI (`compile --model`, or what a `models:/` version resolves to) is not one KServe's storage initializer loads.")
SERVED_MODEL_REGISTRY = _code("MLD673", "served-model-registry", "`compile --model models:/NAME/VERSION` cannot be resolved: not one version of this project's model, no MLflow tracking, or the registry has no such version.")

# --- 80x-82x `mlopsdsl run` (src/mlopsdsl/run/) --------------------------------------------------
RUN_ENGINE_MISSING = _code("MLD800", "run-engine-missing", "`mlopsdsl run` needs kfp's local orchestrator and cel-python: `pip install 'mlopsdsl[run]'`.")
RUN_UNKNOWN_PARAM = _code("MLD801", "run-unknown-param", "`-p NAME=VALUE` names no parameter of the spec.")
RUN_PARAM_VALUE = _code("MLD802", "run-param-value", "A `-p` value does not fit its parameter (type, choices, min/max), or a parameter without a default got no value.")
RUN_STEP_FAILED = _code("MLD803", "run-step-failed", "A step failed (after its retries); the run record holds its log.")
RUN_NO_CONTAINERS = _code("MLD804", "run-no-container-engine", "`--containers` needs a running docker or podman engine, and none answered.")
RUN_NEEDS_CLUSTER = _code("MLD805", "run-needs-cluster", "A step launches a cluster job (TrainJob, RayJob, Katib search) that cannot run on this machine.")
RUN_UNKNOWN_STEP = _code("MLD806", "run-unknown-step", "`--from`/`--only` names no step of the pipeline.")
RUN_NOT_CACHED = _code("MLD807", "run-upstream-not-cached", "`--only`/`--from` needs the steps before it in the cache, and one has never run with these inputs.")

# --- 60x serving (the language's percent rules in check/serving.py; the KServe target's in backends/kserve) --
SERVING_UNSERVABLE = _code("MLD601", "unservable-framework", "No KServe runtime serves the framework, or the named runtime cannot serve it (`custom` needs `runtime:`).")
SERVING_PROTOCOL = _code("MLD602", "protocol-not-supported", "The runtime (named or auto-selected) does not speak the serving protocol; ONNX and Triton need v2.")
ROLLOUT_NEEDS_KNATIVE = _code("MLD603", "rollout-needs-serverless", "Canary and blue/green rollouts split traffic between Knative revisions: raw deployment mode cannot.")
VARIANT_WEIGHTS = _code("MLD604", "variant-weights", "A/B variant weights must be whole percents above 0 that add up to less than 100% (the primary gets the rest).")
CANARY_STEPS = _code("MLD605", "canary-steps", "Canary steps must be whole percents, strictly increasing, ending at 100%.")
SERVING_AUTOSCALE_METRIC = _code("MLD606", "autoscale-metric", "The autoscaling metric or target does not fit the deployment mode (rps/concurrency need serverless; cpu is 1-100%).")
ERROR_RATE_UNOBSERVABLE = _code("MLD607", "error-rate-unobservable", "`serving.error_rate` is used where no metric records failed requests: the metrics source has no status codes, or the service speaks gRPC (errors travel as HTTP 200 with a grpc-status trailer).")
NO_TRAFFIC_PROBE = _code("MLD608", "no-traffic-probe", "`rollout.no_traffic.action: probe` needs `probe.body` and a REST protocol (the probe posts the body to the new revision); `probe` settings without `action: probe` do nothing.")
METRICS_SOURCE_MODE = _code("MLD609", "metrics-source-mode", "`serving.metrics` names an exporter the deployment mode does not have (Knative's queue-proxy exists only in serverless mode).")
REPLICA_BOUNDS = _code("MLD613", "replica-bounds", "`serving.replicas.min` is above `max`: KServe's admission webhook refuses the InferenceService.")
STORAGE_URI_REQUIRED = _code("MLD614", "storage-uri-required", "`serving` has no `storage_uri`, so the kserve target refuses it: KServe would start a model server with nothing to load.")
KNATIVE_NODE_SELECTOR = _code("MLD615", "knative-node-selector", "A serverless predictor would carry a nodeSelector, which Knative refuses unless its `kubernetes.podspec-nodeselector` feature is enabled (and declared in `serving.knative_features`).")
GRPC_PORT_REQUIRED = _code("MLD616", "grpc-port-required", "`protocol: grpc-v2` needs the container's gRPC port (Knative routes gRPC only to a port named h2c); the runtime's is unknown, so `serving.grpc_port` must say it.")
SECRET_REFERENCE = _code("MLD610", "secret-reference", "`secrets.NAME.KEY`: NAME is not an identifier that starts with a letter and ends with a letter or digit (a Kubernetes Secret is named NAME with `-` for `_`, in lower case), or KEY is not a Kubernetes Secret key (letters, digits, `-`, `_`, `.`).")
MLFLOW_CREDENTIALS = _code("MLD611", "mlflow-credentials", "`tracking.mlflow` gives `token` and `username`/`password`: MLflow sends basic auth when both are set and ignores the token, so give one or the other.")
GRAPH_PROTOCOL = _code("MLD617", "inference-graph-protocol", "The A/B InferenceGraph would call the models over another protocol than `serving.protocol` (the graph speaks REST v1/v2 only, and reads a named runtime's first protocol).")

# --- 68x CI install rules -------------------------------------------------------------
TOOL_INSTALL_REQUIRED = _code("MLD685", "mlopsdsl-install-required", "The workflows need mlopsdsl and the spec does not say where to install it from (`ci.github.mlopsdsl`); the public index by name is never used.")
TOOL_PYTHON_TOO_OLD = _code("MLD686", "mlopsdsl-python-too-old", "`ci.github.mlopsdsl.python` is below the Python mlopsdsl needs.")
TOOL_INSTALL_UNPINNED = _code("MLD687", "mlopsdsl-install-unpinned", "The mlopsdsl requirement can change under the same text: a wheel URL without `#sha256=`, or a VCS ref that is not a commit.", W)
TOOL_INDEX_REQUIRED = _code("MLD688", "mlopsdsl-index-required", "A version alone would be resolved on the public index, where the name is not ours: give `index`, or a wheel or VCS URL.")

# --- 7xx target support ----------------------------------------------------------
UNSUPPORTED = _code("MLD701", "unsupported-construct", "The target cannot express a construct of the spec; nothing is silently dropped.")
TARGET_LIMIT = _code("MLD702", "target-limit", "The output approaches or exceeds a limit of the target (object size, name length).", W)
PATCH_NO_MATCH = _code("MLD703", "patch-matches-nothing", "A `patches` selector matches no generated file or object.")
PATCH_FAILED = _code("MLD704", "patch-failed", "A `patches` operation cannot be applied to the generated document.")
OUTPUT_CONFLICT = _code("MLD705", "output-directory-conflict", "`--out` must not be replaced: it holds files mlopsdsl did not write (--force replaces it), or it is or holds an input, the home directory, the working directory or `/` (never replaced).")
OUTPUT_DIFFERS = _code("MLD706", "output-differs", "`compile --check`: the output directory is not what the spec compiles to.")
TARGET_TOPOLOGY = _code("MLD707", "target-refuses-dependency", "The target refuses this dependency shape (reading an output of a conditional or looped step from outside it).")
APPROXIMATED = _code("MLD708", "approximated-construct", "The target has no exact form for a construct and writes the nearest equivalent; the message says what differs.", W)
OUTPUT_LEFTOVER = _code("MLD709", "output-leftover", "The new output is in place, but a folder beside it (the previous output, or an interrupted run's staging) could not be removed; its path is named.", W)
HOROVOD_UNMAINTAINED = _code("MLD740", "horovod-unmaintained", "`framework: mpi` runs Horovod, which has had no release since 2023; the generated MPI runtime still works.", W)

# --- 9xx internal -----------------------------------------------------------------
INTERNAL = _code("MLD901", "internal-error", "mlopsdsl itself failed; please report it with the spec that caused it.")
