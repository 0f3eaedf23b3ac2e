"""What the editor said it understands, and answers shaped to fit it.

The modules that answer requests write markdown, label details and a nested outline;
an editor that declared no support for one of them gets the plain form instead
(plaintext, no label details, a flat symbol list), as the protocol asks.
"""

from __future__ import annotations

from dataclasses import dataclass

import attrs

from lsprotocol import types
from pygls.capabilities import get_capability


@dataclass(frozen=True)
class ClientFeatures:
    markdown_hover: bool = True
    markdown_completion: bool = True
    label_details: bool = True
    nested_symbols: bool = True

    @classmethod
    def of(cls, capabilities: types.ClientCapabilities) -> "ClientFeatures":
        def markdown(field: str) -> bool:
            return types.MarkupKind.Markdown in (get_capability(capabilities, field, None) or ())

        return cls(
            markdown_hover=markdown("text_document.hover.content_format"),
            markdown_completion=markdown("text_document.completion.completion_item.documentation_format"),
            label_details=bool(get_capability(
                capabilities, "text_document.completion.completion_item.label_details_support", False)),
            nested_symbols=bool(get_capability(
                capabilities, "text_document.document_symbol.hierarchical_document_symbol_support", False)))

    def markup(self, text: str, *, hover: bool) -> types.MarkupContent:
        markdown = self.markdown_hover if hover else self.markdown_completion
        return types.MarkupContent(types.MarkupKind.Markdown if markdown else types.MarkupKind.PlainText, text)

    def completion(self, found: types.CompletionList | None) -> types.CompletionList | None:
        if found is None:
            return None
        items = []
        for item in found.items:
            documentation = item.documentation
            if isinstance(documentation, types.MarkupContent) and not self.markdown_completion:
                documentation = documentation.value
            items.append(attrs.evolve(item, documentation=documentation,
                                       label_details=item.label_details if self.label_details else None))
        return types.CompletionList(is_incomplete=found.is_incomplete, items=items)

    def symbols(self, found: list[types.DocumentSymbol], uri: str
                ) -> list[types.DocumentSymbol] | list[types.SymbolInformation]:
        if self.nested_symbols:
            return found
        flat: list[types.SymbolInformation] = []

        def walk(symbols: list[types.DocumentSymbol], container: str | None) -> None:
            for symbol in symbols:
                flat.append(types.SymbolInformation(name=symbol.name, kind=symbol.kind,
                                                    location=types.Location(uri, symbol.selection_range),
                                                    container_name=container))
                walk(symbol.children or [], symbol.name)

        walk(found, None)
        return flat
