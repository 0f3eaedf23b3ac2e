"""Run one custom resource to completion from inside a pipeline step.

    python -m mlopsdsl.launch --manifest JSON [--poll SECONDS] [--result NAME=FILE ...]

KFP (and kfp-kubernetes) cannot create a custom resource, so a step that trains on
several nodes (a Kubeflow Trainer TrainJob, a KubeRay RayJob) or searches
hyperparameters (a Katib Experiment) runs this launcher instead. It creates the
resource in the pod's own namespace, polls it until it is finished, prints every
status change (the step's log is the job's progress), deletes it when the step is
cancelled (SIGTERM from Argo), and exits 0 on success, 1 on failure.

Standard library only, talking to the API server with the pod's service-account
token: the compiled pipeline runs this file's source with `python3 -c` in a plain
Python image (as KFP's own lightweight components do), so nothing has to be
installed in the cluster. The Role it needs is emitted beside the pipeline.
For an Experiment, `--result NAME=FILE` writes the best trial's parameter NAME
(or the objective metric NAME) to FILE: the KFP output parameters of the step.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import ssl
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any, Callable, Optional

SERVICE_ACCOUNT = "/var/run/secrets/kubernetes.io/serviceaccount"


@dataclass(frozen=True)
class Kind:
    plural: str
    outcome: Callable[[dict], Optional[bool]]  # status -> True (succeeded), False (failed), None (running)
    summary: Callable[[dict], str]


def _condition(status: dict, kind: str) -> bool:
    return any(c.get("type") == kind and c.get("status") == "True" for c in status.get("conditions") or ())


def _conditions_outcome(success: str) -> Callable[[dict], Optional[bool]]:
    def outcome(status: dict) -> Optional[bool]:
        if _condition(status, "Failed"):
            return False
        return True if _condition(status, success) else None
    return outcome


def _conditions_summary(status: dict) -> str:
    true = [c["type"] for c in status.get("conditions") or () if c.get("status") == "True"]
    return ", ".join(true) or "Pending"


def _ray_outcome(status: dict) -> Optional[bool]:
    # rayjob_types.go: JobDeploymentStatus Complete/Failed are terminal; JobStatus says how the job ended
    deployment = status.get("jobDeploymentStatus")
    if deployment == "Failed":
        return False
    if deployment == "Complete":
        return status.get("jobStatus") == "SUCCEEDED"
    return None


# apiVersion/kind -> how to follow it. Trainer v2.3.0: conditions Complete/Failed (trainjob_types.go);
# Katib v0.19.0: Succeeded/Failed (experiment_types.go); KubeRay v1.7.0: jobDeploymentStatus.
KINDS = {
    ("trainer.kubeflow.org/v1alpha1", "TrainJob"): Kind("trainjobs", _conditions_outcome("Complete"),
                                                        _conditions_summary),
    ("kubeflow.org/v1beta1", "Experiment"): Kind("experiments", _conditions_outcome("Succeeded"),
                                                 _conditions_summary),
    ("ray.io/v1", "RayJob"): Kind("rayjobs", _ray_outcome,
                                  lambda s: f"{s.get('jobDeploymentStatus', 'Pending')}/{s.get('jobStatus', '-')}"),
}


class Api:
    """The few calls the launcher makes, against the in-cluster API server (or `--server` in tests)."""

    def __init__(self, server: str, token: str, context: Optional[ssl.SSLContext]) -> None:
        self.server, self.token, self.context = server.rstrip("/"), token, context

    @classmethod
    def in_cluster(cls) -> "Api":
        host, port = os.environ["KUBERNETES_SERVICE_HOST"], os.environ["KUBERNETES_SERVICE_PORT"]
        with open(os.path.join(SERVICE_ACCOUNT, "token"), encoding="utf-8") as fh:
            token = fh.read().strip()
        context = ssl.create_default_context(cafile=os.path.join(SERVICE_ACCOUNT, "ca.crt"))
        return cls(f"https://{host}:{port}", token, context)

    def call(self, method: str, path: str, body: Optional[dict] = None) -> dict:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.server + path, data=data, method=method, headers={
            "Authorization": f"Bearer {self.token}", "Content-Type": "application/json",
            "Accept": "application/json"})
        with urllib.request.urlopen(request, context=self.context, timeout=60) as response:
            return json.loads(response.read() or b"{}")


def collection(manifest: dict, namespace: str) -> str:
    kind = KINDS[(manifest["apiVersion"], manifest["kind"])]
    return f"/apis/{manifest['apiVersion']}/namespaces/{namespace}/{kind.plural}"


def follow(api: Api, manifest: dict, namespace: str, poll: float, log: Callable[[str], None] = print,
           sleep: Callable[[float], None] = time.sleep) -> tuple[bool, dict]:
    """Create the resource and wait until it is finished; returns (succeeded, last object)."""
    kind = KINDS[(manifest["apiVersion"], manifest["kind"])]
    base = collection(manifest, namespace)
    created = api.call("POST", base, manifest)
    name = created["metadata"]["name"]
    log(f"mlopsdsl.launch: created {manifest['kind']} {namespace}/{name}")
    current = {"name": name, "path": f"{base}/{name}"}
    _on_cancel(api, current, log)
    last = ""
    while True:
        try:
            obj = api.call("GET", current["path"])
        except urllib.error.HTTPError as exc:
            if exc.code == 404:
                log(f"mlopsdsl.launch: {manifest['kind']} {name} was deleted by someone else")
                return False, {}
            if exc.code < 500:
                raise
            log(f"mlopsdsl.launch: API server answered {exc.code}; retrying")
            sleep(poll)
            continue
        status = obj.get("status") or {}
        summary = kind.summary(status)
        if summary != last:
            log(f"mlopsdsl.launch: {manifest['kind']} {name}: {summary}")
            last = summary
        outcome = kind.outcome(status)
        if outcome is not None:
            current.clear()  # finished: nothing to delete on a late SIGTERM
            return outcome, obj
        sleep(poll)


def _on_cancel(api: Api, current: dict, log: Callable[[str], None]) -> None:
    """Argo stops a cancelled step with SIGTERM: delete the job, or it would run on unwatched."""

    def handler(signum, frame):  # noqa: ARG001
        if current:
            log(f"mlopsdsl.launch: cancelled; deleting {current['name']}")
            try:
                api.call("DELETE", current["path"], {"propagationPolicy": "Background"})
            except (urllib.error.URLError, OSError) as exc:
                log(f"mlopsdsl.launch: delete failed: {exc}")
        sys.exit(143)

    signal.signal(signal.SIGTERM, handler)


def best_trial(experiment: dict, names: list[str]) -> dict[str, str]:
    """The best trial's parameter assignments and objective metrics, as text (Katib stores strings)."""
    optimal = (experiment.get("status") or {}).get("currentOptimalTrial") or {}
    values = {a["name"]: a["value"] for a in optimal.get("parameterAssignments") or ()}
    goal = ((experiment.get("spec") or {}).get("objective") or {}).get("type", "maximize")
    for metric in (optimal.get("observation") or {}).get("metrics") or ():
        values.setdefault(metric["name"], metric.get("max" if goal == "maximize" else "min", metric.get("latest")))
    missing = [n for n in names if n not in values]
    if missing:
        raise SystemExit(f"mlopsdsl.launch: the best trial has no value for {missing}")
    return {n: values[n] for n in names}


