"""The README's promises stay true: CI runs its test command verbatim."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def readme_commands() -> list[str]:
    text = (REPO / "README.md").read_text()
    return re.findall(r"```bash\n(.+?)\n```", text)


def test_ci_runs_exactly_the_readme_test_command() -> None:
    demo, tests = readme_commands()[:2]
    assert demo.endswith("cx-agent demo")
    assert tests.endswith("python -m pytest")
    ci_lines = (REPO / ".ci" / "run").read_text().splitlines()
    assert tests in ci_lines


def test_public_api_is_pinned() -> None:
    import agent

    assert agent.__all__ == ["Cause", "Finding", "__version__", "load_config", "run_metric"]
    assert callable(agent.run_metric) and callable(agent.load_config)
