"""What the template parser builds from YAML and JSON: aliases counted exactly, timestamps kept as
text, Fn::ForEach fragments found (nested too) with their lines, malformed pieces named."""

from __future__ import annotations

import pytest

from conveyor.rules import check_text
from conveyor.rules import template as template_module
from conveyor.rules.template import TemplateError, looks_like_template, parse

# Nodes, as the alias check counts them: every mapping or list is 1 plus its values' nodes, every
# scalar value 1 (keys are not counted). The list is 1 + 3 = 4; Resources: {} is 1; the root is
# 1 + 3 x 4 + 1 = 14.
SHARED = "a: &x [1, 2, 3]\nb: *x\nc: *x\nResources: {}\n"


@pytest.mark.parametrize(("limit", "rejected"), [(14, False), (13, True), (4, True)])
def test_alias_expansion_is_counted_node_by_node(
    monkeypatch: pytest.MonkeyPatch, limit: int, rejected: bool
) -> None:
    monkeypatch.setattr(template_module, "MAX_ALIAS_EXPANSION", limit)
    if not rejected:
        parse(SHARED, name="t.yaml")
        return
    with pytest.raises(TemplateError) as caught:
        parse(SHARED, name="t.yaml")
    assert str(caught.value) == (
        f"t.yaml: YAML aliases expand to more than {limit:,} nodes (an alias bomb?); "
        "CloudFormation templates do not need anchors: write the values out"
    )


def test_alias_expansion_counts_nested_lists_and_mappings(monkeypatch: pytest.MonkeyPatch) -> None:
    # inner: 1 + 2 = 3; outer mapping: 1 + 3 + 3 + 1 = 8; root: 1 + 8 + 8 + 1 (Resources) = 18.
    text = "o: &o {p: &i [1, 2], q: *i, r: 1}\nu: *o\nResources: {}\n"
    monkeypatch.setattr(template_module, "MAX_ALIAS_EXPANSION", 18)
    parse(text, name="t.yaml")
    monkeypatch.setattr(template_module, "MAX_ALIAS_EXPANSION", 17)
    with pytest.raises(TemplateError, match="more than 17 nodes"):
        parse(text, name="t.yaml")


def test_an_alias_used_twice_is_not_a_loop() -> None:
    text = (
        "Resources:\n"
        "  A: {Type: AWS::SNS::Topic, Properties: &p {Tags: [{Key: a, Value: b}]}}\n"
        "  B: {Type: AWS::SNS::Topic, Properties: *p}\n"
        "  C: {Type: AWS::SNS::Topic, Properties: {Inner: *p, Again: *p}}\n"
    )
    template = parse(text, name="t.yaml")
    assert template.resources["B"].properties is template.resources["A"].properties
    assert template.resources["C"].properties["Again"] == {"Tags": [{"Key": "a", "Value": "b"}]}


def test_a_loop_through_a_list_is_named() -> None:
    with pytest.raises(TemplateError) as caught:
        parse("Resources: &r [1, *r]\n", name="t.yaml")
    assert str(caught.value) == (
        "t.yaml: a YAML alias refers to itself (recursive anchor); remove the recursive alias"
    )


def test_timestamps_stay_text() -> None:
    template = parse(
        "AWSTemplateFormatVersion: 2010-09-09\n"
        "Resources:\n  R:\n    Type: AWS::SNS::Topic\n"
        "    Properties: {At: 2001-12-14t21:59:43.10-05:00, Tagged: !!timestamp 2002-12-14}\n",
        name="t.yaml",
    )
    assert template.data["AWSTemplateFormatVersion"] == "2010-09-09"
    assert template.resources["R"].properties == {
        "At": "2001-12-14t21:59:43.10-05:00",
        "Tagged": "2002-12-14",
    }


FOREACH = """\
Transform: AWS::LanguageExtensions
Resources:
  Fn::ForEach::Outer:
    - Env
    - [a, b]
    - Fn::ForEach::Inner:
        - Name
        - [x, y]
        - Topic${Env}${Name}:
            Type: AWS::SNS::Topic
            Properties: {TopicName: !Sub "${Env}-${Name}"}
      Queue${Env}:
        Type: AWS::SQS::Queue
  Plain:
    Type: AWS::SNS::Topic
"""


