"""Sign-in, sign-out, password change, rate limits, CSRF and role checks."""

from __future__ import annotations

import pytest

from lms.people import service
from tests import factories


def test_sign_in_by_email(client, auth, users) -> None:
    response = auth.login("learner@test.lentera.local")
    assert response.status_code == 302
    assert client.get("/").status_code == 200


def test_welcome_after_a_name_ending_in_a_title_has_one_full_stop(client, auth, users,
                                                                   db) -> None:
    from lms.db import get_session

    users["learner"].name = "Rina Marlina, S.Psi."
    get_session().commit()
    auth.login("learner@test.lentera.local")
    page = client.get("/").get_data(as_text=True)
    assert "Selamat datang, Rina Marlina, S.Psi." in page
    assert "S.Psi.." not in page


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


def _attempt(client, identifier: str, password: str = "wrong-pass-1",
             address: str | None = None) -> int:
    headers = {"X-Forwarded-For": address} if address else {}
    return client.post("/login", data={"identifier": identifier, "password": password},
                       headers=headers).status_code


def test_failed_sign_ins_are_limited_per_account(make_app, users) -> None:
    """Guessing one person's password is stopped; the same office signing in is not."""
    app = make_app(RATELIMIT_ENABLED=True, LOGIN_RATE_LIMIT_ACCOUNT="3 per 15 minutes",
                   TRUSTED_PROXY_COUNT=1)
    client = app.test_client()
    codes = [_attempt(client, "learner@test.lentera.local", address=f"10.0.0.{i}")
             for i in range(4)]
    assert codes == [400, 400, 400, 429]  # from four addresses: still the same account
    # Even the right password waits now; another account from the same address does not.
    assert _attempt(client, "learner@test.lentera.local", factories.PASSWORD) == 429
    assert _attempt(client, "HR@test.lentera.local ", factories.PASSWORD,
                    address="10.0.0.1") == 302


def test_thirty_colleagues_behind_one_nat_sign_in_at_eight(make_app, db) -> None:
    """The defaults let an office of 30 sign in at once from one address, each with a
    typo or two, while the failures still count toward the address limit."""
    people = [factories.make_user(email=f"nat{i}@test.lentera.local",
                                  password=factories.PASSWORD) for i in range(30)]
    db.commit()
    app = make_app(RATELIMIT_ENABLED=True)
    client = app.test_client()
    codes = []
    for person in people:
        codes.append(_attempt(client, person.email))
        codes.append(_attempt(client, person.email))
        codes.append(_attempt(client, person.email, factories.PASSWORD))
        client.post("/logout")
    assert 429 not in codes
    assert codes.count(302) == 30


def test_the_address_limit_counts_the_real_client_behind_trusted_proxies(make_app, users):
    app = make_app(RATELIMIT_ENABLED=True, LOGIN_RATE_LIMIT_ADDRESS="3 per 15 minutes",
                   TRUSTED_PROXY_COUNT=1)
    client = app.test_client()
    attacker = [_attempt(client, f"nobody{i}@x.id", address="203.0.113.9") for i in range(4)]
    assert attacker[-1] == 429
    assert _attempt(client, "learner@test.lentera.local", factories.PASSWORD,
                    address="198.51.100.7") == 302


def test_forwarded_for_is_ignored_without_trusted_proxies(make_app, users) -> None:
    """A client cannot pick a fresh address per attempt by sending X-Forwarded-For."""
    app = make_app(RATELIMIT_ENABLED=True, LOGIN_RATE_LIMIT_ADDRESS="3 per 15 minutes")
    client = app.test_client()
    codes = [_attempt(client, f"nobody{i}@x.id", address=f"192.0.2.{i}") for i in range(4)]
    assert codes[-1] == 429


def test_limits_are_shared_by_every_worker_through_redis(make_app, users) -> None:
    """Two app processes (workers, servers) count in one Redis (DB 8 of the test Redis)."""
    redis = pytest.importorskip("redis")
    url = "redis://127.0.0.1:6379/8"
    try:
        redis.Redis.from_url(url).flushdb()
    except redis.exceptions.ConnectionError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    settings = {"RATELIMIT_ENABLED": True, "RATELIMIT_STORAGE_URI": url,
                "LOGIN_RATE_LIMIT_ACCOUNT": "4 per 15 minutes"}
    first, second = make_app(**settings).test_client(), make_app(**settings).test_client()
    codes = [_attempt(client, "learner@test.lentera.local")
             for client in (first, second, first, second, first)]
    assert codes == [400, 400, 400, 400, 429]
    redis.Redis.from_url(url).flushdb()
