"""Regular expressions compiled when first used, for the rules' module-level patterns.

``re.compile`` is pure Python (the ``re._parser`` and ``re._compiler`` modules): a rule's
pattern costs 0.2 to 4.7 million instructions to compile (hardcoded_account's ARN pattern the
most), and importing the modules a check of a 1,000-resource Terraform plan needs compiled 70
patterns it mostly never used (35 million instructions of the process's 927 million). A
``lazy`` pattern is compiled by the first call of one of its methods; its methods are then the
compiled pattern's own (bound in the instance, so later calls cost what a compiled pattern's
cost). Only method calls are supported: pass ``lazy`` patterns to no ``re`` function.
tests/rules/test_patterns.py compiles every one (a typo still fails the tests, not a user's
check) and keeps ``re.compile`` out of the rules' module level.
"""

from __future__ import annotations

import re
from typing import Any, cast

_METHODS = ("search", "match", "fullmatch", "sub", "subn", "findall", "finditer", "split")


class LazyPattern:
    """``re.compile(pattern, flags)``, done by the first method call."""

    def __init__(self, pattern: str, flags: int = 0) -> None:
        self.pattern = pattern
        self.flags = flags

    def compiled(self) -> re.Pattern[str]:
        """The compiled pattern; its methods replace this object's from now on."""
        done = re.compile(self.pattern, self.flags)
        for name in _METHODS:
            setattr(self, name, getattr(done, name))
        return done

    # Each method compiles the pattern, then calls the compiled one's (only the first call of
    # each comes here: compiled() shadows them in the instance).
    def search(self, *args: Any) -> Any:
        return self.compiled().search(*args)

    def match(self, *args: Any) -> Any:
        return self.compiled().match(*args)

    def fullmatch(self, *args: Any) -> Any:
        return self.compiled().fullmatch(*args)

    def sub(self, *args: Any, **kwargs: Any) -> Any:
        return self.compiled().sub(*args, **kwargs)

    def subn(self, *args: Any, **kwargs: Any) -> Any:
        return self.compiled().subn(*args, **kwargs)

    def findall(self, *args: Any) -> Any:
        return self.compiled().findall(*args)

    def finditer(self, *args: Any) -> Any:
        return self.compiled().finditer(*args)

    def split(self, *args: Any, **kwargs: Any) -> Any:
        return self.compiled().split(*args, **kwargs)

    def __repr__(self) -> str:
        return f"lazy({self.pattern!r}, {self.flags!r})"


def lazy(pattern: str, flags: int = 0) -> re.Pattern[str]:
    """A pattern compiled when first used; typed as the compiled pattern it stands for (its
    methods are the same)."""
    return cast("re.Pattern[str]", LazyPattern(pattern, flags))