def trials(api: Api, experiment: dict, namespace: str) -> list[dict[str, Any]]:
    """Every trial of an Experiment (Katib labels them `katib.kubeflow.org/experiment`), as the
    Optuna engine writes them: number, params, value (the objective), metrics, state."""
    name = experiment["metadata"]["name"]
    found = api.call("GET", f"/apis/kubeflow.org/v1beta1/namespaces/{namespace}/trials"
                            f"?labelSelector=katib.kubeflow.org%2Fexperiment%3D{name}")
    objective = experiment["spec"]["objective"]["objectiveMetricName"]
    out = []
    for item in sorted(found.get("items") or (), key=lambda t: t["metadata"].get("creationTimestamp", "")):
        status = item.get("status") or {}
        metrics = {m["name"]: m.get("latest") for m in (status.get("observation") or {}).get("metrics") or ()}
        state = next((c["type"] for c in reversed(status.get("conditions") or ()) if c.get("status") == "True"),
                     "Pending")
        out.append({"number": len(out), "name": item["metadata"]["name"], "state": state,
                    "params": {a["name"]: a["value"] for a in item["spec"].get("parameterAssignments") or ()},
                    "value": metrics.get(objective), "metrics": metrics})
    return out


def main(argv: Optional[list[str]] = None, api: Optional[Api] = None) -> int:
    parser = argparse.ArgumentParser(prog="mlopsdsl.launch", description=__doc__.split("\n\n")[0])
    parser.add_argument("--manifest", required=True, help="the resource, as JSON")
    parser.add_argument("--namespace", help="default: the pod's own namespace")
    parser.add_argument("--poll", type=float, default=15.0, help="seconds between status reads")
    parser.add_argument("--result", action="append", default=[], metavar="NAME=FILE",
                        help="Experiment only: write the best trial's parameter or metric NAME to FILE")
    parser.add_argument("--trials-file", help="Experiment only: write every trial, as JSON, to this file")
    parser.add_argument("--server", help=argparse.SUPPRESS)  # tests: a stand-in API server, no TLS
    args = parser.parse_args(argv)
    manifest = json.loads(args.manifest)
    if (manifest.get("apiVersion"), manifest.get("kind")) not in KINDS:
        parser.error(f"cannot follow {manifest.get('apiVersion')} {manifest.get('kind')}")
    if api is None:
        api = Api(args.server, "", None) if args.server else Api.in_cluster()
    namespace = args.namespace
    if namespace is None:
        with open(os.path.join(SERVICE_ACCOUNT, "namespace"), encoding="utf-8") as fh:
            namespace = fh.read().strip()
    ok, obj = follow(api, manifest, namespace, args.poll, log=lambda m: print(m, flush=True))
    if not ok:
        print(f"mlopsdsl.launch: {manifest['kind']} failed", file=sys.stderr, flush=True)
        return 1
    results = dict(item.split("=", 1) for item in args.result)
    for name, value in best_trial(obj, list(results)).items() if results else ():
        os.makedirs(os.path.dirname(results[name]) or ".", exist_ok=True)
        with open(results[name], "w", encoding="utf-8") as fh:
            fh.write(str(value))
    if args.trials_file:
        os.makedirs(os.path.dirname(args.trials_file) or ".", exist_ok=True)
        with open(args.trials_file, "w", encoding="utf-8") as fh:
            json.dump(trials(api, obj, namespace), fh, sort_keys=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
