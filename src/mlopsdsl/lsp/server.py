"""`mlopsdsl lsp`: the language server on stdin/stdout, on pygls.

This module only wires LSP methods to the modules that answer them; each handler
turns the editor's position into a character offset of the buffer and back.
A handler never raises into the protocol: whatever a half-typed buffer does to
the code below, the answer is "nothing here" and the reason goes to the log.
"""

from __future__ import annotations

import asyncio
import functools
import gc
import logging
from typing import Any, Callable

from lsprotocol import types
from pygls.lsp.server import LanguageServer

from mlopsdsl.lsp import completion as completion_module
from mlopsdsl.lsp import diagnostics as lsp_diagnostics
from mlopsdsl.lsp import navigate
from mlopsdsl.lsp.client import ClientFeatures
from mlopsdsl.lsp.outline import outline
from mlopsdsl.lsp.session import Session, path_of

log = logging.getLogger(__name__)

NAME = "mlopsdsl"


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("mlopsdsl")
    except PackageNotFoundError:  # a source tree without an install
        return "0"


class MlopsdslServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__(NAME, _version(), text_document_sync_kind=types.TextDocumentSyncKind.Incremental)
        self.session = Session(self)
        self.loop: asyncio.AbstractEventLoop | None = None  # the protocol's, once running
        self.features = ClientFeatures()


def _guarded(default: Any) -> Callable:
    """A request handler that answers `default` instead of failing (and logs why)."""

    def wrap(handler: Callable) -> Callable:
        @functools.wraps(handler)
        def run(ls: MlopsdslServer, params: Any) -> Any:
            try:
                return handler(ls, params)
            except Exception:  # noqa: BLE001 - the editor gets "nothing here", the log gets the bug
                log.exception("%s failed", handler.__name__)
                return default

        return run

    return wrap


