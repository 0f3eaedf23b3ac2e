"""An editor for the language-server tests: `mlopsdsl lsp` started as editors start it, driven over stdio.

The client is pytest-lsp's (pygls underneath), which also checks every answer against
the capabilities the client declared (VS Code's own, recorded by pytest-lsp), and
fails on any server-side error. `Editor` wraps it in plain calls; each test module
shares one server process, as a person's editor session would.
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient, client_capabilities
from pytest_lsp.client import DEFAULT_CLIENT_FEATURES, register_lsp_features
from pygls.protocol import default_converter

TIMEOUT = 60.0


class Editor:
    """One editor session against one `mlopsdsl lsp` process (synchronous calls)."""

    def __init__(self, capabilities: str = "visual-studio-code", options: dict | None = None) -> None:
        self.loop = asyncio.new_event_loop()
        self.client = LanguageClient(converter_factory=default_converter)
        self.published: dict[str, list[types.PublishDiagnosticsParams]] = {}
        self._arrived = asyncio.Event()

        def on_publish(client: LanguageClient, params: types.PublishDiagnosticsParams) -> None:
            self.published.setdefault(params.uri, []).append(params)
            self._arrived.set()

        register_lsp_features(self.client, {**DEFAULT_CLIENT_FEATURES,
                                            types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS: on_publish})
        self.versions: dict[str, int] = {}
        self.texts: dict[str, str] = {}
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.run(self.client.start_io(sys.executable, "-m", "mlopsdsl", "lsp", env=env))
        self.initialized = self.run(self.client.initialize_session(types.InitializeParams(
            capabilities=client_capabilities(capabilities),
            initialization_options={"debounceMs": 0, **(options or {})})))

    def run(self, coroutine, timeout: float = TIMEOUT):
        return self.loop.run_until_complete(asyncio.wait_for(coroutine, timeout))

    def close(self) -> None:
        try:
            self.run(self.client.shutdown_session(), timeout=10)
        finally:
            self.run(self.client.stop(), timeout=10)
            self.loop.close()

    def errors(self) -> list[str]:
        """What the server logged as errors (a request handler that caught an exception logs it)."""
        return [m.message for m in self.client.log_messages if m.type == types.MessageType.Error]

    @property
    def alive(self) -> bool:
        server = self.client._server
        return server is not None and server.returncode is None and self.client.error is None

    # --- documents ---------------------------------------------------------------------
    def open(self, path: Path, text: str | None = None) -> str:
        uri = path.resolve().as_uri()
        text = path.read_text(encoding="utf-8") if text is None else text
        self.versions[uri], self.texts[uri] = 1, text
        self.client.text_document_did_open(types.DidOpenTextDocumentParams(
            types.TextDocumentItem(uri=uri, language_id="yaml", version=1, text=text)))
        return uri

    def replace(self, uri: str, text: str) -> int:
        """Replace the whole text (one full-content change); the new version."""
        self.versions[uri] += 1
        self.texts[uri] = text
        self.client.text_document_did_change(types.DidChangeTextDocumentParams(
            types.VersionedTextDocumentIdentifier(uri=uri, version=self.versions[uri]),
            [types.TextDocumentContentChangeWholeDocument(text=text)]))
        return self.versions[uri]

    def edit(self, uri: str, line: int, character: int, end_line: int, end_character: int, text: str) -> int:
        """An incremental change, as editors send for each keystroke (UTF-16 positions)."""
        self.versions[uri] += 1
        self.client.text_document_did_change(types.DidChangeTextDocumentParams(
            types.VersionedTextDocumentIdentifier(uri=uri, version=self.versions[uri]),
            [types.TextDocumentContentChangePartial(
                range=types.Range(types.Position(line, character), types.Position(end_line, end_character)),
                text=text)]))
        return self.versions[uri]

    def close_document(self, uri: str) -> None:
        self.client.text_document_did_close(types.DidCloseTextDocumentParams(types.TextDocumentIdentifier(uri)))

    def diagnostics(self, uri: str, version: int | None = None) -> list[types.Diagnostic]:
        """The diagnostics published for `uri` (for `version`, when given), waiting for them."""

        async def wait() -> list[types.Diagnostic]:
            while True:
                for params in reversed(self.published.get(uri, [])):
                    if version is None or params.version == version:
                        return list(params.diagnostics)
                self._arrived.clear()
                await self._arrived.wait()

        return self.run(wait())

    def count(self, uri: str) -> int:
        """How many times diagnostics were published for `uri` so far."""
        return len(self.published.get(uri, []))

    def next_diagnostics(self, uri: str, after: int) -> list[types.Diagnostic]:
        """The first diagnostics published for `uri` after its `after`-th publication (waiting for them)."""

        async def wait() -> list[types.Diagnostic]:
            while self.count(uri) <= after:
                self._arrived.clear()
                await self._arrived.wait()
            return list(self.published[uri][after].diagnostics)

        return self.run(wait())

    def latest(self, uri: str) -> list[types.Diagnostic]:
        """What the editor shows for `uri` now (its last publication), without waiting."""
        found = self.published.get(uri)
        return list(found[-1].diagnostics) if found else []

    # --- requests ----------------------------------------------------------------------
    def _doc(self, uri: str) -> types.TextDocumentIdentifier:
        return types.TextDocumentIdentifier(uri)

    def complete(self, uri: str, line: int, character: int) -> list[types.CompletionItem]:
        found = self.run(self.client.text_document_completion_async(types.CompletionParams(
            text_document=self._doc(uri), position=types.Position(line, character))))
        if found is None:
            return []
        return list(found.items if isinstance(found, types.CompletionList) else found)

    def hover(self, uri: str, line: int, character: int) -> types.Hover | None:
        return self.run(self.client.text_document_hover_async(types.HoverParams(
            text_document=self._doc(uri), position=types.Position(line, character))))

    def definition(self, uri: str, line: int, character: int) -> list[types.Location]:
        found = self.run(self.client.text_document_definition_async(types.DefinitionParams(
            text_document=self._doc(uri), position=types.Position(line, character))))
        if found is None:
            return []
        return [found] if isinstance(found, types.Location) else list(found)

    def references(self, uri: str, line: int, character: int, declaration: bool = True) -> list[types.Location]:
        found = self.run(self.client.text_document_references_async(types.ReferenceParams(
            text_document=self._doc(uri), position=types.Position(line, character),
            context=types.ReferenceContext(include_declaration=declaration))))
        return list(found or [])

    def symbols(self, uri: str) -> list[types.DocumentSymbol]:
        return list(self.run(self.client.text_document_document_symbol_async(
            types.DocumentSymbolParams(text_document=self._doc(uri)))) or [])

    def code_actions(self, uri: str, diagnostic: types.Diagnostic) -> list[types.CodeAction]:
        return list(self.run(self.client.text_document_code_action_async(types.CodeActionParams(
            text_document=self._doc(uri), range=diagnostic.range,
            context=types.CodeActionContext(diagnostics=[diagnostic])))) or [])


def apply(text: str, edits: list[types.TextEdit]) -> str:
    """Apply LSP text edits (ASCII text: UTF-16 columns are characters) as an editor would."""
    starts = [0]
    for line in text.splitlines(keepends=True):
        starts.append(starts[-1] + len(line))

    def offset(p: types.Position) -> int:
        return starts[min(p.line, len(starts) - 1)] + p.character

    for edit in sorted(edits, key=lambda e: offset(e.range.start), reverse=True):
        text = text[:offset(edit.range.start)] + edit.new_text + text[offset(edit.range.end):]
    return text


def position_of(text: str, needle: str, *, after: str = "", delta: int = 0) -> tuple[int, int]:
    """(line, character) of the first `needle` (after the first `after`), plus `delta` characters."""
    start = text.index(after) if after else 0
    index = text.index(needle, start) + delta
    line = text.count("\n", 0, index)
    return line, index - (text.rfind("\n", 0, index) + 1)


@pytest.fixture(scope="module")
def editor():
    session = Editor()
    yield session
    session.hover("file:///nowhere.yaml", 0, 0)  # a last round trip: every log message has arrived
    errors = session.errors()
    session.close()
    assert errors == [], "the server logged errors:\n" + "\n".join(errors)


# --- specs the tests edit: a clean one, and the four mistakes made in it -------------
CLEAN = """\
apiVersion: mlopsdsl/v1
kind: Project
metadata: {name: churn, version: 1.4.0}
model: {name: churn-classifier, task: classification, framework: xgboost}
params:
  lr: {type: float, default: 0.1, description: learning rate}
  min_accuracy: {type: float, default: 0.85, min: 0, max: 1}
