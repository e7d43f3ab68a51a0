"""Search over real Vietnamese minutes (../shared/testdata/minutes_vi, VnDoc samples): every word typed
without diacritics finds the text with them, phrases match in order, snippets mark the original."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import insert

from meeting_room.db import tables as t
from meeting_room.reads.search_index import Filters, search
from meeting_room.store import Store
from transcripts.search import parse_query
from transcripts.text import fold, nfc

CORPUS = Path(__file__).resolve().parents[4] / "shared" / "testdata" / "minutes_vi"


def _minutes(path: Path) -> list[str]:
    """The page split at each "BIÊN BẢN" heading: one text per filled-in minutes."""
    body = nfc(path.read_text(encoding="utf-8")).split("---", 2)[-1]
    parts = re.split(r"\n(?=[#*\s]*BIÊN BẢN)", body)
    return [" ".join(part.split()) for part in parts if "BIÊN BẢN" in part and len(part) > 200]


@pytest.mark.skipif(not CORPUS.is_dir(), reason="../shared/testdata/minutes_vi is not present")
def test_real_minutes_are_found_without_diacritics(store: Store) -> None:
    texts = [text for path in sorted(CORPUS.glob("*.md")) for text in _minutes(path)]
    assert len(texts) >= 10
    with store.engine.begin() as conn:
        conn.execute(insert(t.Body), [{"id": "b", "name": "Lớp 6A", "short_name": "6A", "created_at": store.now()}])
        for index, text in enumerate(texts):
            meeting_id = f"m{index}"
            conn.execute(insert(t.Meeting), [{"id": meeting_id, "body_id": "b", "title": f"Biên bản {index}", "starts_at": store.now(),
                                              "state": "archived", "created_at": store.now(), "state_changed_at": store.now(),
                                              "last_seq": 0}])  # fmt: skip
            conn.execute(insert(t.SearchDoc), [{"meeting_id": meeting_id, "body_id": "b", "meeting_date": "2026-11-23", "kind": "minutes",
                                                "ref_id": str(index), "text": text, "folded": fold(text)}])  # fmt: skip
    words = sorted({w for text in texts for w in re.findall(r"[^\W_]+", text) if len(w) > 3 and fold(w) != w.lower()})
    assert len(words) > 100
    with store.read() as session:
        for word in words[:: max(1, len(words) // 60)]:  # ~60 words with diacritics, typed without them
            plain = fold(word)
            expected = {i for i, text in enumerate(texts) if re.search(rf"(?<![^\W_]){re.escape(plain)}(?![^\W_])", fold(text))}
            found = search(session, parse_query(plain), Filters(), limit=100)
            assert {int(h.ref_id) for h in found.hits} == expected and found.total == len(expected), word
            assert found.hits and all("<mark>" in h.snippet_html for h in found.hits)
        hits = search(session, parse_query('"thanh phan tham du"'), Filters(), limit=100)
        assert hits.total >= 5 and all("<mark>Thành phần tham dự</mark>" in h.snippet_html for h in hits.hits[:5])
        reversed_phrase = search(session, parse_query('"du tham phan thanh"'), Filters())
        assert reversed_phrase.total == 0
