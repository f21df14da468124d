"""Hostile input found by mutation fuzzing (issue 18, items 1-11): every case is an error that
names the file (exit 2) or a quiet skip, never a traceback, a hang or a lost result."""

from __future__ import annotations

import ctypes
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from conveyor.rules import check_paths, check_text
from conveyor.rules import runner as runner_module
from conveyor.rules import template as template_module
from conveyor.rules.engine import Options
from conveyor.rules.template import MAX_BYTES

CONVEYOR = [sys.executable, "-c", "from conveyor.cli.main import run; run()"]
GOOD = "Resources:\n  Repo:\n    Type: AWS::ECR::Repository\n"
BAD_VALUES = [
    "0x_",
    "0b_",
    "!!int abc",
    "!!float x",
    "!!bool maybe",
    "!!omap [a: 1]",
    "!!map [a, b]",
    "!!map x",
    "!!seq {a: 1}",
    "!!seq x",
    "!!int [1]",
    "!!timestamp [1]",
    "!!binary aGk=",
    "!!set {a}",
    "!!pairs [a: 1]",
]


def _with_value(value: str) -> str:
    return f"Resources:\n  R:\n    Type: AWS::SNS::Topic\n    Properties:\n      X: {value}\n"


def _one_error(result: object, name: str) -> str:
    assert result.findings == []  # type: ignore[attr-defined]
    errors = result.errors  # type: ignore[attr-defined]
    assert len(errors) == 1, errors
    assert result.exit_code() == 2  # type: ignore[attr-defined]
    assert errors[0].file == name
    message: str = errors[0].message
    assert message.startswith(name)
    return message


@pytest.mark.parametrize("value", BAD_VALUES)
def test_yaml_values_that_crashed_the_parser_are_errors_on_their_line(
    tmp_path: Path, value: str
) -> None:
    path = tmp_path / "t.yaml"
    path.write_text(_with_value(value))
    message = _one_error(check_paths([path]), str(path))
    assert message.startswith(f"{path}:5: invalid YAML: ")
    assert "internal error" not in message


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0x_", "'0x_' is not a valid integer; correct it, or quote it"),
        ("!!float x", "'x' is not a valid number"),
        ("!!bool maybe", "'maybe' is not a valid boolean (true or false)"),
        ("!!map [a, b]", "the tag !!map cannot apply to a list; remove the tag"),
        ("!!seq {a: 1}", "the tag !!seq cannot apply to a mapping"),
        ("!!seq x", "the tag !!seq cannot apply to a scalar"),
        ("!!set {a}", "the YAML tag !!set has no meaning in CloudFormation; remove it"),
        ("!!int " + "x" * 100, "'" + "x" * 60 + "... (100 characters)'"),
    ],
)
def test_bad_yaml_values_say_what_to_write(value: str, expected: str) -> None:
    message = _one_error(check_text(_with_value(value), name="t.yaml"), "t.yaml")
    assert expected in message


def test_valid_tagged_values_still_parse() -> None:
    text = _with_value("{A: !!int 0x1F, B: !!float 1.5, C: !!bool yes, D: !!str 3, E: !!null x}")
    result = check_text(text, name="t.yaml")
    assert result.errors == []
    assert result.files == 1


def test_a_crashing_file_in_a_parallel_scan_loses_no_other_result(tmp_path: Path) -> None:
    for index in range(6):
        (tmp_path / f"good{index}.yaml").write_text(GOOD)
    (tmp_path / "bad.yaml").write_text(_with_value("0x_"))
    result = check_paths([tmp_path], jobs=2)
    assert result.files == 6
    assert {f.file for f in result.findings} == {str(tmp_path / f"good{i}.yaml") for i in range(6)}
    assert [e.file for e in result.errors] == [str(tmp_path / "bad.yaml")]


