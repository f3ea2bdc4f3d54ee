"""PDF documents: the completion certificate (with a QR code to its public verification
page) and the learner's transcript (riwayat belajar). Texts are in Bahasa Indonesia,
the language of the documents ASN hand to their agency.

The certificate names who issues it: the agency of the holder's Pemda, its logo and the
signatory (name, NIP, title), set per Pemda on *Administration → Certificates*
(:class:`~lms.courses.models.CertificateIssuer`) or by the ``CERTIFICATE_*`` settings
(:func:`issuer_for`). Its fonts are embedded: Bitstream Vera, which reportlab ships with
its licence (bitstream-vera-license.txt beside the fonts), so the PDF looks the same in
every reader and prints the Indonesian text as written.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import segno
import sqlalchemy as sa
from flask import current_app
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import cm
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen import canvas
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from lms.courses.models import CertificateIssuer, Completion
from lms.db import get_session, utcnow
from lms.errors import ValidationError
from lms.people.models import OrgUnit, User

LOCAL_TZ = ZoneInfo("Asia/Jakarta")
#: The embedded font family (Bitstream Vera, shipped with reportlab).
FONT, FONT_BOLD, FONT_ITALIC = "LenteraSans", "LenteraSans-Bold", "LenteraSans-Oblique"
_FONT_FILES = {FONT: "Vera.ttf", FONT_BOLD: "VeraBd.ttf", FONT_ITALIC: "VeraIt.ttf",
               "LenteraSans-BoldOblique": "VeraBI.ttf"}


def register_fonts() -> None:
    """Register the embedded TrueType family once per process (reportlab embeds a subset
    of every TrueType font a document uses)."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    if FONT in pdfmetrics.getRegisteredFontNames():
        return
    for name, filename in _FONT_FILES.items():
        pdfmetrics.registerFont(TTFont(name, filename))
    pdfmetrics.registerFontFamily(FONT, normal=FONT, bold=FONT_BOLD, italic=FONT_ITALIC,
                                  boldItalic="LenteraSans-BoldOblique")


def local_tz() -> ZoneInfo:
    """The Pemda's time zone (``BABEL_DEFAULT_TIMEZONE``; WIB by default)."""
    try:
        return ZoneInfo(str(current_app.config.get("BABEL_DEFAULT_TIMEZONE") or "Asia/Jakarta"))
    except (KeyError, ValueError, RuntimeError):
        return LOCAL_TZ
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
    """A date the Indonesian way, in the Pemda's time zone: ``23 November 2026``."""
    if isinstance(when, dt.datetime) and when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)  # stored naive values are UTC
    local = when.astimezone(local_tz()) if isinstance(when, dt.datetime) else when
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


#: The read-mostly cache (lms.readcache) of the competency names.
NAMES_CACHE = "competency-names"


def competency_names() -> dict[str, str]:
    """Names of competency codes: the competency module's dictionary when installed (kept
    per process until a competency changes; do not change the dictionary)."""
    from lms import MODULES

    if "lms.competency" not in MODULES:
        return COMPETENCY_NAMES
    from lms import readcache
    from lms.competency.models import Competency

    def compute() -> dict[str, str]:
        import sqlalchemy as sa

        from lms.db import get_session

        # Codes and names only: all_competencies() also loads every competency's levels
        # (descriptions and indicators): a second query and ~75 objects on each course page.
        rows = get_session().execute(sa.select(Competency.code, Competency.name))
        return {**COMPETENCY_NAMES, **dict(rows.all())}

    return readcache.cached(NAMES_CACHE, "names", compute)


def _watch_competency_names() -> None:
    """Every process that can change a competency (each builds the app, which imports this
    module) moves the names' stamp when it does."""
    from lms import MODULES, readcache

    if "lms.competency" in MODULES:
        from lms.competency.models import Competency

        readcache.watch(NAMES_CACHE, Competency)


_watch_competency_names()


# --- who issues the certificate ------------------------------------------------------------


@dataclass
class Issuer:
    """What a certificate says about who issued it."""

    issuer_name: str
    agency_name: str = ""
    signatory_name: str = ""
    signatory_nip: str = ""
    signatory_title: str = ""
    place: str = ""
    logo: Path | None = None


