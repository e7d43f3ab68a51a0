"""The secretary adds a recording made elsewhere and has it transcribed, by tap on the meeting's record
page (a new user's walk-through found no way to do either but the API)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from playwright.sync_api import Browser, FilePayload, Page, ViewportSize, expect
from sqlalchemy import select

from hardware.media import read_all
from meeting_room.db import tables as t
from meeting_room.files import recordings
from meeting_room.settings import Settings
from speech.models import ModelStore
from tests.conftest import _settings
from tests.meeting_room.web.conftest import LiveServer, shot
from tests.speech_audio import speak, write_wav

pytestmark = [pytest.mark.browser, pytest.mark.models]

SAID = "Chủ tọa đề nghị các đại biểu cho ý kiến về dự thảo nghị quyết ngân sách năm hai nghìn không trăm hai mươi bảy."
PHONE: ViewportSize = {"width": 360, "height": 740}


@pytest.fixture
def settings(tmp_path: Path, model_store: ModelStore) -> Settings:
    """The web tests' settings with the packaged speech models: the transcription really runs."""
    return _settings(tmp_path, models_dir=model_store.root, max_upload_mb=1, asr_temperature_fallback=False)


def test_the_secretary_uploads_a_recording_and_has_it_transcribed_by_tap(
    browser: Browser, live_server: LiveServer, settings: Settings, tmp_path: Path
) -> None:
    mid = live_server.world.meeting_id
    page = live_server.page(browser, "secretary", f"/clerk/{mid}")
    expect(page.locator("#no-recording")).to_contain_text("Cuộc họp chưa có bản ghi")
    upload = page.locator("#recording-file")
    # what is accepted, as the server checks it (the same list as its refusals), with its limits
    expect(page.locator("#recording-accepted")).to_contain_text(
        f"{recordings.ACCEPTED_VI}; tối đa {settings.max_recording_mb} MB, {recordings.MAX_HOURS} giờ"
    )

    # a text file with an audio name: refused in the card, in Vietnamese first, and nothing is added
    upload.set_input_files(FilePayload(name="bien-ban.mp3", mimeType="audio/mpeg", buffer="Không phải âm thanh".encode()))
    problem = page.locator("#recording-problem")
    expect(problem).to_be_visible()
    expect(problem).to_contain_text("Không phải tệp âm thanh đọc được")
    assert "video có tiếng" in problem.locator("span").first.inner_text()  # the Vietnamese half is all Vietnamese
    expect(page.locator("#no-recording")).to_be_visible()

    wav = speak(tmp_path / "phien-hop-sang.wav", SAID)
    upload.set_input_files(str(wav))
    expect(page.locator("#recording-pick")).to_contain_text("phien-hop-sang.wav")
    expect(problem).to_be_hidden()
    expect(page.locator("#audio")).to_have_attribute("src", f"/api/meetings/{mid}/recordings/{_recording_id(page)}/file")
    shot(page, "record-recording-uploaded")

    page.locator("#speaker-count").select_option("1")
    page.locator("#transcribe").click()
    jobs = page.locator("#transcription-jobs")
    expect(jobs.locator("li")).to_have_count(1)
    expect(jobs.locator("li[data-status=done]")).to_have_count(1, timeout=240_000)  # the page follows the pass every 5 s
    expect(jobs.locator("li[data-status=done]")).to_contain_text("phien-hop-sang.wav")  # which recording, with several
    lines = page.locator("#transcript .captions p")
    expect(lines.first).to_be_visible()
    assert all(line.strip() for line in lines.all_inner_texts())

    # a second transcription would replace this one, and the names given to its voices: a second tap
    transcribe = page.locator("#transcribe")
    transcribe.click()
    expect(transcribe).to_contain_text("Chạm lần nữa")
    expect(jobs.locator("li")).to_have_count(1)
    shot(page, "record-transcribed")

    page.set_viewport_size(PHONE)
    expect(page.locator("#recording-upload")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), "the page scrolls sideways"
    shot(page, "record-recording-phone")

    # a member sees the recording and the transcript, but neither tool
    member = live_server.page(browser, "member1", f"/clerk/{mid}")
    expect(member.locator("#recording-pick")).to_contain_text("phien-hop-sang.wav")
    expect(member.locator("#recording-upload")).to_have_count(0)
    expect(member.locator("#transcribe")).to_have_count(0)
    # the minutes and the notice not signed yet: when they can be read, not a refusal, and no empty card
    expect(member.locator("#minutes-later")).to_contain_text("Biên bản sẽ hiện ở đây khi thư ký và chủ tọa đã ký xong")
    expect(member.locator("#notice-later")).to_contain_text("sẽ hiện ở đây")
    expect(member.locator("#signatures")).to_contain_text("Kiểm tra một tệp PDF đã ký")
    assert "quyền" not in member.locator("main").inner_text()
    member.set_viewport_size(PHONE)
    assert member.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), "the page scrolls sideways"
    shot(member, "record-member-phone")


def _recording_id(page: Page) -> str:
    value = page.locator("#recording-pick option").first.get_attribute("data-id")
    assert value
    return value


def test_a_recording_with_a_microphone_per_seat_is_transcribed_with_the_seats_names(
    browser: Browser, live_server: LiveServer, tmp_path: Path
) -> None:
    """The channel map (one microphone per seat) was only in the API: a walk-through found no way to it."""
    mid = live_server.world.meeting_id
    voice = read_all(speak(tmp_path / "say.wav", SAID))
    seats = np.stack([np.zeros_like(voice), voice], axis=1).reshape(-1)  # seat 1 silent, seat 2 speaking
    page = live_server.page(browser, "secretary", f"/clerk/{mid}")
    page.locator("#recording-file").set_input_files(str(write_wav(tmp_path / "hai-micro.wav", seats, channels=2)))
    expect(page.locator("#recording-pick")).to_contain_text("hai-micro.wav")
    channels = page.locator("#channel-map")
    expect(channels).to_be_visible()
    channels.locator("summary").click()
    expect(channels).to_contain_text("2 kênh")
    page.get_by_label("Kênh 2").select_option(label="Người member1")
    shot(page, "record-channel-map")
    page.locator("#transcribe").click()
    expect(page.locator("#transcription-jobs li[data-status=done]")).to_have_count(1, timeout=240_000)
    lines = page.locator("#transcript .captions p")
    expect(lines.first).to_be_visible()
    assert all("Người member1" in line for line in lines.all_inner_texts()), lines.all_inner_texts()
    with live_server.world.store.read() as session:  # the pass took the map: seat 2 only, named, no voices to tell apart
        final = select(t.TranscriptPass.id).where(t.TranscriptPass.meeting_id == mid, t.TranscriptPass.kind == "final")
        (speaker,) = session.scalars(select(t.TranscriptSpeaker).where(t.TranscriptSpeaker.pass_id.in_(final))).all()
        assert (speaker.cluster, speaker.member_id, speaker.source) == ("channel-1", live_server.world.ids["member1"], "channel")
