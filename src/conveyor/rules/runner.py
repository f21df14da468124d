"""From paths to a ``CheckResult``: find the templates, read them safely, check them, in parallel
across processes when asked (each file is independent, so ``--jobs`` scales near-linearly)."""

from __future__ import annotations

import multiprocessing
import os
import sys
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from conveyor.rules.engine import Options, RuleSet, check_template
from conveyor.rules.model import CheckResult, FileError, FileResult
from conveyor.rules.template import (
    MAX_BYTES,
    TEMPLATE_SUFFIXES,
    NotATemplateError,
    TemplateError,
    looks_like_template,
    parse,
    read_text,
)

STDIN = "-"
_SKIP_DIRS = frozenset({".git", ".hg", ".svn", ".venv", "venv", "node_modules", "__pycache__"})


@dataclass(frozen=True, slots=True)
class Target:
    path: str
    # Named on the command line (errors are errors) or found in a directory (non-templates
    # are skipped quietly).
    explicit: bool
    text: str | None = None


@lru_cache(maxsize=1)
def default_rules() -> RuleSet:
    from conveyor.rules.catalog import RULES

    return RuleSet(RULES)


def discover(
    paths: Iterable[str | Path], *, stdin_text: str | None = None
) -> tuple[list[Target], list[FileError]]:
    targets: list[Target] = []
    errors: list[FileError] = []
    for raw in paths:
        name = str(raw)
        if name == STDIN:
            text = stdin_text if stdin_text is not None else sys.stdin.read()
            targets.append(Target("<stdin>", True, text))
            continue
        path = Path(name)
        if path.is_dir():
            targets.extend(_walk(path))
        elif path.is_file():
            targets.append(Target(name, True))
        elif path.exists():
            errors.append(FileError(name, "not a regular file or directory; give a template file"))
        else:
            errors.append(FileError(name, "no such file or directory; check the path"))
    # The same file named twice (or through two paths) is checked once.
    seen: set[str] = set()
    unique: list[Target] = []
    for target in targets:
        key = target.path if target.text is not None else str(Path(target.path).resolve())
        if key not in seen:
            seen.add(key)
            unique.append(target)
    return unique, errors


def is_cloud_assembly(path: Path) -> bool:
    return (path / "manifest.json").is_file() and any(path.glob("*.template.json"))


def _walk(root: Path) -> list[Target]:
    found: list[Target] = []
    for dirpath, dirnames, filenames in os.walk(root):
        here = Path(dirpath)
        dirnames[:] = sorted(d for d in dirnames if d not in _SKIP_DIRS and not d.startswith("."))
        if is_cloud_assembly(here):
            # In cdk.out only the synthesized stacks are templates; assets and manifests are not.
            found.extend(
                Target(str(here / f), True)
                for f in sorted(filenames)
                if f.endswith(".template.json")
            )
            dirnames[:] = [d for d in dirnames if d.startswith("assembly-")]
            continue
        found.extend(
            Target(str(here / f), False)
            for f in sorted(filenames)
            if f.lower().endswith(TEMPLATE_SUFFIXES)
        )
    return found


def check_target(target: Target, options: Options, rules: RuleSet | None = None) -> FileResult:
    rules = rules or default_rules()
    name = target.path
    try:
        if target.text is not None:
            text = target.text
            if not text.strip():
                raise TemplateError(f"{name}: the input is empty; give a CloudFormation template")
        else:
            text = _read(Path(name), explicit=target.explicit)
        if not target.explicit and not looks_like_template(text):
            return FileResult(file=name)
        template = parse(text, name=name, suffix=Path(name).suffix.lower())
    except NotATemplateError as exc:
        if not target.explicit:
            return FileResult(file=name)
        return FileResult(file=name, errors=[FileError(name, str(exc))])
    except TemplateError as exc:
        return FileResult(file=name, errors=[FileError(name, str(exc))])
    return check_template(template, rules, options)


def _read(path: Path, *, explicit: bool) -> str:
    name = str(path)
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            if not explicit:
                with path.open("rb") as handle:
                    head = handle.read(65536)
                if not looks_like_template(head.decode("utf-8", "replace")):
                    raise NotATemplateError(name)
            raise TemplateError(
                f"{name}: {size / 1e6:.1f} MB is too large to be a CloudFormation template "
                f"(CloudFormation accepts 1 MB; conveyor reads up to {MAX_BYTES // 2**20} MiB): "
                "split the stack"
            )
        raw = path.read_bytes()
    except OSError as exc:
        raise TemplateError(f"{name}: cannot read the file: {exc.strerror or exc}") from None
    if not explicit and (not raw.strip() or b"\x00" in raw[:8192]):
        raise NotATemplateError(name)
    return read_text(raw, name=name)


def _check_many(targets: Sequence[Target], options: Options) -> list[FileResult]:
    rules = default_rules()
    return [check_target(t, options, rules) for t in targets]


def run(targets: Sequence[Target], options: Options, *, jobs: int = 1) -> list[FileResult]:
    jobs = max(1, min(jobs, len(targets)))
    if jobs == 1:
        return _check_many(targets, options)
    default_rules()  # import the rules once, before forking, so workers share them
    # Interleave files across workers so big and small files spread evenly.
    chunks = [list(targets[i :: jobs * 4]) for i in range(jobs * 4)]
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else None
    context = multiprocessing.get_context(method)
    with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
        parts = list(pool.map(_check_many, chunks, [options] * len(chunks)))
    order = {t.path: i for i, t in enumerate(targets)}
    results = [r for part in parts for r in part]
    results.sort(key=lambda r: order.get(r.file, 0))
    return results


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
    stdin_text: str | None = None,
) -> CheckResult:
    """Check templates at ``paths`` (files, directories, ``cdk.out``, or ``-`` for stdin)."""
    started = time.perf_counter()
    options = Options(ignore=frozenset(ignore), require_tags=tuple(require_tags))
    targets, errors = discover(paths, stdin_text=stdin_text)
    result = CheckResult()
    result.errors.extend(errors)
    if jobs <= 0:
        jobs = auto_jobs(len(targets))
    for file_result in run(targets, options, jobs=jobs):
        result.add(file_result)
    result.seconds = time.perf_counter() - started
    return result


def check_text(
    text: str,
    *,
    name: str = "<stdin>",
    ignore: Iterable[str] = (),
    require_tags: Iterable[str] = (),
) -> CheckResult:
    """Check one template given as text."""
    started = time.perf_counter()
    options = Options(ignore=frozenset(ignore), require_tags=tuple(require_tags))
    result = CheckResult()
    result.add(check_target(Target(name, True, text), options))
    result.seconds = time.perf_counter() - started
    return result
