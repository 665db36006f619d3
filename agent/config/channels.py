"""metrics.yaml ``channels:`` and a metric's ``notify:`` / ``owners:`` / ``renotify:``.

Each channel type's options model belongs to the notify stage (``NOTIFIERS``); this module
only assembles them into one union chosen by ``type:``, so an unknown type is an error
that lists the valid ones.
"""

from __future__ import annotations

import difflib
import functools
import operator
from collections.abc import Iterator
from datetime import timedelta
from typing import TYPE_CHECKING, Annotated, Any, TypeAlias

from pydantic import BaseModel, BeforeValidator, ConfigDict, Discriminator, Field, Tag

from agent.config.durations import parse_duration
from agent.config.reader import section
from agent.notify import NOTIFIERS, ChannelSpec

__all__ = ["CHANNEL_TAGS", "Channel", "RenotifySpec", "notify_checks"]

CHANNEL_TAGS = tuple(f"{kind}-channel" for kind in NOTIFIERS)
"""Tags of the channel union; the loader drops them from error paths."""


def _channel_tag(value: object) -> str | None:
    kind = value.get("type") if isinstance(value, dict) else getattr(value, "type", None)
    return f"{kind}-channel" if isinstance(kind, str) and kind in NOTIFIERS else None


_CHOICES = [Annotated[cls.spec_type, Tag(f"{kind}-channel")] for kind, cls in NOTIFIERS.items()]
if TYPE_CHECKING:  # the union is made from the registry at run time: its members share this
    Channel: TypeAlias = ChannelSpec
else:
    Channel = Annotated[
        functools.reduce(operator.or_, _CHOICES),
        Discriminator(
            _channel_tag,
            custom_error_type="channel_type",
            custom_error_message="type: must be one of " + ", ".join(NOTIFIERS),
        ),
    ]
"""`channels.<name>`: one of the notify stage's channel specs, chosen by ``type``."""


class RenotifySpec(BaseModel):
    """`renotify:` of a metric: when an ongoing episode is told again."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    worse_by: float = Field(0.5, gt=0)
    """Tell again when the gap to the expected value grew by this fraction (0.5 = +50%)."""
    remind_every: Annotated[timedelta, BeforeValidator(parse_duration)] | None = timedelta(days=7)
    """Remind of an episode still going this long after the last message; null: never."""


def notify_checks(data: dict[str, Any]) -> Iterator[tuple[tuple[str | int, ...], str, str | None]]:
    """Every name in a metric's ``notify:`` is a channel defined under ``channels:``."""
    channels, metrics = section(data, "channels"), section(data, "metrics")
    for name, metric in metrics.items():
        wanted = metric.get("notify") if isinstance(metric, dict) else None
        for i, channel in enumerate(wanted if isinstance(wanted, list) else []):
            if isinstance(channel, str) and channel not in channels:
                close = difflib.get_close_matches(str(channel), list(channels), n=1)
                known = ", ".join(channels) or "none defined"
                hint = f"did you mean {close[0]!r}?" if close else f"channels: {known}"
                yield ("metrics", name, "notify", i), f"channel {channel!r} is not defined", hint
