"""Live captions of a meeting: audio sources in, partial captions to the WebSocket, final lines
into the log with the speaker's name.

A meeting has at most one live pass. Each audio source (a room microphone channel, a remote
participant, a replayed file) gets a ``speech.live.LiveStream`` in its own worker thread behind
a bounded queue: a source that produces faster than it can be transcribed loses its oldest audio
(counted and logged), never blocks the event loop or the other sources.

Who spoke: a remote participant's audio is theirs; a microphone channel mapped to a member is
theirs; otherwise the utterance's voiceprint joins an online speaker cluster ("Người nói N"),
named after an enrolled member when the voice matches.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from dataclasses import dataclass, field

import numpy as np

from hardware.media import SAMPLE_RATE, AudioChunk
from meeting_room import speech_runtime
from meeting_room.access import Actor, get_meeting, require_staff
from meeting_room.db import tables as t
from meeting_room.errors import ConflictError, NotFoundError
from meeting_room.events import SpeakerSpec
from meeting_room.lifecycle import MeetingState
from meeting_room.services import transcripts
from meeting_room.services.voices import member_names, voice_gallery
from meeting_room.settings import Settings
from meeting_room.store import Store
from speech.live import Caption, LiveOptions, LiveStream
from speech.speakers import OnlineClusters, anonymous
from speech.voiceprint import VoiceEncoder, VoiceGallery

log = logging.getLogger(__name__)
LIVE_STATES = (MeetingState.SCHEDULED, MeetingState.OPEN, MeetingState.IN_SESSION, MeetingState.ADJOURNED)
QUEUE_CHUNKS = 3000  # per source: ~60 s of 20 ms chunks (room inputs deliver 20 ms blocks)
MIN_VOICE_S = 1.0  # shorter utterances join the previous speaker's cluster


@dataclass
class _Meeting:
    meeting_id: str
    pass_id: str
    channels: dict[int, str]  # microphone channel -> member id
    names: dict[str, str]
    gallery: VoiceGallery | None
    clusters: OnlineClusters = field(default_factory=OnlineClusters)
    named: dict[str, SpeakerSpec] = field(default_factory=dict)
    workers: dict[str, _Worker] = field(default_factory=dict)
    last_cluster: str | None = None
    origin: float = 0.0  # wall-clock time of second 0 of the pass (every source's chunks count from it)
    lock: threading.Lock = field(default_factory=threading.Lock)


class _Worker(threading.Thread):
    def __init__(self, owner: LiveCaptions, meeting: _Meeting, key: str, stream: LiveStream, member_id: str | None) -> None:
        super().__init__(name=f"captions-{key}", daemon=True)
        self.owner, self.meeting, self.key, self.stream, self.member_id = owner, meeting, key, stream, member_id
        self.queue: queue.Queue[AudioChunk | None] = queue.Queue(maxsize=QUEUE_CHUNKS)
        self.dropped_s = 0.0

    def put(self, chunk: AudioChunk) -> None:
        while True:
            try:
                self.queue.put_nowait(chunk)
                return
            except queue.Full:
                try:
                    old = self.queue.get_nowait()
                    if old is not None:
                        self.dropped_s += old.duration
                        log.warning("live captions %s: behind real time, dropped %.1f s so far", self.key, self.dropped_s)
                except queue.Empty:
                    pass

    def run(self) -> None:
        while True:
            chunk = self.queue.get()
            try:
                captions = self.stream.flush() if chunk is None else self.stream.feed(chunk)
                for caption in captions:
                    self.owner._deliver(self.meeting, caption, self.member_id)
            except Exception:  # one bad chunk must not end the meeting's captions
                log.exception("live captions %s failed on a chunk", self.key)
            if chunk is None:
                return


class LiveCaptions:
    def __init__(self, store: Store, settings: Settings, options: LiveOptions | None = None) -> None:
        self.store = store
        self.settings = settings
        self.options = options or LiveOptions()
        self._meetings: dict[str, _Meeting] = {}
        self._lock = threading.Lock()
        self._encoder: VoiceEncoder | None = None

    def active(self, meeting_id: str) -> str | None:
        m = self._meetings.get(meeting_id)
        return m.pass_id if m else None

    def origin(self, meeting_id: str) -> float | None:
        """Wall-clock time of second 0 of the meeting's live pass (None: no pass running)."""
        m = self._meetings.get(meeting_id)
        return m.origin if m else None

    def start(self, actor: Actor | None, meeting_id: str, channels: dict[int, str] | None = None, origin: float | None = None) -> str:
        """Open the meeting's live pass (the chair or secretary; None = the system). Idempotent.
        ``origin``: the wall-clock time its second 0 stands for (default: now)."""
        origin = time.time() if origin is None else origin
        channels = dict(channels or {})
        with self.store.read() as session:
            meeting = get_meeting(session, meeting_id)
            if actor is not None:
                require_staff(session, actor, meeting, action_vi="bật phụ đề trực tiếp", action_en="start live captions")
            if MeetingState(meeting.state) not in LIVE_STATES:
                raise ConflictError(
                    f"Cuộc họp đang ở trạng thái {meeting.state}: chỉ phụ đề được khi cuộc họp chưa kết thúc",
                    f"The meeting is {meeting.state}: live captions need a meeting that has not ended",
                    state=meeting.state,
                )
            participants = [p.member_id for p in session.query(t.Participant).filter(t.Participant.meeting_id == meeting_id)]
            for channel, member_id in channels.items():
                if member_id not in participants:
                    raise NotFoundError(
                        f"Kênh {channel}: {member_id} không dự cuộc họp này", f"Channel {channel}: {member_id} is not a participant",
                        channel=channel,
                    )  # fmt: skip
            names = member_names(session, participants)
            gallery = voice_gallery(session, participants, self.settings.voice_threshold, self.settings.voice_margin)
        transcriber = speech_runtime.transcriber(self.settings, live=True)  # loads before the pass is opened
        with self._lock:
            existing = self._meetings.get(meeting_id)
            if existing is not None:
                existing.channels.update(channels)
                return existing.pass_id
            pass_id = transcripts.new_pass(
                self.store, meeting_id, "live", transcriber.model_dir.name, actor_id=actor.member_id if actor else None
            )
            self._meetings[meeting_id] = _Meeting(meeting_id, pass_id, channels, names, gallery if len(gallery) else None, origin=origin)
            self._transcriber = transcriber
        return pass_id

    def feed(self, meeting_id: str, chunk: AudioChunk, member_id: str | None = None) -> None:
        """Thread-safe. ``member_id``: the remote participant whose audio this is."""
        meeting = self._meetings.get(meeting_id)
        if meeting is None:
            raise ConflictError("Phụ đề trực tiếp chưa được bật cho cuộc họp này", "Live captions are not started for this meeting")
        key = f"member:{member_id}" if member_id else f"{chunk.source or 'room'}:{chunk.channel if chunk.channel is not None else 'mix'}"
        with meeting.lock:
            worker = meeting.workers.get(key)
            if worker is None:
                stream = LiveStream(self._transcriber, key, self.options, chunk.channel)
                worker = meeting.workers[key] = _Worker(self, meeting, key, stream, member_id)
                worker.start()
        worker.put(chunk)

    def end_source(self, meeting_id: str, key_source: str, channel: int | None = None, member_id: str | None = None) -> None:
        """A source ended (file finished, participant left): finish what was being said."""
        meeting = self._meetings.get(meeting_id)
        key = f"member:{member_id}" if member_id else f"{key_source or 'room'}:{channel if channel is not None else 'mix'}"
        if meeting is not None and (worker := meeting.workers.get(key)) is not None:
            worker.queue.put(None)
            worker.join(timeout=120)  # stays listed until done, so that stop() waits for it too
            with meeting.lock:
                if meeting.workers.get(key) is worker:
                    del meeting.workers[key]

    def stop(self, actor: Actor | None, meeting_id: str) -> str | None:
        """Finish every source and close the live pass; returns its id (None if none was running)."""
        if actor is not None:
            with self.store.read() as session:
                require_staff(session, actor, get_meeting(session, meeting_id), action_vi="tắt phụ đề", action_en="stop live captions")
        with self._lock:
            meeting = self._meetings.pop(meeting_id, None)
        if meeting is None:
            return None
        audio_s = 0.0
        for worker in list(meeting.workers.values()):
            worker.queue.put(None)
        for worker in list(meeting.workers.values()):
            worker.join(timeout=120)
            audio_s = max(audio_s, worker.stream.position)
        transcripts.end_pass(self.store, meeting_id, meeting.pass_id, "completed", audio_s)
        return meeting.pass_id

    def stop_all(self) -> None:
        for meeting_id in list(self._meetings):
            try:
                self.stop(None, meeting_id)
            except Exception:
                log.exception("closing live captions of %s", meeting_id)

    # --- on a worker thread -------------------------------------------------------------------

    def _deliver(self, meeting: _Meeting, caption: Caption, member_id: str | None) -> None:
        if not caption.final:
            mapped = member_id or (meeting.channels.get(caption.channel) if caption.channel is not None else None)
            self.store.bus.publish_transient(
                meeting.meeting_id,
                {
                    "kind": "caption",
                    "final": False,
                    "pass_id": meeting.pass_id,
                    "stream": caption.stream,
                    "start": round(caption.start, 2),
                    "end": round(caption.end, 2),
                    "text": caption.text,
                    "speaker": meeting.names.get(mapped) if mapped else None,
                },
            )
            return
        if not caption.segments:
            # speech that turned out to be nothing: clear the partial on screen
            self.store.bus.publish_transient(
                meeting.meeting_id, {"kind": "caption", "final": True, "pass_id": meeting.pass_id, "stream": caption.stream, "text": ""}
            )
            return
        cluster = self._speaker(meeting, caption, member_id)
        for segment in caption.segments:
            transcripts.add_segment(self.store, meeting.meeting_id, meeting.pass_id, segment, cluster)

    def _speaker(self, meeting: _Meeting, caption: Caption, member_id: str | None) -> str | None:
        mapped = member_id or (meeting.channels.get(caption.channel) if caption.channel is not None else None)
        if mapped is not None:
            cluster = f"member-{mapped}"
            source = "remote" if member_id else "channel"
            if cluster not in meeting.named:
                spec = SpeakerSpec(cluster=cluster, name=meeting.names.get(mapped, mapped), member_id=mapped, source=source)
                self._name(meeting, spec)
            return cluster
        audio = caption.audio
        if audio is None or len(audio) < MIN_VOICE_S * SAMPLE_RATE:
            return meeting.last_cluster
        embedding = self._voice().embed(audio)
        with meeting.lock:
            cluster = meeting.clusters.assign(embedding)
            centroid = meeting.clusters.centroids[cluster]
        match = meeting.gallery.match(centroid) if meeting.gallery is not None else None
        current = meeting.named.get(cluster)
        if match is not None and (current is None or current.member_id != match.member_id):
            taken = {s.member_id for c, s in meeting.named.items() if c != cluster}
            if match.member_id not in taken:
                name = meeting.names.get(match.member_id, match.member_id)
                self._name(meeting, SpeakerSpec(cluster=cluster, name=name, member_id=match.member_id, score=match.score, source="voice"))
        if cluster not in meeting.named:
            n = 1 + sum(1 for s in meeting.named.values() if s.source == "anonymous")
            self._name(meeting, SpeakerSpec(cluster=cluster, name=anonymous(n), source="anonymous"))
        meeting.last_cluster = cluster
        return cluster

    def _name(self, meeting: _Meeting, spec: SpeakerSpec) -> None:
        meeting.named[spec.cluster] = spec
        transcripts.add_speakers(self.store, meeting.meeting_id, meeting.pass_id, [spec])

    def _voice(self) -> VoiceEncoder:
        if self._encoder is None:
            self._encoder = speech_runtime.voice_encoder(self.settings)
        return self._encoder


def pcm16_chunk(data: bytes, start: float, source: str, channel: int | None = None) -> AudioChunk:
    """Little-endian 16-bit mono PCM at 16 kHz (what the audio WebSocket carries) as a chunk."""
    if len(data) % 2:
        raise ValueError("PCM16 data must have an even number of bytes")
    samples = np.frombuffer(data, "<i2").astype(np.float32) / 32768.0
    return AudioChunk(samples, start, source, channel)
