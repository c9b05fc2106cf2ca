"""Loading and validating a cases CSV (the format of ``triage train`` and ``evaluate``).

Columns: ``text`` and ``type`` (required), ``urgency``, ``language`` and ``id``
(optional); other columns are ignored. Every problem is reported with the file
name and the line number where the record starts, so that the person who
exported the file can fix it; up to ``MAX_REPORTED`` problems are listed at once.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

REQUIRED = ("text", "type")
MAX_REPORTED = 10
DEFAULT_MIN_EXAMPLES = 5


class DataError(ValueError):
    """A cases CSV that cannot be used; the message says where and why."""


@dataclass(frozen=True)
class CaseSet:
    """The validated content of a cases CSV (texts are NOT masked yet)."""

    source: str
    sha256: str
    ids: list[str]
    texts: list[str]
    types: list[str]
    urgencies: list[str] | None
    languages: list[str] | None

    def __len__(self) -> int:
        return len(self.texts)


def _decode(raw: bytes, name: str) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        bad = raw[exc.start : exc.start + 1].hex()
        raise DataError(
            f"{name}: line {line}: not valid UTF-8 (byte 0x{bad}); "
            "export the file again with UTF-8 encoding"
        ) from exc


def _header(reader: csv.DictReader[str], name: str) -> list[str]:
    fields = [f.strip() for f in (reader.fieldnames or [])]
    if not fields:
        raise DataError(f"{name}: the file is empty (expected a header line with text,type)")
    missing = [c for c in REQUIRED if c not in fields]
    if missing:
        cols = ", ".join(repr(c) for c in missing)
        raise DataError(
            f"{name}: line 1: missing required column {cols} (found: {', '.join(fields)})"
        )
    reader.fieldnames = fields
    return fields


class _Collector:
    def __init__(self, name: str) -> None:
        self.name = name
        self.problems: list[str] = []
        self.count = 0

    def add(self, line: int, message: str) -> None:
        self.count += 1
        if len(self.problems) < MAX_REPORTED:
            self.problems.append(f"{self.name}: line {line}: {message}")

    def raise_if_any(self) -> None:
        if not self.problems:
            return
        more = self.count - len(self.problems)
        tail = [f"... and {more} more problem(s)"] if more else []
        raise DataError("\n".join(self.problems + tail))


def _cell(row: dict[str, str | None], key: str) -> str:
    value = row.get(key)
    return value.strip() if isinstance(value, str) else ""


def load_cases(path: str | Path, *, min_examples: int | None = DEFAULT_MIN_EXAMPLES) -> CaseSet:
    """Read and validate ``path``; raise DataError with every problem found.

    ``min_examples`` is the fewest rows a type or urgency label needs (training
    needs a few per label for the validation split); ``None`` skips the check
    (evaluation data may hold a single example of a label).
    """
    path = Path(path)
    name = path.name
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DataError(f"{path}: cannot read the file ({exc.strerror})") from exc
    reader = csv.DictReader(io.StringIO(_decode(raw, name), newline=""))
    fields = _header(reader, name)
    has_urgency, has_language, has_id = (c in fields for c in ("urgency", "language", "id"))
    problems = _Collector(name)
    ids: list[str] = []
    texts: list[str] = []
    types: list[str] = []
    urgencies: list[str] = []
    languages: list[str] = []
    lines: list[int] = []
    next_line = reader.line_num + 1
    try:
        for row in reader:
            line, next_line = next_line, reader.line_num + 1
            if None in row:
                problems.add(line, f"more fields than the {len(fields)} columns of the header")
            text, type_ = _cell(row, "text"), _cell(row, "type")
            if not text:
                problems.add(line, "empty text")
            if not type_:
                problems.add(line, "empty type")
            urgency = _cell(row, "urgency") if has_urgency else ""
            if has_urgency and not urgency:
                problems.add(line, "empty urgency (the column exists, so every row needs one)")
            ids.append(_cell(row, "id") if has_id else f"line-{line}")
            texts.append(text)
            types.append(type_)
            urgencies.append(urgency)
            languages.append((_cell(row, "language") if has_language else "").lower() or "unknown")
            lines.append(line)
    except csv.Error as exc:
        problems.add(reader.line_num, f"malformed CSV ({exc})")
    _check_ids(ids, lines, has_id, problems)
    problems.raise_if_any()
    if not texts:
        raise DataError(f"{name}: no data rows after the header")
    if min_examples is not None:
        _check_counts(name, "type", types, min_examples)
        if has_urgency:
            _check_counts(name, "urgency", urgencies, min_examples)
    return CaseSet(
        source=name,
        sha256=hashlib.sha256(raw).hexdigest(),
        ids=ids,
        texts=texts,
        types=types,
        urgencies=urgencies if has_urgency else None,
        languages=languages if has_language else None,
    )


def _check_ids(ids: list[str], lines: list[int], has_id: bool, problems: _Collector) -> None:
    seen: dict[str, int] = {}
    for index, (case_id, line) in enumerate(zip(ids, lines, strict=True)):
        if has_id and not case_id:
            problems.add(line, "empty id")
            ids[index] = f"line-{line}"
            continue
        if case_id in seen:
            problems.add(line, f"duplicate id {case_id!r} (first on line {seen[case_id]})")
        seen.setdefault(case_id, line)


def _check_counts(name: str, column: str, labels: list[str], minimum: int) -> None:
    counts = Counter(labels)
    rare = sorted((n, label) for label, n in counts.items() if n < minimum)
    if rare:
        listed = ", ".join(f"{label!r} has {n}" for n, label in rare)
        raise DataError(
            f"{name}: too few examples for {column} label(s): {listed}; "
            f"each label needs at least {minimum} rows (add examples or merge the label)"
        )
    if len(counts) < 2:
        raise DataError(f"{name}: column {column!r} has a single label; at least 2 are needed")


def concat_cases(
    parts: list[CaseSet], *, min_examples: int | None = DEFAULT_MIN_EXAMPLES
) -> CaseSet:
    """One CaseSet from several files (e.g. the per-language demo corpus files).

    Urgency is kept only when every file has it; a missing language is "unknown".
    Ids are prefixed with the file name when two files share an id.
    """
    if not parts:
        raise DataError("no cases files given")
    all_ids = [i for p in parts for i in p.ids]
    clash = len(set(all_ids)) != len(all_ids)
    ids = [f"{p.source}:{i}" if clash else i for p in parts for i in p.ids]
    with_urgency = all(p.urgencies is not None for p in parts)
    with_language = any(p.languages is not None for p in parts)
    merged = CaseSet(
        source="+".join(p.source for p in parts),
        sha256=hashlib.sha256("".join(p.sha256 for p in parts).encode()).hexdigest(),
        ids=ids,
        texts=[t for p in parts for t in p.texts],
        types=[t for p in parts for t in p.types],
        urgencies=[u for p in parts for u in (p.urgencies or [])] if with_urgency else None,
        languages=[lang for p in parts for lang in (p.languages or ["unknown"] * len(p))]
        if with_language
        else None,
    )
    if min_examples is not None:
        _check_counts(merged.source, "type", merged.types, min_examples)
        if merged.urgencies is not None:
            _check_counts(merged.source, "urgency", merged.urgencies, min_examples)
    return merged
