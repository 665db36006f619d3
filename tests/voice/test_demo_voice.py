"""The voice on the demo: nothing unmasked in any output, both languages, and `explain`
numbers equal to a query written by hand over the same rows."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import duckdb
import pytest

from tests.conftest import cx_agent
from tests.voice.conftest import END, PLANTED

ALERTED = "2026-10-27"
"""The day after the call-centre incident's onset (END - 25 days): its NPS alert."""

UNMASKED = {
    what: re.compile("[- ]?".join(re.escape(part) for part in re.split("[-]", value)))
    for what, value in PLANTED.items()
}
"""The planted values, with or without their dashes (or with spaces)."""
NPS = "sum(CASE WHEN score >= 9 THEN 100 WHEN score <= 6 THEN -100 ELSE 0 END)::DOUBLE / count(*)"


def outputs(folder: Path) -> dict[Path, str]:
    return {
        p: p.read_text(encoding="utf-8")
        for p in folder.rglob("*")
        if p.suffix in (".html", ".md", ".json", ".txt", ".csv")
    }


@pytest.fixture(scope="module")
def written(demo: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The reports, alert files and explain report of the NPS alert, in English and Korean."""
    homes = {}
    for locale in ("en", "ko"):
        home = tmp_path_factory.mktemp(f"voice-{locale}")
        text = (demo / "metrics.yaml").read_text(encoding="utf-8")
        (home / "metrics.yaml").write_text(text.replace("locale: en", f"locale: {locale}"))
        (home / "demo").symlink_to(demo / "demo")
        ran = cx_agent("run", "--once", "--as-of", ALERTED, "-m", "nps", cwd=home)
        assert ran.code == 2, ran.err
        asked = cx_agent("explain", "nps", "--segment", "channel=call_center", "--from",
                         "2026-10-26", "--to", str(END), cwd=home)  # fmt: skip
        assert asked.code == 0, asked.err
        homes[locale] = home
    return homes


def test_no_output_carries_unmasked_personal_data(written: dict[str, Path]) -> None:
    for locale, home in written.items():
        files = outputs(home / "reports")
        assert any("outbox" in p.parts for p in files) and any("explain" in p.parts for p in files)
        for path, text in files.items():
            for what, pattern in UNMASKED.items():
                assert not pattern.search(text), f"{locale}: unmasked {what} in {path}"
        report = files[home / "reports" / ALERTED / "nps.json"]
        labels = {"en": ("[phone]", "[e-mail]"), "ko": ("[전화번호]", "[이메일]")}[locale]
        assert all(label in report for label in labels)  # the verbatims were masked, not dropped


def test_the_alert_shows_themes_and_verbatims_in_each_language(written: dict[str, Path]) -> None:
    heading = {"en": "What customers say", "ko": "고객의 목소리"}
    for locale, home in written.items():
        alert = home / "reports" / ALERTED / "nps.md"
        explained = home.glob("reports/explain/*/*.md")
        for path in (alert, *home.glob("reports/outbox/*/*.txt"), *explained):
            text = path.read_text(encoding="utf-8")
            assert heading[locale] in text, path
            assert "“" in text and ("연결" in text or "대기" in text), path
        report = json.loads((home / "reports" / ALERTED / "nps.json").read_text())
        top = report["findings"][0]["causes"][0]
        assert top["segment"] == {"channel": "call_center"}
        assert top["themes"][0]["significant"] and len(top["verbatims"]) >= 3


def test_explain_numbers_equal_a_hand_written_query(demo: Path, tmp_path: Path) -> None:
    shutil.copy(demo / "metrics.yaml", tmp_path / "metrics.yaml")
    (tmp_path / "demo").symlink_to(demo / "demo")
    asked = cx_agent(
        "explain", "nps", "--segment", "region=Busan", "--from", "2026-11-01", "--to", "2026-11-20",
        cwd=tmp_path,
    )  # fmt: skip
    assert asked.code == 0, asked.err
    html = Path(asked.out.strip().splitlines()[-1])
    assert html.exists() and html.parent.parent.name == "explain"
    report = json.loads(html.with_suffix(".json").read_text(encoding="utf-8"))
    assert not (tmp_path / "reports" / "outbox").exists()  # nothing sent
    assert not (tmp_path / "reports" / "2026-11-20").exists()  # nor a run recorded
    finding = report["findings"][0]
    assert finding["kind"] == "window" and finding["segment"] == {"region": "Busan"}
    con = duckdb.connect(str(demo / "demo" / "warehouse.duckdb"), read_only=True)

    def nps(where: str, start: str, stop: str) -> float:
        sql = f"""SELECT {NPS} FROM customer_nps WHERE region = 'Busan' AND {where}
                  AND response_time >= '{start}' AND response_time < '{stop}'"""
        return float(con.sql(sql).fetchone()[0])

    assert report["value"] == pytest.approx(nps("true", "2026-11-01", "2026-11-21"), abs=1e-9)
    assert finding["expected"] == pytest.approx(nps("true", "2026-10-04", "2026-11-01"), abs=1e-9)
    assert finding["causes"]
    for cause in finding["causes"]:
        where = " AND ".join(f"{k} = '{v}'" for k, v in cause["segment"].items())
        assert cause["value_after"] == pytest.approx(nps(where, "2026-11-01", "2026-11-21"))
        assert cause["value_before"] == pytest.approx(nps(where, "2026-10-04", "2026-11-01"))
    comments = """SELECT count(*) FROM customer_nps WHERE region = 'Busan' AND trim(comment) <> ''
                  AND response_time >= '2026-11-01' AND response_time < '2026-11-21'"""
    assert finding["voice"]["comments"]["total_after"] == con.sql(comments).fetchone()[0]
