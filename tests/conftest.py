"""Fixtures shared by every test: app, database, client, CLI runner and users per role.

The suite runs on SQLite by default and on PostgreSQL when ``LMS_TEST_DATABASE_URL`` is set.
The schema is built once per run through the Alembic migrations (so they are tested too);
every test starts with empty tables.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from lms import create_app
from lms.db import Model, create_db_engine, get_session, upgrade_database
from tests import factories

# Password hashing is deliberately slow; tests create many users, so they use a cheap hash.
FAST_HASH = "pbkdf2:sha256:1000"


def _test_config(database_url: str, instance: Path, **extra: Any) -> dict[str, Any]:
    config = {
        "TESTING": True,
        "DATABASE_URL": database_url,
        "INSTANCE_PATH": str(instance),
        "SECRET_KEY": "test-secret-key",
        "PASSWORD_HASH_METHOD": FAST_HASH,
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False,
        "BASE_URL": "http://lentera.test",
    }
    config.update(extra)
    return config


def _worker_database(url: str, worker: str) -> str:
    """Under pytest-xdist, each worker has a database of its own on the same PostgreSQL
    server: the configured database's name with the worker's suffix (``test_gw0``),
    created when missing."""
    base, _sep, name = url.rpartition("/")
    name, _q, query = name.partition("?")
    mine = f"{name}_{worker}"
    engine = create_db_engine(url)
    try:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            exists = conn.scalar(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"),
                                 {"n": mine})
            if not exists:
                conn.execute(sa.text(f'CREATE DATABASE "{mine}"'))
    finally:
        engine.dispose()
    return f"{base}/{mine}" + (f"?{query}" if query else "")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """With pytest-xdist (``-n 2 --dist loadgroup``): the browser tests share one worker
    (one Chromium, one live server), and so do the scale tests (one Redis)."""
    for item in items:
        if item.get_closest_marker("browser") is not None:
            item.add_marker(pytest.mark.xdist_group("browser"))
        elif "tests/scale/" in item.nodeid:
            item.add_marker(pytest.mark.xdist_group("scale"))


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = os.environ.get("LMS_TEST_DATABASE_URL")
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if url and worker and url.startswith("postgresql"):
        url = _worker_database(url, worker)
    if url:
        engine = create_db_engine(url)
        with engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                # A clean schema for this run; the database itself is the caller's.
                conn.execute(sa.text("DROP SCHEMA public CASCADE"))
                conn.execute(sa.text("CREATE SCHEMA public"))
        engine.dispose()
        return url
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"


@pytest.fixture(scope="session")
def instance_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("instance")


@pytest.fixture(scope="session")
def _schema(database_url: str, instance_dir: Path) -> None:
    from lms.db import get_engine

    app = create_app(_test_config(database_url, instance_dir))
    with app.app_context():
        upgrade_database(app)
    get_engine(app).dispose()


#: Apps that outlive one test (the live server's): their caches must follow the tables.
_LONG_LIVED_APPS: list[Flask] = []


def _forget_caches(app: Flask) -> None:
    """Drop what an app remembers of rows that emptying the tables took away.

    The competency engine reloads its rules only when the highest rule/competency id or
    their count changes (rows are only ever added in production). Emptying the tables
    restarts the ids, so the next test's rules can carry the same marker as the last
    test's and a long-lived app (the live server) would go on matching statements against
    rules that no longer exist. The stored activity definitions' fingerprints are kept per
    process for the same reason.
    """
    from lms import readcache
    from lms.xapi.store import definitions

    engine = app.extensions.get("lms.competency.engine")
    if engine is not None:
        engine.forget_configuration()
    definitions._definition_cache.clear()
    readcache.clear()


def _empty_tables(app: Flask) -> None:
    from lms.db import get_engine

    engine = get_engine(app)
    tables = list(reversed(Model.metadata.sorted_tables))
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            names = ", ".join(f'"{t.name}"' for t in tables)
            conn.execute(sa.text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                conn.execute(table.delete())
    for other in (app, *_LONG_LIVED_APPS):
        _forget_caches(other)


@pytest.fixture(scope="session")
def _apps(_schema: None, database_url: str, instance_dir: Path) -> Iterator[tuple[Flask, Flask]]:
    """The app under test and its twin, built once per run (building an app compiles
    some 800 URL rules: most of a small test's time when it was done twice per test)."""
    from lms.db import get_engine

    config = _test_config(database_url, instance_dir)
    apps = (create_app(config), create_app(config))
    yield apps
    for one in apps:
        get_engine(one).dispose()


class _AppState:
    """What a test may change on an app and the next test must not see: its config, its
    extensions (threads, caches), its statement consumers, the competency engine's
    cached rules."""

    def __init__(self, app: Flask):
        from lms.plugins.registry import app_registry

        self.app = app
        self.config = dict(app.config)
        self.extensions = dict(app.extensions)
        self.consumers = dict(app_registry(app, "statement_consumers"))

    def restore(self) -> None:
        from lms.plugins.registry import app_registry

        app = self.app
        app.config.clear()
        app.config.update(self.config)
        for key in set(app.extensions) - set(self.extensions):
            del app.extensions[key]
        app.extensions.update(self.extensions)
        consumers = app_registry(app, "statement_consumers")
        consumers.clear()
        consumers.update(self.consumers)
        engine = app.extensions.get("lms.competency.engine")
        if engine is not None:
            engine.forget_configuration()


@pytest.fixture
def app(_apps: tuple[Flask, Flask]) -> Iterator[Flask]:
    """The app under test, serving the ``client``; the test body runs in an app context of
    a twin app on the same database.

    Flask reuses an already pushed context of the *same* app for test-client requests, so
    ``g`` (the signed-in user, the database session) would leak from one request to the
    next. With a twin, each request gets a fresh context as in production, and the test's
    own session (``db``) sees only what requests committed. Both are built once per run;
    after each test the tables are emptied and what the test changed on the apps
    (config, extensions, consumers) is put back.
    """
    app, twin = _apps
    states = [_AppState(app), _AppState(twin)]
    with twin.app_context():
        yield app
        get_session().rollback()
        get_session().close()
    _empty_tables(twin)
    for state in states:
        state.restore()


@pytest.fixture
def make_app(_schema: None, database_url: str, instance_dir: Path) -> Iterator[Any]:
    """``make_app(**config)``: another app on the test database with changed settings.

    Its engine is disposed after the test (PostgreSQL connections left to the garbage
    collector raise ResourceWarning, which the suite treats as an error).
    """
    from lms.db import get_engine

    made: list[Flask] = []

    def make(**extra: Any) -> Flask:
        made.append(create_app(_test_config(database_url, instance_dir, **extra)))
        return made[-1]

    yield make
    for other in made:
        get_engine(other).dispose()


@pytest.fixture
def db(app: Flask) -> Any:
    """The app-context session, for arranging data and checking results."""
    return get_session()


@pytest.fixture
def client(app: Flask) -> Iterator[FlaskClient]:
    """The test client; every response it gave is closed after the test, as a server
    closes it after sending (downloads are temporary files the app closes then)."""
    from flask.testing import FlaskClient as _Client

    given: list[Any] = []

    class ClosingClient(_Client):
        def open(self, *args: Any, **kwargs: Any) -> Any:
            response = super().open(*args, **kwargs)
            given.append(response)
            return response

    test_client = ClosingClient(app, app.response_class, use_cookies=True)
    yield test_client
    for response in given:
        response.close()


@pytest.fixture
def runner(app: Flask) -> Any:
    return app.test_cli_runner()


@pytest.fixture
def users(app: Flask) -> dict[str, Any]:
    """One user per role, committed: learner, trainer, hr, admin (password ``secret-pass-1``)."""
    made = {role: factories.make_user(roles=[role], email=f"{role}@test.lentera.local",
                                      password=factories.PASSWORD)
            for role in ("learner", "trainer", "hr", "admin")}
    get_session().commit()
    return made


class AuthActions:
    """Sign in and out through the real pages."""

    def __init__(self, client: FlaskClient):
        self.client = client

    def login(self, identifier: str, password: str = factories.PASSWORD) -> Any:
        return self.client.post("/login", data={"identifier": identifier, "password": password})

    def logout(self) -> Any:
        return self.client.post("/logout")


@pytest.fixture
def auth(client: FlaskClient) -> AuthActions:
    return AuthActions(client)


@pytest.fixture
def login_as(client: FlaskClient, users: dict[str, Any]) -> Any:
    """``login_as("hr")`` signs the test client in as the user of that role."""

    def login(role: str) -> Any:
        user = users[role]
        with client.session_transaction() as session:
            session["_user_id"] = user.get_id()
            session["_fresh"] = True
        return user

    return login


# --- live server and browser ----------------------------------------------------------

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
]


