"""``lms lti ...``: platforms, registration links, keys, the score outbox, rosters."""

from __future__ import annotations

import json
import time
from typing import Any

import click
import sqlalchemy as sa
from flask.cli import with_appcontext

from lms.db import get_session
from lms.errors import LmsError


def _fail(exc: LmsError) -> None:
    raise click.ClickException(str(exc.message))


@click.group("lti")
def lti_group() -> None:
    """Lentera as an LTI 1.3 tool: platforms, keys, grades (docs/lti.md)."""


@lti_group.command("tool")
@click.option("--json", "as_json", is_flag=True, help="Print the registration document.")
@with_appcontext
def tool_command(as_json: bool) -> None:
    """The addresses a platform administrator enters to add Lentera by hand."""
    from lms.lti import service

    if as_json:
        click.echo(json.dumps(service.registration_document(), indent=2))
        return
    labels = {"tool_url": "Tool URL", "login_url": "Initiate login URL",
              "redirect_uri": "Redirection URI", "jwks_url": "Public keyset URL",
              "deep_link_url": "Content selection (deep linking) URL", "domain": "Domain"}
    for key, value in service.tool_urls().items():
        click.echo(f"{labels[key]}: {value}")


# --- platforms ------------------------------------------------------------------------


@lti_group.group("platform")
def platform_group() -> None:
    """Registered platforms."""


@platform_group.command("add")
@click.option("--name", required=True)
@click.option("--issuer", required=True, help="The platform's issuer (Moodle: the site URL).")
@click.option("--client-id", required=True)
@click.option("--deployment", "deployments", multiple=True, required=True,
              help="A deployment id (repeat for several).")
@click.option("--auth-url", required=True, help="The OIDC authentication request URL.")
@click.option("--jwks-url", required=True, help="The platform's public keyset URL.")
@click.option("--token-url", default="", help="The access token URL (grades, rosters).")
@click.option("--frame-origin", "frame_origins", multiple=True,
              help="An origin allowed to frame Lentera (default: issuer and auth URL).")
@click.option("--match", "match_by", type=click.Choice(["email", "nip"]), default="email")
@click.option("--nip-claim", default="custom.nip")
@click.option("--no-create-users", is_flag=True)
@click.option("--grant-trainer", is_flag=True)
@with_appcontext
def platform_add(name: str, issuer: str, client_id: str, deployments: tuple[str, ...],
                 auth_url: str, jwks_url: str, token_url: str,
                 frame_origins: tuple[str, ...], match_by: str, nip_claim: str,
                 no_create_users: bool, grant_trainer: bool) -> None:
    """Register a platform by hand."""
    from lms.lti import service

    try:
        platform = service.save_platform(
            None, name=name, issuer=issuer, client_id=client_id, auth_url=auth_url,
            jwks_url=jwks_url, token_url=token_url, deployment_ids=deployments,
            frame_origins=frame_origins, match_by=match_by, nip_claim=nip_claim,
            create_users=not no_create_users, grant_trainer=grant_trainer)
    except LmsError as exc:
        _fail(exc)
    get_session().commit()
    click.echo(f"Registered platform {platform.id}: {platform.name}")


@platform_group.command("list")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def platform_list(as_json: bool) -> None:
    """Registered platforms."""
    from lms.lti import service

    rows: list[dict[str, Any]] = [
            {"id": p.id, "name": p.name, "issuer": p.issuer, "client_id": p.client_id,
             "deployments": p.deployment_ids, "auth_url": p.auth_url,
             "token_url": p.token_url, "jwks_url": p.jwks_url,
             "frame_origins": service.frame_origins(p), "match_by": p.match_by,
             "active": p.active, "registered_via": p.registered_via}
            for p in service.list_platforms()]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    for row in rows:
        state = "" if row["active"] else " (inactive)"
        click.echo(f"{row['id']}\t{row['name']}{state}\t{row['issuer']}\t{row['client_id']}\t"
                   f"deployments: {', '.join(row['deployments']) or '-'}")


@platform_group.command("deployment")
@click.argument("platform_id", type=int)
@click.argument("deployment_id")
@click.option("--remove", is_flag=True)
@with_appcontext
def platform_deployment(platform_id: int, deployment_id: str, remove: bool) -> None:
    """Add (or remove) a deployment id of a platform."""
    from lms.lti import service

    try:
        platform = service.get_platform(platform_id)
        if remove:
            service.set_deployments(platform, [d for d in platform.deployment_ids
                                               if d != deployment_id])
        else:
            service.add_deployment(platform, deployment_id)
    except LmsError as exc:
        _fail(exc)
    get_session().commit()
    click.echo(f"Deployments of {platform.name}: {', '.join(platform.deployment_ids) or '-'}")


