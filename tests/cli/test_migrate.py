"""`conveyor migrate copilot DIR`: exit codes, where it writes, and hostile workspaces."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conveyor.cli.main import app
from conveyor.spec import load_spec

runner = CliRunner()
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "copilot"
WEB = """\
name: api
type: Load Balanced Web Service
image:
  build: Dockerfile
  port: 8080
"""


def workspace(tmp_path: Path, manifest: str | bytes = WEB, name: str = "api") -> Path:
    (tmp_path / "copilot" / name).mkdir(parents=True)
    (tmp_path / "copilot" / ".workspace").write_text("application: shop\n")
    target = tmp_path / "copilot" / name / "manifest.yml"
    if isinstance(manifest, bytes):
        target.write_bytes(manifest)
    else:
        target.write_text(manifest)
    return tmp_path


def test_one_service_is_written_to_standard_output(tmp_path: Path) -> None:
    result = runner.invoke(app, ["migrate", "copilot", str(workspace(tmp_path))])
    assert result.exit_code == 0, result.output
    assert "app: shop-api" in result.stdout
    (tmp_path / "conveyor.yaml").write_text(result.stdout)
    assert load_spec(tmp_path / "conveyor.yaml").app == "shop-api"


def test_the_copilot_folder_itself_is_accepted(tmp_path: Path) -> None:
    result = runner.invoke(app, ["migrate", "copilot", str(workspace(tmp_path) / "copilot")])
    assert result.exit_code == 0, result.output


def test_many_services_need_a_folder(tmp_path: Path) -> None:
    # Every service but the App Runner one and the static site.
    written = ["backend", "cuteness-aggregator", "dogworker", "fe", "frontend"]
    result = runner.invoke(app, ["migrate", "copilot", str(FIXTURES / "webapp")])
    assert result.exit_code == 2
    assert f"{len(written)} services ({', '.join(written)}): pass -o FOLDER" in result.output
    out = tmp_path / "out"
    result = runner.invoke(app, ["migrate", "copilot", str(FIXTURES / "webapp"), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == [f"{name}.conveyor.yaml" for name in written]
    for path in out.iterdir():
        load_spec(path)
    # What was not carried over is printed too, with the file and line.
    assert "copilot/static/manifest.yml:7: type: not carried over" in result.output
    assert "copilot/fe/manifest.yml:109: environments.prod.logging: FireLens" in result.output
    # An existing file is not replaced without --force.
    again = runner.invoke(app, ["migrate", "copilot", str(FIXTURES / "webapp"), "-o", str(out)])
    assert again.exit_code == 2 and "already exists; pass --force" in again.output
    forced = runner.invoke(
        app, ["migrate", "copilot", str(FIXTURES / "webapp"), "-o", str(out), "--force"]
    )
    assert forced.exit_code == 0, forced.output


def test_one_service_of_many(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["migrate", "copilot", str(FIXTURES / "webapp"), "--service", "frontend"]
    )
    assert result.exit_code == 0, result.output
    assert "app: webapp-frontend" in result.stdout
    unknown = runner.invoke(app, ["migrate", "copilot", str(FIXTURES / "webapp"), "--service", "x"])
    assert unknown.exit_code == 2
    assert "--service x: no copilot/x/manifest.yml; the workspace has backend" in unknown.output


def test_a_workspace_without_a_deployable_service_exits_2(tmp_path: Path) -> None:
    # An App Runner service and a static site: Copilot types conveyor has no kind for.
    for name in ("frontend-rd", "static"):
        shutil.copytree(FIXTURES / "webapp" / "copilot" / name, tmp_path / "w" / "copilot" / name)
    result = runner.invoke(app, ["migrate", "copilot", str(tmp_path / "w")])
    assert result.exit_code == 2
    assert "no service conveyor can deploy" in result.output
    assert "copilot/frontend-rd/manifest.yml:8: type: not carried over: an AWS App Runner" in (
        result.output
    )
    assert "copilot/static/manifest.yml:7: type: not carried over: files served from S3" in (
        result.output
    )


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--connection", "my-connection", "is not a CodeStar connection ARN"),
        ("--email", "oncall", "is not an email address"),
    ],
)
def test_bad_options_exit_2(tmp_path: Path, option: str, value: str, message: str) -> None:
    result = runner.invoke(app, ["migrate", "copilot", str(workspace(tmp_path)), option, value])
    assert result.exit_code == 2 and message in result.output


def test_a_connection_given_is_written(tmp_path: Path) -> None:
    arn = (
        "arn:aws:codestar-connections:eu-west-1:111122223333:connection/"
        + "a" * 8
        + "-1111-2222-3333-"
        + "b" * 12
    )
    result = runner.invoke(
        app, ["migrate", "copilot", str(workspace(tmp_path)), "--connection", arn]
    )
    assert result.exit_code == 0, result.output
    assert arn in result.stdout


def test_an_unknown_tool_is_a_usage_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["migrate", "beanstalk", str(tmp_path)])
    assert result.exit_code == 2
    assert "'beanstalk' is not 'copilot'" in result.output or "beanstalk" in result.output


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        ("missing", "no such directory"),
        ("file", "is a file; give the repository folder"),
        ("empty", "not a Copilot workspace: there is no copilot/.workspace"),
        ("no-services", "no service or job manifest"),
    ],
)
def test_not_a_workspace_exits_2(tmp_path: Path, setup: str, message: str) -> None:
    target = tmp_path / "repo"
    if setup == "file":
        target.write_text("x")
    elif setup == "empty":
        target.mkdir()
    elif setup == "no-services":
        (target / "copilot").mkdir(parents=True)
        (target / "copilot" / ".workspace").write_text("application: shop\n")
    result = runner.invoke(app, ["migrate", "copilot", str(target)])
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output


BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, "
    f"*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n"
    for i in range(9)
)


@pytest.mark.parametrize(
    ("manifest", "message"),
    [
        ("name: [unclosed\n", "copilot/api/manifest.yml:2: invalid YAML"),
        (
            "- a list\n- not a manifest\n",
            "copilot/api/manifest.yml:1: expected a mapping of manifest keys",
        ),
        ("just text\n", "got text"),
        ("", "got nothing"),
        (BOMB, "more than 100000 YAML nodes (an alias bomb?)"),
        ("name: api\nname: twice\n", "copilot/api/manifest.yml:2: name: key written twice"),
        ("x: !!python/object:os.system echo\n", "unsupported YAML tag"),
        ("base: &b {cpu: 256}\nother:\n  <<: *b\n", "merge keys (<<) are not supported"),
        ("name: api\nhuge: '" + "x" * 1_000_100 + "'\n", "larger than 1,000,000 bytes"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe", "not UTF-8 text"),
        (b"name: api\x00\n", "control character 0x0000"),
        ("a:\n" + "".join("  " * i + " b:\n" for i in range(1, 70)), "nested"),
    ],
    ids=[
        "unclosed",
        "list",
        "scalar",
        "empty",
        "alias-bomb",
        "duplicate",
        "python-tag",
        "merge-key",
        "huge",
        "binary",
        "nul",
        "deep",
    ],
)
def test_a_hostile_manifest_exits_2_naming_the_file(
    tmp_path: Path, manifest: str | bytes, message: str
) -> None:
    result = runner.invoke(app, ["migrate", "copilot", str(workspace(tmp_path, manifest))])
    assert result.exit_code == 2, result.output
    assert message in result.output, result.output
    assert "copilot/api/manifest.yml" in result.output
    assert "Traceback" not in result.output


def test_a_bad_workspace_summary_exits_2(tmp_path: Path) -> None:
    root = workspace(tmp_path)
    (root / "copilot" / ".workspace").write_text("application: [1, 2]\n")
    result = runner.invoke(app, ["migrate", "copilot", str(root)])
    assert result.exit_code == 2
    assert "copilot/.workspace:1: application: expected the application's name" in result.output


def test_a_manifest_link_out_of_the_workspace_is_refused(tmp_path: Path) -> None:
    outside = tmp_path / "outside.yml"
    outside.write_text(WEB)
    root = tmp_path / "repo"
    (root / "copilot" / "api").mkdir(parents=True)
    (root / "copilot" / ".workspace").write_text("application: shop\n")
    (root / "copilot" / "api" / "manifest.yml").symlink_to(outside)
    result = runner.invoke(app, ["migrate", "copilot", str(root)])
    assert result.exit_code == 2
    assert "a link that leads out of the workspace" in result.output


@pytest.mark.parametrize("linked", [".workspace", "pipeline.yml"])
def test_a_workspace_file_linked_out_of_the_workspace_is_refused(
    tmp_path: Path, linked: str
) -> None:
    # The summary and the legacy pipeline manifest are read like the service manifests: a
    # link that leads out of the workspace is refused, not read.
    outside = tmp_path / "outside.yml"
    outside.write_text("application: elsewhere\nname: p\nsource: [unclosed\n")
    root = workspace(tmp_path / "repo")
    target = root / "copilot" / linked
    target.unlink(missing_ok=True)
    target.symlink_to(outside)
    result = runner.invoke(app, ["migrate", "copilot", str(root)])
    assert result.exit_code == 2, result.output
    assert f"copilot/{linked}: a link that leads out of the workspace" in result.output
    assert "unclosed" not in result.output and "elsewhere" not in result.output


def test_an_empty_output_folder_exits_2_and_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Path('') is '.': an empty -o (an unset variable in a script) would write into the
    # current directory.
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["migrate", "copilot", str(FIXTURES / "domain"), "-o", ""])
    assert result.exit_code == 2, result.output
    assert "-o '' (an empty path) names no folder" in result.output
    assert not list(tmp_path.glob("*.conveyor.yaml"))


def test_codecommit_and_a_fargate_size_copilot_allowed_conveyor_does_not(tmp_path: Path) -> None:
    root = workspace(
        tmp_path, WEB + "cpu: 256\nmemory: 4096\ncount: {range: 1-4, memory_percentage: 80}\n"
    )
    pipeline = root / "copilot" / "pipelines" / "main"
    pipeline.mkdir(parents=True)
    (pipeline / "manifest.yml").write_text(
        "name: main\nsource:\n  provider: CodeCommit\n  properties:\n    branch: trunk\n"
        "    repository: https://git-codecommit.eu-west-1.amazonaws.com/v1/repos/shop\n"
        "stages:\n  - name: staging\n  - name: Production-EU\n    requires_approval: true\n"
    )
    result = runner.invoke(app, ["migrate", "copilot", str(root)])
    assert result.exit_code == 0, result.output
    assert "codecommit:\n    repository: shop\n    branch: trunk" in result.stdout
    assert "name: production-eu" in result.stdout
    assert "Fargate has no task with cpu 256 and memory 4096" in result.output
    (root / "conveyor.yaml").write_text(result.stdout)
    spec = load_spec(root / "conveyor.yaml")
    prod = spec.environments[1]
    assert prod.is_production and prod.approval
    create = prod.deploy.ecs.create if prod.deploy.ecs else None
    assert create is not None and create.scaling is not None
    # Production keeps two tasks at least; Copilot's range started at one.
    assert (create.scaling.min, create.scaling.max, create.scaling.memory, create.scaling.cpu) == (
        2,
        4,
        80,
        None,
    )


def test_the_container_health_check_becomes_health_command(tmp_path: Path) -> None:
    root = workspace(
        tmp_path,
        WEB
        + "  healthcheck:\n"
        + '    command: ["CMD-SHELL", "curl -f http://localhost:8080 || exit 1"]\n'
        + "    interval: 6s\n",
    )
    result = runner.invoke(app, ["migrate", "copilot", str(root)])
    assert result.exit_code == 0, result.output
    (root / "conveyor.yaml").write_text(result.stdout)
    ecs = load_spec(root / "conveyor.yaml").environments[0].deploy.ecs
    create = ecs.create if ecs else None
    assert create is not None
    assert create.health_command == ["CMD-SHELL", "curl -f http://localhost:8080 || exit 1"]
    assert "copilot/api/manifest.yml:8: image.healthcheck.interval: the health check's timings" in (
        result.output
    )
    # A command ECS would not run is reported, not written.
    bad = workspace(tmp_path / "bad", WEB + "  healthcheck:\n    command: [CMD-SHELL, a, b]\n")
    result = runner.invoke(app, ["migrate", "copilot", str(bad)])
    assert result.exit_code == 0, result.output
    assert "health_command" not in result.stdout
    assert "image.healthcheck.command: not carried over: CMD-SHELL takes one command line" in (
        result.output
    )


def test_a_manifest_without_a_type_is_reported(tmp_path: Path) -> None:
    # A pipeline or CloudFormation file where a service manifest belongs: no `type` key.
    result = runner.invoke(
        app, ["migrate", "copilot", str(workspace(tmp_path, "name: api\nstages: []\n"))]
    )
    assert result.exit_code == 2
    assert "copilot/api/manifest.yml: type: no workload type: write type:" in result.output


def test_an_output_folder_that_is_a_file_exits_2(tmp_path: Path) -> None:
    target = tmp_path / "taken"
    target.write_text("x")
    result = runner.invoke(app, ["migrate", "copilot", str(FIXTURES / "domain"), "-o", str(target)])
    assert result.exit_code == 2
    assert "is a file; name a folder" in result.output
    assert target.read_text() == "x"


def test_bitbucket_server_is_reported(tmp_path: Path) -> None:
    root = workspace(tmp_path)
    pipeline = root / "copilot" / "pipelines" / "main"
    pipeline.mkdir(parents=True)
    (pipeline / "manifest.yml").write_text(
        "name: main\nsource:\n  provider: Bitbucket\n  properties:\n    branch: main\n"
        "    repository: https://git.acme.internal/scm/shop/api\nstages:\n  - name: prod\n"
    )
    result = runner.invoke(app, ["migrate", "copilot", str(root)])
    assert result.exit_code == 0, result.output
    assert (
        "copilot/pipelines/main/manifest.yml:6: source.properties.repository: git.acme.internal "
        "is not Bitbucket Cloud" in result.output
    )


def test_a_backend_whose_name_service_connect_refuses_is_called_by_the_app_name(
    tmp_path: Path,
) -> None:
    # A service folder named outside Service Connect's alphabet: the backend is published under
    # the app's name, and the inferred note says that is what clients call.
    manifest = "name: Rates\ntype: Backend Service\nimage:\n  build: Dockerfile\n  port: 8080\n"
    result = runner.invoke(app, ["migrate", "copilot", str(workspace(tmp_path, manifest, "Rates"))])
    assert result.exit_code == 0, result.output
    (tmp_path / "conveyor.yaml").write_text(result.stdout)
    spec = load_spec(tmp_path / "conveyor.yaml")
    create = spec.environments[0].deploy.ecs.create  # type: ignore[union-attr]
    assert create is not None and create.connect is None  # so the app's name is published
    assert f"clients call http://{spec.app}:<port>" in " ".join(result.stdout.split())
    assert "clients keep calling http://Rates" not in result.stdout


CERTIFICATE_EU = (
    "arn:aws:acm:eu-west-1:111122223333:certificate/0a1b2c3d-4e5f-6789-abcd-ef0123456789"
)


def _domain_with_certificate(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    shutil.copytree(FIXTURES / "domain", root)
    manifest = root / "copilot" / "environments" / "test" / "manifest.yml"
    manifest.write_text(manifest.read_text().replace("${IMPORTED_CERT_ARN}", CERTIFICATE_EU))
    return root


def test_a_certificate_of_another_region_than_the_pipeline_is_reported_not_written(
    tmp_path: Path,
) -> None:
    # ACM certificates are regional: with the pipeline (and so the environments) in us-east-1,
    # an eu-west-1 certificate is refused by the spec; migrate says so and how to keep it.
    result = runner.invoke(app, ["migrate", "copilot", str(_domain_with_certificate(tmp_path))])
    assert result.exit_code == 0, result.output
    assert CERTIFICATE_EU not in result.stdout
    assert "http.public.certificates" in result.output
    assert "--region eu-west-1" in " ".join(result.output.split())
    (tmp_path / "conveyor.yaml").write_text(result.stdout)
    load_spec(tmp_path / "conveyor.yaml")
    # In its own region it is carried over.
    result = runner.invoke(
        app,
        [
            "migrate",
            "copilot",
            str(_domain_with_certificate(tmp_path / "b")),
            "--region",
            "eu-west-1",
        ],
    )
    assert result.exit_code == 0, result.output
    assert CERTIFICATE_EU in result.stdout


@pytest.mark.parametrize(
    "platform",
    ["windows/x86_64", "{osfamily: windows_server_2019_core, architecture: x86_64}"],
)
def test_a_windows_platform_is_reported_not_dropped(tmp_path: Path, platform: str) -> None:
    # conveyor builds and runs Linux images only: a Windows service migrated silently as Linux
    # would fail to start with no word about why.
    result = runner.invoke(
        app, ["migrate", "copilot", str(workspace(tmp_path, WEB + f"platform: {platform}\n"))]
    )
    assert result.exit_code == 0, result.output
    assert "copilot/api/manifest.yml:6: platform: " in result.output
    assert "Windows containers are not offered" in " ".join(result.output.split())


INTERNAL = """\
name: ledger
type: Backend Service
image:
  build: Dockerfile
  port: 8080