def test_foreach_fragments_nested_or_not_are_resources_with_their_paths_and_lines() -> None:
    template = parse(FOREACH, name="t.yaml")
    assert template.problems == []
    resources = template.resources
    assert list(resources) == ["Topic${Env}${Name}", "Queue${Env}", "Plain"]
    inner = resources["Topic${Env}${Name}"]
    assert inner.path == (
        "Resources",
        "Fn::ForEach::Outer",
        2,
        "Fn::ForEach::Inner",
        2,
        "Topic${Env}${Name}",
    )
    assert inner.type == "AWS::SNS::Topic"
    assert inner.properties == {"TopicName": {"Fn::Sub": "${Env}-${Name}"}}
    assert resources["Queue${Env}"].path == ("Resources", "Fn::ForEach::Outer", 2, "Queue${Env}")
    assert resources["Plain"].path == ("Resources", "Plain")
    assert template.resource_line(inner, "Properties.TopicName") == 11
    assert template.resource_line(resources["Queue${Env}"], "Type") == 13


@pytest.mark.parametrize(
    "body",
    [
        "[Name, [a]]",  # two parts
        "[Name, [a], {}, extra]",  # four
        "[Name, [a], [not, a, mapping]]",
        "{Name: x}",  # not a list
        "Name",
    ],
)
def test_a_malformed_foreach_is_a_problem_and_the_rest_is_read(body: str) -> None:
    text = f"Resources:\n  Fn::ForEach::Bad: {body}\n  Plain: {{Type: AWS::SNS::Topic}}\n"
    template = parse(text, name="t.yaml")
    assert template.problems == [
        "Resources.Fn::ForEach::Bad: Fn::ForEach needs [identifier, collection, fragment]"
    ]
    assert list(template.resources) == ["Plain"]


def test_a_malformed_fragment_inside_foreach_is_named() -> None:
    text = "Resources:\n  Fn::ForEach::L:\n    - N\n    - [a]\n    - R${N}: [not, a, resource]\n"
    template = parse(text, name="t.yaml")
    assert template.problems == [
        "Resources.R${N}: a resource must be a mapping with a Type string; fix or remove it"
    ]
    assert template.resources == {}


SHORT_FORMS = """\
Resources:
  R:
    Type: AWS::SNS::Topic
    Properties:
      A: !GetAtt Role.Arn.Deep
      B: !Sub
        - "${X}.y"
        - {X: !Ref P}
      C: !If [Cond, a, b]
      D: !Base64 {Fn::Sub: x}
      E: !Condition IsProd
      F: !GetAtt [Role, Arn]
      G: !Sub "${AWS::Region}.z"
      H: !Join
        - ""
        - - "arn:aws:s3:::"
          - !Ref Bucket
"""


def test_short_form_intrinsics_read_as_their_long_form() -> None:
    template = parse(SHORT_FORMS, name="t.yaml")
    assert template.resources["R"].properties == {
        "A": {"Fn::GetAtt": ["Role", "Arn.Deep"]},
        "B": {"Fn::Sub": ["${X}.y", {"X": {"Ref": "P"}}]},
        "C": {"Fn::If": ["Cond", "a", "b"]},
        "D": {"Fn::Base64": {"Fn::Sub": "x"}},
        "E": {"Condition": "IsProd"},
        "F": {"Fn::GetAtt": ["Role", "Arn"]},
        "G": {"Fn::Sub": "${AWS::Region}.z"},
        "H": {"Fn::Join": ["", ["arn:aws:s3:::", {"Ref": "Bucket"}]]},
    }


