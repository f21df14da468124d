"""The conveyor.yaml models.

Every model forbids unknown keys and is frozen: a typo must be an error, never a silently
ignored setting, and a loaded spec is a value the pipeline code can trust.

Choices that admit only one secure answer are not fields at all (encryption, public access
blocks, TLS-only policies, image scanning): conveyor always sets them. Fields exist where teams
legitimately differ (sizes, retention, names of existing resources, who gets notified).
"""

from __future__ import annotations

import difflib
import fnmatch
import re
from types import UnionType
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic.config import JsonDict
from pydantic_core import PydanticCustomError

from conveyor.spec.refs import (
    SECRET_REF_HELP,
    is_secret_ref,
    looks_like_token,
    name_suggests_secret,
    secret_in_url,
)
from conveyor.spec.schedule import SCHEDULE_EXAMPLES, schedule_problem, timezone_problem

APP_NAME_PATTERN = r"^[a-z][a-z0-9-]{0,22}[a-z0-9]$"
# No trailing or doubled hyphen: names become parts of other names and construct ids.
ENV_NAME_PATTERN = r"^[a-z](?:-?[a-z0-9]){0,14}$"
CONNECTION_ARN_PATTERN = r"^arn:aws[a-z-]*:(codestar-connections|codeconnections):[a-z0-9-]+:\d{12}:connection/[0-9a-f-]{36}$"  # noqa: E501
CERTIFICATE_ARN_PATTERN = r"^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate/[0-9a-f-]{36}$"
EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$"

# CloudWatch Logs accepts only these retention periods; anything else fails at deploy time.
LOG_RETENTION_DAYS = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
    3288, 3653,
)  # fmt: skip

# Fargate's CPU and memory pairs: cpu units -> the memory sizes (MiB) it allows.
FARGATE_MEMORY: dict[int, tuple[int, ...]] = {
    256: (512, 1024, 2048),
    512: tuple(range(1024, 4097, 1024)),
    1024: tuple(range(2048, 8193, 1024)),
    2048: tuple(range(4096, 16385, 1024)),
    4096: tuple(range(8192, 30721, 1024)),
}

# The pull-request pipeline's names: `{app}-pr[-{suffix}]`, its key alias `{app}-key-pr`.
PULL_REQUEST_NAME = "pr"

PRODUCTION_NAMES = frozenset({"prod", "production", "live", "prd"})


class KeyedValueError(ValueError):
    """A model's own complaint about one key below it (a duplicate name in a list), so the
    loader reports that key's path and line, not the enclosing mapping's."""

    def __init__(self, message: str, *at: str | int) -> None:
        super().__init__(message)
        self.at = at


def _first_repeat(values: list[str]) -> int | None:
    """The index of the first value that appeared earlier in `values`, if any."""
    seen: set[str] = set()
    for index, value in enumerate(values):
        if value in seen:
            return index
        seen.add(value)
    return None


def _listed_once(values: list[str], key: str, what: str = "", *, fold: bool = False) -> None:
    """Refuse the first value listed again under `key`, at its index: "{what}'x' is listed
    twice; keep one". `fold` compares case-insensitively (e-mail addresses)."""
    repeat = _first_repeat([v.lower() for v in values] if fold else list(values))
    if repeat is not None:
        raise KeyedValueError(f"{what}{values[repeat]!r} is listed twice; keep one", key, repeat)


class _Model(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        str_strip_whitespace=True,
        # Python's re compiles the models' patterns in a fraction of the time pydantic-core's
        # Rust engine takes to build them: about a tenth of `conveyor validate`'s CPU time
        # (benchmarks/startup.py). Each pattern is anchored and every value is stripped first,
        # so re's `$` (which also matches before a final newline) sees no newline to accept.
        regex_engine="python-re",
        # A model's validator is built when first used, not when its class is defined: validating
        # a spec builds Spec's alone (the nested models' schemas inside it), where each of the
        # ~30 models built its own at import as well, about a quarter of `validate`'s CPU.
        defer_build=True,
    )

    @field_validator("*", mode="before")
    @classmethod
    def _no_boolean_numbers(cls, value: Any, info: ValidationInfo) -> Any:
        """A YAML boolean where a number belongs is a mistake, not 0 or 1: pydantic's lax mode
        reads `port: yes` (YAML 1.1's true) as port 1. The loader words this error kind as
        "expected a whole number, got true"."""
        if info.field_name is None:
            return value
        annotation = cls.model_fields[info.field_name].annotation
        if isinstance(value, bool):
            kind = _number_kind(annotation)
            if kind is not None:
                raise PydanticCustomError(kind, "expected a number")
        elif isinstance(value, list | dict):  # list[int], dict[str, float]: name the item
            items = list(enumerate(value)) if isinstance(value, list) else list(value.items())
            container = get_origin(annotation)
            item_type = get_args(annotation)[-1] if container in {list, dict} else None
            kind = _number_kind(item_type) if item_type is not None else None
            for key, item in items:
                if kind is not None and isinstance(item, bool):
                    number = "a whole number" if kind == "int_type" else "a number"
                    raise KeyedValueError(f"expected {number}, got {str(item).lower()}", key)
        return value


def _number_kind(annotation: Any) -> str | None:
    """pydantic's wrong-type error kind for a field that takes a number and no boolean
    (`int`, `float`, either of them optional or annotated), else None."""
    if annotation is bool:
        return None
    if annotation is int:
        return "int_type"
    if annotation is float:
        return "float_type"
    args = [arg for arg in get_args(annotation) if arg is not type(None)]
    if get_origin(annotation) is Annotated:
        args = args[:1]
    elif bool in args or get_origin(annotation) not in {Union, UnionType}:
        return None
    kinds = sorted(kind for arg in args if (kind := _number_kind(arg)) is not None)
    return kinds[0] if kinds else None


def _no_plaintext_secret(value: str) -> str:
    if looks_like_token(value):
        raise ValueError(
            "this looks like a token or password in plain text; store it in SSM Parameter "
            f"Store or Secrets Manager and write {SECRET_REF_HELP}"
        )
    return value


def _secret_ref(value: str) -> str:
    if not is_secret_ref(value):
        raise ValueError(f"expected {SECRET_REF_HELP}; plain-text secrets are not accepted")
    return value


PlainText = Annotated[str, AfterValidator(_no_plaintext_secret)]
SecretRef = Annotated[
    str,
    AfterValidator(_secret_ref),
    Field(
        description="Where the secret lives: 'ssm:/path' or 'secretsmanager:name[:json-key]'.",
        examples=["ssm:/payments/dockerhub/password"],
    ),
]


def _check_env_vars(env: dict[str, str], *, where: str) -> dict[str, str]:
    for name, value in env.items():
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
            raise ValueError(f"{where} variable name {name!r} is not a valid shell variable name")
        if is_secret_ref(value):
            continue
        if looks_like_token(value) or name_suggests_secret(name):
            raise ValueError(
                f"{where} variable {name} looks like a secret in plain text; write "
                f"{name}: {SECRET_REF_HELP}"
            )
    return env


# --- source -----------------------------------------------------------------------------------


GlobPattern = Annotated[
    str,
    Field(
        min_length=1,
        max_length=255,
        pattern=r"^[^\s]+$",
        description="A glob pattern: * within a path segment, ** across segments.",
        examples=["services/payments/**"],
    ),
]


class PathFilter(_Model):
    """Which changed files start the pipeline: a push starts it when a changed file matches
    include (all files when empty) and not exclude (exclude wins). One pipeline per service
    of a monorepo. CodePipeline allows 8 patterns each.
    https://docs.aws.amazon.com/codepipeline/latest/userguide/pipelines-filter.html"""

    include: list[GlobPattern] = Field(
        default_factory=list,
        max_length=7,
        description=(
            "Files whose change starts the pipeline; at most 7: conveyor adds this spec's own "
            "path (self_update.spec), so a change to the pipeline always reaches it."
        ),
    )
    exclude: list[GlobPattern] = Field(
        default_factory=list,
        max_length=8,
        description="Files whose change alone never starts it (e.g. **/*.md).",
    )

    @model_validator(mode="after")
    def _something(self) -> PathFilter:
        if not self.include and not self.exclude:
            raise ValueError("paths: give include: [...] or exclude: [...] (or remove paths:)")
        return self


PullRequestEvent = Literal["OPEN", "UPDATED", "CLOSED"]
_OPENED_OR_UPDATED: tuple[PullRequestEvent, ...] = ("OPEN", "UPDATED")


class PullRequests(_Model):
    """Pull requests run a second, smaller pipeline, `{app}-pr[-{suffix}]`: Source, then one
    Build stage with the build (the image built, never pushed), the tests and the scans, and
    nothing after it. Its roles hold no deploy permission and none of the main pipeline's
    storage, key or secrets: anyone who can open a pull request chooses the code it runs.
    `pull_requests: true` is short for `{}` (pull requests into `branch`, opened or updated).
    CodePipeline runs the pull request's source-branch commit.
    https://docs.aws.amazon.com/codepipeline/latest/userguide/pipelines-filter.html"""

    branches: list[GlobPattern] = Field(
        default_factory=list,
        max_length=8,
        description=(
            "Branches the pull requests target (merge into); empty: this source's `branch`."
        ),
    )
    events: list[PullRequestEvent] = Field(
        default_factory=lambda: list(_OPENED_OR_UPDATED),
        min_length=1,
        max_length=2,
        description=(
            "OPEN (a pull request is opened), UPDATED (commits are pushed to it); CLOSED is "
            "refused: the push run builds a merged pull request."
        ),
    )

    @model_validator(mode="after")
    def _useful_events(self) -> PullRequests:
        for index, event in enumerate(self.events):
            if event == "CLOSED":
                raise KeyedValueError(
                    "CLOSED would build a pull request after it is merged (the push run builds "
                    "that commit) or abandoned: write OPEN and/or UPDATED",
                    "events",
                    index,
                )
        _listed_once(list(self.events), "events", "event ")
        return self


def _offer_boolean(schema: JsonDict) -> None:
    options = schema.get("anyOf")
    if isinstance(options, list):
        options.insert(1, {"type": "boolean"})


class GitHubSource(_Model):
    """A GitHub (or GitHub Enterprise / Bitbucket / GitLab) repository through a CodeStar
    connection. OAuth tokens are not supported: they are the deprecated v1 source (FM50)."""

    repo: str = Field(
        pattern=r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$",
        description="owner/name of the repository.",
        examples=["acme/payments"],
    )
    branch: str = Field("main", min_length=1, description="Branch whose pushes start the pipeline.")
    connection: str = Field(
        pattern=CONNECTION_ARN_PATTERN,
        description="ARN of an AVAILABLE CodeStar (CodeConnections) connection.",
        examples=[
            "arn:aws:codestar-connections:eu-west-1:123456789012:connection/"
            "0a1b2c3d-4e5f-6789-abcd-ef0123456789"
        ],
    )
    paths: PathFilter | None = Field(
        None,
        description="Start only for pushes that change these files (a monorepo's service).",
    )
    tags: list[GlobPattern] = Field(
        default_factory=list,
        max_length=8,
        description=(
            "Also start when a tag matching one of these is pushed (release on tag), e.g. v*. "
            "A tag on any commit of any branch releases that commit: CodePipeline cannot limit "
            "a tag trigger to a branch. Restrict who may create these tags in the repository, "
            "and say how in `tag_creation`."
        ),
    )
    tag_creation: str | None = Field(
        None,
        min_length=10,
        max_length=300,
        description=(
            "How the repository restricts who may create the tags in `tags` (e.g. a GitHub "
            "ruleset on tags with Restrict creations). The pipeline records it as the reason "
            "for accepting CV119; without it `conveyor validate` warns."
        ),
        examples=["ruleset release-tags: only the release managers may create v* tags"],
    )
    pull_requests: PullRequests | None = Field(
        None,
        # The schema offers the `true`/`false` shorthand too, so editors accept what the
        # loader does (`_shorthand`).
        json_schema_extra=_offer_boolean,
        description=(
            "Build, test and scan each pull request in a separate pipeline that never deploys "
            "(`true`: pull requests into `branch`). Changed files filter them as pushes, by "
            "`paths`."
        ),
    )

    @field_validator("pull_requests", mode="before")
    @classmethod
    def _shorthand(cls, value: object) -> object:
        # `pull_requests: true` reads better than `{}`; false is the same as leaving it out.
        if value is True:
            return {}
        if value is False:
            return None
        return value

    @model_validator(mode="after")
    def _tag_creation_needs_tags(self) -> GitHubSource:
        if self.tag_creation is not None and not self.tags:
            raise KeyedValueError(
                "tag_creation says how tags are restricted, but no tags: start the pipeline: "
                "add the patterns under tags:, or leave tag_creation out",
                "tag_creation",
            )
        return self


class S3Source(_Model):
    """A zip uploaded to S3. conveyor creates the versioned, encrypted bucket; uploads start the
    pipeline through EventBridge (no polling, no CloudTrail trail needed)."""

    key: str = Field("source.zip", min_length=1, description="Object key of the source zip.")


class CodeCommitSource(_Model):
    """An existing CodeCommit repository. conveyor never creates one: AWS refuses
    CreateRepository in accounts that have none (FM52)."""

    repository: str = Field(
        pattern=r"^[\w.-]{1,100}$",
        description="Name of the existing repository: letters, digits, '_', '.', '-'.",
        examples=["payments"],
    )
    branch: str = Field("main", min_length=1)


class Source(_Model):
    """Where the code comes from: exactly one of github, s3, codecommit."""

    github: GitHubSource | None = None
    s3: S3Source | None = None
    codecommit: CodeCommitSource | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> Source:
        chosen = [k for k in ("github", "s3", "codecommit") if getattr(self, k) is not None]
        if len(chosen) != 1:
            raise ValueError(
                "choose exactly one source: github, s3 or codecommit"
                + (f" (found {', '.join(chosen)})" if chosen else "")
            )
        return self

    @property
    def kind(self) -> Literal["github", "s3", "codecommit"]:
        if self.github is not None:
            return "github"
        if self.s3 is not None:
            return "s3"
        return "codecommit"


# --- build ------------------------------------------------------------------------------------


class RegistryLogin(_Model):
    """Credentials for pulling base images from a registry (Docker Hub rate limits anonymous
    pulls). Only references: the values are read by CodeBuild at run time (FM30)."""

    registry: str = Field(
        "docker.io",
        pattern=r"^[a-z0-9.-]+(:\d+)?$",
        description="Registry host name (and :port); docker.io for Docker Hub.",
        examples=["docker.io"],
    )
    username: SecretRef
    password: SecretRef


class DockerBuild(_Model):
    context: str = Field(".", min_length=1, description="Build context, relative to the repo.")
    file: str | None = Field(
        None,
        min_length=1,
        description="Dockerfile path from the repository root; default {context}/Dockerfile.",
    )
    build_args: dict[str, PlainText] = Field(
        default_factory=dict, description="--build-arg values (never secrets)."
    )
    platform: Literal["linux/amd64", "linux/arm64"] = "linux/amd64"
    target: str | None = Field(None, description="Multi-stage build target.")
    login: RegistryLogin | None = None

    @property
    def dockerfile(self) -> str:
        if self.file is not None:
            return self.file
        if self.context in {"", "."}:
            return "Dockerfile"
        return f"{self.context.rstrip('/')}/Dockerfile"

    @model_validator(mode="after")
    def _args_are_not_secrets(self) -> DockerBuild:
        for name in self.build_args:
            if name_suggests_secret(name):
                raise ValueError(
                    f"build arg {name} looks like a secret; build args are stored in image "
                    "layers. Use a BuildKit secret or fetch it at run time instead"
                )
        return self


