"""The conference's Opus encoder: what it does with frames that are not clean speech."""

from __future__ import annotations

import numpy as np
import pytest

from webrtc.opus import FRAME, RATE, OpusEncoder


def _tone() -> np.ndarray:
    return (0.5 * np.sin(2 * np.pi * 440 * np.arange(FRAME) / RATE)).astype(np.float32)


def test_a_frame_with_nan_inf_or_over_full_scale_encodes_as_its_clean_form() -> None:
    """A NaN is silence, an infinity or a sample over full scale is full scale: each encodes exactly
    as the cleaned frame would (two fresh encoders, so their states agree)."""
    dirty, clean = _tone() * 3, np.clip(_tone() * 3, -1, 1)
    dirty[10], dirty[20], dirty[30] = np.nan, np.inf, -np.inf
    clean[10], clean[20], clean[30] = 0.0, 1.0, -1.0
    assert OpusEncoder().encode(dirty) == OpusEncoder().encode(clean)
    assert np.isnan(dirty[10]) and dirty[20] == np.inf


def test_a_frame_of_the_wrong_length_is_refused_with_the_length_it_takes() -> None:
    with pytest.raises(ValueError, match=f"an Opus frame is {FRAME} samples"):
        OpusEncoder().encode(np.zeros(FRAME - 1, np.float32))


def test_float64_and_strided_input_encode_as_float32_contiguous() -> None:
    tone = _tone()
    wide = np.repeat(tone.astype(np.float64), 2)[::2]  # float64, not contiguous
    assert OpusEncoder().encode(wide) == OpusEncoder().encode(tone)
