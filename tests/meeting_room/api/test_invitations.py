"""Invitation links: one participant, one meeting, until the link expires or is revoked."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient

from meeting_room.db import tables as t
from meeting_room.lifecycle import MeetingState
from meeting_room.services import meetings
from tests.conftest import PASSWORD, World, login, snapshot


def _invite(client: TestClient, world: World, headers: dict[str, str], who: str = "member2", **extra: object):
    return client.post(f"/api/meetings/{world.meeting_id}/invitations", json={"member_id": world.ids[who], **extra}, headers=headers)


def test_a_link_opens_that_meeting_only_until_it_is_revoked(client: TestClient, world: World) -> None:
    chair = login(client, "chair")
    r = _invite(client, world, chair)
    assert r.status_code == 201, r.text
    link = r.json()
    assert link["full_name"] == "Người member2" and "/join/" in link["url"]
    assert (link["member_id"], link["revoked"], link["used"]) == (world.ids["member2"], False, False) and link["expires_at"]
    assert datetime.fromisoformat(link["expires_at"]) > datetime.now(UTC) + timedelta(hours=23)
    token = link["url"].rsplit("/", 1)[1]
    assert token not in repr([e.message() for e in world.store.events()])  # only its hash is kept
    # ... in the log; the meeting's events as its members read them do not carry even that (an attacker's probe)
    member_reads = client.get(f"/api/meetings/{world.meeting_id}/events", headers=login(client, "member1")).json()["events"]
    created = [e["data"] for e in member_reads if e["type"] == "meeting.invitation_created"]
    assert created and all("token_hash" not in d and d["invitation_id"] == link["id"] for d in created)
    assert all("token_hash" in e.data for e in world.store.events() if e.type == "meeting.invitation_created")

    opened = client.post(f"/join/{token}", follow_redirects=False)
    assert opened.status_code == 303 and opened.headers["location"] == f"/member/{world.meeting_id}"
    session = {"Cookie": f"meeting_room_session={opened.cookies['meeting_room_session']}"}
    client.cookies.clear()
    assert client.get("/api/auth/me", headers=session).json()["username"] == "member2"
    assert client.get(f"/api/meetings/{world.meeting_id}", headers=session).status_code == 200
    assert client.get(f"/api/meetings/{world.meeting_id}/agenda", headers=session).status_code == 200
    other = client.get("/api/meetings", headers=session)  # nothing beyond the meeting it was sent for
    assert other.status_code == 403 and "invitation link" in other.json()["error"]["message_en"], other.text
    assert client.get(f"/api/members/{world.ids['member1']}", headers=session).status_code == 403

    listed = client.get(f"/api/meetings/{world.meeting_id}/invitations", headers=chair).json()
    assert [(i["full_name"], i["used"], i["revoked"], i["url"]) for i in listed] == [("Người member2", True, False, None)]
    assert (listed[0]["id"], listed[0]["expires_at"]) == (link["id"], link["expires_at"])  # the same link, as the answer gave it
    used = [e for e in world.store.events() if e.type == "meeting.invitation_used"]  # the opening is in the log, by them
    assert [(e.data["invitation_id"], e.actor_id) for e in used] == [(link["id"], world.ids["member2"])]
    assert client.delete(f"/api/meetings/{world.meeting_id}/invitations/{link['id']}", headers=chair).status_code == 204
    assert client.get(f"/api/meetings/{world.meeting_id}", headers=session).status_code == 401  # its session ended too
    gone = client.get(f"/join/{token}", follow_redirects=False)
    assert gone.status_code == 410 and "không còn hiệu lực" in gone.text and "no longer valid" in gone.text


def test_links_are_refused_when_they_cannot_be_used(client: TestClient, world: World) -> None:
    chair, member = login(client, "chair"), login(client, "member1")
    before = snapshot(world.store)
    assert _invite(client, world, member).status_code == 403  # only the chair or secretary invites
    assert _invite(client, world, chair, "outsider").status_code == 404  # not a participant
    bad = _invite(client, world, chair, hours=0)
    assert bad.status_code == 422 and "720" in bad.json()["error"]["message_en"]
    assert snapshot(world.store) == before
    assert client.get("/join/not-a-token", follow_redirects=False).status_code == 410

    link = _invite(client, world, chair).json()
    with world.store.read() as session, session.begin():  # a day later
        session.get_one(t.Invitation, link["id"]).expires_at = datetime.now(UTC) - timedelta(minutes=1)
    assert client.get(link["url"].split("testserver")[1], follow_redirects=False).status_code == 410

    fresh = _invite(client, world, chair).json()
    used = _invite(client, world, chair, "member1").json()
    assert client.post(used["url"].split("testserver")[1], follow_redirects=False).status_code == 303
    client.cookies.clear()
    meetings.transition(world.store, world.actor("chair"), world.meeting_id, MeetingState.CANCELLED, reason="Hoãn họp <b>do bão</b>.")
    off = client.get(fresh["url"].split("testserver")[1], follow_redirects=False)
    assert off.status_code == 410  # the meeting is off, and the page says so, with why (not "ask for a new link")
    assert "đã bị hủy, không họp: Hoãn họp &lt;b&gt;do bão&lt;/b&gt;." in off.text and "was cancelled" in off.text
    assert "liên kết mới" not in off.text and "<b>" not in off.text
    assert client.post(fresh["url"].split("testserver")[1], follow_redirects=False).status_code == 410
    client.cookies.clear()
    for other in (link, used):  # expired, or opened already (a forwarded copy): nothing of the meeting
        refused = client.get(other["url"].split("testserver")[1], follow_redirects=False)
        assert refused.status_code == 410 and "đã bị hủy" not in refused.text and "Hoãn" not in refused.text


def test_fetching_a_link_shows_whose_it_is_and_spends_nothing(client: TestClient, world: World) -> None:
    """A chat app's preview or a mail scanner fetches the link before the person taps it: that GET used
    to spend the link's one opening, and the person found it "already used"."""
    with world.store.read() as session, session.begin():  # a name that must be shown as text, not markup
        session.get_one(t.Member, world.ids["member2"]).full_name = "Trần <b>Thị</b> Hoa"
    link = _invite(client, world, login(client, "chair")).json()
    client.cookies.clear()
    path = "/join/" + link["url"].rsplit("/", 1)[1]
    for _ in range(3):  # the preview, the scanner, the person's own look
        page = client.get(path, follow_redirects=False)
        assert page.status_code == 200 and "set-cookie" not in page.headers
        assert "Trần &lt;b&gt;Thị&lt;/b&gt; Hoa" in page.text and "Phiên họp" in page.text and "Vào cuộc họp" in page.text
        assert f"action='{path}'" in page.text and page.headers["cache-control"] == "no-store"
        assert page.headers["referrer-policy"] == "same-origin"  # the address is the credential: never sent to another site
    with world.store.read() as session:
        assert session.get_one(t.Invitation, link["id"]).used_at is None
        assert not session.query(t.AuthSession).filter_by(member_id=world.ids["member2"]).count()
    opened = client.post(path, follow_redirects=False)  # the button
    assert opened.status_code == 303 and "meeting_room_session" in opened.cookies