ComputeSize = Literal["small", "medium", "large", "xlarge", "2xlarge"]


# What `runtime-versions` can pin on the Ubuntu standard:7.0 image conveyor builds on (Amazon
# Linux 2023 standard:5.0 runs the same set). Python 3.14 and Node.js 24 were added to the image;
# 3.9, 3.10 and Node 16 and older are past their end of life and not offered here. Checked on
# 2026-12-02 against https://docs.aws.amazon.com/codebuild/latest/userguide/available-runtimes.html
# and https://docs.aws.amazon.com/codebuild/latest/userguide/runtime-versions.html ("nodejs: 24"),
# and the images' own lists, ubuntu/standard/7.0/runtimes.yml and al/x86_64/standard/5.0/
# runtimes.yml in https://github.com/aws/aws-codebuild-docker-images (python 3.9-3.14,
# nodejs 18, 20, 22, 24).
CodeBuildPython = Literal["3.11", "3.12", "3.13", "3.14"]
CodeBuildNode = Literal[18, 20, 22, 24]


class Runtimes(_Model):
    """Language versions the build and test jobs run with, pinned in each buildspec's
    `runtime-versions`. Without a pin CodeBuild picks the image's default, which changes when
    that version reaches end of life. Versions of the Ubuntu standard:7.0 image conveyor builds
    on: https://docs.aws.amazon.com/codebuild/latest/userguide/available-runtimes.html"""

    python: CodeBuildPython | None = Field(
        None, description="Python of the build and test jobs, e.g. '3.12' (quoted)."
    )
    nodejs: CodeBuildNode | None = Field(
        None, description="Node.js major version of the build and test jobs, e.g. 22."
    )

    @field_validator("python", mode="before")
    @classmethod
    def _python_as_written(cls, value: object) -> object:
        # YAML reads `python: 3.12` as a number; 3.10 would even read as 3.1.
        return (
            str(value) if isinstance(value, int | float) and not isinstance(value, bool) else value
        )

    @field_validator("nodejs", mode="before")
    @classmethod
    def _nodejs_as_written(cls, value: object) -> object:
        return int(value) if isinstance(value, str) and value.strip().isdigit() else value

    def runtime_versions(self) -> dict[str, str]:
        """The buildspec's `phases.install.runtime-versions`."""
        found = {"python": self.python, "nodejs": self.nodejs}
        return {name: str(version) for name, version in found.items() if version is not None}


class Build(_Model):
    docker: DockerBuild | None = Field(
        None, description="Build a container image and push it to the pipeline's ECR repository."
    )
    commands: list[PlainText] = Field(
        default_factory=list,
        description="Shell commands run before the Docker build (or the whole build without it).",
    )
    compute: ComputeSize = Field("medium", description="CodeBuild compute size.")
    timeout_minutes: int = Field(15, ge=5, le=120, description="Build timeout (FM22).")
    env: dict[str, str] = Field(
        default_factory=dict,
        description="Environment variables; secrets only as ssm:/ or secretsmanager: references.",
    )
    runtimes: Runtimes = Field(
        default_factory=Runtimes,
        description="Language versions pinned for the build and the test jobs.",
    )

    @model_validator(mode="after")
    def _something_to_build(self) -> Build:
        if self.docker is None and not self.commands:
            raise ValueError("nothing to build: add build.docker or build.commands")
        _check_env_vars(self.env, where="build.env")
        return self


# --- deploy targets ---------------------------------------------------------------------------


class ExistingVpc(_Model):
    """A VPC given by id. All ids are explicit, so synthesis needs no AWS lookup."""

    id: str = Field(
        pattern=r"^vpc-[0-9a-f]{8,17}$",
        description="The VPC's id: vpc- and 8 or 17 hexadecimal digits.",
        examples=["vpc-0a1b2c3d4e5f67890"],
    )
    availability_zones: list[str] = Field(min_length=2)
    public_subnets: list[str] = Field(min_length=2)
    private_subnets: list[str] = Field(min_length=2)
    cidr: str | None = Field(
        None,
        pattern=r"^\d{1,3}(\.\d{1,3}){3}/\d{1,2}$",
        description="The VPC's IPv4 range: who may reach an internal load balancer "
        "(create.public: false), which then needs it.",
        examples=["10.0.0.0/16"],
    )

    @model_validator(mode="after")
    def _subnets_match_zones(self) -> ExistingVpc:
        zones = len(self.availability_zones)
        for field in ("public_subnets", "private_subnets"):
            subnets: list[str] = getattr(self, field)
            for index, subnet in enumerate(subnets):
                if not re.fullmatch(r"subnet-[0-9a-f]{8,17}", subnet):
                    raise KeyedValueError(
                        f"{subnet!r} is not a subnet id: write subnet- and 8 or 17 hexadecimal "
                        "digits, e.g. subnet-0a1b2c3d4e5f67890",
                        field,
                        index,
                    )
            if len(subnets) != zones:
                raise KeyedValueError(
                    f"{field} needs one subnet per availability zone ({zones}, in the order of "
                    "availability_zones)",
                    field,
                )
        _listed_once(self.public_subnets, "public_subnets", "subnet ")
        _listed_once(self.private_subnets, "private_subnets", "subnet ")
        for index, subnet in enumerate(self.private_subnets):
            if subnet in self.public_subnets:
                # A subnet routes either through an internet gateway or not: tasks and the load
                # balancer would share one network path whatever the placement says.
                raise KeyedValueError(
                    f"{subnet!r} is listed as public and as private; a subnet is one or the "
                    "other (its route table decides): keep it in one list",
                    "private_subnets",
                    index,
                )
        return self


# A DNS name: labels of letters, digits and inner hyphens, at least two of them.
DOMAIN_NAME_PATTERN = (
    r"^([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$"
)


class Domain(_Model):
    """The name a created web service answers on, with its certificate (HTTPS on 443; port 80
    redirects to it). The certificate is created in ACM and validated through DNS records in
    the hosted zone, or referenced by ARN; with a hosted zone, an alias record points the name
    at the load balancer."""

    name: str = Field(
        max_length=253,
        pattern=DOMAIN_NAME_PATTERN,
        description="The service's public name: on the certificate, in the DNS record, and the "
        "address validation and tests call.",
        examples=["api.example.com"],
    )
    hosted_zone_id: str | None = Field(
        None,
        pattern=r"^Z[A-Z0-9]{1,31}$",
        description=(
            "Route 53 public hosted zone (in the environment's account) holding the name: "
            "conveyor creates the certificate's DNS validation record and an alias record to "
            "the load balancer there. Omit only with certificate_arn; then the name's DNS "
            "record is yours to point at the stack's LoadBalancerUrl."
        ),
        examples=["Z0123456789ABCDEFGHIJ"],
    )
    certificate_arn: str | None = Field(
        None,
        pattern=CERTIFICATE_ARN_PATTERN,
        description="An issued ACM certificate naming `name`, in the environment's region; "
        "omit to have conveyor request one (DNS-validated in hosted_zone_id).",
        examples=[
            "arn:aws:acm:eu-west-1:123456789012:certificate/0a1b2c3d-4e5f-6789-abcd-ef0123456789"
        ],
    )

    @model_validator(mode="after")
    def _certificate_source(self) -> Domain:
        if self.hosted_zone_id is None and self.certificate_arn is None:
            # An ACM certificate validated by DNS waits for its validation record: without a
            # zone conveyor can write to, the stack would wait until the request times out.
            # https://docs.aws.amazon.com/acm/latest/userguide/dns-validation.html
            raise ValueError(
                "a domain needs hosted_zone_id: Z… (the Route 53 zone holding the name; "
                "conveyor creates and validates the certificate there) or certificate_arn: "
                "arn:aws:acm:… (an issued certificate for the name)"
            )
        return self


class PlainHttp(_Model):
    """A production web service without TLS, on purpose."""

    reason: str = Field(
        min_length=10,
        max_length=500,
        description="Why this production service may serve plain HTTP (shown by validate, and "
        "recorded as the reason of the conveyor check suppression).",
        examples=["internal demo, reachable from the office VPN only"],
    )


class Scaling(_Model):
    """Application Auto Scaling of the service's task count: target tracking keeps each metric
    near its target between min and max tasks.
    https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-autoscaling-targettracking.html"""

    min: int = Field(2, ge=1, le=100, description="Fewest tasks (production: at least 2).")
    max: int = Field(4, ge=1, le=100, description="Most tasks.")
    cpu: int | None = Field(
        60, ge=1, le=100, description="Target average CPU utilization in percent; null: off."
    )
    memory: int | None = Field(
        None, ge=1, le=100, description="Target average memory utilization in percent."
    )
    requests_per_target: int | None = Field(
        None,
        ge=1,
        le=1_000_000,
        description="Target ALB requests per task per minute (strategy: rolling only).",
    )
    messages_per_task: int | None = Field(
        None,
        ge=1,
        le=1_000_000,
        description=(
            "kind: worker: target backlog per task, the queue's visible messages divided by "
            "the running tasks (how many messages one task clears within the delay you accept)."
        ),
    )

    @model_validator(mode="after")
    def _bounds(self) -> Scaling:
        if self.max < self.min:
            raise KeyedValueError(
                f"max ({self.max}) is below min ({self.min}): write max: {self.min} or more",
                "max",
            )
        if (
            self.cpu is None
            and self.memory is None
            and self.requests_per_target is None
            and self.messages_per_task is None
        ):
            raise ValueError(
                "scaling needs a metric to track: cpu: 60, memory: 70, requests_per_target: "
                "1000 or (a worker) messages_per_task: 100 (or remove scaling: for a fixed "
                "desired_count)"
            )
        return self


# An IAM role's ARN (a path allowed): who may send messages to a worker's queue.
ROLE_ARN_PATTERN = r"^arn:aws[a-z-]*:iam::\d{12}:role/[A-Za-z0-9+=,.@_/-]{1,512}$"
# SQS's longest retention: the dead-letter queue keeps failed messages this long, counted from
# their first enqueue (standard queues), so the source queue keeps them at most half of it.
# https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/setting-up-dead-letter-queue-retention.html
DEAD_LETTER_RETENTION_DAYS = 14
# Environment variables through which a worker's container finds its queue.
QUEUE_URL_VARIABLE = "QUEUE_URL"
QUEUE_ARN_VARIABLE = "QUEUE_ARN"


class WorkerQueue(_Model):
    """The SQS queue a worker (kind: worker) consumes, created in the environment's stack with
    a dead-letter queue. Both are encrypted with the environment's KMS key and refuse requests
    without TLS; a message received max_receive_count times without being deleted moves to the
    dead-letter queue, which keeps it 14 days, and an alarm tells the environment's alarm topic
    as soon as one is there. https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-dead-letter-queues.html"""

    visibility_timeout_seconds: int = Field(
        30,
        ge=0,
        le=43200,
        description=(
            "Seconds a received message stays hidden from other receives: longer than your "
            "worker takes to process one (at most 12 hours), or another task receives it too."
        ),
    )
    max_receive_count: int = Field(
        5,
        ge=1,
        le=1000,
        description="Receives without a delete before a message moves to the dead-letter queue.",
    )
    retention_days: int = Field(
        4,
        ge=1,
        le=DEAD_LETTER_RETENTION_DAYS // 2,
        description=(
            "Days the queue keeps a message (SQS's default: 4). At most 7: a message moved to "
            "the dead-letter queue keeps its first enqueue time, so it then has at least 7 of "
            "the dead-letter queue's 14 days to be looked at."
        ),
    )
    producers: list[
        Annotated[
            str,
            Field(
                pattern=ROLE_ARN_PATTERN,
                examples=["arn:aws:iam::123456789012:role/orders-api"],
            ),
        ]
    ] = Field(
        default_factory=list,
        description=(
            "IAM roles (existing before the environment's stack) that may send messages: the "
            "queue policy allows them sqs:SendMessage and the key policy kms:GenerateDataKey "
            "and kms:Decrypt through SQS. A role in another account also needs those actions "
            "in its own policies (the stack's QueueArn and QueueKeyArn outputs)."
        ),
    )

    @model_validator(mode="after")
    def _producers_once(self) -> WorkerQueue:
        _listed_once(self.producers, "producers", "role ")
        return self


# ECS allows 10 container definitions per task definition, a quota that cannot be raised
# ("Containers per task definition"); the service's own container is one of them.
# https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-quotas.html
MAX_SIDECARS = 9
# A digest pins the bytes; a tag other than latest pins a release the registry's owner names.
_IMAGE_DIGEST = re.compile(r"@sha256:[0-9a-f]{64}$")
_IMAGE_TAG = re.compile(r":(?P<tag>[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})$")


class Sidecar(_Model):
    """An extra container in the service's task (a log router, an OpenTelemetry collector, a
    proxy). It logs to the service's log group and reads its secrets through the task's
    execution role, as the service's own container does; only the service's container is
    behind the load balancer."""

    name: str = Field(
        pattern=r"^[A-Za-z0-9_-]{1,255}$",
        description="Container name in the task definition: letters, digits, '_', '-'.",
        examples=["otel"],
    )
    image: str = Field(
        min_length=1,
        pattern=r"^[^\s]+$",
        description=(
            "A pinned image: registry/repository:tag (not latest) or repository@sha256:digest. "
            "From a private ECR repository (ACCOUNT.dkr.ecr.REGION.amazonaws.com/NAME) the "
            "task's execution role may pull it; another account's repository must also allow "
            "that role in its repository policy."
        ),
        examples=["public.ecr.aws/aws-observability/aws-otel-collector:v0.40.0"],
    )
    essential: bool = Field(False, description="true: the task stops when this container stops.")
    port: int | None = Field(
        None, ge=1, le=65535, description="Port the container listens on (no mapping if omitted)."
    )
    environment: dict[str, PlainText] = Field(
        default_factory=dict, description="Environment variables; no secrets (see secrets)."
    )
    secrets: dict[str, SecretRef] = Field(
        default_factory=dict,
        description="Environment variables read from SSM or Secrets Manager when the task starts.",
    )
    cpu: int | None = Field(None, ge=0, le=16384, description="CPU units reserved (of the task's).")
    memory: int | None = Field(
        None, ge=6, le=122880, description="Hard memory limit in MiB (of the task's)."
    )
    command: list[str] | None = Field(None, description="Overrides the image's command.")

    @model_validator(mode="after")
    def _pinned(self) -> Sidecar:
        _check_env_vars(dict(self.environment), where="sidecar environment")
        image = self.image
        if _IMAGE_DIGEST.search(image):
            return self
        tag = _IMAGE_TAG.search(image.rsplit("/", 1)[-1])
        if tag is None or tag.group("tag") == "latest":
            repository = _IMAGE_TAG.sub("", image)
            raise KeyedValueError(
                f"image {image!r} is not pinned: a new push under it would change the task "
                f"without a release; write {repository}:<version> (not latest) or "
                f"{repository}@sha256:<digest>",
                "image",
            )
        return self


# What a container health check may run: ECS runs "CMD" with its arguments directly, and
# "CMD-SHELL" with one command line through the container's default shell.
# https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_HealthCheck.html
HEALTH_COMMAND_EXAMPLE = 'CMD-SHELL, "curl -f http://localhost:8080/health || exit 1"'

