"""The message catalog: every string a report reader sees, per locale (``en``, ``ko``).

Patterns use named fields so a language can reorder them; both catalogs have the same
keys and the same fields (a test keeps them in step). Korean patterns write the
particle after a field in its double form, as Korean software does ("{subject}이(가)");
``fill`` picks the form that fits the word before it ("재방문율이", "31.2%가").
"""

from __future__ import annotations

import re
import string
from typing import Literal

__all__ = ["MESSAGES", "Locale", "fill"]

Locale = Literal["en", "ko"]

MESSAGES: dict[str, dict[str, str]] = {
    "en": {
        "months": "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec",
        "date": "{month} {day}",
        "date_year": "{month} {day}, {year}",
        "month_year": "{month} {year}",
        "week_of": "the week of {date}",
        "currency": "₩{}",
        "since": "since {date}",
        "on_day": "on {date}",
        "in_period": "in {date}",
        "rose": "rose",
        "fell": "fell",
        "points": "{} pts",
        "score_points": "{} pts",
        "headline": "{subject} {verb} {change} to {value} {when}",
        "headline_no_size": "{subject} {verb} to {value} {when}",
        "headline_cause": "; {share} of the change is {segment}",
        "headline_none": "No change detected: {subject} was {value} {when}",
        "subject_segment": "{title} ({segment})",
        "all_customers": "all customers",
        "kind_threshold": "Threshold breach",
        "kind_anomaly": "Anomaly",
        "kind_change_point": "Change point",
        "kind_late_data": "Late or missing data",
        "kind_recovered": "Recovered",
        "headline_recovered": "{subject} is back to normal at {value} {when}, "
        "after an episode that began {since}",
        "headline_late": "{subject} is not judged {when}: {reason}",
        "episode": "Alert",
        "episode_new": "new alert",
        "episode_ongoing": "ongoing since {since}, {periods} periods with findings",
        "episode_recovered": "closed: back to normal",
        "episode_pending": "not alerted yet",
        "severity_info": "info",
        "severity_warning": "warning",
        "severity_critical": "critical",
        "no_findings": "no findings",
        "no_change_detail": "Nothing crossed a threshold or left its expected range.",
        "value": "Value",
        "expected": "Expected",
        "band": "Expected range",
        "since_label": "Since",
        "score": "Score",
        "segment": "Segment",
        "reason": "Why",
        "causes": "Causes",
        "no_causes": "No segment explains this change; it is spread across the population.",
        "before_after": "Before → after",
        "size": "Size before → after",
        "contribution": "Contribution",
        "rate_effect": "Rate effect",
        "mix_effect": "Mix effect",
        "share": "Share",
        "confidence": "Confidence",
        "explained": "Explained by these segments",
        "others": "Other segments",
        "checked": "Checked: {dims}, alone and in combinations",
        "ruled_out": "Ruled out",
        "ruled_out_row": "{segment}: {before} → {after} (confidence {confidence})",
        "related": "Same segments, other metrics",
        "related_row": "{title} for {segment}: {before} → {after}",
        "events": "Known events near the onset",
        "event_row": "{name} ({kind}, {dates}){segment}{effect}",
        "event_effect": "; expected to move it {effect}",
        "effect_up": "up",
        "effect_down": "down",
        "event_kind_release": "release",
        "event_kind_campaign": "campaign",
        "event_kind_promotion": "promotion",
        "event_kind_outage": "outage",
        "event_kind_policy": "policy",
        "event_kind_other": "other",
        "notes": "Data notes",
        "next_steps": "What to do next",
        "dimensions": "Segments searched",
        "chart_alt": "{title}: value against the expected range over the last {n} periods",
        "chart_value": "value",
        "chart_expected": "expected",
        "chart_band": "expected range",
        "chart_period": "evaluated period",
        "chart_change": "change point",
        "index_title": "cx-agent reports",
        "runs": "Runs",
        "history": "History per metric",
        "period": "Period",
        "metric": "Metric",
        "severity": "Severity",
        "findings": "Findings",
        "headline_label": "Headline",
        "no_reports": "No reports yet.",
        "unreadable": "Could not read: {names}",
        "and_more": "… and {n} more",
        "email_subject": "[{severity}] {headline}",
    },
    "ko": {
        "months": "1월 2월 3월 4월 5월 6월 7월 8월 9월 10월 11월 12월",
        "date": "{month} {day}일",
        "date_year": "{year}년 {month} {day}일",
        "month_year": "{year}년 {month}",
        "week_of": "{date} 주",
        "currency": "{}원",
        "since": "{date}부터",
        "on_day": "{date}",
        "in_period": "{date}",
        "rose": "상승",
        "fell": "하락",
        "points": "{}%p",
        "score_points": "{}점",
        "headline": "{subject}이(가) {when} {change} {verb}해 {value}이(가) 되었습니다",
        "headline_no_size": "{subject}이(가) {when} {verb}해 {value}이(가) 되었습니다",
        "headline_cause": ". 변화의 {share}은(는) {segment} 세그먼트에서 발생했습니다",
        "headline_none": "감지된 변화 없음: {when} {subject}은(는) {value}입니다",
        "subject_segment": "{segment} 고객의 {title}",
        "all_customers": "전체 고객",
        "kind_threshold": "임계값 이탈",
        "kind_anomaly": "이상치",
        "kind_change_point": "추세 변화",
        "kind_late_data": "데이터 지연 또는 누락",
        "kind_recovered": "정상 회복",
        "headline_recovered": "{subject}이(가) {when} {value}(으)로 정상 범위에 돌아왔습니다. "
        "{since}부터 이어진 이상 구간이 끝났습니다",
        "headline_late": "{when} {subject}은(는) 판단하지 않았습니다: {reason}",
        "episode": "알림",
        "episode_new": "신규 알림",
        "episode_ongoing": "{since}부터 지속 중, 이상이 감지된 기간 {periods}개",
        "episode_recovered": "종료: 정상 회복",
        "episode_pending": "아직 알림 전",
        "severity_info": "참고",
        "severity_warning": "경고",
        "severity_critical": "심각",
        "no_findings": "이상 없음",
        "no_change_detail": "임계값을 넘거나 예상 범위를 벗어난 값이 없습니다.",
        "value": "실제값",
        "expected": "예상값",
        "band": "예상 범위",
        "since_label": "시작 시점",
        "score": "점수",
        "segment": "세그먼트",
        "reason": "판단 근거",
        "causes": "원인",
        "no_causes": "이 변화를 설명하는 세그먼트가 없습니다. "
        "변화가 고객 전반에 고르게 퍼져 있습니다.",
        "before_after": "이전 → 이후",
        "size": "규모 이전 → 이후",
        "contribution": "기여도",
        "rate_effect": "비율 효과",
        "mix_effect": "구성비 효과",
        "share": "비중",
        "confidence": "신뢰도",
        "explained": "위 세그먼트로 설명되는 비중",
        "others": "기타 세그먼트",
        "checked": "확인한 차원: {dims} (단독 및 조합)",
        "ruled_out": "원인에서 제외",
        "ruled_out_row": "{segment}: {before} → {after} (신뢰도 {confidence})",
        "related": "같은 세그먼트의 다른 지표",
        "related_row": "{segment}의 {title}: {before} → {after}",
        "events": "변화 시작 무렵의 알려진 이벤트",
        "event_row": "{name}({kind}, {dates}){segment}{effect}",
        "event_effect": "; {effect} 요인으로 예상됨",
        "effect_up": "상승",
        "effect_down": "하락",
        "event_kind_release": "배포",
        "event_kind_campaign": "캠페인",
        "event_kind_promotion": "프로모션",
        "event_kind_outage": "장애",
        "event_kind_policy": "정책 변경",
        "event_kind_other": "기타",
        "notes": "데이터 참고 사항",
        "next_steps": "다음에 할 일",
        "dimensions": "탐색한 세그먼트 차원",
        "chart_alt": "{title}: 최근 {n}개 기간의 실제값과 예상 범위",
        "chart_value": "실제값",
        "chart_expected": "예상값",
        "chart_band": "예상 범위",
        "chart_period": "평가 기간",
        "chart_change": "추세 변화 시점",
        "index_title": "cx-agent 리포트",
        "runs": "실행 내역",
        "history": "지표별 이력",
        "period": "기간",
        "metric": "지표",
        "severity": "심각도",
        "findings": "발견 사항",
        "headline_label": "요약",
        "no_reports": "아직 리포트가 없습니다.",
        "unreadable": "읽지 못한 파일: {names}",
        "and_more": "… 외 {n}개",
        "email_subject": "[{severity}] {headline}",
    },
}

