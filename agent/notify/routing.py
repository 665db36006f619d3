"""Which channel hears about which episode: the metric's ``notify:`` list, each channel's
minimum severity, and the silences in force."""

from __future__ import annotations

from collections.abc import Mapping

from agent.message import AlertMessage
from agent.model import Severity
from agent.notify.silences import Silence, silenced_by

__all__ = ["route"]


def route(
    messages: list[AlertMessage],
    channels: Mapping[str, Severity],
    silences: list[Silence],
) -> dict[str, list[AlertMessage]]:
    """``channels`` maps each channel the metric notifies to its minimum severity.

    An episode's worst severity so far is what counts, so its recovery reaches the
    channels that heard about it even though the recovery itself is only ``info``.
    """
    heard = [m for m in messages if silenced_by(m, silences) is None]
    return {
        channel: [m for m in heard if Severity(m.severity).rank >= floor.rank]
        for channel, floor in channels.items()
    }
