"""The scan gate's SARIF reader on its own: documents in, findings or UnreadableError out.

No AWS, no moto, no archive: each test hands `sarif.read_findings` a SARIF document as text,
so the reader's whole behaviour (issue 17 defect 1: fail closed on anything it cannot read as a
finished scan) is pinned in milliseconds. The SARIF sections cited are those of the OASIS
SARIF 2.1.0 standard (https://docs.oasis-open.org/sarif/sarif/v2.1.0/sarif-v2.1.0.html).
"""

from __future__ import annotations

import io
import json
import re
import tracemalloc
from typing import Any

import pytest

from conveyor.handlers.scan_gate import sarif

REPORT = "ScanReports/trivy.sarif"
TOOL = {"driver": {"name": "Trivy"}}


class Trickle(io.StringIO):
    """A stream that hands out at most `size` characters per read, like a slow body."""

    def __init__(self, text: str, size: int) -> None:
        super().__init__(text)
        self.size = size

    def read(self, n: int | None = -1, /) -> str:
        wanted = self.size if n is None or n < 0 else min(n, self.size)
        return super().read(wanted)


def read(
    document: Any, *, limit: int = 1000, chunk: int | None = None, report: str = REPORT
) -> list[sarif.Finding]:
    text = document if isinstance(document, str) else json.dumps(document)
    stream = io.StringIO(text) if chunk is None else Trickle(text, chunk)
    return sarif.read_findings(stream, report, limit)


def refused(document: Any, **options: Any) -> str:
    with pytest.raises(sarif.UnreadableError) as raised:
        read(document, **options)
    return str(raised.value)


def log(*runs: Any) -> dict[str, Any]:
    return {"version": "2.1.0", "runs": list(runs)}


def run(*results: Any, tool: Any = TOOL, **more: Any) -> dict[str, Any]:
    return {"tool": tool, "results": list(results), **more}


def rules_tool(*rules: Any, name: str = "Trivy", **more: Any) -> dict[str, Any]:
    return {"driver": {"name": name, "rules": list(rules)}, **more}


def summary(findings: list[sarif.Finding]) -> list[tuple[str, str]]:
    return [(f.rule, f.severity) for f in findings]


# --- issue 17 defect 1: what is not a finished scan is refused, with where and why ---


@pytest.mark.parametrize(
    ("document", "problem"),
    [
        (log(), "has no runs ('runs' is empty): no tool reported, so nothing was scanned"),
        ({"version": "2.1.0"}, "is not a SARIF log: it has no 'runs' list"),
        ({}, "is not a SARIF log: it has no 'runs' list"),
        ([], "is not a SARIF log: it is not a JSON object"),
        ("null", "is not a SARIF log: it is not a JSON object"),
        ({"runs": {}}, "runs is an object, not a list"),
        ({"runs": None}, "runs is null, not a list"),
        ({"runs": "x" * 100}, f'runs is "{"x" * 39}, not a list'),
        (log("Trivy"), "runs[0] is not an object"),
        (log(run(), [1]), "runs[1] is not an object"),
        (log(run(), run(), run(), 7), "runs[3] is not an object"),
        ({"runs": [{"tool": TOOL}]}, "runs[0].results is missing or null: SARIF says Trivy"),
        (
            log({"tool": TOOL, "results": None}),
            "runs[0].results is missing or null: SARIF says Trivy did not run or failed; fix "
            "the scan step so it completes",
        ),
        (log({"results": None, "tool": TOOL}), "runs[0].results is missing or null"),
        (log({"tool": TOOL, "results": {}}), "runs[0].results is an object, not a list"),
        (log({"tool": TOOL, "results": "none"}), 'runs[0].results is "none", not a list'),
        (log({"tool": TOOL, "results": 0}), "runs[0].results is 0, not a list"),
        (log(run(3)), "runs[0].results[0] is not an object"),
        (log(run({"ruleId": "A"}, None)), "runs[0].results[1] is not an object"),
        (log(run({"ruleId": "A"}, {}, {}, [])), "runs[0].results[3] is not an object"),
        (
            log({"results": []}),
            "runs[0] has no 'tool': it does not say which scanner wrote it",
        ),
        (log(run(tool="Trivy")), "runs[0].tool is not an object"),
        (log(run(tool={"driver": []})), "runs[0].tool.driver is not an object"),
        (log(run(tool={"driver": {}, "extensions": {}})), "runs[0].tool.extensions is an object"),
        (
            log(run(tool={"driver": {}, "extensions": [7]})),
            "runs[0].tool.extensions[0] is not an object",
        ),
        (
            log(run(tool={"driver": {"rules": {}}})),
            "runs[0].tool.driver.rules is an object, not a list",
        ),
        (
            log(run(tool={"driver": {"rules": [{"id": "A"}, "B"]}})),
            "runs[0].tool.driver.rules[1] is not an object",
        ),
        (
            log(run(tool={"driver": {}, "extensions": [{"rules": ["A"]}]})),
            "runs[0].tool.extensions[0].rules[0] is not an object",
        ),
    ],
)
def test_what_is_not_a_finished_scan_is_refused(document: Any, problem: str) -> None:
    assert refused(document).startswith(problem)


def test_the_run_named_is_the_one_that_failed() -> None:
    document = log(run(), {"tool": {"driver": {"name": "Semgrep OSS"}}, "results": None})
    assert refused(document).startswith(
        "runs[1].results is missing or null: SARIF says Semgrep OSS did not run"
    )


