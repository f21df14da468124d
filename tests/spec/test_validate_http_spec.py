"""The validation keys of the spec: what can be checked, and what no mechanism can fit."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from conveyor.spec import SpecError, parse_spec

ROOT = Path(__file__).resolve().parents[2]
STOREFRONT = (ROOT / "examples" / "codecommit-blue-green.yaml").read_text()
MINIMAL = (ROOT / "examples" / "minimal.yaml").read_text()


def _error(text: str) -> str:
    with pytest.raises(SpecError) as caught:
        parse_spec(text, "conveyor.yaml")
    return str(caught.value)


def _with_check(text: str, check: str) -> str:
    marker = "    validate:\n      http: "
    assert marker in text
    head, _, rest = text.partition(marker)
    _, _, tail = rest.partition("\n")
    return f"{head}{marker}{check}\n{tail}"


def test_a_check_longer_than_the_codedeploy_hook_is_refused() -> None:
    """Issue 17/4: a CodeDeploy hook gets one 10-minute invocation and no continuation;
    31 attempts of 60 s with 120 s between them can never finish there."""
    text = _with_check(
        STOREFRONT, "{path: /health, retries: 30, interval_seconds: 120, timeout_seconds: 60}"
    )

    message = _error(text)

    assert "conveyor.yaml" in message
    assert "validate.http can take 5460 s" in message
    assert "CodeDeploy traffic hook, which has 570 s" in message
    assert "lower retries, interval_seconds or timeout_seconds" in message


def test_long_checks_are_accepted_where_they_can_continue() -> None:
    """The pipeline action continues through CodePipeline continuation tokens and ECS native
    blue/green hooks return IN_PROGRESS: neither is bounded by one invocation."""
    long_check = (
        "{url: https://api.staging.example.com/health, retries: 30, interval_seconds: 120, "
        "timeout_seconds: 60}"
    )
    spec = parse_spec(_with_check(MINIMAL, long_check), "conveyor.yaml")
    check = spec.environments[0].validation
    assert check is not None and check.longest_seconds == 5460


def test_the_longest_check_that_fits_the_hook_is_accepted() -> None:
    # 10 attempts of 30 s and 9 waits of 30 s: 570 s exactly; one second more per wait is not.
    fits = "{path: /health, retries: 9, interval_seconds: 30, timeout_seconds: 30}"
    spec = parse_spec(_with_check(STOREFRONT, fits), "conveyor.yaml")
    assert spec.environments[0].validation is not None
    too_long = fits.replace("interval_seconds: 30", "interval_seconds: 31")
    assert "validate.http can take 579 s" in _error(_with_check(STOREFRONT, too_long))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("server_name: 'not a name'", "server_name"),
        ("server_name: -leading.example", "server_name"),
        ("ca_certificate: 'hello'", "ca_certificate"),
    ],
)
def test_malformed_tls_keys_are_refused(value: str, expected: str) -> None:
    check = "{url: https://api.staging.example.com/health, " + value + "}"
    assert expected in _error(_with_check(MINIMAL, check))


def test_server_name_is_kept() -> None:
    check = "{url: https://lb.example.com/health, server_name: api.example.com}"
    spec = parse_spec(_with_check(MINIMAL, check), "conveyor.yaml")
    validation = spec.environments[0].validation
    assert validation is not None and validation.server_name == "api.example.com"


ORDERS = (ROOT / "examples" / "validated-service.yaml").read_text()
CERTIFICATE = "arn:aws:acm:eu-west-1:123456789012:certificate/0a1b2c3d-4e5f-6789-abcd-ef0123456789"


def _https(text: str) -> str:
    marker = "create: {"
    assert marker in text
    return text.replace(marker, f"create: {{certificate_arn: {CERTIFICATE}, ", 1)


def test_an_https_service_checked_by_its_load_balancer_name_is_refused() -> None:
    """Issue 14/5: with certificate_arn the check calls https://<load balancer DNS name>,
    which the app's certificate never names: TLS fails and every deploy rolls back."""
    message = _error(_https(_with_check(ORDERS, "{path: /health}")))

    assert "conveyor.yaml" in message
    assert "create.certificate_arn" in message
    assert "add server_name: <the name on the certificate>" in message
    assert "url: https://<that name>/health" in message


