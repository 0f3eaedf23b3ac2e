"""Fresh diagnostics after an edit: `mlopsdsl lsp` (didChange -> publishDiagnostics) against a whole
`mlopsdsl validate` process on the same generated spec, in one run.

The server is started once and opens the spec; then each round makes every kind of edit (one line,
as a keystroke's change is sent) and undoes it, timing each from sending `didChange` to receiving
`publishDiagnostics` for that version, and runs `validate` as its own process between edits, so drift
on a shared machine hits both. An undo brings back a text the server checked already and is answered
from its recent analyses: it is reported on its own line. Edits are made with the server's debounce
at 0 (the check's own time); an editor's default of 150 ms comes once, after a burst's last keystroke.

    python bench/bench_lsp.py                          # 1,000 mixed steps, 5 rounds
    python bench/bench_lsp.py --steps 5000 --rounds 3 --json /tmp/lsp.json
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

from lsprotocol import types
from pygls.lsp.client import LanguageClient

sys.path.insert(0, str(Path(__file__).resolve().parent))
import gen_spec  # noqa: E402  (a sibling script, not a package)
from harness import Command, byte_compile_tool, run_once  # noqa: E402

VALIDATE = Command("validate", ["{python}", "-m", "mlopsdsl", "validate", "{spec}"])

# (what the edit is, the text replaced, by what): each is made, timed, then undone and timed.
EDITS = [
    ("a param default quoted", "min_accuracy: {type: float, default: 0.8,",
     'min_accuracy: {type: float, default: "0.8",'),
    ("a typo in a when", "when: \"${{ steps.s0030.outputs", "when: \"${{ steps.s003.outputs"),
    ("a run argument", "--name, s0500,", "--name, s0500x,"),
    ("a step renamed", "    s0999:\n", "    s0999b:\n"),
]


class Session:
    def __init__(self) -> None:
        self.client = LanguageClient("mlopsdsl-bench", "1")
        self.arrived: dict[int, float] = {}
        self.event = asyncio.Event()

        @self.client.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        def published(ls: LanguageClient, params: types.PublishDiagnosticsParams) -> None:
            if params.version is not None:
                self.arrived.setdefault(params.version, time.perf_counter())
                self.event.set()

    async def start(self) -> float:
        began = time.perf_counter()
        await self.client.start_io(sys.executable, "-m", "mlopsdsl", "lsp")
        await self.client.initialize_async(types.InitializeParams(
            capabilities=types.ClientCapabilities(), initialization_options={"debounceMs": 0}))
        self.client.initialized(types.InitializedParams())
        return (time.perf_counter() - began) * 1000

    async def wait(self, version: int) -> float:
        while version not in self.arrived:
            self.event.clear()
            await asyncio.wait_for(self.event.wait(), 120)
        return self.arrived[version]

    async def stop(self) -> None:
        await self.client.shutdown_async(None)
        self.client.exit(None)
        await self.client.stop()


def _position(text: str, offset: int) -> types.Position:
    return types.Position(text.count("\n", 0, offset), offset - (text.rfind("\n", 0, offset) + 1))


async def run(steps: int, shape: str, rounds: int) -> dict:
    byte_compile_tool()
    with tempfile.TemporaryDirectory(prefix="mlopsdsl-bench-lsp-") as tmp:
        spec = Path(tmp) / f"{shape}-{steps}.yaml"
        text = gen_spec.generate(steps, shape)
        spec.write_text(text, encoding="utf-8")
        for _, old, _ in EDITS:
            assert text.count(old) >= 1, f"the generated spec has no {old!r}"
        run_once(VALIDATE, str(spec))  # warm the page cache and .pyc like the server's first open
        session = Session()
        started_ms = await session.start()
        uri = spec.resolve().as_uri()
        version = 1
        sent = time.perf_counter()
        session.client.text_document_did_open(types.DidOpenTextDocumentParams(
            types.TextDocumentItem(uri=uri, language_id="yaml", version=version, text=text)))
        first_ms = (await session.wait(version) - sent) * 1000
        timings: dict[str, list[float]] = {name: [] for name, _, _ in EDITS}
        undo: list[float] = []
        validate_ms: list[float] = []
        for _ in range(rounds):
            for name, old, new in EDITS:
                for before, after, samples in ((old, new, timings[name]), (new, old, undo)):
                    offset = text.index(before)
                    version += 1
                    sent = time.perf_counter()
                    session.client.text_document_did_change(types.DidChangeTextDocumentParams(
                        types.VersionedTextDocumentIdentifier(uri=uri, version=version),
                        [types.TextDocumentContentChangePartial(
                            range=types.Range(_position(text, offset), _position(text, offset + len(before))),
                            text=after)]))
                    text = text[:offset] + after + text[offset + len(before):]
                    samples.append((await session.wait(version) - sent) * 1000)
                validate_ms.append(run_once(VALIDATE, str(spec)).wall_ms)
        await session.stop()
    return {"steps": steps, "shape": shape, "spec_kib": len(text.encode()) / 1024, "rounds": rounds,
            "server_start_ms": started_ms, "first_diagnostics_ms": first_ms,
            "validate_ms": validate_ms, "edits_ms": timings, "undo_ms": undo}


def report(found: dict) -> str:
    validate = statistics.median(found["validate_ms"])
    lines = [f"spec: {found['steps']:,} {found['shape']} steps ({found['spec_kib']:,.0f} KiB), "
             f"{found['rounds']} rounds, interleaved",
             f"{'':34} {'median ms':>10} {'min':>7} {'max':>7} {'/ validate':>11}",
             f"{'validate (whole process)':34} {validate:>10.0f} {min(found['validate_ms']):>7.0f} "
             f"{max(found['validate_ms']):>7.0f} {1:>11.2f}"]
    every: list[float] = []
    for name, samples in found["edits_ms"].items():
        every += samples
        median = statistics.median(samples)
        lines.append(f"{'lsp: ' + name:34} {median:>10.0f} {min(samples):>7.0f} {max(samples):>7.0f} "
                     f"{median / validate:>11.2f}")
    median = statistics.median(every)
    lines.append(f"{'lsp: every edit':34} {median:>10.0f} {min(every):>7.0f} {max(every):>7.0f} "
                 f"{median / validate:>11.2f}")
    undo = found["undo_ms"]
    lines.append(f"{'lsp: undo (a text checked before)':34} {statistics.median(undo):>10.0f} {min(undo):>7.0f} "
                 f"{max(undo):>7.0f} {statistics.median(undo) / validate:>11.2f}")
    lines.append(f"(server start to initialized {found['server_start_ms']:.0f} ms; didOpen to first diagnostics "
                 f"{found['first_diagnostics_ms']:.0f} ms)")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--shape", default="mixed", choices=("chain", "diamond", "fanout", "mixed"))
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--json", metavar="OUT", help="also write every sample as JSON")
    args = parser.parse_args(argv)
    found = asyncio.run(run(args.steps, args.shape, args.rounds))
    print(report(found))
    if args.json:
        Path(args.json).write_text(json.dumps(found, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
