"""Importing pyannote.audio on a CPU-only machine, offline and without telemetry.

pyannote.audio 4 imports ``torchaudio`` at module level (for resampling) and ``torchcodec`` for
file decoding. The torchaudio wheel on PyPI is built against CUDA torch: its compiled extension
needs ``libc10_cuda.so`` and fails to load beside the CPU build of torch. Everything pyannote
uses from torchaudio (``functional.resample``, ``compliance.kaldi.fbank``) is pure Python, so when
the extension cannot load we import torchaudio without it (its own "no extension" mode, the one a
build without C++ ops runs in). torchcodec is never needed: audio reaches pyannote as in-memory
waveforms decoded by PyAV (``hardware.media``).
"""

from __future__ import annotations

import importlib
import logging
import sys
import threading
import types
import warnings
from collections.abc import Callable
from typing import Any

from speech.errors import ModelError

log = logging.getLogger(__name__)
_lock = threading.Lock()
_loaded = False


def _without_extension() -> None:
    """Import torchaudio with its compiled extension marked unavailable."""
    for name in [n for n in sys.modules if n == "torchaudio" or n.startswith("torchaudio.")]:
        del sys.modules[name]
    ext = types.ModuleType("torchaudio._extension")

    def fail_if_no_align(func: Callable[..., Any]) -> Callable[..., Any]:
        def refuse(*_args: Any, **_kwargs: Any) -> Any:
            raise RuntimeError(f"{func.__name__} needs torchaudio's compiled extension, which this CPU build lacks")

        return refuse

    vars(ext).update(_IS_TORCHAUDIO_EXT_AVAILABLE=False, _IS_ALIGN_AVAILABLE=False, fail_if_no_align=fail_if_no_align)
    sys.modules["torchaudio._extension"] = ext
    importlib.import_module("torchaudio")


def load_pyannote() -> types.ModuleType:
    """``pyannote.audio``, imported once with telemetry off; raises ModelError when not installed."""
    global _loaded
    with _lock:
        if not _loaded:
            try:
                importlib.import_module("torchaudio")
            except OSError as exc:
                log.info("torchaudio's compiled extension does not load (%s); using its pure-Python parts", exc)
                _without_extension()
            except ImportError as exc:
                raise ModelError(
                    "Thiếu torchaudio (cần cho pyannote.audio): cài lại bằng scripts/setup.sh",
                    "torchaudio is missing (pyannote.audio needs it): reinstall with scripts/setup.sh",
                    reason=str(exc),
                ) from None
            with warnings.catch_warnings():
                # "torchcodec is not installed correctly": expected, audio is passed in memory
                warnings.filterwarnings("ignore", message=r"\s*torchcodec")
                warnings.filterwarnings("ignore", module=r"pyannote\.audio\.core\.io")
                try:
                    importlib.import_module("pyannote.audio")
                except ImportError as exc:
                    raise ModelError(
                        "Thiếu pyannote.audio: cài lại bằng scripts/setup.sh",
                        "pyannote.audio is missing: reinstall with scripts/setup.sh",
                        reason=str(exc),
                    ) from None
            _loaded = True
        # Telemetry off whatever its configuration says (it only sends when a model or pipeline
        # is created, which happens after this): nothing leaves the building.
        from pyannote.audio.telemetry.metrics import set_telemetry_metrics

        set_telemetry_metrics(False)
        return sys.modules["pyannote.audio"]
