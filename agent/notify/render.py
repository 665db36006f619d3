"""Words every channel shares: what a decision is called, the plain-text form of a notice.

Values in an AlertMessage come from the data and are raw text. Plain text here is not
escaped; each channel escapes for its own format (Slack mrkdwn in ``slack.py``, HTML
in the report's email templates, JSON by its encoder).
"""

from __future__ import annotations

from typing import Any

from agent.message import AlertMessage, message_to_dict
from agent.notify.base import Decision, DeliveryRef, Item, Notice
from agent.text import clean_json, one_line

__all__ = [
    "MAX_ITEMS",
    "decision_label",
    "notice_payload",
    "notice_title",
    "one_line",
    "plain_text",
    "words",
]

MAX_ITEMS = 10
"""Episodes shown in one message; more are counted ("… and 3 more")."""
_WORDS = {
    "en": {
        Decision.NEW: "New alert",
        Decision.UPDATE_IN_THREAD: "Worse",
        Decision.REMIND: "Still ongoing",
        Decision.RESOLVED: "Recovered",
        "alerts": "{title}: {n} alerts",
        "causes": "Top causes",
        "voice": "What customers say",
        "owners": "Owners",
        "report": "Open the report",
        "more": "… and {n} more",
        "now": "Now",
    },
    "ko": {
        Decision.NEW: "신규 알림",
        Decision.UPDATE_IN_THREAD: "악화",
        Decision.REMIND: "지속 중",
        Decision.RESOLVED: "정상 회복",
        "alerts": "{title}: 알림 {n}건",
        "causes": "주요 원인",
        "voice": "고객의 목소리",
        "owners": "담당자",
        "report": "리포트 열기",
        "more": "… 외 {n}건",
        "now": "현재",
    },
}


def words(locale: str) -> dict[str, str]:
    return _WORDS.get(locale, _WORDS["en"])


def decision_label(item: Item) -> str:
    return words(item.message.locale)[item.decision]


def notice_title(messages: list[AlertMessage]) -> str:
    """The one line naming a message: its episode's header, or "<metric>: N alerts"."""
    if len(messages) == 1:
        return one_line(messages[0].header)
    first = messages[0]
    return one_line(words(first.locale)["alerts"].format(title=first.title, n=len(messages)))


def _item_text(item: Item) -> list[str]:
    msg = item.message
    lines = [f"{decision_label(item)}: {msg.header}", msg.summary]
    lines += [f"  {f.label}: {f.value}" for f in msg.fields]
    if msg.causes:
        lines.append(f"  {words(msg.locale)['causes']}:")
        lines += [f"  - {c.segment}: {c.detail}" for c in msg.causes]
    if msg.voice:
        lines.append(f"  {words(msg.locale)['voice']}:")
        for v in msg.voice:
            lines += [f"  - {v.themes}", *(f"    {q}" for q in v.verbatims)]
    return [
        one_line(line) if not line.startswith("  ") else "  " + one_line(line) for line in lines
    ]


def plain_text(notice: Notice) -> str:
    """The notice as plain text: one block per episode, owners and the report link."""
    first = notice.items[0].message
    w = words(first.locale)
    lines = [notice_title(notice.messages), ""]
    for item in notice.items[:MAX_ITEMS]:
        lines += [*_item_text(item), ""]
    if len(notice.items) > MAX_ITEMS:
        lines += [w["more"].format(n=len(notice.items) - MAX_ITEMS), ""]
    if first.owners:
        lines.append(f"{w['owners']}: {', '.join(one_line(o) for o in first.owners)}")
    if first.report_url:
        lines.append(f"{w['report']}: {first.report_url}")
    return "\n".join(lines).rstrip() + "\n"


def notice_payload(notice: Notice, thread: DeliveryRef | None) -> dict[str, Any]:
    """The notice as JSON (the files channel's ``.json``, a webhook's body but its report),
    its texts without control characters."""
    payload: dict[str, Any] = clean_json(
        {
            "delivery": notice.key,
            "in_reply_to": thread.external_id if thread else None,
            "alerts": [
                {"decision": str(i.decision), **message_to_dict(i.message)} for i in notice.items
            ],
        }
    )
    return payload
