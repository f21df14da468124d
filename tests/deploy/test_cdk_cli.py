"""Finding Node, npx, the CDK CLI and credentials, and the exact CDK command lines.

`shutil.which` and `subprocess.run` are replaced: nothing here starts npx or touches a network.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from conveyor.deploy.cdk_cli import (
    CDK_PACKAGE,
    CdkCliError,
    Tools,
    bootstrap_argv,
    cdk_argv,
    credentials_source,
    find_tools,
)

TOOLS = Tools(npx="/usr/bin/npx", cdk_version="2.1000.0")
CREDENTIALS = {"AWS_PROFILE": "dev"}


@pytest.fixture
def which(monkeypatch: pytest.MonkeyPatch) -> dict[str, str | None]:
    found: dict[str, str | None] = {"node": "/usr/bin/node", "npx": "/usr/bin/npx"}
    monkeypatch.setattr("shutil.which", lambda name: found.get(name))
    return found


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    seen: list[list[str]] = []

    def fake_run(argv: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        seen.append(argv)
        return subprocess.CompletedProcess(argv, 0, stdout="2.1031.0 (build abc)\n", stderr="")

    monkeypatch.setattr("subprocess.run", fake_run)
    return seen


def test_finds_tools_and_asks_npx_for_the_pinned_major_version(
    which: dict[str, str | None], calls: list[list[str]], tmp_path: Path
) -> None:
    tools = find_tools(environ=CREDENTIALS, home=tmp_path)
    assert tools == Tools(npx="/usr/bin/npx", cdk_version="2.1031.0")
    assert calls == [["/usr/bin/npx", "--yes", "aws-cdk@2.1148.1", "--version"]]


@pytest.mark.parametrize(("missing", "message"), [("node", "Node.js"), ("npx", "`npx`")])
def test_missing_node_or_npx(
    which: dict[str, str | None], calls: list[list[str]], missing: str, message: str
) -> None:
    which[missing] = None
    with pytest.raises(CdkCliError, match=message):
        find_tools(environ=CREDENTIALS, home=Path("/nonexistent"))
    assert calls == []


def test_missing_credentials(
    which: dict[str, str | None], calls: list[list[str]], tmp_path: Path
) -> None:
    with pytest.raises(CdkCliError, match="no AWS credentials"):
        find_tools(environ={}, home=tmp_path)
    assert calls == []
    assert find_tools(environ={}, home=tmp_path, check_credentials=False).npx == "/usr/bin/npx"


def test_cdk_cli_that_fails_to_run(
    which: dict[str, str | None], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    def failing(argv: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        return subprocess.CompletedProcess(argv, 1, stdout="", stderr="npm ERR! 404 Not Found\n")

    monkeypatch.setattr("subprocess.run", failing)
    with pytest.raises(CdkCliError, match="did not run through npx: npm ERR! 404"):
        find_tools(environ=CREDENTIALS, home=tmp_path)


def test_cdk_cli_that_hangs(
    which: dict[str, str | None], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    def hanging(argv: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        raise subprocess.TimeoutExpired(argv, kwargs["timeout"])

    monkeypatch.setattr("subprocess.run", hanging)
    with pytest.raises(CdkCliError, match="could not start"):
        find_tools(environ=CREDENTIALS, home=tmp_path)


@pytest.mark.parametrize(
    ("environ", "files", "expected"),
    [
        ({"AWS_ACCESS_KEY_ID": "AKIA..."}, {}, "AWS_ACCESS_KEY_ID"),
        ({"AWS_WEB_IDENTITY_TOKEN_FILE": "/t"}, {}, "AWS_WEB_IDENTITY_TOKEN_FILE"),
        ({}, {"credentials": "[default]\naws_access_key_id = x\n"}, "credentials"),
        ({}, {"config": "[profile dev]\nsso_session = acme\n"}, "config"),
        ({}, {"config": "[profile dev]\nregion = eu-west-1\n"}, None),
        ({}, {}, None),
    ],
)
def test_credentials_sources(
    tmp_path: Path, environ: dict[str, str], files: dict[str, str], expected: str | None
) -> None:
    (tmp_path / ".aws").mkdir()
    for name, text in files.items():
        (tmp_path / ".aws" / name).write_text(text)
    found = credentials_source(environ, tmp_path)
    if expected is None:
        assert found is None
    else:
        assert found is not None and found.endswith(expected)


def test_deploy_argv_keeps_the_cdk_approval_prompt_by_default() -> None:
    argv = cdk_argv(TOOLS, "deploy", Path("cdk.out"), stacks=["web-pipeline"])
    assert argv == [
        "/usr/bin/npx",
        "--yes",
        "aws-cdk@2.1148.1",
        "deploy",
        "--app",
        "cdk.out",
        "--exclusively",
        "web-pipeline",
        "--require-approval",
        "broadening",
        "--outputs-file",
        "cdk.out/outputs.json",
    ]


def test_diff_and_destroy_argv_name_their_stacks_never_all() -> None:
    """Issue 12: the CDK CLI ignores `diff --all` with a warning on every run."""
    diff = cdk_argv(
        TOOLS, "diff", Path("out"), stacks=["web-prod"], fail_on_difference=True, profile="ci"
    )
    assert diff[3:] == [
        "diff",
        "--app",
        "out",
        "--exclusively",
        "web-prod",
        "--fail",
        "--profile",
        "ci",
    ]
    destroy = cdk_argv(TOOLS, "destroy", Path("out"), stacks=["web-pipeline"])
    assert destroy[3:] == ["destroy", "--app", "out", "--exclusively", "web-pipeline", "--force"]
    assert "--require-approval" not in diff + destroy
    assert "--all" not in diff + destroy


def test_the_cdk_cli_is_pinned_to_one_exact_version_everywhere() -> None:
    """Issue 12: `aws-cdk@2` fetched whatever was newest. One pin, used by every command and by
    the pipeline's UpdatePipeline stage."""
    from conveyor.deploy import cdk_cli
    from conveyor.stages.self_update import self_update_buildspec

    assert re.fullmatch(r"aws-cdk@\d+\.\d+\.\d+", cdk_cli.CDK_PACKAGE)
    assert f"aws-cdk@{cdk_cli.CDK_CLI_VERSION}" == cdk_cli.CDK_PACKAGE
    assert cdk_argv(TOOLS, "diff", Path("o"), stacks=["s"])[2] == cdk_cli.CDK_PACKAGE
    assert bootstrap_argv(TOOLS, None)[2] == cdk_cli.CDK_PACKAGE
    commands = self_update_buildspec()["phases"]["build"]["commands"]
    assert any(f"npx --yes {cdk_cli.CDK_PACKAGE} publish-assets" in c for c in commands)


