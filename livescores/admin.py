"""Accounts on the web: the invitation page, and `/admin/scorers` where admins list, invite,
reset and revoke scorers. Every form is a POST with the CSRF token."""

from __future__ import annotations

from quart import Blueprint, Response, abort, render_template, request
from quart.typing import ResponseReturnValue

from .accounts import Account
from .auth import csrf_valid, current_account, current_scorer, new_csrf_token, set_csrf_cookie, sign_in_account
from .i18n import gettext as _
from .matches import RuleViolation
from .services import services

blueprint = Blueprint("admin", __name__)


def invitation_path(token: str) -> str:
    return f"/invite/{token}"


@blueprint.get("/invite/<token>")
async def invitation(token: str) -> ResponseReturnValue:
    account = await services().store.invitation(token)
    return await _page("invite.html", token, account=account, status=200 if account else 404)


@blueprint.post("/invite/<token>")
async def accept_invitation(token: str) -> ResponseReturnValue:
    form = await request.form
    store = services().store
    account = await store.invitation(token)
    if not csrf_valid(form.get("csrf")):
        return await _page(
            "invite.html", token, account=account, error=_("The form expired. Please try again."), status=400
        )
    try:
        accepted = await store.accept_invitation(token, form.get("password", ""))
    except RuleViolation as error:
        return await _page("invite.html", token, account=account, error=str(error), status=400)
    if accepted is None:
        return await _page("invite.html", token, account=None, status=404)
    sign_in_account(accepted)
    return Response("", status=303, headers={"Location": "/"})


@blueprint.get("/admin/scorers")
async def scorers() -> ResponseReturnValue:
    _admin_only()
    return await _admin_page()


@blueprint.post("/admin/scorers")
async def change_scorers() -> ResponseReturnValue:
    _admin_only()
    form = await request.form
    if not csrf_valid(form.get("csrf")):
        return await _admin_page("The form expired or did not come from this site. Please try again.", 400)
    found = services()
    store, name, action = found.store, form.get("name", ""), form.get("action")
    try:
        if action == "add":
            slugs = tuple(s.strip() for s in form.get("competitions", "").split(",") if s.strip())
            account, token = await store.add_scorer(name, bool(form.get("admin")), slugs)
            return await _admin_page(invitation=(account.name, _invitation_url(token)))
        if action == "reset":
            account, token = await store.reset_scorer(name)
            await found.scoreboard.account_ended(account)
            return await _admin_page(invitation=(account.name, _invitation_url(token)))
        if action == "revoke":
            await found.scoreboard.account_ended(await store.revoke_scorer(name))
            return await _admin_page()
    except RuleViolation as error:
        return await _admin_page(str(error), 400)
    return await _admin_page("Unknown action.", 400)


def _invitation_url(token: str) -> str:
    base = services().config.public_url or request.host_url.rstrip("/")
    return base + invitation_path(token)


def _admin_only() -> None:
    scorer = current_account()
    if scorer is None or scorer.account_id is None or not scorer.admin:
        abort(403)


async def _admin_page(
    error: str | None = None, status: int = 200, invitation: tuple[str, str] | None = None
) -> Response:
    accounts: list[Account] = await services().store.scorers()
    csrf = new_csrf_token()
    html = await render_template(
        "admin_scorers.html", accounts=accounts, csrf=csrf, error=error, invitation=invitation, scorer=current_scorer()
    )
    response = Response(html, status=status)
    set_csrf_cookie(response, csrf, path="/admin")
    return response


async def _page(
    template: str, token: str, account: Account | None, error: str | None = None, status: int = 200
) -> Response:
    csrf = new_csrf_token()
    html = await render_template(template, account=account, csrf=csrf, error=error, scorer=current_scorer())
    response = Response(html, status=status)
    set_csrf_cookie(response, csrf, path=invitation_path(token))
    return response
