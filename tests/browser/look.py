"""What a person sees, measured in the browser: contrast of painted text, elements off
screen, pages that scroll sideways, and axe-core's accessibility rules.

Used by tests/browser/test_look.py and by bench/look.py (which walks every page of the demo
and prints what it finds, for a person fixing the faults).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

AXE = Path(__file__).resolve().parents[2] / "static" / "vendor" / "axe-core" / "axe.min.js"

#: The contrast ratio WCAG 2 (AA) asks of normal text.
MIN_CONTRAST = 4.5

# Contrast of the text of every element matched by `selector` against the background the
# browser paints behind it: the background colours of the element and its ancestors,
# composited from the first opaque one up (white under the page). Only visible elements
# with text of their own count. Returns [{text, ratio, color, background}].
CONTRAST_JS = r"""
(selector) => {
  const parse = (c) => {
    const m = c.match(/rgba?\(([^)]+)\)/);
    if (!m) return null;
    const p = m[1].split(/[ ,\/]+/).filter(Boolean).map(Number);
    return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1];
  };
  const over = (top, bottom) => {  // top composited over an opaque bottom
    const a = top[3];
    return [0, 1, 2].map(i => top[i] * a + bottom[i] * (1 - a)).concat([1]);
  };
  const lum = (c) => {
    const ch = c.slice(0, 3).map(v => {
      v /= 255;
      return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
    });
    return 0.2126 * ch[0] + 0.7152 * ch[1] + 0.0722 * ch[2];
  };
  const painted = (el) => {
    const layers = [];
    for (let node = el; node && node.nodeType === 1; node = node.parentElement) {
      const bg = parse(getComputedStyle(node).backgroundColor);
      if (bg && bg[3] > 0) {
        layers.push(bg);
        if (bg[3] >= 1) break;
      }
    }
    let colour = [255, 255, 255, 1];
    for (let i = layers.length - 1; i >= 0; i--) colour = over(layers[i], colour);
    return colour;
  };
  const ownText = (el) => Array.from(el.childNodes)
    .filter(n => n.nodeType === 3).map(n => n.textContent).join("").trim();
  const out = [];
  for (const root of document.querySelectorAll(selector)) {
    for (const el of [root, ...root.querySelectorAll("*")]) {
      const text = ownText(el);
      if (!text) continue;
      const rect = el.getBoundingClientRect();
      const style = getComputedStyle(el);
      if (!rect.width || !rect.height || style.visibility === "hidden" ||
          Number(style.opacity) === 0) continue;
      const bg = painted(el);
      let fg = parse(style.color);
      fg = over(fg, bg);
      const l1 = lum(fg), l2 = lum(bg);
      const ratio = (Math.max(l1, l2) + 0.05) / (Math.min(l1, l2) + 0.05);
      out.push({text: text.slice(0, 60), ratio: Math.round(ratio * 100) / 100,
                color: style.color, background: "rgb(" + bg.slice(0, 3).join(",") + ")"});
    }
  }
  return out;
}
"""

# Elements matched by `selector` that are visible but not wholly inside the viewport's
# width, or whose text wraps onto more lines than one (a label broken in two).
OFFSCREEN_JS = r"""
(selector) => {
  const out = [];
  const width = document.documentElement.clientWidth;
  for (const el of document.querySelectorAll(selector)) {
    const r = el.getBoundingClientRect();
    const style = getComputedStyle(el);
    if (!r.width || !r.height || style.visibility === "hidden") continue;
    const text = (el.innerText || el.getAttribute("aria-label") || "").trim().slice(0, 40);
    if (r.left < 0 || r.right > width + 0.5) {
      out.push({text, problem: "off-screen", left: r.left, right: r.right, width});
      continue;
    }
    const line = parseFloat(style.lineHeight) || parseFloat(style.fontSize) * 1.5;
    const pad = parseFloat(style.paddingTop) + parseFloat(style.paddingBottom) +
                parseFloat(style.borderTopWidth) + parseFloat(style.borderBottomWidth);
    if (r.height - pad > line * 1.6) out.push({text, problem: "wraps", height: r.height});
  }
  return out;
}
"""

# How far the page scrolls sideways beyond `width` (the phone's screen: a phone browser
# widens its layout viewport, and innerWidth with it, to fit a page that is too wide), and
# the outermost elements that make it do so.
SIDEWAYS_JS = r"""
(width) => {
  const doc = document.documentElement;
  const culprits = [];
  // Inside a box that scrolls or clips its own overflow, an element does not widen the page.
  const clipped = (el) => {
    for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
      if (["auto", "scroll", "hidden", "clip"].includes(getComputedStyle(p).overflowX)) return true;
    }
    return false;
  };
  if (doc.scrollWidth > width) {
    for (const el of document.body.querySelectorAll("*")) {
      const r = el.getBoundingClientRect();
      if (r.right > width + 1 && r.width > 0 && !clipped(el)) {
        // Only the outermost offender of each branch: its children follow it out.
        const parent = el.parentElement;
        const pr = parent ? parent.getBoundingClientRect() : null;
        if (pr && pr.right > width + 1 && parent !== document.body) continue;
        culprits.push(el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") +
          (el.className && typeof el.className === "string" ?
            "." + el.className.trim().split(/\s+/).join(".") : "") +
          " right=" + Math.round(r.right));
        if (culprits.length >= 5) break;
      }
    }
  }
  return {scrollWidth: doc.scrollWidth, width, culprits};
}
"""


def contrast_failures(page: Any, selector: str) -> list[dict[str, Any]]:
    """Text under ``selector`` whose contrast with its painted background is too low."""
    return [e for e in page.evaluate(CONTRAST_JS, selector) if e["ratio"] < MIN_CONTRAST]


def painted_entries(page: Any, selector: str) -> list[dict[str, Any]]:
    return page.evaluate(CONTRAST_JS, selector)


def offscreen(page: Any, selector: str) -> list[dict[str, Any]]:
    return page.evaluate(OFFSCREEN_JS, selector)


def sideways(page: Any, width: int = 390) -> dict[str, Any]:
    """``scrollWidth`` of the page and what sticks out, against a screen ``width`` wide."""
    return page.evaluate(SIDEWAYS_JS, width)


LOADED_WIDTH_JS = """img => img.complete
  ? img.naturalWidth
  : new Promise((done) => {
      img.addEventListener('load', () => done(img.naturalWidth), {once: true});
      img.addEventListener('error', () => done(0), {once: true});
    })"""


def loaded_width(image: Any) -> int:
    """``naturalWidth`` of an ``<img>`` once the browser has finished fetching it (0 if
    it is broken). Read straight after a navigation, the picture may still be arriving."""
    return int(image.evaluate(LOADED_WIDTH_JS))


def run_axe(page: Any) -> dict[str, Any]:
    """axe-core's WCAG 2 A/AA rules on the page: serious or critical violations, and the
    colour-contrast checks it could not decide ("needs review")."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        # Served by Lentera itself (static/vendor/, copied by scripts/vendor.py), so the
        # page's Content-Security-Policy (script-src 'self') lets it run unchanged.
        page.add_script_tag(url="/static/vendor/axe-core/axe.min.js")
    result = page.evaluate(
        """async () => {
          const r = await axe.run(document, {runOnly: {type: "tag",
            values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}, resultTypes:
            ["violations", "incomplete"]});
          const brief = (v) => ({id: v.id, impact: v.impact, help: v.help,
            nodes: v.nodes.map(n => ({target: n.target.join(" "), summary:
              (n.failureSummary || n.any.map(a => a.message).join("; ")).slice(0, 300)}))});
          return {violations: r.violations.map(brief),
                  incomplete: r.incomplete.filter(v => v.id === "color-contrast").map(brief)};
        }"""
    )
    result["serious"] = [v for v in result["violations"]
                         if v["impact"] in ("serious", "critical")]
    return result


