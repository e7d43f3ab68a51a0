"""A recording played back as if it were a live microphone: ``AudioChunk``s at real-time pace.

The stand-in for a room microphone in tests, demos and benchmarks: the consumer cannot tell it
from a real device, and falls behind exactly as it would with one.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

from hardware.media import AudioChunk, read_chunks


def replay(
    path: str | Path,
    *,
    chunk_s: float = 0.1,
    speed: float = 1.0,
    channel: int | None = None,
    source: str | None = None,
    stop: Callable[[], bool] | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[AudioChunk]:
    """Chunks of ``chunk_s`` seconds, each released when its end is due (``speed`` 2.0 = twice as fast).
    ``stop()`` returning True ends the replay early."""
    if not 0.01 <= chunk_s <= 5:
        raise ValueError(f"chunk_s must be between 0.01 and 5 seconds, got {chunk_s}")
    if not 0.1 <= speed <= 100:
        raise ValueError(f"speed must be between 0.1 and 100, got {speed}")
    started = clock()
    for block in read_chunks(path, chunk_s=5.0, channel=channel, source=source):
        step = int(chunk_s * block.sample_rate)
        for i in range(0, len(block.samples), step):
            samples = block.samples[i : i + step]
            chunk = AudioChunk(samples, block.start + i / block.sample_rate, block.source, channel, block.sample_rate)
            wait = started + chunk.end / speed - clock()
            if wait > 0:
                sleep(wait)
            if stop is not None and stop():
                return
            yield chunk