def test_a_run_whose_driver_has_no_usable_name_is_an_unknown_tool() -> None:
    tools: list[dict[str, Any]] = [{}, {"extensions": []}, {"driver": {}}, {"driver": {"name": ""}}]
    for tool in tools:
        assert "SARIF says unknown tool did not run" in refused(log({"tool": tool}))
        [finding] = read(log({"tool": tool, "results": [{"ruleId": "A"}]}))
        assert finding.tool == "unknown tool"
    [named_otherwise] = read(log({"tool": {"driver": {"name": 7}}, "results": [{}]}))
    assert named_otherwise.tool == "unknown tool"


@pytest.mark.parametrize(
    ("invocations", "problem"),
    [
        (
            [{"executionSuccessful": False}],
            "runs[0].invocations[0].executionSuccessful is false: the scanner reports that its "
            "run failed, so its results are incomplete",
        ),
        ([{}], "runs[0].invocations[0].executionSuccessful is null"),
        (
            [{"executionSuccessful": "true"}],
            'runs[0].invocations[0].executionSuccessful is "true"',
        ),
        ([{"executionSuccessful": 1}], "runs[0].invocations[0].executionSuccessful is 1"),
        (
            [{"executionSuccessful": True}, {"executionSuccessful": False}],
            "runs[0].invocations[1].executionSuccessful is false",
        ),
        ({"executionSuccessful": True}, "runs[0].invocations is not a list"),
        ([True], "runs[0].invocations[0] is not an object"),
    ],
)
def test_a_scanner_that_says_its_run_failed_is_refused(invocations: Any, problem: str) -> None:
    # SARIF 3.20.14: executionSuccessful is required and false means the tool failed.
    assert refused(log(run({"ruleId": "A"}, invocations=invocations))).startswith(problem)


def test_successful_invocations_and_none_at_all_are_read() -> None:
    document = log(
        run({"ruleId": "A"}, invocations=[{"executionSuccessful": True}] * 2),
        run({"ruleId": "B"}, invocations=[]),
    )
    assert [f.rule for f in read(document)] == ["A", "B"]


@pytest.mark.parametrize(
    ("result", "problem"),
    [
        (
            {"level": "ERROR"},
            "result.level is 'ERROR'; SARIF levels are error, warning, note, none",
        ),
        ({"level": "critical"}, "result.level is 'critical'"),
        ({"level": ""}, "result.level is ''"),
        ({"level": 3}, "result.level is 3"),
        ({"level": ["error"]}, "result.level is ['error']"),
        ({"properties": {"security-severity": "NaN"}}, "result.properties.security-severity is "),
        ({"properties": {"security-severity": "nan"}}, "security-severity is 'nan', not a score"),
        ({"properties": {"security-severity": "high"}}, "security-severity is 'high'"),
        ({"properties": {"security-severity": ""}}, "security-severity is ''"),
        ({"properties": {"security-severity": "10.1"}}, "security-severity is '10.1'"),
        ({"properties": {"security-severity": -0.1}}, "security-severity is -0.1"),
        ({"properties": {"security-severity": True}}, "security-severity is True"),
        ({"properties": {"security-severity": [9]}}, "security-severity is [9]"),
        ({"properties": {"security-severity": {}}}, "security-severity is {}"),
        # A score does not excuse an unknown level: both are read.
        ({"level": "high", "properties": {"security-severity": "9"}}, "result.level is 'high'"),
    ],
)
def test_a_result_the_gate_cannot_grade_is_refused(result: dict[str, Any], problem: str) -> None:
    message = refused(log(run({"ruleId": "CVE-1", **result})))
    assert message.startswith("runs[0].results[0]: result.")
    assert problem in message


@pytest.mark.parametrize(
    ("rule", "problem"),
    [
        (
            {"id": "R", "properties": {"security-severity": "x"}},
            "rule R: rule.properties.security-severity is 'x', not a score from 0.0 to 10.0",
        ),
        (
            {"id": "R", "defaultConfiguration": {"level": "fatal"}},
            "rule R: rule.defaultConfiguration.level is 'fatal'; SARIF levels are error, "
            "warning, note, none",
        ),
        (
            {
                "id": "R",
                "properties": {"security-severity": "1"},
                "defaultConfiguration": {"level": 1},
            },
            "rule R: rule.defaultConfiguration.level is 1; SARIF levels are error, warning, "
            "note, none",
        ),
    ],
)
def test_a_rule_the_gate_cannot_grade_is_refused_even_unused(
    rule: dict[str, Any], problem: str
) -> None:
    # Checked where the rule is read: no result needs to point at it.
    assert refused(log(run(tool=rules_tool(rule)))) == problem


def test_an_extension_rule_the_gate_cannot_grade_is_refused() -> None:
    tool = {
        "driver": {"name": "CodeQL"},
        "extensions": [{"rules": [{"id": "py/x", "properties": {"security-severity": "NaN"}}]}],
    }
    assert refused(log(run(tool=tool))).startswith("rule py/x: rule.properties.security-severity")


@pytest.mark.parametrize(
    ("kind", "problem"),
    [
        ("maybe", "runs[0].results[0].kind is 'maybe'"),
        ("FAIL", "runs[0].results[0].kind is 'FAIL'"),
        ("", "runs[0].results[0].kind is ''"),
        (0, "runs[0].results[0].kind is 0"),
        ({"fail": 1}, "runs[0].results[0].kind is {'fail': 1}"),
    ],
)
def test_an_unknown_result_kind_is_refused(kind: Any, problem: str) -> None:
    assert refused(log(run({"ruleId": "A", "kind": kind}))) == f"{problem}, not a SARIF result kind"


