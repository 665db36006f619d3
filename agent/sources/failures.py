"""What a warehouse's error means, in a user's words.

Drivers word their errors for database administrators ("connection failed: connection
to server at "10.0.0.5", port 5432 failed: Connection refused", "relation "web_sesions"
does not exist", "Catalog Error: Table with name …"). These functions read them, on
every engine cx-agent speaks, into what a CX analyst can act on: "could not reach the
warehouse at 10.0.0.5:5432 (connection refused)", "table web_sesions not found". They
only read text and exception types: looking up what the user may have meant is left
to the source, which can ask the warehouse.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable

__all__ = [
    "connect_reason",
    "did_you_mean",
    "first_line",
    "lost_connection",
    "missing_column",
    "missing_table",
]

_WHY = (  # (pattern in the driver's message, what it means), first match wins
    (r"connection refused", "connection refused"),
    (r"timeout expired|timed out|timeout", "timed out"),
    (
        r"name or service not known|could not translate host name|failed to resolve host"
        r"|nodename nor servname|no address associated",
        "unknown host",
    ),
    (r"no route to host|network is unreachable", "no route to the host"),
    (r"connection reset|broken pipe", "the connection was reset"),
)
_LOGIN = re.compile(
    r"password authentication failed for user \"?([^\"\s]+)\"?|role \"([^\"]+)\" does not exist"
    r"|authentication failed|access denied|invalid (?:username|password|credentials)",
    re.IGNORECASE,
)
_NO_DATABASE = re.compile(r"database \"([^\"]+)\" does not exist", re.IGNORECASE)
_LOST = re.compile(
    r"terminating connection|server closed the connection|connection is closed"
    r"|connection (?:was )?(?:lost|reset|aborted)|broken pipe|connection refused",
    re.IGNORECASE,
)
_TABLE = (
    re.compile(r"relation \"([^\"]+)\" does not exist"),  # PostgreSQL
    re.compile(r"Table with name \"?([^\"!\s]+)\"? does not exist"),  # DuckDB
    re.compile(r"TABLE_OR_VIEW_NOT_FOUND\].*?`?([\w.`]+)`? cannot be found"),  # Spark
    re.compile(r"Table '([^']+)' does not exist"),  # Trino
    re.compile(r"Object '([^']+)' does not exist"),  # Snowflake
    re.compile(r"Not found: Table ([\w.:-]+)"),  # BigQuery
)
_COLUMN = (
    re.compile(r"column \"([^\"]+)\" does not exist"),  # PostgreSQL
    re.compile(r"Referenced column \"([^\"]+)\" not found"),  # DuckDB
    re.compile(r"UNRESOLVED_COLUMN.*?`([^`]+)`"),  # Spark
    re.compile(r"Column '([^']+)' cannot be resolved"),  # Trino
    re.compile(r"invalid identifier '([^']+)'"),  # Snowflake
    re.compile(r"Unrecognized name: (\w+)"),  # BigQuery
    re.compile(r"Column '([^']+)' is not found in table"),  # Ibis, building the query
)


def first_line(exc: BaseException) -> str:
    """The driver's message, first line only: later lines quote the SQL."""
    text = str(exc).strip()
    line = text.splitlines()[0].strip() if text else type(exc).__name__
    return re.sub(r"^(?:\w+ )?Error: ", "", line)


def connect_reason(exc: BaseException, address: str) -> str:
    """Why the warehouse at ``address`` could not be opened, as one sentence."""
    text = str(exc)
    if match := _NO_DATABASE.search(text):
        return f"the warehouse at {address} has no database {match.group(1)}"
    if match := _LOGIN.search(text):
        user = match.group(1) or match.group(2)
        who = f" of user {user}" if user else ""
        return f"the warehouse at {address} refused the login{who} (check user and password)"
    lowered = text.lower()
    why = next((meaning for pattern, meaning in _WHY if re.search(pattern, lowered)), None)
    if why is None:
        why = _without_prefix(first_line(exc))
    return f"could not reach the warehouse at {address} ({why})"


def _without_prefix(line: str) -> str:
    """psycopg's 'connection failed: connection to server at "h", port p failed: FATAL: …'
    says host and port again; the address is given already."""
    line = re.sub(r"^connection failed: ", "", line)
    line = re.sub(r"^connection to server at [^:]*failed: ", "", line)
    return re.sub(r"^FATAL:\s+", "", line).strip()


def lost_connection(exc: BaseException) -> bool:
    """Whether ``exc`` says the connection itself broke (server stopped, network down)
    rather than that this one query was refused."""
    if isinstance(exc, ConnectionError):
        return True
    state = str(getattr(exc, "sqlstate", "") or "")
    if state.startswith(("08", "57P0")):  # connection exception, operator intervention
        return True
    return bool(_LOST.search(str(exc)))


def missing_table(exc: BaseException) -> str | None:
    """The table the warehouse says does not exist, if that is what ``exc`` says."""
    return _search(_TABLE, str(exc))


def missing_column(exc: BaseException) -> str | None:
    """The column the warehouse says does not exist, if that is what ``exc`` says."""
    return _search(_COLUMN, str(exc))


def _search(patterns: Iterable[re.Pattern[str]], text: str) -> str | None:
    for pattern in patterns:
        if match := pattern.search(text):
            return match.group(1).strip("`")
    return None


def did_you_mean(name: str, known: Iterable[str]) -> str:
    """`` — did you mean X?`` when a known name is close to ``name`` (else empty)."""
    close = difflib.get_close_matches(name.rpartition(".")[2], list(known), n=1)
    return f" — did you mean {close[0]}?" if close else ""
