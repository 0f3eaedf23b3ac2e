"""Credentials written as literals: the mistake that leaks keys into git history.

Two signals, either suffices: the value *is* shaped like a credential (a cloud
access key, a token with a known prefix, a private key, a URL with a password,
a Slack webhook), or the value sits under a name that says it is secret
(`WANDB_API_KEY`, `HF_TOKEN`, `db_password`) and is not `${{ secrets.NAME }}`.
Fields that hold a secret's *name* (`webhook_secret`, `storage_secret`...) are
checked for the first signal only, which catches a pasted URL or token there.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from mlopsdsl.check.context import CheckContext
from mlopsdsl.diagnostics import codes
from mlopsdsl.source import Path

_CREDENTIAL_SHAPES = (
    (re.compile(r"\b(AKIA|ASIA)[0-9A-Z]{16}\b"), "an AWS access key id"),
    (re.compile(r"\bgh[pousr]_[A-Za-z0-9]{30,}\b"), "a GitHub token"),
    (re.compile(r"\bgithub_pat_[A-Za-z0-9_]{40,}\b"), "a GitHub token"),
    (re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}"), "a Slack token"),
    (re.compile(r"hooks\.slack\.com/services/"), "a Slack webhook URL"),
    (re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"), "a private key"),
    (re.compile(r"\bsk-[A-Za-z0-9_-]{20,}\b"), "an API secret key"),
    (re.compile(r"\bhf_[A-Za-z0-9]{30,}\b"), "a Hugging Face token"),
    (re.compile(r"\beyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\."), "a JSON web token"),
    (re.compile(r"://[^/\s:@]+:[^/\s@]+@"), "a URL with a password"),
)
_SECRET_WORDS = frozenset({"password", "passwd", "pwd", "token", "secret", "credential", "credentials"})
_SECRET_PAIRS = frozenset({("api", "key"), ("access", "key"), ("secret", "key"), ("private", "key"),
                           ("auth", "key"), ("client", "secret")})
# A value that is one whole `${{ ... }}`: no literal text, whatever the expression says (a
# misspelled `secret.x` is the expression checker's to report, not a plain-text credential).
_WHOLE_EXPRESSION = re.compile(r"^\s*\$\{\{(?:(?!\}\}).)*\}\}\s*$", re.DOTALL)


@lru_cache(maxsize=4096)
def secret_named(key: str) -> bool:
    """`WANDB_API_KEY`, `HF_TOKEN`, `dbPassword` yes; `MAX_TOKENS`, `FEATURE_STORE_URL` no."""
    words = [w.lower() for w in re.split(r"[_\-.]|(?<=[a-z])(?=[A-Z])", key) if w]
    if any(w in _SECRET_WORDS for w in words) or words[-1:] == ["apikey"]:
        return True
    return any(pair in _SECRET_PAIRS for pair in zip(words, words[1:]))


# One pass over each string finds out whether any shape could match at all (most never do).
_ANY_SHAPE = re.compile("|".join(f"(?:{pattern.pattern})" for pattern, _ in _CREDENTIAL_SHAPES))


def credential_shape(value: str) -> str | None:
    if not _ANY_SHAPE.search(value):
        return None
    for pattern, what in _CREDENTIAL_SHAPES:
        if pattern.search(value):
            return what
    return None


_UNSEEN = object()


def check_literal_secrets(ctx: CheckContext) -> None:
    """Scan the spec's strings (a variant: only what its `set:` replaced; the rest was scanned)."""
    _scan(ctx, ctx.strings(changed_only=True))


def _scan(ctx: CheckContext, strings: list[tuple[Path, str, Any]]) -> None:
    shapes: dict[str, str | None] = {}  # a large spec repeats its strings: 17,000, 1,900 distinct at 1,000 steps
    for path, value, key in strings:
        if path[:1] == ("patches",):
            continue  # patches are literal target documents; they are checked after compile
        shape = shapes.get(value, _UNSEEN)
        if shape is _UNSEEN:
            shape = shapes[value] = credential_shape(value)
        key = _value_name(path, key)
        name_says_secret = (key is not None and secret_named(key) and not key.endswith("_secret")
                            and not _WHOLE_EXPRESSION.match(value) and _is_value_position(path))
        if shape or name_says_secret:
            what = shape or f"a credential (the name '{key}' says so)"
            name = (key or "value").lower().replace("-", "_")
            ctx.error(codes.LITERAL_SECRET, f"this looks like {what} written in plain text", path,
                      hint=f"store it as a secret and write `${{{{ secrets.{name} }}}}` (or, in fields "
                           f"named *_secret, the secret's name)")


def _value_name(path: Path, key: str | None) -> str | None:
    """The name a value goes by: its key, or for a param's `default` the param's name."""
    if len(path) >= 3 and path[0] == "params" and path[-1] == "default":
        return str(path[-2])
    return key


def _is_value_position(path: Path) -> bool:
    """Keys of env maps and param defaults hold values; other keys (e.g. `schema` columns) hold names."""
    if len(path) >= 2 and path[-2] == "env":
        return True
    return len(path) >= 3 and path[0] == "params" and path[-1] == "default"
