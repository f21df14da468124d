"""Trigger filters of the V2 git trigger: a monorepo service's paths (the spec's own path
always included), documentation excluded, and release on tag, as two push filters."""

from __future__ import annotations

from tests.synth.conftest import Synthesized


def test_paths_and_tags_become_two_push_filters(synthesized: dict[str, Synthesized]) -> None:
    s = synthesized["validated-service"]
    pipeline = s.pipeline()
    (trigger,) = pipeline["Properties"]["Triggers"]
    assert trigger["ProviderType"] == "CodeStarSourceConnection"
    branch, tags = trigger["GitConfiguration"]["Push"]
    assert branch == {
        "Branches": {"Includes": ["main"]},
        "FilePaths": {
            "Includes": ["services/orders/**", "libs/shared/**", "conveyor.yaml"],
            "Excludes": ["**/*.md"],
        },
    }
    assert tags == {"Tags": {"Includes": ["v*"]}}


def test_without_filters_every_push_to_the_branch_starts_it(
    synthesized: dict[str, Synthesized],
) -> None:
    s = synthesized["web-service"]
    pipeline = s.pipeline()
    (trigger,) = pipeline["Properties"]["Triggers"]
    assert trigger["GitConfiguration"]["Push"] == [{"Branches": {"Includes": ["main"]}}]
