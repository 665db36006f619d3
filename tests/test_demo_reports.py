"""Every report the demo writes, read as a CX manager would: the same dates for the same
thing wherever they appear (headline, facts, Markdown, the alert sent, the index) and no
checked segment called normal when it plainly moved; in English (the demo's replay) and
Korean (a run of every metric on the demo's warehouse with ``locale: ko``)."""

from __future__ import annotations

import html
import json
import re
from datetime import date, datetime
from pathlib import Path

import pytest

from agent.report.checked import BEYOND_NOISE
from agent.report.messages import MESSAGES
from tests.conftest import DEMO_END, Result, cx_agent

_SKIP = ("recovered", "late_data")
"""Findings whose headline tells a recovery or missing data, not when a change began."""
_DATE = {
    "en": re.compile(r"([A-Z][a-z]{2}) (\d{1,2}), (\d{4})"),
    "ko": re.compile(r"(\d{4})년 (\d{1,2})월 (\d{1,2})일"),
}
_DAY = {
    "en": re.compile(r"([A-Z][a-z]{2}) (\d{1,2})"),
    "ko": re.compile(r"(\d{1,2})월 (\d{1,2})일"),
}
_MONTHS = MESSAGES["en"]["months"].split()


def _date(text: str, lang: str) -> date:
    """The one full date in ``text`` ("the week of Oct 19, 2026", "2026년 10월 19일 주")."""
    [found] = _DATE[lang].findall(text)
    if lang == "en":
        month, day, year = found
        return date(int(year), _MONTHS.index(month) + 1, int(day))
    year, month, day = found
    return date(int(year), int(month), int(day))


_OPENED = {"en": "open since", "ko": "알림 시작:"}
"""What precedes when the alert opened in a recovery's headline."""


def _month_day(text: str, lang: str, after: str | None = None) -> tuple[int, int]:
    """The month and day after ``after`` (by default "the change began") in a headline,
    which gives no year."""
    after = after or MESSAGES[lang]["began"].split("{")[0]
    found = _DAY[lang].search(text.split(after, 1)[1])
    assert found, text
    if lang == "en":
        return _MONTHS.index(found[1]) + 1, int(found[2])
    return int(found[1]), int(found[2])


def _day(iso: str) -> date:
    return datetime.fromisoformat(iso).date()


