"""Pages: the scoreboard, sign-in and sign-out, and the health check."""

from __future__ import annotations

import os

from quart import Blueprint, Response, abort, redirect, render_template, request, url_for
from quart.typing import ResponseReturnValue
from quart_auth import logout_user

from .auth import (
    csrf_valid,
    current_role,
    current_scorer,
    new_csrf_token,
    same_origin_post,
    set_csrf_cookie,
    sign_in,
    token_matches,
)
from .matches import Match, RuleViolation, clean_name
from .messages import MATCH_ID
from .pages import Page
from .services import services
from .share import share_of

blueprint = Blueprint("views", __name__)


@blueprint.app_context_processor
def people_watching() -> dict[str, int]:
    return {"watching": services().hub.watching}


@blueprint.get("/matches/<match_id>")
async def match_detail(match_id: str) -> str:
    """One match with its timeline: a page a viewer can share, live over `/ws?match=<id>`."""
    match = await _held_match(match_id)
    role = current_role()
    hub = services().hub
    base = request.host_url.rstrip("/")
    return await render_template(
        "match.html",
        match=match,
        row=hub.row_html(match, role),
        timeline=hub.timeline(match).html[role],
        scorer=current_scorer(),
        share=share_of(match),
        page_url=f"{base}/matches/{match.id}",
        card_url=f"{base}/matches/{match.id}/card.png?v={match.version}",
    )


@blueprint.get("/embed/<match_id>")
async def embed_match(match_id: str) -> str:
    """One match as a compact widget; always a viewer's row, whoever's cookie comes along."""
    match = await _held_match(match_id)
    return await render_template("embed.html", rows=[services().hub.row_html(match, "viewer")], match=match)


async def _held_match(match_id: str) -> Match:
    if not MATCH_ID.match(match_id):
        abort(404)
    found = await services().scoreboard.window.page_matches(Page("match", match_id))
    if not found:
        abort(404)
    return found[0]


@blueprint.get("/signin")
async def signin_form() -> ResponseReturnValue:
    given = request.args.get("token")
    if given is None:
        return await _signin_page()
    # The one-click link printed at start-up, as Jupyter's is: guessed links count as wrong
    # tokens, like the form's.
    refused = await _throttled()
    if refused is not None:
        return refused
    if not token_matches(given, services().scorer_token):
        services().signin_throttle.failed(_client_address())
        return await _signin_page("That sign-in link is not right. Enter the token below.", 403)
    sign_in("scorer")
    return redirect(url_for("boards.today_board"))


@blueprint.post("/signin")
async def signin() -> ResponseReturnValue:
    form = await request.form
    refused = await _throttled()
    if refused is not None:
        return refused
    if not csrf_valid(form.get("csrf")):
        return await _signin_page("The form expired or did not come from this site. Please try again.", 400)
    try:
        name = clean_name(form.get("name"), "scorer name") or "scorer"
    except RuleViolation as error:
        return await _signin_page(str(error), 400)
    if not token_matches(form.get("token", ""), services().scorer_token):
        services().signin_throttle.failed(_client_address())
        return await _signin_page("That token is not right.", 403)
    sign_in(name)
    return redirect(url_for("boards.today_board"))


@blueprint.post("/signout")
async def signout() -> ResponseReturnValue:
    form = await request.form
    if csrf_valid(form.get("csrf")) or same_origin_post():
        logout_user()
    return redirect(url_for("boards.today_board"))


@blueprint.get("/healthz")
async def healthz() -> tuple[dict[str, object], int]:
    app_services = services()
    checks: dict[str, object] = {}
    for name, ping in (("database", app_services.store.ping), ("bus", app_services.bus.ping)):
        try:
            await ping()
            checks[name] = "ok"
        except Exception as error:  # reported, not raised
            checks[name] = f"error: {type(error).__name__}"
    healthy = all(value == "ok" for value in checks.values())
    sockets = len(app_services.hub.connections)
    body = {"status": "ok" if healthy else "unavailable", **checks, "sockets": sockets, "worker": os.getpid()}
    return body, 200 if healthy else 503


async def _throttled() -> Response | None:
    """The 429 page for a client with too many wrong tokens of late, through the form or a link."""
    wait = services().signin_throttle.retry_after(_client_address())
    if not wait:
        return None
    return await _signin_page(f"Too many wrong tokens. Try again in {wait} seconds.", 429, retry_after=wait)


async def _signin_page(error: str | None = None, status: int = 200, retry_after: int = 0) -> Response:
    token = new_csrf_token()
    html = await render_template("signin.html", error=error, csrf=token, scorer=current_scorer())
    response = Response(html, status=status)
    if retry_after:
        response.headers["Retry-After"] = str(retry_after)
    set_csrf_cookie(response, token)
    return response


def _client_address() -> str:
    return request.remote_addr or "unknown"
