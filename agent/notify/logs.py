"""Logs that cannot print a channel's secrets.

Every notifier registers its secrets here. Its own logger, the logger it hands to its
HTTP client (slack-sdk logs request URLs, which for an incoming webhook is the secret
itself) and httpx's logger (it logs every request URL, query string included) pass each
record through one filter that replaces them with ``***``.
"""

from __future__ import annotations

import logging

from agent.notify.base import redact

__all__ = ["protect", "redacting_logger"]

_THIRD_PARTY = ("httpx", "slack_sdk")


class _Redact(logging.Filter):
    def __init__(self) -> None:
        super().__init__()
        self.secrets: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        if self.secrets:
            record.msg = redact(record.getMessage(), sorted(self.secrets))
            record.args = None
        return True


_FILTER = _Redact()


def _attach(logger: logging.Logger) -> logging.Logger:
    if _FILTER not in logger.filters:
        logger.addFilter(_FILTER)
    return logger


def protect(secrets: list[str]) -> None:
    """Keep ``secrets`` out of every log record cx-agent's channels and their clients write."""
    _FILTER.secrets.update(s for s in secrets if s)
    for name in _THIRD_PARTY:
        _attach(logging.getLogger(name))


def redacting_logger(name: str, secrets: list[str]) -> logging.Logger:
    """The logger ``name``, scrubbed of ``secrets`` (and of every other channel's)."""
    protect(secrets)
    return _attach(logging.getLogger(name))
