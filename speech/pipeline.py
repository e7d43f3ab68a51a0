"""The one transcription pipeline of a recording: diarize -> name the speakers -> transcribe ->
attribute each line to its speaker. The command line and a meeting's final pass both run it.

``SpeechPipeline.run`` finds who speaks first (diarization and voiceprints, or one speaker per
microphone channel); the lines then stream out of ``Transcript.lines()`` as they are decoded, so a
caller can store the speakers before the first line and stop between lines.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from speech.asr import AsrOptions, Transcriber
from speech.diarization import Diarization, DiarizationOptions, Diarizer, Progress
from speech.speakers import SpeakerLabel, attribute, name_clusters
from speech.transcript import Segment
from speech.voiceprint import VoiceGallery

AsrProgress = Callable[[float], None]  # seconds of audio decoded so far
Line = tuple[Segment, str | None]  # the segment (``speaker`` set to the speaker's name) and its speaker cluster


@dataclass(frozen=True)
class Transcript:
    """A transcription under way: its speakers are known, its lines are decoded as they are read."""

    speakers: dict[str, SpeakerLabel]  # cluster -> who, in order of first speech (or of channel)
    diarization: Diarization | None  # None: not diarized (the channel is the speaker, or no speakers at all)
    _decode: Callable[[AsrProgress | None], Iterator[Line]] = field(repr=False)

    def lines(self, progress: AsrProgress | None = None) -> Iterator[Line]:
        """Each line with its speaker, as decoded; ``progress(seconds_done)`` after each window."""
        return self._decode(progress)


@dataclass(frozen=True)
class SpeechPipeline:
    """The loaded models of a transcription. Without a diarizer nobody is told apart by voice."""

    transcriber: Transcriber
    diarizer: Diarizer | None = None

    def run(
        self,
        audio: str | Path,
        options: AsrOptions | None = None,
        *,
        diarization: DiarizationOptions | None = None,
        gallery: VoiceGallery | None = None,
        names: Mapping[str, str] | None = None,
        channels: Mapping[int, str] | None = None,
        done: Mapping[int | None, float] | None = None,
        progress: Progress | None = None,
    ) -> Transcript:
        """Transcribe the file ``audio``. ``channels`` (channel -> member id: one microphone per seat)
        makes each channel its own speaker, without diarization; else, with a diarizer, clusters are
        named after the enrolled voices of ``gallery`` that match (``names``: member id -> name), or
        "Người nói N". ``done``: where the lines already transcribed end, per channel (None: the mix),
        to resume a pass. ``progress``: the diarization's steps."""
        options = options or AsrOptions()
        names = dict(names or {})
        done = dict(done or {})
        if channels:
            labels = {f"channel-{ch}": SpeakerLabel(f"channel-{ch}", names.get(member, member), member) for ch, member in channels.items()}

            def by_channel(asr_progress: AsrProgress | None) -> Iterator[Line]:
                for ch in channels:
                    start = done.get(ch, 0.0)
                    decoded = self.transcriber.transcribe_file(audio, options, asr_progress, channel=ch, start_s=start)
                    yield from _named(((s, f"channel-{ch}") for s in decoded), labels, start)

            return Transcript(labels, None, by_channel)
        start = max(done.values(), default=0.0)
        if self.diarizer is None:

            def plain(asr_progress: AsrProgress | None) -> Iterator[Line]:
                decoded = self.transcriber.transcribe_file(audio, options, asr_progress, start_s=start)
                yield from _named(((s, None) for s in decoded), {}, start)

            return Transcript({}, None, plain)
        found = self.diarizer.diarize_file(audio, diarization or DiarizationOptions(), progress)
        labels = name_clusters(found, gallery, names)

        def diarized(asr_progress: AsrProgress | None) -> Iterator[Line]:
            decoded = self.transcriber.transcribe_file(audio, options, asr_progress, start_s=start)
            yield from _named(attribute(decoded, found), labels, start)

        return Transcript(labels, found, diarized)


def _named(lines: Iterator[Line], labels: dict[str, SpeakerLabel], start: float) -> Iterator[Line]:
    for segment, cluster in lines:
        if segment.end <= start:
            continue  # decoded again at the seam of a resume
        yield replace(segment, speaker=labels[cluster].name if cluster in labels else None), cluster
