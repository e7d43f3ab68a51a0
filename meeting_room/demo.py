"""A small demo body for people trying the system out: members, a room, a meeting with an agenda and a prepared vote."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from meeting_room import auth
from meeting_room import events as ev
from meeting_room.access import Actor
from meeting_room.db import tables as t
from meeting_room.errors import ConflictError
from meeting_room.roles import BodyKind, Role
from meeting_room.services import agenda, bodies, meetings, members, polls, rooms, tellers
from meeting_room.store import Store

BODY_NAME = "Hội đồng nhân dân tỉnh Sơn Hà (dữ liệu mẫu)"
_PEOPLE = [  # username, full name, title, roles
    ("chutich", "Nguyễn Văn Thành", "Chủ tịch HĐND tỉnh", [Role.CHAIR, Role.MEMBER]),
    ("phochutich", "Trần Thị Hồng Nhung", "Phó Chủ tịch HĐND tỉnh", [Role.CHAIR, Role.MEMBER]),
    ("thuky", "Lê Minh Tuấn", "Chánh Văn phòng Đoàn ĐBQH và HĐND tỉnh", [Role.SECRETARY, Role.MEMBER]),
    ("daibieu1", "Phạm Thị Thu Hà", "Trưởng Ban Pháp chế", [Role.MEMBER]),
    ("daibieu2", "Hoàng Đức Anh", "Trưởng Ban Kinh tế - Ngân sách", [Role.MEMBER]),
    ("daibieu3", "Võ Thị Lan", "Trưởng Ban Văn hóa - Xã hội", [Role.MEMBER]),
    ("daibieu4", "Đặng Quốc Việt", "Đại biểu HĐND tỉnh", [Role.MEMBER]),
    ("daibieu5", "Bùi Thị Ngọc Ánh", "Đại biểu HĐND tỉnh", [Role.MEMBER]),
    ("vanthu", "Đỗ Thị Mai", "Chuyên viên văn thư - lưu trữ", [Role.CLERK]),
]
_AGENDA = [
    ("Khai mạc kỳ họp", "Chủ tịch HĐND tỉnh phát biểu khai mạc."),
    ("Báo cáo tình hình kinh tế - xã hội năm 2026", "UBND tỉnh trình bày; Ban Kinh tế - Ngân sách thẩm tra."),
    ("Thảo luận và biểu quyết Nghị quyết về dự toán ngân sách năm 2027", None),
    ("Bế mạc kỳ họp", None),
]


@dataclass
class DemoResult:
    body_id: str
    meeting_id: str
    logins: list[tuple[str, str, str]] = field(default_factory=list)  # username, password, full name
    tellers: list[tuple[str, str]] = field(default_factory=list)  # username, teller passphrase


def load_demo(store: Store, admin: Actor, *, timezone: str = "Asia/Ho_Chi_Minh") -> DemoResult:
    with store.read() as session:
        if session.scalar(select(t.Body).where(t.Body.name == BODY_NAME)) is not None:
            raise ConflictError("Dữ liệu mẫu đã được nạp trước đó", "The demo data is already loaded")
    body_id = bodies.create_body(
        store, admin, name=BODY_NAME, short_name="HĐND", parent_name="Thường trực HĐND tỉnh Sơn Hà", kind=BodyKind.COUNCIL
    )
    result = DemoResult(body_id=body_id, meeting_id="")
    ids: dict[str, str] = {}
    for username, name, title, roles in _PEOPLE:
        password = auth.new_password()
        ids[username] = members.create_member(
            store,
            admin,
            full_name=name,
            title=title,
            roles=roles,
            body_id=None if Role.CLERK in roles else body_id,  # staff, not a delegate: does not vote
            username=username,
            password=password,
        )
        result.logins.append((username, password, name))
    room_id = rooms.create_room(
        store,
        admin,
        name="Phòng họp số 1 (mẫu)",
        location="Tầng 3, trụ sở HĐND tỉnh",
        seats=[f"Ghế {i:02d}" for i in range(1, 13)],
    )
    tz = ZoneInfo(timezone)
    tomorrow = (datetime.now(tz) + timedelta(days=1)).date()
    starts = datetime.combine(tomorrow, time(8, 0), tz)
    meeting_id = meetings.schedule_meeting(
        store,
        admin,
        ev.MeetingScheduled(
            meeting_id=meetings.new_meeting_id(),
            body_id=body_id,
            title="Kỳ họp thứ 5, HĐND tỉnh khóa XI (mẫu)",
            room_id=room_id,
            starts_at=starts,
            ends_at=starts + timedelta(hours=4),
            chair_id=ids["chutich"],
            secretary_id=ids["thuky"],
        ),
    )
    items = [agenda.add_item(store, admin, meeting_id, title=title, description=description) for title, description in _AGENDA]
    polls.create_poll(
        store,
        admin,
        meeting_id,
        polls.PollSpec(
            title="Thông qua Nghị quyết về dự toán ngân sách nhà nước tỉnh năm 2027",
            rule=ev.RuleSpec(preset="hdnd_resolution"),
            agenda_item_id=items[2],
        ),
    )
    meetings.publish_meeting(store, admin, meeting_id)  # the invitation went out: the delegates see it on their home page
    # The demo meeting's chair and secretary get teller keys (in real use each makes their own on the
    # meetings page), so that a secret vote can be tried at once.
    for username in ("chutich", "thuky"):
        passphrase = auth.new_password()
        with store.read() as session:
            teller = auth.actor_of(session.get_one(t.Member, ids[username]))
        tellers.set_key(store, teller, passphrase)
        result.tellers.append((username, passphrase))
    result.meeting_id = meeting_id
    return result
