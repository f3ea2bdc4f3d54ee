"""The yearly JP statement as an A4 PDF HR can file (texts in Bahasa Indonesia, fonts
embedded), from :func:`lms.jp.service.statement`."""

from __future__ import annotations

import io
from typing import Any

from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import cm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer

from lms.courses.certificates import (
    FONT,
    FONT_BOLD,
    _esc,
    _table,
    jp_text,
    register_fonts,
    tanggal,
)
from lms.jp import kinds
from lms.jp.service import JpStatement

SOURCE_NAMES = {"course": "Kursus Lentera", "training": "Dicatat BKPSDM",
                "submission": "Diajukan pegawai", "external": "Platform lain"}
STATUS_NAMES = {"verified": "Terverifikasi", "pending": "Menunggu verifikasi",
                "returned": "Dikembalikan"}


def _kind(kind: str) -> str:
    found = kinds.type_of_kind(kind)
    if found is not None:
        return found.name
    from lms.reports.models import TrainingKind

    if kind == "course":
        return "E-Learning Lentera"
    try:
        return {"classroom": "Pelatihan klasikal", "seminar": "Seminar",
                "workshop": "Workshop", "coaching": "Coaching", "mentoring": "Mentoring",
                "secondment": "Detasering/magang", "university": "Kursus perguruan tinggi",
                "private": "Lembaga pelatihan swasta",
                "elearning": "E-learning di luar Lentera"}[TrainingKind(kind).value]
    except (ValueError, KeyError):
        return kind or "Lainnya"


def statement_pdf(data: JpStatement) -> bytes:
    user = data.user
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(buffer, pagesize=A4, leftMargin=2 * cm, rightMargin=2 * cm,
                            topMargin=2 * cm, bottomMargin=2 * cm,
                            title=f"Pernyataan JP {data.year} {user.name}", author="Lentera",
                            initialFontName=FONT)
    register_fonts()
    styles = getSampleStyleSheet()
    for style in styles.byName.values():
        if isinstance(style, ParagraphStyle):
            bold = style.fontName.endswith("-Bold") or style.name.startswith(("Heading",
                                                                              "Title"))
            style.fontName = FONT_BOLD if bold else FONT
    small = ParagraphStyle("small", parent=styles["BodyText"], fontSize=9, leading=11)
    unit = user.position.org_unit.name if user.position else ""
    story: list[Any] = [
        Paragraph(f"Pernyataan Jam Pelajaran (JP) Tahun {data.year}", styles["Title"]),
        Paragraph(f"<b>{_esc(user.name)}</b>" + (f" — NIP {user.nip}" if user.nip else "")
                  + (f"<br/>{_esc(user.position.name)}, {_esc(unit)}" if user.position else ""),
                  styles["BodyText"]),
        Spacer(1, 0.4 * cm),
        _table([["JP terverifikasi", "Target", "Status", "Menunggu verifikasi"],
                [jp_text(data.jp), str(data.target),
                 "Terpenuhi" if data.met else "Belum terpenuhi",
                 jp_text(data.pending_jp) + " JP"]],
               [4 * cm, 3 * cm, 4.5 * cm, 5.5 * cm]),
        Spacer(1, 0.3 * cm),
    ]
    percents = data.mix_percent()
    ten, twenty, seventy = (percents.get(route, 0) for route in (10, 20, 70))
    story.append(Paragraph(f"Komposisi 10:20:70 — terstruktur {ten}% · dari orang lain "
                           f"{twenty}% · di tempat kerja {seventy}%", small))
    story += [Spacer(1, 0.4 * cm), Paragraph("Sumber JP terverifikasi", styles["Heading2"])]
    rows: list[list[Any]] = [["Tanggal", "Pembelajaran", "Sumber", "JP"]]
    for item in data.items:
        rows.append([tanggal(item.completed_at),
                     Paragraph(f"{_esc(item.title)}<br/><font color='#555555'>"
                               f"{_esc(_kind(item.kind))} · {_esc(item.provider)}</font>", small),
                     Paragraph(SOURCE_NAMES.get(item.source, item.source), small),
                     jp_text(item.jp)])
    if len(rows) == 1:
        rows.append(["–", "Belum ada pembelajaran terverifikasi", "", ""])
    rows.append(["", Paragraph("<b>Jumlah</b>", small), "", jp_text(data.jp)])
    story.append(_table(rows, [3.6 * cm, 8.4 * cm, 3.2 * cm, 1.8 * cm]))
    if data.pending:
        story += [Spacer(1, 0.4 * cm),
                  Paragraph("Diajukan, belum dihitung", styles["Heading2"])]
        rows = [["Tanggal", "Pembelajaran", "Status", "JP"]]
        for item in data.pending:
            rows.append([tanggal(item.completed_at), Paragraph(_esc(item.title), small),
                         Paragraph(STATUS_NAMES.get(item.status, item.status), small),
                         jp_text(item.jp)])
        story.append(_table(rows, [3.6 * cm, 8.4 * cm, 3.2 * cm, 1.8 * cm]))
    story += [Spacer(1, 0.6 * cm), Paragraph(
        "Hak pengembangan kompetensi paling sedikit 20 JP setahun (PP 11/2017 pasal 203 "
        "ayat 4 sebagaimana diubah PP 17/2020); 1 JP = 45 menit. Hanya pembelajaran yang "
        "telah diverifikasi BKPSDM yang dihitung.", small)]
    register_fonts()
    doc.build(story)
    return buffer.getvalue()
