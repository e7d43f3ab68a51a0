"""Live captions of a meeting: audio sources in, partial captions to the WebSocket, final lines
into the log with the speaker's name.

A meeting has at most one live pass. Each audio source (a room microphone channel, a remote
participant, a replayed file) gets a ``speech.live.LiveStream`` in its own worker thread behind
a bounded queue: a source that produces faster than it can be transcribed loses its oldest audio
(counted and logged), never blocks the event loop or the other sources.

Every source goes through one ``LiveCaptions.feed(meeting, source, samples, rate, wall_time)``:
it resamples to 16 kHz (on the source's worker) and keeps the clock. Caption times are seconds
since the pass's start (its ``origin``): a source's stream starts at the wall-clock time of its
first sample and then counts its samples; when audio goes missing for longer than ``GAP_S`` (an
input away, a muted participant, a stalled sender) the stream finishes what was said and starts
again at the wall clock. So the room, calls, replays and the audio WebSocket line up in one pass.

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
from pathlib import Path
from typing import Literal

import numpy as np

from hardware.media import SAMPLE_RATE, AudioChunk
from hardware.replay import replay
from hardware.resample import Resampler
from meeting_room.access import Actor, get_meeting, require_staff
from meeting_room.db import tables as t
from meeting_room.errors import ConflictError, NotFoundError
from meeting_room.events import SpeakerSpec
from meeting_room.lifecycle import MeetingState
from meeting_room.live import speech_runtime
from meeting_room.operations.metrics import CAPTION_DELAY_SECONDS, CaptionQueue
from meeting_room.services import transcripts
from meeting_room.services.voices import member_names, voice_gallery
from meeting_room.settings import Settings
from meeting_room.store import Store
from speech.asr import Transcriber
from speech.live import Caption, LiveDecoder, LiveOptions, LiveStream
from speech.speakers import OnlineClusters, anonymous
from speech.voiceprint import VoiceEncoder, VoiceGallery

log = logging.getLogger(__name__)
LIVE_STATES = (MeetingState.SCHEDULED, MeetingState.OPEN, MeetingState.IN_SESSION, MeetingState.ADJOURNED)
QUEUE_CHUNKS = 3000  # per source: ~60 s of 20 ms chunks (room inputs deliver 20 ms blocks)
BATCH_PIECES = 100  # a worker takes up to this many queued chunks at once
MIN_VOICE_S = 1.0  # shorter utterances join the previous speaker's cluster
SHUTDOWN_WAIT_S = 20.0  # server shutdown: how long the last words of every source may take, all together
GAP_S = 0.5  # a source silent on the wall clock this much longer than its audio lasted restarts at the wall clock


@dataclass(frozen=True)
class AudioSource:
    """Where live audio comes from: a room input (one seat's ``channel``, or the input's mix), a
    remote participant's own voice (``member_id``), a replayed recording, the audio WebSocket."""

    name: str = "room"
    channel: int | None = None  # the microphone channel: its seat's member is the speaker
    member_id: str | None = None  # the remote participant whose voice this is

    @property
    def key(self) -> str:
        if self.member_id:
            return f"member:{self.member_id}"
        return f"{self.name or 'room'}:{self.channel if self.channel is not None else 'mix'}"


@dataclass(frozen=True)
class _Piece:
    samples: np.ndarray  # mono float32 at ``rate``
    rate: int
    start: float  # seconds of the pass
    restart: bool  # a new stream begins here (the source's first audio, or audio after a gap)

    @property
    def duration(self) -> float:
        return len(self.samples) / self.rate


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
    ending: list[_Worker] = field(default_factory=list)  # sources that ended, finishing their last words
    last_cluster: str | None = None
    origin: float = 0.0  # wall-clock time of second 0 of the pass (every source's chunks count from it)
    room: str = "-"  # the meeting's room, the label of its metrics
    ended_s: float = 0.0  # how far the sources that already ended reached (the pass's length counts them)
    lock: threading.Lock = field(default_factory=threading.Lock)