#: Fields of an issuer, with their longest allowed length.
ISSUER_FIELDS = {"issuer_name": 200, "agency_name": 200, "signatory_name": 200,
                 "signatory_nip": 18, "signatory_title": 200, "place": 100}
LOGO_MAX_BYTES = 1024 * 1024
LOGO_MAX_PIXELS = 2000


def pemda_of(user: User) -> OrgUnit | None:
    """The root org unit (the Pemda) above the holder's current position."""
    position = user.position
    if position is None:
        return None
    parts = [p for p in (position.org_unit.path or "").strip("/").split("/") if p.isdigit()]
    return get_session().get(OrgUnit, int(parts[0])) if parts else position.org_unit


def logo_dir() -> Path:
    return Path(current_app.config["UPLOAD_DIR"]) / "certificates"


def issuer_row(unit: OrgUnit | None) -> CertificateIssuer | None:
    """The stored issuer of a Pemda (``unit``), or of the installation (None)."""
    query = sa.select(CertificateIssuer)
    query = query.where(CertificateIssuer.org_unit_id.is_(None) if unit is None
                        else CertificateIssuer.org_unit_id == unit.id)
    return get_session().scalar(query.order_by(CertificateIssuer.id).limit(1))


def issuer_for(user: User | None) -> Issuer:
    """Who issues ``user``'s certificates: see :func:`issuer_of` their Pemda."""
    return issuer_of(pemda_of(user) if user is not None else None)


def issuer_of(unit: OrgUnit | None) -> Issuer:
    """The issuer of a Pemda: its stored issuer, else the installation's, field by field,
    else the ``CERTIFICATE_*`` settings, else the Pemda's own name."""
    config = current_app.config
    rows = [r for r in (issuer_row(unit) if unit is not None else None, issuer_row(None))
            if r is not None]

    def pick(field: str) -> str:
        for row in rows:
            value = getattr(row, field) or ""
            if value.strip():
                return str(value).strip()
        return str(config.get(f"CERTIFICATE_{field.upper()}") or "").strip()

    name = pick("issuer_name") or (unit.name if unit is not None else "") or "Lentera"
    logo = None
    for row in rows:
        if row.logo and (logo_dir() / row.logo).is_file():
            logo = logo_dir() / row.logo
            break
    if logo is None and config.get("CERTIFICATE_LOGO"):
        candidate = Path(str(config["CERTIFICATE_LOGO"]))
        logo = candidate if candidate.is_file() else None
    return Issuer(issuer_name=name, agency_name=pick("agency_name"),
                  signatory_name=pick("signatory_name"),
                  signatory_nip=pick("signatory_nip"),
                  signatory_title=pick("signatory_title"), place=pick("place"), logo=logo)


def clean_issuer(values: dict[str, Any]) -> dict[str, str]:
    """The issuer's fields, checked: text of a sensible length, no control characters, the
    NIP 18 digits (or empty). Raises ValidationError naming the field."""
    from flask_babel import gettext as _

    clean: dict[str, str] = {}
    for field, limit in ISSUER_FIELDS.items():
        raw = values.get(field)
        text = " ".join(str(raw if raw is not None else "").split())
        if any(ord(ch) < 32 and not ch.isspace() for ch in text):
            raise ValidationError(_("The text contains a character that is not allowed."),
                                  field=field)
        if len(text) > limit:
            raise ValidationError(_("At most %(n)d characters.", n=limit), field=field)
        clean[field] = text
    nip = clean["signatory_nip"].replace(" ", "")
    if nip and (not (nip.isascii() and nip.isdigit()) or len(nip) != 18):
        raise ValidationError(_("A NIP has 18 digits."), field="signatory_nip")
    clean["signatory_nip"] = nip
    return clean


