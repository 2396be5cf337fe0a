"""Pages: the scoreboard, sign-in and sign-out, and the health check."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, datetime

from quart import Blueprint, Response, abort, redirect, render_template, request, url_for
from quart.typing import ResponseReturnValue
from quart_auth import logout_user

from .accounts_store import address_keys
from .auth import (
    ACCOUNT_PREFIX,
    csrf_valid,
    current_account,
    current_role,
    current_scorer,
    new_csrf_token,
    same_origin_post,
    set_csrf_cookie,
    sign_in,
    sign_in_account,
    token_matches,
)
from .health import health_body
from .i18n import gettext as _
from .matches import Match, RuleViolation, clean_name
from .messages import MATCH_ID
from .pages import Page
from .services import services
from .share import share_of

blueprint = Blueprint("views", __name__)


# Every context processor of the app is a coroutine: Quart runs a plain function in its thread
# pool, a hop to another thread and back for each one on every page, and those threads then
# contend for the interpreter with the loop that is sending a goal to thousands of sockets.
@blueprint.app_context_processor
async def people_watching() -> dict[str, int]:
    return {"watching": services().hub.watching}


@blueprint.app_context_processor
async def clock_reference() -> dict[str, Callable[[], str]]:
    """The server's time as a page is made: the page's match clocks count from it."""
    return {"server_time": lambda: datetime.now(UTC).isoformat(timespec="milliseconds")}


@blueprint.get("/matches/<match_id>")
async def match_detail(match_id: str) -> str:
    """One match with its timeline: a page a viewer can share, live over `/ws?match=<id>`."""
    match = await _held_match(match_id)
    role = current_role()
    hub = services().hub
    base = request.host_url.rstrip("/")
    account = current_account()
    # Who recorded what is for admins' eyes: read per page load, never pushed or served by the API.
    is_admin = account is not None and account.account_id is not None and account.admin
    audit = [line async for line in services().store.audit(match_id=match.id)] if is_admin else None
    return await render_template(
        "match.html",
        audit=audit,
        match=match,
        row=hub.row_html(match, role),
        timeline=hub.timeline_html(match, role),
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
    if not MATCH_ID.fullmatch(match_id):
        abort(404)
    found = await services().scoreboard.window.page_matches(Page("match", match_id))
    if not found:
        abort(404)
    return found[0]


@blueprint.get("/signin")
async def signin_form() -> ResponseReturnValue:
    # The one-click link printed at start-up shows a page with a button: nothing signs in (or
    # counts as a wrong guess) on a GET, which any page on any site can make a browser send.
    return await _signin_page(link_token=request.args.get("token"))


@blueprint.post("/signin")
async def signin() -> ResponseReturnValue:
    form = await request.form
    if not csrf_valid(form.get("csrf")):
        return await _signin_page(_("The form expired or did not come from this site. Please try again."), 400)
    store = services().store
    password = form.get("password")
    account_name = form.get("name", "") if password is not None else None
    keys = address_keys(_client_address(), account_name)
    wait = await store.signin_wait(keys)
    if wait > 0:
        seconds = math.ceil(wait)
        return await _signin_page(
            _("Too many wrong attempts. Try again in %(seconds)s seconds.", seconds=seconds), 429, seconds
        )
    if password is not None:
        account = await store.check_password(account_name or "", password)
        if account is None:
            await store.signin_failed(keys)
            return await _signin_page(_("That name and password do not match an active scorer."), 403)
        await store.signin_succeeded(next(key for key in keys if key.startswith("account:")))
        sign_in_account(account)
        return redirect(url_for("boards.today_board"))
    try:
        name = clean_name(form.get("name"), "scorer name") or "scorer"
    except RuleViolation as error:
        return await _signin_page(str(error), 400)
    if not token_matches(form.get("token", ""), services().scorer_token):
        await store.signin_failed(keys)
        return await _signin_page(_("That token is not right."), 403)
    sign_in(name.lstrip(ACCOUNT_PREFIX) or "scorer")
    return redirect(url_for("boards.today_board"))


@blueprint.post("/signout")
async def signout() -> ResponseReturnValue:
    form = await request.form
    if csrf_valid(form.get("csrf")) or same_origin_post():
        logout_user()
    return redirect(url_for("boards.today_board"))


@blueprint.get("/healthz")
async def healthz() -> tuple[dict[str, object], int]:
    return health_body(services())


async def _signin_page(
    error: str | None = None, status: int = 200, retry_after: int = 0, link_token: str | None = None
) -> Response:
    token = new_csrf_token()
    html = await render_template("signin.html", error=error, csrf=token, scorer=current_scorer(), link_token=link_token)
    response = Response(html, status=status)
    if retry_after:
        response.headers["Retry-After"] = str(retry_after)
    set_csrf_cookie(response, token)
    return response


def _client_address() -> str:
    return request.remote_addr or "unknown"
