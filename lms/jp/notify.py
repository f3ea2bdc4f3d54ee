"""E-mail of the JP module (through :mod:`lms.mail`): a submission decided (verified or
returned, to the employee) and HR's reminder to employees below 20 JP."""

from __future__ import annotations

from flask_babel import force_locale, format_decimal
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from lms.jp.models import JpSubmission, SubmissionStatus
from lms.mail import absolute_url, queue_mail, recipient_locale, register_category
from lms.people.models import User

DECIDED = "jp.submission_decided"
REMINDER = "jp.reminder"


def register() -> None:
    register_category(DECIDED, _l("Learning you submitted: verified or returned"),
                      _l("Employees"),
                      description=_l("When HR verifies learning you submitted for JP, or it "
                                     "is returned to you with a reason."))
    register_category(REMINDER, _l("Reminder of the 20 JP a year"), _l("Employees"),
                      description=_l("When HR reminds you that you have fewer than 20 JP "
                                     "this year."))


def _jp(value: float) -> str:
    return str(format_decimal(value, "#,##0.##"))


def submission_decided(submission: JpSubmission, user: User) -> bool:
    with force_locale(recipient_locale(user)):
        if submission.status == SubmissionStatus.VERIFIED:
            subject = _("Learning verified: %(title)s", title=submission.title)
            text = _("HR verified \"%(title)s\": %(jp)s JP count toward your learning hours.",
                     title=submission.title, jp=_jp(submission.jp))
        else:
            subject = _("Learning returned: %(title)s", title=submission.title)
            text = _("Your submission \"%(title)s\" was returned: %(reason)s",
                     title=submission.title, reason=submission.return_reason)
        text += "\n\n" + _("Your submissions:")
    return queue_mail(user, subject, text, category=DECIDED,
                      link=absolute_url("jp.submissions_page"),
                      key=f"jp-decided-{submission.id}-{submission.status.value}-"
                          f"{submission.decided_at.isoformat() if submission.decided_at else ''}"
                      ) is not None


def reminder(user: User, year: int, jp: float, target: int, by: User) -> bool:
    """HR's reminder: the JP so far, what is missing, where to plan and submit learning.
    Once per employee and day."""
    from lms.db import utcnow

    with force_locale(recipient_locale(user)):
        subject = _("%(n)s JP to go this year", n=_jp(max(0.0, target - jp)))
        text = _("You have %(jp)s of the %(target)s JP a year every ASN has the right to "
                 "(%(year)s). Plan learning with your supervisor, or submit learning you did "
                 "elsewhere so HR can count it. Sent by %(hr)s.",
                 jp=_jp(jp), target=target, year=year, hr=by.name)
        text += "\n\n" + _("Your JP statement:")
    day = utcnow().date().isoformat()
    return queue_mail(user, subject, text, category=REMINDER,
                      link=absolute_url("jp.statement_page"),
                      key=f"jp-reminder-{user.id}-{day}") is not None
