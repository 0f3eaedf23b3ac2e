"""The deployment side of a Project: serving, monitoring, ci, environments, patches."""

from __future__ import annotations

from mlopsdsl.schemagen.kit import (
    BOOL, STRING, TEXT, Schema, enum, field, fmt, labels, list_of, map_of, obj, ref,
)

FRAMEWORK = ref("framework")


def _serving() -> Schema:
    variant = obj({
        "name": field(ref("dns1035_label"), "The variant's name (DNS-1035 label)."),
        "storage_uri": field(ref("storage_uri"), "Where this variant's model files are."),
        "weight": field(ref("percent"), "Share of the traffic, e.g. `20%`; the main model gets the rest."),
        "framework": field(FRAMEWORK, "The variant's framework, when it differs from `model.framework`."),
        "version": field(TEXT, "The variant model's version: its own `app.kubernetes.io/version` label "
                               "(left out when not given, never the primary's).", examples=["1.0.0"]),
        "resources": field(ref("serving_resources"), "The variant's resources, when they differ."),
    }, required=("name", "storage_uri", "weight"), title="Variant")
    return obj({
        "name": field(ref("dns1035_label"), "The InferenceService name (DNS-1035 label: starts with a letter)."),
        "model": field(ref("expr"), "The model to serve: `${{ steps.S.outputs.O }}` of type `Model`.",
                       examples=["${{ steps.train.outputs.model }}"]),
        "storage_uri": field(ref("storage_uri"), "Where the model files are published; may interpolate "
                                                 "`${{ metadata.version }}`."),
        "storage_secret": field(ref("dns_label"), "A Kubernetes Secret with storage credentials (becomes a "
                                                  "ServiceAccount)."),
        "protocol": field(enum({"v1": "KServe V1 REST.", "v2": "Open Inference Protocol (REST).",
                                "grpc-v2": "Open Inference Protocol over gRPC."}), "The inference protocol."),
        "deployment_mode": field(enum({"serverless": "Knative: scale to zero, request autoscaling, canaries.",
                                       "raw": "Plain Deployment and HPA."}),
                                 "How KServe deploys the model (default `serverless`).", default="serverless"),
        "metrics": field(enum({
            "knative-otel": "Knative Serving 1.19+ (what KServe v0.20 installs): the queue-proxy's "
                            "`kn_serving_invocation_duration_seconds`, per revision.",
            "knative-opencensus": "Knative Serving up to 1.18: `revision_request_count` and "
                                  "`revision_request_latencies` (milliseconds), per revision.",
            "kserve-model-server": "KServe's Python model server (`request_predict_seconds`): latency and "
                                   "rps, no status codes, so no `serving.error_rate`.",
            "istio": "The Istio sidecar's standard metrics (`istio_requests_total`); needs sidecar injection."}),
            "Which exporter the `serving.*` SLIs (alerts, dashboard, rollout gate) are read from. Default: "
            "`knative-otel` when serverless, `kserve-model-server` when raw.", examples=["knative-otel"]),
        "runtime": field(ref("dns_label"), "A ServingRuntime name, to override the one chosen from the framework."),
        "grpc_port": field({"type": "integer", "minimum": 1, "maximum": 65535},
                           "With `protocol: grpc-v2`, the container port the model server's gRPC listens on "
                           "(declared as Knative's `h2c` port). Default: the runtime's (Triton 9000, TorchServe 7070).",
                           examples=[9000]),
        "knative_features": field(list_of(enum({
            "kubernetes.podspec-nodeselector": "Knative accepts `nodeSelector` (needed for a GPU `type`)."}),
            uniqueItems=True),
            "Knative `config-features` flags your cluster has enabled; Knative refuses the pod fields they "
            "guard otherwise.", examples=[["kubernetes.podspec-nodeselector"]]),
        "replicas": field(obj({
            "min": field({"type": "integer", "minimum": 0}, "Fewest replicas (`0` = scale to zero)."),
            "max": field({"type": "integer", "minimum": 1}, "Most replicas."),
        }, title="Replicas"), "How many model server replicas.", examples=[{"min": 1, "max": 5}]),
        "autoscaling": field(obj({
            "metric": field(enum({"rps": "Requests per second per replica.",
                                  "concurrency": "In-flight requests per replica.",
                                  "cpu": "CPU utilisation (%).", "memory": "Memory utilisation (%)."}),
                            "What the autoscaler watches."),
            "target": field({"type": "number", "exclusiveMinimum": 0}, "The target value per replica."),
        }, required=("metric", "target"), title="Autoscaling"), "Autoscaling metric and target."),
        "resources": field(ref("serving_resources"), "Resources per replica, plus `limits`."),
        "transformer": field(obj({
            "image": field(ref("image"), "The transformer's image."),
            "run": field(ref("run"), "Its command, as a list."),
            "env": field(ref("env"), "Its environment variables."),
            "resources": field(ref("serving_resources"), "Its resources."),
        }, required=("image",), title="Transformer"), "A pre/post-processing container in front of the model."),
        "rollout": field(obj({
            "strategy": field(enum({"canary": "Shift traffic in `steps`, checking `analysis` at each.",
                                    "blue_green": "Switch all traffic once the new version is ready.",
                                    "direct": "Replace the old version at once."}), "How a new version goes live."),
            "steps": field(list_of(ref("percent"), minItems=1), "Canary traffic steps, ending at `100%`.",
                           examples=[["10%", "50%", "100%"]]),
            "interval": field(ref("duration"), "Time at each step before the analysis decides."),
            "analysis": field(ref("expr"), "The condition the new revision must meet to continue (its own "
                                           "requests only, not the stable revision's).",
                              examples=["${{ serving.error_rate < 1% }}"]),
            "no_traffic": field(obj({
                "min_requests": field({"type": "integer", "minimum": 1},
                                      "Fewest requests the new revision must serve in a step for the analysis to "
                                      "judge it (default 10)."),
                "action": field(enum({"rollback": "Roll back: no evidence, no promotion (default).",
                                      "promote": "Promote on readiness alone, with a warning.",
                                      "probe": "Send `probe.requests` synthetic requests to the new revision, "
                                               "then judge."}), "What to do below `min_requests`."),
                "probe": field(obj({
                    "body": field(TEXT, "Repository path of the JSON request body to send (the serving "
                                        "protocol's predict/infer endpoint)."),
                    "requests": field({"type": "integer", "minimum": 1}, "How many requests (default "
                                                                        "`min_requests`)."),
                }, required=("body",), title="Probe"), "The synthetic requests of `action: probe`."),
            }, title="No traffic"), "When the new revision gets too few requests to judge (an idle staging).",
                examples=[{"min_requests": 20, "action": "probe", "probe": {"body": "tests/request.json"}}]),
        }, required=("strategy",), title="Rollout"), "How new model versions are rolled out."),
        "variants": field(list_of(ref("variant")), "An A/B split: other models and their traffic weights."),
    }, title="Serving"), {"variant": variant}


