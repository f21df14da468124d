"""A CodeBuild job runs ``conveyor synth`` after installing conveyor without its ``cdk`` extra.

conveyor's own dependencies leave out the AWS CDK libraries (``conveyor check`` runs without
them); ``conveyor synth`` needs them and exits 2 without them ("the AWS CDK libraries are not
installed"). A job that installs ``conveyor==X`` (not ``conveyor[cdk]==X``) and installs no
aws-cdk-lib itself fails on every run, and the stages that deploy its templates never run.
The requirement may come through a plaintext environment variable of the project
(``pip install "$CONVEYOR_REQUIREMENT"``). A job that installs no conveyor (an image that has
it) is not judged. Inline buildspecs only.
"""

from __future__ import annotations

from collections.abc import Iterator

from conveyor.rules.buildspec import buildspec_commands
from conveyor.rules.engine import Context
from conveyor.rules.intrinsics import get
from conveyor.rules.model import Hit, Rule, Severity
from conveyor.rules.patterns import lazy
from conveyor.rules.template import Resource

SYNTH = lazy(r"(?<![\w.-])conveyor\s+synth\b")
PIP_INSTALL = lazy(r"\bpip3?\s+install\b|\bpython3?\s+-m\s+pip\s+install\b")
# A requirement naming the conveyor distribution, with its extras if any.
CONVEYOR = lazy(r"(?<![\w./@:-])conveyor\s*(\[[^\]]*\])?(?=\s*(?:[=<>~!@;'\"]|\s|$))")
CDK_LIB = lazy(r"(?<![\w.-])aws-cdk-lib\b")
VARIABLE = lazy(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?")


def _plaintext_variables(res: Resource) -> dict[str, str]:
    found: dict[str, str] = {}
    variables = get(res.properties, "Environment", "EnvironmentVariables")
    for variable in variables if isinstance(variables, list) else []:
        if not isinstance(variable, dict):
            continue
        name, value = variable.get("Name"), variable.get("Value")
        plaintext = variable.get("Type", "PLAINTEXT") == "PLAINTEXT"
        if plaintext and isinstance(name, str) and isinstance(value, str):
            found[name] = value
    return found


def check(res: Resource, ctx: Context) -> Iterator[Hit]:
    commands = buildspec_commands(res)
    if not any(SYNTH.search(c) for c in commands):
        return
    variables = _plaintext_variables(res)
    extras: list[str] = []
    for command in commands:
        if not PIP_INSTALL.search(command):
            continue
        text = VARIABLE.sub(lambda m: variables.get(m.group(1), m.group(0)), command)
        if CDK_LIB.search(text):
            return
        extras += [m.group(1) or "" for m in CONVEYOR.finditer(text.split("install", 1)[1])]
    if extras and not any("cdk" in e for e in extras):
        yield Hit(
            res.logical_id,
            "Properties.Source.BuildSpec",
            "the job installs conveyor without its cdk extra, then runs `conveyor synth`, "
            "which exits 2 without the AWS CDK libraries: install 'conveyor[cdk]==<version>'",
        )


RULE = Rule(
    id="CV132",
    title="conveyor synth without the AWS CDK libraries",
    severity=Severity.HIGH,
    resource_types=("AWS::CodeBuild::Project",),
    failure_modes=("FM136",),
    why="Issue 10 review: the Synth job of a Pipeline in the user's own CDK app installed "
    "conveyor without its cdk extra; every run failed at `conveyor synth` and no environment "
    "was ever deployed.",
    fix_cloudformation="Install the extra in the buildspec: pip install 'conveyor[cdk]==0.1.0' "
    "(or add aws-cdk-lib to the same install).",
    fix_cdk="Same buildspec text in BuildSpec.from_object.",
    fix_conveyor="Nothing to write: conveyor's Synth and UpdatePipeline jobs install "
    "conveyor[cdk] (or self_update.install, which must keep the extra).",
    check=check,
)
