"""`conveyor deploy | diff | destroy SPEC`: synthesize, then run the AWS CDK CLI on the result.

Node, npx, the CDK CLI and credentials are checked before synthesizing, and the CDK runs
attached to the terminal so its progress, change sets and approval prompts are the user's.
"""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from conveyor.cli.output import console, errors, fail
from conveyor.cli.synth import prepare_output, synthesize_or_exit
from conveyor.cli.validate import deployable_or_exit, load_or_exit

if TYPE_CHECKING:
    from conveyor.deploy.cdk_cli import RequireApproval, Tools, Verb
    from conveyor.spec.models import Spec

SpecArgument = Annotated[Path, typer.Argument(help="Path to conveyor.yaml.", show_default=False)]
OutputOption = Annotated[
    Path, typer.Option("--output", "-o", help="Where the cloud assembly is written.")
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


class Approval(StrEnum):
    broadening = "broadening"
    any_change = "any-change"
    never = "never"


def _on_terminal() -> bool:
    return sys.stdin.isatty()


def _prepare(
    spec: Path, output: Path, *, profile: str | None, check_credentials: bool
) -> tuple[Spec, Tools, Path]:
    from conveyor.deploy.cdk_cli import CdkCliError, find_tools

    loaded = load_or_exit(spec)
    with console.status("Checking Node, npx and the AWS CDK CLI …", spinner="dots"):
        try:
            tools = find_tools(profile=profile, check_credentials=check_credentials)
        except CdkCliError as exc:
            fail(str(exc))
    console.print(f"AWS CDK CLI {tools.cdk_version} (through npx)")
    prepare_output(output)
    with console.status(f"Synthesizing {loaded.app} (starting CDK) …", spinner="dots"):
        result = synthesize_or_exit(loaded, output)
    console.print(
        f"[green]✓[/] synthesized {loaded.app} into {escape(str(result.outdir))}", soft_wrap=True
    )
    return loaded, tools, result.outdir


def _run(
    tools: Tools,
    verb: Verb,
    assembly: Path,
    *,
    profile: str | None,
    require_approval: RequireApproval = "broadening",
    fail_on_difference: bool = False,
) -> None:
    from conveyor.deploy.cdk_cli import cdk_argv, run

    argv = cdk_argv(
        tools,
        verb,
        assembly,
        profile=profile,
        require_approval=require_approval,
        fail_on_difference=fail_on_difference,
    )
    console.print(f"$ {' '.join(argv)}", soft_wrap=True, markup=False)
    code = run(argv)
    if code != 0:
        errors.print(
            f"[bold red]error:[/] the AWS CDK CLI's {verb} exited with {code}", soft_wrap=True
        )
        raise typer.Exit(code)


def deploy(
    spec: SpecArgument,
    output: OutputOption = Path("cdk.out"),
    profile: ProfileOption = None,
    require_approval: Annotated[
        Approval,
        typer.Option(
            "--require-approval",
            help="When the CDK asks before deploying: broadening (security changes), "
            "any-change, or never.",
        ),
    ] = Approval.broadening,
    skip_credential_check: SkipCredentialsOption = False,
) -> None:
    """Synthesize conveyor.yaml and deploy it with the AWS CDK CLI (npx aws-cdk@2 deploy).

    Needs Node 20+ (npx) and AWS credentials. The CDK asks before deploying changes that
    broaden IAM permissions or security groups; --require-approval never turns that off and
    says so.

    Examples:

      conveyor deploy conveyor.yaml

      AWS_PROFILE=prod conveyor deploy conveyor.yaml

      conveyor deploy conveyor.yaml --profile ci --require-approval never
    """
    deployable_or_exit(spec)  # init's placeholders and example values never reach AWS
    loaded, tools, assembly = _prepare(
        spec, output, profile=profile, check_credentials=not skip_credential_check
    )
    if require_approval is Approval.never:
        errors.print(
            "[yellow]![/] --require-approval never: IAM and security group changes will deploy "
            "without asking",
            soft_wrap=True,
        )
    _run(
        tools,
        "deploy",
        assembly,
        profile=profile,
        require_approval=require_approval.value,
    )
    console.print(
        f"[green]✓[/] deployed {loaded.app}; outputs in {assembly / 'outputs.json'}",
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
    """Show what `conveyor deploy` would change in the deployed stack (npx aws-cdk@2 diff).

    Examples:

      conveyor diff conveyor.yaml

      conveyor diff conveyor.yaml --fail   # in CI: exit 1 on any difference
    """
    _, tools, assembly = _prepare(
        spec, output, profile=profile, check_credentials=not skip_credential_check
    )
    _run(tools, "diff", assembly, profile=profile, fail_on_difference=fail_on_difference)


def destroy(
    spec: SpecArgument,
    output: OutputOption = Path("cdk.out"),
    profile: ProfileOption = None,
    force: Annotated[bool, typer.Option("--force", help="Do not ask for confirmation.")] = False,
    skip_credential_check: SkipCredentialsOption = False,
) -> None:
    """Delete the pipeline's stack (npx aws-cdk@2 destroy), after confirmation.

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
    _run(tools, "destroy", assembly, profile=profile)
    console.print(f"[green]✓[/] destroyed the {loaded.app} pipeline stack")
