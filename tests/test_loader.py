"""Every refusal of the loader: its code, its position, and what the CLI makes of it.

Cases that can carry a `# expect:` comment live in tests/cases/loader/; here are
the ones that cannot (bytes, BOMs, sizes, bombs) and the loader's positive
promises (YAML 1.2 scalars, the span index).
"""

from __future__ import annotations

import codecs
import math
import re

import pytest
from conftest import MINIMAL_SPEC, run_cli

from mlopsdsl import loader
from mlopsdsl.loader import Limits, load_bytes, load_file, load_text
from mlopsdsl.source import Span


def load(raw: bytes | str, limits: Limits | None = None):
    """Load bytes (or UTF-8 text) as a file named f.yaml; returns (data or None, diagnostics)."""
    document, diagnostics = load_bytes(raw.encode() if isinstance(raw, str) else raw, "f.yaml", limits)
    return (document.data if document else None), diagnostics


def only(diagnostics, code: str):
    assert [d.code.code for d in diagnostics] == [code], [(d.code.code, d.message) for d in diagnostics]
    return diagnostics[0]


def at(d) -> tuple[int, int]:
    return d.span.line, d.span.col


BILLION_LAUGHS = "a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
    f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]\n" for i in range(1, 10))

# name -> (file bytes, code, line, col): every one of them must exit 1 through the CLI with that position.
HOSTILE = {
    "not_utf8": (b"kind: Project\nname: caf\xe9\n", "MLD104", 2, 10),
    "utf16_bom": (codecs.BOM_UTF16_LE + "kind: Project\n".encode("utf-16-le"), "MLD105", 1, 1),
    "utf32_bom": (codecs.BOM_UTF32_BE + "kind: Project\n".encode("utf-32-be"), "MLD105", 1, 1),
    "empty": (b"", "MLD103", 1, 1),
    "comments_only": (b"# nothing\n\n   # here\n", "MLD103", 1, 1),
    "two_documents": (b"a: 1\n---\nb: 2\n", "MLD107", 2, 1),
    "top_level_list": (b"- a\n- b\n", "MLD108", 1, 1),
    "top_level_scalar": (b"42\n", "MLD108", 1, 1),
    "duplicate_key": (b"a: 1\nb: 2\na: 3\n", "MLD109", 3, 1),
    "python_tag": (b"a: !!python/object/apply:os.system ['true']\n", "MLD110", 1, 4),
    "billion_laughs": (BILLION_LAUGHS.encode(), "MLD111", 1, 15),
    "deep_flow": (b"a: " + b"[" * 100_000 + b"]" * 100_000 + b"\n", "MLD112", 1, 3 + 64),
    "deep_unclosed": (b"a: " + b"{b: " * 100_000 + b"\n", "MLD112", 1, 3 + 4 * 63 + 1),
    "control_character": (b"a: 1\nb: x\x07y\n", "MLD114", 2, 5),
    "nul": (b"a: \x00\n", "MLD114", 1, 4),
    "tab_indent": (b"a:\n\tb: 1\n", "MLD106", 2, 1),
    "syntax": (b"a: [1, 2\nb: 3\n", "MLD106", 2, 2),
}


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_input_in_process(name):
    raw, code, line, col = HOSTILE[name]
    data, diagnostics = load(raw)
    assert data is None
    assert at(only(diagnostics, code)) == (line, col)


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_input_through_cli(name, write_spec):
    raw, code, line, col = HOSTILE[name]
    path = write_spec(raw, f"{name}.yaml")
    rc, out, err = run_cli("validate", "--format", "concise", path)
    assert rc == 1, (out, err)
    assert "Traceback" not in err + out
    assert re.match(rf"{re.escape(str(path))}:{line}:{col}: error\[{code}\] ", out), out
    # and the default format shows the same position with a snippet, still without a traceback
    rc, out, err = run_cli("validate", path)
    assert rc == 1 and f"error[{code}]" in out and f"--> {path}:{line}:{col}" in out
    assert "Traceback" not in err + out


def test_missing_file_is_exit_2(tmp_path):
    rc, out, err = run_cli("validate", tmp_path / "nope.yaml")
    assert rc == 2
    assert "error[MLD101]" in out and "Traceback" not in err


def test_not_utf8_names_the_byte_offset():
    d = only(load(b"a: 1\nb: \xff\n")[1], "MLD104")
    assert "byte offset 8" in d.message and "0xff" in d.message
    assert at(d) == (2, 4)
    # the column counts characters, not bytes, of what precedes the bad byte
    assert at(only(load("a: 日本\nb: é".encode() + b"\xfe")[1], "MLD104")) == (2, 5)