def read_logo(data: bytes) -> bytes:
    """A logo upload, checked and re-encoded as PNG (metadata dropped): PNG or JPEG, at
    most 1 MB and 2000 pixels a side. Raises ValidationError."""
    import warnings

    from flask_babel import gettext as _
    from PIL import Image

    if not data:
        raise ValidationError(_("Choose a PNG or JPEG image."), field="logo")
    if len(data) > LOGO_MAX_BYTES:
        raise ValidationError(_("The logo may be at most 1 MB."), field="logo")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image: Any = Image.open(io.BytesIO(data))
            if image.format not in ("PNG", "JPEG"):
                raise ValidationError(_("Choose a PNG or JPEG image."), field="logo")
            width, height = image.size
            if not (0 < width <= LOGO_MAX_PIXELS and 0 < height <= LOGO_MAX_PIXELS):
                raise ValidationError(_("The logo may be at most %(n)d pixels wide and high.",
                                        n=LOGO_MAX_PIXELS), field="logo")
            image.load()
            if image.mode not in ("RGB", "RGBA", "L", "LA"):
                image = image.convert("RGBA")
            out = io.BytesIO()
            image.save(out, format="PNG", optimize=True)
    except ValidationError:
        raise
    except Exception:  # truncated, corrupt, a bomb: not a usable image
        raise ValidationError(_("The file is not a readable PNG or JPEG image."),
                              field="logo") from None
    return out.getvalue()


def save_issuer(unit: OrgUnit | None, values: dict[str, Any], *, logo: bytes | None = None,
                remove_logo: bool = False, by: User | None = None) -> CertificateIssuer:
    """Store the issuer of ``unit`` (a Pemda) or of the installation (None). ``logo``: the
    uploaded bytes (checked by :func:`read_logo`). Flushes; the file is written first and
    an old one left behind is harmless."""
    import secrets

    clean = clean_issuer(values)
    png = read_logo(logo) if logo else None
    session = get_session()
    row = issuer_row(unit)
    if row is None:
        row = CertificateIssuer(org_unit_id=unit.id if unit is not None else None)
        session.add(row)
    for field, value in clean.items():
        setattr(row, field, value)
    if png is not None:
        folder = logo_dir()
        folder.mkdir(parents=True, exist_ok=True)
        name = f"logo-{secrets.token_hex(8)}.png"
        (folder / name).write_bytes(png)
        row.logo = name
    elif remove_logo:
        row.logo = None
    row.updated_at = utcnow()
    row.updated_by_id = by.id if by is not None else None
    session.flush()
    return row


def pemdas() -> list[OrgUnit]:
    """The root org units: the Pemda(s) of this installation."""
    return list(get_session().scalars(sa.select(OrgUnit).where(OrgUnit.parent_id.is_(None))
                                      .order_by(OrgUnit.name)))


# --- the documents ---------------------------------------------------------------------------


def _canvas(*args: Any, **kwargs: Any) -> canvas.Canvas:
    """A canvas whose starting font is the embedded one (the default would add an
    unembedded Helvetica to every page)."""
    register_fonts()
    kwargs.setdefault("initialFontName", FONT)
    return canvas.Canvas(*args, **kwargs)


def _fit(pdf: Any, text: str, font: str, size: float, width: float, smallest: float = 9
         ) -> float:
    """The font size at which ``text`` fits ``width`` (never below ``smallest``)."""
    from reportlab.pdfbase.pdfmetrics import stringWidth

    while size > smallest and stringWidth(text, font, size) > width:
        size -= 0.5
    return size


