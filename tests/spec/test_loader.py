"""Every mistake a user can make in conveyor.yaml ends in `file:line: key.path: message`."""

from __future__ import annotations

from pathlib import Path

import pytest

from conveyor.spec import SpecError, load_spec, parse_spec

CONNECTION = (
    "arn:aws:codestar-connections:eu-west-1:123456789012:connection/"
    "0a1b2c3d-4e5f-6789-abcd-ef0123456789"
)

# Line numbers below refer to this text: keep its layout.
GOOD = f"""\
app: web
owner: team-web
source:
  github:
    repo: acme/web
    branch: main
    connection: {CONNECTION}
build:
  docker:
    context: .
  timeout_minutes: 15
environments:
  - name: staging
    deploy:
      ecs:
        strategy: rolling
        create:
          port: 8080
  - name: prod
    approval: true
    deploy:
      ecs: {{cluster: web-prod, service: web}}
notifications:
  email: [oncall@example.com]
"""


def test_the_reference_spec_is_valid() -> None:
    spec = parse_spec(GOOD)
    assert spec.app == "web"
    assert [env.name for env in spec.environments] == ["staging", "prod"]
    assert spec.environments[1].is_production
    assert not spec.environments[0].is_production
    assert spec.pipeline_region == "eu-west-1"
    assert spec.build.docker is not None and spec.build.docker.dockerfile == "Dockerfile"


def _error(text: str) -> str:
    with pytest.raises(SpecError) as caught:
        parse_spec(text, "conveyor.yaml")
    return str(caught.value)


