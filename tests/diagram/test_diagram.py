"""Diagrams show every stage, parallel wave, approval, environment and resource of a plan."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from conveyor.diagram import render
from conveyor.diagram.layout import Rect, Text, layout, wrap
from conveyor.diagram.mermaid import to_mermaid

from .plans import payments_plan


def test_mermaid_has_a_subgraph_per_stage_in_order() -> None:
    text = to_mermaid(payments_plan())
    assert text.startswith("flowchart LR\n")
    assert 'subgraph S0["Source"]' in text
    assert 'subgraph S3["Deploy-prod · environment prod"]' in text
    assert "S0 --> S1 --> S2 --> S3" in text


def test_mermaid_joins_a_parallel_wave_to_the_next_and_marks_approvals() -> None:
    text = to_mermaid(payments_plan())
    # unit and trivy run together (no edge between them), then both lead to the gate.
    assert "S2W0A0 & S2W0A1 --> S2W1A0" in text
    assert "S2W0A0 --> S2W0A1" not in text
    approval = next(line for line in text.splitlines() if "Approve" in line)
    assert approval.strip().startswith('S3W0A0{{"') and approval.endswith(":::approval")


def test_mermaid_lists_resources_and_escapes_quotes() -> None:
    text = to_mermaid(payments_plan())
    assert "• Fargate service + ALB (prod)" in text
    assert "• Lambda #quot;scan gate#quot;" in text
    assert "CodeBuild · large · ~4 min" in text


def test_layout_frames_parallel_actions_and_keeps_everything_inside() -> None:
    drawn = layout(payments_plan())
    frames = [s for s in drawn.shapes if isinstance(s, Rect) and s.dashed]
    assert len(frames) == 1  # the checks wave
    texts = [s for s in drawn.shapes if isinstance(s, Text)]
    assert any(t.text == "in parallel (2)" for t in texts)
    assert any(t.text == "environment: prod" for t in texts)
    assert any(t.text == "MANUAL APPROVAL" for t in texts)
    for shape in drawn.shapes:
        if isinstance(shape, Rect):
            assert shape.x >= 0 and shape.x + shape.w <= drawn.width
            assert shape.y >= 0 and shape.y + shape.h <= drawn.height
        if isinstance(shape, Text):
            assert shape.y + shape.size <= drawn.height


def test_long_words_are_clipped_not_spilled() -> None:
    lines = wrap("arn:" + "x" * 200, 100, 12)
    assert len(lines) == 1 and lines[0].endswith("...")


def test_svg_is_well_formed_and_names_everything() -> None:
    svg = render(payments_plan(), "svg")
    assert isinstance(svg, str)
    root = ET.fromstring(svg.split("\n", 1)[1])  # noqa: S314 - our own output
    texts = " ".join(t.text or "" for t in root.iter("{http://www.w3.org/2000/svg}text"))
    for expected in ("Source", "Checks", "Deploy-prod", "ScanGate", "Fargate service + ALB (prod)"):
        assert expected in texts
    assert 'Lambda "scan gate"' in texts


def test_png_is_drawn_at_twice_the_layout_size() -> None:
    image_module = pytest.importorskip("PIL.Image")
    import io

    png = render(payments_plan(), "png")
    assert isinstance(png, bytes) and png.startswith(b"\x89PNG\r\n\x1a\n")
    drawn = layout(payments_plan())
    with image_module.open(io.BytesIO(png)) as image:
        assert image.size == (round(drawn.width * 2), round(drawn.height * 2))


def test_diagrams_show_each_stages_conditions() -> None:
    from pathlib import Path

    from conveyor.plan import plan
    from conveyor.spec import load_spec

    spec = load_spec(Path(__file__).resolve().parents[2] / "examples" / "payments.yaml")
    drawn = plan(spec)
    text = to_mermaid(drawn)
    gate = next(line for line in text.splitlines() if "S5E0>" in line)
    # The gate reads the alarm that exists before the stage; the stack's own alarms, which
    # its first release creates, are watched after the deploy.
    assert "alarms quiet (payments-ledger-errors)" in gate
    assert "payments-5xx-prod" not in gate
    assert "inside window * * 9-16 ? * MON-FRI * (Europe/Berlin)" in gate
    assert gate.endswith(":::condition")
    assert "S5E0 --> S5W0A0" in text  # the gate comes before the stage's actions
    # Issue 11 (review defect 5): the gate before the approval, again before the image's mark
    # and the `before` job (after the approval), never before the deploy that rolls back.
    assert 'subgraph S4["Approve-prod · environment prod"]' in text
    assert 'subgraph S5["Release-prod · environment prod"]' in text
    assert next(line for line in text.splitlines() if "S4E0>" in line).replace("S4", "S5") == gate
    assert "S6E0>" not in text
    assert 'S2C0>"on failure: retry the failed actions"]:::condition' in text
    words = " ".join(s.text for s in layout(drawn).shapes if isinstance(s, Text))
    assert "on success: alarms quiet for 30 min" in words
    assert "payments-5xx-prod, payments-unhealthy-prod" in words


def test_diagrams_show_the_account_an_environment_deploys_into() -> None:
    """An environment in another account than the pipeline's says which (issue 12): the
    approver and the on-call read the diagram to know where production runs."""
    from pathlib import Path

    from conveyor.plan import plan
    from conveyor.spec import load_spec

    spec = load_spec(Path(__file__).resolve().parents[2] / "examples" / "multi-account.yaml")
    drawn = plan(spec)
    text = to_mermaid(drawn)
    assert 'subgraph S5["Deploy-prod · environment prod · account 222222222222"]' in text
    assert 'subgraph S3["Deploy-staging · environment staging"]' in text  # the pipeline's own
    texts = [s.text for s in layout(drawn).shapes if isinstance(s, Text)]
    assert texts.count("in account 222222222222") == 2  # Approve-prod and Deploy-prod
    assert "environment: staging" in texts
