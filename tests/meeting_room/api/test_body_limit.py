"""Bodies over the limit are refused while they stream in, without an error in the server's log."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from meeting_room.api.body_limit import BodyLimit
from tests.conftest import World


async def _form(request: Request) -> JSONResponse:
    form = await request.form()  # reads on until the body ends, or the client goes
    return JSONResponse({"fields": len(form)})


def _chunks(total: int, size: int = 64 << 10) -> Iterator[bytes]:
    head = b'--b\r\nContent-Disposition: form-data; name="file"; filename="x.pdf"\r\n\r\n'
    yield head
    for _ in range(total // size):
        yield b"x" * size
    yield b"\r\n--b--\r\n"


def test_an_oversized_streamed_form_gets_413_and_no_exception(caplog: pytest.LogCaptureFixture) -> None:
    """Without a Content-Length the limit is found while the body streams; the app then sees the
    client go (``ClientDisconnect``), which was logged as an error with its traceback on every such
    upload (attacker probe): the 413 is the whole answer."""
    app = BodyLimit(Starlette(routes=[Route("/form", _form, methods=["POST"])]), lambda _method, _path: (1 << 20, 1 << 20))
    client = TestClient(app)  # raises whatever the app lets out
    headers = {"content-type": "multipart/form-data; boundary=b"}
    refused = client.post("/form", content=_chunks(3 << 20), headers=headers)
    assert refused.status_code == 413 and "giới hạn là 1 MB" in refused.json()["error"]["message"]
    assert client.post("/form", content=_chunks(256 << 10), headers=headers).json() == {"fields": 1}
    assert not [r for r in caplog.records if r.levelname == "ERROR"]


def test_a_json_request_gets_the_json_limit_whatever_its_path_ends_with(client: TestClient, world: World) -> None:
    """The file limits go by method and whole route: an id chosen to end a path in "/recordings" or
    "/documents" found their limits (2 GB, 50 MB), and the body was read before the log-in was checked."""
    body = b'{"name": "' + b"x" * (2 << 20) + b'"}'
    headers = {"content-type": "application/json"}
    mid = world.meeting_id
    for method, path in (
        ("PUT", f"/api/meetings/{mid}/transcript/x/speakers/recordings"),
        ("PATCH", "/api/members/recordings"),
        ("PUT", f"/api/meetings/{mid}/transcript/x/speakers/documents"),
        ("GET", f"/api/meetings/{mid}/recordings"),  # the upload's path, not its method
    ):
        r = client.request(method, path, content=body, headers=headers)
        assert r.status_code == 413 and "giới hạn là 1 MB" in r.json()["error"]["message"], (method, path, r.status_code)
    # a real upload route keeps its own limit: over 1 MB reaches the route (401: nobody logged in)
    r = client.post(f"/api/meetings/{mid}/recordings", content=body, headers={"content-type": "multipart/form-data; boundary=b"})
    assert r.status_code == 401, r.text
