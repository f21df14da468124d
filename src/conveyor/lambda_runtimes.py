"""Lambda runtimes: the ones conveyor offers, and the dates AWS deprecates each.

One table read by the spec (`conveyor validate` warns before a runtime's date and refuses it
from then on, spec/readiness.py) and by the checker (CV076 reports it from its date on), so
the two never disagree. No AWS or CDK import: both fast commands read it.

"Today" is UTC's date, or the date in CONVEYOR_TODAY (YYYY-MM-DD): what validate and check will
say on a day to come (`CONVEYOR_TODAY=2027-04-01 conveyor validate conveyor.yaml`), and what
the tests pin so that they pass on any day they run.
"""

from __future__ import annotations

import os
from datetime import UTC, date, datetime

TODAY_VARIABLE = "CONVEYOR_TODAY"

# The runtimes conveyor.yaml offers (spec.models.LambdaRuntime lists the same; a test keeps
# them equal), newest of each language last: a new runtime goes here with its date below.
OFFERED = ("python3.12", "python3.13", "python3.14", "nodejs22.x", "nodejs24.x")

# The runtime conveyor's own handlers (deployment history, notifications, validation, the scan
# gate) run on: constructs/defaults.HANDLER_RUNTIME is this one (a test keeps them equal). It
# ends too: validate warns before its date that this conveyor is due for an upgrade.
HANDLERS = "python3.12"

# Runtimes Lambda deprecated before conveyor's first release (no date needed: long past).
DEPRECATED = frozenset(
    {
        "nodejs", "nodejs4.3", "nodejs4.3-edge", "nodejs6.10", "nodejs8.10", "nodejs10.x",
        "nodejs12.x", "nodejs14.x", "nodejs16.x", "nodejs18.x",
        "python2.7", "python3.6", "python3.7", "python3.8", "python3.9",
        "ruby2.5", "ruby2.7", "ruby3.2",
        "java8", "dotnetcore1.0", "dotnetcore2.0", "dotnetcore2.1", "dotnetcore3.1",
        "dotnet5.0", "dotnet6", "go1.x", "provided",
    }
)  # fmt: skip
# Runtimes deprecated since or to come, by the date Lambda deprecates them (the "Deprecation
# date" column of https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtimes.html, as
# cfn-lint 1.58's LmbdRuntimeLifecycle.json records it; tests/rules compare the two). From that
# date Lambda stops security patches, and it blocks creating and then updating functions on the
# runtime months later (https://docs.aws.amazon.com/lambda/latest/dg/runtime-support-policy.html).
# Every offered runtime has its date here: each is a time bomb in a spec that names it.
DEPRECATION_DATES: dict[str, date] = {
    "nodejs20.x": date(2026, 4, 30),
    "provided.al2": date(2026, 7, 31),
    "python3.10": date(2026, 10, 31),
    "dotnet8": date(2026, 11, 10),
    "ruby3.3": date(2027, 3, 31),
    "nodejs22.x": date(2027, 4, 30),
    "java8.al2": date(2027, 6, 30),
    "java11": date(2027, 6, 30),
    "java17": date(2027, 6, 30),
    "python3.11": date(2027, 6, 30),
    "nodejs24.x": date(2028, 4, 30),
    "python3.12": date(2028, 10, 31),
    "python3.13": date(2029, 6, 30),
    "python3.14": date(2029, 6, 30),
}

# How long before a runtime's date `conveyor validate` starts to warn: two quarters, time for a
# team to test its code on the successor and release it.
WARN_DAYS = 180


def today() -> date:
    """UTC's date, or CONVEYOR_TODAY's (ValueError naming the variable if it is no date)."""
    written = os.environ.get(TODAY_VARIABLE)
    if not written:
        return datetime.now(UTC).date()
    try:
        return date.fromisoformat(written.strip())
    except ValueError:
        raise ValueError(
            f"{TODAY_VARIABLE}={written!r} is not a date: write it as YYYY-MM-DD, or unset it "
            "for today's date"
        ) from None


def deprecation_date(runtime: str) -> date | None:
    """The date Lambda deprecates (or deprecated) `runtime`; None if unknown or long past."""
    return DEPRECATION_DATES.get(runtime)


def is_deprecated(runtime: str, on: date | None = None) -> bool:
    """Whether Lambda has deprecated `runtime` by the date `on` (today when not given)."""
    if runtime in DEPRECATED:
        return True
    when = DEPRECATION_DATES.get(runtime)
    return when is not None and when <= (on or today())


def newest(language: str) -> str:
    """The newest offered runtime of `language` ("python" or "nodejs")."""
    return [r for r in OFFERED if r.startswith(language)][-1]
