"""The runner's own behaviour, checked in this process (worker processes are out of a test's
sight): reading standard input, size and memory bounds per file, messages of internal errors,
``check_text``'s contract."""

from __future__ import annotations

import io
import json
import multiprocessing
import os
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from conveyor.rules import bounds, check_paths, check_text
from conveyor.rules import runner as runner_module
from conveyor.rules.engine import Options
from conveyor.rules.runner import Target, check_target, internal_error, read_stdin
from conveyor.rules.template import MAX_BYTES

GOOD = "Resources:\n  Repo:\n    Type: AWS::ECR::Repository\n"
TOO_LARGE = (
    "is too large to be a CloudFormation template "
    "(CloudFormation accepts 1 MB, conveyor reads up to 10 MiB): split the stack"
)


def test_standard_input_is_read_as_bytes_up_to_one_past_the_cap(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(runner_module, "MAX_BYTES", 10)
    raw = "é123456789abcdef".encode()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(raw)))
    assert read_stdin() == raw[:11]


def test_standard_input_without_bytes_is_encoded_as_a_file_would_be(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(runner_module, "MAX_BYTES", 4)
    # A text stream with no .buffer (an embedding application's); a lone surrogate stands for
    # a byte that was not UTF-8, and goes back to that byte.
    monkeypatch.setattr(sys, "stdin", io.StringIO("é\udcffxyz-more"))
    assert read_stdin() == b"\xc3\xa9\xffxyz"


def test_no_standard_input_reads_as_empty(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", None)
    assert read_stdin() == b""


@pytest.mark.parametrize(
    ("length", "shown"),
    [(300, "x" * 288), (301, "x" * 288 + "..."), (400, "x" * 288 + "...")],
)
def test_internal_error_details_are_cut_after_300_characters(length: int, shown: str) -> None:
    error = internal_error("t.yaml", ValueError("x" * (length - len("ValueError: "))))
    assert error.file == "t.yaml"
    assert error.message == (
        f"t.yaml: internal error while checking this file: ValueError: {shown} "
        "(a bug in conveyor: please report it with the template)"
    )


def test_an_os_error_without_text_is_named_by_its_type(tmp_path: Path) -> None:
    assert runner_module._reason(OSError()) == "OSError"
    assert runner_module._reason(PermissionError(13, "Permission denied")) == "Permission denied"


def test_check_text_names_stdin_checks_bytes_as_named_input_and_times_itself() -> None:
    before = time.perf_counter()
    result = check_text(b"foo: bar\n")
    took = time.perf_counter() - before
    assert [(e.file, e.message) for e in result.errors] == [
        (
            "<stdin>",
            "<stdin>: not a CloudFormation template (no Resources mapping); add a Resources "
            "section or leave the file out",
        )
    ]
    assert 0 <= result.seconds <= took
    assert {f.file for f in check_text(GOOD).findings} == {"<stdin>"}


def test_check_text_passes_the_input_kind_on() -> None:
    (error,) = check_text(GOOD, name="t.yaml", input_kind="terraform").errors
    assert error.message.startswith("t.yaml: --input terraform reads JSON")
    assert check_text(GOOD, name="t.yaml", input_kind="cloudformation").errors == []


def test_input_over_the_size_cap_is_refused_with_the_cap_in_the_message(tmp_path: Path) -> None:
    result = check_text(b"#" * (MAX_BYTES + 1), name="big.yaml")
    assert [e.message for e in result.errors] == [f"big.yaml: more than 10 MiB {TOO_LARGE}"]
    huge = tmp_path / "huge.yaml"
    with huge.open("wb") as handle:
        handle.truncate(12_345_678)  # sparse
    file_result = check_target(Target(str(huge), True), Options())
    assert [e.message for e in file_result.errors] == [f"{huge}: 12.3 MB {TOO_LARGE}"]


@contextmanager
def _recorded_memory_limits(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """The limits files were checked under; nothing is really capped in the test process."""
    limits: list[int] = []
    real = bounds.memory_bound

    def spy(mib: int) -> object:
        limits.append(mib)
        return real(0)

    monkeypatch.setattr(runner_module, "memory_bound", spy)
    yield limits


def test_worker_functions_check_each_file_under_the_memory_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    good = tmp_path / "good.yaml"
    good.write_text(GOOD)
    broken = tmp_path / "broken.yaml"
    broken.write_text("Resources: [\n")
    options = Options(memory_limit=123, ignore=frozenset({"CV022"}))
    # In a worker Ctrl-C is left to the parent; this test's process must keep its own.
    monkeypatch.setattr(runner_module, "_leave_interrupts_to_the_parent", lambda: None)
    with _recorded_memory_limits(monkeypatch) as limits:
        parent, child = multiprocessing.Pipe(duplex=True)
        for message in (0, 1, None):  # the indices a pool hands out, then the end
            parent.send(message)
        runner_module._serve(child, [Target(str(good), True), Target(str(broken), True)], options)
        results = [parent.recv(), parent.recv()]
        assert child.closed
        with pytest.raises(EOFError):  # two results, then the worker closed its end
            parent.recv()
        assert limits == [123, 123]
        assert [r.file for r in results] == [str(good), str(broken)]
        assert results[0].findings and "CV022" not in {f.rule for f in results[0].findings}
        assert results[1].errors[0].message.startswith(f"{broken}:2: invalid YAML")
        reader, writer = multiprocessing.Pipe(duplex=False)
        runner_module._check_in_child(Target(str(good), True), options, writer)
        assert limits == [123, 123, 123]
        assert reader.recv() == results[0]
        assert writer.closed
        # In this process (not a worker) no limit applies.
        check_target(Target(str(good), True), options)
        assert limits == [123, 123, 123, 0]


@pytest.mark.parametrize(
    ("cpus", "files", "jobs"),
    [(4, 0, 1), (4, 79, 1), (4, 80, 2), (4, 159, 3), (4, 10_000, 4), (1, 10_000, 1)],
)
def test_auto_jobs_gives_a_process_per_40_files_up_to_the_usable_cores(
    monkeypatch: pytest.MonkeyPatch, cpus: int, files: int, jobs: int
) -> None:
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(cpus)))
    monkeypatch.setattr(os, "cpu_count", lambda: 64)  # not what the process may use
    assert runner_module.auto_jobs(files) == jobs


@pytest.mark.parametrize(("cpu_count", "jobs"), [(3, 3), (None, 1)])
def test_auto_jobs_without_affinity_counts_cores(
    monkeypatch: pytest.MonkeyPatch, cpu_count: int | None, jobs: int
) -> None:
    monkeypatch.delattr(os, "sched_getaffinity", raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: cpu_count)
    assert runner_module.auto_jobs(10_000) == jobs


def _template(resource: str) -> str:
    return json.dumps({"Resources": {resource: {"Type": "AWS::ECR::Repository"}}})


def test_a_cloud_assembly_is_read_stack_by_stack_nested_stages_included(tmp_path: Path) -> None:
    out = tmp_path / "cdk.out"
    (out / "asset.1234").mkdir(parents=True)
    (out / "assembly-Prod").mkdir()
    (out / "manifest.json").write_text('{"version": "36.0.0"}')
    (out / "App.template.json").write_text(_template("Top"))
    (out / "extra.json").write_text(_template("NotAStack"))  # a file an asset left behind
    (out / "asset.1234" / "inner.template.json").write_text(_template("Asset"))
    (out / "assembly-Prod" / "manifest.json").write_text('{"version": "36.0.0"}')
    (out / "assembly-Prod" / "Prod.template.json").write_text(_template("Staged"))
    result = check_paths([tmp_path])
    assert result.errors == []
    assert {(f.file, f.resource) for f in result.findings if f.resource} == {
        (str(out / "App.template.json"), "Top"),
        (str(out / "assembly-Prod" / "Prod.template.json"), "Staged"),
    }


def test_hidden_and_tool_directories_are_not_searched(tmp_path: Path) -> None:
    for folder in (".hidden", "node_modules", ".git", "src"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "stack.json").write_text(_template(folder.strip(".").title()))
    result = check_paths([tmp_path])
    assert {f.file for f in result.findings} == {str(tmp_path / "src" / "stack.json")}


def test_a_named_pipe_is_read_when_its_writer_comes_within_the_wait(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(runner_module, "WRITER_WAIT", 20.0)
    fifo = tmp_path / "late.yaml"
    os.mkfifo(fifo)

    def write_late() -> None:
        time.sleep(0.3)
        with fifo.open("w") as pipe:
            pipe.write(GOOD)

    threading.Thread(target=write_late, daemon=True).start()
    result = check_target(Target(str(fifo), True), Options())
    assert result.errors == []
    assert result.checked


def test_without_proc_every_pipe_is_waited_on_for_a_bounded_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(runner_module, "WRITER_WAIT", 0.1)

    def no_proc(self: Path) -> Path:
        raise FileNotFoundError(2, "No such file or directory")

    read_end, write_end = os.pipe()
    try:
        path = f"/proc/self/fd/{read_end}"
        if not Path(path).exists():
            pytest.skip("no /proc")
        monkeypatch.setattr(Path, "readlink", no_proc)
        (error,) = check_target(Target(path, True), Options()).errors
    finally:
        os.close(read_end)
        os.close(write_end)
    assert error.message.startswith(f"{path}: a named pipe nothing was written to within 0.1 s")


def test_check_text_passes_ignored_rules_and_required_tags_on() -> None:
    text = (
        "Resources:\n  Repo:\n    Type: AWS::ECR::Repository\n"
        "    Properties: {ImageTagMutability: MUTABLE, Tags: [{Key: App, Value: x}]}\n"
    )
    rules = {f.rule for f in check_text(text, name="t.yaml").findings}
    assert "CV022" in rules and "CV090" not in rules
    assert "CV022" not in {f.rule for f in check_text(text, ignore=["CV022"]).findings}
    tagged = check_text(text, name="t.yaml", require_tags=["Owner"]).findings
    assert [f.message for f in tagged if f.rule == "CV090"] == ["missing required tag(s): Owner"]


def test_check_text_of_something_that_is_no_template_is_an_error_not_skipped() -> None:
    # Text given to check_text was named by its caller: like a file on the command line, what
    # is not a template is said, not passed over as a directory walk would.
    result = check_text("just some words\n", name="notes.txt")
    assert result.files == 0
    assert [e.message for e in result.errors] == [
        "notes.txt: not a CloudFormation template (the document is not a mapping); "
        "a template is a mapping with a Resources section"
    ]
    assert result.exit_code() == 2


def test_a_forked_checks_result_crosses_the_pipe_whole() -> None:
    # A file over 1 MB is checked in a forked child that sends its FileResult back marshalled
    # (runner._flat, _unflat): every field of every finding, suppressed finding and error.
    import marshal

    from conveyor.rules.model import FileError, FileResult, Finding, Severity

    finding = Finding(
        "CV001",
        Severity.HIGH,
        "p.json",
        "aws_s3_bucket.b",
        "Properties.X",
        3,
        "m \udcff",
        "f",
        ("FM1", "FM2"),
        "",
        "k",
    )
    suppressed = Finding(
        "CV009", Severity.INFO, "p.json", "R", "", 1, "n", "g", (), "a written reason", ""
    )
    result = FileResult(
        file="p.json",
        checked=True,
        resources=2,
        findings=[finding],
        suppressed=[suppressed],
        errors=[FileError("p.json", "e", rule="CV002")],
        unchecked={"aws_vpc": 3},
    )
    sent = runner_module._unflat(marshal.loads(marshal.dumps(runner_module._flat(result))))  # noqa: S302
    assert sent == result
    assert type(sent.findings[0].severity) is Severity
    assert sent.findings[0].failure_modes == ("FM1", "FM2")


@pytest.mark.parametrize("call", ["pipe", "fork"])
def test_a_large_file_whose_process_cannot_start_is_its_own_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, call: str
) -> None:
    # A file over 1 MB is checked in a forked child. fork (or pipe) failing -- the process or
    # descriptor limit of a CI container reached -- raised out of check_paths: every file's
    # result was lost to "internal error ... a bug in conveyor". Now that file says why.
    import errno

    def refused(*args: object) -> None:
        raise OSError(errno.EAGAIN, "Resource temporarily unavailable")

    big = tmp_path / "big.yaml"
    big.write_text(GOOD + "# " + "x" * (runner_module.ISOLATE_BYTES + 1) + "\n")
    small = tmp_path / "small.yaml"
    small.write_text(GOOD)
    monkeypatch.setattr(os, call, refused)
    result = check_paths([str(big), str(small)])
    assert [e.message for e in result.errors] == [
        f"{big}: cannot start a process to check it (a file over 1 MB is checked in one, "
        "under --memory-limit): Resource temporarily unavailable; "
        "free processes or memory and run again"
    ]
    assert result.files == 1
    assert result.exit_code() == 2


def test_jobs_whose_workers_cannot_start_name_each_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # --jobs: a worker process that cannot start (fork refused at a container's process
    # limit) raised out of check_paths, and the run ended in "internal error" for every file.
    import errno

    def refused(*args: object) -> None:
        raise OSError(errno.EAGAIN, "Resource temporarily unavailable")

    for name in ("a.yaml", "b.yaml", "c.yaml"):
        (tmp_path / name).write_text(GOOD)
    monkeypatch.setattr(runner_module, "_Worker", refused)
    result = check_paths([str(tmp_path)], jobs=2)
    assert [e.message for e in result.errors] == [
        f"{tmp_path / name}: cannot start a process to check it (--jobs checks each file in "
        "one, under --memory-limit): Resource temporarily unavailable; "
        "free processes or memory and run again"
        for name in ("a.yaml", "b.yaml", "c.yaml")
    ]
    assert result.exit_code() == 2


def test_a_forked_checker_whose_parent_is_gone_exits_without_a_traceback() -> None:
    # `conveyor check big.json` stopped by SIGTERM (a CI job cancelled): the child checking
    # the file finished, met the closed pipe, and printed a BrokenPipeError traceback onto the
    # terminal after the command had ended. A parent gone is no bug: the child exits quietly.
    import subprocess

    code = (
        "import os\n"
        "from conveyor.rules import runner\n"
        "from conveyor.rules.engine import Options\n"
        "reader, writer = os.pipe()\n"
        "os.close(reader)\n"
        f"target = runner.Target('t.yaml', True, {GOOD!r})\n"
        "runner._child(target, Options(), os.open(os.devnull, os.O_RDONLY), writer)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert (done.returncode, done.stderr) == (1, "")
