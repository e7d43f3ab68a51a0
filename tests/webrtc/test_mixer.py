"""The conference mixer: each listener hears everyone but their own group; jitter buffers start
after the prebuffer, cap the delay, and count what they had to drop or pad."""

from __future__ import annotations

from collections.abc import Callable

import av
import numpy as np
import pytest

from webrtc.errors import IceConfigError
from webrtc.ice import parse_ice_servers, rtc_configuration
from webrtc.mixer import ENCODER_IDLE, FRAME, FRAMES_SKIPPED, QUIET_HOLD, RATE, Mixer


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
    for _ in range(2):
        a.push(_const(0.1))
        b.push(_const(0.2))
        mixer.tick()
    fade = heard["b"][1]  # a fades out over the first frame after the mute: no step, no click
    assert fade[0] == pytest.approx(0.1) and fade[-1] == pytest.approx(0.0) and np.all(np.diff(fade) <= 0)
    assert heard["b"][2] == pytest.approx(_const(0.0)) and heard["speakers"][2] == pytest.approx(_const(0.2))


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


def test_muting_and_unmuting_fade_over_a_frame_instead_of_clicking() -> None:
    """A mute cut a voice at once: a step in the others' mix, heard as a click (and again at unmute)."""
    mixer = Mixer(prebuffer_ms=0)
    heard: list[np.ndarray] = []
    voice = mixer.add("a")
    mixer.add("b", lambda samples, wall: heard.append(samples.copy()))
    for frame in range(12):
        voice.muted = 4 <= frame < 8
        voice.push(_tone(230, 0.5, frame))  # not a whole number of cycles a frame: the cut falls mid-wave
        mixer.tick()
    out = np.concatenate(heard)
    tone_step = 2 * np.pi * 230 / RATE * 0.5  # the largest step of the tone itself
    assert np.abs(np.diff(out)).max() < 2 * tone_step, "a step at the mute or the unmute"
    assert np.abs(out[5 * FRAME : 8 * FRAME]).max() == 0  # silent while muted, after the fade
    assert np.abs(out[10 * FRAME :]).max() > 0.4  # and back in full after the fade-in


def _tone(hz: float, level: float, frame: int) -> np.ndarray:
    t = (np.arange(FRAME) + frame * FRAME) / RATE
    return (level * np.sin(2 * np.pi * hz * t)).astype(np.float32)


def _decoded(payloads: list[bytes]) -> np.ndarray:
    """What a participant's browser plays: the Opus payloads decoded (mono, 48 kHz)."""
    decoder = av.CodecContext.create("libopus", "r")
    decoder.sample_rate, decoder.layout = RATE, "mono"
    pcm = np.concatenate([f.to_ndarray().reshape(-1) for p in payloads for f in decoder.decode(av.Packet(p))])
    return pcm.astype(np.float32) / 32768 if pcm.dtype == np.int16 else pcm.astype(np.float32)


