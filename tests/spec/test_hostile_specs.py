"""Hostile conveyor.yaml files (found by mutation fuzzing, issue 18): every one ends in
`file:line: key: message`, never a traceback, a hang, or pydantic's own wording."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conveyor.spec import SpecError, load_spec, parse_spec
from conveyor.spec import loader as spec_loader
from tests.spec.test_loader import GOOD

# pydantic's own voice: a user who sees one of these is reading an unexplained internal message.
RAW_PYDANTIC = ("Input should be", "Value error,", "NoneType", "validation error", "[type=")


def _error(text: str | bytes) -> str:
    with pytest.raises(SpecError) as caught:
        parse_spec(text, "conveyor.yaml")
    report = str(caught.value)
    for raw in RAW_PYDANTIC:
        assert raw not in report, report
    return report


def _with(replace: str, with_: str) -> str:
    assert replace in GOOD, replace
    return GOOD.replace(replace, with_, 1)


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("2001-02-30", "'2001-02-30' is read as a date but is not one (day is out of range"),
        ("2001-13-01", "(month must be in 1..12); quote it if it is text"),
        ("2001-01-01T25:00:00", "(hour must be in 0..23)"),
        ("2001-01-01 10:00:00 +99:99", "is read as a date but is not one"),
        ("0x_", "'0x_' is read as a whole number but is not one; quote it if it is text"),
        ("0b_", "'0b_' is read as a whole number"),
        ("1" * 4301, "1111… (4,301 characters)' is read as a whole number"),
        ("!!int abc", "'abc' is read as a whole number but is not one; remove the tag"),
        ("!!float x", "'x' is read as a number but is not one; remove the tag"),
        ("!!bool", "'' is read as a boolean (true or false) but is not one"),
        ("!!bool maybe", "'maybe' is read as a boolean (true or false)"),
        ("!!timestamp x", "'x' is read as a date but is not one; remove the tag"),
        ("!!omap [a: 1]", "unsupported YAML tag tag:yaml.org,2002:omap; remove it"),
        ("!!map [a, b]", "unsupported YAML tag tag:yaml.org,2002:map"),
        ("!!map x", "unsupported YAML tag tag:yaml.org,2002:map"),
        ("!!seq {a: 1}", "unsupported YAML tag tag:yaml.org,2002:seq"),
        ("!!seq x", "unsupported YAML tag tag:yaml.org,2002:seq"),
        ("!!binary aGk=", "unsupported YAML tag tag:yaml.org,2002:binary"),
        ("!!set {a}", "unsupported YAML tag tag:yaml.org,2002:set"),
        ("!Ref Owner", "unsupported YAML tag !Ref"),
    ],
)
def test_values_that_only_look_like_their_type_are_reported_on_their_line(
    value: str, fragment: str
) -> None:
    report = _error(_with("owner: team-web", f"owner: {value}"))
    assert report.startswith("conveyor.yaml:2: owner: ")
    assert fragment in report
    # Nothing else is wrong with the spec: the broken value is not reported twice.
    assert report.count("\n") == 0, report


def test_a_broken_value_does_not_hide_the_other_problems() -> None:
    lines = _error(_with("owner: team-web", "owner: 2001-02-30\nownr: x")).splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("conveyor.yaml:2: owner: '2001-02-30' is read as a date")
    assert lines[1].startswith("conveyor.yaml:3: ownr: unknown key 'ownr' — did you mean 'owner'?")


def test_every_problem_in_a_mapping_is_reported_after_a_duplicate_key() -> None:
    report = _error(_with("app: web", "app: web\napp: api\nownr: x\nsuffix: UPPER"))
    lines = report.splitlines()
    assert lines[0] == "conveyor.yaml:2: app: key written twice (first on line 1); keep one"
    assert lines[1].startswith("conveyor.yaml:3: ownr: unknown key 'ownr'")
    assert lines[2].startswith("conveyor.yaml:4: suffix: 'UPPER' does not have the expected form")
    assert len(lines) == 3


def test_merge_keys_hide_only_the_mapping_they_are_in() -> None:
    report = _error(
        _with("build:\n", "base: &b {context: .}\nbuild:\n  <<: *b\n").replace(
            "timeout_minutes: 15", "timeout_minutes: 1"
        )
    )
    assert "conveyor.yaml:10: build: YAML merge keys (<<) are not supported" in report
    assert "unknown key 'base'" in report
    # The merged mapping's own consequences (missing keys, the timeout) are not listed.
    assert "timeout_minutes" not in report
    assert "nothing to build" not in report


@pytest.mark.parametrize(
    ("replace", "with_", "expected"),
    [
        (
            "  timeout_minutes: 15",
            "  timeout_minutes: [15",
            "conveyor.yaml:12: invalid YAML: did not find expected ',' or ']' (while parsing a "
            "flow sequence that starts on line 11)",
        ),
        (
            "    context: .",
            "\tcontext: .",
            "conveyor.yaml:10: invalid YAML: found character that cannot start any token",
        ),
        (
            "    branch: main",
            "   branch: main",
            "conveyor.yaml:6: invalid YAML: did not find expected key (while parsing a block "
            "mapping that starts on line 4)",
        ),
        (
            "app: web",
            'app: "web',
            "conveyor.yaml:25: invalid YAML: found unexpected end of stream (while scanning a "
            "quoted scalar that starts on line 1)",
        ),
        (
            "owner: team-web",
            "owner: team-web\nowner team",
            "conveyor.yaml:4: invalid YAML: could not find expected ':' (while scanning a simple "
            "key that starts on line 3)",
        ),
    ],
    ids=["unclosed-bracket", "tab", "bad-indent", "unclosed-quote", "missing-colon"],
)
def test_yaml_syntax_errors_keep_their_line(replace: str, with_: str, expected: str) -> None:
    assert _error(_with(replace, with_)) == expected + " — check indentation and quotes"


@pytest.mark.parametrize("composer", [yaml.SafeLoader, yaml.CSafeLoader], ids=["python", "c"])
def test_a_nul_byte_is_reported_with_its_line(
    composer: type[yaml.SafeLoader], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(spec_loader, "_Loader", composer)
    # Multi-byte characters first: libyaml counts bytes, PyYAML characters.
    # A line break first: lines are counted from the start of the file, and the first NUL counts.
    report = _error("\napp: wéb\nsource: x\x00y\nowner: \x00\n")
    assert report == (
        "conveyor.yaml:3: invalid YAML: control character 0x0000 is not allowed — remove it "
        "(was the file saved as text?)"
    )


def test_nesting_up_to_64_levels_is_read_and_65_is_refused() -> None:
    # `x: [[...]]` with n brackets puts the innermost list at key path depth n.
    deep_enough = _error("x: " + "[" * 64 + "]" * 64 + "\n")
    assert "nested too deeply" not in deep_enough
    assert "conveyor.yaml:1: x: unknown key 'x'" in deep_enough
    too_deep = _error("x: " + "[" * 65 + "]" * 65 + "\n")
    assert too_deep.startswith("conveyor.yaml:1: x[0][0][0]")
    assert too_deep.endswith("]: invalid YAML: nested too deeply or through a recursive alias")


def test_a_recursive_alias_is_refused_with_its_line() -> None:
    report = _error("app: web\nowner: &o [1, *o]\n")
    assert report == (
        "conveyor.yaml:2: owner[1]: invalid YAML: nested too deeply or through a recursive alias"
    )


@pytest.mark.parametrize("composer", [yaml.SafeLoader, yaml.CSafeLoader], ids=["python", "c"])
def test_nesting_900_deep_is_refused_not_a_recursion_error(
    composer: type[yaml.SafeLoader], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(spec_loader, "_Loader", composer)
    for text in ("a: " + "[" * 900 + "]" * 900, "a: " + "{a: " * 900 + "1" + "}" * 900):
        assert "nested" in _error(text)


def test_up_to_100000_nodes_are_read_and_one_more_is_refused() -> None:
    # The root mapping and the list are two nodes; keys are not counted.
    within = _error("x: [" + "0," * 99_998 + "]\n")
    assert "YAML nodes" not in within
    assert "unknown key 'x'" in within
    assert _error("x: [" + "0," * 99_999 + "]\n") == (
        "conveyor.yaml: more than 100000 YAML nodes (an alias bomb?)"
    )


def test_up_to_a_megabyte_is_read_and_one_byte_more_is_refused(tmp_path: Path) -> None:
    head = "x: 1\n#"
    exactly = head + "c" * (1_000_000 - len(head))
    assert "larger than" not in _error(exactly)
    assert "larger than" not in _error(exactly.encode())
    refused = "conveyor.yaml: larger than 1,000,000 bytes"
    assert _error(exactly + "c") == refused
    assert _error((exactly + "c").encode()) == refused
    path = tmp_path / "conveyor.yaml"
    path.write_text(exactly + "c")
    with pytest.raises(SpecError, match="larger than 1,000,000 bytes"):
        load_spec(path)


def test_an_endless_device_is_read_only_up_to_the_limit() -> None:
    if not Path("/dev/zero").exists():
        pytest.skip("no /dev/zero here")
    with pytest.raises(SpecError) as caught:
        load_spec("/dev/zero")
    assert str(caught.value) == "/dev/zero: larger than 1,000,000 bytes"


def test_a_named_pipe_without_a_writer_does_not_hang(tmp_path: Path) -> None:
    fifo = tmp_path / "conveyor.yaml"
    os.mkfifo(fifo)
    # A subprocess, so that a regression fails the test (timeout) instead of hanging the suite.
    done = subprocess.run(
        [sys.executable, "-c", "from conveyor.cli.main import run; run()", "validate", str(fifo)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 2
    assert f"{fifo}: is a named pipe with nothing writing to it" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_pipe_with_a_writer_is_read(tmp_path: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "from conveyor.cli.main import run; run()",
            "validate",
            "/dev/stdin",
        ],
        input=GOOD,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "is valid" in done.stdout


def test_huge_values_are_shortened_in_errors() -> None:
    huge = "A" * 400_000
    # `? key` is YAML's explicit key: plain keys are limited to 1,024 characters.
    report = _error(_with("app: web", f"app: {huge}\n? {huge}\n: 1"))
    assert len(report) < 2_000, len(report)
    assert "conveyor.yaml:1: app: 'AAAAAAAAAA" in report
    assert "… (400,000 characters)' does not have the expected form" in report
    assert "unknown key 'AAAA" in report and "… (400,000 characters)'" in report


def test_huge_values_in_a_models_own_message_are_capped() -> None:
    huge = "x-" * 200_000
    report = _error(
        _with("  timeout_minutes: 15", f"  timeout_minutes: 15\n  env:\n    ? {huge}\n    : v")
    )
    assert report.startswith("conveyor.yaml:8: build: build.env variable name 'x-x-x-")
    assert "… (400,002 characters) is not a valid shell variable name" in report
    assert len(report) < 2_500, len(report)


@pytest.mark.parametrize(
    ("replace", "with_", "expected"),
    [
        (
            "approval: true",
            "approval: maybe",
            "conveyor.yaml:20: environments[1].approval: expected true or false, got the text "
            "'maybe'",
        ),
        (
            "approval: true",
            "approval: [true]",
            "conveyor.yaml:20: environments[1].approval: expected true or false, got a list "
            "(- item)",
        ),
        (
            "timeout_minutes: 15",
            "timeout_minutes: 1.5",
            "conveyor.yaml:11: build.timeout_minutes: expected a whole number, got the number 1.5",
        ),
        (
            "timeout_minutes: 15",
            "timeout_minutes: '15 minutes'",
            "conveyor.yaml:11: build.timeout_minutes: expected a whole number, got the text "
            "'15 minutes'",
        ),
        (
            "timeout_minutes: 15",
            "timeout_minutes: 3",
            "conveyor.yaml:11: build.timeout_minutes: 3 is out of range: write at least 5",
        ),
        (
            "timeout_minutes: 15",
            "timeout_minutes: 121",
            "conveyor.yaml:11: build.timeout_minutes: 121 is out of range: write at most 120",
        ),
        (
            "owner: team-web",
            "owner: 12",
            "conveyor.yaml:2: owner: expected text, got the number 12 — quote it if it is text",
        ),
        (
            "owner: team-web",
            "owner:",
            "conveyor.yaml:2: owner: expected text, got nothing (an empty value) — write a value "
            "or remove the key",
        ),
        ("owner: team-web", "owner: ''", "conveyor.yaml:2: owner: must not be empty"),
        (
            "owner: team-web",
            "owner: " + "o" * 129,
            "conveyor.yaml:2: owner: too long: write at most 128 characters",
        ),
        (
            "notifications:",
            "estimates: {build: soon}\nnotifications:",
            "conveyor.yaml:23: estimates.build: expected a number, got the text 'soon'",
        ),
        (
            "notifications:",
            "estimates: {build: 2000}\nnotifications:",
            "conveyor.yaml:23: estimates.build: 2000 is out of range: write at most 1440",
        ),
        (
            "notifications:",
            "estimates: {build: -1}\nnotifications:",
            "conveyor.yaml:23: estimates.build: -1 is out of range: write at least 0",
        ),
        (
            "notifications:",
            "estimates: {lunch: 3}\nnotifications:",
            "conveyor.yaml:23: estimates.lunch: 'lunch' is not allowed — write one of",
        ),
        (
            "  email: [oncall@example.com]",
            "  email: [oncall@example.com]\n  on: oops",
            "conveyor.yaml:25: notifications.on: expected a list (- item), got the text 'oops'",
        ),
        (
            "    deploy:\n      ecs:\n        strategy: rolling",
            "    deploy:\n      ecs: rolling\n      x:\n        strategy: rolling",
            "conveyor.yaml:15: environments[0].deploy.ecs: expected a mapping of keys (key: "
            "value), got the text 'rolling'",
        ),
    ],
    ids=[
        "bool-parsing",
        "bool-type",
        "int-from-float",
        "int-parsing",
        "ge",
        "le",
        "string-type",
        "string-none",
        "string-too-short",
        "string-too-long",
        "float-parsing",
        "float-le",
        "float-ge",
        "literal-key",
        "list-type",
        "model-type",
    ],
)
def test_type_and_range_errors_are_worded_for_people(
    replace: str, with_: str, expected: str
) -> None:
    report = _error(_with(replace, with_))
    assert expected in report, report


def test_too_many_environments_says_how_many_are_allowed() -> None:
    many = "".join(
        f"  - name: env{i}\n    deploy:\n      ecs: {{cluster: c, service: s}}\n" for i in range(11)
    )
    text = (
        GOOD[: GOOD.index("environments:")]
        + "environments:\n"
        + many
        + (GOOD[GOOD.index("notifications:") :])
    )
    assert "conveyor.yaml:12: environments: too long: write at most 10 items" in _error(text)


def test_problems_on_list_items_get_the_items_line() -> None:
    report = _error(
        _with("  email: [oncall@example.com]", "  email:\n    - oncall@example.com\n    - oncall")
    )
    assert report.startswith("conveyor.yaml:26: notifications.email[1]: 'oncall' does not have")
    report = _error(_with("  - name: prod", "  - name: Prod"))
    assert report.startswith("conveyor.yaml:19: environments[1].name: 'Prod'")
    report = _error(_with("  - name: prod", "  - nam: prod"))
    assert "conveyor.yaml:19: environments[1].nam: unknown key 'nam'" in report
    # A problem with a whole list item (no key of its own) points at the item.
    report = _error(_with("  - name: prod\n", "  - 7\n  - name: prod\n"))
    assert "conveyor.yaml:19: environments[1]: expected a mapping of keys" in report


def test_non_text_keys_are_reported_and_the_rest_still_checked() -> None:
    report = _error(_with("app: web", "app: web\n? [a, b]\n: c\nownr: x"))
    assert "conveyor.yaml:2: keys must be text" in report
    assert "conveyor.yaml:4: ownr: unknown key" in report


def test_a_tagged_top_level_is_one_problem() -> None:
    assert _error("!!binary aGk=") == (
        "conveyor.yaml:1: unsupported YAML tag tag:yaml.org,2002:binary; remove it"
    )
    assert _error("just text") == (
        "conveyor.yaml:1: expected a mapping at the top (app: …), got the text 'just text'"
    )


def test_line_breaks_and_control_characters_in_keys_are_escaped() -> None:
    report = _error(_with("app: web", 'app: web\n"a\\rb": 1\n"c\\u2028d\\x85": 2\n"e\\x1bf": 3'))
    lines = report.splitlines()
    assert len(lines) == 3, lines
    # A no-break space pasted before a key is invisible unless escaped.
    assert _error(_with("app: web", "app: web\n\xa0# g: 4")).startswith(
        "conveyor.yaml:2: \\xa0# g: unknown key '\\xa0# g'"
    )
    assert lines[0].startswith("conveyor.yaml:2: a\\rb: unknown key 'a\\rb'")
    assert lines[1].startswith("conveyor.yaml:3: c\\u2028d\\x85: unknown key 'c\\u2028d\\x85'")
    assert lines[2].startswith("conveyor.yaml:4: e\\x1bf: unknown key")


def test_a_key_with_a_bracket_keeps_its_place_in_the_path() -> None:
    report = _error(_with("notifications:", "estimates:\n  'a[b': 1\nnotifications:"))
    assert report.startswith("conveyor.yaml:24: estimates.a[b: 'a[b' is not allowed — write one")


# Word for word: what a user reads is the contract (mutation testing showed fragments let
# descriptions, examples, allowed-key lists and lines drift unnoticed).
WORD_FOR_WORD = [
    (
        "app: web",
        "app: Web_App",
        "conveyor.yaml:1: app: 'Web_App' does not have the expected form: Application name: "
        "lowercase letters, digits, '-'; 2-24 characters — for example: payments",
    ),
    (
        "[oncall@example.com]",
        "[oncall]",
        "conveyor.yaml:24: notifications.email[0]: 'oncall' does not have the expected form: "
        "Email addresses of the team audience, like oncall@example.com — for example: "
        "oncall@example.com",
    ),
    (
        "          port: 8080",
        "          port: 8080\n          health_check_path: health",
        "conveyor.yaml:19: environments[0].deploy.ecs.create.health_check_path: 'health' does not "
        "have the expected form: Path the load balancer requests to see the service is healthy; "
        "starts with / — for example: /health",
    ),
    (
        "owner: team-web",
        "owner: team-web\nzzzzqq: 1",
        "conveyor.yaml:3: zzzzqq: unknown key 'zzzzqq' — allowed here: app, owner, tags, suffix, "
        "region, account, source, build, environments, checks, notifications, alarms, pipeline, "
        "retention, self_update, estimates",
    ),
    (
        "      ecs: {cluster: web-prod, service: web}",
        "      lambda: {function: {runtme: python3.12}}",
        "conveyor.yaml:22: environments[1].deploy.lambda.function.runtme: unknown key 'runtme' — "
        "did you mean 'runtime'? allowed here: runtime, handler, package, architecture, memory, "
        "timeout_seconds, env",
    ),
    (
        "{cluster: web-prod, service: web}",
        "{cluster: web-prod}",
        "conveyor.yaml:22: environments[1].deploy.ecs: name the existing service with cluster: "
        "and service:, or write create: {} to let conveyor create one",
    ),
    (
        "build:\n  docker:\n    context: .\n  timeout_minutes: 15\n",
        "build:\n",
        "conveyor.yaml:8: build: expected a mapping of keys (key: value), got nothing (an empty "
        "value)",
    ),
    (
        "  - name: prod\n    approval: true\n",
        "  - approval: true\n",
        "conveyor.yaml:19: environments[1].name: required key 'name' is missing — add it",
    ),
    (
        "          port: 8080",
        "          port: 8080\n          vpc: {id: vpc-12345678, availability_zones: [a], "
        "public_subnets: [subnet-1, subnet-2], private_subnets: [subnet-3, subnet-4]}",
        "conveyor.yaml:19: environments[0].deploy.ecs.create.vpc.availability_zones: too short: "
        "write at least 2 items",
    ),
    (
        "owner: team-web",
        "owner: team-web\nsuffix: " + "x" * 80,
        "conveyor.yaml:3: suffix: '" + "x" * 80 + "' does not have the expected form: Appended "
        "to every name, so two copies of a pipeline never collide (FM06): up to 12 lowercase "
        "letters, digits or hyphens — for example: pr42",
    ),
    (
        "owner: team-web",
        "owner: team-web\nsuffix: " + "x" * 81,
        "conveyor.yaml:3: suffix: '" + "x" * 60 + "… (81 characters)' does not have the expected "
        "form: Appended to every name, so two copies of a pipeline never collide (FM06): up to 12 "
        "lowercase letters, digits or hyphens — for example: pr42",
    ),
]


@pytest.mark.parametrize(
    ("replace", "with_", "expected"),
    WORD_FOR_WORD,
    ids=[
        "pattern-described-with-example",
        "pattern-on-a-list-item",
        "pattern-without-description",
        "unknown-key-nothing-close",
        "unknown-key-under-an-aliased-key",
        "model-check",
        "empty-mapping",
        "missing-key-in-a-list-item",
        "list-too-short",
        "80-characters-shown-whole",
        "81-characters-cut",
    ],
)
def test_reports_word_for_word(replace: str, with_: str, expected: str) -> None:
    assert _error(_with(replace, with_)) == expected


def test_unreadable_paths_word_for_word(tmp_path: Path) -> None:
    cases = {
        tmp_path / "nope.yaml": "no such file — run `conveyor init` or pass the spec's path",
        tmp_path: "is a directory — pass the spec file",
        tmp_path / "file" / "conveyor.yaml": "cannot read it: Not a directory",
    }
    (tmp_path / "file").write_text("")
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    cases[fifo] = "is a named pipe with nothing writing to it — pass the file"
    for path, message in cases.items():
        with pytest.raises(SpecError) as caught:
            load_spec(path)
        assert str(caught.value) == f"{path}: {message}"
        assert caught.value.file == str(path)
        assert [p.message for p in caught.value.problems] == [message]


def test_an_empty_file_is_not_mistaken_for_a_pipe(tmp_path: Path) -> None:
    empty = tmp_path / "conveyor.yaml"
    empty.write_text("")
    with pytest.raises(SpecError) as caught:
        load_spec(empty)
    assert str(caught.value) == (
        f"{empty}: the file is empty — start with `app:`, `owner:`, `source:`"
    )


def test_error_kinds_not_worded_by_conveyor_lose_pydantic_voice() -> None:
    explained = spec_loader._explain(
        {"type": "url_parsing", "msg": "Input should be a valid URL", "input": "x" * 100}, ("a",)
    )
    assert explained == "expected a valid URL, got the text '" + "x" * 60 + "… (100 characters)'"
    explained = spec_loader._explain(
        {"type": "assertion_error", "msg": "Value error, no", "input": None}, ("a",)
    )
    assert explained == "no, got nothing (an empty value)"
    more = spec_loader._explain(
        {"type": "greater_than", "msg": "", "input": 0, "ctx": {"gt": 0}}, ("a",)
    )
    assert more == "0 is out of range: write more than 0"
    less = spec_loader._explain({"type": "less_than", "msg": "", "input": 9, "ctx": {"lt": 9}}, ())
    assert less == "9 is out of range: write less than 9"


def test_a_models_message_is_capped_at_2000_characters() -> None:
    words = " ".join(["word"] * 1_000)
    clipped = spec_loader._clip_words(words)
    assert len(clipped) == 1_980 + len("… (4,999 characters)")
    assert clipped.endswith("… (4,999 characters)")
    assert spec_loader._clip_words("w" * 81 + " short") == "w" * 60 + "… (81 characters) short"
    assert spec_loader._clip_words("w" * 80) == "w" * 80


def test_a_yaml_error_without_a_position_is_still_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_args: object, **_kwargs: object) -> None:
        raise yaml.YAMLError("x" * 1_000)

    monkeypatch.setattr(yaml, "compose_all", refuse)
    assert _error("app: web\n") == (
        "conveyor.yaml: invalid YAML: " + "x" * 480 + "… (1,000 characters)"
    )


@pytest.mark.parametrize(
    ("replace", "with_", "expected"),
    [
        (
            "strategy: rolling",
            "strategy:",
            "conveyor.yaml:16: environments[0].deploy.ecs.strategy: expected one of 'rolling', "
            "'blue-green' or 'native-blue-green', got nothing (an empty value)",
        ),
        (
            "strategy: rolling",
            "strategy: true",
            "conveyor.yaml:16: environments[0].deploy.ecs.strategy: expected one of 'rolling', "
            "'blue-green' or 'native-blue-green', got true",
        ),
        (
            "timeout_minutes: 15",
            "timeout_minutes: true",
            "conveyor.yaml:11: build.timeout_minutes: expected a whole number, got true",
        ),
        # YAML 1.1 reads `yes` as true: a port of 1 must not be what the user gets.
        (
            "port: 8080",
            "port: yes",
            "conveyor.yaml:18: environments[0].deploy.ecs.create.port: expected a whole number, "
            "got true",
        ),
        (
            "notifications:",
            "estimates: {build: false}\nnotifications:",
            "conveyor.yaml:23: estimates.build: expected a number, got false",
        ),
    ],
    ids=["literal-none", "literal-bool", "int-bool", "int-yes", "float-bool"],
)
def test_yaml_booleans_and_empty_values_are_said_in_yamls_words(
    replace: str, with_: str, expected: str
) -> None:
    """Python's `None`/`True` never reach a message, and a boolean is never read as 0 or 1."""
    report = _error(_with(replace, with_))
    assert expected in report, report
    assert "None" not in report and "True" not in report and "False" not in report, report


