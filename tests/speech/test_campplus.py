"""CAM++ as pyannote's embedding model: a chunk sent once per local speaker runs through the
network once, and gives the same embeddings as when each row runs on its own."""

from __future__ import annotations

import numpy as np
import torch

from speech.audio import SAMPLE_RATE
from speech.campplus import runs_of_equal_rows
from speech.voiceprint import VoiceEncoder
from tests.conftest import TwoVoices


def test_runs_of_equal_rows_finds_repeated_chunks() -> None:
    a, b = torch.zeros(1, 4), torch.ones(1, 4)
    firsts, group = runs_of_equal_rows(torch.stack([a, a, a, b, b, a]))
    assert firsts.tolist() == [0, 3, 5]
    assert group.tolist() == [0, 0, 0, 1, 1, 2]
    firsts, group = runs_of_equal_rows(torch.stack([a]))
    assert firsts.tolist() == [0] and group.tolist() == [0]


def test_shared_chunks_give_the_embeddings_of_separate_runs(voice_encoder: VoiceEncoder, two_voices: TwoVoices) -> None:
    model = voice_encoder.model
    audio = two_voices["audio"]
    n = 5 * SAMPLE_RATE
    chunks = [torch.from_numpy(np.ascontiguousarray(audio[i : i + n])).reshape(1, -1) for i in (0, n)]
    frames = 293  # what the segmentation model gives for 5 s
    rng = np.random.default_rng(0)
    masks = torch.from_numpy((rng.random((5, frames)) > 0.4).astype(np.float32))
    waveforms = torch.stack([chunks[0], chunks[0], chunks[0], chunks[1], chunks[1]])
    with torch.inference_mode():
        together = model(waveforms, weights=masks)
        apart = torch.cat([model(waveforms[i : i + 1], weights=masks[i : i + 1]) for i in range(5)])
    assert together.shape == (5, 192)
    assert torch.allclose(together, apart, atol=1e-4, rtol=1e-4)
    # different masks on one chunk still give different speakers' embeddings
    assert not torch.allclose(together[0], together[1], atol=1e-3)