@pytest.mark.parametrize("bom", [codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE, codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE])
def test_foreign_bom_is_refused(bom):
    d = only(load(bom + b"a: 1\n")[1], "MLD105")
    assert ("UTF-32" if len(bom) == 4 else "UTF-16") in d.message


def test_utf8_bom_is_accepted_and_does_not_shift_columns():
    document, diagnostics = load_bytes(codecs.BOM_UTF8 + b"a: 1\nb: x\n", "f.yaml")
    assert diagnostics == [] and document.data == {"a": 1, "b": "x"}
    assert document.index.get(("a",)).span == Span("f.yaml", 1, 4, 1, 5)


def test_empty_and_comment_only_files_say_which():
    assert "empty" in only(load(b" \n\n")[1], "MLD103").message
    assert "only comments" in only(load(b"# x\n")[1], "MLD103").message


def test_duplicate_key_shows_both_positions():
    d = only(load(b"metadata:\n  name: a\n  name: b\n")[1], "MLD109")
    assert at(d) == (3, 3) and d.path == ("metadata", "name")
    assert [(r.span.line, r.span.col) for r in d.related] == [(2, 3)]


def test_explicit_tags_never_run(tmp_path):
    marker = tmp_path / "pwned"
    data, diagnostics = load(f"a: !!python/object/apply:os.system ['touch {marker}']\nb: !Ref x\nc: !!str 1\n")
    assert data is None and not marker.exists()
    assert [(d.code.code, d.span.line) for d in diagnostics] == [("MLD110", 1), ("MLD110", 2), ("MLD110", 3)]
    assert "!!python/object/apply:os.system" in diagnostics[0].message


def test_billion_laughs_stops_at_the_alias_budget(monkeypatch):
    """The walk stops after the budget, not after 10**9 nodes: count the nodes it visits."""
    visits = 0
    walk = loader._Walker._walk_node

    def counting(self, *args):
        nonlocal visits
        visits += 1
        return walk(self, *args)

    monkeypatch.setattr(loader._Walker, "_walk_node", counting)
    d = only(load(BILLION_LAUGHS)[1], "MLD111")
    assert "10,000" in d.message
    real_nodes = 1 + 10 * 2 + 10 * 11  # the root, ten keys and lists, their items
    assert visits <= Limits().max_alias_nodes + real_nodes + 1
    visits = 0
    only(load(BILLION_LAUGHS, Limits(max_alias_nodes=50))[1], "MLD111")
    assert visits <= 50 + real_nodes + 1


def test_aliases_within_budget_are_fine():
    data, diagnostics = load("base: &b {cpu: 1}\nstep: *b\n")
    assert diagnostics == [] and data == {"base": {"cpu": 1}, "step": {"cpu": 1}}


def test_a_large_string_aliased_many_times_stops_at_the_byte_budget():
    # 400 aliases are few nodes, but each copies 1 MB into the output: 400 MB from a 1 MB file.
    text = "big: &s " + "x" * 1_000_000 + "\nrefs: [" + ", ".join(["*s"] * 400) + "]\n"
    d = only(load(text)[1], "MLD111")
    assert f"{Limits().max_alias_bytes:,} characters" in d.message and d.path[0] == "refs"
    data, diagnostics = load("big: &s " + "x" * 1000 + "\nrefs: [" + ", ".join(["*s"] * 400) + "]\n")
    assert diagnostics == [] and len(data["refs"]) == 400  # 400 kB of copies: within the budget
    assert only(load(text, Limits(max_alias_bytes=5_000_000))[1], "MLD111").path == ("refs", 5)  # 5 copies fit


@pytest.mark.parametrize("opener", ["[", "{a: "])
def test_deep_nesting_is_refused_without_composing(opener, monkeypatch):
    # 100k levels would overflow libyaml's recursive composer; the pre-scan must stop first.
    monkeypatch.setattr(loader, "_compose", lambda *a: pytest.fail("composed a 100k-deep file"))
    d = only(load("a: " + opener * 100_000)[1], "MLD112")
    assert "64" in d.message and d.span.line == 1


def test_brackets_after_a_dollar_do_not_nest():
    """`${{` is not counted towards the depth bound; in flow context it is a syntax error, not nesting."""
    text = "a: \"${{ x }}\"\nb: [${{ y }} ${[]}]"
    assert loader._depth_bound(text) == 1 + 1 + len("b: [${{ y }} ${[]}]")  # `[` and the `[` of `[]`; the line
    d = only(load("a: [\n" + " ${{\n" * 100_000)[1], "MLD106")  # composed on the main stack: no crash
    assert d.span.line == 2


