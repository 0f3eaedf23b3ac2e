"""The fully resolved IR: what every backend reads, and nothing else.

Everything here is decided: defaults are applied, the chosen environment's
overlay is applied, expressions are parsed, typed and resolved (see `expr`),
steps are in topological order, names are normalised. A backend never looks
at the spec text and never has to guess.

Defaults are the language table's (`mlopsdsl.language.default`), so an IR built by
hand means what the same spec would. Conventions: durations are seconds (float); percentages in rollout steps and
variant weights are percent numbers (10.0 means 10%); K8s quantities are
canonical strings as the user wrote them (``500m``, ``8Gi``), and `Resources` gives their numbers; mappings are
plain dicts and backends sort keys when they serialise. `span` fields point
back into the spec so a backend can report `unsupported(feature, span)`.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any, Literal, Optional, Union

from pydantic import BaseModel, ConfigDict, Field

from mlopsdsl.ir.expr import Expr, Text
from mlopsdsl.ir.training import Distributed, Tune, Volume
from mlopsdsl.expr.units import parse_cpu, parse_duration, parse_memory
from mlopsdsl.language import default
from mlopsdsl.language.steps import ARTIFACT_TYPES as _ARTIFACT_TYPES, VALUE_TYPES
from mlopsdsl.source import Span

IR_VERSION = "1.5"  # 1.5: Step.pod_labels; 1.2: Step.distributed, Step.tune, Step.volumes; 1.3: Project.by_environment/base, GitHubCI.mlopsdsl; 1.4: Serving.metrics, Rollout.no_traffic, Drift.current/request_log/credentials/min_rows

ARTIFACT_TYPES = tuple(_ARTIFACT_TYPES)
PARAMETER_TYPES = tuple(VALUE_TYPES)


ServingMetricsSource = Literal["knative-otel", "knative-opencensus", "kserve-model-server", "istio"]
# What KServe v0.20 installs: Knative Serving 1.21 (OpenTelemetry names) for serverless; in
# raw (Standard) mode no queue-proxy and no mesh, so only the model server's own metrics.
SERVING_METRICS_DEFAULT: dict[str, str] = {"serverless": "knative-otel", "raw": "kserve-model-server"}


class Locator:
    """Document path -> span, for the spec a project was lowered from (an environment's overrides
    are found at their `set:` entries). Two locators compare equal: they are not the IR's data."""

    __slots__ = ("_index",)

    def __init__(self, index: Any) -> None:
        self._index = index

    def span(self, path: tuple, *, key: bool = False) -> Span:
        return self._index.span(tuple(path), key=key)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Locator)

    __hash__ = object.__hash__


class _IR(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)


class Environment(_IR):
    name: str
    namespace: str
    kfp_host: Optional[str] = None
    approval: bool = default("environments.*.approval")
    url: Optional[str] = None


class ModelInfo(_IR):
    name: str
    task: str
    framework: str
    description: str = ""


class Tracking(_IR):
    mlflow_uri: Optional[str] = None
    mlflow_experiment: Optional[str] = None
    wandb_project: Optional[str] = None
    wandb_entity: Optional[str] = None
    # The secret variables every step gets, by the names the clients read (MLFLOW_TRACKING_TOKEN,
    # MLFLOW_TRACKING_USERNAME/_PASSWORD, WANDB_API_KEY), each a secret by name.
    credentials: tuple[EnvVar, ...] = ()


class Param(_IR):
    name: str
    type: Literal["int", "float", "bool", "str"]
    default: Union[bool, int, float, str, None] = None
    min: Optional[float] = None
    max: Optional[float] = None
    choices: tuple[Union[bool, int, float, str], ...] = ()
    description: str = ""


class DvcSource(_IR):
    repo: str
    path: str
    rev: str
    env: tuple["EnvVar", ...] = ()  # what `dvc get` runs with: the remote's credentials, secrets by name


class DataSource(_IR):
    name: str
    uri: Optional[str] = None  # set for `uri:` sources
    dvc: Optional[DvcSource] = None  # set for `dvc:` sources
    columns: dict[str, str] = {}  # `schema:` column -> int|float|str|bool|datetime|category
    format: Optional[str] = None
    description: str = ""
    span: Optional[Span] = None


