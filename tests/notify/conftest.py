"""Fixtures for delivery tests: a state store, real local servers, tiny alerts."""

from __future__ import annotations

import socket
import ssl
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from agent.cli import main
from agent.message import AlertCause, AlertField, AlertMessage
from agent.store import Store, open_store
from tests.conftest import Result
from tests.notify.servers import SlackState, Webhook, slack_server, webhook_server

SMTP_USER, SMTP_PASSWORD = "cx-agent", "smtp-pa$$word/42"
HOOK_SECRET = "hmac-secret-value-77"


def alert(**changes: Any) -> AlertMessage:
    """A small, complete alert about revisit_rate for the week of 2026-11-16."""
    base = AlertMessage(
        episode_id="revisit_rate||2026-11-09T00:00:00",
        metric="revisit_rate",
        title="Revisit rate",
        segment={},
        period="2026-11-16T00:00:00+09:00",
        state="new",
        severity="warning",
        header="Warning · Revisit rate ↓ 4.1 pts",
        summary="Revisit rate fell 4.1 pts to 31.2% since Nov 9; 78% of the change is channel=app.",
        fields=[AlertField("Value", "31.2%"), AlertField("Expected", "35.3%")],
        causes=[AlertCause("channel=app", "78% · 36.0% → 30.1%")],
        deviation=0.041,
        report_url="https://reports.example.com/2026-11-16/revisit_rate.html",
        owners=["U012AB3CD"],
    )
    return replace(base, **changes)


def in_process(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str
) -> Result:
    """``cx-agent ARGS`` in this process (the same ``main`` the console script runs)."""
    monkeypatch.setattr(sys, "argv", ["cx-agent", *args])
    with pytest.raises(SystemExit) as done:
        main()
    out, err = capsys.readouterr()
    return Result(int(done.value.code or 0), out, err)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = open_store(f"sqlite:///{tmp_path / 'state.db'}")
    yield opened
    opened.close()


@pytest.fixture
def slack() -> Iterator[SlackState]:
    server, state = slack_server()
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture
def webhook() -> Iterator[Webhook]:
    server, hook = webhook_server(HOOK_SECRET)
    yield hook
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="session")
def test_ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="session")
def ca_file(test_ca: trustme.CA, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The test CA as a PEM file (for ``ca_file:`` and other processes)."""
    path = tmp_path_factory.mktemp("ca") / "ca.pem"
    test_ca.cert_pem.write_to_path(str(path))
    return path


@pytest.fixture(scope="session")
def tls(test_ca: trustme.CA) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """(server context, client context trusting the test CA) for 127.0.0.1."""
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    test_ca.issue_cert("127.0.0.1", "localhost").configure_cert(server)
    client = ssl.create_default_context()
    test_ca.configure_trust(client)
    return server, client


@dataclass
class Mailbox:
    messages: list[EmailMessage] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)
    temp_failures: int = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        if self.temp_failures:
            self.temp_failures -= 1
            return "451 4.3.0 try again later"
        parsed = message_from_bytes(envelope.content, policy=policy.default)
        self.messages.append(parsed)  # type: ignore[arg-type]
        return "250 OK"


@dataclass
class SMTPServer:
    host: str
    port: int
    mailbox: Mailbox
    client_tls: ssl.SSLContext

    def url(self, scheme: str = "smtp+starttls", password: str = SMTP_PASSWORD) -> str:
        from urllib.parse import quote

        login = f"{SMTP_USER}:{quote(password, safe='')}@" if scheme != "smtp" else ""
        return f"{scheme}://{login}{self.host}:{self.port}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _authenticator(mailbox: Mailbox) -> Any:
    def check(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
            SMTP_USER.encode(),
            SMTP_PASSWORD.encode(),
        )
        if ok:
            mailbox.logins.append(SMTP_USER)
        return AuthResult(success=ok, handled=False)

    return check


def _smtp(tls: tuple[ssl.SSLContext, ssl.SSLContext], mode: str) -> Iterator[SMTPServer]:
    mailbox, port = Mailbox(), free_port()
    server_ctx, client_ctx = tls
    kwargs: dict[str, Any] = {"authenticator": _authenticator(mailbox), "auth_require_tls": True}
    if mode == "starttls":
        kwargs |= {"tls_context": server_ctx, "require_starttls": True}
    elif mode == "ssl":  # aiosmtpd does not count TLS from the first byte as TLS for AUTH
        kwargs |= {"ssl_context": server_ctx, "auth_require_tls": False}
    controller = Controller(mailbox, hostname="127.0.0.1", port=port, **kwargs)
    controller.start()
    yield SMTPServer("127.0.0.1", port, mailbox, client_ctx)
    controller.stop()


@pytest.fixture
def smtp(tls: tuple[ssl.SSLContext, ssl.SSLContext]) -> Iterator[SMTPServer]:
    """An SMTP server that requires STARTTLS before AUTH (PLAIN/LOGIN)."""
    yield from _smtp(tls, "starttls")


@pytest.fixture
def smtps(tls: tuple[ssl.SSLContext, ssl.SSLContext]) -> Iterator[SMTPServer]:
    """An SMTP server speaking TLS from the first byte (port 465 style)."""
    yield from _smtp(tls, "ssl")


@pytest.fixture
def smtp_cleartext(tls: tuple[ssl.SSLContext, ssl.SSLContext]) -> Iterator[SMTPServer]:
    """An SMTP server that offers no STARTTLS at all."""
    yield from _smtp(tls, "plain")
