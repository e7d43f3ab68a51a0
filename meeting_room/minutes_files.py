"""Where the minutes' files live, and what signing needs from the settings.

Rendered and signed PDFs are stored once by SHA-256 (the events name them by hash); members'
PKCS#12 files are stored as uploaded, named by the certificate's fingerprint, and stay encrypted
with the member's own passphrase, which the server never keeps.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from meeting_room.errors import NotFoundError
from meeting_room.settings import Settings
from transcripts.fonts import FontSet, find_fonts, stamp_font


def write_once(path: Path, data: bytes) -> None:
    """Write atomically (temporary file, fsync, rename); a file already there is left alone."""
    if path.is_file():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".part-")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


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
        )

    def fonts(self) -> FontSet:
        return find_fonts([self.fonts_dir] if self.fonts_dir else [])

    def stamp_font(self) -> Path:
        return stamp_font(self.fonts(), self.cache_dir / "fonts")

    def trust_root_bytes(self) -> list[bytes]:
        return [path.read_bytes() for path in self.trust_roots]

    # --- PDFs, by content hash ---

    def pdf_path(self, sha256: str) -> Path:
        return self.pdf_root / sha256[:2] / f"{sha256}.pdf"

    def put_pdf(self, data: bytes) -> str:
        sha = hashlib.sha256(data).hexdigest()
        write_once(self.pdf_path(sha), data)
        return sha

    def get_pdf(self, sha256: str) -> bytes:
        path = self.pdf_path(sha256)
        if not path.is_file():
            raise NotFoundError("Tệp biên bản không còn trên máy chủ", "The minutes PDF is missing on the server", sha256=sha256)
        data = path.read_bytes()
        if hashlib.sha256(data).hexdigest() != sha256:
            raise NotFoundError("Tệp biên bản trên máy chủ đã bị thay đổi", "The stored minutes PDF was modified on disk", sha256=sha256)
        return data

    # --- members' PKCS#12 files ---

    def certificate_path(self, member_id: str, fingerprint: str) -> Path:
        return self.certificate_root / f"{member_id}-{fingerprint[:16]}.p12"

    def put_certificate(self, member_id: str, fingerprint: str, data: bytes) -> None:
        write_once(self.certificate_path(member_id, fingerprint), data)
        self.certificate_path(member_id, fingerprint).chmod(0o600)

    def get_certificate(self, member_id: str, fingerprint: str) -> bytes:
        path = self.certificate_path(member_id, fingerprint)
        if not path.is_file():
            raise NotFoundError(
                "Tệp chứng thư số của người ký không còn trên máy chủ; quản trị viên cần đăng ký lại",
                "The signer's PKCS#12 file is missing on the server; the administrator must register it again",
                member_id=member_id,
            )
        return path.read_bytes()

    def archive_path(self, meeting_id: str) -> Path:
        return self.archive_root / meeting_id
