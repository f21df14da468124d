"""SARIF that GitHub code scanning accepts and dedupes correctly: valid against the official 2.1.0
schema with format checking on, one distinct fingerprint per finding (GitHub merges results that
share one), and no URI that is relative or a placeholder."""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from conveyor.rules import check_paths
from conveyor.rules.catalog import RULES
from conveyor.rules.report import sarif

SCHEMA = json.loads(
    (Path(__file__).parent / "fixtures" / "sarif-schema-2.1.0.json").read_text(encoding="utf-8")
)
CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus" / "public"
# Two CV075 findings on one resource and one property path (no circuit breaker, no grace period).
SERVICE = """Resources:
  Service:
    Type: AWS::ECS::Service
    Properties:
      Cluster: c
      LoadBalancers: [{ContainerName: app, ContainerPort: 80, TargetGroupArn: tg}]
"""


def _sarif(paths: list[Path]) -> dict[str, Any]:
    # Every rule as conveyor check lists them: read from sarif_rules.json, no rule imported.
    return sarif.as_dict(check_paths(paths))


def test_the_listed_rules_are_the_rules_themselves(tmp_path: Path) -> None:
    (tmp_path / "service.yaml").write_text(SERVICE, encoding="utf-8")
    result = check_paths([tmp_path / "service.yaml"])
    assert result.findings
    assert sarif.render(result) == sarif.render(result, RULES)


def test_a_sarif_report_imports_no_rule_its_templates_do_not_call_for(tmp_path: Path) -> None:
    import subprocess
    import sys

    template = tmp_path / "topic.json"
    template.write_text('{"Resources": {"T": {"Type": "AWS::SNS::Topic"}}}', encoding="utf-8")

    def imported_rules(output_format: str) -> tuple[str, int]:
        script = (
            "import sys\n"
            "from conveyor.cli.main import run\n"
            "from conveyor.rules.catalog import RULE_MODULES\n"
            f"sys.argv = ['conveyor', 'check', {str(template)!r}, '--format', {output_format!r}]\n"
            "try:\n    run()\nexcept SystemExit:\n    pass\n"
            "print(sum(m in sys.modules for m in RULE_MODULES), file=sys.stderr)\n"
        )
        done = subprocess.run(
            [sys.executable, "-c", script], capture_output=True, text=True, check=False
        )
        return done.stdout, int(done.stderr.strip().splitlines()[-1])

    report, with_sarif = imported_rules("sarif")
    assert len(json.loads(report)["runs"][0]["tool"]["driver"]["rules"]) == len(RULES)
    assert with_sarif == imported_rules("json")[1] < len(RULES) // 2


def _validate(report: dict[str, Any]) -> None:
    # The schema is draft-04, whose format checker knows `uri` but not `uri-reference` (an
    # artifact's location): draft 7's checks both.
    checker = jsonschema.Draft7Validator.FORMAT_CHECKER
    # Without rfc3986-validator installed jsonschema passes every `uri` silently: make sure the
    # format checks this test relies on really run.
    assert not checker.conforms("docs/rules/CV001.md", "uri")
    assert not checker.conforms("infra dir/a#1.yaml", "uri-reference")
    jsonschema.Draft4Validator(SCHEMA, format_checker=checker).validate(report)


def _fingerprints(report: dict[str, Any]) -> list[str]:
    return [r["partialFingerprints"]["conveyor/v3"] for r in report["runs"][0]["results"]]


def test_valid_against_the_official_schema_with_format_checking(tmp_path: Path) -> None:
    (tmp_path / "stack.yaml").write_text(SERVICE)
    report = _sarif([tmp_path / "stack.yaml"])
    _validate(report)
    driver = report["runs"][0]["tool"]["driver"]
    # The rule pages are not published at an absolute address: no helpUri, no placeholder site.
    assert all("helpUri" not in rule for rule in driver["rules"])
    assert "informationUri" not in driver


@pytest.mark.parametrize("name", ["my stack.yaml", "stack#1.yaml", "100%.yaml", "ünïcode.yaml"])
def test_a_file_name_that_is_no_uri_as_written_is_percent_encoded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    """A path is a URI reference only once encoded: a space, '#' or '%' as written fails the
    schema (GitHub decodes the percent-encoding back to the repository's path)."""
    folder = tmp_path / "infra dir"
    folder.mkdir()
    (folder / name).write_text(SERVICE)
    monkeypatch.chdir(tmp_path)
    report = _sarif([Path("infra dir") / name])
    _validate(report)
    (uri,) = {
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        for r in report["runs"][0]["results"]
    }
    assert uri.startswith("infra%20dir/") and " " not in uri


