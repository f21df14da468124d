"""`conveyor deploy | diff | destroy` wiring: the order of checks, synth, the CDK command line,
exit codes, and confirmation. Synthesis and the CDK CLI are replaced; nothing reaches AWS."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conveyor.cli import deploy as deploy_command
from conveyor.cli.main import app
from conveyor.deploy import cdk_cli
from conveyor.deploy.cdk_cli import CdkCliError, Tools

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = str(Path(__file__).with_name("deployable.yaml"))  # minimal.yaml, no placeholders
runner = CliRunner()


@dataclass
class Fake:
    synthesized: list[Path] = field(default_factory=list)
    commands: list[list[str]] = field(default_factory=list)
    exit_code: int = 0
    tools_error: str | None = None
    profile: str | None = "unset"
    checked_credentials: bool | None = None


@dataclass(frozen=True)
class _Result:
    outdir: Path


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Fake:
    state = Fake()

    def find_tools(*, profile: str | None = None, check_credentials: bool = True) -> Tools:
        state.profile, state.checked_credentials = profile, check_credentials
        if state.tools_error:
            raise CdkCliError(state.tools_error)
        return Tools(npx="/usr/bin/npx", cdk_version="2.1031.0")

    def synthesize(spec: object, outdir: Path, *, nag: bool = False) -> _Result:
        state.synthesized.append(outdir)
        return _Result(outdir)

    def run(argv: list[str]) -> int:
        state.commands.append(list(argv))
        return state.exit_code

    import conveyor.synth

    monkeypatch.setattr(cdk_cli, "find_tools", find_tools)
    monkeypatch.setattr(cdk_cli, "run", run)
    monkeypatch.setattr(conveyor.synth, "synthesize", synthesize)
    return state


def test_deploy_synthesizes_then_runs_cdk_deploy(fake: Fake, tmp_path: Path) -> None:
    out = tmp_path / "assembly"
    result = runner.invoke(app, ["deploy", EXAMPLE, "-o", str(out), "--profile", "dev"])
    assert result.exit_code == 0, result.output
    assert fake.synthesized == [out]
    assert fake.commands == [
        [
            "/usr/bin/npx",
            "--yes",
            "aws-cdk@2",
            "deploy",
            "--app",
            str(out),
            "--all",
            "--require-approval",
            "broadening",
            "--outputs-file",
            str(out / "outputs.json"),
            "--profile",
            "dev",
        ]
    ]
    assert fake.profile == "dev" and fake.checked_credentials is True
    assert "deployed api" in result.output


def test_require_approval_never_is_passed_and_announced(fake: Fake) -> None:
    result = runner.invoke(app, ["deploy", EXAMPLE, "--require-approval", "never"])
    assert result.exit_code == 0, result.output
    assert fake.commands[0][7:9] == ["--require-approval", "never"]
    assert "without asking" in result.output


def test_unknown_require_approval_exits_2_before_anything(fake: Fake) -> None:
    result = runner.invoke(app, ["deploy", EXAMPLE, "--require-approval", "sometimes"])
    assert result.exit_code == 2
    assert fake.synthesized == [] and fake.commands == []


def test_missing_tools_exit_2_before_synthesis(fake: Fake) -> None:
    fake.tools_error = "Node.js is not installed (no `node` on PATH)"
    for command in ("deploy", "diff"):
        result = runner.invoke(app, [command, EXAMPLE])
        assert result.exit_code == 2
        assert "Node.js is not installed" in result.output
    assert fake.synthesized == [] and fake.commands == []


def test_invalid_spec_exits_2_before_checking_tools(fake: Fake, tmp_path: Path) -> None:
    spec = tmp_path / "conveyor.yaml"
    spec.write_text("app: web\n")
    result = runner.invoke(app, ["deploy", str(spec)])
    assert result.exit_code == 2
    assert fake.profile == "unset"  # find_tools never called


def test_cdk_failure_exit_code_is_passed_on(fake: Fake) -> None:
    fake.exit_code = 1
    result = runner.invoke(app, ["deploy", EXAMPLE])
    assert result.exit_code == 1
    assert "deploy exited with 1" in result.output


def test_diff_with_fail_and_skip_credential_check(fake: Fake) -> None:
    result = runner.invoke(app, ["diff", EXAMPLE, "--fail", "--skip-credential-check"])
    assert result.exit_code == 0, result.output
    assert fake.commands[0][3:] == ["diff", "--app", "cdk.out", "--all", "--fail"]
    assert fake.checked_credentials is False


def test_destroy_asks_and_stops_on_no(fake: Fake, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(deploy_command, "_on_terminal", lambda: True)
    result = runner.invoke(app, ["destroy", EXAMPLE], input="n\n")
    assert result.exit_code == 1
    assert "Nothing deleted" in result.output
    assert fake.synthesized == [] and fake.commands == []


def test_destroy_asks_and_goes_on_yes(fake: Fake, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(deploy_command, "_on_terminal", lambda: True)
    result = runner.invoke(app, ["destroy", EXAMPLE], input="y\n")
    assert result.exit_code == 0, result.output
    assert fake.commands[0][3:] == ["destroy", "--app", "cdk.out", "--all", "--force"]


def test_destroy_without_a_terminal_needs_force(fake: Fake) -> None:
    result = runner.invoke(app, ["destroy", EXAMPLE])
    assert result.exit_code == 2
    assert "--force" in result.output
    assert fake.commands == []
    result = runner.invoke(app, ["destroy", EXAMPLE, "--force"])
    assert result.exit_code == 0, result.output
    assert fake.commands[0][3] == "destroy"


def test_deploy_refuses_placeholders_before_checking_tools(fake: Fake) -> None:
    # examples/minimal.yaml is what `conveyor init` leaves: an example connection and address.
    minimal = str(ROOT / "examples" / "minimal.yaml")
    result = runner.invoke(app, ["deploy", minimal])
    assert result.exit_code == 2
    assert (
        f"{minimal}:8: source.github.connection: this is an example connection ARN" in result.output
    )
    assert f"{minimal}:18: notifications.email[0]: team-api@example.com is an example" in (
        result.output
    )
    assert "conveyor deploy refuses placeholders" in result.output
    assert fake.profile == "unset" and fake.synthesized == [] and fake.commands == []
