"""Playbooks: what the team does when a metric moves, with the cause's numbers filled in.

``playbook:`` of a metric in metrics.yaml is plain text (shown as it is), or a list of
entries ``{when, text, links}``. An entry's ``when`` picks the top causes it is about:
``{dimension: region}`` those whose segment has that dimension, ``{segment: {tier:
premium}}`` those whose segment is exactly that one, ``{}`` every finding (with its top
cause, if any). Its ``text`` is a jinja2 template rendered in a sandbox with the
variables of ``VARIABLES``; an entry is checked by rendering it once against sample
values when metrics.yaml is loaded, so a typo is a config error, never a failed run.
At run time a value the finding lacks (the cause of a finding without causes) reads "—".
Recoveries and late data are not moves: they get no steps.

Written in both languages, a playbook is ``{en: …, ko: …}`` (each text or steps), and so
may be a step's ``text`` and a link's ``title``: the report's locale picks one, and falls
back to the other when only one is given.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from jinja2 import ChainableUndefined, StrictUndefined, TemplateError, Undefined
from jinja2.sandbox import SandboxedEnvironment
from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    field_validator,
    model_validator,
)

from agent.model import Cause, Explanation, FindingKind, RunResult, Segment
from agent.report.formatting import (
    MISSING,
    Unit,
    format_change,
    format_delta,
    format_number,
    format_period,
    format_share,
    format_value,
    is_finite,
    segment_label,
)
from agent.report.messages import MESSAGES, Locale

__all__ = [
    "PLAYBOOK_TAGS",
    "TOP_CAUSES",
    "VARIABLES",
    "Link",
    "NextStep",
    "Playbook",
    "PlaybookEntry",
    "PlaybookLink",
    "PlaybookValue",
    "PlaybookWhen",
    "in_locale",
    "next_steps",
]

T = TypeVar("T")
PLAYBOOK_TAGS = ("playbook-text", "playbook-steps", "playbook-locales")
"""Tags of the unions below (the config loader drops them from error paths)."""


def _playbook_tag(value: object) -> str:
    if isinstance(value, str):
        return "playbook-text"
    return "playbook-locales" if isinstance(value, dict) else "playbook-steps"


def _text_tag(value: object) -> str:
    return "playbook-locales" if isinstance(value, dict) else "playbook-text"


Localized = Annotated[
    Annotated[str, Tag("playbook-text")]
    | Annotated[dict[Locale, str], Tag("playbook-locales"), Field(min_length=1)],
    Discriminator(_text_tag),
]
"""A text written once, or per language: ``{en: …, ko: …}`` (one of them is enough)."""

TOP_CAUSES = 3
"""Causes of each finding a playbook entry is matched against."""
VARIABLES: dict[str, tuple[str, ...]] = {
    "metric": ("key", "title"),
    "finding": (
        "value", "expected", "change", "size", "direction", "severity", "kind", "since",
        "segment",
    ),
    "cause": (
        "segment", "dims", "share", "before", "after", "size_before", "size_after",
        "contribution", "rate_effect", "mix_effect", "confidence",
    ),
}  # fmt: skip
"""What a playbook text can use (``{{ cause.share }}``), as text in the report's locale;
``cause.dims`` is the cause's segment as a mapping (``{{ cause.dims.region }}``)."""
_SAFE_SCHEMES = ("https://", "http://", "mailto:")
_NOT_MOVES = (FindingKind.RECOVERED, FindingKind.LATE_DATA)


class _Missing(ChainableUndefined):
    """A value the finding lacks (``cause.share`` of a finding without causes) reads "—"."""

    def __str__(self) -> str:
        return MISSING


def _environment(undefined: type[Undefined]) -> SandboxedEnvironment:
    return SandboxedEnvironment(autoescape=False, undefined=undefined, keep_trailing_newline=False)


_CHECK, _RUN = _environment(StrictUndefined), _environment(_Missing)


