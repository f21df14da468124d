"""From paths to a ``CheckResult``: find the templates, read them safely, check them, in parallel
across processes when asked (each file is independent, so ``--jobs`` scales near-linearly)."""

from __future__ import annotations

import gc
import marshal
import os
import select
import signal
import stat
import sys
import time
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from conveyor import lambda_runtimes
from conveyor.rules.bounds import (
    MEMORY_LIMIT_MIB,
    TIME_LIMIT,
    Overtime,
    limits_problem,
    memory_bound,
    time_bound,
)
from conveyor.rules.engine import Options, RuleSet, check_template
from conveyor.rules.inputs import NOT_APPLICABLE, looks_like_input
from conveyor.rules.inputs import load as load_input
from conveyor.rules.model import (
    CheckResult,
    FileError,
    FileResult,
    Finding,
    Severity,
)
from conveyor.rules.plain import FrozenPlain
from conveyor.rules.template import (
    MAX_BYTES,
    TEMPLATE_SUFFIXES,
    NotATemplateError,
    TemplateError,
    looks_like_template,
    parse,
    read_text,
)

if TYPE_CHECKING:
    from multiprocessing.connection import Connection

STDIN = "-"
# Larger inputs are read, parsed and checked in a worker process under the memory limit, even
# without --jobs. CloudFormation accepts templates of up to 1 MB (the S3 TemplateURL limit),
# https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/cloudformation-limits.html
# so real templates stay in-process and pay no fork.
ISOLATE_BYTES = 1_000_000
_SKIP_DIRS = frozenset({".git", ".hg", ".svn", ".venv", "venv", "node_modules", "__pycache__"})
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOCTTY", 0)
_EMPTY_PATH = (
    "'' (an empty path) names no file; give a template file, a directory, or - for standard input"
)


class Target(FrozenPlain):
    _FIELDS = ("path", "explicit", "text", "raw", "size")
    __slots__ = _FIELDS
    path: str
    # Named on the command line (errors are errors) or found in a directory (non-templates
    # are skipped quietly).
    explicit: bool
    text: str | None
    raw: bytes | None
    # Bytes, when known before reading (a regular file, standard input already read).
    size: int | None

    def __init__(
        self,
        path: str,
        explicit: bool,
        text: str | None = None,
        raw: bytes | None = None,
        size: int | None = None,
    ) -> None:
        _set = object.__setattr__
        _set(self, "path", path)
        _set(self, "explicit", explicit)
        _set(self, "text", text)
        _set(self, "raw", raw)
        _set(self, "size", size)


@lru_cache(maxsize=1)
def default_rules() -> RuleSet:
    """Every rule of the catalog; a rule's module is imported when a template first needs it."""
    from conveyor.rules.catalog import CatalogRules

    return CatalogRules()


def discover(
    paths: Iterable[str | Path], *, stdin_text: str | bytes | None = None
) -> tuple[list[Target], list[FileError]]:
    """Targets named by ``paths``. Standard input is read here (bounded) unless given as
    ``stdin_text``; bytes go through the same decoding checks as a file."""
    targets: list[tuple[Target, object]] = []
    errors: list[FileError] = []
    for raw in paths:
        name = str(raw)
        if name == STDIN:
            given = read_stdin() if stdin_text is None else stdin_text
            if isinstance(given, bytes):
                targets.append((Target("<stdin>", True, raw=given, size=len(given)), STDIN))
            else:
                targets.append((Target("<stdin>", True, given, size=len(given)), STDIN))
            continue
        if not name:
            errors.append(FileError("", _EMPTY_PATH))
            continue
        try:
            info = Path(name).stat()
        except FileNotFoundError:
            errors.append(FileError(name, "no such file or directory; check the path"))
            continue
        except OSError as exc:
            errors.append(FileError(name, f"{name}: cannot read it: {_reason(exc)}"))
            continue
        if stat.S_ISDIR(info.st_mode):
            targets.extend(_walk(Path(name), errors))
        elif stat.S_ISREG(info.st_mode):
            targets.append((Target(name, True, size=info.st_size), (info.st_dev, info.st_ino)))
        elif stat.S_ISFIFO(info.st_mode) or stat.S_ISCHR(info.st_mode):
            # A pipe or device the user named (``<(generate)``, /dev/stdin) is read, bounded.
            targets.append((Target(name, True), name))
        else:
            errors.append(FileError(name, "not a regular file or directory; give a template file"))
    # The same file named twice (or through two paths or links) is checked once.
    seen: set[object] = set()
    unique: list[Target] = []
    for target, key in targets:
        if key not in seen:
            seen.add(key)
            unique.append(target)
    return unique, errors