class _Worker(threading.Thread):
    """One source's captions: its queue, its clock (kept by ``feed`` under the meeting's lock) and,
    on this thread, its resampler and ``LiveStream``."""

    def __init__(self, owner: LiveCaptions, meeting: _Meeting, source: AudioSource) -> None:
        super().__init__(name=f"captions-{source.key}", daemon=True)
        self.owner, self.meeting, self.source = owner, meeting, source
        self.queue: queue.Queue[_Piece | None] = queue.Queue(maxsize=QUEUE_CHUNKS)
        self.dropped_s = 0.0
        self.next_s: float | None = None  # seconds of the pass of the source's next sample
        self.stream: LiveStream | None = None
        self._resampler: Resampler | None = None

    @property
    def position(self) -> float:
        return self.stream.position if self.stream is not None else 0.0

    def place(self, samples: np.ndarray, rate: int, at_s: float) -> _Piece:
        """The piece's time in the pass: where the source's audio so far ends, or ``at_s`` (its wall
        clock) when that is over ``GAP_S`` later (audio went missing) or this is the first."""
        if self.next_s is None or at_s - self.next_s > GAP_S:
            piece = _Piece(samples, rate, at_s, True)
        else:  # earlier than its audio so far ends (a sender ahead of real time, jitter): it follows on
            piece = _Piece(samples, rate, self.next_s, False)
        self.next_s = piece.start + piece.duration
        return piece

    def put(self, piece: _Piece) -> None:
        while True:
            try:
                self.queue.put_nowait(piece)
                return
            except queue.Full:
                try:
                    old = self.queue.get_nowait()
                    if old is not None:
                        self.dropped_s += old.duration
                        log.warning("live captions %s: behind real time, dropped %.1f s so far", self.source.key, self.dropped_s)
                except queue.Empty:
                    pass

    def drop_backlog(self) -> None:
        """Server shutdown: audio still waiting is not captioned live (the room's recording and the
        final pass have it); only what the stream already holds is finished."""
        while True:
            try:
                old = self.queue.get_nowait()
            except queue.Empty:
                break
            if old is not None:
                self.dropped_s += old.duration
        if self.dropped_s:
            log.info("live captions %s: %.1f s left to the final pass", self.source.key, self.dropped_s)

    def run(self) -> None:
        while True:
            pieces = [self.queue.get()]
            while pieces[-1] is not None and len(pieces) < BATCH_PIECES:  # all that waits, in one go: fewer calls when behind
                try:
                    pieces.append(self.queue.get_nowait())
                except queue.Empty:
                    break
            for piece in _joined(pieces):
                try:
                    for caption in self._captions(piece):
                        self.owner._deliver(self.meeting, caption, self.source.member_id)
                except Exception:  # one bad chunk must not end the meeting's captions
                    log.exception("live captions %s failed on a chunk", self.source.key)
            if pieces[-1] is None:
                return

    def _captions(self, piece: _Piece | None) -> list[Caption]:
        if piece is None:
            return self.stream.flush() if self.stream is not None else []
        out: list[Caption] = []
        stream = self.stream
        if piece.restart or stream is None:  # what was said before the gap is finished first
            out += stream.flush() if stream is not None else []
            transcriber, decoder = self.owner._model()
            stream = self.stream = LiveStream(transcriber, self.source.key, self.owner.options, self.source.channel, decoder)
            self._resampler = None
        if self._resampler is None or self._resampler.rate_in != piece.rate:
            self._resampler = Resampler(piece.rate, SAMPLE_RATE)
        samples = self._resampler(piece.samples)
        return out + stream.feed(AudioChunk(samples, piece.start, self.source.name, self.source.channel))


def _joined(pieces: list[_Piece | None]) -> list[_Piece | None]:
    """Pieces that follow on (no restart, the same rate) joined into one."""
    out: list[_Piece | None] = []
    for piece in pieces:
        last = out[-1] if out else None
        if piece is not None and last is not None and not piece.restart and piece.rate == last.rate:
            out[-1] = _Piece(np.concatenate([last.samples, piece.samples]), last.rate, last.start, last.restart)
        else:
            out.append(piece)
    return out


