"""Code built for another CPU architecture than the one it runs on.

Heuristic, from what a template shows. A CodeBuild project's architecture is its environment
type (``ARM_CONTAINER``/``ARM_LAMBDA_CONTAINER`` build arm64, the rest x86_64), unless its inline
buildspec names a target with ``--platform``:

- **Lambda packages.** A buildspec that installs Python dependencies into a package directory
  (``pip install ... -t DIR`` / ``--target DIR``) builds native wheels for the build host unless
  it passes ``--platform manylinux..._aarch64`` (or ``_x86_64``). The functions it feeds are the
  ones a project names through an environment variable (``Ref``/``GetAtt``) or that have an
  alias; if none of them runs the architecture the package is built for, compiled wheels fail to
  import ("invalid ELF header").
- **Container images.** A project that runs ``docker build``/``buildx`` builds for
  ``--platform linux/...`` or, without it, the build host. Every ECS service's task definition
  here whose ``RuntimePlatform.CpuArchitecture`` (X86_64 when absent) no image-building project
  targets is reported: its tasks stop with "exec format error".
Buildspecs kept in the source repository cannot be read and are not judged.

Sources:
- https://docs.aws.amazon.com/lambda/latest/dg/python-package.html#python-package-native-libraries
- https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_definition_parameters.html#runtime-platform
- https://docs.aws.amazon.com/codebuild/latest/userguide/build-env-ref-compute-types.html
"""

from __future__ import annotations

from collections.abc import Iterator

from conveyor.rules.buildspec import buildspec_commands, inline_buildspec, runs_docker
from conveyor.rules.engine import Context
from conveyor.rules.intrinsics import as_list, get, ref_target
from conveyor.rules.model import Hit, Rule, Severity
from conveyor.rules.patterns import lazy
from conveyor.rules.template import Resource

ARM = "arm64"
X86 = "x86_64"
PIP_TARGET = lazy(r"\bpip3?\s+install\b.*?\s(?:-t|--target)(?:\s+|=)\S+")
PIP_PLATFORM = lazy(r"--platform[\s=]+(\S+)")
DOCKER_PLATFORM = lazy(r"--platform[\s=]+(?:linux/)?(\S+)")


def _arch_of(text: str) -> str | None:
    lowered = text.lower()
    if "aarch64" in lowered or "arm64" in lowered:
        return ARM
    if "x86_64" in lowered or "amd64" in lowered:
        return X86
    return None


def host_arch(project: Resource) -> str:
    kind = get(project.properties, "Environment", "Type")
    return ARM if isinstance(kind, str) and kind.startswith("ARM") else X86


def package_arch(project: Resource) -> str | None:
    """The architecture a project's pip packaging targets, or None if it packages nothing."""
    for command in buildspec_commands(project):
        if PIP_TARGET.search(command):
            platform = PIP_PLATFORM.search(command)
            return (_arch_of(platform.group(1)) if platform else None) or host_arch(project)
    return None


def image_arch(project: Resource) -> str | None:
    """The architecture a project's images are built for, or None if it builds none."""
    if not runs_docker(project):
        return None
    spec = inline_buildspec(project) or ""
    platform = DOCKER_PLATFORM.search(spec)
    return (_arch_of(platform.group(1)) if platform else None) or host_arch(project)


def function_arch(res: Resource) -> str:
    values = [v for v in as_list(res.properties.get("Architectures")) if isinstance(v, str)]
    return ARM if ARM in values else X86


def _fed_functions(project: Resource, ctx: Context) -> list[Resource]:
    named = {
        ref_target(var.get("Value"))
        for var in as_list(get(project.properties, "Environment", "EnvironmentVariables"))
        if isinstance(var, dict)
    }
    aliased = {
        ref_target(ctx.template.resources[lid].properties.get("FunctionName"))
        for lid in ctx.relations.of_type("AWS::Lambda::Alias")
    }
    return [
        ctx.template.resources[lid]
        for lid in ctx.relations.of_type("AWS::Lambda::Function")
        if lid in named or lid in aliased
    ]


def _check_project(res: Resource, ctx: Context) -> Iterator[Hit]:
    built_for = package_arch(res)
    if built_for is None:
        return
    functions = _fed_functions(res, ctx)
    if functions and all(function_arch(f) != built_for for f in functions):
        names = ", ".join(f"{f.logical_id} ({function_arch(f)})" for f in functions)
        yield Hit(
            res.logical_id,
            "Properties.Source.BuildSpec",
            f"pip packages the Lambda code for {built_for}, but the functions it feeds run on "
            f"another architecture ({names}); compiled dependencies fail to import. Pass "
            "--platform manylinux2014_aarch64 (or _x86_64) --only-binary=:all: or build on a "
            "matching image",
        )


def _check_task_definition(res: Resource, ctx: Context) -> Iterator[Hit]:
    served = any(
        ref_target(ctx.template.resources[s].properties.get("TaskDefinition")) == res.logical_id
        for s in ctx.relations.of_type("AWS::ECS::Service")
    )
    if not served:
        return
    built = {
        arch
        for lid in ctx.relations.of_type("AWS::CodeBuild::Project")
        if (arch := image_arch(ctx.template.resources[lid])) is not None
    }
    cpu = get(res.properties, "RuntimePlatform", "CpuArchitecture")
    runs = ARM if isinstance(cpu, str) and cpu.upper() == "ARM64" else X86
    if cpu is not None and not isinstance(cpu, str):
        return  # chosen by an intrinsic: cannot judge
    if built and runs not in built:
        yield Hit(
            res.logical_id,
            "Properties.RuntimePlatform" if cpu is not None else "Properties",
            f"the task runs on {runs} but the pipeline builds its images for "
            f"{', '.join(sorted(built))}; tasks stop with 'exec format error'. Set "
            "RuntimePlatform.CpuArchitecture to match the build's --platform",
        )


def check(res: Resource, ctx: Context) -> Iterator[Hit]:
    if res.type == "AWS::CodeBuild::Project":
        yield from _check_project(res, ctx)
    else:
        yield from _check_task_definition(res, ctx)


RULE = Rule(
    id="CV096",
    title="Code built for another CPU architecture than it runs on",
    severity=Severity.HIGH,
    resource_types=("AWS::CodeBuild::Project", "AWS::ECS::TaskDefinition"),
    failure_modes=("FM102",),
    why="conveyor's own review (2026-12): an arm64 Lambda was packaged with pip on an x86 "
    "build image, and images built with --platform linux/arm64 ran on X86_64 task definitions.",
    fix_cloudformation="Build for the runtime: pip install --platform manylinux2014_aarch64 "
    "--only-binary=:all: --target DIR for arm64 functions, or an ARM_CONTAINER build "
    "environment; set the task definition's RuntimePlatform.CpuArchitecture to the image's.",
    fix_cdk="ecs.FargateTaskDefinition(..., runtime_platform=ecs.RuntimePlatform("
    "cpu_architecture=ecs.CpuArchitecture.ARM64)) to match docker buildx --platform",
    fix_conveyor="Nothing to write: conveyor builds for the architecture the target runs on.",
    check=check,
)
