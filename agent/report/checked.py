"""What the search checked and did not name a cause, said plainly.

Attribution keeps, per dimension searched, its strongest value that is not a cause
(``Explanation.ruled_out``), with how surely its own value moved (``moved``), how surely
what remains of that move once the causes are taken out is real (``confidence``) and
the causes it shares customers with (``overlaps``). A reader needs to know which of
three things each one is, never "ruled out" for a segment that plainly moved:

* ``explained``: it moved, through the causes above it overlaps (named), and nothing
  beyond noise is left once they are taken out;
* ``normal``: its own move is within noise;
* ``moved``: it moved, and the causes above do not account for it (none overlaps it,
  or too much is left once they are taken out): worth a look of its own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from agent.model import Cause, Explanation
from agent.report.formatting import format_share, format_value, segment_label
from agent.report.messages import fill

if TYPE_CHECKING:
    from agent.report import ReportInput

__all__ = ["BEYOND_NOISE", "VERDICTS", "Verdict", "checked_view", "verdict"]

BEYOND_NOISE = 0.95
"""A move is beyond noise when chance would give it less than 1 time in 20."""
Verdict = Literal["explained", "normal", "moved"]
VERDICTS: tuple[Verdict, ...] = ("explained", "normal", "moved")


def verdict(c: Cause) -> Verdict:
    """Which of the three a checked segment is (see the module's docstring)."""
    moved = c.confidence if c.moved is None else c.moved  # reports from before ``moved``
    if moved < BEYOND_NOISE:
        return "normal"
    if c.overlaps and c.confidence < BEYOND_NOISE:
        return "explained"
    return "moved"


def checked_view(e: Explanation, inp: ReportInput, msg: dict[str, str]) -> dict[str, list[str]]:
    """One line per checked segment, under the key of its verdict (``checked_explained``,
    ``checked_normal``, ``checked_moved``)."""
    view: dict[str, list[str]] = {f"checked_{v}": [] for v in VERDICTS}
    for c in e.ruled_out:
        kind = verdict(c)
        view[f"checked_{kind}"].append(_line(c, kind, inp, msg))
    return view


def _line(c: Cause, kind: Verdict, inp: ReportInput, msg: dict[str, str]) -> str:
    return fill(
        msg[f"checked_{kind}_row"],
        segment=segment_label(c.segment, msg),
        before=format_value(c.value_before, inp.unit, inp.locale),
        after=format_value(c.value_after, inp.unit, inp.locale),
        causes=", ".join(segment_label(s, msg) for s in c.overlaps),
        confidence=format_share(c.confidence if c.moved is None else c.moved),
    )
