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
import itertools
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from flask_babel import gettext as _

from lms.reports.service import LOCAL_TZ


def record_headers() -> list[str]:
    return [_("Completed on"), _("NIP"), _("Name"), _("Org unit"), _("Position"), _("Learning"),
            _("Kind"), _("Provider"), _("JP"), _("Certificate number")]


def kind_label(kind: str) -> str:
    """The label of a kind of learning, looked up once per app context (a request or a
    job): an export asks for it on every one of 100,000s of rows, and a translation
    lookup costs far more than writing the row."""
    from flask import g

    cache = g.setdefault("_reports_kind_labels", {})
    label = cache.get(kind)
    if label is None:
        label = cache[kind] = _kind_label(kind)
    return label


def _kind_label(kind: str) -> str:
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


def export_values(rows: Iterable[Any]) -> Iterator[list[Any]]:
    """Export cells of :func:`lms.reports.service.export_rows` rows (the first column is
    already the local date): as :func:`record_values`, with each kind's label looked up
    once per export."""
    labels: dict[str, str] = {}
    for completed_on, nip, name, unit, position, title, kind, provider, jp, cert in rows:
        label = labels.get(kind)
        if label is None:
            label = labels[kind] = kind_label(kind)
        yield [completed_on, nip or "", name, unit, position, title, label, provider,
               float(jp), cert or ""]


#: A spreadsheet runs text starting with one of these as a formula (CSV injection).
_FORMULA_START = frozenset("=+-@\t\r")
_FORMULA_PREFIXES = tuple(_FORMULA_START)


def record_csv_rows(rows: Iterable[Any]) -> Iterator[tuple[Any, ...]]:
    """CSV cells of :func:`lms.reports.service.export_rows` rows, ready for
    :func:`csv_stream` with ``ready=True``: the ISO date, text a spreadsheet would run as a
    formula neutralised, each kind's label looked up once per export. Written out column
    by column: it runs for every one of 100,000s of rows."""
    labels: dict[str, str] = {}
    formula = _FORMULA_PREFIXES

    def safe(text: str | None) -> str:
        if not text:
            return ""
        return "'" + text if text.startswith(formula) else text

    for completed_on, nip, name, unit, position, title, kind, provider, jp, cert in rows:
        label = labels.get(kind)
        if label is None:
            label = labels[kind] = safe(kind_label(kind))
        yield (completed_on.isoformat(), safe(nip), safe(name), safe(unit), safe(position),
               safe(title), label, safe(provider), float(jp), safe(cert))


def csv_stream(headers: list[str], rows: Iterable[Any], chunk: int = 1000, *,
               ready: bool = False) -> Iterator[str]:
    """CSV text in pieces of ``chunk`` rows, with a BOM so spreadsheets read UTF-8.

    Dates are written in ISO form and text a spreadsheet would run as a formula gets a
    leading apostrophe. The cell loop is written out (no call per cell): it runs for
    every cell of 100,000s of rows. ``ready``: the rows are already written that way
    (:func:`record_csv_rows`), so they go to the writer a chunk at a time."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    buffer.write("\ufeff")
    writer.writerow(headers)
    if ready:
        iterator = iter(rows)
        while True:
            batch = list(itertools.islice(iterator, chunk))
            if not batch:
                break
            writer.writerows(batch)
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
        yield buffer.getvalue()
        return
    date, formula = dt.date, _FORMULA_START
    for count, row in enumerate(rows, start=1):
        writer.writerow([
            ("'" + v if v and v[0] in formula else v) if isinstance(v, str)
            else (v.isoformat() if isinstance(v, date) else v)
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


def xlsx_file(sheets: Iterable[tuple[str, list[str], Iterable[list[Any]]]],
              path: Any = None) -> Any:
    """A temporary file holding a workbook with one sheet per ``(title, headers, rows)``.

    The caller sends it and the file is removed when closed. With ``path``, the workbook
    is written there instead and ``path`` is returned.
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
    if path is not None:
        workbook.save(path)
        return path
    handle = tempfile.NamedTemporaryFile(suffix=".xlsx")  # noqa: SIM115 - sent, then closed
    workbook.save(handle)
    handle.flush()
    handle.seek(0)
    return handle


# --- AKPK workbook ---------------------------------------------------------------------------


