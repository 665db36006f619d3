"""The file channel: each message written under a folder instead of sent (dry runs, the demo).

``<reports dir>/<dir>/<YYYY-MM-DD>/<metric>-<delivery>.txt`` (the plain text a person
would read) and ``.json`` (what a webhook would receive). File names come from the
delivery key, so writing one delivery twice leaves one file pair, and a restart sees what
was already written.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import ClassVar, Literal

from pydantic import ConfigDict

from agent.notify.base import ChannelSpec, DeliveryRef, Notice, NotifyError
from agent.notify.render import notice_payload, plain_text

__all__ = ["FilesNotifier", "FilesSpec"]

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


class FilesSpec(ChannelSpec):
    """``type: files``: a folder (relative to the reports directory) to write messages into."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: Literal["files"]
    dir: str = "outbox"


class FilesNotifier:
    kind: ClassVar[str] = "files"
    spec_type: ClassVar[type[ChannelSpec]] = FilesSpec

    def __init__(self, channel: str, spec: FilesSpec, *, base_dir: Path) -> None:
        self.channel, self.spec = channel, spec
        self.dir = base_dir / spec.dir

    def send(self, notice: Notice, *, thread: DeliveryRef | None = None) -> DeliveryRef:
        stem = self._stem(notice)
        data = notice_payload(notice, thread)
        try:
            stem.parent.mkdir(parents=True, exist_ok=True)
            _write(stem.with_suffix(".txt"), plain_text(notice))
            _write(stem.with_suffix(".json"), json.dumps(data, ensure_ascii=False, indent=2))
        except OSError as exc:
            reason = f"cannot write {stem}: {exc.strerror}"
            raise NotifyError(self.channel, reason, retryable=True) from None
        return DeliveryRef(self.channel, str(stem.with_suffix(".txt")))

    def find(self, notice: Notice, *, thread: DeliveryRef | None = None) -> DeliveryRef | None:
        path = self._stem(notice).with_suffix(".json")
        return DeliveryRef(self.channel, str(path.with_suffix(".txt"))) if path.exists() else None

    def _stem(self, notice: Notice) -> Path:
        first = notice.messages[0] if notice.messages else None
        day = (first.period[:10] if first else "") or "undated"
        digest = hashlib.sha256(notice.key.encode()).hexdigest()[:10]
        name = _UNSAFE.sub("-", f"{first.metric if first else 'test'}-{digest}").strip("-.")
        return self.dir / _UNSAFE.sub("-", day) / name


def _write(path: Path, text: str) -> None:
    """Write through a temporary file, so a crash never leaves half a message."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
