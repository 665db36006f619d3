"""Themes that rose: the planted one first and significant, quiet windows flagged as such."""

from __future__ import annotations

import numpy as np

from agent.voice import MASK_KINDS, Masker, Tokenizer, listen

MASK = Masker.build({kind: f"[{kind}]" for kind in MASK_KINDS})
OTHER = (
    "배송이 빨라서 좋았어요", "포장이 꼼꼼했어요", "가격이 비싸요", "앱이 편해요",
    "직원분이 친절했어요", "사이즈가 안 맞아요", "Great quality", "Fast delivery",
)  # fmt: skip
WAITING = ("상담원 연결이 너무 오래 걸려요", "대기 시간이 너무 길어요", "I waited on hold forever")


def comments(rng: np.random.Generator, n: int, waiting: float) -> list[str]:
    pool = [WAITING if rng.random() < waiting else OTHER for _ in range(n)]
    return [str(rng.choice(p)) for p in pool]


def test_a_planted_theme_is_first_significant_and_quoted() -> None:
    rng = np.random.default_rng(1)
    before, after = comments(rng, 2000, 0.03), comments(rng, 800, 0.25)
    voice = listen({"channel": "call_center"}, before, after, masker=MASK, tokenizer=Tokenizer())
    top = voice.themes[0]
    assert top.significant
    assert {"연결", "대기", "상담원 연결", "대기 시간", "wait", "hold"} & {
        t.term for t in top.terms
    }
    assert top.after > 50 and top.before < 40
    quotes = [q.text for q in voice.verbatims if q.theme == top.label]
    assert 1 <= len(quotes) == len(set(quotes)) <= 3  # the same words are quoted once
    assert all(any(w in q for w in ("연결", "대기", "wait")) for q in quotes)
    assert (voice.comments_before, voice.comments_after) == (2000, 800)


def test_near_duplicate_terms_are_one_theme() -> None:
    rng = np.random.default_rng(2)
    before, after = comments(rng, 2000, 0.02), comments(rng, 2000, 0.3)
    voice = listen({}, before, after, masker=MASK, tokenizer=Tokenizer())
    first = {t.term for t in voice.themes[0].terms}
    assert {"대기", "대기 시간"} <= first or {"연결", "상담원 연결"} <= first


def test_windows_that_did_not_change_have_no_significant_theme() -> None:
    rng = np.random.default_rng(3)
    before, after = comments(rng, 3000, 0.05), comments(rng, 3000, 0.05)
    voice = listen({}, before, after, masker=MASK, tokenizer=Tokenizer())
    assert voice.themes  # the strongest rises are still shown …
    assert not any(t.significant for t in voice.themes)  # … flagged as not significant
    assert voice.verbatims == []  # and none is quoted


def test_verbatims_are_masked_and_can_be_turned_off() -> None:
    rng = np.random.default_rng(4)
    before = comments(rng, 1000, 0.02)
    after = [
        f"{c} 010-1234-{i:04d} kim{i}@example.com" for i, c in enumerate(comments(rng, 500, 0.4))
    ]
    voice = listen({}, before, after, masker=MASK, tokenizer=Tokenizer())
    assert voice.verbatims
    for quote in voice.verbatims:
        assert "010-1234" not in quote.text and "@example.com" not in quote.text
        assert "[phone]" in quote.text and "[email]" in quote.text
    assert not any("phone" in t.term or "email" in t.term for th in voice.themes for t in th.terms)
    quiet = listen({}, before, after, masker=MASK, tokenizer=Tokenizer(), verbatims=False)
    assert quiet.verbatims == [] and quiet.themes == voice.themes
