"""The ECR repository's lifecycle policy, synthesized and run through a model of ECR's
evaluation (LifecyclePolicies.html, "Lifecycle policy evaluation rules"): every environment keeps
the image it runs however many releases the others get, environment names that extend another's
(prod, prod-eu) included."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from aws_cdk import App, Stack
from aws_cdk import aws_kms as kms
from aws_cdk.assertions import Template

from conveyor.constructs.image_repository import (
    DEPLOYED_IMAGES_KEPT,
    ImageRepository,
    deployed_tag_prefix,
)
from conveyor.constructs.naming import Naming

Image = tuple[int, str]  # (push time, tag)


def rules_of(environments: Sequence[tuple[str, bool]], keep_images: int = 10) -> list[Any]:
    stack = Stack(App(), "S")
    ImageRepository(
        stack,
        "Images",
        naming=Naming("web"),
        key=kms.Key(stack, "Key"),
        keep_images=keep_images,
        production=True,
        environments=environments,
    )
    template = Template.from_stack(stack).to_json()
    (repository,) = [
        r for r in template["Resources"].values() if r["Type"] == "AWS::ECR::Repository"
    ]
    rules: list[Any] = json.loads(
        repository["Properties"]["LifecyclePolicy"]["LifecyclePolicyText"]
    )["rules"]
    return sorted(rules, key=lambda r: r["rulePriority"])


def _matches(rule: dict[str, Any], tag: str) -> bool:
    selection = rule["selection"]
    if selection["tagStatus"] == "any":
        return True
    if selection["tagStatus"] == "untagged":
        return False
    return all(tag.startswith(p) for p in selection["tagPrefixList"])


def evaluate(rules: list[dict[str, Any]], images: list[Image]) -> set[Image]:
    """The images ECR expires in one evaluation. A rule counts every image its filter matches
    (those a higher rule matched or expired included: it "can still identify them"), newest
    first, and expires those beyond its count that no higher-priority rule matches."""
    expired: set[Image] = set()
    for index, rule in enumerate(rules):
        selection = rule["selection"]
        if selection["tagStatus"] == "untagged":
            continue  # every image here is tagged
        assert selection["countType"] == "imageCountMoreThan"
        matched = sorted((i for i in images if _matches(rule, i[1])), reverse=True)
        for image in matched[selection["countNumber"] :]:
            if not any(_matches(higher, image[1]) for higher in rules[:index]):
                expired.add(image)
    return expired


def run_days(
    rules: list[dict[str, Any]], releases_per_day: dict[str, int], days: int
) -> list[Image]:
    """Each day every environment in releases_per_day gets its releases tagged, then the daily
    evaluation expires what it selects. prod was deployed once, before day 0, and waits."""
    clock = 0
    images: list[Image] = [(clock, f"{deployed_tag_prefix('prod')}{'0' * 64}")]
    for _ in range(days):
        for env, count in releases_per_day.items():
            for _ in range(count):
                clock += 1
                images.append((clock, f"{deployed_tag_prefix(env)}{clock:064x}"))
        expired = evaluate(rules, images)
        images = [i for i in images if i not in expired]
    return images


ENVIRONMENTS = [("staging", False), ("prod", True), ("prod-eu", True), ("prod-eu-west", False)]


def test_one_rule_per_environment_production_first_and_longer_names_before_their_prefix() -> None:
    rules = rules_of(ENVIRONMENTS)
    prefixes = [r["selection"].get("tagPrefixList") for r in rules]
    assert prefixes == [
        ["deployed-prod-eu-west-"],
        ["deployed-prod-eu-"],
        ["deployed-prod-"],
        ["deployed-staging-"],
        None,
        None,
    ]
    counts = [r["selection"]["countNumber"] for r in rules[:4]]
    # prod-eu counts prod-eu-west's images too; prod counts both.
    assert counts == [50, 100, 200, 50]
    assert [r["selection"]["tagStatus"] for r in rules[4:]] == ["untagged", "any"]
    assert rules[-1]["selection"]["countNumber"] == 10


def test_production_comes_first_without_collisions() -> None:
    rules = rules_of([("dev", False), ("staging", False), ("prod", True)])
    assert [r["selection"].get("tagPrefixList") for r in rules[:3]] == [
        ["deployed-prod-"],
        ["deployed-dev-"],
        ["deployed-staging-"],
    ]
    assert all(r["selection"]["countNumber"] == DEPLOYED_IMAGES_KEPT for r in rules[:3])


def test_ten_environments_stay_within_the_policy_length_quota() -> None:
    """ECR allows 30,720 characters per lifecycle policy (service-quotas.html)."""
    names = [("prod", True)] + [(f"prod-{i}", False) for i in range(9)]
    rules = rules_of(names)
    assert len(rules) == 12
    assert len(json.dumps({"rules": rules})) < 30_720


def test_production_keeps_its_image_while_the_others_release_for_months() -> None:
    """prod-eu and prod-eu-west (whose tags deployed-prod- also matches) and staging release
    every day for 120 days; prod's one image outlives them, and each keeps its own last 50."""
    rules = rules_of(ENVIRONMENTS)
    left = run_days(rules, {"staging": 3, "prod-eu": 2, "prod-eu-west": 2}, days=120)
    tags = [t for _, t in left]
    assert f"{deployed_tag_prefix('prod')}{'0' * 64}" in tags
    for env in ("staging", "prod-eu-west"):
        assert sum(t.startswith(deployed_tag_prefix(env)) for t in tags) == DEPLOYED_IMAGES_KEPT
    own_eu = [
        t
        for t in tags
        if t.startswith(deployed_tag_prefix("prod-eu"))
        and not t.startswith(deployed_tag_prefix("prod-eu-west"))
    ]
    assert len(own_eu) >= DEPLOYED_IMAGES_KEPT


def test_the_shared_deployed_rule_lost_productions_image() -> None:
    """The defect this replaces, through the same model: one `deployed-` rule keeping 50."""
    shared = [
        {
            "rulePriority": 1,
            "selection": {
                "tagStatus": "tagged",
                "tagPrefixList": ["deployed-"],
                "countType": "imageCountMoreThan",
                "countNumber": 50,
            },
        },
        {
            "rulePriority": 2,
            "selection": {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": 10},
        },
    ]
    left = run_days(shared, {"staging": 3}, days=30)
    assert not any(t.startswith(deployed_tag_prefix("prod")) for _, t in left)
