"""E-mails of the plan workflow, through the outbox of :mod:`lms.mail` (the caller's
transaction commits them): a submitted plan to the employee's nearest supervisors, the
decision (approved, or returned with the comment) to the employee. Each is written in the
recipient's language and links to the plan."""

from __future__ import annotations

from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from lms.competency import service as competency
from lms.mail import absolute_url, queue_mail, recipient_locale, register_category
from lms.people.models import User
from lms.plans.models import DevelopmentPlan, PlanStatus

SUBMITTED = "plans.submitted"
DECIDED = "plans.decided"


def register() -> None:
    register_category(SUBMITTED, _l("A development plan waits for your approval"),
                      _l("Supervisors"),
                      description=_l("When an employee you supervise submits their "
                                     "development plan."),
                      applies=lambda user: bool(competency.subordinates(user, limit=1)))
    register_category(DECIDED, _l("Your development plan was approved or returned"),
                      _l("Employees"),
                      description=_l("When your supervisor decides on the plan you "
                                     "submitted."))


def nearest_supervisors(employee: User) -> list[User]:
    """The supervisors in the nearest org unit above (or of) the employee that has one."""
    found = competency.supervisors_of(employee)
    if not found:
        return []
    nearest = found[0].position.org_unit_id if found[0].position else None
    return [u for u in found if u.position and u.position.org_unit_id == nearest]


def plan_submitted(plan: DevelopmentPlan) -> int:
    """Tell the employee's nearest supervisors that the plan waits for them."""
    employee = plan.employee
    count = 0
    for supervisor in nearest_supervisors(employee):
        with force_locale(recipient_locale(supervisor)):
            subject = _("Development plan to approve: %(name)s (%(year)d)",
                        name=employee.name, year=plan.year)
            text = _("%(name)s submitted their competency development plan for %(year)d "
                     "(%(n)d items). As their supervisor, please approve it or return it "
                     "with a comment.", name=employee.name, year=plan.year,
                     n=len(plan.items))
            text += "\n\n" + _("Open the plan:")
        if queue_mail(supervisor, subject, text, category=SUBMITTED,
                      link=absolute_url("plans.detail", plan_id=plan.id)) is not None:
            count += 1
    return count


def plan_decided(plan: DevelopmentPlan, by: User) -> bool:
    """Tell the employee that the supervisor approved or returned their plan."""
    employee = plan.employee
    with force_locale(recipient_locale(employee)):
        if plan.status == PlanStatus.RETURNED:
            subject = _("Your development plan was returned: %(year)d", year=plan.year)
            text = _("%(name)s returned your development plan for %(year)d with this "
                     "comment:", name=by.name, year=plan.year)
            text += "\n\n" + plan.comment + "\n\n"
            text += _("Change the plan and submit it again:")
        else:
            subject = _("Your development plan is approved: %(year)d", year=plan.year)
            text = _("%(name)s approved your development plan for %(year)d. Its items are "
                     "now tracked: what you complete counts at once.", name=by.name,
                     year=plan.year)
            text += "\n\n" + _("Open the plan:")
    return queue_mail(employee, subject, text, category=DECIDED,
                      link=absolute_url("plans.detail", plan_id=plan.id)) is not None
