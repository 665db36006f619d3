"""Stable text keys for segments and episodes, shared by every table that names them."""

from __future__ import annotations

from datetime import datetime

from agent.model import Segment

__all__ = ["episode_id", "segment_key"]


def segment_key(segment: Segment) -> str:
    """``channel=app&device=android`` (sorted by dimension); ``""`` for the total."""
    return "&".join(f"{k}={segment[k]}" for k in sorted(segment))


def episode_id(metric: str, segment: Segment, since: datetime) -> str:
    """``<metric>|<segment_key>|<since ISO>``: the same episode always gets the same id."""
    return f"{metric}|{segment_key(segment)}|{since.replace(tzinfo=None).isoformat()}"
