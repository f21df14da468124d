"""Each handler folder is a complete Lambda asset: shared code is vendored, imports stay local."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from conveyor.handlers import HANDLER_NAMES, _vendor, asset_path

RUNTIME_PACKAGES = {"boto3", "botocore"}


def test_every_handler_has_an_identical_copy_of_common() -> None:
    stale = _vendor.stale_copies()
    assert stale == [], (
        f"{[str(p) for p in stale]} differ from _common.py; "
        "edit _common.py only and run `.venv/bin/python -m conveyor.handlers._vendor`"
    )


def test_vendor_check_mode_reports_drift(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    canonical = tmp_path / "_common.py"
    canonical.write_text("X = 1\n")
    (tmp_path / "record_deployment").mkdir()
    (tmp_path / "record_deployment" / "common.py").write_text("X = 2\n")
    monkeypatch.setattr(_vendor, "CANONICAL", canonical)
    monkeypatch.setattr(_vendor, "HANDLER_NAMES", ("record_deployment",))

    assert _vendor.main(["--check"]) == 1
    assert _vendor.main([]) == 0
    assert (tmp_path / "record_deployment" / "common.py").read_text() == "X = 1\n"
    assert _vendor.main(["--check"]) == 0


def _imported_roots(path: Path) -> set[str]:
    roots: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
    return roots


@pytest.mark.parametrize("name", HANDLER_NAMES)
def test_handler_imports_only_the_lambda_runtime_and_its_own_folder(name: str) -> None:
    folder = asset_path(name)
    siblings = {p.stem for p in folder.glob("*.py")}
    allowed = set(sys.stdlib_module_names) | RUNTIME_PACKAGES | siblings | {"__future__"}
    for module in folder.glob("*.py"):
        assert _imported_roots(module) <= allowed, f"{module} imports outside its asset"


@pytest.mark.parametrize("name", HANDLER_NAMES)
def test_handler_folder_imports_alone_as_lambda_does(name: str) -> None:
    # Lambda puts the asset folder on sys.path and imports `app` as a top-level module; block
    # conveyor so a stray import of the rest of the project fails here, not in production.
    script = (
        "import sys; sys.modules['conveyor'] = None; sys.path.insert(0, sys.argv[1]); "
        "import app; assert callable(app.handler)"
    )
    result = subprocess.run(
        [sys.executable, "-c", script, str(asset_path(name))],
        capture_output=True,
        text=True,
        check=False,
        cwd=asset_path(name),
        timeout=60,
    )
    assert result.returncode == 0, result.stderr


def test_asset_path_rejects_unknown_handlers() -> None:
    with pytest.raises(ValueError, match="unknown handler 'nope'"):
        asset_path("nope")
