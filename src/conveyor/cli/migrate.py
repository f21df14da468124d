"""`conveyor migrate copilot DIR`: write a conveyor.yaml for each service of a Copilot workspace."""

from __future__ import annotations

import re
import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from conveyor.cli.output import errors, escape, fail, refuse_to_clobber, write_file

if TYPE_CHECKING:
    from conveyor.migrate.copilot import Migration


class Source(StrEnum):
    copilot = "copilot"


def migrate(
    source: Annotated[
        Source, typer.Argument(help="The tool migrated from: copilot.", metavar="FROM")
    ],
    directory: Annotated[
        Path,
        typer.Argument(
            help="The repository that holds copilot/ (or copilot/ itself).", metavar="DIR"
        ),
    ],
    output: Annotated[
        str | None,
        typer.Option(
            "--output",
            "-o",
            metavar="FOLDER",
            help="Write SERVICE.conveyor.yaml for each service into this folder.",
            show_default="standard output, for one service",
        ),
    ] = None,
    service: Annotated[
        str | None,
        typer.Option("--service", metavar="NAME", help="Migrate this service only."),
    ] = None,
    connection: Annotated[
        str | None,
        typer.Option(
            "--connection",
            metavar="ARN",
            help="CodeStar connection ARN for the source (Copilot names it only).",
            show_default="a placeholder",
        ),
    ] = None,
    email: Annotated[
        str | None,
        typer.Option(
            "--email",
            metavar="ADDRESS",
            help="Who hears about failures and approvals.",
            show_default="a placeholder",
        ),
    ] = None,
    owner: Annotated[
        str | None,
        typer.Option("--owner", metavar="TEAM", help="Owning team.", show_default="team-APP"),
    ] = None,
    region: Annotated[
        str | None,
        typer.Option(
            "--region",
            metavar="REGION",
            help="AWS region of the placeholder connection.",
            show_default="us-east-1",
        ),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite existing files.")] = False,
) -> None:
    """Turn an AWS Copilot workspace into conveyor.yaml files, one per service, naming what
    was not carried over.

    Reads copilot/.workspace, each copilot/SERVICE/manifest.yml (the types conveyor has a kind
    for; the others are reported), the environment manifests and the pipeline manifest
    (copilot/pipelines/NAME/manifest.yml or copilot/pipeline.yml). Each file written starts with
    comments saying what was inferred and which manifest keys were not carried over, with their
    file and line; the same list is printed on standard error. Every file written validates.

    Exit codes: 0 written; 2 a usage error, a directory that is not a Copilot workspace, a
    manifest that cannot be read, or no service conveyor can deploy.

    Examples:

      conveyor migrate copilot . --service api > conveyor.yaml

      conveyor migrate copilot ~/src/shop -o deploy/ --email oncall@example.com
    """
    from conveyor.migrate.copilot import Options, migrate_service
    from conveyor.migrate.manifest import MigrateError
    from conveyor.migrate.workspace import read_workspace
    from conveyor.spec.models import CONNECTION_ARN_PATTERN, EMAIL_PATTERN

    del source  # one tool today; the argument keeps room for others
    if connection is not None and not re.fullmatch(CONNECTION_ARN_PATTERN, connection):
        fail(
            f"--connection {connection!r} is not a CodeStar connection ARN; write "
            "arn:aws:codestar-connections:REGION:ACCOUNT:connection/ID "
            "(aws codestar-connections list-connections)"
        )
    if email is not None and not re.fullmatch(EMAIL_PATTERN, email):
        fail(f"--email {email!r} is not an email address; write e.g. oncall@example.com")
    if owner is not None and not owner.strip():
        fail("--owner '' names no team; write e.g. --owner team-payments")
    if output == "":
        # Path('') is '.': an empty -o (an unset variable in a script) would write into the
        # current directory.
        fail(
            "-o '' (an empty path) names no folder; name one, e.g. -o deploy/, or leave -o out "
            "to write one service to standard output"
        )
    try:
        workspace = read_workspace(directory)
    except MigrateError as exc:
        fail(str(exc))
    names = list(workspace.services)
    if service is not None:
        if service not in workspace.services:
            fail(
                f"--service {service}: no copilot/{service}/manifest.yml; the workspace has "
                + ", ".join(names)
            )
        names = [service]
    options = Options(connection=connection, email=email, owner=owner, region=region)
    migrations = [migrate_service(workspace, name, options) for name in names]
    written = [m for m in migrations if m.spec is not None]
    for migration in migrations:
        shown = "not carried over" if migration.spec is None else "notes"
        if migration.notes:
            errors.print(f"{escape(migration.service)} ({escape(migration.kind)}): {shown}:")
            for note in migration.notes:
                errors.print(f"  {escape(note.render())}", soft_wrap=True)
    if not written:
        fail("no service conveyor can deploy in this workspace (see above); nothing written")
    if output is None:
        if len(written) > 1:
            fail(
                f"{len(written)} services ({', '.join(m.service for m in written)}): pass -o "
                "FOLDER to write SERVICE.conveyor.yaml for each, or --service NAME for one"
            )
        sys.stdout.write(_rendered(written[0], "conveyor.yaml"))
        return
    instead = "pass -o another folder"
    folder = Path(output)
    if folder.exists() and not folder.is_dir():
        fail(
            f"-o {output}: is a file; name a folder (created if missing) for SERVICE.conveyor.yaml"
        )
    targets = [(m, folder / f"{m.service}.conveyor.yaml") for m in written]
    for _, target in targets:
        refuse_to_clobber(target, force=force, instead=instead)
    texts = [(target, _rendered(migration, str(target))) for migration, target in targets]
    for target, text in texts:
        write_file(target, text, force=force, instead=instead)
        errors.print(f"wrote {escape(str(target))}")


def _rendered(migration: Migration, file: str) -> str:
    """The migration's file; one that does not validate is conveyor's bug, said as such."""
    from conveyor.migrate.render import render
    from conveyor.spec.loader import SpecError

    try:
        return render(migration, file)
    except SpecError as exc:
        fail(
            f"the file migrated for {migration.service} does not validate, which is a bug in "
            f"conveyor migrate (please report it with the manifest):\n{exc}"
        )
