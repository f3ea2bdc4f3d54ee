"""The fast export path (plain rows from a server-side cursor, the local date computed by
the database, cells written column by column) writes exactly what the row-by-row path
writes: the same cells, local dates, neutralised formulas."""

from __future__ import annotations

import csv
import datetime as dt
import io

from lms.reports import exports, service
from lms.reports.scope import scope_for
from tests.reports.conftest import completed_with_jp, send

EXTERNAL = "https://elearning.example.go.id/course/"


def _local(year: int, month: int, day: int, hour: int) -> dt.datetime:
    return dt.datetime(year, month, day, hour, tzinfo=service.LOCAL_TZ)


def _learning(org) -> None:
    year = service.today().year
    context = {"extensions": {
        "http://lentera.test/xapi/extensions/provider": "@BPSDM",
        "http://lentera.test/xapi/extensions/learning-type": "=kind"}}
    send(
        # 1 January 01:00 in Jakarta is 31 December in UTC: the file says 1 January.
        completed_with_jp(org["a1"], EXTERNAL + "1", 2, _local(year, 1, 1, 1)),
        completed_with_jp(org["b1"], EXTERNAL + "2", 3.5, _local(year, 2, 28, 23)),
        completed_with_jp(org["a2"], EXTERNAL + "3", 1, _local(year, 3, 3, 10),
                          object={"objectType": "Activity", "id": EXTERNAL + "3",
                                  "definition": {"name": {"en-US": "+SUM(A1)"}}},
                          context=context),
        completed_with_jp(org["b2"], EXTERNAL + "4", 8, _local(year, 3, 4, 9)),
    )


def _slow_csv(query) -> str:
    rows = (exports.record_values(row) for row in service.iter_rows(query))
    return "".join(exports.csv_stream(exports.record_headers(), rows))


def test_the_fast_csv_equals_the_row_by_row_one(org, db):
    _learning(org)
    scope = scope_for(org["hr_all"])
    for args in ({}, {"sort": "name", "dir": "asc"}, {"q": "sum"},
                 {"unit": str(org["dinas_b"].id)}):
        query, _filters, _state = service.records_from_args(scope, args)
        fast = "".join(exports.csv_stream(
            exports.record_headers(), exports.record_csv_rows(service.export_rows(query)),
            chunk=2, ready=True))
        assert fast == _slow_csv(query), args
    query, _filters, _state = service.records_from_args(scope, {"sort": "completed_at",
                                                                "dir": "asc"})
    rows = list(csv.reader(io.StringIO(_slow_csv(query).lstrip("\ufeff"))))
    year = service.today().year
    assert [r[0] for r in rows[1:]] == [f"{year}-01-01", f"{year}-02-28", f"{year}-03-03",
                                        f"{year}-03-04"]
    assert rows[3][5] == "'+SUM(A1)" and rows[3][6] == "'=kind" and rows[3][7] == "'@BPSDM"


def test_the_xlsx_rows_are_the_row_by_row_ones(org, db):
    _learning(org)
    query, _filters, _state = service.records_from_args(scope_for(org["hr_all"]), {})
    fast = list(exports.export_values(service.export_rows(query)))
    slow = [exports.record_values(row) for row in service.iter_rows(query)]
    assert fast == slow and len(fast) == 4
    assert isinstance(fast[0][0], dt.date)
