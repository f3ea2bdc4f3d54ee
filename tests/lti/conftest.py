"""Fixtures of the LTI tests: a real platform (lti1p3platform over HTTP on 127.0.0.1) with
Lentera registered in it, and Lentera with the platform registered (by hand)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from lms.db import get_session
from tests.courses.conftest import answers_for, course, course_dir  # noqa: F401
from tests.lti.platform import Browser, TestPlatform

BASE = "http://lentera.test"


@pytest.fixture
def platform(app: Any) -> Iterator[TestPlatform]:
    """The platform, with Lentera registered in it (Lentera's key set read through the
    test client, as the platform would fetch ``/lti/jwks``)."""
    made = TestPlatform()
    made.register_tool(BASE, lambda: app.test_client().get("/lti/jwks").get_json())
    yield made
    made.stop()


@pytest.fixture
def registered(platform: TestPlatform) -> Any:
    """The platform registered in Lentera by hand."""
    from lms.lti import service

    row = service.save_platform(None, **platform.lentera_fields())
    get_session().commit()
    return row


@pytest.fixture
def browser_standin(client: Any, platform: TestPlatform) -> Browser:
    return Browser(client, platform)


def counts() -> dict[str, int]:
    """Rows that a refused launch must not leave behind."""
    import sqlalchemy as sa

    from lms.courses.models import Enrollment
    from lms.lti.models import LtiBinding, LtiContext, LtiResourceLink, LtiUserLink
    from lms.people.models import User
    from lms.xapi.models import Statement

    session = get_session()
    session.expire_all()
    return {model.__name__: int(session.scalar(sa.select(sa.func.count()).select_from(model))
                                or 0)
            for model in (User, Statement, Enrollment, LtiUserLink, LtiContext,
                          LtiResourceLink, LtiBinding)}
