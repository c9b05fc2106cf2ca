"""Ingest's OpenAPI document, generated in one place from the pydantic models.

The routes read their own bytes (``routes.py``), so no framework infers their
bodies: the request and answer models are named here, next to the statuses each
route may answer. Schemas live under ``components/schemas``, where every ``$ref``
points (generated clients and contract testers follow them).
"""

from __future__ import annotations

from typing import Any

from pydantic.json_schema import models_json_schema

from services.ingest.schemas import Accepted, BatchOut
from services.ingest.validation import BatchIn, IntakeRequest
from shared.errors import ErrorBody

TITLE = "Triage ingest API"
VERSION = "1.0.0"
DESCRIPTION = (
    "Intake systems hand requests to Triage here. A 202 means the request "
    "is durably on the broker; the same (source, external_id) always gives the same id."
)
_REF = "#/components/schemas/{model}"
ERRORS = {
    400: "malformed JSON or invalid UTF-8",
    401: "missing or wrong API key",
    403: "the key belongs to another source",
    409: "the external_id was already accepted with different content",
    413: "text, file or body too large",
    415: "a file's type is not accepted or not what its bytes are",
    422: "a field is missing, unknown or invalid",
    503: "broker unavailable; retry after Retry-After",
}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _ref(model: type) -> dict[str, str]:
    return {"$ref": _REF.format(model=model.__name__)}


def _post(operation_id: str, summary: str, body: type, status: int, answer: type) -> Any:
    errors = {str(s): _json(_ref(ErrorBody), text) for s, text in ERRORS.items()}
    return {
        "post": {
            "summary": summary,
            "operationId": operation_id,
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": _ref(body)}},
            },
            "responses": {str(status): _json(_ref(answer), "Successful Response"), **errors},
        }
    }


def _message_post() -> Any:
    """``POST /v1/messages``: the body is a raw e-mail, not JSON."""
    operation = _post("submit_message", "Submit one raw e-mail (message/rfc822)", Accepted, 202,
                      Accepted)["post"]  # fmt: skip
    operation["requestBody"]["content"] = {
        "message/rfc822": {"schema": {"type": "string", "format": "binary"}}
    }
    operation["description"] = (
        "external_id from Message-ID (a resent message gives the same request_id), subject,"
        " the text part (or the HTML part as text), Date, channel email; attachments are"
        " files under the same rules as in /v1/requests. 422 names what is malformed."
    )
    return {"post": operation}


def _get(operation_id: str, summary: str, responses: dict[str, Any]) -> Any:
    return {"get": {"summary": summary, "operationId": operation_id, "responses": responses}}


def document() -> dict[str, Any]:
    models = [(IntakeRequest, "validation"), (BatchIn, "validation")] + [
        (m, "serialization") for m in (Accepted, BatchOut, ErrorBody)
    ]
    _, schemas = models_json_schema(models, ref_template=_REF)  # type: ignore[arg-type]
    status = {"type": "object", "additionalProperties": {"type": "string"}}
    paths = {
        "/v1/requests": _post("submit", "Submit one request", IntakeRequest, 202, Accepted),
        "/v1/requests:batch": _post(
            "submit_batch", "Submit up to max_batch requests; one result per item",
            BatchIn, 200, BatchOut,
        ),
        "/v1/messages": _message_post(),
        "/healthz": _get("healthz", "alive", {"200": _json(status, "alive")}),
        "/readyz": _get("readyz", "ready: the broker answers", {
            "200": _json(status, "ready"),
            "503": _json(_ref(ErrorBody), "not ready; the message says why"),
        }),
    }  # fmt: skip
    return {
        "openapi": "3.1.0",
        "info": {"title": TITLE, "version": VERSION, "description": DESCRIPTION},
        "paths": paths,
        "components": {"schemas": schemas.get("$defs", {})},
    }