CASES = [
    # (id, replace this, with this, expected fragments of the report)
    (
        "unknown-top-key",
        "owner: team-web",
        "owner: team-web\nownr: x",
        ["conveyor.yaml:3:", "ownr", "did you mean 'owner'"],
    ),
    ("missing-owner", "owner: team-web\n", "", ["owner", "required key 'owner' is missing"]),
    (
        "bad-yaml",
        "  timeout_minutes: 15",
        "  timeout_minutes: [15",
        ["conveyor.yaml:", "invalid YAML"],
    ),
    ("tab-indent", "    context: .", "\tcontext: .", ["invalid YAML"]),
    (
        "wrong-type-int",
        "timeout_minutes: 15",
        "timeout_minutes: fifteen",
        ["conveyor.yaml:11:", "build.timeout_minutes", "whole number"],
    ),
    (
        "out-of-range-timeout",
        "timeout_minutes: 15",
        "timeout_minutes: 480",
        ["conveyor.yaml:11:", "build.timeout_minutes", "out of range"],
    ),
    (
        "unknown-strategy",
        "strategy: rolling",
        "strategy: yolo",
        [
            "conveyor.yaml:16:",
            "environments[0].deploy.ecs.strategy",
            "'yolo' is not allowed",
            "'rolling'",
        ],
    ),
    (
        "misspelt-nested-key",
        "          port: 8080",
        "          prot: 8080",
        ["conveyor.yaml:18:", "environments[0].deploy.ecs.create.prot", "did you mean 'port'"],
    ),
    (
        "bad-connection-arn",
        CONNECTION,
        "arn:aws:iam::123:role/x",
        ["conveyor.yaml:7:", "source.github.connection", "expected form", "codestar-connections"],
    ),
    (
        "oauth-token-key",
        "    branch: main",
        "    branch: main\n    oauth_token: abc",
        ["source.github.oauth_token", "CodeStar connection", "FM50"],
    ),
    (
        "two-sources",
        "source:\n  github:",
        "source:\n  s3: {key: src.zip}\n  github:",
        ["source", "exactly one source", "github", "s3"],
    ),
    (
        "no-source",
        "source:\n  github:\n    repo: acme/web\n    branch: main\n    connection: "
        + CONNECTION
        + "\n",
        "source: {}\n",
        ["choose exactly one source"],
    ),
    (
        "duplicate-env",
        "  - name: prod",
        "  - name: staging",
        ["environment name 'staging' is used twice"],
    ),
    (
        "duplicate-key",
        "app: web",
        "app: web\napp: api",
        ["conveyor.yaml:2:", "key written twice (first on line 1)"],
    ),
    ("env-name-uppercase", "name: staging", "name: Staging", ["environments[0].name", "'Staging'"]),
    ("app-name-invalid", "app: web", "app: Web_App", ["conveyor.yaml:1:", "app", "'Web_App'"]),
    (
        "plaintext-token-env",
        "  timeout_minutes: 15",
        "  timeout_minutes: 15\n  env: {GITHUB_TOKEN: ghp_abcdefghijklmnopqrstuvwxyz0123456789}",
        ["build", "GITHUB_TOKEN", "plain text", "ssm:/"],
    ),
    (
        "password-literal",
        "  timeout_minutes: 15",
        "  timeout_minutes: 15\n  env: {DB_PASSWORD: hunter2}",
        ["DB_PASSWORD", "secret in plain text"],
    ),
    (
        "login-not-a-ref",
        "    context: .",
        "    context: .\n    login: {username: bob, password: hunter2}",
        ["build.docker.login.username", "ssm:/"],
    ),
    (
        "token-in-command",
        "    context: .",
        "    context: .\n  commands: ['curl -H \"x: ghp_abcdefghijklmnopqrstuvwxyz0123456789\" x']",
        ["build.commands[0]", "token or password in plain text"],
    ),
    (
        "create-and-existing",
        "        create:\n          port: 8080",
        "        cluster: c\n        create:\n          port: 8080",
        ["use either create", "not both"],
    ),
    (
        "existing-without-service",
        "{cluster: web-prod, service: web}",
        "{cluster: web-prod}",
        ["environments[1].deploy.ecs", "cluster: and service:"],
    ),
    ("bad-email", "[oncall@example.com]", "[oncall]", ["notifications.email[0]", "'oncall'"]),
    (
        "unknown-notification-event",
        "  email: [oncall@example.com]",
        "  email: [oncall@example.com]\n  on: [exploded]",
        ["notifications.on[0]", "'exploded' is not allowed"],
    ),
    (
        "environments-not-a-list",
        "environments:\n  - name: staging",
        "environments: staging\nx:\n  - name: staging",
        ["environments", "expected a list"],
    ),
    (
        "no-environments",
        "environments:",
        "environments: []\nunused:",
        ["conveyor.yaml:12:", "environments", "must not be empty"],
    ),
    (
        "log-retention-invalid",
        "notifications:",
        "retention: {log_days: 10}\nnotifications:",
        ["retention", "not a CloudWatch retention period", "14"],
    ),
    (
        "ecs-without-docker",
        "  docker:\n    context: .\n",
        "  commands: [make]\n",
        ["ecs deploy needs a container image", "build.docker"],
    ),
    (
        "python-tag",
        "app: web",
        "app: !!python/object/apply:os.system [ls]",
        ["unsupported YAML tag"],
    ),
    ("merge-key", "build:\n", "base: &b {context: .}\nbuild:\n  <<: *b\n", ["merge keys"]),
    (
        "reserved-tag-key",
        "owner: team-web",
        "owner: team-web\ntags: {'aws:x': y}",
        ["reserved 'aws:' prefix"],
    ),
    (
        "parallel-execution-mode",
        "notifications:",
        "pipeline: {execution_mode: parallel}\nnotifications:",
        [
            "pipeline.execution_mode",
            "parallel executions cannot roll back",
            "execution_mode: queued",
        ],
    ),
    (
        "window-cron-fields",
        "  - name: prod\n",
        "  - name: prod\n    window: {cron: '0 9-17 * * MON-FRI'}\n",
        ["environments[1].window.cron", "cron has 5 fields", "* * 9-16 ? * MON-FRI *"],
    ),
    (
        "window-cron-value",
        "  - name: prod\n",
        "  - name: prod\n    window: {cron: '* * 9-25 ? * MON-FRI *'}\n",
        ["environments[1].window.cron", "hours field '9-25'", "0-23"],
    ),
    (
        "window-cron-two-day-fields",
        "  - name: prod\n",
        "  - name: prod\n    window: {cron: '* * 9-16 * * MON-FRI *'}\n",
        ["environments[1].window.cron", "'?' in exactly one of day-of-month and day-of-week"],
    ),
    (
        "window-timezone",
        "  - name: prod\n",
        "  - name: prod\n    window: {cron: '* * 9-16 ? * MON-FRI *', timezone: Berlin}\n",
        ["environments[1].window.timezone", "not a time zone", "Europe/Berlin"],
    ),
    (
        "watch-without-alarms",
        "  - name: prod\n",
        "  - name: prod\n    watch_minutes: 20\n",
        ["environments[1].watch_minutes", "nothing to watch in prod", "alarms:"],
    ),
    (
        "mapping-expected",
        "build:\n  docker:\n    context: .\n  timeout_minutes: 15\n",
        "build: docker\n",
        ["conveyor.yaml:8:", "build", "expected a mapping"],
    ),
]