#: Links a crawl does not follow: sign-out, files, APIs, players and other origins.
SKIP = re.compile(
    r"(/logout|/static/|/xapi/|/api/|\.(csv|xlsx|pdf|zip|json|jwt|svg|png|jpe?g)$|/download"
    r"|/export|/pdf|/xlsx|/csv|/launch|/play|/player|/lti/|/verify/|/file/|/files/)",
    re.IGNORECASE,
)


def route_key(path: str) -> str:
    """One page per route: numbers, NIPs and codes in the path stand for any."""
    return re.sub(r"/[^/]*[0-9][^/]*", "/N", path)


def crawl_targets(page: Any, base: str, start: list[str], limit: int = 40) -> list[str]:
    """Same-origin pages linked from the top bar and from the ``start`` pages (one level),
    one per route, at most ``limit``."""
    seen: dict[str, str] = {}

    def add(href: str) -> None:
        parts = urlsplit(href)
        if parts.netloc and f"{parts.scheme}://{parts.netloc}" != base:
            return
        path = parts.path or "/"
        if SKIP.search(path) or parts.query.startswith("format="):
            return
        key = route_key(path)
        if key not in seen and len(seen) < limit:
            seen[key] = path + (f"?{parts.query}" if parts.query else "")

    links_js = ("(sel) => Array.from(document.querySelectorAll(sel))"
                ".map(a => a.href).filter(h => h && h.startsWith('http'))")
    for href in page.evaluate(links_js, "nav a[href]"):
        add(href)
    for path in start + list(seen.values()):
        if len(seen) >= limit:
            break
        page.goto(path)
        for href in page.evaluate(links_js, "main a[href]"):
            add(href)
    return list(seen.values())


