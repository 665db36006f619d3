"""The "What customers say" part of a finding: each cause segment's themes and verbatims.

Verbatims arrive masked (the voice stage masks before anything leaves it); here they are
only worded. Shares are of the comments read in each window.
"""

from __future__ import annotations

from typing import Any

from agent.model import Explanation, Theme, ThemeTerm, Voice
from agent.report.formatting import format_number, format_percent, segment_label
from agent.report.messages import fill

__all__ = ["TERMS_SHOWN", "theme_line", "voice_view"]

TERMS_SHOWN = 4
"""Terms listed per theme (its strongest first)."""


def voice_view(e: Explanation, msg: dict[str, str]) -> list[dict[str, Any]]:
    """One block per segment whose comments were read, in the causes' order."""
    return [_voice(v, msg) for v in e.voice]


def _voice(v: Voice, msg: dict[str, str]) -> dict[str, Any]:
    sampled = [
        fill(msg["voice_sampled"], read=format_number(read), total=format_number(total))
        for read, total in ((v.comments_before, v.total_before), (v.comments_after, v.total_after))
        if total > read
    ]
    return {
        "summary": fill(
            msg["voice_counts"],
            segment=segment_label(v.segment, msg),
            after=format_number(v.total_after),
            before=format_number(v.total_before),
        ),
        "sampled": sampled[0] if sampled else "",
        "themes": [_theme(t, v, msg) for t in v.themes],
        "verbatims": [{"text": q.text, "theme": q.theme} for q in v.verbatims],
    }


def _count(n: int, of: int) -> str:
    return f"{format_number(n)} ({format_percent(n / of)})" if of else format_number(n)


def _term(t: ThemeTerm) -> str:
    return f"{t.term} {format_number(t.before)} → {format_number(t.after)} (z {t.z:.1f})"


def _theme(t: Theme, v: Voice, msg: dict[str, str]) -> dict[str, Any]:
    return {
        "label": t.label,
        "significant": t.significant,
        "flag": "" if t.significant else msg["voice_not_significant"],
        "mentions": f"{_count(t.before, v.comments_before)} → {_count(t.after, v.comments_after)}",
        "z": f"{t.z:.1f}",
        "terms": ", ".join(_term(x) for x in t.terms[:TERMS_SHOWN]),
    }


def theme_line(v: Voice, msg: dict[str, str], top: int = 3) -> str:
    """``segment: label (12 → 85), …``: the segment's strongest significant themes, for
    an alert's first message."""
    themes = [
        f"{t.label} ({format_number(t.before)} → {format_number(t.after)})"
        for t in v.themes
        if t.significant
    ][:top]
    if not themes:
        return ""
    segment = segment_label(v.segment, msg)
    return fill(msg["voice_themes_line"], segment=segment, themes=", ".join(themes))
