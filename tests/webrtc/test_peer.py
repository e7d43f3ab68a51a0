"""The server's side of a remote participant's connection: what offers it takes."""

from __future__ import annotations

import asyncio

import pytest
from aiortc import RTCPeerConnection, RTCRtpSender

from webrtc.errors import SignallingError
from webrtc.ice import rtc_configuration
from webrtc.peer import RemotePeer


async def _offer(first: str) -> str:
    """An offer of audio whose codecs put ``first`` (a mime type) before the others."""
    client = RTCPeerConnection()
    transceiver = client.addTransceiver("audio")
    codecs = RTCRtpSender.getCapabilities("audio").codecs
    transceiver.setCodecPreferences(sorted(codecs, key=lambda c: c.mimeType.lower() != first))
    await client.setLocalDescription(await client.createOffer())
    sdp = client.localDescription.sdp
    await client.close()
    return sdp


def test_an_offer_must_prefer_opus_because_the_mix_is_sent_as_opus() -> None:
    """The mixer hands aiortc Opus payloads as they are: an offer that would have the server send
    G.711 or G.722 is refused with what is accepted (it would otherwise hear noise), and Opus first is taken."""

    async def run() -> None:
        for first, taken in (("audio/pcmu", False), ("audio/g722", False), ("audio/opus", True)):
            peer = RemotePeer("call:test", rtc_configuration([]), on_audio=lambda chunk: None)
            try:
                if taken:
                    answer = await peer.answer(await _offer(first), None)
                    assert "opus/48000" in answer.lower()
                else:
                    with pytest.raises(SignallingError) as refused:
                        await peer.answer(await _offer(first), None)
                    assert "Opus" in refused.value.message_en and refused.value.details["received"] == first
            finally:
                await peer.close()

    asyncio.run(run())
