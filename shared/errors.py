"""The one error hierarchy of the HTTP APIs (ingest and router), and its one body.

Every refusal is an ``ApiError`` subclass carrying its status; every service
renders it the same way (``shared.http.error_handlers``)::

    {"error": code, "message": text, "details": [{"field": ..., "problem": ...}]}

Domain code raises these classes directly; the web page of the router catches
them to show a translated message (by ``code``).
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel, Field, ValidationError
from starlette.responses import JSONResponse

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


class FieldProblem(BaseModel):
    field: str
    problem: str


class ErrorBody(BaseModel):
    """The body of every error answer (the OpenAPI documents of both APIs use it)."""

    error: str = Field(description="stable machine-readable code")
    message: str = Field(description="what is wrong, for a person")
    details: list[FieldProblem] = Field(default_factory=list)


class ApiError(Exception):
    """A refusal with its HTTP status; ``code`` defaults per class, a caller may refine it."""

    status: ClassVar[int] = 500
    code: str = "error"
    default_headers: ClassVar[dict[str, str] | None] = None

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        details: list[dict[str, str]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.details = details or []
        self.headers = headers if headers is not None else self.default_headers

    def body(self) -> dict[str, Any]:
        return {"error": self.code, "message": self.message, "details": self.details}

    def response(self) -> JSONResponse:
        return JSONResponse(self.body(), status_code=self.status, headers=self.headers)


class Malformed(ApiError):
    status = 400
    code = "malformed"


class Unauthenticated(ApiError):
    status = 401
    code = "unauthenticated"
    # RFC 9110: a 401 names the scheme it wants
    default_headers: ClassVar[dict[str, str] | None] = {"WWW-Authenticate": "Bearer"}


class Forbidden(ApiError):
    status = 403
    code = "forbidden"


class NotFound(ApiError):
    status = 404
    code = "not_found"


class Conflict(ApiError):
    status = 409
    code = "conflict"


class TooLarge(ApiError):
    status = 413
    code = "too_large"


class UnsupportedType(ApiError):
    status = 415
    code = "unsupported_type"


class Invalid(ApiError):
    status = 422
    code = "invalid"


class TooManyRequests(ApiError):
    """429; the caller passes its Retry-After (seconds until the limit lets one through)."""

    status = 429
    code = "rate_limited"


class Unavailable(ApiError):
    """503; the caller passes its Retry-After (the right wait differs per service)."""

    status = 503
    code = "unavailable"


def field_problems(errors: list[Any]) -> list[dict[str, str]]:
    """pydantic errors as ``{"field", "problem"}`` in words a client understands."""
    problems = []
    for err in errors:
        loc = [str(p) for p in err.get("loc", ())]
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


def invalid_fields(errors: list[Any], message: str) -> Invalid:
    """A 422 ``validation_failed`` naming each field (the first three in the message)."""
    details = field_problems(errors)
    summary = "; ".join(f"{d['field']}: {d['problem']}" for d in details[:3])
    return Invalid(f"{message}: {summary}", code="validation_failed", details=details)


def validation_error(exc: ValidationError, message: str = "the request is invalid") -> Invalid:
    return invalid_fields(exc.errors(), message)
