"""Secret references and the heuristics that refuse plain-text secrets (FM30)."""

from __future__ import annotations

import re
import urllib.parse

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

_SECRET_NAMES = re.compile(
    r"(pass(word|wd)?|secret|token|api[_-]?key|private[_-]?key|credential|auth)", re.IGNORECASE
)


# Query parameter names that carry a credential in common URL schemes, beyond the secret words
# above: API keys (?key=), Azure SAS (sig), and SigV4 presigned URLs (X-Amz-Signature and
# X-Amz-Credential; X-Amz-Security-Token matches "token").
# https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-query-string-auth.html
_SECRET_QUERY_NAMES = frozenset({"key", "sig", "signature", "x-amz-signature"})


def is_secret_ref(value: str) -> bool:
    return SECRET_REF.match(value) is not None


def looks_like_token(value: str) -> bool:
    return any(shape.search(value) for shape in _TOKEN_SHAPES)


def name_suggests_secret(name: str) -> bool:
    return _SECRET_NAMES.search(name) is not None


def secret_in_url(target: str, *, authority: bool = True) -> str | None:
    """What in a URL (or, with authority=False, a request path) carries a secret: a user name
    or password before the host, or a query parameter named like a credential; else None."""
    parts = urllib.parse.urlsplit(target)
    if authority and "@" in parts.netloc:
        return "a user name or password before the host (user:password@)"
    for name, _ in urllib.parse.parse_qsl(parts.query, keep_blank_values=True):
        if name_suggests_secret(name) or name.lower() in _SECRET_QUERY_NAMES:
            return f"the query parameter {name!r}"
    return None