http:
  path: /
  healthcheck: /ping
  alias: ledger.internal.example.com
  hosted_zone: Z0123456789ABCDEFGHIJ
network:
  vpc:
    placement: public
"""
PIPELINE = """\
name: ledger-pipeline
source:
  provider: GitHub
  properties:
    branch: main
    repository: https://github.com/acme/ledger
stages:
  - name: test
    test_commands: [make integration]
"""


def test_a_backend_behind_the_internal_load_balancer_becomes_an_internal_web_service(
    tmp_path: Path,
) -> None:
    """Copilot's Backend Service with http sits behind the environment's internal load balancer
    (https://aws.github.io/copilot-cli/docs/developing/internal-albs/): conveyor's web service
    with public: false, its health check path and its alias with the environment's private
    certificate; public placement, test commands and the public certificates do not fit it."""
    root = workspace(tmp_path, INTERNAL, name="ledger")
    environment = root / "copilot" / "environments" / "test"
    environment.mkdir(parents=True)
    (environment / "manifest.yml").write_text(
        "name: test\ntype: Environment\nhttp:\n  private:\n    certificates:\n"
        f"      - {CERTIFICATE_EU}\n"
    )
    pipeline = root / "copilot" / "pipelines" / "ledger-pipeline"
    pipeline.mkdir(parents=True)
    (pipeline / "manifest.yml").write_text(PIPELINE)
    result = runner.invoke(app, ["migrate", "copilot", str(root), "--region", "eu-west-1"])
    assert result.exit_code == 0, result.output
    (root / "conveyor.yaml").write_text(result.stdout)
    spec = load_spec(root / "conveyor.yaml")
    (test,) = spec.environments
    ecs = test.deploy.ecs
    create = ecs.create if ecs else None
    assert create is not None
    assert (create.kind, create.public, create.placement) == ("web", False, "private")
    assert create.health_check_path == "/ping"
    assert create.domain is not None and create.domain.certificate_arn == CERTIFICATE_EU
    assert create.domain.name == "ledger.internal.example.com"
    assert test.tests is None
    output = " ".join(result.output.split())
    assert (
        "copilot/ledger/manifest.yml:13: network.vpc.placement: the service sits behind an "
        "internal load balancer (public: false)" in output
    )
    assert (
        "copilot/pipelines/ledger-pipeline/manifest.yml:9: stages[0].test_commands: an "
        "internal web service (public: false) is reached from its VPC only" in output
    )
    assert "http.private" not in result.output  # its certificate was carried over


def test_a_client_of_an_internal_backend_is_told_to_call_its_load_balancer(
    tmp_path: Path,
) -> None:
    root = workspace(tmp_path, INTERNAL, name="ledger")
    (root / "copilot" / "api").mkdir()
    (root / "copilot" / "api" / "manifest.yml").write_text(WEB + "network:\n  connect: true\n")
    result = runner.invoke(app, ["migrate", "copilot", str(root), "--service", "api"])
    assert result.exit_code == 0, result.output
    assert "connect:" not in result.stdout.split("app: shop-api")[1]
    assert (
        "copilot/api/manifest.yml:7: network.connect: Service Connect: the Backend Service "
        "ledger sat behind Copilot's internal load balancer" in " ".join(result.output.split())
    )


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("image: 5\n", 3, "image: 5 is a number where Copilot reads a mapping (build: "),
        (
            "image:\n  build: Dockerfile\nvariables: [LOG_LEVEL]\n",
            5,
            "variables: ['LOG_LEVEL'] is a list where Copilot reads a mapping (LOG_LEVEL: info)",
        ),
        (
            "image:\n  build: Dockerfile\nnetwork: private\n",
            5,
            "network: 'private' is text where Copilot reads a mapping",
        ),
    ],
)
def test_a_mistyped_setting_is_named_as_such(
    tmp_path: Path, text: str, line: int, message: str
) -> None:
    manifest = "name: api\ntype: Load Balanced Web Service\n" + text
    result = runner.invoke(app, ["migrate", "copilot", str(workspace(tmp_path, manifest))])
    assert result.exit_code == 0, result.output
    assert f"copilot/api/manifest.yml:{line}: {message}" in " ".join(result.output.split())
    assert "conveyor has no setting for it" not in result.output