@pytest.mark.parametrize(
    ("subpath", "line"),
    [
        ("Properties.B", 6),
        ("Properties.B.Fn::Sub", 6),
        ("Properties.B.Fn::Sub.0", 7),
        ("Properties.B.Fn::Sub.1", 8),
        ("Properties.B.Fn::Sub.1.X", 8),
        ("Properties.B.Fn::Sub.1.X.Ref", 8),
        ("Properties.H.Fn::Join.1.1", 17),
        ("Properties.H.Fn::Join.1.0", 16),
        ("Properties.H.Fn::Join.9", 14),
        ("Properties.D.Fn::Base64.Fn::Sub", 10),
    ],
)
def test_lines_inside_short_forms(subpath: str, line: int) -> None:
    template = parse(SHORT_FORMS, name="t.yaml")
    assert template.resource_line(template.resources["R"], subpath) == line


def test_duplicate_yaml_keys_name_both_lines() -> None:
    text = "Resources:\n  A: {Type: AWS::SNS::Topic}\n  B: {Type: AWS::SNS::Topic}\n  A: {}\n"
    with pytest.raises(TemplateError) as caught:
        parse(text, name="t.yaml")
    assert str(caught.value) == (
        "t.yaml:4: duplicate key 'A' (first at line 2); CloudFormation keeps only one of them: "
        "remove or rename the other"
    )


@pytest.mark.parametrize("sign", ["-", "+"])
def test_a_signed_long_number_with_underscores_is_named_as_a_number(sign: str) -> None:
    digits = sign + "1_" * 4400 + "1"  # 4,401 digits
    text = f"Resources:\n  R:\n    Type: AWS::SNS::Topic\n    Properties: {{N: {digits}}}\n"
    with pytest.raises(TemplateError) as caught:
        parse(text, name="t.yaml")
    assert str(caught.value).startswith(
        f"t.yaml:4: invalid YAML: a number of {len(digits):,} digits; conveyor reads numbers of "
    )


@pytest.mark.parametrize(
    "form",
    ["{deep}", "!Join [a, {deep}]", "!Base64 {{a: {deep}}}"],
    ids=["list", "short-form list", "short-form mapping"],
)
def test_nesting_is_read_without_recursion_and_refused_past_120_levels(form: str) -> None:
    # 400 levels: read one level at a time (recursing would exhaust Python's stack on the way),
    # then refused by the depth guard with its own message.
    deep = "[" * 400 + "]" * 400
    text = f"Resources:\n  R:\n    Type: AWS::SNS::Topic\n    Properties:\n      X: {form}\n"
    result = check_text(text.format(deep=deep), name="t.yaml")
    assert [e.message for e in result.errors] == [
        "t.yaml: Resources.R: nested more than 120 levels deep; no CloudFormation template "
        "needs that: flatten it"
    ]


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"Resources:\n  \x00\n", "t.yaml: binary file (contains NUL bytes), not a template"),
        (
            b"\nResources: \xff\n",
            "t.yaml: not valid UTF-8 (byte 12, line 2); CloudFormation "
            "reads UTF-8: re-encode the file",
        ),
        (b"\xef\xbb\xbfResources: {R: {Type: AWS::SNS::Topic}}\n", None),  # BOM: still UTF-8
    ],
)
def test_bytes_are_decoded_strictly(raw: bytes, message: str | None) -> None:
    result = check_text(raw, name="t.yaml")
    assert [e.message for e in result.errors] == ([message] if message else [])


def test_nul_bytes_are_looked_for_in_the_first_64_kib_only() -> None:
    # Past 64 KiB a NUL is left to the parser (which names its line) rather than scanned for.
    raw = b"Resources: {}\n" + b"#" * (65536 - 14) + b"\x00\n"
    (error,) = check_text(raw, name="t.yaml").errors
    assert error.message == (
        "t.yaml:2: invalid YAML: unacceptable character #x0000: control characters are not allowed"
    )


