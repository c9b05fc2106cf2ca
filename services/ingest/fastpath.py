"""``POST /v1/requests`` answered by a plain ASGI middleware, ahead of FastAPI's routing.

Ingest exists for this one call. In a profile of the benchmark, FastAPI's route
machinery around it (middleware layers, routing, the request handler and its
dependency solving, ``Request`` and ``JSONResponse`` objects) cost about as much
CPU as the work itself: validating the body and publishing it. Here the same
``Ingest`` steps run straight on the ASGI messages, and the 202 body is built as
bytes. Every other request goes on to FastAPI, which also still documents this
route (OpenAPI) and serves it when the app is mounted without this middleware;
both give the same answers (tested).
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from services.ingest.intake import Ingest, accepted_body
from shared.http import ApiError

PATH = "/v1/requests"
_JSON = (b"content-type", b"application/json")


class ClientGone(Exception):
    """The client disconnected before its body arrived: nobody to answer."""


class SubmitFastPath:
    def __init__(self, app: ASGIApp, ingest: Ingest) -> None:
        self.app = app
        self.ingest = ingest

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != PATH or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        try:
            request_id = await self._submit(scope, receive)
        except ApiError as exc:  # rare: the same JSONResponse the app's error handler sends
            await exc.response()(scope, receive, send)
        except ClientGone:
            return
        else:
            await _accepted(send, request_id)

    async def _submit(self, scope: Scope, receive: Receive) -> str:
        authorization, length = _headers(scope)
        ingest = self.ingest
        source = ingest.authenticate(authorization)
        ingest.check_declared_length(length)
        raw = await self._body(receive)
        return await ingest.accept(ingest.parse_one(raw, source))

    async def _body(self, receive: Receive) -> bytes:
        """The whole body; a 413 as soon as it grows past the limit."""
        limit = self.ingest.settings.ingest_max_request_bytes
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise ClientGone
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise self.ingest.too_large()
            chunks.append(chunk)
            if not message.get("more_body", False):
                return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def _headers(scope: Scope) -> tuple[str | None, str | None]:
    """Authorization and Content-Length (the first of each, as Starlette reads them)."""
    authorization = length = None
    for name, value in scope["headers"]:
        if name == b"authorization" and authorization is None:
            authorization = value.decode("latin-1")
        elif name == b"content-length" and length is None:
            length = value.decode("latin-1")
    return authorization, length


async def _accepted(send: Send, request_id: str) -> None:
    """The 202, straight as ASGI messages (the hot path: no Response object)."""
    body = accepted_body(request_id)
    headers = [(b"content-length", str(len(body)).encode()), _JSON]
    await send({"type": "http.response.start", "status": 202, "headers": headers})
    await send({"type": "http.response.body", "body": body})