@platform_group.command("remove")
@click.argument("platform_id", type=int)
@with_appcontext
def platform_remove(platform_id: int) -> None:
    """Remove a platform (accounts its launches made are kept)."""
    from lms.lti import service

    try:
        service.delete_platform(service.get_platform(platform_id))
    except LmsError as exc:
        _fail(exc)
    get_session().commit()
    click.echo(f"Removed platform {platform_id}.")


@lti_group.command("invite")
@click.option("--hours", type=float, default=None, help="Valid for (default 24).")
@with_appcontext
def invite_command(hours: float | None) -> None:
    """Print a one-time link for LTI Dynamic Registration."""
    from lms.lti import registration

    try:
        _row, url = registration.create_invite(None, hours)
    except LmsError as exc:
        _fail(exc)
    get_session().commit()
    click.echo(url)


# --- keys -----------------------------------------------------------------------------


@lti_group.group("keys")
def keys_group() -> None:
    """Lentera's signing keys (published at /lti/jwks)."""


@keys_group.command("list")
@with_appcontext
def keys_list() -> None:
    from lms.lti import keys

    current = keys.current_key()
    for row in keys.published_keys():
        state = "current" if row.id == current.id else f"retired {row.retired_at:%Y-%m-%d}"
        click.echo(f"{row.kid}\t{row.created_at:%Y-%m-%d %H:%M}\t{state}")
    get_session().commit()


@keys_group.command("rotate")
@with_appcontext
def keys_rotate() -> None:
    """Make a new signing key; older keys stay published for the grace period."""
    from lms.lti import keys

    row = keys.rotate()
    get_session().commit()
    click.echo(f"New signing key {row.kid}")


@keys_group.command("purge")
@with_appcontext
def keys_purge() -> None:
    """Delete retired keys past the grace period."""
    from lms.lti import keys

    count = keys.purge()
    get_session().commit()
    click.echo(f"Deleted {count} keys.")


@keys_group.command("reencrypt")
@with_appcontext
def keys_reencrypt() -> None:
    """Encrypt the private keys again with the first key of LMS_LTI_KEY."""
    from lms.lti import keys

    count = keys.reencrypt()
    get_session().commit()
    click.echo(f"Re-encrypted {count} keys.")


# --- scores and rosters ---------------------------------------------------------------


@lti_group.group("scores")
def scores_group() -> None:
    """The outbox of grades for platforms."""


@scores_group.command("send")
@click.option("--loop", "period", type=int, default=0,
              help="Keep sending every N seconds (0: once).")
@with_appcontext
def scores_send(period: int) -> None:
    """Send the due score posts."""
    from lms.lti.ags import send_pending

    while True:
        counts = send_pending()
        click.echo(f"sent {counts['sent']}, retry {counts['retry']}, failed {counts['failed']}")
        if period <= 0:
            return
        time.sleep(period)


@scores_group.command("list")
@click.option("--status", default="")
@with_appcontext
def scores_list(status: str) -> None:
    from lms.lti.models import LtiScorePost

    query = sa.select(LtiScorePost).order_by(LtiScorePost.id.desc()).limit(200)
    if status:
        query = query.where(LtiScorePost.status == status)
    for row in get_session().scalars(query):
        click.echo(f"{row.id}\t{row.status}\t{row.score_given:g}/{row.score_maximum:g}\t"
                   f"user {row.user_id}\tattempts {row.attempts}\t{row.last_error or ''}")


@scores_group.command("retry")
@click.argument("post_id", type=int, required=False)
@click.option("--failed", "all_failed", is_flag=True, help="Every failed post.")
@with_appcontext
def scores_retry(post_id: int | None, all_failed: bool) -> None:
    """Queue a failed post (or every failed one) again."""
    from lms.lti import ags

    if all_failed:
        count = ags.retry_failed()
    elif post_id is not None:
        count = 1 if ags.retry(post_id) is not None else 0
    else:
        raise click.UsageError("give a post id or --failed")
    get_session().commit()
    click.echo(f"Queued {count} posts again.")


@lti_group.command("roster")
@click.argument("context_id", type=int)
@with_appcontext
def roster_command(context_id: int) -> None:
    """Pull the roster of a platform course (the id of its row on the admin page)."""
    from lms.lti import ags, net, roster
    from lms.lti.models import LtiContext

    context = get_session().get(LtiContext, context_id)
    if context is None:
        raise click.ClickException(f"no platform course {context_id}")
    try:
        counts = roster.pull_roster(context)
    except LmsError as exc:
        _fail(exc)
    except (net.PlatformError, ags.PermanentError) as exc:
        raise click.ClickException(str(exc)) from None
    get_session().commit()
    click.echo(f"{counts['members']} members, {counts['linked']} with a Lentera account")