class LiveCaptions:
    def __init__(self, store: Store, settings: Settings, options: LiveOptions | None = None) -> None:
        self.store = store
        self.settings = settings
        self.options = options or LiveOptions()
        self._meetings: dict[str, _Meeting] = {}
        self._lock = threading.Lock()
        self._encoder: VoiceEncoder | None = None
        self._decoder: LiveDecoder | None = None  # one for every source of every meeting: finals first

    def queues(self) -> list[CaptionQueue]:
        """Per live pass: audio waiting to be captioned and audio dropped (for the metrics)."""
        with self._lock:
            meetings = list(self._meetings.values())
        found = []
        for m in meetings:
            workers = [*m.workers.values(), *m.ending]
            queued = 0.0
            for w in workers:
                with w.queue.mutex:  # a copy under the queue's own lock: the worker takes from it meanwhile
                    queued += sum(piece.duration for piece in w.queue.queue if piece is not None)
            found.append(CaptionQueue(m.room, queued, sum(w.dropped_s for w in workers)))
        return found

    def active(self, meeting_id: str) -> str | None:
        m = self._meetings.get(meeting_id)
        return m.pass_id if m else None

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
                    f"Cuộc họp đang ở trạng thái “{MeetingState(meeting.state).label_vi}”: chỉ phụ đề được khi cuộc họp chưa kết thúc",
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
            room = session.get(t.Room, meeting.room_id) if meeting.room_id else None
            gallery = voice_gallery(session, participants, self.settings.voice_threshold, self.settings.voice_margin)
        # checked now (a missing model refuses the pass), loaded by the sources' workers when their
        # first audio comes (it queues meanwhile) or already at the server's start (``warm_up``)
        model = speech_runtime.live_model_dir(self.settings)
        with self._lock:
            existing = self._meetings.get(meeting_id)
            if existing is not None:
                existing.channels.update(channels)
                return existing.pass_id
            pass_id = transcripts.new_pass(
                self.store, meeting_id, "live", model.name, actor_id=actor.member_id if actor else None, while_states=LIVE_STATES
            )
            self._meetings[meeting_id] = _Meeting(
                meeting_id, pass_id, channels, names, gallery if len(gallery) else None, origin=origin, room=room.name if room else "-"
            )
        # a close recorded between the pass and this: the close's stop found nothing to stop yet, so stop it here
        with self.store.read() as session:
            state = MeetingState(get_meeting(session, meeting_id).state)
        if state not in LIVE_STATES:
            self.stop(None, meeting_id)
            raise ConflictError(
                f"Cuộc họp vừa chuyển sang “{state.label_vi}”: phụ đề trực tiếp đã dừng",
                f"The meeting has just become {state}: live captions stopped",
                state=state.value,
            )
        return pass_id

    def _model(self) -> tuple[Transcriber, LiveDecoder]:
        """The live model and the one decoder every source shares (loaded on first use)."""
        transcriber = speech_runtime.transcriber(self.settings, live=True)
        with self._lock:
            if self._decoder is None or self._decoder.transcriber is not transcriber:
                self._decoder = LiveDecoder(transcriber)
            return transcriber, self._decoder

    def seat(self, meeting_id: str, channels: dict[int, str]) -> None:
        """The room's seating changed during the meeting: each channel names its new occupant from now on."""
        meeting = self._meetings.get(meeting_id)
        if meeting is None:
            return
        with self.store.read() as session:
            names = member_names(session, list(channels.values()))
        with meeting.lock:
            meeting.names.update(names)
            meeting.channels = dict(channels)

    def feed(self, meeting_id: str, source: AudioSource, samples: np.ndarray, rate: int, wall_time: float) -> None:
        """Thread-safe and quick (the event loop calls it): mono float32 ``samples`` at ``rate`` Hz
        from ``source``, ``wall_time`` the ``time.time()`` of their first sample."""
        meeting = self._meetings.get(meeting_id)
        if meeting is None:
            raise ConflictError("Phụ đề trực tiếp chưa được bật cho cuộc họp này", "Live captions are not started for this meeting")
        with meeting.lock:
            worker = meeting.workers.get(source.key)
            if worker is None:
                worker = meeting.workers[source.key] = _Worker(self, meeting, source)
                worker.start()
            # audio captured just before the pass opened (a socket's first chunk) starts at its second 0
            piece = worker.place(np.asarray(samples, np.float32).reshape(-1), rate, max(0.0, wall_time - meeting.origin))
        worker.put(piece)

    def feed_pcm16(self, meeting_id: str, source: AudioSource, data: bytes) -> None:
        """Audio as the WebSocket carries it (16 kHz mono little-endian 16-bit PCM), just arrived:
        its last sample was captured about now. ``ValueError`` for an odd number of bytes."""
        samples = pcm16(data)
        self.feed(meeting_id, source, samples, SAMPLE_RATE, time.time() - len(samples) / SAMPLE_RATE)

    def replay(self, meeting_id: str, pass_id: str, path: Path, source: AudioSource, speed: float = 1.0) -> threading.Thread:
        """Play a recording (``source.channel`` of it, or its mix) into the pass ``pass_id`` at
        real-time pace (``speed`` times faster), as a room microphone would, on a thread of its own;
        it ends with the file or with the pass."""

        def run() -> None:
            began = time.time()
            chunks = replay(path, speed=speed, channel=source.channel, source=source.name, stop=lambda: self.active(meeting_id) != pass_id)
            try:
                for chunk in chunks:
                    self.feed(meeting_id, source, chunk.samples, chunk.sample_rate, began + chunk.start / speed)
            except ConflictError:
                return  # the pass was stopped meanwhile
            if self.active(meeting_id) == pass_id:
                self.end_source(meeting_id, source)

        thread = threading.Thread(target=run, name=f"replay-{source.name}", daemon=True)
        thread.start()
        return thread

    def end_source(self, meeting_id: str, source: AudioSource) -> None:
        """A source ended (file finished, participant left): finish what was being said. The source
        is let go at once, so that the same source coming back (a dropped call that rejoins) starts
        afresh instead of queueing behind the end."""
        meeting = self._meetings.get(meeting_id)
        if meeting is None:
            return
        with meeting.lock:
            worker = meeting.workers.pop(source.key, None)
            if worker is None:
                return
            meeting.ending.append(worker)
        worker.queue.put(None)
        worker.join(timeout=120)  # stays in ``ending`` until done, so that stop() waits for it too
        with meeting.lock:
            meeting.ended_s = max(meeting.ended_s, worker.position)
            if worker in meeting.ending:
                meeting.ending.remove(worker)

    def stop(self, actor: Actor | None, meeting_id: str, *, backlog: bool = True, wait_s: float = 120) -> str | None:
        """Finish every source and close the live pass; returns its id (None if none was running).
        ``backlog=False`` (server shutdown) drops audio still waiting instead of captioning it first."""
        if actor is not None:
            with self.store.read() as session:
                require_staff(session, actor, get_meeting(session, meeting_id), action_vi="tắt phụ đề", action_en="stop live captions")
        with self._lock:
            meeting = self._meetings.pop(meeting_id, None)
        if meeting is None:
            return None
        with meeting.lock:
            active, ending = list(meeting.workers.values()), list(meeting.ending)
        workers = active + ending
        for worker in workers:
            if not backlog:
                worker.drop_backlog()  # an ending source's end goes with it: given again below
            if worker in active or not backlog:
                worker.queue.put(None)
        deadline = time.monotonic() + wait_s
        for worker in workers:  # one deadline for all: they finish side by side
            worker.join(timeout=max(0.0, deadline - time.monotonic()))
            if worker.is_alive():
                log.warning("live captions %s: still finishing after %.0f s; the pass closes without it", worker.source.key, wait_s)
        audio_s = max([meeting.ended_s, *(w.position for w in workers)])
        transcripts.end_pass(self.store, meeting_id, meeting.pass_id, "completed", audio_s)
        return meeting.pass_id

    def stop_all(self, wait_s: float = SHUTDOWN_WAIT_S) -> None:
        """Server shutdown: every pass closes, with what was being said finished, the backlog dropped."""
        for meeting_id in list(self._meetings):
            try:
                self.stop(None, meeting_id, backlog=False, wait_s=wait_s)
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
        CAPTION_DELAY_SECONDS.labels(meeting.room).observe(max(0.0, time.time() - (meeting.origin + caption.end)))
        cluster = self._speaker(meeting, caption, member_id)
        for segment in caption.segments:
            transcripts.add_segment(self.store, meeting.meeting_id, meeting.pass_id, segment, cluster)

    def _speaker(self, meeting: _Meeting, caption: Caption, member_id: str | None) -> str | None:
        mapped = member_id or (meeting.channels.get(caption.channel) if caption.channel is not None else None)
        if mapped is not None:
            cluster = f"member-{mapped}"
            source: Literal["remote", "channel"] = "remote" if member_id else "channel"
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


def pcm16(data: bytes) -> np.ndarray:
    """Little-endian 16-bit PCM (what the audio WebSocket carries) as float32 samples."""
    if len(data) % 2:
        raise ValueError("PCM16 data must have an even number of bytes")
    return np.frombuffer(data, "<i2").astype(np.float32) / 32768.0