def build() -> MlopsdslServer:
    server = MlopsdslServer()

    @server.feature(types.INITIALIZE)
    def initialize(ls: MlopsdslServer, params: types.InitializeParams) -> None:
        ls.loop = asyncio.get_running_loop()
        ls.features = ClientFeatures.of(params.capabilities)
        options = params.initialization_options
        if not isinstance(options, dict):
            return
        if isinstance(options.get("debounceMs"), (int, float)):
            ls.session.debounce = max(0.0, float(options["debounceMs"]) / 1000)
        if isinstance(options.get("schemaDiagnostics"), bool):
            ls.session.schema_diagnostics = options["schemaDiagnostics"]

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: MlopsdslServer, params: types.DidOpenTextDocumentParams) -> None:
        ls.session.opened(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: MlopsdslServer, params: types.DidChangeTextDocumentParams) -> None:
        ls.session.changed(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE)
    def did_save(ls: MlopsdslServer, params: types.DidSaveTextDocumentParams) -> None:
        ls.session.saved(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: MlopsdslServer, params: types.DidCloseTextDocumentParams) -> None:
        ls.session.closed(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_CODE_ACTION,
                    types.CodeActionOptions(code_action_kinds=[types.CodeActionKind.QuickFix]))
    @_guarded([])
    def code_action(ls: MlopsdslServer, params: types.CodeActionParams) -> list[types.CodeAction]:
        uri = params.text_document.uri
        return lsp_diagnostics.code_actions(uri, ls.session.published(path_of(uri)), params.range)

    def located(ls: MlopsdslServer, params: Any) -> tuple[Any, int] | None:
        """The buffer's current analysis and the request's position as a character offset."""
        analysis = ls.session.view(path_of(params.text_document.uri))
        if analysis is None:
            return None
        return analysis, analysis.lines.offset(params.position)

    def target(ls: MlopsdslServer, params: Any):
        found = located(ls, params)
        if found is None or found[0].model is None or found[0].document is None:
            return None
        analysis, offset = found
        return analysis, navigate.target_at(analysis.model, analysis.lines, offset)

    @server.feature(types.TEXT_DOCUMENT_COMPLETION,
                    types.CompletionOptions(trigger_characters=[".", "{", " ", "["]))
    @_guarded(None)
    def completion(ls: MlopsdslServer, params: types.CompletionParams) -> types.CompletionList | None:
        found = located(ls, params)
        return ls.features.completion(completion_module.complete(*found)) if found is not None else None

    @server.feature(types.TEXT_DOCUMENT_HOVER)
    @_guarded(None)
    def hover(ls: MlopsdslServer, params: types.HoverParams) -> types.Hover | None:
        found = target(ls, params)
        if found is None or found[1] is None:
            return None
        analysis, at = found
        text = navigate.hover(analysis.model, at)
        if not text:
            return None
        span = at.span
        shown = analysis.lines_of(span.file) if span is not None else None
        return types.Hover(ls.features.markup(text, hover=True),
                           range=shown.span_range(span) if shown is not None and span.file == analysis.path else None)

    @server.feature(types.TEXT_DOCUMENT_DEFINITION)
    @_guarded(None)
    def definition(ls: MlopsdslServer, params: types.DefinitionParams) -> types.Location | None:
        found = target(ls, params)
        if found is None or found[1] is None:
            return None
        analysis, at = found
        return location(ls, analysis, navigate.definition(analysis.model, at))

    @server.feature(types.TEXT_DOCUMENT_REFERENCES)
    @_guarded(None)
    def references(ls: MlopsdslServer, params: types.ReferenceParams) -> list[types.Location] | None:
        found = target(ls, params)
        if found is None or found[1] is None or found[1].symbol is None:
            return None
        analysis, at = found
        sites = navigate.references(analysis.model, at.symbol, declaration=params.context.include_declaration)
        return [loc for loc in (location(ls, analysis, s) for s in sites) if loc is not None]

    @server.feature(types.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
    @_guarded(None)
    def document_symbol(ls: MlopsdslServer, params: types.DocumentSymbolParams) -> list | None:
        analysis = ls.session.view(path_of(params.text_document.uri))
        if analysis is None or analysis.model is None or analysis.document is None:
            return None
        return ls.features.symbols(outline(analysis.model, analysis.lines), params.text_document.uri)

    @server.feature(types.SHUTDOWN)
    def shutdown(ls: MlopsdslServer, params: None) -> None:
        ls.session.shutdown()

    return server


def location(ls: MlopsdslServer, analysis: Any, site: Any) -> types.Location | None:
    """A definition site as an LSP location (in the buffer, a component, or a file on disk)."""
    if site is None:
        return None
    lines = analysis.lines_of(site.file) or ls.session.lines_of_file(site.file)
    if lines is None:
        return None
    return types.Location(ls.session.uri_of(site.file), lines.span_range(site.span))


class _ClientLog(logging.Handler):
    """Warnings and errors also go to the editor's log (VS Code: Output > mlopsdsl), from any thread."""

    def __init__(self, server: MlopsdslServer) -> None:
        super().__init__(logging.WARNING)
        self.server = server

    def emit(self, record: logging.LogRecord) -> None:
        loop = self.server.loop
        if loop is None or loop.is_closed():  # before `initialize`: stderr only
            return
        kind = types.MessageType.Error if record.levelno >= logging.ERROR else types.MessageType.Warning
        params = types.LogMessageParams(type=kind, message=self.format(record))
        try:
            loop.call_soon_threadsafe(self.server.window_log_message, params)
        except Exception:  # noqa: BLE001 - logging must never fail the server
            pass


def serve() -> int:
    """Run on stdin/stdout until the editor says `exit`."""
    # The cyclic collector stays off, as in `validate`: one check of a large spec allocates hundreds of
    # thousands of objects that live until it ends, and a collection during it walked them all again (a
    # third of a 1,000-step check). The session collects when the editor has been quiet for a moment;
    # what imports and the grammar made is frozen out of the way first.
    from mlopsdsl.lsp.analysis import warm_up

    warm_up()
    gc.disable()
    gc.freeze()
    logging.basicConfig(level=logging.WARNING, format="mlopsdsl lsp: %(levelname)s %(name)s: %(message)s")
    server = build()
    logging.getLogger("mlopsdsl").addHandler(_ClientLog(server))
    server.start_io()
    return 0
