"""The one exception tree of cx-agent, and the exit codes the CLI maps it to.

::

    AgentError
      ConfigError      (problems: list[Problem])          -> exit 3
      SourceError      (metric, source, sql_head)         -> exit 4; other metrics go on
      ReportError      (path, reason)                     -> exit 4

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
    """The warehouse refused or failed a metric's query."""

    def __init__(self, metric: str, source: str, sql_head: str, reason: str) -> None:
        self.metric, self.source, self.sql_head, self.reason = metric, source, sql_head, reason
        super().__init__(f"{metric}: source {source!r} failed: {reason} (query starts: {sql_head})")


class ReportError(AgentError):
    """A report could not be written (template missing, directory not writable)."""

    def __init__(self, path: str, reason: str) -> None:
        self.path, self.reason = path, reason
        super().__init__(f"{path}: {reason}")
