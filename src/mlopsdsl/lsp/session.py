"""What the server knows between messages: the open buffers' analyses, and what it published.

An edit schedules an analysis of its buffer after a short quiet time (`debounce`),
so a burst of keystrokes costs one check; the check runs on one worker thread, so
completion and hover stay answered while a large spec is being checked; a result
for a text that changed meanwhile is dropped (a newer check is already scheduled).

A component's diagnostics can come from every open spec that uses it, and from its
own schema check; each file's published list is the union of what each analysis
said about it, so closing one spec does not hide what another still reports.
"""

from __future__ import annotations

import asyncio
import dataclasses
import gc
import logging
import os
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from lsprotocol import types
from pygls import uris

from mlopsdsl.diagnostics import Diagnostic
from mlopsdsl.driver import Result
from mlopsdsl.loader import load_text
from mlopsdsl.lsp import diagnostics as lsp_diagnostics
from mlopsdsl.lsp.analysis import Analysis, analyze, is_component_text, is_spec_text
from mlopsdsl.lsp.text import LineIndex

log = logging.getLogger(__name__)

DEFAULT_DEBOUNCE = 0.15  # seconds of quiet after a keystroke before the buffer is checked
IDLE_COLLECT = 2.0  # seconds without a check before the cyclic garbage of earlier checks is collected
RECENT = 2  # analyses kept per buffer: undoing the last edit (or redoing it) is answered without a check
SCHEMA_RANGE = "MLD2"  # what yaml-language-server also reports when it validates against the schema


def path_of(uri: str) -> str:
    path = uris.to_fs_path(uri)
    return os.path.abspath(path if path else uri)