def test_a_link_of_someone_taken_off_the_participants_shows_nothing(client: TestClient, world: World) -> None:
    """Its page named the meeting and its time to whoever held the link (an attacker's probe)."""
    chair = login(client, "chair")
    link = _invite(client, world, chair).json()
    path = "/join/" + link["url"].rsplit("/", 1)[1]
    assert client.get(path, follow_redirects=False).status_code == 200
    assert client.delete(f"/api/meetings/{world.meeting_id}/participants/{world.ids['member2']}", headers=chair).status_code == 204
    client.cookies.clear()
    for method in ("GET", "POST"):
        gone = client.request(method, path, follow_redirects=False)
        assert gone.status_code == 410 and "Phiên họp" not in gone.text and "no longer valid" in gone.text


def test_a_member_logged_in_already_keeps_their_own_session_and_the_link(client: TestClient, world: World) -> None:
    """Their own login can vote; a link-only session in its place could not, and the link would be spent."""
    link = _invite(client, world, login(client, "chair")).json()
    client.cookies.clear()
    own = client.post("/api/auth/login", json={"username": "member2", "password": PASSWORD}).cookies["meeting_room_session"]
    path = "/join/" + link["url"].rsplit("/", 1)[1]
    cookie = {"Cookie": f"meeting_room_session={own}", "Origin": "https://testserver"}
    for method in ("GET", "POST"):
        r = client.request(method, path, headers=cookie, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == f"/member/{world.meeting_id}" and "set-cookie" not in r.headers
    with world.store.read() as session:
        assert session.get_one(t.Invitation, link["id"]).used_at is None  # still theirs for another device
    someone = client.post("/api/auth/login", json={"username": "member1", "password": PASSWORD}).cookies["meeting_room_session"]
    page = client.get(path, headers={"Cookie": f"meeting_room_session={someone}"}, follow_redirects=False)
    assert page.status_code == 200 and "Vào cuộc họp" in page.text  # another member's browser: the page, as anywhere
    # said before the tap: the button would log Người member1 out here (a walk-through on a shared computer)
    assert "id='someone-else'" in page.text and "đang đăng nhập là <b>Người member1</b>" in page.text
    client.cookies.clear()
    assert "someone-else" not in client.get(path, follow_redirects=False).text  # nobody logged in: nothing to say


def test_a_link_opens_one_session_and_only_the_browser_that_opened_it_continues(client: TestClient, world: World) -> None:
    chair = login(client, "chair")
    link = _invite(client, world, chair).json()
    path = "/join/" + link["url"].rsplit("/", 1)[1]
    first = client.post(path, follow_redirects=False)  # the cookie stays in this client: one browser
    assert first.status_code == 303 and "meeting_room_session" in first.cookies
    again = client.get(path, follow_redirects=False)  # the same browser opens the link again: it continues
    assert again.status_code == 303 and again.headers["location"] == f"/member/{world.meeting_id}"
    assert "set-cookie" not in again.headers
    button = client.post(path, headers={"Origin": "https://testserver"}, follow_redirects=False)  # its button too (a form sends Origin)
    assert button.headers["location"] == f"/member/{world.meeting_id}"
    assert client.get("/api/auth/me").json()["username"] == "member2"

    client.cookies.clear()  # another browser
    other = client.get(path, follow_redirects=False)
    assert other.status_code == 410, other.text
    assert client.post(path, follow_redirects=False).status_code == 410
    assert "đã được mở trên một trình duyệt khác" in other.text and "already used" in other.text and "send you a new one" in other.text
    someone = login(client, "member1")["Authorization"].removeprefix("Bearer ")  # a browser logged in as someone else
    assert client.get(path, headers={"Cookie": f"meeting_room_session={someone}"}, follow_redirects=False).status_code == 410
    with world.store.read() as session:  # one session was made from the link, no more
        made = session.query(t.AuthSession).filter_by(member_id=world.ids["member2"], meeting_id=world.meeting_id).count()
    assert made == 1
    used = [e for e in world.store.events() if e.type == "meeting.invitation_used"]
    assert len(used) == 1


def test_a_new_link_replaces_the_members_links_not_yet_opened(client: TestClient, world: World) -> None:
    """Sent again because the first went astray: the first no longer opens. A link already opened keeps
    its session (that browser is the member's), and other members' and the hall's links are untouched."""
    chair = login(client, "chair")
    opened = _invite(client, world, chair).json()
    assert client.post("/join/" + opened["url"].rsplit("/", 1)[1], follow_redirects=False).status_code == 303
    session = {"Cookie": f"meeting_room_session={client.cookies['meeting_room_session']}"}
    client.cookies.clear()
    astray, other = _invite(client, world, chair).json(), _invite(client, world, chair, "member1").json()
    display = client.post(f"/api/meetings/{world.meeting_id}/displays", json={}, headers=chair)
    assert display.status_code == 201, display.text
    second_display = client.post(f"/api/meetings/{world.meeting_id}/displays", json={}, headers=chair)
    resent = _invite(client, world, chair).json()
    assert (opened["replaces"], astray["replaces"], other["replaces"], resent["replaces"]) == (0, 0, 0, 1)

    rows = client.get(f"/api/meetings/{world.meeting_id}/invitations", headers=chair).json()
    listed = {i["id"]: (i["revoked"], i["replaced"], i["valid"]) for i in rows}
    assert listed == {
        opened["id"]: (False, False, True),
        astray["id"]: (True, True, False),
        other["id"]: (False, False, True),
        resent["id"]: (False, False, True),
    }
    assert [i["created_at"] for i in rows] == sorted(i["created_at"] for i in rows)  # when each was made tells them apart
    assert client.get("/join/" + astray["url"].rsplit("/", 1)[1]).status_code == 410
    assert client.get(f"/api/meetings/{world.meeting_id}", headers=session).status_code == 200  # the opened one's session stays
    hall = client.get(f"/api/meetings/{world.meeting_id}/displays", headers=chair).json()
    assert {d["id"] for d in hall if not d["revoked"]} == {display.json()["id"], second_display.json()["id"]}
    created = [e.data for e in world.store.events() if e.type == "meeting.invitation_created"]
    assert created[-1]["replaces"] == [astray["id"]]  # the log says which link the new one replaced
    client.cookies.clear()
    assert client.post("/join/" + resent["url"].rsplit("/", 1)[1], follow_redirects=False).status_code == 303


def test_revoking_a_link_opened_at_a_wrong_address_ends_only_its_own_session(client: TestClient, world: World) -> None:
    """A link went astray and was opened there: the new one does not replace it (that browser could have
    been the member's), the answer says so, and revoking it ends the stranger's session, not the one
    the member opened from the new link (it ended both, and the new link then answered "already used")."""
    chair = login(client, "chair")

    def opened(link: dict[str, object]) -> dict[str, str]:
        client.cookies.clear()
        r = client.post("/join/" + str(link["url"]).rsplit("/", 1)[1], follow_redirects=False)
        assert r.status_code == 303, r.text
        cookie = {"Cookie": f"meeting_room_session={r.cookies['meeting_room_session']}"}
        client.cookies.clear()
        return cookie

    astray = _invite(client, world, chair).json()
    stranger = opened(astray)
    resent = _invite(client, world, chair).json()
    assert resent["replaces"] == 0
    rows = {i["id"]: (i["used"], i["valid"]) for i in client.get(f"/api/meetings/{world.meeting_id}/invitations", headers=chair).json()}
    assert rows == {astray["id"]: (True, True), resent["id"]: (False, True)}  # the console warns of the opened one
    member = opened(resent)
    own = login(client, "member2")  # their own log-in too
    assert client.delete(f"/api/meetings/{world.meeting_id}/invitations/{astray['id']}", headers=chair).status_code == 204
    meeting = f"/api/meetings/{world.meeting_id}"
    assert client.get(meeting, headers=stranger).status_code == 401
    assert client.get(meeting, headers=member).status_code == 200
    assert client.get(meeting, headers=own).status_code == 200
    assert client.delete(f"{meeting}/invitations/{resent['id']}", headers=chair).status_code == 204
    assert client.get(meeting, headers=member).status_code == 401 and client.get(meeting, headers=own).status_code == 200


def test_a_session_from_before_sessions_named_their_link_ends_with_any_of_the_members_links(client: TestClient, world: World) -> None:
    chair = login(client, "chair")
    link = _invite(client, world, chair).json()
    r = client.post("/join/" + link["url"].rsplit("/", 1)[1], follow_redirects=False)
    session = {"Cookie": f"meeting_room_session={r.cookies['meeting_room_session']}"}
    client.cookies.clear()
    with world.store.read() as db, db.begin():  # what a session opened before migration 0027 holds
        for row in db.query(t.AuthSession).filter(t.AuthSession.invitation_id.is_not(None)):
            row.invitation_id = None
    other = _invite(client, world, chair).json()
    assert client.get(f"/api/meetings/{world.meeting_id}", headers=session).status_code == 200
    assert client.delete(f"/api/meetings/{world.meeting_id}/invitations/{other['id']}", headers=chair).status_code == 204
    assert client.get(f"/api/meetings/{world.meeting_id}", headers=session).status_code == 401


def test_a_replay_of_the_log_keeps_sessions_opened_after_an_earlier_link_was_revoked(client: TestClient, world: World) -> None:
    """``upgrade`` replays the log (``rebuild``): an old revocation, replayed, ended the member's sessions
    from later links, opened before sessions named their link (an attacker's probe)."""
    chair = login(client, "chair")

    def opened(link: dict[str, str]) -> dict[str, str]:
        r = client.post("/join/" + link["url"].rsplit("/", 1)[1], follow_redirects=False)
        cookie = {"Cookie": f"meeting_room_session={r.cookies['meeting_room_session']}"}
        client.cookies.clear()
        return cookie

    first = _invite(client, world, chair).json()
    before = opened(first)
    assert client.delete(f"/api/meetings/{world.meeting_id}/invitations/{first['id']}", headers=chair).status_code == 204
    later = opened(_invite(client, world, chair).json())
    assert client.get(f"/api/meetings/{world.meeting_id}", headers=before).status_code == 401  # (ended by the revocation itself)
    with world.store.read() as db, db.begin():  # both as sessions opened before migration 0027 are
        for row in db.query(t.AuthSession).filter(t.AuthSession.meeting_id.is_not(None)):
            row.invitation_id = None
    world.store.rebuild()
    assert client.get(f"/api/meetings/{world.meeting_id}", headers=later).status_code == 200


def test_whoever_made_a_link_cannot_vote_or_read_notes_in_the_members_name(client: TestClient, world: World) -> None:
    # the chair (or secretary, or an administrator) sees the link they make: its session follows the
    # meeting and may speak, but a ballot (secret or named) and private notes need the member's own login
    from tests.meeting_room.api.test_documents import _upload, make_pdf
    from tests.meeting_room.api.test_polls import _session_with_attendance, _url

    doc = _upload(client, world, login(client, "secretary"), make_pdf(2)).json()
    notes = f"/api/meetings/{world.meeting_id}/documents/{doc['id']}/notes"
    member = login(client, "member2")
    assert client.put(f"{notes}/1", json={"text": "Tôi sẽ bỏ phiếu chống"}, headers=member).status_code == 200
    chair = _session_with_attendance(client, world)
    secret = client.post(_url(world), json={"title": "Bầu kín", "secrecy": "secret"}, headers=chair).json()
    named = client.post(_url(world), json={"title": "Thông qua chương trình"}, headers=chair).json()
    assert client.post(_url(world, f"/{secret['id']}/open"), json={}, headers=chair).status_code == 200
    token = _invite(client, world, chair).json()["url"].rsplit("/", 1)[1]
    opened = client.post(f"/join/{token}", follow_redirects=False)
    link = {"Cookie": f"meeting_room_session={opened.cookies['meeting_room_session']}", "Origin": "https://testserver"}
    client.cookies.clear()

    before = snapshot(world.store)
    refused = client.post(_url(world, f"/{secret['id']}/ballots"), json={"options": ["no"]}, headers=link)
    assert refused.status_code == 403 and "liên kết mời" in refused.json()["error"]["message"], refused.text
    answers = [client.get(notes, headers=link), client.get(f"{notes}/1", headers=link)]
    for answer in (*answers, client.put(f"{notes}/1", json={"text": "x"}, headers=link)):
        assert answer.status_code == 403 and "own username and password" in answer.json()["error"]["message_en"], answer.text
    assert snapshot(world.store) == before
    assert client.get(f"{notes}/1", headers=member).json()["text"] == "Tôi sẽ bỏ phiếu chống"  # untouched
    # the member votes in secret with their own login
    assert client.post(_url(world, f"/{secret['id']}/ballots"), json={"options": ["no"]}, headers=member).status_code == 201
    assert client.post(_url(world, f"/{secret['id']}/close"), json={}, headers=chair).status_code == 200
    # a named vote too: the link's holder is told so, and the page offers the login
    assert client.post(_url(world, f"/{named['id']}/open"), json={}, headers=chair).status_code == 200
    assert client.get(_url(world, f"/{named['id']}"), headers=link).json()["you"]["needs_own_login"] is True
    assert client.get(_url(world, f"/{named['id']}"), headers=member).json()["you"]["needs_own_login"] is False
    assert client.get("/api/auth/me", headers=link).json()["only_meeting"] == world.meeting_id
    before = snapshot(world.store)
    named_refused = client.post(_url(world, f"/{named['id']}/ballots"), json={"options": ["yes"]}, headers=link)
    assert named_refused.status_code == 403 and named_refused.json()["error"]["details"]["needs"] == "own_login", named_refused.text
    assert "biểu quyết từ liên kết mời" in named_refused.json()["error"]["message"]
    assert snapshot(world.store) == before
    assert client.post(_url(world, f"/{named['id']}/ballots"), json={"options": ["yes"]}, headers=member).status_code == 201


def test_a_named_opinion_asked_ahead_may_come_from_the_link(client: TestClient, world: World) -> None:
    # an opinion decides nothing and the member may change it until the deadline: the link may give it
    from tests.meeting_room.api.test_opinions import _ask

    sec = login(client, "secretary")
    poll = _ask(client, world, sec).json()
    token = _invite(client, world, sec).json()["url"].rsplit("/", 1)[1]
    opened = client.post(f"/join/{token}", follow_redirects=False)
    link = {"Cookie": f"meeting_room_session={opened.cookies['meeting_room_session']}", "Origin": "https://testserver"}
    client.cookies.clear()
    url = f"/api/meetings/{world.meeting_id}/polls/{poll['id']}"
    assert client.get(url, headers=link).json()["you"]["needs_own_login"] is False
    answered = client.post(f"{url}/ballots", json={"text": "Đề nghị bổ sung thuyết minh"}, headers=link)
    assert answered.status_code == 201 and answered.json()["message"] == "Đã ghi nhận ý kiến", answered.text


def test_an_opinion_asked_in_the_meeting_and_a_named_change_need_the_members_own_login(client: TestClient, world: World) -> None:
    """Only an opinion asked ahead may come from the link; one asked in the meeting is the member's own
    act as a vote is. A named ballot changed with a made-up receipt is not answered with that receipt."""
    from tests.meeting_room.api.test_polls import _session_with_attendance, _url

    chair = _session_with_attendance(client, world)
    asked = client.post(_url(world), json={"title": "Ý kiến về dự thảo", "kind": "opinion", "options": ["A", "B"], "allow_change": True},
                        headers=chair).json()  # fmt: skip
    assert client.post(_url(world, f"/{asked['id']}/open"), json={}, headers=chair).status_code == 200
    token = _invite(client, world, chair).json()["url"].rsplit("/", 1)[1]
    opened = client.post(f"/join/{token}", follow_redirects=False)
    link = {"Cookie": f"meeting_room_session={opened.cookies['meeting_room_session']}", "Origin": "https://testserver"}
    client.cookies.clear()
    assert client.get(_url(world, f"/{asked['id']}"), headers=link).json()["you"]["needs_own_login"] is True
    refused = client.post(_url(world, f"/{asked['id']}/ballots"), json={"options": ["o1"]}, headers=link)
    assert refused.status_code == 403 and refused.json()["error"]["details"]["needs"] == "own_login", refused.text
    member = login(client, "member2")
    assert client.post(_url(world, f"/{asked['id']}/ballots"), json={"options": ["o1"]}, headers=member).status_code == 201
    made_up = {"options": ["o2"], "receipt": "K7QX-3MPA-9TZC-R2DE"}
    changed = client.post(_url(world, f"/{asked['id']}/ballots"), json=made_up, headers=member)
    assert changed.status_code == 201 and changed.json()["replaced"] and changed.json()["receipt"] is None, changed.text


def test_a_link_never_carries_the_chair_or_secretarys_powers(client: TestClient, world: World) -> None:
    """The secretary can make the chair a link: opened, it takes part in the meeting, but nothing done from it
    is the chair's (an attacker's probe: from it the secretary adjourned the meeting, made polls and more
    links, each logged as the chair's). Running the meeting takes the officer's own log-in."""
    sec = login(client, "secretary")
    link = _invite(client, world, sec, "chair").json()
    opened = client.post(f"/join/{link['url'].rsplit('/', 1)[1]}", follow_redirects=False)
    session = {"Cookie": f"meeting_room_session={opened.cookies['meeting_room_session']}"}
    client.cookies.clear()
    url = f"/api/meetings/{world.meeting_id}"
    assert client.get(url, headers=session).status_code == 200  # it takes part
    before = snapshot(world.store)
    for method, path, body in (
        ("POST", f"{url}/polls", {"title": "Biểu quyết từ liên kết", "rule": {"preset": "hdnd_resolution"}}),
        ("POST", f"{url}/transitions", {"to": "open"}),
        ("POST", f"{url}/invitations", {"member_id": world.ids["member1"]}),
        ("POST", f"{url}/live/start", {}),
    ):
        r = client.request(method, path, json=body, headers=session)
        assert r.status_code == 403, (path, r.status_code, r.text)
    assert snapshot(world.store) == before
    assert client.get(url, headers=session).json()["can"]["run_meeting"] is False  # the pages offer nothing of it
    assert client.post(f"{url}/transitions", json={"to": "open"}, headers=login(client, "chair")).status_code == 200  # own log-in
