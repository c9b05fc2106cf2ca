"""A letter as PDF: fpdf2 (maintained, pure Python, no network) with the DejaVu fonts
of Debian's fonts-dejavu-core, which cover every Latin accent of FR/NL/DE names."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from fpdf import FPDF

from services.router.letters.render import paragraphs
from shared.settings import ConfigError

FAMILY = "DejaVu"
MARGIN_MM = 20
LOGO_HEIGHT_MM = 18


FONTS = (("", "DejaVuSans.ttf"), ("B", "DejaVuSans-Bold.ttf"))


def check_files(font_dir: Path, logo: Path | None) -> None:
    """Checked when the router starts, so that a missing font or logo stops it with a
    message rather than failing the first PDF."""
    for _style, name in FONTS:
        if not (font_dir / name).is_file():
            raise ConfigError(
                f"{font_dir / name} is missing: install fonts-dejavu-core (make system-deps) "
                "or set TRIAGE_LETTERS_FONT_DIR"
            )
    if logo is not None and not logo.is_file():
        raise ConfigError(f"TRIAGE_LETTERS_LOGO: {logo} is not a file")


def _fonts(pdf: FPDF, folder: Path) -> None:
    for style, name in FONTS:
        pdf.add_font(FAMILY, style, str(folder / name))


def _header(pdf: FPDF, context: Mapping[str, Any], logo: Path | None, date_line: str) -> None:
    admin, requester = context["admin"], context["requester"]
    if logo is not None:
        pdf.image(str(logo), x=MARGIN_MM, y=MARGIN_MM, h=LOGO_HEIGHT_MM)
        pdf.set_y(MARGIN_MM + LOGO_HEIGHT_MM + 4)
    pdf.set_font(FAMILY, "B", 11)
    pdf.multi_cell(0, 5, admin["name"], new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FAMILY, "", 10)
    for line in admin["address"]:
        pdf.cell(0, 5, line, new_x="LMARGIN", new_y="NEXT")
    recipient = [requester["name"], *requester["address"]]
    if any(recipient):
        pdf.ln(8)
        for line in filter(None, recipient):
            pdf.set_x(110)  # the window of a Belgian C5/6 envelope
            pdf.cell(0, 5, line, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(8)
    pdf.cell(0, 5, date_line, align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(6)


def letter_pdf(
    subject: str,
    text: str,
    context: Mapping[str, Any],
    *,
    date_line: str,
    font_dir: Path,
    logo: Path | None = None,
) -> bytes:
    """One A4 letter: sender, recipient, date, subject in bold, the text; page numbers."""
    pdf = FPDF(format="A4", unit="mm")
    pdf.set_margins(MARGIN_MM, MARGIN_MM, MARGIN_MM)
    pdf.set_auto_page_break(auto=True, margin=MARGIN_MM)
    _fonts(pdf, font_dir)
    pdf.set_title(subject)
    pdf.set_author(str(context["admin"]["name"]))
    pdf.set_lang(str(context.get("language", "fr")))
    pdf.add_page()
    _header(pdf, context, logo, date_line)
    pdf.set_font(FAMILY, "B", 11)
    pdf.multi_cell(0, 6, subject, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font(FAMILY, "", 11)
    for paragraph in paragraphs(text):
        pdf.multi_cell(0, 5.5, "\n".join(paragraph), new_x="LMARGIN", new_y="NEXT")
        pdf.ln(3)
    return bytes(pdf.output())
