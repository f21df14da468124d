"""`conveyor diagram SPEC`: the pipeline as Mermaid text, SVG or PNG."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from conveyor.cli.output import console, fail, output_path, refuse_to_clobber, spec_path, write_file
from conveyor.cli.validate import load_or_exit


class Format(StrEnum):
    mermaid = "mermaid"
    svg = "svg"
    png = "png"


_BY_SUFFIX = {".mmd": Format.mermaid, ".md": Format.mermaid, ".svg": Format.svg, ".png": Format.png}


def diagram(
    spec: Annotated[
        Path,
        typer.Argument(help="Path to conveyor.yaml.", show_default=False, parser=spec_path),
    ],
    fmt: Annotated[
        Format | None,
        typer.Option(
            "--format",
            "-f",
            metavar="FORMAT",
            help="mermaid, svg or png.",
            show_default="from the -o suffix, else mermaid",
        ),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            metavar="FILE",
            help="File to write (.mmd, .md, .svg, .png); default standard output (also -o -).",
            show_default=False,
            parser=output_path,
        ),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Replace the -o file if it exists.")
    ] = False,
) -> None:
    """Draw the pipeline: stages, parallel actions, approvals, environments, AWS resources.

    Mermaid text pastes into READMEs and pull requests (GitHub renders it); SVG and PNG are
    drawn locally (no browser, no network). A .md output is wrapped in a ```mermaid fence. An
    existing -o file is replaced only with --force; a symbolic link there is never written through.

    Examples:

      conveyor diagram conveyor.yaml

      conveyor diagram conveyor.yaml -o docs/pipeline.png

      conveyor diagram conveyor.yaml --format svg > pipeline.svg
    """
    chosen = fmt
    if chosen is None:
        suffix = output.suffix.lower() if output is not None else ""
        if output is not None and suffix not in _BY_SUFFIX:
            fail(
                f"cannot tell the format from {output}: name it .mmd, .md, .svg or .png, "
                "or pass --format"
            )
        chosen = _BY_SUFFIX.get(suffix, Format.mermaid)
    if chosen is Format.png and output is None:
        fail("a PNG is binary and is not printed: give a file with -o pipeline.png")
    instead = "choose another file with -o"
    if output is not None:
        if output.is_dir() and not output.is_symlink():
            fail(f"{output} is a directory; give a file name, e.g. -o {output / 'pipeline.png'}")
        refuse_to_clobber(output, force=force, instead=instead)

    loaded = load_or_exit(spec)
    from conveyor.diagram import render
    from conveyor.plan import plan

    if chosen is Format.png:
        try:
            import PIL  # noqa: F401
        except ImportError:
            fail("PNG output needs Pillow: pip install pillow (or use --format svg)")
    with console.status("Drawing …", spinner="dots"):
        drawing = render(plan(loaded), chosen.value)
    if isinstance(drawing, str) and output is not None and output.suffix.lower() == ".md":
        drawing = f"```mermaid\n{drawing}```\n"
    if output is None:
        assert isinstance(drawing, str)
        typer.echo(drawing, nl=False)
        return
    write_file(output, drawing, force=force, instead=instead)
    console.print(
        f"[green]✓[/] wrote {chosen.value} diagram of {loaded.app} to {output}", soft_wrap=True
    )
