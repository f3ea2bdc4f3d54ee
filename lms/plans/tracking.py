"""Tracking plan items against the LRS: a statement consumer (name ``plans``).

A ``completed`` statement (or one with ``result.completion`` true) about an item's
activity, by the plan's employee, marks the item done, whatever sent it: Lentera's own
course player, another platform with a client key, the offline-learning report of the
employee. Voiding that statement opens the item again. Items of plans not yet approved
are matched when the plan is approved (:func:`lms.plans.service.sync`).
"""

from __future__ import annotations

import sqlalchemy as sa

from lms.db import get_session
from lms.plans import service
from lms.plans.models import AGREED, DevelopmentPlan, PlanItem, PlanStatus
from lms.xapi.consumers import StatementConsumer, StoredStatement

CONSUMER_NAME = "plans"


class PlanTracker(StatementConsumer):
    name = CONSUMER_NAME

    def handle(self, statement: StoredStatement) -> None:
        data = statement.data or {}
        if statement.voided or not service.is_completion(data):
            return
        activity = (data.get("object") or {}).get("id")
        if not activity or (data.get("object") or {}).get("objectType", "Activity") != "Activity":
            return
        session = get_session()
        items = list(session.scalars(
            sa.select(PlanItem).join(DevelopmentPlan)
            .where(PlanItem.activity_iri == activity, PlanItem.done_statement_id.is_(None),
                   DevelopmentPlan.status.in_([s.value for s in AGREED]))))
        if not items:
            return
        from lms.people.actors import user_for_actor

        user = user_for_actor(data.get("actor"))
        if user is None:
            return
        for item in items:
            if item.plan.employee_id == user.id:
                service.mark_done(item, statement.id, statement.stored)
        session.flush()

    def handle_voiding(self, voided_id: str, voiding: StoredStatement) -> None:
        session = get_session()
        for item in session.scalars(sa.select(PlanItem).where(
                PlanItem.done_statement_id == voided_id)):
            item.done_statement_id, item.done_at = None, None
            plan = item.plan
            if plan.status == PlanStatus.DONE:
                plan.status, plan.completed_at = PlanStatus.IN_PROGRESS, None
        session.flush()

    def reset(self) -> None:
        """Before a replay: open every item again (the replay marks them anew)."""
        session = get_session()
        session.execute(sa.update(PlanItem).values(done_statement_id=None, done_at=None))
        session.execute(sa.update(DevelopmentPlan)
                        .where(DevelopmentPlan.status == PlanStatus.DONE.value)
                        .values(status=PlanStatus.IN_PROGRESS.value, completed_at=None))
        session.flush()
