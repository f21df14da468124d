"""What a valid spec can still hold that must not reach AWS: `conveyor init`'s placeholders and
the documentation's example values, and Lambda runtimes near or past their deprecation date.
`validate` warns about them (and refuses a deprecated runtime); `deploy` refuses to start.

A placeholder passes every pattern on purpose (init's file must validate), so only this module
tells it from a real value. Deploying one fails late and obscurely: the pipeline's source action
cannot use a connection that does not exist, and nobody hears about a failure sent to an
@example.com address.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from conveyor import lambda_runtimes
from conveyor.spec.loader import Problem, key_lines
from conveyor.spec.models import Spec

# AWS's documentation account (it appears in every example ARN) and the connection ids of
# init's placeholder and of the spec's own documented example.
EXAMPLE_ACCOUNT = "123456789012"
EXAMPLE_CONNECTION_IDS = frozenset(
    {"00000000-0000-0000-0000-000000000000", "0a1b2c3d-4e5f-6789-abcd-ef0123456789"}
)
# Reserved for documentation, never delivered: https://www.rfc-editor.org/rfc/rfc2606
EXAMPLE_DOMAINS = ("example.com", "example.net", "example.org")


@dataclass(frozen=True)
class Concern:
    path: str
    value: str  # as written, to find its line
    message: str
    blocks_deploy: bool
    # The `conveyor check` rule that reports the synthesized pipeline for this choice, if any:
    # a spec may opt out of a safeguard, and then validate says what check will say.
    check_rule: str | None = None
    # `conveyor validate` refuses the spec (exit 2) instead of warning: what the spec names no
    # longer exists in a usable form (a runtime Lambda has deprecated).
    refused: bool = False

    def problem(self, text: str) -> Problem:
        """This concern as a loader problem: on its key's line if the value is written there
        (the second environment's runtime, not the first's), else on the first line of `text`
        holding the value."""
        if not self.value:  # about no key of the spec (conveyor's own handlers)
            return Problem(None, self.path, self.message)
        written = text.splitlines()
        line = key_lines(text).get(self.path)
        if line is None or self.value not in written[line - 1]:
            line = next((n for n, row in enumerate(written, 1) if self.value in row), None)
        return Problem(line, self.path, self.message)


def concerns(spec: Spec, today: date | None = None) -> list[Concern]:
    """Every placeholder or example value in `spec`, a connection from another region, and
    each Lambda runtime within WARN_DAYS of its deprecation date (or past it) on `today`
    (UTC's date, or CONVEYOR_TODAY's, when not given)."""
    found: list[Concern] = []
    github = spec.source.github
    if github is not None:
        found += _connection(github.connection, spec.pipeline_region)
    for name, audience in spec.notifications.all_audiences().items():
        where = "notifications.email" if name == "team" else f"notifications.audiences.{name}.email"
        for index, address in enumerate(audience.email):
            if _is_example_domain(address.rsplit("@", 1)[-1]):
                found.append(
                    Concern(
                        f"{where}[{index}]",
                        address,
                        f"{address} is an example address that never receives mail: write the "
                        "address that should hear about failures and approvals",
                        blocks_deploy=True,
                    )
                )
    found += _unchecked_releases(spec)
    found += _scans_off(spec)
    found += _unrestricted_tags(spec)
    found += _production_without_approval(spec)
    found += _plain_http(spec)
    found += _public_tasks_in_production(spec)
    found += _example_domains(spec)
    found += _runtimes(spec, today or lambda_runtimes.today())
    found += _handler_runtime(today or lambda_runtimes.today())
    return found


def _handler_runtime(today: date) -> list[Concern]:
    """conveyor's own handlers run on one runtime (lambda_runtimes.HANDLERS): near or past its
    deprecation date, the pipelines this conveyor generates carry a runtime Lambda is about to
    stop patching (CV076 from the date on); a newer conveyor moves them. No key of the spec says
    it, so the warning names none."""
    when = lambda_runtimes.deprecation_date(lambda_runtimes.HANDLERS)
    if when is None or (when - today).days > lambda_runtimes.WARN_DAYS:
        return []
    from conveyor import __version__

    said = "deprecated" if when <= today else "deprecates"
    return [
        Concern(
            "",
            "",
            f"conveyor {__version__}'s own handlers (deployment history, notifications, "
            f"validation) run on {lambda_runtimes.HANDLERS}, which Lambda {said} on "
            f"{when.isoformat()}: upgrade conveyor (pip install --upgrade conveyor) and deploy "
            "the pipeline again",
            blocks_deploy=False,
            check_rule="CV076" if when <= today else None,
        )
    ]


def _runtimes(spec: Spec, today: date) -> list[Concern]:
    """A runtime Lambda deprecates soon, or has deprecated: a time bomb in the spec.

    From the deprecation date Lambda no longer patches the runtime and `conveyor check` reports
    the function (CV076); a month or two later Lambda refuses to create, then to update,
    functions on it, and the pipeline's deploy fails. validate warns WARN_DAYS before the date
    and refuses the spec from the date on; `synth` keeps working, so that a pipeline whose
    self-update synthesizes the spec is not stopped on that day by conveyor itself.
    https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtimes.html
    """
    found: list[Concern] = []
    for index, env in enumerate(spec.environments):
        if env.deploy.lambda_ is None:
            continue
        runtime = env.deploy.lambda_.function.runtime
        when = lambda_runtimes.deprecation_date(runtime)
        if when is None or (when - today).days > lambda_runtimes.WARN_DAYS:
            continue
        language = "nodejs" if runtime.startswith("nodejs") else "python"
        instead = f"write runtime: {lambda_runtimes.newest(language)} (and test the code on it)"
        path = f"environments[{index}].deploy.lambda.function.runtime"
        if when <= today:
            message = (
                f"Lambda deprecated {runtime} on {when.isoformat()}: it gets no security patches, "
                "Lambda soon refuses to create and then to update functions on it, and conveyor "
                f"check reports CV076; {instead}"
            )
            found.append(
                Concern(
                    path, runtime, message, blocks_deploy=True, check_rule="CV076", refused=True
                )
            )
        else:
            days = (when - today).days
            message = (
                f"Lambda deprecates {runtime} on {when.isoformat()}, in {days} day"
                f"{'' if days == 1 else 's'}; from that date conveyor validate refuses it and "
                f"conveyor check reports CV076: {instead}"
            )
            found.append(Concern(path, runtime, message, blocks_deploy=False))
    return found


def _plain_http(spec: Spec) -> list[Concern]:
    """A production web service that opted out of TLS (create.plain_http): allowed, said."""
    found: list[Concern] = []
    for index, env in enumerate(spec.environments):
        ecs = env.deploy.ecs
        create = ecs.create if ecs is not None else None
        if create is None or create.plain_http is None:
            continue
        found.append(
            Concern(
                f"environments[{index}].deploy.ecs.create.plain_http",
                "plain_http",
                f"{env.name} is production and serves plain HTTP on port 80 "
                f"({create.plain_http.reason}); conveyor check reports the listener as "
                "suppressed (CV105): give the service a domain: {name: …, hosted_zone_id: …} "
                "for HTTPS",
                blocks_deploy=False,
                check_rule="CV105",
            )
        )
    return found


def _public_tasks_in_production(spec: Spec) -> list[Concern]:
    """A production service whose tasks run in public subnets (create.placement: public):
    allowed, said. Each task has an address on the internet, and only its security group
    stands between it and the world; one rule too many (CV122) exposes the app directly."""
    found: list[Concern] = []
    for index, env in enumerate(spec.environments):
        ecs = env.deploy.ecs
        create = ecs.create if ecs is not None else None
        if create is None or create.placement != "public":
            continue
        if ecs is not None and ecs.strategy != "rolling" and not create.hook_in_vpc:
            found.append(
                Concern(
                    f"environments[{index}].deploy.ecs.create.placement",
                    "public",
                    f"{env.name}'s {ecs.strategy} deployment has no validation hook before "
                    "traffic moves: without a NAT gateway no function in the VPC can call the "
                    "test listener, so the pipeline validates after the shift (a failure rolls "
                    "the stage back); write placement: private to check before users see it",
                    blocks_deploy=False,
                )
            )
        if not env.is_production:
            continue
        nat = ", in a VPC without a NAT gateway" if create.vpc is None else ""
        found.append(
            Concern(
                f"environments[{index}].deploy.ecs.create.placement",
                "public",
                f"{env.name} is production and its tasks run in public subnets, each with a "
                f"public IPv4 address{nat}: only their security group keeps the internet out "
                + (
                    "(a worker's admits nothing)"
                    if env.is_worker
                    else "(a job's admits nothing)"
                    if env.is_job
                    else "(a backend's admits its Service Connect clients on its port: the "
                    "VPC's range and connect.client_cidrs)"
                    if create.kind == "backend"
                    else "(conveyor admits the load balancer alone)"
                )
                + "; write placement: private to keep "
                "production's tasks off the internet",
                blocks_deploy=False,
            )
        )
    return found


def _example_domains(spec: Spec) -> list[Concern]:
    """A domain under example.com cannot be issued a certificate by anyone: the stack would
    wait for a validation that never comes."""
    found: list[Concern] = []
    for index, env in enumerate(spec.environments):
        domain = env.domain
        if domain is not None and _is_example_domain(domain.name):
            found.append(
                Concern(
                    f"environments[{index}].deploy.ecs.create.domain.name",
                    domain.name,
                    f"{domain.name} is an example name that no certificate can be issued for: "
                    "write the service's own name (and its hosted zone)",
                    blocks_deploy=True,
                )
            )
    return found


def _unchecked_releases(spec: Spec) -> list[Concern]:
    """Environments where nothing checks a release after it deploys (FM63): conveyor derives a
    check only for a service it creates, and a Lambda alias shifted in steps is watched by its
    alarms, but an existing service or an all-at-once shift without validate: is not checked,
    and `conveyor check` reports the pipeline's deploy action (CV074)."""
    found: list[Concern] = []
    for index, env in enumerate(spec.environments):
        function = env.deploy.lambda_
        if (
            env.validation is not None
            or (function is not None and function.strategy != "all-at-once")
            # A worker's deployment waits for its health command (create.health_command).
            or env.is_worker
            or env.checked_by_health_command
        ):
            continue
        if env.is_job:
            # Nothing in the stack update runs the job; its next scheduled run judges it.
            if env.tests is None:
                found.append(
                    Concern(
                        f"environments[{index}]",
                        f"name: {env.name}",
                        f"nothing runs a release of the {env.name} job before its next "
                        "scheduled run, which judges it (a failed run notifies): add tests: "
                        "with commands that run the new image against the environment (they "
                        "get CLUSTER_NAME, TASK_FAMILY and IMAGE_URI)",
                        blocks_deploy=False,
                        check_rule="CV074",
                    )
                )
            continue
        found.append(
            Concern(
                f"environments[{index}]",
                f"name: {env.name}",
                f"nothing checks a release in {env.name} after it deploys, so a broken one "
                "goes on to the next environment (conveyor check reports CV074): add "
                "validate: {http: {url: https://…/health}}"
                + ("" if function is None else ", or shift traffic with strategy: canary"),
                blocks_deploy=False,
                check_rule="CV074",
            )
        )
    return found


