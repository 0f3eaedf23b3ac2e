"""A long fuzz campaign: mutated examples and generated expressions, each validated and compiled.

    python bench/fuzz_campaign.py --specs 5000 --expressions 2000 --jobs 2 --json /tmp/fuzz.json
    python bench/fuzz_campaign.py --replay spec:1:4711          # one case again, with its text

Every case is judged by tests/fuzz/mutate.py's oracle: `validate` (with patches applied, as
the command does), then, when it is clean, `compile` for every built-in target in every
environment. A case is reproducible from (kind, seed, number). Counted: internal errors (any
exception, or MLD901), hangs (a case over --timeout seconds), and specs that validate clean
but fail to compile; the last are grouped by the diagnostic codes compile gave. Exits 1 if
any of the three happened. The pytest suite runs a bounded slice of the same campaign
(tests/fuzz/test_campaign.py, MLOPSDSL_FUZZ_SPECS / MLOPSDSL_FUZZ_EXPRESSIONS).
"""

from __future__ import annotations

import argparse
import collections
import json
import multiprocessing
import signal
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "fuzz"))
import mutate  # noqa: E402  (the mutation engine and the oracle, shared with the test suite)


class Hang(BaseException):
    """Raised by the timer inside a case: not an Exception, so the oracle cannot count it as a crash."""


def _alarm(signum, frame):  # noqa: ARG001
    raise Hang()


def run_case(job: tuple[str, int, int, float]) -> tuple[str, int, str, str, float]:
    kind, seed, number, timeout = job
    signal.signal(signal.SIGALRM, _alarm)
    start, cpu = time.perf_counter(), time.process_time()
    signal.setitimer(signal.ITIMER_REAL, timeout)
    try:
        path, text = mutate.case(kind, seed, number)
        outcome = mutate.judge(text, path)
        verdict, detail = outcome.verdict, outcome.detail
    except Hang:
        # The CPU time it had tells a case that computes forever from one starved by a loaded machine.
        verdict, detail = "hang", f"over {timeout:.0f} s ({time.process_time() - cpu:.1f} s of CPU)"
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
    return kind, number, verdict, detail, time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--specs", type=int, default=5000)
    parser.add_argument("--expressions", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds before a case counts as a hang")
    parser.add_argument("--json", metavar="OUT", help="write every finding and the counts as JSON")
    parser.add_argument("--replay", metavar="KIND:SEED:N", help="print one case's text and its verdict")
    args = parser.parse_args(argv)
    if args.replay:
        kind, seed, number = args.replay.split(":")
        path, text = mutate.case(kind, int(seed), int(number))
        print(f"# from {path.relative_to(mutate.REPO)}\n{text}")
        print(mutate.judge(text, path))
        return 0
    jobs = [("spec", args.seed, n, args.timeout) for n in range(args.specs)]
    jobs += [("expr", args.seed, n, args.timeout) for n in range(args.expressions)]
    counts: collections.Counter = collections.Counter()
    findings: list[dict] = []
    slowest = 0.0
    start = time.perf_counter()
    with multiprocessing.Pool(args.jobs, maxtasksperchild=200) as pool:
        for done, (kind, number, verdict, detail, seconds) in enumerate(pool.imap_unordered(run_case, jobs, 8), 1):
            counts[(kind, verdict)] += 1
            slowest = max(slowest, seconds)
            if verdict not in ("rejected", "compiled"):
                findings.append({"case": f"{kind}:{args.seed}:{number}", "verdict": verdict, "detail": detail})
            if done % 500 == 0:
                print(f"  {done:,}/{len(jobs):,} cases, {time.perf_counter() - start:.0f} s", file=sys.stderr)
    elapsed = time.perf_counter() - start
    print(f"{args.specs:,} mutated specs and {args.expressions:,} expressions in {elapsed:.0f} s "
          f"({args.jobs} jobs; slowest case {slowest:.1f} s)")
    for (kind, verdict), count in sorted(counts.items()):
        print(f"  {kind:5} {verdict:30} {count:6,}")
    groups = collections.Counter((f["verdict"], f["detail"].split(":")[0] + ":" + f["detail"].split(":")[1]
                                  if f["verdict"] == "validate-clean-compile-fails" else f["verdict"])
                                 for f in findings)
    for (verdict, what), count in groups.most_common():
        print(f"  {count:5,} x {verdict}: {what}")
    for finding in findings[:20]:
        print(f"  {finding['case']}: {finding['verdict']}: {finding['detail'][-300:]}")
    if args.json:
        Path(args.json).write_text(json.dumps({"counts": {f"{k}:{v}": n for (k, v), n in counts.items()},
                                               "seconds": round(elapsed, 1), "findings": findings}, indent=2))
    return 1 if findings else 0


if __name__ == "__main__":
    raise SystemExit(main())
