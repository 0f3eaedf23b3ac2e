"""THE table of third-party actions the generated workflows use, pinned by commit.

A tag (`@v4`) can be moved by whoever controls the action's repository; a full
40-character commit SHA cannot. Every `uses:` the backend writes comes from
`uses(name)`, so this table is the one place to review and bump. The version
goes in a trailing comment (`uses: actions/checkout@<sha> # v7.0.1`), the form
Dependabot, Renovate and zizmor's online `ref-version-mismatch` read.

Each SHA was read from the action's own repository (`git rev-parse TAG^{commit}`
on a mirror of it); bump by re-reading the tag, never by editing a digit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["KFP_REQUIREMENT", "KUBECTL_VERSION", "PINS", "Pin", "annotate", "uses"]


@dataclass(frozen=True)
class Pin:
    repo: str  # owner/name as GitHub spells it
    sha: str  # the commit the tag points to (tags dereferenced)
    version: str  # the tag, for humans and update bots

    def __post_init__(self) -> None:
        if not re.fullmatch(r"[0-9a-f]{40}", self.sha):
            raise ValueError(f"{self.repo}: a pin is a full 40-character commit SHA, not {self.sha!r}")

    @property
    def ref(self) -> str:
        return f"{self.repo}@{self.sha}"


PINS: dict[str, Pin] = {
    "checkout": Pin("actions/checkout", "3d3c42e5aac5ba805825da76410c181273ba90b1", "v7.0.1"),
    "setup-python": Pin("actions/setup-python", "5fda3b95a4ea91299a34e894583c3862153e4b97", "v7.0.0"),
    "setup-kubectl": Pin("Azure/setup-kubectl", "829323503d1be3d00ca8346e5391ca0b07a9ab0d", "v5.1.0"),
}

# The kubectl the deploy jobs install: a fixed release, not `latest`, so a deploy
# re-run tomorrow runs the same client (within the one-minor skew KServe clusters allow).
KUBECTL_VERSION = "v1.33.0"
# The KFP SDK the train jobs submit with: the version the conformance kit judges against.
KFP_REQUIREMENT = "kfp==2.17.0"


def uses(name: str) -> str:
    return PINS[name].ref


_BY_REF = {pin.ref: pin for pin in PINS.values()}
# A `uses:` line exactly as the serializer writes it: bare value, optional `- ` item prefix.
_USES_LINE = re.compile(r"^(?P<lead> *(?:- )?uses: )(?P<ref>[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+@[0-9a-f]{40})$")


def annotate(text: str) -> str:
    """Append `# <version>` to every `uses:` line of serialized workflow YAML.

    Only lines that are exactly `uses: <a pinned ref>` change, and a ref that
    is not in the table is an error: it means a builder bypassed `uses()`.
    """
    out = []
    for line in text.split("\n"):
        match = _USES_LINE.match(line)
        if match:
            pin = _BY_REF.get(match["ref"])
            if pin is None:
                raise ValueError(f"unpinned or unknown action reference: {match['ref']}")
            line = f"{line} # {pin.version}"
        elif re.match(r"^ *(?:- )?uses:", line):
            raise ValueError(f"a `uses:` line the pin table does not know: {line.strip()}")
        out.append(line)
    return "\n".join(out)
