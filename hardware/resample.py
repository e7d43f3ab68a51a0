"""A stateful resampler (FFmpeg's swresample through PyAV): blocks in, blocks out, no clicks at
block edges because the filter state carries over."""

from __future__ import annotations

import numpy as np


class Resampler:
    def __init__(self, rate_in: int, rate_out: int) -> None:
        import av

        self.rate_in, self.rate_out = rate_in, rate_out
        self._av = av
        self._swr = None if rate_in == rate_out else av.AudioResampler(format="flt", layout="mono", rate=rate_out)

    def __call__(self, samples: np.ndarray) -> np.ndarray:
        """Mono float32 at ``rate_in`` -> mono float32 at ``rate_out``."""
        samples = np.ascontiguousarray(samples, dtype=np.float32)
        if self._swr is None or not len(samples):
            return samples
        frame = self._av.AudioFrame.from_ndarray(samples[None, :], format="flt", layout="mono")
        frame.sample_rate = self.rate_in
        out = [f.to_ndarray()[0] for f in self._swr.resample(frame)]
        return np.concatenate(out) if out else np.zeros(0, np.float32)
