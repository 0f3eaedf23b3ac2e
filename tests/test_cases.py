"""One runner for every diagnostic case file under tests/cases/ (the way mypy's test-data works).

A case file is a spec with the expectation written on the offending line:

    framwork: xgboost   # expect: MLD201
    a: {x: 1, x: 2, x: 3}   # expect: MLD109, MLD109

The runner checks the file once and asserts that the multiset of (line, code)
of all diagnostics equals the expected one exactly, so a case also proves that
every error of a file is reported in one run. Files under `valid/` expect no
diagnostic at all; files under any `components/` folder are inputs of other
cases (`uses:`) and are not run on their own.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest
from conftest import CASES, check_file

EXPECT = re.compile(r"#\s*expect:\s*(MLD\d{3}(?:\s*,\s*MLD\d{3})*)\s*$")
LOOSE_EXPECT = re.compile(r"#\s*expect\b", re.IGNORECASE)


def _case_files() -> list[Path]:
    return sorted(p for p in CASES.rglob("*.yaml") if "components" not in p.relative_to(CASES).parts)


def expectations(path: Path) -> Counter:
    """(line, code) -> count, from the `# expect:` comments; a malformed one fails the case."""
    expected: Counter = Counter()
    text = path.read_bytes().decode("utf-8", "replace")
    for number, line in enumerate(text.splitlines(), 1):
        match = EXPECT.search(line)
        if match:
            expected.update((number, code.strip()) for code in match.group(1).split(","))
        elif LOOSE_EXPECT.search(line):
            pytest.fail(f"{path}:{number}: malformed expectation {line.strip()!r}; "
                        "write `# expect: MLD201` or `# expect: MLD201, MLD204` at the end of the line", pytrace=False)
    return expected


def _describe(path: Path, key: tuple, diagnostics: list) -> str:
    line, code = key
    if not isinstance(line, int):  # a diagnostic in another file (a component): shown by its position
        found = [d.message for d in diagnostics if (f"{d.span}", d.code.code) == key]
        return f"{line}: {code}" + (f" {found[0]!r}" if found else "")
    messages = [d.message for d in diagnostics if (d.span.line, d.code.code) == key]
    source = path.read_bytes().decode("utf-8", "replace").splitlines()
    text = source[line - 1].strip() if 1 <= line <= len(source) else ""
    return f"line {line}: {code}" + (f" {messages[0]!r}" if messages else "") + f"\n        | {text}"


@pytest.mark.parametrize("path", _case_files(), ids=lambda p: str(p.relative_to(CASES)))
def test_case(path: Path):
    expected = expectations(path)
    is_valid_case = path.relative_to(CASES).parts[0] == "valid"
    if is_valid_case:
        assert not expected, f"{path}: a case under valid/ must not carry `# expect:` comments"
    else:
        assert expected, f"{path}: a case file needs at least one `# expect: MLDnnn` comment"
    diagnostics = check_file(path).diagnostics
    # A diagnostic in another file (a component) cannot match a line of this one.
    actual = Counter((d.span.line, d.code.code) if d.span.file == str(path) else (f"{d.span}", d.code.code)
                     for d in diagnostics)
    if actual == expected:
        return
    missing = expected - actual
    unexpected = actual - expected
    report = [f"{path.relative_to(CASES)}: diagnostics differ from the `# expect:` comments"]
    report += [f"  missing    {_describe(path, key, diagnostics)}" for key in sorted(missing, key=str)]
    report += [f"  unexpected {_describe(path, key, diagnostics)}" for key in sorted(unexpected, key=str)]
    pytest.fail("\n".join(report), pytrace=False)