@pytest.mark.parametrize(
    "check",
    ["{path: /health, server_name: web.example.com}", "{url: https://web.example.com/health}"],
)
def test_an_https_service_checked_by_its_own_name_is_accepted(check: str) -> None:
    spec = parse_spec(_https(_with_check(ORDERS, check)), "conveyor.yaml")
    assert spec.environments[0].validation is not None


@pytest.mark.parametrize(
    ("url", "path"),
    [
        ('"https://api.staging.example.com/health?t=a\\x01b"', None),
        ('"https://api.staging.example.com/he\\x7falth"', None),
        (None, '"/health\\x1f"'),
        (None, '"/health check"'),
    ],
)
def test_a_url_or_path_http_cannot_send_is_refused_at_the_spec(
    url: str | None, path: str | None
) -> None:
    """Review of issue 17/6: http.client refuses a request target with a space or control
    character at every attempt (and quoted it, query and all, into the job failure). The
    handler now calls that a configuration error; the spec says so before anything deploys."""
    check = f"{{url: {url}}}" if url else f"{{path: {path}}}"
    base = MINIMAL if url else STOREFRONT
    message = _error(_with_check(base, check))
    assert "conveyor.yaml" in message
    assert "does not have the expected form" in message
    assert ("validate.http.url" if url else "validate.http.path") in message


@pytest.mark.parametrize(
    ("url", "path", "named"),
    [
        ("https://ops:hunter2@api.staging.example.com/health", None, "(user:password@)"),
        ("https://ops@api.staging.example.com/health", None, "(user:password@)"),
        ("https://api.staging.example.com/health?token=abc", None, "'token'"),
        ("https://api.staging.example.com/health?full=1&access_token=abc", None, "'access_token'"),
        ("https://api.staging.example.com/health?apikey=abc", None, "'apikey'"),
        ("https://api.staging.example.com/health?API_KEY=abc", None, "'API_KEY'"),
        ("https://api.staging.example.com/health?key=abc", None, "'key'"),
        ("https://api.staging.example.com/health?password=abc", None, "'password'"),
        ("https://api.staging.example.com/health?sig=abc", None, "'sig'"),
        ("https://api.staging.example.com/health?X-Amz-Signature=ab", None, "'X-Amz-Signature'"),
        ("https://api.staging.example.com/health?X-Amz-Credential=a", None, "'X-Amz-Credential'"),
        ("https://api.staging.example.com/health?auth=abc", None, "'auth'"),
        (None, "/health?secret=abc", "'secret'"),
        (None, "/health?signature=abc", "'signature'"),
        (None, "/health?client_secret=", "'client_secret'"),
        ("https://api.staging.example.com/health?authToken=abc", None, "'authToken'"),
        ("https://api.staging.example.com/health?API-KEY=abc", None, "'API-KEY'"),
    ],
)
def test_a_secret_in_the_validation_url_is_refused_at_the_spec(
    url: str | None, path: str | None, named: str
) -> None:
    """Review of issue 17/6: the URL is written in plain text into the pipeline definition
    (UserParameters) and the hook's VALIDATE_URL, from a committed conveyor.yaml."""
    check = f"{{url: '{url}'}}" if url else f"{{path: '{path}'}}"
    base = MINIMAL if url else STOREFRONT
    message = _error(_with_check(base, check))
    key = "validate.http.url" if url else "validate.http.path"
    assert re.search(rf"conveyor\.yaml:\d+: environments\[0\]\.{re.escape(key)}:", message)
    assert named in message
    assert "written into the pipeline definition" in message
    assert "unauthenticated health path" in message


@pytest.mark.parametrize(
    ("url", "path"),
    [
        ("https://api.staging.example.com/health?full=1", None),
        ("https://api.staging.example.com/health?full=1&region=eu-west-1", None),
        ("https://api.staging.example.com/health?monkey=1&design=2", None),
        ("https://api.staging.example.com/health?author=x&keyboard=uk", None),
        (None, "/health?bypass_cache=1&passenger=2"),
        ("https://api.staging.example.com/health?contact=ops@example.com", None),
        ("https://api.staging.example.com:8443/health", None),
        (None, "/health?full=1"),
        (None, "/health/@me"),
    ],
)
def test_an_ordinary_validation_url_is_accepted(url: str | None, path: str | None) -> None:
    check = f"{{url: '{url}'}}" if url else f"{{path: '{path}'}}"
    base = MINIMAL if url else STOREFRONT
    spec = parse_spec(_with_check(base, check), "conveyor.yaml")
    assert spec.environments[0].validation is not None
