"""A store file that cannot be used is refused with its path, never re-created over.

A store truncated to 0 bytes used to be re-created silently: history and episodes gone,
every open alert announced again as new. A damaged or read-only one gave "internal
error" without saying which file.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from agent.store import open_store
from agent.store.runs import record_run
from tests.conftest import cx_agent
from tests.store.test_runs import HOW, _run
from tests.store.test_status_cli import CONFIG

RESTORE = "restore it from a backup, or move it away to start a new, empty store"


@pytest.fixture
def home(tmp_path: Path) -> Path:
    (tmp_path / "metrics.yaml").write_text(CONFIG)
    (tmp_path / "state").mkdir()
    return tmp_path


def _store(home: Path) -> Path:
    return home / "state" / "cx-agent.db"


def test_an_empty_store_is_refused_and_left_as_it_is(home: Path) -> None:
    _store(home).touch()
    for args in (("status",), ("run", "--once"), ("history", "visits")):
        result = cx_agent(*args, cwd=home)
        assert result.code == 4 and result.out == ""
        assert result.err == (
            f"store {_store(home)}: is empty (0 bytes): it was truncated, and a new store over "
            f"it would forget the history and announce every open alert again — {RESTORE}\n"
        )
    assert _store(home).stat().st_size == 0
    assert not (home / "reports").exists()


def test_a_damaged_store_is_refused_with_its_path(home: Path) -> None:
    _store(home).write_bytes(b"not a database " * 500)
    result = cx_agent("status", cwd=home)
    assert result.code == 4
    assert result.err == (
        f"store {_store(home)}: is damaged (file is not a database) — {RESTORE}\n"
    )


@pytest.fixture
def read_only(home: Path) -> Iterator[Path]:
    """A store with one run in it, which this process cannot write (root included)."""
    store = open_store("sqlite:///state/cx-agent.db", base_dir=home)
    record_run(store, _run(), HOW)
    store.close()
    path = _store(home)
    if os.geteuid() != 0:
        path.chmod(0o444)
        yield path
        path.chmod(0o644)
        return
    if shutil.which("chattr") is None:
        pytest.skip("root ignores file modes and there is no chattr to make a file immutable")
    if subprocess.run(["chattr", "+i", str(path)], capture_output=True).returncode:
        pytest.skip(f"{path.parent} is on a file system without immutable files")
    yield path
    subprocess.run(["chattr", "-i", str(path)], check=True)


def test_a_read_only_store_is_read_and_a_write_says_which_file(home: Path, read_only: Path) -> None:
    status = cx_agent("status", cwd=home)
    silence = cx_agent("silence", "visits", "--for", "1h", "--reason", "release", cwd=home)

    assert status.code == 0, status.err
    assert status.out.splitlines()[1].split()[:3] == ["conversion", "2026-11-20", "findings"]
    assert silence.code == 4
    assert silence.err == (
        f"store {read_only}: cannot be written (attempt to write a readonly database) — let "
        "the user running cx-agent write the file and its folder (SQLite keeps a -wal and a "
        "-shm file beside it)\n"
    )
