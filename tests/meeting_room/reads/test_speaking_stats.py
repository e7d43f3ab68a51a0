"""Speaking statistics computed from hand-made transcripts: turns merge, unnamed speakers keep their
label (and pool over a period), an empty transcript gives a clear empty result."""

from __future__ import annotations

from meeting_room import events as ev
from meeting_room.db import tables as t
from meeting_room.reads import speaking_stats
from meeting_room.reads.transcript_reads import Line
from meeting_room.services import transcripts
from speech.transcript import Segment
from tests.conftest import World


def _line(n: int, start: float, end: float, speaker: str | None, member_id: str | None = None) -> Line:
    return Line(f"l{n}", start, end, "…", speaker, member_id, speaker, None, 0.9)


def _by_name(stats: speaking_stats.SpeakingStats) -> dict[str, speaking_stats.SpeakerStats]:
    return {s.name: s for s in stats.speakers}


def test_consecutive_lines_of_one_speaker_are_one_turn() -> None:
    lines = [
        _line(1, 0.0, 10.0, "Nguyễn Văn An", "m-an"),
        _line(2, 11.0, 16.0, "Nguyễn Văn An", "m-an"),  # the same turn: 15 s of speech, the 1 s pause not counted
        _line(3, 17.0, 20.0, "Người nói 2"),
        _line(4, 21.0, 25.0, "Nguyễn Văn An", "m-an"),  # a second turn of 4 s
        _line(5, 26.0, 28.0, "Người nói 2"),
        _line(6, 28.0, 30.0, "Người nói 2"),
    ]
    stats = speaking_stats.from_lines(lines, names={"m-an": "Nguyễn Văn An"})
    rows = _by_name(stats)
    an, unnamed = rows["Nguyễn Văn An"], rows["Người nói 2"]
    assert (an.key, an.member_id, an.turns, an.seconds, an.longest_s) == ("m-an", "m-an", 2, 19.0, 15.0)
    assert (unnamed.key, unnamed.member_id, unnamed.turns, unnamed.seconds, unnamed.longest_s) == ("Người nói 2", None, 2, 7.0, 4.0)
    assert stats.total_s == 26.0 and stats.turns == 4
    assert an.share == round(19 / 26, 4) and unnamed.share == round(7 / 26, 4)
    assert [s.name for s in stats.speakers] == ["Nguyễn Văn An", "Người nói 2"]  # most speaking time first


def test_a_member_is_named_from_the_members_list_and_lines_without_a_speaker_are_unknown() -> None:
    lines = [_line(1, 0.0, 2.0, "Người nói 1", "m-binh"), _line(2, 2.0, 5.0, None), _line(3, 5.0, 6.0, "Người nói 1", "m-binh")]
    stats = speaking_stats.from_lines(lines, names={"m-binh": "Trần Thị Bình"})
    rows = _by_name(stats)
    assert rows["Trần Thị Bình"].turns == 2 and rows["Trần Thị Bình"].seconds == 3.0
    assert rows[speaking_stats.UNKNOWN_VI].seconds == 3.0 and rows[speaking_stats.UNKNOWN_VI].member_id is None


def test_an_empty_transcript_gives_an_empty_result() -> None:
    stats = speaking_stats.from_lines([])
    assert stats == speaking_stats.SpeakingStats(speakers=[], total_s=0.0, turns=0)


def test_a_meeting_without_a_transcript_and_with_one(world: World) -> None:
    with world.store.read() as session:
        assert speaking_stats.of_meeting(session, world.meeting_id) == speaking_stats.SpeakingStats([], 0.0, 0)
    store, mid = world.store, world.meeting_id
    pass_id = transcripts.new_pass(store, mid, "live", "whisper-base")
    spec = ev.SpeakerSpec(cluster="ch0", name="Người chair", member_id=world.ids["chair"], source="channel")
    transcripts.add_speakers(store, mid, pass_id, [spec])
    transcripts.add_segment(store, mid, pass_id, Segment(0.0, 4.0, "Khai mạc."), "ch0")
    transcripts.add_segment(store, mid, pass_id, Segment(4.5, 6.0, "Mời đại biểu."), "ch0")
    transcripts.add_segment(store, mid, pass_id, Segment(7.0, 9.0, "Tôi xin phát biểu."), "ch1")  # a cluster nobody named
    with store.read() as session:
        stats = speaking_stats.of_meeting(session, mid)
        meeting = session.get_one(t.Meeting, mid)
        pooled = speaking_stats.of_period(session, [meeting, meeting])
    chair = stats.speakers[0]
    assert (chair.name, chair.member_id, chair.turns, chair.seconds, chair.longest_s) == ("Người chair", world.ids["chair"], 1, 5.5, 5.5)
    assert [(s.member_id, s.turns, s.seconds) for s in stats.speakers[1:]] == [(None, 1, 2.0)]
    # over a period a member is one row, and the unnamed speakers of every meeting one row together
    assert [(s.name, s.turns, s.seconds) for s in pooled.speakers] == [("Người chair", 2, 11.0), (speaking_stats.UNNAMED_VI, 2, 4.0)]