@pytest.mark.parametrize("suffix", [".json", ".yaml"])
def test_integers_over_4300_digits(tmp_path: Path, suffix: str) -> None:
    digits = "9" * 4301
    path = tmp_path / f"big{suffix}"
    if suffix == ".json":
        path.write_text(
            '{"Resources": {"R": {"Type": "AWS::SNS::Topic",\n"Properties": {"X": '
            + digits
            + "}}}}"
        )
        line = 2
    else:
        path.write_text(_with_value(digits))
        line = 5
    message = _one_error(check_paths([path]), str(path))
    assert message.startswith(f"{path}:{line}:")
    assert "a number of 4,301 digits" in message
    assert "quote it" in message
    assert len(message) < 400


def test_a_4300_digit_integer_is_still_a_number() -> None:
    assert check_text(_with_value("9" * 4300), name="t.yaml").errors == []


def test_invalid_utf8_on_stdin_is_an_error_naming_stdin() -> None:
    raw = b"Resources:\n  R: {Type: AWS::SNS::Topic}\n# caf\xe9\n"
    result = check_paths(["-"], stdin_text=raw)
    message = _one_error(result, "<stdin>")
    assert "not valid UTF-8 (byte 45, line 3)" in message


def test_stdin_over_the_size_cap_is_refused() -> None:
    result = check_paths(["-"], stdin_text=b"#" * (MAX_BYTES + 1))
    assert "too large" in _one_error(result, "<stdin>")


def test_stdin_of_dev_zero_ends_with_an_error() -> None:
    with Path("/dev/zero").open("rb") as zero:
        done = subprocess.run(
            [*CONVEYOR, "check", "-"],
            stdin=zero,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    assert done.returncode == 2, done.stderr
    assert "<stdin>: more than 10 MiB is too large" in done.stdout
    assert "Traceback" not in done.stderr


def _links(tmp_path: Path) -> None:
    (tmp_path / "stack.yaml").write_text(GOOD)
    (tmp_path / "loop1.yaml").symlink_to("loop2.yaml")
    (tmp_path / "loop2.yaml").symlink_to("loop1.yaml")


def test_a_symlink_loop_in_a_directory_is_reported_and_the_rest_checked(tmp_path: Path) -> None:
    _links(tmp_path)
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "up").symlink_to("..")  # a directory link back up is not followed
    result = check_paths([tmp_path])
    assert result.files == 1
    assert {f.file for f in result.findings} == {str(tmp_path / "stack.yaml")}
    assert [(e.file, "symbolic links" in e.message) for e in result.errors] == [
        (str(tmp_path / "loop1.yaml"), True),
        (str(tmp_path / "loop2.yaml"), True),
    ]


def test_a_named_symlink_loop_is_an_error(tmp_path: Path) -> None:
    _links(tmp_path)
    result = check_paths([tmp_path / "loop1.yaml"])
    assert [e.file for e in result.errors] == [str(tmp_path / "loop1.yaml")]


