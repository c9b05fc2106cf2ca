"""KPI request rules, rates, CSV and access (pure parts of issue 17)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from services.router.kpis import (
    COUNTS,
    KpiRequest,
    kpi_row,
    require_kpi_access,
    to_csv,
    wants_csv,
)
from shared.errors import Forbidden, Invalid

pytestmark = pytest.mark.unit
TODAY = date(2025, 11, 20)


def test_defaults_are_the_last_twelve_weeks() -> None:
    ask = KpiRequest.parse(None, None, "week", "all", None, TODAY)
    assert (ask.start, ask.end) == (date(2025, 8, 29), TODAY)


def test_from_after_to_and_too_long_ranges_are_422() -> None:
    with pytest.raises(Invalid) as err:
        KpiRequest.parse(date(2025, 12, 1), date(2025, 11, 1), "day", "all", None, TODAY)
    assert err.value.details[0]["field"] == "from"
    with pytest.raises(Invalid):
        KpiRequest.parse(date(2020, 1, 1), TODAY, "day", "all", None, TODAY)


def test_bounds_are_local_days_across_the_dst_change() -> None:
    ask = KpiRequest(date(2025, 10, 25), date(2025, 10, 26))
    start, end = ask.bounds(ZoneInfo("Europe/Brussels"))
    assert start == datetime(2025, 10, 24, 22, tzinfo=UTC)  # CEST, UTC+2
    assert end == datetime(2025, 10, 26, 23, tzinfo=UTC)  # CET, UTC+1


def _row(**values: object) -> dict[str, object]:
    row: dict[str, object] = {"period": date(2025, 11, 10), "key": "all"}
    row.update({c: 0 for c in COUNTS})
    row.update(handling_s=None, waiting_s=None)
    row.update(values)
    return row


def test_rates_leave_undecided_items_out_and_never_divide_by_zero() -> None:
    out = kpi_row(
        _row(
            received=10,
            on_time=6,
            completed_late=1,
            open_past_due=1,
            via_review=2,
            type_corrected=1,
            handling_s=[3600.12345, 7200.0],
        )
    )
    assert out["sla_compliance"] == 0.75 and out["review_share"] == 0.2
    assert out["type_correction_rate"] == 0.1 and out["handling_p50_s"] == 3600.123
    empty = kpi_row(_row())
    assert empty["sla_compliance"] is None and empty["review_share"] is None


def test_csv_has_a_header_iso_dates_and_empty_cells_for_no_value() -> None:
    lines = to_csv([kpi_row(_row(received=4, on_time=1))]).splitlines()
    assert lines[0].startswith("period,key,received,completed")
    assert lines[1].startswith("2025-11-10,all,4,0,1,")
    assert ",,," in lines[1]  # no durations


@pytest.mark.parametrize(
    ("accept", "fmt", "csv"),
    [
        (None, None, False),
        ("text/csv", None, True),
        ("application/json, text/csv", None, False),
        ("text/csv;q=1, application/json", None, True),
        ("text/csv", "json", False),
        (None, "csv", True),
    ],
)
def test_csv_is_chosen_by_format_or_accept(accept: str | None, fmt: str | None, csv: bool) -> None:
    assert wants_csv(accept, fmt) is csv


def test_only_leads_and_managers_and_only_their_queues() -> None:
    require_kpi_access("lead", None, "housing")
    require_kpi_access("manager", frozenset({"housing"}), None)
    with pytest.raises(Forbidden):
        require_kpi_access("agent", None, None)
    with pytest.raises(Forbidden):
        require_kpi_access("manager", frozenset({"housing"}), "energy_aid")
