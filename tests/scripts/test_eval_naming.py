"""scripts/eval_naming.py: meetings found from shared speakers, and naming scored per 10 ms frame."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def naming() -> ModuleType:
    spec = importlib.util.spec_from_file_location("eval_naming", ROOT / "scripts" / "eval_naming.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["eval_naming"] = module
    spec.loader.exec_module(module)
    return module


def test_excerpts_sharing_a_speaker_are_one_meeting(naming: ModuleType) -> None:
    refs = {
        "a1": [(0.0, 1.0, "X"), (1.0, 2.0, "Y")],
        "b1": [(0.0, 1.0, "Z")],
        "a2": [(0.0, 1.0, "Y"), (1.0, 2.0, "W")],
        "a3": [(0.0, 1.0, "W")],
    }
    assert naming.meetings(refs) == [["a1", "a2", "a3"], ["b1"]]


def test_rttm_and_uem_are_read(naming: ModuleType, tmp_path: Path) -> None:
    (tmp_path / "reference.rttm").write_text("SPEAKER f 1 1.5 2.0 <NA> <NA> spk <NA> <NA>\n", encoding="utf-8")
    (tmp_path / "reference.uem").write_text("f NA 0.000 30.000\n", encoding="utf-8")
    assert naming.read_rttm(tmp_path / "reference.rttm") == {"f": [(1.5, 3.5, "spk")]}
    assert naming.read_uem(tmp_path / "reference.uem") == {"f": (0.0, 30.0)}
    assert naming.read_uem(tmp_path / "none.uem") == {}


def test_solo_frames_leave_overlap_out(naming: ModuleType) -> None:
    tracks = naming.solo([(0.0, 2.0, "X"), (1.0, 3.0, "Y")], 400)
    assert tracks["X"].sum() == 100 and tracks["Y"].sum() == 100  # 1 s each alone, 1 s together


def test_naming_is_scored_right_wrong_anonymous_and_strangers(naming: ModuleType) -> None:
    reference = [(0.0, 2.0, "X"), (2.0, 4.0, "Y"), (4.0, 6.0, "S"), (6.0, 8.0, "E")]
    # cluster c1 covers X and half of Y; c2 the rest of Y; c3 the stranger S; E is not found at all
    hypothesis = [(0.0, 3.0, "c1"), (3.0, 4.0, "c2"), (4.0, 6.0, "c3")]
    tally = naming.Tally()
    naming.score(tally, reference, hypothesis, {"c1": "X", "c2": None, "c3": "Y"}, {"X", "Y", "E"}, set(), (0.0, 8.0))
    assert tally.right == pytest.approx(2.0)  # X named X
    assert tally.wrong == pytest.approx(1.0)  # Y named X for 1 s
    assert tally.anonymous == pytest.approx(1.0)  # Y left as "Người nói N" for 1 s
    assert tally.missed == pytest.approx(2.0)  # E: no cluster speaks
    assert tally.strangers_named == pytest.approx(2.0)  # S named Y
    right, wrong, anonymous, strangers = tally.shares()
    assert (right, wrong, anonymous, strangers) == pytest.approx((2 / 6, 1 / 6, 1 / 6, 1.0))
    # the speaker enrolled from this excerpt is not scored in it, nor speech outside the UEM
    skipped = naming.Tally()
    naming.score(skipped, reference, hypothesis, {"c1": "X", "c2": None, "c3": "Y"}, {"X", "Y", "E"}, {"X"}, (2.0, 8.0))
    assert skipped.right == 0 and skipped.wrong == pytest.approx(1.0)
