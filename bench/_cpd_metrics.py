"""Change-point scores of the Turing Change Point Dataset: F1 with a margin and covering.

Written from the definitions in ``../shared/bench/README.md`` (van den Burg & Williams,
2020). ``annotations`` maps each annotator to the 0-based indices where they saw a new
regime begin; ``detections`` are a detector's onsets in the same indexing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

__all__ = ["clean", "covering", "f1", "hits", "segments"]

Annotations = Mapping[str, Sequence[int]]


def clean(detections: Iterable[int], n: int) -> list[int]:
    """Distinct detections inside 1..n-2, sorted (what both scores read)."""
    return sorted({int(d) for d in detections if 1 <= d <= n - 2})


def hits(truth: Iterable[int], detections: Iterable[int], margin: int = 5) -> int:
    """True points with a detection within ``margin``; each detection is used once,
    by the first true point (in ascending order) that takes its nearest free one."""
    free = sorted(set(detections))
    count = 0
    for point in sorted(set(truth)):
        near = [d for d in free if abs(d - point) <= margin]
        if near:
            free.remove(min(near, key=lambda d: (abs(d - point), d)))
            count += 1
    return count


def f1(annotations: Annotations, detections: Iterable[int], margin: int = 5) -> float:
    """F1 of precision against the annotators' union and recall averaged over them;
    index 0 counts as a change point in every set."""
    found = set(detections) | {0}
    truths = [set(points) | {0} for points in annotations.values()]
    union = set().union(*truths)
    precision = hits(union, found, margin) / len(found)
    recall = sum(hits(t, found, margin) / len(t) for t in truths) / len(truths)
    return 2 * precision * recall / (precision + recall)


def segments(points: Iterable[int], n: int) -> list[range]:
    """The runs that change points cut 0..n-1 into (points outside 1..n-1 cut nothing)."""
    cuts = [0, *sorted({p for p in points if 0 < p < n}), n]
    return [range(a, b) for a, b in zip(cuts, cuts[1:], strict=False)]


def covering(annotations: Annotations, detections: Iterable[int], n: int) -> float:
    """How well the detected segments cover each annotator's, averaged over annotators."""
    found = segments(detections, n)
    scores = [_cover(segments(points, n), found, n) for points in annotations.values()]
    return sum(scores) / len(scores)


def _cover(truth: list[range], found: list[range], n: int) -> float:
    return sum(len(a) * max(_jaccard(a, b) for b in found) for a in truth) / n


def _jaccard(a: range, b: range) -> float:
    common = max(0, min(a.stop, b.stop) - max(a.start, b.start))
    return common / (len(a) + len(b) - common)
