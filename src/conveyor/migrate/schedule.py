"""Copilot's `on.schedule` as an EventBridge Scheduler expression.

Copilot accepts a standard five-field cron (`0 9 * * 1-5`), the presets @hourly, @daily,
@midnight, @weekly, @monthly, @yearly and @annually, `@every <duration>`, and AWS's own
`cron(...)` and `rate(...)` (docs/manifest/scheduled-job.en.md), and converts them as
internal/pkg/deploy/cloudformation/stack/scheduled_job.go does (github.com/aws/copilot-cli,
Apache-2.0); this is the same conversion, except that a day of week 7 (Sunday in cron) becomes
1 instead of 8. AWS's cron has six fields, `?` in day-of-month or day-of-week, and numbers its
weekdays 1-7 from Sunday: https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-cron-expressions.html
(EventBridge Scheduler reads the same: https://docs.aws.amazon.com/scheduler/latest/UserGuide/schedule-types.html).
"""

from __future__ import annotations

import re

PRESETS = {
    "@hourly": "cron(0 * * * ? *)",
    "@daily": "cron(0 0 * * ? *)",
    "@midnight": "cron(0 0 * * ? *)",
    "@weekly": "cron(0 0 ? * 1 *)",
    "@monthly": "cron(0 0 1 * ? *)",
    "@yearly": "cron(0 0 1 1 ? *)",
    "@annually": "cron(0 0 1 1 ? *)",
}
_DURATION = re.compile(r"(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?")


def scheduler_expression(schedule: str) -> tuple[str | None, str]:
    """The Scheduler expression for Copilot's schedule, or None and why it has none."""
    text = schedule.strip()
    if text == "none":
        return None, "the job is switched off (schedule: none); conveyor's jobs always run"
    if re.fullmatch(r"(rate|cron)\(.+\)", text):
        return text, ""
    if text in PRESETS:
        return PRESETS[text], ""
    if text.startswith("@every "):
        return _rate(text.removeprefix("@every ").strip())
    fields = text.split()
    if len(fields) != 5:
        return None, f"{schedule!r} is not a five-field cron, a preset or rate(...)/cron(...)"
    return _cron(fields)


def _rate(duration: str) -> tuple[str | None, str]:
    found = _DURATION.fullmatch(duration)
    if not duration or found is None:
        return None, f"@every {duration}: write a duration such as 1h30m"
    hours, minutes, seconds = (int(part or 0) for part in found.groups())
    if seconds or (hours == 0 and minutes == 0):
        return None, f"@every {duration}: Scheduler's rates are whole minutes, at least one"
    total = hours * 60 + minutes
    return f"rate({total} minute{'' if total == 1 else 's'})", ""


def _cron(fields: list[str]) -> tuple[str | None, str]:
    minute, hour, day, month, weekday = fields
    day_set = not set(day) & set("*?")
    weekday_set = not set(weekday) & set("*?")
    if day_set and weekday_set:
        # Standard cron runs on either; AWS's cron cannot say "either".
        return None, (
            f"{' '.join(fields)} names both a day of the month and a day of the week, which "
            "cron reads as either one; AWS's cron takes one of them: write two jobs' schedules "
            "or choose one"
        )
    if weekday_set:
        day = "?"
        weekday = _aws_weekdays(weekday)
    else:
        day = "*" if not day_set else day
        weekday = "?"
    return f"cron({minute} {hour} {day} {month} {weekday} *)", ""


def _aws_weekdays(field: str) -> str:
    """Cron's weekdays (0-7, Sunday 0 and 7) as AWS's (1-7, Sunday 1); names stay."""

    def one(number: str) -> str:
        return str(int(number) % 7 + 1)

    def part(item: str) -> str:
        low, dash, high = item.partition("-")
        if dash and low.isdigit() and high.isdigit() and int(high) == 7 and int(low) > 0:
            return f"{one(low)}-7,1"  # ...through Sunday: Sunday is AWS's first day
        return re.sub(r"\d+", lambda m: one(m[0]), item)

    return ",".join(part(item) for item in field.split(","))
