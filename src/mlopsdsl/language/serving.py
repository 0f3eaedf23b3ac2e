"""`serving:`: the model server, its scaling, rollout and A/B variants."""

from __future__ import annotations

from mlopsdsl.language import steps
from mlopsdsl.language.table import TEXT, Def, Field, Section, enum, list_of, ref

FRAMEWORKS = {
    "sklearn": "scikit-learn (served by KServe's sklearn runtime).",
    "xgboost": "XGBoost.", "lightgbm": "LightGBM.", "pytorch": "PyTorch (TorchServe).",
    "tensorflow": "TensorFlow SavedModel (TF Serving).", "onnx": "ONNX (Triton or ONNX Runtime).",
    "huggingface": "Hugging Face transformers (KServe's huggingface runtime).",
    "triton": "A Triton model repository.", "custom": "Your own serving image.",
}
FRAMEWORK = Def("framework", enum(FRAMEWORKS, title="Framework"))

VARIANT = Section("Variant", name="variant", fields={
    "name": Field(ref("dns1035_label"), "The variant's name (DNS-1035 label).", "Variant.name", required=True),
    "storage_uri": Field(ref("storage_uri"), "Where this variant's model files are.", "Variant.storage_uri",
                         required=True),
    "weight": Field(ref("percent"), "Share of the traffic, e.g. `20%`; the main model gets the rest.", "Variant.weight",
                    required=True),
    "framework": Field(FRAMEWORK, "The variant's framework, when it differs from `model.framework`.",
                       "Variant.framework"),
    "version": Field(TEXT, "The variant model's version: its own `app.kubernetes.io/version` label (left out when "
                           "not given, never the primary's).", "Variant.version", schema={"examples": ["1.0.0"]}),
    "resources": Field(steps.RESOURCES, "The variant's resources, when they differ.", "Variant.resources"),
})

REPLICAS = Section("Replicas", fields={
    "min": Field({"type": "integer", "minimum": 0}, "Fewest replicas (`0` = scale to zero).", "Serving.min_replicas",
                 default=1),
    "max": Field({"type": "integer", "minimum": 1}, "Most replicas, at least `min` (default: `min`, at least 1).",
                 "Serving.max_replicas"),
})
AUTOSCALING = Section("Autoscaling", fields={
    "metric": Field(enum({"rps": "Requests per second per replica.", "concurrency": "In-flight requests per replica.",
                          "cpu": "CPU utilisation (%).", "memory": "Memory utilisation (%)."}),
                    "What the autoscaler watches.", "Serving.autoscale_metric", required=True),
    "target": Field({"type": "number", "exclusiveMinimum": 0}, "The target value per replica.",
                    "Serving.autoscale_target", required=True),
})
TRANSFORMER = Section("Transformer", fields={
    "image": Field(ref("image"), "The transformer's image.", "Transformer.image", required=True),
    "run": Field(steps.RUN, "Its command, as a list.", "Transformer.command"),
    "env": Field(steps.ENV, "Its environment variables.", "Transformer.env", context="step_env"),
    "resources": Field(steps.RESOURCES, "Its resources.", "Transformer.resources"),
})
ROLLOUT = Section("Rollout", fields={
    "strategy": Field(enum({"canary": "Shift traffic in `steps`, checking `analysis` at each.",
                            "blue_green": "Switch all traffic once the new version is ready.",
                            "direct": "Replace the old version at once."}), "How a new version goes live.",
                      "Rollout.strategy", required=True),
    "steps": Field(list_of(ref("percent"), minItems=1), "Canary traffic steps, ending at `100%`.", "Rollout.steps",
                   schema={"examples": [["10%", "50%", "100%"]]}),
    "interval": Field(ref("duration"), "Time at each step before the analysis decides.", "Rollout.interval"),
    "analysis": Field(ref("expr"), "The condition the new revision must meet to continue (its own requests only, "
                                   "not the stable revision's).", "Rollout.analysis",
                      context="rollout_analysis", schema={"examples": ["${{ serving.error_rate < 1% }}"]}),
    "no_traffic": Field(Section("No traffic", fields={
        "min_requests": Field({"type": "integer", "minimum": 1}, "Fewest requests the new revision must serve within the "
                                                                 "gate's window (the step `interval` rounded up to "
                                                                 "minutes, at least 2m) for the analysis to judge it.",
                              "NoTraffic.min_requests", default=10),
        "action": Field(enum({"rollback": "Roll back: no evidence, no promotion.",
                              "promote": "Promote on readiness alone, with a warning.",
                              "probe": "Send `probe.requests` synthetic requests to the new revision, then judge."}),
                        "What to do below `min_requests`: `probe` needs a REST protocol (MLD608).",
                        "NoTraffic.action", default="rollback"),
        "probe": Field(Section("Probe", fields={
            "body": Field(TEXT, "Repository path of the JSON request body to send (the serving protocol's "
                                "predict/infer endpoint).", "NoTraffic.probe_body", required=True),
            "requests": Field({"type": "integer", "minimum": 1}, "How many requests (default `min_requests`).",
                              "NoTraffic.probe_requests"),
        }), "The synthetic requests of `action: probe`.", "NoTraffic", docs_type="`{body, requests}`"),
    }), "When the new revision gets too few requests to judge (an idle staging).", "Rollout.no_traffic",
        docs_type="`{min_requests, action, probe}`",
        schema={"examples": [{"min_requests": 20, "action": "probe", "probe": {"body": "tests/request.json"}}]}),
})

