"""Stable text keys for segments and episodes, shared by every table that names them."""

from __future__ import annotations

import re

from agent.model import Segment

__all__ = ["episode_id", "episode_number", "segment_key"]


def segment_key(segment: Segment) -> str:
    """``channel=app&device=android`` (sorted by dimension); ``""`` for the total."""
    return "&".join(f"{k}={segment[k]}" for k in sorted(segment))


def episode_id(metric: str, number: int) -> str:
    """``premium_churn#3``: the third incident of the metric the store recorded. It names
    the incident for good, whatever a later run says about its onset or segments."""
    return f"{metric}#{number}"


def episode_number(metric: str, key: str) -> int:
    """The number of ``key`` when it is one of ``metric``'s numbered ids, else 0."""
    found = re.fullmatch(re.escape(metric) + r"#(\d+)", key)
    return int(found.group(1)) if found else 0
