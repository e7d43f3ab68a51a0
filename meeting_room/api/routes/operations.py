"""For the people who run the server: ``/api/health`` (anyone: a load balancer, the chair console's
clock warning; the details to administrators and the machine itself) and ``/metrics`` for Prometheus
(administrators, or the addresses of ``metrics_allow``)."""

from __future__ import annotations

import ipaddress

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from meeting_room import __version__, auth
from meeting_room.api.deps import runtime_of, token_of
from meeting_room.errors import AuthenticationError, PermissionDeniedError
from meeting_room.operations.health import report
from meeting_room.operations.metrics import CONTENT_TYPE, exposition
from meeting_room.roles import Role

router = APIRouter(tags=["health"])
SUMMARY = ("status", "message", "message_en", "database", "disk", "warnings", "version")  # what anyone may see


def _is_admin(request: Request) -> bool:
    token = token_of(request)
    if token is None:
        return False
    try:
        return auth.resolve(runtime_of(request).store, token).has(Role.ADMIN)
    except AuthenticationError:
        return False


def _from_allowed_network(request: Request) -> bool:
    host = request.client.host if request.client else ""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    nets = runtime_of(request).settings.metrics_allow
    return any(address in ipaddress.ip_network(net, strict=False) for net in nets)


@router.get("/api/health", responses={503: {"description": "The database or the data disk cannot be written"}})
def health(request: Request) -> JSONResponse:
    """Whether the server can store (503 when not), and ``warnings`` on what else is wrong (clock,
    models, room devices, captions behind). Administrators and the machine itself get every detail."""
    runtime = runtime_of(request)
    ok, body = report(runtime.store.engine, runtime.settings.data_dir, runtime.surroundings())
    body["version"] = __version__
    if not (_from_allowed_network(request) or _is_admin(request)):
        body = {key: body[key] for key in SUMMARY if key in body}
        body["warnings"] = [{k: w[k] for k in ("part", "message", "message_en")} for w in body.get("warnings", [])]
    return JSONResponse(body, 200 if ok else 503)


@router.get("/metrics", response_class=Response, responses={403: {"description": "Neither an administrator nor an allowed address"}})
def metrics(request: Request) -> Response:
    """Prometheus text format: requests, event appends, caption delay and queues per room, devices,
    calls, jobs, disk. No personal data, nothing about ballots."""
    if _from_allowed_network(request):
        pass
    elif token_of(request) is None:
        raise AuthenticationError("Cần đăng nhập (quản trị viên)", "Authentication required: an administrator's session")
    elif not _is_admin(request):
        raise PermissionDeniedError(
            "Chỉ quản trị viên hoặc máy giám sát được cấu hình (metrics_allow) mới đọc được số liệu vận hành",
            "Only administrators or the monitoring hosts of metrics_allow may read the metrics",
        )
    return Response(exposition(runtime_of(request).metrics_registry), media_type=CONTENT_TYPE)
