"""The language server (`mlopsdsl lsp`): `validate`'s diagnostics while typing, completion inside
`${{ }}` and under `set:`, hover, go to definition, references, the outline and quick fixes.

    session.py      open buffers, debounced checks on a worker thread, publishing per file
    analysis.py     one buffer through the driver `validate` uses (buffers before the disk)
    text.py         loader spans <-> LSP positions (UTF-16 by default)
    diagnostics.py  Diagnostic -> LSP, quick fixes as code actions (fixes.py)
    names.py        the names in scope at a place of the spec, with their types
    locate.py       what is under the cursor, also in a buffer that does not parse yet
    completion.py   `${{ }}` names, `set:` paths, `after:` steps
    navigate.py     hover, definition, references
    outline.py      document symbols
    server.py       wiring LSP methods to the above
"""
