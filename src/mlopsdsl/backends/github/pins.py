"""THE table of third-party actions the generated workflows use, pinned by commit.

A tag (`@v4`) can be moved by whoever controls the action's repository; a full
40-character commit SHA cannot. Every `uses:` the backend writes comes from
`uses(name)`, so this table is the one place to review and bump. Each `uses:`
line carries its tag as a trailing comment (`actions/checkout@<sha> # v7.0.1`),
as Dependabot and zizmor expect.

Each SHA was read from the action's own repository (`git rev-parse TAG^{commit}`
on a mirror of it); bump by re-reading the tag, never by editing a digit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from mlopsdsl.backends.base import Commented

__all__ = ["KFP_REQUIREMENT", "KUBECTL_VERSION", "PINS", "Pin", "check_pinned", "uses"]


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


def uses(name: str) -> Commented:
    """`owner/action@<sha>`, written with `# <tag>` after it."""
    pin = PINS[name]
    return Commented(pin.ref, pin.version)


_BY_REF = {pin.ref: pin for pin in PINS.values()}


def check_pinned(workflow: dict) -> None:
    """Every `uses:` of a workflow comes from this table; anything else means a builder bypassed `uses()`."""
    for job in workflow.get("jobs", {}).values():
        for step in job.get("steps", ()):
            ref = step.get("uses")
            if ref is not None and ref not in _BY_REF:
                raise ValueError(f"unpinned or unknown action reference: {ref}")
