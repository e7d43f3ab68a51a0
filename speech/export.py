"""Transcript files: JSON (written as segments arrive), WebVTT, SRT and RTTM."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any

from speech.transcript import Segment


def _clock(seconds: float, sep: str) -> str:
    ms = max(0, round(seconds * 1000))
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{ms:03d}"


def _line(seg: Segment) -> str:
    return f"{seg.speaker}: {seg.text}" if seg.speaker else seg.text


def to_vtt(segments: Iterable[Segment]) -> str:
    cues = [f"{_clock(s.start, '.')} --> {_clock(s.end, '.')}\n{_line(s)}" for s in segments]
    return "WEBVTT\n\n" + "\n\n".join(cues) + ("\n" if cues else "")


def to_srt(segments: Iterable[Segment]) -> str:
    cues = [f"{i}\n{_clock(s.start, ',')} --> {_clock(s.end, ',')}\n{_line(s)}" for i, s in enumerate(segments, start=1)]
    return "\n\n".join(cues) + ("\n" if cues else "")


def to_rttm(segments: Iterable[Segment], file_id: str) -> str:
    """NIST RTTM speaker turns (speaker names with spaces become underscores)."""
    rows = []
    for s in segments:
        speaker = (s.speaker or "unknown").replace(" ", "_")
        rows.append(f"SPEAKER {file_id} 1 {s.start:.3f} {max(0.0, s.end - s.start):.3f} <NA> <NA> {speaker} <NA> <NA>")
    return "\n".join(rows) + ("\n" if rows else "")


class JsonWriter:
    """Streams ``{"meta": …, "segments": [ … ]}`` to a file one segment at a time."""

    def __init__(self, fh: IO[str], meta: dict[str, Any]) -> None:
        self.fh = fh
        self.count = 0
        fh.write('{"meta": ' + json.dumps(meta, ensure_ascii=False) + ', "segments": [\n')

    def write(self, segment: Segment) -> None:
        self.fh.write((",\n" if self.count else "") + json.dumps(segment.to_dict(), ensure_ascii=False))
        self.fh.flush()
        self.count += 1

    def close(self) -> None:
        self.fh.write("\n]}\n")
        self.fh.flush()


def write_all(segments: list[Segment], out_dir: Path, stem: str, formats: Iterable[str]) -> list[Path]:
    """The non-streaming formats, once the segments are known."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for fmt in formats:
        if fmt == "json":
            continue
        text = {"vtt": lambda: to_vtt(segments), "srt": lambda: to_srt(segments), "rttm": lambda: to_rttm(segments, stem)}[fmt]()
        path = out_dir / f"{stem}.{fmt}"
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written
