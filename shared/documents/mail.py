"""Text out of HTML and e-mail messages: used by ingest (``POST /v1/messages``) and by
the extraction of ``message/rfc822`` and ``text/html`` attachments."""

from __future__ import annotations

import re
from email.message import EmailMessage, Message
from email.policy import default

_BLANK_LINES = re.compile(r"\n\s*\n+")
_SPACES = re.compile(r"[ \t\r\f\v]+")


def _kept(ch: str) -> bool:
    # Lone surrogates (broken PDF text maps) could not be encoded into an event.
    return (ch >= " " or ch in "\n\t") and not "\ud800" <= ch <= "\udfff"


def clean(text: str) -> str:
    """Whitespace tidied; NUL, other control characters (tab, newline kept) and lone
    surrogates removed: extracted text is safe for JSON, events and PostgreSQL."""
    text = "".join(ch if _kept(ch) else " " for ch in text)
    lines = (_SPACES.sub(" ", line).strip() for line in text.split("\n"))
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


def html_to_text(html: str) -> str:
    """The visible text of an HTML document (BeautifulSoup: tolerant of broken markup)."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "html.parser")
    for hidden in soup(["script", "style", "head", "template"]):
        hidden.decompose()
    return clean(soup.get_text("\n"))


def parse_message(raw: bytes) -> EmailMessage:
    from email.parser import BytesParser

    message = BytesParser(policy=default).parsebytes(raw)
    assert isinstance(message, EmailMessage)  # the default policy builds EmailMessage
    return message


def body_text(message: EmailMessage) -> str:
    """The plain-text part, else the HTML part turned into text, else ''."""
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    content = _text_content(part)
    return html_to_text(content) if part.get_content_subtype() == "html" else clean(content)


def _text_content(part: Message) -> str:
    try:
        content = part.get_content()  # type: ignore[attr-defined]
    except (LookupError, ValueError):  # unknown charset, broken transfer encoding
        payload = part.get_payload(decode=True)
        content = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""
    return content if isinstance(content, str) else ""