@pytest.mark.parametrize(
    ("suppressions", "problem"),
    [
        ({"status": "accepted"}, "runs[0].results[0].suppressions is not a list"),
        ("accepted", "runs[0].results[0].suppressions is not a list"),
        (["accepted"], "runs[0].results[0].suppressions is not an object"),
        ([{"status": "Accepted"}], "runs[0].results[0].suppressions has status 'Accepted'"),
        ([{"status": ["accepted"]}], "runs[0].results[0].suppressions has status ['accepted']"),
        ([{"status": 1}], "runs[0].results[0].suppressions has status 1"),
        (
            [{"status": "rejected"}, {"status": "approved"}],
            "runs[0].results[0].suppressions has status 'approved'",
        ),
    ],
)
def test_suppressions_the_gate_cannot_read_are_refused(suppressions: Any, problem: str) -> None:
    assert refused(log(run({"ruleId": "A", "suppressions": suppressions}))) == problem


def test_a_suppression_is_checked_even_when_another_already_hides_the_result() -> None:
    suppressions = [{"status": "accepted"}, {"status": "bogus"}]
    assert "has status 'bogus'" in refused(log(run({"ruleId": "A", "suppressions": suppressions})))


# --- what a finished scan says ---


def test_an_empty_result_list_is_a_clean_scan() -> None:
    # SARIF 3.14.23: [] means the tool ran and found nothing.
    assert read(log(run())) == []


def test_findings_of_every_run_are_read_in_order() -> None:
    document = log(
        run({"ruleId": "A", "level": "error"}, {"ruleId": "B", "level": "note"}),
        run({"ruleId": "C"}, tool={"driver": {"name": "gitleaks"}}),
    )
    assert [(f.tool, f.rule, f.severity, f.report) for f in read(document)] == [
        ("Trivy", "A", "high", REPORT),
        ("Trivy", "B", "low", REPORT),
        ("gitleaks", "C", "critical", REPORT),
    ]


def test_other_keys_of_the_log_and_the_run_are_skipped_whatever_they_hold() -> None:
    document = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
                "artifacts": [{"location": {"uri": "a.py"}, "results": None}],
                "tool": {
                    "properties": {"results": None},
                    "driver": {"version": "1", "name": "Bandit", "rules": [], "informationUri": ""},
                },
                "originalUriBaseIds": {"SRCROOT": {"uri": "file:///src/"}},
                "results": [{"ruleId": "B101", "level": "warning"}],
                "columnKind": "utf16CodeUnits",
            }
        ],
        "inlineExternalProperties": [{"runs": []}],
    }
    assert summary(read(document)) == [("B101", "medium")]


def test_results_before_the_tool_are_graded_by_its_rules() -> None:
    tool = rules_tool({"id": "R", "properties": {"security-severity": "9.1"}})
    for ordered in (
        {"tool": tool, "results": [{"ruleId": "R"}]},
        {"results": [{"ruleId": "R"}], "tool": tool},
    ):
        assert summary(read(log(ordered))) == [("R", "critical")]


@pytest.mark.parametrize(
    ("kind", "counted"),
    [
        (None, True),
        ("fail", True),
        ("open", True),
        ("review", True),
        ("pass", False),
        ("notApplicable", False),
        ("informational", False),
    ],
)
def test_only_results_that_are_problems_count(kind: str | None, counted: bool) -> None:
    result = {"ruleId": "A", "level": "error", **({"kind": kind} if kind else {})}
    later = {"ruleId": "B", "level": "note"}
    assert [f.rule for f in read(log(run(result, later)))] == (["A", "B"] if counted else ["B"])


@pytest.mark.parametrize(
    ("suppressions", "counted"),
    [
        ([], True),
        ([{"kind": "inSource"}], False),
        ([{"kind": "inSource", "status": "accepted"}], False),
        ([{"kind": "external", "status": "underReview"}], True),
        ([{"kind": "inSource", "status": "rejected"}], True),
        ([{"status": "rejected"}, {"status": "underReview"}], True),
        ([{"status": "rejected"}, {"status": "accepted"}], False),
        ([{"status": "underReview"}, {}], False),
    ],
)
def test_a_suppression_hides_a_result_unless_a_reviewer_has_not_accepted_it(
    suppressions: list[dict[str, str]], counted: bool
) -> None:
    # SARIF 3.35.3; issue 17 defect 10: results after a suppressed one still count.
    results = [
        {"ruleId": "A", "level": "error", "suppressions": suppressions},
        {"ruleId": "B", "level": "error"},
        {"ruleId": "C", "level": "note", "suppressions": None},
    ]
    assert [f.rule for f in read(log(run(*results)))] == (
        ["A", "B", "C"] if counted else ["B", "C"]
    )


def test_a_skipped_or_suppressed_result_is_not_graded() -> None:
    # Not a finding, so a level nobody uses cannot block the scan.
    skipped = {"ruleId": "A", "kind": "pass", "level": "bogus"}
    suppressed = {"ruleId": "B", "suppressions": [{"status": "accepted"}], "level": "bogus"}
    assert read(log(run(skipped, suppressed))) == []


# --- severity (GitHub's security-severity convention, then SARIF levels) ---


@pytest.mark.parametrize(
    ("score", "severity"),
    [
        (10.0, "critical"),
        (9.0, "critical"),
        (8.99, "high"),
        (7.0, "high"),
        (6.99, "medium"),
        (4.0, "medium"),
        (3.99, "low"),
        (0.1, "low"),
        (0.0, "low"),
    ],
)
def test_severity_from_score(score: float, severity: str) -> None:
    assert sarif.severity_from_score(score) == severity


@pytest.mark.parametrize(
    ("value", "severity"),
    [
        ("9.8", "critical"),
        ("10", "critical"),
        (10, "critical"),
        ("0", "low"),
        (0, "low"),
        (7, "high"),
        ("6.5", "medium"),
    ],
)
def test_a_score_as_text_or_number_is_read(value: Any, severity: str) -> None:
    # Trivy writes the score as a string, CodeQL packs as a string, others as a number.
    result = {"ruleId": "A", "level": "note", "properties": {"security-severity": value}}
    assert summary(read(log(run(result)))) == [("A", severity)]


