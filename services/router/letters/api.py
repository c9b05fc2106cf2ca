"""``/v1`` routes of the letters: agents' letters on an item; the intake acknowledgement."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, Response

from services.router.api import _CONFLICTS, _ERRORS, Source, SourceRoute, State, User, UserRoute
from services.router.letters.schemas import Acknowledgement, DraftBody, EditBody, Letter, LetterList
from shared.errors import ErrorBody

PDF = "application/pdf"
_PDF_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {"content": {PDF: {}}, "description": "JSON, or the PDF with `Accept: application/pdf`"}
}

# A letter id is a PostgreSQL bigint: a larger number is a 422, never a 500.
LetterId = Annotated[int, Path(ge=1, le=2**63 - 1)]

router = APIRouter(prefix="/v1", route_class=UserRoute, tags=["letters"])
intake = APIRouter(route_class=SourceRoute, tags=["intake"])


def wants_pdf(request: Request) -> bool:
    return PDF in request.headers.get("accept", "")


def pdf_response(data: bytes, filename: str, attachment: bool = False) -> Response:
    disposition = "attachment" if attachment else "inline"
    return Response(
        data,
        media_type=PDF,
        headers={
            "Content-Disposition": f'{disposition}; filename="{filename}"',
            "Cache-Control": "private, no-store",  # personal data
        },
    )


@router.get("/items/{item_id}/letters", response_model=LetterList, responses=_ERRORS)
async def list_letters(item_id: str, state: State, who: User) -> dict[str, Any]:
    """The item's letters, and the standard letters that can be drafted."""
    return {"kinds": state.letter_book.kinds(), "letters": await state.letters.list(who, item_id)}


@router.post(
    "/items/{item_id}/letters",
    response_model=Letter,
    status_code=201,
    responses={**_CONFLICTS, 422: {"model": ErrorBody}},
)
async def draft_letter(item_id: str, body: DraftBody, state: State, who: User) -> dict[str, Any]:
    """Draft a standard letter filled in from the item, in the request's language."""
    return await state.letters.draft(who, item_id, body.kind, body.language)


@router.get(
    "/items/{item_id}/letters/{letter_id}",
    response_model=Letter,
    responses={**_CONFLICTS, **_PDF_RESPONSE},
)
async def get_letter(
    item_id: str, letter_id: LetterId, request: Request, state: State, who: User
) -> Any:
    """One letter; as PDF (`Accept: application/pdf`) once validated (409 for a draft)."""
    if wants_pdf(request):
        name, data = await state.letters.pdf(who, item_id, letter_id)
        return pdf_response(data, name)
    _item, letter = await state.letters.get(who, item_id, letter_id)
    return letter


@router.put(
    "/items/{item_id}/letters/{letter_id}",
    response_model=Letter,
    responses={**_CONFLICTS, 422: {"model": ErrorBody}},
)
async def edit_letter(
    item_id: str, letter_id: LetterId, body: EditBody, state: State, who: User
) -> dict[str, Any]:
    """Replace a draft's subject and text (409 once validated)."""
    return await state.letters.edit(who, item_id, letter_id, body.subject, body.body)


@router.post(
    "/items/{item_id}/letters/{letter_id}/validate", response_model=Letter, responses=_CONFLICTS
)
async def validate_letter(
    item_id: str, letter_id: LetterId, state: State, who: User
) -> dict[str, Any]:
    """The agent approves the letter as it is: recorded with who and when, then frozen."""
    return await state.letters.validate(who, item_id, letter_id)


@intake.get(
    "/requests/{request_id}/acknowledgement",
    response_model=Acknowledgement,
    responses={
        401: {"model": ErrorBody},
        404: {"model": ErrorBody},
        409: {"model": ErrorBody, "description": "received, not routed yet (Retry-After)"},
        **_PDF_RESPONSE,
    },
)
async def acknowledgement(request_id: str, request: Request, state: State, source: Source) -> Any:
    """The acknowledgement in the request's language, for the source that sent it."""
    ack = await state.letters.acknowledgement(source, request_id)
    if wants_pdf(request):
        return pdf_response(
            await state.letters.ack_pdf(ack), f"acknowledgement-{request_id[:8]}.pdf"
        )
    return state.letters.ack_json(ack)


router.include_router(intake)