class Resources(_IR):
    cpu: Optional[str] = None  # request
    memory: Optional[str] = None  # request
    cpu_limit: Optional[str] = None
    memory_limit: Optional[str] = None
    gpu: int = 0
    gpu_type: Optional[str] = None  # e.g. nvidia-tesla-t4 (accelerator type / node label value)

    # The quantities as numbers, parsed once by the language's own parsers (`expr.units`): a
    # backend that needs cores or bytes reads these and never parses the text again.
    @cached_property
    def cpu_cores(self) -> Optional[float]:
        return _cores(self.cpu)

    @cached_property
    def cpu_limit_cores(self) -> Optional[float]:
        return _cores(self.cpu_limit)

    @cached_property
    def memory_bytes(self) -> Optional[int]:
        return _bytes(self.memory)

    @cached_property
    def memory_limit_bytes(self) -> Optional[int]:
        return _bytes(self.memory_limit)


def _cores(quantity: Optional[str]) -> Optional[float]:
    parsed = parse_cpu(quantity) if quantity else None
    return parsed.cores if parsed else None


def _bytes(quantity: Optional[str]) -> Optional[int]:
    parsed = parse_memory(quantity) if quantity else None
    return parsed.bytes if parsed else None


class Retry(_IR):
    count: int
    backoff: Optional[float] = None  # seconds before the first retry
    max_backoff: Optional[float] = None
    factor: Optional[float] = None


class EnvVar(_IR):
    """One environment variable: a value, or a secret delivered by name."""

    name: str
    value: Optional[Text] = None
    secret: Optional[str] = None  # secret NAME (K8s Secret / GitHub secret), never a value
    secret_key: Optional[str] = None  # `secrets.NAME.KEY`: the key inside the K8s Secret (None: the key NAME)


class Output(_IR):
    name: str
    type: str  # an artifact type or a parameter type
    fields: dict[str, str] = {}  # declared metrics fields: name -> int|float|bool|str
    description: str = ""

    @property
    def is_artifact(self) -> bool:
        return self.type in ARTIFACT_TYPES


class Input(_IR):
    name: str
    type: str  # an artifact type or a parameter type
    source: Expr  # StepOutputRef, DataRef, ParamRef, ItemRef or Lit (after lowering)

    @property
    def is_artifact(self) -> bool:
        return self.type in ARTIFACT_TYPES


class ForEach(_IR):
    items: Expr  # a ListExpr/Lit list, a ParamRef of a list, or a StepOutputRef
    parallelism: Optional[int] = None


class Step(_IR):
    name: str  # as written in the spec (a valid identifier)
    id: str  # DNS-1123 form used for K8s and pipeline task names
    description: str = ""
    image: str
    command: tuple[Text, ...]  # `run`, argument by argument
    inputs: tuple[Input, ...] = ()
    outputs: tuple[Output, ...] = ()
    data_uris: tuple[str, ...] = ()  # data sources whose `.uri` the step reads as text (folded into run/env)
    when: Optional[Expr] = None
    after: tuple[str, ...] = ()  # explicit ordering, step names
    depends_on: tuple[str, ...] = ()  # every upstream step (data edges and `after`), sorted
    for_each: Optional[ForEach] = None
    retry: Optional[Retry] = None
    timeout: Optional[float] = None  # seconds
    cache: bool = default("pipeline.steps.*.cache")
    env: tuple[EnvVar, ...] = ()
    resources: Resources = Resources()
    node_selector: dict[str, str] = {}
    pod_labels: dict[str, str] = {}  # on the step's pods and on the jobs it submits
    tolerations: tuple[dict[str, Any], ...] = ()
    component: Optional[str] = None  # the `uses:` file, relative to the spec
    distributed: Optional[Distributed] = None  # run as a multi-node job (see ir.training)
    tune: Optional[Tune] = None  # run as a hyperparameter search over `params`
    volumes: tuple[Volume, ...] = ()
    span: Optional[Span] = None


class Pipeline(_IR):
    name: str  # DNS-1123, from metadata.name
    description: str = ""
    steps: tuple[Step, ...]  # topological order; ties broken by spec order
    on_exit: Optional[Step] = None
    schedule: Optional[str] = None  # 5-field cron (UTC): a KFP recurring run

    def step(self, name: str) -> Step:
        for step in self.steps:
            if step.name == name:
                return step
        raise KeyError(name)


