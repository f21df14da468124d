"""The layout drawn with Pillow: a PNG made locally, with Pillow's bundled font (no system
fonts, no browser, no network). Drawn at twice the layout size so text stays crisp on
high-density screens and in pull-request previews."""

from __future__ import annotations

import io
from functools import cache
from typing import TYPE_CHECKING

from conveyor.diagram.layout import Arrow, Layout, Rect, Text

if TYPE_CHECKING:
    from PIL import ImageDraw, ImageFont

SCALE = 2


@cache
def _font(size: float) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    from PIL import ImageFont

    # Pillow >= 10.1 bundles a scalable font when built with FreeType (every wheel is).
    return ImageFont.load_default(size=round(size * SCALE))


def _colour(hex_colour: str) -> tuple[int, int, int]:
    value = hex_colour.lstrip("#")
    return (int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16))


def to_png(layout: Layout) -> bytes:
    from PIL import Image, ImageDraw

    width, height = round(layout.width * SCALE), round(layout.height * SCALE)
    image = Image.new("RGB", (width, height), "#ffffff")
    draw = ImageDraw.Draw(image)
    for shape in layout.shapes:
        if isinstance(shape, Rect):
            _rect(draw, shape)
        elif isinstance(shape, Text):
            _text(draw, shape)
        elif isinstance(shape, Arrow):
            _arrow(draw, shape)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def _rect(draw: ImageDraw.ImageDraw, rect: Rect) -> None:
    box = (rect.x * SCALE, rect.y * SCALE, (rect.x + rect.w) * SCALE, (rect.y + rect.h) * SCALE)
    line = max(1, round(rect.stroke_width * SCALE))
    if not rect.dashed:
        draw.rounded_rectangle(
            box,
            radius=rect.radius * SCALE,
            fill=_colour(rect.fill),
            outline=_colour(rect.stroke),
            width=line,
        )
        return
    draw.rounded_rectangle(box, radius=rect.radius * SCALE, fill=_colour(rect.fill))
    left, top, right, bottom = box
    for start, end in (
        ((left, top), (right, top)),
        ((right, top), (right, bottom)),
        ((right, bottom), (left, bottom)),
        ((left, bottom), (left, top)),
    ):
        _dashes(draw, start, end, _colour(rect.stroke), line)


def _dashes(
    draw: ImageDraw.ImageDraw,
    start: tuple[float, float],
    end: tuple[float, float],
    colour: tuple[int, int, int],
    width: int,
) -> None:
    (x1, y1), (x2, y2) = start, end
    length = max(abs(x2 - x1), abs(y2 - y1))
    dash, gap = 6 * SCALE, 4 * SCALE
    position = 0.0
    while position < length:
        a = position / length
        b = min(position + dash, length) / length
        draw.line(
            (x1 + (x2 - x1) * a, y1 + (y2 - y1) * a, x1 + (x2 - x1) * b, y1 + (y2 - y1) * b),
            fill=colour,
            width=width,
        )
        position += dash + gap


def _text(draw: ImageDraw.ImageDraw, text: Text) -> None:
    font = _font(text.size)
    anchor = "ma" if text.anchor == "middle" else "la"
    colour = _colour(text.colour)
    # The bundled font has no bold face: a thin stroke in the same colour stands in for it.
    draw.text(
        (text.x * SCALE, text.y * SCALE),
        text.text,
        font=font,
        fill=colour,
        anchor=anchor,
        stroke_width=1 if text.bold else 0,
        stroke_fill=colour,
    )


def _arrow(draw: ImageDraw.ImageDraw, arrow: Arrow) -> None:
    colour = _colour(arrow.colour)
    x1, y1, x2, y2 = (v * SCALE for v in (arrow.x1, arrow.y1, arrow.x2, arrow.y2))
    draw.line((x1, y1, x2, y2), fill=colour, width=2 * SCALE)
    head = 7 * SCALE
    if abs(x2 - x1) >= abs(y2 - y1):  # horizontal, pointing right
        points = [(x2, y2), (x2 - head, y2 - head * 0.6), (x2 - head, y2 + head * 0.6)]
    else:  # vertical, pointing down
        points = [(x2, y2), (x2 - head * 0.6, y2 - head), (x2 + head * 0.6, y2 - head)]
    draw.polygon(points, fill=colour)
