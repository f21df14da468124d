"""The layout as a standalone SVG document (no scripts, no external fonts or links)."""

from __future__ import annotations

from xml.sax.saxutils import escape, quoteattr

from conveyor.diagram.layout import Arrow, Layout, Rect, Text

FONT = "Helvetica, Arial, 'DejaVu Sans', sans-serif"
# Text y in the layout is the top of the line; SVG places text by its baseline.
ASCENT = 0.8


def _marker(colour: str) -> str:
    # One marker per colour: `fill="context-stroke"` is SVG 2 and many renderers ignore it.
    return (
        f'<marker id="arrow{colour[1:]}" viewBox="0 0 10 10" refX="9" refY="5" '
        'markerWidth="7" markerHeight="7" orient="auto"><path d="M0,0 L10,5 L0,10 z" '
        f'fill="{colour}"/></marker>'
    )


def to_svg(layout: Layout) -> str:
    colours = {s.colour for s in layout.shapes if isinstance(s, Arrow)}
    width, height = round(layout.width), round(layout.height)
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family={quoteattr(FONT)} role="img">',
        f"<title>{escape(layout.title)}</title>",
        "<defs>" + "".join(_marker(c) for c in sorted(colours)) + "</defs>",
        f'<rect width="{width}" height="{height}" fill="#ffffff"/>',
    ]
    for shape in layout.shapes:
        if isinstance(shape, Rect):
            dash = ' stroke-dasharray="6 4"' if shape.dashed else ""
            parts.append(
                f'<rect x="{shape.x:.1f}" y="{shape.y:.1f}" width="{shape.w:.1f}" '
                f'height="{shape.h:.1f}" rx="{shape.radius:g}" fill="{shape.fill}" '
                f'stroke="{shape.stroke}" stroke-width="{shape.stroke_width:g}"{dash}/>'
            )
        elif isinstance(shape, Text):
            weight = ' font-weight="bold"' if shape.bold else ""
            anchor = ' text-anchor="middle"' if shape.anchor == "middle" else ""
            parts.append(
                f'<text x="{shape.x:.1f}" y="{shape.y + shape.size * ASCENT:.1f}" '
                f'font-size="{shape.size:g}" fill="{shape.colour}"{weight}{anchor}>'
                f"{escape(shape.text)}</text>"
            )
        elif isinstance(shape, Arrow):
            parts.append(
                f'<line x1="{shape.x1:.1f}" y1="{shape.y1:.1f}" x2="{shape.x2:.1f}" '
                f'y2="{shape.y2:.1f}" stroke="{shape.colour}" stroke-width="2" '
                f'marker-end="url(#arrow{shape.colour[1:]})"/>'
            )
    parts.append("</svg>")
    return "\n".join(parts) + "\n"
