"""The conference's Opus encoder: one 20 ms mix frame in, one RTP payload out.

The mixer encodes each distinct mix once and hands the payload to every listener who hears that mix
(aiortc then only packetises it). Left to aiortc, every listener's frame would be encoded on its own,
as stereo at 96 kbit/s, after a pure-Python audio-level loop on the event loop (~150 µs a frame).
Speech needs neither stereo nor that rate: mono at 48 kbit/s spends the same bits on the one
channel that was there. The SDP still says ``opus/48000/2``: RFC 7587 fixes that name, and every
Opus decoder plays a mono packet.

libopus is called through ``ctypes.PyDLL``, which keeps Python's lock during the call (~0.2 ms).
PyAV's encoder lets go of it twice per frame, and with 16 listeners the mixer thread spent most of
each 20 ms waiting to get it back behind the event loop and the decoder threads. (Measured on 2
cores, this alone moved 16 open microphones by less than their run-to-run spread; muted ones went
from 0.96–0.99 to 0.99–1.00 of real time: README, "Remote participants".)
"""

from __future__ import annotations

import ctypes
import ctypes.util
import glob
from pathlib import Path

import numpy as np

RATE = 48_000  # Opus over RTP is clocked at 48 kHz (RFC 7587), and so is the whole conference
FRAME = RATE // 50  # 20 ms
BITRATE = 48_000
_APPLICATION_VOIP = 2048
_SET_BITRATE = 4002
_MAX_PACKET = 1500


def _libopus() -> ctypes.PyDLL:
    """Debian's libopus0 (janus and chromium need it too), else the copy inside PyAV's wheel."""
    import av

    found = ctypes.util.find_library("opus")
    candidates = ([found] if found else []) + sorted(glob.glob(str(Path(av.__file__).parent.parent / "av.libs" / "libopus*.so*")))
    for candidate in candidates:
        try:
            lib = ctypes.PyDLL(candidate)
        except OSError:
            continue
        lib.opus_encoder_create.restype = ctypes.c_void_p
        lib.opus_encoder_create.argtypes = [ctypes.c_int32, ctypes.c_int, ctypes.c_int, ctypes.POINTER(ctypes.c_int)]
        lib.opus_encode_float.restype = ctypes.c_int32
        lib.opus_encode_float.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p, ctypes.c_int32]
        lib.opus_encoder_destroy.argtypes = [ctypes.c_void_p]
        lib.opus_strerror.restype = ctypes.c_char_p
        return lib
    raise OSError(f"libopus not found (tried {candidates or 'nothing'}): install Debian's libopus0")


_lib: ctypes.PyDLL | None = None


def load() -> ctypes.PyDLL:
    """libopus, found once per process (``find_library`` runs ``ldconfig``: tens of milliseconds,
    not to be spent on a mixer's first frame)."""
    global _lib
    if _lib is None:
        _lib = _libopus()
    return _lib


class OpusEncoder:
    """Mono 48 kHz speech (libopus in VoIP mode), one 20 ms frame per packet. Not thread-safe: one
    encoder per stream, used from one thread (the mixer's)."""

    def __init__(self, bitrate: int = BITRATE) -> None:
        self._lib = lib = load()
        error = ctypes.c_int()
        self._encoder = lib.opus_encoder_create(RATE, 1, _APPLICATION_VOIP, ctypes.byref(error))
        if error.value != 0 or not self._encoder:
            raise OSError(f"opus_encoder_create: {lib.opus_strerror(error.value).decode()}")
        if lib.opus_encoder_ctl(ctypes.c_void_p(self._encoder), ctypes.c_int(_SET_BITRATE), ctypes.c_int32(bitrate)) != 0:
            raise OSError(f"libopus refused a bitrate of {bitrate}")
        self._out = ctypes.create_string_buffer(_MAX_PACKET)

    def encode(self, samples: np.ndarray) -> bytes:
        """One frame of mono float32 samples (``FRAME`` of them, within -1..1) -> its Opus payload."""
        with np.errstate(over="ignore"):  # a float64 beyond float32's range becomes inf, then full scale
            pcm = np.ascontiguousarray(samples, dtype=np.float32)
        if pcm.shape != (FRAME,):
            raise ValueError(f"an Opus frame is {FRAME} samples, got {pcm.shape}")
        if not np.isfinite(pcm).all():  # checked first: ``nan_to_num`` on every frame cost more than the rest of this
            pcm = np.nan_to_num(pcm)
        pcm = np.minimum(np.maximum(pcm, -1.0), 1.0)
        n = self._lib.opus_encode_float(self._encoder, pcm.ctypes.data, FRAME, self._out, _MAX_PACKET)
        if n < 0:
            raise OSError(f"opus_encode_float: {self._lib.opus_strerror(n).decode()}")
        return ctypes.string_at(self._out, n)

    def __del__(self) -> None:
        encoder, self._encoder = getattr(self, "_encoder", None), None
        if encoder:
            self._lib.opus_encoder_destroy(encoder)
