"""Run metrics one after another so that one failure stays one failure.

A metric whose source fails (a table missing, a query the warehouse refuses, a report
that cannot be written) is a ``Failed`` with its reason, and the metrics after it run.
A warehouse that cannot be reached at all is one error, not one per metric: once a
metric fails for want of a connection and the warehouse does not answer a ping either,
the metrics left are not tried; they are ``Failed`` with that same reason, so that
``cx-agent status`` shows them failed too.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TypeVar

from agent.errors import AgentError, ReportError, SourceError
from agent.sources.base import Source

__all__ = ["Failed", "failure_lines", "run_each"]

T = TypeVar("T")


@dataclass(frozen=True)
class Failed:
    """A metric that did not run through, and why."""

    metric: str
    error: AgentError
    tried: bool = True
    """False: not tried, the warehouse being unreachable already."""

    @property
    def reason(self) -> str:
        """Why, as ``cx-agent status`` shows it."""
        if self.tried or not isinstance(self.error, SourceError):
            return str(self.error)
        return f"not run: {self.error.reason}"


def run_each(
    names: Iterable[str],
    attempt: Callable[[str], T],
    source: Source,
    on_failure: Callable[[Failed], None] = lambda failed: None,
) -> Iterator[T | Failed]:
    """``attempt(name)`` for each name, in order, as each finishes; a ``Failed`` (also
    handed to ``on_failure``) for a metric whose source or report failed."""
    down: SourceError | None = None
    for name in names:
        if down is not None:
            failed = Failed(name, down, tried=False)
        else:
            try:
                yield attempt(name)
                continue
            except (SourceError, ReportError) as exc:
                failed = Failed(name, exc)
                if isinstance(exc, SourceError) and exc.unreachable and not _answers(source):
                    down = exc
        on_failure(failed)
        yield failed


def _answers(source: Source) -> bool:
    """Whether the warehouse answers now (a connection that broke may be back)."""
    try:
        source.ping()
    except SourceError:
        return False
    return True


def failure_lines(failures: list[Failed], total: int, *, debug: bool = False) -> list[str]:
    """What failed and why, one line per metric tried, one for those not tried, and a
    count; with ``debug`` the SQL of each failed query too."""
    lines = []
    for f in failures:
        if f.tried:
            lines.append(f"{f.metric}: {f.error}")
            if debug and isinstance(f.error, SourceError):
                lines += f.error.debug_lines()
    skipped = [f.metric for f in failures if not f.tried]
    if skipped:
        lines.append(f"not run, as the warehouse cannot be reached: {', '.join(skipped)}")
    if failures:
        ran = total - len(failures)
        lines.append(
            f"{len(failures)} of {total} metrics failed; "
            + (f"the other {ran} ran and their results stand" if ran else "none ran")
        )
    return lines