def _production_without_approval(spec: Spec) -> list[Concern]:
    return [
        Concern(
            f"environments[{index}].approval",
            "approval: false",
            f"{env.name} is production and deploys without a person approving the change set "
            "(conveyor check reports CV086): remove approval: false unless every change may "
            "reach production unseen",
            blocks_deploy=False,
            check_rule="CV086",
        )
        for index, env in enumerate(spec.environments)
        if env.is_production and env.approval is False
    ]


def _scans_off(spec: Spec) -> list[Concern]:
    scans = spec.checks.scans
    if scans is None or scans.tools:
        return []
    return [
        Concern(
            "checks.scans.tools",
            "tools:",
            "an empty list turns security scanning off, so nothing stops a critical finding "
            "before it deploys (conveyor check reports CV085): list a tool, or omit scans: for "
            "the defaults",
            blocks_deploy=False,
            check_rule="CV085",
        )
    ]


def _unrestricted_tags(spec: Spec) -> list[Concern]:
    """Releases on tags with no word on who may create them. A push filter holds tags, or
    branches (and paths), never both
    (https://docs.aws.amazon.com/codepipeline/latest/userguide/pipelines-filter.html): a tag
    on any commit of any branch releases it."""
    github = spec.source.github
    if github is None or not github.tags or github.tag_creation is not None:
        return []
    patterns = ", ".join(github.tags)
    return [
        Concern(
            "source.github.tags",
            "tags:",
            f"anyone who may push a tag matching {patterns} releases the commit it names, on "
            "any branch, reviewed or not (conveyor check reports CV119): restrict who may "
            "create these tags in the repository (a GitHub ruleset on tags with Restrict "
            "creations) and say how in source.github.tag_creation",
            blocks_deploy=False,
            check_rule="CV119",
        )
    ]


