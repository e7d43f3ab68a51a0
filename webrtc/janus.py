"""The Janus WebRTC Server (Debian ``janus``) as the SFU of large online sessions: its configuration,
its process, and an asyncio client of its WebSocket APIs (the Janus API and the Admin API).

Written here: a minimal configuration folder (the VideoRoom plugin and the WebSocket transport
only, both APIs bound to 127.0.0.1, an API secret and an Admin secret generated once and kept in a
0600 file, token authentication on, no STUN server unless the operator configured one). A server
that runs Janus itself starts ``janus -F <folder>``; one that uses a Janus an operator runs only
connects (the operator gives the URLs and the secrets).

The VideoRoom helpers publish an aiortc peer connection's tracks into a room and subscribe to one
publisher's streams (``Publisher``, ``Subscriber``); there is no trickle ICE: each side's SDP
carries its candidates (aiortc gathers before it sends, Janus without ``full_trickle`` likewise).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamTrack
from websockets.exceptions import ConnectionClosed

from webrtc.errors import WebRTCError
from webrtc.ice import IceServer

if TYPE_CHECKING:
    from websockets.asyncio.client import ClientConnection

log = logging.getLogger(__name__)
PLUGIN = "janus.plugin.videoroom"
LIB_DIR = Path("/usr/lib/x86_64-linux-gnu/janus")


class JanusError(WebRTCError):
    """Janus refused a request, is not reachable, or could not be started: ``details`` say which."""

    code = "janus_error"


# --- configuration -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class JanusSecrets:
    api_secret: str
    admin_secret: str
    room_secret: str  # the secret of every room the server creates (edit, kick, allowed lists)

    @classmethod
    def load_or_create(cls, path: Path) -> JanusSecrets:
        """Read the secrets kept at ``path`` (0600), or generate and keep them."""
        if path.exists():
            data = json.loads(path.read_text(encoding="utf-8"))
            return cls(data["api_secret"], data["admin_secret"], data["room_secret"])
        new = cls(secrets.token_urlsafe(24), secrets.token_urlsafe(24), secrets.token_urlsafe(24))
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump({"api_secret": new.api_secret, "admin_secret": new.admin_secret, "room_secret": new.room_secret}, f)
        return new


@dataclass(frozen=True)
class JanusOptions:
    ws_port: int = 8188
    admin_port: int = 7188
    rtp_ports: tuple[int, int] = (20000, 40000)
    ice_servers: tuple[IceServer, ...] = ()
    debug_level: int = 4
    binary: str = "janus"
    lib_dir: Path = LIB_DIR

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.ws_port}"

    @property
    def admin_url(self) -> str:
        return f"ws://127.0.0.1:{self.admin_port}"


def _q(value: str) -> str:
    return json.dumps(value)  # a libconfig string is a JSON string for what is written here


def _disable(folder: Path, keep: str) -> str:
    names = sorted(p.name for p in folder.glob("libjanus_*.so")) if folder.is_dir() else []
    return ",".join(n for n in names if n != keep)


def _nat(servers: Iterable[IceServer]) -> list[str]:
    """The first STUN and the first TURN server configured; nothing (no public STUN) otherwise."""
    lines: list[str] = []
    stun = next((u for s in servers for u in s.urls if u.startswith("stun:")), None)
    if stun:
        host, _, port = stun.split(":", 1)[1].partition(":")
        lines += [f"stun_server = {_q(host)}", f"stun_port = {int(port or 3478)}"]
    turn = next(((s, u) for s in servers for u in s.urls if u.startswith("turn:")), None)
    if turn:
        server, url = turn
        rest = url.split(":", 1)[1]
        hostport, _, query = rest.partition("?")
        host, _, port = hostport.partition(":")
        kind = "tcp" if "transport=tcp" in query else "udp"
        lines += [f"turn_server = {_q(host)}", f"turn_port = {int(port or 3478)}", f"turn_type = {_q(kind)}",
                  f"turn_user = {_q(server.username or '')}", f"turn_pwd = {_q(server.credential or '')}"]  # fmt: skip
    return lines


def write_config(folder: Path, options: JanusOptions, keys: JanusSecrets) -> Path:
    """Janus's configuration folder (files 0600): the VideoRoom plugin and the WebSocket transport
    only, both APIs on 127.0.0.1, token authentication, the configured ICE servers and no others."""
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(folder, 0o700)
    lo, hi = options.rtp_ports
    files = {
        "janus.jcfg": "\n".join([
            "general: {",
            f"  configs_folder = {_q(str(folder))}",
            f"  plugins_folder = {_q(str(options.lib_dir / 'plugins'))}",
            f"  transports_folder = {_q(str(options.lib_dir / 'transports'))}",
            f"  events_folder = {_q(str(options.lib_dir / 'events'))}",
            f"  loggers_folder = {_q(str(options.lib_dir / 'loggers'))}",
            f"  debug_level = {options.debug_level}",
            '  server_name = "meeting-room-sfu"',
            f"  api_secret = {_q(keys.api_secret)}",
            f"  admin_secret = {_q(keys.admin_secret)}",
            "  token_auth = true",  # participants' tokens, added and removed by the meeting server
            "  session_timeout = 60",
            "  hide_dependencies = true",
            "}",
            "media: {",
            f'  rtp_port_range = "{lo}-{hi}"',
            "}",
            "nat: {",
            "  full_trickle = false",
            "  ignore_mdns = true",
            '  ice_ignore_list = "vmnet"',
            *("  " + line for line in _nat(options.ice_servers)),
            "}",
            f"plugins: {{ disable = {_q(_disable(options.lib_dir / 'plugins', 'libjanus_videoroom.so'))} }}",
            f"transports: {{ disable = {_q(_disable(options.lib_dir / 'transports', 'libjanus_websockets.so'))} }}",
            f"loggers: {{ disable = {_q(_disable(options.lib_dir / 'loggers', ''))} }}",
            "events: { broadcast = false }",
            "",
        ]),
        f"{PLUGIN}.jcfg": "\n".join([
            "general: {",
            f"  admin_key = {_q(keys.room_secret)}",  # only the meeting server creates rooms
            "  lock_rtp_forward = true",
            "}",
            "",
        ]),
        "janus.transport.websockets.jcfg": "\n".join([
            "general: {",
            "  json = \"compact\"",
            "  ws = true",
            f"  ws_port = {options.ws_port}",
            '  ws_ip = "127.0.0.1"',
            "  wss = false",
            "}",
            "admin: {",
            "  admin_ws = true",
            f"  admin_ws_port = {options.admin_port}",
            '  admin_ws_ip = "127.0.0.1"',
            "  admin_wss = false",
            "}",
            "",
        ]),
    }  # fmt: skip
    for name, text in files.items():
        path = folder / name
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.chmod(path, 0o600)
    return folder


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class JanusProcess:
    """``janus -F <folder>`` started and stopped by the meeting server (or a test)."""

    def __init__(self, folder: Path, options: JanusOptions, log_path: Path | None = None) -> None:
        self.folder, self.options = folder, options
        self.log_path = log_path or folder / "janus.log"
        self.proc: subprocess.Popen[bytes] | None = None

    @staticmethod
    def binary(name: str = "janus") -> str | None:
        return shutil.which(name)

    def start(self, timeout: float = 30.0) -> None:
        exe = self.binary(self.options.binary)
        if exe is None:
            raise JanusError(
                "Không tìm thấy chương trình janus (gói Debian janus)", "The janus program was not found (Debian package janus)",
                binary=self.options.binary,
            )  # fmt: skip
        fd = os.open(self.log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        with os.fdopen(fd, "ab") as out:
            self.proc = subprocess.Popen(
                [exe, "-F", str(self.folder), "-o", "-D"], stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise JanusError(
                    f"Janus dừng ngay khi khởi động (mã {self.proc.returncode}); xem {self.log_path}",
                    f"Janus exited at start (code {self.proc.returncode}); see {self.log_path}", log=str(self.log_path),
                )  # fmt: skip
            if _listening(self.options.ws_port) and _listening(self.options.admin_port):
                return
            time.sleep(0.1)
        self.stop()
        raise JanusError(
            f"Janus không sẵn sàng sau {timeout:.0f} giây", f"Janus was not ready after {timeout:.0f} s", log=str(self.log_path)
        )

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self) -> None:
        """SIGKILL (a crash, for the tests)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)

    def stop(self, timeout: float = 10.0) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=timeout)


