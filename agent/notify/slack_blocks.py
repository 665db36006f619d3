"""AlertMessages as Slack Block Kit blocks and a mrkdwn text fallback.

Data values are escaped (``&``, ``<``, ``>``), so a segment called ``<!channel>`` is shown,
not obeyed, and put on one line without control characters; every text is cut to what
Slack accepts (a field 2,000 characters, a section 3,000), or Slack refuses the message.
Owners given as Slack ids (``U…``, ``W…``, a user group ``S…``) are mentioned.
"""

from __future__ import annotations

import re
from typing import Any

from agent.message import AlertMessage
from agent.notify.base import Item, Notice
from agent.notify.render import MAX_ITEMS, decision_label, notice_title, one_line, words

__all__ = ["blocks", "escape", "fallback_text", "mention", "voice_blocks"]

_USER = re.compile(r"^[UW][A-Z0-9]{2,}$")
_GROUP = re.compile(r"^S[A-Z0-9]{2,}$")
_HEADER_MAX = 150
_TEXT_MAX = 2900
"""Section text (Slack allows 3,000 characters)."""
_FIELD_MAX = 2000
"""A section field or context element (Slack allows 2,000 characters)."""


def escape(text: str) -> str:
    """Text safe inside Slack mrkdwn: no mentions, links or markup from the data."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def mention(owner: str) -> str:
    if _USER.match(owner):
        return f"<@{owner}>"
    if _GROUP.match(owner):
        return f"<!subteam^{owner}>"
    return escape(one_line(owner))


def fallback_text(notice: Notice) -> str:
    """The notification text (shown where blocks are not: push notifications, search)."""
    messages = notice.messages or notice.parent
    head = notice_title(messages)
    if notice.items:
        head = f"{decision_label(notice.items[0])}: {head}"
    return _capped(escape(head), _TEXT_MAX)


def _capped(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": _capped(text, _TEXT_MAX)}}


def _field(label: str, value: str) -> dict[str, str]:
    text = f"*{escape(one_line(label))}*\n{escape(one_line(value))}"
    return {"type": "mrkdwn", "text": _capped(text, _FIELD_MAX)}


def _message_blocks(msg: AlertMessage, label: str | None) -> list[dict[str, Any]]:
    lead = f"*{escape(label)}* · " if label else ""
    out = [
        _section(f"{lead}*{escape(one_line(msg.header))}*\n{escape(one_line(msg.summary))}"),
        {
            "type": "section",
            "fields": [_field(f.label, f.value) for f in msg.fields[:10]],
        },
    ]
    if msg.causes:
        lines = [
            f"• *{escape(one_line(c.segment))}* — {escape(one_line(c.detail))}" for c in msg.causes
        ]
        out.append(_section(f"*{escape(words(msg.locale)['causes'])}*\n" + "\n".join(lines)))
    if msg.voice:  # themes only: the customers' own words go into the thread
        lines = [f"• {escape(one_line(v.themes))}" for v in msg.voice]
        out.append(_section(f"*{escape(words(msg.locale)['voice'])}*\n" + "\n".join(lines)))
    return out


def voice_blocks(messages: list[AlertMessage]) -> list[dict[str, Any]]:
    """The thread reply quoting what customers said (masked comments), per cause segment;
    empty when no message has any."""
    out = []
    for msg in messages[:MAX_ITEMS]:
        for v in msg.voice:
            if v.verbatims:
                quotes = "\n".join(f"> {escape(one_line(q))}" for q in v.verbatims)
                out.append(_section(f"*{escape(one_line(v.themes))}*\n{quotes}"))
    if out:
        heading = words(messages[0].locale)["voice"]
        out.insert(0, {"type": "header", "text": {"type": "plain_text", "text": heading}})
    return out


def _footer(msg: AlertMessage) -> list[dict[str, Any]]:
    w = words(msg.locale)
    parts = []
    if msg.owners:
        parts.append(f"{escape(w['owners'])}: " + " ".join(mention(o) for o in msg.owners))
    if msg.report_url:
        url = msg.report_url.replace("|", "%7C").replace(">", "%3E").replace("<", "%3C")
        parts.append(f"<{url}|{escape(w['report'])}>")
    if not parts:
        return []
    text = _capped("  ·  ".join(parts), _FIELD_MAX)
    return [{"type": "context", "elements": [{"type": "mrkdwn", "text": text}]}]


def blocks(messages: list[AlertMessage], items: list[Item] | None) -> list[dict[str, Any]]:
    """A header, then per episode its summary, fields and top causes, then owners and link.

    ``items`` gives each message's decision ("Worse", "Recovered"…); None for the current
    state of a thread's first message.
    """
    title = notice_title(messages)
    out: list[dict[str, Any]] = [
        {
            "type": "header",
            "text": {"type": "plain_text", "text": _capped(escape(title), _HEADER_MAX)},
        }
    ]
    labels = [decision_label(i) for i in items] if items else [None] * len(messages)
    for msg, label in list(zip(messages, labels, strict=True))[:MAX_ITEMS]:
        out += _message_blocks(msg, label)
    if len(messages) > MAX_ITEMS:
        more = words(messages[0].locale)["more"].format(n=len(messages) - MAX_ITEMS)
        out.append(_section(escape(more)))
    return out + _footer(messages[0])