# Keys of create: that a kind does not read, with what to write instead; refused at the key
# (a setting that silently does nothing is worse than an error). Each kind adds its own.
_NO_LOAD_BALANCER = "has no load balancer"
KIND_REFUSES: dict[str, dict[str, str]] = {
    "web": {},
    "backend": {
        "domain": f"{_NO_LOAD_BALANCER}, so no domain or certificate: clients in its Service "
        "Connect namespace call http://<connect.name>:<port>; remove domain",
        "certificate_arn": f"{_NO_LOAD_BALANCER} to serve a certificate: remove certificate_arn",
        "plain_http": f"{_NO_LOAD_BALANCER} and serves no HTTP listener: remove plain_http",
        "public": f"{_NO_LOAD_BALANCER}: it is reachable through Service Connect inside its "
        "network only; remove public (kind: web serves a load balancer)",
        "health_check_path": f"{_NO_LOAD_BALANCER} to request a health path: write "
        f"health_command: [{HEALTH_COMMAND_EXAMPLE}] instead",
        "test_cidrs": f"{_NO_LOAD_BALANCER} and no test listener: remove test_cidrs",
    },
}
# A worker consumes its queue: no load balancer, no port, nothing to call.
KIND_REFUSES["worker"] = {
    "port": "listens on no port (nothing connects to a worker; it reads its queue): remove port",
    "health_check_path": "has no load balancer to request a path: remove health_check_path "
    "(health_command judges its tasks)",
    "public": "has no load balancer, public or internal: remove public",
    "domain": "serves no HTTP, so it needs no domain or certificate: remove domain",
    "certificate_arn": "serves no HTTP, so it needs no certificate: remove certificate_arn",
    "plain_http": "serves no HTTP at all: remove plain_http",
    "test_cidrs": "has no test listener (a worker rolls; blue/green needs a load balancer): "
    "remove test_cidrs",
}
# A scheduled job runs its task on its schedule until the task exits: nothing connects to it,
# and ECS keeps no count of its tasks.
_JOB_SERVES_NOTHING = "serves nothing (it runs on its schedule and exits)"
KIND_REFUSES["job"] = {
    "port": f"{_JOB_SERVES_NOTHING}, so it listens on no port: remove port",
    "desired_count": "runs one task per scheduled run, not a count kept running: remove "
    "desired_count",
    "scaling": "runs one task per scheduled run; nothing scales: remove scaling (run it more "
    "often with schedule:, or give it more cpu and memory)",
    "health_check_path": f"{_JOB_SERVES_NOTHING} and has no load balancer: remove "
    "health_check_path",
    "health_command": "is judged by its exit code, and nothing waits for its health (no service "
    "replaces an unhealthy run): remove health_command",
    "public": f"{_JOB_SERVES_NOTHING} and has no load balancer: remove public",
    "domain": f"{_JOB_SERVES_NOTHING}, so it needs no domain or certificate: remove domain",
    "certificate_arn": f"{_JOB_SERVES_NOTHING}, so it needs no certificate: remove certificate_arn",
    "plain_http": f"{_JOB_SERVES_NOTHING} over HTTP at all: remove plain_http",
    "test_cidrs": f"{_JOB_SERVES_NOTHING} and has no test listener: remove test_cidrs",
}
# Keys only a scheduled job has.
JOB_ONLY_KEYS = ("schedule", "timezone", "command")
# A Cloud Map namespace conveyor's Service Connect settings name: its name, or its ARN.
# https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ServiceConnectConfiguration.html
NAMESPACE_PATTERN = (
    r"^(arn:aws[a-z-]*:servicediscovery:[a-z0-9-]+:\d{12}:namespace/ns-[a-z0-9]{16}"
    r"|[A-Za-z0-9][A-Za-z0-9._-]{0,1023})$"
)


class Connect(_Model):
    """ECS Service Connect: a backend's name in a Cloud Map namespace, or a web service's
    membership of one as a client. Names resolve only in the tasks of ECS services of the
    namespace (their Service Connect proxy answers them), across clusters and VPCs of the
    region; the network must still route between the tasks, and the backend's security group
    admit the clients (its VPC's range, and client_cidrs).
    https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-connect-concepts.html
    https://docs.aws.amazon.com/AmazonECS/latest/developerguide/interconnecting-services.html"""

    namespace: str | None = Field(
        None,
        pattern=NAMESPACE_PATTERN,
        description=(
            "Existing Cloud Map namespace (name or ARN) in the environment's account and "
            "region. A backend without one gets an HTTP namespace of its own, "
            "{app}-{env}, output as ConnectNamespace for other services to join; a web "
            "service names the namespace it calls into."
        ),
        examples=[
            "payments-prod",
            "arn:aws:servicediscovery:eu-west-1:123456789012:namespace/ns-0123456789abcdef",
        ],
    )
    name: str | None = Field(
        None,
        # Both the clients' DNS name and the Cloud Map service's (discoveryName: up to 64
        # characters, no dot), unique in the namespace.
        # https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ServiceConnectService.html
        pattern=r"^[a-z0-9_][a-z0-9_-]{0,63}$",
        description=(
            "Backend: the name clients call (http://<name>:<port>), unique in the namespace; "
            "defaults to the app's name. Lowercase letters, digits, '_', '-'."
        ),
        examples=["ledger"],
    )
    client_cidrs: list[
        Annotated[str, Field(pattern=r"^\d{1,3}(\.\d{1,3}){3}/\d{1,2}$", examples=["10.1.0.0/16"])]
    ] = Field(
        default_factory=list,
        description=(
            "Backend: address ranges beyond its own VPC allowed to reach its port (clients in "
            "a peered or transit-routed VPC). Never 0.0.0.0/0."
        ),
    )

    @model_validator(mode="after")
    def _nobody_else(self) -> Connect:
        if "0.0.0.0/0" in self.client_cidrs:
            raise KeyedValueError(
                "client_cidrs 0.0.0.0/0 would open the backend to every address its network "
                "routes: list the client VPCs' ranges",
                "client_cidrs",
            )
        return self


class CreateService(_Model):
    """conveyor creates a Fargate service: by default (kind: web) behind an Application Load
    Balancer; or a Fargate task that EventBridge Scheduler runs on a schedule (kind: job)."""

    kind: Literal["web", "worker", "backend", "job"] = Field(
        "web",
        description=(
            "What the service is. web: behind an Application Load Balancer (AWS Copilot's "
            "Load Balanced Web Service). worker: no load balancer; consumes an SQS queue "
            "conveyor creates (queue:), scales on its backlog (AWS Copilot's Worker Service). "
            "backend: no load balancer, reachable by name through ECS Service Connect "
            "(connect:) by the services of its namespace; validated by its health_command "
            "(required) and the rolling deployment's circuit breaker (Copilot's Backend "
            "Service). job: a task EventBridge Scheduler runs on schedule:, no service and no "
            "load balancer (AWS Copilot's Scheduled Job)."
        ),
    )
    schedule: str | None = Field(
        None,
        description=(
            "kind: job: when each run starts, as EventBridge Scheduler's cron(minutes hours "
            "day-of-month month day-of-week year) or rate(<number> <unit>), in timezone."
        ),
        examples=list(SCHEDULE_EXAMPLES),
    )
    timezone: str | None = Field(
        None,
        max_length=50,
        description=(
            "kind: job: the IANA time zone the cron is read in (Europe/Berlin); default UTC. "
            "Scheduler follows daylight saving time in it."
        ),
        examples=["Europe/Berlin"],
    )
    command: list[Annotated[str, Field(min_length=1)]] | None = Field(
        None,
        min_length=1,
        description=(
            "kind: job: what each run runs, instead of the image's command (CMD), e.g. "
            "[python, -m, app.nightly]. A run ends when this command exits; a non-zero exit "
            "code is a failed run."
        ),
        examples=[["python", "-m", "app.nightly"]],
    )
    connect: Connect | None = Field(
        None,
        description=(
            "ECS Service Connect. backend: its namespace and name (omit for a namespace of its "
            "own and the app's name). web: the namespace whose backends it calls."
        ),
    )
    port: int = Field(8080, ge=1, le=65535, description="Container port the app listens on.")
    cpu: Literal[256, 512, 1024, 2048, 4096] = 256
    memory: int = Field(512, ge=512, le=30720, description="Task memory in MiB.")
    desired_count: int = Field(
        2, ge=1, le=100, description="Tasks to run; with scaling:, min and max decide instead."
    )
    scaling: Scaling | None = Field(
        None, description="Scale the task count on CPU, memory or requests (target tracking)."
    )
    queue: WorkerQueue | None = Field(
        None,
        description=(
            "kind: worker: the SQS queue the worker consumes (its URL and ARN in QUEUE_URL and "
            "QUEUE_ARN); omit for the defaults."
        ),
    )
    health_check_path: str = Field(
        "/health",
        pattern=r"^/",
        description="Path the load balancer requests to see the service is healthy; starts with /.",
        examples=["/health"],
    )
    vpc: ExistingVpc | None = Field(None, description="Existing VPC; omit to create one.")
    placement: Literal["private", "public"] = Field(
        "private",
        description=(
            "Where the tasks run. private: private subnets whose traffic out leaves through a "
            "NAT gateway (the VPC conveyor creates has one). public: public subnets, each task "
            "with a public IPv4 address and a security group that admits the load balancer "
            "only; the VPC conveyor creates then has no NAT gateway and no private subnets "
            "(its hours and data, about $36 a month, for $3.65 a month per task's address; "
            "blue/green's pre-traffic validation hook cannot run without a NAT gateway, so the "
            "pipeline validates after the shift). Production: validate warns. AWS Copilot's "
            "network.vpc.placement."
        ),
    )
    public: bool = Field(
        True,
        description=(
            "false: an internal load balancer in the private subnets, reachable from inside "
            "the VPC only (its security group admits the VPC's range); the pipeline validates "
            "the service from a function in the VPC. Needs placement: private; no tests: job "
            "(CodeBuild runs outside the VPC)."
        ),
    )
    certificate_arn: str | None = Field(
        None,
        pattern=CERTIFICATE_ARN_PATTERN,
        description="ACM certificate: serve HTTPS on the load balancer's own name (outside "
        "production; a production service names its domain instead).",
        examples=[
            "arn:aws:acm:eu-west-1:123456789012:certificate/0a1b2c3d-4e5f-6789-abcd-ef0123456789"
        ],
    )
    domain: Domain | None = Field(
        None,
        description="Serve HTTPS on this name (required in production unless plain_http).",
    )
    plain_http: PlainHttp | None = Field(
        None,
        description="Production only: serve plain HTTP on port 80 anyway, with the reason.",
    )
    env: dict[str, str] = Field(
        default_factory=dict,
        description="Container environment; secrets only as ssm:/ or secretsmanager: refs.",
    )
    health_command: list[Annotated[str, Field(min_length=1)]] | None = Field(
        None,
        description=(
            "The service container's health check, run inside it by ECS: [CMD-SHELL, "
            '"<command line>"] or [CMD, <program>, <arguments>...]; exit 0 is healthy. '
            "Every 10 s after a 60 s start period, 3 failures in a row make the task unhealthy "
            "and ECS replaces it; a deployment completes only when its tasks are healthy, and "
            "its circuit breaker rolls back one whose tasks never are. The command needs its "
            "program (curl, wget...) in the image."
        ),
        examples=[["CMD-SHELL", "curl -f http://localhost:8080/health || exit 1"]],
    )
    sidecars: list[Sidecar] = Field(
        default_factory=list,
        max_length=MAX_SIDECARS,
        description=(
            f"Extra containers in the service's task, at most {MAX_SIDECARS} (ECS allows 10 "
            "containers per task definition)."
        ),
    )
    test_cidrs: list[
        Annotated[str, Field(pattern=r"^\d{1,3}(\.\d{1,3}){3}/\d{1,2}$", examples=["10.0.0.0/16"])]
    ] = Field(
        default_factory=list,
        description=(
            "Blue/green: who may reach the test listener. Defaults to the NAT addresses of the "
            "VPC conveyor creates (an internal service's: the VPC's range); required with an "
            "existing VPC. Never 0.0.0.0/0."
        ),
    )

    @model_validator(mode="after")
    def _kind(self) -> CreateService:
        refused = KIND_REFUSES[self.kind]
        for key in self.model_fields_set:
            if key in refused:
                raise KeyedValueError(f"kind {self.kind} {refused[key]}", key)
        if self.kind == "backend":
            self._backend()
        elif self.connect is not None and self.kind == "web":
            self._connect_client()
        elif self.connect is not None:
            raise KeyedValueError(
                f"kind {self.kind} neither publishes a name nor calls one through Service "
                "Connect: remove connect (kind: backend publishes one, kind: web calls them)",
                "connect",
            )
        return self

    def _backend(self) -> None:
        if self.health_command is None:
            # Nothing else can tell a deployment that the new tasks work: no load balancer
            # checks them, and a task counts as healthy once RUNNING without a health check.
            # https://docs.aws.amazon.com/AmazonECS/latest/developerguide/deployment-circuit-breaker.html
            raise KeyedValueError(
                "kind backend is validated by its container health check (no load balancer "
                "checks it, and without one a task that starts counts as healthy): add "
                f"health_command: [{HEALTH_COMMAND_EXAMPLE}]",
                "kind",
            )
        if self.scaling is not None and self.scaling.requests_per_target is not None:
            raise KeyedValueError(
                "kind backend has no load balancer to count requests per target: scale on cpu "
                "or memory",
                "scaling",
                "requests_per_target",
            )
        if self.vpc is not None and self.vpc.cidr is None:
            raise KeyedValueError(
                "a backend admits its clients from the VPC's range, which conveyor cannot look "
                "up: add cidr: <the VPC's IPv4 range, e.g. 10.0.0.0/16> to vpc",
                "vpc",
            )

    def _connect_client(self) -> None:
        connect = self.connect
        assert connect is not None
        if connect.namespace is None:
            raise KeyedValueError(
                "a web service joins the Service Connect namespace of the backends it calls: "
                "write namespace: <its name or ARN> (a backend's stack outputs it as "
                "ConnectNamespace)",
                "connect",
            )
        for key in ("name", "client_cidrs"):
            if key in connect.model_fields_set:
                raise KeyedValueError(
                    f"connect.{key} names a backend's endpoint; a web service is a client of "
                    f"the namespace only: remove {key}",
                    "connect",
                    key,
                )

    @model_validator(mode="before")
    @classmethod
    def _no_task_timeout(cls, data: Any) -> Any:
        """ECS stops a task only when its essential container exits or someone stops it: a
        RunTask has no time limit to set, so conveyor offers none (AWS Copilot's job timeout was
        its own Step Functions state machine around the task).
        https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_RunTask.html"""
        if isinstance(data, dict) and data.get("kind") == "job":
            for key in ("timeout", "timeout_minutes"):
                if key in data:
                    raise KeyedValueError(
                        "ECS has no time limit for a task: a run lasts until its command exits; "
                        "bound it in the command instead, e.g. command: [timeout, '3600', "
                        "python, -m, app.nightly] (a run stopped so exits non-zero and "
                        f"notifies); remove {key}",
                        key,
                    )
        return data

    @model_validator(mode="after")
    def _job(self) -> CreateService:
        """What only a scheduled job has (its schedule, time zone and command), and what it
        needs: a schedule EventBridge Scheduler takes."""
        if self.kind != "job":
            for key in JOB_ONLY_KEYS:
                if key in self.model_fields_set:
                    raise KeyedValueError(
                        f"{key} is a scheduled job's: write kind: job to run this task on a "
                        f"schedule, or remove {key}",
                        key,
                    )
            return self
        if self.schedule is None:
            raise KeyedValueError(
                "a job (kind: job) needs schedule: cron(0 3 * * ? *) (03:00 every day) or "
                "rate(1 hour)",
                "kind",
            )
        problem = schedule_problem(self.schedule)
        if problem is not None:
            raise KeyedValueError(problem, "schedule")
        if self.timezone is not None:
            problem = timezone_problem(self.timezone, _known_timezones())
            if problem is not None:
                raise KeyedValueError(problem, "timezone")
        return self

    @model_validator(mode="after")
    def _worker(self) -> CreateService:
        """What only a worker has (its queue, scaling on the backlog), and what it needs: a
        health command, the one judge of its tasks (no load balancer checks them)."""
        scaling = self.scaling
        if self.kind != "worker":
            if self.queue is not None:
                raise KeyedValueError(
                    f"queue is a worker's (kind: worker); a {self.kind} service has none: "
                    "remove queue, or write kind: worker",
                    "queue",
                )
            if scaling is not None and scaling.messages_per_task is not None:
                raise KeyedValueError(
                    "messages_per_task scales a worker on its queue's backlog; this service has "
                    "no queue: scale on cpu, memory or requests_per_target",
                    "scaling",
                    "messages_per_task",
                )
            return self
        if self.health_command is None:
            # A worker's tasks answer nothing a load balancer could check: without a container
            # health check, a deployment succeeds as soon as its tasks run, even if they never
            # process a message. https://docs.aws.amazon.com/AmazonECS/latest/developerguide/deployment-circuit-breaker.html
            raise ValueError(
                "a worker needs health_command: the deployment waits for its new tasks to be "
                "healthy and rolls back when they never are; write health_command: "
                '[CMD-SHELL, "test -f /tmp/healthy || exit 1"] (a file your worker touches '
                "while it polls the queue) or another check of the worker itself"
            )
        if scaling is not None:
            if scaling.requests_per_target is not None:
                raise KeyedValueError(
                    "requests_per_target counts a load balancer's requests, and a worker has "
                    "none: scale on messages_per_task (the queue's backlog per task)",
                    "scaling",
                    "requests_per_target",
                )
            if scaling.messages_per_task is None:
                raise KeyedValueError(
                    "a worker's load is its queue: add messages_per_task (how many waiting "
                    "messages one task may have, e.g. 100); cpu and memory may track as well",
                    "scaling",
                )
        for name in (QUEUE_URL_VARIABLE, QUEUE_ARN_VARIABLE):
            if name in self.env:
                raise KeyedValueError(
                    f"{name} is set by conveyor to the worker's queue; name your variable "
                    "otherwise",
                    "env",
                    name,
                )
        return self

    @field_validator("health_command")
    @classmethod
    def _health_command(cls, command: list[str] | None) -> list[str] | None:
        if command is None:
            return None
        if not command or (len(command) == 1 and command[0] in ("CMD", "CMD-SHELL")):
            raise ValueError(
                "a health command is its form (CMD-SHELL or CMD) and what to run, and this one "
                f"runs nothing: write [{HEALTH_COMMAND_EXAMPLE}]"
            )
        form = command[0]
        if form not in ("CMD", "CMD-SHELL"):
            raise ValueError(
                f"a health command starts with CMD-SHELL (a shell command line) or CMD (a "
                f"program and its arguments), not {form!r}: write [{HEALTH_COMMAND_EXAMPLE}]"
            )
        if form == "CMD-SHELL" and len(command) != 2:
            # The shell gets one command line; more items would be dropped or misread.
            raise ValueError(
                "CMD-SHELL takes one command line: join the rest into one string, e.g. "
                f"[{HEALTH_COMMAND_EXAMPLE}]"
            )
        return command

    @model_validator(mode="after")
    def _env(self) -> CreateService:
        sizes = FARGATE_MEMORY[self.cpu]
        if self.memory not in sizes:
            shown = (
                ", ".join(map(str, sizes))
                if len(sizes) <= 4
                else (f"{sizes[0]} to {sizes[-1]} in steps of 1024")
            )
            raise ValueError(
                f"Fargate has no task with cpu {self.cpu} and memory {self.memory}: with cpu "
                f"{self.cpu}, memory is {shown} MiB"
            )
        if "0.0.0.0/0" in self.test_cidrs:
            raise ValueError(
                "test_cidrs 0.0.0.0/0 would show unreleased versions to the world; "
                "list your office or VPN ranges"
            )
        _check_env_vars(self.env, where="container env")
        _listed_once([s.name for s in self.sidecars], "sidecars", "sidecar name ")
        taken = {self.port}
        for index, sidecar in enumerate(self.sidecars):
            # A task's containers share one network namespace (awsvpc): one listener per port.
            # https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-task-networking.html
            if sidecar.port is not None and sidecar.port in taken:
                raise KeyedValueError(
                    f"port {sidecar.port} is already taken in this task (its containers share "
                    "one network): give the sidecar another port",
                    "sidecars",
                    index,
                    "port",
                )
            if sidecar.port is not None:
                taken.add(sidecar.port)
        for what, total, limit in (
            ("cpu", sum(s.cpu or 0 for s in self.sidecars), self.cpu),
            ("memory", sum(s.memory or 0 for s in self.sidecars), self.memory),
        ):
            if total >= limit:
                # The sidecars' reservations come out of the task's; the service's own
                # container needs the rest.
                raise KeyedValueError(
                    f"the sidecars reserve {total} of the task's {limit} {what}, leaving none "
                    f"for the service's container: lower their {what} or raise the task's",
                    "sidecars",
                )
        if self.domain is not None and self.certificate_arn is not None:
            raise KeyedValueError(
                "certificate_arn and domain both name a certificate: move it into "
                "domain: {name: …, certificate_arn: …}",
                "certificate_arn",
            )
        if self.scaling is not None and "desired_count" in self.model_fields_set:
            # CloudFormation would set the written count on every stack update, undoing what
            # auto scaling decided; without it ECS starts the service at one task and the
            # scalable target's minimum takes over.
            # https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-ecs-service.html
            raise KeyedValueError(
                "desired_count and scaling both set the task count: remove desired_count "
                "(scaling.min and scaling.max decide)",
                "desired_count",
            )
        if not self.public and self.placement == "public":
            # The internal load balancer and the validation function live in private subnets;
            # the function reports to CodePipeline through the NAT gateway.
            raise KeyedValueError(
                "public: false keeps the service inside the VPC, and its validation runs there "
                "and reports out through the NAT gateway of the private subnets: remove "
                "placement: public (or public: false)",
                "public",
            )
        if not self.public and self.vpc is not None and self.vpc.cidr is None:
            raise KeyedValueError(
                "an internal load balancer admits the VPC's range, which conveyor cannot look "
                "up: add cidr: <the VPC's IPv4 range, e.g. 10.0.0.0/16> to vpc",
                "vpc",
            )
        if self.plain_http is not None and (self.domain or self.certificate_arn):
            raise KeyedValueError(
                "plain_http opts out of TLS, but this service has a certificate: remove plain_http",
                "plain_http",
            )
        return self

    @property
    def https(self) -> bool:
        return self.domain is not None or self.certificate_arn is not None

    @property
    def nat_gateways(self) -> int:
        """NAT gateways conveyor creates for the service: one in the VPC it creates, unless the
        tasks run in public subnets (then none); an existing VPC's are not conveyor's."""
        return 1 if self.vpc is None and self.placement == "private" else 0

    @property
    def hook_in_vpc(self) -> bool:
        """Whether a blue/green validation hook can run inside the VPC: it calls the test
        listener from private subnets, out through a NAT gateway (the listener admits those
        addresses), and reports to CodeDeploy over the internet. A function in a VPC never
        gets a public address, so the NAT-free VPC (public placement, no private subnets)
        cannot host it. https://docs.aws.amazon.com/lambda/latest/dg/configuration-vpc-internet.html"""
        return self.vpc is not None or self.placement == "private"


