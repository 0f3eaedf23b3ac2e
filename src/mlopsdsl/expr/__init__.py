"""The `${{ ... }}` expression language: grammar, AST, types, checking.

Importing this package does not import lark; the parser is built on the first
expression parsed (see `parser.py`).
"""
