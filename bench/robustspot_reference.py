"""The RobustSpot authors' code, called as the RiskLoc authors' ``run.py`` calls it.

Used by ``bench.rca_reference`` (see its docstring for how to run). The code is the
RobustSpot implementation kept in the RiskLoc authors' repository
(github.com/shaido987/riskloc, ``algorithms/robustspot/``, MIT licence), imported from the
same checkout as their RiskLoc (``CX_AGENT_RISKLOC_SRC``); it is not part of cx-agent.
It needs one package cx-agent does not: ``kneed`` (``pip install kneed``, pure Python,
on numpy and scipy), importable next to cx-agent's (e.g. through ``PYTHONPATH``).

Their ``run.py`` calls ``robustspot(df, attributes, derived=derived, k=3,
lambda_amplification=100, contribution_ability_threshold=0.0, confidence_threshold=0.8)``
with the DataFrame ``bench.rca_reference.authors_frame`` builds; the same defaults are
used here. Their ``run.py`` runs each case in a worker process; a case whose call raises
is dropped from their summary. Here such a case counts as an empty answer (its true
elements are missed) and is counted apart, so the F1 covers every case.
"""

from __future__ import annotations

import importlib
import sys
import warnings
from collections.abc import Iterable
from pathlib import Path
from types import ModuleType
from typing import Any

import pandas as pd

from bench.rca_synthetic import element_name

K = 3
"""Their ``run.py`` default: at most 3 root causes, each one or more elements."""


def load_authors_robustspot(source: Path) -> ModuleType:
    """The authors' ``algorithms.robustspot.robustspot`` module from the checkout at ``source``."""
    if not (source / "algorithms" / "robustspot" / "robustspot.py").is_file():
        raise SystemExit(f"{source} holds no algorithms/robustspot/robustspot.py")
    if str(source) not in sys.path:
        sys.path.insert(0, str(source))
    try:
        return importlib.import_module("algorithms.robustspot.robustspot")
    except ModuleNotFoundError as missing:
        raise SystemExit(
            f"The RobustSpot authors' code needs the package {missing.name!r}: "
            f"pip install {missing.name} (or put it on PYTHONPATH)."
        ) from missing


def robustspot_elements(root_causes: Iterable[Iterable[Iterable[tuple[str, Any]]]]) -> set[str]:
    """Element names of their answer: root causes, each a list of ``((dim, value), …)``."""
    return {
        element_name({d: str(v) for d, v in element})
        for root_cause in root_causes
        for element in root_cause
    }


def run_robustspot(
    module: ModuleType, frame: pd.DataFrame, dimensions: list[str], additive: bool
) -> set[str] | None:
    """Their answer on one case; ``None`` when their code raises.

    Their module keeps its state in globals and never sets ``derived_measure`` back to
    true after an additive case, so it is set to its import-time value first, as a fresh
    worker process of their ``run.py`` would have it. Warnings (kneed's "no knee found",
    pandas') are silenced so the table stays readable.
    """
    module.g_data.derived_measure = True
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            causes = module.robustspot(frame, dimensions, k=K, derived=not additive)
        except Exception:  # their run.py drops such a case; the caller counts it
            return None
    return robustspot_elements(causes)
