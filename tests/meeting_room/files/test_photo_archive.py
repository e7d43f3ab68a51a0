"""Reading a ZIP of members' face photos without trusting it: every problem listed, nothing extracted."""

from __future__ import annotations

import io
import struct
import zipfile

import numpy as np
import pytest

from meeting_room.errors import InvalidInputError
from meeting_room.files.photo_archive import MAX_ENTRIES, Folder, check_folders, open_archive, read_folders, read_photos
from tests.face_photos import zip_of

MB = 1 << 20


def _problems(data: bytes, **limits: int) -> dict[str, str]:
    with pytest.raises(InvalidInputError) as caught:
        read_folders(data, max_photo_bytes=limits.get("max_photo_bytes", MB), max_photos=limits.get("max_photos", 10))
    assert "chưa nhập gì" in caught.value.message_vi or not caught.value.details.get("problems")
    return {p["where"]: p["message_en"] for p in caught.value.details.get("problems", [])}


def test_one_folder_per_member_and_a_wrapping_folder_taken_off() -> None:
    data = zip_of({
        "anh-dai-bieu/member1/1.jpg": b"a", "anh-dai-bieu/member1/2.PNG": b"b", "anh-dai-bieu/member2/x.webp": b"c",
        "anh-dai-bieu/.DS_Store": b"", "__MACOSX/anh-dai-bieu/member1/._1.jpg": b"", "anh-dai-bieu/member2/Thumbs.db": b"",
        "anh-dai-bieu/member2/._x.webp": b"",
    })  # fmt: skip
    folders = read_folders(data, max_photo_bytes=MB, max_photos=10)
    assert folders == [
        Folder("member1", ("anh-dai-bieu/member1/1.jpg", "anh-dai-bieu/member1/2.PNG")),
        Folder("member2", ("anh-dai-bieu/member2/x.webp",)),
    ]
    with open_archive(data) as archive:
        assert read_photos(archive, folders[0].entries, max_photo_bytes=MB) == [("1.jpg", b"a"), ("2.PNG", b"b")]
    assert [f.name for f in read_folders(zip_of({"member1/1.jpg": b"a"}), max_photo_bytes=MB, max_photos=10)] == ["member1"]


def test_every_problem_is_named_before_anything_is_stored() -> None:
    data = zip_of({
        "member1/1.jpg": b"a", "member1/ghi-chu.txt": b"x", "anh.jpg": b"root", "member2/sub/1.jpg": b"deep",
        "../evil/1.jpg": b"up", "/etc/1.jpg": b"abs", "member3/big.jpg": b"0" * (MB + 1),
        **{f"member4/{i}.jpg": b"p" for i in range(11)},
    })  # fmt: skip
    problems = _problems(data)
    assert problems["member1/ghi-chu.txt"] == "not a JPEG, PNG, WEBP or BMP photo"
    assert "directly in its member's folder" in problems["anh.jpg"] and "directly" in problems["member2/sub/1.jpg"]
    assert problems["../evil/1.jpg"] == problems["/etc/1.jpg"] == "not an acceptable path"
    assert problems["member3/big.jpg"] == "the photo is over 1 MB"
    assert problems["member4"] == "11 photos; at most 10 per member"
    assert len(problems) == 7


def test_not_a_zip_an_empty_file_or_no_photo() -> None:
    for data, said in ((b"", "empty"), (b"PK\x03\x04 not really", "not a ZIP"), (b"%PDF-1.7", "not a ZIP")):
        with pytest.raises(InvalidInputError, match=said):
            read_folders(data, max_photo_bytes=MB, max_photos=10)
    assert _problems(zip_of({"member1/": b"", "__MACOSX/x": b""})) == {"ZIP": "no photo in a member's folder"}
    empty = "the ZIP is empty; it needs one folder per member (their username) with photos"  # not "no photo in a member's folder"
    assert _problems(zip_of({})) == {"ZIP": empty} == _problems(zip_of({"__MACOSX/._x": b"", ".DS_Store": b""}))


def test_a_zip_bomb_is_read_no_further_than_the_limit() -> None:
    # 50 MB of zeros compress to ~50 KB: its size is refused from the directory, before any inflating
    bomb = zip_of({"member1/1.jpg": bytes(50 * MB)}, zipfile.ZIP_DEFLATED)
    assert len(bomb) < MB and _problems(bomb) == {"member1/1.jpg": "the photo is over 1 MB"}
    # an entry whose directory lies about its size: zipfile reads up to what the directory says, and no further
    honest = zip_of({"member1/1.jpg": bytes(2 * MB)}, zipfile.ZIP_DEFLATED)
    with open_archive(honest) as archive, pytest.raises(InvalidInputError, match="over 1 MB"):
        read_photos(archive, ("member1/1.jpg",), max_photo_bytes=MB)


