"""Masking: every kind of personal data a comment may carry is replaced by its label."""

from __future__ import annotations

import pytest

from agent.voice import MASK_KINDS, Masker

MASK = Masker.build({kind: f"<{kind}>" for kind in MASK_KINDS}, [r"ORD-\d{8}"])


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("연락처 010-1234-5678 입니다", "연락처 <phone> 입니다"),
        ("01012345678로 전화 주세요", "<phone>로 전화 주세요"),
        ("+82 10-1234-5678", "<phone>"),
        ("대표번호 02-123-4567, (031) 555-1234", "대표번호 <phone>, <phone>"),
        ("call me at 010.9876.5432", "call me at <phone>"),
        ("회신은 kim.minsu+cx@example.co.kr 로", "회신은 <email> 로"),
        ("주민번호 900101-1234567", "주민번호 <rrn>"),
        ("9001012345678번이에요", "<rrn>번이에요"),
        ("카드 1234-5678-9012-3456 결제", "카드 <card> 결제"),
        ("card 4111 1111 1111 1111", "card <card>"),
        ("환불 계좌 110-123-456789 신한", "환불 계좌 <account> 신한"),
        ("국민은행 123456-01-234567", "국민은행 <account>"),
        ("주문 ORD-20261120 확인", "주문 <custom> 확인"),
    ],
)
def test_personal_data_is_replaced_by_its_label(text: str, masked: str) -> None:
    assert MASK(text) == masked


@pytest.mark.parametrize(
    "text",
    [
        "30분 넘게 기다렸어요",
        "2026-11-20 14:30에 방문했어요",
        "가격이 1,000,000원이에요",
        "3번 연결 시도했어요",
        "앱 5.2 버전 이후로 느려요",
    ],
)
def test_ordinary_numbers_are_left_alone(text: str) -> None:
    assert MASK(text) == text


def test_blank_removes_personal_data_without_a_label() -> None:
    assert MASK.blank("전화 010-1234-5678 주세요").split() == ["전화", "주세요"]
