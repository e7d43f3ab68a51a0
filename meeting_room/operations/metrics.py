"""Prometheus metrics for the operators' tools: how the server and its rooms are doing, never who
did what. No member, no meeting title, no ballot: labels are rooms, devices, routes and states.

Two kinds: instruments the code updates as things happen (requests, event appends, caption delays;
process-wide, in ``REGISTRY``), and readings taken at scrape time from the running parts
(``RuntimeCollector``: subscribers, devices, calls, queues, disk)."""

from __future__ import annotations

import asyncio
import shutil
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
REGISTRY = CollectorRegistry(auto_describe=True)

HTTP_REQUESTS = Counter(
    "meeting_room_http_requests", "HTTP requests answered, by route template and status class.",
    ["method", "route", "status"], registry=REGISTRY,
)  # fmt: skip
HTTP_ERRORS = Counter(
    "meeting_room_http_errors", "Requests that failed on the server (status 5xx), by route template.", ["route"], registry=REGISTRY
)
HTTP_SECONDS = Histogram(
    "meeting_room_http_request_seconds", "Time to answer an HTTP request.", ["method"], registry=REGISTRY,
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)  # fmt: skip
EVENT_APPEND_SECONDS = Histogram(
    "meeting_room_event_append_seconds", "Time to decide, link, project and commit a change to the event log.", registry=REGISTRY,
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
)  # fmt: skip
CAPTION_DELAY_SECONDS = Histogram(
    "meeting_room_caption_delay_seconds", "From the end of speech to its final live caption, by room.", ["room"], registry=REGISTRY,
    buckets=(0.5, 1, 1.5, 2, 3, 4, 6, 8, 12, 20, 30, 60),
)  # fmt: skip
LOOP_LAG_SECONDS = Histogram(
    "meeting_room_event_loop_lag_seconds",
    "How late the server's event loop woke for a timer due every 0.1 s: calls' audio, pages' events and requests wait as long.",
    registry=REGISTRY, buckets=(0.001, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
)  # fmt: skip
LOOP_LAG_PERIOD_S = 0.1


async def watch_loop_lag() -> None:
    """Until cancelled: the event loop's lateness into ``LOOP_LAG_SECONDS``, ten times a second (a
    sleep that wakes late measures everything that held the loop or Python's lock meanwhile)."""
    while True:  # (not the loop's own clock: uvloop's is read once per turn of the loop, to the millisecond)
        due = time.monotonic() + LOOP_LAG_PERIOD_S
        await asyncio.sleep(LOOP_LAG_PERIOD_S)
        LOOP_LAG_SECONDS.observe(max(0.0, time.monotonic() - due))


@dataclass(frozen=True)
class CaptionQueue:
    room: str
    queued_s: float  # audio waiting to be captioned
    dropped_s: float  # audio dropped because captions fell behind real time


@dataclass(frozen=True)
class Readings:
    """What the running server reports at scrape time (``Runtime.readings``)."""

    websocket_subscribers: int
    live_sessions: int
    devices: list[tuple[str, str, str, str]]  # (room, kind, device, state)
    call_participants: int
    caption_queues: list[CaptionQueue]
    transcription_jobs: int  # queued or running final passes
    data_dir: Path
    call_audio_lost: tuple[int, int]  # remote listeners' 20 ms frames since the start: (dropped before sending, never mixed)


class RuntimeCollector(Collector):
    def __init__(self, read: Callable[[], Readings]) -> None:
        self._read = read

    def collect(self) -> Iterable[Metric]:
        r = self._read()
        yield GaugeMetricFamily("meeting_room_websocket_subscribers", "Open meeting streams (pages following a meeting).",
                                value=r.websocket_subscribers)  # fmt: skip
        yield GaugeMetricFamily("meeting_room_live_sessions", "Logged-in sessions with an open WebSocket.", value=r.live_sessions)
        devices = GaugeMetricFamily(
            "meeting_room_device_up", "Room devices: 1 when working, 0 otherwise.", labels=["room", "kind", "device", "state"]
        )
        for room, kind, device, state in r.devices:
            devices.add_metric([room, kind, device, state], 1.0 if state in ("ok", "running", "connected") else 0.0)
        yield devices
        yield GaugeMetricFamily("meeting_room_call_participants", "Remote participants connected.", value=r.call_participants)
        queued = GaugeMetricFamily("meeting_room_caption_queue_seconds", "Audio waiting for live captions, by room.", labels=["room"])
        dropped = CounterMetricFamily(
            "meeting_room_dropped_audio_seconds", "Audio dropped by live captions that fell behind.", labels=["room"]
        )
        for q in r.caption_queues:
            queued.add_metric([q.room], q.queued_s)
            dropped.add_metric([q.room], q.dropped_s)
        yield queued
        yield dropped
        sent, mixed = r.call_audio_lost
        yield CounterMetricFamily(
            "meeting_room_call_audio_dropped_frames",
            "Remote participants' 20 ms audio frames dropped before sending: their connection's sender fell behind (event loop busy).",
            value=sent,
        )
        yield CounterMetricFamily(
            "meeting_room_call_mixer_skipped_frames",
            "20 ms frames a conference's mixer never mixed: its thread was held up over 100 ms (a stalled machine).",
            value=mixed,
        )
        yield GaugeMetricFamily(
            "meeting_room_transcription_jobs", "Final transcription passes queued or running.", value=r.transcription_jobs
        )
        try:
            usage = shutil.disk_usage(r.data_dir)
            yield GaugeMetricFamily("meeting_room_disk_free_bytes", "Free space on the data directory's disk.", value=usage.free)
            yield GaugeMetricFamily("meeting_room_disk_total_bytes", "Size of the data directory's disk.", value=usage.total)
        except OSError:
            pass


def exposition(runtime_registry: CollectorRegistry) -> bytes:
    """The text a scrape gets: the process-wide instruments, then the running server's readings."""
    return generate_latest(REGISTRY) + generate_latest(runtime_registry)