def test_what_only_reading_finds_is_found_at_upload() -> None:
    good = zip_of({"member1/1.jpg": b"a photo's bytes"}, zipfile.ZIP_DEFLATED)
    at = good.index(b"member1/1.jpg", 30) + len("member1/1.jpg")  # the local header's name, then the data
    damaged = good[:at] + bytes([good[at] ^ 0xFF]) + good[at + 1 :]
    assert _problems(damaged) == {"member1/1.jpg": "damaged, cannot be read"}
    bzip = zip_of({"member1/1.jpg": b"x" * 100}, zipfile.ZIP_BZIP2)
    assert "compressed in a way not accepted" in _problems(bzip)["member1/1.jpg"]
    twice = io.BytesIO()
    with zipfile.ZipFile(twice, "w") as archive, pytest.warns(UserWarning, match="Duplicate name"):
        archive.writestr("member1/1.jpg", b"a")
        archive.writestr("member1/1.jpg", b"b")
    assert _problems(twice.getvalue()) == {"member1/1.jpg": "the same name twice in the ZIP"}
    hidden = _problems(zip_of({"member1/.an.jpg": b"a", ".member2/1.jpg": b"b", "member3/1.jpg": b"c"}))
    assert hidden == {"member1/.an.jpg": "a hidden file or folder", ".member2/1.jpg": "a hidden file or folder"}


def _never_parsed(*_args: object, **_kwargs: object) -> None:
    raise AssertionError("the directory was parsed")


def test_a_zip_of_too_many_entries_is_refused_before_its_directory_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    many = zip_of({f"member1/{i}.jpg": b"" for i in range(MAX_ENTRIES + 1)})
    with pytest.raises(InvalidInputError, match="too many entries"):
        read_folders(many, max_photo_bytes=MB, max_photos=10)
    # an end record that understates the count (zipfile parses every entry whatever it says: 300,000 took 2.3 s
    # and 136 MB in an attacker's probe): the directory's own entry headers are counted, and nothing is parsed
    at = many.rfind(b"PK\x05\x06")
    understated = many[: at + 8] + struct.pack("<HH", 1, 1) + many[at + 12 :]
    with monkeypatch.context() as patched:
        patched.setattr(zipfile, "ZipFile", _never_parsed)  # the module photo_archive reads ZIPs with
        with pytest.raises(InvalidInputError, match="too many entries"):
            read_folders(understated, max_photo_bytes=MB, max_photos=10)
    problems = {f"m{i}/{j}.txt": b"" for i in range(40) for j in range(5)}
    with pytest.raises(InvalidInputError) as caught:
        read_folders(zip_of(problems), max_photo_bytes=MB, max_photos=10)
    assert caught.value.details["problems_total"] == 200 and len(caught.value.details["problems"]) == 100


def test_many_entries_that_inflate_far_beyond_the_archive_are_refused_as_a_whole() -> None:
    """Each entry within the photo limit, but all together a bomb: at 15 MB each from 15 KB, a 200 MB
    archive inflated for ten minutes (an attacker's probe). Photos hardly deflate."""
    entries = {f"member{i}/{j}.jpg": bytes(MB) for i in range(4) for j in range(10)}  # 40 MB from ~45 KB
    bomb = zip_of(entries, zipfile.ZIP_DEFLATED)
    assert len(bomb) < MB
    with pytest.raises(InvalidInputError) as caught:
        check_folders(bomb, max_photo_bytes=MB, max_photos=10)
    assert "inflate to over 10 times" in caught.value.message_en and "giải nén" in caught.value.message_vi
    # the same with every checksum wrong: each entry is inflated whole before zipfile finds it damaged (a review)
    damaged = bytearray(bomb)
    at = damaged.find(b"PK\x01\x02")
    while at >= 0:
        damaged[at + 16] ^= 0xFF  # the CRC-32 in the entry's directory header
        at = damaged.find(b"PK\x01\x02", at + 4)
    with pytest.raises(InvalidInputError, match="inflate to over 10 times"):
        check_folders(bytes(damaged), max_photo_bytes=MB, max_photos=10)
    # real photos do not deflate: the same count of them is read whole
    rng = np.random.default_rng(0)
    photos = {name: rng.integers(0, 256, 200_000, dtype=np.uint8).tobytes() for name in entries}
    folders, problems = check_folders(zip_of(photos, zipfile.ZIP_DEFLATED), max_photo_bytes=MB, max_photos=10)
    assert problems == [] and [len(f.entries) for f in folders] == [10, 10, 10, 10]


def test_a_crowded_folder_is_refused_from_the_directory_without_reading_its_photos() -> None:
    crowded = {f"member1/{j}.jpg": b"damaged" for j in range(11)} | {"member2/1.jpg": b"a photo"}
    data = zip_of(crowded)
    at = data.index(b"member1/0.jpg", 30) + len("member1/0.jpg")  # the first photo's data, damaged
    damaged = data[:at] + bytes([data[at] ^ 0xFF]) + data[at + 1 :]
    folders, problems = check_folders(damaged, max_photo_bytes=MB, max_photos=10)
    assert [(p.where, p.message_en) for p in problems] == [("member1", "11 photos; at most 10 per member")]
    assert [(f.name, len(f.entries)) for f in folders] == [("member1", 11), ("member2", 1)]
