"""Which model a deploy serves: the `model` of the dispatch, checked, handed to `compile --model`.

A deploy is started two ways, and both name the model the same way: `workflow_dispatch` with the
input `model`, and `repository_dispatch` of type `mlopsdsl-deploy-<project>` with
`client_payload.model`, which the pipeline's gated step sends once a model passed its gate and
was published (the churn example's register step). Either is the storage URI of that one
version (`s3://bucket/models/churn/1.4.0/v7/`), and every environment's job compiles the
InferenceService with exactly it (`mlopsdsl compile ... --model URI`, served_model.py), so
staging and, after its approval, production serve the same files.

The value is text the dispatcher chooses. It reaches the step only through `env:` (never `${{ }}`
in the script) and the step refuses, before anything is compiled or applied, whatever is not a
URI KServe's storage initializer loads written in characters that mean nothing to a shell
(`MODEL_PATTERN`); the refusal prints the value quoted by `printf %q`, on one line, so it cannot
pose as a workflow command. A `models:/NAME/VERSION` is refused too: the runner is outside the
cluster and usually cannot reach the registry, so the sender resolves the version to its files
before it sends. A manual deploy may leave the model empty: the job then serves the spec's
`serving.storage_uri` (a deploy of the spec as committed); a dispatch must name one, since a
sender that lost its model is a bug and the spec's fixed URI is not the model it meant.
"""

from __future__ import annotations

from typing import Any

from mlopsdsl.backends import events
from mlopsdsl.backends.k8s import STORAGE_SCHEMES
from mlopsdsl.backends.github import jobs
from mlopsdsl.backends.github.shell import Context, Env, Input, Script, run_step
from mlopsdsl.ir import Environment, Project

__all__ = ["MODEL_INPUT", "MODEL_PATTERN", "compile_step", "model_input"]

MODEL_INPUT = "model"  # the workflow_dispatch input
MODEL_PAYLOAD = f"github.event.client_payload.{events.DEPLOY_MODEL_KEY}"
# A storage URI KServe loads, at most 1024 characters of unreserved, path and sub-delimiter
# characters: no space, quote, `$`, backtick, `;`, `&`, `|`, `<`, `>`, `(`, `)`, `*`, `?`, `#`,
# backslash or control character, and no leading `-` (the scheme comes first).
MODEL_PATTERN = "^(" + "|".join(STORAGE_SCHEMES) + ")://[A-Za-z0-9._~/@:+=,%-]{1,1024}$"

_SCRIPT_HEAD = '''\
if [ "$GITHUB_EVENT_NAME" = repository_dispatch ]; then
  model="$MLOPSDSL_MODEL_PAYLOAD"
  if [ -z "$model" ]; then
    echo "::error::the deploy dispatch names no model (client_payload.model): nothing is deployed"
    exit 1
  fi
else
  model="$MLOPSDSL_MODEL_INPUT"
fi
if [ -z "$model" ]; then
  echo "::notice::no model given: deploying the spec's serving.storage_uri"
'''
_SCRIPT_REFUSE = '''\
else
  printf '::error::the model to deploy must be a storage URI KServe loads (%s, matching %s), not %q\\n' \\
    "$MLOPSDSL_MODEL_SCHEMES" "$MLOPSDSL_MODEL_PATTERN" "${model:0:200}"
  exit 1
fi
'''


def model_input() -> dict[str, Any]:
    """The `workflow_dispatch` input a person deploys a model with."""
    return {MODEL_INPUT: {"description": "Storage URI of the model version to serve (s3://..., gs://...; "
                                         "empty: the spec's serving.storage_uri)",
                          "required": False, "type": "string"}}


def compile_step(project: Project, environment: Environment) -> dict[str, Any]:
    """Compile the environment's InferenceService serving the dispatched model, refused unless well formed."""
    env = Env()
    env.bind("MLOPSDSL_MODEL_INPUT", Input(MODEL_INPUT))
    env.bind("MLOPSDSL_MODEL_PAYLOAD", Context(MODEL_PAYLOAD))
    env.bind("MLOPSDSL_MODEL_PATTERN", MODEL_PATTERN)
    env.bind("MLOPSDSL_MODEL_SCHEMES", ", ".join(f"{s}://" for s in STORAGE_SCHEMES))
    command = jobs.compile_command(env, project, environment, "kserve")
    script = Script().text(_SCRIPT_HEAD)
    script.line("  " + command[0], *command[1:])
    script.line('elif [[ "$model" =~ $MLOPSDSL_MODEL_PATTERN ]]; then')
    script.line('  echo "Deploying the model at $model"')
    script.line("  " + command[0], *command[1:], '--model "$model"')
    script.text(_SCRIPT_REFUSE)
    return run_step(f"Compile kserve for {environment.name}", script, env, shell="bash")
