"""What the monitoring target refuses, checked before anything is built (`MonitoringBackend.check`).

Reported at the value each rule is about, with the rule's own code, so `validate`
says what `compile --target monitoring` would refuse.
"""

from __future__ import annotations

from typing import Callable, Optional

from mlopsdsl.backends.base import codes
from mlopsdsl.ir import Project, Span

# (code, message, span, hint), as `Backend.warn` takes them
Report = Callable[[codes.Code, str, Span, Optional[str]], None]

KNATIVE_SOURCES = ("knative-otel", "knative-opencensus")  # exported by Knative's queue-proxy


def check(project: Project, report: Report) -> None:
    serving = project.serving
    if serving is not None and serving.metrics in KNATIVE_SOURCES and serving.deployment_mode != "serverless":
        report(codes.METRICS_SOURCE_MODE, f"`metrics: {serving.metrics}` reads Knative's queue-proxy, which a "
               f"`deployment_mode: {serving.deployment_mode}` pod does not have", project.locate("serving", "metrics"),
               "in raw mode use `kserve-model-server` (the default) or `istio`")
    drift = project.monitoring.drift if project.monitoring is not None else None
    if drift is None:
        return
    if not drift.image:
        report(codes.DRIFT_NEEDS_IMAGE, "the drift job has no image", project.locate("monitoring", "drift", key=True),
               "add `image: REGISTRY/NAME`: CI builds it from monitoring/drift/Dockerfile when "
               "`ci.github.mlopsdsl` says how to install mlopsdsl, or name an image with mlopsdsl[drift]")
    if drift.request_log is not None and (serving is None or serving.protocol == "grpc-v2"):
        report(codes.DRIFT_REQUEST_LOG, "`request_log` reads the requests KServe logs for "
               + ("a served model, and this spec serves none" if serving is None else "REST, and this service "
                  "speaks gRPC"), project.locate("monitoring", "drift", "request_log"),
               "declare `current: ${{ data.NAME }}`")
