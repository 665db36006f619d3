"""Which terms rose in a segment's comments, grouped into themes.

Each term's rise is the weighted log-odds ratio with an informative Dirichlet prior of
Monroe, Colaresi & Quinn (2008, "Fightin' Words", eq. 16-22): the counts are comments
mentioning the term before and after the onset, the prior is the term's share of both
windows together scaled to ``PRIOR_WEIGHT`` times the smaller window, and the z-score is
the log-odds difference over its approximate standard deviation. A rare term needs more
evidence than a common one to stand out, and a term frequent in both windows does not
rise by its frequency alone.

A term is *significant* when its one-sided p-value survives Benjamini-Hochberg at
``FDR`` among all terms tested (those seen in at least ``MIN_COMMENTS`` comments after):
a window where nothing changed gives themes, but flagged as not significant.

Near-duplicates are grouped: going down the rising terms, a term joins the theme of an
earlier one when one is part of the other (``대기``, ``대기 시간``) or when most comments that
mention the rarer of the two mention the other (``상담원 연결`` and ``기다리다``). A theme
is named by its strongest term (a two-word phrase when one is about as strong) and
counted as the comments mentioning any of its terms.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import chain

from agent.model import Theme, ThemeTerm

__all__ = ["FDR", "MIN_COMMENTS", "PRIOR_WEIGHT", "THEMES", "Rise", "rising", "themes_of"]

PRIOR_WEIGHT = 0.1
"""The prior's total weight, as a share of the smaller window's term count."""
MIN_COMMENTS = 3
"""A term is tested only when at least this many comments after the onset mention it."""
FDR = 0.05
"""False-discovery rate of the significance flag, across the terms tested."""
THEMES = 5
"""Themes returned, strongest first."""
CANDIDATES = 60
"""Rising terms considered for grouping (the strongest)."""
OVERLAP = 0.5
"""Two terms are one theme when this share of the rarer one's comments has both."""
LABEL_CLOSE = 0.95
"""A phrase names its theme when its z-score is at least this share of the strongest."""


@dataclass(frozen=True)
class Rise:
    """One term's counts (comments mentioning it) before and after, and its z-score."""

    term: str
    before: int
    after: int
    z: float
    significant: bool = False


def rising(before: Sequence[frozenset[str]], after: Sequence[frozenset[str]]) -> list[Rise]:
    """Terms that rose from ``before`` to ``after`` (z > 0), strongest first, flagged."""
    count_b = Counter(chain.from_iterable(before))
    count_a = Counter(chain.from_iterable(after))
    n_b, n_a = sum(count_b.values()), sum(count_a.values())
    if not n_a or not n_b:
        return []
    n = n_a + n_b
    alpha0 = PRIOR_WEIGHT * min(n_a, n_b)
    tested = []
    for term, y_a in count_a.items():
        if y_a < MIN_COMMENTS:
            continue
        y_b = count_b.get(term, 0)
        alpha = alpha0 * (y_a + y_b) / n
        delta = math.log((y_a + alpha) / (n_a + alpha0 - y_a - alpha)) - math.log(
            (y_b + alpha) / (n_b + alpha0 - y_b - alpha)
        )
        sigma = math.sqrt(1 / (y_a + alpha) + 1 / (y_b + alpha))
        tested.append(Rise(term, y_b, y_a, delta / sigma))
    tested.sort(key=lambda r: (-r.z, r.term))
    passed = _benjamini_hochberg([r.z for r in tested])
    return [
        Rise(r.term, r.before, r.after, r.z, i < passed) for i, r in enumerate(tested) if r.z > 0
    ]


def _benjamini_hochberg(z_desc: list[float]) -> int:
    """How many of the (descending) z-scores pass BH at ``FDR`` (one-sided normal tails):
    the first ones, as their p-values ascend."""
    if not z_desc:
        return 0
    # imported on use: see agent/__init__.py
    from statsmodels.stats.multitest import multipletests

    p = [0.5 * math.erfc(z / math.sqrt(2)) for z in z_desc]
    return int(multipletests(p, alpha=FDR, method="fdr_bh")[0].sum())


@dataclass
class _Group:
    head: Rise
    terms: list[Rise] = field(default_factory=list)
    parts: list[set[str]] = field(default_factory=list)


def themes_of(
    rises: list[Rise],
    before: Sequence[frozenset[str]],
    after: Sequence[frozenset[str]],
    top: int = THEMES,
) -> list[Theme]:
    """The ``top`` themes of ``rises`` (from ``rising``), near-duplicates grouped: of the
    significant terms when there are any (a word that barely rose never joins a theme),
    else of the strongest, flagged as not significant."""
    candidates = ([r for r in rises if r.significant] or rises)[:CANDIDATES]
    wanted = {r.term for r in candidates}
    docs: dict[str, set[int]] = {t: set() for t in wanted}
    for i, terms in enumerate(after):
        for t in terms & wanted:
            docs[t].add(i)
    groups: list[_Group] = []
    for rise in candidates:
        home = next((g for g in groups if _near(rise, g, docs)), None)
        if home is None:
            if len(groups) == top:
                continue
            home = _Group(rise)
            groups.append(home)
        home.terms.append(rise)
        home.parts.append(set(rise.term.split(" ")))
    return [_theme(g, before, after) for g in groups]


def _near(rise: Rise, group: _Group, docs: dict[str, set[int]]) -> bool:
    parts = set(rise.term.split(" "))
    if any(parts <= other or other <= parts for other in group.parts):
        return True
    mine = docs[rise.term]
    return any(
        len(mine & docs[t.term]) >= OVERLAP * min(len(mine), len(docs[t.term])) for t in group.terms
    )


def _label(group: _Group) -> str:
    """The strongest term, or a phrase about as strong (``wait hold`` says more than
    ``forever`` when both come from the same comments)."""
    close = [t for t in group.terms if t.z >= LABEL_CLOSE * group.head.z]
    return max(close, key=lambda t: (" " in t.term, t.after, t.z)).term


def _theme(
    group: _Group, before: Sequence[frozenset[str]], after: Sequence[frozenset[str]]
) -> Theme:
    terms = {t.term for t in group.terms}
    return Theme(
        label=_label(group),
        terms=[ThemeTerm(t.term, t.before, t.after, t.z) for t in group.terms],
        before=sum(1 for d in before if d & terms),
        after=sum(1 for d in after if d & terms),
        z=group.head.z,
        significant=group.head.significant,
    )
