"""Search queries: folding, phrases, the engines' query strings, snippets, and refused queries."""

from __future__ import annotations

import pytest

from transcripts.errors import SearchQueryError
from transcripts.search import highlight_spans, parse_query, snippet_html
from transcripts.text import fold, nfc


def test_folding_keeps_positions_and_handles_d_bar() -> None:
    for text in ("Đường Trường Sơn", "biểu quyết", "ỬỮỰ", "Nghị quyết số 12/NQ-HĐND"):
        assert len(fold(text)) == len(nfc(text))
    assert fold("Đường Trường Sơn biểu quyết") == "duong truong son bieu quyet"
    assert fold("bie\u0302\u0309u") == "bieu"  # NFD input


def test_words_and_phrases() -> None:
    q = parse_query('bieu quyet "KẾ hoạch đầu tư" Trường')
    assert q.terms == ("bieu", "quyet", "truong") and q.phrases == (("ke", "hoach", "dau", "tu"),)
    assert q.fts5() == '"bieu" "quyet" "truong" "ke hoach dau tu"'
    assert q.tsquery() == "bieu & quyet & truong & (ke <-> hoach <-> dau <-> tu)"
    assert parse_query('"ngân"').terms == ("ngan",)
    assert parse_query("NOT OR AND").fts5() == '"not" "or" "and"'  # operators are words, never syntax


@pytest.mark.parametrize("bad", ["", "   ", '"kế hoạch', "!!! ???", "x" * 301, " ".join(f"tu{i}" for i in range(17))])
def test_bad_queries_say_what_is_wrong(bad: str) -> None:
    with pytest.raises(SearchQueryError) as err:
        parse_query(bad)
    assert err.value.message_vi and err.value.message_en


def test_snippet_marks_the_original_words() -> None:
    text = "Mở đầu. " * 40 + "Ông Nguyễn Văn Trường đề nghị biểu quyết <kế hoạch> đầu tư công năm 2027. " + "Kết thúc. " * 40
    q = parse_query('truong "bieu quyet"')
    html = snippet_html(text, q)
    assert "<mark>Trường</mark>" in html and "<mark>biểu quyết</mark>" in html
    assert "&lt;kế hoạch&gt;" in html  # escaped
    assert html.startswith("…") and html.endswith("…") and len(html) < 400
    assert highlight_spans("truongson Trường", parse_query("truong")) == [(10, 16)]  # whole words only


def test_words_typed_together_are_marked_where_they_stand_together() -> None:
    text = "Cần thử nghiệm cách tăng nguồn thu từ đất; nguồn thu ngân sách năm nay tăng."
    html = snippet_html(text, parse_query("nguon thu"))
    assert html.count("<mark>nguồn thu</mark>") == 2 and "<mark>thử</mark>" not in html and "<mark>thu</mark>" not in html
    apart = snippet_html("Thu ngân sách từ các nguồn khác nhau.", parse_query("nguon thu"))
    assert "<mark>Thu</mark>" in apart and "<mark>nguồn</mark>" in apart  # never together: each word, as before
    assert "<mark>Trường Sơn</mark>" in snippet_html("Đường Trường Sơn, Trường Sa.", parse_query("truong son"))

