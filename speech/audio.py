"""Speech's view of audio: loudness. The audio chunk type and the file decoder are the project's
one media vocabulary in ``hardware.media``; they are re-exported here for older imports."""

from __future__ import annotations

import numpy as np

from hardware.media import SAMPLE_RATE, AudioChunk, AudioInfo, measure_duration, probe, probe_duration, read_all, read_chunks

__all__ = ["SAMPLE_RATE", "AudioChunk", "AudioInfo", "measure_duration", "probe", "probe_duration", "read_all", "read_chunks", "rms_db"]


def rms_db(samples: np.ndarray) -> float:
    """Loudness in dBFS (-inf for silence)."""
    if len(samples) == 0:
        return float("-inf")
    rms = float(np.sqrt(np.mean(np.square(samples, dtype=np.float64))))
    return 20 * np.log10(rms) if rms > 0 else float("-inf")
