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

# A query parameter name is judged by its words, not its letters: ?author= and ?bypass_cache=
# hold "auth" and "pass" but name no credential. Words are split at _, -, . and camelCase
# (authToken, XAmzSignature, API-KEY) and lowercased.
_WORD = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|[0-9]+")

# A word that names a credential wherever it stands in the name (access_token, client_secret,
# X-Amz-Signature, X-Amz-Credential, X-Amz-Security-Token), and compounds written as one word.
# Azure SAS signs with ?sig=; SigV4 presigned URLs carry X-Amz-Signature, X-Amz-Credential and
# X-Amz-Security-Token.
# https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-query-string-auth.html
# https://learn.microsoft.com/en-us/rest/api/storageservices/create-service-sas
_PASSWORDS = {"password", "passwd", "pass", "pwd", "passphrase"}
_TOKENS = {"token", "secret", "sig", "signature", "auth", "authorization", "credential"}
_ONE_WORD = {"accesstoken", "authtoken", "apitoken", "sessiontoken", "clientsecret", "apisecret"}
_ONE_WORD_KEYS = {"apikey", "accesskey", "privatekey", "secretkey", "signingkey"}
SECRET_QUERY_WORDS = frozenset(_PASSWORDS | _TOKENS | {"credentials"} | _ONE_WORD | _ONE_WORD_KEYS)
# "key" alone (?key=, Google's API keys) or after a word that makes it a credential
# (api_key, private-key, Azure API Management's subscription-key); sort_key and partitionKey
# name a field.
# https://learn.microsoft.com/en-us/azure/api-management/api-management-subscriptions
_KEY_QUALIFIERS = frozenset(
    {"api", "access", "private", "secret", "client", "subscription", "signing", "auth"}
)
# Paging tokens are handed to anyone allowed to list and open nothing by themselves: S3's
# ?continuation-token= ("obfuscated and is not a real key"), nextToken, page_token.
# https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectsV2.html
_PAGING = frozenset({"next", "continuation", "page", "pagination"})


def query_name_is_secret(name: str) -> bool:
    """Whether a query parameter's name says its value is a credential, by whole words."""
    words = [word.lower() for word in _WORD.findall(name)]
    for index, word in enumerate(words):
        before = words[index - 1] if index else ""
        if word == "token" and before in _PAGING:
            continue
        if word in SECRET_QUERY_WORDS:
            return True
        if word == "key" and (len(words) == 1 or before in _KEY_QUALIFIERS):
            return True
    return False


# Where a URL carries a credential, and the credential as written. Declared with its types,
# not as a class with annotations (strings, under ``from __future__ import annotations``, which
# typing would compile: conveyor.rules.hit says what that costs a check).
UrlSecret = NamedTuple("UrlSecret", [("where", str), ("value", str)])  # noqa: UP014


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
        if query_name_is_secret(name):
            return UrlSecret(f"the query parameter {name!r}", value)
    return None