@pytest.mark.parametrize(
    ("result", "rule", "tool", "expected"),
    [
        # The result's own score wins over everything.
        (
            {"level": "note", "properties": {"security-severity": "9.5"}},
            {"properties": {"security-severity": "1"}, "defaultConfiguration": {"level": "note"}},
            "Trivy",
            "critical",
        ),
        # Then its rule's score, over the result's level.
        ({"level": "note"}, {"properties": {"security-severity": "8"}}, "Trivy", "high"),
        (
            {"properties": {"security-severity": None}},
            {"properties": {"security-severity": "8"}},
            "Trivy",
            "high",
        ),
        ({"properties": "9.9"}, {}, "Trivy", "medium"),
        ({"properties": {"other": 9}}, {}, "Trivy", "medium"),
        # Then the result's level, over its rule's.
        ({"level": "note"}, {"defaultConfiguration": {"level": "error"}}, "Trivy", "low"),
        ({"level": "error"}, {"defaultConfiguration": {"level": "note"}}, "Trivy", "high"),
        ({"level": "warning"}, {}, "Trivy", "medium"),
        ({"level": "none"}, {}, "Trivy", "low"),
        ({"level": None}, {"defaultConfiguration": {"level": "error"}}, "Trivy", "high"),
        ({}, {"defaultConfiguration": {"level": "none"}}, "Trivy", "low"),
        ({}, {"defaultConfiguration": "error"}, "Trivy", "medium"),
        # No level anywhere: SARIF's default is "warning"...
        ({}, {}, "Trivy", "medium"),
        # ...except for secret scanners, whose findings are leaked credentials.
        ({}, {}, "gitleaks", "critical"),
        ({}, {}, "Gitleaks", "critical"),
        ({}, {}, "trufflehog", "critical"),
        ({}, {}, "detect-secrets", "critical"),
        ({"level": "note"}, {}, "gitleaks", "low"),
        ({}, {"defaultConfiguration": {"level": "warning"}}, "gitleaks", "medium"),
    ],
)
def test_classify_order(
    result: dict[str, Any], rule: dict[str, Any], tool: str, expected: str
) -> None:
    assert sarif.classify(result, rule, tool) == expected


def test_classify_reads_the_rules_level_even_when_a_score_decides() -> None:
    with pytest.raises(
        sarif.UnreadableError, match=re.escape("rule.defaultConfiguration.level is 'x'")
    ):
        sarif.classify(
            {"properties": {"security-severity": "9"}},
            {"defaultConfiguration": {"level": "x"}},
            "T",
        )


def test_classify_reads_the_rules_score_only_when_the_result_has_none() -> None:
    rule = {"properties": {"security-severity": "bogus"}}
    assert sarif.classify({"properties": {"security-severity": "2"}}, rule, "T") == "low"
    with pytest.raises(
        sarif.UnreadableError, match=re.escape("rule.properties.security-severity is 'bogus'")
    ):
        sarif.classify({}, rule, "T")


# --- which rule a result belongs to (SARIF 3.27.5-3.27.7, 3.52.7) ---


def test_a_result_finds_its_rule_by_index_then_by_id() -> None:
    tool = rules_tool(
        {"id": "R0", "properties": {"security-severity": "1"}},
        {"id": "R1", "properties": {"security-severity": "9.5"}},
    )
    results = [
        {"ruleId": "R1", "ruleIndex": 0},  # the index wins (3.27.6)
        {"rule": {"index": 1}},
        {"ruleIndex": 1, "rule": {"index": 0}},
        {"rule": {"id": "R1"}},
        {"ruleId": "R1", "ruleIndex": 2},  # out of range: by id
        {"ruleId": "R1", "ruleIndex": -1},
        {"ruleId": "R1", "ruleIndex": True},  # a boolean is no index
        {"ruleId": "R1", "ruleIndex": "0"},
        {"ruleId": "R9"},  # no such rule: its own level, here none
    ]
    assert summary(read(log(run(*results, tool=tool)))) == [
        ("R1", "low"),
        ("R1", "critical"),
        ("R1", "critical"),
        ("R1", "critical"),
        ("R1", "critical"),
        ("R1", "critical"),
        ("R1", "critical"),
        ("R1", "critical"),
        ("R9", "medium"),
    ]


def test_a_result_without_a_rule_id_takes_its_rules_id() -> None:
    tool = rules_tool({"id": "R0"}, {"id": "R1", "defaultConfiguration": {"level": "error"}})
    results = [{"ruleIndex": 1}, {"rule": {"index": 0}}, {"level": "note"}, {"ruleId": ""}]
    assert summary(read(log(run(*results, tool=tool)))) == [
        ("R1", "high"),
        ("R0", "medium"),
        ("unknown-rule", "low"),
        ("unknown-rule", "medium"),
    ]


def test_rule_ids_are_compared_as_text() -> None:
    tool = rules_tool({"id": 7, "properties": {"security-severity": "9"}})
    assert summary(read(log(run({"ruleId": "7"}, tool=tool)))) == [("7", "critical")]


def test_a_rule_without_an_id_is_found_only_by_its_index() -> None:
    tool = rules_tool({"properties": {"security-severity": "9"}})
    results = [{"ruleIndex": 0}, {"ruleId": "None"}]
    assert summary(read(log(run(*results, tool=tool)))) == [
        ("unknown-rule", "critical"),
        ("None", "medium"),
    ]


