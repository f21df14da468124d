"""Everything conveyor needs to hand a cloud assembly to the AWS CDK CLI, and nothing more.

The CLI is the npm package `aws-cdk`, run through `npx` at the exact version conveyor was tested
with (CDK_CLI_VERSION, the one place it is named: deploy, diff, bootstrap and the pipeline's
UpdatePipeline stage all use it), so users need Node but no global install, and a new release
(with new defaults, or a new major version) is never picked up silently. Checks run before
synthesis, so a missing tool costs a second, not a synth.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

# Read the cloud assembly of aws-cdk-lib 2.275 (schema 55) and published its assets in tests:
# `npx --yes aws-cdk@<this> ls --app <conveyor synth output>`.
CDK_CLI_VERSION = "2.1148.1"
CDK_PACKAGE = f"aws-cdk@{CDK_CLI_VERSION}"
# What an environment `aws://ACCOUNT/REGION` leaves to the credentials: the CDK CLI resolves these
# to their account and region (aws-cdk-cli, @aws-cdk/cloud-assembly-api environment.ts).
UNKNOWN_ACCOUNT = "unknown-account"
UNKNOWN_REGION = "unknown-region"
Verb = Literal["deploy", "diff", "destroy"]
ADMINISTRATOR_ACCESS = "arn:aws:iam::aws:policy/AdministratorAccess"
RequireApproval = Literal["broadening", "any-change", "never"]
VERSION_TIMEOUT_SECONDS = 120  # the first npx run downloads the package

_CREDENTIAL_VARIABLES = (
    "AWS_ACCESS_KEY_ID",
    "AWS_PROFILE",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
)


class CdkCliError(Exception):
    """Something the user must install or configure before conveyor can run the CDK CLI."""


@dataclass(frozen=True)
class Tools:
    npx: str
    cdk_version: str


def credentials_source(
    environ: Mapping[str, str], home: Path, profile: str | None = None
) -> str | None:
    """Where the CDK CLI would find credentials, judged from files and variables only.

    No AWS call and no instance-metadata probe: on a laptop without credentials that probe
    only adds a timeout. Where credentials come from an instance role, pass
    --skip-credential-check (docs/commands/deploy.md).
    """
    files = [
        Path(environ.get("AWS_SHARED_CREDENTIALS_FILE", home / ".aws" / "credentials")),
        Path(environ.get("AWS_CONFIG_FILE", home / ".aws" / "config")),
    ]
    texts = []
    for path in files:
        try:
            texts.append((path, path.read_text(encoding="utf-8", errors="replace")))
        except OSError:
            continue
    if profile:
        # A profile named on the command line must exist, or the CDK CLI fails later with a
        # less helpful message.
        for path, text in texts:
            if f"[{profile}]" in text or f"[profile {profile}]" in text:
                return f"profile {profile} ({path})"
        return None
    for name in _CREDENTIAL_VARIABLES:
        if environ.get(name):
            return name
    for path, text in texts:
        if "[default]" in text or "[profile default]" in text or "sso_" in text:
            return str(path)
    return None


def find_tools(
    *,
    environ: Mapping[str, str] | None = None,
    home: Path | None = None,
    profile: str | None = None,
    check_credentials: bool = True,
) -> Tools:
    """Node, npx, the CDK CLI and credentials, or a CdkCliError that says what to do."""
    environ = os.environ if environ is None else environ
    home = Path.home() if home is None else home
    if shutil.which("node") is None:
        raise CdkCliError(
            "Node.js is not installed (no `node` on PATH): the AWS CDK CLI runs on Node. "
            "Install Node 20 or later from https://nodejs.org and try again"
        )
    npx = shutil.which("npx")
    if npx is None:
        raise CdkCliError(
            "`npx` is not on PATH: it comes with npm, which Node installers include. "
            "Reinstall Node 20+ with npm, or add npm's bin folder to PATH"
        )
    if check_credentials and credentials_source(environ, home, profile) is None:
        raise CdkCliError(
            "no AWS credentials found (no AWS_PROFILE, AWS_ACCESS_KEY_ID, SSO or default "
            "profile in ~/.aws, or the --profile given is not there): run `aws configure sso` or "
            "`aws configure`, set AWS_PROFILE, "
            "or pass --profile NAME (with an instance role: --skip-credential-check)"
        )
    try:
        completed = subprocess.run(
            [npx, "--yes", CDK_PACKAGE, "--version"],
            capture_output=True,
            text=True,
            timeout=VERSION_TIMEOUT_SECONDS,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise CdkCliError(
            f"could not start the AWS CDK CLI ({CDK_PACKAGE}) through npx: {exc}. "
            f"Check npm can reach its registry, or install it once: npm install -g {CDK_PACKAGE}"
        ) from None
    if completed.returncode != 0:
        detail = (completed.stderr or completed.stdout).strip().splitlines()
        raise CdkCliError(
            f"the AWS CDK CLI ({CDK_PACKAGE}) did not run through npx"
            + (f": {detail[-1]}" if detail else "")
            + f". Check npm can reach its registry, or install it: npm install -g {CDK_PACKAGE}"
        )
    return Tools(npx=npx, cdk_version=completed.stdout.strip().split(" ")[0])


def cdk_argv(
    tools: Tools,
    verb: Verb,
    assembly: Path,
    *,
    stacks: Sequence[str],
    profile: str | None = None,
    require_approval: RequireApproval = "broadening",
    fail_on_difference: bool = False,
    extra: Sequence[str] = (),
) -> list[str]:
    """The exact command line: `npx --yes aws-cdk@<pin> VERB --app ASSEMBLY --exclusively
    STACK... ...`. Stacks are always named (the pipeline deploys the environments' stacks, so
    `--all` would be wrong, and `diff` ignores it with a warning); `--exclusively` keeps the CDK
    from adding the stacks they depend on."""
    argv = [tools.npx, "--yes", CDK_PACKAGE, verb, "--app", str(assembly), "--exclusively"]
    argv += list(stacks)
    if verb == "deploy":
        argv += ["--require-approval", require_approval]
        argv += ["--outputs-file", str(assembly / "outputs.json")]
    if verb == "diff" and fail_on_difference:
        argv.append("--fail")
    if verb == "destroy":
        argv.append("--force")  # conveyor has already asked (or was told --force)
    if profile:
        argv += ["--profile", profile]
    return [*argv, *extra]


def bootstrap_argv(
    tools: Tools,
    environment: str | None,
    *,
    trust: str | None = None,
    profile: str | None = None,
    also: Sequence[str] = (),
) -> list[str]:
    """`cdk bootstrap [aws://ACCOUNT/REGION ...]` (`also`: more environments, bootstrapped by
    the same call); with `trust`, that account (the pipeline's) may
    deploy into this one and look up its resources, through roles whose permissions are
    AdministratorAccess, the CDK's own default for the execution role. A trusted account must
    name the execution policies explicitly:
    https://docs.aws.amazon.com/cdk/v2/guide/bootstrapping-customizing.html"""
    argv = [tools.npx, "--yes", CDK_PACKAGE, "bootstrap"]
    if environment:
        argv.append(environment)
    argv += also
    if trust:
        argv += ["--trust", trust, "--trust-for-lookup", trust]
        argv += ["--cloudformation-execution-policies", ADMINISTRATOR_ACCESS]
    if profile:
        argv += ["--profile", profile]
    return argv


def run(argv: Sequence[str], environ: Mapping[str, str] | None = None) -> int:
    """Run the CDK CLI attached to this terminal (its progress and prompts stay visible)."""
    return subprocess.run(
        list(argv), check=False, env=dict(environ) if environ is not None else None
    ).returncode
