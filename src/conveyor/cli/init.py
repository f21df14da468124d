"""`conveyor init [DIR]`: write a commented conveyor.yaml for the repository in DIR."""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from conveyor.cli.output import console, errors, fail, refuse_to_clobber, write_file

if TYPE_CHECKING:
    from conveyor.init.detect import Repository
    from conveyor.init.render import Answers


def _on_terminal() -> bool:
    return sys.stdin.isatty() and sys.stdout.isatty()


def init(
    directory: Annotated[
        Path, typer.Argument(help="Repository to look at.", show_default="current directory")
    ] = Path(),
    output: Annotated[
        Path | None,
        typer.Option(
            "--output", "-o", help="Where to write; default DIR/conveyor.yaml.", show_default=False
        ),
    ] = None,
    yes: Annotated[
        bool, typer.Option("--yes", "-y", help="Take detected values and flags; never prompt.")
    ] = False,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
    print_only: Annotated[
        bool, typer.Option("--print", help="Print the file instead of writing it.")
    ] = False,
    app_name: Annotated[
        str | None, typer.Option("--app", help="Application name.", show_default="folder name")
    ] = None,
    owner: Annotated[
        str | None, typer.Option("--owner", help="Owning team.", show_default="team-APP")
    ] = None,
    email: Annotated[
        str | None,
        typer.Option("--email", help="Who hears about failures and approvals.", show_default=False),
    ] = None,
    region: Annotated[
        str | None,
        typer.Option(
            "--region", help="AWS region.", show_default="AWS_REGION, or us-east-1", envvar=None
        ),
    ] = None,
    connection: Annotated[
        str | None,
        typer.Option("--connection", help="CodeStar connection ARN.", show_default=False),
    ] = None,
    repo: Annotated[
        str | None,
        typer.Option("--repo", help="owner/name of the repository.", show_default="git remote"),
    ] = None,
    branch: Annotated[
        str | None, typer.Option("--branch", help="Branch that triggers the pipeline.")
    ] = None,
    environments: Annotated[
        list[str] | None,
        typer.Option(
            "--env", help="An environment, in deploy order (repeat).", show_default="staging, prod"
        ),
    ] = None,
    port: Annotated[
        int | None,
        typer.Option("--port", help="Container port.", show_default="EXPOSE, or 8080"),
    ] = None,
) -> None:
    """Look at a repository and write a commented conveyor.yaml that validates.

    Reads the Dockerfile (and its EXPOSE), package.json, pyproject.toml, requirements.txt, a
    Lambda handler and the git remote; never runs anything. On a terminal it asks about what it
    could not find; with --yes (or without a terminal) it uses flags and defaults and lists the
    placeholders left to fill in. An existing file is never overwritten without --force, and
    nothing is written through a symbolic link.

    Examples:

      conveyor init

      conveyor init services/api --yes --email oncall@acme.com --region eu-west-1

      conveyor init --yes --connection arn:aws:codestar-connections:...:connection/... --print
    """
    import os

    from conveyor.init.detect import detect
    from conveyor.init.render import default_answers, render

    if not directory.is_dir():
        fail(f"{directory} is not a directory; give the repository folder, e.g. conveyor init .")
    target = output if output is not None else directory / "conveyor.yaml"
    instead = "pass -o another.yaml to write beside it"
    if not print_only:
        refuse_to_clobber(target, force=force, instead=instead)

    found = detect(directory)
    env_region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    answers = default_answers(found, region=region or env_region)
    answers = replace(
        answers,
        app=app_name or answers.app,
        owner=owner or (f"team-{app_name}" if app_name else answers.owner),
        email=email or answers.email,
        connection=connection or answers.connection,
        repo=repo or answers.repo,
        branch=branch or answers.branch,
        port=port or answers.port,
        environments=tuple(environments) if environments else answers.environments,
    )

    interactive = not yes and _on_terminal()
    if interactive:
        answers = _ask(answers, connection_source=_uses_connection(found, answers))

    rendered = render(found, answers)
    _check(rendered.text, target)
    if print_only:
        typer.echo(rendered.text, nl=False)
        _warn_placeholders(rendered.placeholders)
        return
    write_file(target, rendered.text, force=force, instead=instead)

    console.print(f"[green]✓[/] wrote {escape(str(target))} (valid)", soft_wrap=True)
    if found.found:
        console.print("  found: " + ", ".join(found.found))
    _warn_placeholders(rendered.placeholders)
    console.print(
        f"  next: conveyor diagram {escape(str(target))}; conveyor cost {escape(str(target))}"
    )


def _warn_placeholders(placeholders: tuple[str, ...]) -> None:
    if placeholders:
        errors.print(
            "[yellow]![/] still to fill in before deploying: "
            + ", ".join(placeholders)
            + " (marked TODO in the file)",
            soft_wrap=True,
        )


def _uses_connection(found: Repository, answers: Answers) -> bool:
    remote = found.remote
    return (remote is not None and remote.kind != "codecommit") or answers.repo is not None


def _ask(answers: Answers, *, connection_source: bool) -> Answers:
    """Prompt for each value, offering what was detected (or given as a flag) as the default."""
    app = typer.prompt("Application name", default=answers.app)
    owner_default = answers.owner if app == answers.app else f"team-{app}"
    owner = typer.prompt("Owning team", default=owner_default)
    email = typer.prompt("Email for failures, approvals and rollbacks", default=answers.email)
    region = typer.prompt("AWS region", default=answers.region)
    connection = answers.connection
    repo = answers.repo
    if connection_source:
        repo = typer.prompt("Repository (owner/name)", default=repo or "") or None
        if connection is None:
            connection = (
                typer.prompt(
                    "CodeStar connection ARN (Enter leaves a placeholder)",
                    default="",
                    show_default=False,
                )
                or None
            )
    environments = typer.prompt(
        "Environments, in deploy order", default=", ".join(answers.environments)
    )
    names = tuple(n.strip() for n in environments.replace(",", " ").split() if n.strip())
    return replace(
        answers,
        app=app,
        owner=owner,
        email=email,
        region=region,
        repo=repo,
        connection=connection,
        environments=names or answers.environments,
    )


def _check(text: str, target: Path) -> None:
    """Exit 2 if the generated file would not validate (a flag the spec rejects)."""
    from conveyor.spec import SpecError, parse_spec

    try:
        parse_spec(text, file=str(target))
    except SpecError as exc:
        problems = "\n".join(p.render(exc.file) for p in exc.problems)
        fail(
            "the conveyor.yaml these answers give would not be valid; change the flag or "
            f"answer that set it:\n{problems}"
        )