def test_rules_of_tool_extensions_grade_results_found_by_id() -> None:
    # Issue 17 defect 10: CodeQL-style packs put rules in tool.extensions; a 9.8 is critical.
    tool = {
        "driver": {"name": "CodeQL", "rules": [{"id": "py/other"}]},
        "extensions": [
            {"name": "codeql/go-queries", "rules": [{"id": "py/noise"}]},
            {"rules": [{"id": "py/sql-injection", "properties": {"security-severity": "9.8"}}]},
        ],
    }
    results = [{"ruleId": "py/sql-injection"}, {"ruleId": "py/noise"}, {"ruleId": "py/other"}]
    assert summary(read(log(run(*results, tool=tool)))) == [
        ("py/sql-injection", "critical"),
        ("py/noise", "medium"),
        ("py/other", "medium"),
    ]


def test_the_driver_rule_wins_over_an_extension_rule_of_the_same_id() -> None:
    tool = rules_tool(
        {"id": "R", "properties": {"security-severity": "2"}},
        extensions=[
            {"rules": [{"id": "R", "properties": {"security-severity": "9"}}]},
            {"rules": [{"id": "S", "properties": {"security-severity": "8"}}]},
            {"rules": [{"id": "S", "properties": {"security-severity": "1"}}]},
        ],
    )
    results = [{"ruleId": "R"}, {"ruleId": "S"}]
    assert summary(read(log(run(*results, tool=tool)))) == [("R", "low"), ("S", "high")]


@pytest.mark.parametrize(
    ("component", "expected"),
    [
        ({"index": 0}, ("py/a", "critical")),
        ({"index": 1}, ("py/b", "high")),
        # A component the reader cannot place: by id (here none), never the driver's index.
        ({"index": 2}, ("unknown-rule", "medium")),
        ({"index": -1}, ("unknown-rule", "medium")),
        ({"index": True}, ("unknown-rule", "medium")),
        ({"index": "1"}, ("unknown-rule", "medium")),
        ({"name": "codeql/python-queries"}, ("unknown-rule", "medium")),
        ("codeql", ("unknown-rule", "medium")),
    ],
)
def test_a_rule_index_with_a_tool_component_points_into_that_extension(
    component: Any, expected: tuple[str, str]
) -> None:
    tool = rules_tool(
        {"id": "py/summary", "properties": {"security-severity": "1.0"}},
        name="CodeQL",
        extensions=[
            {"rules": [{"id": "py/a", "properties": {"security-severity": "9.1"}}]},
            {"rules": [{"id": "py/b", "properties": {"security-severity": "7.5"}}]},
        ],
    )
    result = {"rule": {"index": 0, "toolComponent": component}}
    assert summary(read(log(run(result, tool=tool)))) == [expected]


def test_an_extension_reference_falls_back_to_the_rule_id() -> None:
    tool = rules_tool(
        {"id": "py/summary", "properties": {"security-severity": "1.0"}},
        extensions=[{"rules": [{"id": "py/b", "properties": {"security-severity": "7.5"}}]}],
    )
    result = {"rule": {"id": "py/b", "index": 0, "toolComponent": {"index": 5}}}
    assert summary(read(log(run(result, tool=tool)))) == [("py/b", "high")]


# --- what a finding says ---


def test_a_finding_carries_tool_rule_title_place_and_report() -> None:
    result = {
        "ruleId": "B602",
        "level": "error",
        "message": {"text": "subprocess call with shell=True"},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": {"uri": "app/run.py"},
                    "region": {"startLine": 12},
                }
            },
            {
                "physicalLocation": {
                    "artifactLocation": {"uri": "other.py"},
                    "region": {"startLine": 1},
                }
            },
        ],
    }
    [finding] = read(log(run(result, tool={"driver": {"name": "Bandit"}})), report="r.sarif")
    assert finding == sarif.Finding(
        tool="Bandit",
        rule="B602",
        severity="high",
        title="subprocess call with shell=True",
        path="app/run.py",
        line=12,
        report="r.sarif",
    )
    assert finding.where() == "app/run.py:12"


@pytest.mark.parametrize(
    ("path", "line", "where"),
    [
        ("a.py", 3, "a.py:3"),
        ("a.py", None, "a.py"),
        ("a.py", 0, "a.py"),
        (None, 3, ""),
        ("", 3, ""),
    ],
)
def test_where(path: str | None, line: int | None, where: str) -> None:
    finding = sarif.Finding(tool="T", rule="R", severity="low", title="t", path=path, line=line)
    assert finding.where() == where


@pytest.mark.parametrize(
    ("uri", "path"),
    [
        ("app.py", "app.py"),
        ("./app.py", "app.py"),
        ("file:///src/app.py", "src/app.py"),
        ("file://./app.py", "app.py"),
        ("/abs/app.py", "abs/app.py"),
        ("src/./app.py", "src/./app.py"),
        ("XML/app.py", "XML/app.py"),
        ("/", None),
        ("file://", None),
        ("", None),
        (7, None),
        (None, None),
    ],
)
def test_paths_are_relative_to_the_repository(uri: Any, path: str | None) -> None:
    location = {"physicalLocation": {"artifactLocation": {"uri": uri}}}
    [finding] = read(log(run({"ruleId": "A", "locations": [location]})))
    assert finding.path == path


@pytest.mark.parametrize(
    ("locations", "line"),
    [
        ([{"physicalLocation": {"region": {"startLine": 4}}}], 4),
        ([{"physicalLocation": {"region": {"startLine": "4"}}}], None),
        ([{"physicalLocation": {"region": {"startLine": True}}}], None),
        ([{"physicalLocation": {"region": 4}}], None),
        ([{"physicalLocation": "x"}], None),
        (["x"], None),
        ([], None),
        ({"physicalLocation": {"region": {"startLine": 4}}}, None),
    ],
)
def test_a_line_is_read_only_from_the_first_location_as_a_whole_number(
    locations: Any, line: int | None
) -> None:
    [finding] = read(log(run({"ruleId": "A", "locations": locations})))
    assert (finding.path, finding.line) == (None, line)


