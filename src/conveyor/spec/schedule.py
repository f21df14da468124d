"""What a scheduled job's `schedule:` and `timezone:` may say: EventBridge Scheduler's rate and
cron expressions, checked where conveyor.yaml is read so a typo is an error at its key, not a
failed stack update in the middle of a release.

Cron: six fields, minutes hours day-of-month month day-of-week year, with '?' in exactly one of
the two day fields; the same wildcards as EventBridge's cron (, - * / ? L W #). Rate: a positive
whole number and minute(s), hour(s) or day(s), singular for 1 and plural otherwise.
https://docs.aws.amazon.com/scheduler/latest/UserGuide/schedule-types.html
https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rate-expressions.html
One-time at(...) schedules are not a job's: a job runs again with every release's image.
"""

from __future__ import annotations

import difflib
import re
from datetime import UTC, datetime

SCHEDULE_EXAMPLES = ("cron(0 3 * * ? *)", "rate(1 hour)")
_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_DAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")
# (name, lowest, highest, names) of the six fields, in order.
_FIELDS: tuple[tuple[str, int, int, tuple[str, ...]], ...] = (
    ("minutes", 0, 59, ()),
    ("hours", 0, 23, ()),
    ("day-of-month", 1, 31, ()),
    ("month", 1, 12, _MONTHS),
    ("day-of-week", 1, 7, _DAYS),
    ("year", 1970, 2199, ()),
)
_RATE = re.compile(r"rate\((?P<value>[^ )]*) (?P<unit>[^ )]*)\)")
_UNITS = ("minute", "hour", "day")


def _value(text: str, low: int, high: int, names: tuple[str, ...]) -> bool:
    return text.upper() in names or (text.isdigit() and low <= int(text) <= high)


def _item(item: str, field: str, low: int, high: int, names: tuple[str, ...]) -> bool:
    """One comma-separated part of a field: *, a value, a range, a step, or the special forms
    of the day fields (L, LW, 15W in day-of-month; L, 6L, 6#3 in day-of-week)."""
    upper = item.upper()
    if field == "day-of-month" and (
        upper in ("L", "LW") or (upper.endswith("W") and _value(item[:-1], low, high, names))
    ):
        return True
    if field == "day-of-week":
        if upper == "L" or (upper.endswith("L") and _value(item[:-1], low, high, names)):
            return True
        if "#" in item:
            day, _, nth = item.partition("#")
            return _value(day, low, high, names) and nth in ("1", "2", "3", "4", "5")
    base, slash, step = item.partition("/")
    if slash and not (step.isdigit() and int(step) > 0):
        return False
    if base == "*":
        return True
    start, dash, end = base.partition("-")
    if dash:
        return _value(start, low, high, names) and _value(end, low, high, names)
    return _value(base, low, high, names)


def _cron_problem(fields_text: str) -> str | None:
    fields = fields_text.split()
    if len(fields) != 6:
        return (
            f"cron(...) has {len(fields)} fields; EventBridge Scheduler's has 6: minutes hours "
            "day-of-month month day-of-week year, e.g. cron(0 3 * * ? *) (03:00 every day)"
        )
    for value, (field, low, high, names) in zip(fields, _FIELDS, strict=True):
        if value == "?" and field in ("day-of-month", "day-of-week"):
            continue
        if not all(_item(item, field, low, high, names) for item in value.split(",")):
            allowed = f"{low}-{high}" + (f" or {names[0]}-{names[-1]}" if names else "")
            return (
                f"cron's {field} field {value!r} is not valid: use {allowed}, *, ranges (a-b), "
                "lists (a,b) or steps (*/n)"
            )
    if (fields[2] == "?") == (fields[4] == "?"):
        return (
            "cron needs '?' in exactly one of day-of-month and day-of-week (the other names the "
            "days), e.g. cron(0 3 * * ? *) or cron(0 3 ? * MON-FRI *)"
        )
    # A schedule whose years have all passed never starts a run again, and nothing tells: no
    # RunTask fails into the dead-letter queue, no task stops.
    this_year = datetime.now(UTC).year
    if _last_year(fields[5]) < this_year:
        return (
            f"the year field {fields[5]!r} names no year from {this_year} on, so the job never "
            "runs again: write * (every year) or a range that reaches this year"
        )
    return None


def _last_year(field: str) -> int:
    """The latest year a (valid) year field takes: * and steps run to the last one."""
    high = _FIELDS[5][2]
    last = 0
    for item in field.split(","):
        base, slash, _ = item.partition("/")
        if base == "*" or slash:
            return high
        last = max(last, int(base.partition("-")[2] or base))
    return last


