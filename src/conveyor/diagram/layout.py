"""Where everything goes in the pipeline picture, as plain shapes both renderers draw.

Stages are columns left to right; inside a stage, waves run top to bottom and the actions of
one wave (which run in parallel) are stacked inside a dashed "in parallel" frame. Each action box
lists the AWS resources it uses. SVG and PNG draw this same list of shapes, so the two never
disagree; only fonts differ, which is why text widths are estimated generously.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from conveyor.plan import Action, Condition, Plan, Stage

# Colours per action kind: (fill, border). Chosen for contrast in print and for colour-blind
# readers (kinds also differ by their label, never by colour alone).
KIND_COLOURS: dict[str, tuple[str, str]] = {
    "source": ("#eef2f7", "#5b6b82"),
    "build": ("#e3efff", "#2f6fd1"),
    "test": ("#e6f6ec", "#2e8b57"),
    "scan": ("#f1e9fb", "#7b4bb7"),
    "gate": ("#fff0e0", "#c76b00"),
    "approval": ("#fff7d1", "#b08800"),
    "deploy": ("#e0f5f4", "#17817a"),
    "validate": ("#e6f6ec", "#2e8b57"),
}
KIND_LABELS = {
    "source": "source",
    "build": "build",
    "test": "test",
    "scan": "security scan",
    "gate": "scan gate",
    "approval": "manual approval",
    "deploy": "deploy",
    "validate": "validation",
}
INK = "#1f2933"
MUTED = "#52606d"
STAGE_FILL = "#f8fafc"
STAGE_BORDER = "#cbd2d9"
ENV_FILL = "#17817a"
# Stage conditions (gates, bake, rollback, retry): a pale frame, set apart from the actions.
CONDITION_COLOURS = ("#fdf2f8", "#a23b72")

MARGIN = 24
COLUMN_WIDTH = 250
COLUMN_GAP = 54
PAD = 12
TITLE_SIZE = 20
HEAD_SIZE = 15
NAME_SIZE = 14
TEXT_SIZE = 12
LINE = 1.35  # line height as a multiple of the font size


@dataclass(frozen=True)
class Rect:
    x: float
    y: float
    w: float
    h: float
    fill: str
    stroke: str
    radius: float = 6
    dashed: bool = False
    stroke_width: float = 1.5


@dataclass(frozen=True)
class Text:
    x: float
    y: float  # top of the line, not the baseline: both renderers convert
    text: str
    size: float = TEXT_SIZE
    bold: bool = False
    colour: str = INK
    anchor: str = "start"  # start | middle


@dataclass(frozen=True)
class Arrow:
    x1: float
    y1: float
    x2: float
    y2: float
    colour: str = MUTED


@dataclass
class Layout:
    width: float
    height: float
    title: str
    shapes: list[Rect | Text | Arrow] = field(default_factory=list)


def text_width(text: str, size: float, *, bold: bool = False) -> float:
    """A generous estimate of rendered width, the same for every renderer."""
    units = 0.0
    for char in text:
        if char in "il.,:;'|!1 ()[]/":
            units += 0.32
        elif char in "mwMW@%":
            units += 0.9
        elif char.isupper() or char.isdigit():
            units += 0.66
        else:
            units += 0.55
    return units * size * (1.08 if bold else 1.0)


def wrap(text: str, width: float, size: float, *, bold: bool = False) -> list[str]:
    words = text.split(" ")
    lines: list[str] = []
    current = ""
    for word in words:
        candidate = f"{current} {word}".strip()
        if current and text_width(candidate, size, bold=bold) > width:
            lines.append(current)
            current = word
        else:
            current = candidate
    if current:
        lines.append(current)
    # A single word wider than the box (an ARN, a long name) is cut rather than spilling over.
    return [_clip(line, width, size, bold=bold) for line in lines]


def _clip(line: str, width: float, size: float, *, bold: bool) -> str:
    if text_width(line, size, bold=bold) <= width:
        return line
    while line and text_width(line + "...", size, bold=bold) > width:
        line = line[:-1]
    return line + "..."


def _detail(action: Action) -> str:
    if action.kind == "approval":
        return "waits for a person; the team is notified"
    parts = [action.provider]
    if action.compute:
        parts.append(action.compute)
    if action.minutes:
        parts.append(f"~{action.minutes:g} min")
    return " · ".join(parts)


def _action_shapes(
    action: Action, x: float, y: float, width: float
) -> tuple[list[Rect | Text], float]:
    """The box for one action at (x, y); returns its shapes and height."""
    fill, border = KIND_COLOURS.get(action.kind, ("#ffffff", MUTED))
    inner = width - 2 * PAD
    texts: list[Rect | Text] = []
    cursor = y + PAD
    label = KIND_LABELS.get(action.kind, action.kind)
    texts.append(Text(x + PAD, cursor, label.upper(), TEXT_SIZE - 1, colour=border))
    cursor += (TEXT_SIZE - 1) * LINE
    for line in wrap(action.name, inner, NAME_SIZE, bold=True):
        texts.append(Text(x + PAD, cursor, line, NAME_SIZE, bold=True))
        cursor += NAME_SIZE * LINE
    for line in wrap(_detail(action), inner, TEXT_SIZE):
        texts.append(Text(x + PAD, cursor, line, TEXT_SIZE, colour=MUTED))
        cursor += TEXT_SIZE * LINE
    if action.uses:
        cursor += 4
        for resource in action.uses:
            for i, line in enumerate(wrap(resource, inner - 12, TEXT_SIZE)):
                texts.append(Text(x + PAD + 12, cursor, line, TEXT_SIZE))
                if i == 0:
                    # A drawn dot, not a glyph: the PNG renderer's bundled font has no bullet.
                    dot = Rect(
                        x + PAD + 1,
                        cursor + TEXT_SIZE * 0.38,
                        5,
                        5,
                        border,
                        border,
                        2.5,
                        stroke_width=0,
                    )
                    texts.append(dot)
                cursor += TEXT_SIZE * LINE
    height = cursor - y + PAD - 4
    is_approval = action.kind == "approval"
    box = Rect(
        x,
        y,
        width,
        height,
        fill,
        border,
        radius=8,
        dashed=False,
        stroke_width=2.5 if is_approval else 1.5,
    )
    return [box, *texts], height


def _condition_shapes(
    condition: Condition, x: float, y: float, width: float
) -> tuple[list[Rect | Text | Arrow], float]:
    """A stage condition (what CodePipeline checks before entry, after success, on failure)
    as a small box; returns its shapes and height."""
    fill, border = CONDITION_COLOURS
    texts: list[Rect | Text | Arrow] = []
    cursor = y + 6
    for line in wrap(condition.describe(), width - 2 * 8, TEXT_SIZE - 1):
        texts.append(Text(x + 8, cursor, line, TEXT_SIZE - 1, colour=border))
        cursor += (TEXT_SIZE - 1) * LINE
    height = cursor - y + 6
    box = Rect(x, y, width, height, fill, border, radius=4, dashed=True, stroke_width=1.2)
    return [box, *texts], height


def _stage_shapes(
    stage: Stage, x: float, top: float
) -> tuple[list[Rect | Text | Arrow], float, float]:
    """Shapes for one stage column; returns them, the content bottom and the header's middle."""
    shapes: list[Rect | Text | Arrow] = []
    cursor = top + PAD
    for line in wrap(stage.name, COLUMN_WIDTH - 2 * PAD, HEAD_SIZE, bold=True):
        shapes.append(Text(x + PAD, cursor, line, HEAD_SIZE, bold=True))
        cursor += HEAD_SIZE * LINE
    header_middle = top + (cursor - top) / 2 + PAD / 2
    if stage.environment:
        label = f"environment: {stage.environment}"
        # Wide enough for DejaVu Sans Bold, the broadest common fallback font.
        badge_width = text_width(label, TEXT_SIZE, bold=True) * 1.2 + 16
        shapes.append(
            Rect(
                x + PAD, cursor + 2, badge_width, TEXT_SIZE * LINE + 6, ENV_FILL, ENV_FILL, radius=9
            )
        )
        shapes.append(Text(x + PAD + 7, cursor + 5, label, TEXT_SIZE, bold=True, colour="#ffffff"))
        cursor += TEXT_SIZE * LINE + 10
    if stage.account:  # deployed into another account than the pipeline's
        shapes.append(Text(x + PAD, cursor, f"in account {stage.account}", TEXT_SIZE))
        cursor += TEXT_SIZE * LINE + 4
    if stage.region:  # deployed into another region than the pipeline's
        shapes.append(Text(x + PAD, cursor, f"in region {stage.region}", TEXT_SIZE))
        cursor += TEXT_SIZE * LINE + 4
    cursor += 8
    box_x, box_width = x + PAD, COLUMN_WIDTH - 2 * PAD
    for condition in (c for c in stage.conditions if c.kind == "before_entry"):
        condition_shapes, height = _condition_shapes(condition, box_x, cursor, box_width)
        shapes += condition_shapes
        cursor += height + 8
    waves = stage.waves()
    for number, wave in enumerate(waves):
        if number:
            shapes.append(Arrow(x + COLUMN_WIDTH / 2, cursor, x + COLUMN_WIDTH / 2, cursor + 22))
            cursor += 26
        parallel = len(wave) > 1
        if parallel:
            frame_top = cursor
            shapes.append(
                Text(
                    box_x + 6,
                    cursor + 4,
                    f"in parallel ({len(wave)})",
                    TEXT_SIZE - 1,
                    bold=True,
                    colour=MUTED,
                )
            )
            cursor += (TEXT_SIZE - 1) * LINE + 8
            inner_x, inner_width = box_x + 6, box_width - 12
        else:
            inner_x, inner_width = box_x, box_width
        for index, action in enumerate(wave):
            if index:
                cursor += 8
            action_shapes, height = _action_shapes(action, inner_x, cursor, inner_width)
            shapes += action_shapes
            cursor += height
        if parallel:
            cursor += 6
            shapes.insert(
                0,
                Rect(
                    box_x,
                    frame_top,
                    box_width,
                    cursor - frame_top,
                    "#ffffff",
                    MUTED,
                    radius=8,
                    dashed=True,
                    stroke_width=1.2,
                ),
            )
    for condition in (c for c in stage.conditions if c.kind != "before_entry"):
        cursor += 8
        condition_shapes, height = _condition_shapes(condition, box_x, cursor, box_width)
        shapes += condition_shapes
        cursor += height
    return shapes, cursor, header_middle


