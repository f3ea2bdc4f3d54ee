"""The learner's pages ask the database the same number of questions however much the
learner and everyone else have done: no query per course, enrolment, statement or
evidence row."""

from __future__ import annotations

from typing import Any

from lms.db import get_engine, get_session
from lms.xapi import service as lrs
from lms.xapi.actors import actor_for
from tests import factories
from tests.helpers import sql_log

PAGES = ["/", "/courses/", "/competency/", "/courses/transcript", "/courses/mini-kursus"]
#: The most queries each page may make (docs/performance.md, "Learner pages"): the catalog
#: and the competency names come from lms.readcache (one stamp query), a course page finds
#: the course, the enrolment and the version in one query. Lower these when a page gets
#: cheaper; a page that needs more is a regression to explain.
AT_MOST = {"/": 18, "/courses/": 7, "/competency/": 8, "/courses/transcript": 4,
           "/courses/mini-kursus": 7}
EXPERIENCED = "http://adlnet.gov/expapi/verbs/experienced"


def _queries(app: Any, client: Any, path: str) -> int:
    client.get(path)  # caches warm
    with sql_log(get_engine(app)) as statements:
        response = client.get(path)
    assert response.status_code == 200, path
    return len(statements)


def _activity(user: Any, n: int) -> None:
    lrs.store_statements([{"actor": actor_for(user), "verb": {"id": EXPERIENCED},
                           "object": {"id": f"https://elsewhere.example/course/{n}/{i}"}}
                          for i in range(5)])


def test_learner_pages_queries_do_not_grow_with_data(app, client, login_as, course) -> None:
    learner = login_as("learner")
    assert client.post("/courses/mini-kursus/enrol").status_code in (200, 302)
    client.post("/courses/mini-kursus/modules/satu/complete")
    _activity(learner, 0)
    get_session().commit()
    before = {path: _queries(app, client, path) for path in PAGES}

    # More of everything: courses in the catalog and in progress, the learner's lessons
    # and statements, and other learners'.
    for name in ("komunikasi-efektif", "literasi-digital-spbe"):
        other_course = factories.import_sample_course(name)
        assert client.post(f"/courses/{other_course.slug}/enrol").status_code in (200, 302)
    client.post("/courses/mini-kursus/modules/dua/complete")
    for n in range(1, 6):
        _activity(learner, n)
    for _ in range(10):
        other = factories.make_user()
        _activity(other, 99)
    get_session().commit()
    after = {path: _queries(app, client, path) for path in PAGES}
    # Fewer is fine (with three courses in progress, home suggests no other course).
    assert {path: min(after[path], before[path]) for path in PAGES} == after, (before, after)
    assert {path: min(before[path], AT_MOST[path]) for path in PAGES} == before, before
