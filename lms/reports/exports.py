"""Exports of report tables: CSV streamed row by row, XLSX written by openpyxl's
write-only workbook to a temporary file. Neither holds all rows in memory, so 100,000
completion records export in flat memory (bench/hr.py measures it).

The exports run the same query as the table on the page (same scope, filters, search
and sort), so the file matches what HR sees.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import tempfile
from collections.abc import Iterable, Iterator
from typing import Any

from flask_babel import gettext as _

from lms.reports.service import LOCAL_TZ


def record_headers() -> list[str]:
    return [_("Completed on"), _("NIP"), _("Name"), _("Org unit"), _("Position"), _("Learning"),
            _("Kind"), _("Provider"), _("JP"), _("Certificate number")]


def kind_label(kind: str) -> str:
    from lms.reports.models import TrainingKind

    if kind == "course":
        return _("Lentera course")
    try:
        return TrainingKind(kind).label
    except ValueError:
        return kind or _("Other learning")


def local_date(value: dt.datetime | None) -> dt.date | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(LOCAL_TZ).date()


def record_values(row: Any) -> list[Any]:
    """One completion record as export cells (the same columns as the table)."""
    return [local_date(row.completed_at), row.nip or "", row.name, row.unit, row.position,
            row.title, kind_label(row.kind), row.provider, float(row.jp),
            row.certificate or ""]


def _safe_cell(value: Any) -> Any:
    # A spreadsheet runs text starting with = + - @ as a formula (CSV injection).
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def csv_stream(headers: list[str], rows: Iterable[list[Any]], chunk: int = 1000
               ) -> Iterator[str]:
    """CSV text in pieces of ``chunk`` rows, with a BOM so spreadsheets read UTF-8."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    buffer.write("\ufeff")
    writer.writerow(headers)
    for count, row in enumerate(rows, start=1):
        writer.writerow([_safe_cell(v.isoformat() if isinstance(v, dt.date) else v)
                         for v in row])
        if count % chunk == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def _text_cell(sheet: Any, value: Any) -> Any:
    # openpyxl writes text starting with "=" as a formula; keep it text instead.
    if isinstance(value, str) and value.startswith("="):
        from openpyxl.cell import WriteOnlyCell

        cell = WriteOnlyCell(sheet, value=value)
        cell.data_type = "s"
        return cell
    return value


def xlsx_file(sheets: Iterable[tuple[str, list[str], Iterable[list[Any]]]]) -> Any:
    """A temporary file holding a workbook with one sheet per ``(title, headers, rows)``.

    The caller sends it and the file is removed when closed.
    """
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    workbook = Workbook(write_only=True)
    bold = Font(bold=True)
    for title, headers, rows in sheets:
        sheet = workbook.create_sheet(title=title[:31])
        header_cells = []
        for text in headers:
            cell = WriteOnlyCell(sheet, value=text)
            cell.font = bold
            header_cells.append(cell)
        sheet.append(header_cells)
        for row in rows:
            sheet.append([_text_cell(sheet, v) for v in row])
    handle = tempfile.NamedTemporaryFile(suffix=".xlsx")  # noqa: SIM115 - sent, then closed
    workbook.save(handle)
    handle.flush()
    handle.seek(0)
    return handle
