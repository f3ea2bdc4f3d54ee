"""Operations on people and the organisation. Plain values in, models out; flush, never commit."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterable

import email_validator
import sqlalchemy as sa
from email_validator import EmailNotValidError, validate_email
from flask import current_app
from flask_babel import gettext as _
from werkzeug.security import check_password_hash, generate_password_hash

from lms import signals
from lms.db import get_session, utcnow
from lms.errors import Conflict, ValidationError
from lms.people.models import (
    CHILD_KIND,
    OrgUnit,
    OrgUnitKind,
    Position,
    PositionAssignment,
    PositionKind,
    Role,
    User,
    UserRole,
)
from lms.people.nip import parse_nip

MIN_PASSWORD_LENGTH = 10

# Government intranets often run mail under internal ".local" domains (and the demo
# accounts use one), so that special-use name is accepted; the library documents removing
# names from this list as the way to allow them.
if "local" in email_validator.SPECIAL_USE_DOMAIN_NAMES:
    email_validator.SPECIAL_USE_DOMAIN_NAMES.remove("local")

# A hash that never matches, compared against when a user is unknown, so that sign-in
# takes the same time whether or not the account exists.
_DUMMY_HASH: dict[str, str] = {}


# --- passwords -------------------------------------------------------------------------


def hash_password(password: str) -> str:
    """Hash ``password`` with the configured slow hash (scrypt by default)."""
    return generate_password_hash(password, method=current_app.config["PASSWORD_HASH_METHOD"])


def check_password_strength(password: str) -> None:
    """Raise ValidationError when ``password`` is too weak to accept."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationError(
            _("The password must have at least %(n)d characters.", n=MIN_PASSWORD_LENGTH),
            field="password",
        )
    if password.isdigit() or password.isalpha():
        raise ValidationError(
            _("The password must mix letters with digits or symbols."), field="password"
        )


def set_password(user: User, password: str) -> None:
    """Give ``user`` a new password and end their other sessions."""
    check_password_strength(password)
    user.password_hash = hash_password(password)
    end_sessions(user)


def end_sessions(user: User) -> None:
    """End every session of ``user`` on the server: each session cookie and remember-me
    cookie names the user's session token, which changes here, so none of them signs in
    again (sign-out, password change). Flushes; the caller commits."""
    user.session_token = secrets.token_hex(16)
    get_session().flush()


def change_password(user: User, current: str, new: str) -> None:
    """Change a user's own password after checking the current one."""
    if not user.password_hash or not check_password_hash(user.password_hash, current):
        raise ValidationError(_("The current password is not correct."), field="current_password")
    if current == new:
        raise ValidationError(
            _("The new password must differ from the current one."), field="new_password"
        )
    set_password(user, new)


# --- users -----------------------------------------------------------------------------


def _email_problem(email: str) -> str:
    """What is wrong with an address email-validator refused, in the UI language (its own
    messages are English)."""
    local, _at, domain = email.rpartition("@")
    if "@" not in email:
        return _("it has no @ sign")
    if email.count("@") > 1:
        return _("it has more than one @ sign")
    if any(ch.isspace() for ch in email):
        return _("it contains a space")
    if not local:
        return _("nothing stands before the @ sign")
    if "." not in domain or domain.startswith(".") or domain.endswith("."):
        return _("after the @ sign comes a domain name, such as bkpsdm.go.id")
    if ".." in email:
        return _("it has two dots in a row")
    return _("it contains a character an address cannot have; write it as name@agency.go.id")


def normalize_email(email: str | None) -> str | None:
    """Validate and normalise an e-mail address (lower-cased); None when empty."""
    email = (email or "").strip()
    if not email:
        return None
    try:
        # Deliverability needs DNS, which government networks may block: check syntax only.
        info = validate_email(email, check_deliverability=False)
    except EmailNotValidError:
        raise ValidationError(
            _("%(email)s is not a valid e-mail address: %(reason)s", email=email,
              reason=_email_problem(email)),
            field="email",
        ) from None
    return info.normalized.lower()


def find_user(identifier: str) -> User | None:
    """Find a user by NIP or e-mail address (what people type on the sign-in page)."""
    identifier = (identifier or "").strip()
    if not identifier:
        return None
    session = get_session()
    if "@" in identifier:
        return session.scalar(sa.select(User).where(User.email == identifier.lower()))
    digits = "".join(ch for ch in identifier if ch.isdigit())
    return session.scalar(sa.select(User).where(User.nip == digits)) if digits else None


def authenticate(identifier: str, password: str) -> User | None:
    """The active user with this NIP or e-mail and password, else None."""
    user = find_user(identifier)
    if user is None or not user.password_hash:
        # Spend the same time as a real check so timing does not reveal accounts.
        method = current_app.config["PASSWORD_HASH_METHOD"]
        if method not in _DUMMY_HASH:
            _DUMMY_HASH[method] = generate_password_hash(secrets.token_hex(8), method=method)
        check_password_hash(_DUMMY_HASH[method], password)
        return None
    if not check_password_hash(user.password_hash, password) or not user.active:
        return None
    user.last_login_at = utcnow()
    get_session().flush()
    return user