class PlaybookLink(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    title: Localized
    url: str

    @field_validator("url")
    @classmethod
    def _safe(cls, value: str) -> str:
        if not value.startswith(_SAFE_SCHEMES):
            raise ValueError(f"{value!r} is not a web or mail link; start it with https://")
        return value


class PlaybookWhen(BaseModel):
    """Which causes an entry is about; empty: every finding."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    dimension: str | None = None
    segment: dict[str, str] | None = None

    @model_validator(mode="after")
    def _one(self) -> PlaybookWhen:
        if self.dimension is not None and self.segment is not None:
            raise ValueError("`when` takes `dimension` or `segment`, not both")
        return self

    def matches(self, segment: Segment) -> bool:
        if self.dimension is not None:
            return self.dimension in segment
        return self.segment == segment if self.segment is not None else True

    @property
    def general(self) -> bool:
        return self.dimension is None and self.segment is None


class PlaybookEntry(BaseModel):
    """One step of a playbook: a templated text and links, for the causes ``when`` picks."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    when: PlaybookWhen = Field(default_factory=PlaybookWhen)
    text: Localized
    links: list[PlaybookLink] = Field(default_factory=list)

    @model_validator(mode="after")
    def _renders(self) -> PlaybookEntry:
        """Render each language's text once against sample values: syntax errors, unknown
        variables and unsafe access are config errors at load time."""
        texts = self.text.values() if isinstance(self.text, dict) else [self.text]
        try:
            for text in texts:
                _CHECK.from_string(text).render(_sample(self.when))
        except TemplateError as exc:
            lineno = getattr(exc, "lineno", None)  # a syntax error knows its line
            line = f" (line {lineno} of the text)" if lineno else ""
            raise ValueError(
                f"playbook text does not render: {(exc.message or str(exc)).rstrip('.')}{line}; "
                "it can use "
                + "; ".join(f"{name}.{{{', '.join(keys)}}}" for name, keys in VARIABLES.items())
            ) from None
        return self


Steps = str | list[PlaybookEntry]
PlaybookValue = Steps | Mapping[Locale, Steps]
"""A metric's playbook as loaded: text, steps, or either per language."""


_Steps = Annotated[
    Annotated[str, Tag("playbook-text")] | Annotated[list[PlaybookEntry], Tag("playbook-steps")],
    Discriminator(_playbook_tag),
]
Playbook = Annotated[
    Annotated[str, Tag("playbook-text")]
    | Annotated[list[PlaybookEntry], Tag("playbook-steps")]
    | Annotated[dict[Locale, _Steps], Tag("playbook-locales"), Field(min_length=1)],
    Discriminator(_playbook_tag),
]
"""`playbook:` of metrics.yaml: plain text, steps ``{when, text, links}`` whose text is a
template, or either per language (``{en: …, ko: …}``)."""


def in_locale(value: Mapping[Locale, T], locale: str) -> T:
    """The ``locale`` variant of a value written per language, else the other one."""
    return next((v for key, v in value.items() if key == locale), next(iter(value.values())))


def _text(value: str | Mapping[Locale, str], locale: str) -> str:
    """A text written once (the same in every language) or per language."""
    return value if isinstance(value, str) else in_locale(value, locale)


@dataclass(frozen=True)
class Link:
    title: str
    url: str


@dataclass(frozen=True)
class NextStep:
    """One thing to do, worded for the report's locale; ``segment`` is the cause it is
    about (``{}`` for the metric as a whole)."""

    text: str
    links: list[Link]
    segment: Segment


def _sample(when: PlaybookWhen) -> dict[str, Any]:
    """Values of the right shape for the check render (strings, as at run time)."""
    sample: dict[str, Any] = {name: dict.fromkeys(keys, "1") for name, keys in VARIABLES.items()}
    dims = dict(when.segment or {}) or ({when.dimension: "x"} if when.dimension else {})
    sample["cause"]["dims"] = dims
    return sample


def next_steps(
    playbook: PlaybookValue | None,
    run: RunResult,
    *,
    unit: Unit,
    grain: str,
    locale: str = "en",
) -> list[NextStep]:
    """The steps of ``playbook`` for what ``run`` found, in playbook order, without repeats.

    Nothing when nothing moved (recoveries and late data are not moves). Plain-text
    playbooks give one step per paragraph. The Slack alert and the report both show these.
    """
    moved = [e for e in run.explanations if e.finding.kind not in _NOT_MOVES]
    if not playbook or not moved:
        return []
    mine = in_locale(playbook, locale) if isinstance(playbook, Mapping) else playbook
    if isinstance(mine, str):
        return [NextStep(p, [], {}) for p in _paragraphs(mine)]
    words = _Words(run, unit, grain, locale)
    steps: dict[str, NextStep] = {}
    for entry in mine:
        links = [Link(_text(link.title, locale), link.url) for link in entry.links]
        for explanation, cause in _matches(entry.when, moved):
            text = _render(_text(entry.text, locale), words.variables(explanation, cause))
            key = text + "\n" + repr(links)
            steps.setdefault(key, NextStep(text, links, cause.segment if cause else {}))
    return list(steps.values())


def _matches(
    when: PlaybookWhen, explanations: list[Explanation]
) -> Iterator[tuple[Explanation, Cause | None]]:
    for e in explanations:
        if not e.causes and when.general:
            yield e, None
        for cause in e.causes[: 1 if when.general else TOP_CAUSES]:
            if when.matches(cause.segment):
                yield e, cause


def _render(text: str, variables: dict[str, Any]) -> str:
    try:
        rendered = _RUN.from_string(text).render(variables)
    except TemplateError:  # checked at load time; a value of a real cause may still fail
        rendered = text
    return " ".join(rendered.split())


def _count(x: float) -> str:
    return format_number(x) if is_finite(x) else MISSING


def _paragraphs(text: str) -> list[str]:
    """A plain-text playbook's paragraphs (blank-line separated), each on one line."""
    return [" ".join(p.split()) for p in text.split("\n\n") if p.strip()]


@dataclass(frozen=True)
class _Words:
    """Formats a finding and a cause as the strings a playbook text sees."""

    run: RunResult
    unit: Unit
    grain: str
    locale: str

    def value(self, x: float) -> str:
        return format_value(x, self.unit, self.locale)

    def delta(self, x: float) -> str:
        return format_delta(x, self.unit, self.locale)

    def variables(self, e: Explanation, cause: Cause | None) -> dict[str, Any]:
        msg, f = MESSAGES[self.locale], e.finding
        finding = {
            "value": self.value(f.value),
            "expected": self.value(f.expected),
            "change": self.delta(f.value - f.expected),
            "size": format_change(f.value - f.expected, f.expected, self.unit, self.locale),
            "direction": str(f.direction),
            "severity": msg[f"severity_{f.severity}"],
            "kind": msg[f"kind_{f.kind}"],
            "since": format_period(f.since, self.grain, self.locale),
            "segment": segment_label(f.segment, msg),
        }
        metric = {"key": self.run.metric, "title": self.run.title}
        return {"metric": metric, "finding": finding, "cause": self._cause(cause, msg)}

    def _cause(self, c: Cause | None, msg: dict[str, str]) -> dict[str, Any]:
        if c is None:
            return {}
        return {
            "segment": segment_label(c.segment, msg),
            "dims": dict(c.segment),
            "share": format_share(c.share),
            "before": self.value(c.value_before),
            "after": self.value(c.value_after),
            "size_before": _count(c.size_before),
            "size_after": _count(c.size_after),
            "contribution": self.delta(c.contribution),
            "rate_effect": self.delta(c.rate_effect),
            "mix_effect": self.delta(c.mix_effect),
            "confidence": format_share(c.confidence),
        }
