"""Demo of portable credentials: the platform's signing key, so the demo learner's
certificates are Open Badges 3.0 credentials at once. Loading again changes nothing."""

from __future__ import annotations

import sqlalchemy as sa

from lms.courses.models import Completion
from lms.credentials.keys import key_id, key_path, signing_key
from lms.db import get_session


def load_demo() -> str:
    signing_key()
    count = get_session().scalar(sa.select(sa.func.count(Completion.id))) or 0
    return (
        f"Credentials: {count} certificates available as Open Badges 3.0 "
        f"(key {key_id()} in {key_path()})"
    )
