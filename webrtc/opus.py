"""The conference's Opus encoder: one 20 ms mix frame in, one RTP payload out.

The mixer encodes each distinct mix once and hands the payload to every listener who hears that mix
(aiortc then only packetises it). Left to aiortc, every listener's frame would be encoded on its own,
as stereo at 96 kbit/s, after a pure-Python audio-level loop on the event loop (~150 µs a frame).
Speech needs neither stereo nor that rate: mono at 48 kbit/s spends the same bits on the one
channel that was there. The SDP still says ``opus/48000/2``: RFC 7587 fixes that name, and every
Opus decoder plays a mono packet.
"""

from __future__ import annotations

import fractions

import av
import numpy as np

RATE = 48_000  # Opus over RTP is clocked at 48 kHz (RFC 7587), and so is the whole conference
FRAME = RATE // 50  # 20 ms
BITRATE = 48_000


class OpusEncoder:
    """Mono 48 kHz speech (libopus in VoIP mode), one 20 ms frame per packet. Not thread-safe: one
    encoder per stream, used from one thread (the mixer's)."""

    def __init__(self, bitrate: int = BITRATE) -> None:
        self._codec = av.CodecContext.create("libopus", "w")
        self._codec.bit_rate = bitrate
        self._codec.format = "s16"
        self._codec.layout = "mono"
        self._codec.sample_rate = RATE
        self._codec.time_base = fractions.Fraction(1, RATE)
        self._codec.options = {"application": "voip", "frame_duration": "20"}
        self._pts = 0

    def encode(self, samples: np.ndarray) -> bytes | None:
        """One frame of mono float32 samples (``FRAME`` of them, within -1..1) -> the Opus payload
        (None while the encoder is still filling its look-ahead; libopus returns a packet for
        every frame from the first)."""
        pcm = (np.clip(samples, -1.0, 1.0) * 32767).astype("<i2").reshape(1, FRAME)
        frame = av.AudioFrame.from_ndarray(pcm, format="s16", layout="mono")
        frame.sample_rate, frame.pts, frame.time_base = RATE, self._pts, fractions.Fraction(1, RATE)
        self._pts += FRAME
        packets = self._codec.encode(frame)
        return bytes(packets[0]) if packets else None