def test_a_named_profile_must_exist(tmp_path: Path) -> None:
    (tmp_path / ".aws").mkdir()
    (tmp_path / ".aws" / "config").write_text("[profile dev]\nregion = eu-west-1\n")
    found = credentials_source({}, tmp_path, "dev")
    assert found is not None and found.startswith("profile dev")
    assert credentials_source({}, tmp_path, "nosuch") is None
    assert credentials_source({"AWS_ACCESS_KEY_ID": "x"}, tmp_path, "nosuch") is None


def test_only_diff_fails_on_a_difference_and_only_when_asked() -> None:
    assert "--fail" not in cdk_argv(TOOLS, "diff", Path("o"), stacks=["s"])
    assert "--fail" not in cdk_argv(
        TOOLS, "deploy", Path("o"), stacks=["s"], fail_on_difference=True
    )


def test_bootstrap_argv_of_the_pipeline_account_trusts_nobody() -> None:
    argv = bootstrap_argv(TOOLS, "aws://111111111111/eu-west-1", profile="ops")
    assert argv[3:] == ["bootstrap", "aws://111111111111/eu-west-1", "--profile", "ops"]
    assert bootstrap_argv(TOOLS, None)[3:] == ["bootstrap"]


def test_run_attaches_the_cdk_cli_to_this_terminal_and_passes_its_exit_code(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from conveyor.deploy import cdk_cli

    seen: list[tuple[list[str], dict[str, Any]]] = []

    def recorded(argv: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        seen.append((argv, kwargs))
        return subprocess.CompletedProcess(argv, 3)

    monkeypatch.setattr(subprocess, "run", recorded)
    assert cdk_cli.run(("npx", "diff")) == 3
    assert cdk_cli.run(["npx"], {"AWS_REGION": "eu-west-1"}) == 3
    assert seen == [
        (["npx", "diff"], {"check": False, "env": None}),
        (["npx"], {"check": False, "env": {"AWS_REGION": "eu-west-1"}}),
    ]


def test_bootstrap_argv_of_another_account_trusts_the_pipeline_account() -> None:
    argv = bootstrap_argv(TOOLS, "aws://222222222222/eu-west-1", trust="111111111111", profile="p")
    assert argv == [
        "/usr/bin/npx",
        "--yes",
        CDK_PACKAGE,
        "bootstrap",
        "aws://222222222222/eu-west-1",
        "--trust",
        "111111111111",
        "--trust-for-lookup",
        "111111111111",
        "--cloudformation-execution-policies",
        "arn:aws:iam::aws:policy/AdministratorAccess",
        "--profile",
        "p",
    ]
