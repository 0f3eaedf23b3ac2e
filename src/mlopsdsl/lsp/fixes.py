"""Quick fixes: the edit a diagnostic's hint already names, made applicable.

The checks write their hints for people (`did you mean 'train'?`, ``write `250ms` ``,
`add 100% as the last step`); each rule below recognises one form of hint and
turns it into a text edit at the diagnostic's span. A hint no rule knows gets no
quick fix, never a guessed one. tests/lsp/test_fixes.py applies every rule's edit
and checks that `validate` no longer reports the mistake, so a reworded hint that
stops matching fails there.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from typing import Callable

from mlopsdsl.diagnostics import Diagnostic


@dataclass(frozen=True, slots=True)
class Fix:
    title: str
    start: int  # character offsets in the file's text
    end: int
    text: str
    preferred: bool = True


Rule = Callable[[Diagnostic, str, int, int], list[Fix]]

_DID_YOU_MEAN = re.compile(r"did you mean '([^']+)'\?")
_WRITE = re.compile(r"write `([^`]+)`")
_WRITE_EITHER = re.compile(r"write `([^`]+)` if .+, or `([^`]+)`")
_QUOTE_IT = re.compile(r"quote it: ((['\"]).*\2)")
_USE_PERCENT = re.compile(r"use (\d+%)")
_KNOWN_HERE = "known here: "
_WORD = re.compile(r"[A-Za-z0-9_][\w-]*")
_DOTTED = re.compile(r"[A-Za-z0-9_][\w-]*(?:\.[A-Za-z0-9_][\w-]*)*")


def _did_you_mean(d: Diagnostic, text: str, start: int, end: int) -> list[Fix]:
    """Replace the misspelt word inside the span (a key, `steps.trian`, a set path) by the suggestion."""
    found = _DID_YOU_MEAN.search(d.hint or "") or _DID_YOU_MEAN.search(d.message)
    if found is None:
        return []
    wanted = found.group(1)
    words = list((_DOTTED if "." in wanted else _WORD).finditer(text, start, end))
    if not words:
        return []
    best = max(words, key=lambda w: (difflib.SequenceMatcher(None, w.group(), wanted).ratio(), w.start()))
    if best.group() == wanted:
        return []
    return [Fix(f"Change '{best.group()}' to '{wanted}'", best.start(), best.end(), wanted)]


def _known_here(d: Diagnostic, text: str, start: int, end: int) -> list[Fix]:
    """`known here: a, b`: the name that was not found is the span's last part; offer each known one."""
    hint = d.hint or ""
    if not hint.startswith(_KNOWN_HERE) or _DID_YOU_MEAN.search(hint):
        return []
    words = list(_WORD.finditer(text, start, end))
    if not words:
        return []
    last = words[-1]
    names = [n.strip() for n in hint[len(_KNOWN_HERE):].split(",") if _WORD.fullmatch(n.strip())]
    return [Fix(f"Change '{last.group()}' to '{name}'", last.start(), last.end(), name, preferred=False)
            for name in names if name != last.group()]


def _write(d: Diagnostic, text: str, start: int, end: int) -> list[Fix]:
    """``write `250ms` `` (a number that needs its unit), and the percent form with two readings."""
    hint = d.hint or ""
    either = _WRITE_EITHER.fullmatch(hint)
    if either is not None:
        return [Fix(f"Write `{either.group(1)}`", start, end, either.group(1)),
                Fix(f"Write `{either.group(2)}`", start, end, either.group(2), preferred=False)]
    single = _WRITE.fullmatch(hint)
    if single is None or "${{" in single.group(1):
        return []
    return [Fix(f"Write `{single.group(1)}`", start, end, single.group(1))]


def _quote(d: Diagnostic, text: str, start: int, end: int) -> list[Fix]:
    found = _QUOTE_IT.fullmatch(d.hint or "")
    return [Fix(f"Quote it: {found.group(1)}", start, end, found.group(1))] if found else []


def _use_percent(d: Diagnostic, text: str, start: int, end: int) -> list[Fix]:
    found = _USE_PERCENT.fullmatch(d.hint or "")
    return [Fix(f"Use {found.group(1)}", start, end, found.group(1))] if found else []


def _unquote_number(d: Diagnostic, text: str, start: int, end: int) -> list[Fix]:
    written = text[start:end]
    if d.hint != "write the number without quotes" or len(written) < 2 or written[0] not in "'\"" \
            or written[-1] != written[0]:
        return []
    return [Fix(f"Write {written[1:-1]} without quotes", start, end, written[1:-1])]


def _add_last_step(d: Diagnostic, text: str, start: int, end: int) -> list[Fix]:
    """`add 100% as the last step`: after the last item of the list, flow (`[10%, 50%]`) or block (`- 50%`)."""
    if not (d.hint or "").startswith("add 100% as the last step"):
        return []
    rest = text[end:]
    if rest.lstrip(" \t")[:1] in ("]", ","):
        return [Fix("Add 100% as the last step", end, end, ", 100%")]
    line_start = text.rfind("\n", 0, start) + 1
    item = re.match(r"[ \t]*-[ \t]+", text[line_start:start])
    if item is None:
        return []
    line_end = len(text) if (newline := re.search(r"\r\n|\r|\n", rest)) is None else end + newline.start()
    newline_text = newline.group() if newline is not None else "\n"
    return [Fix("Add 100% as the last step", line_end, line_end, newline_text + item.group() + "100%")]


RULES: tuple[Rule, ...] = (_did_you_mean, _known_here, _write, _quote, _use_percent, _unquote_number, _add_last_step)


def fixes(d: Diagnostic, text: str, start: int, end: int) -> list[Fix]:
    """The quick fixes for diagnostic `d`, whose span is `text[start:end]`."""
    found: list[Fix] = []
    for rule in RULES:
        found += rule(d, text, start, end)
    if len(found) > 1:  # more than one reading: the person chooses; only the first may be preferred
        found = found[:1] + [Fix(f.title, f.start, f.end, f.text, preferred=False) for f in found[1:]]
    return found
