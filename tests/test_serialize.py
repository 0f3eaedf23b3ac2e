"""The YAML emitter: every string reads back as a string under YAML 1.1 (PyYAML) and
YAML 1.2 (our loader), floats round-trip, and the layout is PyYAML's block style."""

from __future__ import annotations

import copy
import json

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mlopsdsl.backends.base import Artifact
from mlopsdsl.loader import load_text
from mlopsdsl.serialize import Commented, dump_yaml, to_bytes, yaml_scalar


def read_both(text: str, wrapped: bool = False):
    """(YAML 1.1 reading, YAML 1.2 reading) of `text`."""
    v11 = yaml.safe_load(text)
    document, diagnostics = load_text(text, "emitted.yaml")
    assert not diagnostics, diagnostics
    return v11, document.data


def roundtrip(data):
    text = dump_yaml({"v": data})
    v11, v12 = read_both(text)
    assert v11 == {"v": data}, text
    assert v12 == {"v": data}, text
    return text


AMBIGUOUS = ["on", "On", "ON", "off", "yes", "Yes", "No", "no", "y", "Y", "n", "N", "true", "False", "~",
             "null", "Null", "NULL", "010", "0o7", "0x1F", "0b101", "1e3", "1E3", "1_000", ".5", "-.5", "+1",
             "-1", "1.", "2024-01-01", "2024-1-1 10:00:00", "12:30", "190:20:30.15", ".inf", "-.Inf", ".NaN",
             "", " ", " lead", "trail ", ":", "a:", "a: b", "x #y", "#c", "*a", "&a", "!t", "%d", "@x", "`x",
             "- x", "-", "? x", "?", "|", ">", "'", '"', "[a]", "{a}", ",", "<<", "=", "---", "...", "--- a",
             "\t", "a\tb", "\x00", "\x07", "\x1b", "\x7f", "\x85", "\u2028", "\u2029", "\ufeff", "é", "日本",
             "🙂", "a\u00a0", "._", "10Gi", "500m", "3.11", "v1", "--flag=1", "a,b", "a[0]", "http://x:80/#f"]


@pytest.mark.parametrize("text", AMBIGUOUS)
def test_ambiguous_strings_stay_strings(text):
    roundtrip(text)
    roundtrip({text: 1} if text else {"k": text})


@pytest.mark.parametrize("word", ["on", "yes", "No", "y", "~", "null", "010", "0o7", "0x1F", "1e3", "1_000",
                                  ".5", "2024-01-01", "12:30", "", " x", "a: b", "*x", "&x", "!x", "%x", "@x",
                                  "`x", "- x", "? x"])
def test_ambiguous_strings_are_quoted(word):
    assert yaml_scalar(word).startswith('"')


@pytest.mark.parametrize("text", ["main", "ubuntu-latest", "--flag", "python", "a b c", "s3://bucket/key",
                                  "system.container-impl", "kfp.dsl:component", "gs://x/y.parquet"])
def test_ordinary_strings_stay_bare(text):
    assert yaml_scalar(text) == text


@pytest.mark.parametrize("value,expected", [
    (1.0, "1.0"), (0.25, "0.25"), (1e-05, "1.0e-05"), (1e16, "1.0e+16"), (1.5e300, "1.5e+300"),
    (float("inf"), ".inf"), (float("-inf"), "-.inf"), (float("nan"), ".nan"), (-0.0, "-0.0"),
    (2**70, "1180591620717411303424"), (True, "true"), (False, "false"), (None, "null"), (0, "0"),
])
def test_scalars(value, expected):
    assert yaml_scalar(value) == expected
    if value == value:  # NaN is not equal to itself
        roundtrip(value)


def test_layout_matches_pyyaml_block_style():
    data = {"b": [{"x": 1, "w": [1, [2, 3]]}, []], "a": {"c": {}, "d": "text"}, "e": [[{"f": 1}]]}
    assert dump_yaml(data) == yaml.safe_dump(data, sort_keys=False, default_flow_style=False)


@pytest.mark.parametrize("text,header", [("a\nb", "|-"), ("a\nb\n", "|"), ("a\nb\n\n", "|+"),
                                         ("\nlead\n", "|"), ("x\n  indented\n", "|")])
def test_multiline_strings_are_literal_blocks(text, header):
    emitted = roundtrip(text)
    assert emitted.startswith(f"v: {header}\n")


@pytest.mark.parametrize("text", ["  starts indented\nx", "a\r\nb", "x\n   \ny", "a\x85b\nc", "\n\n"])
def test_multiline_strings_a_block_cannot_carry_are_quoted(text):
    assert roundtrip(text).startswith('v: "')


def test_unicode_is_written_as_utf8():
    artifact = Artifact("x.yaml", documents=({"name": "modèle 日本 🙂"},))
    assert to_bytes(artifact) == "name: modèle 日本 🙂\n".encode()


def test_stream_header_and_json():
    artifact = Artifact("x.yaml", documents=({"a": 1}, [1]), header="made by\n\nme")
    assert to_bytes(artifact) == b"# made by\n#\n# me\na: 1\n---\n- 1\n"
    data = {"b": [1, {"c": "é"}], "a": None}
    out = to_bytes(Artifact("x.json", format="json", documents=(data,)))
    assert out == (json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode()
    with pytest.raises(ValueError):
        to_bytes(Artifact("x.json", format="json", documents=({"a": float("nan")},)))


def test_non_data_and_non_string_keys_are_refused():
    with pytest.raises(TypeError):
        dump_yaml({"a": object()})
    with pytest.raises(TypeError):
        dump_yaml({1: "a"})
    with pytest.raises(ValueError):
        dump_yaml({"k" * 2000: 1})


scalars = (st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False)
           | st.text(max_size=30) | st.sampled_from(AMBIGUOUS))
keys = st.text(max_size=20) | st.sampled_from(AMBIGUOUS)
data = st.recursive(scalars, lambda inner: st.lists(inner, max_size=5) | st.dictionaries(keys, inner, max_size=5),
                    max_leaves=40)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data)
def test_property_yaml11_and_yaml12_read_back_the_data(value):
    roundtrip(value)
    if isinstance(value, dict) and value:
        v11, v12 = read_both(dump_yaml(value))
        assert v11 == v12 == value


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=60))
def test_property_multiline_text(text):
    roundtrip(text + "\n" + text)
    roundtrip([text, {"k": "\n" + text + "\n"}])


def test_commented_values_carry_a_trailing_comment_through_copies_and_patches():
    from mlopsdsl.patches import merge_patch

    ref = Commented("actions/checkout@" + "a" * 40, "v4.1.7")
    data = {"steps": [{"uses": ref}, {"name": Commented("on", "a word YAML 1.1 reads as true")}]}
    patched = merge_patch(copy.deepcopy(data), {"extra": 1})
    text = dump_yaml(patched)
    assert "- uses: actions/checkout@" + "a" * 40 + " # v4.1.7\n" in text
    assert '- name: "on" # a word YAML 1.1 reads as true\n' in text
    assert read_both(text) == (patched, patched) and patched["steps"][0]["uses"] == ref
    assert json.loads(to_bytes(Artifact("x.json", format="json", documents=(patched,)))) == patched
    for bad in [("a\nb", "c"), ("a", "two\nlines"), ("a", " ")]:
        with pytest.raises(ValueError):
            Commented(*bad)
