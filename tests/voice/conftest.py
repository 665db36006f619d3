"""A demo warehouse whose call-centre comments carry personal data, and its metrics.yaml."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import duckdb
import pytest

from agent.sources.demo import generate, write_ground_truth
from tests.conftest import REPO

END = date(2026, 11, 20)
PLANTED = {
    "phone": "010-2345-6789",
    "e-mail": "kim.cx@example.com",
    "registration number": "900101-1234567",
    "card number": "1234-5678-9012-3456",
}
"""Planted into comments: a phone number, an e-mail, a registration and a card number."""
PII = " 연락처 {phone}, 메일 {e-mail}, 주민번호 {registration number}, 카드 {card number}"


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The repository's metrics.yaml over a 20,000-customer demo warehouse where every
    call-centre comment since the incident, and one in five before, gives contact data."""
    home = tmp_path_factory.mktemp("voice-demo")
    shutil.copy(REPO / "metrics.yaml", home / "metrics.yaml")
    (home / "demo").mkdir()
    warehouse = home / "demo" / "warehouse.duckdb"
    incidents = generate(warehouse, end=END, customers=20_000)
    write_ground_truth(incidents, home / "demo" / "incidents.json")
    onset = next(i.onset for i in incidents if i.metric == "nps")
    with duckdb.connect(str(warehouse)) as con:
        con.execute(
            "UPDATE nps_responses SET comment = comment || ? WHERE comment IS NOT NULL "
            "AND channel = 'call_center' AND (response_time >= ? OR response_id % 5 = 0)",
            [PII.format_map(PLANTED), onset],
        )
    return home
