"""Tables of individual development plans (rencana pengembangan kompetensi individu).

A plan belongs to one employee for one year and moves draft -> submitted -> approved (by
the supervisor, or returned with a comment and edited again) -> in progress -> done. Its
items are Lentera courses or other routes (classroom training, coaching, mentoring,
secondment...). An item is done when the LRS holds the employee's completion of its
activity (see :mod:`lms.plans.tracking`), so progress is what the statements say.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy import orm
from sqlalchemy.orm import Mapped, mapped_column

from lms.db import Model, UTCDateTime, utcnow
from lms.people.models import User


class PlanStatus(enum.StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    RETURNED = "returned"
    APPROVED = "approved"
    IN_PROGRESS = "in_progress"
    DONE = "done"

    @property
    def label(self) -> str:
        return str(STATUS_LABELS[self])


STATUS_LABELS = {
    PlanStatus.DRAFT: _l("Draft"),
    PlanStatus.SUBMITTED: _l("Submitted"),
    PlanStatus.RETURNED: _l("Returned"),
    PlanStatus.APPROVED: _l("Approved"),
    PlanStatus.IN_PROGRESS: _l("In progress"),
    PlanStatus.DONE: _l("Done"),
}
#: Plans the employee may still edit.
EDITABLE = frozenset({PlanStatus.DRAFT, PlanStatus.RETURNED})
#: Plans the organisation plan counts (agreed with the supervisor).
AGREED = frozenset({PlanStatus.APPROVED, PlanStatus.IN_PROGRESS, PlanStatus.DONE})


def _enum(cls: type[enum.Enum]) -> sa.Enum:
    return sa.Enum(cls, native_enum=False, length=20,
                   values_callable=lambda e: [m.value for m in e])


class DevelopmentPlan(Model):
    __tablename__ = "development_plan"

    id: Mapped[int] = mapped_column(primary_key=True)
    employee_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"),
                                             index=True)
    year: Mapped[int]
    status: Mapped[PlanStatus] = mapped_column(_enum(PlanStatus), default=PlanStatus.DRAFT)
    #: The supervisor's comment when returning the plan (kept until the next decision).
    comment: Mapped[str] = mapped_column(sa.Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    submitted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    decided_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user.id", ondelete="SET NULL"))
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    completed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    employee: Mapped[User] = orm.relationship(foreign_keys=[employee_id], lazy="joined")
    decided_by: Mapped[User | None] = orm.relationship(foreign_keys=[decided_by_id])
    items: Mapped[list[PlanItem]] = orm.relationship(
        back_populates="plan", order_by="PlanItem.start_date, PlanItem.id",
        cascade="all, delete-orphan", lazy="selectin")

    __table_args__ = (sa.UniqueConstraint("employee_id", "year"),)

    @property
    def total_jp(self) -> float:
        return sum(item.jp for item in self.items)

    @property
    def done_count(self) -> int:
        return sum(1 for item in self.items if item.done)


class PlanItem(Model):
    __tablename__ = "development_plan_item"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(
        sa.ForeignKey("development_plan.id", ondelete="CASCADE"), index=True)
    competency_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("competency.id", ondelete="SET NULL"))
    #: The level the item should bring the employee to.
    target_level: Mapped[int] = mapped_column(default=1)
    #: "course" (a Lentera course) or a route kind of lms.reports (classroom, coaching...).
    kind: Mapped[str] = mapped_column(sa.String(20))
    title: Mapped[str] = mapped_column(sa.String(300))
    provider: Mapped[str] = mapped_column(sa.String(300), default="")
    #: The activity whose completion in the LRS marks the item done: the course's IRI,
    #: or ``<LMS_BASE_URL>/plans/items/<uuid>`` for other routes.
    activity_iri: Mapped[str] = mapped_column(sa.String(2048), index=True)
    course_slug: Mapped[str | None] = mapped_column(sa.String(200))
    jp: Mapped[float] = mapped_column(sa.Float, default=0)
    #: Rupiah per JP; None: the REPORTS_COST_PER_JP setting applies.
    cost_per_jp: Mapped[float | None] = mapped_column(sa.Float)
    start_date: Mapped[dt.date] = mapped_column(sa.Date)
    end_date: Mapped[dt.date] = mapped_column(sa.Date)
    done_statement_id: Mapped[str | None] = mapped_column(sa.String(36), index=True)
    done_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    plan: Mapped[DevelopmentPlan] = orm.relationship(back_populates="items")
    competency: Mapped[Any] = orm.relationship("Competency", lazy="joined")

    @property
    def done(self) -> bool:
        return self.done_statement_id is not None
