"""Transcript files."""

from __future__ import annotations

import io
import json

from speech.export import JsonWriter, to_rttm, to_srt, to_vtt
from speech.transcript import Segment, Word

SEGS = [
    Segment(0.5, 2.25, "Xin chào các đại biểu.", (Word(0.5, 0.9, "Xin", 0.9),), -0.1, 0.01, "Nguyễn Văn An"),
    Segment(3661.0, 3662.5, "Đồng ý.", speaker="Người nói 2"),
]


def test_vtt_and_srt() -> None:
    vtt = to_vtt(SEGS)
    assert vtt.startswith("WEBVTT\n\n00:00:00.500 --> 00:00:02.250\nNguyễn Văn An: Xin chào các đại biểu.")
    assert "01:01:01.000 --> 01:01:02.500\nNgười nói 2: Đồng ý." in vtt
    srt = to_srt(SEGS)
    assert srt.startswith("1\n00:00:00,500 --> 00:00:02,250\n") and "\n\n2\n01:01:01,000" in srt


def test_rttm_has_one_turn_per_segment() -> None:
    lines = to_rttm(SEGS, "phien-hop").splitlines()
    assert lines[0] == "SPEAKER phien-hop 1 0.500 1.750 <NA> <NA> Nguyễn_Văn_An <NA> <NA>"
    assert len(lines) == 2


def test_json_is_streamed_and_valid() -> None:
    buf = io.StringIO()
    w = JsonWriter(buf, {"file": "a.wav"})
    for s in SEGS:
        w.write(s)
    w.close()
    data = json.loads(buf.getvalue())
    assert data["meta"]["file"] == "a.wav" and data["segments"][0]["words"][0]["word"] == "Xin"
    assert data["segments"][0]["confidence"] == round(2.718281828**-0.1, 4)
