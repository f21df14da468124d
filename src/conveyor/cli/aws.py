"""AWS clients for the commands that read or act on a deployed pipeline, and the one way their
errors reach a user: exit 2, what went wrong, what to do (never a botocore traceback).

boto3 is imported inside the functions: `conveyor --help` must not load it
(tests/cli/test_startup.py).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Annotated, Any

import typer

from conveyor.cli.output import fail

RegionOption = Annotated[
    str | None,
    typer.Option("--region", help="AWS region.", show_default="spec, then AWS_REGION"),
]
ProfileOption = Annotated[
    str | None,
    typer.Option("--profile", help="AWS profile (~/.aws/config).", show_default="AWS_PROFILE"),
]
EndpointOption = Annotated[
    str | None,
    typer.Option(
        "--endpoint-url",
        metavar="URL",
        help="Endpoint of a local stack (LocalStack), e.g. http://localhost:4566.",
        show_default="AWS's",
    ),
]

# Error codes AWS answers when the caller may not do something, or is not who it claims to be.
DENIED = frozenset(
    {
        "AccessDenied",
        "AccessDeniedException",
        "UnauthorizedOperation",
        "UnrecognizedClientException",
        "InvalidClientTokenId",
        "SignatureDoesNotMatch",
    }
)
EXPIRED = frozenset({"ExpiredToken", "ExpiredTokenException", "RequestExpired"})
# botocore retries these itself (with backoff) before they reach the command.
THROTTLED = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "RequestThrottled",
        "SlowDown",
    }
)


@dataclass(frozen=True)
class Connection:
    region: str | None
    profile: str | None
    endpoint_url: str | None

    def client(self, service: str) -> Any:
        """A boto3 client; a missing profile or region is reported by `calling_aws`."""
        import boto3  # type: ignore[import-untyped]

        session = boto3.Session(profile_name=self.profile, region_name=self.region)
        return session.client(service, endpoint_url=self.endpoint_url)


@contextmanager
def calling_aws(what: str, *, needs: str, known: Mapping[str, str] | None = None) -> Iterator[None]:
    """Turn what AWS or botocore raise while doing `what` into a user error.

    `needs` names the IAM actions the command calls (said when AWS refuses); `known` maps error
    codes the command expects (PipelineNotFoundException: deploy it first) to their advice.
    """
    from botocore.exceptions import (  # type: ignore[import-untyped]
        BotoCoreError,
        ClientError,
        EndpointConnectionError,
        NoCredentialsError,
        NoRegionError,
        PartialCredentialsError,
        ProfileNotFound,
        SSOError,
        TokenRetrievalError,
        UnauthorizedSSOTokenError,
    )

    try:
        yield
    except NoRegionError:
        fail("no AWS region: pass --region eu-west-1, set AWS_REGION, or write region: in the spec")
    except ProfileNotFound as exc:
        fail(
            f"no AWS profile {exc.kwargs.get('profile', '')!r} in ~/.aws/config: pass a profile "
            "that `aws configure list-profiles` shows"
        )
    except (NoCredentialsError, PartialCredentialsError):
        fail(
            "no AWS credentials: set AWS_PROFILE or pass --profile (after `aws sso login` for "
            f"SSO); they need {needs}"
        )
    except (SSOError, TokenRetrievalError, UnauthorizedSSOTokenError):
        fail("the AWS SSO session has expired or was never started: run `aws sso login` and retry")
    except EndpointConnectionError as exc:
        fail(
            f"cannot reach AWS while {what} ({exc}); check the network, --region and --endpoint-url"
        )
    except ClientError as exc:
        error = exc.response.get("Error", {})
        code = str(error.get("Code", ""))
        message = str(error.get("Message", "")).strip()
        if known and code in known:
            fail(known[code] + (f" (AWS: {message})" if message else ""))
        if code in EXPIRED:
            fail(
                f"the AWS credentials have expired ({code}): refresh them (`aws sso login`) "
                "and retry"
            )
        if code in DENIED:
            fail(f"AWS refused {what} ({code}: {message}); the credentials need {needs}")
        if code in THROTTLED:
            fail(
                f"AWS throttled {what} ({code}) after botocore's retries: wait a minute and run it "
                "again"
            )
        fail(f"{what} failed: {code}: {message or exc}")
    except BotoCoreError as exc:
        fail(f"{what} failed: {exc}")
