"""Credentials written into a URL: one matcher shared by the spec loader (which refuses them in
validate.http.url) and `conveyor check` (CV123, which finds them in templates). It lives below
both because rules/ must not import spec/ (ARCHITECTURE.md: the import graph is one-way) and
imports nothing from conveyor."""

from __future__ import annotations

import re
import urllib.parse
from typing import NamedTuple

SECRET_NAMES = re.compile(
    r"(pass(word|wd)?|secret|token|api[_-]?key|private[_-]?key|credential|auth)", re.IGNORECASE
)

# Query parameter names that carry a credential in common URL schemes, beyond the secret words
# above: API keys (?key=), Azure SAS (sig), and SigV4 presigned URLs (X-Amz-Signature and
# X-Amz-Credential; X-Amz-Security-Token matches "token").
# https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-query-string-auth.html
SECRET_QUERY_NAMES = frozenset({"key", "sig", "signature", "x-amz-signature"})


class UrlSecret(NamedTuple):
    """Where a URL carries a credential, and the credential as written."""

    where: str
    value: str


def name_suggests_secret(name: str) -> bool:
    return SECRET_NAMES.search(name) is not None


def url_secret(target: str, *, authority: bool = True, user_alone: bool = True) -> UrlSecret | None:
    """The first credential a URL (or, with authority=False, a request path) carries: a user
    name or password before the host, or a query parameter named like a credential; else None.
    With user_alone=False a user name without a password (git@, ssh://deploy@) is not one.
    Raises ValueError on a malformed URL (urllib.parse.urlsplit, e.g. an unclosed '[')."""
    parts = urllib.parse.urlsplit(target)
    if authority and "@" in parts.netloc:
        userinfo = parts.netloc.rsplit("@", 1)[0]
        user, colon, password = userinfo.partition(":")
        if colon:
            return UrlSecret("a user name or password before the host (user:password@)", password)
        if user_alone:
            return UrlSecret("a user name or password before the host (user:password@)", user)
    for name, value in urllib.parse.parse_qsl(parts.query, keep_blank_values=True):
        if name_suggests_secret(name) or name.lower() in SECRET_QUERY_NAMES:
            return UrlSecret(f"the query parameter {name!r}", value)
    return None