def _monitoring() -> Schema:
    alert = obj({
        "name": field(fmt(r"^[A-Z][A-Za-z0-9]*$", "an alert name in PascalCase", "HighLatency"),
                      "The alert's name, PascalCase as in Prometheus."),
        "when": field(ref("expr"), "When to fire: an expression over `serving.*` and `drift.*`.",
                      examples=["${{ serving.latency.p95 > 250ms }}"]),
        "for": field(ref("duration"), "How long the condition must hold before firing."),
        "severity": field(enum({"info": "For the record.", "warning": "Look soon.", "critical": "Page now."}),
                          "How urgent the alert is."),
        "summary": field(STRING, "One-line summary in the notification."),
        "description": field(STRING, "Longer text in the notification."),
        "runbook_url": field(ref("url"), "A link to what to do."),
        "labels": labels("Extra Prometheus labels on the alert."),
    }, required=("name", "when"), title="Alert",
        defaultSnippets=[{"label": "alert", "body": {"name": "${1:HighErrorRate}",
                                                     "when": "\\${{ ${2:serving.error_rate > 1%} }}",
                                                     "for": "${3:5m}", "severity": "${4:warning}"}}])
    drift = obj({
        "reference": field(ref("expr"), "The reference data: `${{ data.NAME }}`.", examples=["${{ data.reference }}"]),
        "method": field(enum({"psi": "Population stability index.", "ks": "Kolmogorov-Smirnov test.",
                              "wasserstein": "Wasserstein distance.", "chi2": "Chi-squared test."}),
                        "The drift statistic (default `psi`)."),
        "threshold": field({"type": "number", "exclusiveMinimum": 0}, "Drift above this value is significant."),
        "features": field(list_of(TEXT, minItems=1, uniqueItems=True), "Columns to watch; each must be in the "
                                                                       "reference's `schema`."),
        "schedule": field(ref("cron"), "When to compute drift (cron, 5 fields, UTC)."),
        "on_drift": field(enum({"retrain": "Start the retraining workflow.", "alert": "Only alert."}),
                          "What happens when drift is found."),
        "image": field(ref("image"), "The drift job's image: where CI pushes the one built from the generated "
                                     "`monitoring/drift/Dockerfile` (tagged with `metadata.version` when no tag is "
                                     "given), or your own image with `mlopsdsl[drift]` installed.",
                       examples=["ghcr.io/acme/churn-drift"]),
        "current": field(ref("expr"), "The current sample as a data source, `${{ data.NAME }}`, instead of the "
                                      "request log.", examples=["${{ data.live }}"]),
        "request_log": field(obj({
            "uri": field(TEXT, "Where KServe's payload logger writes the predictor's requests (its `url`): "
                               "`s3://bucket/prefix` (or `gs://`, `abfs://`).", examples=["s3://acme-ml/request-logs"]),
            "storage_key": field(TEXT, "The key in KServe's storage-config Secret with that bucket's credentials."),
            "path": field(TEXT, "The logger's `storage.path` (default `mlopsdsl`)."),
            "window": field(ref("duration"), "How far back each run reads (default `1d`)."),
        }, required=("uri", "storage_key"), title="Request log"),
            "The current sample: the requests KServe's logger stored (the predictor logs them when this is set)."),
        "credentials": field(list_of(ref("dns_label"), uniqueItems=True),
                             "Kubernetes Secrets (by name) whose keys become the job's environment, e.g. the "
                             "`AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY` that read the reference and the log.",
                             examples=[["s3-drift-reader"]]),
        "min_rows": field({"type": "integer", "minimum": 1}, "Fewest current rows to judge; fewer is no verdict "
                                                             "(default 50)."),
    }, required=("reference", "features"), title="Drift")
    dashboards = {"anyOf": [{"type": "boolean", "x-noun": "true or false"}, obj({
        "enabled": field(BOOL, "Generate the dashboard."),
        "folder": field(TEXT, "The Grafana folder."),
        "refresh": field(ref("duration"), "The dashboard's refresh interval."),
    }, title="Dashboards", **{"x-noun": "a mapping {enabled, folder, refresh}"})], "title": "Dashboards"}
    secret = ref("secret_name")
    notify = obj({
        "slack": field(obj({"channel": field(TEXT, "The channel, e.g. `#ml-alerts`."),
                            "webhook_secret": field(secret, "The secret (by name) holding the webhook URL.")},
                           required=("channel", "webhook_secret"), title="Slack"), "Notify a Slack channel."),
        "pagerduty": field(obj({"routing_key_secret": field(secret, "The secret (by name) holding the routing key.")},
                               required=("routing_key_secret",), title="PagerDuty"), "Page through PagerDuty."),
        "email": field(obj({"to": field(list_of(TEXT, minItems=1), "Recipients.")}, required=("to",),
                           title="Email"), "Send email."),
    }, title="Notify")
    return obj({
        "alerts": field(list_of(ref("alert")), "Prometheus alerting rules."),
        "drift": field(ref("drift"), "Data drift detection against a reference data set."),
        "dashboards": field(ref("dashboards"), "A Grafana dashboard: `true`, or `{enabled, folder, refresh}`."),
        "notify": field(ref("notify"), "Where alerts go."),
        "prometheus": field(obj({
            "rule_labels": labels("Labels the Prometheus operator selects rules by (default "
                                  "`{release: prometheus}`)."),
            "namespace": field(ref("dns_label"), "The namespace for the rules."),
        }, title="Prometheus"), "Prometheus operator settings."),
    }, title="Monitoring"), {"alert": alert, "drift": drift, "dashboards": dashboards, "notify": notify}


