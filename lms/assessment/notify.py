"""E-mails of competency assessment (through :mod:`lms.mail`), each in the recipient's
language with a link: a questionnaire that waits for a rater (a 360 round opened, a
rating HR returned), and a supervisor's rating that waits for HR's validation."""

from __future__ import annotations

import sqlalchemy as sa
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from lms.assessment.models import AssessmentRater
from lms.db import get_session
from lms.mail import absolute_url, queue_mail, recipient_locale, register_category
from lms.people.models import Role, User, UserRole

REQUESTED = "assessment.requested"
VALIDATION = "assessment.validation"


def register() -> None:
    register_category(REQUESTED, _l("A competency questionnaire waits for you"),
                      _l("Raters: employees, supervisors, colleagues"),
                      description=_l("When HR asks you to rate a colleague in a 360 round, "
                                     "or returns a rating of yours to change."))
    register_category(VALIDATION, _l("A supervisor's rating waits for your validation"),
                      _l("HR staff"),
                      description=_l("When a supervisor rates an employee in your scope and "
                                     "the framework asks HR to validate it before it counts."),
                      applies=lambda user: user.has_role(Role.HR, Role.ADMIN))


def questionnaire_requested(entry: AssessmentRater) -> bool:
    """Tell a rater that a questionnaire about someone waits for them."""
    rater = entry.rater
    if rater is None:
        return False
    employee = entry.round.employee
    with force_locale(recipient_locale(rater)):
        subject = _("Questionnaire to fill in: %(kind)s of %(name)s",
                    kind=entry.round.kind.label, name=employee.name)
        if rater.id == employee.id:
            text = _("Please assess yourself (%(kind)s): how often do you show the "
                     "behaviours of each competency level? You can stop at any page and "
                     "continue later.", kind=entry.round.kind.label)
        else:
            text = _("You are asked to rate %(name)s as %(role)s (%(kind)s): how often do you "
                     "see the behaviours of each competency level? You can stop at any page "
                     "and continue later.", name=employee.name, role=entry.role.label,
                     kind=entry.round.kind.label)
        text += "\n\n" + _("Fill in the questionnaire:")
    return queue_mail(rater, subject, text, category=REQUESTED,
                      link=absolute_url("assessment.fill", entry_id=entry.id)) is not None


def rating_returned(entry: AssessmentRater, hr: User) -> bool:
    """Tell the supervisor that HR returned their rating, with HR's comment."""
    rater = entry.rater
    if rater is None:
        return False
    with force_locale(recipient_locale(rater)):
        subject = _("Your rating of %(name)s was returned", name=entry.round.employee.name)
        text = _("%(hr)s (HR) returned your rating of %(name)s with this comment:",
                 hr=hr.name, name=entry.round.employee.name)
        text += "\n\n" + entry.validation_note + "\n\n"
        text += _("Your answers are kept; change them and submit again:")
    return queue_mail(rater, subject, text, category=REQUESTED,
                      link=absolute_url("assessment.fill", entry_id=entry.id)) is not None


def hr_covering(employee: User) -> list[User]:
    """Active HR users whose scope covers ``employee``."""
    from lms.assessment.service import hr_covers

    users = get_session().scalars(
        sa.select(User).join(UserRole, UserRole.user_id == User.id)
        .where(UserRole.role == Role.HR, User.active.is_(True)).order_by(User.id))
    return [u for u in users if hr_covers(u, employee)]


def validation_requested(entry: AssessmentRater) -> int:
    """Tell HR covering the employee that a supervisor's rating waits for validation."""
    employee = entry.round.employee
    count = 0
    for hr in hr_covering(employee):
        if hr.id == entry.rater_id:
            continue
        with force_locale(recipient_locale(hr)):
            subject = _("Rating to validate: %(name)s", name=employee.name)
            text = _("%(supervisor)s rated %(name)s in %(n)d competencies. The framework "
                     "asks HR to validate a supervisor's rating before it changes the "
                     "competency profile. Compare it with the profile and validate it or "
                     "return it with a comment:",
                     supervisor=entry.rater.name if entry.rater else "-",
                     name=employee.name, n=len(entry.held_codes or []))
        if queue_mail(hr, subject, text, category=VALIDATION,
                      link=absolute_url("assessment.validation", entry_id=entry.id)
                      ) is not None:
            count += 1
    return count
