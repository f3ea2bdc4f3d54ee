"""PDF documents: the completion certificate (with a QR code to its public verification
page) and the learner's transcript (riwayat belajar). Texts are in Bahasa Indonesia,
the language of the documents ASN hand to their agency."""

from __future__ import annotations

import io
from typing import Any
from zoneinfo import ZoneInfo

import segno
from flask import current_app
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import cm
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen import canvas
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from lms.courses.models import Completion
from lms.people.models import User

LOCAL_TZ = ZoneInfo("Asia/Jakarta")
TEAL = colors.HexColor("#0b5d6b")
GOLD = colors.HexColor("#f2a900")
MONTHS = [
    "Januari",
    "Februari",
    "Maret",
    "April",
    "Mei",
    "Juni",
    "Juli",
    "Agustus",
    "September",
    "Oktober",
    "November",
    "Desember",
]


def tanggal(when: Any) -> str:
    """A date the Indonesian way: ``23 November 2026``."""
    local = when.astimezone(LOCAL_TZ) if hasattr(when, "astimezone") else when
    return f"{local.day} {MONTHS[local.month - 1]} {local.year}"


def jp_text(value: float) -> str:
    return f"{value:g}".replace(".", ",")


def verify_url(number: str) -> str:
    return f"{current_app.config['BASE_URL']}/verify/{number}"


#: Names of the managerial and socio-cultural competencies (PermenPAN-RB 38/2017);
#: teknis codes are printed as they are.
COMPETENCY_NAMES = {
    "M.01": "Integritas",
    "M.02": "Kerja Sama",
    "M.03": "Komunikasi",
    "M.04": "Orientasi pada Hasil",
    "M.05": "Pelayanan Publik",
    "M.06": "Pengembangan Diri dan Orang Lain",
    "M.07": "Mengelola Perubahan",
    "M.08": "Pengambilan Keputusan",
    "SK.01": "Perekat Bangsa",
}


def competency_names() -> dict[str, str]:
    """Names of competency codes: the competency module's dictionary when installed."""
    from lms import MODULES

    names = dict(COMPETENCY_NAMES)
    if "lms.competency" in MODULES:
        import sqlalchemy as sa

        from lms.competency.models import Competency
        from lms.db import get_session

        # Codes and names only: all_competencies() also loads every competency's levels
        # (descriptions and indicators): a second query and ~75 objects on each course page.
        names.update(get_session().execute(sa.select(Competency.code, Competency.name)).all())
    return names