def _check_in_subprocess(args: list[str], timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run `conveyor check` apart, so a regression that hangs fails instead of hanging."""
    return subprocess.run(
        [*CONVEYOR, "check", "-f", "json", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        stdin=subprocess.DEVNULL,
    )


def test_a_fifo_and_a_link_to_dev_zero_in_a_directory_are_passed_over(tmp_path: Path) -> None:
    (tmp_path / "stack.yaml").write_text(GOOD)
    os.mkfifo(tmp_path / "pipe.yaml")
    (tmp_path / "zero.json").symlink_to("/dev/zero")
    done = _check_in_subprocess([str(tmp_path)])
    assert done.returncode == 1, done.stderr
    assert '"files": 1' in done.stdout
    assert '"errors": []' in done.stdout


def test_pipes_devices_and_links_to_them_in_a_directory_are_passed_over_unread(
    tmp_path: Path,
) -> None:
    (tmp_path / "stack.yaml").write_text(GOOD)
    os.mkfifo(tmp_path / "pipe.yaml")
    (tmp_path / "zero.json").symlink_to("/dev/zero")
    (tmp_path / "tty.yaml").symlink_to("/dev/null")
    results: list[object] = []
    worker = threading.Thread(target=lambda: results.append(check_paths([tmp_path])), daemon=True)
    worker.start()
    worker.join(timeout=20)
    if worker.is_alive():
        os.close(os.open(tmp_path / "pipe.yaml", os.O_WRONLY | os.O_NONBLOCK))
        pytest.fail("checking a directory with a pipe in it blocked")
    (result,) = results
    assert (result.errors, result.files) == ([], 1)  # type: ignore[attr-defined]
    targets, errors = runner_module.discover([tmp_path])
    assert ([t.path for t in targets], errors) == ([str(tmp_path / "stack.yaml")], [])


def test_a_named_device_is_read_only_up_to_the_cap() -> None:
    result = runner_module.check_target(runner_module.Target("/dev/zero", True), Options())
    assert [e.message for e in result.errors] == [
        "/dev/zero: more than 10 MiB is too large to be a CloudFormation template "
        "(CloudFormation accepts 1 MB, conveyor reads up to 10 MiB): split the stack"
    ]
    (error,) = runner_module.check_target(runner_module.Target("/dev/null", True), Options()).errors
    assert error.message == "/dev/null: the file is empty; give a CloudFormation template"


def test_a_named_dev_zero_is_read_only_up_to_the_cap() -> None:
    done = _check_in_subprocess(["/dev/zero"])
    assert done.returncode == 2, done.stderr
    assert "/dev/zero: more than 10 MiB is too large" in done.stdout


def _feed_fifo(fifo: Path, text: str, proc: subprocess.Popen[str]) -> None:
    """Write to a pipe once a reader has it open; give up if the reader exits first."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
        except OSError:  # ENXIO: no reader yet
            time.sleep(0.05)
            continue
        os.set_blocking(fd, True)
        with os.fdopen(fd, "w") as pipe:
            pipe.write(text)
        return


def test_a_named_pipe_is_read(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    command = [*CONVEYOR, "check", "-f", "json", str(fifo)]
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as proc:
        _feed_fifo(fifo, GOOD, proc)
        out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 1
    assert '"files": 1' in out


def _check_in_thread(target: runner_module.Target, release: Path) -> object:
    """check_target in a thread, so a regression that blocks fails instead of hanging; a pipe
    left blocked is released by opening it for writing."""
    results: list[object] = []
    worker = threading.Thread(
        target=lambda: results.append(runner_module.check_target(target, Options())), daemon=True
    )
    worker.start()
    worker.join(timeout=20)
    if worker.is_alive():
        os.close(os.open(release, os.O_WRONLY | os.O_NONBLOCK))
        pytest.fail(f"checking {target.path} blocked")
    return results[0]


def test_a_named_pipe_without_a_writer_is_refused_not_waited_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(runner_module, "WRITER_WAIT", 0.2)
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    result = _check_in_thread(runner_module.Target(str(fifo), True), fifo)
    assert [e.message for e in result.errors] == [  # type: ignore[attr-defined]
        f"{fifo}: a named pipe nothing was written to within 0.2 s; conveyor reads a pipe only "
        "while a program writes a template into it: start the writer first, or check a file"
    ]


def test_the_command_refuses_a_named_pipe_without_a_writer(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    done = _check_in_subprocess([str(fifo)])  # the whole command, with the default wait
    assert done.returncode == 2, done.stderr
    assert "a named pipe nothing was written to within 10 s" in done.stdout


def test_an_anonymous_pipe_is_read_however_late_its_writer_writes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # `conveyor check <(generate-template)`: the generator may take longer than the wait for
    # the writer of a named pipe; this pipe has its writer, so it is read until it ends.
    monkeypatch.setattr(runner_module, "WRITER_WAIT", 0.05)
    read_end, write_end = os.pipe()

    def write_late() -> None:
        time.sleep(0.5)
        with os.fdopen(write_end, "w") as pipe:
            pipe.write(GOOD)

    threading.Thread(target=write_late, daemon=True).start()
    try:
        path = f"/proc/self/fd/{read_end}"
        if not Path(path).exists():
            pytest.skip("no /proc: every pipe is waited on for a bounded time")
        result = _check_in_thread(runner_module.Target(path, True), Path(path))
    finally:
        os.close(read_end)
    assert result.errors == []  # type: ignore[attr-defined]
    assert result.checked  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("encoding", "name"),
    [("utf-32", "UTF-32"), ("utf-32-be", "UTF-32"), ("utf-16", "UTF-16"), ("utf-16-be", "UTF-16")],
)
def test_unicode_encodings_other_than_utf8_are_named(encoding: str, name: str) -> None:
    # Python writes a byte order mark for "utf-32" and "utf-16" (little-endian here), none for
    # the big-endian codecs: add theirs.
    bom = {"utf-32-be": b"\x00\x00\xfe\xff", "utf-16-be": b"\xfe\xff"}.get(encoding, b"")
    message = _one_error(check_text(bom + GOOD.encode(encoding), name="t.yaml"), "t.yaml")
    assert message == f"t.yaml: the file is {name}; save it as UTF-8 and check it again"


def test_a_file_swapped_for_a_pipe_after_discovery_is_skipped(tmp_path: Path) -> None:
    path = tmp_path / "late.yaml"
    path.write_text(GOOD)
    targets, _ = runner_module.discover([tmp_path])
    path.unlink()
    os.mkfifo(path)
    results: list[object] = []
    worker = threading.Thread(
        target=lambda: results.append(runner_module.check_target(targets[0], Options())),
        daemon=True,
    )
    worker.start()
    worker.join(timeout=30)
    if worker.is_alive():  # blocked opening the pipe: release it, then fail
        os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK))
        pytest.fail("reading a pipe found in a directory blocked")
    (result,) = results
    assert result.errors == []  # type: ignore[attr-defined]
    assert not result.checked  # type: ignore[attr-defined]