# One element's text colour against the colours painted behind it (as CONTRAST_JS does),
# and the background images under it: axe leaves text over an image undecided ("needs
# review"); Bootstrap's select caret, an SVG data: URL at the side, is one.
ONE_CONTRAST_JS = CONTRAST_JS.replace("(selector) => {", "(target) => {", 1).replace(
    "const out = [];", """const el = document.querySelector(target);
  if (!el) return null;
  const images = [];
  for (let node = el; node && node.nodeType === 1; node = node.parentElement) {
    const image = getComputedStyle(node).backgroundImage;
    if (image && image !== "none") images.push(image.slice(0, 40));
  }
  const bg = painted(el);
  const fg = over(parse(getComputedStyle(el).color), bg);
  const l1 = lum(fg), l2 = lum(bg);
  return {images, ratio: (Math.max(l1, l2) + 0.05) / (Math.min(l1, l2) + 0.05)};
  const out = [];""", 1)


def undecided_contrast(page: Any, incomplete: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The colour-contrast checks axe left undecided that stay undecided or too faint here.

    Text over a background image is decided when the only images are SVG data: URLs (the
    select caret, drawn beside the text, not under it) and the text reaches 4.5:1 against
    the colour painted behind it. Anything else stays undecided, and a test fails on it.
    """
    left = []
    for rule in incomplete:
        for node in rule["nodes"]:
            info = page.evaluate(ONE_CONTRAST_JS, node["target"])
            if (info is not None and "background image" in node["summary"]
                    and all(i.startswith('url("data:image/svg+xml') for i in info["images"])
                    and info["ratio"] >= MIN_CONTRAST):
                continue
            left.append({**node, "measured": info})
    return left


def walk(page: Any, base: str, start: list[str], limit: int, visit: Any) -> list[str]:
    """Visit same-origin pages breadth-first from the top bar's links and ``start`` (one per
    route, at most ``limit``), calling ``visit(path, response)`` on each; the links of the
    pages visited first are followed too. Returns the paths visited."""
    links_js = ("(sel) => Array.from(document.querySelectorAll(sel))"
                ".map(a => a.href).filter(h => h && h.startsWith('http'))")
    queue: list[str] = []
    seen: set[str] = set()

    def add(href: str) -> None:
        parts = urlsplit(href)
        if parts.netloc and f"{parts.scheme}://{parts.netloc}" != base:
            return
        path = parts.path or "/"
        if SKIP.search(path) or parts.query.startswith("format="):
            return
        key = route_key(path)
        if key not in seen and len(seen) < limit:
            seen.add(key)
            queue.append(path + (f"?{parts.query}" if parts.query else ""))

    for path in start:
        add(base + path)
    page.goto(start[0])
    for href in page.evaluate(links_js, "nav a[href]"):
        add(href)
    visited = []
    while queue:
        path = queue.pop(0)
        response = page.goto(path)
        visit(path, response)
        visited.append(path)
        for href in page.evaluate(links_js, "main a[href]"):
            add(href)
    return visited
