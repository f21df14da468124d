"""Pictures of a pipeline plan: Mermaid text, SVG, and PNG (Pillow), all from one plan.

Import graph: diagram -> plan -> spec. Pillow is imported only when a PNG is drawn.
"""

from __future__ import annotations

from typing import Literal

from conveyor.plan import Plan

DiagramFormat = Literal["mermaid", "svg", "png"]


def render(plan: Plan, fmt: DiagramFormat) -> str | bytes:
    """The diagram as text (mermaid, svg) or PNG bytes."""
    if fmt == "mermaid":
        from conveyor.diagram.mermaid import to_mermaid

        return to_mermaid(plan)
    from conveyor.diagram.layout import layout

    if fmt == "svg":
        from conveyor.diagram.svg import to_svg

        return to_svg(layout(plan))
    from conveyor.diagram.png import to_png

    return to_png(layout(plan))