def _ci() -> Schema:
    branches = {
        "branches": field(list_of(TEXT), "Branch patterns."),
        "tags": field(list_of(TEXT), "Tag patterns."),
        "paths": field(list_of(TEXT), "Path patterns."),
    }
    trigger = obj(branches, title="Trigger")
    github = obj({
        "on": field(obj({
            "push": field(trigger, "On push."),
            "pull_request": field(trigger, "On pull requests."),
            "workflow_dispatch": field({"type": ["object", "null"]}, "Allow manual runs."),
        }, title="Triggers"), "When the CI workflow runs (GitHub `on:`).",
            examples=[{"push": {"branches": ["main"]}}]),
        "python": field(fmt(r"^(pypy)?[0-9]+(\.([0-9]+|x))*$", "a Python version", "\"3.11\""),
                        "The Python the project's `install` and `test` commands run on; quote it (`\"3.10\"` "
                        "unquoted is the number 3.1). mlopsdsl's own steps use `mlopsdsl.python`.", examples=["3.11"]),
        "mlopsdsl": field(ref("tool_install"), "Where the workflows install mlopsdsl from: a wheel URL "
                          "(`...whl#sha256=...`), a VCS URL pinned to a commit (`git+https://...@<sha>`), or "
                          "`{install: VERSION, index: URL}`. Never the public index by name.",
                          examples=["git+https://github.com/acme/mlopsdsl@0123456789abcdef0123456789abcdef01234567"]),
        "install": field(list_of(TEXT), "Commands that install the project."),
        "test": field(list_of(TEXT), "Commands that run the tests.", examples=[["pytest -q"]]),
        "runs_on": field(TEXT, "The runner label (default `ubuntu-latest`).", default="ubuntu-latest"),
        "train": field(obj({"on_branch": field(TEXT, "Train on pushes to this branch."),
                            "environment": field(ref("environment_name"), "The environment to train in.")},
                           title="Train"), "Run the training pipeline from CI."),
        "deploy": field(obj({"environments": field(list_of(ref("environment_name"), minItems=1),
                                                   "Environments to deploy to, in order.")},
                            required=("environments",), title="Deploy"), "Deploy after training."),
        "retrain": field(obj({"schedule": field(ref("cron"), "When to retrain (cron, UTC)."),
                              "environment": field(ref("environment_name"), "The environment to retrain in.")},
                             title="Retrain"), "Scheduled (and drift-triggered) retraining."),
    }, title="GitHub Actions")
    return obj({"github": field(github, "A GitHub Actions workflow.")}, title="CI")


