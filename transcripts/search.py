"""Search queries over meeting text: parsing, the engines' query strings, and highlighted snippets.

Both the text and the query are folded (``transcripts.text.fold``: lower case, no diacritics, đ -> d)
before they reach an engine, so "bieu quyet" finds "biểu quyết" and "Truong" finds "Trường" on
SQLite FTS5 and on PostgreSQL alike. Words are ANDed; "double quotes" make an exact phrase.
The snippet is cut from the original text at the positions found in the folded text (the two have
the same length by construction).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html import escape

from transcripts.errors import SearchQueryError
from transcripts.text import fold, nfc

MAX_QUERY_CHARS = 300
MAX_TERMS = 16
_WORD = re.compile(r"[^\W_]+")  # letters and digits: FTS5 and PostgreSQL split at "_" too


@dataclass(frozen=True)
class Query:
    terms: tuple[str, ...]  # folded single words
    phrases: tuple[tuple[str, ...], ...]  # folded words of each exact phrase

    @property
    def parts(self) -> list[tuple[str, ...]]:
        return [(t,) for t in self.terms] + list(self.phrases)

    def fts5(self) -> str:
        """An FTS5 MATCH expression: every part quoted, so no word is read as an operator."""
        return " ".join('"' + " ".join(part) + '"' for part in self.parts)

    def tsquery(self) -> str:
        """A PostgreSQL ``to_tsquery('simple', …)`` string: parts ANDed, phrase words adjacent."""
        return " & ".join("(" + " <-> ".join(part) + ")" if len(part) > 1 else part[0] for part in self.parts)


def parse_query(text: str) -> Query:
    """Words and "exact phrases"; refuses an empty, overlong or unbalanced query with the reason."""
    text = nfc(text or "").strip()
    if not text:
        raise SearchQueryError("Hãy nhập từ cần tìm", "The query is empty")
    if len(text) > MAX_QUERY_CHARS:
        raise SearchQueryError(
            f"Câu tìm kiếm dài quá {MAX_QUERY_CHARS} ký tự", f"The query is longer than {MAX_QUERY_CHARS} characters", length=len(text)
        )
    if text.count('"') % 2:
        raise SearchQueryError(
            'Thiếu dấu ngoặc kép đóng cụm từ (dùng "cụm từ" để tìm chính xác)',
            'Unbalanced double quote (use "exact phrase" for a phrase)',
        )
    pieces = text.split('"')
    terms: list[str] = []
    phrases: list[tuple[str, ...]] = []
    for index, piece in enumerate(pieces):
        words = tuple(_WORD.findall(fold(piece)))
        if index % 2:  # inside quotes
            if len(words) > 1:
                phrases.append(words)
            else:
                terms.extend(words)
        else:
            terms.extend(words)
    terms = list(dict.fromkeys(terms))
    if not terms and not phrases:
        raise SearchQueryError("Câu tìm kiếm không có từ nào (chỉ có dấu câu)", "The query holds no word, only punctuation")
    if len(terms) + sum(len(p) for p in phrases) > MAX_TERMS:
        raise SearchQueryError(f"Tối đa {MAX_TERMS} từ trong một lần tìm", f"At most {MAX_TERMS} words per query")
    return Query(tuple(terms), tuple(phrases))


def _patterns(query: Query) -> list[re.Pattern[str]]:
    # word edges as the engines see them: a letter or digit on neither side ("_" separates words)
    return [re.compile(r"(?<![^\W_])" + r"[\W_]+".join(re.escape(w) for w in part) + r"(?![^\W_])") for part in query.parts]


def highlight_spans(text: str, query: Query) -> list[tuple[int, int]]:
    """Where the query's words and phrases occur in ``text`` (positions in ``nfc(text)``), merged.
    Words typed together are most often one Vietnamese word or a name ("nguon thu", "truong son"):
    where they stand together in that order, only those places are marked, not each syllable
    wherever it stands ("thử" for "thu")."""
    folded = fold(text)
    patterns = _patterns(query)
    if len(query.terms) > 1:
        together = _patterns(Query((), (query.terms,)))[0]
        if together.search(folded):
            patterns = [together, *_patterns(Query((), query.phrases))]
    spans = sorted(m.span() for pattern in patterns for m in pattern.finditer(folded))
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def snippet_html(text: str, query: Query, *, width: int = 220) -> str:
    """A window of the original text around the first hit, HTML-escaped, hits in ``<mark>``."""
    original = nfc(text)
    spans = highlight_spans(original, query)
    if not spans:
        cut = original[:width]
        return escape(cut) + ("…" if len(original) > width else "")
    first = spans[0][0]
    start = max(0, first - width // 3)
    if start:
        space = original.find(" ", start)
        start = space + 1 if 0 <= space < first else start
    end = min(len(original), start + width)
    if end < len(original):
        space = original.rfind(" ", start, end)
        end = space if space > spans[0][1] else end
    out, cursor = [], start
    for s, e in spans:
        if e <= start or s >= end:
            continue
        s, e = max(s, start), min(e, end)
        out.append(escape(original[cursor:s]))
        out.append("<mark>" + escape(original[s:e]) + "</mark>")
        cursor = e
    out.append(escape(original[cursor:end]))
    return ("…" if start else "") + "".join(out) + ("…" if end < len(original) else "")
