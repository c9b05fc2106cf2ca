"""What the embedder reads of a long request: a deliberate window, not a blind cut.

The e5 embedder reads at most 512 tokens (about 300 words of French or Dutch);
beyond that it silently drops the rest, which for a letter with a report
attached means the report. For a request longer than ``max_words`` the model's
embedder reads instead: the first part of the text (subject, then the start of
the body, where the request is introduced) and then the key points found
further on (``keypoints.py``: the sentences that say what is asked, the amounts,
the deadlines, from the whole request, attachments included). Shorter requests
are read whole, exactly as before.

Only the embedder reads the window: TF-IDF features, the urgency cues, the
language and the key points themselves still read the whole masked text.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from shared.events import KeyPoint

# Words of a long request the embedder reads (e5: 512 tokens, ~300 French words).
DEFAULT_WINDOW_WORDS = 300
_WORD = re.compile(r"\S+")
# Never less than this share of the window for the opening of the text.
_MIN_HEAD_SHARE = 3


def first_words(text: str, words: int) -> str:
    """``text`` up to the end of its ``words``-th word (line breaks kept)."""
    if words <= 0:
        return ""
    ends = [m.end() for m in _WORD.finditer(text)]
    return text[: ends[min(words, len(ends)) - 1]] if ends else ""


def model_window(text: str, key_points: Sequence[KeyPoint], max_words: int) -> str:
    """``text`` itself when short enough, else its first part plus the later key points."""
    words = len(text.split())
    if words <= max_words:
        return text
    later = [p.text for p in key_points]
    reserve = sum(len(p.split()) for p in later)
    head = first_words(text, max(max_words - reserve, max_words // _MIN_HEAD_SHARE))
    later = [p for p in later if p.removesuffix("…") not in head]
    return "\n\n".join([head, *later]) if later else head
