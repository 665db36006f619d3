"""What customers said, per channel: Slack shows themes in the alert and quotes in its thread."""

from __future__ import annotations

from agent.message import AlertVoice, message_from_dict, message_to_dict
from agent.notify import Decision, Notice
from agent.notify.base import Item
from agent.notify.render import plain_text
from tests.notify.conftest import alert
from tests.notify.servers import SlackState
from tests.notify.test_slack import BODY, bot

THEMES = "channel=call_center: 연결 (12 → 85), 대기 시간 (6 → 40)"
QUOTES = ["“전화 연결이 안 돼요 [전화번호]” — 연결", "“대기 시간이 <너무> 길어요” — 대기 시간"]
VOICE = [AlertVoice(THEMES, QUOTES)]


def test_themes_in_the_first_message_quotes_in_its_thread(slack: SlackState) -> None:
    bot(slack).send(Notice("k1", [Item(Decision.NEW, alert(voice=VOICE))], BODY))

    first, reply = slack.messages
    shown = "\n".join(str(b) for b in first["blocks"])
    assert f"*What customers say*\\n• {THEMES}" in shown
    assert "전화 연결이 안 돼요" not in shown  # no customer's words in the channel itself
    assert reply["thread_ts"] == first["ts"]
    quoted = [b["text"]["text"] for b in reply["blocks"][1:]]
    assert quoted == [f"*{THEMES}*\n> {QUOTES[0]}\n> “대기 시간이 &lt;너무&gt; 길어요” — 대기 시간"]


def test_no_thread_reply_without_quotes_and_follow_ups_carry_none(slack: SlackState) -> None:
    themes_only = alert(voice=[AlertVoice(THEMES)])
    first = bot(slack).send(Notice("k1", [Item(Decision.NEW, themes_only)], BODY))
    later = Notice("k2", [Item(Decision.REMIND, alert(voice=VOICE))], BODY)
    bot(slack).send(later, thread=first)
    assert len(slack.messages) == 2  # the alert, then the reminder: no quotes posted
    assert QUOTES[0] not in str(slack.messages[1]["blocks"])


def test_the_voice_survives_the_outbox_and_the_plain_text_has_it_all() -> None:
    msg = alert(voice=VOICE)
    assert message_from_dict(message_to_dict(msg)) == msg
    text = plain_text(Notice("k1", [Item(Decision.NEW, msg)]))
    assert "  What customers say:" in text and THEMES in text
    assert all(q in text for q in QUOTES)
    old = {k: v for k, v in message_to_dict(alert()).items() if k != "voice"}
    assert message_from_dict(old).voice == []  # messages stored before the voice existed