def create_user(
    *,
    name: str,
    email: str | None = None,
    nip: str | None = None,
    password: str | None = None,
    roles: Iterable[Role | str] = (Role.LEARNER,),
    password_hash: str | None = None,
) -> User:
    """Create a user. Either an e-mail or a NIP is required (they sign in with it)."""
    name = (name or "").strip()
    if not name:
        raise ValidationError(_("Name is required."), field="name")
    email = normalize_email(email)
    nip_value = parse_nip(nip).value if nip else None
    if not email and not nip_value:
        raise ValidationError(_("Give an e-mail address or a NIP."), field="email")
    _check_unique(email=email, nip=nip_value)
    user = User(
        name=name,
        email=email,
        nip=nip_value,
        session_token=secrets.token_hex(16),
        password_hash=password_hash,
    )
    if password:
        check_password_strength(password)
        user.password_hash = hash_password(password)
    user.role_rows = [UserRole(role=Role(r)) for r in sorted({Role(r) for r in roles})]
    session = get_session()
    session.add(user)
    session.flush()
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    signals.user_created.send(app, user=user)
    return user


def update_user(
    user: User,
    *,
    name: str,
    email: str | None,
    nip: str | None,
    roles: Iterable[Role | str],
    active: bool,
) -> User:
    """Change a user's details and roles."""
    name = (name or "").strip()
    if not name:
        raise ValidationError(_("Name is required."), field="name")
    email = normalize_email(email)
    nip_value = parse_nip(nip).value if nip else None
    if not email and not nip_value:
        raise ValidationError(_("Give an e-mail address or a NIP."), field="email")
    _check_unique(email=email, nip=nip_value, exclude_id=user.id)
    user.name, user.email, user.nip, user.active = name, email, nip_value, active
    set_roles(user, roles)
    get_session().flush()
    return user


def set_roles(user: User, roles: Iterable[Role | str]) -> None:
    """Replace a user's roles."""
    wanted = {Role(r) for r in roles}
    user.role_rows = [row for row in user.role_rows if row.role in wanted] + [
        UserRole(role=r) for r in sorted(wanted - user.roles)
    ]


def _check_unique(*, email: str | None, nip: str | None, exclude_id: int | None = None) -> None:
    session = get_session()
    if email:
        query = sa.select(User.id).where(User.email == email)
        if exclude_id:
            query = query.where(User.id != exclude_id)
        if session.scalar(query):
            raise Conflict(
                _("Another user already has e-mail %(email)s.", email=email), field="email"
            )
    if nip:
        query = sa.select(User.id).where(User.nip == nip)
        if exclude_id:
            query = query.where(User.id != exclude_id)
        if session.scalar(query):
            raise Conflict(_("Another user already has NIP %(nip)s.", nip=nip), field="nip")


def assign_position(user: User, position: Position | None, start: dt.date | None = None) -> None:
    """Make ``position`` the user's current position (None: no position), keeping history."""
    start = start or dt.date.today()
    current = user.current_assignment
    if current is not None and position is not None and current.position_id == position.id:
        return
    if current is not None:
        current.end_date = start
    if position is not None:
        user.assignments.insert(0, PositionAssignment(position=position, start_date=start))
    get_session().flush()
    signals.position_changed.send(current_app._get_current_object(),  # type: ignore[attr-defined]
                                  user=user)


# --- organisation ----------------------------------------------------------------------


def create_org_unit(
    name: str,
    parent: OrgUnit | None = None,
    code: str | None = None,
    kind: OrgUnitKind | None = None,
) -> OrgUnit:
    """Create an org unit under ``parent`` (None: a new Pemda at the root)."""
    name = " ".join((name or "").split())
    if not name:
        raise ValidationError(_("Name is required."), field="name")
    if "/" in name:
        raise ValidationError(_("A unit name cannot contain '/'."), field="name")
    expected = CHILD_KIND[parent.kind if parent else None]
    if expected is None:
        raise ValidationError(
            _("A section (seksi/subbagian) is the lowest level and cannot have sub-units."),
            field="parent",
        )
    session = get_session()
    siblings = sa.select(OrgUnit.id).where(
        OrgUnit.name == name,
        OrgUnit.parent_id == parent.id if parent else OrgUnit.parent_id.is_(None),
    )
    if session.scalar(siblings):
        raise Conflict(_("A unit named %(name)s already exists there.", name=name), field="name")
    if code:
        code = code.strip()
        if session.scalar(sa.select(OrgUnit.id).where(OrgUnit.code == code)):
            raise Conflict(_("Another unit already has code %(code)s.", code=code), field="code")
    unit = OrgUnit(name=name, parent=parent, code=code or None, kind=kind or expected)
    session.add(unit)
    session.flush()
    unit.path = f"{parent.path if parent else '/'}{unit.id}/"
    session.flush()
    return unit


