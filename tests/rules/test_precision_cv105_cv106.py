"""Precision on real templates (issue 16, "tests per rule include true and false cases from real
templates"): the listener rules CV105 and CV106, which fire on the public corpus
(``../shared/corpus/public``, skipped when absent). Each has a finding judged true that must
still be found and a real listener of the same kind that must be left alone."""

from __future__ import annotations

from tests.rules.test_precision_rules import corpus, needs_corpus

WIDDIX = "widdix__aws-cf-templates/"
SAP_PRIVATE_LINK = (
    "aws-cloudformation__aws-cloudformation-templates/AWSSupplyChain__SapPrivateLink__"
    "SapPrivateLink.yaml"
)
RAIN_ECS_CLUSTER = "aws-cloudformation__rain/test__templates__build__ecs__cluster.yaml"


def _resources(relative: str, rule: str) -> set[str]:
    return {f.resource for f in corpus(relative, rule)}


@needs_corpus
def test_cv105_real_templates() -> None:
    # True: the dedicated ALB service's internet-facing listener forwards port 80 to the app.
    assert _resources(WIDDIX + "ecs__service-dedicated-alb.yaml", "CV105") == {"HttpListener"}
    # Left alone: the Fargate cluster's port 80 listener redirects to HTTPS when a certificate
    # is given (and answers 404 otherwise): it forwards nothing in plain HTTP.
    assert _resources(WIDDIX + "fargate__cluster.yaml", "CV105") == set()


@needs_corpus
def test_cv106_real_templates() -> None:
    # True: ELBSecurityPolicy-TLS13-1-0-2021-06 still negotiates TLS 1.0.
    assert _resources(SAP_PRIVATE_LINK, "CV106") == {"ASCPrivateLinkListener"}
    # Left alone: ELBSecurityPolicy-TLS13-1-2-2021-06 (rain's ECS cluster) and widdix's
    # ELBSecurityPolicy-FS-1-2-Res-2019-08 accept TLS 1.2 and newer only.
    assert _resources(RAIN_ECS_CLUSTER, "CV106") == set()
    assert _resources(WIDDIX + "fargate__cluster.yaml", "CV106") == set()
