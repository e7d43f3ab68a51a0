"""The conference mixer: each listener hears everyone but their own group; jitter buffers start
after the prebuffer, cap the delay, and count what they had to drop or pad."""

from __future__ import annotations

import numpy as np
import pytest

from webrtc.errors import IceConfigError
from webrtc.ice import parse_ice_servers, rtc_configuration
from webrtc.mixer import FRAME, RATE, Mixer


def _const(value: float, frames: int = 1) -> np.ndarray:
    return np.full(FRAME * frames, value, np.float32)


def test_everyone_hears_everyone_but_themselves_and_the_room_not_itself() -> None:
    mixer = Mixer(prebuffer_ms=0)
    heard: dict[str, list[np.ndarray]] = {}

    def sink(key: str):
        return lambda samples, wall: heard.setdefault(key, []).append(samples.copy())

    a, b = mixer.add("a", sink("a")), mixer.add("b", sink("b"))
    mic1, mic2 = mixer.add("room:1", group="room"), mixer.add("room:2", group="room")
    mixer.add("room:speakers", sink("speakers"), group="room")
    for leg, value in ((a, 0.1), (b, 0.2), (mic1, 0.01), (mic2, 0.02)):
        leg.push(_const(value))
    mixer.tick()
    assert heard["a"][0] == pytest.approx(_const(0.23))  # b + both room inputs
    assert heard["b"][0] == pytest.approx(_const(0.13))
    assert heard["speakers"][0] == pytest.approx(_const(0.3))  # only the remote voices: no echo loop
    a.muted = True
    a.push(_const(0.1))
    b.push(_const(0.2))
    mixer.tick()
    assert heard["b"][1] == pytest.approx(_const(0.0)) and heard["speakers"][1] == pytest.approx(_const(0.2))


def test_the_rooms_feed_into_an_sfu_carries_the_room_only() -> None:
    """Through Janus the remote side hears each other there: the room's own feed is its microphones, nobody remote."""
    mixer = Mixer(prebuffer_ms=0)
    heard: list[np.ndarray] = []
    remote, mic = mixer.add("member:a"), mixer.add("room:1", group="room")
    mixer.add("sfu:room", lambda samples, wall: heard.append(samples.copy()), group="sfu", hears="room")
    remote.push(_const(0.1))
    mic.push(_const(0.02))
    mixer.tick()
    remote.push(_const(0.1))
    mixer.tick()  # the room silent: its feed is silent although a remote voice goes on
    assert heard[0] == pytest.approx(_const(0.02)) and heard[1] == pytest.approx(_const(0.0))


def test_jitter_buffer_prebuffers_caps_delay_and_counts_underruns() -> None:
    mixer = Mixer(prebuffer_ms=40, max_buffer_ms=100)
    got: list[np.ndarray] = []
    leg = mixer.add("a")
    mixer.add("listener", lambda s, w: got.append(s.copy()))
    leg.push(_const(0.5))  # 20 ms: below the 40 ms prebuffer, nothing plays yet
    mixer.tick()
    assert got[-1] == pytest.approx(_const(0.0))
    leg.push(_const(0.5))
    mixer.tick()
    assert got[-1] == pytest.approx(_const(0.5))
    mixer.tick()
    mixer.tick()  # starved: padded with silence, counted, and waits for the prebuffer again
    assert leg.stats.underruns == 1 and got[-1] == pytest.approx(_const(0.0))
    leg.push(_const(0.5, frames=10))  # 200 ms at once: the buffer keeps the newest 40 ms, not 200
    assert leg.queued_ms() == pytest.approx(40) and leg.stats.dropped_s == pytest.approx(0.16)
    assert leg.stats.received_s == pytest.approx(12 * FRAME / RATE)


def test_ice_servers_are_checked_and_none_is_the_default() -> None:
    assert rtc_configuration(parse_ice_servers([])).iceServers == []  # no public STUN: nothing leaves the LAN
    servers = parse_ice_servers(["stun:10.0.0.5:3478", {"urls": ["turn:10.0.0.5:3478"], "username": "u", "credential": "p"}])
    assert servers[1].browser() == {"urls": ["turn:10.0.0.5:3478"], "username": "u", "credential": "p"}
    with pytest.raises(IceConfigError, match="turn:"):
        parse_ice_servers(["http://10.0.0.5"])
    with pytest.raises(IceConfigError, match="username"):
        parse_ice_servers(["turn:10.0.0.5"])
    with pytest.raises(IceConfigError, match="unknown keys"):
        parse_ice_servers([{"urls": "stun:x", "password": "p"}])