data:
  raw: {uri: "s3://acme/raw.parquet"}
pipeline:
  steps:
    train:
      image: ghcr.io/acme/churn:1.4.0
      run: [python, -m, churn.train, --data, "${{ data.raw.uri }}", --lr, "${{ params.lr }}",
            --model, "${{ outputs.model.path }}", --metrics, "${{ outputs.metrics.path }}"]
      outputs: {model: Model, metrics: {type: Metrics, fields: {accuracy: float}}}
    register:
      image: ghcr.io/acme/churn:1.4.0
      when: "${{ steps.train.outputs.metrics.accuracy >= params.min_accuracy }}"
      run: [python, -m, churn.register, --model, "${{ inputs.model.path }}"]
      inputs: {model: "${{ steps.train.outputs.model }}"}
      after: [train]
serving:
  name: churn-api
  model: "${{ steps.train.outputs.model }}"
  storage_uri: s3://acme-ml/models/churn/${{ metadata.version }}/
  rollout:
    strategy: canary
    steps: [10%, 50%, 100%]
    interval: 10m
    analysis: "${{ serving.error_rate < 1% and serving.latency.p95 < 250ms }}"
monitoring:
  alerts:
    - {name: HighLatency, when: "${{ serving.latency.p95 > 250ms }}", for: 5m, severity: warning}
environments:
  staging:
    namespace: churn-staging
  prod:
    namespace: churn-prod
    set:
      params.min_accuracy.default: 0.9
"""

# (what is replaced, by what, the code, the text the diagnostic must cover)
MISTAKES = [
    ("default: 0.1,", 'default: "0.1",', "MLD643", '"0.1"'),
    ("steps: [10%, 50%, 100%]", "steps: [10%, 50%]", "MLD605", "50%"),
    ("p95 > 250ms", "p95 > 250", "MLD506", "250"),
    ("${{ steps.train.outputs.metrics", "${{ steps.trian.outputs.metrics", "MLD301", "steps.trian"),
]
