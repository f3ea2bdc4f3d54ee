"""Sign-in, sign-out, password change, rate limits, CSRF and role checks."""

from __future__ import annotations

import pytest

from lms.people import service
from tests import factories


def test_sign_in_by_email(client, auth, users) -> None:
    response = auth.login("learner@test.lentera.local")
    assert response.status_code == 302
    assert client.get("/").status_code == 200


def test_sign_in_by_nip_with_spaces(client, auth, users) -> None:
    nip = users["learner"].nip
    response = auth.login(f"{nip[:8]} {nip[8:14]} {nip[14:]}")
    assert response.status_code == 302


def test_wrong_password_is_refused_with_a_message(client, auth, users) -> None:
    response = auth.login("learner@test.lentera.local", "wrong-password-9")
    assert response.status_code == 400
    assert "NIP/surel atau kata sandi tidak benar" in response.get_data(as_text=True)
    assert client.get("/").status_code == 302


def test_inactive_user_cannot_sign_in(client, auth, users, db) -> None:
    users["learner"].active = False
    db.commit()
    assert auth.login("learner@test.lentera.local").status_code == 400


def test_pages_need_sign_in(client) -> None:
    response = client.get("/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=/")


@pytest.mark.parametrize("target", [
    "//evil.example/x", "/%09/evil.example", "/%0a/evil.example", "/%0d%0a/evil.example",
    "/%5C/evil.example", "/%5Cevil.example", "https://evil.example/", "/%7F/evil.example",
    "/%20/evil.example", "%2F%2Fevil.example",
])
def test_next_parameter_cannot_redirect_off_site(client, auth, users, target) -> None:
    """Browsers drop tabs and line breaks in URLs and read backslashes as slashes, so each
    of these would land on evil.example."""
    response = client.post(
        f"/login?next={target}",
        data={"identifier": "learner@test.lentera.local", "password": factories.PASSWORD},
    )
    assert response.headers["Location"] == "/"


def test_next_parameter_keeps_a_path_of_this_site(client, auth, users) -> None:
    response = client.post(
        "/login?next=/courses/x%3Fa%3D1",
        data={"identifier": "learner@test.lentera.local", "password": factories.PASSWORD},
    )
    assert response.headers["Location"] == "/courses/x?a=1"


def test_sign_out(client, auth, users) -> None:
    auth.login("learner@test.lentera.local")
    assert auth.logout().status_code == 302
    assert client.get("/").status_code == 302


def _cookie(client, name: str) -> str | None:
    cookie = client.get_cookie(name)
    return cookie.value if cookie is not None else None


def test_sign_out_ends_the_session_and_remember_cookie_on_the_server(app, client, users):
    """A session or remember-me cookie copied before sign-out signs nobody in after it."""
    response = client.post("/login", data={"identifier": "learner@test.lentera.local",
                                           "password": factories.PASSWORD, "remember": "y"})
    assert response.status_code == 302
    session_cookie = _cookie(client, "session")
    remember_cookie = _cookie(client, "remember_token")
    assert session_cookie and remember_cookie
    client.post("/logout")
    for name, value in (("session", session_cookie), ("remember_token", remember_cookie)):
        thief = app.test_client()
        thief.set_cookie(name, value)
        assert thief.get("/").status_code == 302, name


def test_change_password_checks_the_current_one(client, login_as, db) -> None:
    login_as("learner")
    response = client.post(
        "/account/password",
        data={
            "current_password": "not-my-password-1",
            "new_password": "a-new-pass-22",
            "confirm": "a-new-pass-22",
        },
    )
    assert response.status_code == 400
    assert "Kata sandi saat ini tidak benar" in response.get_data(as_text=True)


def test_change_password_ends_other_sessions(app, client, auth, users, db) -> None:
    other = app.test_client()
    other.post(
        "/login", data={"identifier": "learner@test.lentera.local", "password": factories.PASSWORD}
    )
    assert other.get("/").status_code == 200
    auth.login("learner@test.lentera.local")
    response = client.post(
        "/account/password",
        data={
            "current_password": factories.PASSWORD,
            "new_password": "a-new-pass-22",
            "confirm": "a-new-pass-22",
        },
    )
    assert response.status_code == 302
    assert client.get("/").status_code == 200
    assert other.get("/").status_code == 302
    db.expire_all()  # the request changed the user in its own session
    assert service.authenticate("learner@test.lentera.local", "a-new-pass-22") is not None


def test_weak_new_password_is_refused(client, login_as) -> None:
    login_as("learner")
    response = client.post(
        "/account/password",
        data={
            "current_password": factories.PASSWORD,
            "new_password": "abcdefghijkl",
            "confirm": "abcdefghijkl",
        },
    )
    assert response.status_code == 400
    assert "menggabungkan huruf" in response.get_data(as_text=True)


def test_login_attempts_are_rate_limited(make_app) -> None:
    app = make_app(RATELIMIT_ENABLED=True, LOGIN_RATE_LIMIT="3 per minute")
    client = app.test_client()
    codes = [
        client.post("/login", data={"identifier": "x@y.id", "password": "p"}).status_code
        for _ in range(4)
    ]
    assert codes[:3] == [400, 400, 400]
    assert codes[3] == 429


def test_forms_need_a_csrf_token(make_app) -> None:
    app = make_app(WTF_CSRF_ENABLED=True)
    response = app.test_client().post("/login", data={"identifier": "a", "password": "b"})
    assert response.status_code == 400
    assert "Formulir kedaluwarsa" in response.get_data(as_text=True)


def test_session_cookie_flags(client, auth, users) -> None:
    response = auth.login("learner@test.lentera.local")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


@pytest.mark.parametrize("role", ["learner", "trainer", "hr"])
@pytest.mark.parametrize(
    "path",
    ["/admin/users", "/admin/users/new", "/admin/org-units", "/admin/positions", "/admin/import"],
)
def test_admin_pages_are_for_admins_only(client, login_as, role: str, path: str) -> None:
    login_as(role)
    assert client.get(path).status_code == 403


def test_language_switch_to_english(client, login_as, db) -> None:
    user = login_as("learner")
    assert "Beranda" in client.get("/").get_data(as_text=True)
    client.post("/language", data={"locale": "en", "next": "/"})
    assert ">Home<" in client.get("/").get_data(as_text=True)
    db.refresh(user)
    assert user.locale == "en"
