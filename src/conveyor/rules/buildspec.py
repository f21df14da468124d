"""The buildspec of a CodeBuild project, when it is written in the template."""

from __future__ import annotations

import re

from conveyor.rules.intrinsics import get, render
from conveyor.rules.template import Resource

DOCKER = re.compile(r"\bdocker\s+(?:image\s+)?(?:build|buildx|push)\b|\bbuildx\s+build\b")


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
