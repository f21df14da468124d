"""The rules' lazily compiled patterns (conveyor.rules.patterns): each one compiles, behaves as
``re.compile`` would, and no rule module compiles a pattern at import again."""

from __future__ import annotations

import ast
import importlib
import pkgutil
import re
from pathlib import Path

import pytest

import conveyor.rules
from conveyor.rules.patterns import LazyPattern, lazy

RULES = Path(conveyor.rules.__file__).parent


def _modules() -> list[str]:
    return [
        m.name
        for m in pkgutil.walk_packages([str(RULES)], prefix="conveyor.rules.")
        if not m.name.endswith("__main__")
    ]


def _lazy_patterns() -> list[tuple[str, LazyPattern]]:
    found: dict[int, tuple[str, LazyPattern]] = {}

    def collect(where: str, value: object) -> None:
        if isinstance(value, LazyPattern):
            found.setdefault(id(value), (where, value))
        elif isinstance(value, tuple | list):
            for item in value:
                collect(where, item)

    for name in _modules():
        module = importlib.import_module(name)
        for attr, value in vars(module).items():
            collect(f"{name}.{attr}", value)
    return list(found.values())


def test_every_lazy_pattern_compiles() -> None:
    patterns = _lazy_patterns()
    # hardcoded_account's ARN pattern, the terraform reader's and the secrets' among them.
    assert len(patterns) > 60
    for where, pattern in patterns:
        try:
            pattern.compiled()
        except re.error as exc:  # pragma: no cover - the failure this test is for
            pytest.fail(f"{where}: {pattern.pattern!r} does not compile: {exc}")


@pytest.mark.parametrize(
    ("method", "args"),
    [
        ("search", ("xx ab-12 yy",)),
        ("match", ("ab-12 yy",)),
        ("fullmatch", ("ab-12",)),
        ("findall", ("ab-1 cd-22",)),
        ("split", ("x ab-1 y",)),
        ("sub", (r"<\1>", "ab-1 cd-22")),
        ("subn", ("_", "ab-1 cd-22")),
    ],
)
def test_a_lazy_pattern_answers_as_the_compiled_one(method: str, args: tuple[str, ...]) -> None:
    text, flags = r"([a-z]+)-(\d+)", re.IGNORECASE
    pattern = lazy(text, flags)
    compiled = re.compile(text, flags)

    def shown(value: object) -> object:
        return value.group(0, 1, 2) if isinstance(value, re.Match) else value

    first = getattr(pattern, method)(*args)
    assert shown(first) == shown(getattr(compiled, method)(*args))
    # Compiled on the first call: from then on the method is the compiled pattern's own.
    assert getattr(pattern, method).__self__ == compiled
    assert shown(getattr(pattern, method)(*args)) == shown(first)
    assert [m.span() for m in pattern.finditer("ab-1 cd-22")] == [(0, 4), (5, 10)]


def test_not_compiled_until_used() -> None:
    pattern = LazyPattern("(unclosed")  # compiling it raises
    with pytest.raises(re.error):
        pattern.search("x")


def test_no_rule_module_compiles_a_pattern_at_import() -> None:
    """A pattern at a rule module's top level is ``lazy``: ``re.compile`` there costs every
    check that imports the module (up to 4.7 million instructions a pattern) even when the
    pattern is never used. The report writers, which use theirs on every run, may compile."""
    offenders = []
    for path in sorted(RULES.rglob("*.py")):
        if "report" in path.relative_to(RULES).parts:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        stack: list[ast.AST] = list(tree.body)
        while stack:
            node = stack.pop()
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
                continue  # compiled when called, not at import
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "compile"
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id == "re"
            ):
                offenders.append(f"{path.relative_to(RULES)}:{node.lineno}")
            stack.extend(ast.iter_child_nodes(node))
    assert offenders == [], "use conveyor.rules.patterns.lazy(...) instead of re.compile"


def test_no_rule_module_makes_a_forward_reference() -> None:
    """A string annotation that typing evaluates (a NamedTuple field under ``from __future__
    import annotations``) becomes a typing.ForwardRef, which compile()s it: the process's
    first compile() builds the ast module's node types, 9.3 million instructions a check
    otherwise never spends (conveyor.rules.hit says more). Importing every module of the
    checker makes none."""
    import subprocess
    import sys

    script = (
        "import importlib, pkgutil, typing\n"
        "made = []\n"
        "real = typing.ForwardRef.__init__\n"
        "def init(self, arg, *args, **kwargs):\n"
        "    made.append(arg)\n"
        "    real(self, arg, *args, **kwargs)\n"
        "typing.ForwardRef.__init__ = init\n"
        "import conveyor.rules\n"
        "for m in pkgutil.walk_packages(conveyor.rules.__path__, 'conveyor.rules.'):\n"
        "    if not m.name.endswith('__main__'):\n"
        "        importlib.import_module(m.name)\n"
        "print(made)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=300
    )
    assert done.stdout.strip() == "[]", done.stdout
