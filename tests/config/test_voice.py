"""metrics.yaml `text:`, `voice:` and `mask:`: short forms, and mistakes at their lines."""

from __future__ import annotations

from pathlib import Path

from agent.config import load_config

from .test_load import problems, write

VOICE = """\
version: 1
warehouse: duckdb:///w.duckdb
mask: ['ORD-\\d{8}']
sources:
  nps: {table: nps, time: response_time, text: comment}
  tickets: {table: tickets, time: created_at, text: subject}
  visits: {table: events, time: event_time}
metrics:
  nps:
    title: NPS
    source: nps
    kind: ratio
    numerator: score
    denominator: "1"
  contacts:
    title: Contacts
    source: visits
    kind: count
    voice: tickets
  quiet:
    title: NPS without comments
    source: nps
    kind: count
    voice: {enabled: false}
  themes_only:
    title: NPS themes
    source: nps
    kind: count
    voice: {verbatims: false, sample: 2000}
"""


def test_voice_short_forms_and_defaults(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, VOICE))
    nps, contacts, quiet, themes = (config.metrics[m].voice for m in config.metrics)
    assert (nps.source, nps.verbatims, nps.sample) == (None, True, 50_000)
    assert contacts.source == "tickets"
    assert not quiet.enabled
    assert (themes.verbatims, themes.sample) == (False, 2000)
    assert config.sources["nps"].text == "comment"
    assert config.mask == [r"ORD-\d{8}"]


def test_voice_needs_a_source_with_text_and_mask_a_valid_pattern(tmp_path: Path) -> None:
    text = VOICE.replace("voice: tickets", "voice: visits").replace("ORD-\\d{8}", "ORD-(")
    text = text.replace("voice: {verbatims: false, sample: 2000}", "voice: {source: nope}")
    assert problems(tmp_path, text) == [
        "metrics.yaml:3: mask.0: 'ORD-(' is not a regular expression (missing ), unterminated "
        "subpattern at position 4) — quote it in single quotes and escape as in Python's re, "
        "e.g. 'ORD-\\d{8}'",
        "metrics.yaml:19: contacts: metrics.contacts.voice: source 'visits' has no text column — "
        "add `text: <comment column>` to sources.visits",
        "metrics.yaml:29: themes_only: metrics.themes_only.voice: source 'nope' is not defined — "
        "sources with text: nps, tickets",
    ]
