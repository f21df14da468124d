"""The buildspec of a CodeBuild project, when it is written in the template."""

from __future__ import annotations

import re

from conveyor.rules.intrinsics import get, render
from conveyor.rules.patterns import lazy
from conveyor.rules.template import Resource

DOCKER = lazy(r"\bdocker\s+(?:image\s+)?(?:build|buildx|push)\b|\bbuildx\s+build\b")


def inline_buildspec(project: Resource) -> str | None:
    """The inline buildspec text (references kept as ${...}), or None when it is a file in the
    source repository (a path such as ``buildspec.yml``) or absent."""
    value = get(project.properties, "Source", "BuildSpec")
    if value is None:
        return None
    text = render(value)
    if text is None:
        return None
    if "\n" not in text and re.fullmatch(r"[\w./${}:-]+\.ya?ml", text.strip()):
        return None
    return text


def runs_docker(project: Resource) -> bool | None:
    """True/False from an inline buildspec; None when the buildspec is not in the template."""
    text = inline_buildspec(project)
    if text is None:
        return None
    return DOCKER.search(text) is not None


def buildspec_commands(project: Resource) -> list[str]:
    """The shell commands of an inline buildspec, phase by phase (CDK writes buildspecs as JSON,
    so a command is a JSON string, not a line). Unparseable text falls back to its lines."""
    text = inline_buildspec(project)
    if text is None:
        return []
    # Imported here: a check of JSON templates without inline buildspecs never needs YAML.
    import yaml

    try:
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        data = yaml.load(text, Loader=loader)  # noqa: S506 - a safe loader
    except (yaml.YAMLError, RecursionError, ValueError, TypeError):
        return text.splitlines()
    phases = data.get("phases") if isinstance(data, dict) else None
    if not isinstance(phases, dict):
        return text.splitlines()
    commands: list[str] = []
    for phase in phases.values():
        for key in ("commands", "finally"):
            items = phase.get(key) if isinstance(phase, dict) else None
            if isinstance(items, list):
                commands.extend(c for c in items if isinstance(c, str))
    return commands