def test_an_empty_path_is_an_error_not_the_current_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "stack.yaml").write_text(GOOD)
    monkeypatch.chdir(tmp_path)
    result = check_paths([""])
    assert result.files == 0
    assert [e.message for e in result.errors] == [
        "'' (an empty path) names no file; give a template file, a directory, "
        "or - for standard input"
    ]
    assert result.exit_code() == 2


def test_an_unlistable_subdirectory_is_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "stack.yaml").write_text(GOOD)
    locked = tmp_path / "locked"
    locked.mkdir()
    real_scandir = os.scandir

    def scandir(path: str | Path) -> object:
        if Path(path) == locked:
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    result = check_paths([tmp_path])
    assert result.files == 1
    assert [e.message for e in result.errors] == [
        f"{locked}: cannot read the directory: Permission denied; "
        "fix its permissions or leave it out"
    ]
    assert result.exit_code() == 2


def _become_nobody() -> None:
    nobody = pwd.getpwnam("nobody")
    os.setgroups([])
    os.setgid(nobody.pw_gid)
    os.setuid(nobody.pw_uid)


_PR_CAPBSET_DROP = 24
_CAP_DAC_OVERRIDE, _CAP_DAC_READ_SEARCH = 1, 2


def _without_root_file_access() -> None:
    """Root keeps its uid but loses the capabilities that let it ignore file permissions."""
    libc = ctypes.CDLL(None, use_errno=True)
    for cap in (_CAP_DAC_OVERRIDE, _CAP_DAC_READ_SEARCH):
        if libc.prctl(_PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP) failed")


def _unprivileged_ways() -> list[Callable[[], None] | None]:
    """How to start a child that file permissions apply to, best first: as is when not root;
    when root (CI containers), as the user nobody (which needs an interpreter nobody may run),
    else as root without the capabilities that bypass permissions."""
    if os.geteuid() != 0:
        return [None]
    ways: list[Callable[[], None] | None] = []
    try:
        pwd.getpwnam("nobody")
        ways.append(_become_nobody)
    except KeyError:
        pass
    ways.append(_without_root_file_access)
    return ways


