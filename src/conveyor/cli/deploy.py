"""`conveyor deploy | diff | destroy | bootstrap SPEC`: synthesize, then run the AWS CDK CLI.

`deploy` creates or updates the pipeline stack (and the one-time stacks of other accounts, the
support stacks of other regions) and nothing else: the pipeline deploys the environments'
stacks, in order, behind its approvals, and updates its own stack and the regions' itself.
`diff` shows what the next release changes, one section per environment.
Node, npx, the CDK CLI and credentials are checked before synthesizing, and the CDK runs
attached to the terminal so its progress, change sets and approval prompts are the user's.
"""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from conveyor.cli.output import console, errors, escape, fail, spec_path
from conveyor.cli.synth import prepare_output, synthesize_or_exit
from conveyor.cli.validate import deployable_or_exit, load_or_exit

if TYPE_CHECKING:
    from conveyor.deploy.assembly import Assembly
    from conveyor.deploy.cdk_cli import RequireApproval, Tools, Verb
    from conveyor.spec.models import Spec

SpecArgument = Annotated[
    Path, typer.Argument(help="Path to conveyor.yaml.", show_default=False, parser=spec_path)
]
OutputOption = Annotated[
    Path, typer.Option("--output", "-o", metavar="DIR", help="Where the cloud assembly is written.")
]
ProfileOption = Annotated[
    str | None,
    typer.Option("--profile", help="AWS profile for the CDK CLI.", show_default="AWS_PROFILE"),
]
SkipCredentialsOption = Annotated[
    bool,
    typer.Option(
        "--skip-credential-check",
        help="Do not look for credentials first (instance roles, custom credential processes).",
    ),
]


# The diff section of the stacks `conveyor deploy` updates beside the pipeline's own.
BY_HAND = "stacks only conveyor deploy updates"
WITH_PIPELINE = "support stacks the pipeline updates"


class Approval(StrEnum):
    broadening = "broadening"
    any_change = "any-change"
    never = "never"


def _on_terminal() -> bool:
    return sys.stdin.isatty()


def _tools(profile: str | None, check_credentials: bool) -> Tools:
    from conveyor.deploy.cdk_cli import CdkCliError, find_tools

    with console.status("Checking Node, npx and the AWS CDK CLI …", spinner="dots"):
        try:
            tools = find_tools(profile=profile, check_credentials=check_credentials)
        except CdkCliError as exc:
            fail(str(exc))
    console.print(f"AWS CDK CLI {tools.cdk_version} (through npx)")
    return tools


def _prepare(
    spec: Path, output: Path, *, profile: str | None, check_credentials: bool
) -> tuple[Spec, Tools, Assembly]:
    from conveyor.deploy.assembly import Assembly, AssemblyError

    loaded = load_or_exit(spec)
    tools = _tools(profile, check_credentials)
    prepare_output(output)
    with console.status(f"Synthesizing {loaded.app} (starting CDK) …", spinner="dots"):
        result = synthesize_or_exit(loaded, output)
    console.print(
        f"[green]✓[/] synthesized {loaded.app} into {escape(str(result.outdir))}", soft_wrap=True
    )
    try:
        assembly = Assembly.read(result.outdir)
        assembly.pipeline_stack()
    except AssemblyError as exc:  # synthesis wrote something else: a conveyor bug
        fail(f"{exc}; this is a conveyor bug: please report it with your conveyor.yaml")
    return loaded, tools, assembly


def _call(
    tools: Tools,
    verb: Verb,
    assembly: Path,
    *,
    stacks: list[str],
    profile: str | None,
    require_approval: RequireApproval = "broadening",
    fail_on_difference: bool = False,
) -> int:
    from conveyor.deploy.cdk_cli import cdk_argv, run

    argv = cdk_argv(
        tools,
        verb,
        assembly,
        stacks=stacks,
        profile=profile,
        require_approval=require_approval,
        fail_on_difference=fail_on_difference,
    )
    console.print(f"$ {' '.join(argv)}", soft_wrap=True, markup=False)
    return run(argv)


