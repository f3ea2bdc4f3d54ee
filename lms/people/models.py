"""People and organisation: users, roles, org units (a tree) and positions (jabatan)."""

from __future__ import annotations

import datetime as dt
import enum

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from flask_login import UserMixin
from sqlalchemy import orm
from sqlalchemy.orm import Mapped, mapped_column

from lms.db import Model, utcnow


class Role(enum.StrEnum):
    """What a user may do. A user can hold several roles."""

    LEARNER = "learner"
    TRAINER = "trainer"
    HR = "hr"
    ADMIN = "admin"

    @property
    def label(self) -> str:
        return str(ROLE_LABELS[self])


ROLE_LABELS = {
    Role.LEARNER: _l("Learner"),
    Role.TRAINER: _l("Trainer"),
    Role.HR: _l("HR"),
    Role.ADMIN: _l("Administrator"),
}


class OrgUnitKind(enum.StrEnum):
    """Levels of a regional government's organisation tree."""

    PEMDA = "pemda"  # the regional government itself
    OPD = "opd"  # Organisasi Perangkat Daerah: dinas, badan, sekretariat...
    BIDANG = "bidang"  # bidang / bagian
    SEKSI = "seksi"  # seksi / subbagian

    @property
    def label(self) -> str:
        return str(ORG_UNIT_KIND_LABELS[self])


ORG_UNIT_KIND_LABELS = {
    OrgUnitKind.PEMDA: _l("Regional government (Pemda)"),
    OrgUnitKind.OPD: _l("Agency (OPD)"),
    OrgUnitKind.BIDANG: _l("Division (bidang/bagian)"),
    OrgUnitKind.SEKSI: _l("Section (seksi/subbagian)"),
}

#: The kind a child unit has under a parent of each kind.
CHILD_KIND = {
    None: OrgUnitKind.PEMDA,
    OrgUnitKind.PEMDA: OrgUnitKind.OPD,
    OrgUnitKind.OPD: OrgUnitKind.BIDANG,
    OrgUnitKind.BIDANG: OrgUnitKind.SEKSI,
    OrgUnitKind.SEKSI: None,
}


class PositionKind(enum.StrEnum):
    """Kinds of position (jenis jabatan), UU 20/2023."""

    JPT = "jpt"  # Jabatan Pimpinan Tinggi
    ADMINISTRATOR = "administrator"
    PENGAWAS = "pengawas"
    PELAKSANA = "pelaksana"
    FUNGSIONAL = "fungsional"

    @property
    def label(self) -> str:
        return str(POSITION_KIND_LABELS[self])


POSITION_KIND_LABELS = {
    PositionKind.JPT: _l("Senior executive (JPT)"),
    PositionKind.ADMINISTRATOR: _l("Administrator"),
    PositionKind.PENGAWAS: _l("Supervisor (pengawas)"),
    PositionKind.PELAKSANA: _l("Implementer (pelaksana)"),
    PositionKind.FUNGSIONAL: _l("Functional (fungsional)"),
}

#: Managerial kinds: holders lead the unit their position belongs to.
MANAGERIAL_KINDS = frozenset({PositionKind.JPT, PositionKind.ADMINISTRATOR, PositionKind.PENGAWAS})