def test_what_looks_like_a_template() -> None:
    assert looks_like_template("AWSTemplateFormatVersion: '2010-09-09'\n")
    assert looks_like_template("x: 1\nResources: {}\n")
    assert not looks_like_template("name: my-app\nversion: 1\n")
    # Only the head is looked at: a marker past 200,000 characters does not count.
    assert not looks_like_template("#" * 199_992 + "Resources")
    assert looks_like_template("#" * 199_991 + "Resources")


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        (
            "!!int X" + "1" * 5000,
            "'X" + "1" * 59 + "... (5,001 characters)' is not a valid integer",
        ),
        ("!!bool " + "1" * 4300, "'" + "1" * 60 + "... (4,300 characters)' is not a valid boolean"),
        ("!!int " + "x" * 60, "'" + "x" * 60 + "' is not a valid integer"),
        ("!!int " + "x" * 61, "'" + "x" * 60 + "... (61 characters)' is not a valid integer"),
    ],
)
def test_bad_scalar_values_are_shown_shortened(value: str, problem: str) -> None:
    text = f"Resources:\n  R:\n    Type: AWS::SNS::Topic\n    Properties: {{N: {value}}}\n"
    with pytest.raises(TemplateError) as caught:
        parse(text, name="t.yaml")
    assert str(caught.value).startswith(f"t.yaml:4: invalid YAML: {problem}")


def test_yaml_lines_of_missing_keys_and_items_past_the_end() -> None:
    template = parse(
        "Resources:\n  R:\n    Type: AWS::SNS::Topic\n    Properties:\n      L: [a, b]\n",
        name="t.yaml",
    )
    assert template.line(("Nope",)) == 1
    assert template.line(("Resources", "R", "Properties", "L", 1)) == 5
    assert template.line(("Resources", "R", "Properties", "L", 2)) == 5
    assert template.line(("Resources", "R", "Properties", "L", -1)) == 5
    assert template.line(("Resources", "R", "Nope", "L")) == 2


def test_a_mapping_key_that_is_not_text_is_named_on_its_line() -> None:
    text = (
        "Resources:\n  R:\n    Type: AWS::SNS::Topic\n    Properties:\n      ? [a, b]\n      : x\n"
    )
    with pytest.raises(TemplateError) as caught:
        parse(text, name="t.yaml")
    assert str(caught.value) == "t.yaml:5: invalid YAML: a mapping key must be a plain string"


def test_a_malformed_loop_inside_a_loop_is_named() -> None:
    text = (
        "Resources:\n  Fn::ForEach::Outer:\n    - N\n    - [a]\n"
        "    - Fn::ForEach::Inner: [too, short]\n      Kept${N}: {Type: AWS::SNS::Topic}\n"
    )
    template = parse(text, name="t.yaml")
    assert template.problems == [
        "Resources.Fn::ForEach::Inner: Fn::ForEach needs [identifier, collection, fragment]"
    ]
    assert list(template.resources) == ["Kept${N}"]


def test_json_lines_of_the_document_and_of_missing_keys() -> None:
    template = parse('{"Resources": {\n"R": {"Type": "AWS::SNS::Topic"}}}', name="t.json")
    assert template.line(()) == 1
    assert template.line(("Nope",)) == 1
    assert template.line(("Resources", "R", "Nope")) == 2
    spaced = parse('\n\n  {"Resources": {"R": {"Type": "AWS::SNS::Topic"}}}', name="t.json")
    assert spaced.line(("Nope",)) == 3


@pytest.mark.parametrize(
    "innermost", [{}, [], {"Ref": "A"}], ids=["empty mapping", "empty list", "ref"]
)
def test_depth_guard_counts_the_containers_the_walk_steps_over(innermost: object) -> None:
    # The relations walk reads an empty container and a one-key intrinsic without a call of
    # its own: the innermost container is still the one past 120 levels that is refused.
    from conveyor.rules.relations import _walk_references

    def nested(levels: int) -> object:
        value: object = innermost
        for _ in range(levels):
            value = [value]
        return value

    scalars: list[str] = []
    found = _walk_references(nested(120), "Resources.R", scalars)
    assert found == ({"A"} if innermost == {"Ref": "A"} else set())
    assert scalars == (["A"] if innermost == {"Ref": "A"} else [])
    with pytest.raises(TemplateError, match=r"Resources\.R: nested more than 120 levels deep"):
        _walk_references(nested(121), "Resources.R", [])
