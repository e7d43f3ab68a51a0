"""ICE servers (STUN, TURN) for the server's peers, and the loopback switch.

aiortc adds Google's public STUN server when it is given no configuration; in a building that
must not talk to the outside, the default here is no ICE server at all (host candidates on the
LAN). A TURN server on the premises is what lets a member behind another NAT (a home network, a
mobile hotspot through a VPN) reach the server.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import aioice.ice
from aiortc import RTCConfiguration, RTCIceServer

from webrtc.errors import IceConfigError

_SCHEMES = ("stun:", "stuns:", "turn:", "turns:")


@dataclass(frozen=True)
class IceServer:
    """One STUN or TURN server as browsers and aiortc take it (``urls`` like ``turn:10.0.0.5:3478``)."""

    urls: tuple[str, ...]
    username: str | None = None
    credential: str | None = None

    def __post_init__(self) -> None:
        if not self.urls:
            raise IceConfigError("Máy chủ ICE cần ít nhất một địa chỉ", "An ICE server needs at least one URL", accepted=list(_SCHEMES))
        for url in self.urls:
            if not url.startswith(_SCHEMES) or len(url.split(":", 1)[1]) < 1:
                raise IceConfigError(
                    f"Địa chỉ máy chủ ICE “{url}” không hợp lệ; chấp nhận stun:, stuns:, turn:, turns: (ví dụ turn:10.0.0.5:3478)",
                    f"ICE server URL “{url}” is not valid; accepted: stun:, stuns:, turn:, turns: (e.g. turn:10.0.0.5:3478)",
                    received=url, accepted=list(_SCHEMES),
                )  # fmt: skip
            if url.startswith(("turn:", "turns:")) and not (self.username and self.credential):
                raise IceConfigError(
                    f"Máy chủ TURN {url} cần username và credential", f"TURN server {url} needs a username and a credential", received=url
                )

    def browser(self) -> dict[str, Any]:
        """The ``RTCIceServer`` dictionary a browser's ``RTCPeerConnection`` takes."""
        out: dict[str, Any] = {"urls": list(self.urls)}
        if self.username:
            out["username"], out["credential"] = self.username, self.credential
        return out


def parse_ice_servers(entries: Iterable[str | Mapping[str, Any]]) -> tuple[IceServer, ...]:
    """Entries as written in settings: a URL string, or ``{urls, username, credential}``."""
    out = []
    for i, entry in enumerate(entries):
        if isinstance(entry, str):
            out.append(IceServer((entry,)))
            continue
        if not isinstance(entry, Mapping):
            raise IceConfigError(
                f"ice_servers[{i}]: cần một địa chỉ hoặc bảng {{urls, username, credential}}",
                f"ice_servers[{i}]: expected a URL or a table {{urls, username, credential}}", index=i,
            )  # fmt: skip
        unknown = set(entry) - {"urls", "username", "credential"}
        if unknown:
            raise IceConfigError(
                f"ice_servers[{i}]: khóa không hợp lệ {sorted(unknown)}; chấp nhận urls, username, credential",
                f"ice_servers[{i}]: unknown keys {sorted(unknown)}; accepted: urls, username, credential", index=i,
            )  # fmt: skip
        urls = entry.get("urls")
        urls = (urls,) if isinstance(urls, str) else tuple(urls or ())
        out.append(IceServer(urls, entry.get("username"), entry.get("credential")))
    return tuple(out)


def rtc_configuration(servers: Iterable[IceServer]) -> RTCConfiguration:
    """An aiortc configuration with exactly these servers (an empty list: no STUN at all)."""
    return RTCConfiguration(iceServers=[RTCIceServer(list(s.urls), s.username, s.credential) for s in servers])


_original_host_addresses = aioice.ice.get_host_addresses


def include_loopback(enabled: bool = True) -> None:
    """aioice leaves 127.0.0.1 out of its host candidates; a server used from the machine itself
    (a demonstration, the tests, a benchmark) needs it in."""

    def with_loopback(use_ipv4: bool, use_ipv6: bool) -> list[str]:
        addresses = _original_host_addresses(use_ipv4, use_ipv6)
        return [*addresses, "127.0.0.1"] if use_ipv4 and "127.0.0.1" not in addresses else addresses

    aioice.ice.get_host_addresses = with_loopback if enabled else _original_host_addresses