def certificate_pdf(completion: Completion, user: User, _path: str = "", *,
                    issuer: Issuer | None = None, what: str = "pelatihan") -> bytes:
    """A one-page A4 landscape certificate for ``completion``, issued by the holder's
    Pemda (:func:`issuer_for`, or ``issuer``), with embedded fonts and a QR code to its
    verification page. ``completion`` needs ``certificate_number``, ``course_title``,
    ``jp``, ``completed_at`` and ``competencies`` (a learning program's certificate passes
    its own, with ``what="program pembelajaran"``)."""
    register_fonts()
    issuer = issuer or issuer_for(user)
    buffer = io.BytesIO()
    width, height = landscape(A4)
    pdf = _canvas(buffer, pagesize=(width, height))
    pdf.setTitle(f"Sertifikat {completion.certificate_number}")
    pdf.setAuthor(issuer.issuer_name)
    pdf.setCreator("Lentera")
    # Frame
    pdf.setStrokeColor(TEAL)
    pdf.setLineWidth(6)
    pdf.rect(1 * cm, 1 * cm, width - 2 * cm, height - 2 * cm)
    pdf.setStrokeColor(GOLD)
    pdf.setLineWidth(1.5)
    pdf.rect(1.4 * cm, 1.4 * cm, width - 2.8 * cm, height - 2.8 * cm)

    center = width / 2
    inner = width - 6 * cm
    top = height - 2.1 * cm
    # Who issues it: logo, issuer, agency.
    if issuer.logo is not None:
        try:
            logo = ImageReader(str(issuer.logo))
            lw, lh = logo.getSize()
            box = 2.2 * cm
            scale = min(box / lw, box / lh)
            pdf.drawImage(logo, center - lw * scale / 2, top - lh * scale, lw * scale,
                          lh * scale, mask="auto")
            top -= box + 0.35 * cm
        except Exception:  # an unreadable file prints no logo rather than no certificate
            top -= 0.2 * cm
    pdf.setFillColor(colors.black)
    size = _fit(pdf, issuer.issuer_name.upper(), FONT_BOLD, 13, inner)
    pdf.setFont(FONT_BOLD, size)
    pdf.drawCentredString(center, top - 0.4 * cm, issuer.issuer_name.upper())
    top -= 0.55 * cm
    if issuer.agency_name:
        size = _fit(pdf, issuer.agency_name, FONT, 11.5, inner)
        pdf.setFont(FONT, size)
        pdf.drawCentredString(center, top - 0.4 * cm, issuer.agency_name)
        top -= 0.55 * cm

    pdf.setFillColor(TEAL)
    pdf.setFont(FONT_BOLD, 28)
    pdf.drawCentredString(center, top - 1.4 * cm, "SERTIFIKAT")
    pdf.setFillColor(colors.black)
    pdf.setFont(FONT, 12)
    pdf.drawCentredString(center, top - 2.1 * cm, f"Nomor: {completion.certificate_number}")
    pdf.drawCentredString(center, top - 3.0 * cm, "diberikan kepada")
    size = _fit(pdf, user.name, FONT_BOLD, 22, inner)
    pdf.setFont(FONT_BOLD, size)
    pdf.drawCentredString(center, top - 4.0 * cm, user.name)
    pdf.setFont(FONT, 12)
    if user.nip:
        pdf.drawCentredString(center, top - 4.7 * cm, f"NIP {user.nip}")
    pdf.drawCentredString(center, top - 5.6 * cm, f"yang telah menyelesaikan {what}")
    size = _fit(pdf, completion.course_title, FONT_BOLD, 17, inner)
    pdf.setFont(FONT_BOLD, size)
    pdf.setFillColor(TEAL)
    pdf.drawCentredString(center, top - 6.5 * cm, completion.course_title)
    pdf.setFillColor(colors.black)
    pdf.setFont(FONT, 12)
    pdf.drawCentredString(
        center,
        top - 7.3 * cm,
        f"dengan bobot {jp_text(completion.jp)} JP (jam pelajaran), "
        f"pada {tanggal(completion.completed_at)}",
    )
    names = competency_names()
    targets = ", ".join(
        f"{c['code']}{' ' + names[c['code']] if c['code'] in names else ''} (tingkat {c['level']})"
        for c in completion.competencies
    )
    if targets:
        style = ParagraphStyle("c", fontName=FONT, fontSize=10, leading=13, alignment=1)
        para = Paragraph(_esc(f"Kompetensi yang dikembangkan: {targets}"), style)
        _w, h = para.wrap(width - 12 * cm, 2 * cm)
        para.drawOn(pdf, 6 * cm, top - 7.7 * cm - h)

    # The signatory, bottom right.
    sign_x = width - 7.2 * cm
    y = 5.6 * cm
    pdf.setFont(FONT, 11)
    place = f"{issuer.place}, " if issuer.place else ""
    pdf.drawCentredString(sign_x, y, f"{place}{tanggal(completion.completed_at)}")
    if issuer.signatory_title:
        title_size = _fit(pdf, issuer.signatory_title, FONT, 11, 9 * cm)
        pdf.setFont(FONT, title_size)
        pdf.drawCentredString(sign_x, y - 0.55 * cm, issuer.signatory_title)
    if issuer.signatory_name:
        name_size = _fit(pdf, issuer.signatory_name, FONT_BOLD, 11.5, 9 * cm)
        pdf.setFont(FONT_BOLD, name_size)
        pdf.drawCentredString(sign_x, y - 2.6 * cm, issuer.signatory_name)
        from reportlab.pdfbase.pdfmetrics import stringWidth

        line = stringWidth(issuer.signatory_name, FONT_BOLD, name_size) / 2
        pdf.setLineWidth(0.6)
        pdf.setStrokeColor(colors.black)
        pdf.line(sign_x - line, y - 2.7 * cm, sign_x + line, y - 2.7 * cm)
    if issuer.signatory_nip:
        pdf.setFont(FONT, 10.5)
        pdf.drawCentredString(sign_x, y - 3.15 * cm, f"NIP {issuer.signatory_nip}")

    # QR code to the public verification page, bottom left.
    url = verify_url(completion.certificate_number)
    qr = io.BytesIO()
    segno.make(url, error="m").save(qr, kind="png", scale=6, border=2)
    qr.seek(0)
    size = 3.2 * cm
    pdf.drawImage(ImageReader(qr), 2.2 * cm, 2.2 * cm, size, size)
    pdf.setFont(FONT, 8.5)
    pdf.drawString(5.7 * cm, 4.6 * cm, "Keaslian sertifikat ini dapat diperiksa dengan")
    pdf.drawString(5.7 * cm, 4.2 * cm, "memindai kode QR atau membuka:")
    pdf.drawString(5.7 * cm, 3.8 * cm, url)
    pdf.setFont(FONT, 7.5)
    pdf.setFillColor(colors.HexColor("#555555"))
    pdf.drawString(5.7 * cm, 2.4 * cm, f"Diterbitkan oleh {issuer.issuer_name} melalui Lentera.")
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
        initialFontName=FONT,
    )
    register_fonts()
    styles = getSampleStyleSheet()
    for style in styles.byName.values():  # embedded fonts, not the unembedded Helvetica
        if isinstance(style, ParagraphStyle):
            bold = style.fontName.endswith("-Bold") or style.name.startswith(("Heading",
                                                                              "Title"))
            style.fontName = FONT_BOLD if bold else FONT
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
        Paragraph("Pembelajaran yang diselesaikan", styles["Heading2"]),
    ]
    rows = [["Tanggal", "Pelatihan", "JP", "Nomor sertifikat"]]
    for c in data["completions"]:
        rows.append(
            [
                tanggal(c.completed_at),
                Paragraph(_esc(c.course_title) + (
                    f"<br/><font color='#555555'>{_esc(c.provider)}</font>"
                    if getattr(c, "provider", "") else ""), small),
                jp_text(c.jp),
                Paragraph(_esc(getattr(c, "certificate_number", None) or "–"), small),
            ]
        )
    if len(rows) == 1:
        rows.append(["–", "Belum ada pelatihan yang diselesaikan", "", ""])
    story.append(_table(rows, [3.4 * cm, 7 * cm, 1.4 * cm, 5.2 * cm]))
    pending = data.get("pending") or []
    if pending:
        rows = [["Tanggal", "Pembelajaran", "JP", "Status"]]
        for p in pending:
            rows.append([tanggal(p.completed_at), Paragraph(_esc(p.title), small),
                         jp_text(p.jp), "Dikembalikan" if p.status == "returned"
                         else "Menunggu verifikasi"])
        story += [Spacer(1, 0.5 * cm),
                  Paragraph("Diajukan, belum dihitung", styles["Heading2"]),
                  _table(rows, [3.4 * cm, 7 * cm, 1.4 * cm, 5.2 * cm])]
    story += [
        Spacer(1, 0.6 * cm),
        Paragraph(
            "Setiap sertifikat dapat diperiksa keasliannya di "
            f"{_esc(current_app.config['BASE_URL'])}/verify/&lt;nomor&gt;.",
            small,
        ),
    ]
    register_fonts()
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
                ("FONTNAME", (0, 0), (-1, -1), FONT),
                ("FONTNAME", (0, 0), (-1, 0), FONT_BOLD),
                ("FONTSIZE", (0, 0), (-1, -1), 9),
                ("GRID", (0, 0), (-1, -1), 0.5, colors.grey),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, colors.HexColor("#eef5f6")]),
            ]
        )
    )
    return table
