"""What the customers of a finding's top causes said: the voice stage wired to the warehouse.

For each of a finding's top ``VOICE_CAUSES`` causes (the finding's own segment when it
has none), the comments of that segment (metric segment and cause together) are read in
two windows: *after*, from the onset (``since``) to the end of the evaluated period, and
*before*, the 28 days (3 months for a monthly metric) up to the onset. Only the text
column comes back,
``voice.sample`` rows per window at most (the newest). The voice stage masks them, finds
the themes that rose and picks masked verbatims; the labels that replace personal data
are the report's words for them, in its language.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

import pandas as pd

from agent.config import Config
from agent.cube import OTHER
from agent.model import Explanation, FindingKind, Segment, Voice
from agent.periods import step
from agent.report.messages import MESSAGES
from agent.sources.base import Source
from agent.voice import MASK_KINDS, Masker, Tokenizer, listen

__all__ = ["VOICE_CAUSES", "Listener", "voice_windows"]

VOICE_CAUSES = 3
"""Top causes whose customers' comments are read."""
_QUIET = (FindingKind.LATE_DATA, FindingKind.RECOVERED)
Window = tuple[datetime, datetime]
_TOKENIZER = Tokenizer()
"""One per process: the words Kiwi read are kept for every later run and metric."""


def _local(moment: pd.Timestamp) -> datetime:
    """A period boundary in the warehouse's (naive, local) time."""
    return pd.Timestamp(moment).tz_localize(None).to_pydatetime()


def voice_windows(since: datetime, period: datetime, grain: str) -> tuple[Window, Window]:
    """(before, after): the 28 days (3 months for a monthly grain) up to ``since``, and
    ``since`` through the end of ``period``."""
    start = pd.Timestamp(since)
    end = pd.Timestamp(period) + step(grain)
    back = pd.DateOffset(months=3) if grain == "month" else pd.DateOffset(days=28)
    return (_local(start - back), _local(start)), (_local(start), _local(end))


class Listener:
    """Adds to explanations what their causes' customers said (metrics with a voice)."""

    def __init__(self, config: Config, name: str, source: Source) -> None:
        self.config, self.name, self.source = config, name, source
        msg = MESSAGES[config.locale]
        self.masker = Masker.build({k: msg[f"mask_{k}"] for k in MASK_KINDS}, config.mask)

    @property
    def speaks(self) -> bool:
        """Whether the metric has comments to read (a source with ``text:``, voice on)."""
        spec = self.config.metrics[self.name]
        voice = spec.voice
        return voice.enabled and self.config.sources[voice.source or spec.source].text is not None

    def add(
        self,
        e: Explanation,
        windows: tuple[Window, Window] | None = None,
        *,
        segments: list[Segment] | None = None,
    ) -> Explanation:
        """``e`` with the voice of its top causes' segments (or of ``segments``);
        ``windows`` (before, after) default to the weeks before the onset and since."""
        if e.finding.kind in _QUIET or not self.speaks:
            return e
        spec = self.config.metrics[self.name]
        f = e.finding
        before, after = windows or voice_windows(f.since, f.period, spec.grain)
        causes = [{**f.segment, **c.segment} for c in e.causes[:VOICE_CAUSES]]
        targets = segments or causes or [f.segment]
        voices = [self._listen(s, before, after) for s in targets if OTHER not in s.values()]
        return replace(e, voice=[v for v in voices if v is not None])

    def _listen(self, segment: Segment, before: Window, after: Window) -> Voice | None:
        query = self.config.text_query(self.name, segment, before, after)
        if query is None:
            return None
        texts = self.source.fetch_texts(query)
        voice = self.config.metrics[self.name].voice
        return listen(
            segment,
            texts.before,
            texts.after,
            masker=self.masker,
            tokenizer=_TOKENIZER,
            verbatims=voice.verbatims,
            totals=(texts.total_before, texts.total_after),
            top=voice.themes,
        )
