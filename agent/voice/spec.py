"""metrics.yaml ``voice:`` of a metric and the checks that tie it to a source with ``text:``.

``voice: nps_comments`` names the source whose ``text:`` column holds the comments;
``voice: {source: …, verbatims: false, sample: 20000, themes: 5}`` sets more;
``voice: false`` turns it off for a metric whose own source has ``text:`` (which is
otherwise used).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = ["SAMPLE", "VoiceSpec", "mask_checks", "voice_checks"]

SAMPLE = 50_000
"""Comments read per window by default (the newest): 100,000 at most per cause."""


class VoiceSpec(BaseModel):
    """What customers said in the top causes' segments (needs a source with ``text:``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = True
    source: str | None = None
    """The source with ``text:``; default the metric's own source."""
    verbatims: bool = True
    """Show masked comments for each theme; false keeps the themes only."""
    sample: int = Field(SAMPLE, ge=100, le=1_000_000)
    """At most this many comments per window (the newest) leave the warehouse."""
    themes: int = Field(5, ge=1, le=20)

    @model_validator(mode="before")
    @classmethod
    def _short_forms(cls, value: Any) -> Any:
        """``voice: nps_comments`` names the source; ``voice: false`` turns voice off."""
        if isinstance(value, str):
            return {"source": value}
        if isinstance(value, bool):
            return {"enabled": value}
        return value


Path_ = tuple[str | int, ...]


def voice_checks(data: dict[str, Any]) -> Iterator[tuple[Path_, str, str | None]]:
    """A metric's ``voice:`` names a source with ``text:``; an explicit ``voice:`` block
    on a metric whose source has no ``text:`` says how to add one."""
    sources: dict[str, Any] = _mapping(data.get("sources"))
    metrics: dict[str, Any] = _mapping(data.get("metrics"))
    for name, metric in metrics.items():
        if not isinstance(metric, dict) or "voice" not in metric:
            continue
        voice = metric["voice"]
        if voice is False or (isinstance(voice, dict) and voice.get("enabled") is False):
            continue
        named = voice if isinstance(voice, str) else (voice or {}).get("source")
        source = named if isinstance(named, str) else metric.get("source")
        at: Path_ = ("metrics", name, "voice")
        spec = sources.get(source) if isinstance(source, str) else None
        if source not in sources:
            known = ", ".join(s for s, v in sources.items() if isinstance(v, dict) and "text" in v)
            hint = f"sources with text: {known or 'none'}"
            yield at, f"source {source!r} is not defined", hint
        elif not isinstance(spec, dict) or not spec.get("text"):
            yield (
                at,
                f"source {source!r} has no text column",
                f"add `text: <comment column>` to sources.{source}",
            )


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def mask_checks(data: dict[str, Any]) -> Iterator[tuple[Path_, str, str | None]]:
    """Every ``mask:`` pattern is a regular expression Python can compile."""
    patterns = data.get("mask")
    for i, pattern in enumerate(patterns if isinstance(patterns, list) else []):
        if not isinstance(pattern, str):
            continue
        try:
            re.compile(pattern)
        except re.error as exc:
            yield (
                ("mask", i),
                f"{pattern!r} is not a regular expression ({exc})",
                ("quote it in single quotes and escape as in Python's re, e.g. 'ORD-\\d{8}'"),
            )
