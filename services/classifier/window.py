"""What the model reads of a long request: a deliberate window, not blind truncation.

The embedder reads about 512 tokens (roughly 2,000 characters of French or Dutch);
a request with documents is often ten times that. Cutting the concatenation would
give the model the body and the first pages of the first file only. Instead every
part — the subject and body, then each file (its pages joined) — gets a fair share
of the window (parts shorter than their share give the rest to the others), and
each part is cut at a word boundary: the opening of each letter or report, where
its purpose is usually stated, always reaches the model. Masking, the urgency cues
and the language detector still read the whole text.
"""

from __future__ import annotations

from shared.events import RequestReceived


def sections(event: RequestReceived) -> list[str]:
    """Subject and body, then each attachment's text, pages of one file together."""
    head = "\n\n".join(p for p in (event.subject, event.body) if p)
    files: dict[str, list[str]] = {}
    for attachment in event.attachments:
        files.setdefault(attachment.name, []).append(attachment.text)
    return [head, *("\n".join(pages) for pages in files.values())]


def shares(lengths: list[int], window: int) -> list[int]:
    """Characters given to each part: equal shares, what a short part leaves redistributed."""
    given = [0] * len(lengths)
    left = window
    open_parts = [i for i, n in enumerate(lengths) if n > 0]
    while open_parts and left > 0:
        share = max(left // len(open_parts), 1)
        for i in list(open_parts):
            take = min(share, lengths[i] - given[i], left)
            given[i] += take
            left -= take
            if given[i] == lengths[i]:
                open_parts.remove(i)
    return given


def cut(text: str, size: int) -> str:
    """``text`` to at most ``size`` characters, at a word boundary when there is one."""
    if len(text) <= size:
        return text
    head = text[:size]
    space = head.rfind(" ")
    return head[:space] if space > size // 2 else head


def fit(parts: list[str], window: int) -> str:
    """The parts, each within its share of ``window`` characters, in order."""
    separators = 2 * (sum(1 for p in parts if p) - 1)
    sizes = shares([len(p) for p in parts], max(window - separators, 0))
    return "\n\n".join(cut(p, n) for p, n in zip(parts, sizes, strict=True) if n > 0)
