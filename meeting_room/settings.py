"""The one ``Settings`` object: defaults < TOML file < environment (``MEETING_ROOM_*``) < arguments.

Validated when it is built, so that bad configuration stops the server at start-up with a message
that names the setting, the value received and what is accepted.
"""

from __future__ import annotations

import errno
import ipaddress
import os
import socket
import tomllib
from contextvars import ContextVar
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from meeting_room.errors import SettingsError

ENV_PREFIX = "MEETING_ROOM_"
_toml_file: ContextVar[Path | None] = ContextVar("_toml_file", default=None)


class _TomlSource(PydanticBaseSettingsSource):
    """Reads the optional TOML file named by ``load_settings(config_file=...)``."""

    def __init__(self, settings_cls: type[BaseSettings]) -> None:
        super().__init__(settings_cls)
        path = _toml_file.get()
        self._data: dict[str, Any] = {}
        if path is None:
            return
        try:
            with path.open("rb") as fh:
                self._data = tomllib.load(fh)
        except FileNotFoundError:
            raise SettingsError(
                f"Không tìm thấy tệp cấu hình {path}",
                f"Config file {path} does not exist",
                path=str(path),
            ) from None
        except tomllib.TOMLDecodeError as exc:
            raise SettingsError(
                f"Tệp cấu hình {path} không phải TOML hợp lệ: {exc}",
                f"Config file {path} is not valid TOML: {exc}",
                path=str(path),
            ) from None
        unknown = sorted(set(self._data) - set(settings_cls.model_fields))
        if unknown:
            allowed = ", ".join(sorted(settings_cls.model_fields))
            raise SettingsError(
                f"Tệp cấu hình {path} có khóa không được hỗ trợ: {', '.join(unknown)}. Các khóa hợp lệ: {allowed}",
                f"Config file {path} has unknown keys: {', '.join(unknown)}. Accepted keys: {allowed}",
                path=str(path),
                unknown=unknown,
            )

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return self._data.get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        return dict(self._data)


class BackupSchedule(BaseModel):
    """A backup every day at ``at`` (HH:MM, local time) into ``dir``, the newest ``keep`` kept."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    at: str = Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$", description="Local time of day, HH:MM.")
    keep: int = Field(7, ge=1, le=3650, description="How many backups are kept (older ones are removed).")
    dir: Path = Field(description="Where the backups go (ideally another disk).")


class SmtpSettings(BaseModel):
    """The body's own mail server, through which notices go (nothing is sent without it)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    host: str = Field(min_length=1, max_length=255, description="The SMTP server (on the body's network).")
    port: int = Field(587, ge=1, le=65535, description="587 for STARTTLS, 465 for TLS, 25 for neither.")
    security: Literal["starttls", "tls", "none"] = Field("starttls", description="starttls, tls (implicit, port 465) or none.")
    username: str | None = Field(None, description="Login name, if the server wants one.")
    password_file: Path | None = Field(None, description="A file holding the password (or set MEETING_ROOM_SMTP_PASSWORD).")
    from_address: str = Field(pattern=r"^[^@\s<>]+@[^@\s<>]+$", description="The sender, e.g. hop@hdnd.sonha.gov.vn.")
    ca_file: Path | None = Field(None, description="CA (PEM) that checks the server's TLS certificate (default: the system's).")
    timeout_s: float = Field(20, gt=0, le=300, description="How long one connection may take.")
    reminder_hours: float = Field(24, gt=0, le=24 * 14, description="A reminder this long before a meeting starts.")
    opinion_reminder_hours: float = Field(24, gt=0, le=24 * 14, description="A reminder this long before an opinion deadline.")
    site_url: str | None = Field(None, description="The server's address for links in the messages, e.g. https://hop.sonha.gov.vn.")

    @model_validator(mode="after")
    def _no_login_in_clear(self) -> SmtpSettings:
        if self.username and self.security == "none":
            raise ValueError(
                "smtp: đăng nhập (username) cần security = starttls hoặc tls, không gửi mật khẩu không mã hóa / "
                "a login (username) needs security = starttls or tls: the password is never sent in clear"
            )
        return self