def layout(plan: Plan) -> Layout:
    count = len(plan.stages)
    width: float = MARGIN * 2 + count * COLUMN_WIDTH + max(count - 1, 0) * COLUMN_GAP
    title = f"{plan.app}: delivery pipeline"
    subtitle = (
        f"CodePipeline V2 · about {plan.minutes:g} min from push to the last environment, "
        "not counting approval waits (typical durations)"
    )
    width = max(width, MARGIN * 2 + text_width(title, TITLE_SIZE, bold=True))
    shapes: list[Rect | Text | Arrow] = [Text(MARGIN, MARGIN, title, TITLE_SIZE, bold=True)]
    top = MARGIN + TITLE_SIZE * LINE + 2
    for line in wrap(subtitle, width - 2 * MARGIN, TEXT_SIZE):
        shapes.append(Text(MARGIN, top, line, TEXT_SIZE, colour=MUTED))
        top += TEXT_SIZE * LINE
    top += 12
    columns: list[tuple[float, list[Rect | Text | Arrow], float, float]] = []
    for index, stage in enumerate(plan.stages):
        left = float(MARGIN + index * (COLUMN_WIDTH + COLUMN_GAP))
        stage_shapes, content_bottom, middle = _stage_shapes(stage, left, top)
        columns.append((left, stage_shapes, content_bottom, middle))
    bottom = max((c[2] for c in columns), default=top) + PAD
    for left, stage_shapes, _, _ in columns:
        shapes.append(
            Rect(left, top, COLUMN_WIDTH, bottom - top, STAGE_FILL, STAGE_BORDER, radius=10)
        )
        shapes += stage_shapes
    for (left, _, _, middle), (next_left, *_) in itertools.pairwise(columns):
        shapes.append(Arrow(left + COLUMN_WIDTH + 4, middle, next_left - 4, middle, colour=INK))

    width = max(width, MARGIN * 2 + text_width(title, TITLE_SIZE, bold=True))
    cursor = bottom + 16
    if plan.resources:
        shapes.append(
            Text(MARGIN, cursor, "Always there for this pipeline", HEAD_SIZE - 1, bold=True)
        )
        cursor += (HEAD_SIZE - 1) * LINE + 2
        for line in wrap(" · ".join(plan.resources), width - 2 * MARGIN, TEXT_SIZE):
            shapes.append(Text(MARGIN, cursor, line, TEXT_SIZE, colour=MUTED))
            cursor += TEXT_SIZE * LINE
    pulls = plan.pull_requests
    if pulls is not None:
        # A pipeline of its own, in words: its stages are the Build stage's checks again.
        cursor += 8
        shapes.append(
            Text(
                MARGIN,
                cursor,
                f"Pull requests: pipeline {pulls.pipeline}",
                HEAD_SIZE - 1,
                bold=True,
            )
        )
        cursor += (HEAD_SIZE - 1) * LINE + 2
        stages = " → ".join(
            f"{stage.name} ({', '.join(a.name for a in stage.actions)})" for stage in pulls.stages
        )
        summary = (
            f"Started by {pulls.describe()}: {stages}. Builds, tests and scans; nothing pushed "
            "or deployed, nothing shared with this pipeline's roles, key or secrets."
        )
        for line in wrap(summary, width - 2 * MARGIN, TEXT_SIZE):
            shapes.append(Text(MARGIN, cursor, line, TEXT_SIZE, colour=MUTED))
            cursor += TEXT_SIZE * LINE
    return Layout(width=width, height=cursor + MARGIN, title=title, shapes=shapes)