TrafficShift = Literal["all-at-once", "canary", "linear"]
# Minutes ECS takes to start and register new tasks before any traffic moves (two 15-second
# health checks, image pull, task start), counted against the deploy action's timeout.
NATIVE_START_MINUTES = 5


# CodePipeline's fixed timeout of a CloudFormation deploy action, which waits for the whole stack
# update, a Lambda alias's CodeDeploy shift included
# (https://docs.aws.amazon.com/codepipeline/latest/userguide/limits.html).
CLOUDFORMATION_ACTION_MINUTES = 3 * 24 * 60


def shift_minutes(shift: str, percent: int, minutes: int) -> int:
    """Minutes a traffic shift takes: a canary waits once, a linear shift waits before each
    step but the last; all at once does not wait."""
    if shift == "canary":
        return minutes
    if shift == "linear":
        return (-(-100 // percent) - 1) * minutes
    return 0


class _TrafficShifting(_Model):
    """How traffic moves to a new version: all at once, a canary slice then the rest, or
    equal steps."""

    percent: int = Field(10, ge=1, le=99, description="Traffic share of the canary or each step.")
    minutes: int = Field(
        5, ge=1, le=2880, description="Minutes before the rest (canary) or between steps (linear)."
    )
    alarms: list[Annotated[str, Field(pattern=r"^[^\s]{1,255}$", examples=["payments-5xx"])]] = (
        Field(
            default_factory=list,
            description=(
                "Names of existing CloudWatch alarms that must be quiet before the "
                "environment's stages start (its approval, and Release-<env> before its first "
                "change; never the deploy stage, whose rollback must not wait for them). They "
                "exist before it, unlike the alarms conveyor creates. No deployment watches "
                "them: they measure more than the release, and would stop a rollback while a "
                "bad release serves."
            ),
        )
    )


class EcsDeploy(_TrafficShifting):
    strategy: Literal["rolling", "blue-green", "native-blue-green"] = Field(
        "rolling",
        description=(
            "rolling: ECS replaces tasks (circuit breaker rolls back). blue-green: CodeDeploy "
            "shifts traffic between two target groups. native-blue-green: ECS's own blue/green."
        ),
    )
    traffic: TrafficShift = Field(
        "all-at-once", description="Traffic shifting for blue-green and native-blue-green."
    )
    bake_minutes: int = Field(
        5, ge=0, le=1440, description="Blue/green: minutes the old version stays ready to return."
    )
    create: CreateService | None = Field(
        None, description="Let conveyor create the cluster, service and load balancer."
    )
    cluster: str | None = Field(
        None,
        pattern=r"^[A-Za-z0-9_-]{1,255}$",
        description="Existing cluster name: letters, digits, '_', '-'.",
        examples=["payments-prod"],
    )
    service: str | None = Field(
        None,
        pattern=r"^[A-Za-z0-9_-]{1,255}$",
        description="Existing service name: letters, digits, '_', '-'.",
        examples=["api"],
    )
    container: str = Field(
        "app",
        pattern=r"^[A-Za-z0-9_-]{1,255}$",
        description="Container name in the task definition that runs the built image.",
        examples=["app"],
    )
    timeout_minutes: int = Field(60, ge=5, le=60, description="Deploy action timeout.")

    @model_validator(mode="after")
    def _job_is_no_deployment(self) -> EcsDeploy:
        """A job has no service to deploy: the stack update registers the release's task
        definition revision and points the schedule at it; the next run starts the new image."""
        if self.create is None or self.create.kind != "job" or self.strategy == "rolling":
            return self
        raise KeyedValueError(
            f"a job (kind: job) has no service for {self.strategy} to shift traffic on: each "
            "release's stack update gives the schedule the new task definition, and the next "
            "run starts it; remove strategy",
            "strategy",
        )

    @model_validator(mode="after")
    def _worker_rolls(self) -> EcsDeploy:
        """A worker rolls. CodeDeploy's blue/green needs a load balancer; ECS's own blue/green
        runs without one only as a headless deployment that shifts no traffic (both revisions
        would consume the queue at once), and the deployment circuit breaker, a worker's
        judge with its health command, exists for rolling deployments only.
        https://docs.aws.amazon.com/AmazonECS/latest/developerguide/blue-green-deployment-implementation.html
        https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DeploymentCircuitBreaker.html"""
        if self.create is None or self.create.kind != "worker":
            return self
        if self.strategy != "rolling":
            raise KeyedValueError(
                f"strategy {self.strategy} shifts load-balancer traffic between two revisions, "
                "and a worker has no load balancer (both revisions would consume the queue at "
                "once, and the circuit breaker judges rolling deployments only): remove "
                "strategy (a worker rolls, and its circuit breaker rolls back a release whose "
                "tasks never become healthy)",
                "strategy",
            )
        return self

    @model_validator(mode="after")
    def _connect_needs_the_ecs_controller(self) -> EcsDeploy:
        """Service Connect configures services of the ECS deployment controller (rolling, and
        ECS's own blue/green since July 2025); a service under CodeDeploy's controller cannot
        join a namespace.
        https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-connect.html
        https://fortem.dev/blog/ecs-service-connect-guide/ (not AWS's: the CodeDeploy limit)"""
        if self.create is None or self.create.connect is None or self.strategy != "blue-green":
            return self
        raise KeyedValueError(
            "create.connect needs the ECS deployment controller, and strategy blue-green hands "
            "the service to CodeDeploy's, which Service Connect does not support: write "
            "strategy: native-blue-green (ECS's own blue/green) or rolling",
            "strategy",
        )

    @model_validator(mode="after")
    def _create_or_existing(self) -> EcsDeploy:
        existing = self.cluster is not None or self.service is not None
        if self.create is not None and existing:
            raise ValueError("use either create: {...} or cluster + service, not both")
        if self.create is None and not (self.cluster and self.service):
            raise ValueError(
                "name the existing service with cluster: and service:, "
                "or write create: {} to let conveyor create one"
            )
        if self.create is not None:
            for index, sidecar in enumerate(self.create.sidecars):
                if sidecar.name == self.container:
                    raise KeyedValueError(
                        f"sidecar name {sidecar.name!r} is the service's container: name the "
                        "sidecar after what it runs (e.g. otel)",
                        "create",
                        "sidecars",
                        index,
                        "name",
                    )
        if self.strategy != "rolling" and self.create is not None and self.create.kind != "web":
            # CodeDeploy's ECS blue/green shifts a load balancer's listeners; ECS's own
            # blue/green can shift Service Connect traffic, but conveyor does not generate its
            # test route and in-namespace validation hook.
            # https://docs.aws.amazon.com/codedeploy/latest/userguide/deployment-steps-ecs.html
            # https://docs.aws.amazon.com/AmazonECS/latest/developerguide/blue-green-deployment-implementation.html
            raise KeyedValueError(
                f"strategy {self.strategy} needs a load balancer, and kind {self.create.kind} "
                "has none: write strategy: rolling (its circuit breaker rolls a release back "
                "whose tasks never become healthy)",
                "strategy",
            )
        if self.strategy != "rolling" and self.create is None:
            # prevents FM61: blue/green needs two target groups and two listeners, which
            # conveyor can only guarantee for a load balancer it creates.
            raise ValueError(
                f"strategy {self.strategy} needs the load balancer, two target groups and test "
                "listener conveyor creates: replace cluster/service with create: {...}"
            )
        if (
            self.strategy != "rolling"
            and self.create is not None
            and self.create.vpc is not None
            and not self.create.test_cidrs
        ):
            raise ValueError(
                f"strategy {self.strategy} in an existing VPC: add create.test_cidrs with the "
                "addresses allowed to reach the test listener (e.g. your NAT gateways' /32s)"
            )
        scaling = self.create.scaling if self.create is not None else None
        if scaling is not None and scaling.requests_per_target and self.strategy != "rolling":
            # ALBRequestCountPerTarget tracks one target group; blue/green moves production
            # traffic to the other group with every release.
            raise KeyedValueError(
                f"requests_per_target needs strategy: rolling; with {self.strategy} the target "
                "group serving production changes with each release: scale on cpu or memory",
                "create",
                "scaling",
                "requests_per_target",
            )
        if self.strategy == "rolling" and self.traffic != "all-at-once":
            raise ValueError(
                "traffic shifting needs strategy: blue-green or native-blue-green; "
                "rolling deployments replace tasks instead"
            )
        return self


# Runtimes in AWS standard support (nodejs20.x was deprecated on 2026-04-30), the same as
# conveyor.lambda_runtimes.OFFERED, which dates each. The date is judged outside the model:
# `conveyor validate` warns 180 days before it and refuses the runtime from it on
# (spec/readiness.py), while the spec still loads, so the message can name the key and the date
# and the pipeline's own synth keeps working. https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtimes.html
LambdaRuntime = Literal["python3.12", "python3.13", "python3.14", "nodejs22.x", "nodejs24.x"]


class LambdaFunction(_Model):
    """The function conveyor creates; the pipeline publishes each build as a new version."""

    runtime: LambdaRuntime = Field(
        "python3.14",
        description=(
            "Current runtimes only (FM65): no Node.js 18 or Python 3.9. The default is the "
            "newest Python; validate warns 180 days before Lambda deprecates the runtime and "
            "refuses it from that date."
        ),
    )
    handler: str = Field(
        "app.handler",
        pattern=r"^[A-Za-z0-9_./-]+\.[A-Za-z0-9_]+$",
        description="module.function that Lambda calls, the module's path relative to the zip.",
        examples=["app.handler"],
    )
    package: str = Field(
        "function.zip",
        min_length=1,
        description="Path of the deployment zip the build writes, relative to the repository.",
    )
    architecture: Literal["arm64", "x86_64"] = Field(
        "arm64",
        description=(
            "Instruction set of the function (arm64: Graviton). The build gets "
            "LAMBDA_PIP_PLATFORM and LAMBDA_PYTHON_VERSION to install wheels for it."
        ),
    )
    memory: int = Field(256, ge=128, le=10240, description="Memory in MiB.")
    timeout_seconds: int = Field(30, ge=1, le=900)
    env: dict[str, PlainText] = Field(
        default_factory=dict, description="Environment variables (never secrets)."
    )

    @model_validator(mode="after")
    def _env(self) -> LambdaFunction:
        for name, value in self.env.items():
            if is_secret_ref(value) or name_suggests_secret(name):
                raise ValueError(
                    f"function env {name}: Lambda environment variables are visible to anyone "
                    "who can read the function; read the secret at run time from SSM or "
                    "Secrets Manager instead"
                )
        return self


class LambdaDeploy(_TrafficShifting):
    strategy: TrafficShift = Field(
        "canary", description="How CodeDeploy shifts the alias to the new version (FM62)."
    )
    function: LambdaFunction = Field(default_factory=LambdaFunction)
    alias: str = Field(
        "live",
        pattern=r"^[A-Za-z][A-Za-z0-9_-]{0,127}$",
        description="Alias that receives traffic: a letter, then letters, digits, '_', '-'.",
        examples=["live"],
    )
    # No timeout_minutes: the deploy is a CloudFormation action updating the environment's stack
    # while CodeDeploy shifts the alias, and CodePipeline fixes that action's timeout (3 days);
    # an action's TimeoutInMinutes is accepted for manual approvals only
    # (https://docs.aws.amazon.com/codepipeline/latest/userguide/limits.html,
    # https://docs.aws.amazon.com/codepipeline/latest/APIReference/API_ActionDeclaration.html).
    # The key used to be accepted and did nothing: an old spec that sets it is told so.

    @model_validator(mode="before")
    @classmethod
    def _timeout_is_not_a_setting(cls, data: Any) -> Any:
        if isinstance(data, dict) and "timeout_minutes" in data:
            raise ValueError(
                "timeout_minutes is not a setting of a Lambda deploy (it never changed the "
                "pipeline: CodePipeline gives the CloudFormation deploy action a fixed 3 days, "
                "and CodeDeploy's shift takes what strategy, percent and minutes say): delete "
                "the line"
            )
        return data

    @model_validator(mode="after")
    def _shift_fits_the_timeout(self) -> LambdaDeploy:
        shift = shift_minutes(self.strategy, self.percent, self.minutes)
        # The stack update waits for CodeDeploy; five minutes cover publishing and the hook.
        if shift + 5 > CLOUDFORMATION_ACTION_MINUTES:
            raise ValueError(
                f"the {self.strategy} shift takes {shift} minutes, longer than the 3 days "
                f"({CLOUDFORMATION_ACTION_MINUTES} minutes) CodePipeline gives the CloudFormation "
                "deploy action: shorten minutes or raise percent"
            )
        return self


class Deploy(_Model):
    ecs: EcsDeploy | None = None
    lambda_: LambdaDeploy | None = Field(None, alias="lambda")

    @model_validator(mode="after")
    def _one_target(self) -> Deploy:
        if (self.ecs is None) == (self.lambda_ is None):
            raise ValueError("choose exactly one deploy target: ecs or lambda")
        return self

    @property
    def kind(self) -> Literal["ecs", "lambda"]:
        return "ecs" if self.ecs is not None else "lambda"


class HttpCheck(_Model):
    url: str | None = Field(
        None,
        # No space or control character: http.client refuses such a request target at every
        # attempt (http/client.py, _contains_disallowed_url_pchar_re); percent-encode them.
        pattern=r"^https?://[^\s\x00-\x1f\x7f]+$",
        description=(
            "URL to check, with no user:password@ or secret query parameter (written in plain "
            "text into the pipeline). Omit for a created service to check its load balancer."
        ),
        examples=["https://staging.example.com/health"],
    )
    path: str = Field(
        "/health",
        pattern=r"^/[^\s\x00-\x1f\x7f]*$",
        description=(
            "Path on a created service's load balancer; starts with /, no spaces (write %20), "
            "no secret query parameter."
        ),
        examples=["/health"],
    )
    expect: int = Field(200, ge=100, le=599, description="Expected HTTP status.")
    body_contains: str | None = None
    retries: int = Field(5, ge=0, le=30)
    interval_seconds: int = Field(10, ge=1, le=120)
    timeout_seconds: int = Field(5, ge=1, le=60)
    server_name: str | None = Field(
        None,
        max_length=253,
        pattern=r"^([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)*[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$",
        description=(
            "Name on the app's certificate when the check reaches it through another name "
            "(e.g. the load balancer's): sent as TLS SNI and Host, and verified."
        ),
        examples=["payments.example.com"],
    )
    ca_certificate: str | None = Field(
        None,
        pattern=r"^\s*-----BEGIN CERTIFICATE-----[A-Za-z0-9+/=\s-]+-----END CERTIFICATE-----\s*$",
        max_length=3000,
        description="PEM certificate of a private CA: trusted instead of the public ones.",
        examples=["-----BEGIN CERTIFICATE-----\nMIIB…\n-----END CERTIFICATE-----"],
    )

    @field_validator("url", "path")
    @classmethod
    def _no_secret_in_target(cls, value: str | None, info: ValidationInfo) -> str | None:
        # The URL is written in plain text into the pipeline definition (the validation
        # action's UserParameters) and the hook function's VALIDATE_URL, and conveyor.yaml
        # is committed: anyone who can read the pipeline or the repository reads the secret.
        is_url = info.field_name == "url"
        secret = value and secret_in_url(value, authority=is_url)
        if secret:
            example = "https://app.example.com/health" if is_url else "/health"
            raise ValueError(
                f"the {info.field_name} carries {secret}; conveyor.yaml is committed and its "
                "values are written into the pipeline definition (UserParameters) and the "
                "hook's VALIDATE_URL in plain text. A health check should need no secret: "
                f"point it at an unauthenticated health path, e.g. {example}"
            )
        return value

    @property
    def longest_seconds(self) -> int:
        """Every attempt timing out, with the waits between them."""
        return (self.retries + 1) * self.timeout_seconds + self.retries * self.interval_seconds


# A CodeDeploy lifecycle hook is one invocation of a 10-minute function (no continuation),
# less what the handler keeps back to report. CodePipeline's Lambda action continues across
# invocations (up to 24 hours) and ECS hooks return IN_PROGRESS, so only this one is bounded:
# https://docs.aws.amazon.com/codepipeline/latest/userguide/limits.html
HOOK_FUNCTION_SECONDS = 600
HOOK_CHECK_SECONDS = HOOK_FUNCTION_SECONDS - 30


# How long production's alarms are watched after a release when the spec does not say.
DEFAULT_WATCH_MINUTES = 30
# Rules one stage condition may hold.
# https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-properties-codepipeline-pipeline-condition.html
RULES_PER_CONDITION = 5


class Validate(_Model):
    """A check after each deploy (FM63). On failure the pipeline stops and the environment
    rolls back; with CodeDeploy it also runs as the traffic hook, before users see a version."""

    http: HttpCheck


# CodePipeline's DeploymentWindow rule: six fields and an optional year, Quartz style.
# https://docs.aws.amazon.com/codepipeline/latest/userguide/rule-reference-DeploymentWindow.html
_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_DAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")
_CRON_FIELDS: tuple[tuple[str, int, int, tuple[str, ...]], ...] = (
    ("seconds", 0, 59, ()),
    ("minutes", 0, 59, ()),
    ("hours", 0, 23, ()),
    ("day-of-month", 1, 31, ()),
    ("month", 1, 12, _MONTHS),
    ("day-of-week", 1, 7, _DAYS),
    ("year", 1970, 2199, ()),
)
CRON_EXAMPLE = "* * 9-16 ? * MON-FRI *"
# Region/City, UTC with an optional offset, or a 3-5 letter abbreviation.
TIMEZONE_PATTERN = r"^([A-Za-z]+(/[A-Za-z0-9_+-]+)+|UTC([+-]\d{2}:\d{2})?|[A-Z]{3,5})$"


def _cron_value(text: str, low: int, high: int, names: tuple[str, ...]) -> bool:
    upper = text.upper()
    if upper in names:
        return True
    return text.isdigit() and low <= int(text) <= high


def _cron_item(item: str, field: str, low: int, high: int, names: tuple[str, ...]) -> bool:
    """One comma-separated part of a cron field: *, a value, a range, a step, or the special
    forms day-of-month (L, LW, L-3, 15W) and day-of-week (L, 6L, 6#3) allow."""
    upper = item.upper()
    if field == "day-of-month" and (
        upper in ("L", "LW")
        or re.fullmatch(r"L-\d{1,2}", upper)
        or (upper.endswith("W") and _cron_value(item[:-1], low, high, names))
    ):
        return True
    if field == "day-of-week":
        if upper == "L" or (upper.endswith("L") and _cron_value(item[:-1], low, high, names)):
            return True
        if "#" in item:
            day, _, nth = item.partition("#")
            return _cron_value(day, low, high, names) and nth in ("1", "2", "3", "4", "5")
    base, slash, step = item.partition("/")
    if slash and not (step.isdigit() and int(step) > 0):
        return False
    if base == "*":
        return True
    start, dash, end = base.partition("-")
    if dash:
        return _cron_value(start, low, high, names) and _cron_value(end, low, high, names)
    return _cron_value(base, low, high, names)


def cron_problem(cron: str) -> str | None:
    """What is wrong with a DeploymentWindow cron expression, or None."""
    fields = cron.split()
    if len(fields) not in (6, 7):
        return (
            f"cron has {len(fields)} fields; write 6 or 7 (seconds minutes hours day-of-month "
            f"month day-of-week [year]), e.g. '{CRON_EXAMPLE}'"
        )
    for value, (field, low, high, names) in zip(fields, _CRON_FIELDS, strict=False):
        if value == "?" and field in ("day-of-month", "day-of-week"):
            continue
        if not all(_cron_item(item, field, low, high, names) for item in value.split(",")):
            allowed = f"{low}-{high}" + (f" or {names[0]}-{names[-1]}" if names else "")
            return f"cron's {field} field {value!r} is not valid: use {allowed}, *, ranges, lists"
    if (fields[3] == "?") == (fields[5] == "?"):
        return (
            "cron needs '?' in exactly one of day-of-month and day-of-week (the other names "
            f"the days), e.g. '{CRON_EXAMPLE}'"
        )
    return None


class DeploymentWindow(_Model):
    """When the pipeline may enter this environment: a DeploymentWindow rule before its first
    stage (before the approval) and again before its first change (`Release-<env>`: the
    release's image tag or package copy, then the `before` job), never before the deploy stage,
    which rolls back (a rollback must not wait for the window). An execution that arrives
    outside the window waits there until it opens.
    https://docs.aws.amazon.com/codepipeline/latest/userguide/rule-reference-DeploymentWindow.html"""

    cron: str = Field(
        min_length=11,
        max_length=200,
        description=(
            "Times deployments are allowed: seconds minutes hours day-of-month month "
            "day-of-week [year], with '?' in one of the two day fields."
        ),
        examples=[CRON_EXAMPLE],
    )
    timezone: str = Field(
        "UTC",
        max_length=64,
        description="Region/City (Europe/Berlin), UTC or UTC+05:30, or an abbreviation (EST).",
        examples=["Europe/Berlin"],
    )

    @model_validator(mode="after")
    def _valid(self) -> DeploymentWindow:
        problem = cron_problem(self.cron)
        if problem is not None:
            raise KeyedValueError(problem, "cron")
        if not re.fullmatch(TIMEZONE_PATTERN, self.timezone):
            raise KeyedValueError(
                f"timezone {self.timezone!r} is not a time zone: write Region/City "
                "(Europe/Berlin), UTC, UTC+05:30 or an abbreviation such as EST",
                "timezone",
            )
        if "/" in self.timezone:
            known = _known_timezones()
            if known and self.timezone not in known:
                close = difflib.get_close_matches(self.timezone, known, n=1)
                hint = f" (did you mean {close[0]}?)" if close else ""
                raise KeyedValueError(
                    f"timezone {self.timezone!r} is not a known Region/City time zone{hint}",
                    "timezone",
                )
        return self


def _known_timezones() -> set[str]:
    """The IANA names this machine knows (none without a time zone database)."""
    import zoneinfo

    return zoneinfo.available_timezones()


class EnvironmentJob(_Model):
    """Commands run in CodeBuild inside an environment's stage, from the source revision. The
    job gets CONVEYOR_ENVIRONMENT, APP_URL (when conveyor knows the environment's address),
    CLUSTER_NAME and SERVICE_NAME (a job: TASK_FAMILY) or FUNCTION_NAME and FUNCTION_ALIAS,
    IMAGE_URI (a container build) and COMMIT_ID (a git source) as environment variables; in
    another region than the pipeline's, also ENVIRONMENT_REGION (the job itself runs in the
    pipeline's). A failure fails the stage, which rolls back. Its role may write its logs and
    reports and read the source; nothing else."""

    commands: list[PlainText] = Field(min_length=1, description="Shell commands, in order.")
    compute: ComputeSize = "small"
    timeout_minutes: int = Field(15, ge=5, le=120)
    junit: str | None = Field(
        None,
        description="Glob of the JUnit XML reports the commands write (CodeBuild test reports).",
        examples=["reports/*.xml"],
    )


class Environment(_Model):
    name: str = Field(
        pattern=ENV_NAME_PATTERN,
        max_length=15,
        description="Lowercase letters, digits and single inner hyphens; up to 15 characters.",
        examples=["staging", "prod"],
    )
    production: bool | None = Field(
        None,
        description="Retain data on stack deletion. Defaults to true for prod/production/live.",
    )
    account: str | None = Field(
        None,
        pattern=r"^\d{12}$",
        description=(
            "AWS account to deploy into when it is not the pipeline's (then set the top-level "
            "account:). conveyor synthesizes a stack for that account, deployed before the "
            "pipeline's, and grants across accounts with roles and resource policies."
        ),
        examples=["123456789012"],
    )
    region: str | None = Field(
        None,
        pattern=r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$",
        description=(
            "AWS region to deploy into; defaults to the pipeline's region. Another region "
            "gets its own artifact store and copy of the image or package (a stack `conveyor "
            "deploy` creates there): a Lambda function, or a service conveyor creates (web, "
            "worker or backend) with strategy rolling or native-blue-green, in the pipeline's "
            "account (docs/pipelines.md, 'Other regions')."
        ),
        examples=["eu-west-1"],
    )
    approval: bool | None = Field(
        None,
        description=(
            "Manual approval before deploying here. Defaults to true for production "
            "environments (FM76); write false to deploy production without one."
        ),
    )
    deploy: Deploy
    validate_: Validate | None = Field(None, alias="validate")
    watch_minutes: int | None = Field(
        None,
        ge=0,
        le=1440,
        description=(
            "After the stage succeeds, minutes the pipeline watches the alarms conveyor "
            "creates in this environment's stack; an alarm rolls the stage back to the last "
            "good release. Default: 30 for production, 0 (off) elsewhere."
        ),
    )
    window: DeploymentWindow | None = Field(
        None, description="When the pipeline may deploy here (a deployment window or freeze)."
    )
    before: EnvironmentJob | None = Field(
        None,
        description=(
            "A job before the deploy (after the approval), e.g. database migrations that the "
            "new release needs."
        ),
    )
    tests: EnvironmentJob | None = Field(
        None,
        description=(
            "Tests against the deployed environment, after the deploy and its validation; a "
            "failure rolls the stage back."
        ),
    )

    @property
    def alarm_kinds(self) -> tuple[str, ...]:
        """The alarms the environment's stack creates, by kind (named {app}-{kind}-{env}):
        a created service's 5xx and unhealthy hosts, a function's errors, throttles and
        duration."""
        if self.deploy.lambda_ is not None:
            return ("errors", "throttles", "duration")
        create = self.deploy.ecs.create if self.deploy.ecs is not None else None
        if create is not None and create.kind == "web":
            return ("5xx", "unhealthy")
        # A worker's one alarm, on its dead-letter queue, tells its topic but is no bake's: it
        # stays in ALARM until the messages are redriven or deleted, and would roll back every
        # later release, the fix included (worker_service.py). So does a job's, on the runs
        # the scheduler could not start (scheduled_job.py).
        return ()

    @property
    def checked_by_health_command(self) -> bool:
        """Whether each release is judged inside its stack update by the service container's
        health command: a backend (no load balancer for the pipeline's HTTP check), whose
        rolling deployment completes only when the new tasks are healthy and whose circuit
        breaker rolls back one whose tasks never are (the stack update fails with it).
        https://docs.aws.amazon.com/AmazonECS/latest/developerguide/deployment-circuit-breaker.html"""
        create = self.deploy.ecs.create if self.deploy.ecs is not None else None
        return create is not None and create.kind == "backend" and bool(create.health_command)

    @property
    def user_alarms(self) -> list[str]:
        target = self.deploy.ecs or self.deploy.lambda_
        return list(target.alarms) if target is not None else []

    @property
    def is_job(self) -> bool:
        """A scheduled job conveyor creates (create.kind: job)."""
        ecs = self.deploy.ecs
        return ecs is not None and ecs.create is not None and ecs.create.kind == "job"

    @property
    def is_worker(self) -> bool:
        """A worker conveyor creates (create.kind: worker)."""
        ecs = self.deploy.ecs
        return ecs is not None and ecs.create is not None and ecs.create.kind == "worker"

    @property
    def bake_minutes(self) -> int:
        """Minutes of the alarm watch after the stage (watch_minutes or its default)."""
        if self.watch_minutes is not None:
            return self.watch_minutes
        return DEFAULT_WATCH_MINUTES if self.is_production else 0

    @property
    def is_production(self) -> bool:
        if self.production is not None:
            return self.production
        return self.name in PRODUCTION_NAMES

    @property
    def needs_approval(self) -> bool:
        return self.approval if self.approval is not None else self.is_production

    @property
    def validation(self) -> HttpCheck | None:
        """The check after each deploy: the spec's, or for a service conveyor creates, its
        load balancer's health-check path (FM63)."""
        ecs = self.deploy.ecs
        domain = ecs.create.domain if ecs is not None and ecs.create is not None else None
        check = self.validate_.http if self.validate_ is not None else None
        if check is None and ecs is not None and ecs.create is not None:
            if ecs.create.kind != "web":
                return None  # no load balancer to call: its health command validates it
            check = HttpCheck(path=ecs.create.health_check_path)
        if check is not None and domain is not None and check.url is None:
            # The certificate names the domain, not the load balancer: a check through the
            # load balancer's name (the blue/green test listener, or a name whose DNS is not
            # conveyor's) sends the domain as SNI and Host and verifies the certificate for it.
            check = check.model_copy(update={"server_name": check.server_name or domain.name})
        return check

    @property
    def domain(self) -> Domain | None:
        """The name a created web service answers on (create.domain), if any."""
        ecs = self.deploy.ecs
        return ecs.create.domain if ecs is not None and ecs.create is not None else None

    @model_validator(mode="after")
    def _native_blue_green_fits_the_deploy_timeout(self) -> Environment:
        """ECS native blue/green runs inside the CodePipeline ECS action, which gives up after
        at most 60 minutes (DeploymentTimeout) while ECS still shifts or bakes: the stage fails
        although the deployment may go on.
        https://docs.aws.amazon.com/codepipeline/latest/userguide/action-reference-ECS.html"""
        ecs = self.deploy.ecs
        if ecs is None or ecs.strategy != "native-blue-green":
            return self
        shift = shift_minutes(ecs.traffic, ecs.percent, ecs.minutes)
        check = self.validation
        hook = 0
        if check is not None and ecs.create is not None and ecs.create.hook_in_vpc:
            seconds = (check.retries + 1) * check.timeout_seconds + check.retries * (
                check.interval_seconds
            )
            hook = -(-seconds // 60)
        total = NATIVE_START_MINUTES + shift + ecs.bake_minutes + hook
        if total > ecs.timeout_minutes:
            raise ValueError(
                f"native blue/green takes up to {total} minutes here ({NATIVE_START_MINUTES} to "
                f"start the new tasks, {shift} of traffic shifting, {ecs.bake_minutes} of "
                f"bake_minutes, {hook} of validation), longer than the ECS deploy action's "
                f"timeout_minutes ({ecs.timeout_minutes}, at most 60) allows: shorten minutes, "
                "bake_minutes or the validation retries"
            )
        return self

    @model_validator(mode="after")
    def _production_serves_https(self) -> Environment:
        """A production web service conveyor creates answers on its own name over HTTPS; plain
        HTTP only by an explicit, reasoned opt-out (conveyor check reports it: CV105)."""
        ecs = self.deploy.ecs
        create = ecs.create if ecs is not None else None
        if create is None:
            return self
        if create.plain_http is not None and not self.is_production:
            raise KeyedValueError(
                f"plain_http is the opt-out from TLS in production, and {self.name} is not "
                "production (it serves plain HTTP unless it has a domain): remove plain_http",
                "deploy",
                "ecs",
                "create",
                "plain_http",
            )
        if self.is_production and create.scaling is not None and create.scaling.min < 2:
            raise KeyedValueError(
                f"{self.name} is production: keep at least two tasks (one per availability "
                "zone, so one failing task or zone does not take the service down): write min: 2",
                "deploy",
                "ecs",
                "create",
                "scaling",
                "min",
            )
        if create.kind != "web":
            return self  # the TLS rules are a load balancer's
        if self.is_production and create.domain is None and create.plain_http is None:
            moved = (
                " (move certificate_arn into domain: {name: <the name on the certificate>, "
                "certificate_arn: …})"
                if create.certificate_arn is not None
                else ""
            )
            raise KeyedValueError(
                f"{self.name} is production: its web service needs a domain for HTTPS{moved}; "
                "write domain: {name: api.example.com, hosted_zone_id: Z…} (conveyor creates a "
                "DNS-validated certificate and the alias record), or domain: {name: …, "
                "certificate_arn: arn:aws:acm:…}; plain HTTP only with plain_http: {reason: …}",
                "deploy",
                "ecs",
                "create",
            )
        return self

    @model_validator(mode="after")
    def _backend_is_reached_in_its_namespace(self) -> Environment:
        """A backend's name resolves only in the tasks of its Service Connect namespace, and
        its port admits its network's clients: the pipeline's HTTP validation (a function
        outside that network) and a tests: job (CodeBuild, outside the VPC) cannot reach it.
        https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-connect-concepts.html"""
        ecs = self.deploy.ecs
        create = ecs.create if ecs is not None else None
        if create is None or create.kind != "backend":
            return self
        if self.validate_ is not None:
            raise KeyedValueError(
                "kind backend is reached through Service Connect by the services of its "
                "namespace only, which the pipeline's HTTP check is not: remove validate "
                "(create.health_command and the circuit breaker validate each release)",
                "validate",
            )
        if self.tests is not None:
            raise KeyedValueError(
                "tests: runs in CodeBuild outside the backend's network and Service Connect "
                "namespace, where its name does not resolve: remove tests (test it through a "
                "web service of the namespace)",
                "tests",
            )
        return self

    @model_validator(mode="after")
    def _internal_service_is_reached_from_the_vpc(self) -> Environment:
        """An internal load balancer answers inside its VPC only: the validation runs from a
        function there (same account as the pipeline, which invokes it); a tests: job runs
        in CodeBuild outside the VPC and could not reach it."""
        ecs = self.deploy.ecs
        create = ecs.create if ecs is not None else None
        if create is None or create.public:
            return self
        if self.account is not None:
            raise KeyedValueError(
                "an internal service (public: false) is validated by a function in its VPC that "
                "the pipeline invokes in its own account; in another account write public: true "
                "(or deploy this environment in the pipeline's account)",
                "deploy",
                "ecs",
                "create",
                "public",
            )
        if self.tests is not None:
            raise KeyedValueError(
                "tests: runs in CodeBuild outside the VPC, and this service's load balancer is "
                "internal (public: false), reachable from the VPC only: remove tests (validate: "
                "checks the service from inside the VPC) or write public: true",
                "tests",
            )
        return self

    @model_validator(mode="after")
    def _job_is_not_called(self) -> Environment:
        """A scheduled job answers no request: nothing for an HTTP check to call. What judges
        a release of it is its runs' exit codes (the failure notices) and tests:."""
        if not self.is_job:
            return self
        if self.validate_ is not None:
            raise KeyedValueError(
                "a job (kind: job) serves nothing for validate.http to call: remove validate "
                "(each run's exit code is judged: a failed run notifies the environment's alarm "
                "topic; tests: can run the job's code against the environment after the deploy)",
                "validate",
            )
        return self

    @model_validator(mode="after")
    def _worker_is_not_called(self) -> Environment:
        """A worker answers no request: an HTTP check has nothing of it to call."""
        ecs = self.deploy.ecs
        if ecs is None or ecs.create is None or ecs.create.kind != "worker":
            return self
        if self.validate_ is not None:
            raise KeyedValueError(
                "a worker serves no HTTP: remove validate (the deployment waits for "
                "create.health_command on its new tasks and rolls back when they never turn "
                "healthy; the dead-letter queue's alarm tells you of messages it cannot process)",
                "validate",
            )
        return self

    @model_validator(mode="after")
    def _check_has_a_url(self) -> Environment:
        ecs = self.deploy.ecs
        creates = ecs is not None and ecs.create is not None and ecs.create.kind == "web"
        if self.validate_ is not None and self.validate_.http.url is None and not creates:
            raise ValueError(
                "validate.http needs url: here, because conveyor does not create this "
                "service's load balancer"
            )
        check = self.validate_.http if self.validate_ is not None else None
        if (
            check is not None
            and check.url is None
            and check.server_name is None
            and ecs is not None
            and ecs.create is not None
            and ecs.create.certificate_arn is not None
        ):
            # Issue 14/5: the check would call https://<load balancer DNS name>, a name the
            # app's certificate never holds, so TLS fails and every deploy rolls back.
            raise ValueError(
                "validate.http on an HTTPS service (create.certificate_arn) would check the "
                "load balancer's DNS name, which the certificate does not name: add "
                "server_name: <the name on the certificate> (sent as SNI and Host) or "
                "url: https://<that name>/health"
            )
        # Every strategy deploys into another account (CodeDeploy's too: its application,
        # group and hook live in the environment's stack there; docs/pipelines.md).
        if (
            self.account is not None
            and creates
            and (self.validate_ is None or self.validate_.http.url is None)
        ):
            raise ValueError(
                "a service in another account is validated from the pipeline's account: "
                "add validate: {http: {url: https://…/health}} with its public URL"
            )
        return self

    @model_validator(mode="after")
    def _check_fits_its_hook(self) -> Environment:
        check = self.validation
        ecs = self.deploy.ecs
        codedeploy_hook = (
            ecs is not None
            and ecs.strategy == "blue-green"
            and (ecs.create is None or ecs.create.hook_in_vpc)
        ) or (self.deploy.lambda_ is not None and check is not None and check.url is not None)
        if codedeploy_hook and check is not None and check.longest_seconds > HOOK_CHECK_SECONDS:
            raise ValueError(
                f"validate.http can take {check.longest_seconds} s "
                "((retries + 1) * timeout_seconds + retries * interval_seconds), but it also runs "
                f"as the CodeDeploy traffic hook, which has {HOOK_CHECK_SECONDS} s: lower "
                "retries, interval_seconds or timeout_seconds"
            )
        return self


# --- checks ------------------------------------------------------------------------------------

ScanTool = Literal["bandit", "semgrep", "pip-audit", "npm-audit", "gitleaks", "trivy", "syft"]
Severity = Literal["critical", "high", "medium", "low"]


class Suite(_Model):
    """A named test job: its own CodeBuild action, in parallel with the others."""

    name: str = Field(
        pattern=r"^[a-z][a-z0-9-]{0,30}$",
        description="Lowercase letters, digits and '-', starting with a letter; up to 31.",
        examples=["unit"],
    )
    commands: list[PlainText] = Field(min_length=1)
    compute: ComputeSize = "small"
    timeout_minutes: int = Field(15, ge=5, le=120)
    junit: str | None = Field(
        None, description="Glob of JUnit XML reports, shown as CodeBuild test reports."
    )
    coverage: str | None = Field(
        None, description="Cobertura/JaCoCo/Clover coverage file, as a CodeBuild report."
    )


class Scans(_Model):
    tools: list[ScanTool] = Field(
        description=(
            "Each runs as its own parallel action and writes SARIF. An empty list turns "
            "scanning off (conveyor check then reports FM75)."
        ),
    )
    fail_on: Severity = Field(
        "critical",
        description=(
            "The scan gate stops the pipeline at this severity or above (FM75). Accepted "
            "findings go in .conveyor/scan-allowlist.json, each with a reason and an expiry date."
        ),
    )

    @model_validator(mode="after")
    def _distinct(self) -> Scans:
        _listed_once(list(self.tools), "tools", "scan tool ")
        return self


class Checks(_Model):
    """Tests and security scans, all in one stage, in parallel (FM29), then the scan gate."""

    tests: list[Suite] = Field(default_factory=list)
    scans: Scans | None = Field(
        None,
        description=(
            "Omit for the defaults: gitleaks on the source, and trivy on the image of a Docker "
            "build, gated at critical."
        ),
    )

    @model_validator(mode="after")
    def _distinct_names(self) -> Checks:
        repeat = _first_repeat([t.name for t in self.tests])
        if repeat is not None:
            raise KeyedValueError(
                f"test name {self.tests[repeat].name!r} is used twice; names must differ",
                "tests",
                repeat,
                "name",
            )
        return self


# --- notifications, alarms, retention ----------------------------------------------------------

NotificationEvent = Literal[
    "failed", "succeeded", "started", "approval-needed", "rollback", "scan-findings"
]
DEFAULT_NOTIFY_ON: tuple[NotificationEvent, ...] = ("failed", "approval-needed", "rollback")

Email = Annotated[
    str,
    Field(pattern=EMAIL_PATTERN, description="An email address", examples=["oncall@example.com"]),
]


# Chat channels are configured in Amazon Q Developer in chat applications (formerly AWS
# Chatbot); the workspace or team must be authorized once in its console. Patterns are the
# CloudFormation resources' own:
# https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-chatbot-slackchannelconfiguration.html
# https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-chatbot-microsoftteamschannelconfiguration.html
_UUID = r"^[0-9A-Fa-f]{8}(?:-[0-9A-Fa-f]{4}){3}-[0-9A-Fa-f]{12}$"


class SlackChannel(_Model):
    """A Slack channel that receives the audience's notices (read-only: no commands)."""

    workspace: str = Field(
        pattern=r"^[0-9A-Z]{1,255}$",
        description="Slack workspace id, authorized once in the Amazon Q Developer console.",
        examples=["T0123ABCDE"],
    )
    channel: str = Field(
        pattern=r"^[A-Za-z0-9]{1,255}$",
        description="Slack channel id (channel details > About), not its name.",
        examples=["C0123ABCDE"],
    )


class TeamsChannel(_Model):
    """A Microsoft Teams channel that receives the audience's notices (read-only)."""

    team: str = Field(
        pattern=_UUID,
        description="Team id, authorized once in the Amazon Q Developer console.",
        examples=["0a1b2c3d-4e5f-6789-abcd-ef0123456789"],
    )
    tenant: str = Field(
        pattern=_UUID,
        description="Microsoft Entra tenant id of the team.",
        examples=["9f8e7d6c-5b4a-4321-8fed-cba987654321"],
    )
    channel: str = Field(
        pattern=r"^([a-zA-Z0-9-_=+/.,])*%3[aA]([a-zA-Z0-9-_=+/.,])*%40([a-zA-Z0-9-_=+/.,])*$",
        max_length=256,
        description="Channel id from the channel's link, URL-encoded as it appears there.",
        examples=["19%3ab6ef35dc342d4b3a8e7b1d9e0d0f3a8b%40thread.tacv2"],
    )


class _Listeners(_Model):
    """Where an audience hears: email, a Slack channel, a Teams channel, or several."""

    email: list[Email] = Field(
        default_factory=list, description="Email addresses of this audience."
    )
    slack: SlackChannel | None = None
    teams: TeamsChannel | None = None

    @model_validator(mode="after")
    def _each_address_once(self) -> _Listeners:
        # A repeated address is a copy-paste slip: SNS keeps one subscription per endpoint, so
        # the second line does nothing but suggest someone else is told.
        _listed_once(list(self.email), "email", fold=True)
        return self

    @property
    def listens(self) -> bool:
        return bool(self.email) or self.slack is not None or self.teams is not None

    @property
    def chats(self) -> bool:
        return self.slack is not None or self.teams is not None


class Audience(_Listeners):
    on: list[NotificationEvent] = Field(min_length=1)

    @model_validator(mode="after")
    def _someone_listens(self) -> Audience:
        if not self.listens:
            # prevents FM71: a topic with no subscription tells nobody.
            raise ValueError("nobody would hear: add email: [team@example.com], slack: or teams:")
        _listed_once(list(self.on), "on", "event ")
        return self


class Notifications(_Listeners):
    """Who hears about what. `email`/`slack`/`teams`/`on` form the team audience; `audiences`
    adds named groups (developers, security, release...), each with its own encrypted topic
    (FM70, FM71)."""

    email: list[Email] = Field(
        default_factory=list,
        description="Email addresses of the team audience, like oncall@example.com.",
    )
    on: list[NotificationEvent] = Field(
        default_factory=lambda: list(DEFAULT_NOTIFY_ON),
        description="Pipeline events that notify the team's subscribers.",
    )
    audiences: dict[str, Audience] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _someone_listens(self) -> Notifications:
        for name in self.audiences:
            if not re.fullmatch(r"[a-z][a-z0-9-]{0,20}", name):
                raise ValueError(f"audience name {name!r}: use lowercase letters, digits and '-'")
        if not self.listens and not self.audiences:
            # prevents FM71: a topic with no subscription tells nobody.
            raise ValueError(
                "nobody would be notified: add email: [team@example.com], slack:, teams: "
                "(or audiences)"
            )
        _listed_once(list(self.on), "on", "event ")
        if not any("failed" in a.on for a in self.all_audiences().values()):
            # prevents FM70: a failing pipeline must reach someone.
            raise ValueError("no audience is told about failures: add failed to some on: list")
        return self

    def all_audiences(self) -> dict[str, Audience]:
        result = dict(self.audiences)
        if self.listens:
            team = Audience(email=self.email, slack=self.slack, teams=self.teams, on=self.on)
            result = {"team": team, **result}
        return result


EstimateKind = Literal["source", "build", "test", "scan", "gate", "approval", "deploy", "validate"]


class Alarms(_Model):
    stuck_minutes: int = Field(
        60, ge=10, le=1440, description="An execution running longer than this raises an alarm."
    )


class Retention(_Model):
    log_days: int = Field(30, description=f"Log retention; one of {LOG_RETENTION_DAYS}.")
    artifact_days: int = Field(30, ge=1, le=3650, description="Days pipeline artifacts are kept.")
    images: int = Field(10, ge=1, le=1000, description="Tagged images kept in ECR.")

    @model_validator(mode="after")
    def _valid_log_days(self) -> Retention:
        if self.log_days not in LOG_RETENTION_DAYS:
            raise ValueError(
                f"log_days {self.log_days} is not a CloudWatch retention period; "
                f"use one of {', '.join(map(str, LOG_RETENTION_DAYS))}"
            )
        return self


class SelfUpdate(_Model):
    """How the pipeline's UpdatePipeline stage gets conveyor and finds this file."""

    install: PlainText | None = Field(
        None,
        min_length=1,
        max_length=500,
        pattern=r"^[A-Za-z0-9][^\s'\"`$\\]*( @ [^\s'\"`$\\]+)?$",
        description=(
            "pip requirement the pipeline installs conveyor from; default: conveyor[cdk] at the "
            "version that synthesized the pipeline, from PyPI. Example: "
            "'conveyor[cdk] @ git+https://github.com/acme/conveyor@v0.1.0'"
        ),
        examples=["conveyor[cdk]==0.1.0"],
    )
    spec: str = Field(
        "conveyor.yaml",
        pattern=r"^[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*\.ya?ml$",
        max_length=200,
        description="Path of this file in the source repository, relative to its root.",
        examples=["deploy/conveyor.yaml"],
    )

    @model_validator(mode="after")
    def _spec_inside_the_repository(self) -> SelfUpdate:
        if ".." in self.spec.split("/"):
            raise ValueError(
                f"spec {self.spec!r} leaves the repository; give the path from the repository "
                "root, e.g. deploy/conveyor.yaml"
            )
        return self


class PipelineSettings(_Model):
    """How the pipeline runs executions. Every environment stage rolls back on failure, which
    CodePipeline offers in QUEUED and SUPERSEDED mode only.
    https://docs.aws.amazon.com/codepipeline/latest/userguide/execution-modes.html"""

    execution_mode: Literal["queued", "superseded", "parallel"] = Field(
        "queued",
        description=(
            "queued: executions run one after another, in order (the default). superseded: a "
            "newer execution replaces one waiting between stages. parallel is refused: it "
            "disables stage rollback."
        ),
    )

    @model_validator(mode="after")
    def _rollback_needs_queued_or_superseded(self) -> PipelineSettings:
        if self.execution_mode == "parallel":
            raise KeyedValueError(
                "parallel executions cannot roll back: CodePipeline refuses a stage's "
                "rollback-on-failure in PARALLEL mode, and conveyor rolls every environment "
                "stage back on failure. Write execution_mode: queued (one after another) or "
                "superseded (the newest wins)",
                "execution_mode",
            )
        return self


class Spec(_Model):
    """A conveyor.yaml: how one application ships."""

    app: str = Field(
        pattern=APP_NAME_PATTERN,
        description="Application name: lowercase letters, digits, '-'; 2-24 characters.",
        examples=["payments"],
    )
    owner: str = Field(min_length=1, max_length=128, description="Owning team (tagged).")
    tags: dict[str, str] = Field(default_factory=dict, description="Extra tags on everything.")
    suffix: str = Field(
        "",
        pattern=r"^[a-z0-9-]{0,12}$",
        description=(
            "Appended to every name, so two copies of a pipeline never collide (FM06): "
            "up to 12 lowercase letters, digits or hyphens"
        ),
        examples=["pr42"],
    )
    region: str | None = Field(
        None,
        pattern=r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$",
        description="AWS region of the pipeline; defaults to the region of the GitHub connection.",
        examples=["eu-west-1"],
    )
    account: str | None = Field(
        None,
        pattern=r"^\d{12}$",
        description=(
            "The pipeline's AWS account. Needed only when an environment deploys into another "
            "account; otherwise the stack deploys into whichever account you deploy it to."
        ),
        examples=["123456789012"],
    )
    source: Source
    build: Build
    environments: list[Environment] = Field(min_length=1, max_length=10)
    checks: Checks = Field(default_factory=Checks)
    notifications: Notifications
    alarms: Alarms = Field(default_factory=Alarms)
    pipeline: PipelineSettings = Field(
        default_factory=PipelineSettings, description="How the pipeline runs executions."
    )
    retention: Retention = Field(default_factory=Retention)
    self_update: SelfUpdate = Field(
        default_factory=SelfUpdate,
        description="Where the pipeline's UpdatePipeline stage gets conveyor and this file.",
    )
    estimates: dict[EstimateKind, Annotated[float, Field(ge=0, le=1440)]] = Field(
        default_factory=dict,
        description=(
            "Minutes per action kind for `conveyor plan`'s critical-path estimate, replacing "
            "the documented defaults with what your pipeline measured."
        ),
    )

    @model_validator(mode="after")
    def _environments_are_distinct(self) -> Spec:
        repeat = _first_repeat([env.name for env in self.environments])
        if repeat is not None:
            raise KeyedValueError(
                f"environment name {self.environments[repeat].name!r} is used twice; names "
                "must differ",
                "environments",
                repeat,
                "name",
            )
        kinds = {env.deploy.kind for env in self.environments}
        if len(kinds) > 1:
            raise ValueError(
                "all environments deploy the same artifact: use ecs everywhere or lambda "
                "everywhere (one pipeline ships one build)"
            )
        if "ecs" in kinds and self.build.docker is None:
            raise ValueError("an ecs deploy needs a container image: add build.docker")
        functions = {
            (env.deploy.lambda_.function.runtime, env.deploy.lambda_.function.architecture)
            for env in self.environments
            if env.deploy.lambda_ is not None
        }
        if len(functions) > 1:
            raise ValueError(
                "every environment runs the same package, built once: give each "
                "deploy.lambda.function the same runtime and architecture (found "
                + ", ".join(f"{r} {a}" for r, a in sorted(functions))
                + ")"
            )
        if "lambda" in kinds and self.build.docker is not None:
            raise ValueError(
                "a lambda deploy ships a zip: replace build.docker with build.commands that "
                "write the function's package"
            )
        self._check_tags()
        foreign = [e for e in self.environments if e.account not in (None, self.account)]
        if any(e.account is not None for e in self.environments) and self.account is None:
            raise ValueError(
                "an environment names an account: add account: (the pipeline's 12-digit "
                "account id) at the top, so conveyor can grant across accounts"
            )
        if foreign and self.pipeline_region is None:
            raise ValueError("deploying into another account needs region: at the top")
        if foreign and not next(iter(self.notifications.all_audiences().values())).email:
            # The other account's alarms reach people through a topic there, by email.
            raise ValueError(
                "alarms in another account are sent by email: give the first audience an "
                "email: address"
            )
        if foreign:
            bucket = len(self.app) + len("-artifacts-") + 12 + 1 + len(self.pipeline_region or "")
            bucket += len(self.suffix) + (1 if self.suffix else 0)
            if bucket > 63:
                raise ValueError(
                    f"with another account, the artifact bucket is named "
                    f"{self.app}-artifacts-<account>-<region>, {bucket} characters; S3 allows "
                    "63: shorten app or suffix"
                )
        self._check_regions()
        self._check_regional_references()
        self._check_service_connect_names()
        self._check_name_lengths()
        self._check_conditions()
        self._check_paths_keep_the_spec()
        self._check_pull_requests()
        if self.build.docker is None and self.checks.scans is not None:
            image_scans = [t for t in self.checks.scans.tools if t in ("trivy", "syft")]
            if image_scans:
                raise ValueError(
                    f"checks.scans: {', '.join(image_scans)} scan a container image, and this "
                    "build makes none: remove them or add build.docker"
                )
        creates_service = any(
            env.deploy.ecs is not None and env.deploy.ecs.create is not None
            for env in self.environments
        )
        if creates_service and self.pipeline_region is None:
            raise ValueError(
                "a created service needs a region (load balancer logs are delivered per "
                "region): add region: eu-west-1 (your region) at the top"
            )
        return self

    def _check_regions(self) -> None:
        """An environment in another region deploys from that region's support stack
        (constructs/regional_support.py): an artifact store there, because CodePipeline runs a
        cross-region action from an artifact store in the action's region (one per region in
        ArtifactStores,
        https://docs.aws.amazon.com/codepipeline/latest/userguide/actions-create-cross-region.html),
        and a copy of the image there, because a task pulls from the registry named in its task
        definition, which the environment's stack names in its own region; a Lambda
        environment's package is copied into that region's package store, because a function's
        code must be in a bucket of the function's region (S3Bucket,
        https://docs.aws.amazon.com/lambda/latest/api/API_FunctionCode.html). What conveyor does
        not generate yet is refused here, at the key, so it never writes a pipeline that fails
        at deploy: CodeDeploy blue/green for ECS and existing services act through deploy roles
        not generated there; the gate reads alarms in the pipeline's region only; another
        account names its key by ARN only (an alias is recognized only in the key's own account,
        https://docs.aws.amazon.com/codepipeline/latest/APIReference/API_EncryptionKey.html)."""
        for index, env in enumerate(self.environments):
            if env.region is None:
                continue
            if self.pipeline_region is None:
                raise KeyedValueError(
                    "an environment's region must be the pipeline's, which conveyor cannot "
                    f"tell: add region: {env.region} at the top",
                    "environments",
                    index,
                    "region",
                )
            if env.region == self.pipeline_region:
                continue
            unsupported = self._other_region_gap(env)
            if unsupported is not None:
                raise KeyedValueError(
                    f"{env.region} is not the pipeline's region ({self.pipeline_region}), and "
                    f"conveyor deploys there only a Lambda function, or a service it creates "
                    f"(web, worker or backend) with strategy: rolling or native-blue-green, in "
                    f"the pipeline's account; "
                    f"{unsupported}. Remove "
                    f"region: (or write {self.pipeline_region}), or give {env.name!r} its own "
                    f"conveyor.yaml whose pipeline runs in {env.region} (region: "
                    f"{env.region} at its top)",
                    "environments",
                    index,
                    "region",
                )
        if self.other_regions:
            tail = len(self.suffix) + (1 if self.suffix else 0)
            for region in self.other_regions:
                bucket = len(self.app) + len("-artifacts-") + 12 + 1 + len(region) + tail
                if bucket > 63:
                    raise ValueError(
                        f"in {region}, the artifact bucket is named "
                        f"{self.app}-artifacts-<account>-{region}, {bucket} characters; S3 "
                        "allows 63: shorten app or suffix"
                    )

    def _check_regional_references(self) -> None:
        """A created service's certificate and Service Connect namespace, given by ARN, are
        regional resources: each must be in the region the environment deploys to, or its
        first deploy fails (the listener cannot use the certificate, CreateService cannot join
        the namespace).
        https://docs.aws.amazon.com/acm/latest/userguide/acm-regions.html
        https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ServiceConnectConfiguration.html"""
        for index, env in enumerate(self.environments):
            region = self.environment_region(env)
            create = env.deploy.ecs.create if env.deploy.ecs is not None else None
            if region is None or create is None:
                continue
            at = ("environments", index, "deploy", "ecs", "create")
            references: list[tuple[str | None, tuple[str, ...], str]] = [
                (create.certificate_arn, ("certificate_arn",), "an ACM certificate"),
                (
                    create.domain.certificate_arn if create.domain is not None else None,
                    ("domain", "certificate_arn"),
                    "an ACM certificate",
                ),
                (
                    create.connect.namespace if create.connect is not None else None,
                    ("connect", "namespace"),
                    "a Cloud Map namespace",
                ),
            ]
            for value, key, what in references:
                if value is None or not value.startswith("arn:"):
                    continue  # a namespace by name is looked up in the service's own region
                where = value.split(":")[3]
                if where != region:
                    raise KeyedValueError(
                        f"{what} in {where}, but {env.name} deploys to {region}, and its "
                        f"service can use only one of its own region: name one in {region} "
                        f"(or give the environment region: {where})",
                        *at,
                        *key,
                    )

    def _check_service_connect_names(self) -> None:
        """Two backends publishing one name in one existing namespace would collide: a Cloud
        Map service name is unique in its namespace, so the second environment's CreateService
        fails (or, worse, joins the first one's endpoint). A namespace by name is the account's
        and region's, so only environments of the same account and region share it.
        https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ServiceConnectService.html"""
        published: dict[tuple[str | None, str | None, str, str], str] = {}
        for index, env in enumerate(self.environments):
            create = env.deploy.ecs.create if env.deploy.ecs is not None else None
            if create is None or create.kind != "backend" or create.connect is None:
                continue
            namespace = create.connect.namespace
            if namespace is None:
                continue  # its own namespace, {app}-{env}: nobody else's
            name = create.connect.name or self.app
            where = (env.account or self.account, self.environment_region(env), namespace, name)
            first = published.setdefault(where, env.name)
            if first != env.name:
                key = ("name",) if create.connect.name is not None else ()
                raise KeyedValueError(
                    f"{first} already publishes {name!r} in namespace {namespace} of this "
                    "account and region, and a name is unique in its namespace: write name: "
                    f"{name}-{env.name} (clients call http://{name}-{env.name}:{create.port}), "
                    "or give this environment a namespace of its own",
                    "environments",
                    index,
                    "deploy",
                    "ecs",
                    "create",
                    "connect",
                    *key,
                )

    def _other_region_gap(self, env: Environment) -> str | None:
        """Why `env` (in another region) is not generated yet, or None when it is."""
        if env.account not in (None, self.account):
            return (
                "another account in another region is not generated yet (the artifact store's "
                "key there would have to be named by ARN, which is not known before it exists)"
            )
        if env.deploy.lambda_ is not None:
            if env.deploy.lambda_.alarms:
                return (
                    "the gate reads alarms in the pipeline's region only; remove "
                    "deploy.lambda.alarms (the stage still watches the alarms conveyor creates "
                    "there)"
                )
            return None
        ecs_deploy = env.deploy.ecs
        assert ecs_deploy is not None
        if ecs_deploy.create is None:
            return "an existing service is deployed by a deploy role not generated there yet"
        if ecs_deploy.create.kind == "job":
            return (
                "a scheduled job's runs are not watched there yet (its schedule's failures and "
                "task events stay in that region); keep the job in the pipeline's region"
            )
        if ecs_deploy.strategy == "blue-green":
            return (
                "CodeDeploy blue/green acts through a deploy role not generated there yet; "
                "write strategy: native-blue-green (ECS's own blue/green)"
            )
        if ecs_deploy.alarms:
            return (
                "the gate reads alarms in the pipeline's region only; remove deploy.ecs.alarms "
                "(the stage still watches the alarms conveyor creates there)"
            )
        if not ecs_deploy.create.public and env.validation is not None:
            return (
                "an internal service (create.public: false) is validated from its VPC by a "
                "function the pipeline invokes in its own region only; write create.public: "
                "true"
            )
        return None

    def _check_tags(self) -> None:
        """AWS tag rules, checked here rather than failing at deploy time (FM80)."""
        allowed = re.compile(r"[\w\s+=.:/@-]*")
        tags = {"Owner": self.owner, **self.tags}
        if len(self.tags) > 46:
            raise ValueError(
                f"{len(self.tags)} tags: AWS allows 50 per resource and conveyor adds App, "
                "Environment, Owner and ManagedBy; keep tags to 46"
            )
        for key, value in tags.items():
            # Reported at the key the user wrote (owner:, or the tag under tags:), not at the
            # top of the file where this whole-spec check runs.
            at = ("owner",) if key == "Owner" else ("tags", key)
            if key.lower().startswith("aws:"):
                raise KeyedValueError(f"tag key {key!r} uses the reserved 'aws:' prefix", *at)
            if not key or len(key) > 128 or not allowed.fullmatch(key):
                raise KeyedValueError(
                    f"{key!r} is not a valid tag key: 1 to 128 letters, digits, spaces and "
                    "+ - = . _ : / @",
                    *at,
                )
            if not value or len(value) > 256 or not allowed.fullmatch(value):
                raise KeyedValueError(
                    f"{value!r} is not a valid tag value: 1 to 256 letters, digits, spaces and "
                    "+ - = . _ : / @",
                    *at,
                )

    def _check_conditions(self) -> None:
        """The alarm gate and window share one before-entry condition of at most five rules;
        the bake watches the alarms the environment's stack creates; the pipeline reads alarms
        in its own account only."""
        for index, env in enumerate(self.environments):
            if env.watch_minutes and not self.bake_alarms(env):
                why = (
                    "its alarms live in another account, where the pipeline cannot read them"
                    if env in self.foreign_environments
                    else "a worker's one alarm, on its dead-letter queue, stays in ALARM until "
                    "the messages are redriven or deleted, so a bake on it would roll back every "
                    "later release, the fix included; the deployment's health check judges a "
                    "worker"
                    if env.is_worker
                    else "a job's one alarm, on the runs the scheduler could not start (its "
                    "dead-letter queue), stays in ALARM until the messages are deleted, so a "
                    "bake on it would roll back every later release, the fix included; each "
                    "run's exit code judges a job"
                    if env.is_job
                    else "the bake watches the alarms conveyor creates in its stack (a service "
                    "it creates with deploy.ecs.create, or a Lambda function), and this "
                    "deploy creates none; the alarms named in alarms: gate its entry instead"
                )
                raise KeyedValueError(
                    f"watch_minutes {env.watch_minutes}: nothing to watch in {env.name}, {why}; "
                    "write watch_minutes: 0",
                    "environments",
                    index,
                    "watch_minutes",
                )
            alarms = self.entry_alarms(env)
            # This stage's and later stages' stacks do not exist before the first release
            # reaches them; an earlier environment's stack (and its alarms) does.
            created = {
                name: later.name
                for later in self.environments[index:]
                for name in self.stack_alarms(later)
            }
            for at, name in enumerate(env.user_alarms):
                if name in created:
                    kind = "ecs" if env.deploy.ecs is not None else "lambda"
                    raise KeyedValueError(
                        f"alarm {name!r} is one conveyor creates in {created[name]}'s stack: it "
                        f"does not exist before the first release reaches {created[name]}, so "
                        f"it cannot gate {env.name}'s entry, and conveyor already watches it "
                        "(after the deploy); leave it out, alarms: is for alarms "
                        "that exist already",
                        "environments",
                        index,
                        "deploy",
                        kind,
                        "alarms",
                        at,
                    )
            rules = len(alarms) + (1 if env.window is not None else 0)
            if rules > RULES_PER_CONDITION:
                raise KeyedValueError(
                    f"{env.name}'s gate checks {len(alarms)} alarms"
                    + (" and a window" if env.window is not None else "")
                    + f", {rules} rules; CodePipeline allows {RULES_PER_CONDITION} in one stage "
                    "condition: name fewer alarms in its deploy's alarms:",
                    "environments",
                    index,
                )

    def _check_paths_keep_the_spec(self) -> None:
        github = self.source.github
        if github is None or github.paths is None:
            return
        for index, pattern in enumerate(github.paths.exclude):
            if fnmatch.fnmatchcase(self.self_update.spec, pattern):
                raise KeyedValueError(
                    f"exclude pattern {pattern!r} matches {self.self_update.spec}, so a change "
                    "to the pipeline would never start it: narrow the pattern",
                    "source",
                    "github",
                    "paths",
                    "exclude",
                    index,
                )

    def _check_pull_requests(self) -> None:
        """A pull-request build runs code anyone who can open a pull request wrote: it gets
        none of the build's secrets (stages/pull_request.py), and refuses a build that needs
        one rather than failing on every pull request."""
        github = self.source.github
        if github is None or github.pull_requests is None:
            return
        for name, value in sorted(self.build.env.items()):
            if is_secret_ref(value):
                raise KeyedValueError(
                    f"build.env.{name} is a secret, and a pull-request build runs code anyone "
                    "who can open a pull request writes, which would read it: make the build "
                    "work without it, or leave pull_requests out",
                    "source",
                    "github",
                    "pull_requests",
                )
        for index, env in enumerate(self.environments):
            if env.name == PULL_REQUEST_NAME:
                raise KeyedValueError(
                    f"the environment name {PULL_REQUEST_NAME!r} is the pull-request pipeline's "
                    f"({self.app}-{PULL_REQUEST_NAME}): rename the environment",
                    "environments",
                    index,
                    "name",
                )

    def entry_alarms(self, env: Environment) -> list[str]:
        """Names of the alarms the before-entry gate of `env`'s stage reads: only alarms that
        exist before the stage runs, which are those its deploy names (`alarms:` are existing
        alarms). The CloudWatchAlarm rule needs an alarm that already exists ("You must have
        already created an alarm in Amazon CloudWatch as a separate resource"), and AWS does
        not say what it does with a missing one; the alarms the environment's stack creates do
        not exist before its first release, so a gate on them could keep that release out
        forever. https://docs.aws.amazon.com/codepipeline/latest/userguide/rule-reference-CloudWatchAlarm.html
        None in another account (the pipeline role reads alarms in its own account)."""
        if env in self.foreign_environments:
            return []
        return list(env.user_alarms)

    def bake_alarms(self, env: Environment) -> list[str]:
        """Names of the alarms the on-success bake of `env`'s stage watches: those its stack
        creates ({app}-{kind}-{env}[-suffix]). The on-success condition runs after every action
        of the stage succeeded, the stack deploy included, so they exist by then even on the
        first release. Never an alarm of the entry gate (`entry_alarms`): AWS does not document
        whether the rollback execution a bake starts must pass the stage's before-entry
        condition again, and a gate on the very alarm that started the rollback would keep it
        out. https://docs.aws.amazon.com/codepipeline/latest/userguide/stage-rollback.html
        None when the environment does not bake, or lives in another account."""
        if env in self.foreign_environments or not env.bake_minutes:
            return []
        return self.stack_alarms(env)

    def stack_alarms(self, env: Environment) -> list[str]:
        """Names of the alarms conveyor creates in `env`'s stack ({app}-{kind}-{env}[-suffix])."""
        tail = f"-{self.suffix}" if self.suffix else ""
        return [f"{self.app}-{kind}-{env.name}{tail}" for kind in env.alarm_kinds]

    def _check_name_lengths(self) -> None:
        """The longest names conveyor derives must fit AWS's limits (FM81 names are
        {app}-{type}-{env}[-{suffix}]); say which part to shorten before synthesis."""
        tail = f"-{self.suffix}" if self.suffix else ""
        names: list[tuple[str, int, str]] = [
            (f"{self.app}-record-deployment{tail}", 64, "Lambda function"),
            (f"{self.app}-watch-executions{tail}", 64, "Lambda function"),
        ]
        for env in self.environments:
            names.append((f"{self.app}-validate-http-{env.name}-hook{tail}", 64, "Lambda function"))
            names.append((f"{self.app}-deploy-{env.name}{tail}", 64, "IAM role"))
            ecs = env.deploy.ecs
            # Only a web service has a load balancer (32 characters); a worker, a backend and
            # a job are held to their other names' limits.
            if ecs is not None and ecs.create is not None and ecs.create.kind == "web":
                names.append((f"{self.app}-alb-{env.name}{tail}", 32, "load balancer"))
        for audience in self.notifications.all_audiences():
            names.append((f"{self.app}-notify-{audience}{tail}", 64, "Lambda function"))
            names.append((f"{self.app}-{audience}-approval-needed{tail}", 64, "EventBridge rule"))
        for name, limit, kind in names:
            if len(name) > limit:
                raise ValueError(
                    f"the {kind} name {name!r} would have {len(name)} characters, AWS allows "
                    f"{limit}: shorten app, suffix, an environment or an audience name"
                )

    @property
    def other_regions(self) -> list[str]:
        """The regions other than the pipeline's where environments deploy, sorted."""
        return sorted(
            {
                env.region
                for env in self.environments
                if env.region is not None and env.region != self.pipeline_region
            }
        )

    def environment_region(self, env: Environment) -> str | None:
        """Where `env` deploys: its region, or the pipeline's."""
        return env.region or self.pipeline_region

    @property
    def foreign_environments(self) -> list[Environment]:
        """Environments in an account other than the pipeline's."""
        return [e for e in self.environments if e.account not in (None, self.account)]

    @property
    def scans(self) -> Scans:
        """The scans that run: the spec's, or gitleaks (+ trivy for images) gated at critical."""
        if self.checks.scans is not None:
            return self.checks.scans
        tools: list[ScanTool] = ["gitleaks"]
        if self.build.docker is not None:
            tools.append("trivy")
        return Scans(tools=tools, fail_on="critical")

    @property
    def pipeline_region(self) -> str | None:
        if self.region is not None:
            return self.region
        if self.source.github is not None:
            return self.source.github.connection.split(":")[3]
        return None
