"""The one exception tree of cx-agent, and the exit codes the CLI maps it to.

::

    AgentError
      ConfigError      (problems: list[Problem])          -> exit 3
      SourceError      (doing, reason, sql, unreachable)  -> exit 4; other metrics go on
      ReportError      (path, reason)                     -> exit 4
      StoreError       (path, reason)                     -> exit 4; nothing is re-created
      NotifyError      (channel, reason, retryable)       agent.notify: the outbox retries
      AlreadyServing   (where, holder)                    agent.schedule.lock
      UnknownEpisode   (episode id)                       agent.feedback: no such episode
      FragmentError    (message, hint)                    agent.sources.fragments: SQL refused

``tests/test_public_api.py`` checks that every public exception class joins the tree.

Only ``agent.cli`` catches ``AgentError``; library code raises and never exits.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

__all__ = [
    "AgentError",
    "ConfigError",
    "ExitCode",
    "Problem",
    "ReportError",
    "SourceError",
    "StoreError",
]


class ExitCode(IntEnum):
    OK = 0
    WARNING = 1
    CRITICAL = 2
    CONFIG_ERROR = 3
    RUNTIME_ERROR = 4


class AgentError(Exception):
    """Base of every error cx-agent raises on purpose."""

    exit_code: ExitCode = ExitCode.RUNTIME_ERROR

    def lines(self) -> list[str]:
        """The one-line messages a user sees, one per problem."""
        return [str(self)]


@dataclass(frozen=True)
class Problem:
    """One thing wrong in a config file: where, for which metric, what, and the fix."""

    file: str
    line: int | None
    metric: str | None
    message: str
    hint: str | None = None

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        who = f" {self.metric}:" if self.metric else ""
        fix = f" — {self.hint}" if self.hint else ""
        return f"{where}:{who} {self.message}{fix}"


class ConfigError(AgentError):
    """metrics.yaml (or a value it points at) is wrong; nothing has run."""

    exit_code = ExitCode.CONFIG_ERROR

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))

    @classmethod
    def setting(cls, message: str, hint: str, file: str = "metrics.yaml") -> ConfigError:
        """One problem with a file-wide setting (``warehouse:``, ``store:``…), no metric."""
        return cls([Problem(file, None, None, message, hint)])

    def lines(self) -> list[str]:
        return [str(p) for p in self.problems]


class SourceError(AgentError):
    """The warehouse refused or failed a query, or could not be reached.

    The message says, in a user's words, what cx-agent was doing (``doing``: "finding
    the newest data of source 'nps'") and what went wrong (``reason``); the SQL it ran
    is kept apart (``sql``) and shown only with ``--debug``. ``unreachable``: no query
    can run at all (the connection failed or was lost), not only this one.
    """

    def __init__(self, doing: str, reason: str, sql: str = "", *, unreachable: bool = False):
        self.doing, self.reason, self.sql, self.unreachable = doing, reason, sql, unreachable
        super().__init__(f"while {doing}: {reason}")

    def debug_lines(self) -> list[str]:
        """The SQL behind the error, for ``--debug``."""
        return [f"  the query was: {' '.join(self.sql.split())}"] if self.sql.strip() else []


class ReportError(AgentError):
    """A report could not be written (template missing, directory not writable)."""

    def __init__(self, path: str, reason: str) -> None:
        self.path, self.reason = path, reason
        super().__init__(f"{path}: {reason}")


class StoreError(AgentError):
    """The state store cannot be used as it is (empty, damaged, read-only): it is never
    re-created over, since it holds the history and which alerts were already sent."""

    def __init__(self, path: str, reason: str) -> None:
        self.path, self.reason = path, reason
        super().__init__(f"store {path}: {reason}")