def _run(
    tools: Tools,
    verb: Verb,
    assembly: Path,
    *,
    stacks: list[str],
    profile: str | None,
    require_approval: RequireApproval = "broadening",
) -> None:
    code = _call(
        tools, verb, assembly, stacks=stacks, profile=profile, require_approval=require_approval
    )
    if code != 0:
        errors.print(
            f"[bold red]error:[/] the AWS CDK CLI's {verb} exited with {code}", soft_wrap=True
        )
        raise typer.Exit(code)


def _by_pipeline(assembly: Assembly) -> list[str]:
    stacks = assembly.environment_stacks(assembly.pipeline_stack())
    return [stack for found in stacks.values() for stack in found]


def deploy(
    spec: SpecArgument,
    output: OutputOption = Path("cdk.out"),
    profile: ProfileOption = None,
    require_approval: Annotated[
        Approval,
        typer.Option(
            "--require-approval",
            metavar="WHEN",
            help="When the CDK asks before deploying: broadening (security changes), "
            "any-change, or never.",
        ),
    ] = Approval.broadening,
    skip_credential_check: SkipCredentialsOption = False,
) -> None:
    """Create or update the pipeline stack (AWS CDK CLI deploy); the pipeline does the rest.

    Only the pipeline stack (with the one-time stack of each other account and the support
    stack of each other region, which the pipeline's stack names) is deployed from here: each
    environment's stack is deployed by the pipeline, in order, behind its approvals; the
    pipeline keeps its own stack and the regions' up to date from then on.
    Needs Node 20+ (npx) and AWS credentials. The CDK asks before deploying changes that
    broaden IAM permissions or security groups; --require-approval never turns that off and
    says so.

    Examples:

      conveyor deploy conveyor.yaml

      AWS_PROFILE=prod conveyor deploy conveyor.yaml

      conveyor deploy conveyor.yaml --profile ci --require-approval never
    """
    deployable_or_exit(spec)  # init's placeholders and example values never reach AWS
    _, tools, assembly = _prepare(
        spec, output, profile=profile, check_credentials=not skip_credential_check
    )
    if require_approval is Approval.never:
        errors.print(
            "[yellow]![/] --require-approval never: IAM and security group changes will deploy "
            "without asking",
            soft_wrap=True,
        )
    stacks = assembly.deployed_by_hand(assembly.pipeline_stack())
    _run(
        tools,
        "deploy",
        assembly.directory,
        stacks=stacks,
        profile=profile,
        require_approval=require_approval.value,
    )
    console.print(
        f"[green]✓[/] deployed {', '.join(stacks)}; outputs in "
        f"{assembly.directory / 'outputs.json'}",
        soft_wrap=True,
    )
    environments = _by_pipeline(assembly)
    if environments:
        console.print(
            f"The pipeline deploys {', '.join(environments)} on its next run: push a commit "
            "(or release a change in the CodePipeline console).",
            soft_wrap=True,
        )


