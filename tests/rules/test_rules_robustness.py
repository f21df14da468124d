"""Bad input gets a clear error (exit 2 material), never a traceback, in bounded time."""

from __future__ import annotations

from pathlib import Path

import pytest

from conveyor.rules import check_paths, check_text
from conveyor.rules.template import MAX_ALIAS_EXPANSION, MAX_BYTES


def _only_error(path: Path) -> str:
    result = check_paths([path])
    assert result.findings == []
    assert len(result.errors) == 1, result.errors
    assert result.exit_code() == 2
    message = result.errors[0].message
    assert str(path) in message
    return message


def test_alias_bomb_is_rejected_quickly(tmp_path: Path) -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 10)]
    path = tmp_path / "bomb.yaml"
    path.write_text("Resources:\n  R: {Type: AWS::SNS::Topic}\n" + "\n".join(lines) + "\n")
    message = _only_error(path)
    # The bomb expands to 10**10 nodes: rejected at the budget, never expanded (no timing here).
    assert f"expand to more than {MAX_ALIAS_EXPANSION:,} nodes" in message


def test_recursive_alias_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "loop.yaml"
    path.write_text("Resources:\n  R: &r {Type: AWS::SNS::Topic, Properties: {Loop: *r}}\n")
    assert "refers to itself" in _only_error(path)


@pytest.mark.parametrize("suffix", [".yaml", ".json"])
def test_ten_thousand_deep_nesting(tmp_path: Path, suffix: str) -> None:
    deep = "[" * 10_000 + "]" * 10_000
    path = tmp_path / f"deep{suffix}"
    if suffix == ".json":
        path.write_text(
            '{"Resources": {"R": {"Type": "AWS::SNS::Topic", "Properties": {"X": ' + deep + "}}}}"
        )
    else:
        path.write_text(
            "Resources:\n  R:\n    Type: AWS::SNS::Topic\n    Properties:\n      X: " + deep + "\n"
        )
    message = _only_error(path)
    assert "deep" in message


def test_binary_file(tmp_path: Path) -> None:
    path = tmp_path / "image.json"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    assert "binary" in _only_error(path)


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.yaml"
    path.write_text("")
    assert "empty" in _only_error(path)


def test_invalid_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes("Resources:\n  R: {Type: AWS::SNS::Topic}\n# caf\xe9\n".encode("latin-1"))
    message = _only_error(path)
    assert "UTF-8" in message
    assert "line 3" in message


def test_huge_file_is_refused_without_reading_it(tmp_path: Path) -> None:
    path = tmp_path / "huge.json"
    with path.open("wb") as handle:
        handle.truncate(50 * 1024 * 1024)  # sparse: 50 MB on paper, instant to create
    message = _only_error(path)
    assert "too large" in message
    assert path.stat().st_size > MAX_BYTES


@pytest.mark.parametrize(
    ("name", "text", "line"),
    [
        (
            "dup.yaml",
            "Resources:\n  A: {Type: AWS::SNS::Topic}\n  A: {Type: AWS::SQS::Queue}\n",
            "3",
        ),
        ("dup.json", '{"Resources": {"A": {"Type": "AWS::SNS::Topic"}, "A": {"Type": "X"}}}', ""),
    ],
)
def test_duplicate_keys(tmp_path: Path, name: str, text: str, line: str) -> None:
    path = tmp_path / name
    path.write_text(text)
    message = _only_error(path)
    assert "duplicate key 'A'" in message
    if line:
        assert f"{path}:{line}:" in message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Resources: [1, 2", "invalid YAML"),
        ("just a string", "not a CloudFormation template"),
        ("Resources: 3", "no Resources mapping"),
        ('{"Resources": {', "invalid JSON"),
        ("Resources:\n  R: !!python/object/apply:os.system ['true']\n", "invalid YAML"),
    ],
)
def test_unparseable_input_is_a_clear_error(text: str, expected: str) -> None:
    result = check_text(text, name="t.json" if text.startswith("{") else "t.yaml")
    assert [e.message for e in result.errors if expected in e.message], result.errors
    assert result.exit_code() == 2


def test_malformed_resource_is_reported_and_others_still_checked() -> None:
    result = check_text(
        "Resources:\n  Bad: 3\n  Repo: {Type: AWS::ECR::Repository}\n", name="t.yaml"
    )
    assert [e.message for e in result.errors] == [
        "t.yaml: Resources.Bad: a resource must be a mapping with a Type string; fix or remove it"
    ]
    assert "Repo" in {f.resource for f in result.findings}


@pytest.mark.parametrize(
    ("properties", "kind"), [("[1]", "a list"), ("3", "a number"), ("text", "a string")]
)
def test_unreadable_properties_are_one_error_and_the_resource_is_not_judged(
    properties: str, kind: str
) -> None:
    # CV001/CV002/CV006/CV007/CV090 fired on the bucket as if it declared nothing: findings
    # about properties nobody could read, on top of the error that said so.
    result = check_text(
        "Resources:\n"
        f"  Bucket:\n    Type: AWS::S3::Bucket\n    Properties: {properties}\n"
        "  Repo: {Type: AWS::ECR::Repository}\n",
        name="t.yaml",
    )
    assert [e.message for e in result.errors] == [
        f"t.yaml: Resources.Bucket.Properties: must be a mapping of property names to values, "
        f"not {kind}; write Properties: {{Name: value, ...}} or remove it"
    ]
    assert "Bucket" not in {f.resource for f in result.findings}
    assert "Repo" in {f.resource for f in result.findings}
    assert result.exit_code() == 2


def test_directory_walk_skips_non_templates(tmp_path: Path) -> None:
    (tmp_path / "package.json").write_text('{"name": "x"}')
    (tmp_path / "empty.yml").write_text("")
    (tmp_path / "blob.json").write_bytes(b"\x00\x01")
    (tmp_path / "stack.yaml").write_text("Resources:\n  Repo: {Type: AWS::ECR::Repository}\n")
    result = check_paths([tmp_path])
    assert result.errors == []
    assert result.files == 1
    assert {f.file for f in result.findings} == {str(tmp_path / "stack.yaml")}


def test_a_crashing_rule_is_an_internal_error_and_the_rest_goes_on(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from conveyor.rules import runner
    from conveyor.rules.catalog import BY_ID
    from conveyor.rules.engine import RuleSet

    def boom(res: object, ctx: object) -> list[object]:
        raise RuntimeError("kaboom")

    broken = [
        r if r.id != "CV020" else type(r)(**{**r.__dict__, "check": boom}) for r in BY_ID.values()
    ]
    monkeypatch.setattr(runner, "default_rules", lambda: RuleSet(broken))
    result = check_text("Resources:\n  Repo: {Type: AWS::ECR::Repository}\n", name="t.yaml")
    assert [(e.rule, "kaboom" in e.message) for e in result.errors] == [("CV020", True)]
    assert "CV021" in {f.rule for f in result.findings}
    assert result.exit_code() == 2
