"""The community's rules: who reads, posts and moderates; helpful answers; follows and
e-mails; reports and moderation; statements; rate limits."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from lms.community import service
from lms.community.markdown import render_post
from lms.community.models import ModerationAction, PostStatus, SpaceKind
from lms.db import get_session
from lms.errors import Conflict, Forbidden, NotFound, ValidationError
from lms.xapi.models import Statement


def space_of(community: dict[str, Any]) -> Any:
    return service.course_space(community["course"].slug)


def test_every_published_course_gets_a_space_when_it_is_imported(community) -> None:
    space = get_session().scalar(
        sa.select(service.Space).where(service.Space.course_id == community["course"].id)
    )
    assert space is not None and space.kind == SpaceKind.COURSE
    assert space.title == community["course"].title


def test_course_space_is_open_to_enrolled_learners_trainers_and_staff_only(community) -> None:
    space = space_of(community)
    for who in ("learner", "colleague", "trainer", "admin", "hr"):
        assert service.can_post(community[who], space), who
    assert not service.can_read(community["outsider"], space)
    with pytest.raises(Forbidden):
        service.start_thread(space, community["outsider"], "question", "Boleh tanya?", "Halo")


def test_trainer_moderates_the_course_space_but_a_learner_does_not(community) -> None:
    space = space_of(community)
    assert service.is_moderator(community["trainer"], space)
    assert service.is_moderator(community["admin"], space)
    assert not service.is_moderator(community["learner"], space)
    assert not service.is_moderator(community["hr"], space)


def test_topics_are_created_by_admins_and_hr_and_open_to_every_asn(community) -> None:
    with pytest.raises(Forbidden):
        service.create_topic("SPBE", "", community["learner"])
    topic = service.create_topic("Berbagi praktik baik antar-OPD", "", community["hr"])
    assert topic.slug == "berbagi-praktik-baik-antar-opd"
    assert service.can_post(community["outsider"], topic)
    assert service.is_moderator(community["hr"], topic)
    assert not service.is_moderator(community["trainer"], topic)
    with pytest.raises(Conflict):
        service.create_topic("berbagi praktik baik antar-opd", "", community["admin"])
    service.add_moderator(topic, community["hr"], community["trainer"].email)
    assert service.is_moderator(community["trainer"], topic)
    assert get_session().scalar(sa.select(ModerationAction.action)) == "moderator_added"


def test_question_reply_helpful_answer_shown_first_with_the_authors_opd(community, mails) -> None:
    space = space_of(community)
    learner, colleague, trainer = community["learner"], community["colleague"], community["trainer"]
    thread = service.start_thread(
        space, learner, "question", "Bagaimana mengisi SKP?", "Mohon **panduan**."
    )
    first = service.reply(thread, trainer, "Lihat modul 2.")
    answer = service.reply(thread, colleague, "Di DPMPTSP kami pakai template bersama.")
    assert answer.author_unit == "DPMPTSP"
    assert thread.posts[0].author_unit == "Dinas Kominfo"  # the OPD, not the bidang
    with pytest.raises(Forbidden):
        service.mark_helpful(answer, learner)
    service.mark_helpful(answer, trainer)
    assert thread.answered
    posts = service.posts_of(thread, learner)
    assert [p.id for p in posts] == [thread.posts[0].id, answer.id, first.id]
    # E-mails: the asker on each reply, the trainer on the second reply (a replier),
    # the colleague on the helpful mark.
    to = [(m["to"], m["subject"]) for m in mails]
    assert (learner.email, "Balasan baru: Bagaimana mengisi SKP?") in to
    assert sum(1 for m in mails if m["to"] == trainer.email) == 1
    helpful = [m for m in mails if m["to"] == colleague.email]
    assert helpful and "bermanfaat" in helpful[0]["subject"]
    assert "/community/t/" in helpful[0]["text"] and helpful[0]["text"].startswith(trainer.name)


def test_posting_stores_asked_answered_and_commented_statements(community) -> None:
    space = space_of(community)
    thread = service.start_thread(
        space, community["learner"], "question", "Pertanyaan SPBE", "Apa itu SPBE?"
    )
    service.reply(thread, community["trainer"], "Sistem Pemerintahan Berbasis Elektronik.")
    service.reply(thread, community["learner"], "Terima kasih!")
    practice = service.start_thread(
        space,
        community["colleague"],
        "practice",
        "Praktik baik perizinan",
        "Kami memakai antrean daring.",
    )
    get_session().flush()
    rows = get_session().scalars(sa.select(Statement).order_by(Statement.seq)).all()
    verbs = [
        r.verb_id.rsplit("/", 1)[-1] for r in rows if "/community/threads/" in str(r.activity_id)
    ]
    assert verbs == ["asked", "answered", "commented", "shared"]
    last = rows[-1].data
    assert last["object"]["id"] == f"http://lentera.test/community/threads/{practice.id}"
    assert last["context"]["contextActivities"]["grouping"][0]["id"].endswith(
        "/courses/" + community["course"].slug
    )
    assert last["actor"]["account"]["name"] == community["colleague"].nip


def test_followers_get_reply_mails_unless_they_unfollow_or_opt_out(community, mails) -> None:
    space = space_of(community)
    learner, colleague, trainer = community["learner"], community["colleague"], community["trainer"]
    thread = service.start_thread(
        space, learner, "practice", "Berbagi: arsip digital", "Kami memindai arsip."
    )
    service.set_following(thread, colleague, True)
    service.reply(thread, trainer, "Bagus sekali.")
    assert sorted(m["to"] for m in mails) == sorted([learner.email, colleague.email])
    mails.clear()
    service.set_following(thread, colleague, False)
    service.set_email_opt_out(learner, True)
    service.reply(thread, trainer, "Satu lagi.")
    assert mails == []
    # Replying again does not make the unfollowed colleague follow once more.
    service.reply(thread, colleague, "Setuju.")
    assert not service.is_following(thread, colleague)
    assert [m["to"] for m in mails] == [trainer.email]  # a replier follows
    mails.clear()
    service.reply(thread, learner, "Terima kasih semua.")
    assert [m["to"] for m in mails] == [trainer.email]


def test_report_reaches_the_moderators_and_hiding_closes_it(community, mails) -> None:
    space = space_of(community)
    thread = service.start_thread(
        space, community["learner"], "question", "Soal kuis 3", "Jawabannya apa?"
    )
    bad = service.reply(thread, community["colleague"], "Beli jawaban di situs saya!")
    with pytest.raises(ValidationError):
        service.report_post(bad, community["colleague"], "spam")  # own post
    with pytest.raises(ValidationError):
        service.report_post(bad, community["learner"], "other")  # needs an explanation
    report = service.report_post(bad, community["learner"], "spam", "Iklan")
    with pytest.raises(Conflict):
        service.report_post(bad, community["learner"], "spam")
    assert [m["to"] for m in mails if "Laporan" in m["subject"]] == [community["trainer"].email]
    assert [r.id for r in service.open_reports(community["trainer"])] == [report.id]
    assert service.open_reports(community["learner"]) == []
    with pytest.raises(Forbidden):
        service.moderate_post(bad, community["learner"], "hide", "spam")
    with pytest.raises(ValidationError):
        service.moderate_post(bad, community["trainer"], "hide", "  ")
    service.moderate_post(bad, community["trainer"], "hide", "Iklan jual jawaban")
    assert bad.status == PostStatus.HIDDEN and thread.reply_count == 0
    assert report.resolution == "hide" and service.open_reports(community["trainer"]) == []
    service.moderate_post(bad, community["trainer"], "restore", "Salah klik")
    assert thread.reply_count == 1
    service.moderate_post(bad, community["trainer"], "delete", "Iklan")
    assert bad.body == "" and bad.status == PostStatus.DELETED
    log = get_session().scalars(sa.select(ModerationAction).order_by(ModerationAction.id)).all()
    assert [(a.action, a.reason, a.moderator_id) for a in log] == [
        ("hide", "Iklan jual jawaban", community["trainer"].id),
        ("restore", "Salah klik", community["trainer"].id),
        ("delete", "Iklan", community["trainer"].id),
    ]


def test_hiding_the_opening_post_hides_the_thread_from_learners(community) -> None:
    space = space_of(community)
    thread = service.start_thread(
        space, community["colleague"], "question", "Judul kasar", "Isi kasar"
    )
    service.moderate_post(thread.posts[0], community["trainer"], "hide", "Kata kasar")
    with pytest.raises(NotFound):
        service.get_thread(thread.id, community["learner"])
    assert service.get_thread(thread.id, community["trainer"]) is thread
    learners = get_session().scalars(service.search_threads(space, community["learner"])).all()
    assert learners == []


def test_locked_thread_takes_no_replies_but_moderators_can_still_post(community) -> None:
    space = space_of(community)
    thread = service.start_thread(space, community["learner"], "question", "Topik dikunci", "Isi")
    service.set_locked(thread, community["trainer"], True, "Sudah terjawab")
    with pytest.raises(Forbidden):
        service.reply(thread, community["colleague"], "Tambahan")
    service.reply(thread, community["trainer"], "Catatan penutup.")
    with pytest.raises(Conflict):
        service.set_locked(thread, community["trainer"], True, "lagi")


def test_search_finds_words_in_titles_and_replies_but_not_in_hidden_posts(community) -> None:
    space = space_of(community)
    a = service.start_thread(
        space, community["learner"], "question", "Tanda tangan elektronik", "Bagaimana TTE?"
    )
    b = service.start_thread(
        space, community["colleague"], "practice", "Antrean daring", "Kami pakai aplikasi."
    )
    hidden = service.reply(b, community["learner"], "Kata rahasia: 100%_persen")

    def found(text: str, **kw: Any) -> list[int]:
        query = service.search_threads(space, community["learner"], text, **kw)
        return [t.id for t in get_session().scalars(query)]

    assert found("elektronik") == [a.id]
    assert found("100%_") == [b.id]
    service.moderate_post(hidden, community["trainer"], "hide", "uji")
    assert found("rahasia") == []
    assert found("", kind="practice") == [b.id]
    assert found("", unanswered=True) == [a.id]


def test_posting_too_fast_is_refused(community, app) -> None:
    from flask import current_app

    current_app.config["COMMUNITY_POST_LIMITS"] = [(2, 60)]
    space = space_of(community)
    thread = service.start_thread(space, community["learner"], "question", "Cepat sekali", "Satu")
    service.reply(thread, community["learner"], "Dua")
    with pytest.raises(service.TooManyPosts) as caught:
        service.reply(thread, community["learner"], "Tiga")
    assert caught.value.status == 429


def test_markdown_is_rendered_and_sanitised() -> None:
    html = str(
        render_post(
            "# Judul\n\n**tebal** <script>alert(1)</script> "
            "[tautan](javascript:alert(1)) [ok](https://contoh.go.id)\n\n"
            "![gambar](https://evil.example/x.png)"
        )
    )
    assert "<h4>Judul</h4>" in html and "<strong>tebal</strong>" in html
    assert "<script>" not in html and "&lt;script&gt;" in html  # shown as text, never run
    assert 'href="javascript' not in html and "<img" not in html
    assert 'href="https://contoh.go.id"' in html and "nofollow" in html


def test_notifications_land_in_the_outbox_in_the_recipients_language(community) -> None:
    from lms.mail.models import OutboxMessage

    community["colleague"].locale = "en"
    space = space_of(community)
    thread = service.start_thread(space, community["colleague"], "question", "Outbox test", "Isi")
    service.reply(thread, community["learner"], "Balasan")
    answer = service.reply(thread, community["trainer"], "Jawaban")
    service.mark_helpful(answer, community["trainer"])
    get_session().commit()
    rows = get_session().scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id)).all()
    assert sorted(r.to_address for r in rows) == sorted(
        [community["colleague"].email] * 2 + [community["learner"].email]
    )
    assert {r.category for r in rows} == {"community"}
    to_colleague = [r for r in rows if r.to_address == community["colleague"].email]
    assert to_colleague[0].subject == "New reply: Outbox test"  # the colleague reads English
    to_learner = [r for r in rows if r.to_address == community["learner"].email]
    assert to_learner[0].subject == "Balasan baru: Outbox test"
    assert f"http://lentera.test/community/t/{thread.id}#post-" in to_learner[0].text
    # The trainer marked their own answer: no mail to themselves about it.
    assert all("bermanfaat" not in r.subject for r in rows)


def test_a_refused_address_does_not_cost_the_reply(community) -> None:
    from lms.mail.models import OutboxMessage

    space = space_of(community)
    thread = service.start_thread(space, community["learner"], "question", "Alamat rusak", "Isi")
    community["learner"].email = "bukan alamat"
    get_session().flush()
    post = service.reply(thread, community["colleague"], "Tetap terkirim")
    get_session().commit()
    assert post.id and get_session().scalar(sa.select(sa.func.count(OutboxMessage.id))) == 0


def test_demo_threads_between_opds_load_once(app) -> None:
    from lms.community import demo
    from lms.community.models import Thread
    from lms.people import demo as people_demo

    people_demo.load_demo()
    assert "4 new demo thread(s)" in demo.load_demo()  # no sample course: 4 topic threads
    assert "0 new demo thread(s)" in demo.load_demo()
    units = set(get_session().scalars(sa.select(service.Post.author_unit)))
    assert {
        "Dinas Penanaman Modal dan Pelayanan Terpadu Satu Pintu",
        "Dinas Kearsipan dan Perpustakaan",
    } <= units
    spbe = get_session().scalar(sa.select(Thread).where(Thread.title.like("%SPBE%")))
    assert spbe.answered