@pytest.mark.parametrize(
    ("notifications", "expected"),
    [
        (
            "  email: [oncall@example.com, OnCall@example.com]",
            "notifications.email[1]: 'OnCall@example.com' is listed twice; keep one",
        ),
        (
            "  email: [oncall@example.com]\n  on: [failed, failed]",
            "notifications.on[1]: event 'failed' is listed twice; keep one",
        ),
        (
            "  email: [oncall@example.com]\n  audiences:\n    security:\n"
            "      email: [sec@example.com]\n      on: [failed, succeeded, failed]",
            "notifications.audiences.security.on[2]: event 'failed' is listed twice; keep one",
        ),
    ],
)
def test_a_repeated_address_or_event_is_named_at_its_key(notifications: str, expected: str) -> None:
    # SNS keeps one subscription per endpoint and one notice per event: a repeat is a slip
    # that suggests someone else is told, so it is refused where it stands.
    report = _error(_with("  email: [oncall@example.com]", notifications))
    assert expected in report


def test_addresses_and_events_listed_once_are_accepted() -> None:
    spec = parse_spec(
        _with(
            "  email: [oncall@example.com]",
            "  email: [oncall@example.com, dev@example.com]\n  on: [failed, succeeded]",
        )
    )
    assert spec.notifications.on == ["failed", "succeeded"]
