"""Secret references and the heuristics that refuse plain-text secrets (FM30)."""

from __future__ import annotations

import re

from conveyor.secret_urls import name_suggests_secret, url_secret

__all__ = [
    "SECRET_REF",
    "SECRET_REF_HELP",
    "is_secret_ref",
    "looks_like_token",
    "name_suggests_secret",
    "secret_in_url",
]

# A reference names where a secret lives; its value never appears in the spec or the template.
SECRET_REF = re.compile(
    r"^(?:ssm:(?P<ssm>/[A-Za-z0-9_.\-/]+)"
    r"|secretsmanager:(?P<sm>[A-Za-z0-9/_+=.@\-]+)(?::(?P<key>[A-Za-z0-9_.\-]+))?)$"
)

# Help text naming secret references (not a secret itself).
SECRET_REF_HELP = (
    "a reference such as 'ssm:/team/app/dockerhub-password' (SSM SecureString parameter) or "  # noqa: S105
    "'secretsmanager:team/app/dockerhub:password' (secret name, optional JSON key)"
)

# Shapes of real credentials. A match anywhere in a value is refused: a token pasted into
# conveyor.yaml would end up in git and in the CloudFormation template (FM30).
_TOKEN_SHAPES = (
    re.compile(r"gh[pousr]_[A-Za-z0-9]{20,}"),  # GitHub tokens
    re.compile(r"github_pat_[A-Za-z0-9_]{20,}"),
    re.compile(r"(?:AKIA|ASIA)[A-Z0-9]{16}"),  # AWS access key ids
    re.compile(r"xox[baprs]-[A-Za-z0-9-]{10,}"),  # Slack tokens
    re.compile(r"dckr_pat_[A-Za-z0-9_\-]{10,}"),  # Docker Hub access tokens
    re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
    re.compile(r"glpat-[A-Za-z0-9_\-]{20,}"),  # GitLab tokens
)


def is_secret_ref(value: str) -> bool:
    return SECRET_REF.match(value) is not None


def looks_like_token(value: str) -> bool:
    return any(shape.search(value) for shape in _TOKEN_SHAPES)


def secret_in_url(target: str, *, authority: bool = True) -> str | None:
    """What in a URL (or, with authority=False, a request path) carries a secret: a user name
    or password before the host, or a query parameter named like a credential; else None."""
    found = url_secret(target, authority=authority)
    return found.where if found else None
