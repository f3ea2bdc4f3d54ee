"""The app factory and the shared web plumbing."""

from __future__ import annotations

from pathlib import Path

from lms import create_app


def test_config_from_prefixed_environment(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("LMS_BASE_URL", "https://lentera.example.go.id/")
    app = create_app({"INSTANCE_PATH": str(tmp_path), "TESTING": True})
    assert app.config["BASE_URL"] == "https://lentera.example.go.id"
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["DATABASE_URL"] == f"sqlite:///{tmp_path / 'lentera.db'}"


def test_the_instance_folder_is_a_setting(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("LMS_INSTANCE_PATH", str(tmp_path / "elsewhere"))
    monkeypatch.delenv("LMS_DATABASE_URL", raising=False)
    app = create_app({"TESTING": True})
    assert app.instance_path == str(tmp_path / "elsewhere")
    assert app.config["DATABASE_URL"] == f"sqlite:///{tmp_path / 'elsewhere' / 'lentera.db'}"
    assert (tmp_path / "elsewhere" / "secret_key").exists()


def test_secret_key_is_generated_once_into_instance(tmp_path: Path) -> None:
    first = create_app({"INSTANCE_PATH": str(tmp_path)})
    second = create_app({"INSTANCE_PATH": str(tmp_path)})
    assert len(first.config["SECRET_KEY"]) == 64
    assert first.config["SECRET_KEY"] == second.config["SECRET_KEY"]
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_security_headers_on_every_page(client) -> None:
    response = client.get("/login")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp.split("style-src")[0]


def test_unknown_page_is_a_friendly_404_in_indonesian(client) -> None:
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert "Halaman tidak ditemukan" in response.get_data(as_text=True)


def test_the_app_freezes_what_it_built_and_sets_the_collectors_threshold(make_app) -> None:
    import gc

    before = gc.get_threshold()
    gc.unfreeze()
    try:
        make_app(GC_THRESHOLD=[1234, 5, 6], GC_FREEZE=True)
        assert gc.get_threshold() == (1234, 5, 6)
        assert gc.get_freeze_count() > 0
        gc.unfreeze()
        make_app(GC_THRESHOLD=None, GC_FREEZE=False)
        assert gc.get_threshold() == (1234, 5, 6)  # left alone
        assert gc.get_freeze_count() == 0
    finally:
        gc.set_threshold(*before)


def test_top_bar_has_each_modules_menu_entries_for_the_role(app, client, login_as) -> None:
    from lms.web import nav_partials

    with app.test_request_context():
        assert nav_partials("_admin_nav") == [
            "courses/_admin_nav.html", "lti/_admin_nav.html", "xapi/_admin_nav.html",
            "forwarding/_admin_nav.html", "mail/_admin_nav.html"]
        assert nav_partials("_user_nav") == ["mail/_user_nav.html"]
    login_as("admin")
    page = client.get("/").get_data(as_text=True)
    for entry in ("/admin/users", "/reports/", "/competency/team", "/admin/lrs/clients",
                  "/admin/mail/", "/notifications/"):
        assert f'href="{entry}' in page, entry
    login_as("learner")
    page = client.get("/").get_data(as_text=True)
    assert 'id="nav-dev"' in page and "/competency/" in page
    assert 'id="nav-hr"' not in page and 'id="nav-admin"' not in page
