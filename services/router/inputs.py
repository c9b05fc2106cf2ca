"""What text the router accepts from agents and team leads (reasons, queue and type names).

PostgreSQL refuses NUL in ``text`` and ``jsonb`` and an unpaired surrogate cannot
be encoded at all: such input must be refused with 422 where it enters, never
reach a query as a 500. Other C0 control characters have no place in a reason
either; tab and line breaks do.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator

_REFUSED = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
PROBLEM = "must not contain control characters (other than tab and line breaks)"


def is_clean(value: str) -> bool:
    return _REFUSED.search(value) is None


def _clean(value: str) -> str:
    if not is_clean(value):
        raise ValueError(PROBLEM)
    return value


CleanText = Annotated[str, AfterValidator(_clean)]