class Transformer(_IR):
    image: str
    command: tuple[str, ...] = ()
    env: tuple[EnvVar, ...] = ()
    resources: Resources = Resources()


class NoTraffic(_IR):
    """What the rollout gate does when the new revision served too few requests to judge."""

    min_requests: int = default("serving.rollout.no_traffic.min_requests")  # served in the gate's window
    action: Literal["rollback", "promote", "probe"] = default("serving.rollout.no_traffic.action")
    probe_body: Optional[str] = None  # repository path of a request body the probe sends (`probe` only)
    probe_requests: int = 0  # requests the probe sends to the new revision's tag URL (`probe` only)


class Rollout(_IR):
    strategy: Literal["canary", "blue_green", "direct"]
    steps: tuple[float, ...] = ()  # canary traffic percents, strictly increasing, last is 100
    interval: Optional[float] = None  # seconds between steps / before the switch
    analysis: Optional[Expr] = None  # must hold between steps; else roll back
    no_traffic: NoTraffic = NoTraffic()
    span: Optional[Span] = None


class Variant(_IR):
    name: str  # DNS-1035, the variant's InferenceService name
    storage_uri: str
    weight: float  # percent
    framework: str
    version: Optional[str] = None  # the variant model's own version (its `app.kubernetes.io/version` label)
    resources: Resources = Resources()


class Serving(_IR):
    name: str  # DNS-1035 label
    namespace: str
    model_step: Optional[str] = None  # the step whose Model output is served
    model_output: Optional[str] = None
    storage_uri: str
    storage_secret: Optional[str] = None  # K8s Secret NAME with storage credentials
    framework: str
    protocol: Literal["v1", "v2", "grpc-v2"] = default("serving.protocol")
    deployment_mode: Literal["serverless", "raw"] = default("serving.deployment_mode")
    # Which exporter's names the serving SLIs are read from (see SERVING_METRICS_DEFAULT).
    metrics: ServingMetricsSource = "knative-otel"
    runtime: Optional[str] = None
    grpc_port: Optional[int] = None  # the container port serving gRPC (grpc-v2) the spec declares
    knative_features: tuple[str, ...] = ()  # Knative config-features flags the cluster has enabled
    min_replicas: int = default("serving.replicas.min")
    max_replicas: int = 1
    autoscale_metric: Optional[Literal["rps", "concurrency", "cpu", "memory"]] = None
    autoscale_target: Optional[float] = None
    resources: Resources = Resources()
    transformer: Optional[Transformer] = None
    rollout: Rollout = Rollout(strategy="direct")
    variants: tuple[Variant, ...] = ()
    span: Optional[Span] = None

    @property
    def primary_weight(self) -> float:
        return 100.0 - sum(v.weight for v in self.variants)


class Alert(_IR):
    name: str
    when: Expr
    for_duration: float = 0.0  # seconds (`for:`)
    severity: Literal["info", "warning", "critical"] = default("monitoring.alerts.*.severity")
    summary: str = ""
    description: str = ""
    runbook_url: Optional[str] = None
    labels: dict[str, str] = {}
    span: Optional[Span] = None


class RequestLog(_IR):
    """Where KServe's payload logger stores the predictor's requests (its blob-storage mode)."""

    uri: str  # the logger's `url`: s3://bucket/prefix (also gs://, abfs://)
    storage_key: str  # the key of KServe's storage-config Secret with the bucket's credentials
    path: str = default("monitoring.drift.request_log.path")  # the logger's `storage.path`
    window: float = parse_duration(default("monitoring.drift.request_log.window")).seconds  # seconds each run reads


class Drift(_IR):
    reference: str  # data source name
    method: Literal["psi", "ks", "wasserstein", "chi2"]
    threshold: float
    features: tuple[str, ...]
    schedule: str  # 5-field cron
    on_drift: Literal["retrain", "alert"] = default("monitoring.drift.on_drift")
    image: Optional[str] = None  # the job's image (built from the generated Dockerfile, or the user's)
    current: Optional[str] = None  # a data source name: the current sample, instead of the request log
    request_log: Optional[RequestLog] = None
    credentials: tuple[str, ...] = ()  # Kubernetes Secret names whose keys become the job's environment
    min_rows: int = default("monitoring.drift.min_rows")  # fewer current rows than this: no verdict
    span: Optional[Span] = None