def test_the_title_prefers_rule_descriptions_over_the_message() -> None:
    # Messages can quote the secret found: rule texts first.
    full = {"id": "B1", "fullDescription": {"text": "Full text"}}
    named = {**full, "name": "Rule name"}
    short = {**named, "shortDescription": {"text": "  Short text  "}}
    message = {"message": {"text": "password=hunter2 found"}}
    for rule, title in (
        (short, "Short text"),
        (named, "Rule name"),
        (full, "Full text"),
        ({"id": "B1"}, "password=hunter2 found"),
    ):
        [finding] = read(log(run({"ruleId": "B1", **message}, tool=rules_tool(rule))))
        assert finding.title == title


def test_texts_that_only_repeat_the_rule_id_are_passed_over() -> None:
    # Semgrep's short description and name repeat the rule id.
    rule_id = "python.lang.security.audit.eval"
    rule = {
        "id": rule_id,
        "name": rule_id,
        "shortDescription": {"text": f"Semgrep Finding: {rule_id}"},
        "fullDescription": {"text": "Detected the use of eval()"},
    }
    [finding] = read(log(run({"ruleId": rule_id}, tool=rules_tool(rule))))
    assert finding.title == "Detected the use of eval()"
    [bare] = read(log(run({"ruleId": rule_id, "message": {"text": rule_id}})))
    assert bare.title == rule_id


def test_blank_or_malformed_texts_are_passed_over() -> None:
    rule = {
        "id": "R",
        "name": 7,
        "shortDescription": {"text": "   "},
        "fullDescription": "not an object",
    }
    result = {"ruleId": "R", "message": {"text": ["x"]}}
    [finding] = read(log(run(result, tool=rules_tool(rule))))
    assert finding.title == "R"


def test_a_title_is_one_line_of_at_most_140_characters() -> None:
    text = "word\n\tword   " + "x" * 300
    [finding] = read(log(run({"ruleId": "R", "message": {"text": text}})))
    assert finding.title == ("word word " + "x" * 300)[: sarif.TITLE_CHARS]
    assert len(finding.title) == 140


def test_kept_texts_are_cut_to_200_characters_before_the_title_is_made() -> None:
    # The reader keeps 200 characters of a text, so a title cannot depend on what comes after.
    rule = {"id": "R", "name": "n" * 199 + " R"}
    [finding] = read(log(run({"ruleId": "R"}, tool=rules_tool(rule))))
    assert finding.title == "n" * 140
    long_message = "m" * 199 + " R"
    [by_message] = read(log(run({"ruleId": "R", "message": {"text": long_message}})))
    assert by_message.title == "m" * 140
    description = {"id": "R", "fullDescription": {"text": "d" * 199 + " R"}}
    [by_description] = read(log(run({"ruleId": "R"}, tool=rules_tool(description))))
    assert by_description.title == "d" * 140


# --- limits ---


def test_findings_past_the_limit_are_refused_as_they_are_read() -> None:
    results = [{"ruleId": f"R{i}"} for i in range(3)]
    assert len(read(log(run(*results)), limit=3)) == 3
    assert refused(log(run(*results)), limit=2) == (
        "runs[0].results holds more findings than the gate can hold in memory (2 left of its "
        "limit); fix or allow-list findings, or split the scan"
    )


def test_the_limit_is_shared_by_every_run_of_the_log() -> None:
    document = log(run({"ruleId": "A"}, {"ruleId": "B"}), run({"ruleId": "C"}, {"ruleId": "D"}))
    assert len(read(document, limit=4)) == 4
    assert refused(document, limit=3).startswith(
        "runs[1].results holds more findings than the gate can hold in memory (1 left"
    )


def test_skipped_results_do_not_count_towards_the_limit() -> None:
    results = [{"ruleId": "A", "kind": "pass"}] * 5 + [{"ruleId": "B"}]
    assert [f.rule for f in read(log(run(*results)), limit=1)] == ["B"]


def test_a_limit_in_thousands_is_written_with_separators() -> None:
    message = refused(log(run(*[{"ruleId": "A"}] * 1002)), limit=1001)
    assert "(1,001 left of its limit)" in message


# --- the JSON text itself ---


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (
            '{"runs": [{"tool": {}, "results": [], "results": []}]}',
            "key 'results' appears twice in runs[0]",
        ),
        ('{"runs": [], "runs": []}', "key 'runs' appears twice in the log"),
        (
            '{"runs": [{"tool": {"driver": {"name": "A", "name": "B"}}, "results": []}]}',
            "key 'name' appears twice in runs[0].tool.driver",
        ),
        (
            '{"runs": [{"tool": {"driver": {}, "driver": {"name": "B"}}, "results": []}]}',
            "key 'driver' appears twice in runs[0].tool",
        ),
        (
            '{"runs": [{"tool": {}, "results": [{"kind": "fail", "kind": "pass"}]}]}',
            "key 'kind' appears twice in one object",
        ),
    ],
)
def test_a_key_written_twice_is_refused(text: str, problem: str) -> None:
    # RFC 8259 section 4: readers disagree on duplicate names; the last one used to win.
    assert refused(text) == (
        f"is not valid JSON for the gate: {problem}, so readers disagree on its value; write "
        "each key once"
    )


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "is not valid JSON (Expecting value)"),
        ("   ", "is not valid JSON (Expecting value)"),
        ("{not json", "is not valid JSON (Expecting value)"),
        ('{"runs": [{"tool": {}, "results": []}]', "is not valid JSON: expected ',' in the log"),
        ('{"runs" [] }', "is not valid JSON: expected ':' in the log"),
        ('{"runs": [] "x": 1}', "is not valid JSON: expected ',' in the log"),
        ('{"runs": [{"tool": {}, "results": []} {}]}', "is not valid JSON: expected ',' in runs"),
        ('{"runs": [{"tool": {} "results": []}]}', "is not valid JSON: expected ',' in runs[0]"),
        (
            '{"runs": [{"tool": {}, "results": [{"ruleId": "A"}]}]} {}',
            "is not valid JSON: there is more text after the log",
        ),
        (
            '{"runs": [{"tool": {}, "results": []}]}x',
            "is not valid JSON: there is more text after the log",
        ),
        (
            '{"runs": [{"tool": {}, "results": [{} 2]}]}',
            "is not valid JSON: expected ',' in runs[0].results",
        ),
        ('{"runs": [{"tool": {}, "results": [{"a": }]}]}', "is not valid JSON (Expecting value)"),
        ("{1: 2}", "is not valid JSON: a key in the log is not a string"),
        (
            '{"runs": [{"tool": {}, "results": []}], 5: 1}',
            "is not valid JSON: a key in the log is not a string",
        ),
    ],
)
def test_text_that_is_not_json_is_refused(text: str, problem: str) -> None:
    assert refused(text) == problem


