"""Email over SMTP: the report's email-safe HTML with a text alternative and the chart by CID.

The server comes from ``smtp:`` (or ``SMTP_URL``, or ``SMTP_HOST``/``SMTP_PORT``/
``SMTP_USERNAME``/``SMTP_PASSWORD``/``SMTP_FROM``): ``smtp+starttls://user:pass@host:587``,
``smtps://user:pass@host:465`` or ``smtp://host:25`` (no login). A password is only ever
sent over TLS: a server that does not offer STARTTLS is refused, never used in clear.

Each message's Message-ID is derived from its delivery key, which holds the install's
random id (``Store.install_id``): the same on every resend, never the same as another
install's mail about the same metric and period (a provider would drop one of them as a
duplicate). Follow-ups carry ``In-Reply-To`` the first alert's, so mail clients thread
them. SMTP cannot be asked whether a message arrived: after a crash between the server's
"250 OK" and the outbox's record, the message is sent once more with the same Message-ID.
"""

from __future__ import annotations

import hashlib
import os
import smtplib
import ssl
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import formatdate
from pathlib import Path
from typing import ClassVar, Literal
from urllib.parse import unquote, urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from agent.notify.base import ChannelSpec, Decision, DeliveryRef, Notice, NotifyError, redact
from agent.notify.logs import protect
from agent.notify.render import decision_label, notice_title, one_line, plain_text

__all__ = ["EmailNotifier", "EmailSpec", "SmtpTarget", "smtp_target"]

_SCHEMES = {"smtp+starttls": ("starttls", 587), "smtps": ("ssl", 465), "smtp": ("plain", 25)}


class SmtpTarget(BaseModel):
    model_config = ConfigDict(frozen=True)

    security: Literal["starttls", "ssl", "plain"]
    host: str
    port: int
    username: str | None = None
    password: SecretStr | None = None


def smtp_target(url: str) -> SmtpTarget:
    """Parse an SMTP URL; refuse a login over a connection without TLS."""
    parts = urlsplit(url)
    if parts.scheme not in _SCHEMES:
        raise ValueError(
            "the SMTP URL must start with smtp+starttls://, smtps:// or smtp:// "
            f"(got {parts.scheme or 'no scheme'}://)"
        )
    security, default_port = _SCHEMES[parts.scheme]
    if not parts.hostname:
        raise ValueError("the SMTP URL has no host")
    if security == "plain" and parts.username:
        raise ValueError(
            "smtp:// would send the password in clear text; use smtp+starttls:// or smtps://"
        )
    return SmtpTarget(
        security=security,
        host=parts.hostname,
        port=parts.port or default_port,
        username=unquote(parts.username) if parts.username else None,
        password=SecretStr(unquote(parts.password)) if parts.password else None,
    )


def _url_from_env() -> str | None:
    """``SMTP_URL``, or one built from ``SMTP_HOST`` and friends (STARTTLS unless port 465)."""
    if os.environ.get("SMTP_URL"):
        return os.environ["SMTP_URL"]
    host = os.environ.get("SMTP_HOST")
    if not host:
        return None
    port = os.environ.get("SMTP_PORT", "587")
    scheme = "smtps" if port == "465" else "smtp+starttls"
    user = os.environ.get("SMTP_USERNAME")
    login = f"{user}:{os.environ.get('SMTP_PASSWORD', '')}@" if user else ""
    return f"{scheme}://{login}{host}:{port}"


