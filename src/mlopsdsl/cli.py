"""The command line: one function per command.

Exit codes: 0 clean (warnings allowed), 1 errors found in a spec, 2 usage, I/O
or internal error. An internal error prints one line and how to report it,
never a traceback (``--debug`` shows it).
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
from typing import NoReturn, Sequence

from mlopsdsl.exits import EXIT_OK, EXIT_USAGE

EXAMPLES = """\
examples:
  mlopsdsl validate examples/churn/churn.yaml
  mlopsdsl validate specs/*.yaml --format github      # annotations in a GitHub PR
  mlopsdsl compile examples/churn/churn.yaml --out build/ --env staging
  mlopsdsl schema --out mlopsdsl.schema.json          # for editors
  mlopsdsl graph examples/churn/churn.yaml --format mermaid
  mlopsdsl lsp                                        # the language server, started by an editor
  mlopsdsl run examples/minimal/minimal.yaml --env local   # on this machine (pip install 'mlopsdsl[run]')
"""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse exits 2 already; keep its message short
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"mlopsdsl: error: {message}\n")


class _Version(argparse.Action):
    """Lists installed targets too; computed only when asked, from package metadata (no backend imports)."""

    def __call__(self, parser, namespace, values, option_string=None) -> None:
        from mlopsdsl.backends.registry import version_text

        sys.stdout.write(version_text())
        parser.exit(EXIT_OK)


def _environment_name(text: str) -> str:
    if not text.strip():
        raise argparse.ArgumentTypeError("an environment name is required (leave --env out for the base spec)")
    return text


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, got {text!r}")
    return value


def build_parser() -> argparse.ArgumentParser:
    from mlopsdsl.diagnostics.render import FORMATS

    parser = _Parser(prog="mlopsdsl", description="Check and compile mlopsdsl specs.",
                     epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action=_Version, nargs=0, help="show the version and installed targets")
    parser.add_argument("--debug", action="store_true", help="show tracebacks of internal errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    def diagnostics_options(p: argparse.ArgumentParser) -> None:
        p.add_argument("--format", choices=FORMATS, default="text",
                       help="how diagnostics are printed (default: text)")
        p.add_argument("--color", choices=("auto", "always", "never"), default="auto",
                       help="colour text diagnostics (auto: on a terminal, unless NO_COLOR is set)")

    p = sub.add_parser("validate", help="check specs and report every problem",
                       description="Check one or more specs; exit 1 if any has errors.")
    p.add_argument("specs", nargs="+", metavar="SPEC")
    p.add_argument("--env", metavar="NAME", type=_environment_name, help="validate with this environment applied "
                   "(default: the base spec and every environment)")
    p.add_argument("--emit-ir", action="store_true", help="print the resolved IR as JSON (one SPEC)")
    diagnostics_options(p)

    p = sub.add_parser("compile", help="compile a spec into target artifacts")
    p.add_argument("spec", metavar="SPEC")
    p.add_argument("--out", required=True, metavar="DIR", help="output directory")
    p.add_argument("--env", metavar="NAME", type=_environment_name, help="environment to compile for")
    p.add_argument("--target", metavar="A,B", help="comma-separated targets (default: the built-in kubeflow, kserve, github, monitoring; plugins run when named)")
    p.add_argument("--model", metavar="URI", help="serve this run's model: its artifact URI, or models:/NAME/VERSION "
                   "(the InferenceService loads exactly it instead of serving.storage_uri)")
    p.add_argument("--check", action="store_true", help="write nothing; exit 1 if DIR differs from the result")
    p.add_argument("--force", action="store_true", help="replace DIR even if it holds files mlopsdsl did not write")
    diagnostics_options(p)

    p = sub.add_parser("targets", help="list installed compile targets",
                       description="List the compile targets installed (built-in and plugins), from package metadata.")
    p.add_argument("-v", "--verbose", action="store_true", help="load each target and show its description")

    p = sub.add_parser("schema", help="print the JSON Schema of the language (for editors)")
    p.add_argument("--out", metavar="FILE", help="write to FILE instead of standard output")

    sub.add_parser("lsp", help="run the language server on stdin/stdout (for editors)",
                   description="Speak the Language Server Protocol on stdin/stdout: live diagnostics, completion "
                               "inside ${{ }}, hover, go to definition. Editors start it; see docs/editors.md.")

    p = sub.add_parser("run", help="run the pipeline on this machine (kfp.local)",
                       description="Compile SPEC for kubeflow and run it here with KFP's local orchestrator: "
                       "steps as host processes, a record per run under --runs-dir. Needs "
                       "`pip install 'mlopsdsl[run]'`.")
    p.add_argument("spec", metavar="SPEC")
    p.add_argument("--env", metavar="NAME", type=_environment_name, help="environment to run with")
    p.add_argument("-p", "--param", action="append", metavar="NAME=VALUE", help="a parameter value (repeatable)")
    p.add_argument("--from", metavar="STEP", help="rerun STEP and everything after it; earlier steps from the cache")
    p.add_argument("--only", metavar="STEP", help="rerun only STEP; its inputs from the cache")
    p.add_argument("--no-cache", action="store_true", help="run every step (the cache is still updated)")
    p.add_argument("--containers", action="store_true", help="run the steps' images with docker or podman")
    p.add_argument("--runs-dir", default=".mlopsdsl/runs", metavar="DIR", help="where run records go")
    p.add_argument("--plain", action="store_true", help="plain progress lines even on a terminal")
    p.add_argument("-j", "--jobs", type=_positive_int, metavar="N",
                   help="run up to N independent steps at a time (default: one per CPU; 1: one after another)")
    diagnostics_options(p)

    p = sub.add_parser("runs", help="list the records of `mlopsdsl run`")
    p.add_argument("--runs-dir", default=".mlopsdsl/runs", metavar="DIR")

    p = sub.add_parser("graph", help="draw the pipeline DAG")
    p.add_argument("spec", metavar="SPEC")
    p.add_argument("--format", choices=("mermaid", "dot"), default="mermaid")
    p.add_argument("--env", metavar="NAME", type=_environment_name)
    p.add_argument("--color", choices=("auto", "always", "never"), default="auto", help=argparse.SUPPRESS)
    return parser


def run() -> NoReturn:
    """The console script: `main`, then leave without tearing the heap down.

    Freeing a large spec's objects one by one at interpreter exit took ~50 ms of a
    ~370 ms validate at 1,000 steps, for memory the OS reclaims anyway (mypy exits
    the same way). Every file is closed by now; the standard streams are flushed here.
    """
    code = main()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (BrokenPipeError, ValueError):  # a reader that went away; a stream closed by a handler
            pass
    os._exit(code)


def main(argv: Sequence[str] | None = None) -> int:
    # One command is one short-lived run: the cyclic garbage collector only costs
    # time here (about half of composing a large spec), so it is switched off.
    gc.disable()
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    from mlopsdsl import commands

    try:
        return getattr(commands, args.command)(args)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return EXIT_OK
    except Exception as exc:  # noqa: BLE001 - the one place that turns bugs into one line
        if args.debug:
            raise
        print(f"mlopsdsl: internal error [MLD901]: {type(exc).__name__}: {exc}", file=sys.stderr)
        print("  this is a bug in mlopsdsl; rerun with --debug and report the output with the spec that caused it",
              file=sys.stderr)
        return EXIT_USAGE
