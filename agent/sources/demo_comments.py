"""The demo's NPS comments: Korean (some English) sentences drawn from a small vocabulary.

Each response picks a theme from a mix that depends on its score (detractors complain,
promoters praise) and on the channel it was asked about (call-centre customers speak of
agents, store customers of stores), then a sentence of that theme, sometimes a second
one, an intensifier and an ending. About a third of responses leave no comment, one in
eight is in English, and a few give a phone number or an e-mail address, as real
comments do, for the report to mask. During the call-centre incident its customers
complain of waiting and of not getting through: ``WAITING``, the planted theme.
"""

from __future__ import annotations

import numpy as np

__all__ = ["PLANTED_THEME", "comments"]

# fmt: off
THEMES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {  # (Korean, English)
    "waiting": (
        ("상담원 연결이 너무 오래 걸려요", "전화 연결이 안 돼요", "대기 시간이 너무 길어요",
         "30분 넘게 기다렸어요", "상담원과 통화하기가 너무 힘들어요",
         "계속 대기하라는 안내만 나와요", "연결 대기만 하다가 끊겼어요"),
        ("I waited on hold forever", "Could not get through to an agent",
         "The wait time on the phone was terrible"),
    ),
    "staff": (
        ("상담원분이 친절하게 설명해 주셨어요", "직원분이 친절했어요", "응대가 빠르고 정확했어요",
         "문제를 바로 해결해 주셨어요"),
        ("The agent was very kind", "Staff were friendly and helpful"),
    ),
    "rude": (
        ("상담원 응대가 불친절했어요", "설명이 부족했어요", "같은 말을 여러 번 반복해야 했어요"),
        ("The agent was rude", "I had to repeat myself several times"),
    ),
    "delivery": (
        ("배송이 빨라서 좋았어요", "포장이 꼼꼼했어요", "배송이 하루 만에 왔어요"),
        ("Fast delivery", "Well packed and on time"),
    ),
    "late": (
        ("배송이 너무 늦었어요", "배송 조회가 안 돼요", "주문한 상품이 아직 안 왔어요"),
        ("Delivery was late", "My order never arrived"),
    ),
    "price": (
        ("가격이 비싸요", "할인 혜택이 더 있으면 좋겠어요", "쿠폰 사용이 불편해요"),
        ("Too expensive", "Prices went up"),
    ),
    "app": (
        ("앱이 편해요", "앱이 자주 멈춰요", "결제 오류가 났어요", "로그인이 자꾸 풀려요"),
        ("The app is easy to use", "The app keeps crashing"),
    ),
    "quality": (
        ("품질이 좋아요", "사이즈가 안 맞아요", "상품이 설명과 달라요", "색상이 사진과 달라요"),
        ("Great quality", "The size was wrong"),
    ),
    "refund": (
        ("환불 처리가 늦어요", "교환 절차가 복잡해요", "반품 접수가 어려워요"),
        ("The refund took weeks", "Returns are a hassle"),
    ),
    "store": (
        ("매장이 깨끗해요", "주차가 불편해요", "매장 직원이 친절했어요"),
        ("Nice store", "Parking was hard"),
    ),
    "happy": (
        ("만족합니다", "또 이용할게요", "좋아요", "항상 잘 이용하고 있어요"),
        ("Great service", "Love it"),
    ),
    "unhappy": (
        ("별로였어요", "실망했어요", "다시는 이용 안 할 것 같아요"),
        ("Disappointed", "Not great"),
    ),
}
NAMES = tuple(THEMES)
# Theme mix per (group) for detractor, passive, promoter, in NAMES order.
MIX = np.array([
    [0.06, 0.00, 0.14, 0.00, 0.16, 0.12, 0.10, 0.12, 0.14, 0.04, 0.00, 0.12],
    [0.04, 0.08, 0.04, 0.12, 0.08, 0.14, 0.12, 0.10, 0.06, 0.08, 0.12, 0.02],
    [0.01, 0.18, 0.00, 0.18, 0.00, 0.04, 0.10, 0.12, 0.00, 0.10, 0.27, 0.00],
])
# fmt: on
CHANNEL_LEAN = {3: ("waiting", "staff", "rude", "refund"), 2: ("store",), 1: ("app",)}
"""Themes a channel's customers speak of more (call centre, store, app), times LEAN."""
LEAN = 3.0
CRISIS_WAITING = 0.6
"""Share of call-centre comments about waiting during the incident."""
PLANTED_THEME = {
    "name": "waiting for an agent",
    "terms": ["대기", "연결", "기다리다", "대기 시간", "상담원 연결", "전화 연결", "wait", "hold"],
    "words": ["대기", "연결", "기다", "wait", "hold", "get through"],
}
"""The incident's theme: the terms it shows as, and words its comments carry."""
INTENSIFIERS = ("", "", "", "정말 ", "너무너무 ", "솔직히 ", "그냥 ")
ENDINGS = ("", "", ".", "!", " ㅠㅠ", "..", " ㅎㅎ")
CONTACTS = ("연락 부탁드려요 010-{a:04d}-{b:04d}", "회신은 cx{a}@example.com 으로 주세요",
            "제 번호 010{a:04d}{b:04d}로 전화 주세요")  # fmt: skip
SILENT, ENGLISH, CONTACT, SECOND = 0.35, 0.12, 0.01, 0.3


def _mix(group: np.ndarray, channel: np.ndarray, crisis: np.ndarray) -> np.ndarray:
    """Theme probabilities per response (rows sum to 1)."""
    p = MIX[group].copy()
    for ch, names in CHANNEL_LEAN.items():
        cols = [NAMES.index(n) for n in names]
        p[np.ix_(channel == ch, cols)] *= LEAN
    p /= p.sum(axis=1, keepdims=True)
    waiting = NAMES.index("waiting")
    p[crisis] *= 1 - CRISIS_WAITING
    p[crisis, waiting] += CRISIS_WAITING
    return np.asarray(p)


def _draw(p: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    cdf = np.cumsum(p, axis=1)
    return np.asarray(np.minimum((cdf < rng.random((len(p), 1))).sum(axis=1), len(NAMES) - 1))


def _sentence(theme: int, english: bool, u: float) -> str:
    options = THEMES[NAMES[theme]][1 if english else 0]
    return options[int(u * len(options))]


def comments(
    rng: np.random.Generator, group: np.ndarray, channel: np.ndarray, crisis: np.ndarray
) -> np.ndarray:
    """A comment (or None) per response; ``group``: 0 detractor, 1 passive, 2 promoter."""
    n = len(group)
    p = _mix(group, channel, crisis)
    first, second = _draw(p, rng), _draw(p, rng)
    english = rng.random(n) < ENGLISH
    u = rng.random((n, 6))
    out = np.empty(n, dtype=object)
    for i in np.flatnonzero(rng.random(n) >= SILENT):
        text = INTENSIFIERS[int(u[i, 0] * len(INTENSIFIERS))] * (not english[i])
        text += _sentence(first[i], english[i], u[i, 1])
        if u[i, 2] < SECOND:
            text += (". " if english[i] else " ") + _sentence(second[i], english[i], u[i, 3])
        text += ENDINGS[int(u[i, 4] * len(ENDINGS))] if not english[i] else "."
        if u[i, 5] < CONTACT:
            a, b = int(u[i, 5] * 1e6) % 10_000, int(u[i, 3] * 1e6) % 10_000
            text += " " + CONTACTS[int(u[i, 2] * len(CONTACTS))].format(a=a, b=b)
        out[i] = text
    return out