@pytest.mark.parametrize(
    ("replace", "with_", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_mistakes_are_reported_with_file_line_and_key(
    replace: str, with_: str, expected: list[str]
) -> None:
    assert replace in GOOD, "the case no longer matches the reference spec"
    report = _error(GOOD.replace(replace, with_, 1))
    for fragment in expected:
        assert fragment in report, f"{fragment!r} not in:\n{report}"
    assert "Traceback" not in report


def test_every_problem_is_reported_at_once() -> None:
    text = GOOD.replace("owner: team-web", "ownr: x").replace(
        "timeout_minutes: 15", "timeout_minutes: x"
    )
    report = _error(text)
    assert "ownr" in report and "timeout_minutes" in report and "owner" in report
    assert len(report.splitlines()) >= 3


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (b"", "the file is empty"),
        (b"# only a comment\n", "the file is empty"),
        (b"- a\n- b\n", "expected a mapping at the top"),
        (b"app: a\n---\napp: b\n", "one YAML document"),
        (b"\xff\xfe\x00garbage", "not UTF-8"),
        (b"a: &a [*a, *a]\n", "invalid YAML"),
    ],
    ids=["empty", "comment-only", "list-at-top", "two-documents", "binary", "recursive-alias"],
)
def test_files_that_are_not_specs(tmp_path: Path, content: bytes, fragment: str) -> None:
    path = tmp_path / "conveyor.yaml"
    path.write_bytes(content)
    with pytest.raises(SpecError) as caught:
        load_spec(path)
    assert fragment in str(caught.value)
    assert str(path) in str(caught.value)


def test_alias_bomb_is_refused_quickly() -> None:
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, "
        f"*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, "
        f"*{chr(97 + i)}]\n"
        for i in range(9)
    )
    report = _error(bomb)
    assert "YAML nodes" in report


def test_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="no such file"):
        load_spec(tmp_path / "nope.yaml")
    with pytest.raises(SpecError, match="is a directory"):
        load_spec(tmp_path)


def test_secret_references_are_accepted() -> None:
    text = GOOD.replace(
        "    context: .",
        "    context: .\n    login: {username: 'ssm:/ci/dockerhub/user', "
        "password: 'secretsmanager:ci/dockerhub:password'}",
    ).replace(
        "  timeout_minutes: 15",
        "  timeout_minutes: 15\n  env: {NPM_TOKEN: 'ssm:/ci/npm-token', STAGE: ci}",
    )
    spec = parse_spec(text)
    assert spec.build.env == {"NPM_TOKEN": "ssm:/ci/npm-token", "STAGE": "ci"}
    assert spec.build.docker is not None and spec.build.docker.login is not None


def test_region_is_required_for_created_services_without_github() -> None:
    text = GOOD.replace(
        f"  github:\n    repo: acme/web\n    branch: main\n    connection: {CONNECTION}\n",
        "  codecommit: {repository: web}\n",
    )
    assert "needs a region" in _error(text)
    assert parse_spec("region: eu-central-1\n" + text).pipeline_region == "eu-central-1"


