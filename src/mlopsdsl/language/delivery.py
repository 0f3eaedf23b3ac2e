"""How a project ships: `ci:` (GitHub Actions), `environments:` and `patches:`."""

from __future__ import annotations

from mlopsdsl.language import steps
from mlopsdsl.language.formats import fmt
from mlopsdsl.language.table import BOOL, STRING, TEXT, Def, Field, Section, enum, front_end, list_of, map_of, ref

ENVIRONMENT_NAME = Def("environment_name", fmt(r"^[a-z][a-z0-9_-]*$", "an environment name", "staging",
                                               title="Environment name", maxLength=40))

_PATTERNS = {
    "branches": Field(list_of(TEXT), "Branch patterns.", "GitHubCI.on"),
    "tags": Field(list_of(TEXT), "Tag patterns.", "GitHubCI.on"),
    "paths": Field(list_of(TEXT), "Path patterns.", "GitHubCI.on"),
}
_INSTALL = fmt(r"^(https?://[^\s#]+\.whl(#sha256=[0-9a-f]{64})?|git\+https://[^\s@]+@[^\s@]+|"
               r"[0-9]+(\.[0-9]+)*((a|b|rc)[0-9]+)?(\.post[0-9]+)?(\.dev[0-9]+)?)$",
               "a wheel URL, a git+https URL with @ref, or a version",
               "git+https://github.com/acme/mlopsdsl@<commit>", title="mlopsdsl requirement")
TOOL_INSTALL = Def("tool_install", {"anyOf": [{**_INSTALL, "x-noun": "a wheel URL, a git+https URL or a version"},
                                              Section("mlopsdsl install", schema={
                                                  "x-noun": "a mapping {install, index, python}"}, fields={
    "install": Field(_INSTALL, "A wheel URL with `#sha256=`, `git+https://...@<commit>`, or a version (then `index` "
                               "is required).", "ToolInstall.requirement", required=True, docs_type="requirement"),
    "index": Field(ref("url"), "The package index a version is installed from (`pip --index-url`).",
                   "ToolInstall.index"),
    "python": Field(fmt(r"^[0-9]+\.[0-9]+$", "a Python version", "\"3.12\""),
                    "The Python mlopsdsl's own steps run on (validate, compile, submit); at least 3.11 "
                    "(MLD686).",
                    "ToolInstall.python", default="3.12", schema={"examples": ["3.12"]}),
})], "title": "mlopsdsl install"})
TRIGGERS = Section("Triggers", fields={
    "push": Field(Section("Trigger", fields=_PATTERNS), "On push.", "GitHubCI.on"),
    "pull_request": Field(Section("Trigger", fields=_PATTERNS), "On pull requests.", "GitHubCI.on"),
    "workflow_dispatch": Field({"type": ["object", "null"]}, "Allow manual runs.", "GitHubCI.on"),
})
GITHUB = Section("GitHub Actions", fields={
    "on": Field(TRIGGERS, "When the CI workflow runs (GitHub `on:`).", "GitHubCI.on",
                default={"push": {"branches": ["main"]}, "pull_request": {}},
                docs_type="`{push, pull_request, workflow_dispatch}`; `push` and `pull_request` take "
                          "`{branches, tags, paths}`",
                schema={"examples": [{"push": {"branches": ["main"]}}]}),
    "python": Field(fmt(r"^(pypy)?[0-9]+(\.([0-9]+|x))*$", "a Python version", "\"3.11\""),
                    "The Python the project's `install` and `test` commands run on; quote it (`\"3.10\"` unquoted "
                    "is the number 3.1). mlopsdsl's own steps use `mlopsdsl.python`.", "GitHubCI.python",
                    default="3.11", docs_type="version text", schema={"examples": ["3.11"]}),
    "mlopsdsl": Field(TOOL_INSTALL, "Where the workflows install mlopsdsl from: a wheel URL (`...whl#sha256=...`), a "
                                    "VCS URL pinned to a commit (`git+https://...@<sha>`), or `{install: VERSION, "
                                    "index: URL}` (a version alone: MLD688; an unpinned URL: MLD687). Never "
                                    "the public index by name. Required by the `github` target (MLD685).",
                      "GitHubCI.mlopsdsl",
                      docs_type="requirement text, or `{install, index, python}`",
                      schema={"examples": ["git+https://github.com/acme/mlopsdsl@"
                                           "0123456789abcdef0123456789abcdef01234567"]}),
    "install": Field(list_of(TEXT), "Commands that install the project.", "GitHubCI.install",
                     docs_type="list of commands"),
    "test": Field(list_of(TEXT), "Commands that run the tests.", "GitHubCI.test", docs_type="list of commands",
                  schema={"examples": [["pytest -q"]]}),
    "env": Field(steps.ENV, "Environment variables of the `install` and `test` commands (and only those): text, "
                            "or `${{ secrets.NAME }}` for the repository secret `NAME` in upper case (a `dvc pull` "
                            "credential). GitHub gives no secret to a pull request from a fork.", "GitHubCI.env",
                 context="ci_env", docs_type="map NAME -> text",
                 schema={"examples": [{"AWS_SECRET_ACCESS_KEY": "${{ secrets.dvc_secret_key }}"}]}),
    "runs_on": Field(TEXT, "The runner label.", "GitHubCI.runs_on", default="ubuntu-latest"),
    "train": Field(Section("Train", fields={
        "on_branch": Field(TEXT, "Train on pushes to this branch.", "GitHubCI.train_on_branch"),
        "environment": Field(ENVIRONMENT_NAME, "The environment to train in.", "GitHubCI.train_environment"),
    }), "Run the training pipeline from CI.", "GitHubCI", docs_type="`{on_branch, environment}`"),
    "deploy": Field(Section("Deploy", fields={
        "environments": Field(list_of(ENVIRONMENT_NAME, minItems=1), "Environments to deploy to, in order.",
                              "GitHubCI.deploy_environments", required=True),
    }), "Deploy after training.", "GitHubCI", docs_type="`{environments}`"),
    "retrain": Field(Section("Retrain", fields={
        "schedule": Field(ref("cron"), "When to retrain (cron, UTC).", "GitHubCI.retrain_schedule"),
        "environment": Field(ENVIRONMENT_NAME, "The environment to retrain in.", "GitHubCI.retrain_environment"),
    }), "Scheduled retraining in `environment`; drift-triggered retraining in the "
                                                   "environment that drifted.", "GitHubCI", docs_type="`{schedule, environment}`"),
})
CI = Section("CI", name="ci", fields={
    "github": Field(GITHUB, "A GitHub Actions workflow.", "Project.ci"),
})

