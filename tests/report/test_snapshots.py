"""Golden files: the Markdown and the JSON of one fixed, fully specified finding, exactly.

A change to the wording, the numbers' formatting or the JSON contract shows here as a
diff of ``__snapshots__/test_snapshots/*``. When the change is meant, review the diff and
rewrite the files with ``pytest tests/report/test_snapshots.py --snapshot-update``.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest
from syrupy.assertion import SnapshotAssertion
from syrupy.extensions.single_file import SingleFileSnapshotExtension, WriteMode

from agent.model import (
    Cause,
    CustomerExport,
    Direction,
    Episode,
    EpisodeStatus,
    Explanation,
    Finding,
    FindingKind,
    KnownEvent,
    Note,
    Related,
    RunResult,
    Severity,
)
from agent.report import PlaybookEntry, ReportFiles, ReportInput, write_reports

SEOUL = ZoneInfo("Asia/Seoul")
PERIOD = datetime(2026, 11, 18, tzinfo=SEOUL)
SINCE = datetime(2026, 11, 12, tzinfo=SEOUL)
TITLES = {"en": "Revisit rate", "ko": "재방문율"}


class MarkdownFile(SingleFileSnapshotExtension):
    _write_mode = WriteMode.TEXT
    file_extension = "md"


class JsonFile(SingleFileSnapshotExtension):
    _write_mode = WriteMode.TEXT
    file_extension = "json"


def _cause(segment: dict[str, str], share: float, before: float, after: float) -> Cause:
    """A cause of 12,000 → 12,500 customers whose rate effect is -0.03, mix effect -0.002."""
    return Cause(
        segment=segment,
        share=share,
        value_before=before,
        value_after=after,
        size_before=12000.0,
        size_after=12500.0,
        rate_effect=-0.03,
        mix_effect=-0.002,
        confidence=0.97,
    )


def _explanation() -> Explanation:
    finding = Finding(
        metric="revisit_rate",
        segment={},
        kind=FindingKind.CHANGE_POINT,
        period=PERIOD,
        value=0.312,
        expected=0.353,
        lower=0.333,
        upper=0.373,
        direction=Direction.DOWN,
        severity=Severity.CRITICAL,
        score=5.5,
        since=SINCE,
        reason=Note(
            "reason_change_point_down",
            {"before": 0.353, "after": 0.312, "since": SINCE, "sigma": 5.5},
        ),
    )
    episode = Episode(
        metric="revisit_rate",
        segment={},
        status=EpisodeStatus.ONGOING,
        since=SINCE,
        last_seen=PERIOD,
        periods=7,
        severity=Severity.CRITICAL,
        direction=Direction.DOWN,
        id="revisit_rate#2",
        segments=({},),
        first_seen=SINCE,
    )
    android = {"channel": "app", "device": "android"}
    return Explanation(
        finding=finding,
        causes=[_cause(android, 0.78, 0.36, 0.29), _cause({"region": "Busan"}, 0.12, 0.34, 0.3)],
        explained_share=0.9,
        episode=episode,
        checked=["device", "channel", "region"],
        ruled_out=[
            replace(
                _cause({"device": "android"}, 0.7, 0.36, 0.3),
                confidence=0.1,
                moved=1.0,
                overlaps=[android],
            ),
            replace(
                _cause({"tier": "silver"}, 0.3, 0.35, 0.33),
                confidence=0.99,
                moved=0.999,
                overlaps=[android],
            ),
            replace(_cause({"region": "Seoul"}, 0.02, 0.35, 0.349), confidence=0.3, moved=0.4),
        ],  # explained by the android cause, moved beyond it, within noise
        related=[Related("conversion", "Conversion", android, 0.041, 0.033, "percent")],
        events=[
            KnownEvent(
                name="Android app 5.2",
                kind="release",
                start=SINCE,
                end=SINCE,
                segment={"device": "android"},
                effect="up",
            )
        ],
        exports=[
            CustomerExport(
                segment=android,
                path="2026-11-18/revisit_rate-channel=app&device=android.csv",
                rows=1234,
                columns=["customer_id", "tier", "last_seen"],
            )
        ],
        feedback_links={
            "false": "http://127.0.0.1:8765/feedback?t=tok&label=false",
            "true": "http://127.0.0.1:8765/feedback?t=tok&label=true",
            "expected": "http://127.0.0.1:8765/feedback?t=tok&label=expected",
        },
    )


PLAYBOOK = [
    PlaybookEntry.model_validate(
        {
            "when": {"dimension": "device"},
            "text": "Ask the {{ cause.dims.device }} app team about {{ cause.segment }} "
            "({{ cause.share }} of the change, {{ cause.before }} → {{ cause.after }}).",
            "links": [{"title": "Release notes", "url": "https://example.com/releases"}],
        }
    ),
    PlaybookEntry.model_validate({"text": "{{ metric.title }} is at {{ finding.value }}."}),
]


def _input(locale: str) -> ReportInput:
    index = pd.date_range(end=PERIOD, periods=30, freq="D")
    value = np.where(index >= SINCE, 0.312, 0.353)
    expected = np.full(len(index), 0.353)
    history = pd.DataFrame(
        {"value": value, "expected": expected, "lower": expected - 0.02, "upper": expected + 0.02},
        index=index,
    )
    run = RunResult(
        metric="revisit_rate",
        title=TITLES[locale],
        period=PERIOD,
        value=0.312,
        explanations=[_explanation()],
        notes=[
            Note("note_folded", {"dimension": "device", "other": "(other)"}),
            Note("note_holidays", {"count": 3, "country": "KR"}),
        ],
    )
    return ReportInput(
        run=run,
        history=history,
        unit="percent",
        good="up",
        grain="day",
        dimensions=["channel", "device", "region"],
        locale=locale,  # type: ignore[arg-type]
        playbook=PLAYBOOK,
    )


@pytest.fixture(scope="module", params=["en", "ko"])
def files(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> ReportFiles:
    reports = tmp_path_factory.mktemp(f"golden-{request.param}")
    return write_reports(_input(request.param), reports)


def test_markdown_matches_the_golden_file(files: ReportFiles, snapshot: SnapshotAssertion) -> None:
    assert files.md.read_text(encoding="utf-8") == snapshot(extension_class=MarkdownFile)


def test_json_matches_the_golden_file(files: ReportFiles, snapshot: SnapshotAssertion) -> None:
    assert files.json.read_text(encoding="utf-8") == snapshot(extension_class=JsonFile)