def test_a_gate_holds_at_most_five_rules() -> None:
    text = GOOD.replace(
        "      ecs: {cluster: web-prod, service: web}",
        "      ecs: {cluster: web-prod, service: web, alarms: [a1, a2, a3, a4, a5]}\n"
        "    window: {cron: '* * 9-16 ? * MON-FRI *'}",
    )
    report = _error(text)
    assert "environments[1]" in report
    assert "prod's gate checks 5 alarms and a window, 6 rules" in report


def test_windows_in_a_known_time_zone_and_quartz_forms_are_accepted() -> None:
    for cron, zone in [
        ("* * 9-16 ? * MON-FRI *", "Europe/Berlin"),
        ("0 0/15 8-18 ? * 2-6", "UTC+05:30"),
        ("* * * L * ? 2026-2030", "UTC"),
        ("* * 10 ? JAN-NOV 6#3", "EST"),
    ]:
        spec = parse_spec(
            GOOD.replace(
                "  - name: prod\n",
                f"  - name: prod\n    window: {{cron: '{cron}', timezone: {zone}}}\n",
            )
        )
        window = spec.environments[1].window
        assert window is not None and (window.cron, window.timezone) == (cron, zone)


def test_path_filters_and_tags_are_read_and_never_hide_the_spec() -> None:
    with_paths = GOOD.replace(
        "    branch: main\n",
        "    branch: main\n    paths: {include: ['svc/**'], exclude: ['**/*.md']}\n"
        "    tags: ['v*']\n",
    )
    github = parse_spec(with_paths).source.github
    assert github is not None and github.paths is not None
    assert (github.paths.include, github.paths.exclude, github.tags) == (
        ["svc/**"],
        ["**/*.md"],
        ["v*"],
    )
    report = _error(with_paths.replace("exclude: ['**/*.md']", "exclude: ['*.yaml']"))
    assert "source.github.paths.exclude[0]" in report
    assert "matches conveyor.yaml" in report
    report = _error(
        with_paths.replace("paths: {include: ['svc/**'], exclude: ['**/*.md']}", "paths: {}")
    )
    assert "source.github.paths" in report and "give include:" in report


def test_a_pattern_never_accepts_a_newline_inside_or_at_the_end() -> None:
    """Python's re (the models' regex engine) lets `$` match before a final newline: values
    are stripped first, so only a newline inside a value is left, and that is refused."""
    import pydantic

    from conveyor.spec.models import Environment

    deploy = {"ecs": {"cluster": "c", "service": "s"}}
    assert Environment.model_validate({"name": "prod\n", "deploy": deploy}).name == "prod"
    with pytest.raises(pydantic.ValidationError):
        Environment.model_validate({"name": "pr\nod", "deploy": deploy})


@pytest.mark.parametrize(
    ("before", "after", "expected"),
    [
        (
            "owner: team-web",
            "owner: 'team #web'",
            "conveyor.yaml:2: owner: 'team #web' is not a valid tag value: 1 to 256 letters",
        ),
        (
            "owner: team-web",
            "owner: team-web\ntags:\n  Team: web\n  Cost: 'a;b'",
            "conveyor.yaml:5: tags.Cost: 'a;b' is not a valid tag value: 1 to 256 letters",
        ),
        (
            "owner: team-web",
            "owner: team-web\ntags:\n  Team: web\n  'aws:x': y",
            "conveyor.yaml:5: tags.aws:x: tag key 'aws:x' uses the reserved 'aws:' prefix",
        ),
        (
            "owner: team-web",
            "owner: team-web\ntags:\n  Team: web\n  'a{b}': y",
            "conveyor.yaml:5: tags.a{b}: 'a{b}' is not a valid tag key: 1 to 128 letters",
        ),
    ],
    ids=["owner", "tag-value", "reserved-key", "tag-key"],
)
def test_a_tag_problem_is_reported_at_its_own_key_and_line(
    before: str, after: str, expected: str
) -> None:
    """Owner and tags are checked against AWS's tag rules together, after the fields: the
    problem is still reported at the key the user wrote, not at the top of the file."""
    message = " ".join(_error(GOOD.replace(before, after, 1)).split())
    assert expected in message, message