def _rate_problem(text: str) -> str | None:
    match = _RATE.fullmatch(text)
    if match is None:
        return "write rate(<number> <unit>), e.g. rate(1 hour) or rate(15 minutes)"
    value, unit = match.group("value"), match.group("unit")
    if not value.isdigit() or int(value) < 1:
        return f"rate's value {value!r} is not a positive whole number, e.g. rate(15 minutes)"
    singular = unit.rstrip("s") if unit.endswith("s") else unit
    if singular not in _UNITS:
        return f"rate's unit {unit!r} is not minute(s), hour(s) or day(s), e.g. rate(6 hours)"
    wanted = singular if int(value) == 1 else f"{singular}s"
    if unit != wanted:
        return f"write rate({value} {wanted}): the unit is singular for 1 and plural otherwise"
    return None


def schedule_problem(expression: str) -> str | None:
    """What is wrong with a job's schedule expression, or None."""
    text = expression.strip()
    if text != expression:
        return "the schedule has spaces around it: write it without them"
    if text.startswith("cron(") and text.endswith(")"):
        return _cron_problem(text[len("cron(") : -1])
    if text.startswith("rate("):
        return _rate_problem(text)
    if text.startswith("at("):
        return (
            "at(...) runs once; a job runs on a recurring schedule with every release's image: "
            "write cron(...) or rate(...)"
        )
    return (
        f"{expression!r} is not a schedule: write cron(minutes hours day-of-month month "
        "day-of-week year), e.g. cron(0 3 * * ? *), or rate(<number> <unit>), e.g. rate(1 hour)"
    )


def timezone_problem(name: str, known: set[str]) -> str | None:
    """What is wrong with a schedule's time zone (an IANA name such as Europe/Berlin, or UTC),
    or None. `known`: the names this machine's time zone database has (none: not checked)."""
    if name == "UTC" or not known or name in known:
        return None
    close = difflib.get_close_matches(name, known, n=1)
    hint = f" (did you mean {close[0]}?)" if close else ""
    return (
        f"timezone {name!r} is not a time zone EventBridge Scheduler knows{hint}: write an IANA "
        "name such as Europe/Berlin or America/New_York, or UTC"
    )


def _count(value: str, low: int, high: int) -> int:
    """How many values a cron field takes (names and L/W/# forms count as one each)."""
    total = 0
    for item in value.split(","):
        base, _, step = item.partition("/")
        start, dash, end = base.partition("-")
        if base == "*":
            first, last = low, high
        elif dash and start.isdigit() and end.isdigit():
            first, last = int(start), int(end)
        elif dash:
            first, last = 0, 0  # a range of names (MON-FRI, JAN-MAR): counted by _named
        elif base.isdigit() and step:
            first, last = int(base), high
        else:
            total += 1
            continue
        if dash and not start.isdigit():
            total += _named(start, end)
            continue
        total += len(range(first, last + 1, int(step) if step.isdigit() else 1))
    return total


def _named(start: str, end: str) -> int:
    for names in (_MONTHS, _DAYS):
        if start.upper() in names and end.upper() in names:
            return names.index(end.upper()) - names.index(start.upper()) + 1
    return 1


def runs_per_month(expression: str) -> float:
    """About how often a valid schedule runs in a 30-day month (for `conveyor cost`): a rate
    exactly; a cron as its minutes x hours x days a month (a day-of-week list counted over
    30/7 weeks, an nth or last weekday once a month) x the share of months it names. The year
    field is taken as every year."""
    match = _RATE.fullmatch(expression)
    if match is not None:
        minutes = {"minute": 1, "hour": 60, "day": 1440}[match.group("unit").rstrip("s")]
        return 30 * 1440 / (int(match.group("value")) * minutes)
    fields = expression[len("cron(") : -1].split()
    minutes = _count(fields[0], 0, 59)
    hours = _count(fields[1], 0, 23)
    if fields[2] == "?" and ("#" in fields[4] or fields[4].upper().endswith("L")):
        days = float(_count(fields[4], 1, 7))  # the nth or last such day: once a month each
    elif fields[2] == "?":
        days = _count(fields[4], 1, 7) * 30 / 7
    else:
        days = min(_count(fields[2], 1, 31), 30)
    months = _count(fields[3], 1, 12) / 12
    return float(minutes * hours * days * months)
