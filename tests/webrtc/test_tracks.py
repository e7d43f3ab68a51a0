"""The tracks the server sends: a participant's mix as Opus packets on its own clock."""

from __future__ import annotations

import asyncio

from webrtc.mixer import FRAME, RATE
from webrtc.tracks import MixTrack


def test_a_listener_that_falls_behind_loses_the_oldest_packet_and_the_gap_shows_in_the_timestamps() -> None:
    async def run() -> list[tuple[bytes, int | None]]:
        track = MixTrack(asyncio.get_running_loop(), max_queued=2)
        got: list[tuple[bytes, int | None]] = []
        for payload in (b"a", b"b"):
            track._put(payload, 0.0)
            packet = await track.recv()
            got.append((bytes(packet), packet.pts))
            assert packet.time_base * RATE == 1
        for payload in (b"c", b"d", b"e"):  # the sender fell behind: "c" goes
            track._put(payload, 0.0)
        got += [(bytes(p), p.pts) for p in (await track.recv(), await track.recv())]
        assert track.dropped == 1
        return got

    assert asyncio.run(run()) == [(b"a", 0), (b"b", FRAME), (b"d", 3 * FRAME), (b"e", 4 * FRAME)]
