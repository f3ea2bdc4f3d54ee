"""E-mail when a certificate is issued (through :mod:`lms.mail`), in the holder's
language, with a link to the certificate.

The courses ledger derives completions from statements, also when it replays them from
the first (``lms xapi replay courses``). A replay must not mail anyone again, so a
certificate is announced only when its completing statement was stored within the last
day and happened within the last week, and once per certificate number (the outbox key).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask_babel import force_locale, format_date
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from lms.db import get_session, utcnow
from lms.mail import absolute_url, queue_mail, recipient_locale, register_category
from lms.people.models import User

CERTIFICATE = "courses.certificate"
#: A completion stored longer ago than this is history (a replay), not news.
FRESH_STORED = dt.timedelta(days=1)
FRESH_HAPPENED = dt.timedelta(days=7)


def register() -> None:
    register_category(CERTIFICATE, _l("Your certificate is ready"), _l("Learners"),
                      description=_l("When you complete a course and its certificate is "
                                     "issued."))


def certificate_issued(user_id: int, number: str, title: str, jp: float,
                       completed_at: dt.datetime, stored: Any) -> bool:
    """Tell the holder that certificate ``number`` was issued (see the module docstring
    for when it is news)."""
    now = utcnow()
    if stored is not None and getattr(stored, "tzinfo", None) is None:
        stored = stored.replace(tzinfo=dt.UTC)
    happened = completed_at if completed_at.tzinfo else completed_at.replace(tzinfo=dt.UTC)
    if stored is None or now - stored > FRESH_STORED or now - happened > FRESH_HAPPENED:
        return False
    user = get_session().get(User, user_id)
    if user is None:
        return False
    from flask_babel import format_decimal

    with force_locale(recipient_locale(user)):
        subject = _("Your certificate: %(title)s", title=title)
        text = _("Congratulations! You completed \"%(title)s\" on %(date)s and earned %(jp)s "
                 "JP. Your certificate number is %(number)s; anyone can check it with the "
                 "QR code printed on it.", title=title,
                 date=format_date(completed_at, "long"),
                 jp=format_decimal(jp, "#,##0.##"), number=number)
        text += "\n\n" + _("Download the certificate (PDF):")
    return queue_mail(user, subject, text, category=CERTIFICATE, key=f"certificate:{number}",
                      link=absolute_url("courses.certificate", number=number)) is not None
