"""Lesson rendering: Markdown (tables, images from the course folder) to safe HTML.

Raw HTML in lessons is not allowed (it is escaped); videos and embedded pages come from
fenced blocks (```` ```video ```` / ```` ```embed ```` with a URL) or the lesson's front
matter. Embeds and external videos must be https URLs on ``LMS_EMBED_ALLOWED_HOSTS``;
the output is sanitised with nh3 as a second line of defence.
"""

from __future__ import annotations

from html import escape
from typing import Any, cast
from urllib.parse import parse_qs, urlsplit

import nh3
from markdown_it import MarkdownIt
from markdown_it.renderer import RendererHTML
from markupsafe import Markup
from mdit_py_plugins.front_matter import front_matter_plugin

from lms.courses.format import VIDEO_SUFFIXES, embed_host_allowed

# Text formatting that lessons and community posts (:mod:`lms.community.markdown`) both
# allow; each lists what it allows beyond this.
TEXT_TAGS = {
    "p",
    "br",
    "hr",
    "h4",
    "h5",
    "h6",
    "strong",
    "em",
    "s",
    "code",
    "pre",
    "blockquote",
    "ul",
    "ol",
    "li",
    "a",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "div",
}
TEXT_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}, "div": {"class"}, "table": {"class"}}
ALLOWED_TAGS = TEXT_TAGS | {
    "h1",
    "h2",
    "h3",
    "img",
    "figure",
    "figcaption",
    "video",
    "source",
    "iframe",
    "span",
}
ALLOWED_ATTRIBUTES = {
    **TEXT_ATTRIBUTES,
    "img": {"src", "alt", "title", "loading"},
    "th": {"style"},
    "td": {"style"},
    "video": {"src", "controls", "preload", "class"},
    "source": {"src", "type"},
    "iframe": {
        "src",
        "title",
        "height",
        "allow",
        "allowfullscreen",
        "loading",
        "class",
        "referrerpolicy",
        "sandbox",
    },
    "span": {"class"},
}


def _youtube_embed(url: str) -> str | None:
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if host in ("youtu.be",):
        video = parts.path.strip("/")
    elif host.endswith("youtube.com") and parts.path == "/watch":
        video = (parse_qs(parts.query).get("v") or [""])[0]
    else:
        return None
    return (
        f"https://www.youtube-nocookie.com/embed/{video}"
        if video.isalnum() or "-" in video or "_" in video
        else None
    )


def media_html(
    kind: str, ref: str, asset_url: Any, allowed_hosts: list[str], title: str, height: int = 480
) -> str:
    """HTML for a video or embedded page; an unsafe reference renders as a notice."""
    title_attr = escape(title, quote=True)
    if kind == "video" and "://" not in ref and ref.lower().endswith(VIDEO_SUFFIXES):
        src = escape(asset_url(ref), quote=True)
        mime = "video/webm" if ref.lower().endswith(".webm") else "video/mp4"
        return (
            f'<div class="lesson-media"><video controls preload="metadata" class="w-100">'
            f'<source src="{src}" type="{mime}"></video></div>'
        )
    url = _youtube_embed(ref) or ref
    if not embed_host_allowed(url, allowed_hosts):
        return '<div class="lesson-media-blocked">⚠</div>'
    frame_class = "lesson-video" if kind == "video" else "lesson-embed"
    return (
        f'<div class="lesson-media"><iframe class="{frame_class}" src="{escape(url, quote=True)}" '
        f'title="{title_attr}" height="{int(height)}" loading="lazy" allowfullscreen '
        f'referrerpolicy="strict-origin-when-cross-origin" '
        f'sandbox="allow-scripts allow-same-origin allow-forms allow-presentation">'
        f"</iframe></div>"
    )


def _parser(asset_url: Any, allowed_hosts: list[str]) -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.enable("table").enable("strikethrough").use(front_matter_plugin)
    renderer = cast(RendererHTML, md.renderer)
    default_fence = renderer.rules.get("fence")

    def fence(tokens: Any, idx: int, options: Any, env: Any) -> str:
        token = tokens[idx]
        info = token.info.strip().lower()
        if info in ("video", "embed"):
            return media_html(info, token.content.strip(), asset_url, allowed_hosts, info)
        return default_fence(tokens, idx, options, env)  # type: ignore[misc]

    def image(tokens: Any, idx: int, options: Any, env: Any) -> str:
        token = tokens[idx]
        src = str(token.attrGet("src") or "")
        alt = escape(token.content or "", quote=True)
        if "://" in src or src.startswith(("//", "data:")):
            return f"[{alt}]"
        return f'<img src="{escape(asset_url(src), quote=True)}" alt="{alt}" loading="lazy">'

    rules: dict[str, Any] = renderer.rules
    rules["fence"] = fence
    rules["image"] = image
    return md


def _attribute_filter(allowed_hosts: list[str]) -> Any:
    def check(tag: str, attr: str, value: str) -> str | None:
        if tag == "iframe" and attr == "src":
            return value if embed_host_allowed(value, allowed_hosts) else None
        if attr == "style":
            return (
                value
                if value in ("text-align:left", "text-align:center", "text-align:right")
                else None
            )
        return value

    return check


def render_markdown(text: str, asset_url: Any, allowed_hosts: list[str]) -> Markup:
    """Render lesson Markdown to sanitised HTML; ``asset_url(ref)`` maps a course file."""
    html = _parser(asset_url, allowed_hosts).render(text or "")
    return sanitise_html(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        attribute_filter=_attribute_filter(allowed_hosts),
        link_rel="noopener noreferrer",
    )


#: Rendered Markdown of course versions by (version id, text, allowed hosts).
_RENDERED: dict[tuple[int, str, tuple[str, ...]], Markup] = {}


def render_version_markdown(
    version_id: int, text: str, asset_url: Any, allowed_hosts: list[str]
) -> Markup:
    """:func:`render_markdown` for Markdown of course version ``version_id`` (a lesson,
    a quiz question), kept per process: a version never changes, and a fresh parser per
    text was most of a quiz page's CPU. ``asset_url`` must be that version's."""
    key = (version_id, text or "", tuple(allowed_hosts))
    html = _RENDERED.get(key)
    if html is None:
        if len(_RENDERED) >= 2000:
            _RENDERED.clear()
        html = _RENDERED[key] = render_markdown(text, asset_url, allowed_hosts)
    return html


def sanitise_html(
    html: str,
    *,
    tags: set[str],
    attributes: dict[str, set[str]],
    link_rel: str,
    attribute_filter: Any = None,
) -> Markup:
    """``html`` rendered from Markdown, cleaned with nh3 down to ``tags`` and ``attributes``.

    Shared by lessons and community posts, which differ in what they allow and in the
    ``rel`` of their links.
    """
    clean = nh3.clean(
        html,
        tags=tags,
        attributes=attributes,
        attribute_filter=attribute_filter,
        url_schemes={"http", "https", "mailto"},
        link_rel=link_rel,
    )
    # Wide tables scroll inside their own box on phones.
    clean = clean.replace("<table>", '<div class="table-responsive"><table class="table table-sm">')
    clean = clean.replace("</table>", "</table></div>")
    return Markup(clean)
