"""The local endpoint that records verdicts from the reports' feedback links.

Opening a link (GET) only shows a small form: mail scanners and link previews open
links too, and must not record anything. Sending the form (POST) records the verdict,
with an optional note and, for ``expected``, the dates the move was planned for.
Every request is checked against the link's token; nothing is recorded without it,
and a token records its verdict once (the same form sent again changes nothing).

It is a Starlette app served by uvicorn (h11) in a thread of ``cx-agent serve``: the
HTTP parsing is theirs, so a malformed ``Content-Length`` is a 400 and never reaches
the app; the app reads at most ``MAX_BODY`` bytes of a body (413 past it); a
connection gets ``REQUEST_DEADLINE`` seconds in all, so clients that send a byte a
second cannot hold it open; responses carry no ``Server`` banner and nothing is logged
per request (the links' tokens are in the request lines).
"""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
import time
from datetime import date
from html import escape

import uvicorn
from starlette.applications import Starlette
from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route
from uvicorn.protocols.http.h11_impl import H11Protocol

from agent.errors import ConfigError
from agent.feedback.labels import UnknownEpisode, record_label
from agent.feedback.links import FeedbackSpec, valid_token
from agent.store import Store
from agent.text import clean_text

__all__ = ["MAX_BODY", "REQUEST_DEADLINE", "FeedbackServer", "start_feedback_server"]

MAX_BODY = 10_000
"""Largest form accepted, in bytes (a note and two dates need a few hundred)."""
REQUEST_DEADLINE = 10.0
"""Seconds a connection may stay open, for its request and the answer."""
MAX_NOTE = 500
"""Longest note kept, in characters."""
_PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>cx-agent feedback</title>
</head><body style="font-family:sans-serif;max-width:36em;margin:2em auto">{body}</body></html>"""


class FeedbackServer:
    """The endpoint running in a background thread; ``shutdown()`` stops it."""

    def __init__(self, server: uvicorn.Server, thread: threading.Thread) -> None:
        self._server, self._thread = server, thread

    def shutdown(self) -> None:
        """Stop accepting, finish the requests in flight, and wait for the thread."""
        self._server.should_exit = True
        self._thread.join(timeout=REQUEST_DEADLINE + 5)


def start_feedback_server(
    spec: FeedbackSpec, store: Store, *, deadline: float = REQUEST_DEADLINE
) -> FeedbackServer:
    """Serve feedback links on ``spec.host:spec.port``; return once it accepts requests."""
    sock = _listen(spec)
    secret = spec.secret.get_secret_value() if spec.secret else ""
    config = uvicorn.Config(
        _app(store, secret),
        http=_protocol(deadline),
        lifespan="off",
        server_header=False,
        access_log=False,
        log_config=None,
        timeout_keep_alive=min(5, int(deadline)),
        limit_concurrency=64,
    )
    logging.getLogger("uvicorn.error").setLevel(logging.ERROR)  # no per-request lines
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="cx-agent-feedback", daemon=True
    )
    thread.start()
    started = time.monotonic()
    while not server.started and thread.is_alive() and time.monotonic() - started < 30:
        time.sleep(0.01)
    return FeedbackServer(server, thread)


def _listen(spec: FeedbackSpec) -> socket.socket:
    """The listening socket, bound here so that a taken port is a config error now."""
    try:
        sock = socket.create_server((spec.host, spec.port), reuse_port=False)
    except OSError as exc:
        raise ConfigError.setting(
            f"feedback: cannot listen on {spec.host}:{spec.port} ({exc.strerror})",
            "stop what uses that port, or set feedback.port to a free one",
        ) from exc
    return sock


def _protocol(deadline: float) -> type[H11Protocol]:
    """uvicorn's h11 protocol with a deadline on the whole connection.

    uvicorn times out idle keep-alive connections only: a client that sends one byte a
    second is never idle. Here every connection is closed ``deadline`` seconds after it
    opened, whatever it is doing.
    """

    class Deadline(H11Protocol):
        _expiry: asyncio.TimerHandle | None = None

        # uvicorn's H11Protocol takes a Transport where asyncio's base takes a BaseTransport
        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._expiry = self.loop.call_later(deadline, transport.close)

        def connection_lost(self, exc: Exception | None) -> None:
            if self._expiry is not None:
                self._expiry.cancel()
            super().connection_lost(exc)

    return Deadline


def _app(store: Store, secret: str) -> Starlette:
    """GET shows the form of a valid link; POST records it. Store calls run on the event
    loop's thread, one request at a time, so a form sent twice at once records once."""

    async def show(request: Request) -> HTMLResponse:
        fields = _checked(request.query_params, secret)
        return _reply(200, _form(fields)) if fields else _forbidden()

    async def record(request: Request) -> HTMLResponse:
        body = await _body(request)
        if body is None:
            return _reply(413, "<p>This form is too large.</p>")
        form = QueryParams(body)
        fields = _checked(form, secret)
        return _record(store, fields, form) if fields else _forbidden()

    routes = [
        Route("/feedback", show, methods=["GET"]),
        Route("/feedback", record, methods=["POST"]),
    ]
    return Starlette(routes=routes)


async def _body(request: Request) -> str | None:
    """The request's body as text, or None past MAX_BODY bytes (never read further)."""
    declared = request.headers.get("content-length", "0")
    if declared.isdigit() and int(declared) > MAX_BODY:
        return None
    data = bytearray()
    async for chunk in request.stream():
        data += chunk
        if len(data) > MAX_BODY:
            return None
    return data.decode("utf-8", "replace")


def _checked(query: QueryParams, secret: str) -> dict[str, str] | None:
    """The link's episode, label and token if the token is right."""
    fields = {k: query.get(k) or "" for k in ("episode", "label", "token")}
    if not secret or not valid_token(secret, fields["episode"], fields["label"], fields["token"]):
        return None
    return fields


def _record(store: Store, fields: dict[str, str], form: QueryParams) -> HTMLResponse:
    note = clean_text(form.get("note") or "", MAX_NOTE).strip() or None
    try:
        window = _window(form)
        metric = record_label(
            store,
            fields["episode"],
            fields["label"],
            note=note,
            window=window,
            once=True,
        )
    except UnknownEpisode:
        return _reply(404, "<p>This alert is no longer in the store.</p>")
    except ValueError as exc:
        return _reply(400, f"<p>{escape(str(exc))}</p>")
    said = escape(f"{metric}: marked {fields['label']}")
    return _reply(200, f"<p>Thank you — recorded ({said}).</p>")


def _forbidden() -> HTMLResponse:
    return _reply(403, "<p>This feedback link is not valid.</p>")


def _reply(status: int, body: str) -> HTMLResponse:
    return HTMLResponse(
        _PAGE.format(body=body), status_code=status, headers={"Cache-Control": "no-store"}
    )


def _window(form: QueryParams) -> tuple[date, date] | None:
    start, end = ((form.get(k) or "").strip() for k in ("from", "to"))
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