class Dashboards(_IR):
    enabled: bool = False
    folder: Optional[str] = None
    refresh: Optional[float] = None  # seconds


class Notify(_IR):
    slack_channel: Optional[str] = None
    slack_webhook_secret: Optional[str] = None  # secret NAME
    pagerduty_routing_key_secret: Optional[str] = None  # secret NAME
    email_to: tuple[str, ...] = ()


class Monitoring(_IR):
    namespace: str
    alerts: tuple[Alert, ...] = ()
    drift: Optional[Drift] = None
    dashboards: Dashboards = Dashboards()
    notify: Notify = Notify()
    rule_labels: dict[str, str] = default("monitoring.prometheus.rule_labels")


class ToolInstall(_IR):
    """How the workflows install mlopsdsl itself: a requirement the spec controls."""

    requirement: str  # for pip: `mlopsdsl @ <wheel or VCS URL>` or `mlopsdsl==<version>`
    index: Optional[str] = None  # `--index-url` (with a version only: never the public index by name)
    python: str = default("ci.github.mlopsdsl.python")  # the Python mlopsdsl's own steps run on


class GitHubCI(_IR):
    on: dict[str, Any]  # the trigger mapping as written (push/pull_request/...)
    python: str = default("ci.github.python")
    mlopsdsl: Optional[ToolInstall] = None
    install: tuple[str, ...] = ()
    test: tuple[str, ...] = ()
    env: tuple[EnvVar, ...] = ()  # the install and test commands' environment (secrets by name)
    runs_on: str = default("ci.github.runs_on")
    train_on_branch: Optional[str] = None
    train_environment: Optional[str] = None
    deploy_environments: tuple[str, ...] = ()
    retrain_schedule: Optional[str] = None
    retrain_environment: Optional[str] = None
    span: Optional[Span] = None


class Patch(_IR):
    target: str
    file: Optional[str] = None  # a glob over the target's artifact paths
    kind: Optional[str] = None
    name: Optional[str] = None
    json_patch: Optional[tuple[dict[str, Any], ...]] = None
    merge: Optional[dict[str, Any]] = None
    span: Optional[Span] = None


class Project(_IR):
    """The root of the IR: one spec, resolved for one environment (or none)."""

    ir_version: str = IR_VERSION
    name: str
    version: str
    description: str = ""
    owners: tuple[str, ...] = ()
    labels: dict[str, str] = {}
    annotations: dict[str, str] = {}
    spec_path: str  # the spec, relative to the repository root (CI runs mlopsdsl on it)
    environment: Optional[Environment] = None  # the one compiled for (`--env`)
    environments: tuple[Environment, ...] = ()  # all, in declared order
    model: Optional[ModelInfo] = None
    tracking: Optional[Tracking] = None
    params: tuple[Param, ...] = ()
    data: tuple[DataSource, ...] = ()
    pipeline: Optional[Pipeline] = None
    serving: Optional[Serving] = None
    monitoring: Optional[Monitoring] = None
    ci: Optional[GitHubCI] = None
    patches: tuple[Patch, ...] = ()
    # The same spec resolved for every declared environment, and without any (`base`), whatever
    # `--env` chose: a target whose output serves every environment at once (the workflows) reads
    # each environment's own values here, and its output does not depend on `--env`. Filled on the
    # top-level project only.
    by_environment: dict[str, "Project"] = {}
    base: Optional["Project"] = None
    # Where each value of the spec is (the lowering sets it; not part of the IR's data).
    locator: Optional[Locator] = Field(default=None, exclude=True, repr=False)

    def locate(self, *path: Union[str, int], key: bool = False) -> Span:
        """The span of a document path of the spec (`"serving", "protocol"`), or of its nearest parent
        that is written; the spec file itself for a project built by hand. What a target reports at."""
        if self.locator is None:
            return Span.point(self.spec_path)
        return self.locator.span(path, key=key)

    @property
    def namespace(self) -> str:
        return self.environment.namespace if self.environment else "default"

    def for_environment(self, name: Optional[str]) -> "Project":
        """This spec resolved for environment `name` (None: for none). A hand-built project without
        `by_environment`/`base` stands for every environment itself."""
        if name is None:
            return self.base or self
        if self.environment is not None and self.environment.name == name:
            return self
        return self.by_environment.get(name, self)
