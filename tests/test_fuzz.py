"""The front end may reject anything, but never crash: arbitrary bytes and mutated example specs.

Derandomized (the same inputs on every run, so CI is reproducible) and capped
so the file runs in seconds; raise the caps locally to dig deeper.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from conftest import CASES, EXAMPLES, check_file
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mlopsdsl.diagnostics import Diagnostic
from mlopsdsl.diagnostics.render import FORMATS, render
from mlopsdsl.loader import Limits, load_bytes
from mlopsdsl.source import SourceFile


def _seeds() -> list[Path]:
    """Every example spec (components included); the valid cases until examples exist."""
    for folder in (EXAMPLES, CASES / "valid", CASES / "loader"):
        files = sorted(folder.rglob("*.yaml")) if folder.is_dir() else []
        if files:
            return files
    raise RuntimeError("no spec to mutate: examples/ and tests/cases/ are empty")


SEEDS = _seeds()
FUZZ = settings(derandomize=True, deadline=None, max_examples=200, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def _assert_only_diagnostics(document, diagnostics: list, *, loader_only: bool = True) -> None:
    # The loader gives a document exactly when it has nothing to say; later stages may add to a document.
    assert (document is None) == bool(diagnostics) if loader_only else (document is not None or diagnostics)
    for d in diagnostics:
        assert isinstance(d, Diagnostic)
        assert d.span.line >= 1 and d.span.col >= 1, d


# --- mutations: each takes the lines of a spec and an integer source of choices ---------------

def _flip(lines: list[bytes], draw) -> list[bytes]:
    data = bytearray(b"".join(lines))
    if data:
        data[draw(len(data))] = draw(256)
    return bytes(data).splitlines(keepends=True)


def _delete(lines, draw):
    return lines[:(i := draw(len(lines)))] + lines[i + 1:] if lines else lines


def _duplicate(lines, draw):
    return lines[:(i := draw(len(lines)))] + [lines[i]] + lines[i:] if lines else lines


def _indent(lines, draw):
    if not lines:
        return lines
    i, shift = draw(len(lines)), draw(7) - 3  # -3..+3 spaces
    line = lines[i]
    lines[i] = b" " * shift + line if shift > 0 else line[min(-shift, len(line) - len(line.lstrip(b" "))):]
    return lines


def _swap_keys(lines, draw):
    """Swaps the keys of two `key: value` lines, keeping each line's indentation and value."""
    keyed = [i for i, line in enumerate(lines) if b":" in line]
    if len(keyed) < 2:
        return lines
    a, b = keyed[draw(len(keyed))], keyed[draw(len(keyed))]
    (ka, _, va), (kb, _, vb) = lines[a].partition(b":"), lines[b].partition(b":")
    indent_a = ka[:len(ka) - len(ka.lstrip())]
    indent_b = kb[:len(kb) - len(kb.lstrip())]
    lines[a], lines[b] = indent_a + kb.lstrip() + b":" + va, indent_b + ka.lstrip() + b":" + vb
    return lines


MUTATIONS = (_flip, _delete, _duplicate, _indent, _swap_keys)


@st.composite
def mutated_specs(draw_) -> tuple[Path, bytes]:
    """A seed file and its text after one to four mutations."""
    seed = draw_(st.sampled_from(SEEDS))
    lines = seed.read_bytes().splitlines(keepends=True)
    for _ in range(draw_(st.integers(1, 4))):
        mutation = draw_(st.sampled_from(MUTATIONS))
        lines = mutation(list(lines), lambda n: draw_(st.integers(0, max(n - 1, 0))))
    return seed, b"".join(lines)


# --- the properties -----------------------------------------------------------------------------

@FUZZ
@given(st.binary(max_size=2048))
def test_arbitrary_bytes_never_crash_the_loader(raw):
    document, diagnostics = load_bytes(raw, "fuzz.yaml")
    _assert_only_diagnostics(document, diagnostics)
    render("text", diagnostics, {"fuzz.yaml": SourceFile("fuzz.yaml", raw.decode("utf-8", "replace"))})


@FUZZ
@given(st.text(alphabet=st.sampled_from(list("ab: -[]{}&*!|>'\"#?,\n\t~") + ["\u3042", "\x07", "\ufeff"]),
               max_size=400))
def test_yaml_shaped_text_never_crashes_the_loader(text):
    _assert_only_diagnostics(*load_bytes(text.encode("utf-8"), "fuzz.yaml", Limits(max_alias_nodes=500)))


@settings(FUZZ, max_examples=300)
@given(mutated_specs())
def test_mutated_examples_never_crash_the_loader(mutated):
    _assert_only_diagnostics(*load_bytes(mutated[1], "fuzz.yaml"))


@settings(FUZZ, max_examples=200)
@given(mutated_specs())
def test_mutated_examples_never_crash_the_front_end(mutated):
    seed, raw = mutated
    # A copy of the seed's folder, so that `uses:` paths to components still resolve.
    with tempfile.TemporaryDirectory() as folder:
        copy = Path(folder) / "spec"
        shutil.copytree(seed.parent, copy)
        path = copy / seed.name
        path.write_bytes(raw)
        result = check_file(path)
        _assert_only_diagnostics(result.document, result.diagnostics, loader_only=False)
        for fmt in FORMATS:  # and whatever came out, every renderer can print it
            render(fmt, result.diagnostics, result.sources, color=True)
