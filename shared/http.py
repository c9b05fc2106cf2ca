"""HTTP error shape shared by the services' APIs: ``{"error", "message", "details"}``."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

# Friendlier words for the pydantic error types a client meets most.
_PROBLEMS = {
    "missing": "required field is missing",
    "extra_forbidden": "unknown field",
    "string_type": "must be a string",
    "int_type": "must be an integer",
    "bool_type": "must be true or false",
    "list_type": "must be a list",
    "dict_type": "must be an object",
    "model_type": "must be an object",
    "timezone_aware": "must be a date-time with a timezone, e.g. 2026-11-22T09:30:00+01:00",
    "datetime_type": "must be an ISO 8601 date-time with a timezone",
    "datetime_parsing": "must be an ISO 8601 date-time with a timezone",
}


class ApiError(Exception):
    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        details: list[dict[str, str]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details or []
        self.headers = headers

    def body(self) -> dict[str, Any]:
        return {"error": self.code, "message": self.message, "details": self.details}

    def response(self) -> JSONResponse:
        return JSONResponse(self.body(), status_code=self.status, headers=self.headers)


def field_problems(errors: list[Any], skip_prefix: int = 0) -> list[dict[str, str]]:
    problems = []
    for err in errors:
        loc = [str(p) for p in err.get("loc", ())][skip_prefix:]
        field = ".".join(loc) or "(body)"
        kind = err.get("type", "")
        if kind == "string_pattern_mismatch" and loc and loc[-1] == "body":
            problem = "must not be empty"
        elif kind == "enum":
            problem = f"must be one of: {err.get('ctx', {}).get('expected', '')}"
        else:
            problem = _PROBLEMS.get(kind, str(err.get("msg", "invalid")))
        problems.append({"field": field, "problem": problem})
    return problems


def validation_error(exc: ValidationError, message: str = "the request is invalid") -> ApiError:
    details = field_problems(exc.errors())
    summary = "; ".join(f"{d['field']}: {d['problem']}" for d in details[:3])
    return ApiError(422, "validation_failed", f"{message}: {summary}", details)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError) -> JSONResponse:
        return exc.response()

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        details = field_problems(list(exc.errors()))
        summary = "; ".join(f"{d['field']}: {d['problem']}" for d in details[:3])
        return ApiError(422, "validation_failed", f"invalid request: {summary}", details).response()

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return JSONResponse(
            {"error": code, "message": str(exc.detail), "details": []},
            status_code=exc.status_code,
            headers=getattr(exc, "headers", None),
        )
