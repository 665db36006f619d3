"""Terms of a comment: Korean nouns and stems, English words, negations, two-word phrases."""

from __future__ import annotations

from agent.voice import Tokenizer

NEG = "\u00a0"  # a negation and its word are one unit


def terms(text: str) -> set[str]:
    return set(Tokenizer().terms([text])[0])


def test_korean_nouns_verb_stems_and_phrases() -> None:
    found = terms("상담원 연결이 너무 오래 걸려요. 30분 기다렸어요")
    assert {"상담원", "연결", "걸리다", "기다리다", "상담원 연결"} <= found
    assert not {"너무", "이", "어요"} & found  # adverbs, particles and endings are not terms
    assert "걸리다 기다리다" not in found  # no phrase across a sentence end


def test_a_negation_joins_the_word_it_negates() -> None:
    assert {f"안{NEG}되다", f"연결 안{NEG}되다"} <= terms("전화 연결이 안 돼요")
    assert {f"not{NEG}connect", "agent"} <= terms("Can't connect to an agent")


def test_english_words_lose_their_endings_and_stopwords() -> None:
    found = terms("Waited 40 minutes, nobody answered the calls")
    assert {"wait", "minute", "answer", "call", "wait minute"} <= found
    assert not {"the", "40"} & found


def test_mixed_korean_and_english_and_repeated_words_counted_once() -> None:
    found = Tokenizer().terms(["앱이 자꾸 꺼져요 app crash app crash"])[0]
    assert {"앱", "꺼지다", "app", "crash", "app crash"} <= found
    assert len(found) == len(set(found))
