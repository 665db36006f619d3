"""Up to three comments per theme, chosen for it: the ones that say most of it.

A comment's score for a theme is the sum of the z-scores of the theme's terms it
mentions; among equal scores a comment of ordinary length (near ``IDEAL_LENGTH``
characters) reads best. A comment speaks for one theme only, and the same words twice
(a copied complaint) are shown once. Comments are already masked when they get here;
long ones are cut at ``MAX_LENGTH`` characters.
"""

from __future__ import annotations

from collections.abc import Sequence

from agent.model import Theme, Verbatim

__all__ = ["IDEAL_LENGTH", "MAX_LENGTH", "PER_THEME", "THEMES_QUOTED", "choose_verbatims"]

PER_THEME = 3
THEMES_QUOTED = 3
"""Themes given verbatims: the strongest significant ones (a theme that may be chance
gets none, so a quote never lends it weight)."""
IDEAL_LENGTH = 60
MAX_LENGTH = 280


def choose_verbatims(
    themes: Sequence[Theme], texts: Sequence[str], terms: Sequence[frozenset[str]]
) -> list[Verbatim]:
    """``PER_THEME`` comments of ``texts`` (after the onset, masked) for each of the first
    ``THEMES_QUOTED`` significant themes."""
    used: set[int] = set()
    seen: set[str] = set()
    chosen: list[Verbatim] = []
    for theme in [t for t in themes if t.significant][:THEMES_QUOTED]:
        weights = {t.term: t.z for t in theme.terms}
        scored = [
            (-sum(weights[t] for t in found & weights.keys()), abs(len(texts[i]) - IDEAL_LENGTH), i)
            for i, found in enumerate(terms)
            if i not in used and found & weights.keys()
        ]
        picked = 0
        for _, _, i in sorted(scored):
            key = " ".join(texts[i].split()).casefold()
            if key in seen:
                continue
            seen.add(key)
            used.add(i)
            chosen.append(Verbatim(theme.label, _cut(texts[i])))
            picked += 1
            if picked == PER_THEME:
                break
    return chosen


def _cut(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_LENGTH else text[: MAX_LENGTH - 1].rstrip() + "…"
