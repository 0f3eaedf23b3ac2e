"""`python -m mlopsdsl.drift [--reference URI] [--current URI | --request-log URI] ...`

Every flag defaults to the environment variable job.py documents, so the CronJob runs it
bare; a person runs it with flags on local files (`--no-push` to only print the report).
"""

from __future__ import annotations

import argparse
import json
import os
import sys

from mlopsdsl.drift import data, job

FLAGS = {  # flag -> environment variable it overrides
    "project": "PROJECT", "method": "METHOD", "threshold": "THRESHOLD", "features": "FEATURES",
    "feature_types": "FEATURE_TYPES", "columns": "COLUMNS", "reference": "REFERENCE_URI",
    "reference_format": "REFERENCE_FORMAT", "current": "CURRENT_URI", "current_format": "CURRENT_FORMAT",
    "request_log": "REQUEST_LOG_URI", "request_log_window": "REQUEST_LOG_WINDOW", "min_rows": "MIN_ROWS",
    "environment": "ENVIRONMENT", "namespace": "NAMESPACE",
}


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m mlopsdsl.drift", description=__doc__.splitlines()[0])
    for name, variable in FLAGS.items():
        p.add_argument("--" + name.replace("_", "-"), dest=name, help=f"default: ${variable}")
    p.add_argument("--no-push", action="store_true", help="print the report only: no Pushgateway, no dispatch")
    return p


def main(argv: list[str] | None = None, environ: dict[str, str] | None = None) -> int:
    args = parser().parse_args(argv)
    env = dict(os.environ if environ is None else environ)
    env.update({variable: str(getattr(args, name)) for name, variable in FLAGS.items()
                if getattr(args, name) is not None})
    if args.no_push:
        env.update(PUSHGATEWAY_URL="", ON_DRIFT="alert")
    try:
        report = job.run(job.Config.from_env(env))
    except (data.DataError, OSError) as exc:
        print(f"mlopsdsl.drift: error: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(report, indent=2, sort_keys=True, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