def test_a_file_name_that_is_not_utf8_is_percent_encoded_byte_by_byte(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file name that is not UTF-8 (Latin-1 from an old archive) reaches Python as a lone
    surrogate: its bytes are percent-encoded as they are on disk, not an internal error that
    loses the whole report."""
    name = os.fsdecode(b"caf\xe9.yaml")
    (tmp_path / name).write_text(SERVICE)
    monkeypatch.chdir(tmp_path)
    report = _sarif([Path(name)])
    _validate(report)
    uris = {
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        for r in report["runs"][0]["results"]
    }
    assert uris == {"caf%E9.yaml"}
    json.loads(sarif.render(check_paths([Path(name)]), RULES))


def test_two_findings_on_one_resource_and_path_have_distinct_fingerprints(tmp_path: Path) -> None:
    (tmp_path / "stack.yaml").write_text(SERVICE)
    report = _sarif([tmp_path / "stack.yaml"])
    results = [r for r in report["runs"][0]["results"] if r["ruleId"] == "CV075"]
    assert len(results) == 2
    prints = {r["partialFingerprints"]["conveyor/v3"] for r in results}
    assert len(prints) == 2


def test_the_same_finding_in_two_files_has_distinct_fingerprints(tmp_path: Path) -> None:
    for name in ("a.yaml", "b.yaml"):
        (tmp_path / name).write_text(SERVICE)
    prints = _fingerprints(_sarif([tmp_path / "a.yaml", tmp_path / "b.yaml"]))
    assert len(prints) == 6  # two CV075 and one CV090 per file
    assert len(set(prints)) == 6


def test_fingerprints_ignore_the_line(tmp_path: Path) -> None:
    """A line added above a finding must not turn it into a new alert."""
    path = tmp_path / "stack.yaml"
    path.write_text(SERVICE)
    before = _sarif([path])
    path.write_text("# a comment\n\n" + SERVICE)
    after = _sarif([path])
    assert _line(after) == _line(before) + 2
    assert _fingerprints(after) == _fingerprints(before)


def _line(report: dict[str, Any]) -> int:
    line: int = report["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"][
        "startLine"
    ]
    return line


def test_identical_findings_are_numbered(tmp_path: Path) -> None:
    """Findings alike in file, rule, resource, path and key (a rule reporting one property
    twice without telling its findings apart) still need two fingerprints; the repeat is
    numbered."""
    (tmp_path / "stack.yaml").write_text(SERVICE)
    result = check_paths([tmp_path / "stack.yaml"])
    result.findings.append(result.findings[0])
    prints = _fingerprints(sarif.as_dict(result, RULES))
    assert prints[0].endswith(":1")
    assert prints[-1] == prints[0][:-2] + ":2"


def test_a_reworded_message_keeps_its_fingerprint(tmp_path: Path) -> None:
    """CV090's one finding per template lists the untagged resources: a resource added to the
    template changes the message, and the alert must stay the same alert (issue 16)."""
    path = tmp_path / "stack.yaml"
    path.write_text("Resources:\n  Queue:\n    Type: AWS::SQS::Queue\n")
    before = _sarif([path])
    path.write_text(
        "Resources:\n  Queue:\n    Type: AWS::SQS::Queue\n  Topic:\n    Type: AWS::SNS::Topic\n"
    )
    after = _sarif([path])
    (was,) = [r for r in before["runs"][0]["results"] if r["ruleId"] == "CV090"]
    (now,) = [r for r in after["runs"][0]["results"] if r["ruleId"] == "CV090"]
    assert was["message"]["text"] != now["message"]["text"]
    assert now["message"]["text"].endswith("Queue, Topic")
    assert now["partialFingerprints"] == was["partialFingerprints"]
    _validate(after)


def test_the_same_finding_with_another_message_has_the_same_fingerprint(tmp_path: Path) -> None:
    (tmp_path / "stack.yaml").write_text(SERVICE)
    result = check_paths([tmp_path / "stack.yaml"])
    reworded = check_paths([tmp_path / "stack.yaml"])
    reworded.findings[:] = [
        dataclasses.replace(f, message=f.message + " (reworded)") for f in reworded.findings
    ]
    assert _fingerprints(sarif.as_dict(reworded, RULES)) == _fingerprints(
        sarif.as_dict(result, RULES)
    )


def test_two_findings_on_one_resource_and_path_differ_by_the_rules_key(tmp_path: Path) -> None:
    """CV075's two findings on one service and path: told apart by the rule's key, not by
    their order (fixing the first must not hand its alert to the second)."""
    (tmp_path / "stack.yaml").write_text(SERVICE)
    results = [
        r for r in _sarif([tmp_path / "stack.yaml"])["runs"][0]["results"] if r["ruleId"] == "CV075"
    ]
    prints = [r["partialFingerprints"]["conveyor/v3"] for r in results]
    assert len(set(prints)) == 2
    assert all(p.endswith(":1") for p in prints)  # distinct digests, no numbering needed
    fixed = SERVICE.replace(
        "      Cluster: c\n",
        "      Cluster: c\n      DeploymentConfiguration:\n"
        "        DeploymentCircuitBreaker: {Enable: true, Rollback: true}\n",
    )
    (tmp_path / "stack.yaml").write_text(fixed)
    report = _sarif([tmp_path / "stack.yaml"])
    _validate(report)
    (left,) = [r for r in report["runs"][0]["results"] if r["ruleId"] == "CV075"]
    grace = next(r for r in results if "HealthCheckGracePeriodSeconds" in r["message"]["text"])
    assert "HealthCheckGracePeriodSeconds" in left["message"]["text"]
    assert left["partialFingerprints"] == grace["partialFingerprints"]


@pytest.mark.skipif(not CORPUS.is_dir(), reason="shared corpus not present")
def test_corpus_report_is_valid_and_every_fingerprint_is_unique() -> None:
    """On the public corpus (1 000+ real templates) the report validates and no two results
    share a fingerprint (before: 274 of 370 repeated across files)."""
    index = json.loads((CORPUS / "index.json").read_text(encoding="utf-8"))
    files = [CORPUS / e["path"] for e in index if e["origin"] == "sample"]
    report = sarif.as_dict(check_paths(files, jobs=2), RULES)
    _validate(report)
    prints = _fingerprints(report)
    assert len(prints) > 1000
    assert len(set(prints)) == len(prints)
    # Every rule tells its findings on one path apart by a key: no repeat needs numbering.
    assert [p for p in prints if not p.endswith(":1")] == []


def _described(rule_id: str) -> dict[str, Any]:
    rules = sarif.as_dict(check_paths([]), RULES)["runs"][0]["tool"]["driver"]["rules"]
    described: dict[str, Any] = next(r for r in rules if r["id"] == rule_id)
    return described


def test_rule_descriptors_say_name_help_tags_and_precision() -> None:
    tls = _described("CV006")
    assert tls["name"] == "BucketPolicyDoesNotDenyRequests"  # words that are not alphanumeric go
    assert tls["fullDescription"]["text"].startswith("Bucket policy does not deny requests")
    assert tls["help"]["markdown"] == tls["help"]["text"].replace("\n", "  \n")
    assert "  \n" in tls["help"]["markdown"]
    assert tls["properties"]["tags"][:2] == ["security", "cloudformation"]
    assert tls["properties"]["precision"] == "high"
    assert tls["defaultConfiguration"] == {"level": "warning"}
    # A slash separates words: "ECS blue/green not fully wired".
    assert _described("CV071")["name"] == "EcsBlueGreenNotFullyWired"
    assert _described("CV063")["properties"]["precision"] == "medium"  # a heuristic rule
    advice = _described("CV040")
    assert advice["properties"]["tags"][:2] == ["maintainability", "cloudformation"]


def test_a_fingerprint_is_the_documented_digest(tmp_path: Path) -> None:
    import hashlib

    (tmp_path / "stack.yaml").write_text("Resources:\n  B:\n    Type: AWS::SQS::Queue\n")
    report = _sarif([tmp_path / "stack.yaml"])
    (result,) = report["runs"][0]["results"]
    uri = result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    identity = "\0".join((uri, "CV090", "B", "Resources.B.Properties", ""))
    expected = hashlib.sha256(identity.encode()).hexdigest()[:32] + ":1"
    assert result["partialFingerprints"]["conveyor/v3"] == expected


def test_the_report_is_indented_json_with_a_final_newline(tmp_path: Path) -> None:
    (tmp_path / "stack.yaml").write_text(SERVICE)
    text = sarif.render(check_paths([tmp_path / "stack.yaml"]), RULES)
    assert text.endswith("}\n")
    assert text.splitlines()[1] == '  "$schema": "https://json.schemastore.org/sarif-2.1.0.json",'


def test_text_encoded_ahead_is_written_as_json_dumps_writes_its_value() -> None:
    from conveyor.rules.report.json import Encoded, dumps_indented

    inner = {"b": [1, {"c": "d\ne"}], "e": []}
    value = {"a": [Encoded(json.dumps(inner, indent=2))], "n": 1}
    assert dumps_indented(value) == json.dumps({"a": [inner], "n": 1}, indent=2)
    # A value the fast encoder leaves to json.dumps: the encoded text is parsed back, not quoted.
    value["x"] = 1.5
    expected = json.dumps({"a": [inner], "n": 1, "x": 1.5}, indent=2)
    assert dumps_indented({**value, "y": {1: 2}}) == json.dumps(
        {"a": [inner], "n": 1, "x": 1.5, "y": {1: 2}}, indent=2
    )
    assert dumps_indented(value) == expected