def _text(fragment: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", fragment)).strip()


def _html_findings(page: str) -> list[tuple[str, dict[str, str]]]:
    """Each finding of an HTML report: its headline and its facts (label → text)."""
    found = []
    for part in page.split('<table class="facts">')[1:]:
        table = part.split("</table>", 1)[0]
        rows = re.findall(r"<tr><th[^>]*>(.*?)</th><td>(.*?)</td></tr>", table, re.S)
        found.append({_text(k): _text(v) for k, v in rows})
    heads = re.findall(r'</h2>\n<p>(.*?)</p>\n<table class="facts">', page, re.S)
    assert len(heads) == len(found)
    return list(zip([_text(h) for h in heads], found, strict=True))


def _md_facts(md: str, label: str) -> list[str]:
    return re.findall(rf"^\| {re.escape(label)} \| (.*) \|$", md, re.M)


def _check_report(path: Path, lang: str) -> dict[str, date | None]:
    """Checks one report's dates agree with its JSON everywhere it gives them; returns the
    headline finding's (``began``, ``opened``)."""
    msg = MESSAGES[lang]
    data = json.loads(path.read_text(encoding="utf-8"))
    page = path.with_suffix(".html").read_text(encoding="utf-8")
    md = path.with_suffix(".md").read_text(encoding="utf-8")
    headline = _text(re.search(r'<p class="headline">(.*?)</p>', page, re.S)[1])  # type: ignore[index]
    assert headline == data["headline"]
    shown = _html_findings(page)
    assert len(shown) == len(data["findings"]), path
    began_md, alert_md = _md_facts(md, msg["change_began"]), _md_facts(md, msg["episode"])
    top: dict[str, date | None] = {"began": None, "opened": None}
    alerts = iter(alert_md)
    for f, (said, facts), in_md in zip(data["findings"], shown, began_md, strict=True):
        began = _day(f["since"])
        assert _date(facts[msg["change_began"]], lang) == began, (path, facts)
        assert _date(in_md, lang) == began, path
        opened = None
        if f["episode"]:
            ep = f["episode"]
            opened = _day(ep.get("first_seen") or ep["since"])
            alert = facts[msg["episode"]].split(" · ")[0]  # before the previous report's link
            assert _date(alert, lang) == opened, (path, alert)
            assert _date(next(alerts), lang) == opened, path
        if f["kind"] not in _SKIP:
            assert _month_day(said, lang) == (began.month, began.day), (path, said)
        if said == headline and top["began"] is None:
            top = {"began": began, "opened": opened}
    return top


def _check_outbox(reports: Path, lang: str) -> int:
    """Each alert sent names the two dates as the report of its period does; how many."""
    msg, sent = MESSAGES[lang], 0
    for path in sorted((reports / "outbox").glob("*/*.json")):
        for alert in json.loads(path.read_text(encoding="utf-8"))["alerts"]:
            report = json.loads(_report_of(reports, alert).read_text())
            fields = {x["label"]: x["value"] for x in alert["fields"]}
            findings = [f for f in report["findings"] if f["segment"] == alert["segment"]]
            began = _date(fields[msg["change_began"]], lang)
            opened = _date(fields[msg["alert_open"]], lang)
            assert any(_day(f["since"]) == began for f in findings), (path, fields)
            episodes = [f["episode"] for f in findings if f["episode"]]
            assert any(_day(e.get("first_seen") or e["since"]) == opened for e in episodes)
            said = alert["summary"]
            if alert["decision"] == "resolved":
                assert _month_day(said, lang, _OPENED[lang]) == (opened.month, opened.day)
            else:
                assert _month_day(said, lang) == (began.month, began.day), said
            sent += 1
    return sent


def _report_of(reports: Path, alert: dict) -> Path:  # type: ignore[type-arg]
    """The report of an alert's period: in its day's folder, or its hour's (hourly metrics)."""
    period, name = datetime.fromisoformat(alert["period"]), f"{alert['metric']}.json"
    hourly = reports / f"{period:%Y-%m-%dT%H}" / name
    return hourly if hourly.exists() else reports / str(period.date()) / name


def _alerting(path: Path) -> bool:
    return any(
        f["kind"] != "late_data" and (f["episode"] or {}).get("status") in ("new", "ongoing")
        for f in json.loads(path.read_text(encoding="utf-8"))["findings"]
    )


def _check_index(reports: Path, lang: str, tops: dict[Path, dict[str, date | None]]) -> None:
    """The board's row of each metric gives its latest report's dates; every run's row
    its report's headline."""
    page = (reports / "index.html").read_text(encoding="utf-8")
    board = page.split('<table class="board', 1)[1].split("</table>", 1)[0]
    row_re = r'<tr class="metric-state state-(\w+)" data-metric="([^"]+)">(.*?)</tr>'
    rows = re.findall(row_re, board, re.S)
    assert rows
    for state, metric, row in rows:
        # the latest report of the metric that shows an open alert (an alert stays open
        # through periods without a finding until it recovers)
        top = next(
            tops[p] for p in sorted(reports.glob(f"*/{metric}.json"), reverse=True)
            if state != "alert" or _alerting(p)
        )  # fmt: skip
        cells = dict(re.findall(r'<td class="(opened|began)"[^>]*>(.*?)</td>', row, re.S))
        for key, cell in cells.items():
            got = _date(_text(cell), lang) if _text(cell) else None
            assert got == (top[key] if state == "alert" else None), (metric, key, cells)
    runs = re.findall(r'<td class="headline-cell">(.*?)</td>', page, re.S)
    headlines = [json.loads(p.read_text())["headline"] for p in tops]
    assert sorted(_text(r) for r in runs) == sorted(headlines)


def _check_all(reports: Path, lang: str) -> int:
    tops = {p: _check_report(p, lang) for p in sorted(reports.glob("20*/*.json"))}
    assert tops
    _check_index(reports, lang, tops)
    return _check_outbox(reports, lang)


@pytest.fixture(scope="module")
def korean(demo: tuple[Path, Result], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every metric run once on the demo's last day with ``locale: ko``."""
    home = tmp_path_factory.mktemp("demo-ko")
    text = (demo[0] / "metrics.yaml").read_text(encoding="utf-8")
    (home / "metrics.yaml").write_text(text.replace("locale: en", "locale: ko"))
    (home / "demo").symlink_to(demo[0] / "demo")
    ran = cx_agent("run", "--once", "--as-of", DEMO_END, cwd=home)
    assert ran.code in (0, 1, 2), ran.err
    return home / "reports"


def test_every_demo_report_gives_the_same_dates_for_the_same_thing(
    demo: tuple[Path, Result],
) -> None:
    assert _check_all(demo[0] / "reports", "en") >= 4  # an alert per planted incident


def test_a_korean_run_gives_the_same_dates_for_the_same_thing(korean: Path) -> None:
    assert _check_all(korean, "ko") >= 1  # the NPS alert and the revisit rate alert


def test_no_checked_segment_is_called_normal_when_it_moved(demo: tuple[Path, Result]) -> None:
    reports = demo[0] / "reports"
    verdicts = []
    for path in sorted(reports.glob("20*/*.json")):
        page = path.with_suffix(".html").read_text(encoding="utf-8")
        assert "ruled out" not in page.lower(), path
        for f in json.loads(path.read_text())["findings"]:
            for c in f["ruled_out"]:
                verdicts.append(c["verdict"])
                if c["verdict"] == "normal":
                    assert c["moved"] < BEYOND_NOISE, (path, c["segment"])
                if c["verdict"] == "explained":
                    assert c["moved"] >= BEYOND_NOISE and c["overlaps"], (path, c["segment"])
    assert {"normal", "explained"} <= set(verdicts)
