"""`conveyor deploy | diff | destroy | bootstrap` wiring: the order of checks, synth, the CDK
command line, exit codes, and confirmation. Synthesis and the CDK CLI are replaced (synthesis
writes a small cloud assembly: the pipeline stack, whose pipeline updates another region's
support stack and deploys api-staging, and a one-time stack in another account); nothing
reaches AWS."""

from __future__ import annotations

import json
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
REAL_RUN = cdk_cli.run  # before the fixture replaces it


@dataclass
class Fake:
    synthesized: list[Path] = field(default_factory=list)
    commands: list[list[str]] = field(default_factory=list)
    exit_code: int = 0
    tools_error: str | None = None
    profile: str | None = "unset"
    checked_credentials: bool | None = None
    exit_codes: list[int] = field(default_factory=list)


def cloudformation_action(stack: object) -> dict[str, object]:
    return {
        "Name": "Deploy",
        "ActionTypeId": {"Category": "Deploy", "Provider": "CloudFormation"},
        "Configuration": {"StackName": stack, "TemplatePath": "Synth::x.template.json"},
    }


PIPELINE = {
    "Parameters": {"RegionUsEast1": {"Type": "String", "Default": "us-east-1"}},
    "Resources": {
        "Pipeline": {
            "Type": "AWS::CodePipeline::Pipeline",
            "Properties": {
                "Stages": [
                    {"Name": "Source", "Actions": []},
                    {
                        "Name": "UpdatePipeline",
                        "Actions": [
                            # Another region's support stack, named by the region's parameter.
                            cloudformation_action(
                                {"Fn::Join": ["", ["api-region-", {"Ref": "RegionUsEast1"}]]}
                            ),
                            cloudformation_action({"Ref": "AWS::StackName"}),
                        ],
                    },
                    {"Name": "Deploy-staging", "Actions": [cloudformation_action("api-staging")]},
                ]
            },
        }
    },
}


def write_assembly(outdir: Path) -> None:
    """What synthesis writes, reduced to what deploy and diff read."""
    outdir.mkdir(parents=True, exist_ok=True)
    stacks = {
        "api-pipeline": PIPELINE,
        "api-region-us-east-1": {},
        "api-staging": {},
        "api-prod-account": {},
    }
    artifacts = {
        name: {
            "type": "aws:cloudformation:stack",
            "properties": {"templateFile": f"{name}.template.json"},
        }
        for name in stacks
    }
    (outdir / "manifest.json").write_text(json.dumps({"artifacts": artifacts}))
    for name, template in stacks.items():
        (outdir / f"{name}.template.json").write_text(json.dumps({"Resources": {}, **template}))


@dataclass(frozen=True)
class _Result:
    outdir: Path


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Fake:
    # deploy synthesizes into ./cdk.out: in the checkout's root, another xdist worker's test
    # could write or remove the same folder between synth and deploy (seen once in CI).
    monkeypatch.chdir(tmp_path)
    state = Fake()

    def find_tools(*, profile: str | None = None, check_credentials: bool = True) -> Tools:
        state.profile, state.checked_credentials = profile, check_credentials
        if state.tools_error:
            raise CdkCliError(state.tools_error)
        return Tools(npx="/usr/bin/npx", cdk_version="2.1031.0")

    def synthesize(spec: object, outdir: Path, *, nag: bool = False) -> _Result:
        state.synthesized.append(outdir)
        write_assembly(outdir)
        return _Result(outdir)

    def run(argv: list[str], environ: object = None) -> int:
        state.commands.append(list(argv))
        return state.exit_codes.pop(0) if state.exit_codes else state.exit_code

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
            "aws-cdk@2.1148.1",
            "deploy",
            "--app",
            str(out),
            "--exclusively",
            "api-pipeline",
            "api-region-us-east-1",
            "api-prod-account",
            "--require-approval",
            "broadening",
            "--outputs-file",
            str(out / "outputs.json"),
            "--profile",
            "dev",
        ]
    ]
    assert fake.profile == "dev" and fake.checked_credentials is True
    assert "deployed api-pipeline, api-region-us-east-1, api-prod-account" in result.output
    assert "The pipeline deploys api-staging on its next run" in result.output


def test_require_approval_never_is_passed_and_announced(fake: Fake) -> None:
    result = runner.invoke(app, ["deploy", EXAMPLE, "--require-approval", "never"])
    assert result.exit_code == 0, result.output
    assert fake.commands[0][10:12] == ["--require-approval", "never"]
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


