"""Email against a real aiosmtpd server on 127.0.0.1 (STARTTLS + AUTH, or TLS from the start)."""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError
from sqlalchemy import select

from agent.notify import Decision, DeliveryRef, Notice, NotifyError, NotifyPolicy, RunBody, enqueue
from agent.notify.base import Item
from agent.notify.delivery import flush
from agent.notify.email import EmailNotifier, EmailSpec, message_id, smtp_target
from agent.store import open_store
from agent.store.schema import deliveries
from tests.notify.conftest import SMTP_PASSWORD, SMTPServer, alert

PNG = b"\x89PNG\r\n\x1a\nchart"
BODY = RunBody(
    subject="[warning] Revisit rate fell 4.1 pts to 31.2% since Nov 9.",
    html='<table><tr><td><img src="cid:revisit_rate.chart@cx-agent" alt="chart"></td></tr></table>',
    text="Revisit rate fell 4.1 pts to 31.2% since Nov 9.\n",
    images={"revisit_rate.chart@cx-agent": PNG},
    report={},
)


def mailer(server: SMTPServer, url: str | None = None, **spec: object) -> EmailNotifier:
    model = EmailSpec.model_validate(
        {"type": "email", "to": ["cx-team@example.com"], "smtp": url or server.url()} | spec
    )
    return EmailNotifier("cx-mail", model, ssl_context=server.client_tls)


def notice(key: str = "k1", decision: Decision = Decision.NEW, body: RunBody = BODY) -> Notice:
    return Notice(key, [Item(decision, alert())], body)


def test_starttls_and_auth_deliver_text_html_and_every_cid_image(smtp: SMTPServer) -> None:
    ref = mailer(smtp).send(notice())

    [mail] = smtp.mailbox.messages
    assert smtp.mailbox.logins == ["cx-agent"]
    assert ref == DeliveryRef("cx-mail", message_id("k1"))
    assert mail["Message-ID"] == message_id("k1")
    assert mail["Subject"] == BODY.subject
    assert mail["To"] == "cx-team@example.com"
    assert mail.get_content_type() == "multipart/alternative"
    text = mail.get_body(("plain",))
    html = mail.get_body(("html",))
    assert text is not None and text.get_content().replace("\r\n", "\n") == BODY.text
    assert html is not None and "cid:revisit_rate.chart@cx-agent" in html.get_content()
    related = {
        part["Content-ID"].strip("<>"): part.get_content()
        for part in mail.walk()
        if part["Content-ID"]
    }
    cids = re.findall(r'src="cid:([^"]+)"', html.get_content())
    assert cids and all(related[cid] == PNG for cid in cids)


def test_smtps_speaks_tls_from_the_first_byte(smtps: SMTPServer) -> None:
    mailer(smtps, smtps.url("smtps")).send(notice())

    assert len(smtps.mailbox.messages) == 1


def test_two_installs_never_send_the_same_message_id(smtp: SMTPServer, tmp_path: Path) -> None:
    """The same metric, period and decision from two installs: two Message-IDs, so a
    provider does not drop the second install's mail as a duplicate; each one's id is the
    same on a resend (it comes from its own store)."""
    sent = []
    for name in ("first", "second"):
        store = open_store(f"sqlite:///{tmp_path / name}.db")
        enqueue(store, {"cx-mail": [alert()]}, now=datetime.now(UTC), policy=NotifyPolicy())
        flush(store, {"cx-mail": mailer(smtp)}, budget=timedelta(0))
        with store.engine.connect() as conn:
            sent.append(conn.execute(select(deliveries.c.external_id)).scalar_one())
        store.close()
    received = [mail["Message-ID"] for mail in smtp.mailbox.messages]
    assert received == sent and sent[0] != sent[1]


def test_a_follow_up_replies_to_the_first_alert(smtp: SMTPServer) -> None:
    first = mailer(smtp).send(notice())

    mailer(smtp).send(notice("k2", Decision.RESOLVED), thread=first)

    reply = smtp.mailbox.messages[1]
    assert reply["In-Reply-To"] == first.external_id
    assert reply["Subject"] == f"Recovered: {BODY.subject}"


def test_no_starttls_means_no_login_and_a_permanent_error(smtp_cleartext: SMTPServer) -> None:
    with pytest.raises(NotifyError) as caught:
        mailer(smtp_cleartext).send(notice())

    assert not caught.value.retryable
    assert "does not offer STARTTLS; cx-agent will not log in without TLS" in str(caught.value)
    assert smtp_cleartext.mailbox.logins == [] and smtp_cleartext.mailbox.messages == []


def test_a_password_in_an_smtp_url_needs_tls() -> None:
    with pytest.raises(ValueError, match="would send the password in clear text"):
        smtp_target("smtp://user:pw@mail.example.com:25")
    assert smtp_target("smtp://relay.internal").port == 25


def test_a_temporary_refusal_is_retryable(smtp: SMTPServer) -> None:
    smtp.mailbox.temp_failures = 1

    with pytest.raises(NotifyError) as caught:
        mailer(smtp).send(notice())

    assert caught.value.retryable
    assert caught.value.reason == f"127.0.0.1:{smtp.port} answered 451 4.3.0 try again later"


def test_hostile_values_cannot_inject_headers(smtp: SMTPServer) -> None:
    subject = "[warning] Revisit rate for <script>x</script>\r\nBcc: victim@example.com\r\n\r\nhi"
    body = RunBody(subject, BODY.html, BODY.text, BODY.images, {})

    mailer(smtp).send(notice(body=body))

    [mail] = smtp.mailbox.messages
    assert mail["Bcc"] is None
    assert mail["Subject"].strip() == (  # a long subject is folded after "Subject:"
        "[warning] Revisit rate for <script>x</script> Bcc: victim@example.com hi"
    )


def test_no_secret_in_errors_or_logs(smtp: SMTPServer, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    wrong = "wrong-pa$$word-99"
    errors = []
    for url in (smtp.url(password=wrong), f"smtp+starttls://cx-agent:{wrong}@127.0.0.1:1"):
        with pytest.raises(NotifyError) as caught:
            mailer(smtp, url).send(notice())
        errors.append(str(caught.value))

    assert errors[0] == f"channel 'cx-mail': 127.0.0.1:{smtp.port} refused the login"
    spec = EmailSpec.model_validate({"type": "email", "to": ["a@b.c"], "smtp": smtp.url()})
    for secret in (wrong, SMTP_PASSWORD):
        assert secret not in caplog.text + "".join(errors) + repr(spec)


def test_smtp_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMTP_HOST", "mail.example.com")
    monkeypatch.setenv("SMTP_PORT", "465")
    monkeypatch.setenv("SMTP_USERNAME", "bot")
    monkeypatch.setenv("SMTP_PASSWORD", "s3cret")
    monkeypatch.setenv("SMTP_FROM", "cx-agent <alerts@example.com>")

    spec = EmailSpec.model_validate({"type": "email", "to": ["cx@example.com"]})

    assert spec.target.model_dump(exclude={"password"}) == {
        "security": "ssl",
        "host": "mail.example.com",
        "port": 465,
        "username": "bot",
    }
    assert spec.sender == "cx-agent <alerts@example.com>"


def test_recipients_are_single_addresses() -> None:
    with pytest.raises(ValidationError, match="is not one email address"):
        EmailSpec.model_validate(
            {"type": "email", "to": ["a@b.c\r\nBcc: x@y.z"], "smtp": "smtp://relay"}
        )