def certificate_pdf(completion: Completion, user: User, _path: str = "") -> bytes:
    """A one-page A4 landscape certificate for ``completion``."""
    buffer = io.BytesIO()
    width, height = landscape(A4)
    pdf = canvas.Canvas(buffer, pagesize=(width, height))
    pdf.setTitle(f"Sertifikat {completion.certificate_number}")
    pdf.setAuthor("Lentera")
    # Frame
    pdf.setStrokeColor(TEAL)
    pdf.setLineWidth(6)
    pdf.rect(1 * cm, 1 * cm, width - 2 * cm, height - 2 * cm)
    pdf.setStrokeColor(GOLD)
    pdf.setLineWidth(1.5)
    pdf.rect(1.4 * cm, 1.4 * cm, width - 2.8 * cm, height - 2.8 * cm)

    center = width / 2
    pdf.setFillColor(TEAL)
    pdf.setFont("Helvetica-Bold", 30)
    pdf.drawCentredString(center, height - 4 * cm, "SERTIFIKAT")
    pdf.setFillColor(colors.black)
    pdf.setFont("Helvetica", 13)
    pdf.drawCentredString(center, height - 4.9 * cm, f"Nomor: {completion.certificate_number}")
    pdf.drawCentredString(center, height - 6.2 * cm, "diberikan kepada")
    pdf.setFont("Helvetica-Bold", 24)
    pdf.drawCentredString(center, height - 7.5 * cm, user.name)
    pdf.setFont("Helvetica", 13)
    if user.nip:
        pdf.drawCentredString(center, height - 8.3 * cm, f"NIP {user.nip}")
    pdf.drawCentredString(center, height - 9.6 * cm, "yang telah menyelesaikan pelatihan")
    pdf.setFont("Helvetica-Bold", 18)
    pdf.setFillColor(TEAL)
    pdf.drawCentredString(center, height - 10.7 * cm, completion.course_title)
    pdf.setFillColor(colors.black)
    pdf.setFont("Helvetica", 13)
    pdf.drawCentredString(
        center,
        height - 11.6 * cm,
        f"dengan bobot {jp_text(completion.jp)} JP (jam pelajaran), "
        f"pada {tanggal(completion.completed_at)}",
    )
    names = competency_names()
    targets = ", ".join(
        f"{c['code']}{' ' + names[c['code']] if c['code'] in names else ''} (level {c['level']})"
        for c in completion.competencies
    )
    if targets:
        style = ParagraphStyle("c", fontName="Helvetica", fontSize=11, leading=14, alignment=1)
        para = Paragraph(f"Kompetensi yang dikembangkan: {targets}", style)
        _w, h = para.wrap(width - 10 * cm, 3 * cm)
        para.drawOn(pdf, 5 * cm, height - 12.6 * cm - h)

    # QR code to the public verification page
    url = verify_url(completion.certificate_number)
    qr = io.BytesIO()
    segno.make(url, error="m").save(qr, kind="png", scale=6, border=2)
    qr.seek(0)
    size = 3.6 * cm
    pdf.drawImage(ImageReader(qr), width - 2.2 * cm - size, 2.2 * cm, size, size)
    pdf.setFont("Helvetica", 8)
    pdf.drawRightString(width - 2.2 * cm, 1.9 * cm, url)
    pdf.setFont("Helvetica", 10)
    pdf.drawString(
        2.4 * cm, 3.2 * cm, "Diterbitkan oleh Lentera, platform pengembangan kompetensi ASN."
    )
    pdf.drawString(
        2.4 * cm, 2.6 * cm, "Keaslian sertifikat dapat diperiksa dengan memindai kode QR."
    )
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def transcript_pdf(data: dict[str, Any]) -> bytes:
    """The transcript (riwayat belajar) as an A4 portrait document."""
    user: User = data["user"]
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=2 * cm,
        rightMargin=2 * cm,
        topMargin=2 * cm,
        bottomMargin=2 * cm,
        title=f"Riwayat Belajar {user.name}",
        author="Lentera",
    )
    styles = getSampleStyleSheet()
    small = ParagraphStyle("small", parent=styles["BodyText"], fontSize=9, leading=11)
    story: list[Any] = [
        Paragraph("Riwayat Belajar", styles["Title"]),
        Paragraph(
            f"<b>{_esc(user.name)}</b>" + (f" — NIP {user.nip}" if user.nip else ""),
            styles["BodyText"],
        ),
        Spacer(1, 0.4 * cm),
    ]
    rows = [["Tahun", "JP", "Target", "Status"]]
    for year, jp in data["jp_by_year"].items():
        rows.append(
            [
                str(year),
                jp_text(jp),
                str(data["target"]),
                "Terpenuhi" if jp >= data["target"] else "Belum terpenuhi",
            ]
        )
    if len(rows) == 1:
        rows.append([str(data["this_year"]), "0", str(data["target"]), "Belum terpenuhi"])
    story += [
        Paragraph("Jam pelajaran (JP) per tahun", styles["Heading2"]),
        _table(rows, [3 * cm, 3 * cm, 3 * cm, 5 * cm]),
        Spacer(1, 0.5 * cm),
        Paragraph("Pelatihan yang diselesaikan", styles["Heading2"]),
    ]
    rows = [["Tanggal", "Pelatihan", "JP", "Nomor sertifikat"]]
    for c in data["completions"]:
        rows.append(
            [
                tanggal(c.completed_at),
                Paragraph(_esc(c.course_title), small),
                jp_text(c.jp),
                Paragraph(_esc(getattr(c, "certificate_number", None) or "–"), small),
            ]
        )
    if len(rows) == 1:
        rows.append(["–", "Belum ada pelatihan yang diselesaikan", "", ""])
    story.append(_table(rows, [3.4 * cm, 7 * cm, 1.4 * cm, 5.2 * cm]))
    story += [
        Spacer(1, 0.6 * cm),
        Paragraph(
            "Setiap sertifikat dapat diperiksa keasliannya di "
            f"{_esc(current_app.config['BASE_URL'])}/verify/&lt;nomor&gt;.",
            small,
        ),
    ]
    doc.build(story)
    return buffer.getvalue()


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _table(rows: list[list[Any]], widths: list[float]) -> Table:
    table = Table(rows, colWidths=widths, repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("BACKGROUND", (0, 0), (-1, 0), TEAL),
                ("TEXTCOLOR", (0, 0), (-1, 0), colors.white),
                ("FONTNAME", (0, 0), (-1, 0), "Helvetica-Bold"),
                ("FONTSIZE", (0, 0), (-1, -1), 9),
                ("GRID", (0, 0), (-1, -1), 0.5, colors.grey),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, colors.HexColor("#eef5f6")]),
            ]
        )
    )
    return table
