"""CSV loading and validation of `triage train` / `triage evaluate` input."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.classifier.training.data import DataError, concat_cases, load_cases


def _write(tmp_path: Path, content: str | bytes, name: str = "cases.csv") -> Path:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def _rows(n_per_label: int, labels: tuple[str, ...] = ("a", "b")) -> str:
    return "".join(f"text {label} {i},{label}\n" for label in labels for i in range(n_per_label))


def test_valid_file_with_only_required_columns(tmp_path: Path) -> None:
    cases = load_cases(_write(tmp_path, "text,type\n" + _rows(5)))
    assert len(cases) == 10
    assert cases.urgencies is None and cases.languages is None
    assert cases.ids[0] == "line-2"
    assert len(cases.sha256) == 64


def test_optional_columns_bom_and_extra_columns(tmp_path: Path) -> None:
    body = "".join(f"c{i},hello {i},t{i % 2},high,FR,x\n" for i in range(10))
    path = _write(tmp_path, "\ufeffid,text,type,urgency,language,extra\n" + body)
    cases = load_cases(path, min_examples=None)
    assert cases.ids[:2] == ["c0", "c1"]
    assert cases.urgencies == ["high"] * 10
    assert cases.languages == ["fr"] * 10


def test_missing_column_is_named(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"cases.csv: line 1: missing required column 'type'"):
        load_cases(_write(tmp_path, "text,label\nhello,a\n"))


def test_empty_text_reports_line_of_record_start(tmp_path: Path) -> None:
    # The first record spans lines 2-3 (quoted newline), so the empty one is on line 4.
    content = 'text,type\n"two\nlines",a\n  ,a\n' + _rows(5)
    with pytest.raises(DataError) as err:
        load_cases(_write(tmp_path, content))
    assert "cases.csv: line 4: empty text" in str(err.value)


def test_several_problems_are_listed_together(tmp_path: Path) -> None:
    with pytest.raises(DataError) as err:
        load_cases(_write(tmp_path, "text,type\n,a\nhello,\n"))
    message = str(err.value)
    assert "line 2: empty text" in message and "line 3: empty type" in message


def test_too_few_examples_names_label_count_and_minimum(tmp_path: Path) -> None:
    content = "text,type\n" + _rows(5) + "rare one,rare\nrare two,rare\n"
    with pytest.raises(DataError) as err:
        load_cases(_write(tmp_path, content), min_examples=5)
    message = str(err.value)
    assert "'rare' has 2" in message and "at least 5" in message and "type" in message


def test_too_few_urgency_examples(tmp_path: Path) -> None:
    body = "".join(f"x {i},{'ab'[i % 2]},{'low' if i else 'high'}\n" for i in range(12))
    with pytest.raises(DataError, match=r"urgency label\(s\): 'high' has 1"):
        load_cases(_write(tmp_path, "text,type,urgency\n" + body))


def test_min_examples_none_accepts_rare_labels(tmp_path: Path) -> None:
    cases = load_cases(_write(tmp_path, "text,type\nhello,a\n"), min_examples=None)
    assert cases.types == ["a"]


def test_non_utf8_is_reported_with_line(tmp_path: Path) -> None:
    content = "text,type\nhello,a\ncaf\xe9,b\n".encode("latin-1")
    with pytest.raises(DataError, match=r"line 3: not valid UTF-8 \(byte 0xe9\)"):
        load_cases(_write(tmp_path, content))


def test_empty_urgency_and_duplicate_id(tmp_path: Path) -> None:
    content = "id,text,type,urgency\n1,hello,a,high\n1,world,a,\n"
    with pytest.raises(DataError) as err:
        load_cases(_write(tmp_path, content), min_examples=None)
    message = str(err.value)
    assert "line 3: empty urgency" in message
    assert "line 3: duplicate id '1' (first on line 2)" in message


def test_empty_file_and_header_only(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="empty"):
        load_cases(_write(tmp_path, ""))
    with pytest.raises(DataError, match="no data rows"):
        load_cases(_write(tmp_path, "text,type\n", "h.csv"))


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="cannot read"):
        load_cases(tmp_path / "nope.csv")


def test_single_label_is_refused(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="single label"):
        load_cases(_write(tmp_path, "text,type\n" + _rows(6, ("a",))))


def test_concat_prefixes_clashing_ids_and_drops_partial_urgency(tmp_path: Path) -> None:
    one = load_cases(
        _write(
            tmp_path,
            "id,text,type,urgency\n" + "".join(f"{i},t {i},{'ab'[i % 2]},low\n" for i in range(6)),
            "one.csv",
        ),
        min_examples=None,
    )
    two = load_cases(
        _write(
            tmp_path,
            "id,text,type,language\n" + "".join(f"{i},u {i},{'ab'[i % 2]},nl\n" for i in range(6)),
            "two.csv",
        ),
        min_examples=None,
    )
    merged = concat_cases([one, two], min_examples=5)
    assert merged.ids[0] == "one.csv:0" and merged.ids[6] == "two.csv:0"
    assert merged.urgencies is None
    assert merged.languages == ["unknown"] * 6 + ["nl"] * 6
