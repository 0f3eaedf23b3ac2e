"""`pipeline.schedule` -> `kubeflow/recurring-run.yaml`: a KFP recurring run, as the REST body of
`POST /apis/v2beta1/recurringruns` (KFP's `V2beta1RecurringRun`, snake_case as its API gateway
reads it) with the pipeline inlined, the way `kfp.Client.create_recurring_run` builds it.

KFP's cron (robfig/cron with seconds) has six fields; the spec's five-field schedule gets a
leading `0`. One run at a time (`max_concurrency: "1"`, an int64 as a JSON string) and no
catch-up after a pause: a retrain that missed a night runs once, not once per missed night. The
parameters take their defaults (MLD670 makes sure every one has one); `experiment_id` is chosen
at submit, like the namespace.
"""

from __future__ import annotations

from typing import Any

from mlopsdsl.ir import Project

OUTPUT_PATH = "kubeflow/recurring-run.yaml"


def kfp_cron(five_fields: str) -> str:
    return f"0 {five_fields}"


def recurring_run(project: Project, documents: list[Any]) -> dict[str, Any]:
    assert project.pipeline is not None and project.pipeline.schedule is not None
    pipeline = documents[0]
    if len(documents) > 1:  # the platform spec travels beside the pipeline spec, as kfp's client sends it
        pipeline = {"pipeline_spec": documents[0], "platform_spec": documents[1]}
    schedule = project.pipeline.schedule
    body = {
        "display_name": f"{project.name} on schedule",
        "description": f"{project.name} {project.version}, cron {schedule} (UTC)",
        "mode": "ENABLE",
        "max_concurrency": "1",
        "no_catchup": True,
        "trigger": {"cron_schedule": {"cron": kfp_cron(schedule)}},
        "runtime_config": {"parameters": {}},
        "pipeline_spec": pipeline,
    }
    return body


def header(provenance: str, schedule: str) -> str:
    return "\n".join([
        provenance,
        "Create it (the pipeline inside is the one in pipeline.yaml):",
        f"  kfp recurring-run create --experiment-name NAME --job-name NAME --pipeline-package-path kubeflow/pipeline.yaml "
        f"--cron-expression '{kfp_cron(schedule)}' --max-concurrency 1 --no-catchup",
        "or POST this body, with experiment_id set, to $KFP_HOST/apis/v2beta1/recurringruns",
    ])
