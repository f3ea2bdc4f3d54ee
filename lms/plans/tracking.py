"""Tracking plan items against the LRS: a statement consumer (name ``plans``).

A ``completed`` statement (or one with ``result.completion`` true) about an item's
activity, by the plan's employee, marks the item done, whatever sent it: Lentera's own
course player, another platform with a client key, the offline-learning report of the
employee. Voiding that statement opens the item again. Items of plans not yet approved
are matched when the plan is approved (:func:`lms.plans.service.sync`).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from lms.db import among, get_session
from lms.plans import service
from lms.plans.models import AGREED, DevelopmentPlan, PlanItem, PlanStatus
from lms.xapi.consumers import StatementConsumer, StoredStatement
from lms.xapi.launch import outside_launch
from lms.xapi.validation.verbs import VOIDED

CONSUMER_NAME = "plans"


def _completed_activity(statement: StoredStatement) -> str | None:
    """The activity a (not voided) completion statement is about, else None."""
    data = statement.data or {}
    if statement.voided or not service.is_completion(data):
        return None
    obj = data.get("object") or {}
    if obj.get("objectType", "Activity") != "Activity" or outside_launch(data):
        return None  # (written with a launch credential about anything but its AU)
    return str(obj.get("id") or "") or None


def _open_items(activities: set[str], what: Any) -> sa.Select[Any]:
    """``what`` (the items, or a column of them) of the open items of agreed plans about
    one of ``activities``."""
    return (sa.select(what).join(DevelopmentPlan)
            .where(among(PlanItem.activity_iri, activities),
                   PlanItem.done_statement_id.is_(None),
                   DevelopmentPlan.status.in_([s.value for s in AGREED])))


class PlanTracker(StatementConsumer):
    name = CONSUMER_NAME
    shares_statements = True  # reads statements, never changes them

    def relevant(self, statements: list[StoredStatement]) -> list[StoredStatement]:
        """The statements about the activity of an open item of an agreed plan (one query
        for the batch, on the indexed activity column: nothing parsed), and the voiding
        statements. Most statements, another platform's above all, concern no plan."""
        ids = {s.activity_id for s in statements if s.activity_id and not s.voided}
        wanted = set(get_session().scalars(_open_items(ids, PlanItem.activity_iri))) \
            if ids else set()
        return [s for s in statements if s.verb_id == VOIDED or s.activity_id in wanted]

    def handle(self, statement: StoredStatement) -> None:
        self.handle_batch([statement])

    def handle_batch(self, statements: list[StoredStatement]) -> None:
        """One look for the open plan items of every completion in the batch (a quiz
        submission alone brings a completion per answered question), then the matches."""
        completions: list[tuple[StoredStatement, str]] = []
        for statement in statements:
            data = statement.data or {}
            verb = (data.get("verb") or {}).get("id")
            if verb == VOIDED:
                target = (data.get("object") or {}).get("id")
                if target:
                    self._match(completions)
                    completions = []
                    self.handle_voiding(str(target).lower(), statement)
                continue
            activity = _completed_activity(statement)
            if activity:
                completions.append((statement, activity))
        self._match(completions)

    def _match(self, completions: list[tuple[StoredStatement, str]]) -> None:
        if not completions:
            return
        session = get_session()
        open_items: dict[str, list[PlanItem]] = {}
        for item in session.scalars(
                _open_items({activity for _s, activity in completions}, PlanItem)):
            open_items.setdefault(item.activity_iri, []).append(item)
        if not open_items:
            return
        from lms.xapi.actors import user_for_actor

        for statement, activity in completions:
            items = [i for i in open_items.get(activity, []) if i.done_statement_id is None]
            if not items:
                continue
            user = user_for_actor((statement.data or {}).get("actor"))
            if user is None:
                continue
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
