"""A recording played back as if it were live: ``AudioChunk``s released at real-time pace.

The one file-backed audio stand-in. The replay of a stored recording into live captions reads it
directly; ``hardware.microphone.FileMicrophone`` puts it behind the room-input interface (its
thread, buffer and device states). Either way the consumer cannot tell it from a real device, and
falls behind exactly as it would with one.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Generator, Iterable, Iterator
from pathlib import Path

import numpy as np

from hardware.media import SAMPLE_RATE, AudioChunk, decode


def replay(
    path: str | Path,
    *,
    rate: int = SAMPLE_RATE,
    channel: int | None = None,
    channels: int | None = None,
    chunk_s: float = 0.1,
    speed: float = 1.0,
    source: str | None = None,
    strict: bool = False,
    stop: Callable[[], bool] | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], object] = time.sleep,
) -> Iterator[AudioChunk]:
    """Chunks of ``chunk_s`` seconds (the last may be shorter) at ``rate``, each released when its end
    is due (``speed`` 2.0 = twice as fast); their ``start`` counts from the file's beginning. Mono,
    one ``channel``, or the first ``channels`` as columns, as ``hardware.media.decode`` reads them
    (``strict``: a damaged file raises instead of ending early). ``stop()`` returning True ends the
    replay early; ``sleep`` may return early (an ``Event.wait``), ``stop`` is asked after each wait."""
    if not 0.01 <= chunk_s <= 5:
        raise ValueError(f"chunk_s must be between 0.01 and 5 seconds, got {chunk_s}")
    if not 0.1 <= speed <= 100:
        raise ValueError(f"speed must be between 0.1 and 100, got {speed}")
    name = source or Path(path).name
    pieces = _rechunk(decode(path, rate, channel=channel, channels=channels, strict=strict), max(1, round(chunk_s * rate)))
    started, position = clock(), 0
    try:
        for samples in pieces:
            chunk = AudioChunk(samples, position / rate, name, channel, rate)
            wait = started + chunk.end / speed - clock()
            if wait > 0:
                sleep(wait)
            if stop is not None and stop():
                return
            yield chunk
            position += len(samples)
    finally:
        pieces.close()  # the decoder's file is closed at once, also when the replay ends early


def _rechunk(blocks: Iterable[np.ndarray], size: int) -> Generator[np.ndarray, None, None]:
    """The decoder's blocks (whatever their length) as pieces of exactly ``size`` frames, then the rest."""
    held: list[np.ndarray] = []
    count = 0
    for block in blocks:
        held.append(block)
        count += len(block)
        if count < size:
            continue
        joined = np.concatenate(held)
        whole = count - count % size
        for i in range(0, whole, size):
            yield joined[i : i + size]
        held, count = [joined[whole:]], count - whole
    if count:
        yield np.concatenate(held)
