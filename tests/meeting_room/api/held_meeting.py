"""A held meeting to write minutes of, and the signers' certificates, shared by the minutes,
signatures, archive and search tests (and the backup test)."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient

from meeting_room import events as ev
from meeting_room.services import transcripts
from speech.transcript import Segment
from tests.conftest import World, login
from tests.pki import member_cert, root_ca

CHAIR_SAYS = "Tôi tuyên bố khai mạc phiên họp thường kỳ tháng mười một."
MEMBER_SAYS = "Tôi đề nghị biểu quyết thông qua dự toán ngân sách năm hai nghìn không trăm hai mươi bảy."


def hold_meeting(client: TestClient, world: World) -> dict[str, str]:
    """Open, attendance, two agenda items with speech under each, a passed vote, close."""
    url = f"/api/meetings/{world.meeting_id}"
    chair = login(client, "chair")
    for target in ("open", "in_session"):
        assert client.post(f"{url}/transitions", json={"to": target}, headers=chair).status_code == 200
    for who in ("chair", "secretary", "member1"):
        assert client.put(f"{url}/attendance/{world.ids[who]}", json={"status": "present_in_room"}, headers=chair).status_code == 200
    r = client.put(f"{url}/attendance/{world.ids['member2']}", json={"status": "absent_excused", "reason": "đi công tác"}, headers=chair)
    assert r.status_code == 200
    assert client.post(f"{url}/agenda/{world.item_ids[0]}/take", headers=chair).status_code == 204
    assert client.post(f"{url}/agenda/{world.item_ids[0]}/take", headers=chair).status_code == 409
    assert client.post(f"{url}/agenda/{world.item_ids[0]}/take", headers=login(client, "member1")).status_code == 403
    store = world.store
    now = [store.now()]
    store._clock = lambda: now[0]  # the meeting's own time: ten minutes pass between the two items
    pass_id = transcripts.new_pass(store, world.meeting_id, "live", "whisper-base")
    transcripts.add_speakers(
        store,
        world.meeting_id,
        pass_id,
        [
            ev.SpeakerSpec(cluster="ch0", name="Người chair", member_id=world.ids["chair"], source="channel"),
            ev.SpeakerSpec(cluster="ch1", name="Người member1", member_id=world.ids["member1"], source="channel"),
        ],
    )
    transcripts.add_segment(store, world.meeting_id, pass_id, Segment(0.5, 4.0, CHAIR_SAYS, avg_logprob=-0.2), "ch0")
    now[0] += timedelta(minutes=5)
    assert client.post(f"{url}/agenda/{world.item_ids[1]}/take", headers=chair).status_code == 204
    now[0] += timedelta(minutes=5, seconds=5)
    transcripts.add_segment(store, world.meeting_id, pass_id, Segment(600.0, 606.0, MEMBER_SAYS, avg_logprob=-0.3), "ch1")
    transcripts.end_pass(store, world.meeting_id, pass_id, "completed", audio_s=610.0)

    r = client.post(f"{url}/polls", json={"title": "Thông qua dự toán ngân sách 2027", "rule": {"preset": "hdnd_resolution"},
                                          "agenda_item_id": world.item_ids[1]}, headers=chair)  # fmt: skip
    poll_id = r.json()["id"]
    assert client.post(f"{url}/polls/{poll_id}/open", json={}, headers=chair).status_code == 200
    for who in ("chair", "secretary", "member1"):
        assert client.post(f"{url}/polls/{poll_id}/ballots", json={"options": ["yes"]}, headers=login(client, who)).status_code == 201
    assert client.post(f"{url}/polls/{poll_id}/close", headers=chair).json()["result"]["outcome"] == "passed"
    assert client.post(f"{url}/transitions", json={"to": "closed"}, headers=chair).status_code == 200
    return chair


def register_certificate(client: TestClient, world: World, who: str, passphrase: str, admin: dict[str, str]):
    """Register ``who``'s signing certificate (a PKCS#12 under ``passphrase``) as the administrator ``admin``."""
    data = member_cert(f"Người {who}").pkcs12(passphrase, (root_ca().cert,))
    files = {"file": (f"{who}.p12", data, "application/x-pkcs12")}
    return client.post(f"/api/members/{world.ids[who]}/certificate", files=files, data={"passphrase": passphrase}, headers=admin)