# Korean particle forms: (after a final consonant, after a vowel).
_PARTICLES = {
    "이(가)": ("이", "가"),
    "은(는)": ("은", "는"),
    "을(를)": ("을", "를"),
    "과(와)": ("과", "와"),
    "(으)로": ("으로", "로"),
}
_PARTICLE = re.compile("(.)(" + "|".join(re.escape(p) for p in _PARTICLES) + ")")
_RIEUL = 8  # final ㄹ: takes 로, not 으로
# How a non-Hangul character ends when read aloud: 0 = a vowel, else the final consonant
# (ㄱ 1, ㄴ 4, ㄹ 8, ㅁ 16, ㅇ 21). Digits as Sino-Korean numbers (일, 이, 삼…), "%" as
# 퍼센트, capitals as letter names (엘, 엠, 엔, 알), lowercase as the end of an English word.
_SPOKEN_END = {
    **dict(zip("0123456789", (21, 8, 0, 16, 0, 0, 1, 8, 8, 0), strict=True)),
    **dict.fromkeys(string.ascii_letters + "%", 0),
    "L": 8,
    "M": 16,
    "N": 4,
    "R": 8,
    "l": 8,
    "m": 16,
    "n": 4,
}


def _final_consonant(char: str) -> int | None:
    """The final consonant index of ``char`` as read in Korean (0: none), None if unknown."""
    if "가" <= char <= "힣":
        return (ord(char) - ord("가")) % 28
    return _SPOKEN_END.get(char)


def _particle(match: re.Match[str]) -> str:
    before, form = match[1], match[2]
    final = _final_consonant(before)
    if final is None:
        return before + form  # unknown reading: keep the double form, as Korean UIs do
    after_consonant, after_vowel = _PARTICLES[form]
    if form == "(으)로" and final == _RIEUL:
        return before + after_vowel
    return before + (after_consonant if final else after_vowel)


def fill(pattern: str, **fields: object) -> str:
    """``pattern.format(**fields)`` with Korean particles fitted to the word before them."""
    return _PARTICLE.sub(_particle, pattern.format(**fields))