class EmailSpec(ChannelSpec):
    """``type: email``: recipients, the SMTP server, the sender."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    type: Literal["email"]
    to: list[str] = Field(min_length=1)
    smtp: SecretStr | None = None
    sender: str | None = Field(None, alias="from")
    timeout: float = 30.0
    ca_file: str | None = None
    """A CA bundle for a relay with a private certificate (default: the system's)."""

    @field_validator("to")
    @classmethod
    def _addresses(cls, value: list[str]) -> list[str]:
        for address in value:
            if "@" not in address or any(c in address for c in "\r\n,<>; "):
                raise ValueError(f"{one_line(address)!r} is not one email address")
        return value

    @model_validator(mode="after")
    def _server(self) -> EmailSpec:
        url = self.smtp.get_secret_value() if self.smtp else _url_from_env()
        if not url:
            raise ValueError("needs smtp: (e.g. ${SMTP_URL}) or SMTP_URL / SMTP_HOST set")
        smtp_target(url)
        object.__setattr__(self, "smtp", SecretStr(url))
        if self.sender is None:
            object.__setattr__(self, "sender", os.environ.get("SMTP_FROM") or self.to[0])
        return self

    @property
    def target(self) -> SmtpTarget:
        assert self.smtp is not None  # set by the validator
        return smtp_target(self.smtp.get_secret_value())


class EmailNotifier:
    kind: ClassVar[str] = "email"
    spec_type: ClassVar[type[ChannelSpec]] = EmailSpec

    def __init__(
        self,
        channel: str,
        spec: EmailSpec,
        *,
        base_dir: Path | None = None,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        """``base_dir`` is unused: email keeps nothing on disk (``NotifierClass``)."""
        self.channel, self.spec, self.target = channel, spec, spec.target
        self._tls = ssl_context or ssl.create_default_context(cafile=spec.ca_file)
        password = self.target.password.get_secret_value() if self.target.password else ""
        self._secrets = [password, spec.smtp.get_secret_value() if spec.smtp else ""]
        protect(self._secrets)

    def send(self, notice: Notice, *, thread: DeliveryRef | None = None) -> DeliveryRef:
        mail = self.compose(notice, thread)
        try:
            with self._connect() as smtp:
                smtp.send_message(mail)
        except NotifyError:
            raise
        except (smtplib.SMTPException, OSError) as exc:
            raise self._failure(exc) from None
        return DeliveryRef(self.channel, str(mail["Message-ID"]))

    def find(self, notice: Notice, *, thread: DeliveryRef | None = None) -> None:
        return None  # SMTP cannot tell: resent with the same Message-ID

    def compose(self, notice: Notice, thread: DeliveryRef | None = None) -> EmailMessage:
        mail = EmailMessage(policy=SMTP)
        mail["Subject"] = _subject(notice)
        mail["From"] = str(self.spec.sender)
        mail["To"] = ", ".join(self.spec.to)
        mail["Date"] = formatdate(localtime=False)
        mail["Message-ID"] = message_id(notice.key)
        if thread is not None:
            mail["In-Reply-To"] = thread.external_id
            mail["References"] = thread.external_id
        body = notice.body
        mail.set_content(body.text if body else plain_text(notice))
        if body is not None:
            mail.add_alternative(body.html, subtype="html")
            *_, html = mail.iter_parts()
            for cid, png in body.images.items():
                html.add_related(png, "image", "png", cid=f"<{cid}>")
            for name, data in body.attachments.items():
                mail.add_attachment(data, "text", "csv", filename=name)
        return mail

    def _connect(self) -> smtplib.SMTP:
        t, timeout = self.target, self.spec.timeout
        if t.security == "ssl":
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                t.host, t.port, timeout=timeout, context=self._tls
            )
        else:
            smtp = smtplib.SMTP(t.host, t.port, timeout=timeout)
        try:
            self._secure(smtp)
        except BaseException:
            smtp.close()
            raise
        return smtp

    def _secure(self, smtp: smtplib.SMTP) -> None:
        t = self.target
        smtp.ehlo()
        if t.security == "starttls":
            if not smtp.has_extn("starttls"):
                raise NotifyError(
                    self.channel,
                    f"{t.host}:{t.port} does not offer STARTTLS; cx-agent will not log in "
                    "without TLS (use smtps:// if the server speaks TLS from the start)",
                    retryable=False,
                )
            smtp.starttls(context=self._tls)
            smtp.ehlo()
        if t.username:
            smtp.login(t.username, t.password.get_secret_value() if t.password else "")

    def _failure(self, exc: BaseException) -> NotifyError:
        where = f"{self.target.host}:{self.target.port}"
        if isinstance(exc, smtplib.SMTPAuthenticationError):
            return NotifyError(self.channel, f"{where} refused the login", retryable=False)
        if isinstance(exc, smtplib.SMTPResponseException):
            err = exc.smtp_error
            text = err.decode(errors="replace") if isinstance(err, bytes) else err
            reason = redact(f"{where} answered {exc.smtp_code} {one_line(text)}", self._secrets)
            return NotifyError(self.channel, reason, retryable=400 <= exc.smtp_code < 500)
        if isinstance(exc, smtplib.SMTPNotSupportedError):
            reason = f"{where} does not offer a login (AUTH); check the SMTP URL"
            return NotifyError(self.channel, reason, retryable=False)
        if isinstance(exc, smtplib.SMTPRecipientsRefused):
            return NotifyError(self.channel, f"{where} refused every recipient", retryable=False)
        if isinstance(exc, ssl.SSLCertVerificationError):
            reason = f"{where}: TLS certificate not trusted ({exc.verify_message})"
            return NotifyError(self.channel, reason, retryable=False)
        reason = redact(f"cannot reach {where}: {type(exc).__name__}: {exc}", self._secrets)
        return NotifyError(self.channel, one_line(reason)[:300], retryable=True)


def message_id(key: str) -> str:
    """A Message-ID that is the same every time one delivery is sent (``key`` is unique
    per install: see the module docstring)."""
    return f"<{hashlib.sha256(key.encode()).hexdigest()[:32]}@cx-agent>"


def _subject(notice: Notice) -> str:
    """One line: the report's subject (or the alert's header), after the decision word for
    a follow-up; control characters and line breaks removed."""
    base = notice.body.subject if notice.body else notice_title(notice.messages)
    first = notice.items[0]
    if first.decision is not Decision.NEW:
        base = f"{decision_label(first)}: {base}"
    return one_line(base)[:250]
