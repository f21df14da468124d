"""`conveyor check` as users and other tools call it: exit codes, formats, files, stdin."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
from typer.testing import CliRunner

from conveyor.cli.main import app

SCHEMA = Path(__file__).resolve().parents[1] / "rules" / "fixtures" / "sarif-schema-2.1.0.json"
BAD = """Resources:
  Repo:
    Type: AWS::ECR::Repository
    Properties:
      ImageTagMutability: MUTABLE
      RepositoryName: app
"""
LOW_ONLY = """Resources:
  Alarm:
    Type: AWS::CloudWatch::Alarm
    Properties:
      MetricName: Errors
      Namespace: AWS/Lambda
      Period: 60
      Statistic: Sum
      Threshold: 1
      EvaluationPeriods: 1
      ComparisonOperator: GreaterThanThreshold
"""
runner = CliRunner()


@pytest.fixture
def bad(tmp_path: Path) -> Path:
    path = tmp_path / "stack.yaml"
    path.write_text(BAD)
    return path


def test_findings_exit_1_and_text_names_file_line_rule_resource(bad: Path) -> None:
    result = runner.invoke(app, ["check", str(bad)])
    assert result.exit_code == 1
    assert f"{bad}:5 CV022 medium Repo: image tags are mutable" in result.output
    assert "finding(s)" in result.output.splitlines()[-1]


def test_fail_on_threshold(tmp_path: Path) -> None:
    path = tmp_path / "alarm.yaml"
    path.write_text(LOW_ONLY)
    assert runner.invoke(app, ["check", str(path)]).exit_code == 0
    assert runner.invoke(app, ["check", str(path), "--fail-on", "low"]).exit_code == 1


def test_json_contract(bad: Path) -> None:
    result = runner.invoke(app, ["check", str(bad), "--format", "json"])
    assert result.exit_code == 1
    report = json.loads(result.output)
    assert report["version"] == 1
    assert set(report) == {"version", "findings", "suppressed", "errors", "not_checked", "summary"}
    finding = next(f for f in report["findings"] if f["rule"] == "CV022")
    assert finding == {
        "rule": "CV022",
        "severity": "medium",
        "file": str(bad),
        "resource": "Repo",
        "path": "Resources.Repo.Properties.ImageTagMutability",
        "line": 5,
        "message": finding["message"],
        "fix": finding["fix"],
        "failure_modes": ["FM11"],
    }
    assert report["summary"]["files"] == 1
    assert report["summary"]["resources"] == 1
    assert report["summary"]["findings"] == len(report["findings"])


def test_sarif_validates_against_the_official_schema(bad: Path, tmp_path: Path) -> None:
    (tmp_path / "broken.json").write_text('{"Resources": {')
    result = runner.invoke(app, ["check", str(tmp_path), "--format", "sarif"])
    assert result.exit_code == 2
    sarif = json.loads(result.output)
    jsonschema.validate(sarif, json.loads(SCHEMA.read_text()))
    run = sarif["runs"][0]
    rule_ids = [r["id"] for r in run["tool"]["driver"]["rules"]]
    assert "CV022" in rule_ids
    hit = next(r for r in run["results"] if r["ruleId"] == "CV022")
    location = hit["locations"][0]["physicalLocation"]
    assert location["region"]["startLine"] == 5
    assert location["artifactLocation"]["uri"].endswith("stack.yaml")
    assert rule_ids[hit["ruleIndex"]] == "CV022"
    rule = run["tool"]["driver"]["rules"][hit["ruleIndex"]]
    assert rule["help"]["text"] and rule["properties"]["security-severity"]
    assert run["invocations"][0]["executionSuccessful"] is False


def test_unreadable_input_exit_2_but_other_files_are_checked(bad: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("Resources: [1,\n")
    result = runner.invoke(app, ["check", str(broken), str(bad), "-f", "json"])
    assert result.exit_code == 2
    report = json.loads(result.output)
    assert [e["file"] for e in report["errors"]] == [str(broken)]
    assert {f["file"] for f in report["findings"]} == {str(bad)}


def test_memory_and_time_limits_are_options_and_a_file_past_one_exits_2(
    bad: Path, tmp_path: Path
) -> None:
    hog = tmp_path / "hog.json"  # 5 MB of small mappings: over 50 MiB once parsed
    data = {
        "Resources": {"T": {"Type": "AWS::SNS::Topic"}},
        "Metadata": {"x": [{"a": 1}] * 650_000},
    }
    hog.write_text(json.dumps(data))
    # A fresh process, as a user's run is: a worker forked from this test process (whose heap
    # earlier tests grew and freed) can parse the hog in address space already mapped, which
    # the bound (RLIMIT_AS) does not count.
    conveyor = Path(sys.executable).parent / "conveyor"
    command = [str(conveyor), "check", str(hog), str(bad), "-f", "json", "--memory-limit", "50"]
    run = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert run.returncode == 2, run.stderr
    report = json.loads(run.stdout)
    assert [e["file"] for e in report["errors"]] == [str(hog)]
    assert "over the limit of 50 MiB of memory per file" in report["errors"][0]["message"]
    assert {f["file"] for f in report["findings"]} == {str(bad)}
    result = runner.invoke(app, ["check", str(bad), "-f", "json", "--time-limit", "1e-6"])
    assert result.exit_code == 2
    (error,) = json.loads(result.output)["errors"]
    assert "over the limit of 1e-06 s per file (--time-limit)" in error["message"]
    for option in ("--time-limit", "--memory-limit"):
        assert runner.invoke(app, ["check", str(bad), option, "-1"]).exit_code == 2


@pytest.mark.parametrize(
    ("option", "value", "says"),
    [
        # 0 would stop every file before it is read; inf and huge values overflowed the
        # platform's time_t or C long inside the runner (an "internal error" per file).
        ("--time-limit", "0", "--time-limit must be more than 0 and at most 3600 seconds, not 0"),
        ("--time-limit", "nan", "is not a finite number"),  # refused while the CLI reads it
        ("--time-limit", "inf", "is not a finite number"),
        ("--time-limit", "1e308", "not 1e+308"),
        ("--memory-limit", "99999999999999999999", "--memory-limit must be from 1 to 1048576"),
    ],
)
def test_limits_out_of_range_are_usage_errors_before_any_file_is_read(
    bad: Path, option: str, value: str, says: str
) -> None:
    for jobs in ("1", "2"):
        result = runner.invoke(app, ["check", str(bad), str(bad), "-j", jobs, option, value])
        assert result.exit_code == 2
        assert says in result.stderr and option in result.stderr
        assert "internal error" not in result.output and result.stdout == ""


def test_the_python_api_refuses_limits_out_of_range(bad: Path) -> None:
    from conveyor.rules import check_paths

    with pytest.raises(ValueError, match="--time-limit must be more than 0"):
        check_paths([bad], time_limit=float("inf"))
    with pytest.raises(ValueError, match="--memory-limit must be from 1 to"):
        check_paths([bad], memory_limit=0)
    assert check_paths([bad], time_limit=3600, memory_limit=1 << 20).findings


def test_missing_path_and_unknown_rule_are_usage_errors(bad: Path) -> None:
    missing = runner.invoke(app, ["check", "/no/such/template.yaml"])
    assert missing.exit_code == 2
    assert "no such file or directory" in missing.output
    unknown = runner.invoke(app, ["check", str(bad), "--ignore", "CV999"])
    assert unknown.exit_code == 2
    assert "CV999" in unknown.output
    assert runner.invoke(app, ["check", str(bad), "--format", "xml"]).exit_code == 2


def test_ignore_and_output_file(bad: Path, tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    result = runner.invoke(
        app, ["check", str(bad), "--ignore", "CV022,CV009", "-f", "json", "-o", str(out)]
    )
    assert result.output == ""
    rules = {f["rule"] for f in json.loads(out.read_text())["findings"]}
    assert rules and not rules & {"CV022", "CV009"}


def test_stdin(bad: Path) -> None:
    result = runner.invoke(app, ["check", "-", "-f", "json"], input=BAD)
    assert result.exit_code == 1
    assert {f["file"] for f in json.loads(result.output)["findings"]} == {"<stdin>"}


def test_check_does_not_import_aws_cdk(bad: Path) -> None:
    code = (
        "import sys\nfrom conveyor.cli.main import app\n"
        f"try:\n    app(['check', {str(bad)!r}])\nexcept SystemExit as e:\n    code = e.code\n"
        "assert 'aws_cdk' not in sys.modules, 'aws_cdk imported'\nprint(code)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.stdout.strip().splitlines()[-1] == "1", done.stderr


def test_invalid_utf8_on_stdin_exits_2_naming_stdin() -> None:
    raw = b"Resources:\n  R: {Type: AWS::SNS::Topic}\n# caf\xe9\n"
    result = runner.invoke(app, ["check", "-"], input=raw)
    assert result.exit_code == 2, result.output
    assert "error <stdin>: not valid UTF-8 (byte 45, line 3)" in result.output


def test_lone_surrogate_in_a_resource_name_prints_escaped(tmp_path: Path) -> None:
    path = tmp_path / "stack.json"
    path.write_text('{"Resources": {"R\\ud800": {"Type": "AWS::ECR::Repository"}}}')
    done = subprocess.run(
        [sys.executable, "-c", "from conveyor.cli.main import run; run()", "check", str(path)],
        capture_output=True,
        check=False,
    )
    assert done.returncode == 1, done.stderr
    assert b"CV022 medium R\\ud800: image tags are mutable" in done.stdout
    assert b"Traceback" not in done.stderr
    as_json = runner.invoke(app, ["check", str(path), "-f", "json"])
    assert as_json.exit_code == 1
    assert {f["resource"] for f in json.loads(as_json.output)["findings"]} == {"R\ud800"}


@pytest.mark.parametrize("encoding", ["ascii", "latin-1", "cp1252"])
def test_names_the_output_encoding_cannot_write_print_escaped(
    tmp_path: Path, encoding: str
) -> None:
    """A standard output that is not UTF-8 (PYTHONIOENCODING, a POSIX locale with UTF-8 mode off,
    a Windows console or redirect) still gets the whole report: a resource or file name it
    cannot encode is shown with backslash escapes, not an internal error that loses the report."""
    folder = tmp_path / "st\u00e4ck"
    folder.mkdir()
    path = folder / "stack.yaml"
    path.write_text('Resources:\n  "R\u65e5\u00e9":\n    Type: AWS::ECR::Repository\n')
    done = subprocess.run(
        [sys.executable, "-c", "from conveyor.cli.main import run; run()", "check", str(path)],
        capture_output=True,
        check=False,
        env={**os.environ, "PYTHONIOENCODING": encoding, "PYTHONUTF8": "0"},
    )
    assert done.returncode == 1, done.stderr
    assert b"internal error" not in done.stderr
    assert b"CV022 medium R\\u65e5" in done.stdout
    assert b"1 file(s), 1 resource(s)" in done.stdout


def test_an_empty_path_exits_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "stack.yaml").write_text(BAD)
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["check", ""])
    assert result.exit_code == 2
    assert "'' (an empty path) names no file" in result.output
    assert "CV022" not in result.output


def test_an_internal_error_exits_2_not_1_and_says_so(
    bad: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from conveyor.rules import runner as rules_runner

    def crash(*args: object, **kwargs: object) -> object:
        raise KeyError("boom")

    monkeypatch.setattr(rules_runner, "check_paths", crash)
    result = runner.invoke(app, ["check", str(bad)])
    assert result.exit_code == 2
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "internal error in conveyor check: KeyError: 'boom'" in result.output
    assert "a bug in conveyor" in result.output


def test_a_file_that_crashes_the_parser_exits_2_naming_it(tmp_path: Path, bad: Path) -> None:
    crash = tmp_path / "crash.yaml"
    crash.write_text("Resources:\n  R:\n    Type: AWS::SNS::Topic\n    Properties: {X: 0x_}\n")
    result = runner.invoke(app, ["check", str(tmp_path), "-f", "json", "-j", "2"])
    assert result.exit_code == 2
    report = json.loads(result.output)
    assert [e["file"] for e in report["errors"]] == [str(crash)]
    assert {f["file"] for f in report["findings"]} == {str(bad)}


def test_control_characters_in_names_print_escaped_not_obeyed(tmp_path: Path) -> None:
    # An ESC would let a hostile template recolour or erase the report; a newline in a name
    # (a YAML key, a file name) would forge a finding line of its own.
    directory = tmp_path / "evil\x1b[2Jdir\nx.yaml:1 CV000"
    directory.mkdir()
    path = directory / "stack.json"
    path.write_text(
        '{"Resources": {"R\\u0000\\u001b[31m\\n  x.yaml:1 fake\\u202e": '
        '{"Type": "AWS::ECR::Repository"}}}'
    )
    done = subprocess.run(
        [sys.executable, "-c", "from conveyor.cli.main import run; run()", "check", str(path)],
        capture_output=True,
        check=False,
    )
    assert done.returncode == 1, done.stderr
    assert b"\x1b" not in done.stdout
    assert b"\x00" not in done.stdout
    assert b"\\x1b[2Jdir\\nx.yaml:1 CV000" in done.stdout
    assert b"CV022 medium R\\x00\\x1b[31m\\n  x.yaml:1 fake\\u202e: image tags" in done.stdout
    assert all(not line.startswith(b"  x.yaml") for line in done.stdout.splitlines())


@pytest.mark.parametrize("output_format", ["text", "json"])
def test_a_closed_pipe_exits_2_not_1_the_code_for_findings(
    tmp_path: Path, output_format: str
) -> None:
    # `conveyor check templates/ | head -1` under `set -o pipefail`: the report was not
    # delivered, and a clean template must not look like one with findings.
    path = tmp_path / "clean.json"
    path.write_text('{"Resources": {}}')
    cli = [sys.executable, "-c", "from conveyor.cli.main import run; run()"]
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        done = subprocess.run(
            [*cli, "check", str(path), "--format", output_format],
            stdout=write_end,
            stderr=subprocess.PIPE,
            check=False,
        )
    finally:
        os.close(write_end)
    assert done.returncode == 2, done.stderr
    assert b"cannot write the report to standard output: Broken pipe" in done.stderr
    assert b"Traceback" not in done.stderr


def test_text_report_through_a_pipe_keeps_long_paths_on_one_line(tmp_path: Path) -> None:
    deep = tmp_path.joinpath(*(f"{'d' * 60}{n}" for n in range(4)))
    deep.mkdir(parents=True)
    template = deep / "template.yaml"
    template.write_text(BAD)
    result = runner.invoke(app, ["check", str(template)])
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[0] == str(template)  # the file heading, unbroken
    assert all(line.startswith(f"  {template}:") for line in lines[1:-1]), result.stdout


def _checker_children(pid: int) -> list[str]:
    try:
        return Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return []


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="needs Linux /proc")
@pytest.mark.parametrize("whole_group", [False, True], ids=["to-conveyor", "to-the-group"])
def test_an_interrupted_check_exits_130_without_a_traceback_or_an_orphan(
    tmp_path: Path, whole_group: bool
) -> None:
    # A named pipe nobody writes to keeps the worker process waiting (for up to 10 s): the
    # check is interrupted while a worker runs, as Ctrl-C (the whole group) or a CI runner
    # signalling conveyor alone would. click's own answer was "Aborted!" and exit 1, the code
    # for findings; a worker hit by Ctrl-C printed a traceback; a worker outlived conveyor.
    import signal
    import time

    fifo = tmp_path / "template.json"
    os.mkfifo(fifo)
    conveyor = Path(sys.executable).parent / "conveyor"
    proc = subprocess.Popen(
        [str(conveyor), "check", str(fifo)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        waited = time.monotonic()
        while not _checker_children(proc.pid) and time.monotonic() - waited < 60:
            time.sleep(0.05)
        children = _checker_children(proc.pid)
        assert children, "the worker process never started"
        if whole_group:
            os.killpg(proc.pid, signal.SIGINT)
        else:
            proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130
    assert err == "error: conveyor check interrupted; nothing was reported\n"
    assert not any(Path(f"/proc/{child}").exists() for child in children)


@pytest.mark.parametrize("value", [",,,", "", " , "])
def test_require_tags_naming_no_tag_is_refused(tmp_path: Path, value: str) -> None:
    # Read as "any tag", an empty list would pass a template the user meant to hold to named tags.
    template = tmp_path / "t.yaml"
    template.write_text("Resources:\n  Topic:\n    Type: AWS::SNS::Topic\n")
    result = runner.invoke(app, ["check", str(template), "--require-tags", value])
    assert result.exit_code == 2
    assert "--require-tags names no tag" in result.output
    named = runner.invoke(app, ["check", str(template), "--require-tags", "Owner,,"])
    assert named.exit_code != 2, named.output


def test_output_naming_an_input_is_refused_and_the_input_kept(bad: Path, tmp_path: Path) -> None:
    # The same file by its own name, through a symbolic link and through a hard link: the
    # report would have replaced the template (and exited 0 on a clean one).
    link = tmp_path / "link.yaml"
    link.symlink_to(bad)
    hard = tmp_path / "hard.yaml"
    hard.hardlink_to(bad)
    for output in (bad, link, hard):
        result = runner.invoke(app, ["check", str(bad), "-o", str(output)])
        assert result.exit_code == 2, result.output
        assert f"--output {output} is the input {bad}" in result.stderr
        assert "write the report to another file" in result.stderr
        assert bad.read_text() == BAD
    other = tmp_path / "report.txt"
    other.write_text("old report")
    assert runner.invoke(app, ["check", str(bad), "-o", str(other)]).exit_code == 1
    assert "CV022" in other.read_text()


def test_output_naming_a_template_found_in_a_directory_is_refused(tmp_path: Path) -> None:
    # `conveyor check dir/ -o dir/stack.yaml`: the template is found by the scan, not named,
    # and the report used to replace it.
    root = tmp_path / "templates"
    nested = root / "nested"
    nested.mkdir(parents=True)
    inner = nested / "stack.yaml"
    inner.write_text(BAD)
    hard = tmp_path / "hard.yaml"
    hard.hardlink_to(inner)
    for output in (inner, hard):
        result = runner.invoke(app, ["check", str(root), "-o", str(output)])
        assert result.exit_code == 2, result.output
        assert f"--output {output} is the input {inner}" in result.stderr
        assert inner.read_text() == BAD
    # A file the scan does not read (not a template name) may be the report.
    report = root / "report.txt"
    report.write_text("old report")
    assert runner.invoke(app, ["check", str(root), "-o", str(report)]).exit_code == 1
    assert "CV022" in report.read_text()


def test_output_empty_is_refused_and_dash_is_standard_output(
    bad: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    empty = runner.invoke(app, ["check", str(bad), "-o", ""])
    assert empty.exit_code == 2
    assert "--output '' (an empty path) names no file; name a file" in empty.stderr
    assert "--output ." not in empty.stderr and empty.stdout == ""
    monkeypatch.chdir(tmp_path)
    dash = runner.invoke(app, ["check", str(bad), "-o", "-", "-f", "json"])
    assert dash.exit_code == 1
    assert json.loads(dash.stdout)["findings"]
    assert not (tmp_path / "-").exists()


def test_jobs_past_the_bound_is_a_usage_error_before_any_file_is_read(bad: Path) -> None:
    from conveyor.rules import check_paths
    from conveyor.rules.bounds import MAX_JOBS

    result = runner.invoke(app, ["check", str(bad), "--jobs", "999999"])
    assert result.exit_code == 2
    assert f"--jobs must be at most {MAX_JOBS}, not 999999" in result.stderr
    assert result.stdout == ""
    assert runner.invoke(app, ["check", str(bad), "--jobs", str(MAX_JOBS)]).exit_code == 1
    with pytest.raises(ValueError, match="--jobs must be at most"):
        check_paths([bad], jobs=MAX_JOBS + 1)


def test_help_states_the_ranges_the_limits_accept() -> None:
    from conveyor.rules.bounds import MAX_JOBS

    shown = " ".join(runner.invoke(app, ["check", "--help"], env={"COLUMNS": "400"}).output.split())
    # 0 is refused (it would stop every file before it is read): "(at least 0)" lied.
    assert "(at least 0)  [default: 60.0]" not in shown
    assert "more than 0, at most 3600" in shown
    assert "from 1 to 1048576" in shown
    assert f"at most {MAX_JOBS}" in shown


def test_interrupted_while_the_report_is_written_says_it_is_incomplete(
    bad: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Ctrl-C while a long report was being written (a 12 MB JSON report into a pipe) left part
    # of it on standard output and said "nothing was reported".
    from conveyor.cli import checking

    def cut(*args: object, **kwargs: object) -> None:
        sys.stdout.write('{"version": 1, "findings": [')
        raise KeyboardInterrupt

    monkeypatch.setattr(checking, "_write", cut)
    result = runner.invoke(app, ["check", str(bad), "-f", "json"])
    assert result.exit_code == 130
    assert '{"version": 1, "findings": [' in result.output
    assert (
        "error: conveyor check interrupted while writing the report; the report is incomplete"
        in (result.output)
    )
    assert "nothing was reported" not in result.output