def _closing_body(app: Any) -> Any:
    """``app`` whose response bodies are closed even when the server does not close them.

    Werkzeug's development server closes a response body only after reading what is left
    of the request from the socket; when the browser dropped the connection (a test going
    offline, a reload that aborts an image), that read raises and the body (a file sent
    by ``send_file``) is left open for the garbage collector, whose ResourceWarning then
    fails whichever test is running. The body is given out as a generator that closes it
    when it ends, and when it is collected unfinished."""

    def wsgi(environ: dict[str, Any], start_response: Any) -> Any:
        body = app(environ, start_response)

        def closing() -> Any:
            try:
                yield from body
            finally:
                close = getattr(body, "close", None)
                if close is not None:
                    close()

        return closing()

    return wsgi


class LiveServer:
    """A real HTTP server on 127.0.0.1 serving its own app on the test database."""

    def __init__(self, app: Flask, port: int):
        import threading

        from werkzeug.serving import make_server

        self.app = app
        self.server = make_server("127.0.0.1", port, _closing_body(app), threaded=True)
        self.url = f"http://127.0.0.1:{port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.thread.join(timeout=10)


@pytest.fixture(scope="session")
def live_server(_schema: None, database_url: str, instance_dir: Path,
                tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    # Its own app: the server thread must not share the test's app context. BASE_URL is
    # the server's own address so that links and xAPI IRIs resolve in the browser.
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    app = create_app(_test_config(database_url, instance_dir,
                                  BASE_URL=f"http://127.0.0.1:{port}", WTF_CSRF_ENABLED=True))
    live = LiveServer(app, port)
    _LONG_LIVED_APPS.append(app)
    yield live
    _LONG_LIVED_APPS.remove(app)
    live.stop()
    from lms.db import get_engine

    get_engine(app).dispose()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Any, live_server: LiveServer, app: Flask) -> Iterator[Any]:
    """A fresh browser page (own cookies) pointed at the live server; tables emptied after."""
    context = browser.new_context(base_url=live_server.url, locale="id-ID")
    page = context.new_page()
    page.set_default_timeout(15000)
    # What the page's frames said, printed at teardown: pytest shows it when a test fails.
    said: list[str] = []
    page.on("console", lambda msg: said.append(f"console {msg.type}: {msg.text}"))
    page.on("pageerror", lambda err: said.append(f"page error: {err}"))
    page.on("requestfailed",
            lambda req: said.append(f"request failed: {req.method} {req.url} {req.failure}"))
    yield page
    context.close()
    if said:
        print("\n".join(["Browser log:", *said]))
