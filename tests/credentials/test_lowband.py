"""Low bandwidth: compression, versioned long-cached static files, the service worker."""

from __future__ import annotations

import gzip
import re

GZIP = {"Accept-Encoding": "gzip, deflate, br"}


def test_pages_are_compressed_when_the_browser_accepts_it(client, users):
    plain = client.get("/login")
    assert plain.status_code == 200 and "Content-Encoding" not in plain.headers
    packed = client.get("/login", headers=GZIP)
    assert packed.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in packed.headers["Vary"]
    assert gzip.decompress(packed.data) == plain.data
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