@pytest.fixture
def shared_dir() -> Iterator[Path]:
    """A directory the unprivileged user can reach (pytest's tmp_path is private to root)."""
    path = Path(tempfile.mkdtemp(prefix="conveyor-permissions-"))
    path.chmod(0o755)
    try:
        yield path
    finally:
        for inner in [path, *path.rglob("*")]:
            inner.chmod(0o755)  # let a non-root user remove what it locked
        shutil.rmtree(path)


def _check_bound_by_permissions(paths: list[Path]) -> list[tuple[str, str]]:
    code = textwrap.dedent(
        f"""
        from conveyor.rules import check_paths
        result = check_paths({[str(p) for p in paths]!r})
        for error in result.errors:
            print(error.file, "|", error.message)
        print("files", result.files, "exit", result.exit_code())
        """
    )
    failures: list[str] = []
    for way in _unprivileged_ways():
        try:
            done = subprocess.run(
                [sys.executable, "-c", code],
                capture_output=True,
                text=True,
                check=False,
                timeout=60,
                preexec_fn=way,
            )
        except (OSError, subprocess.SubprocessError) as exc:
            # nobody may not run an interpreter under /root; a container may refuse setuid
            # or prctl: try the next way.
            failures.append(f"{getattr(way, '__name__', way)}: {exc}")
            continue
        break
    else:
        pytest.skip(f"runs as root and cannot give up root's access to files: {failures}")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    return [(a.strip(), b.strip()) for a, _, b in (line.partition("|") for line in lines)]


def test_permissions_are_errors_never_tracebacks_nor_silence(shared_dir: Path) -> None:
    (shared_dir / "stack.yaml").write_text(GOOD)
    unlisted = shared_dir / "unlisted"  # may be entered, not listed
    unlisted.mkdir()
    (unlisted / "a.yaml").write_text(GOOD)
    unentered = shared_dir / "unentered"  # may be listed, not entered
    unentered.mkdir()
    (unentered / "b.yaml").write_text(GOOD)
    unreadable = shared_dir / "secret.yaml"
    unreadable.write_text(GOOD)
    # The same bits for owner and others: the child runs as the owner or as nobody.
    unreadable.chmod(0o000)
    unlisted.chmod(0o311)
    unentered.chmod(0o644)
    report = _check_bound_by_permissions([shared_dir])
    assert report == [
        (str(unentered / "b.yaml"), f"{unentered / 'b.yaml'}: cannot read it: Permission denied"),
        (
            str(unlisted),
            f"{unlisted}: cannot read the directory: Permission denied; "
            "fix its permissions or leave it out",
        ),
        (str(unreadable), f"{unreadable}: cannot read the file: Permission denied"),
        ("files 1 exit 2", ""),
    ]
    # A directory or file the user named that cannot be read is an error, not "clean".
    named = _check_bound_by_permissions([unlisted, unreadable])
    assert named == [
        (
            str(unlisted),
            f"{unlisted}: cannot read the directory: Permission denied; "
            "fix its permissions or leave it out",
        ),
        (str(unreadable), f"{unreadable}: cannot read the file: Permission denied"),
        ("files 0 exit 2", ""),
    ]


def test_an_internal_error_names_the_file_and_the_others_are_checked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_parse = template_module.parse

    def parse(text: str, *, name: str, suffix: str = "") -> object:
        if name.endswith("boom.yaml"):
            raise RuntimeError("kaboom")
        return real_parse(text, name=name, suffix=suffix)

    monkeypatch.setattr(runner_module, "parse", parse)
    for index in range(4):
        (tmp_path / f"good{index}.yaml").write_text(GOOD)
    (tmp_path / "boom.yaml").write_text(GOOD)
    for jobs in (1, 2):
        result = check_paths([tmp_path], jobs=jobs)
        assert result.files == 4
        assert [e.message for e in result.errors] == [
            f"{tmp_path / 'boom.yaml'}: internal error while checking this file: "
            "RuntimeError: kaboom (a bug in conveyor: please report it with the template)"
        ]
        assert result.exit_code() == 2


