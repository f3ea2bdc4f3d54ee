"""E-mail to the participants of a recorded training (through :mod:`lms.mail`): what was
recorded for them (title, dates, JP), in their language, with a link to their learning
record."""

from __future__ import annotations

from flask_babel import force_locale, format_date
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from lms.mail import absolute_url, queue_mail, recipient_locale, register_category
from lms.people.models import User
from lms.reports.models import Training

RECORDED = "reports.training_recorded"


def register() -> None:
    register_category(RECORDED, _l("Training recorded for you"), _l("Employees"),
                      description=_l("When HR records a classroom training, workshop or "
                                     "other learning you took part in, with its JP."))


def training_recorded(training: Training, user: User) -> bool:
    """Tell ``user`` that HR recorded ``training`` for them."""
    with force_locale(recipient_locale(user)):
        subject = _("Training recorded for you: %(title)s", title=training.title)
        if training.start_date == training.end_date:
            when = format_date(training.start_date, "long")
        else:
            when = _("%(start)s to %(end)s", start=format_date(training.start_date, "long"),
                     end=format_date(training.end_date, "long"))
        text = _("HR recorded that you took part in \"%(title)s\" (%(kind)s, %(provider)s), "
                 "%(when)s: %(jp)s JP count toward your learning hours this year.",
                 title=training.title, kind=training.kind.label,
                 provider=training.provider or "-", when=when,
                 jp=_jp(training.jp))
        text += "\n\n" + _("Your learning record:")
    return queue_mail(user, subject, text, category=RECORDED,
                      link=absolute_url("reports.employee", nip=user.nip)) is not None


def _jp(value: float) -> str:
    from flask_babel import format_decimal

    return str(format_decimal(value, "#,##0.##"))
