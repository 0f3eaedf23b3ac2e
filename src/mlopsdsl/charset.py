"""Characters that must reach neither a terminal nor a generated file, defined once.

Control characters (category Cc: C0, DEL and C1; tab and newline aside) move a
terminal's cursor or colour its text, and end a Markdown or shell line where a
reader does not see it. Bidirectional overrides, embeddings, isolates and marks
reorder what an editor or a code review shows ("Trojan Source", CVE-2021-42574):
a workflow step can read as one command and run another. The loader refuses them
in a spec's text (MLD116, written as YAML escapes or pasted), the expression
parser in string literals, the compiler in what it would write, and the
diagnostics renderer escapes them.
"""

from __future__ import annotations

import re
import unicodedata

BIDI_CONTROLS = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
CONTROL_CLASS = "\x00-\x08\x0b-\x1f\x7f-\x9f" + BIDI_CONTROLS  # a regex class body: tab and newline excluded
UNSAFE = re.compile(f"[{CONTROL_CLASS}]")


def describe(char: str) -> str:
    """`U+202E (RIGHT-TO-LEFT OVERRIDE)`."""
    name = unicodedata.name(char, "")
    return f"U+{ord(char):04X}" + (f" ({name})" if name else "")


def first_unsafe(text: str) -> str | None:
    found = UNSAFE.search(text)
    return found.group() if found else None