def files_to_read(paths: Iterable[str]) -> list[tuple[str, tuple[int, int]]]:
    """Each regular file ``discover`` would read from ``paths`` (named, or found by walking a
    directory) with its (st_dev, st_ino), found without reading any. Paths that cannot be
    looked at are left out: ``discover`` reports them."""
    files: list[tuple[str, tuple[int, int]]] = []
    for name in paths:
        if name in ("", STDIN):
            continue
        try:
            info = Path(name).stat()
        except OSError:
            continue
        if stat.S_ISDIR(info.st_mode):
            files.extend((target.path, key) for target, key in _walk(Path(name), []))
        elif stat.S_ISREG(info.st_mode):
            files.append((name, (info.st_dev, info.st_ino)))
    return files


def read_stdin() -> bytes:
    """Standard input as bytes, at most one byte past the size cap (so ``< /dev/zero`` ends)."""
    stream = sys.stdin
    if stream is None:
        return b""
    buffer = getattr(stream, "buffer", None)
    if buffer is None:
        return stream.read(MAX_BYTES + 1).encode("utf-8", "surrogateescape")
    data: bytes = buffer.read(MAX_BYTES + 1)
    return data


def _reason(exc: OSError) -> str:
    return exc.strerror or type(exc).__name__


def _walk(root: Path, errors: list[FileError]) -> list[tuple[Target, tuple[int, int]]]:
    """Regular template files under root, depth first in name order. Directories that cannot be
    listed and files that cannot be looked at are errors (they may hold templates); pipes,
    devices and sockets are not templates and are passed over; symlinked directories are not
    followed (no loops)."""
    found: list[tuple[Target, tuple[int, int]]] = []
    stack = [root]
    while stack:
        here = stack.pop()
        try:
            with os.scandir(here) as listing:
                entries = sorted(listing, key=lambda e: e.name)
        except OSError as exc:
            errors.append(
                FileError(
                    str(here),
                    f"{here}: cannot read the directory: {_reason(exc)}; "
                    "fix its permissions or leave it out",
                )
            )
            continue
        names = {e.name for e in entries}
        assembly = "manifest.json" in names and any(n.endswith(".template.json") for n in names)
        subdirs: list[Path] = []
        for entry in entries:
            if _is_dir(entry):
                if entry.name in _SKIP_DIRS or entry.name.startswith("."):
                    continue
                # In cdk.out only the synthesized stacks are templates; assets are not.
                if not assembly or entry.name.startswith("assembly-"):
                    subdirs.append(Path(entry.path))
                continue
            if assembly:
                wanted = entry.name.endswith(".template.json")
            else:
                wanted = entry.name.lower().endswith(TEMPLATE_SUFFIXES)
            if not wanted:
                continue
            try:
                info = entry.stat()
            except OSError as exc:
                errors.append(
                    FileError(entry.path, f"{entry.path}: cannot read it: {_reason(exc)}")
                )
                continue
            if stat.S_ISREG(info.st_mode):
                target = Target(entry.path, assembly, size=info.st_size)
                found.append((target, (info.st_dev, info.st_ino)))
        stack.extend(reversed(subdirs))
    return found


