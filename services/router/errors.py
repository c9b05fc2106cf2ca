"""Domain errors of the router. The HTTP layer maps each to a status and a JSON body
``{"detail": <message>, "code": <machine code>}``; the web page shows the message.
"""

from __future__ import annotations


class RouterError(Exception):
    status = 500
    code = "error"

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code


class Unauthenticated(RouterError):
    status = 401
    code = "unauthenticated"


class Forbidden(RouterError):
    status = 403
    code = "forbidden"


class NotFound(RouterError):
    status = 404
    code = "not_found"


class Conflict(RouterError):
    status = 409
    code = "conflict"


class Invalid(RouterError):
    status = 422
    code = "invalid"
