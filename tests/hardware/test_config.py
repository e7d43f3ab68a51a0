"""Room configuration: what a valid TOML gives, and a clear error naming the field for a bad one."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from hardware.config import load_room_config, parse_room_config
from hardware.errors import ConfigError

GOOD = """
room = "Phòng họp số 1"

[[microphones]]
name = "ban-hop"
device = "default"
channels = 2

[[seats]]
label = "1"
channel = 0
member = "chutich"

[[seats]]
label = "2"
channel = 1

[[cameras]]
name = "Toàn cảnh"
url = "http://127.0.0.1:8090/cam.mjpg"

[loudspeakers]
device = 3

[recording]
segment_s = 4
"""


def test_a_room_configuration_is_read(tmp_path: Path) -> None:
    path = tmp_path / "room.toml"
    path.write_text(GOOD, encoding="utf-8")
    c = load_room_config(path)
    assert c.room == "Phòng họp số 1" and c.microphones[0].channels == 2 and c.microphones[0].sample_rate == 48000
    assert {ch: s.label for ch, s in c.seat_map("ban-hop").items()} == {0: "1", 1: "2"}
    assert c.seats[0].member == "chutich" and c.seats[1].member is None and c.seats[0].microphone == "ban-hop"
    assert c.cameras[0].url.startswith("http://") and c.loudspeakers == 3 and c.recording.segment_s == 4.0


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"room": ""}, "room", "a non-empty text"),
        ({"microphones": [{"name": "a", "device": "x", "channels": 12}]}, "microphones[0].channels", "1 to 8"),
        ({"microphones": [{"name": "a", "device": "x", "file": "y.wav"}]}, "microphones[0]", "exactly one"),
        ({"microphones": [{"name": "a", "device": "x", "sample_rate": 12345}]}, "microphones[0].sample_rate", "48000"),
        ({"microphones": [{"name": "a", "file": "missing.wav"}]}, "microphones[0].file", "an existing file"),
        ({"seats": [{"label": "1", "channel": 5}]}, "seats[0].channel", "0 to 1"),
        ({"seats": [{"label": "1", "channel": 0}, {"label": "2", "channel": 0}]}, "seats", "one seat per channel"),
        ({"seats": [{"label": "1", "microphone": "khac", "channel": 0}]}, "seats[0].microphone", "ban-hop"),
        ({"cameras": [{"name": "c"}]}, "cameras[0]", "url"),
        ({"recording": {"segment_s": 0.1}}, "recording.segment_s", "1 to 60"),
        ({"speakers": {}}, "speakers", "unknown key"),
    ],
)
def test_a_bad_configuration_names_the_field_and_what_is_accepted(change: dict[str, Any], field: str, words: str, tmp_path: Path) -> None:
    import tomllib

    raw = {**tomllib.loads(GOOD), **change}
    with pytest.raises(ConfigError) as err:
        parse_room_config(raw, base=tmp_path)
    assert err.value.details["field"] == field, err.value
    assert words in err.value.message_en and "Cấu hình phòng" in err.value.message_vi


def test_unreadable_files_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="No room configuration"):
        load_room_config(tmp_path / "none.toml")
    (tmp_path / "bad.toml").write_text("room = ", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_room_config(tmp_path / "bad.toml")
