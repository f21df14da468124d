"""`conveyor validate SPEC`: check a conveyor.yaml without synthesizing (no CDK import)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from conveyor.cli.output import console, errors, escape, fail, spec_path

if TYPE_CHECKING:
    from conveyor.spec.models import Spec
    from conveyor.spec.readiness import Concern


def load_or_exit(path: Path) -> Spec:
    """The spec at `path`, or exit 2 with every problem (file:line: key: message)."""
    # pydantic models are built on import (~0.1 s); `conveyor --help` should not pay for them.
    from conveyor.spec import SpecError, load_spec

    try:
        return load_spec(path)
    except SpecError as exc:
        fail("\n".join(p.render(exc.file) for p in exc.problems))


def describe(spec: Spec) -> str:
    envs = []
    for env in spec.environments:
        ecs, function = env.deploy.ecs, env.deploy.lambda_
        if ecs is not None and ecs.create is not None and ecs.create.kind == "job":
            target = f"ecs job on {ecs.create.schedule}"
        elif ecs is not None:
            target = f"ecs {ecs.strategy}" + (" (created)" if ecs.create is not None else "")
        else:
            assert function is not None
            target = f"lambda {function.strategy}"
        flags = " after approval" if env.needs_approval else ""
        envs.append(f"{env.name}: {target}{flags}")
    return f"app {spec.app} from {spec.source.kind}; " + "; ".join(envs)


def validate(
    spec: Annotated[
        Path,
        typer.Argument(help="Path to conveyor.yaml.", show_default=False, parser=spec_path),
    ],
) -> None:
    """Check a conveyor.yaml and explain every problem with its line (no AWS, no CDK).

    Exit code 0 when valid, 2 when not.

    Examples:

      conveyor validate conveyor.yaml

      conveyor validate examples/payments.yaml && conveyor synth examples/payments.yaml
    """
    loaded = load_or_exit(spec)
    from conveyor.spec.readiness import concerns

    found = concerns(loaded, today_or_exit())
    refused = _located(spec, [c for c in found if c.refused])
    if not refused:
        console.print(f"[green]✓[/] {escape(str(spec))} is valid: {escape(describe(loaded))}")
    for problem in _located(spec, [c for c in found if not c.refused]):
        errors.print(f"[yellow]warning:[/] {escape(problem)}", soft_wrap=True)
    if refused:
        fail("\n".join(refused))


def today_or_exit() -> date:
    """The day validate judges runtime deprecations by, or exit 2 if CONVEYOR_TODAY is no date."""
    from conveyor.lambda_runtimes import today

    try:
        return today()
    except ValueError as exc:
        fail(str(exc))


def deployable_or_exit(path: Path) -> None:
    """Exit 2 if the spec at `path` still holds placeholders (`conveyor deploy` calls this)."""
    from conveyor.spec.readiness import blocking

    found = _located(path, blocking(load_or_exit(path), today_or_exit()))
    if found:
        refusal = "conveyor deploy refuses placeholders: replace them with real values first"
        fail("\n".join([*found, refusal]))


def _located(path: Path, concerns: list[Concern]) -> list[str]:
    from conveyor.files import read_bounded
    from conveyor.spec.loader import MAX_SPEC_BYTES

    if not concerns:
        return []
    text = read_bounded(path, MAX_SPEC_BYTES).decode("utf-8", "replace")
    return [concern.problem(text).render(str(path)) for concern in concerns]