def _level(x: np.ndarray, hz: float) -> float:
    """RMS of ``x`` at ``hz`` (the decoder's first frames skipped)."""
    x = x[RATE // 10 :]
    t = np.arange(len(x)) / RATE
    return float(2 * abs(np.mean(x * np.exp(-2j * np.pi * hz * t))) / np.sqrt(2))


def test_webrtc_listeners_get_their_mix_as_opus_encoded_once_per_distinct_mix() -> None:
    """Muted members all hear the whole sum: one Opus stream for all of them (the same payload),
    while a speaking member gets their own mix-minus, without their own voice."""
    mixer = Mixer(prebuffer_ms=0)
    got: dict[str, list[bytes]] = {}

    def hears(key: str) -> Callable[[bytes, float], None]:
        return lambda payload, wall: got.setdefault(key, []).append(payload)

    legs = {k: mixer.add(k, packets=hears(k)) for k in "abc"}
    mic = mixer.add("room:1", group="room")
    legs["b"].muted = legs["c"].muted = True
    for i in range(40):
        legs["a"].push(_tone(440, 0.3, i))
        legs["b"].push(_tone(700, 0.3, i))  # muted: nobody hears it
        mic.push(_tone(1000, 0.2, i))
        mixer.tick()
    assert mixer.encoders() == 2  # a's mix-minus, and the whole sum for b and c
    assert all(x is y for x, y in zip(got["b"], got["c"], strict=True))  # one encoding, handed to both
    a, b = _decoded(got["a"]), _decoded(got["b"])
    assert _level(a, 1000) > 0.1 and _level(a, 440) < 0.01  # the room, not their own voice back
    assert _level(b, 1000) > 0.1 and _level(b, 440) > 0.15 and _level(b, 700) < 0.01  # everyone but the muted
    legs["b"].muted = False  # b takes the floor: b's own stream, without b
    for i in range(40, 100):
        legs["a"].push(_tone(440, 0.3, i))
        legs["b"].push(_tone(700, 0.3, i))
        mic.push(_tone(1000, 0.2, i))
        mixer.tick()
    assert got["b"][-1] is not got["c"][-1] and mixer.encoders() == 3
    b, c = _decoded(got["b"][45:]), _decoded(got["c"][45:])
    assert _level(b, 700) < 0.01 and _level(b, 440) > 0.15 and _level(c, 700) > 0.15
    legs["a"].muted = legs["b"].muted = True
    for _ in range(ENCODER_IDLE + 2):
        mixer.tick()
    assert mixer.encoders() == 1  # the streams nobody hears any more are let go


def test_open_but_quiet_microphones_share_one_encoding_and_a_speaker_gets_their_own_at_once() -> None:
    """Sixteen open microphones carrying room tone (-60 dBFS) cost one Opus encoding a frame, not
    sixteen: what each would hear back of itself is under the gate. One who speaks gets their own
    mix-minus from their first loud frame, keeps it through a short pause, and shares again after a
    second of quiet. The room's loudspeakers never hear the room, however quiet it is."""
    mixer = Mixer(prebuffer_ms=0)
    got: dict[str, list[bytes]] = {}
    speakers: list[np.ndarray] = []
    keys = [f"m{k}" for k in range(16)]

    def hears(key: str) -> Callable[[bytes, float], None]:
        return lambda payload, wall: got.setdefault(key, []).append(payload)

    legs = {k: mixer.add(k, packets=hears(k)) for k in keys}
    mic = mixer.add("room:1", group="room")
    mixer.add("room:speakers", lambda samples, wall: speakers.append(samples.copy()), group="room")
    rng = np.random.default_rng(0)

    def tick(i: int, talking: bool = False) -> None:
        for k, leg in legs.items():
            leg.push(_tone(440, 0.3, i) if talking and k == "m0" else (0.001 * rng.standard_normal(FRAME)).astype(np.float32))
        mic.push(_tone(1000, 0.2, i))
        mixer.tick()

    for i in range(ENCODER_IDLE + 2):
        tick(i)
    assert mixer.encoders() == 1
    assert all(got[k][-1] is got["m0"][-1] for k in keys)  # one payload, handed to all sixteen
    first = len(got["m0"])
    for i in range(ENCODER_IDLE + 2, ENCODER_IDLE + 42):
        tick(i, talking=True)
        assert got["m0"][-1] is not got["m1"][-1]  # from the first loud frame: their own stream
    assert mixer.encoders() == 2
    own = _decoded(got["m0"][first:])
    assert _level(own, 1000) > 0.1 and _level(own, 440) < 0.01  # the room, not their own voice back
    assert _level(_decoded(got["m1"][first:]), 440) > 0.15  # the others hear them
    for i in range(ENCODER_IDLE + 42, ENCODER_IDLE + 42 + QUIET_HOLD - 1):
        tick(i)
        assert got["m0"][-1] is not got["m1"][-1]  # a pause under a second: still their own
    tick(ENCODER_IDLE + 41 + QUIET_HOLD)
    assert got["m0"][-1] is got["m1"][-1]  # a second of quiet: the shared mix again
    for leg in (*legs.values(), mic):
        leg.push(_const(0.0005))
    mixer.tick()
    assert speakers[-1] == pytest.approx(_const(16 * 0.0005))  # the room's own tone never goes back into it


def test_the_shared_mix_is_everything_whichever_listener_asks_for_it_first() -> None:
    """A quiet listener asking first must not make the shared mix 'everything but me' for the
    muted ones that share it after."""
    mixer = Mixer(prebuffer_ms=0)
    heard: list[np.ndarray] = []
    quiet = mixer.add("quiet", packets=lambda payload, wall: None)
    muted = mixer.add("muted", lambda samples, wall: heard.append(samples.copy()))
    muted.muted = True
    mic = mixer.add("room:1", group="room")
    for _ in range(3):
        quiet.push(_const(0.001))  # -60 dBFS: under the gate
        muted.push(_const(0.2))
        mic.push(_const(0.1))
        mixer.tick()
    assert heard[-1] == pytest.approx(_const(0.101))  # the room and the quiet one: nobody left out


def test_a_stalled_mixer_counts_the_frames_it_never_mixed_and_goes_on() -> None:
    """A tick held up 300 ms (the machine stalled) is 14 frames late: they are counted, not burst out."""
    import threading
    import time

    heard: list[float] = []
    stalled = threading.Event()

    def sink(frame: np.ndarray, wall: float) -> None:
        heard.append(wall)
        if len(heard) == 3 and not stalled.is_set():
            time.sleep(0.3)
            stalled.set()

    mixer = Mixer()
    mixer.add("listener", sink)
    counted, began = FRAMES_SKIPPED.value, time.monotonic()
    mixer.start()
    try:
        deadline = time.monotonic() + 30
        while (not stalled.is_set() or len(heard) < 20) and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        mixer.stop()
    due = (time.monotonic() - began) / (FRAME / RATE) + 2
    assert len(heard) >= 20, "the mixer went on after the stall"
    assert mixer.late_frames >= 12, mixer.late_frames  # ~14; more if a loaded machine held it up again
    assert len(heard) + mixer.late_frames <= due, (len(heard), mixer.late_frames, due)  # none counted twice
    assert FRAMES_SKIPPED.value - counted >= mixer.late_frames  # in the process's count (the metrics) too


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
