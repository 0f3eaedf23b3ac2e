"""The public IR: the only module of mlopsdsl a backend (built-in or plugin) imports,
together with `mlopsdsl.backends.base`.

Versioned by `IR_VERSION` (major.minor): a minor bump adds optional fields; a
major bump removes or changes meaning. Plugins declare the major they read.
"""

from mlopsdsl.ir.expr import (
    Arith,
    Compare,
    DataRef,
    DriftScore,
    Expr,
    ItemRef,
    ListExpr,
    Lit,
    Logic,
    Neg,
    Not,
    ParamRef,
    PathRef,
    SecretRef,
    ServingMetric,
    StepOutputRef,
    Template,
    Text,
    render,
    walk,
)
from mlopsdsl.ir.models import (
    ARTIFACT_TYPES,
    IR_VERSION,
    PARAMETER_TYPES,
    SERVING_METRICS_DEFAULT,
    Alert,
    Dashboards,
    DataSource,
    Drift,
    DvcSource,
    Environment,
    EnvVar,
    ForEach,
    GitHubCI,
    Input,
    ModelInfo,
    Monitoring,
    NoTraffic,
    Notify,
    Output,
    Param,
    Patch,
    Pipeline,
    Project,
    RequestLog,
    Resources,
    Retry,
    Rollout,
    Serving,
    Step,
    ToolInstall,
    Tracking,
    Transformer,
    Variant,
)
from mlopsdsl.ir.training import Distributed, EarlyStopping, SearchParam, Tune, Volume
from mlopsdsl.source import Span

__all__ = [
    "ARTIFACT_TYPES", "IR_VERSION", "PARAMETER_TYPES", "SERVING_METRICS_DEFAULT",
    "Alert", "Arith", "Compare", "Dashboards", "DataRef", "DataSource", "Drift", "DriftScore", "DvcSource",
    "EnvVar", "Environment", "Expr", "ForEach", "GitHubCI", "Input", "ItemRef", "ListExpr", "Lit", "Logic",
    "ModelInfo", "Monitoring", "Neg", "NoTraffic", "Not", "Notify", "Output", "Param", "ParamRef", "Patch", "PathRef",
    "Pipeline", "Project", "RequestLog", "Resources", "Retry", "Rollout", "SecretRef", "Serving", "ServingMetric", "Span",
    "Step", "StepOutputRef", "Template", "Text", "ToolInstall", "Tracking", "Transformer", "Variant", "render",
    "walk", "Distributed", "EarlyStopping", "SearchParam", "Tune", "Volume",
]