def _listening(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex(("127.0.0.1", port)) == 0


# --- the client of its APIs -------------------------------------------------------------------------------


def new_transaction() -> str:
    return secrets.token_hex(8)


@dataclass
class _Pending:
    future: asyncio.Future[dict[str, Any]]
    wait_event: bool  # an asynchronous plugin request: the "ack" is not the answer, the "event" is


class JanusSocket:
    """One WebSocket to a Janus API (``janus-protocol``) or its Admin API (``janus-admin-protocol``)."""

    def __init__(
        self, url: str, *, admin: bool = False, secret: str | None = None, token: str | None = None,
        headers: dict[str, str] | None = None, ssl_context: ssl.SSLContext | None = None,
    ) -> None:  # fmt: skip
        self.url, self.admin, self.secret, self.token = url, admin, secret, token
        self.headers, self.ssl = headers or {}, ssl_context
        self._ws: ClientConnection | None = None
        self._pending: dict[str, _Pending] = {}
        self._reader: asyncio.Task[None] | None = None
        self.on_event: Callable[[dict[str, Any]], None] | None = None  # messages no request waits for
        self.closed = asyncio.Event()

    async def connect(self, timeout: float = 10.0) -> None:
        from websockets.asyncio.client import connect
        from websockets.exceptions import InvalidHandshake
        from websockets.typing import Subprotocol

        protocol = Subprotocol("janus-admin-protocol" if self.admin else "janus-protocol")
        try:
            self._ws = await asyncio.wait_for(
                connect(self.url, subprotocols=[protocol], max_size=2**22, additional_headers=self.headers, ssl=self.ssl), timeout
            )
        except (OSError, TimeoutError, InvalidHandshake) as exc:
            raise JanusError(f"Không kết nối được Janus ({self.url}): {exc}", f"Cannot reach Janus ({self.url}): {exc}") from None
        self._reader = asyncio.ensure_future(self._read())

    async def _read(self) -> None:
        assert self._ws is not None
        try:
            async for raw in self._ws:
                msg = json.loads(raw)
                pending = self._pending.get(msg.get("transaction", ""))
                if pending is not None and not (pending.wait_event and msg.get("janus") == "ack"):
                    del self._pending[msg["transaction"]]
                    if not pending.future.done():
                        pending.future.set_result(msg)
                elif pending is None and self.on_event is not None:
                    try:
                        self.on_event(msg)
                    except Exception:
                        log.exception("janus: handling %s", msg.get("janus"))
        except Exception as exc:
            log.info("janus: connection to %s ended: %s", self.url, exc)
        finally:
            self.closed.set()
            for pending in self._pending.values():
                if not pending.future.done():
                    pending.future.set_exception(JanusError("Mất kết nối với Janus", "The connection to Janus was lost", url=self.url))
            self._pending.clear()

    async def request(self, message: dict[str, Any], *, wait_event: bool = False, timeout: float = 15.0) -> dict[str, Any]:
        if self._ws is None or self.closed.is_set():
            raise JanusError("Chưa kết nối Janus", "Not connected to Janus", url=self.url)
        tx = new_transaction()
        msg = {**message, "transaction": tx}
        if self.secret:
            msg["admin_secret" if self.admin else "apisecret"] = self.secret
        if self.token and not self.admin:
            msg["token"] = self.token
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[tx] = _Pending(future, wait_event)
        try:
            await self._ws.send(json.dumps(msg))
        except ConnectionClosed:  # closed under us: the caller hears it, and no answer is left waiting
            self._forget(tx, future)
            raise JanusError("Mất kết nối với Janus", "The connection to Janus was lost", url=self.url) from None
        except BaseException:
            self._forget(tx, future)
            raise
        try:
            reply = await asyncio.wait_for(future, timeout)
        except TimeoutError:
            self._forget(tx, future)
            raise JanusError(f"Janus không trả lời {message.get('janus')}", f"Janus did not answer {message.get('janus')}") from None
        except BaseException:  # cancelled, or the connection lost meanwhile: nothing left waiting
            self._forget(tx, future)
            raise
        if reply.get("janus") == "error":
            err = reply.get("error", {})
            raise JanusError(f"Janus từ chối: {err.get('reason')}", f"Janus refused: {err.get('reason')}", janus_code=err.get("code"))
        return reply

    def _forget(self, tx: str, future: asyncio.Future[dict[str, Any]]) -> None:
        """A request that will not wait for its answer: no entry left behind, and an error the
        reader may have set meanwhile counts as read."""
        self._pending.pop(tx, None)
        if future.done():
            if not future.cancelled():
                future.exception()
        else:
            future.cancel()

    async def close(self) -> None:
        if self._ws is not None:
            with contextlib.suppress(Exception):
                await self._ws.close()
        if self._reader is not None:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._reader


class JanusAdmin:
    """The Admin API: stored tokens (who may talk to Janus at all)."""

    def __init__(self, url: str, admin_secret: str) -> None:
        self.sock = JanusSocket(url, admin=True, secret=admin_secret)

    async def connect(self) -> None:
        await self.sock.connect()

    async def add_token(self, token: str, plugins: Iterable[str] = (PLUGIN,)) -> None:
        await self.sock.request({"janus": "add_token", "token": token, "plugins": list(plugins)})

    async def remove_token(self, token: str) -> None:
        with contextlib.suppress(JanusError):  # already gone (Janus restarted): nothing to revoke
            await self.sock.request({"janus": "remove_token", "token": token})

    async def list_tokens(self) -> list[str]:
        reply = await self.sock.request({"janus": "list_tokens"})
        return [t["token"] for t in reply.get("data", {}).get("tokens", [])]

    async def list_sessions(self) -> list[int]:
        reply = await self.sock.request({"janus": "list_sessions"})
        return [int(s) for s in reply.get("sessions", [])]

    async def destroy_session(self, session_id: int) -> None:
        with contextlib.suppress(JanusError):  # gone already
            await self.sock.request({"janus": "destroy_session", "session_id": session_id})

    async def close(self) -> None:
        await self.sock.close()


@dataclass
class Handle:
    session: JanusSession
    id: int
    events: asyncio.Queue[dict[str, Any]] = field(default_factory=asyncio.Queue)  # what the plugin says unasked
    on_event: Callable[[dict[str, Any]], None] | None = None

    async def message(self, body: dict[str, Any], jsep: dict[str, str] | None = None, timeout: float = 15.0) -> dict[str, Any]:
        """A plugin request; the plugin's answer ``{"data": …, "jsep": …}`` (an error in ``data`` raises)."""
        msg: dict[str, Any] = {"janus": "message", "session_id": self.session.id, "handle_id": self.id, "body": body}
        if jsep is not None:
            msg["jsep"] = jsep
        reply = await self.session.sock.request(msg, wait_event=True, timeout=timeout)
        data = reply.get("plugindata", {}).get("data", {})
        if "error" in data:
            raise JanusError(
                f"Janus VideoRoom từ chối: {data['error']}", f"Janus VideoRoom refused: {data['error']}", janus_code=data.get("error_code")
            )
        return {"data": data, "jsep": reply.get("jsep")}

    async def detach(self) -> None:
        with contextlib.suppress(JanusError):
            await self.session.sock.request({"janus": "detach", "session_id": self.session.id, "handle_id": self.id})
        self.session.handles.pop(self.id, None)


class JanusSession:
    """A Janus session (kept alive every 25 s) and its plugin handles."""

    def __init__(
        self, url: str, *, api_secret: str | None = None, token: str | None = None,
        headers: dict[str, str] | None = None, ssl_context: ssl.SSLContext | None = None,
    ) -> None:  # fmt: skip
        self.sock = JanusSocket(url, secret=api_secret, token=token, headers=headers, ssl_context=ssl_context)
        self.sock.on_event = self._event
        self.id = 0
        self.handles: dict[int, Handle] = {}
        self._keepalive: asyncio.Task[None] | None = None

    async def connect(self) -> JanusSession:
        await self.sock.connect()
        reply = await self.sock.request({"janus": "create"})
        self.id = int(reply["data"]["id"])
        self._keepalive = asyncio.ensure_future(self._keep())
        return self

    @property
    def closed(self) -> asyncio.Event:
        return self.sock.closed

    async def attach(self, plugin: str = PLUGIN) -> Handle:
        reply = await self.sock.request({"janus": "attach", "session_id": self.id, "plugin": plugin})
        handle = Handle(self, int(reply["data"]["id"]))
        self.handles[handle.id] = handle
        return handle

    def _event(self, msg: dict[str, Any]) -> None:
        handle = self.handles.get(int(msg.get("sender") or 0))
        if handle is None:
            return
        if handle.on_event is not None:
            handle.on_event(msg)
        else:
            handle.events.put_nowait(msg)

    async def _keep(self) -> None:
        with contextlib.suppress(JanusError, asyncio.CancelledError):
            while not self.sock.closed.is_set():
                await asyncio.sleep(25)
                await self.sock.request({"janus": "keepalive", "session_id": self.id})

    async def close(self) -> None:
        if self._keepalive is not None:
            self._keepalive.cancel()
        if self.id and not self.sock.closed.is_set():
            with contextlib.suppress(JanusError):
                await self.sock.request({"janus": "destroy", "session_id": self.id}, timeout=5)
        await self.sock.close()


# --- VideoRoom ---------------------------------------------------------------------------------------------


class VideoRoom:
    """Room management on a handle of the meeting server's own session (it knows the room secret)."""

    def __init__(self, handle: Handle, keys: JanusSecrets) -> None:
        self.handle, self.keys = handle, keys

    async def create(self, room: int, description: str, allowed: Iterable[str], publishers: int = 200) -> None:
        await self.handle.message({
            "request": "create", "room": room, "description": description[:120], "permanent": False, "is_private": True,
            "admin_key": self.keys.room_secret, "secret": self.keys.room_secret, "publishers": publishers,
            "audiocodec": "opus", "videocodec": "vp8", "allowed": list(allowed), "notify_joining": True,
        })  # fmt: skip

    async def destroy(self, room: int) -> None:
        with contextlib.suppress(JanusError):
            await self.handle.message({"request": "destroy", "room": room, "secret": self.keys.room_secret})

    async def allow(self, room: int, tokens: Iterable[str], add: bool = True) -> None:
        body = {
            "request": "allowed",
            "room": room,
            "secret": self.keys.room_secret,
            "action": "add" if add else "remove",
            "allowed": list(tokens),
        }
        await self.handle.message(body)

    async def kick(self, room: int, feed: int) -> None:
        with contextlib.suppress(JanusError):  # not (or no longer) in the room
            await self.handle.message({"request": "kick", "room": room, "id": feed, "secret": self.keys.room_secret})

    async def exists(self, room: int) -> bool:
        return bool((await self.handle.message({"request": "exists", "room": room}))["data"].get("exists"))

    async def publishers(self, room: int) -> list[dict[str, Any]]:
        data = (await self.handle.message({"request": "listparticipants", "room": room}))["data"]
        return [p for p in data.get("participants", []) if p.get("publisher")]


class Publisher:
    """An aiortc peer connection publishing its tracks into a room as feed ``feed``."""

    def __init__(
        self, session: JanusSession, room: int, feed: int, display: str, configuration: RTCConfiguration, token: str | None = None
    ) -> None:
        self.session, self.room, self.feed, self.display, self.token = session, room, feed, display, token
        self.pc = RTCPeerConnection(configuration)
        self.handle: Handle | None = None
        self.others: dict[int, str] = {}  # feeds published in the room: id -> display
        self.on_publishers: Callable[[list[dict[str, Any]]], None] | None = None
        self.on_gone: Callable[[int], None] | None = None

    def add(self, track: MediaStreamTrack) -> None:
        self.pc.addTrack(track)

    async def publish(self, timeout: float = 20.0) -> None:
        self.handle = await self.session.attach()
        self.handle.on_event = self._event
        body: dict[str, Any] = {"request": "join", "ptype": "publisher", "room": self.room, "id": self.feed, "display": self.display}
        if self.token:
            body["token"] = self.token
        joined = (await self.handle.message(body))["data"]
        self._publishers(joined.get("publishers", []))
        await self.pc.setLocalDescription(await self.pc.createOffer())
        offer = {"type": "offer", "sdp": self.pc.localDescription.sdp}
        reply = await self.handle.message({"request": "configure", "audio": True, "video": True}, offer)
        if not reply["jsep"]:
            raise JanusError("Janus không trả lời lời mời kết nối", "Janus gave no answer to the offer", room=self.room)
        await self.pc.setRemoteDescription(RTCSessionDescription(reply["jsep"]["sdp"], "answer"))
        deadline = time.monotonic() + timeout  # the feed can be subscribed to once its media is up
        while self.pc.connectionState != "connected":
            if self.pc.connectionState in ("failed", "closed") or time.monotonic() > deadline:
                raise JanusError(
                    "Không gửi được âm thanh, hình ảnh vào Janus", "Could not send media into Janus", state=self.pc.connectionState
                )
            await asyncio.sleep(0.02)

    def _publishers(self, listed: list[dict[str, Any]]) -> None:
        new = [p for p in listed if int(p["id"]) != self.feed and int(p["id"]) not in self.others]
        for p in new:
            self.others[int(p["id"])] = str(p.get("display", ""))
        if new and self.on_publishers is not None:
            self.on_publishers(new)

    def _event(self, msg: dict[str, Any]) -> None:
        data = msg.get("plugindata", {}).get("data", {})
        if "publishers" in data:
            self._publishers(data["publishers"])
        for key in ("unpublished", "leaving", "kicked"):
            gone = data.get(key)
            if isinstance(gone, int) and gone in self.others:
                del self.others[gone]
                if self.on_gone is not None:
                    self.on_gone(gone)

    async def close(self) -> None:
        if self.handle is not None:
            with contextlib.suppress(JanusError):
                await self.handle.message({"request": "leave"}, timeout=5)
            await self.handle.detach()
        await self.pc.close()


class Subscriber:
    """An aiortc peer connection receiving one publisher's streams (``on_track`` gets each track)."""

    def __init__(self, session: JanusSession, room: int, feed: int, configuration: RTCConfiguration, token: str | None = None) -> None:
        self.session, self.room, self.feed, self.token = session, room, feed, token
        self.pc = RTCPeerConnection(configuration)
        self.handle: Handle | None = None

    async def subscribe(self, audio_only: bool = False) -> None:
        self.handle = await self.session.attach()
        stream: dict[str, Any] = {"feed": self.feed}
        body: dict[str, Any] = {"request": "join", "ptype": "subscriber", "room": self.room, "streams": [stream]}
        if audio_only:
            body["offer_video"] = False
        if self.token:
            body["token"] = self.token
        reply = await self.handle.message(body)
        if not reply["jsep"]:
            raise JanusError("Janus không gửi lời mời nhận luồng", "Janus sent no offer for the feed", feed=self.feed)
        await self.pc.setRemoteDescription(RTCSessionDescription(reply["jsep"]["sdp"], "offer"))
        await self.pc.setLocalDescription(await self.pc.createAnswer())
        await self.handle.message({"request": "start"}, {"type": "answer", "sdp": self.pc.localDescription.sdp})

    async def close(self) -> None:
        if self.handle is not None:
            await self.handle.detach()
        await self.pc.close()