def test_a_worker_that_dies_costs_only_its_own_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_parse = template_module.parse

    def parse(text: str, *, name: str, suffix: str = "") -> object:
        if name.endswith("killer.yaml"):
            os._exit(9)  # what the kernel's OOM killer leaves behind
        return real_parse(text, name=name, suffix=suffix)

    monkeypatch.setattr(runner_module, "parse", parse)
    for index in range(8):
        (tmp_path / f"good{index}.yaml").write_text(GOOD)
    (tmp_path / "killer.yaml").write_text(GOOD)
    result = check_paths([tmp_path], jobs=2)
    assert result.files == 8
    assert {f.file for f in result.findings} == {str(tmp_path / f"good{i}.yaml") for i in range(8)}
    assert len(result.errors) == 1
    assert result.errors[0].file == str(tmp_path / "killer.yaml")
    assert "internal error: the process checking this file died" in result.errors[0].message


def test_internal_error_messages_are_bounded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def parse(text: str, *, name: str, suffix: str = "") -> object:
        raise ValueError("x" * 100_000)

    monkeypatch.setattr(runner_module, "parse", parse)
    (tmp_path / "t.yaml").write_text(GOOD)
    (message,) = [e.message for e in check_paths([tmp_path / "t.yaml"]).errors]
    assert len(message) < 500
    assert "ValueError: xxx" in message


def test_a_file_over_the_time_limit_is_an_error_and_keeps_what_was_found() -> None:
    from conveyor.rules.engine import check_template
    from conveyor.rules.runner import default_rules
    from conveyor.rules.template import parse

    template = parse(GOOD + "  Other:\n    Type: AWS::ECR::Repository\n", name="t.yaml")
    result = check_template(template, default_rules(), Options(time_limit=0.0))
    assert [e.message for e in result.errors] == [
        "t.yaml: checking stopped after 0 of 2 resources: over the limit of 0 s per file "
        "(--time-limit); the findings shown are incomplete: split the template "
        "(CloudFormation accepts 500 resources per stack)",
        "t.yaml: checking stopped before rule "
        f"{default_rules().template_rules[0].id}: over the limit of 0 s per file (--time-limit); "
        "the findings shown are incomplete: split the template "
        "(CloudFormation accepts 500 resources per stack)",
    ]
    assert result.findings == []
    unbounded = check_template(template, default_rules(), Options())
    assert unbounded.errors == []
    assert {f.resource for f in unbounded.findings} >= {"Repo", "Other"}


def test_role_policies_are_gathered_in_linear_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """3,000 roles x 3,000 managed policies took half a minute: each policy looked through
    every role. Counted in lookups, not seconds, so the test cannot flake."""
    from conveyor.rules.relations import Relations
    from conveyor.rules.template import parse

    count = 300
    lines = ["Resources:"]
    for i in range(count):
        lines.append(
            f"  Role{i}: {{Type: AWS::IAM::Role, Properties: {{ManagedPolicyArns: [!Ref Pol{i}]}}}}"
        )
        lines.append(
            f"  Pol{i}: {{Type: AWS::IAM::ManagedPolicy, Properties: "
            f"{{PolicyDocument: {{Statement: [{{Effect: Allow, Action: 's3:*', "
            f"Resource: '*'}}]}}}}}}"
        )
    template = parse("\n".join(lines) + "\n", name="t.yaml")
    calls = 0
    real_target = Relations.target

    def counting(self: Relations, value: object, *types: str) -> str | None:
        nonlocal calls
        calls += 1
        return real_target(self, value, *types)

    monkeypatch.setattr(Relations, "target", counting)
    relations = Relations(template)
    assert calls <= 2 * count
    assert [p.owner for p in relations.policies("Role7")] == ["Pol7"]
    assert relations.managed_arns("Role7") == []


