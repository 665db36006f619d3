"""Text that reaches a person: no control characters, and long values capped once.

A segment value, an event name or a note comes from data nobody at the team wrote; NUL,
terminal escapes and Unicode direction overrides in it would corrupt or disguise what a
report, an email or a Slack message shows (``app\\u202egnp.exe`` reads as
``appexe.png``). ``clean_text`` drops them; with ``limit`` it also cuts the text to that
many characters, the last one an ellipsis.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["MAX_VALUE", "clean_json", "clean_text", "one_line"]

MAX_VALUE = 200
"""Longest segment value kept, in characters, in every output."""

_CONTROLS = (
    "\x00-\x08\x0b-\x1f\x7f-\x9f"  # C0 but tab and line feed, DEL, C1
    "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"  # direction marks, overrides, isolates
    "\u2028\u2029\ufeff\ufff9-\ufffb"  # line and paragraph separators, BOM, annotations
)
_INLINE = re.compile(f"[{_CONTROLS}\t\n]")
_BREAKS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")
_LINES = re.compile(f"[{_CONTROLS}]")


def clean_text(text: str, limit: int | None = None, *, lines: bool = False) -> str:
    """``text`` without control characters (tabs and newlines kept only with ``lines``),
    cut to ``limit`` characters."""
    cleaned = (_LINES if lines else _INLINE).sub("", text)
    if limit is not None and len(cleaned) > limit:
        return cleaned[: limit - 1] + "…"
    return cleaned


def clean_json(value: Any) -> Any:
    """A JSON-like value with every string in it cleaned (``clean_text``, lines kept)."""
    if isinstance(value, dict):
        return {key: clean_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [clean_json(item) for item in value]
    return clean_text(value, lines=True) if isinstance(value, str) else value


def one_line(text: str) -> str:
    """``text`` on one line (a header, a subject, a Slack field): line breaks and control
    characters become single spaces, invisible direction controls go."""
    return " ".join(clean_text(_BREAKS.sub(" ", text)).split())