class Session:
    def __init__(self, server: Any) -> None:
        self.server = server
        self.debounce = DEFAULT_DEBOUNCE
        # False when the editor's YAML server validates against the schema too (each mistake once)
        self.schema_diagnostics = True
        self.analyses: dict[str, Analysis] = {}  # by absolute path
        self._uris: dict[str, str] = {}  # absolute path -> the uri the editor uses for it
        self._pending: dict[str, asyncio.TimerHandle] = {}
        self._running: dict[str, asyncio.Future] = {}
        self._again: set[str] = set()  # buffers asked to be checked while their check was running
        # file -> owner (the analysed buffer) -> (diagnostic, as sent, lines) for code actions
        self._published: dict[str, dict[str, list[tuple[Diagnostic, types.Diagnostic, LineIndex]]]] = {}
        self._view: Analysis | None = None
        self._collector: asyncio.TimerHandle | None = None
        self._recent: dict[str, list[Analysis]] = {}  # the last few analyses of each buffer, newest first
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mlopsdsl-check")

    # --- buffers ---------------------------------------------------------------------------
    def uri_of(self, path: str) -> str:
        path = os.path.abspath(path)
        return self._uris.get(path) or uris.from_fs_path(path) or path

    def document(self, path: str):
        uri = self._uris.get(path)
        return self.server.workspace.text_documents.get(uri) if uri else None

    def buffers(self) -> dict[str, str]:
        """The text of every open document, by absolute path: what the front end reads before the disk."""
        return {path_of(uri): doc.source for uri, doc in self.server.workspace.text_documents.items()}

    def lines_of_file(self, path: str) -> LineIndex | None:
        """Lines of any file: its open buffer, else the disk (a component no analysis has read)."""
        doc = self.document(os.path.abspath(path))
        try:
            text = doc.source if doc is not None else open(path, encoding="utf-8", errors="replace").read()
        except OSError:
            return None
        return LineIndex(text, self.server.workspace.position_encoding or types.PositionEncodingKind.Utf16)

    def opened(self, uri: str) -> None:
        path = path_of(uri)
        self._uris[path] = uri
        self.schedule(path, 0)

    def changed(self, uri: str) -> None:
        path = path_of(uri)
        self._uris[path] = uri
        self.schedule(path, self.debounce)
        self._schedule_users(path)

    def saved(self, uri: str) -> None:
        self._schedule_users(path_of(uri))

    def closed(self, uri: str) -> None:
        path = path_of(uri)
        handle = self._pending.pop(path, None)
        if handle is not None:
            handle.cancel()
        self.analyses.pop(path, None)
        self._recent.pop(path, None)
        self._retract(path)
        self._schedule_users(path)  # they read the disk now

    def _schedule_users(self, path: str) -> None:
        """Check again every open spec that reads `path` (a component it uses)."""
        for other, analysis in list(self.analyses.items()):
            if other != path and path in analysis.files:
                self.schedule(other, self.debounce)

    # --- checking --------------------------------------------------------------------------
    def schedule(self, path: str, delay: float) -> None:
        handle = self._pending.pop(path, None)
        if handle is not None:
            handle.cancel()
        loop = asyncio.get_running_loop()
        self._pending[path] = loop.call_later(delay, lambda: asyncio.ensure_future(self.check(path)))

    async def check(self, path: str) -> Analysis | None:
        self._pending.pop(path, None)
        if path in self._running:  # one check per buffer at a time: the newest text goes when it ends
            self._again.add(path)
            return None
        doc = self.document(path)
        if doc is None:
            return None
        text, version = doc.source, doc.version
        if not is_spec_text(text):
            self.analyses.pop(path, None)
            self._retract(path)
            return None
        encoding = self.server.workspace.position_encoding or types.PositionEncodingKind.Utf16
        buffers, previous = self.buffers(), self.analyses.get(path)  # read here: the loop thread owns them
        for recent in self._recent.get(path, ()):
            if recent.still_valid(text, buffers):  # an undo: the text it had, checked already
                self.analyses[path] = analysis = dataclasses.replace(recent, version=version)
                self._remember(analysis)
                self._publish(analysis)
                return analysis
        loop = asyncio.get_running_loop()
        future = loop.run_in_executor(self._worker, lambda: analyze(
            path, text, version, buffers, encoding=encoding, previous=previous))
        self._running[path] = future
        try:
            analysis = await future
        finally:
            del self._running[path]
            if path in self._again:
                self._again.discard(path)
                self.schedule(path, 0)
        current = self.document(path)
        if current is None or current.version != version:
            return None  # the buffer changed or closed meanwhile: that newer state has its own check
        self.analyses[path] = analysis
        self._remember(analysis)
        self._publish(analysis)
        self._collect_later()
        return analysis

    def _collect_later(self) -> None:
        """Collect cyclic garbage once nothing has been checked for IDLE_COLLECT seconds (see `serve`)."""
        if self._collector is not None:
            self._collector.cancel()
        self._collector = asyncio.get_running_loop().call_later(IDLE_COLLECT, self._collect)

    def _collect(self) -> None:
        self._collector = None
        if self._running or self._pending:
            self._collect_later()
        else:
            gc.collect()

    def _remember(self, analysis: Analysis) -> None:
        recent = [a for a in self._recent.get(analysis.path, []) if a.text != analysis.text]
        self._recent[analysis.path] = [analysis] + recent[:RECENT - 1]

    def view(self, path: str) -> Analysis | None:
        """The buffer as it is now, for a request: its last check, or (typed into since) its text loaded afresh.

        A completion request follows a keystroke before the debounced check has run; answering from
        the last check would look at positions that moved. The fresh view loads the YAML (no checks)
        and keeps the last loaded analysis for names while the text does not load.
        """
        doc, latest = self.document(path), self.analyses.get(path)
        if doc is None or not is_spec_text(doc.source):
            return None
        if latest is not None and latest.text == doc.source:
            return latest
        if self._view is not None and self._view.path == path and self._view.text == doc.source:
            return self._view
        fresh = Result(path)
        fresh.buffers = self.buffers()
        fresh.document, _ = load_text(doc.source, path)
        encoding = self.server.workspace.position_encoding or types.PositionEncodingKind.Utf16
        last = latest.last_loaded if latest is not None and fresh.document is None else None
        self._view = Analysis(path, doc.version, doc.source, fresh, is_component_text(doc.source), encoding,
                              previous=last)
        return self._view

    # --- publishing ------------------------------------------------------------------------
    def _publish(self, analysis: Analysis) -> None:
        owner = analysis.path
        touched = {file for file, owners in self._published.items() if owner in owners}
        for owners in self._published.values():
            owners.pop(owner, None)
        for file, found in analysis.by_file().items():
            if not self.schema_diagnostics:
                found = [d for d in found if not d.code.code.startswith(SCHEMA_RANGE)]
            lines = analysis.lines_of(file)
            if lines is None:  # a file nobody could read: its MLD101 is reported where it is named
                continue
            self._published.setdefault(file, {})[owner] = [
                (d, lsp_diagnostics.to_lsp(d, lines, analysis.lines_of, self.uri_of), lines) for d in found]
            touched.add(file)
        for file in touched:
            self._send(file, analysis.version if file == owner else None)

    def _retract(self, owner: str) -> None:
        touched = [file for file, owners in self._published.items() if owners.pop(owner, None) is not None]
        for file in touched:
            self._send(file, None)

    def _send(self, file: str, version: int | None) -> None:
        seen: set[tuple] = set()
        shown: list[types.Diagnostic] = []
        for entries in self._published.get(file, {}).values():
            for _, diagnostic, _ in entries:
                key = (diagnostic.code, diagnostic.message, diagnostic.range.start.line,
                       diagnostic.range.start.character, diagnostic.range.end.line, diagnostic.range.end.character)
                if key not in seen:
                    seen.add(key)
                    shown.append(diagnostic)
        self.server.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(uri=self.uri_of(file), diagnostics=shown, version=version))

    def published(self, path: str) -> list[tuple[Diagnostic, types.Diagnostic, LineIndex]]:
        """Every diagnostic shown in a file, with the one it came from (for code actions)."""
        return [entry for entries in self._published.get(path, {}).values() for entry in entries]

    def shutdown(self) -> None:
        self._worker.shutdown(wait=False, cancel_futures=True)