def test_diff_shows_the_pipeline_then_each_environment_never_all(fake: Fake) -> None:
    """Issue 12: `--all` made the CDK CLI warn on every diff; issue 10: one section per
    environment, each against its own deployed stack."""
    result = runner.invoke(app, ["diff", EXAMPLE, "--fail", "--skip-credential-check"])
    assert result.exit_code == 0, result.output
    assert [c[3:] for c in fake.commands] == [
        [
            "diff",
            "--app",
            "cdk.out",
            "--exclusively",
            "api-pipeline",
            "--fail",
        ],
        ["diff", "--app", "cdk.out", "--exclusively", "api-region-us-east-1", "--fail"],
        ["diff", "--app", "cdk.out", "--exclusively", "api-prod-account", "--fail"],
        ["diff", "--app", "cdk.out", "--exclusively", "api-staging", "--fail"],
    ]
    assert not [c for c in fake.commands if "--all" in c]
    assert fake.checked_credentials is False
    output = result.output
    assert (
        output.index("== pipeline: api-pipeline ==")
        < output.index("== support stacks the pipeline updates: api-region-us-east-1 ==")
        < output.index("== environment staging: api-staging ==")
    )


def test_diff_shows_what_only_conveyor_deploy_changes(fake: Fake) -> None:
    """Review of issue 10: another account's one-time stack changes only by `conveyor deploy`,
    never by the pipeline: diff shows it, so a difference says to deploy first."""
    fake.exit_codes = [0, 0, 1, 0]
    result = runner.invoke(app, ["diff", EXAMPLE, "--fail"])
    assert result.exit_code == 1
    assert "== stacks only conveyor deploy updates: api-prod-account ==" in result.output
    assert "differences in: stacks only conveyor deploy updates" in result.output
    assert "api-prod-account: run `conveyor deploy` before the pipeline's next release" in (
        result.output
    )


def test_diff_shows_another_region_s_stack_with_the_pipeline_s_never_as_by_hand(
    fake: Fake,
) -> None:
    """Another region's support stack (an environment's CloudFormation role there) is updated
    by the pipeline's UpdatePipeline stage before its own stack: a difference there is the
    pipeline's to apply, and diff no longer asks for `conveyor deploy` for it."""
    fake.exit_codes = [0, 1, 0, 0]
    result = runner.invoke(app, ["diff", EXAMPLE, "--fail"])
    assert result.exit_code == 1
    assert "differences in: support stacks the pipeline updates" in result.output
    assert "stacks only conveyor deploy updates: api-prod-account ==" in result.output
    assert "== stacks only conveyor deploy updates: api-prod-account, " not in result.output
    assert "conveyor deploy` before" not in result.output
    # The one change the pipeline cannot apply there: a new resource type (its role is in it).
    assert "api-region-us-east-1: the pipeline's UpdatePipeline stage applies this; if it adds" in (
        result.output
    )


def test_diff_with_fail_names_the_sections_that_differ(fake: Fake) -> None:
    fake.exit_codes = [0, 0, 0, 1]
    result = runner.invoke(app, ["diff", EXAMPLE, "--fail"])
    assert result.exit_code == 1
    assert "differences in: environment staging" in result.output
    assert "conveyor deploy` before" not in result.output
    assert "UpdatePipeline stage applies" not in result.output
    assert len(fake.commands) == 4  # every section is shown, not just the first difference


def test_diff_passes_on_a_cdk_error(fake: Fake) -> None:
    fake.exit_codes = [0, 3]
    result = runner.invoke(app, ["diff", EXAMPLE])
    assert result.exit_code == 3
    assert "diff exited with 3" in result.output


def test_deploy_never_touches_the_stacks_the_pipeline_deploys(fake: Fake) -> None:
    result = runner.invoke(app, ["deploy", EXAMPLE])
    assert result.exit_code == 0, result.output
    (command,) = fake.commands
    assert "api-staging" not in command
    assert "--all" not in command
    # Another region's support stack exists before the pipeline that names its artifact
    # store: deploy creates it (the pipeline updates it from then on).
    assert "api-region-us-east-1" in command


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
    assert fake.commands[0][3:] == [
        "destroy",
        "--app",
        "cdk.out",
        "--exclusively",
        "api-pipeline",
        "api-region-us-east-1",
        "api-prod-account",
        "--force",
    ]
    assert "The stacks the pipeline deployed stay: api-staging" in result.output


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


MULTI_ACCOUNT = str(ROOT / "examples" / "multi-account.yaml")


def test_bootstrap_prepares_the_pipeline_account(fake: Fake) -> None:
    result = runner.invoke(app, ["bootstrap", MULTI_ACCOUNT, "--profile", "ops"])
    assert result.exit_code == 0, result.output
    assert fake.commands == [
        [
            "/usr/bin/npx",
            "--yes",
            "aws-cdk@2.1148.1",
            "bootstrap",
            "aws://111111111111/eu-west-1",
            "--profile",
            "ops",
        ]
    ]
    assert fake.synthesized == []


def test_bootstrap_prepares_each_region_of_the_pipeline_account(fake: Fake) -> None:
    """An environment in another region deploys from a stack there (its artifact store and
    image repository), which the CDK deploys through that region's bootstrap."""
    multi_region = str(ROOT / "examples" / "multi-region.yaml")
    result = runner.invoke(app, ["bootstrap", multi_region])
    assert result.exit_code == 0, result.output
    assert fake.commands[0][3:] == [
        "bootstrap",
        "aws://123456789012/eu-west-1",
        "aws://123456789012/us-east-1",
    ]
    assert "bootstrapped aws://123456789012/eu-west-1, aws://123456789012/us-east-1" in (
        result.output
    )


