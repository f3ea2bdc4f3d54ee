"""The sample courses show every module kind: lessons, a local video with its transcript,
an embedded H5P activity from an allowed host, and quizzes."""

from __future__ import annotations

from flask import current_app

from lms.config import PROJECT_ROOT
from lms.courses import service
from lms.courses.format import load_course_folder
from lms.db import get_session


def _import(slug: str) -> None:
    loaded = load_course_folder(PROJECT_ROOT / "courses" / slug,
                                current_app.config["EMBED_ALLOWED_HOSTS"], label=slug)
    service.import_course(loaded)
    get_session().commit()


def test_video_lesson_plays_a_course_file_with_its_transcript(client, login_as, app):
    _import("pelayanan-publik-prima")
    login_as("learner")
    client.post("/courses/pelayanan-publik-prima/enrol")
    page = client.get("/courses/pelayanan-publik-prima/modules/02a-video-alur-layanan")
    html = page.get_data(as_text=True)
    src = "/courses/pelayanan-publik-prima/files/1/video/alur-layanan-prima.webm"
    assert page.status_code == 200 and f'<source src="{src}" type="video/webm">' in html
    assert "Transkrip" in html and 'preload="metadata"' in html
    video = client.get(src)
    assert video.status_code == 200 and video.data[:4] == bytes.fromhex("1a45dfa3")
    video.close()


def test_h5p_module_plays_the_courses_own_package(client, login_as, app):
    _import("integritas-antikorupsi")
    login_as("learner")
    client.post("/courses/integritas-antikorupsi/enrol")
    page = client.get("/courses/integritas-antikorupsi/modules/03a-latihan-interaktif")
    html = page.get_data(as_text=True)
    # Played from Lentera itself, in a sandboxed frame (no allow-same-origin).
    assert page.status_code == 200 and 'id="h5p-frame" src="/h5p/frame/' in html
    assert 'sandbox="allow-scripts allow-popups"' in html
    assert "h5p.org" not in html
