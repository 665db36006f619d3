"""jinja2 rendering (HTML autoescaped, Markdown escaped value by value), the JSON contract,
and atomic file writes.
"""

from __future__ import annotations

import dataclasses
import math
import os
import tempfile
from collections.abc import Mapping
from datetime import datetime
from enum import Enum
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import numpy as np
from jinja2 import Environment, FileSystemLoader, StrictUndefined, TemplateError, select_autoescape
from markupsafe import Markup

from agent.errors import ReportError
from agent.model import Cause, Explanation
from agent.report.charts import chart_window
from agent.report.checked import verdict
from agent.report.context import MESSAGES, Assets, build_context, run_headline
from agent.report.formatting import md_escape
from agent.report.parts import steps_view
from agent.report.wording import Wording
from agent.text import clean_text

if TYPE_CHECKING:
    from agent.report import ReportInput

__all__ = [
    "SCHEMA",
    "default_templates_dir",
    "json_contract",
    "render_html",
    "render_markdown",
    "render_template",
    "write_atomic",
]

SCHEMA = "cx-agent/report@1"
RECENT_PERIODS = 12
"""Periods of value and band the JSON carries for the index's sparkline."""

_PACKAGE_DIR = Path(__file__).resolve().parent.parent  # the ``agent`` package


def default_templates_dir() -> Path:
    """``agent/_templates`` in a wheel install, else the repository's ``templates/``."""
    packaged = _PACKAGE_DIR / "_templates"
    return packaged if packaged.is_dir() else _PACKAGE_DIR.parent / "templates"