def test_bootstrap_without_an_account_names_each_region_for_the_credentials_account(
    fake: Fake, tmp_path: Path
) -> None:
    """Given no environment, the CDK CLI asks for one (or a cdk.json app), so conveyor names each
    region, with the CDK's `unknown-account`: the account of the credentials."""
    source = (ROOT / "examples" / "multi-region.yaml").read_text()
    spec = tmp_path / "conveyor.yaml"
    spec.write_text(source.replace('account: "123456789012"\n', ""))
    result = runner.invoke(app, ["bootstrap", str(spec)])
    assert result.exit_code == 0, result.output
    assert fake.commands[0][3:] == [
        "bootstrap",
        "aws://unknown-account/eu-west-1",
        "aws://unknown-account/us-east-1",
    ]
    assert "names no account" in result.output and "names no region" not in result.output


def test_bootstrap_without_account_or_region_leaves_both_to_the_credentials(
    fake: Fake, tmp_path: Path
) -> None:
    spec = tmp_path / "conveyor.yaml"
    spec.write_text(
        "app: api\nowner: team-api\n"
        "source: {s3: {key: api/source.zip}}\n"
        "build: {docker: {}}\n"
        "environments:\n"
        "  - {name: staging, deploy: {ecs: {cluster: api-staging, service: api}}}\n"
        "notifications: {email: [team-api@acme.io]}\n"
    )
    result = runner.invoke(app, ["bootstrap", str(spec), "--print"])
    assert result.exit_code == 0, result.output
    assert "aws-cdk@2.1148.1 bootstrap aws://unknown-account/unknown-region" in result.output


def test_bootstrap_of_another_account_trusts_the_pipeline_account(fake: Fake) -> None:
    result = runner.invoke(app, ["bootstrap", MULTI_ACCOUNT, "--account", "222222222222"])
    assert result.exit_code == 0, result.output
    assert fake.commands[0][3:] == [
        "bootstrap",
        "aws://222222222222/eu-west-1",
        "--trust",
        "111111111111",
        "--trust-for-lookup",
        "111111111111",
        "--cloudformation-execution-policies",
        "arn:aws:iam::aws:policy/AdministratorAccess",
    ]


def test_bootstrap_print_needs_no_tools_and_runs_nothing(fake: Fake) -> None:
    fake.tools_error = "Node.js is not installed (no `node` on PATH)"
    result = runner.invoke(
        app, ["bootstrap", MULTI_ACCOUNT, "--account", "222222222222", "--print"]
    )
    assert result.exit_code == 0, result.output
    assert (
        "npx --yes aws-cdk@2.1148.1 bootstrap aws://222222222222/eu-west-1 --trust 111111111111"
        in result.output
    )
    assert fake.commands == []


def test_bootstrap_of_an_account_no_environment_uses_exits_2(fake: Fake) -> None:
    result = runner.invoke(app, ["bootstrap", MULTI_ACCOUNT, "--account", "333333333333"])
    assert result.exit_code == 2
    assert "no environment deploys into account 333333333333" in result.output
    assert "222222222222" in result.output
    assert fake.commands == []


def test_bootstrap_without_tools_exits_2(fake: Fake) -> None:
    fake.tools_error = "Node.js is not installed (no `node` on PATH)"
    result = runner.invoke(app, ["bootstrap", MULTI_ACCOUNT])
    assert result.exit_code == 2
    assert "Node.js is not installed" in result.output


def test_diff_runs_the_cdk_cli_once_per_section_at_the_subprocess_boundary(
    fake: Fake, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The real `cdk_cli.run`, with subprocess.run recorded: what reaches the CDK CLI."""
    import subprocess

    calls: list[list[str]] = []

    def recorded(argv: list[str], **_: object) -> subprocess.CompletedProcess[str]:
        calls.append(argv)
        return subprocess.CompletedProcess(argv, 0 if len(calls) <= 2 else 1)

    monkeypatch.setattr(cdk_cli, "run", REAL_RUN)
    monkeypatch.setattr(subprocess, "run", recorded)
    result = runner.invoke(app, ["diff", EXAMPLE, "--fail"])
    assert result.exit_code == 1
    assert [argv[3:] for argv in calls] == [
        [
            "diff",
            "--app",
            "cdk.out",
            "--exclusively",
            "api-pipeline",
            "--fail",
        ],
        ["diff", "--app", "cdk.out", "--exclusively", "api-region-us-east-1", "--fail"],
        ["diff", "--app", "cdk.out", "--exclusively", "api-prod-account", "--fail"],
        ["diff", "--app", "cdk.out", "--exclusively", "api-staging", "--fail"],
    ]
    assert "differences in: stacks only conveyor deploy updates, environment staging" in (
        result.output
    )