def diff(
    spec: SpecArgument,
    output: OutputOption = Path("cdk.out"),
    profile: ProfileOption = None,
    fail_on_difference: Annotated[
        bool, typer.Option("--fail", help="Exit 1 when the deployed stack differs (for CI).")
    ] = False,
    skip_credential_check: SkipCredentialsOption = False,
) -> None:
    """Show what the next release changes: the pipeline stack, then each environment's stack.

    One section per stack (AWS CDK CLI diff against what is deployed): the pipeline updates
    each other region's support stack and its own stack first (UpdatePipeline), then deploys
    each environment in order. Stacks only `conveyor deploy` updates (another account's
    one-time stack) have a section after the pipeline's.

    Examples:

      conveyor diff conveyor.yaml

      conveyor diff conveyor.yaml --fail   # in CI: exit 1 on any difference
    """
    loaded, tools, assembly = _prepare(
        spec, output, profile=profile, check_credentials=not skip_credential_check
    )
    pipeline = assembly.pipeline_stack()
    environments = assembly.environment_stacks(pipeline)
    # Another region's support stack (the CloudFormation role of an environment there, its
    # artifact store): UpdatePipeline updates it before the pipeline's own stack.
    # Its own section: the one change the pipeline cannot apply there is a new resource type,
    # which the stack's CloudFormation role (in that stack) may manage only once updated.
    with_pipeline = assembly.updated_with_pipeline(pipeline)
    sections = [("pipeline", [pipeline])]
    if with_pipeline:
        sections.append((WITH_PIPELINE, with_pipeline))
    # Another account's one-time stack: only `conveyor deploy` updates it, never the pipeline,
    # so what the next release needs of it shows here or nowhere.
    by_hand = [
        stack
        for stack in assembly.deployed_by_hand(pipeline)
        if stack != pipeline and stack not in with_pipeline
    ]
    if by_hand:
        sections.append((BY_HAND, by_hand))
    for env in loaded.environments:
        if env.name in environments:
            sections.append((f"environment {env.name}", environments[env.name]))
        else:
            console.print(
                f"environment {env.name}: no stack of its own; its resources are in the "
                f"pipeline stack {pipeline}",
                soft_wrap=True,
                markup=False,
            )
    codes = []
    for title, stacks in sections:
        console.print(f"\n== {title}: {', '.join(stacks)} ==", soft_wrap=True, markup=False)
        codes.append(
            _call(
                tools,
                "diff",
                assembly.directory,
                stacks=stacks,
                profile=profile,
                fail_on_difference=fail_on_difference,
            )
        )
    worst = max(codes)
    if worst == 1 and fail_on_difference:
        changed = [title for (title, _), code in zip(sections, codes, strict=True) if code]
        errors.print(f"differences in: {', '.join(changed)}", soft_wrap=True, markup=False)
        if WITH_PIPELINE in changed:
            errors.print(
                f"{', '.join(with_pipeline)}: the pipeline's UpdatePipeline stage applies this; "
                "if it adds a resource type there, run `conveyor deploy` first (the stack's "
                "CloudFormation role may manage a new type only once the stack is updated)",
                soft_wrap=True,
                markup=False,
            )
        if BY_HAND in changed:
            errors.print(
                f"{', '.join(by_hand)}: run `conveyor deploy` before the pipeline's next release "
                "(the pipeline does not update these stacks)",
                soft_wrap=True,
                markup=False,
            )
        raise typer.Exit(1)
    if worst != 0:
        errors.print(
            f"[bold red]error:[/] the AWS CDK CLI's diff exited with {worst}", soft_wrap=True
        )
        raise typer.Exit(worst)


def destroy(
    spec: SpecArgument,
    output: OutputOption = Path("cdk.out"),
    profile: ProfileOption = None,
    force: Annotated[bool, typer.Option("--force", help="Do not ask for confirmation.")] = False,
    skip_credential_check: SkipCredentialsOption = False,
) -> None:
    """Delete the pipeline's stack (AWS CDK CLI destroy), after confirmation.

    Production data (history table, images, logs of production environments) is retained by
    design, and production stacks have termination protection: turn it off in the console
    first if you really mean it.

    Examples:

      conveyor destroy conveyor.yaml

      conveyor destroy conveyor.yaml --force   # scripts: no question
    """
    loaded = load_or_exit(spec)
    if not force:
        if not _on_terminal():
            fail(
                "destroy deletes the stack and needs confirmation: run it on a terminal, "
                "or pass --force"
            )
        if not typer.confirm(f"Delete the {loaded.app} pipeline stack and what it created?"):
            console.print("Nothing deleted.")
            raise typer.Exit(1)
    _, tools, assembly = _prepare(
        spec, output, profile=profile, check_credentials=not skip_credential_check
    )
    _run(
        tools,
        "destroy",
        assembly.directory,
        stacks=assembly.deployed_by_hand(assembly.pipeline_stack()),
        profile=profile,
    )
    console.print(f"[green]✓[/] destroyed the {loaded.app} pipeline stack")
    left = _by_pipeline(assembly)
    if left:
        console.print(
            f"The stacks the pipeline deployed stay: {', '.join(left)}. Delete each with "
            "`aws cloudformation delete-stack --stack-name NAME` (production ones have "
            "termination protection).",
            soft_wrap=True,
            markup=False,
        )