ENVIRONMENT = Section("Environment", name="environment", fields={
    "namespace": Field(ref("dns_label"), "The Kubernetes namespace.", "Environment.namespace", default="default"),
    "kfp_host": Field(ref("url"), "The Kubeflow Pipelines endpoint.", "Environment.kfp_host"),
    "approval": Field(BOOL, "Require a manual approval before deploying (GitHub environment protection).",
                      "Environment.approval", default=False),
    "url": Field(ref("url"), "The environment's public URL.", "Environment.url"),
    "set": Field(map_of({}, fmt(r"^[a-z_][a-z0-9_]*(\.[A-Za-z0-9_-]+)*$", "a dotted path", "serving.replicas.min")),
                 "Overrides by dotted path, type-checked like the fields they replace.",
                 front_end("applied to the spec before it is checked for `--env`"),
                 docs_type="map dotted path -> value", schema={"examples": [{"serving.replicas.min": 4}]}),
})

JSON_PATCH_OP = Section("JSON Patch operation", fields={
    "op": Field(enum({"add": "Insert `value` at `path`.", "remove": "Delete `path`.",
                      "replace": "Set `path` to `value`.", "move": "Move `from` to `path`.",
                      "copy": "Copy `from` to `path`.", "test": "Fail unless `path` equals `value`."}),
                "The RFC 6902 operation.", "Patch.json_patch", required=True),
    "path": Field(STRING, "A JSON Pointer, e.g. `/metadata/labels/team`.", "Patch.json_patch", required=True),
    "value": Field({}, "The value (add, replace, test).", "Patch.json_patch"),
    "from": Field(STRING, "The source pointer (move, copy).", "Patch.json_patch"),
})
PATCH = Section("Patch", name="patch", schema={"oneOf": [{"required": ["json_patch"]}, {"required": ["merge"]}]},
                fields={
    "target": Field(fmt(r"^[a-z][a-z0-9_-]*$", "a backend name", "kserve"),
                    "The backend whose output is patched: `kubeflow`, `kserve`, `github`, `monitoring`...",
                    "Patch.target", required=True, docs_type="backend name"),
    "file": Field(TEXT, "A glob of generated files (relative to the backend's folder).", "Patch.file",
                  docs_type="glob"),
    "select": Field(Section("Select", fields={
        "kind": Field(TEXT, "The object's kind.", "Patch.kind"),
        "name": Field(TEXT, "The object's name.", "Patch.name"),
    }), "Which object in the files.", "Patch", docs_type="`{kind, name}`"),
    "json_patch": Field(list_of(JSON_PATCH_OP, minItems=1),
                        "RFC 6902 operations. Exactly one of `json_patch` or `merge`.", "Patch.json_patch",
                        docs_type="list of RFC 6902 operations `{op, path, value, from}`"),
    "merge": Field({"type": "object"}, "An RFC 7386 merge patch. Exactly one of `json_patch` or `merge`.",
                   "Patch.merge", docs_type="mapping"),
})

