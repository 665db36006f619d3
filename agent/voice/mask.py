"""Masking what identifies a person in a comment, before anything else reads it.

Korean resident registration numbers, e-mail addresses, phone numbers, card and account
numbers, and the patterns of metrics.yaml ``mask:``, each replaced by its label (the
report's words for it, given by the caller). The order matters: a registration number
(``YYMMDD-NNNNNNN``) is taken before the looser number rules, e-mails before anything
that could eat their digits, phone numbers before account numbers. Any other run of 9
or more digits (dashes between them allowed) is masked as an account number:
a bank account, a card written oddly or a number we have no rule for is masked rather
than shown.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

__all__ = ["MASK_KINDS", "Masker"]

_D = r"(?<![0-9A-Za-z+])"  # not inside a longer number or word (Korean particles may follow)
_E = r"(?![0-9A-Za-z@])"
_RULES: tuple[tuple[str, str], ...] = (
    ("email", r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"),
    ("rrn", _D + r"\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\s?-?\s?[1-8]\d{6}" + _E),
    ("card", _D + r"\d{4}(?:[ -]?\d{4}){2}[ -]?\d{1,7}" + _E),
    (
        "phone",
        _D
        + r"(?:\+82[ -]?\(?0?|\(?0)(?:1[016789]|2|[3-6][1-5]|70|50\d)\)?[ .-]?\d{3,4}[ .-]?\d{4}"
        + _E,
    ),
    ("account", _D + r"\d(?:-?\d){8,}" + _E),
)
MASK_KINDS = tuple(kind for kind, _ in _RULES) + ("custom",)
"""What a label is needed for: one per built-in rule, and ``custom`` for ``mask:``."""


@dataclass(frozen=True)
class Masker:
    """Replaces personal data in text with labels: ``Masker.build(labels, patterns)``."""

    rules: tuple[tuple[re.Pattern[str], str], ...]

    @classmethod
    def build(cls, labels: Mapping[str, str], patterns: Sequence[str] = ()) -> Masker:
        """``labels`` maps each of ``MASK_KINDS`` to its replacement (``[phone]``);
        ``patterns`` are regular expressions of metrics.yaml ``mask:`` (checked there)."""
        custom = [(re.compile(p), labels["custom"]) for p in patterns]
        builtin = [(re.compile(rx), labels[kind]) for kind, rx in _RULES]
        return cls(tuple(custom + builtin))

    def __call__(self, text: str) -> str:
        for pattern, label in self.rules:
            text = pattern.sub(label, text)
        return text

    def blank(self, text: str) -> str:
        """``text`` with personal data removed rather than labelled (what themes read)."""
        for pattern, _ in self.rules:
            text = pattern.sub(" ", text)
        return text
