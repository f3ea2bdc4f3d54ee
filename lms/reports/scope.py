"""Who may see whose records: the one place HR reporting decides it.

An HR user's scope is an org unit with its subtree: the unit stored for them in
``hr_scope`` (admins edit it at /reports/scopes), else the OPD of their current position,
else (a central HR account holding no position) the whole organisation.
A scope on the Pemda root covers the whole Pemda. Administrators, and API clients that
authenticate with a client key, see everyone. Every report, drill-down, export and API
operation of this module selects employees through :func:`scoped_employees`, which
filters on the materialised path of the org unit of each employee's *current* position
(``OrgUnit.path LIKE scope.path || '%'``), so the rule holds in the queries themselves,
not only in menus.

The report population is the active users who hold a position now; accounts without a
position (outside staff, service accounts) are not employees of any unit.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import gettext as _

from lms.db import get_session
from lms.errors import Forbidden, NotFound
from lms.people.models import (
    OrgUnit,
    OrgUnitKind,
    Position,
    PositionAssignment,
    PositionKind,
    Role,
    User,
)
from lms.reports.models import HrScope


@dataclass(frozen=True)
class Scope:
    """A subtree of the organisation (``path`` prefix); ``path`` None means everyone."""

    path: str | None
    unit: OrgUnit | None = None

    @property
    def everyone(self) -> bool:
        return self.path is None

    def covers(self, path: str | None) -> bool:
        """Whether an org unit with this materialised path lies inside the scope."""
        if self.path is None:
            return True
        return bool(path) and str(path).startswith(self.path)


EVERYONE = Scope(path=None)
#: Materialised paths are ids and slashes ("/1/4/9/"), so no unit lies under this one.
NOBODY = Scope(path="/none/")


def _opd_of(unit: OrgUnit) -> OrgUnit:
    """The OPD a unit belongs to (the unit itself when it is an OPD or the Pemda)."""
    node = unit
    while node.kind not in (OrgUnitKind.OPD, OrgUnitKind.PEMDA) and node.parent is not None:
        node = node.parent
    return node


def stored_scope_unit(user: User) -> OrgUnit | None:
    """The org unit stored for ``user`` in ``hr_scope``, if any."""
    row = get_session().get(HrScope, user.id)
    return get_session().get(OrgUnit, row.org_unit_id) if row else None


def scope_path(user: User | None) -> str | None:
    """The org-unit path prefix of ``user``'s scope (None: the whole organisation): the
    ``hr_scope`` registry's ``path``, for modules below reports (competency)."""
    return scope_for(user).path


def scope_for(user: User | None) -> Scope:
    """The scope of ``user``'s HR reporting. None (an API client key): everyone.

    Admins see everyone; HR users see their stored unit, else their position's OPD, else
    (an HR account without a position) everyone; anyone else sees nobody through this
    module (learners use their own pages).
    """
    if user is None or user.has_role(Role.ADMIN):
        return EVERYONE
    if not user.has_role(Role.HR):
        return NOBODY
    unit = stored_scope_unit(user)
    if unit is None:
        position = user.position
        if position is None:
            # A central HR account (BKPSDM staff account without a position of its own)
            # covers the organisation until an admin stores a narrower scope.
            return EVERYONE
        unit = _opd_of(position.org_unit)
    return Scope(path=unit.path, unit=unit)


def narrow(scope: Scope, unit: OrgUnit | None) -> Scope:
    """The part of ``scope`` under ``unit`` (a filter chosen on a page).

    A unit outside the scope is refused rather than silently emptied, so a tampered URL
    says what happened.
    """
    if unit is None:
        return scope
    if scope.covers(unit.path):
        return Scope(path=unit.path, unit=unit)
    if scope.path is not None and scope.path.startswith(unit.path):
        return scope  # an ancestor of the scope: the scope itself
    raise Forbidden(_("That org unit is outside your reporting scope."))


def scoped_employees(scope: Scope, kind: PositionKind | None = None) -> sa.Select:
    """Employees inside ``scope`` (optionally of one position kind): a SELECT of
    ``user_id, org_unit_id, path, position_id, kind``, for use as a subquery."""
    query = (
        sa.select(
            PositionAssignment.user_id.label("user_id"),
            OrgUnit.id.label("org_unit_id"),
            OrgUnit.path.label("path"),
            Position.id.label("position_id"),
            Position.kind.label("kind"),
        )
        .join(Position, Position.id == PositionAssignment.position_id)
        .join(OrgUnit, OrgUnit.id == Position.org_unit_id)
        .join(User, User.id == PositionAssignment.user_id)
        .where(PositionAssignment.end_date.is_(None), User.active.is_(True))
    )
    if scope.path is not None:
        query = query.where(OrgUnit.path.like(scope.path + "%"))
    if kind is not None:
        query = query.where(Position.kind == kind)
    return query


def employee_in_scope(scope: Scope, user: User) -> bool:
    """Whether ``user`` is one of the employees ``scope`` covers. A scope of everyone
    covers every account, also one without a current position (a new hire not yet
    placed, an employee between positions), whose records admins must still reach."""
    if scope.everyone:
        return True
    query = scoped_employees(scope).where(PositionAssignment.user_id == user.id)
    return get_session().execute(query.limit(1)).first() is not None


def get_employee(viewer: User | None, nip: str, *, allow_supervisor: bool = True) -> User:
    """The employee with ``nip`` if ``viewer`` may see their records, else NotFound or
    Forbidden. Employees see themselves; supervisors see the employees of the units they
    lead (profiles and transcripts, not reports)."""
    employee = get_session().scalar(sa.select(User).where(User.nip == nip))
    if employee is None:
        raise NotFound(_("No employee has NIP %(nip)s.", nip=nip))
    if viewer is not None and viewer.id == employee.id:
        return employee
    if employee_in_scope(scope_for(viewer), employee):
        return employee
    if viewer is not None and allow_supervisor:
        from lms.competency.service import is_supervisor_of

        if is_supervisor_of(viewer, employee):
            return employee
    raise Forbidden(_("This employee is outside your reporting scope."))


def may_view_employee(viewer: User | None, employee: User) -> bool:
    """Whether ``viewer`` may see ``employee``'s records, by the rule of
    :func:`get_employee`: themselves, an employee inside their scope (admins and client
    keys, ``viewer`` None, see everyone), or an employee of a unit they lead.

    For code that runs outside a request on someone's behalf (a background job building a
    certificate or transcript for its submitter)."""
    if viewer is not None and viewer.id == employee.id:
        return True
    if employee_in_scope(scope_for(viewer), employee):
        return True
    if viewer is not None:
        from lms.competency.service import is_supervisor_of

        return bool(is_supervisor_of(viewer, employee))
    return False


def set_scope(user: User, unit: OrgUnit | None) -> None:
    """Store ``unit`` as the HR scope of ``user`` (None: back to the default)."""
    session = get_session()
    row = session.get(HrScope, user.id)
    if unit is None:
        if row is not None:
            session.delete(row)
    elif row is None:
        session.add(HrScope(user_id=user.id, org_unit_id=unit.id))
    else:
        row.org_unit_id = unit.id
    session.flush()
