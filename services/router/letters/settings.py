"""Settings of the letters (``TRIAGE_LETTERS_*``): part of ``RouterSettings``."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field

from shared.settings import BaseTriageSettings

DEJAVU = Path("/usr/share/fonts/truetype/dejavu")


class LetterSettings(BaseTriageSettings):
    letters_admin_name: str = Field(
        "CPAS de Bruxelles-Exemple · OCMW Brussel-Voorbeeld",
        max_length=200,
        description="the administration's name, at the top of every letter",
    )
    letters_admin_address: list[str] = Field(
        default_factory=lambda: ["Rue de l'Exemple 1 · Voorbeeldstraat 1", "1000 Bruxelles"],
        max_length=6,
        description="the administration's postal address, one line per entry (JSON list)",
    )
    letters_admin_contact: str = Field(
        "02 000 00 00 · info@cpas.example.be",
        max_length=200,
        description="how a citizen follows up (phone, e-mail, web site), quoted in letters",
    )
    letters_logo: Path | None = Field(
        None, description="PNG or JPEG logo printed at the top of PDF letters (none: no logo)"
    )
    letters_templates_dir: Path | None = Field(
        None,
        description="folder of the administration's own letter templates "
        "(<kind>.<fr|nl|en>.j2); a file there replaces the shipped one of the same name",
    )
    letters_font_dir: Path = Field(
        DEJAVU, description="folder with DejaVuSans.ttf and DejaVuSans-Bold.ttf (fonts-dejavu-core)"
    )
    letters_default_language: Literal["fr", "nl", "en"] = Field(
        "fr", description="letter language when the request's is none of fr, nl, en"
    )
