"""A room's configuration (TOML): its microphones with a channel per seat, its cameras, the output
to its loudspeakers and how it records. Parsed into frozen dataclasses; every mistake is reported
with the field at fault and what is accepted.

    room = "Phòng họp số 1"             # the room's name (or id) on the server

    [[microphones]]
    name = "ban-hop"                    # how the chair's screen and the recording name it
    device = "default"                  # a PortAudio device: name (or part of it) or index …
    # file = "/data/phien-hop.wav"      # … or a recording replayed at real-time pace (a stand-in)
    channels = 2
    sample_rate = 48000

    [[seats]]
    label = "1"
    microphone = "ban-hop"              # optional when the room has one microphone input
    channel = 0                         # 0-based channel of that input
    member = "chutich"                  # optional: username or member id of who sits there

    [[cameras]]
    name = "Toàn cảnh"
    url = "http://127.0.0.1:8090/cam.mjpg"   # /dev/video0, rtsp://…, http://… (MJPEG) or a video file

    [loudspeakers]
    device = "default"

    [recording]
    segment_s = 5                       # at most this much is lost if the server dies
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hardware.errors import ConfigError

RATES = (8000, 16000, 22050, 24000, 32000, 44100, 48000, 96000)


@dataclass(frozen=True)
class MicrophoneConfig:
    name: str
    device: str | int | None = None  # PortAudio
    file: Path | None = None  # replayed as if live
    channels: int = 1
    sample_rate: int = 48000
    loop: bool = False  # files: start again at the end

    @property
    def is_file(self) -> bool:
        return self.file is not None


@dataclass(frozen=True)
class SeatConfig:
    label: str
    microphone: str
    channel: int
    member: str | None = None


@dataclass(frozen=True)
class CameraConfig:
    name: str
    url: str
    format: str | None = None  # FFmpeg input format ("v4l2" for /dev/video*, "mpjpeg" …); None = guessed
    realtime: bool = True  # files: paced like a live camera
    loop: bool = False


@dataclass(frozen=True)
class RecordingConfig:
    segment_s: float = 5.0
    enabled: bool = True


@dataclass(frozen=True)
class RoomConfig:
    room: str
    microphones: tuple[MicrophoneConfig, ...] = ()
    seats: tuple[SeatConfig, ...] = ()
    cameras: tuple[CameraConfig, ...] = ()
    loudspeakers: str | int | None = None
    recording: RecordingConfig = RecordingConfig()
    source: Path | None = None

    def seat_map(self, microphone: str) -> dict[int, SeatConfig]:
        return {s.channel: s for s in self.seats if s.microphone == microphone}


def load_room_config(path: str | Path) -> RoomConfig:
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"Không có tệp cấu hình phòng {path}", f"No room configuration at {path}", path=str(path)) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"Tệp {path} không phải TOML hợp lệ: {exc}", f"{path} is not valid TOML: {exc}", path=str(path)) from None
    return parse_room_config(raw, base=path.parent, source=path)


def parse_room_config(raw: dict[str, Any], base: Path = Path("."), source: Path | None = None) -> RoomConfig:
    _only(raw, {"room", "microphones", "seats", "cameras", "loudspeakers", "recording"}, "")
    room = _text(raw, "room", "")
    mics = tuple(_microphone(m, f"microphones[{i}]", base) for i, m in enumerate(_tables(raw, "microphones")))
    names = [m.name for m in mics]
    if len(set(names)) != len(names):
        raise _bad("microphones", "tên micrô bị trùng", "microphone names repeat", "distinct names")
    seats = tuple(_seat(s, f"seats[{i}]", mics) for i, s in enumerate(_tables(raw, "seats")))
    taken: dict[tuple[str, int], str] = {}
    for seat in seats:
        key = (seat.microphone, seat.channel)
        if key in taken:
            raise _bad(
                "seats", f"ghế {seat.label} và {taken[key]} dùng chung kênh {seat.channel}",
                f"seats {seat.label} and {taken[key]} share channel {seat.channel}", "one seat per channel",
            )  # fmt: skip
        taken[key] = seat.label
    labels = [s.label for s in seats]
    if len(set(labels)) != len(labels):
        raise _bad("seats", "nhãn ghế bị trùng", "seat labels repeat", "distinct labels")
    cameras = tuple(_camera(c, f"cameras[{i}]", base) for i, c in enumerate(_tables(raw, "cameras")))
    if len({c.name for c in cameras}) != len(cameras):
        raise _bad("cameras", "tên camera bị trùng", "camera names repeat", "distinct names")
    speakers = raw.get("loudspeakers", {})
    if not isinstance(speakers, dict):
        raise _bad("loudspeakers", "phải là một bảng", "must be a table", "[loudspeakers] device = …")
    _only(speakers, {"device"}, "loudspeakers")
    recording = raw.get("recording", {})
    if not isinstance(recording, dict):
        raise _bad("recording", "phải là một bảng", "must be a table", "[recording] segment_s = 5")
    _only(recording, {"segment_s", "enabled"}, "recording")
    segment_s = _number(recording, "segment_s", "recording", 5.0, 1.0, 60.0)
    enabled = recording.get("enabled", True)
    if not isinstance(enabled, bool):
        raise _bad("recording.enabled", "phải là true/false", "must be true or false", "true, false")
    return RoomConfig(
        room=room, microphones=mics, seats=seats, cameras=cameras, loudspeakers=_device(speakers, "device", "loudspeakers"),
        recording=RecordingConfig(segment_s=segment_s, enabled=enabled), source=source,
    )  # fmt: skip


# --- fields -------------------------------------------------------------------------------------


def _bad(field: str, why_vi: str, why_en: str, accepted: str) -> ConfigError:
    return ConfigError(
        f"Cấu hình phòng, mục “{field}”: {why_vi}. Chấp nhận: {accepted}",
        f"Room configuration, “{field}”: {why_en}. Accepted: {accepted}",
        field=field, accepted=accepted,
    )  # fmt: skip


def _only(table: dict[str, Any], known: set[str], where: str) -> None:
    for key in table:
        if key not in known:
            field = f"{where}.{key}" if where else key
            raise _bad(field, "không có mục này", "unknown key", ", ".join(sorted(known)))


def _tables(raw: dict[str, Any], key: str) -> list[dict[str, Any]]:
    value = raw.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise _bad(key, "phải là danh sách bảng", "must be an array of tables", f"[[{key}]] …")
    return value


def _text(table: dict[str, Any], key: str, where: str, required: bool = True, limit: int = 100) -> str:
    field = f"{where}.{key}" if where else key
    value = table.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or not value.strip():
        raise _bad(field, "thiếu hoặc rỗng", "missing or empty", "a non-empty text")
    if len(value) > limit:
        raise _bad(field, f"dài quá {limit} ký tự", f"longer than {limit} characters", f"up to {limit} characters")
    return value.strip()


def _number(table: dict[str, Any], key: str, where: str, default: float, low: float, high: float) -> float:
    value = table.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise _bad(f"{where}.{key}", f"giá trị {value!r} không hợp lệ", f"{value!r} is out of range", f"{low:g} to {high:g}")
    return float(value)


def _int(table: dict[str, Any], key: str, where: str, default: int, low: int, high: int) -> int:
    value: object = table.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise _bad(f"{where}.{key}", f"giá trị {value!r} không hợp lệ", f"{value!r} is out of range", f"an integer {low} to {high}")
    return value


def _device(table: dict[str, Any], key: str, where: str) -> str | int | None:
    value = table.get(key)
    if value is None or isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    if isinstance(value, str) and value.strip():
        return value.strip()
    raise _bad(f"{where}.{key}", f"{value!r} không phải thiết bị", f"{value!r} is not a device", "a device name or index")


def _file(value: Any, field: str, base: Path) -> Path:
    if not isinstance(value, str) or not value.strip():
        raise _bad(field, "phải là đường dẫn tệp", "must be a file path", "a path to an audio or video file")
    path = Path(value).expanduser()
    path = path if path.is_absolute() else base / path
    if not path.is_file():
        raise _bad(field, f"không có tệp {path}", f"no file at {path}", "an existing file")
    return path


def _microphone(m: dict[str, Any], where: str, base: Path) -> MicrophoneConfig:
    _only(m, {"name", "device", "file", "channels", "sample_rate", "loop"}, where)
    name = _text(m, "name", where, limit=60)
    if ("device" in m) == ("file" in m):
        raise _bad(where, "cần đúng một trong device hoặc file", "needs exactly one of device or file", "device = … or file = …")
    rate = _int(m, "sample_rate", where, 48000, 8000, 96000)
    if rate not in RATES:
        raise _bad(f"{where}.sample_rate", f"{rate} Hz không được hỗ trợ", f"{rate} Hz is not supported", ", ".join(map(str, RATES)))
    loop = m.get("loop", False)
    if not isinstance(loop, bool):
        raise _bad(f"{where}.loop", "phải là true/false", "must be true or false", "true, false")
    return MicrophoneConfig(
        name=name, device=_device(m, "device", where), file=_file(m["file"], f"{where}.file", base) if "file" in m else None,
        channels=_int(m, "channels", where, 1, 1, 8), sample_rate=rate, loop=loop,
    )  # fmt: skip


def _seat(s: dict[str, Any], where: str, mics: tuple[MicrophoneConfig, ...]) -> SeatConfig:
    _only(s, {"label", "microphone", "channel", "member"}, where)
    label = _text(s, "label", where, limit=32) if not isinstance(s.get("label"), int) else str(s["label"])
    if "microphone" in s:
        mic_name = _text(s, "microphone", where)
    elif len(mics) == 1:
        mic_name = mics[0].name
    else:
        raise _bad(f"{where}.microphone", "thiếu (phòng có nhiều micrô)", "missing (the room has several inputs)", "a microphone name")
    mic = next((m for m in mics if m.name == mic_name), None)
    if mic is None:
        raise _bad(
            f"{where}.microphone", f"không có micrô “{mic_name}”", f"no microphone “{mic_name}”", ", ".join(m.name for m in mics) or "—"
        )
    channel = _int(s, "channel", where, 0, 0, mic.channels - 1)
    member = _text(s, "member", where, required=False) or None
    return SeatConfig(label=label, microphone=mic.name, channel=channel, member=member)


def _camera(c: dict[str, Any], where: str, base: Path) -> CameraConfig:
    _only(c, {"name", "url", "file", "format", "realtime", "loop"}, where)
    name = _text(c, "name", where, limit=60)
    if ("url" in c) == ("file" in c):
        raise _bad(where, "cần đúng một trong url hoặc file", "needs exactly one of url or file", "url = … or file = …")
    url = _text(c, "url", where, limit=500) if "url" in c else str(_file(c["file"], f"{where}.file", base))
    fmt = _text(c, "format", where, required=False) or ("v4l2" if url.startswith("/dev/video") else None)
    for key in ("realtime", "loop"):
        if not isinstance(c.get(key, True), bool):
            raise _bad(f"{where}.{key}", "phải là true/false", "must be true or false", "true, false")
    return CameraConfig(name=name, url=url, format=fmt, realtime=c.get("realtime", True), loop=c.get("loop", False))
