"""Real servers on 127.0.0.1 for the delivery tests: the Slack Web API, a webhook receiver.

``SlackAPI`` answers the methods cx-agent calls (``chat.postMessage``, ``chat.update``,
``files.getUploadURLExternal``, the upload URL, ``files.completeUploadExternal``,
``conversations.history`` / ``.replies`` / ``.list``) and incoming-webhook posts, and can
be scripted to fail: ``fail("chat.postMessage", 429, retry_after=1)``, ``fail(…, 500)``,
``fail(…, "timeout")`` (the request is processed, but only after the client gave up).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

TOKEN = "xoxb-test-0123456789-secret"
HOOK_PATH = "/services/T000/B000/hook-secret-XYZ"
CHANNEL_ID = "C0CXALERTS"


@dataclass
class Fault:
    method: str
    status: int | str
    retry_after: int | None = None


@dataclass
class SlackState:
    base: str = ""
    messages: list[dict[str, Any]] = field(default_factory=list)
    updates: list[dict[str, Any]] = field(default_factory=list)
    uploads: list[dict[str, Any]] = field(default_factory=list)
    hooks: list[dict[str, Any]] = field(default_factory=list)
    calls: list[str] = field(default_factory=list)
    faults: deque[Fault] = field(default_factory=deque)
    lock: threading.Lock = field(default_factory=threading.Lock)
    _ts: int = 0

    def fail(self, method: str, status: int | str, *, retry_after: int | None = None) -> None:
        self.faults.append(Fault(method, status, retry_after))

    def next_ts(self) -> str:
        self._ts += 1
        return f"1700000000.{self._ts:06d}"

    def wait_for(self, count: int) -> None:
        """Until ``count`` messages were posted (a timed-out request still completes)."""
        deadline = time.monotonic() + 10
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.05)

    def top_level(self) -> list[dict[str, Any]]:
        return [m for m in self.messages if not m.get("thread_ts")]


class _SlackHandler(BaseHTTPRequestHandler):
    state: SlackState

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib name
        return None

    def do_POST(self) -> None:  # noqa: N802 - stdlib name
        path = urlsplit(self.path).path
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        method = path.removeprefix("/api/")
        with self.state.lock:
            self.state.calls.append(method)
            fault = self._fault(method)
        if fault is not None and fault.status == "timeout":
            time.sleep(1.5)
        elif fault is not None:
            headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after else {}
            return self._send(int(fault.status), {"ok": False, "error": "scripted"}, headers)
        if path == HOOK_PATH:
            self.state.hooks.append(json.loads(raw))
            return self._send(200, "ok")
        if path.startswith("/services/"):
            return self._send(403, "invalid_token")
        if path.startswith("/upload/"):
            self.state.uploads.append({"file": path.rsplit("/", 1)[1], "bytes": raw})
            return self._send(200, f"OK - {len(raw)}")
        if self.headers.get("Authorization") != f"Bearer {TOKEN}":
            return self._send(200, {"ok": False, "error": "invalid_auth"})
        return self._send(200, self._api(method, _params(self.headers, raw, self.path)))

    def _fault(self, method: str) -> Fault | None:
        faults = self.state.faults
        if faults and faults[0].method == method:
            return faults.popleft()
        return None

    def _api(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        state = self.state
        with state.lock:
            if method == "chat.postMessage":
                message = {**args, "ts": state.next_ts(), "channel": CHANNEL_ID}
                message["posted_to"] = args.get("channel")
                state.messages.append(message)
                return {"ok": True, "channel": CHANNEL_ID, "ts": message["ts"]}
            if method == "chat.update":
                state.updates.append(args)
                return {"ok": True, "channel": args["channel"], "ts": args["ts"]}
            if method == "files.getUploadURLExternal":
                return {"ok": True, "upload_url": f"{state.base}/upload/F01", "file_id": "F01"}
            if method == "files.completeUploadExternal":
                state.uploads.append({"complete": args})
                return {"ok": True, "files": [{"id": "F01"}]}
            return self._read(method, args)

    def _read(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        state = self.state
        if method == "conversations.list":
            channels = [{"id": CHANNEL_ID, "name": "cx-alerts"}]
            return {"ok": True, "channels": channels, "response_metadata": {"next_cursor": ""}}
        if method == "conversations.history":
            return {"ok": True, "messages": state.top_level()[::-1], "has_more": False}
        if method == "conversations.replies":
            thread = [m for m in state.messages if args["ts"] in (m["ts"], m.get("thread_ts"))]
            return {"ok": True, "messages": thread, "has_more": False}
        return {"ok": False, "error": "unknown_method"}

    def _send(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        try:
            self.send_response(status)
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a scripted timeout)


def _params(headers: Any, raw: bytes, path: str) -> dict[str, Any]:
    args: dict[str, Any] = dict(parse_qsl(urlsplit(path).query))
    if "json" in (headers.get("Content-Type") or ""):
        args.update(json.loads(raw or b"{}"))
    elif raw:
        args.update(parse_qsl(raw.decode()))
    return args


@dataclass
class Webhook:
    """A receiver that accepts only correctly signed, fresh requests."""

    secret: str
    received: list[dict[str, Any]] = field(default_factory=list)
    rejected: int = 0
    statuses: deque[int | str] = field(default_factory=deque)
    url: str = ""


class _WebhookHandler(BaseHTTPRequestHandler):
    hook: Webhook

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib name
        return None

    def do_POST(self) -> None:  # noqa: N802 - stdlib name
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        scripted = self.hook.statuses.popleft() if self.hook.statuses else 200
        if scripted == "timeout":
            time.sleep(1.5)
            scripted = 200
        if not self._signed(raw):
            self.hook.rejected += 1
            return self._answer(401, b'{"error": "bad signature"}')
        if scripted == 200:
            self.hook.received.append(
                {"body": json.loads(raw), "delivery": self.headers["X-CX-Agent-Delivery"]}
            )
        self._answer(int(scripted), b'{"error": "scripted failure"}' if scripted != 200 else b"{}")

    def _signed(self, raw: bytes) -> bool:
        stamp = self.headers.get("X-CX-Agent-Timestamp") or "0"
        mac = hmac.new(self.hook.secret.encode(), stamp.encode() + b"." + raw, hashlib.sha256)
        given = self.headers.get("X-CX-Agent-Signature") or ""
        fresh = abs(time.time() - int(stamp)) < 300
        return fresh and hmac.compare_digest(given, "sha256=" + mac.hexdigest())

    def _answer(self, status: int, data: bytes) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass


def serve(handler: type[BaseHTTPRequestHandler]) -> tuple[ThreadingHTTPServer, str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def slack_server() -> tuple[ThreadingHTTPServer, SlackState]:
    state = SlackState()
    handler = type("Handler", (_SlackHandler,), {"state": state})
    server, base = serve(handler)
    state.base = base
    return server, state


def webhook_server(secret: str) -> tuple[ThreadingHTTPServer, Webhook]:
    hook = Webhook(secret)
    handler = type("Handler", (_WebhookHandler,), {"hook": hook})
    server, base = serve(handler)
    hook.url = f"{base}/hooks/cx?token=url-secret-123"
    return server, hook