class OrgUnit(Model):
    """A unit of the organisation tree: Pemda > OPD > bidang/bagian > seksi/subbagian.

    ``path`` is the materialised path of ids (``/1/4/9/``), so a subtree is one indexed
    prefix query: HR scoping and reports filter on it.
    """

    __tablename__ = "org_unit"

    id: Mapped[int] = mapped_column(primary_key=True)
    parent_id: Mapped[int | None] = mapped_column(sa.ForeignKey("org_unit.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    code: Mapped[str | None] = mapped_column(sa.String(50), unique=True)
    kind: Mapped[OrgUnitKind] = mapped_column(
        sa.Enum(
            OrgUnitKind,
            native_enum=False,
            length=20,
            values_callable=lambda e: [m.value for m in e],
        )
    )
    path: Mapped[str] = mapped_column(sa.String(500), default="", index=True)

    parent: Mapped[OrgUnit | None] = orm.relationship(remote_side=[id], back_populates="children")
    children: Mapped[list[OrgUnit]] = orm.relationship(
        back_populates="parent", order_by="OrgUnit.name"
    )
    positions: Mapped[list[Position]] = orm.relationship(
        back_populates="org_unit", order_by="Position.name"
    )

    __table_args__ = (sa.UniqueConstraint("parent_id", "name"),)

    @property
    def depth(self) -> int:
        return self.path.count("/") - 2 if self.path else 0

    def __repr__(self) -> str:
        return f"<OrgUnit {self.id} {self.name!r}>"


class Position(Model):
    """A position (jabatan) in an org unit, e.g. "Analis Kebijakan Ahli Muda"."""

    __tablename__ = "position"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    kind: Mapped[PositionKind] = mapped_column(
        sa.Enum(
            PositionKind,
            native_enum=False,
            length=20,
            values_callable=lambda e: [m.value for m in e],
        )
    )
    # Grade within the kind where it matters: "Ahli Muda", "Pratama", "Terampil"...
    grade: Mapped[str | None] = mapped_column(sa.String(50))
    org_unit_id: Mapped[int] = mapped_column(sa.ForeignKey("org_unit.id"), index=True)

    org_unit: Mapped[OrgUnit] = orm.relationship(back_populates="positions")

    __table_args__ = (sa.UniqueConstraint("org_unit_id", "name"),)

    def __repr__(self) -> str:
        return f"<Position {self.id} {self.name!r}>"


class User(UserMixin, Model):
    """A person who signs in: an ASN employee (with NIP) or a staff account."""

    __tablename__ = "user"

    id: Mapped[int] = mapped_column(primary_key=True)
    nip: Mapped[str | None] = mapped_column(sa.String(18), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    email: Mapped[str | None] = mapped_column(sa.String(254), unique=True)
    password_hash: Mapped[str | None] = mapped_column(sa.String(255))
    active: Mapped[bool] = mapped_column(default=True)
    locale: Mapped[str | None] = mapped_column(sa.String(10))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[dt.datetime | None]
    # Rotated on password change so other sessions of this user end (Flask-Login id).
    session_token: Mapped[str] = mapped_column(sa.String(32))

    role_rows: Mapped[list[UserRole]] = orm.relationship(
        back_populates="user", cascade="all, delete-orphan", lazy="selectin"
    )
    assignments: Mapped[list[PositionAssignment]] = orm.relationship(
        back_populates="user",
        cascade="all, delete-orphan",
        order_by="PositionAssignment.start_date.desc()",
    )

    def get_id(self) -> str:
        return f"{self.id}:{self.session_token}"

    @property
    def is_active(self) -> bool:  # type: ignore[override]
        return self.active

    @property
    def roles(self) -> set[Role]:
        return {row.role for row in self.role_rows}

    def has_role(self, *roles: Role | str) -> bool:
        mine = self.roles
        return any(Role(r) in mine for r in roles)

    @property
    def current_assignment(self) -> PositionAssignment | None:
        for assignment in self.assignments:
            if assignment.end_date is None:
                return assignment
        return None

    @property
    def position(self) -> Position | None:
        assignment = self.current_assignment
        return assignment.position if assignment else None

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email or self.nip}>"


class UserRole(Model):
    """One role held by one user."""

    __tablename__ = "user_role"

    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("user.id", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[Role] = mapped_column(
        sa.Enum(Role, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e]),
        primary_key=True,
    )

    user: Mapped[User] = orm.relationship(back_populates="role_rows")


class PositionAssignment(Model):
    """A user holding a position from ``start_date`` until ``end_date`` (open: current)."""

    __tablename__ = "position_assignment"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"), index=True)
    position_id: Mapped[int] = mapped_column(sa.ForeignKey("position.id"), index=True)
    start_date: Mapped[dt.date] = mapped_column(sa.Date)
    end_date: Mapped[dt.date | None] = mapped_column(sa.Date)

    user: Mapped[User] = orm.relationship(back_populates="assignments")
    position: Mapped[Position] = orm.relationship(lazy="joined")


class AccountToken(Model):
    """A one-time link to set a password: an invitation or a password reset.

    Only the SHA-256 of the random token is stored (the link carries the token itself),
    so a copy of the database cannot be used to take over an account. A token is used
    once and expires; issuing a new one for the same purpose retires the old ones."""

    __tablename__ = "account_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"),
                                         index=True)
    #: "invite" or "reset".
    purpose: Mapped[str] = mapped_column(sa.String(10))
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime]
    used_at: Mapped[dt.datetime | None]