class Settings(BaseSettings):
    """Everything the server can be configured with."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="forbid", validate_default=True)

    data_dir: Path = Field(Path("var"), description="Where the database, documents and recordings live.")
    database_url: str | None = Field(None, description="SQLAlchemy URL; default: SQLite file meeting-room.sqlite3 in data_dir.")
    host: str = Field("127.0.0.1", description="Address the HTTP server listens on.")
    port: int = Field(8000, ge=1, le=65535, description="TCP port of the HTTP server.")
    max_upload_mb: int = Field(50, ge=1, le=2048, description="Largest accepted document upload.")
    session_hours: int = Field(12, ge=1, le=24 * 30, description="How long a login stays valid.")
    cookie_secure: bool = Field(
        False, description="Secure session cookie with https=false too (behind a proxy that terminates TLS); always so with https."
    )
    models_dir: Path | None = Field(None, description="Local directory with model files (never a hub).")
    asr_model: str = Field("whisper-base", description="Whisper for transcription: a registered name or a CTranslate2 directory.")
    asr_compute_type: Literal["int8", "int8_float32", "float32"] = Field("int8", description="CTranslate2 precision on the CPU.")
    asr_beam_size: int = Field(5, ge=1, le=10, description="Beam search width (1: greedy, fastest).")
    asr_temperature_fallback: bool = Field(
        True, description="Re-decode a doubtful window by sampling (better text, but the same file can read differently twice)."
    )
    asr_threads: int = Field(0, ge=0, le=64, description="CPU threads per transcription (0: CTranslate2 decides).")
    asr_live_model: str = Field("whisper-base", description="Whisper for live captions (fast); the recording is redone with asr_model.")
    diarization_pipeline: str = Field(
        "segmentation3-campplus", description="pyannote pipeline for who-spoke-when: a registered name or a pipeline directory."
    )
    diarization_threshold: float | None = Field(None, gt=0, lt=2, description="Clustering threshold override (default: the pipeline's).")
    voice_threshold: float = Field(0.5, gt=0, lt=1, description="Least voiceprint similarity (cosine) to name a speaker.")
    voice_margin: float = Field(0.08, ge=0, lt=1, description="How much more similar than any other member the best match must be.")
    job_queue: Literal["auto", "in-process", "postgresql"] = Field(
        "auto",
        description="Where final passes run: auto (a PostgreSQL database: its job queue, served by `meeting-room worker`;"
        " SQLite: a thread of the server), in-process, or postgresql.",
    )
    job_attempts: int = Field(3, ge=1, le=20, description="Tries of a queued job before it stops as failed.")
    job_retry_s: float = Field(10.0, ge=0, le=3600, description="Wait before a failed queued job is tried again.")
    worker_heartbeat_s: float = Field(10.0, gt=0, le=600, description="How often a worker tells the queue it is alive.")
    worker_stalled_s: float = Field(
        30.0, gt=0, le=3600, description="Silence after which a worker counts as dead and its job goes to another worker."
    )
    max_recording_mb: int = Field(2048, ge=1, description="Largest meeting recording accepted by upload.")
    face_tolerance: float = Field(0.55, gt=0, lt=1, description="Largest face distance accepted as the same person (measured).")
    face_margin: float = Field(0.04, ge=0, lt=1, description="How much nearer than any other member the best match must be.")
    face_detector: Literal["hog", "cnn"] = Field("hog", description="hog (fast, CPU) or cnn (~100x slower on CPU).")
    face_upsample: int = Field(1, ge=0, le=2, description="Detector upsampling: 1 finds faces down to ~40 px.")
    face_detect_width: int = Field(
        1920, ge=320, le=7680, description="Frames wider than this are shrunk before detection (1920: a 1080p hall at full size)."
    )
    face_sightings: int = Field(3, ge=1, le=50, description="Consistent sightings before a member is marked present.")
    face_window_s: float = Field(30.0, gt=0, le=600, description="… within this many seconds.")
    face_sample_fps: float = Field(2.0, gt=0, le=30, description="Frames per second taken from each camera.")
    face_workers: int = Field(2, ge=0, le=64, description="Processes doing face recognition (0: in the calling process).")
    face_min_px: int = Field(80, ge=20, description="Smallest face (pixels) accepted on an enrolment photo.")
    face_min_sharpness: float = Field(40.0, ge=0, description="Least sharpness (variance of Laplacian) of an enrolment photo.")
    max_photo_mb: int = Field(15, ge=1, le=200, description="Largest accepted photo upload.")
    max_face_import_mb: int = Field(200, ge=1, le=2048, description="Largest accepted ZIP of members' face photos (one folder each).")
    face_check_online: bool = Field(
        False,
        description="Confirm a remote participant by their own camera: members who consented and enrolled a face are compared "
        "with their enrolment; a mismatch warns the secretary (off: remote video is never analysed).",
    )
    store_unknown_faces: bool = Field(False, description="Keep crops of faces that match nobody (off: they are only counted).")
    timezone: str = Field("Asia/Ho_Chi_Minh", description="Time zone shown to people.")
    fonts_dir: Path | None = Field(None, description="Directory with LiberationSerif-*.ttf (default: Debian's fonts-liberation2).")
    tsa_url: str | None = Field(None, description="RFC 3161 time-stamp authority URL; each signature gets a time-stamp when set.")
    trust_roots: list[Path] = Field(default_factory=list, description="CA certificate files (PEM/DER) that signatures are checked against.")
    max_certificate_kb: int = Field(64, ge=1, le=4096, description="Largest accepted PKCS#12 (.p12/.pfx) upload.")
    rooms: list[Path] = Field(default_factory=list, description="Room configurations (TOML) whose devices this server runs.")
    https: bool = Field(True, description="Serve HTTPS (browsers give the microphone and camera to HTTPS pages only).")
    tls_cert: Path | None = Field(None, description="Certificate chain (PEM) for HTTPS; default: issued by a local CA made at first start.")
    tls_key: Path | None = Field(None, description="Private key (PEM) of tls_cert.")
    tls_names: list[str] = Field(default_factory=list, description="Extra host names/IPs the generated certificate covers.")
    ice_servers: list[str | dict[str, str | list[str]]] = Field(
        default_factory=list,
        description="STUN/TURN servers for remote participants, e.g. [{urls='turn:10.0.0.5:3478', username='u', credential='p'}]; "
        "empty: host candidates on the LAN only (nothing contacts the outside).",
    )
    call_loopback: bool = Field(False, description="Also offer 127.0.0.1 to peers (a browser on the server machine itself).")
    call_video_width: int = Field(640, ge=160, le=1920, description="Room camera video sent to remote participants: width.")
    call_video_height: int = Field(360, ge=120, le=1080, description="… height.")
    call_video_fps: float = Field(15, gt=0, le=30, description="… frames per second (each remote peer costs one VP8 encode).")
    call_prebuffer_ms: float = Field(40, ge=0, le=500, description="Jitter buffer of each voice in the conference mixer.")
    call_grace_s: float = Field(20, ge=0, le=600, description="A dropped call that is not back within this counts as leaving.")
    janus: Literal["off", "run", "connect"] = Field(
        "off", description="Janus SFU for large online sessions: off, run (the server starts Debian's janus), connect (an operator's)."
    )
    janus_min_participants: int = Field(
        30, ge=0, le=10_000, description="Meetings with at least this many participants go through Janus when it is on (0: every meeting)."
    )
    janus_ws_port: int = Field(8188, ge=1, le=65535, description="Janus API WebSocket port on 127.0.0.1 (run; connect: where it listens).")
    janus_admin_port: int = Field(7188, ge=1, le=65535, description="Janus Admin API WebSocket port on 127.0.0.1.")
    janus_rtp_ports: tuple[int, int] = Field((20000, 40000), description="UDP port range Janus uses for media (open it in the firewall).")
    janus_secrets_file: Path | None = Field(
        None, description="connect: 0600 JSON file with the operator's Janus api_secret, admin_secret, room_secret (run: data_dir/janus)."
    )
    invitation_hours: int = Field(24, ge=1, le=24 * 30, description="How long an invitation link to a meeting stays valid.")
    backup_schedule: BackupSchedule | None = Field(
        None, description="Daily backups by the server, e.g. {at = '02:30', keep = 7, dir = '/mnt/backup/meeting-room'}."
    )
    smtp: SmtpSettings | None = Field(
        None, description="E-mail notices through the body's SMTP server, e.g. {host = 'mail.sonha.gov.vn', from_address = 'hop@…'}."
    )
    smtp_password: str | None = Field(None, description="The SMTP password (prefer smtp.password_file; never in the TOML file).")
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    log_format: Literal["text", "json"] = Field("text", description="One line per record: text, or JSON for a log collector.")
    log_file: Path | None = Field(None, description="Write the log to this file, rotated by size (default: standard error, i.e. journald).")
    log_max_mb: int = Field(50, ge=1, le=10_000, description="Size of log_file at which it is rotated.")
    log_backups: int = Field(5, ge=1, le=100, description="Rotated log files kept.")
    trusted_proxies: list[str] = Field(
        default_factory=list,
        description="Addresses of reverse proxies whose X-Forwarded-For names the client (https = false behind a proxy); "
        "without them, addresses prove nothing and only administrators read /metrics.",
    )
    metrics_allow: list[str] = Field(
        default_factory=lambda: ["127.0.0.1/32", "::1/128"],
        description="Networks whose addresses may read /metrics without logging in (administrators may always).",
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, _TomlSource(settings_cls))

    @field_validator("data_dir")
    @classmethod
    def _data_dir_usable(cls, value: Path) -> Path:
        if value.exists() and not value.is_dir():
            raise ValueError(f"{value} exists but is not a directory / tồn tại nhưng không phải thư mục")
        probe = value
        while not probe.exists():
            probe = probe.parent
        if not os.access(probe, os.W_OK | os.X_OK):
            raise ValueError(f"{probe} is not writable / không ghi được vào {probe}")
        return value

    @field_validator("models_dir")
    @classmethod
    def _models_dir_readable(cls, value: Path | None) -> Path | None:
        if value is None:
            return None
        if not value.is_dir():
            raise ValueError(f"{value} is not an existing directory / không phải thư mục có sẵn")
        if not os.access(value, os.R_OK | os.X_OK):
            raise ValueError(f"{value} is not readable / không đọc được")
        return value

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not value.startswith(("sqlite:", "postgresql:", "postgresql+psycopg:")):
            raise ValueError(
                "accepted: sqlite:///PATH or postgresql+psycopg://USER:PASS@HOST/DB"
                " / chấp nhận sqlite:///ĐƯỜNG_DẪN hoặc postgresql+psycopg://..."
            )
        if value.startswith("postgresql:"):
            value = "postgresql+psycopg:" + value[len("postgresql:") :]
        return value

    @field_validator("trust_roots")
    @classmethod
    def _trust_roots_readable(cls, value: list[Path]) -> list[Path]:
        for path in value:
            if not path.is_file():
                raise ValueError(f"{path} is not a readable certificate file / không đọc được tệp chứng thư {path}")
        return value

    @field_validator("tls_cert", "tls_key")
    @classmethod
    def _tls_file_readable(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_file():
            raise ValueError(f"{value} is not a readable PEM file / không đọc được tệp PEM {value}")
        return value

    @field_validator("ice_servers")
    @classmethod
    def _ice_servers_valid(cls, value: list[str | dict[str, str | list[str]]]) -> list[str | dict[str, str | list[str]]]:
        from webrtc.errors import IceConfigError
        from webrtc.ice import parse_ice_servers

        try:
            parse_ice_servers(value)
        except IceConfigError as exc:
            raise ValueError(f"{exc.message_en} / {exc.message_vi}") from None
        return value

    @field_validator("metrics_allow", "trusted_proxies")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        for net in value:
            try:
                ipaddress.ip_network(net, strict=False)
            except ValueError:
                raise ValueError(f"{net!r} is not a network such as 10.0.0.0/24 / không phải mạng IP như 10.0.0.0/24") from None
        return value

    @field_validator("tsa_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("accepted: an http:// or https:// URL / chấp nhận địa chỉ http:// hoặc https://")
        return value

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("not an IANA time zone such as Asia/Ho_Chi_Minh / không phải múi giờ IANA") from None
        return value

    @property
    def secure_cookies(self) -> bool:
        """Cookies carry ``Secure`` whenever the browser speaks HTTPS to us (or to the proxy in front)."""
        return self.https or self.cookie_secure

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'meeting-room.sqlite3').resolve()}"

    @property
    def queued_jobs(self) -> bool:
        """Final passes go to the job queue in PostgreSQL (run by `meeting-room worker`), not a thread of the server."""
        if self.job_queue == "auto":
            return self.effective_database_url.startswith("postgresql")
        return self.job_queue == "postgresql"

    @model_validator(mode="after")
    def _queue_needs_postgresql(self) -> Settings:
        if self.job_queue == "postgresql" and not self.effective_database_url.startswith("postgresql"):
            raise ValueError("job_queue=postgresql cần database_url là PostgreSQL / job_queue=postgresql needs a PostgreSQL database_url")
        return self

    @property
    def models_root(self) -> Path:
        """Where local models live: ``models_dir``, or ``data_dir/models``."""
        return self.models_dir if self.models_dir is not None else self.data_dir / "models"

    @property
    def documents_dir(self) -> Path:
        return self.data_dir / "documents"

    @property
    def recordings_dir(self) -> Path:
        return self.data_dir / "recordings"

    @property
    def room_audio_dir(self) -> Path:
        """Live recording segments, per meeting, until the meeting closes and they are assembled."""
        return self.data_dir / "room-audio"

    @property
    def minutes_dir(self) -> Path:
        """Rendered and signed minutes, content-addressed by SHA-256."""
        return self.data_dir / "minutes"

    @property
    def certificates_dir(self) -> Path:
        """Members' PKCS#12 files (encrypted by their own passphrase, which is never stored)."""
        return self.data_dir / "certificates"

    @property
    def signature_images_dir(self) -> Path:
        """Members' signature images and bodies' seal images (checked, re-encoded PNGs), by SHA-256."""
        return self.data_dir / "signature-images"

    @property
    def archive_dir(self) -> Path:
        """Sealed meeting archives, one directory per meeting."""
        return self.data_dir / "archive"

    @property
    def cache_dir(self) -> Path:
        return self.data_dir / "cache"

    def prepare_data_dir(self) -> None:
        """Create the data directory tree; say clearly when that is impossible."""
        try:
            self.documents_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise SettingsError(
                f"Không tạo được thư mục dữ liệu {self.data_dir}: {exc.strerror}",
                f"Cannot create data directory {self.data_dir}: {exc.strerror}",
                data_dir=str(self.data_dir),
            ) from None

    def check_port_free(self) -> None:
        """Fail before uvicorn does, with a message a newcomer understands."""
        with socket.socket(socket.AF_INET6 if ":" in self.host else socket.AF_INET) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind((self.host, self.port))
            except OSError as exc:
                if exc.errno == errno.EADDRINUSE:
                    raise SettingsError(
                        f"Cổng {self.port} trên {self.host} đang được chương trình khác dùng; "
                        f"chọn cổng khác bằng --port hoặc {ENV_PREFIX}PORT",
                        f"Port {self.port} on {self.host} is already in use; choose another with --port or {ENV_PREFIX}PORT",
                        port=self.port,
                    ) from None
                raise SettingsError(
                    f"Không mở được {self.host}:{self.port}: {exc.strerror}",
                    f"Cannot listen on {self.host}:{self.port}: {exc.strerror}",
                    host=self.host,
                    port=self.port,
                ) from None


def load_settings(config_file: Path | None = None, **overrides: Any) -> Settings:
    """Build and validate the settings; turn pydantic's errors into one clear ``SettingsError``."""
    if config_file is None and os.environ.get(f"{ENV_PREFIX}CONFIG"):
        config_file = Path(os.environ[f"{ENV_PREFIX}CONFIG"])
    token = _toml_file.set(config_file)
    try:
        return Settings(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            name = ".".join(str(p) for p in err["loc"]) or "?"
            lines.append(f"{ENV_PREFIX}{name.upper()} ({name}) = {err.get('input')!r}: {err['msg']}")
        text = "\n".join(lines)
        raise SettingsError(f"Cấu hình không hợp lệ:\n{text}", f"Invalid settings:\n{text}", errors=lines) from None
    finally:
        _toml_file.reset(token)
