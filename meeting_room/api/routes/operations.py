"""For the people who run the server: ``/api/health`` (anyone: a load balancer, the chair console's
clock warning; the details to administrators and the machine itself) and ``/metrics`` for Prometheus
(administrators, or the addresses of ``metrics_allow``)."""

from __future__ import annotations

import ipaddress
from typing import Any, Literal

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from meeting_room import __version__, auth
from meeting_room.api.deps import runtime_of, token_of
from meeting_room.errors import AuthenticationError, PermissionDeniedError
from meeting_room.operations.health import report
from meeting_room.operations.metrics import CONTENT_TYPE, exposition
from meeting_room.roles import Role

router = APIRouter(tags=["health"])


def _viewer(request: Request) -> Literal["operator", "user", "anyone"]:
    """Who asks: an administrator or a monitoring host (``metrics_allow``), someone logged in, anyone."""
    if _from_allowed_network(request):
        return "operator"
    token = token_of(request)
    if token is None:
        return "anyone"
    try:
        actor = auth.resolve(runtime_of(request).store, token)
    except (AuthenticationError, PermissionDeniedError):
        return "anyone"
    if actor.must_change_password or actor.display:  # a temporary password opens nothing else; a hall screen is no one
        return "anyone"
    return "operator" if actor.has(Role.ADMIN) and actor.only_meeting is None else "user"


def _from_allowed_network(request: Request) -> bool:
    settings = runtime_of(request).settings
    if not settings.https and not settings.trusted_proxies:
        # behind a reverse proxy whose address we were not told, every client looks like the proxy
        # (often 127.0.0.1): an address proves nothing, only an administrator's login does
        return False
    host = request.client.host if request.client else ""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(net, strict=False) for net in settings.metrics_allow)


@router.get("/api/health", responses={503: {"description": "The database or the data disk cannot be written"}})
def health(request: Request) -> JSONResponse:
    """Whether the server can store (503 when not), and ``warnings`` on what else is wrong (clock,
    models, room devices, captions behind). Administrators and the machine itself get every detail."""
    runtime = runtime_of(request)
    ok, full = report(runtime.store.engine, runtime.settings.data_dir, runtime.surroundings())
    full["version"] = __version__
    viewer = _viewer(request)
    if viewer == "operator":
        return JSONResponse(full, 200 if ok else 503)
    # anyone (a load balancer): whether it can store and what kind of thing is wrong, no paths,
    # sizes, hosts or device names; someone logged in (the chair console): the warnings' text too
    body: dict[str, Any] = {key: full[key] for key in ("status", "message", "message_en") if key in full}
    body["database"] = {key: full["database"][key] for key in ("readable", "writable")}
    body["disk"] = {key: full["disk"][key] for key in ("writable", "low", "error")}
    if viewer == "user":
        body["warnings"] = [{k: w[k] for k in ("part", "message", "message_en")} for w in full.get("warnings", [])]
        body["version"] = __version__
    else:
        body["warnings"] = [{"part": w["part"]} for w in full.get("warnings", [])]
    return JSONResponse(body, 200 if ok else 503)


@router.get("/metrics", response_class=Response, responses={403: {"description": "Neither an administrator nor an allowed address"}})
def metrics(request: Request) -> Response:
    """Prometheus text format: requests, event appends, caption delay and queues per room, devices,
    calls, jobs, disk. No personal data, nothing about ballots."""
    viewer = _viewer(request)
    if viewer == "anyone" and token_of(request) is None:
        raise AuthenticationError("Cần đăng nhập (quản trị viên)", "Authentication required: an administrator's session")
    if viewer != "operator":
        raise PermissionDeniedError(
            "Chỉ quản trị viên hoặc máy giám sát được cấu hình (metrics_allow) mới đọc được số liệu vận hành",
            "Only administrators or the monitoring hosts of metrics_allow may read the metrics",
        )
    return Response(exposition(runtime_of(request).metrics_registry), media_type=CONTENT_TYPE)
