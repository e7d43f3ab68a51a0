"""The transcript service: every change of a pass, its speakers and lines is an event, and the read
models rebuild from the log exactly."""

from __future__ import annotations

from meeting_room.reads import transcript_reads
from meeting_room.services import transcripts
from meeting_room.store import Store
from tests.conftest import World


def test_store_holds_every_transcript_change(world: World) -> None:
    """Replaying the log rebuilds passes, speakers and lines exactly (they are read models)."""
    store: Store = world.store
    pass_id = transcripts.new_pass(store, world.meeting_id, "live", "whisper-base")
    from meeting_room.events import SpeakerSpec
    from speech.transcript import Segment, Word

    transcripts.add_speakers(store, world.meeting_id, pass_id, [SpeakerSpec(cluster="live-1", name="Người nói 1", source="anonymous")])
    transcripts.add_segment(store, world.meeting_id, pass_id, Segment(1.0, 2.5, "xin chào", (Word(1.0, 1.5, "xin", 0.9),), -0.1), "live-1")
    transcripts.relabel(store, world.actor("chair"), world.meeting_id, pass_id, "live-1", member_id=world.ids["member2"])
    transcripts.end_pass(store, world.meeting_id, pass_id, "completed", 3.0)
    with store.read() as session:
        before = transcript_reads.lines(session, pass_id)
    assert before[0].speaker == "Người member2" and before[0].member_id == world.ids["member2"]
    store.rebuild()
    with store.read() as session:
        assert transcript_reads.lines(session, pass_id) == before
        current = transcript_reads.current_pass(session, world.meeting_id)
        assert current is not None and current.state == "completed"
    assert store.verify().ok