@lru_cache(maxsize=8)
def _environment(templates_dir: Path, markdown: bool) -> Environment:
    """HTML: autoescape, and control characters dropped from every ``{{ }}``. Markdown: no
    HTML escaping, but every ``{{ }}`` goes through ``md_escape`` (``finalize``), so no
    data value can add markup, a raw tag or a control character."""
    env = Environment(
        loader=FileSystemLoader(templates_dir),
        autoescape=False if markdown else select_autoescape(("html", "html.j2"), default=True),
        finalize=md_escape if markdown else _shown,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["safe_url"] = safe_url
    return env


def _shown(value: object) -> object:
    """Every ``{{ }}`` of an HTML template without control characters (NUL, direction
    overrides); markup the template marked safe stays markup."""
    if isinstance(value, Markup):
        return Markup(clean_text(str(value), lines=True))
    return clean_text(value, lines=True) if isinstance(value, str) else value


def safe_url(url: str) -> str:
    """A link target that cannot end a Markdown link early: spaces, parentheses and angle
    brackets percent-encoded (existing escapes kept)."""
    return quote(url, safe=":/?#[]@!$&'*+,;=%~")


def render_template(
    name: str, context: Mapping[str, Any], *, templates_dir: Path | None = None
) -> str:
    """Render ``name`` from ``templates_dir``; Markdown rules for ``*.md.j2`` names."""
    folder = (templates_dir or default_templates_dir()).resolve()
    env = _environment(folder, markdown=name.endswith(".md.j2"))
    try:
        return env.get_template(name).render(context)
    except TemplateError as exc:
        raise ReportError(str(folder / name), f"template failed: {exc}") from exc


def render_html(inp: ReportInput, assets: Assets, *, templates_dir: Path | None = None) -> str:
    """The report page, showing the images and links of ``assets``."""
    return render_template(
        "report.html.j2", build_context(inp, assets), templates_dir=templates_dir
    )


def render_markdown(inp: ReportInput, assets: Assets, *, templates_dir: Path | None = None) -> str:
    return render_template("report.md.j2", build_context(inp, assets), templates_dir=templates_dir)


def _plain(value: Any) -> Any:
    """Enums -> their word, datetimes -> ISO text, NaN/inf -> null, numpy -> Python, text
    without control characters."""
    if isinstance(value, dict):
        return {key: _plain(val) for key, val in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(val) for val in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, str):
        return clean_text(value, lines=True)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _cause(c: Cause) -> dict[str, Any]:
    fields = dataclasses.asdict(c)
    del fields["moved"], fields["overlaps"]  # said of checked segments only
    return fields | {"contribution": c.contribution}


def _checked(c: Cause) -> dict[str, Any]:
    return dataclasses.asdict(c) | {"contribution": c.contribution, "verdict": verdict(c)}


def _voice(e: Explanation, segment: dict[str, str]) -> dict[str, Any]:
    """A cause's ``comments``, ``themes`` and (masked) ``verbatims``; empty without comments."""
    voice = next((v for v in e.voice if v.segment == segment), None)
    if voice is None:
        return {"comments": None, "themes": [], "verbatims": []}
    comments = {
        "before": voice.comments_before,
        "after": voice.comments_after,
        "total_before": voice.total_before,
        "total_after": voice.total_after,
    }
    return {
        "comments": comments,
        "themes": [dataclasses.asdict(t) for t in voice.themes],
        "verbatims": [dataclasses.asdict(q) for q in voice.verbatims],
    }


def _explanation(e: Explanation, words: Wording) -> dict[str, Any]:
    segment = e.finding.segment
    causes = [_cause(c) | _voice(e, {**segment, **c.segment}) for c in e.causes]
    return dataclasses.asdict(e.finding) | {
        "reason": words(e.finding.reason),
        "reason_code": dataclasses.asdict(e.finding.reason) if e.finding.reason else None,
        "causes": causes,
        "explained_share": e.explained_share,
        "episode": dataclasses.asdict(e.episode) if e.episode else None,
        "checked": list(e.checked),
        "ruled_out": [_checked(c) for c in e.ruled_out],
        "related": [dataclasses.asdict(r) for r in e.related],
        "events": [dataclasses.asdict(ev) for ev in e.events],
        "factors": [dataclasses.asdict(f) for f in e.factors],
        "exports": [dataclasses.asdict(x) for x in e.exports],
        "feedback_links": dict(e.feedback_links),
        "voice": _voice(e, segment) if any(v.segment == segment for v in e.voice) else None,
    }


def _recent(inp: ReportInput) -> list[dict[str, Any]]:
    """The last ``RECENT_PERIODS`` periods up to the report's: value, expected and band."""
    frame = chart_window(inp.history, inp.run.period).tail(RECENT_PERIODS)
    columns = ("value", "expected", "lower", "upper")
    return [
        {"period": period, **{c: float(row[c]) if c in row else None for c in columns}}
        for period, row in frame.iterrows()
    ]


def json_contract(inp: ReportInput) -> dict[str, Any]:
    """The JSON report: the machine contract other tools read (``schema`` cx-agent/report@1).

    Fields (JSON ``null`` wherever a number is missing, NaN or infinite):

    - ``schema``: ``"cx-agent/report@1"``; changes only when a field changes meaning.
    - ``metric``: the metric's key in ``metrics.yaml``; ``title``: its display name.
    - ``unit``: ``percent`` (values are shares: 0.312 = 31.2%), ``number``,
      ``currency`` or ``score``.
    - ``grain``: ``hour`` | ``day`` | ``week`` | ``month``: how long a period is.
    - ``period``: start of the evaluated period, ISO 8601 with its UTC offset.
    - ``value``: the metric's value for that period (``null`` when there is no data).
    - ``severity``: the highest finding severity, ``info`` | ``warning`` | ``critical``,
      or ``null`` when nothing was found.
    - ``findings``: one object per finding, in detection order:
        - ``metric``; ``segment``: ``{dimension: value}``, ``{}`` for the whole population;
        - ``kind``: ``threshold`` | ``anomaly`` | ``change_point`` | ``late_data`` (the
          period's data is missing or incomplete; ``value`` is its volume, ``expected``
          the usual volume) | ``recovered`` (an alerted episode is over);
        - ``period``, ``since`` (first period of the move): ISO 8601;
        - ``value``, ``expected``, ``lower``, ``upper``: the value, its baseline and band
          (for a change point: the level before the change);
        - ``direction``: ``up`` | ``down``; ``severity``; ``score``: the detector's
          strength of evidence; ``reason``: the detector's one-line why, in the report's
          language; ``reason_code``: the same as ``{code, params}`` (the catalog key and
          its values, for tools), or ``null``;
        - ``causes``: ranked segments explaining the change, each with ``segment``,
          ``share`` (fraction of the change it accounts for; may exceed 1),
          ``value_before``/``value_after``, ``size_before``/``size_after`` (denominator),
          ``rate_effect``, ``mix_effect`` and ``contribution`` (their sum, metric
          units), ``confidence`` (0–1); ``comments`` (``before``, ``after``: comments
          read per window; ``total_before``, ``total_after``: comments there were, or
          ``null`` when the metric has no voice), ``themes`` (``label``, ``terms`` each
          with ``term``, ``before``, ``after``, ``z``; ``before``/``after`` comments
          mentioning any term; ``z``; ``significant``) and ``verbatims`` (``theme``,
          ``text``, personal data masked);
        - ``explained_share``: fraction of the change all ``causes`` explain together;
        - ``episode``: the alert this finding belongs to: ``status`` (``new`` — alert
          now, ``ongoing`` — an update, ``recovered``), ``since``, ``last_seen``,
          ``periods`` (with findings so far), worst ``severity``, ``direction``.
        - ``checked``: the dimensions searched (alone and in combinations);
          ``ruled_out``: per dimension its strongest value that is not a cause (the
          fields of a cause, its ``confidence`` about what remains of its move once the
          causes are taken out), with ``moved`` (how unlikely its own move is by
          chance), ``overlaps`` (the causes sharing customers with it) and ``verdict``:
          ``explained`` (moved through the causes it overlaps), ``normal`` (within
          noise) or ``moved`` (moved, and the causes do not account for it);
        - ``related``: other metrics in the top causes' segments over the same windows
          (``metric``, ``title``, ``segment``, ``value_before``, ``value_after``, ``unit``);
        - ``events``: known events overlapping the onset (``name``, ``kind``, ``start``,
          ``end``, ``segment``, ``effect``);
        - ``factors``: for a product metric, each factor (``metric``, ``title``,
          ``value_before``, ``value_after``, ``share`` of the change in log terms,
          ``unit``), the one that moved most first; ``[]`` otherwise;
        - ``exports``: customer CSVs of the causes (``segment``, ``path`` relative to
          the reports directory, ``rows``, ``columns``);
        - ``feedback_links``: verdict (``true`` | ``false`` | ``expected``) → URL;
        - ``voice``: the ``comments``, ``themes`` and ``verbatims`` of the finding's own
          segment (as in a cause) when they were read (a finding without causes,
          ``cx-agent explain``), else ``null``.
    - ``notes``: data notes in the report's language (folded segments, holidays,
      immature periods…); ``note_codes``: the same as ``{code, params}``.
    - ``next_steps``: the playbook's steps for what was found (``text``, ``links``:
      ``[{title, href}]``), in the report's language; ``[]`` when nothing was found.
    - ``headline``: the one-sentence summary shown at the top of the report, in the
      report's language (``locale`` in metrics.yaml: ``en`` | ``ko``).
    - ``recent``: the last periods up to ``period`` (at most ``RECENT_PERIODS``), each
      with ``period``, ``value``, ``expected``, ``lower`` and ``upper``: what the
      index's status board draws.
    """
    run, words = inp.run, Wording(inp.locale, inp.unit, inp.grain)
    contract = {
        "schema": SCHEMA,
        "metric": run.metric,
        "title": run.title,
        "unit": inp.unit,
        "grain": inp.grain,
        "period": run.period,
        "value": run.value,
        "severity": run.severity,
        "findings": [_explanation(e, words) for e in run.explanations],
        "notes": [words(note) for note in run.notes],
        "note_codes": [dataclasses.asdict(note) for note in run.notes],
        "headline": run_headline(inp, MESSAGES[inp.locale]),
        "next_steps": steps_view(inp),
        "recent": _recent(inp),
    }
    result: dict[str, Any] = _plain(contract)
    return result


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` via a synced temp file and ``os.replace``: all or nothing."""
    tmp: str | None = None
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; reports are meant to be served and read
        os.replace(tmp, path)
    except OSError as exc:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
        raise ReportError(str(path), f"could not write: {exc.strerror or exc}") from exc
