"""The ``lms`` command: thin wrappers over services (parse, call, commit once, report)."""

from __future__ import annotations

import sys
from importlib import import_module
from pathlib import Path
from typing import Any, NoReturn

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, with_appcontext

from lms.db import get_session, upgrade_database
from lms.errors import LmsError


def _create_app() -> Flask:
    from lms import create_app

    return create_app()


@click.group(
    cls=FlaskGroup,
    create_app=_create_app,
    add_version_option=False,
    help="Lentera: learning platform for ASN. Run 'lms COMMAND --help' for details.",
)
def main() -> None:
    """Entry point of the ``lms`` console script."""


def _fail(message: str) -> NoReturn:
    click.secho(message, fg="red", err=True)
    sys.exit(1)


@click.command("init")
@with_appcontext
def init_command() -> None:
    """Create the database, or migrate it to the newest schema."""
    upgrade_database()
    from lms.db import get_engine
    from lms.xapi.partitions import MONTHS_AHEAD, ensure_ahead

    # On PostgreSQL: the statement tables' partitions of this month and the next ones.
    with get_engine().begin() as conn:
        ensure_ahead(conn, MONTHS_AHEAD)
    click.echo(f"Database ready: {_display_url(current_app.config['DATABASE_URL'])}")


def _display_url(url: str) -> str:
    # Hide a password in the URL when echoing it.
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


@click.command("demo")
@with_appcontext
def demo_command() -> None:
    """Load the demo Pemda, employees, accounts and sample content (idempotent)."""
    from lms import MODULES

    for name in MODULES:
        try:
            module = import_module(f"{name}.demo")
        except ModuleNotFoundError as exc:
            if exc.name != f"{name}.demo":
                raise
            continue
        summary = module.load_demo()
        get_session().commit()
        if summary:
            click.echo(summary)
    click.echo(
        "Demo accounts (password lentera-demo): admin@, hr@, trainer@ and "
        "learner@demo.lentera.local"
    )


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=5000, show_default=True, type=int, help="Port to listen on.")
@click.option(
    "--workers", default=2, show_default=True, type=int, help="gunicorn worker processes."
)
@click.option("--dev", is_flag=True, help="Use Flask's development server with reloading.")
def serve_command(host: str, port: int, workers: int, dev: bool) -> None:
    """Serve Lentera (gunicorn where available, else Flask's server)."""
    try:
        from gunicorn.app.base import BaseApplication
    except ImportError:  # pragma: no cover - gunicorn is a dependency, but not on Windows
        BaseApplication = None  # noqa: N806
    if dev or BaseApplication is None:
        from lms import create_app

        create_app().run(host=host, port=port, debug=dev)
        return

    class Server(BaseApplication):  # type: ignore[misc,valid-type]
        def load_config(self) -> None:
            self.cfg.set("bind", f"{host}:{port}")
            self.cfg.set("workers", workers)
            self.cfg.set("accesslog", "-")
            self.cfg.set("timeout", 120)

        def load(self) -> Any:
            from lms import create_app

            return create_app()

    click.echo(f"Lentera on http://{host}:{port}/ (Ctrl+C to stop)")
    Server().run()


@click.command("import-employees")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Only check the file and show what would change.")
@with_appcontext
def import_employees_command(file: Path, dry_run: bool) -> None:
    """Import employees from a CSV file (nip, name, email, org_unit, position)."""
    from lms.people import importer

    try:
        preview = importer.preview_import(file.read_bytes())
    except LmsError as exc:
        _fail(f"{file}: {exc.message}")
    for warning in preview.warnings:
        click.secho(f"{file}:{warning.line}: {warning.message}", fg="yellow", err=True)
    if preview.errors:
        for error in preview.errors:
            click.secho(f"{file}:{error.line}: {error.message}", fg="red", err=True)
        _fail(f"{len(preview.errors)} bad row(s); nothing was imported.")
    click.echo(
        f"{len(preview.rows)} rows: {preview.creates} new, {preview.updates} changed, "
        f"{preview.unchanged} unchanged; {len(preview.new_units)} new units, "
        f"{len(preview.new_positions)} new positions."
    )
    if dry_run:
        return
    with click.progressbar(length=len(preview.rows), label="Importing") as bar:
        result = importer.apply_import(preview, progress=bar.update)
        bar.update((bar.length or 0) - bar.pos)
    get_session().commit()
    click.echo(
        f"Imported: {result.created} created, {result.updated} updated, "
        f"{result.unchanged} unchanged."
    )


@click.group("user")
def user_group() -> None:
    """Manage user accounts."""


@user_group.command("create")
@click.option("--name", required=True, help="Full name.")
@click.option("--email", help="E-mail address (sign-in name).")
@click.option("--nip", help="18-digit NIP (sign-in name for employees).")
@click.option(
    "--role",
    "roles",
    multiple=True,
    default=["learner"],
    show_default=True,
    type=click.Choice(["learner", "trainer", "hr", "admin"]),
    help="Role; repeat for several.",
)
@click.password_option(help="Password (asked for when not given).")
@with_appcontext
def user_create_command(
    name: str, email: str | None, nip: str | None, roles: tuple[str, ...], password: str
) -> None:
    """Create a user account."""
    from lms.people import service

    try:
        user = service.create_user(name=name, email=email, nip=nip, roles=roles, password=password)
    except LmsError as exc:
        _fail(str(exc.message))
    get_session().commit()
    click.echo(
        f"Created user {user.id}: {user.name} <{user.email or user.nip}> "
        f"roles={','.join(sorted(r.value for r in user.roles))}"
    )


@user_group.command("set-password")
@click.argument("identifier")
@click.password_option(help="New password (asked for when not given).")
@with_appcontext
def user_set_password_command(identifier: str, password: str) -> None:
    """Set the password of the user with this NIP or e-mail."""
    from lms.people import service

    user = service.find_user(identifier)
    if user is None:
        _fail(f"No user with NIP or e-mail {identifier}.")
    try:
        service.set_password(user, password)
    except LmsError as exc:
        _fail(str(exc.message))
    get_session().commit()
    click.echo(f"Password changed for {user.name}.")


def init_app(app: Flask) -> None:
    for command in (
        init_command,
        demo_command,
        serve_command,
        import_employees_command,
        user_group,
    ):
        app.cli.add_command(command)
