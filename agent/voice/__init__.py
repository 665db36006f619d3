"""The voice stage: what a segment's customers said, beside the number that moved.

``listen(segment, before, after, …)`` takes the comments of one segment from the
windows before and after a change's onset (text only: the warehouse query lives in
``agent.sources.texts``), masks personal data first (``Masker``), finds the themes that
rose (``themes``) and picks masked comments for them (``verbatims``). Nothing of a
comment leaves this stage unmasked: themes are read from the masked text too.
"""

from __future__ import annotations

from collections.abc import Sequence

from agent.model import Segment, Voice
from agent.voice.mask import MASK_KINDS, Masker
from agent.voice.spec import VoiceSpec
from agent.voice.themes import THEMES, rising, themes_of
from agent.voice.tokenize import Tokenizer
from agent.voice.verbatims import choose_verbatims

__all__ = ["MASK_KINDS", "Masker", "Tokenizer", "VoiceSpec", "listen"]


def listen(
    segment: Segment,
    before: Sequence[str],
    after: Sequence[str],
    *,
    masker: Masker,
    tokenizer: Tokenizer,
    verbatims: bool = True,
    totals: tuple[int, int] | None = None,
    top: int = THEMES,
) -> Voice:
    """Themes that rose from ``before`` to ``after`` and, when ``verbatims``, masked
    comments for them. ``totals``: the comments each window had (when a cap cut them)."""
    masked_after = [masker(t) for t in after]
    terms_before = tokenizer.terms([masker.blank(t) for t in before])
    terms_after = tokenizer.terms([masker.blank(t) for t in after])
    themes = themes_of(rising(terms_before, terms_after), terms_before, terms_after, top)
    chosen = choose_verbatims(themes, masked_after, terms_after) if verbatims else []
    total_before, total_after = totals or (len(before), len(after))
    return Voice(
        segment=dict(segment),
        comments_before=len(before),
        comments_after=len(after),
        total_before=total_before,
        total_after=total_after,
        themes=themes,
        verbatims=chosen,
    )
