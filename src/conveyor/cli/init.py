"""`conveyor init [DIR]`: write a commented conveyor.yaml for the repository in DIR."""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, get_args, get_origin

import typer

from conveyor.cli.output import console, errors, escape, fail, refuse_to_clobber, write_file

if TYPE_CHECKING:
    from pydantic import BaseModel
    from pydantic.fields import FieldInfo

    from conveyor.init.detect import Repository
    from conveyor.init.render import Answers


def _on_terminal() -> bool:
    return sys.stdin.isatty() and sys.stdout.isatty()


def init(
    directory: Annotated[
        Path,
        typer.Argument(
            help="Repository to look at.", show_default="current directory", metavar="DIR"
        ),
    ] = Path(),
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            metavar="FILE",
            help="Where to write; default DIR/conveyor.yaml.",
            show_default=False,
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
        typer.Option(
            "--connection", metavar="ARN", help="CodeStar connection ARN.", show_default=False
        ),
    ] = None,
    repo: Annotated[
        str | None,
        typer.Option(
            "--repo",
            metavar="OWNER/NAME",
            help="owner/name of the repository.",
            show_default="git remote",
        ),
    ] = None,
    branch: Annotated[
        str | None, typer.Option("--branch", help="Branch that triggers the pipeline.")
    ] = None,
    environments: Annotated[
        list[str] | None,
        typer.Option(
            "--env",
            metavar="NAME",
            help="An environment, in deploy order (repeat).",
            show_default="staging, prod",
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
    while interactive and (problems := _problems(rendered.text, target)):
        # Answers that fit one by one and not together (an environment named twice): ask
        # again, every earlier answer offered as the default.
        errors.print(
            f"[yellow]![/] these answers do not make a valid file:\n{escape(problems)}\n"
            "Answer again; Enter keeps what you wrote.",
            soft_wrap=True,
        )
        answers = _ask(answers, connection_source=_uses_connection(found, answers))
        rendered = render(found, answers)
    _check(rendered.text, target)
    if print_only:
        typer.echo(rendered.text, nl=False)
        _warn_unread(found)
        _warn_placeholders(rendered.placeholders)
        return
    write_file(target, rendered.text, force=force, instead=instead)

    console.print(f"[green]✓[/] wrote {escape(str(target))} (valid)", soft_wrap=True)
    if found.found:
        console.print("  found: " + ", ".join(found.found))
    _warn_unread(found)
    _warn_placeholders(rendered.placeholders)
    console.print(
        f"  next: conveyor diagram {escape(str(target))}; conveyor cost {escape(str(target))}"
    )


def _warn_unread(found: Repository) -> None:
    """A repository file init found but could not read: a typo there is not a missing key."""
    for problem in (found.package_problem, found.pyproject_problem):
        if problem is not None:
            errors.print(
                f"[yellow]![/] {escape(problem)}: init read nothing from it and guessed "
                "instead (marked 'check this' in the file); fix it and run init again",
                soft_wrap=True,
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
    """Prompt for each value, offering what was detected (or given as a flag) as the default.

    Each answer is checked as it is typed, and a wrong one is asked again on its own: a typo
    in the fourth answer used to end init with an error and lose the three before it.
    """
    from conveyor.spec import models

    app = _prompt("Application name", answers.app, (models.Spec, "app"), "an app name")
    owner_default = answers.owner if app == answers.app else f"team-{app}"
    owner = _prompt("Owning team", owner_default, (models.Spec, "owner"), "a team name")
    email = _prompt(
        "Email for failures, approvals and rollbacks",
        answers.email,
        (models.Audience, "email"),
        "an email address",
    )
    region = _prompt("AWS region", answers.region, (models.Spec, "region"), "an AWS region")
    connection = answers.connection
    repo = answers.repo
    if connection_source:
        repo = (
            _prompt("Repository (owner/name)", repo or "", (models.GitHubSource, "repo"), "a repo")
            or None
        )
        if connection is None:
            connection = (
                _prompt(
                    "CodeStar connection ARN (Enter leaves a placeholder)",
                    "",
                    (models.GitHubSource, "connection"),
                    "a connection ARN",
                )
                or None
            )
    environments = _prompt(
        "Environments, in deploy order",
        ", ".join(answers.environments),
        (models.Environment, "name"),
        "an environment name",
        each=True,
    )
    return replace(
        answers,
        app=app,
        owner=owner,
        email=email,
        region=region,
        repo=repo,
        connection=connection,
        environments=_names(environments) or answers.environments,
    )


def _names(text: str) -> tuple[str, ...]:
    return tuple(n.strip() for n in text.replace(",", " ").split() if n.strip())


def _prompt(
    label: str, default: str, key: tuple[type[BaseModel], str], what: str, *, each: bool = False
) -> str:
    """typer.prompt, asking again (with the reason) until the answer fits the spec's key; an
    empty answer to an empty default is a placeholder left for later."""
    from pydantic import TypeAdapter, ValidationError

    form, field = _constraint(*key)
    adapter: TypeAdapter[Any] = TypeAdapter(form)
    example = f" — for example: {field.examples[0]}" if field.examples else ""
    description = (field.description or "").rstrip(".")

    def checked(value: str) -> str:
        for item in _names(value) if each else [value]:
            if not item and not default:
                continue
            try:
                adapter.validate_python(item)
            except ValidationError:
                raise typer.BadParameter(
                    f"{item!r} is not {what}: {description}{example}"
                ) from None
        return value

    answer: str = typer.prompt(
        label, default=default, show_default=bool(default), value_proc=checked
    )
    return answer


def _constraint(model: type[BaseModel], key: str) -> tuple[Any, FieldInfo]:
    """The type an answer must fit, and the field that describes it; for a list (email), the
    type of one item."""
    from pydantic.fields import FieldInfo

    field = model.model_fields[key]
    if get_origin(field.annotation) is list:
        item = get_args(field.annotation)[0]
        info = next(m for m in getattr(item, "__metadata__", ()) if isinstance(m, FieldInfo))
        return item, info
    return Annotated[field.annotation, field], field


def _problems(text: str, target: Path) -> str:
    """Every problem of the generated file, one per line; empty when it validates."""
    from conveyor.spec import SpecError, parse_spec

    try:
        parse_spec(text, file=str(target))
    except SpecError as exc:
        return "\n".join(p.render(exc.file) for p in exc.problems)
    return ""


def _check(text: str, target: Path) -> None:
    """Exit 2 if the generated file would not validate (a flag the spec rejects)."""
    problems = _problems(text, target)
    if problems:
        fail(
            "the conveyor.yaml these answers give would not be valid; change the flag or "
            f"answer that set it:\n{problems}"
        )
