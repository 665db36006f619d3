"""Run by test_crash.py as ``python -m tests.notify.crash_child STORE_URL CHANNEL SPEC_JSON BASE``.

Delivers what the store holds, and is killed (SIGKILL) right after the channel took the
message, before the outbox could record it.
"""

from __future__ import annotations

import json
import os
import signal
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

from agent.notify import NOTIFIERS, Notifier, build_notifier, delivery
from agent.store import open_store

NOW = datetime(2026, 11, 16, 0, 30)


def notifier_from(channel: str, spec: dict[str, Any], base: Path) -> Notifier:
    """The notifier a ``channels:`` entry of this shape gives."""
    return build_notifier(
        channel, NOTIFIERS[spec["type"]].spec_type.model_validate(spec), base_dir=base
    )


def main(url: str, channel: str, spec_json: str, base: str) -> None:
    store = open_store(url)
    notifier = notifier_from(channel, json.loads(spec_json), Path(base))
    record = delivery._finish

    def killed_before_recording(*args: Any, **kwargs: Any) -> None:
        if kwargs.get("status") == "sent":
            os.kill(os.getpid(), signal.SIGKILL)
        record(*args, **kwargs)

    delivery._finish = killed_before_recording  # type: ignore[assignment]
    delivery.deliver(store, {channel: notifier}, now=NOW)


if __name__ == "__main__":
    main(*sys.argv[1:5])
