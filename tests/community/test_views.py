"""The community pages: role checks, CSRF, clear 4xx, the home panel and the menu."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from lms.community import service
from lms.community.models import Post, PostStatus, Report, Thread
from lms.db import get_session
from tests.community.conftest import login


def _space(community: dict[str, Any]) -> Any:
    space = service.course_space(community["course"].slug)
    get_session().commit()
    return space


def test_course_link_leads_to_its_space_and_outsiders_get_403(client, community) -> None:
    login(client, community["learner"])
    response = client.get(f"/community/course/{community['course'].slug}")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/community/s/kursus-mini-kursus")
    page = client.get("/community/s/kursus-mini-kursus")
    assert page.status_code == 200 and "Ajukan pertanyaan" in page.text
    login(client, community["outsider"])
    denied = client.get("/community/s/kursus-mini-kursus")
    assert denied.status_code == 403 and "Daftar ke kursus" in denied.text
    assert client.get("/community/course/no-such-course").status_code == 404
    assert client.get("/community/s/no-such-space").status_code == 404


def test_signed_out_visitors_are_sent_to_sign_in(client, community) -> None:
    assert client.get("/community/").status_code == 302


def test_learner_asks_and_a_colleague_answers_through_the_pages(client, community) -> None:
    space = _space(community)
    login(client, community["learner"])
    response = client.post(
        f"/community/s/{space.slug}/new",
        data={"kind": "question", "title": "Cara unggah dokumen?", "body": "Saya **bingung**."},
    )
    assert response.status_code == 302
    thread = get_session().scalar(sa.select(Thread))
    page = client.get(f"/community/t/{thread.id}")
    assert "<strong>bingung</strong>" in page.text and "Dinas Kominfo" in page.text
    login(client, community["colleague"])
    response = client.post(f"/community/t/{thread.id}/reply", data={"body": "Pakai menu Unggah."})
    assert response.status_code == 302
    assert "DPMPTSP" in client.get(f"/community/t/{thread.id}").text
    # An empty reply is a 400 with the form, and stores nothing.
    response = client.post(f"/community/t/{thread.id}/reply", data={"body": "  "})
    assert response.status_code == 400
    assert get_session().scalar(sa.select(sa.func.count(Post.id))) == 2


def test_bad_thread_input_is_a_400_with_the_message(client, community) -> None:
    space = _space(community)
    login(client, community["learner"])
    response = client.post(
        f"/community/s/{space.slug}/new",
        data={"kind": "poll", "title": "Judul yang cukup", "body": "Isi"},
    )
    assert response.status_code == 400
    response = client.post(
        f"/community/s/{space.slug}/new", data={"kind": "question", "title": "Hai", "body": "Isi"}
    )
    assert response.status_code == 400
    assert get_session().scalar(sa.select(sa.func.count(Thread.id))) == 0


def test_only_moderators_mark_helpful_hide_and_lock(client, community) -> None:
    space = _space(community)
    thread = service.start_thread(space, community["learner"], "question", "Pertanyaan uji", "Isi")
    answer = service.reply(thread, community["colleague"], "Jawaban")
    get_session().commit()
    login(client, community["learner"])
    assert client.post(f"/community/p/{answer.id}/helpful").status_code == 403
    assert (
        client.post(
            f"/community/p/{answer.id}/moderate", data={"action": "hide", "reason": "x"}
        ).status_code
        == 403
    )
    assert (
        client.post(
            f"/community/t/{thread.id}/lock", data={"action": "lock", "reason": "x"}
        ).status_code
        == 403
    )
    login(client, community["trainer"])
    assert client.post(f"/community/p/{answer.id}/helpful").status_code == 302
    assert (
        client.post(
            f"/community/p/{answer.id}/moderate", data={"action": "hide", "reason": ""}
        ).status_code
        == 400
    )
    assert (
        client.post(
            f"/community/p/{answer.id}/moderate", data={"action": "explode", "reason": "x"}
        ).status_code
        == 400
    )
    assert (
        client.post(
            f"/community/t/{thread.id}/lock", data={"action": "lock", "reason": "Selesai"}
        ).status_code
        == 302
    )
    get_session().expire_all()
    assert get_session().get(Thread, thread.id).locked
    login(client, community["colleague"])
    assert (
        client.post(f"/community/t/{thread.id}/reply", data={"body": "Tambahan"}).status_code == 403
    )


def test_report_then_hide_from_the_queue(client, community) -> None:
    space = _space(community)
    thread = service.start_thread(space, community["learner"], "question", "Pertanyaan uji", "Isi")
    bad = service.reply(thread, community["colleague"], "Iklan pinjol!")
    get_session().commit()
    login(client, community["learner"])
    assert (
        client.post(
            f"/community/p/{bad.id}/report", data={"reason": "spam", "detail": "iklan"}
        ).status_code
        == 302
    )
    assert client.post(f"/community/p/{bad.id}/report", data={"reason": "spam"}).status_code == 409
    assert client.get("/community/moderation").status_code == 403
    login(client, community["trainer"])
    queue = client.get("/community/moderation")
    assert queue.status_code == 200 and "Iklan pinjol!" in queue.text
    response = client.post(
        f"/community/p/{bad.id}/moderate",
        data={"action": "hide", "reason": "Iklan", "next": "queue"},
    )
    assert response.headers["Location"].endswith("/community/moderation")
    get_session().expire_all()
    assert get_session().get(Post, bad.id).status == PostStatus.HIDDEN
    assert get_session().scalar(sa.select(Report.resolution)) == "hide"
    login(client, community["learner"])
    page = client.get(f"/community/t/{thread.id}")
    assert "Iklan pinjol!" not in page.text and "dihapus oleh moderator" in page.text


def test_topics_and_moderators_pages_are_for_admins_and_hr(client, community) -> None:
    login(client, community["learner"])
    assert client.get("/community/topics/new").status_code == 403
    login(client, community["hr"])
    response = client.post("/community/topics/new", data={"title": "SPBE", "description": ""})
    assert response.status_code == 302
    assert client.post("/community/topics/new", data={"title": "spbe"}).status_code == 400
    response = client.post(
        "/community/s/spbe/moderators", data={"user": community["trainer"].email}
    )
    assert response.status_code == 302
    assert (
        client.post("/community/s/spbe/moderators", data={"user": "nobody@example.org"}).status_code
        == 400
    )
    login(client, community["outsider"])
    assert client.get("/community/s/spbe").status_code == 200  # topics: every ASN


def test_search_and_pagination(client, community, app) -> None:
    space = _space(community)
    from flask import current_app

    current_app.config["COMMUNITY_POST_LIMITS"] = []
    for i in range(23):
        service.start_thread(
            space,
            community["learner"],
            "practice",
            f"Praktik nomor {i:02d}",
            "Isi" if i != 7 else "Kata kunci unik",
        )
    get_session().commit()
    login(client, community["colleague"])
    first = client.get(f"/community/s/{space.slug}")
    assert "Praktik nomor 22" in first.text and "Praktik nomor 02" not in first.text
    assert "Halaman 1 dari 2" in first.text
    second = client.get(f"/community/s/{space.slug}?page=2")
    assert "Praktik nomor 02" in second.text
    found = client.get(f"/community/s/{space.slug}?q=unik")
    assert "Praktik nomor 07" in found.text and "Praktik nomor 08" not in found.text


def test_settings_opt_out_and_unfollow(client, community) -> None:
    login(client, community["learner"])
    assert client.post("/community/settings", data={"email_opt_out": "y"}).status_code == 302
    assert service.email_opt_out(community["learner"])
    space = _space(community)
    thread = service.start_thread(
        space, community["learner"], "question", "Ikuti atau tidak", "Isi"
    )
    get_session().commit()
    assert client.post(f"/community/t/{thread.id}/follow", data={"follow": "0"}).status_code == 302
    get_session().expire_all()
    assert not service.is_following(thread, community["learner"])


def test_home_panel_and_menu_show_recent_activity(client, community) -> None:
    space = _space(community)
    login(client, community["learner"])
    home = client.get("/")  # no thread yet: the way to the course's discussion
    assert f'href="/community/s/{space.slug}"' in home.text
    assert 'href="/community/"' in home.text  # the Development menu
    service.start_thread(space, community["colleague"], "practice", "Praktik baik DPMPTSP", "Isi")
    get_session().commit()
    login(client, community["learner"])
    home = client.get("/")
    assert "Komunitas belajar" in home.text and "Praktik baik DPMPTSP" in home.text
    login(client, community["outsider"])
    assert "Praktik baik DPMPTSP" not in client.get("/").text


def test_forms_need_the_csrf_token(make_app, community) -> None:
    app = make_app(WTF_CSRF_ENABLED=True)
    client = app.test_client()
    login(client, community["learner"])
    space = _space(community)
    response = client.post(
        f"/community/s/{space.slug}/new",
        data={"kind": "question", "title": "Tanpa token", "body": "Isi"},
    )
    assert response.status_code == 400


def test_dismissing_a_report_keeps_the_post_and_is_logged(client, community) -> None:
    from lms.community.models import ModerationAction

    space = _space(community)
    thread = service.start_thread(space, community["learner"], "question", "Laporan keliru", "Isi")
    post = service.reply(thread, community["colleague"], "Jawaban yang wajar")
    report = service.report_post(post, community["learner"], "off_topic")
    get_session().commit()
    login(client, community["colleague"])
    assert client.post(f"/community/reports/{report.id}/dismiss").status_code == 403
    login(client, community["trainer"])
    response = client.post(f"/community/reports/{report.id}/dismiss", data={"reason": "Sesuai"})
    assert response.status_code == 302
    assert client.post(f"/community/reports/{report.id}/dismiss").status_code == 409
    assert client.post("/community/reports/999999/dismiss").status_code == 404
    get_session().expire_all()
    assert get_session().get(Post, post.id).status == PostStatus.VISIBLE
    action = get_session().scalar(sa.select(ModerationAction))
    assert (action.action, action.reason, action.moderator_id) == (
        "dismiss",
        "Sesuai",
        community["trainer"].id,
    )


def test_posting_too_fast_is_a_429_page(client, community) -> None:
    from flask import current_app

    space = _space(community)
    thread = service.start_thread(space, community["learner"], "question", "Terlalu cepat", "Isi")
    get_session().commit()
    client.application.config["COMMUNITY_POST_LIMITS"] = [(1, 60)]
    current_app.config["COMMUNITY_POST_LIMITS"] = [(1, 60)]
    login(client, community["learner"])
    response = client.post(f"/community/t/{thread.id}/reply", data={"body": "Lagi"})
    assert response.status_code == 429 and "terlalu cepat" in response.text
