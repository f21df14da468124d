"""Per-file bounds on time and memory, reading and parsing included (issue 18, scale): a file past
a bound is an error naming the file and the bound (exit 2), and the other files are still checked.

Bounds are set small through ``check_paths``'s options so the tests stay fast; they assert the
messages and what was checked, never how long anything took.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Iterable
from pathlib import Path

import pytest

from conveyor.rules import check_paths
from conveyor.rules import runner as runner_module
from conveyor.rules import template as template_module
from conveyor.rules.engine import Context, Options, RuleSet
from conveyor.rules.model import Hit, Rule, Severity
from conveyor.rules.template import Resource

GOOD = "Resources:\n  Repo:\n    Type: AWS::ECR::Repository\n"
SPLIT = "split the template (CloudFormation accepts 500 resources per stack)"


def _memory_hog(path: Path) -> Path:
    """A valid template of about 5 MB whose parsed form takes well over 50 MiB (650,000 small
    mappings): within the size cap, past a small memory bound."""
    data = {
        "Resources": {"T": {"Type": "AWS::SNS::Topic"}},
        "Metadata": {"x": [{"a": 1}] * 650_000},
    }
    path.write_text(json.dumps(data, separators=(",", ":")))
    assert 1_000_000 < path.stat().st_size < 10 * 2**20
    return path


def _good_files(directory: Path, count: int) -> set[str]:
    for index in range(count):
        (directory / f"good{index}.yaml").write_text(GOOD)
    return {str(directory / f"good{index}.yaml") for index in range(count)}


@pytest.mark.parametrize("jobs", [1, 2])
def test_memory_bound_covers_parsing_and_the_other_files_are_checked(
    tmp_path: Path, jobs: int
) -> None:
    hog = _memory_hog(tmp_path / "hog.json")
    good = _good_files(tmp_path, 3)
    # In a fresh interpreter, as a user's run is: the bound caps the address space a worker
    # may add, and a worker forked from this test process (whose heap earlier tests grew and
    # freed) can parse the hog in space already mapped, which the bound does not count.
    code = (
        "import json, sys\n"
        "from conveyor.rules import check_paths\n"
        f"r = check_paths([{str(tmp_path)!r}], memory_limit=50, jobs={jobs})\n"
        "print(json.dumps({'errors': [[e.file, e.message] for e in r.errors], 'files': r.files,"
        " 'found': sorted({f.file for f in r.findings}), 'exit': r.exit_code()}))\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=True
    )
    result = json.loads(run.stdout)
    assert result["errors"] == [
        [
            str(hog),
            f"{hog}: stopped: over the limit of 50 MiB of memory per file (--memory-limit); "
            f"nothing was checked: {SPLIT}",
        ]
    ]
    assert result["files"] == 3
    assert set(result["found"]) == good
    assert result["exit"] == 2


def test_the_same_file_passes_under_the_default_memory_bound(tmp_path: Path) -> None:
    hog = _memory_hog(tmp_path / "hog.json")
    result = check_paths([hog])
    assert result.errors == []
    assert result.files == 1


def _slow_parse(seconds: float) -> object:
    real_parse = template_module.parse

    def parse(text: str, *, name: str, suffix: str = "") -> object:
        if Path(name).name == "slow.yaml":
            started = time.monotonic()
            while time.monotonic() - started < seconds:  # busy, never yields to a timer check
                pass
        return real_parse(text, name=name, suffix=suffix)

    return parse


def test_time_bound_covers_parsing_and_the_other_files_are_checked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Parsing takes 20 s (a stand-in for a hostile file), the limit is 0.5 s.
    monkeypatch.setattr(runner_module, "parse", _slow_parse(20))
    slow = tmp_path / "slow.yaml"
    slow.write_text(GOOD)
    good = _good_files(tmp_path, 2)
    result = check_paths([tmp_path], time_limit=0.5)
    assert [(e.file, e.message) for e in result.errors] == [
        (
            str(slow),
            f"{slow}: stopped while reading, parsing or indexing it: over the limit of 0.5 s "
            f"per file (--time-limit); nothing was checked: {SPLIT}",
        )
    ]
    assert {f.file for f in result.findings} == good
    assert result.exit_code() == 2


def _stuck_rule(seconds: float) -> Rule:
    def check(res: Resource, ctx: Context) -> Iterable[Hit]:
        if res.logical_id == "Stuck":
            started = time.monotonic()
            while time.monotonic() - started < seconds:
                pass
        return [Hit(res.logical_id, "", "seen")]

    return Rule(
        id="CV999",
        title="test",
        severity=Severity.HIGH,
        resource_types=("AWS::SNS::Topic",),
        failure_modes=(),
        why="",
        fix_cloudformation="",
        fix_cdk="",
        fix_conveyor="",
        check=check,
    )


def test_a_rule_stuck_on_one_resource_is_stopped_and_what_was_found_is_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(runner_module, "default_rules", lambda: RuleSet([_stuck_rule(20)]))
    stuck = tmp_path / "stuck.yaml"
    stuck.write_text(
        "Resources:\n  First:\n    Type: AWS::SNS::Topic\n"
        "  Stuck:\n    Type: AWS::SNS::Topic\n  Last:\n    Type: AWS::SNS::Topic\n"
    )
    other = tmp_path / "other.yaml"
    other.write_text("Resources:\n  Stuck2:\n    Type: AWS::SNS::Topic\n")
    result = check_paths([stuck, other], time_limit=0.5)
    assert [e.message for e in result.errors] == [
        f"{stuck}: checking stopped after 1 of 3 resources: over the limit of 0.5 s per file "
        f"(--time-limit); the findings shown are incomplete: {SPLIT}"
    ]
    assert [(f.file, f.resource) for f in result.findings] == [
        (str(stuck), "First"),
        (str(other), "Stuck2"),
    ]


def test_a_worker_deaf_to_the_timer_is_killed_and_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_parse = template_module.parse

    def parse(text: str, *, name: str, suffix: str = "") -> object:
        if (
            Path(name).name == "deaf.yaml"
        ):  # code the timer cannot interrupt (a C extension looping)
            signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})
            time.sleep(60)
        return real_parse(text, name=name, suffix=suffix)

    monkeypatch.setattr(runner_module, "parse", parse)
    monkeypatch.setattr(runner_module, "ISOLATE_BYTES", 0)  # every file in a worker
    monkeypatch.setattr(runner_module, "_KILL_GRACE", 0.5)
    deaf = tmp_path / "deaf.yaml"
    deaf.write_text(GOOD)
    good = _good_files(tmp_path, 1)
    result = check_paths([tmp_path], time_limit=0.5)
    assert [e.message for e in result.errors] == [
        f"{deaf}: stopped while reading, parsing or indexing it: over the limit of 0.5 s "
        f"per file (--time-limit); nothing was checked: {SPLIT}"
    ]
    assert {f.file for f in result.findings} == good


def test_large_files_are_checked_in_a_worker_small_ones_in_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    alone: list[str] = []
    real_alone = runner_module._check_alone

    def check_alone(target: runner_module.Target, options: object) -> object:
        alone.append(target.path)
        return real_alone(target, options)  # type: ignore[arg-type]

    monkeypatch.setattr(runner_module, "_check_alone", check_alone)
    small = tmp_path / "small.yaml"
    small.write_text(GOOD)
    large = tmp_path / "large.yaml"
    large.write_text(GOOD + "# padding\n" * 100_000)
    assert large.stat().st_size > runner_module.ISOLATE_BYTES
    result = check_paths([small, large])
    assert alone == [str(large)]
    assert result.files == 2
    assert {f.file for f in result.findings} == {str(small), str(large)}
    result = check_paths(["-"], stdin_text=large.read_bytes())
    assert alone == [str(large), "<stdin>"]
    assert result.files == 1


def _deaf_parse(stuck_name: str) -> object:
    """A parse that, for one file, sits where the per-file timer cannot reach it (a call into
    native code that never returns to Python: SIGALRM blocked, then a sleep)."""
    real_parse = template_module.parse

    def parse(text: str, *, name: str, suffix: str = "") -> object:
        if Path(name).name == stuck_name:
            signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})
            time.sleep(600)
        return real_parse(text, name=name, suffix=suffix)

    return parse


def test_a_pool_worker_deaf_to_the_timer_is_killed_its_file_named_and_the_rest_checked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # --jobs 2: the worker stuck on deaf.yaml is killed at the limit plus a grace; a new worker
    # checks the files after it. (A limit the good files meet even on a loaded machine.)
    monkeypatch.setattr(runner_module, "parse", _deaf_parse("deaf.yaml"))
    monkeypatch.setattr(runner_module, "_KILL_GRACE", 0.2)
    deaf = tmp_path / "deaf.yaml"
    deaf.write_text(GOOD)
    good = _good_files(tmp_path, 5)
    started = time.monotonic()
    result = check_paths([tmp_path], time_limit=3, jobs=2)
    assert time.monotonic() - started < 60  # not the 600 s of the stuck call
    assert [(e.file, e.message) for e in result.errors] == [
        (
            str(deaf),
            f"{deaf}: stopped while reading, parsing or indexing it: over the limit of 3 s "
            f"per file (--time-limit); nothing was checked: {SPLIT}",
        )
    ]
    assert {f.file for f in result.findings} == good
    assert result.files == 5
    assert result.exit_code() == 2


def test_a_pool_worker_that_dies_costs_only_its_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_parse = template_module.parse

    def parse(text: str, *, name: str, suffix: str = "") -> object:
        if Path(name).name == "fatal.yaml":  # killed from outside (the OOM killer, a user)
            signal.raise_signal(signal.SIGKILL)
        return real_parse(text, name=name, suffix=suffix)

    monkeypatch.setattr(runner_module, "parse", parse)
    fatal = tmp_path / "fatal.yaml"
    fatal.write_text(GOOD)
    good = _good_files(tmp_path, 4)
    result = check_paths([tmp_path], jobs=2)
    assert [(e.file, e.message) for e in result.errors] == [
        (
            str(fatal),
            f"{fatal}: internal error: the process checking this file died (out of memory, or "
            "killed); check it alone to see more, and please report it with the template",
        )
    ]
    assert {f.file for f in result.findings} == good
    assert result.exit_code() == 2


def test_the_pool_keeps_the_order_of_the_files_and_a_short_limit_gets_a_short_grace(
    tmp_path: Path,
) -> None:
    good = sorted(_good_files(tmp_path, 7))
    results = runner_module.run(
        [runner_module.Target(name, True) for name in good],
        Options(),
        jobs=3,
    )
    assert [r.file for r in results] == good
    assert all(r.checked and r.findings for r in results)
    assert runner_module._grace(Options(time_limit=0.3)) == 0.3
    assert runner_module._grace(Options(time_limit=0)) == 0.1
    assert runner_module._grace(Options()) == runner_module._KILL_GRACE == 30.0


def test_the_pool_starts_at_most_jobs_workers_and_no_more_than_files_and_they_die_with_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    started: list[runner_module._Worker] = []
    real_init = runner_module._Worker.__init__

    def init(self: runner_module._Worker, *args: object) -> None:
        real_init(self, *args)  # type: ignore[arg-type]
        started.append(self)

    monkeypatch.setattr(runner_module._Worker, "__init__", init)
    files = sorted(_good_files(tmp_path, 7))
    targets = [runner_module.Target(name, True) for name in files]
    results = runner_module._Pool(targets, Options(), 3).run()
    assert [r.file for r in results] == files
    assert len(started) == 3
    # Daemons: a conveyor that dies of an uncaught error leaves no worker behind.
    assert all(w.process.daemon and w.stopped and not w.process.is_alive() for w in started)
    started.clear()
    results = runner_module._Pool(targets[:2], Options(), 3).run()
    assert [r.file for r in results] == files[:2]
    assert len(started) == 2


def test_stopping_a_worker_that_already_died_is_quiet(tmp_path: Path) -> None:
    worker = runner_module._Worker(
        [runner_module.Target(str(tmp_path / "t.yaml"), True)], Options()
    )
    worker.process.kill()
    worker.process.join()
    worker.stop()  # the goodbye cannot reach it: no BrokenPipeError
    assert worker.stopped and worker.conn.closed


def test_the_time_bound_is_the_main_threads_and_leaves_another_threads_block_alone() -> None:
    # Only the main thread may handle SIGALRM: elsewhere the block runs unbounded, and this
    # process's handler stays as it was.
    import threading

    from conveyor.rules.bounds import Overtime, time_bound

    before = signal.getsignal(signal.SIGALRM)
    outcome: list[object] = []

    def in_a_thread() -> None:
        with time_bound(time.monotonic() - 1):  # already past: the main thread would stop
            outcome.append(signal.getsignal(signal.SIGALRM))

    worker = threading.Thread(target=in_a_thread)
    worker.start()
    worker.join()
    assert outcome == [before]
    with pytest.raises(Overtime), time_bound(time.monotonic() - 1):
        time.sleep(5)
    assert signal.getsignal(signal.SIGALRM) == before


def test_the_time_limit_never_stops_an_import_half_way(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Rules, patterns and parsers are imported when a check first needs them, inside the
    # file's time bound. Overtime raised inside the import machinery left a module half made
    # in sys.modules: after one file stopped by --time-limit 0.008, every later file of the
    # run failed with "AttributeError: partially initialized module 'yaml'". The timer waits
    # for the import to finish, then stops the check.
    from conveyor.rules.bounds import Overtime, time_bound

    (tmp_path / "slow_to_import_13.py").write_text(
        "import time\ntime.sleep(0.3)\nDONE = True\n", encoding="utf-8"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "slow_to_import_13", raising=False)
    imported = False
    with pytest.raises(Overtime), time_bound(time.monotonic() + 0.05):
        import slow_to_import_13  # type: ignore[import-not-found]

        imported = slow_to_import_13.DONE
        time.sleep(5)
    assert imported
    assert sys.modules["slow_to_import_13"].DONE