SERVING = Section("Serving", name="serving", fields={
    "name": Field(ref("dns1035_label"), "The InferenceService name (DNS-1035 label: starts with a letter).",
                  "Serving.name", required=True),
    "model": Field(ref("expr"), "The model to serve: `${{ steps.S.outputs.O }}` of type `Model`.",
                   "Serving.model_step", context="serving_model",
                   schema={"examples": ["${{ steps.train.outputs.model }}"]}),
    "storage_uri": Field(ref("storage_uri"), "Where the model files are published; may interpolate "
                                             "`${{ metadata.version }}`. The `kserve` target refuses a spec without "
                                             "one (MLD614).", "Serving.storage_uri"),
    "storage_secret": Field(ref("dns_label"), "A Kubernetes Secret with storage credentials (becomes a "
                                              "ServiceAccount).", "Serving.storage_secret"),
    "protocol": Field(enum({"v1": "KServe V1 REST.", "v2": "Open Inference Protocol (REST).",
                            "grpc-v2": "Open Inference Protocol over gRPC."}), "The inference protocol.",
                      "Serving.protocol", default="v1"),
    "deployment_mode": Field(enum({"serverless": "Knative: scale to zero, request autoscaling, canaries.",
                                   "raw": "Plain Deployment and HPA."}),
                             "How KServe deploys the model.", "Serving.deployment_mode", default="serverless"),
    "metrics": Field(enum({
        "knative-otel": "Knative Serving 1.19+ (what KServe v0.20 installs): the queue-proxy's "
                        "`kn_serving_invocation_duration_seconds`, per revision.",
        "knative-opencensus": "Knative Serving up to 1.18: `revision_request_count` and "
                              "`revision_request_latencies` (milliseconds), per revision.",
        "kserve-model-server": "KServe's Python model server (`request_predict_seconds`): latency and rps, no status "
                               "codes, so no `serving.error_rate`.",
        "istio": "The Istio sidecar's standard metrics (`istio_requests_total`); needs sidecar injection."}),
        "Which exporter the `serving.*` SLIs (alerts, dashboard, rollout gate) are read from. Default: `knative-otel` "
        "when serverless, `kserve-model-server` when raw (what KServe v0.20 installs). Without status codes (the "
        "model server) there is no `serving.error_rate` (MLD607); Knative sources only in serverless mode "
        "(MLD609). Names and sources: docs/targets/monitoring.md.", "Serving.metrics", schema={"examples": ["knative-otel"]}),
    "runtime": Field(ref("dns_label"), "A ServingRuntime name, to override the one chosen from the framework.",
                     "Serving.runtime"),
    "grpc_port": Field({"type": "integer", "minimum": 1, "maximum": 65535},
                       "With `protocol: grpc-v2`, the container port the model server's gRPC listens on (declared as "
                       "Knative's `h2c` port). Default: the runtime's (Triton 9000, TorchServe 7070).",
                       "Serving.grpc_port", schema={"examples": [9000]}),
    "knative_features": Field(list_of(enum({
        "kubernetes.podspec-nodeselector": "Knative accepts `nodeSelector` (needed for a GPU `type`)."}),
        uniqueItems=True),
        "Knative `config-features` flags your cluster has enabled; Knative refuses the pod fields they guard "
        "otherwise.", "Serving.knative_features", schema={"examples": [["kubernetes.podspec-nodeselector"]]}),
    "replicas": Field(REPLICAS, "How many model server replicas.", "Serving", docs_type="`{min, max}`",
                      schema={"examples": [{"min": 1, "max": 5}]}),
    "autoscaling": Field(AUTOSCALING, "Autoscaling metric and target.", "Serving", docs_type="`{metric, target}`"),
    "resources": Field(steps.RESOURCES, "Resources per replica, plus `limits`.", "Serving.resources",
                       docs_type="`{cpu, memory, gpu, limits}`"),
    "transformer": Field(TRANSFORMER, "A pre/post-processing container in front of the model.", "Serving.transformer",
                         docs_type="`{image, run, env, resources}`"),
    "rollout": Field(ROLLOUT, "How new model versions are rolled out (without it: `direct`).", "Serving.rollout",
                     docs_type="`{strategy, steps, interval, analysis, no_traffic}`"),
    "variants": Field(list_of(VARIANT), "An A/B split: other models and their traffic weights (the split speaks REST v1/v2 "
                                               "only).", "Serving.variants",
                      docs_type="list of `{name, storage_uri, weight, framework, version, resources}`"),
})
