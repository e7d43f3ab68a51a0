"""Where the minutes' files live, and what signing needs from the settings.

Rendered and signed PDFs, and the signature and seal images, are stored once by SHA-256 (the events
name them by hash); members'
PKCS#12 files are stored as uploaded, named by the certificate's fingerprint, and stay encrypted
with the member's own passphrase, which the server never keeps.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from meeting_room.errors import ConflictError, NotFoundError
from meeting_room.files.file_store import FileStore, Noun, write_once
from meeting_room.settings import Settings
from transcripts.fonts import FontSet, find_fonts, stamp_font


@dataclass
class MinutesFiles:
    pdf_root: Path
    certificate_root: Path
    archive_root: Path
    cache_dir: Path
    fonts_dir: Path | None
    tsa_url: str | None
    trust_roots: tuple[Path, ...]
    max_certificate_bytes: int
    image_root: Path

    @classmethod
    def from_settings(cls, settings: Settings) -> MinutesFiles:
        return cls(
            settings.minutes_dir,
            settings.certificates_dir,
            settings.archive_dir,
            settings.cache_dir,
            settings.fonts_dir,
            settings.tsa_url,
            tuple(settings.trust_roots),
            settings.max_certificate_kb * 1024,
            settings.signature_images_dir,
        )

    def fonts(self) -> FontSet:
        return find_fonts([self.fonts_dir] if self.fonts_dir else [])

    def stamp_font(self) -> Path:
        return stamp_font(self.fonts(), self.cache_dir / "fonts")

    def trust_root_bytes(self) -> list[bytes]:
        return [path.read_bytes() for path in self.trust_roots]

    # --- PDFs, by content hash ---

    @property
    def pdfs(self) -> FileStore:
        """Rendered and signed PDFs: made here, never uploaded (``max_bytes`` 0), read back checked."""
        return FileStore(self.pdf_root, 0, noun=Noun("Tệp biên bản", "minutes PDF"), suffix=".pdf")

    def pdf_path(self, sha256: str) -> Path:
        return self.pdfs.path_of(sha256)

    def put_pdf(self, data: bytes) -> str:
        return self.pdfs.put(data)

    def get_pdf(self, sha256: str) -> bytes:
        return self.pdfs.read(sha256)

    # --- members' PKCS#12 files ---

    def certificate_path(self, member_id: str, fingerprint: str) -> Path:
        return self.certificate_root / f"{member_id}-{fingerprint[:16]}.p12"

    def put_certificate(self, member_id: str, fingerprint: str, data: bytes) -> None:
        write_once(self.certificate_path(member_id, fingerprint), data)
        self.certificate_path(member_id, fingerprint).chmod(0o600)

    def put_token_certificate(self, member_id: str, fingerprint: str, data: bytes) -> None:
        """A certificate alone: its key is on the signer's USB token, never here."""
        path = self.certificate_path(member_id, fingerprint).with_suffix(".crt")
        write_once(path, data)
        path.chmod(0o600)

    def key_place(self, member_id: str, fingerprint: str) -> str | None:
        """Where the key of this registered certificate is: "server" (its PKCS#12 here), "token" (the
        certificate alone here, the key on the signer's USB token) or None (its file is gone)."""
        path = self.certificate_path(member_id, fingerprint)
        if path.is_file():
            return "server"
        return "token" if path.with_suffix(".crt").is_file() else None

    def get_certificate(self, member_id: str, fingerprint: str) -> bytes:
        place = self.key_place(member_id, fingerprint)
        if place == "token":
            raise ConflictError(
                "Chứng thư số của bạn nằm trên thiết bị ký số (USB token): hãy ký bằng lệnh “meeting-room sign” trên máy tính của bạn",
                "Your certificate is on a USB token: sign with `meeting-room sign` on your own computer",
                member_id=member_id,
            )
        if place is None:
            raise NotFoundError(
                "Tệp chứng thư số của người ký không còn trên máy chủ; quản trị viên cần đăng ký lại",
                "The signer's PKCS#12 file is missing on the server; the administrator must register it again",
                member_id=member_id,
            )
        return self.certificate_path(member_id, fingerprint).read_bytes()

    # --- signature and seal images, by content hash ---

    @property
    def images(self) -> FileStore:
        """Checked and re-encoded PNGs (``transcripts.signature_images``): written with ``put`` only."""
        return FileStore(self.image_root, 0, noun=Noun("Ảnh chữ ký hoặc con dấu", "signature or seal image"), suffix=".png")

    def archive_path(self, meeting_id: str) -> Path:
        return self.archive_root / meeting_id