def rename_org_unit(unit: OrgUnit, name: str, code: str | None) -> OrgUnit:
    """Change a unit's name and code."""
    name = " ".join((name or "").split())
    if not name:
        raise ValidationError(_("Name is required."), field="name")
    if "/" in name:
        raise ValidationError(_("A unit name cannot contain '/'."), field="name")
    session = get_session()
    clash = session.scalar(
        sa.select(OrgUnit.id).where(
            OrgUnit.name == name,
            OrgUnit.id != unit.id,
            OrgUnit.parent_id == unit.parent_id if unit.parent_id else OrgUnit.parent_id.is_(None),
        )
    )
    if clash:
        raise Conflict(_("A unit named %(name)s already exists there.", name=name), field="name")
    code = (code or "").strip() or None
    if code and session.scalar(
        sa.select(OrgUnit.id).where(OrgUnit.code == code, OrgUnit.id != unit.id)
    ):
        raise Conflict(_("Another unit already has code %(code)s.", code=code), field="code")
    unit.name, unit.code = name, code
    session.flush()
    return unit


def delete_org_unit(unit: OrgUnit) -> None:
    """Delete an empty org unit (no sub-units and no positions)."""
    if unit.children or unit.positions:
        raise Conflict(
            _(
                "%(name)s still has sub-units or positions; move or delete them first.",
                name=unit.name,
            )
        )
    session = get_session()
    session.delete(unit)
    session.flush()


def org_unit_path_names(unit: OrgUnit) -> list[str]:
    """Names from the root down to ``unit``: one query through the materialised path."""
    ids = [int(part) for part in (unit.path or "").strip("/").split("/") if part.isdigit()]
    if ids and ids[-1] == unit.id:
        names_by_id = dict(get_session().execute(
            sa.select(OrgUnit.id, OrgUnit.name).where(OrgUnit.id.in_(ids))).all())
        if len(names_by_id) == len(ids):
            return [names_by_id[i] for i in ids]
    names: list[str] = []  # a path not yet written (a unit being created): walk up
    node: OrgUnit | None = unit
    while node is not None:
        names.append(node.name)
        node = node.parent
    return names[::-1]


def org_tree() -> list[OrgUnit]:
    """All org units in tree order (depth-first, by name), for lists and select boxes."""
    units = get_session().scalars(sa.select(OrgUnit)).all()
    children: dict[int | None, list[OrgUnit]] = {}
    for unit in units:
        children.setdefault(unit.parent_id, []).append(unit)
    ordered: list[OrgUnit] = []

    def walk(parent_id: int | None) -> None:
        for unit in sorted(children.get(parent_id, []), key=lambda u: u.name.lower()):
            ordered.append(unit)
            walk(unit.id)

    walk(None)
    return ordered


def create_position(
    name: str, kind: PositionKind | str, org_unit: OrgUnit, grade: str | None = None
) -> Position:
    """Create a position (jabatan) in ``org_unit``."""
    name = " ".join((name or "").split())
    if not name:
        raise ValidationError(_("Name is required."), field="name")
    try:
        kind = PositionKind(kind)
    except ValueError:
        raise ValidationError(
            _("Unknown position kind %(kind)s.", kind=kind), field="kind"
        ) from None
    session = get_session()
    if session.scalar(
        sa.select(Position.id).where(Position.org_unit_id == org_unit.id, Position.name == name)
    ):
        raise Conflict(
            _("%(unit)s already has a position named %(name)s.", unit=org_unit.name, name=name),
            field="name",
        )
    position = Position(
        name=name, kind=kind, org_unit=org_unit, grade=(grade or "").strip() or None
    )
    session.add(position)
    session.flush()
    return position


def update_position(
    position: Position, name: str, kind: PositionKind | str, org_unit: OrgUnit, grade: str | None
) -> Position:
    """Change a position's name, kind, grade or unit."""
    name = " ".join((name or "").split())
    if not name:
        raise ValidationError(_("Name is required."), field="name")
    session = get_session()
    if session.scalar(
        sa.select(Position.id).where(
            Position.org_unit_id == org_unit.id, Position.name == name, Position.id != position.id
        )
    ):
        raise Conflict(
            _("%(unit)s already has a position named %(name)s.", unit=org_unit.name, name=name),
            field="name",
        )
    position.name, position.kind, position.org_unit = name, PositionKind(kind), org_unit
    position.grade = (grade or "").strip() or None
    session.flush()
    return position


def delete_position(position: Position) -> None:
    """Delete a position nobody has ever held."""
    session = get_session()
    held = session.scalar(
        sa.select(sa.func.count()).where(PositionAssignment.position_id == position.id)
    )
    if held:
        raise Conflict(
            _(
                "%(name)s has been held by %(n)d employee(s) and cannot be deleted.",
                name=position.name,
                n=held,
            )
        )
    session.delete(position)
    session.flush()