def test_depth_limit_is_configurable():
    assert load("a: [[[1]]]", Limits(max_depth=3))[1][0].code.code == "MLD112"
    assert load("a: [[1]]", Limits(max_depth=3))[1] == []


def test_size_limit_is_checked_before_decoding_or_parsing(monkeypatch, write_spec):
    monkeypatch.setattr(loader, "_decode", lambda *a: pytest.fail("decoded an oversized file"))
    raw = b"a: \xff" + b"[" * 200  # not UTF-8, not YAML: only the size may be reported
    d = only(load(raw, Limits(max_bytes=100))[1], "MLD102")
    assert "204 bytes" in d.message and "100 bytes" in d.message
    path = write_spec(raw)
    assert only(load_file(str(path), Limits(max_bytes=100))[1], "MLD102")


def test_size_limit_from_environment(write_spec, monkeypatch):
    path = write_spec(MINIMAL_SPEC)
    monkeypatch.setenv("MLOPSDSL_MAX_BYTES", "10")
    assert Limits.from_env().max_bytes == 10
    rc, out, err = run_cli("validate", "--format", "concise", path, env={"MLOPSDSL_MAX_BYTES": "10"})
    assert rc == 1 and f"{path}:1:1: error[MLD102]" in out and "Traceback" not in err


def test_control_character_is_named():
    d = only(load(b"a: ok\nb: x\x1by\n")[1], "MLD114")
    assert "U+001B" in d.message and at(d) == (2, 5)


def test_tabs_refused_as_indentation_but_fine_inside_values():
    d = only(load(b"a:\n\tb: 1\n")[1], "MLD106")
    assert "tab" in d.message
    assert load(b"a: x\ty\nb: 1\t# comment\nc: \"\\t\"\n") == ({"a": "x\ty", "b": 1, "c": "\t"}, [])


@pytest.mark.parametrize("text, value", [
    ("on", "on"), ("yes", "yes"), ("no", "no"), ("off", "off"), ("y", "y"), ("n", "n"), ("Yes", "Yes"),
    ("true", True), ("False", False), ("010", 10), ("0o10", 8), ("0x1F", 31), ("-7", -7), ("+3", 3),
    ("2024-01-01", "2024-01-01"), ("1.4.0", "1.4.0"), ("1_000", "1_000"), ("0b11", "0b11"), ("0o9", "0o9"),
    ("~", None), ("null", None), ("", None), ("1.5", 1.5), ("1e3", 1000.0), (".5", 0.5),
    (".inf", math.inf), ("-.inf", -math.inf), ("'010'", "010"), ('"true"', "true"), ("12:30", "12:30"),
])
def test_yaml_1_2_core_schema_scalars(text, value):
    data, diagnostics = load(f"v: {text}\n")
    assert diagnostics == []
    assert data["v"] == value and type(data["v"]) is type(value)


def test_nan_is_a_float():
    assert math.isnan(load("v: .nan\n")[0]["v"])


SPEC = 'metadata:\n  name: "日本語"\n  labels: {team: ml, 名前: x}\nsteps:\n  - a\n  - {b: 1}\n'


@pytest.mark.parametrize("path, value, key", [
    (("metadata",), (2, 3, 4, 1), (1, 1, 1, 9)),                    # block mapping: to the next key
    (("metadata", "name"), (2, 9, 2, 14), (2, 3, 2, 7)),           # quoted, wide characters count once
    (("metadata", "labels", "名前"), (3, 26, 3, 27), (3, 22, 3, 24)),  # flow mapping after wide characters
    (("steps", 0), (5, 5, 5, 6), None),                            # block sequence item
    (("steps", 1, "b"), (6, 9, 6, 10), (6, 6, 6, 7)),              # flow mapping inside a sequence
])
def test_span_index(path, value, key):
    document, diagnostics = load_text(SPEC, "f.yaml")
    assert diagnostics == []
    info = document.index.get(path)
    assert info.span == Span("f.yaml", *value)
    assert (info.key_span == Span("f.yaml", *key)) if key else info.key_span is None


def test_span_index_offsets_and_missing_paths():
    document, _ = load_text(SPEC, "f.yaml")
    name = document.index.get(("metadata", "name"))
    assert SPEC[name.offset:name.offset + 5] == '"日本語"' and name.style == '"'
    # a path the file lacks resolves to its nearest ancestor (where the user must add it)
    assert document.index.span(("metadata", "owners", 0)) == document.index.get(("metadata",)).span
    assert document.index.span(("metadata", "name"), key=True) == Span("f.yaml", 2, 3, 2, 7)
    assert document.index.span(("nowhere",)) == document.index.get(()).span
