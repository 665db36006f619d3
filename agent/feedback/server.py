"""The local endpoint that records verdicts from the reports' feedback links.

Opening a link (GET) only shows a small form: mail scanners and link previews open
links too, and must not record anything. Sending the form (POST) records the verdict,
with an optional note and, for ``expected``, the dates the move was planned for.
Every request is checked against the link's token; nothing is recorded without it.
"""

from __future__ import annotations

import threading
from datetime import date
from html import escape
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from agent.errors import ConfigError
from agent.feedback.labels import UnknownEpisode, record_label
from agent.feedback.links import FeedbackSpec, valid_token
from agent.store import Store

__all__ = ["FeedbackServer", "start_feedback_server"]

MAX_BODY = 10_000
_PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>cx-agent feedback</title>
</head><body style="font-family:sans-serif;max-width:36em;margin:2em auto">{body}</body></html>"""


class FeedbackServer(ThreadingHTTPServer):
    """An HTTP server that knows the store and the secret; ``shutdown()`` stops it."""

    daemon_threads = True

    def __init__(self, spec: FeedbackSpec, store: Store) -> None:
        self.store, self.secret = store, (spec.secret.get_secret_value() if spec.secret else "")
        super().__init__((spec.host, spec.port), _Handler)


def start_feedback_server(spec: FeedbackSpec, store: Store) -> FeedbackServer:
    """Serve feedback links on ``spec.host:spec.port`` in a background thread."""
    try:
        server = FeedbackServer(spec, store)
    except OSError as exc:
        raise ConfigError.setting(
            f"feedback: cannot listen on {spec.host}:{spec.port} ({exc.strerror})",
            "stop what uses that port, or set feedback.port to a free one",
        ) from exc
    threading.Thread(target=server.serve_forever, name="cx-agent-feedback", daemon=True).start()
    return server


class _Handler(BaseHTTPRequestHandler):
    server: FeedbackServer

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        fields = self._checked(parse_qs(urlsplit(self.path).query))
        if fields is not None:
            self._reply(HTTPStatus.OK, _form(fields))

    def do_POST(self) -> None:  # noqa: N802
        size = int(self.headers.get("Content-Length") or 0)
        if urlsplit(self.path).path != "/feedback" or size > MAX_BODY:
            self._reply(HTTPStatus.NOT_FOUND, "<p>Not found.</p>")
            return
        form = parse_qs(self.rfile.read(size).decode("utf-8", "replace"))
        fields = self._checked(form)
        if fields is not None:
            self._record(fields, form)

    def _checked(self, query: dict[str, list[str]]) -> dict[str, str] | None:
        """The link's episode, label and token if the token is right; else reply 403."""
        fields = {k: (query.get(k) or [""])[0] for k in ("episode", "label", "token")}
        secret = self.server.secret
        if not secret or not valid_token(
            secret, fields["episode"], fields["label"], fields["token"]
        ):
            self._reply(HTTPStatus.FORBIDDEN, "<p>This feedback link is not valid.</p>")
            return None
        return fields

    def _record(self, fields: dict[str, str], form: dict[str, list[str]]) -> None:
        note = (form.get("note") or [""])[0].strip() or None
        try:
            window = _window(form)
            metric = record_label(
                self.server.store, fields["episode"], fields["label"], note=note, window=window
            )  # type: ignore[arg-type]
        except UnknownEpisode:
            self._reply(HTTPStatus.NOT_FOUND, "<p>This alert is no longer in the store.</p>")
            return
        except ValueError as exc:
            self._reply(HTTPStatus.BAD_REQUEST, f"<p>{escape(str(exc))}</p>")
            return
        said = escape(f"{metric}: marked {fields['label']}")
        self._reply(HTTPStatus.OK, f"<p>Thank you — recorded ({said}).</p>")

    def _reply(self, status: HTTPStatus, body: str) -> None:
        data = _PAGE.format(body=body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        """Quiet: request lines carry tokens, which do not belong in logs."""


def _window(form: dict[str, list[str]]) -> tuple[date, date] | None:
    start, end = ((form.get(k) or [""])[0].strip() for k in ("from", "to"))
    if not start and not end:
        return None
    first = date.fromisoformat(start or end)
    return first, date.fromisoformat(end or start)


def _form(fields: dict[str, str]) -> str:
    label = fields["label"]
    dates = (
        '<p><label>Planned from <input type="date" name="from"></label> '
        '<label>to <input type="date" name="to"></label></p>'
        if label == "expected"
        else ""
    )
    hidden = "".join(
        f'<input type="hidden" name="{k}" value="{escape(v)}">' for k, v in fields.items()
    )
    return (
        f"<h1>Mark this alert {escape(label)}?</h1><p>{escape(fields['episode'])}</p>"
        f'<form method="post" action="/feedback">{hidden}'
        f'<p><label>Note <input name="note" size="40"></label></p>{dates}'
        '<p><button type="submit">Record</button></p></form>'
    )