def _is_dir(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_dir(follow_symlinks=False)
    except OSError:
        return False


def check_target(
    target: Target, options: Options, rules: RuleSet | None = None, *, cap_memory: bool = False
) -> FileResult:
    """Check one target within ``options.time_limit``, reading and parsing included (and within
    ``options.memory_limit`` when ``cap_memory``: in a worker process). Never raises: a problem
    with the input, a bound passed, a bug in conveyor (an internal error) are errors naming the
    file, so one file never stops the others."""
    name = target.path
    rules = rules or default_rules()
    deadline = time.monotonic() + options.time_limit
    try:
        with (
            time_bound(deadline),
            memory_bound(options.memory_limit if cap_memory else 0),
            _without_cyclic_gc(),
        ):
            return _check_target(target, options, rules, deadline)
    except Overtime:
        return FileResult(file=name, errors=[FileError(name, _overtime(name, options))])
    except MemoryError:
        return FileResult(file=name, errors=[FileError(name, _out_of_memory(name, options))])
    except Exception as exc:  # a bug must not cost the other files their results
        return FileResult(file=name, errors=[internal_error(name, exc)])


@contextmanager
def _without_cyclic_gc() -> Iterator[None]:
    """A parsed template is up to millions of containers and holds no cycles; the cyclic
    collector would walk them again and again while they are created (parsing and indexing took
    three times longer per resource at 100k resources than at 10k). Reference counting still
    frees everything; the collector runs again after the file."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


# https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/cloudformation-limits.html
_SPLIT = "split the template (CloudFormation accepts 500 resources per stack)"


def _overtime(name: str, options: Options) -> str:
    return (
        f"{name}: stopped while reading, parsing or indexing it: over the limit of "
        f"{options.time_limit:g} s per file (--time-limit); nothing was checked: {_SPLIT}"
    )


def _out_of_memory(name: str, options: Options) -> str:
    return (
        f"{name}: stopped: over the limit of {options.memory_limit:,} MiB of memory per file "
        f"(--memory-limit); nothing was checked: {_SPLIT}"
    )


def internal_error(name: str, exc: BaseException) -> FileError:
    detail = f"{type(exc).__name__}: {exc}"
    if len(detail) > 300:
        detail = detail[:300] + "..."
    return FileError(
        name,
        f"{name}: internal error while checking this file: {detail} "
        "(a bug in conveyor: please report it with the template)",
    )


def _check_target(target: Target, options: Options, rules: RuleSet, deadline: float) -> FileResult:
    name = target.path
    try:
        if target.text is not None:
            text = target.text
            if not text.strip():
                raise TemplateError(f"{name}: the input is empty; give a CloudFormation template")
        elif target.raw is not None:
            if len(target.raw) > MAX_BYTES:
                raise TemplateError(_too_large(name))
            text = read_text(target.raw, name=name)
        else:
            text = _read(name, explicit=target.explicit)
        if not target.explicit and not (looks_like_template(text) or looks_like_input(text)):
            return FileResult(file=name)
        loaded = load_input(text, name=name, kind=options.input_kind)
        kind = ""
        if loaded is None:
            template = parse(text, name=name, suffix=Path(name).suffix.lower())
        else:
            template, kind = loaded
            options = options.replace(ignore=options.ignore | NOT_APPLICABLE[kind])
    except NotATemplateError as exc:
        if not target.explicit:
            return FileResult(file=name)
        return FileResult(file=name, errors=[FileError(name, str(exc))])
    except TemplateError as exc:
        return FileResult(file=name, errors=[FileError(name, str(exc))])
    result = check_template(template, rules, options, deadline=deadline)
    if kind:
        # The rules speak CloudFormation; a Terraform or Pulumi user reads their own names.
        from conveyor.rules.inputs.wording import reword

        types = {lid: res.type for lid, res in template.resources.items()}
        result = reword(result, types, kind, template.sources)
    return result


def _too_large(name: str, size: int | None = None) -> str:
    """``size`` in bytes when known (a file), else the input went past the cap while read."""
    cap = f"{MAX_BYTES // 2**20} MiB"
    amount = f"more than {cap}" if size is None else f"{size / 1e6:.1f} MB"
    return (
        f"{name}: {amount} is too large to be a CloudFormation template "
        f"(CloudFormation accepts 1 MB, conveyor reads up to {cap}): split the stack"
    )


def _read(name: str, *, explicit: bool) -> str:
    """Read at most MAX_BYTES + 1 bytes from an open descriptor, and look at what the
    descriptor is (not at the path beforehand): a file swapped for a pipe after the directory
    walk is skipped, a pipe or device named by the user is read but never past the cap."""
    try:
        # Opening a named pipe blocks until a writer comes, maybe never: open without waiting,
        # then wait a bounded time for the writer's first bytes (_wait_for_writer).
        fd = os.open(name, _OPEN_FLAGS | os.O_NONBLOCK)
        try:
            raw = _read_capped(fd, name, explicit=explicit)
        finally:
            os.close(fd)
    except OSError as exc:
        raise TemplateError(f"{name}: cannot read the file: {_reason(exc)}") from None
    if len(raw) > MAX_BYTES:
        raise TemplateError(_too_large(name))
    if not explicit and (not raw.strip() or b"\x00" in raw[:8192]):
        raise NotATemplateError(name)
    return read_text(raw, name=name)


def _read_capped(fd: int, name: str, *, explicit: bool) -> bytes:
    info = os.fstat(fd)
    if stat.S_ISREG(info.st_mode):
        if info.st_size > MAX_BYTES:
            if not explicit and not looks_like_template(
                os.read(fd, 65536).decode("utf-8", "replace")
            ):
                raise NotATemplateError(name)
            raise TemplateError(_too_large(name, info.st_size))
    elif not explicit:
        raise NotATemplateError(name)
    elif stat.S_ISFIFO(info.st_mode) and _is_named_pipe(fd):
        _wait_for_writer(fd, name)
    os.set_blocking(fd, True)
    chunks: list[bytes] = []
    left = MAX_BYTES + 1
    while left > 0:
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            break
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


# Seconds a named pipe may stay without a writer before it is refused (``mkfifo p; conveyor
# check p`` would otherwise wait forever). A pipe from ``<(generate-template)`` always has its
# writer and is read until it ends, within the time limit.
WRITER_WAIT = 10.0


def _is_named_pipe(fd: int) -> bool:
    try:
        # Linux names an anonymous pipe (from a shell's <(...) or |) "pipe:[inode]".
        return not str(Path(f"/proc/self/fd/{fd}").readlink()).startswith("pipe:")
    except OSError:
        return True  # no /proc: treat every pipe as one that may have no writer


def _wait_for_writer(fd: int, name: str) -> None:
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    if not poller.poll(WRITER_WAIT * 1000):  # readable: data, or a writer came and went
        raise TemplateError(
            f"{name}: a named pipe nothing was written to within {WRITER_WAIT:g} s; "
            "conveyor reads a pipe only while a program writes a template into it: start the "
            "writer first, or check a file"
        )


def run(targets: Sequence[Target], options: Options, *, jobs: int = 1) -> list[FileResult]:
    jobs = max(1, min(jobs, len(targets)))
    if jobs == 1 or not _CAN_FORK:
        rules = default_rules()
        return [
            _check_alone(t, options) if _isolate(t) else check_target(t, options, rules)
            for t in targets
        ]
    # Import every rule once, before forking, so workers share them.
    _ = default_rules().rules
    return _Pool(targets, options, jobs).run()


# multiprocessing (with socket and pickle, a tenth of start-up) is imported only for a --jobs
# pool: a run of one file never does (a large one is forked with os.fork, _check_alone). Its
# "fork" start method exists where os.fork does.
_CAN_FORK = hasattr(os, "fork")
# Seconds past the time limit before a worker that did not answer is killed: the timer stops
# Python code at the limit (and the worker then answers with what it found); this is for code it
# cannot interrupt (a C extension: a regular expression, the YAML parser), and for sending big
# results. A short limit gets a short grace, so a stuck file costs at most twice its limit.
_KILL_GRACE = 30.0


def _grace(options: Options) -> float:
    return min(_KILL_GRACE, max(options.time_limit, 0.1))


class _Worker:
    """A forked process checking one file at a time, handed to it by index (the targets are
    inherited through the fork, so only indices and results cross the pipe)."""

    def __init__(self, targets: Sequence[Target], options: Options) -> None:
        import multiprocessing

        context = multiprocessing.get_context("fork")
        self.conn, child = context.Pipe(duplex=True)
        self.process = context.Process(target=_serve, args=(child, targets, options), daemon=True)
        with _interrupts_deferred():
            self.process.start()
        child.close()
        self.index: int | None = None
        self.deadline = 0.0
        self.stopped = False

    def give(self, index: int, deadline: float) -> None:
        self.index, self.deadline = index, deadline
        self.conn.send(index)

    def stop(self, *, kill: bool = False) -> None:
        self.stopped = True
        if kill:
            self.process.kill()
        else:
            with suppress(OSError):
                self.conn.send(None)
        self.conn.close()
        self.process.join()


class _Pool:
    """``--jobs`` workers, each file handed to the first idle one. The parent watches every
    file's wall-clock deadline: a worker that has not answered by its file's time limit plus a
    grace is stuck where the timer cannot reach (native code) and is killed; the file is
    reported past its limit and a new worker takes the remaining files. A worker that dies
    (killed, out of memory) costs only the file it was checking."""

    def __init__(self, targets: Sequence[Target], options: Options, jobs: int) -> None:
        self.targets = targets
        self.options = options
        self.jobs = jobs
        self.results: list[FileResult | None] = [None] * len(targets)

    def run(self) -> list[FileResult]:
        from multiprocessing.connection import wait

        pending = deque(range(len(self.targets)))
        workers: list[_Worker] = []
        try:
            while pending or any(w.index is not None for w in workers):
                idle = sum(1 for w in workers if w.index is None)
                while len(workers) < self.jobs and len(pending) > idle:
                    try:
                        worker = _Worker(self.targets, self.options)
                    except OSError as exc:  # the process limit: go on with the workers there are
                        if workers:
                            break
                        index = pending.popleft()  # none at all: this file's error
                        path = self.targets[index].path
                        self.results[index] = _not_started(path, exc, "--jobs checks each file")
                        continue
                    workers.append(worker)
                    idle += 1
                for worker in workers:
                    if worker.index is None and pending:
                        limit = self.options.time_limit + _grace(self.options)
                        worker.give(pending.popleft(), time.monotonic() + limit)
                busy = [w for w in workers if w.index is not None]
                if not busy:
                    continue
                soonest = min(w.deadline for w in busy)
                ready = wait([w.conn for w in busy], max(0.0, soonest - time.monotonic()))
                for worker in busy:
                    answered = worker.conn in ready
                    if answered or time.monotonic() >= worker.deadline:
                        self._collect(worker, answered=answered)
                        if worker.stopped:
                            workers.remove(worker)
        finally:  # also on Ctrl-C: a worker still checking a file may be stuck in it
            for worker in workers:
                worker.stop(kill=worker.index is not None)
        return [r for r in self.results if r is not None]

    def _collect(self, worker: _Worker, *, answered: bool) -> None:
        """Record the worker's file; a worker stuck in it, or dead, is stopped for good."""
        index = worker.index
        assert index is not None
        worker.index = None
        name = self.targets[index].path
        if answered:
            try:
                self.results[index] = worker.conn.recv()
                return
            except (EOFError, OSError):
                self.results[index] = FileResult(file=name, errors=[FileError(name, _died(name))])
        else:
            self.results[index] = FileResult(
                file=name, errors=[FileError(name, _overtime(name, self.options))]
            )
        worker.stop(kill=True)


def _serve(conn: Connection, targets: Sequence[Target], options: Options) -> None:
    """A worker's loop: check the file at each index received (under the memory limit too),
    until None."""
    _leave_interrupts_to_the_parent()
    try:
        while (index := conn.recv()) is not None:
            conn.send(check_target(targets[index], options, cap_memory=True))
    except (EOFError, OSError):  # the parent is gone
        pass
    finally:
        conn.close()


def _leave_interrupts_to_the_parent() -> None:
    """Ctrl-C reaches every process of the terminal's group: a worker would die with a
    traceback of its own. The parent stops (exit 130) and kills its workers instead."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # Forked inside _interrupts_deferred: the mask is inherited, a pending signal is not.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


@contextmanager
def _interrupts_deferred() -> Iterator[None]:
    """Holds SIGINT while a worker is started: a KeyboardInterrupt raised inside
    multiprocessing's bookkeeping (a half-built util.Finalize) made the interpreter print
    "Exception ignored in: <Finalize object, dead> ... AttributeError" at exit, a traceback
    after "interrupted". Held, the signal arrives once the worker is started, where the
    caller's cleanup kills it."""
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


def _died(name: str) -> str:
    return (
        f"{name}: internal error: the process checking this file died (out of memory, or "
        "killed); check it alone to see more, and please report it with the template"
    )


def _isolate(target: Target) -> bool:
    size = target.size
    if size is None and target.text is not None:
        size = len(target.text)
    if size is None and target.raw is not None:
        size = len(target.raw)
    # Unknown size: a pipe or device named on the command line, read up to 10 MiB.
    return size is None or size > ISOLATE_BYTES


def _check_alone(target: Target, options: Options) -> FileResult:
    """Check one file in a process of its own: under the memory limit, killed when it outlives
    the time limit, and named when it dies, while the caller goes on with the other files.

    A bare ``os.fork`` and a pipe the child writes its result into (marshalled, _flat):
    multiprocessing's Process and Connection do the same with 20 million instructions of
    imports (its context, connection, socket, selectors...), a fortieth of ``conveyor check``
    on a 1.5 MB plan."""
    try:
        reader, writer = os.pipe()
    except OSError as exc:  # the descriptor limit: this file's error, not the run's
        return _not_started(target.path, exc)
    pid = 0
    answered = False
    try:
        with _interrupts_deferred():
            try:
                pid = os.fork()
            except OSError as exc:  # the process limit (a CI container's), memory
                return _not_started(target.path, exc)
            if pid == 0:
                _child(target, options, reader, writer)  # never returns
        os.close(writer)
        writer = -1
        if not _readable(reader, options.time_limit + _grace(options)):
            return FileResult(
                file=target.path, errors=[FileError(target.path, _overtime(target.path, options))]
            )
        with os.fdopen(reader, "rb", closefd=False) as answer:
            sent = answer.read()
        try:
            # From this process's own child, through a pipe nobody else holds.
            result = _unflat(marshal.loads(sent))  # noqa: S302
        except Exception:  # nothing or part of a result: the child died before it was sent
            return FileResult(file=target.path, errors=[FileError(target.path, _died(target.path))])
        answered = True
        return result
    finally:
        for fd in (reader, writer):
            if fd >= 0:
                os.close(fd)
        if pid > 0:
            _reap(pid, _grace(options) if answered else 0.0)


def _not_started(name: str, exc: OSError, why: str = "a file over 1 MB is checked") -> FileResult:
    message = (
        f"{name}: cannot start a process to check it ({why} in one, under --memory-limit): "
        f"{_reason(exc)}; free processes or memory and run again"
    )
    return FileResult(file=name, errors=[FileError(name, message)])


def _child(target: Target, options: Options, reader: int, writer: int) -> NoReturn:
    """The forked child: check, send the result, exit without the parent's atexit handlers or
    buffered output (os._exit)."""
    code = 1
    try:
        os.close(reader)
        _check_in_child(target, options, _ResultPipe(writer))
        code = 0
    except BrokenPipeError:
        # The parent is gone (stopped by SIGTERM, a cancelled CI job): no one to answer, and
        # no bug to show on a terminal the command has already given back.
        pass
    except BaseException:  # a bug: shown, and the parent reports the file's process died
        import traceback

        traceback.print_exc()
        sys.stderr.flush()
    finally:
        os._exit(code)


class _ResultPipe:
    """The child's end of the pipe: ``send`` and ``close``, as a multiprocessing Connection
    (``_check_in_child`` takes either)."""

    def __init__(self, fd: int) -> None:
        self.fd = fd

    def send(self, result: FileResult) -> None:
        with os.fdopen(self.fd, "wb", closefd=False) as out:
            out.write(marshal.dumps(_flat(result)))

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


# A FileResult as the builtin types marshal writes (strings, numbers, tuples, lists, dicts),
# and back: pickle, which a multiprocessing Connection uses, is 8 million instructions to
# import in the parent. Findings and errors as their fields, in their constructors' order.
def _flat(result: FileResult) -> tuple[Any, ...]:
    def findings(found: list[Finding]) -> list[tuple[Any, ...]]:
        return [
            (
                f.rule,
                int(f.severity),
                f.file,
                f.resource,
                f.path,
                f.line,
                f.message,
                f.fix,
                f.failure_modes,
                f.reason,
                f.key,
            )
            for f in found
        ]

    return (
        result.file,
        result.checked,
        result.resources,
        findings(result.findings),
        findings(result.suppressed),
        [(e.file, e.message, e.rule) for e in result.errors],
        result.unchecked,
    )


def _unflat(flat: tuple[Any, ...]) -> FileResult:
    file, checked, resources, findings, suppressed, errors, unchecked = flat

    def made(found: list[tuple[Any, ...]]) -> list[Finding]:
        return [Finding(r, Severity(s), *rest) for r, s, *rest in found]

    return FileResult(
        file,
        checked,
        resources,
        made(findings),
        made(suppressed),
        [FileError(*e) for e in errors],
        unchecked,
    )


def _readable(fd: int, timeout: float) -> bool:
    """Whether ``fd`` has data or its writer is gone within ``timeout`` seconds."""
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    return bool(poller.poll(max(0, int(timeout * 1000) + 1)))


def _reap(pid: int, wait: float) -> None:
    """Collect the child (no zombie, no orphan). One that answered has only to exit: it gets up
    to ``wait`` seconds (a profiler in it, as the benchmarks run it under valgrind, writes its
    counts at exit); one still running after that (or interrupted: Ctrl-C, SIGINT to this
    process alone, a time limit passed) is killed."""
    deadline = time.monotonic() + wait
    pause = 0.001
    while os.waitpid(pid, os.WNOHANG) == (0, 0):
        if time.monotonic() >= deadline:
            with suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            return
        time.sleep(min(pause, max(0.0, deadline - time.monotonic())))
        pause = min(pause * 2, 0.05)


def _check_in_child(target: Target, options: Options, conn: Connection | _ResultPipe) -> None:
    _leave_interrupts_to_the_parent()
    try:
        conn.send(check_target(target, options, cap_memory=True))
    finally:
        conn.close()


def auto_jobs(files: int) -> int:
    # Forking costs ~50 ms; it only pays off with a few dozen templates per extra worker.
    cpus = (
        len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    )
    return max(1, min(cpus, files // 40))


def check_paths(
    paths: Iterable[str | Path],
    *,
    ignore: Iterable[str] = (),
    require_tags: Iterable[str] = (),
    jobs: int = 1,
    stdin_text: str | bytes | None = None,
    time_limit: float = TIME_LIMIT,
    memory_limit: int = MEMORY_LIMIT_MIB,
    input_kind: str = "auto",
    today: date | None = None,
) -> CheckResult:
    """Check templates at ``paths`` (files, directories, ``cdk.out``, or ``-`` for stdin).
    Each file gets ``time_limit`` seconds and, when checked in a worker process (``jobs`` > 1,
    or a file over 1 MB), ``memory_limit`` MiB; past either it is an error naming the file.
    ``input_kind`` forces terraform, pulumi or cloudformation instead of detecting it.
    ``today`` is the day dates are judged by (a runtime's deprecation), UTC's when not given.
    Raises ValueError for limits or ``jobs`` out of range (bounds.limits_problem), or a
    CONVEYOR_TODAY that is no date."""
    problem = limits_problem(time_limit, memory_limit, jobs)
    if problem is not None:
        raise ValueError(problem)
    started = time.perf_counter()
    options = Options(
        ignore=frozenset(ignore),
        require_tags=tuple(require_tags),
        time_limit=time_limit,
        memory_limit=memory_limit,
        input_kind=input_kind,
        today=today or lambda_runtimes.today(),
    )
    targets, errors = discover(paths, stdin_text=stdin_text)
    if len(targets) > 1:
        # What the other templates deploy matters only to a run of several (and rules.deployed
        # makes a dataclass: 4 million instructions that a run of one file does without).
        from conveyor.rules.deployed import deployed_alarms, deployed_watches

        checked = [t.path for t in targets]
        options = options.replace(
            deployed_alarms=deployed_alarms(checked),
            deployed_watches=deployed_watches(checked),
        )
    result = CheckResult()
    result.errors.extend(errors)
    if jobs <= 0:
        jobs = auto_jobs(len(targets))
    for file_result in run(targets, options, jobs=jobs):
        result.add(file_result)
    result.seconds = time.perf_counter() - started
    return result


def check_text(
    text: str | bytes,
    *,
    name: str = "<stdin>",
    ignore: Iterable[str] = (),
    require_tags: Iterable[str] = (),
    input_kind: str = "auto",
    today: date | None = None,
) -> CheckResult:
    """Check one template (or Terraform plan, Pulumi preview/export) given as text (or as
    bytes, decoded as a file would be), judging dates by ``today`` (UTC's when not given)."""
    started = time.perf_counter()
    options = Options(
        ignore=frozenset(ignore),
        require_tags=tuple(require_tags),
        input_kind=input_kind,
        today=today or lambda_runtimes.today(),
    )
    result = CheckResult()
    target = Target(name, True, raw=text) if isinstance(text, bytes) else Target(name, True, text)
    result.add(check_target(target, options))
    result.seconds = time.perf_counter() - started
    return result
