"""Feedback links: an unguessable token per verdict, served on localhost by a small endpoint."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from agent.feedback import FeedbackSpec, false_alarms, feedback_links, start_feedback_server
from agent.feedback.links import token
from agent.store import Store, open_store
from tests.insight.test_feedback import METRIC, add_episode

SECRET = "s3cret-for-tests-only-0123456789"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_no_links_unless_served_and_a_short_secret_is_refused() -> None:
    assert feedback_links(FeedbackSpec(), "m||2026-01-01T00:00:00") == {}
    with pytest.raises(ValueError, match="at least 16 characters"):
        FeedbackSpec(serve=True, secret="short")


def test_each_label_gets_its_own_token() -> None:
    spec = FeedbackSpec(serve=True, secret=SECRET, base_url="https://cx.example.com/agent/")
    links = feedback_links(spec, "nps|channel=call_center|2026-10-26T00:00:00")
    assert list(links) == ["true", "false", "expected"]
    query = parse_qs(urlsplit(links["false"]).query)
    assert links["false"].startswith("https://cx.example.com/agent/feedback?")
    assert query["episode"] == ["nps|channel=call_center|2026-10-26T00:00:00"]
    assert query["token"] == [token(SECRET, query["episode"][0], "false")]
    assert query["token"] != parse_qs(urlsplit(links["true"]).query)["token"]


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[FeedbackSpec, Store]]:
    store = open_store("sqlite:///state.db", base_dir=tmp_path)
    spec = FeedbackSpec(serve=True, secret=SECRET, port=free_port())
    server = start_feedback_server(spec, store)
    yield spec, store
    server.shutdown()
    store.close()


def test_opening_a_link_records_nothing_and_sending_its_form_records_the_verdict(
    served: tuple[FeedbackSpec, Store],
) -> None:
    spec, store = served
    ep = add_episode(store, datetime(2026, 2, 2), 1300, 1000)
    link = feedback_links(spec, ep)["false"]
    page = httpx.get(link)
    assert page.status_code == 200 and "Mark this alert false?" in page.text
    assert false_alarms(store, METRIC) == []  # a mail scanner opening the link changes nothing

    form = {k: v[0] for k, v in parse_qs(urlsplit(link).query).items()} | {"note": "promo"}
    done = httpx.post(f"{spec.url}/feedback", data=form)
    assert done.status_code == 200 and "recorded" in done.text
    assert [a.episode_id for a in false_alarms(store, METRIC)] == [ep]


def test_a_forged_or_reused_token_is_refused(served: tuple[FeedbackSpec, Store]) -> None:
    spec, store = served
    ep = add_episode(store, datetime(2026, 2, 2), 1300, 1000)
    links = feedback_links(spec, ep)
    true_token = parse_qs(urlsplit(links["true"]).query)["token"][0]
    forged = {"episode": ep, "label": "false", "token": true_token}
    assert httpx.post(f"{spec.url}/feedback", data=forged).status_code == 403
    assert httpx.get(f"{spec.url}/feedback?episode={ep}&label=false&token=0").status_code == 403
    assert false_alarms(store, METRIC) == []
