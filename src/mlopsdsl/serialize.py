"""Documents as data -> bytes, in one place, deterministically.

Keys keep the order the backend built them in (backends build in a fixed
order, so output is stable); strings that any YAML 1.1 or 1.2 reader could take
for something else (`on`, `yes`, `010`, `1e3`, `2024-01-01`, `null`...) are
quoted, because Kubernetes reads YAML 1.1 and GitHub reads YAML 1.2. Output is
UTF-8 with LF line endings and a final newline.
"""

from __future__ import annotations

import json
from typing import Any

import yaml

from mlopsdsl.backends.base import Artifact


class _Dumper(yaml.CSafeDumper):
    pass


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value and value.strip() and not value.startswith((" ", "\n")) else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _represent_str)
_Dumper.add_representer(tuple, yaml.SafeDumper.represent_list)


def dump_yaml(document: Any) -> str:
    return yaml.dump(document, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=4096,
                     default_flow_style=False, explicit_start=False)


def to_bytes(artifact: Artifact) -> bytes:
    if artifact.format == "text":
        text = artifact.text or ""
    elif artifact.format == "json":
        (document,) = artifact.documents
        text = json.dumps(document, indent=2, ensure_ascii=False, sort_keys=False) + "\n"
    else:
        head = "".join(f"# {line}\n" for line in artifact.header.splitlines())
        text = head + "---\n".join(dump_yaml(doc) for doc in artifact.documents)
    if not text.endswith("\n"):
        text += "\n"
    return text.replace("\r\n", "\n").encode("utf-8")
