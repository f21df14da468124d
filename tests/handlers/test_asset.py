"""The handlers package is one Lambda asset: it imports as Lambda imports it, and nothing else."""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
import tomllib
from importlib import metadata
from pathlib import Path

import pytest

from conveyor.handlers import (
    ASSET_ROOT,
    HANDLER_NAMES,
    POWERTOOLS_VERSION,
    asset_path,
    handler_entrypoint,
)

ROOT = Path(__file__).resolve().parents[2]
# What the Lambda Python runtime plus the Powertools layer provide, besides the asset itself.
RUNTIME_PACKAGES = {"boto3", "botocore", "aws_lambda_powertools"}
ASSET_MODULES = {"_common"}


def _imported_roots(path: Path) -> set[str]:
    roots: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
    return roots


@pytest.mark.parametrize("name", HANDLER_NAMES)
def test_handler_imports_only_the_runtime_the_layer_and_the_asset(name: str) -> None:
    allowed = set(sys.stdlib_module_names) | RUNTIME_PACKAGES | ASSET_MODULES | {"__future__"}
    for module in [*asset_path(name).glob("*.py"), ASSET_ROOT / "_common.py"]:
        assert _imported_roots(module) <= allowed, f"{module} imports outside the asset"


def _import_as_lambda(name: str, **env: str) -> subprocess.CompletedProcess[str]:
    # Lambda puts the asset root on sys.path and imports the handler string's module; block
    # conveyor so a stray import of the rest of the project fails here, not in production.
    module, _, function = handler_entrypoint(name).rpartition(".")
    script = (
        "import importlib, sys; sys.modules['conveyor'] = None; sys.path.insert(0, sys.argv[1]); "
        f"m = importlib.import_module({module!r}); assert callable(getattr(m, {function!r}))"
    )
    return subprocess.run(
        [sys.executable, "-c", script, str(ASSET_ROOT)],
        capture_output=True,
        text=True,
        check=False,
        cwd=ASSET_ROOT,
        env={**os.environ, **env},
        timeout=60,
    )


@pytest.mark.parametrize("name", HANDLER_NAMES)
def test_handler_imports_from_the_asset_root_as_lambda_does(name: str) -> None:
    result = _import_as_lambda(name)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("variable", ["LOG_LEVEL", "AWS_LAMBDA_LOG_LEVEL", "POWERTOOLS_LOG_LEVEL"])
def test_lambda_log_levels_that_python_lacks_do_not_break_import(variable: str) -> None:
    """Issue 17/9: LOG_LEVEL=TRACE (a Lambda level, not a Python one) raised at import."""
    for level in ("TRACE", "FATAL", "WARN", "nonsense"):
        result = _import_as_lambda("notify", **{variable: level})
        assert result.returncode == 0, f"{variable}={level}: {result.stderr}"


def test_handler_strings_name_each_handlers_module() -> None:
    assert handler_entrypoint("notify") == "notify.app.handler"
    with pytest.raises(ValueError, match="unknown handler 'nope'"):
        handler_entrypoint("nope")
    with pytest.raises(ValueError, match="unknown handler 'nope'"):
        asset_path("nope")


def test_no_vendored_copies_of_the_shared_module() -> None:
    assert sorted(
        p.relative_to(ASSET_ROOT).as_posix() for p in ASSET_ROOT.rglob("*common*.py")
    ) == ["_common.py"]


def test_powertools_pin_matches_the_layer_version() -> None:
    """The tests run the code the layer ships: pyproject's pin, the installed package and the
    layer version the construct resolves are one version."""
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    pins = [
        requirement
        for requirement in pyproject["project"]["optional-dependencies"]["dev"]
        if requirement.startswith("aws-lambda-powertools")
    ]
    assert pins == [f"aws-lambda-powertools=={POWERTOOLS_VERSION}"]
    assert metadata.version("aws-lambda-powertools") == POWERTOOLS_VERSION
    assert re.fullmatch(r"\d+\.\d+\.\d+", POWERTOOLS_VERSION)
