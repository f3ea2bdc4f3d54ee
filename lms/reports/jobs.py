"""HR exports as background jobs (:mod:`lms.tasks`): the completion records as CSV or
XLSX and the AKPK workbook, for exports too big to wait for on a page.

A job carries the page's query-string arguments, never a scope: the function resolves
the scope of the job's owner when it runs (:func:`lms.reports.scope.scope_for`), so the
file holds exactly what its owner may see then, as the streamed download would. The job
system lets only the owner (and admins) poll and download it. The kinds are declared in
the ``lms.jobs`` entry-point group (pyproject.toml) like every other job kind.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from flask_babel import gettext as _

from lms.jobs.models import Job
from lms.jobs.service import JobError

COMPLETIONS = "reports.completions"
NEEDS = "reports.needs"
FORMATS = ("csv", "xlsx")


def _owner_scope(job: Job) -> Any:
    from lms.db import get_session
    from lms.people.models import Role, User
    from lms.reports.scope import scope_for

    owner = get_session().get(User, job.owner_id) if job.owner_id else None
    if owner is None or not owner.active or not owner.has_role(Role.HR, Role.ADMIN):
        raise JobError(_("Only HR users and administrators can export reports."))
    return scope_for(owner)


class _Args(dict[str, str]):
    """Query-string arguments kept in a job (``args.get`` like ``request.args``)."""


def _counted(rows: Iterable[Any], total: int, progress: Any, start: float = 0,
             span: float = 95) -> Iterator[Any]:
    for done, row in enumerate(rows, start=1):
        if done % 1000 == 0 and total:
            progress(start + span * min(done, total) / total, f"{done:,} / {total:,}")
        yield row


def completions_job(job: Job, params: dict[str, Any], progress: Any) -> Any:
    """``{"format": "csv"|"xlsx", "args": {...}}``: the completion records of the owner's
    scope with the page's filters, search and sort."""
    from lms.errors import LmsError
    from lms.reports import exports, service

    fmt = params.get("format")
    if fmt not in FORMATS:
        raise JobError(_("Choose CSV or XLSX."))
    scope = _owner_scope(job)
    try:
        query, _filters, _state = service.records_from_args(
            scope, _Args({k: str(v) for k, v in (params.get("args") or {}).items()}))
    except LmsError as exc:
        raise JobError(exc.message) from None
    total = service.count_rows(query)
    progress(1, f"0 / {total:,}")
    if fmt == "csv":
        rows = _counted(exports.record_csv_rows(service.export_rows(query)), total, progress)
        out = job.output("rekap-penyelesaian.csv")
        with out.open("w", encoding="utf-8", newline="") as handle:
            for piece in exports.csv_stream(exports.record_headers(), rows, ready=True):
                handle.write(piece)
        return out
    rows = _counted(exports.export_values(service.export_rows(query)), total, progress)
    return exports.xlsx_file([(_("Completions"), exports.record_headers(), rows)],
                             path=job.output("rekap-penyelesaian.xlsx"))


def needs_job(job: Job, params: dict[str, Any], progress: Any) -> Any:
    """``{"args": {...}}``: the AKPK workbook of the owner's scope and the page's filters
    (``cost`` included)."""
    from lms.errors import LmsError
    from lms.reports import exports, needs, service

    scope = _owner_scope(job)
    args = _Args({k: str(v) for k, v in (params.get("args") or {}).items()})
    try:
        filters = service.parse_filters(args, scope)
        cost = exports.cost_per_jp(args)
        progress(1, _("Counting needs…"))
        sheets = exports.needs_sheets(scope, filters, cost)
    except LmsError as exc:
        raise JobError(exc.message) from None
    total = service.count_rows(needs.match_query(scope, filters))
    progress(10, f"0 / {total:,}")
    title, headers, rows = sheets[-1]
    sheets[-1] = (title, headers, _counted(rows, total, progress, start=10, span=85))
    return exports.xlsx_file(sheets, path=job.output(f"akpk-{filters.year}.xlsx"))

