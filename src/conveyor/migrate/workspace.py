"""Find the manifests of an AWS Copilot workspace.

Layout (Copilot's own: internal/pkg/workspace/workspace.go in github.com/aws/copilot-cli):
`copilot/.workspace` (`application: NAME`), `copilot/<service>/manifest.yml`,
`copilot/environments/<env>/manifest.yml`, and pipelines in
`copilot/pipelines/<name>/manifest.yml` or, before Copilot v1.16, `copilot/pipeline.yml`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from conveyor.migrate.manifest import Manifest, MigrateError, Note, read_manifest

COPILOT_DIR = "copilot"
# Copilot's service and job manifests are `manifest.yml`; nothing else in a workload's folder
# is read (its addons/ and overrides/ are CloudFormation and CDK of their own, named in notes).
MANIFEST = "manifest.yml"
RESERVED = ("environments", "pipelines")
# Workspaces are a handful of folders; a directory with thousands is not one.
MAX_WORKLOADS = 500


@dataclass
class Workspace:
    root: Path  # the folder that holds copilot/
    application: str
    services: dict[str, Manifest]  # by folder name, sorted
    environments: dict[str, Manifest]
    pipelines: list[Manifest]
    notes: list[Note] = field(default_factory=list)  # about the workspace as a whole


def find_copilot_dir(directory: Path) -> Path:
    """The `copilot/` folder of the workspace at `directory` (the repository, or copilot/
    itself), or MigrateError saying what a Copilot workspace looks like."""
    if not directory.exists():
        raise MigrateError(
            f"{directory}: no such directory; give the repository that holds copilot/"
        )
    if not directory.is_dir():
        raise MigrateError(
            f"{directory}: is a file; give the repository folder that holds copilot/ "
            "(e.g. conveyor migrate copilot .)"
        )
    for candidate in (directory / COPILOT_DIR, directory):
        if (candidate / ".workspace").is_file() or (
            candidate.name == COPILOT_DIR and candidate.is_dir()
        ):
            return candidate
    raise MigrateError(
        f"{directory}: not a Copilot workspace: there is no {COPILOT_DIR}/.workspace and no "
        f"{COPILOT_DIR}/ folder; give the repository where `copilot init` ran (it holds "
        f"{COPILOT_DIR}/<service>/{MANIFEST})"
    )


def read_workspace(directory: Path) -> Workspace:
    copilot = find_copilot_dir(directory)
    root = copilot.parent
    notes: list[Note] = []
    application = _application(copilot, root, notes)
    services = {
        name: read_manifest(path, _shown(path, root))
        for name, path in _manifests(copilot, root, skip=RESERVED)
    }
    environments = {
        name: read_manifest(path, _shown(path, root))
        for name, path in _manifests(copilot / "environments", root)
    }
    pipelines = [
        read_manifest(path, _shown(path, root))
        for _, path in _manifests(copilot / "pipelines", root)
    ]
    legacy = copilot / "pipeline.yml"
    if legacy.is_file():
        _refuse_links_out(legacy, root)
        pipelines.append(read_manifest(legacy, _shown(legacy, root)))
    if not services:
        raise MigrateError(
            f"{_shown(copilot, root)}/: no service or job manifest "
            f"({COPILOT_DIR}/<name>/{MANIFEST}); conveyor migrate writes one conveyor.yaml per "
            "service, so there is nothing to write"
        )
    return Workspace(root, application, services, environments, pipelines, notes)


def _shown(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)


def _application(copilot: Path, root: Path, notes: list[Note]) -> str:
    summary = copilot / ".workspace"
    shown = _shown(summary, root)
    if not summary.is_file():
        name = root.resolve().name
        notes.append(
            Note(shown, None, "", f"missing; the application is named after the folder, {name!r}")
        )
        return name
    _refuse_links_out(summary, root)
    manifest = read_manifest(summary, shown)
    application = manifest.data.get("application")
    if not isinstance(application, str) or not application:
        raise MigrateError(
            f"{shown}:{manifest.line('application') or 1}: application: expected the "
            "application's name (application: my-app), as `copilot app init` writes it"
        )
    return application


def _manifests(folder: Path, root: Path, skip: tuple[str, ...] = ()) -> list[tuple[str, Path]]:
    """(name, manifest path) of each sub-folder of `folder` holding a manifest.yml, by name.
    Links that lead out of the workspace are not followed."""
    if not folder.is_dir():
        return []
    found: list[tuple[str, Path]] = []
    resolved_root = root.resolve()  # once, not per entry
    for count, entry in enumerate(sorted(folder.iterdir())):
        if count >= MAX_WORKLOADS:
            raise MigrateError(
                f"{_shown(folder, root)}/: more than {MAX_WORKLOADS} entries; this is not a "
                "Copilot workspace's folder"
            )
        manifest = entry / MANIFEST
        if entry.name in skip or entry.name.startswith(".") or not manifest.is_file():
            continue
        _refuse_links_out(manifest, root, resolved_root)
        found.append((entry.name, manifest))
    return found


def _refuse_links_out(path: Path, root: Path, resolved_root: Path | None = None) -> None:
    """MigrateError when `path` is (or passes through) a link that leads out of the workspace:
    conveyor migrate reads only the workspace's own files, whatever it was handed."""
    inside = resolved_root or root.resolve()
    if not path.resolve().is_relative_to(inside):
        raise MigrateError(
            f"{_shown(path, root)}: a link that leads out of the workspace; "
            "conveyor migrate reads only files inside it"
        )