def blocking(spec: Spec, today: date | None = None) -> list[Concern]:
    """The concerns `conveyor deploy` refuses to deploy with."""
    return [c for c in concerns(spec, today) if c.blocks_deploy]


def _is_example_domain(domain: str) -> bool:
    domain = domain.lower().rstrip(".")
    return any(domain == d or domain.endswith(f".{d}") for d in EXAMPLE_DOMAINS)


def _connection(arn: str, pipeline_region: str | None) -> list[Concern]:
    _, _, _, region, account, resource = arn.split(":", 5)
    path = "source.github.connection"
    if account == EXAMPLE_ACCOUNT or resource.removeprefix("connection/") in EXAMPLE_CONNECTION_IDS:
        return [
            Concern(
                path,
                arn,
                "this is an example connection ARN: create a connection (Developer Tools > "
                "Settings > Connections), authorize it, and write its ARN here",
                blocks_deploy=True,
            )
        ]
    if pipeline_region is not None and region != pipeline_region:
        # Connections are global: one created in any region works in every region, but a
        # connection that uses a host (GitHub Enterprise Server, GitLab self-managed) works only
        # in its own. https://docs.aws.amazon.com/dtconsole/latest/userguide/welcome-connections-how-it-works-global.html
        return [
            Concern(
                path,
                arn,
                f"the connection was created in {region} and the pipeline runs in "
                f"{pipeline_region}: that works unless the connection uses a host (GitHub "
                f"Enterprise Server, GitLab self-managed), which works only in {region}; check "
                "that this is the connection you mean",
                blocks_deploy=False,
            )
        ]
    return []
