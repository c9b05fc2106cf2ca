"""The two intake routes, ``POST /v1/requests`` and ``POST /v1/requests:batch``.

Each is one plain ASGI handler mounted as a Starlette ``Route``, with no
``Request`` or ``Response`` object on the single-request path and the 202 body
built as bytes: in a profile of the benchmark, FastAPI's route machinery around
this call (routing, handler, dependency solving, request and response objects)
cost about as much CPU as the work itself, validating and publishing. Both routes
share one step: the caller's key, then the body within the size limit.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from services.ingest.intake import Ingest, accepted_body
from services.ingest.messages import check_content_type, request_from_message
from services.ingest.schemas import BatchOut, ItemResult
from services.ingest.validation import IntakeRequest, parse_json
from shared.errors import ApiError, ErrorBody

_JSON = (b"content-type", b"application/json")
Asgi = Callable[[Scope, Receive, Send], Awaitable[None]]
Parse = Callable[[Scope, bytes, str], IntakeRequest]
# Bodies larger than this (files in base64) are parsed in a thread, off the event loop:
# plain-text requests are never held while a large PDF is decoded and counted.
OFF_LOOP_BYTES = 256 * 1024


class ClientGone(Exception):
    """The client disconnected before its body arrived: nobody to answer."""


class AsgiEndpoint:
    """A bound handler that Starlette calls as ASGI (a method it would wrap in a Request)."""

    def __init__(self, handle: Asgi) -> None:
        self.handle = handle

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.handle(scope, receive, send)


class Shortcut:
    """Sends one (method, path) straight to its handler, ahead of Starlette's router.

    The handler is the one its ``Route`` serves (the route stays, for the route table,
    metrics labels and 405s); only the dispatch is shorter. Starlette's exception
    middleware and router cost about 13 of 77 us per single POST in-process, and in
    A/B runs of the ingest-only benchmark (same machine, alternated) ingest without
    this shortcut reached about 0.9 of its throughput with it.
    """

    def __init__(self, app: ASGIApp, method: str, path: str, handle: Asgi) -> None:
        self.app = app
        self.method = method
        self.path = path
        self.handle = handle

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and scope["path"] == self.path
            and scope["method"] == self.method
        ):
            await self.handle(scope, receive, send)
        else:
            await self.app(scope, receive, send)


class Intake:
    def __init__(self, ingest: Ingest) -> None:
        self.ingest = ingest

    async def submit(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._one(scope, receive, send, self._json_request)

    async def submit_message(self, scope: Scope, receive: Receive, send: Send) -> None:
        """``POST /v1/messages``: one raw e-mail (``messages.py``)."""
        await self._one(scope, receive, send, self._message_request)

    def _json_request(self, scope: Scope, raw: bytes, source: str) -> IntakeRequest:
        return self.ingest.rules.parse_one(raw, source)

    def _message_request(self, scope: Scope, raw: bytes, source: str) -> IntakeRequest:
        check_content_type(_header(scope, b"content-type"))
        return request_from_message(raw, source, self.ingest.rules)

    async def _one(self, scope: Scope, receive: Receive, send: Send, parse: Parse) -> None:
        """One request: the caller, its body, ``parse`` it, accept it; 202 or the refusal."""
        ingest = self.ingest
        try:
            source, raw = await self._caller_and_body(scope, receive)
            if len(raw) > OFF_LOOP_BYTES:  # files: decoding and PDF checks take a while
                item = await asyncio.to_thread(parse, scope, raw, source)
            else:
                item = parse(scope, raw, source)
            request_id = await ingest.accept(item)
        except ApiError as exc:
            await ingest.refused(exc).response()(scope, receive, send)
        except ClientGone:
            return
        else:
            await _accepted(send, request_id)

    async def submit_batch(self, scope: Scope, receive: Receive, send: Send) -> None:
        ingest = self.ingest
        try:
            source, raw = await self._caller_and_body(scope, receive)
            items = ingest.rules.batch_items(parse_json(raw))
        except ApiError as exc:
            await ingest.refused(exc).response()(scope, receive, send)
            return
        except ClientGone:
            return
        results = await self._accept_batch(items, source, off_loop=len(raw) > OFF_LOOP_BYTES)
        accepted = sum(1 for r in results if r.status == 202)
        out = BatchOut(accepted=accepted, rejected=len(results) - accepted, results=results)
        if accepted == 0 and any(r.status == 503 for r in results):
            response = JSONResponse(out.model_dump(), 503, headers=ingest.retry_after)
        else:
            response = JSONResponse(out.model_dump(exclude_none=True), 200)
        await response(scope, receive, send)

    async def _caller_and_body(self, scope: Scope, receive: Receive) -> tuple[str, bytes]:
        """The calling source (401 first, whatever the body), then the body within the limit."""
        authorization, length = _headers(scope)
        source = self.ingest.authenticate(authorization)
        self.ingest.rules.check_declared_length(length)
        return source, await self._body(receive)

    async def _body(self, receive: Receive) -> bytes:
        """The whole body; a 413 as soon as it grows past the limit."""
        rules = self.ingest.rules
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise ClientGone
            chunk = message.get("body", b"")
            size += len(chunk)
            rules.check_size(size)
            chunks.append(chunk)
            if not message.get("more_body", False):
                return chunks[0] if len(chunks) == 1 else b"".join(chunks)

    def _validate_items(
        self, items: list[object], source: str
    ) -> tuple[list[tuple[int, IntakeRequest]], list[ItemResult | None]]:
        results: list[ItemResult | None] = [None] * len(items)
        valid: list[tuple[int, IntakeRequest]] = []
        for i, data in enumerate(items):
            try:
                valid.append((i, self.ingest.rules.validate(data, source)))
            except ApiError as exc:
                results[i] = _refused_item(i, self.ingest.refused(exc))
        return valid, results

    async def _accept_batch(
        self, items: list[object], source: str, off_loop: bool = False
    ) -> list[ItemResult]:
        ingest = self.ingest
        if off_loop:
            valid, results = await asyncio.to_thread(self._validate_items, items, source)
        else:
            valid, results = self._validate_items(items, source)
        outcomes = await asyncio.gather(
            *(ingest.accept(item) for _, item in valid), return_exceptions=True
        )
        for (i, _), outcome in zip(valid, outcomes, strict=True):
            if isinstance(outcome, ApiError):
                results[i] = _refused_item(i, ingest.refused(outcome))
            elif isinstance(outcome, BaseException):
                raise outcome
            else:
                results[i] = ItemResult(index=i, status=202, request_id=outcome)
        return [r for r in results if r is not None]


def _refused_item(index: int, exc: ApiError) -> ItemResult:
    return ItemResult(index=index, status=exc.status, error=ErrorBody(**exc.body()))


def _header(scope: Scope, name: bytes) -> str | None:
    return next((v.decode("latin-1") for n, v in scope["headers"] if n == name), None)


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