def bootstrap(
    spec: SpecArgument,
    account: Annotated[
        str | None,
        typer.Option(
            "--account",
            help="An environment's account (environments[].account) to prepare; default: the "
            "pipeline's own account.",
            show_default=False,
        ),
    ] = None,
    print_only: Annotated[
        bool,
        typer.Option(
            "--print", help="Only print the command (for whoever administers that account)."
        ),
    ] = False,
    profile: ProfileOption = None,
    skip_credential_check: SkipCredentialsOption = False,
) -> None:
    """Prepare an AWS account for conveyor, once per account and region (AWS CDK bootstrap).

    Without --account: the pipeline's account and region, before the first `conveyor deploy`.
    With --account: an environment's account, trusting the pipeline's account to deploy the
    environment's one-time stack there and to read it for `conveyor diff`. Run it with
    credentials for that account (--profile), or hand the --print output to its administrator.

    Examples:

      conveyor bootstrap conveyor.yaml

      conveyor bootstrap conveyor.yaml --account 222222222222 --profile prod-admin

      conveyor bootstrap conveyor.yaml --account 222222222222 --print
    """
    from conveyor.deploy.cdk_cli import UNKNOWN_ACCOUNT, UNKNOWN_REGION, Tools, bootstrap_argv, run

    loaded = load_or_exit(spec)
    trust = None
    target = loaded.account
    if account is not None:
        others = sorted(
            {e.account for e in loaded.environments if e.account and e.account != loaded.account}
        )
        if account not in others:
            fail(
                f"{spec}: no environment deploys into account {account} (environments[].account "
                f"names {', '.join(others) or 'no other account'}); write that account id there "
                "first, or run without --account for the pipeline's own account"
            )
        target, trust = account, loaded.account
    region = loaded.pipeline_region
    # Always an environment: outside a CDK app (a cdk.json) the CDK CLI bootstraps only the
    # environments it is given ("provide the environment to bootstrap as a command line
    # argument", https://docs.aws.amazon.com/cdk/v2/guide/bootstrapping-env.html) and refuses a
    # bare `cdk bootstrap`. What conveyor.yaml leaves out is the CDK's `unknown-account` /
    # `unknown-region`, which it resolves to the credentials' account and region
    # (aws-cdk-cli: SdkProvider.resolveEnvironment).
    environment = f"aws://{target or UNKNOWN_ACCOUNT}/{region or UNKNOWN_REGION}"
    # The pipeline's account also holds a stack in each other region of its environments
    # (their artifact store and image repository), which the CDK deploys there.
    also = (
        [f"aws://{target or UNKNOWN_ACCOUNT}/{other}" for other in loaded.other_regions]
        if account is None
        else []
    )
    missing = {
        what: instead
        for what, value, instead in (
            ("account", target, "the account of your credentials"),
            ("region", region, "the region of your profile (or AWS_REGION)"),
        )
        if not value
    }
    if missing:
        console.print(
            f"conveyor.yaml names no {' and no '.join(missing)} for the pipeline: the CDK "
            f"bootstraps {environment} in {' and '.join(missing.values())}",
            soft_wrap=True,
            markup=False,
        )
    if print_only:
        argv = bootstrap_argv(Tools(npx="npx", cdk_version=""), environment, trust=trust, also=also)
        console.print(" ".join(argv), soft_wrap=True, markup=False)
        return
    tools = _tools(profile, not skip_credential_check)
    argv = bootstrap_argv(tools, environment, trust=trust, profile=profile, also=also)
    console.print(f"$ {' '.join(argv)}", soft_wrap=True, markup=False)
    code = run(argv)
    if code != 0:
        errors.print(
            f"[bold red]error:[/] the AWS CDK CLI's bootstrap exited with {code}", soft_wrap=True
        )
        raise typer.Exit(code)
    done = ", ".join([environment, *also])
    console.print(f"[green]✓[/] bootstrapped {done}")