INSTALL = fmt(r"^(https?://[^\s#]+\.whl(#sha256=[0-9a-f]{64})?|git\+https://[^\s@]+@[^\s@]+|"
              r"[0-9]+(\.[0-9]+)*((a|b|rc)[0-9]+)?(\.post[0-9]+)?(\.dev[0-9]+)?)$",
              "a wheel URL, a git+https URL with @ref, or a version",
              "git+https://github.com/acme/mlopsdsl@<commit>", title="mlopsdsl requirement")


def _tool_install() -> Schema:
    return {"anyOf": [{**INSTALL, "x-noun": "a wheel URL, a git+https URL or a version"}, obj({
        "install": field(INSTALL, "A wheel URL with `#sha256=`, `git+https://...@<commit>`, or a version "
                                  "(then `index` is required)."),
        "index": field(ref("url"), "The package index a version is installed from (`pip --index-url`)."),
        "python": field(fmt(r"^[0-9]+\.[0-9]+$", "a Python version", "\"3.12\""),
                        "The Python mlopsdsl's own steps run on (validate, compile, submit); at least 3.11 "
                        "(default `3.12`).", examples=["3.12"]),
    }, required=("install",), title="mlopsdsl install", **{"x-noun": "a mapping {install, index, python}"})],
            "title": "mlopsdsl install"}


def _environment() -> Schema:
    return obj({
        "namespace": field(ref("dns_label"), "The Kubernetes namespace."),
        "kfp_host": field(ref("url"), "The Kubeflow Pipelines endpoint."),
        "approval": field(BOOL, "Require a manual approval before deploying (GitHub environment protection)."),
        "url": field(ref("url"), "The environment's public URL."),
        "set": field(map_of({}, fmt(r"^[a-z_][a-z0-9_]*(\.[A-Za-z0-9_-]+)*$", "a dotted path",
                                    "serving.replicas.min")),
                     "Overrides by dotted path, type-checked like the fields they replace.",
                     examples=[{"serving.replicas.min": 4}]),
    }, title="Environment")


def _patch() -> Schema:
    op = obj({
        "op": field(enum({"add": "Insert `value` at `path`.", "remove": "Delete `path`.",
                          "replace": "Set `path` to `value`.", "move": "Move `from` to `path`.",
                          "copy": "Copy `from` to `path`.", "test": "Fail unless `path` equals `value`."}),
                    "The RFC 6902 operation."),
        "path": field(STRING, "A JSON Pointer, e.g. `/metadata/labels/team`."),
        "value": field({}, "The value (add, replace, test)."),
        "from": field(STRING, "The source pointer (move, copy)."),
    }, required=("op", "path"), title="JSON Patch operation")
    return obj({
        "target": field(fmt(r"^[a-z][a-z0-9_-]*$", "a backend name", "kserve"),
                        "The backend whose output is patched: `kubeflow`, `kserve`, `github`, `monitoring`..."),
        "file": field(TEXT, "A glob of generated files (relative to the backend's folder)."),
        "select": field(obj({"kind": field(TEXT, "The object's kind."), "name": field(TEXT, "The object's name.")},
                            title="Select"), "Which object in the files."),
        "json_patch": field(list_of(op, minItems=1), "RFC 6902 operations. Exactly one of `json_patch` or `merge`."),
        "merge": field({"type": "object"}, "An RFC 7386 merge patch. Exactly one of `json_patch` or `merge`."),
    }, required=("target",), title="Patch", oneOf=[{"required": ["json_patch"]}, {"required": ["merge"]}])


def defs() -> dict[str, Schema]:
    serving, serving_defs = _serving()
    monitoring, monitoring_defs = _monitoring()
    return {
        "serving": serving, **serving_defs, "monitoring": monitoring, **monitoring_defs,
        "ci": _ci(), "environment": _environment(), "patch": _patch(), "tool_install": _tool_install(),
        "environment_name": fmt(r"^[a-z][a-z0-9_-]*$", "an environment name", "staging", title="Environment name",
                                maxLength=40),
    }
