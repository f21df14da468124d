"""`conveyor schema`: the JSON Schema of conveyor.yaml, for editor completion and validation.

The schema comes from the same pydantic models the loader uses, so an editor can never accept a
key that `conveyor validate` rejects (extra keys are `additionalProperties: false` throughout).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from conveyor.cli.output import console, escape, fail, output_path, write_file

# Draft 2020-12 is what pydantic emits and what yaml-language-server understands.
JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


def spec_schema() -> dict[str, Any]:
    """The JSON Schema of a conveyor.yaml, keys spelled as users write them (aliases)."""
    from conveyor.spec.models import Spec  # pydantic models cost ~0.1 s to build

    body = Spec.model_json_schema(by_alias=True, mode="validation")
    return {
        "$schema": JSON_SCHEMA_DIALECT,
        "title": "conveyor.yaml",
        **{k: v for k, v in body.items() if k != "title"},
    }


def schema(
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            metavar="FILE",
            help="Write the schema to this file instead of standard output (also -o -).",
            show_default=False,
            parser=output_path,
        ),
    ] = None,
) -> None:
    """Print the JSON Schema of conveyor.yaml (completion and validation in editors).

    Point yaml-language-server (VS Code's YAML extension, Neovim, JetBrains, Helix) at it with a
    first line in conveyor.yaml: # yaml-language-server: $schema=.conveyor/schema.json

    Examples:

      conveyor schema > conveyor.schema.json

      conveyor schema -o .conveyor/schema.json
    """
    text = json.dumps(spec_schema(), indent=2, sort_keys=False) + "\n"
    if output is None:
        # print() rather than rich: the output is data, and rich would wrap and colour it.
        typer.echo(text, nl=False)
        return
    if output.is_dir():
        fail(f"{output} is a directory; give a file name, e.g. -o {output / 'schema.json'}")
    # Replaced without --force (refreshing the schema after an upgrade is the point), but never
    # through a link: a repository can commit one at .conveyor/schema.json, where init's
    # comment sends users.
    write_file(output, text, force=True, instead="choose another path with -o")
    console.print(
        f"[green]✓[/] wrote the conveyor.yaml JSON Schema to {escape(str(output))}", soft_wrap=True
    )
