"""CAM++ as pyannote's embedding model: each voice's embedding from its own frames, a chunk sent
once per local speaker gives the same embeddings as each row on its own, and every voice that
speaks at all gets a finite embedding (pyannote assigns a NaN row to the first cluster)."""

from __future__ import annotations

import numpy as np
import pytest
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


def test_a_voice_s_embedding_is_made_from_its_own_frames_only(voice_encoder: VoiceEncoder, two_voices: TwoVoices) -> None:
    """Whoever else speaks in the chunk does not change a voice's embedding (CAM++'s context layers
    pool over their whole input: a chunk run whole let the other voice into every speaker's embedding)."""
    model = voice_encoder.model
    n = 3 * SAMPLE_RATE
    a = np.resize(two_voices["clips"]["A"][0], n).astype(np.float32)
    b = np.resize(two_voices["clips"]["B"][0], n).astype(np.float32)
    chunks = torch.stack([torch.from_numpy(np.concatenate([a, other])).reshape(1, -1) for other in (b, np.zeros_like(b), a[::-1].copy())])
    frames = 353  # what the segmentation model gives for 6 s
    first_voice = torch.zeros(3, frames)
    first_voice[:, : int(frames * 0.45)] = 1.0  # A's frames, clear of the boundary
    with torch.inference_mode():
        own = model(chunks, weights=first_voice)
        whole_a = model(torch.from_numpy(a).reshape(1, 1, -1))
    assert torch.allclose(own[0], own[1], atol=1e-4) and torch.allclose(own[0], own[2], atol=1e-4)
    cosine = torch.nn.functional.cosine_similarity(own[0], whole_a[0], dim=0)
    assert cosine > 0.9  # 45 % of A's clip against the whole of it: the same voice
    # a voice heard for a few frames still gets an embedding (the chunk's, weighted); silence gets none
    few = torch.zeros(2, frames)
    few[0, :2] = 1.0
    with torch.inference_mode():
        brief = model(chunks[:2], weights=few)
    assert torch.isfinite(brief[0]).all() and torch.isnan(brief[1]).all()
    # the least audio pyannote probes for (its fallback to a speaker's whole mask) is 0.2 s
    with pytest.raises(ValueError, match="at least 200 ms"):
        model(torch.zeros(1, 1, SAMPLE_RATE // 10))
