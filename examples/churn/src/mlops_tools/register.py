"""Register a model directory in the MLflow model registry and publish its files for serving.

1. logs the files as a run's `model` artifacts and creates a new version of --name from them;
2. tags the version with the decision threshold and points the alias --stage (lowercased) at it
   (MLflow 3 replaced stages by aliases; `models:/NAME@staging` resolves to this version);
3. copies the files to --publish-to/v<VERSION>/: a new, immutable prefix per version, so a
   retrain never overwrites what is being served;
4. writes the version number to --version-out;
5. with --deploy-repository, asks that GitHub repository to deploy exactly this version: a
   `repository_dispatch` of type --deploy-event whose `client_payload.model` is the published
   URI (the generated deploy workflow serves it). The step runs only inside the pipeline's gate
   (`when:`), so only a model that passed it is ever sent. The token is GITHUB_TOKEN (a Secret by
   name in the spec); GITHUB_API_URL points elsewhere for GitHub Enterprise.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import urllib.request
from pathlib import Path
from urllib.parse import urlparse


def publish(model_dir: Path, prefix: str, version: str) -> str:
    parsed = urlparse(prefix)
    if parsed.scheme not in ("", "file"):
        raise SystemExit(f"register: publishing to {parsed.scheme}:// needs the image's object-store client; "
                         f"this build copies to local paths and file:// URIs")
    target = Path(parsed.path if parsed.scheme else prefix) / f"v{version}"
    if target.exists():
        raise SystemExit(f"register: {target} exists; published versions are immutable")
    shutil.copytree(model_dir, target)
    return str(target)


def published_uri(prefix: str, version: str, where: str) -> str:
    """What serving loads: the object-store URI of the version's prefix (a local publish: its absolute path)."""
    return f"{prefix.rstrip('/')}/v{version}/" if urlparse(prefix).scheme not in ("", "file") \
        else str(Path(where).resolve())


def dispatch_deploy(repository: str, event_type: str, payload: dict) -> None:
    api = os.environ.get("GITHUB_API_URL", "https://api.github.com").rstrip("/")
    body = json.dumps({"event_type": event_type, "client_payload": payload}).encode()
    request = urllib.request.Request(f"{api}/repos/{repository}/dispatches", data=body, method="POST",
                                     headers={"Authorization": f"Bearer {os.environ['GITHUB_TOKEN']}",
                                              "Accept": "application/vnd.github+json",
                                              "X-GitHub-Api-Version": "2022-11-28",
                                              "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30):  # noqa: S310 - the GitHub API; 204 on success
        pass


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--model", required=True)
    ap.add_argument("--name", required=True)
    ap.add_argument("--stage", default="Staging")
    ap.add_argument("--threshold", type=float)
    ap.add_argument("--publish-to", required=True)
    ap.add_argument("--version-out", required=True)
    ap.add_argument("--deploy-repository", default="", help="OWNER/REPO to dispatch the deploy to; empty: none")
    ap.add_argument("--deploy-event", default="", help="the repository_dispatch type of its deploy workflow")
    args = ap.parse_args()
    if not os.environ.get("MLFLOW_TRACKING_URI"):
        raise SystemExit("register: MLFLOW_TRACKING_URI is not set; there is no registry to register in")
    if args.deploy_repository and not (os.environ.get("GITHUB_TOKEN") and args.deploy_event):
        # refused before registering: a version registered but never deployed would go unnoticed
        raise SystemExit("register: --deploy-repository needs GITHUB_TOKEN (the deploy token Secret) "
                         "and --deploy-event")
    import mlflow
    from mlflow import MlflowClient

    client = MlflowClient()
    with mlflow.start_run(run_name="register") as run:
        mlflow.log_artifacts(args.model, artifact_path="model")
        if args.threshold is not None:
            mlflow.log_param("threshold", args.threshold)
    if not client.search_registered_models(filter_string=f"name = '{args.name}'"):
        client.create_registered_model(args.name)
    version = client.create_model_version(args.name, source=f"{run.info.artifact_uri}/model",
                                          run_id=run.info.run_id).version
    if args.threshold is not None:
        client.set_model_version_tag(args.name, version, "threshold", str(args.threshold))
    client.set_registered_model_alias(args.name, args.stage.lower(), version)
    where = publish(Path(args.model), args.publish_to, str(version))
    Path(args.version_out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.version_out).write_text(str(version))
    print(f"register: {args.name} version {version} (alias {args.stage.lower()}), published to {where}")
    if args.deploy_repository:
        model = published_uri(args.publish_to, str(version), where)
        dispatch_deploy(args.deploy_repository, args.deploy_event,
                        {"model": model, "registered_model": args.name, "version": str(version)})
        print(f"register: asked {args.deploy_repository} to deploy {model} ({args.deploy_event})")


if __name__ == "__main__":
    main()
