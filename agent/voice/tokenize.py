"""Comments -> the terms they mention: Korean by kiwipiepy, English by a small tokenizer.

A comment's *units* are its content words in order: Korean nouns (``NNG``, ``NNP``),
roots (``XR``) and verb and adjective stems written as dictionary forms (``기다리다``,
``길다``), English words lower-cased with their common endings cut (``waiting`` ->
``wait``). A negation joins the word it negates (``안 되다``, ``not connect``), since
"the call does not connect" is the complaint, not "connect". Its *terms* are its units
and every two units in a row inside one sentence (``상담원 연결``): the set of them, since
a comment that says "wait" three times is one comment about waiting.

Kiwi reads each distinct word (space-separated chunk) once per run and the result is
kept: comments repeat their words far more than their sentences, so 100,000 comments
cost about as many analyses as they have distinct words. The model loads once per
process, on first use (``kiwi()``).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kiwipiepy import Kiwi, Token

__all__ = ["Tokenizer", "kiwi"]

BREAK = "\x00"
"""Marks a sentence end inside a comment's units: no phrase spans it."""
NEG = "\x01"
"""Prefix of a negation (``안``, ``못``; ``not`` when empty) waiting for its word."""
LIGHT = "\x02"
"""Prefix of a light verb: dropped unless negated."""
_HANGUL = re.compile(r"[\uac00-\ud7a3]")
_WORD = re.compile(r"[a-z]+(?:'[a-z]+)?")
_END = re.compile(r"[.!?;,…。]+$")
_NOUNS = ("NNG", "NNP", "XR")
_NEGATORS_KO = frozenset(("안", "못"))
# fmt: off
_NEGATORS_EN = frozenset((
    "not", "no", "never", "cannot", "can't", "couldn't", "didn't", "don't", "doesn't",
    "won't", "isn't", "wasn't",
))
_LIGHT_STEMS = frozenset((
    "하", "되", "있", "같", "이렇", "그렇", "어떻", "보", "주", "싶", "나", "지",
))
"""Verb stems too common to mean anything alone (they still join a negation)."""
_STOP_EN = frozenset((
    "a", "an", "the", "and", "or", "but", "if", "so", "to", "of", "in", "on", "at", "for",
    "from", "by", "with", "as", "is", "are", "was", "were", "be", "been", "being", "am", "i",
    "me", "my", "we", "our", "you", "your", "he", "she", "it", "its", "they", "them",
    "their", "this", "that", "these", "those", "there", "here", "what", "which", "who",
    "when", "where", "why", "how", "all", "any", "some", "very", "too", "also", "just",
    "really", "much", "more", "most", "than", "then", "again", "ever", "still", "only",
    "even", "get", "got", "have", "has", "had", "do", "does", "did", "will", "would", "can",
    "could", "should", "may", "might", "must", "shall", "one", "two", "lot", "im", "ive",
    "it's", "i'm", "that's", "please", "thank", "thanks", "okay", "ok",
))
# fmt: on


@lru_cache(maxsize=1)
def kiwi() -> Kiwi:
    """The Korean analyzer, loaded once per process (its model ships as a package)."""
    from kiwipiepy import Kiwi

    analyzer = Kiwi(num_workers=min(2, os.cpu_count() or 1))
    analyzer.tokenize("")  # Kiwi initialises lazily: pay it here, once
    return analyzer


def _english(word: str) -> str | None:
    """``waiting`` -> ``wait``, ``called`` -> ``call``, ``agents`` -> ``agent``."""
    if word in _NEGATORS_EN:
        return NEG
    if word in _STOP_EN or len(word) < 2:
        return None
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    for suffix in ("ing", "ed"):
        stem = word[: -len(suffix)]
        if word.endswith(suffix) and len(stem) >= 3:
            return stem[:-1] if len(stem) > 3 and stem[-1] == stem[-2] != "l" else stem
    if word.endswith(("ches", "shes", "sses", "xes")):
        return word[:-2]
    if word.endswith("s") and not word.endswith(("ss", "us", "is")) and len(word) > 3:
        return word[:-1]
    return word


def _english_units(text: str) -> list[str]:
    return [u for u in map(_english, _WORD.findall(text.lower())) if u is not None]


def _korean_units(tokens: Iterable[Token]) -> list[str]:
    units: list[str] = []
    for tok in tokens:
        tag = tok.tag
        if tag in _NOUNS:
            units.append(tok.form)
        elif tag.startswith(("VV", "VA")):
            light = LIGHT if tok.form in _LIGHT_STEMS else ""
            units.append(f"{light}{tok.form}다")
        elif tag == "SL":
            units += _english_units(tok.form)
        elif tag in ("SF", "SE"):
            units.append(BREAK)
        elif tag == "MAG" and tok.form in _NEGATORS_KO:
            units.append(NEG + tok.form)
    return units


def _negated(units: list[str]) -> list[str]:
    """Negations joined to the next word (``안 되다``, ``not connect``); light verbs and
    negations that negate nothing dropped."""
    out: list[str] = []
    negation = ""
    for unit in units:
        if unit.startswith(NEG):
            negation = unit[1:] or "not"
            continue
        word = unit.removeprefix(LIGHT)
        if negation and unit != BREAK:
            out.append(f"{negation}\u00a0{word}")  # one unit: phrases split on " "
        elif not unit.startswith(LIGHT):
            out.append(unit)
        negation = ""
    return out


MAX_WORDS = 1_000_000
"""Words kept between calls; past this many the memory starts afresh (``serve`` runs on
for months, and a word read again costs one analysis)."""


class Tokenizer:
    """Turns comments into their sets of terms; keeps what Kiwi read for the next call."""

    def __init__(self) -> None:
        self._words: dict[str, tuple[str, ...]] = {}

    def terms(self, texts: Sequence[str]) -> list[frozenset[str]]:
        """Each comment's terms: its units and its two-unit phrases."""
        chunks = [text.split() for text in texts]
        if len(self._words) > MAX_WORDS:
            self._words.clear()
        self._read_korean({w for words in chunks for w in words if _HANGUL.search(w)})
        return [_terms(self._units(words)) for words in chunks]

    def _read_korean(self, words: set[str]) -> None:
        todo = [w for w in words if w not in self._words]
        if not todo:
            return
        for word, tokens in zip(todo, kiwi().tokenize(todo), strict=True):
            self._words[word] = tuple(_korean_units(tokens))

    def _units(self, words: list[str]) -> list[str]:
        units: list[str] = []
        for word in words:
            if word in self._words:
                found = self._words[word]
            else:
                found = tuple(_english_units(word)) + ((BREAK,) if _END.search(word) else ())
                self._words[word] = found
            units.extend(found)
        return _negated(units)


def _terms(units: list[str]) -> frozenset[str]:
    """Units and adjacent pairs (two-word phrases), no pair across a sentence end."""
    words = [u for u in units if u != BREAK]
    pairs = {
        f"{a} {b}" for a, b in zip(units, units[1:], strict=False) if BREAK not in (a, b) and a != b
    }
    return frozenset(words) | pairs