def test_the_size_cap_is_exactly_10_mib() -> None:
    cap = 10 * 1024 * 1024
    at_cap = check_paths(["-"], stdin_text=b"Resources: {}\n" + b"#" * (cap - 14))
    assert (at_cap.errors, at_cap.files) == ([], 1)
    over = check_paths(["-"], stdin_text=b"#" * (cap + 1))
    assert _one_error(over, "<stdin>") == (
        "<stdin>: more than 10 MiB is too large to be a CloudFormation template "
        "(CloudFormation accepts 1 MB, conveyor reads up to 10 MiB): split the stack"
    )


def test_the_digit_limit_message_in_full() -> None:
    message = _one_error(check_text(_with_value("9" * 4301), name="t.yaml"), "t.yaml")
    assert message == (
        "t.yaml:5: invalid YAML: a number of 4,301 digits; conveyor reads numbers of up to "
        "4,300 digits and no CloudFormation value needs more: shorten it, or quote it to make "
        "it a string"
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (
            "!!int abc",
            "t.yaml:5: invalid YAML: 'abc' is not a valid integer; correct it, or quote it",
        ),
        ("!!int " + "x" * 5000, "t.yaml:5: invalid YAML: '" + "x" * 60 + "... (5,000 characters)'"),
    ],
)
def test_long_and_signed_numbers_are_named_as_numbers(value: str, expected: str) -> None:
    assert _one_error(check_text(_with_value(value), name="t.yaml"), "t.yaml").startswith(expected)


def test_a_long_json_number_is_found_on_its_own_line() -> None:
    text = (
        '\n{"Resources": {"R": {"Type": "AWS::SNS::Topic",\n"Properties": {"Name": "'
        + "1" * 4300
        + '",\n"X": '
        + "9" * 4301
        + "}}}}"
    )
    message = _one_error(check_text(text, name="t.json"), "t.json")
    assert message.startswith("t.json:4: a number of 4,301 digits;")


