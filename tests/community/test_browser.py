"""In a real browser: a learner asks in a course space, a colleague from another OPD
answers, the trainer marks the answer helpful, a report reaches the moderation queue and
the post is hidden; the e-mails are in the outbox."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from lms.db import get_session
from tests import factories

pytestmark = pytest.mark.browser


def sign_in(page, email: str) -> None:
    page.context.clear_cookies()
    page.goto("/login")
    page.get_by_label("NIP atau surel").fill(email)
    page.get_by_label("Kata sandi").fill(factories.PASSWORD)
    page.get_by_role("button", name="Masuk").click()
    page.wait_for_url("**/")


def test_question_helpful_answer_report_and_hide(page, community):
    from lms.mail.models import OutboxMessage
    from lms.people import service as people

    learner, colleague, trainer = community["learner"], community["colleague"], community["trainer"]
    people.set_password(colleague, factories.PASSWORD)
    get_session().commit()

    # The learner reaches the course's discussion (the link the course page carries).
    sign_in(page, learner.email)
    page.goto("/community/course/mini-kursus")
    expect(page.get_by_role("heading", level=1)).to_have_text(community["course"].title)
    page.get_by_role("link", name="Ajukan pertanyaan").click()
    page.get_by_label("Judul").fill("Bagaimana cara menghitung JP pelatihan daring?")
    page.get_by_label("Isi").fill("Apakah 1 JP sama dengan **45 menit**?")
    page.get_by_role("button", name="Kirim", exact=True).click()
    expect(page.get_by_text("Utas Anda terkirim")).to_be_visible()
    expect(page.locator("strong", has_text="45 menit")).to_be_visible()
    thread_url = page.url

    # A colleague from another OPD answers, and someone posts an advertisement.
    sign_in(page, colleague.email)
    page.goto(thread_url)
    page.get_by_label("Balasan Anda").fill("Ya, 1 JP = 45 menit menurut Peraturan LAN.")
    page.get_by_role("button", name="Kirim balasan").click()
    expect(page.get_by_text("Balasan Anda terkirim")).to_be_visible()
    page.get_by_label("Balasan Anda").fill("Jual kunci jawaban kuis, hubungi 0812xxxx!")
    page.get_by_role("button", name="Kirim balasan").click()
    expect(page.locator("article", has_text="Peraturan LAN")).to_contain_text("DPMPTSP")

    # The trainer marks the answer helpful: it shows first after the question.
    sign_in(page, trainer.email)
    page.goto(thread_url)
    answer = page.locator("article", has_text="Peraturan LAN")
    answer.get_by_role("button", name="Tandai bermanfaat").click()
    expect(page.get_by_text("Ditandai sebagai jawaban bermanfaat")).to_be_visible()
    expect(page.locator("article").nth(1)).to_contain_text("Jawaban bermanfaat")

    # The learner reports the advertisement.
    sign_in(page, learner.email)
    page.goto(thread_url)
    spam = page.locator("article", has_text="Jual kunci jawaban")
    spam.get_by_text("Laporkan").click()
    spam.get_by_label("Alasan").select_option("spam")
    spam.get_by_label("Penjelasan (opsional)").fill("Iklan jual kunci jawaban")
    spam.get_by_role("button", name="Kirim laporan").click()
    expect(page.get_by_text("Moderator akan meninjau tulisan ini")).to_be_visible()

    # The trainer finds it in the moderation queue and hides it, with a reason.
    sign_in(page, trainer.email)
    page.goto("/community/moderation")
    report = page.locator("article", has_text="Iklan jual kunci jawaban")
    expect(report).to_contain_text("Spam atau iklan")
    report.get_by_label("Alasan (dicatat di log moderasi)").fill("Iklan, melanggar aturan")
    report.get_by_role("button", name="Sembunyikan tulisan").click()
    expect(page.get_by_text("Tulisan telah disembunyikan")).to_be_visible()
    expect(page.get_by_text("Tidak ada laporan terbuka")).to_be_visible()
    expect(page.locator("table")).to_contain_text("Iklan, melanggar aturan")

    sign_in(page, learner.email)
    page.goto(thread_url)
    expect(page.get_by_text("Jual kunci jawaban")).to_have_count(0)
    expect(page.get_by_text("Tulisan ini dihapus oleh moderator.")).to_be_visible()

    # The e-mails: replies to the asker, the helpful mark to the colleague, the report to
    # the trainer.
    get_session().expire_all()
    rows = (
        get_session()
        .execute(
            sa.select(OutboxMessage.to_address, OutboxMessage.subject)
            .where(OutboxMessage.category == "community")
            .order_by(OutboxMessage.id)
        )
        .all()
    )
    subjects = {(to, subject.split(":")[0]) for to, subject in rows}
    assert (learner.email, "Balasan baru") in subjects
    assert (colleague.email, "Jawaban Anda ditandai bermanfaat") in subjects
    assert (trainer.email, "Laporan untuk ditinjau") in subjects
