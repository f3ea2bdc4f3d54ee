"""Low bandwidth: compression, versioned long-cached static files, the service worker."""

from __future__ import annotations

import gzip
import os
import re

GZIP = {"Accept-Encoding": "gzip, deflate, br"}


def _untokened(html: bytes) -> bytes:
    return re.sub(rb'(name="csrf_token" value=")[^"]*"', rb'\1"', html)


def test_pages_are_compressed_when_the_browser_accepts_it(client, users):
    plain = client.get("/login")
    assert plain.status_code == 200 and "Content-Encoding" not in plain.headers
    packed = client.get("/login", headers=GZIP)
    assert packed.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in packed.headers["Vary"]
    # the same page, but for the CSRF token, which carries the second it was signed in
    assert _untokened(gzip.decompress(packed.data)) == _untokened(plain.data)
    assert len(packed.data) < len(plain.data) / 2
    refused = client.get("/login", headers={"Accept-Encoding": "gzip;q=0, identity"})
    assert "Content-Encoding" not in refused.headers


def test_static_files_have_versioned_urls_and_long_cache(client, users):
    html = client.get("/login").get_data(as_text=True)
    urls = re.findall(r'(?:href|src)="(/(?:bootstrap/)?static/[^"]+)"', html)
    assert urls and all(re.search(r"[?&]v=[0-9a-f]{12}", u) for u in urls), urls
    css = next(u for u in urls if "bootstrap.min.css" in u)
    response = client.get(css.replace("&amp;", "&"), headers=GZIP)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert response.headers["Content-Encoding"] == "gzip"
    raw = client.get(css.replace("&amp;", "&"))
    assert gzip.decompress(response.data) == raw.data
    raw.close()
    # a second compressed request is served from the in-memory copy, same bytes
    assert client.get(css.replace("&amp;", "&"), headers=GZIP).data == response.data
    # without a version the file is revalidated as before
    unversioned = client.get("/static/css/app.css")
    assert "immutable" not in unversioned.headers.get("Cache-Control", "")
    unversioned.close()


def test_small_and_lrs_responses_are_left_alone(client, users):
    assert "Content-Encoding" not in client.get("/xapi/about", headers=GZIP).headers
    svg = client.get("/static/img/lentera.svg", headers=GZIP)
    assert "Content-Encoding" not in svg.headers  # under 500 bytes
    svg.close()


def test_service_worker_and_offline_page(client):
    sw = client.get("/sw.js")
    assert sw.status_code == 200 and sw.mimetype == "text/javascript"
    assert sw.headers["Service-Worker-Allowed"] == "/"
    assert "no-cache" in sw.headers["Cache-Control"]
    assert b"lentera-lessons-v1" in sw.data
    sw.close()
    offline = client.get("/offline").get_data(as_text=True)
    assert "Anda sedang offline" in offline and 'id="saved-lessons"' in offline


def test_every_page_carries_the_offline_strings(client, login_as):
    login_as("learner")
    html = client.get("/").get_data(as_text=True)
    assert 'id="lentera-offline"' in html
    assert 'data-save="Simpan untuk dibaca offline"' in html
    assert 'data-sw="/sw.js"' in html


def test_revalidating_a_compressed_file_gets_not_modified(client):
    first = client.get("/static/css/courses.css", headers=GZIP)
    assert first.headers["Content-Encoding"] == "gzip" and first.headers["ETag"].endswith('-gzip"')
    again = client.get(
        "/static/css/courses.css", headers={**GZIP, "If-None-Match": first.headers["ETag"]}
    )
    assert again.status_code == 304 and again.data == b""


def test_a_changed_static_file_gets_a_new_version_after_the_recheck_time(
        app, tmp_path, monkeypatch):
    from lms.credentials import lowband

    monkeypatch.setattr(app, "static_folder", str(tmp_path))
    monkeypatch.setattr(lowband, "_versions", {})
    monkeypatch.setattr(app, "debug", False)
    asset = tmp_path / "site.css"
    asset.write_text("body { color: black }")
    clock = [1000.0]
    monkeypatch.setattr(lowband.time, "monotonic", lambda: clock[0])
    first = lowband.file_version(app, "static", "site.css")
    assert first and len(first) == 12

    asset.write_text("body { color: navy }")
    os.utime(asset, (2_000_000_000, 2_000_000_000))
    clock[0] += lowband.RECHECK_SECONDS / 2  # within the recheck time: not looked at
    assert lowband.file_version(app, "static", "site.css") == first
    clock[0] += lowband.RECHECK_SECONDS  # after it: the new content's version
    second = lowband.file_version(app, "static", "site.css")
    assert second and second != first
    # in debug mode every call looks at the file
    monkeypatch.setattr(app, "debug", True)
    asset.write_text("body { color: teal }")
    os.utime(asset, (2_000_000_100, 2_000_000_100))
    assert lowband.file_version(app, "static", "site.css") not in (first, second, None)
    asset.unlink()
    assert lowband.file_version(app, "static", "site.css") is None