def test_whitespace_between_tokens_is_allowed_anywhere() -> None:
    text = (
        ' \n\t{ "runs" :\r\n [ { "tool" : { "driver" : { "name" : "T" } } , '
        '"results" : [ ] } ] } \n'
    )
    assert read(text) == []


def test_empty_objects_and_arrays_are_walked() -> None:
    document = {"runs": [{"tool": {"driver": {"rules": []}, "extensions": []}, "results": [{}]}]}
    [finding] = read(document)
    assert (finding.tool, finding.rule, finding.severity) == (
        "unknown tool",
        "unknown-rule",
        "medium",
    )
    assert read('{"runs":[{"tool":{},"results":[]}],"x":{}}') == []


_LOG = log(
    run(
        {
            "ruleId": "CVE-2024-0001",
            "message": {"text": "x" * 50},
            "properties": {"security-severity": 9.85},
            "locations": [{"physicalLocation": {"region": {"startLine": 123456}}}],
        },
        {"ruleId": "B", "level": "error", "suppressions": []},
        tool=rules_tool({"id": "B", "name": "n" * 20}),
    ),
    run(invocations=[{"executionSuccessful": True}]),
)


@pytest.mark.parametrize("chunk", [1, 2, 3, 5, 7, 64])
@pytest.mark.parametrize("indent", [None, 1])
def test_a_log_read_a_few_characters_at_a_time_gives_the_same_findings(
    chunk: int, indent: int | None
) -> None:
    # Values and numbers cut by a read boundary are read whole (a 9.85 cut after "9." is 9.85).
    text = json.dumps(_LOG, indent=indent)
    expected = read(text)
    assert [(f.rule, f.severity, f.line) for f in expected] == [
        ("CVE-2024-0001", "critical", 123456),
        ("B", "high", None),
    ]
    assert read(text, chunk=chunk) == expected


def test_a_log_bigger_than_one_read_is_read_whole() -> None:
    results = [{"ruleId": f"R{i}", "message": {"text": "y" * 100}} for i in range(5000)]
    text = json.dumps(log(run(*results)))
    assert len(text) > 2 * sarif.CHUNK_CHARS
    findings = read(text, limit=10_000)
    assert [f.rule for f in findings] == [f"R{i}" for i in range(5000)]


def test_a_number_cut_at_a_read_boundary_is_read_whole() -> None:
    # 12345 cut after "12" is no number followed by "345": the reader reads on before deciding.
    head = '{"x": 12'
    text = head + '345, "runs": [{"tool": {}, "results": [{"ruleId": "A"}]}]}'
    assert [f.rule for f in read(text, chunk=len(head))] == ["A"]


def test_a_truncated_log_is_refused() -> None:
    text = json.dumps(_LOG)
    for cut in range(1, len(text), 7):
        with pytest.raises(sarif.UnreadableError, match="is not valid JSON"):
            read(text[:cut])


