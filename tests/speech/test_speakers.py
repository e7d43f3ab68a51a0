"""Names on transcript lines: cluster naming, segment attribution and splitting, online clusters."""

from __future__ import annotations

import numpy as np

from speech.diarization import Diarization, Turn
from speech.speakers import OnlineClusters, attribute, name_clusters
from speech.transcript import Segment, Word
from speech.voiceprint import VoiceGallery, unit


def _vec(seed: int) -> np.ndarray:
    return unit(np.random.default_rng(seed).standard_normal(192).astype(np.float32))


def _diarization() -> Diarization:
    turns = [Turn(0.0, 4.0, "SPEAKER_01"), Turn(4.0, 8.0, "SPEAKER_00"), Turn(8.0, 10.0, "SPEAKER_02")]
    return Diarization(turns, turns, {"SPEAKER_01": _vec(1), "SPEAKER_00": _vec(2), "SPEAKER_02": _vec(3)}, 10.0)


def test_clusters_get_member_names_or_numbered_anonymous_names() -> None:
    gallery = VoiceGallery.build({"m-lan": [_vec(2) + 0.1 * _vec(9)], "m-hung": [_vec(7)]})
    labels = name_clusters(_diarization(), gallery, {"m-lan": "Nguyễn Thị Lan"})
    assert labels["SPEAKER_00"].name == "Nguyễn Thị Lan" and labels["SPEAKER_00"].member_id == "m-lan"
    assert labels["SPEAKER_01"].name == "Người nói 1"  # first to speak
    assert labels["SPEAKER_02"].name == "Người nói 2" and labels["SPEAKER_02"].member_id is None
    assert name_clusters(_diarization())["SPEAKER_00"].name == "Người nói 2"


def test_one_member_names_only_the_most_similar_cluster() -> None:
    d = _diarization()
    d.centroids["SPEAKER_02"] = unit(_vec(2) + 0.3 * _vec(8))  # also like Lan, but less
    labels = name_clusters(d, VoiceGallery.build({"m-lan": [_vec(2)]}, threshold=0.5, margin=0.0))
    assert labels["SPEAKER_00"].member_id == "m-lan" and labels["SPEAKER_02"].member_id is None


def test_segments_are_attributed_and_split_where_the_speaker_changes() -> None:
    words = tuple(Word(t, t + 0.4, w, 0.9) for t, w in [(2.8, "một"), (3.2, "hai"), (3.5, "ba"), (4.2, "bốn"), (4.6, "năm"), (5.0, "sáu")])
    seg = Segment(2.8, 5.4, "một hai ba bốn năm sáu", words)
    parts = list(attribute([seg], _diarization()))
    assert [(p.text, who) for p, who in parts] == [("một hai ba", "SPEAKER_01"), ("bốn năm sáu", "SPEAKER_00")]
    assert parts[1][0].start == 4.2 and parts[0][0].end == 3.9
    # one stray word does not split a segment
    stray = Segment(3.0, 4.3, "một hai ba", (Word(3.0, 3.4, "một", 1), Word(3.5, 3.9, "hai", 1), Word(4.0, 4.3, "ba", 1)))
    assert [(p.text, who) for p, who in attribute([stray], _diarization())] == [("một hai ba", "SPEAKER_01")]
    # without words the longest overlap decides; in a gap, the nearest turn within a second
    assert list(attribute([Segment(3.5, 6.0, "x")], _diarization()))[0][1] == "SPEAKER_00"
    gap = Diarization([Turn(0, 1, "S")], [Turn(0, 1, "S")])
    assert gap.speaker_at(1.2, 1.6) == "S" and gap.speaker_at(5, 6) is None


def test_online_clusters_group_similar_voices() -> None:
    clusters = OnlineClusters(threshold=0.5)
    a, b = _vec(1), _vec(2)
    noisy = [unit(a + 0.2 * _vec(10 + i)) for i in range(3)]
    assert [clusters.assign(v) for v in (a, b, *noisy)] == ["live-1", "live-2", "live-1", "live-1", "live-1"]
    assert set(clusters.centroids) == {"live-1", "live-2"}