def test_function_table_connectors_are_indexed_once_per_template(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """CV054 looked through every resource for connectors once per function: 1,000 functions in
    10,000 resources took 40 s. Counted in connector reads, not seconds."""
    from conveyor.rules.iam import function_table_access

    count = 100
    lines = ["Transform: AWS::Serverless-2016-10-31", "Resources:"]
    for i in range(count):
        lines += [
            f"  Role{i}: {{Type: AWS::IAM::Role}}",
            f"  Table{i}: {{Type: AWS::DynamoDB::Table}}",
            f"  Fn{i}: {{Type: AWS::Lambda::Function, Properties: {{Role: !GetAtt Role{i}.Arn, "
            f"Environment: {{Variables: {{TABLE: !Ref Table{i}}}}}}}}}",
            f"  Link{i}: {{Type: AWS::Serverless::Connector, Properties: {{Source: {{Id: Fn{i}}}, "
            f"Destination: {{Id: Table{i}}}, Permissions: [Write]}}}}",
        ]
    calls = 0
    real_ends = function_table_access._ends

    def counting(connector: object) -> set[str]:
        nonlocal calls
        calls += 1
        return real_ends(connector)

    monkeypatch.setattr(function_table_access, "_ends", counting)
    result = check_text("\n".join(lines) + "\n", name="t.yaml")
    assert calls == count
    # Every function reaches its table through its connector: no CV054 finding.
    assert "CV054" not in {f.rule for f in result.findings}
    assert result.errors == []


ENCRYPTED = (
    "Metadata:\n"
    "  Common: &enc\n"
    "    BucketEncryption:\n"
    "      ServerSideEncryptionConfiguration:\n"
    "        - ServerSideEncryptionByDefault: {SSEAlgorithm: 'aws:kms'}\n"
    "  Named: &named {BucketName: shared, Tags: [{Key: a, Value: b}]}\n"
    "Resources:\n"
    "  B:\n"
    "    Type: AWS::S3::Bucket\n"
    "    Properties:\n"
    "{merge}"
)


@pytest.mark.parametrize(
    "merge",
    [
        "      <<: *enc\n",
        "      <<: [*named, *enc]\n",
        "      BucketName: own\n      <<: [*enc, *named]\n",
    ],
    ids=["one", "list", "after-own-keys"],
)
def test_a_yaml_merge_key_is_expanded_like_an_alias(merge: str) -> None:
    """`aws cloudformation package` and SAM expand `<<: *anchor` as they expand aliases, and
    conveyor expands aliases: a merge read as a literal key named '<<' reported the merged
    BucketEncryption as missing (a false CV002)."""
    result = check_text(ENCRYPTED.replace("{merge}", merge), name="t.yaml")
    assert result.errors == []
    assert "CV002" not in {f.rule for f in result.findings}
    assert "CV001" in {f.rule for f in result.findings}  # still judged, not skipped


def test_keys_of_the_mapping_win_over_merged_ones_and_keep_their_line() -> None:
    text = ENCRYPTED.replace("{merge}", "      <<: *named\n      BucketName: own\n")
    result = check_text(text, name="t.yaml")
    hard_coded = [f for f in result.findings if f.rule == "CV009"]
    assert [(f.line, "'own'" in f.message) for f in hard_coded] == [(12, True)]


@pytest.mark.parametrize("value", ["x", "[1, 2]", "[*enc, x]", "~"])
def test_a_merge_of_what_is_no_mapping_is_an_error_on_its_line(value: str) -> None:
    result = check_text(ENCRYPTED.replace("{merge}", f"      <<: {value}\n"), name="t.yaml")
    assert [e.message for e in result.errors] == [
        "t.yaml:11: invalid YAML: a merge key (<<) takes a mapping or a list of mappings "
        "(<<: *anchor); write the keys out"
    ]


def test_a_merge_reads_its_anchor_whatever_the_order_of_construction() -> None:
    """An anchor nested deeper than the merge that uses it is not yet filled in when the merge
    is read: merges are expanded from the YAML nodes, not from half-built mappings."""
    text = (
        "Metadata:\n  X:\n    Y:\n      Z: &enc\n"
        "        BucketEncryption: {ServerSideEncryptionConfiguration: "
        "[{ServerSideEncryptionByDefault: {SSEAlgorithm: 'aws:kms'}}]}\n"
        "Resources:\n  B:\n    Type: AWS::S3::Bucket\n    Properties:\n      <<: *enc\n"
    )
    result = check_text(text, name="t.yaml")
    assert result.errors == []
    assert "CV002" not in {f.rule for f in result.findings}


def test_a_merge_of_its_own_mapping_is_an_error() -> None:
    text = "Resources:\n  R: &r\n    Type: AWS::SNS::Topic\n    <<: *r\n"
    assert [e.message for e in check_text(text, name="t.yaml").errors] == [
        "t.yaml:4: invalid YAML: a merge key (<<) merges the mapping it is in (a recursive "
        "anchor); remove it"
    ]


def test_chains_of_merges_are_bounded_like_alias_bombs() -> None:
    lines = ["Metadata:", "  a0: &a0 {k0: v}"]
    lines += [f"  a{i}: &a{i} {{<<: *a{i - 1}, k{i}: v}}" for i in range(1, 3000)]
    lines += ["Resources:", "  R: {Type: AWS::SNS::Topic, Properties: {<<: *a2999}}"]
    result = check_text("\n".join(lines) + "\n", name="t.yaml")
    assert [e.message for e in result.errors] == [
        "t.yaml: YAML merge keys (<<) copy more than 1,000,000 keys (an alias bomb?); "
        "CloudFormation templates do not need anchors: write the values out"
    ]