def test_the_reader_holds_a_window_of_the_report_not_the_report(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Issue 17 defect 7: memory follows the largest value, not the report. A report of a
    megabyte of results that are no findings (kind "pass") is read through a window of a few
    reads; reading it whole, or reading on past each value, held all of it."""
    monkeypatch.setattr(sarif, "CHUNK_CHARS", 4096)
    passed = [
        {"ruleId": f"R{i}", "kind": "pass", "message": {"text": "x" * 200}} for i in range(4000)
    ]
    text = json.dumps(log(run(*passed), run({"ruleId": "LAST", "level": "error"})))
    assert len(text) > 1_000_000
    stream = io.StringIO(text)  # made before tracing: the report itself is not the reader's
    tracemalloc.start()
    try:
        findings = sarif.read_findings(stream, REPORT, 10)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert summary(findings) == [("LAST", "high")]
    assert peak < 200_000, f"peak {peak:,} bytes for a {len(text):,}-character report"


_DEEP = "[" * 100_000 + "]" * 100_000
_LONG = "1" * 5_000
_IN_RESULT = (
    '{"runs": [{"tool": {"driver": {"name": "T"}}, "results": [{"ruleId": "A", '
    '"properties": {"x": %s}}]}]}'
)
_IN_RULE = (
    '{"runs": [{"tool": {"driver": {"name": "T", "rules": [{"id": "A", "properties": '
    '{"security-severity": %s}}]}}, "results": []}]}'
)
_SKIPPED = '{"runs": [{"tool": {"driver": {"name": "T"}}, "results": [], "notes": %s}]}'


@pytest.mark.parametrize(
    ("document", "problem"),
    [
        # The C decoder recurses per level: RecursionError, not a JSONDecodeError.
        (_IN_RESULT % _DEEP, "a value is nested too deeply to read"),
        (_IN_RULE % _DEEP, "a value is nested too deeply to read"),
        # Python refuses int() of more than 4,300 digits with a ValueError (CVE-2020-10735).
        (_IN_RESULT % _LONG, "a number has more digits than Python reads (4,300)"),
        (_IN_RULE % _LONG, "a number has more digits than Python reads (4,300)"),
        (_SKIPPED % _LONG, "a number has more digits than Python reads (4,300)"),
        ('{"runs": [' + _LONG + "]}", "a number has more digits than Python reads (4,300)"),
    ],
)
def test_values_the_decoder_cannot_hold_are_unreadable_not_a_crash(
    document: str, problem: str
) -> None:
    # Hostile SARIF (review of issue 17): these escaped the reader as RecursionError and
    # ValueError, so the gate failed with "Scan gate error" naming no report instead of
    # counting this one report as unreadable beside the others.
    assert refused(document) == f"is not valid JSON for the gate: {problem}"


@pytest.mark.parametrize(
    "place",
    [
        # SARIF 3.14.15 run.artifacts: every file the tool looked at (CodeQL writes it).
        lambda big: log(run({"ruleId": "LAST", "level": "error"}, artifacts=big)),
        lambda big: {
            **log(run({"ruleId": "LAST", "level": "error"})),
            "inlineExternalProperties": big,
        },
        lambda big: log(
            run(
                {"ruleId": "LAST", "level": "error"},
                tool={"driver": {"name": "T", "notifications": big}},
            )
        ),
        lambda big: log(
            run(
                {"ruleId": "LAST", "level": "error"},
                invocations=[{"executionSuccessful": True, "toolExecutionNotifications": big}],
            )
        ),
    ],
)
def test_values_the_gate_skips_are_walked_not_built(
    monkeypatch: pytest.MonkeyPatch, place: Any
) -> None:
    """Review of issue 17 defect 7: properties the gate does not read were decoded whole to be
    skipped. A 49 MiB report whose run.artifacts held a million small objects peaked at 571 MiB
    in a 512 MB function (benchmarks-style process peak, boto3 clients loaded)."""
    monkeypatch.setattr(sarif, "CHUNK_CHARS", 4096)
    big = [
        {"location": {"uri": f"src/f{i}.py"}, "length": i, "roles": ["analysisTarget"]}
        for i in range(15_000)
    ]
    text = json.dumps(place(big))
    assert len(text) > 1_000_000
    stream = io.StringIO(text)
    tracemalloc.start()
    try:
        findings = sarif.read_findings(stream, REPORT, 10)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert summary(findings) == [("LAST", "high")]
    assert peak < 200_000, f"peak {peak:,} bytes for a {len(text):,}-character report"


@pytest.mark.parametrize(
    ("skipped", "problem"),
    [
        ("[1 2]", "is not valid JSON: expected ',' in a value the gate skips"),
        ('{"a" 1}', "is not valid JSON: expected ':' in a value the gate skips"),
        ("{1: 2}", "is not valid JSON: a key in a value the gate skips is not a string"),
        ('{"a": 1,}', "is not valid JSON (Expecting value)"),
        ("[1,]", "is not valid JSON (Expecting value)"),
        ("[}", "is not valid JSON (Expecting value)"),
        ('{"a": [1, {"b": }]}', "is not valid JSON (Expecting value)"),
        ("[" * 100_000 + "]" * 99_999, "is not valid JSON: expected ',' in a value the gate skips"),
    ],
)
def test_a_skipped_value_must_still_be_json(skipped: str, problem: str) -> None:
    text = '{"runs": [{"tool": {}, "results": [], "artifacts": ' + skipped + "}]}"
    assert refused(text) == problem


def test_deep_skipped_values_and_every_empty_container_are_walked() -> None:
    deep = "[" * 100_000 + "]" * 100_000
    skipped = (
        '{"a": [], "b": {}, "c": [{}, [], {"d": [1, "x", null, true, 2.5e3]}], "e": ' + deep + "}"
    )
    text = (
        '{"x": '
        + skipped
        + ', "runs": [{"tool": {}, "results": [{"ruleId": "A"}], "y": '
        + skipped
        + "}]}"
    )
    assert [f.rule for f in read(text)] == ["A"]


def test_a_single_value_larger_than_the_gate_holds_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Review of issue 17 defect 7: a value is decoded whole, and a text with one character
    outside Latin-1 takes four bytes per character in Python. One 49.6 MiB result message
    with an emoji peaked at 465 MiB (process, boto3's clients loaded) of the 512 MB function.
    A value past MAX_VALUE_CHARS is refused, named, before its window grows further."""
    monkeypatch.setattr(sarif, "CHUNK_CHARS", 1024)
    monkeypatch.setattr(sarif, "MAX_VALUE_CHARS", 50_000)
    fits = {"ruleId": "A", "level": "error", "message": {"text": "\U0001f600" + "a" * 40_000}}
    assert [f.rule for f in read(log(run(fits)))] == ["A"]
    huge = {"ruleId": "A", "level": "error", "message": {"text": "\U0001f600" + "a" * 60_000}}
    assert refused(log(run(huge))) == (
        "is not valid JSON for the gate: a single value is longer than 50,000 characters "
        "(the gate decodes each result and rule whole); shorten or split the report"
    )
    # A value the gate skips is walked, so only its scalars count.
    skipped = log(run({"ruleId": "B"}, artifacts=[{"uri": "x" * 100} for _ in range(2_000)]))
    assert [f.rule for f in read(skipped)] == ["B"]
