"""How every service answers errors: the ``shared.errors`` body, whoever raised.

``error_handlers()`` suits ``Starlette(exception_handlers=...)`` and FastAPI alike,
so a domain ``ApiError``, FastAPI's own request validation and Starlette's 404/405
all come out as ``{"error", "message", "details"}``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from shared.errors import ApiError, invalid_fields

Handler = Callable[[Request, Any], Awaitable[Response]]
_HTTP_CODES = {404: "not_found", 405: "method_not_allowed"}


async def _api_error(_: Request, exc: ApiError) -> Response:
    return exc.response()


async def _request_validation(_: Request, exc: RequestValidationError) -> Response:
    return invalid_fields(list(exc.errors()), "invalid request").response()


async def _http(_: Request, exc: HTTPException) -> Response:
    return JSONResponse(
        {"error": _HTTP_CODES.get(exc.status_code, "http_error"), "message": str(exc.detail),
         "details": []},
        status_code=exc.status_code,
        headers=exc.headers,
    )  # fmt: skip


def error_handlers() -> dict[Any, Handler]:
    return {ApiError: _api_error, RequestValidationError: _request_validation, HTTPException: _http}


def install_error_handlers(app: FastAPI) -> None:
    for exc, handler in error_handlers().items():
        app.add_exception_handler(exc, handler)