def cost_per_jp(args: Mapping[str, str]) -> float | None:
    """The cost per JP of the ``cost`` query-string value (``150.000`` or ``150000,5``), else
    the configured default (``REPORTS_COST_PER_JP``), else None."""
    from flask import current_app

    raw = (args.get("cost", "") or "").strip().replace(".", "").replace(",", ".")
    if raw:
        from lms.errors import ValidationError

        try:
            value = float(raw)
        except ValueError:
            raise ValidationError(_("The cost per JP must be a number."), field="cost") from None
        if not 0 <= value <= 1e12:  # also NaN and infinity
            raise ValidationError(_("The cost per JP must be a number from 0 to "
                                    "1.000.000.000.000."), field="cost")
        return value
    configured = current_app.config.get("REPORTS_COST_PER_JP")
    return float(configured) if configured else None


def category_label(category: str | None) -> str:
    return {"optimal": _("Optimal"), "cukup": _("Fairly optimal"),
            "kurang": _("Less than optimal")}.get(category or "", "")


def needs_sheets(scope: Any, filters: Any, cost: float | None
                 ) -> list[tuple[str, list[str], Iterable[list[Any]]]]:
    """The sheets of the AKPK workbook: the budget plan (one chosen route per need, costed
    only where it costs money, with totals), the per-employee AKPK (needs, development
    type, route, schedule, JP, cost) as BKPSDM reports it upward, needs by competency,
    gaps by org unit and the job-person match (the last two streamed; the match last)."""
    from lms.reports import needs, service

    items = needs.needs(scope, filters)
    heat = service.gap_heatmap(scope, filters)
    lines, totals = needs.budget_plan(scope, filters, cost)
    plan: list[list[Any]] = []
    for line in lines:
        route = line.route
        plan.append([line.competency.code, line.competency.name, line.required, line.employees,
                     needs.development_type(route.kind) if route else "",
                     kind_label(route.kind) if route else "",
                     route.title if route else _("No route yet"),
                     route.provider if route else "", route.schedule if route else "",
                     route.jp if route else None, line.rate, line.cost_per_participant,
                     line.jp_total if route else None, line.cost])
    plan.append([_("Total"), _("%(n)d needs of %(employees)d employees", n=totals.needs,
                                employees=totals.employees), None, totals.participations,
                 "", "", "", "", "", None, None, None, totals.jp, totals.cost])
    if totals.unpriced:
        plan.append(["", _("%(n)d needs have no cost yet: no route, or no cost per JP for "
                           "their route.", n=totals.unpriced)] + [None] * 12)
    per_need = [[n.competency.code, n.competency.name, n.employees, round(n.average_gap, 2),
                 n.target_employees] for n in items]
    per_unit = [[u.name, heat.unit_totals.get(u.id, 0)]
                + [heat.cells.get((u.id, c.id), 0) for c in heat.competencies]
                for u in heat.units]

    def match_values(match: Any) -> list[Any]:
        return [match.nip or "", match.name, match.unit, match.position, match.jpm,
                category_label(match.category), match.gaps, match.target_position or ""]

    matches = (match_values(needs.to_match(r)) for r in service.iter_rows(
        needs.match_query(scope, filters)))
    per_employee = needs.employee_plan_rows(scope, filters, cost, kind_label)
    return [
        (_("Budget plan"), [_("Code"), _("Competency"), _("Required level"), _("Employees"),
                            _("Development type"), _("Route"), _("Title"), _("Provider"),
                            _("Schedule"), _("JP per participant"), _("Cost per JP (Rp)"),
                            _("Cost per participant (Rp)"), _("JP in all"),
                            _("Cost (Rp)")], plan),
        (_("AKPK per employee"), [_("NIP"), _("Name"), _("Org unit"), _("Position"), _("Code"),
                                  _("Competency"), _("Current level"), _("Required level"),
                                  _("Standard of"), _("Development type"), _("Route"),
                                  _("Title"), _("Provider"), _("Schedule"), _("JP"),
                                  _("Cost (Rp)")], per_employee),
        (_("Needs by competency"), [_("Code"), _("Competency"), _("Employees below standard"),
                                    _("Average gap (levels)"),
                                    _("Employees below target position")], per_need),
        (_("Gaps by org unit"), [_("Org unit"), _("Employees")]
         + [c.code for c in heat.competencies], per_unit),
        (_("Job-person match"), [_("NIP"), _("Name"), _("Org unit"), _("Position"),
                                 _("Job-person match (%)"), _("Category"), _("Gaps"),
                                 _("Target position")], matches),
    ]
