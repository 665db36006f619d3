"""Korean particles fitted to the word before them: "재방문율이", "31.2%가".

Catalog patterns write a particle after a field in its double form, as Korean software
does ("{subject}이(가)"); ``fit_particles`` picks the form that fits how the word before
it ends when read aloud.
"""

from __future__ import annotations

import re
import string

__all__ = ["fit_particles"]

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


def fit_particles(text: str) -> str:
    """``text`` with each double-form particle replaced by the form that fits."""
    return _PARTICLE.sub(_particle, text)
