"""Copilot's schedules as EventBridge Scheduler expressions (Copilot's own conversion)."""

from __future__ import annotations

import pytest

from conveyor.migrate.schedule import scheduler_expression


@pytest.mark.parametrize(
    ("copilot", "aws"),
    [
        ("0 */2 * * *", "cron(0 */2 * * ? *)"),  # Copilot's sample (every two hours)
        ("0 12 * * MON", "cron(0 12 ? * MON *)"),  # Copilot's sample (noon on Mondays)
        ("0 9 * * 1-5", "cron(0 9 ? * 2-6 *)"),  # Copilot's own doc comment example
        ("30 6 1 * *", "cron(30 6 1 * ? *)"),
        ("0 0 * * 0", "cron(0 0 ? * 1 *)"),
        ("0 0 * * 7", "cron(0 0 ? * 1 *)"),  # Sunday written as 7
        ("0 0 * * 5-7", "cron(0 0 ? * 6-7,1 *)"),
        ("@daily", "cron(0 0 * * ? *)"),
        ("@weekly", "cron(0 0 ? * 1 *)"),
        ("@yearly", "cron(0 0 1 1 ? *)"),
        ("@every 1h30m", "rate(90 minutes)"),
        ("@every 1m", "rate(1 minute)"),
        ("rate(5 minutes)", "rate(5 minutes)"),
        ("cron(0 3 * * ? *)", "cron(0 3 * * ? *)"),
    ],
)
def test_copilot_schedules_convert(copilot: str, aws: str) -> None:
    assert scheduler_expression(copilot) == (aws, "")


@pytest.mark.parametrize(
    ("copilot", "reason"),
    [
        ("none", "switched off"),
        ("0 0 1 * 1", "both a day of the month and a day of the week"),
        ("@every 30s", "whole minutes"),
        ("@every soon", "write a duration"),
        ("every day", "not a five-field cron"),
    ],
)
def test_schedules_without_an_aws_equivalent(copilot: str, reason: str) -> None:
    expression, why = scheduler_expression(copilot)
    assert expression is None and reason in why
