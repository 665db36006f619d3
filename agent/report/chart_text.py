"""Text in charts that never collides: labels fitted to the room they have, and tick
labels that would touch another text left out.

Everything is measured with the figure's own Agg renderer at the PNG's resolution
(``new_figure`` attaches it), so what is measured is what is drawn. Layout code makes
room for the texts that carry meaning (segment names, values, legends, titles); tick
labels are the only texts ``declutter`` may hide, since the grid and the others carry
the scale.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matplotlib.backends.backend_agg import RendererAgg
    from matplotlib.figure import Figure
    from matplotlib.text import Text
    from matplotlib.transforms import Bbox

__all__ = [
    "ELLIPSIS",
    "declutter",
    "fit_text",
    "renderer",
    "room_for_y_labels",
    "text_boxes",
    "text_width",
]

ELLIPSIS = "…"


def renderer(fig: Figure) -> RendererAgg:
    """The Agg renderer of ``fig`` (attached by ``charts.new_figure``)."""
    # charts.new_figure attaches an Agg canvas; the stubs know the base canvas only
    got: RendererAgg = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    return got


def text_width(fig: Figure, text: str, size: float) -> float:
    """Width in pixels of ``text`` drawn at ``size`` points in the current font."""
    # imported on use: see agent/__init__.py
    from matplotlib.font_manager import FontProperties

    width, _, _ = renderer(fig).get_text_width_height_descent(
        text, FontProperties(size=size), ismath=False
    )
    return float(width)


def fit_text(fig: Figure, text: str, width: float, size: float) -> str:
    """``text`` cut with an ellipsis to fit ``width`` pixels at ``size`` points."""
    if text_width(fig, text, size) <= width:
        return text
    low, high = 0, len(text)  # the longest prefix that fits, by bisection
    while low < high:
        mid = (low + high + 1) // 2
        if text_width(fig, text[:mid].rstrip() + ELLIPSIS, size) <= width:
            low = mid
        else:
            high = mid - 1
    return text[:low].rstrip() + ELLIPSIS


def _texts(fig: Figure) -> list[Text]:
    # imported on use: see agent/__init__.py
    from matplotlib.text import Text

    return [t for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip()]


def text_boxes(fig: Figure) -> list[tuple[str, Bbox]]:
    """Every visible, non-empty text of ``fig`` as drawn last, with its box in pixels."""
    r = renderer(fig)
    return [(t.get_text(), t.get_window_extent(r)) for t in _texts(fig)]


def _tick_labels(fig: Figure) -> list[Text]:
    labels: list[Text] = []
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            for tick in axis.get_major_ticks():
                labels += [tick.label1, tick.label2]
    return labels


def declutter(fig: Figure) -> None:
    """Draw ``fig`` and hide each tick label that overlaps a text kept before it or leaves
    the figure; texts that are not tick labels are all kept (and come first)."""
    fig.canvas.draw()
    r = renderer(fig)
    ticks = {id(t) for t in _tick_labels(fig)}
    texts = sorted(_texts(fig), key=lambda t: id(t) in ticks)  # the others first
    frame = fig.bbox
    kept: list[Bbox] = []
    for text in texts:
        box = text.get_window_extent(r)
        inside = box.x0 >= frame.x0 and box.x1 <= frame.x1
        if id(text) in ticks and (not inside or any(box.overlaps(k) for k in kept)):
            text.set_visible(False)
        else:
            kept.append(box)


def room_for_y_labels(fig: Figure) -> None:
    """Widen the left margin of a figure laid out with ``subplots_adjust`` until the
    value labels of its leftmost axes (long currency amounts) fit inside it."""
    fig.canvas.draw()
    r = renderer(fig)
    labels = [t for ax in fig.axes for t in ax.get_yticklabels() if t.get_text()]
    if not labels:
        return
    short = fig.bbox.x0 + 2 - min(t.get_window_extent(r).x0 for t in labels)
    if short > 0:
        fig.subplots_adjust(left=fig.subplotpars.left + short / fig.bbox.width)
